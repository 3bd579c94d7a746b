"""The shared spider base: every source is one module in ``crawler/spiders/`` with one :class:`LawwatchSpider`.

The runner constructs a spider with keyword arguments ``source`` (``config.SourceConfig``), ``known`` (a
:class:`KnownIndex`: what the archive already holds) and ``since`` (``--backfill --since DATE``). A spider walks its
listings newest-first, asks :meth:`LawwatchSpider.is_known` before downloading a document, stops at the first
listing page whose items are all known (:meth:`LawwatchSpider.keep_walking`), raises a sanity error when a listing
that should have entries has none (:meth:`LawwatchSpider.sanity_check`), and yields :class:`DocumentItem` s built by
:meth:`LawwatchSpider.make_item`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from sqlalchemy import select

from lawwatch.crawler.content import read_feed
from lawwatch.crawler.items import DocumentItem
from lawwatch.errors import CrawlError
from lawwatch.pipeline.normalize import canonical_url

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lawwatch.config import SourceConfig

SIGNATURES = "signatures"


@dataclass
class KnownIndex:
    """What the archive already has, as seen by one source.

    ``urls`` maps every stored canonical URL (of any source: a release found through the API is known to the RSS
    and HTML spiders too) to the listing signature *this* source recorded for it (None: never seen by this source).
    ``external_ids`` does the same for this source's external ids. ``validators`` holds the ETag / Last-Modified
    pairs of this source's feeds and listings (conditional GET). Signatures live in each document's metadata as
    ``signatures: {source id: signature}`` (written by ``crawler.pipelines``).
    """

    source: str = ""
    urls: dict[str, str | None] = field(default_factory=dict)
    external_ids: dict[str, str | None] = field(default_factory=dict)
    validators: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, source: str) -> KnownIndex:
        from lawwatch.pipeline.models import Document, HttpCacheEntry

        index = cls(source=source)
        rows = session.execute(select(Document.url, Document.external_id, Document.source, Document.meta[SIGNATURES]))
        for url, external_id, owner, signatures in rows:
            mine = signatures.get(source) if isinstance(signatures, dict) else None
            if url:
                index.urls[url] = mine
            if external_id and owner == source:
                index.external_ids[external_id] = mine
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
        """True when the document is stored and, if ``signature`` is given, this source recorded that signature.

        A document stored without this source's signature is not known *with* a signature: the source fetches it
        once more (it compares as unchanged and records the signature)."""
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


class LawwatchSpider(scrapy.Spider):
    """Base of every lawwatch spider; module name = ``name`` = spider id.

    Subclasses set ``name`` and ``form`` (the default document form), may declare ``OPTIONS`` at module level (the
    extra ``[[sources]]`` keys config accepts) and override :meth:`extra_domains` when documents live on sibling
    hosts. Requests for feeds and listings carry ``meta={"conditional": True}`` to be fetched with conditional GET.
    """

    name = "lawwatch"
    form = "other"

    def __init__(
        self,
        *args: Any,
        source: SourceConfig,
        known: KnownIndex | None = None,
        since: datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.source = source
        self.options: Mapping[str, Any] = source.options
        self.base_url = source.base_url.rstrip("/")
        self.known = known if known is not None else KnownIndex(source=source.id)
        self.since = since
        # Validators (ETag, Last-Modified) of feeds and listings fetched in this run; stored when the run succeeds.
        self.fresh_validators: dict[str, tuple[str | None, str | None]] = {}
        host = (urlsplit(self.base_url).hostname or "").lower()
        self.allowed_domains = [host, *self.extra_domains()]

    async def start(self) -> AsyncIterator[Any]:
        """Scrapy's entry point: the requests of :meth:`first_requests`; an exception there fails the source."""
        try:
            for request in self.first_requests():
                yield request
        except Exception as exc:
            self.fail(exc)

    def first_requests(self) -> Iterable[scrapy.Request]:
        """The source's first requests (feeds, first listing pages, the first API page)."""
        raise NotImplementedError

    def read_feed(self, response: Response) -> Any:
        """The parsed feed of ``response`` (see :func:`crawler.content.read_feed`), None for a 304 (nothing new);
        an unreadable feed fails the source with its URL."""
        if response.status == 304:
            return None
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        try:
            return read_feed(response.body, content_type)
        except ValueError as exc:
            raise CrawlError(self.source.id, f"{response.url}: {exc}") from exc

    def fail(self, exc: BaseException) -> None:
        """Record ``exc`` as a fatal error of this source (its run is ``failed``); the crawl of others goes on."""
        from lawwatch.crawler.middlewares import record_error

        text = str(exc) if isinstance(exc, CrawlError) else f"{self.source.id}: {type(exc).__name__}: {exc}"
        self.logger.error("source failed: %s", text)
        record_error(self.crawler, text)
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("lawwatch/fatal", 1)

    def extra_domains(self) -> Iterable[str]:
        """Domains besides ``base_url``'s host that this source may fetch (subdomains are always allowed)."""
        return ()

    def url(self, path: str) -> str:
        """``path`` joined onto ``base_url`` (keeps a mirror's path prefix); absolute URLs are returned unchanged."""
        if urlsplit(path).scheme:
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def is_known(self, *, url: str | None = None, external_id: str | int | None = None,
                 signature: str | None = None) -> bool:
        return self.known.has(url=url, external_id=external_id, signature=signature)

    def keep_walking(self, *, all_known: bool, oldest: datetime | None) -> bool:
        """Whether a listing walk goes on to the next (older) page.

        Without ``since`` the walk stops at the first page whose items are all known. With ``since`` (backfill) it
        goes on while the page's oldest item is not older than ``since``.
        """
        if self.since is not None:
            return oldest is None or oldest >= self.since
        return not all_known

    def sanity_check(self, count: int, where: str) -> None:
        """Zero entries where entries were expected is a sanity error (a layout change), never silence."""
        if count <= 0:
            raise CrawlError(self.source.id, f"sanity check failed: no entries in {where} (did the layout change?)")

    def make_item(self, **fields: Any) -> DocumentItem:
        fields.setdefault("form", self.form)
        return DocumentItem(source=self.source.id, **fields)
