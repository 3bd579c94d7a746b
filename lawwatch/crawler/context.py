"""One source's crawl, as one explicit object: :class:`CrawlContext`.

The runner creates it per source and hands it to the spider at construction (``crawler.crawl(spidercls,
context=...)``); the spider keeps it as ``spider.context``, the downloader middlewares and the item pipeline read it
with :func:`crawl_context`. Nothing else is set on a spider from outside.

It carries the run's inputs (the source's config, what the archive already holds as :class:`KnownIndex`, ``since``
for a backfill, the run's ``crawl_runs`` id, the ingest settings of the item pipeline) and collects what the runner
stores when the run ends (``fresh_validators``, the listing walks that finished: ``walks``) and the ids of the
documents it stored as new or updated (``new_ids``, ``updated_ids``: what ``lawwatch crawl`` lists). Errors are
counted on the crawler's stats (``crawler.middlewares.record_error``), which the runner copies onto the run's row.

Listing walks resume (``crawler/base.py``, :meth:`LawwatchSpider.next_page`): per listing, ``source_state`` keeps the
:class:`WalkBoundary` of the last walk that finished (key ``walk:<listing>``, which cannot be a URL); a walk goes past
all-known pages until it reaches that boundary, so a walk cut short (kill, signal, error, page cap) is taken up again
by the next crawl. The runner writes a walk's new boundary only when the walk ended normally and every batch of the
run committed.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import select

from lawwatch.pipeline.normalize import canonical_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from sqlalchemy.orm import Session

    from lawwatch.config import SourceConfig
    from lawwatch.pipeline.ingest import IngestSettings

Validators = dict[str, tuple[str | None, str | None]]
WALK_PREFIX = "walk:"  # source_state keys of listing walk boundaries (a URL never starts so)
BOUNDARY_ENTRIES = 3  # the bottom entries of a walk's first page kept as its boundary


class Listed(NamedTuple):
    """One entry of a listing page, as a walk sees it: its URL and external id, whether the source knew it, and its
    date when the listing gives one."""

    url: str | None
    external_id: str | int | None
    known: bool
    when: datetime | None = None


def entry_keys(entry: Listed) -> list[str]:
    """The keys a boundary compares: the canonical URL and ``id:<external id>``."""
    keys = [canonical_url(entry.url)] if entry.url else []
    if entry.external_id not in (None, ""):
        keys.append(f"id:{entry.external_id}")
    return keys


@dataclass(frozen=True)
class WalkBoundary:
    """Where the last finished walk of a listing started: the keys of the bottom (oldest) entries of its first page
    and the oldest date on that page. Everything from there down was stored by that walk (or before it); a later
    walk has reached it when a page lists one of those keys or something older than ``oldest``.

    The bottom of the page rather than its top: an entry published later but dated among that page's entries sorts
    above the bottom, so a walk that stops only there still meets it."""

    keys: frozenset[str] = frozenset()
    oldest: datetime | None = None

    @classmethod
    def of(cls, entries: Sequence[Listed], oldest: datetime | None) -> WalkBoundary:
        """The boundary a walk whose first page listed ``entries`` (in listing order) leaves when it finishes: its
        oldest entries by date (by position, the last ones, when some are undated)."""
        ranked = list(enumerate(entries))
        if all(entry.when is not None for entry in entries):
            ranked.sort(key=lambda pair: (pair[1].when, -pair[0]))
        else:
            ranked.reverse()
        bottom = [entry for _, entry in ranked[:BOUNDARY_ENTRIES]]
        return cls(frozenset(key for entry in bottom for key in entry_keys(entry)), oldest)

    def reached_by(self, entries: Iterable[Listed], oldest: datetime | None) -> bool:
        if any(key in self.keys for entry in entries for key in entry_keys(entry)):
            return True
        return oldest is not None and self.oldest is not None and oldest < self.oldest

    def encode(self) -> str:
        return json.dumps(
            {"keys": sorted(self.keys), "oldest": self.oldest.isoformat() if self.oldest else None}, sort_keys=True
        )

    @classmethod
    def decode(cls, text: str | None) -> WalkBoundary | None:
        """The boundary stored as ``text``; None when there is none or it cannot be read (the walk then goes to the
        end of its listing or its page cap, as a first walk does)."""
        try:
            data = json.loads(text or "")
            oldest = datetime.fromisoformat(data["oldest"]) if data.get("oldest") else None
            return cls(frozenset(str(k) for k in data["keys"]), oldest)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


@dataclass
class KnownIndex:
    """What the archive already has, as seen by one source (its ``source_state`` rows and HTTP validators).

    ``urls`` maps each canonical URL this source has listed to the listing signature it saw (None: the listing said
    nothing); ``external_ids`` does the same for the ids this source gave those documents. ``validators`` holds the
    ETag / Last-Modified pairs of this source's feeds and listings (conditional GET). ``walks`` maps each listing to
    the :class:`WalkBoundary` of its last finished walk.
    """

    source: str = ""
    urls: dict[str, str | None] = field(default_factory=dict)
    external_ids: dict[str, str | None] = field(default_factory=dict)
    validators: Validators = field(default_factory=dict)
    walks: dict[str, WalkBoundary] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, source: str) -> KnownIndex:
        """This source's state: two reads by ``source`` (primary-key ranges), never a scan of the documents."""
        from lawwatch.pipeline.models import HttpCacheEntry
        from lawwatch.pipeline.store import source_state_of

        index = cls(source=source)
        for key, external_id, signature in source_state_of(session, source):
            if key.startswith(WALK_PREFIX):
                boundary = WalkBoundary.decode(signature)
                if boundary is not None:
                    index.walks[key.removeprefix(WALK_PREFIX)] = boundary
                continue
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
    # Listing walks of this run: started, finished (with the boundary the runner stores), resumed (went past
    # all-known pages to reach the boundary of the last finished walk).
    walks_started: set[str] = field(default_factory=set)
    walks: dict[str, WalkBoundary] = field(default_factory=dict)
    resumed: set[str] = field(default_factory=set)
    resumed_pages: int = 0
    # Ids of the documents this run stored as new / updated (8 bytes each: titles are read back when shown).
    new_ids: array[int] = field(default_factory=lambda: array("q"))
    updated_ids: array[int] = field(default_factory=lambda: array("q"))

    @property
    def unfinished_walks(self) -> set[str]:
        return self.walks_started - set(self.walks)

    def __post_init__(self) -> None:
        if not self.known.source:
            self.known.source = self.source.id


def crawl_context(crawler: Crawler) -> CrawlContext:
    """The context of ``crawler``'s spider (for middlewares and item pipelines)."""
    context = getattr(crawler.spider, "context", None)
    if not isinstance(context, CrawlContext):
        raise RuntimeError(f"{crawler.spider!r} has no CrawlContext: lawwatch spiders are created with context=...")
    return context
