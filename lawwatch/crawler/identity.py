"""One document per identity in a crawl: the rule that keeps shared ids from corrupting history.

The archive knows a document by its canonical URL and by its source's own id (``external_id``: the API's uuid, the
feed's guid, the CourtListener cluster, the PACER entry); either one finds the stored row. When two listings share one
half of that pair but not the other (two feed items with one guid and two links, two API results with one uuid and
two URLs), storing both would write one item's text over the other's on every crawl: a new version each time. So,
per source and crawl, the FIRST listing of an identity is the document (listings are read newest first) and a later
listing that repeats its id or its URL is skipped: silently when it is the same pair again (the API and a feed both
list a cluster), with a warning in the run record naming both URLs when the pair differs. The same listing order
gives the same choice on every crawl, so nothing churns. README ("Document identity") states the rule per source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lawwatch.pipeline.normalize import canonical_url

if TYPE_CHECKING:
    from scrapy import Spider


@dataclass
class IdentityLedger:
    """The identities one spider has emitted in this crawl: URL → id and id → URL."""

    by_url: dict[str, str | None] = field(default_factory=dict)
    by_id: dict[str, str] = field(default_factory=dict)

    def claim(self, url: str, external_id: str | None) -> str | None:
        """Claim ``(url, external_id)``: None when it is new (emit it); ``""`` for the same pair again (skip it
        quietly); otherwise why it is skipped (it shares its id or its URL with an earlier, different listing)."""
        key = canonical_url(url)
        url_seen = key in self.by_url
        known_id = self.by_url.get(key)
        known_url = self.by_id.get(external_id) if external_id else None
        if not url_seen and known_url is None:
            self.by_url[key] = external_id
            if external_id:
                self.by_id[external_id] = key
            return None
        if (
            url_seen
            and (known_id == external_id or external_id is None or known_id is None)
            and known_url in (None, key)
        ):
            if external_id and known_id is None:  # the same URL, now with its id
                self.by_url[key] = external_id
                self.by_id[external_id] = key
            return ""
        if known_url is not None and known_url != key:
            return f"{url}: skipped, it shares the id {external_id!r} with {known_url} (listed first: kept)"
        return (
            f"{url}: skipped, the same URL was listed first with the id {known_id!r} (kept), now with {external_id!r}"
        )


def first_listing(spider: Spider, url: str, external_id: str | None) -> bool:
    """Whether ``spider`` emits the document ``(url, external_id)``: True the first time its identity is listed in
    this crawl. A conflicting later listing is skipped with a warning in the run record."""
    ledger = spider.__dict__.setdefault("_identity_ledger", IdentityLedger())
    why = ledger.claim(url, external_id)
    if why is None:
        return True
    if why:
        from lawwatch.crawler.middlewares import record_for

        record_for(spider, why, warning=True)
    return False
