"""The shared spider base: every source is one module in ``crawler/spiders/`` with one :class:`LawwatchSpider`.

The runner constructs a spider with one keyword argument, ``context`` (a ``crawler.context.CrawlContext``: the
source's config, what the archive already holds as a :class:`KnownIndex`, ``since`` for ``--backfill --since
DATE``); the spider reads it as ``self.context`` (``source``, ``known`` and ``since`` are read-only views of it).
A spider walks its listings newest-first, asks :meth:`LawwatchSpider.is_known` before downloading a document, stops
at the first listing page whose items are all known (:meth:`LawwatchSpider.keep_walking`), raises a sanity error
when a listing that should have entries has none (:meth:`LawwatchSpider.sanity_check`), and yields
:class:`DocumentItem` s built by :meth:`LawwatchSpider.make_item`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response

from lawwatch.crawler.content import read_feed
from lawwatch.crawler.context import CrawlContext, KnownIndex
from lawwatch.crawler.items import DocumentItem
from lawwatch.errors import CrawlError

if TYPE_CHECKING:
    from lawwatch.config import SourceConfig

__all__ = ["CrawlContext", "KnownIndex", "LawwatchSpider"]


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
        context: CrawlContext | None = None,
        source: SourceConfig | None = None,
        known: KnownIndex | None = None,
        since: datetime | None = None,
        **kwargs: Any,
    ) -> None:
        """``context`` is the crawl's :class:`CrawlContext`. A spider made by hand (offline tests, a REPL) may give
        ``source`` (and ``known``, ``since``) instead: they become its context."""
        if context is None:
            if source is None:
                raise TypeError(f"{type(self).__name__} needs context=CrawlContext(...) (or source=...)")
            context = CrawlContext(source=source, known=known or KnownIndex(source=source.id), since=since)
        elif source is not None or known is not None or since is not None:
            raise TypeError("give context= or source=/known=/since=, not both")
        super().__init__(*args, **kwargs)
        self.context = context
        self.options: Mapping[str, Any] = context.source.options
        self.base_url = context.source.base_url.rstrip("/")
        host = (urlsplit(self.base_url).hostname or "").lower()
        self.allowed_domains = [host, *self.extra_domains()]

    @property
    def source(self) -> SourceConfig:
        return self.context.source

    @property
    def known(self) -> KnownIndex:
        return self.context.known

    @property
    def since(self) -> datetime | None:
        return self.context.since

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
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1") or None
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

    def is_known(
        self, *, url: str | None = None, external_id: str | int | None = None, signature: str | None = None
    ) -> bool:
        return self.context.known.has(url=url, external_id=external_id, signature=signature)

    def keep_walking(self, *, all_known: bool, oldest: datetime | None) -> bool:
        """Whether a listing walk goes on to the next (older) page.

        Without ``since`` the walk stops at the first page whose items are all known. With ``since`` (backfill) it
        goes on while the page's oldest item is not older than ``since``.
        """
        since = self.context.since
        if since is not None:
            return oldest is None or oldest >= since
        return not all_known

    def sanity_check(self, count: int, where: str) -> None:
        """Zero entries where entries were expected is a sanity error (a layout change), never silence."""
        if count <= 0:
            raise CrawlError(self.source.id, f"sanity check failed: no entries in {where} (did the layout change?)")

    def make_item(self, **fields: Any) -> DocumentItem:
        fields.setdefault("form", self.form)
        return DocumentItem(source=self.source.id, **fields)
