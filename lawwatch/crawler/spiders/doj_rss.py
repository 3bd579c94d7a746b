"""justice.gov RSS feeds (``/feeds/opa/justice-news.xml`` and configured others).

Feeds are fetched with conditional GET (ETag / Last-Modified kept per feed; a 304 means nothing new) and parsed with
feedparser on the downloaded bytes, never on a URL (feedparser would fetch it itself, outside Scrapy's politeness
and safety). Each new item is followed to its release page for the full text, parsed with ``doj_news``'s
:func:`~lawwatch.crawler.spiders.doj_news.parse_release_page`; when the page has no recognisable release the item's own
description is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from lawwatch.crawler.base import LawwatchSpider
from lawwatch.crawler.identity import first_listing
from lawwatch.crawler.items import DocumentItem
from lawwatch.crawler.specs.doj_rss import OPTIONS
from lawwatch.crawler.spiders.doj_news import parse_release_page

DEFAULT_FEEDS = OPTIONS.default("feeds")


def feed_entries(result: Any) -> list[dict[str, Any]]:
    """The entries of a parsed feed (:func:`crawler.content.read_feed`) as plain dicts (they travel in request
    meta)."""
    entries = []
    for entry in result.entries:
        entries.append(
            {
                "title": entry.get("title") or "",
                "link": entry.get("link") or "",
                "guid": entry.get("id") or None,
                # dict.get: feedparser's own get() maps a missing `updated` to `published` with a DeprecationWarning
                "published": dict.get(entry, "published") or dict.get(entry, "updated") or None,
                "updated": dict.get(entry, "updated") or None,
                "summary": entry.get("summary") or "",
                "creator": entry.get("author") or None,
            }
        )
    return entries


class DojRssSpider(LawwatchSpider):
    name = "doj_rss"
    form = "press_release"

    def first_requests(self) -> Iterable[scrapy.Request]:
        for path in self.options.get("feeds", DEFAULT_FEEDS):
            yield scrapy.Request(
                self.url(path), callback=self.parse_feed, meta={"conditional": self.since is None}, dont_filter=True
            )

    def parse_feed(self, response: Response) -> Iterator[DocumentItem | scrapy.Request]:
        """A feed, read through the checked path every feed spider uses (:meth:`LawwatchSpider.read_feed`): an entity
        declaration anywhere in the prolog, a truncated or malformed feed and a body that is no feed fail the source
        with the feed's URL. New items → their release pages."""
        result = self.read_feed(response)
        if result is None:  # 304: nothing new
            return
        entries = feed_entries(result)
        self.sanity_check(len(entries), f"feed {response.url}")
        fetch_pages = bool(self.options.get("fetch_pages", True))
        for entry in entries:
            if not entry["link"]:
                continue
            url = response.urljoin(entry["link"])
            signature = entry["updated"] or entry["published"]
            if not first_listing(self, url, entry["guid"]) or self.is_known(url=url, signature=signature):
                continue
            if fetch_pages:
                yield scrapy.Request(url, callback=self.parse_release, meta={"entry": entry})
            else:
                yield self.entry_item(url, entry)

    def entry_item(self, url: str, entry: dict[str, Any]) -> DocumentItem:
        return self.make_item(
            url=url,
            external_id=entry["guid"],
            title=entry["title"],
            published=entry["published"],
            html=entry["summary"],
            metadata={"components": [entry["creator"]] if entry["creator"] else []},
            listing_signature=entry["updated"] or entry["published"],
        )

    def parse_release(self, response: Response) -> Iterator[DocumentItem]:
        entry = response.meta["entry"]
        release = parse_release_page(response)
        if release is None or not release.body_html:
            self.logger.warning("no release on %s; keeping the feed's description", response.url)
            yield self.entry_item(response.url, entry)
            return
        yield self.make_item(
            url=response.url,
            external_id=entry["guid"],
            title=release.title or entry["title"],
            published=release.published or entry["published"],
            html=release.body_html,
            metadata=release.metadata(),
            listing_signature=entry["updated"] or entry["published"],
        )
