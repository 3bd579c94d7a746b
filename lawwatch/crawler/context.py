"""One source's crawl, as one explicit object: :class:`CrawlContext`.

The runner creates it per source and hands it to the spider at construction (``crawler.crawl(spidercls,
context=...)``); the spider keeps it as ``spider.context``, the downloader middlewares and the item pipeline read it
with :func:`crawl_context`. Nothing else is set on a spider from outside.

It carries the run's inputs (the source's config, what the archive already holds as :class:`KnownIndex`, ``since``
for a backfill, the run's ``crawl_runs`` id, the ingest settings of the item pipeline) and collects what the runner
stores when the run ends (``fresh_validators``). Errors are counted on the crawler's stats
(``crawler.middlewares.record_error``), which the runner copies onto the run's row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from lawwatch.pipeline.normalize import canonical_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from sqlalchemy.orm import Session

    from lawwatch.config import SourceConfig
    from lawwatch.pipeline.ingest import IngestSettings

Validators = dict[str, tuple[str | None, str | None]]


@dataclass
class KnownIndex:
    """What the archive already has, as seen by one source (its ``source_state`` rows and HTTP validators).

    ``urls`` maps each canonical URL this source has listed to the listing signature it saw (None: the listing said
    nothing); ``external_ids`` does the same for the ids this source gave those documents. ``validators`` holds the
    ETag / Last-Modified pairs of this source's feeds and listings (conditional GET).
    """

    source: str = ""
    urls: dict[str, str | None] = field(default_factory=dict)
    external_ids: dict[str, str | None] = field(default_factory=dict)
    validators: Validators = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, source: str) -> KnownIndex:
        """This source's state: two reads by ``source`` (primary-key ranges), never a scan of the documents."""
        from lawwatch.pipeline.models import HttpCacheEntry
        from lawwatch.pipeline.store import source_state_of

        index = cls(source=source)
        for key, external_id, signature in source_state_of(session, source):
            index.urls[key] = signature
            if external_id:
                index.external_ids[external_id] = signature
        entries = session.execute(
            select(HttpCacheEntry.url, HttpCacheEntry.etag, HttpCacheEntry.last_modified).where(
                HttpCacheEntry.source == source
            )
        )
        for url, etag, last_modified in entries:
            index.validators[url] = (etag, last_modified)
        return index

    def has(
        self, *, url: str | None = None, external_id: str | int | None = None, signature: str | None = None
    ) -> bool:
        """True when this source has listed the document before and, if ``signature`` is given, with that signature.

        A document this source never listed is not known, even when another source stored it: the source fetches it
        once (it compares as unchanged) and its listing state is recorded then."""
        stored: list[str | None] = []
        if external_id not in (None, "") and str(external_id) in self.external_ids:
            stored.append(self.external_ids[str(external_id)])
        if url:
            key = canonical_url(url)
            if key in self.urls:
                stored.append(self.urls[key])
        if not stored:
            return False
        return signature is None or any(s == signature for s in stored)

    def add(self, *, url: str | None = None, external_id: str | None = None, signature: str | None = None) -> None:
        if url:
            self.urls[canonical_url(url)] = signature
        if external_id:
            self.external_ids[str(external_id)] = signature


@dataclass
class CrawlContext:
    """Everything one source's crawl knows and collects; see the module docstring.

    ``ingest`` is None only for a spider used without the item pipeline (offline parser tests)."""

    source: SourceConfig
    known: KnownIndex = field(default_factory=KnownIndex)
    since: datetime | None = None
    ingest: IngestSettings | None = None
    run_id: int | None = None
    # Validators (ETag, Last-Modified) of feeds and listings fetched in this run; stored when the run succeeds.
    fresh_validators: Validators = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.known.source:
            self.known.source = self.source.id


def crawl_context(crawler: Crawler) -> CrawlContext:
    """The context of ``crawler``'s spider (for middlewares and item pipelines)."""
    context = getattr(crawler.spider, "context", None)
    if not isinstance(context, CrawlContext):
        raise RuntimeError(f"{crawler.spider!r} has no CrawlContext: lawwatch spiders are created with context=...")
    return context
