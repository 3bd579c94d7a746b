"""The shared spider base: every source is one module in ``crawler/spiders/`` with one :class:`LawwatchSpider`.

The runner constructs a spider with one keyword argument, ``context`` (a ``crawler.context.CrawlContext``: the
source's config, what the archive already holds as a :class:`KnownIndex`, ``since`` for ``--backfill --since
DATE``); the spider reads it as ``self.context`` (``source``, ``known`` and ``since`` are read-only views of it).
A spider walks its listings newest-first, asks :meth:`LawwatchSpider.is_known` before downloading a document, asks
:meth:`LawwatchSpider.next_page` whether to go on to the next page of a listing, raises a sanity error when a listing
that should have entries has none (:meth:`LawwatchSpider.sanity_check`), and yields :class:`DocumentItem` s built
by :meth:`LawwatchSpider.make_item`.

A walk resumes what an earlier one left unfinished: it stops at the first all-known page only once it has reached the
boundary of the listing's last *finished* walk (``crawler.context.WalkBoundary``); before that it goes past all-known
pages (they do not count against the page cap), so the documents a killed, interrupted or failed crawl never reached
are fetched by the next one. Without a boundary (the first walk of a listing) it goes to the end of the listing or
its page cap. A walk that ends normally is recorded in the context for the runner; one cut short is not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response

from lawwatch.crawler.content import read_feed
from lawwatch.crawler.context import CrawlContext, KnownIndex, Listed, WalkBoundary
from lawwatch.crawler.items import DocumentItem
from lawwatch.errors import CrawlError

if TYPE_CHECKING:
    from lawwatch.config import SourceConfig

__all__ = ["CrawlContext", "KnownIndex", "LawwatchSpider", "Listed"]


@dataclass
class _Walk:
    """One listing's walk in this crawl (its pages are requested one after another)."""

    boundary: WalkBoundary | None  # of the last finished walk; None: walk to the end or the cap
    start: WalkBoundary  # this walk's first page: the boundary it leaves when it finishes
    reached: bool = False
    pages: int = 0
    free: int = 0  # all-known pages walked to reach the boundary: not counted against the cap


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
        self._walks: dict[str, _Walk] = {}
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
        record_error(self.crawler, text)  # logged as one line there
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
        """Whether a listing walk without resume state goes on to the next (older) page.

        Without ``since`` the walk stops at the first page whose items are all known. With ``since`` (backfill) it
        goes on while the page's oldest item is not older than ``since``. Listing walks use :meth:`next_page`.
        """
        since = self.context.since
        if since is not None:
            return oldest is None or oldest >= since
        return not all_known

    def next_page(
        self,
        listing: str,
        entries: Sequence[Listed],
        *,
        oldest: datetime | None,
        more: bool,
        max_pages: int | None,
        position: int | None = None,
    ) -> bool:
        """Whether the walk of ``listing`` (a stable id: a path, a query) goes on to its next, older page, after a
        page that listed ``entries`` (``oldest``: the page's oldest date). ``more``: the listing has a next page;
        ``max_pages``: the most pages per crawl (None: no cap); ``position``: this page's place in the walk (1 for
        its first page; default: counted by the calls). Call it once per page, in walk order.

        With ``since`` (backfill) the walk goes on while the page is not older than ``since`` and is never recorded.
        Otherwise see the module docstring: the walk stops at the first all-known page at or past the boundary of
        the last finished walk, at the end of the listing, or at the cap; stopping by rule or at the end (or at the
        cap of a first walk, which sets the listing's horizon) finishes it."""
        walk = self._walks.get(listing)
        if walk is None:
            walk = _Walk(self.known.walks.get(listing), WalkBoundary.of(entries, oldest))
            self._walks[listing] = walk
            if self.since is None:
                self.context.walks_started.add(listing)
        walk.pages = position if position is not None else walk.pages + 1
        if self.since is not None:
            under_cap = max_pages is None or walk.pages < max_pages
            return more and under_cap and (oldest is None or oldest >= self.since)
        all_known = all(entry.known for entry in entries)
        if walk.boundary is not None and not walk.reached:
            walk.reached = walk.boundary.reached_by(entries, oldest)
        if all_known and not walk.reached:  # a page an unfinished walk stored: go past it
            if walk.boundary is not None:  # a first walk's cap counts every page (it sets the horizon)
                walk.free += 1
            self.context.resumed.add(listing)
            self.context.resumed_pages += 1
        if walk.reached and all_known:
            return self._finish_walk(listing, walk)
        if not more:
            return self._finish_walk(listing, walk)
        if max_pages is not None and walk.pages - walk.free >= max_pages:
            if walk.boundary is None:  # a first walk's cap is the listing's horizon
                self._finish_walk(listing, walk)
            return False
        return True

    def _finish_walk(self, listing: str, walk: _Walk) -> bool:
        self.context.walks[listing] = walk.start
        return False

    def sanity_check(self, count: int, where: str) -> None:
        """Zero entries where entries were expected is a sanity error (a layout change), never silence."""
        if count <= 0:
            raise CrawlError(self.source.id, f"sanity check failed: no entries in {where} (did the layout change?)")

    def make_item(self, **fields: Any) -> DocumentItem:
        fields.setdefault("form", self.form)
        return DocumentItem(source=self.source.id, **fields)
