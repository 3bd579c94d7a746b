"""News RSS/Atom feeds (default: Courthouse News), one document per article.

feedparser reads the downloaded bytes of each configured feed (never a URL: Scrapy does every fetch, with the
crawler's politeness and safety rules). Each new or changed item's page is fetched and its main text extracted with
trafilatura; when the page cannot be fetched or yields no usable text, the item's ``content:encoded`` (else its
description) is the document.

Options: ``feeds`` (paths on ``base_url`` or absolute URLs; default ``["/feed/"]``), ``fetch_pages`` (default true).
"""

from __future__ import annotations

import calendar
import hashlib
import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from lawwatch.crawler.base import LawwatchSpider
from lawwatch.crawler.content import extract_main_text
from lawwatch.crawler.identity import first_listing
from lawwatch.crawler.items import DocumentItem
from lawwatch.crawler.specs.news_rss import OPTIONS
from lawwatch.pipeline.normalize import read_date

DEFAULT_FEEDS = OPTIONS.default("feeds")
MIN_PAGE_TEXT = 200  # characters; shorter page text (a stub, a paywall notice) loses to content:encoded

log = logging.getLogger(__name__)


def _iso(parsed: Any, raw: Any = None) -> str | None:
    """feedparser's UTC ``struct_time`` → ISO 8601 (aware UTC); a date that is out of range or not plausible comes
    back as the feed wrote it (``raw``), so the archive stores the article without a date and warns."""
    if not parsed:
        return str(raw) if raw else None
    try:
        iso = datetime.fromtimestamp(calendar.timegm(parsed), UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return str(raw) if raw else None
    return iso if read_date(iso)[1] is None else str(raw or iso)


def feed_entries(result: Any, feed_url: str) -> Iterator[dict[str, Any]]:
    """The feed's items as plain JSON-able dicts (they travel in request meta)."""
    for entry in result.entries:
        link = (entry.get("link") or "").strip()
        if not link:
            continue
        content = entry.get("content") or []
        html = next((c.get("value", "") for c in content if "html" in c.get("type", "")), "")
        summary = entry.get("summary", "")
        # dict.get: feedparser's own get() maps a missing updated* to published* (with a DeprecationWarning)
        updated = _iso(dict.get(entry, "updated_parsed"), dict.get(entry, "updated"))
        published = _iso(dict.get(entry, "published_parsed"), dict.get(entry, "published")) or updated
        changed = updated or published or ""
        digest = hashlib.sha1(f"{entry.get('title', '')}\n{html or summary}".encode()).hexdigest()[:16]
        yield {
            "feed": feed_url,
            "link": link,
            "guid": (entry.get("id") or link).strip(),
            "title": " ".join((entry.get("title") or "").split()),
            "published": published,
            "author": entry.get("author") or None,
            "categories": [t.get("term") for t in entry.get("tags", []) if t.get("term")],
            "content_html": html,
            "summary_html": summary,
            "signature": f"{changed}|{digest}",
        }


class NewsRssSpider(LawwatchSpider):
    name = "news_rss"
    form = "news_article"

    def extra_domains(self) -> Iterable[str]:
        for feed in self.options.get("feeds") or ():
            host = urlsplit(feed).hostname
            if host:
                yield host.lower()

    def allows(self, url: str) -> bool:
        """Whether ``url``'s host is one of the allowed domains or below one (ports ignored)."""
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    def first_requests(self) -> list[scrapy.Request]:
        feeds = self.options.get("feeds") or DEFAULT_FEEDS
        return [scrapy.Request(self.url(f), callback=self.parse, meta={"conditional": True}) for f in feeds]

    def parse(self, response: Response, **kwargs: Any) -> Iterable[DocumentItem | scrapy.Request]:
        """A feed: new or changed items → their pages (or straight to items when pages are not fetched)."""
        result = self.read_feed(response)
        if result is None:
            return
        entries = list(feed_entries(result, response.url))
        self.sanity_check(len(entries), f"feed {response.url}")
        fetch = self.options.get("fetch_pages", True)
        for entry in entries:
            if not first_listing(self, entry["link"], entry["guid"]):
                continue
            if self.is_known(url=entry["link"], external_id=entry["guid"], signature=entry["signature"]):
                continue
            if fetch and self.allows(entry["link"]):
                yield scrapy.Request(
                    entry["link"], callback=self.parse_article, errback=self.article_failed, meta={"entry": entry}
                )
            else:
                yield self.entry_item(entry, None)

    def parse_article(self, response: Response, **kwargs: Any) -> Iterable[DocumentItem]:
        entry = response.meta["entry"]
        text = extract_main_text(response.text, response.url) if hasattr(response, "text") else None
        fallback = entry["content_html"] or entry["summary_html"]
        if text and (len(text) >= MIN_PAGE_TEXT or not fallback):
            yield self.entry_item(entry, text)
        else:
            log.info("%s: no usable page text; using the feed's content", entry["link"])
            yield self.entry_item(entry, None)

    def article_failed(self, failure: Failure) -> Iterable[DocumentItem]:
        """The article page failed (after retries): the feed's own content is the document."""
        request = getattr(failure, "request", None)
        if request is None or "entry" not in request.meta:
            return
        entry = request.meta["entry"]
        log.warning("%s: page failed (%s); using the feed's content", entry["link"], failure.getErrorMessage())
        yield self.entry_item(entry, None)

    def entry_item(self, entry: dict[str, Any], page_text: str | None) -> DocumentItem:
        """The document: page text when given, else ``content:encoded`` (else the description) as HTML."""
        body: dict[str, str] = (
            {"text": page_text} if page_text else {"html": entry["content_html"] or entry["summary_html"] or ""}
        )
        # an unreadable or implausible date goes on as the feed wrote it: stored without a date, with a warning
        when, _problem = read_date(entry["published"])
        published = when if when is not None else entry["published"]
        return self.make_item(
            url=entry["link"],
            external_id=entry["guid"],
            title=entry["title"],
            published=published,
            metadata={
                "author": entry["author"],
                "categories": entry["categories"],
                "feed": entry["feed"],
                "body_from": "page" if page_text else "feed",
            },
            listing_signature=entry["signature"],
            **body,
        )
