"""justice.gov HTML: listings (``/news?page=N`` and component listings such as ``/usao-edpa/pr``) → release pages.

Release pages come in two layouts, recognised per page: the current one (``h1.page-title``, ``article
time[datetime]``, body in ``div.field_body``) and the 2018 one (``h1#node-title``, ``div.field--name-field-pr-body``,
``span.date-display-single[content]``, topic/component/number fields). :func:`parse_release_page` is shared with the
``doj_rss`` spider, which follows feed items to these pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import scrapy
from cssselect import HTMLTranslator
from lxml import etree
from parsel.csstranslator import HTMLTranslator as ParselHTMLTranslator
from scrapy.exceptions import NotSupported
from scrapy.http import Response, TextResponse

from lawwatch.crawler.base import LawwatchSpider, Listed
from lawwatch.crawler.items import DocumentItem
from lawwatch.crawler.specs.doj_news import OPTIONS
from lawwatch.pipeline.normalize import read_date

DEFAULT_LISTINGS = OPTIONS.default("listings")
DEFAULT_MAX_PAGES = OPTIONS.default("max_pages")
_CSS = HTMLTranslator()


@dataclass
class ReleasePage:
    """What a justice.gov release page says, whichever layout it uses."""

    layout: str
    title: str
    body_html: str
    published: str | None
    updated: str | None = None
    number: str | None = None
    components: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)

    def metadata(self) -> dict[str, Any]:
        return {
            "release_number": self.number,
            "components": self.components,
            "topics": self.topics,
            "layout": self.layout,
            "updated": self.updated,
        }


def _xpath(css: str, suffix: str = "") -> etree.XPath:
    """A CSS selector compiled once to an lxml XPath (``suffix`` adds what parsel's ``::text``/``::attr`` would)."""
    return etree.XPath(_CSS.css_to_xpath(css) + suffix)


# Release pages are parsed with precompiled XPath on the lxml tree: parsel builds selector objects per call, which
# cost more than the rest of this parse. The results are exactly what the equivalent parsel calls return.
_X = {
    "2018_title": _xpath("h1#node-title"),
    "2018_body": _xpath("div.field--name-field-pr-body"),
    "2018_date": _xpath("span.date-display-single", "/@content"),
    "2018_number": _xpath("div.field--name-field-pr-number .field__item", "/text()"),
    "2018_components": _xpath("div.field--name-field-pr-component a", "/text()"),
    "2018_topics": _xpath("div.field--name-field-pr-topic .field__item", "/text()"),
    "title": _xpath("h1.page-title"),
    "article": _xpath("article"),
    "bodies": [_xpath("div.field_body"), _xpath(".field--name-body"), _xpath(".text-formatted")],
    "node_date": _xpath(".node-date time", "/@datetime"),
    "date": _xpath("time", "/@datetime"),
    "updated": _xpath("time.updated", "/@datetime"),
    "number": _xpath(".field_press_release_number .field__item", "/text()"),
    "components": _xpath(".node-component a", "/text()"),
    "topics": _xpath(".node-topics .field__item", "/text()"),
}


def _inner_html(nodes: list[Any]) -> str:
    """The first node's content as HTML, as parsel's ``xpath("node()").getall()`` joins it (text nodes raw)."""
    if not nodes:
        return ""
    node = nodes[0]
    parts = [node.text or ""]
    for child in node:
        parts.append(etree.tostring(child, method="html", encoding="unicode", with_tail=False))
        parts.append(child.tail or "")
    return "".join(parts).strip()


def _first(values: list[Any]) -> str | None:
    return str(values[0]) if values else None


def _texts(values: list[Any]) -> list[str]:
    return [t for t in (" ".join(str(v).split()) for v in values) if t]


def _text(value: str | None) -> str | None:
    return " ".join(value.split()) if value else None


def _string(nodes: list[Any]) -> str | None:
    """The first node's string value (``xpath("string()")``, compiled once)."""
    return str(_STRING(nodes[0])) if nodes else None


def _first_string(nodes: list[Any]) -> str | None:
    """``SelectorList.xpath("string()").get()``: the first node's string value."""
    return str(_STRING(nodes[0])) if nodes else None


# Listing pages too: each of these is exactly what ``response.css(css)`` / ``row.css(css)`` evaluates (parsel's own
# CSS translation, plain-string results), without building a selector per call.
_STRING = etree.XPath("string()", smart_strings=False)
_PARSEL_CSS = ParselHTMLTranslator()


def _css(css: str) -> etree.XPath:
    return etree.XPath(_PARSEL_CSS.css_to_xpath(css), smart_strings=False)


_L = {
    "rows": _css("div.views-row article.news-content-listing"),
    "rows_2018": _css("div.views-row"),
    "href": _css("h2.news-title a::attr(href)"),
    "href_2018": _css(".views-field-title a::attr(href)"),
    "date": _css("time::attr(datetime)"),
    "date_2018": _css("span.date-display-single::attr(content)"),
    "title": _css("h2.news-title a"),
    "title_2018": _css("a"),
    "next": _css("a[aria-label='Next page']::attr(href)"),
}


def utf8_if_misdeclared(response: TextResponse) -> TextResponse:
    """``response`` read as UTF-8 when it declares another charset but its bytes are valid, non-ASCII UTF-8 (a
    server's wrong ``charset`` would otherwise turn every dash and quote into mojibake)."""
    encoding = (response.encoding or "").lower().replace("_", "-")
    if encoding in ("utf-8", "utf8") or response.body.isascii():
        return response
    try:
        response.body.decode("utf-8")
    except UnicodeDecodeError:
        return response
    return response.replace(encoding="utf-8")


def parse_release_page(response: Response) -> ReleasePage | None:
    """The release on ``response`` (current or 2018 layout), or None when the page has neither layout (also when it
    is not text at all, e.g. a PDF where a release page was linked)."""
    if not isinstance(response, TextResponse):
        return None
    root = utf8_if_misdeclared(response).selector.root
    heading = _X["2018_title"](root)
    if heading:
        return ReleasePage(
            layout="2018",
            title=_text(_string(heading)) or "",
            body_html=_inner_html(_X["2018_body"](root)),
            published=_first(_X["2018_date"](root)),
            number=_text(_first(_X["2018_number"](root))),
            components=_texts(_X["2018_components"](root)),
            topics=_texts(_X["2018_topics"](root)),
        )
    heading = _X["title"](root)
    if heading:
        articles = _X["article"](root)

        def in_article(name: str) -> list[Any]:
            return [hit for article in articles for hit in _X[name](article)]

        body: list[Any] = []
        for finder in _X["bodies"]:
            body = [hit for article in articles for hit in finder(article)]
            if body:
                break
        return ReleasePage(
            layout="current",
            title=_text(_string(heading)) or "",
            body_html=_inner_html(body),
            published=_first(in_article("node_date")) or _first(in_article("date")),
            updated=_first(in_article("updated")),
            number=_text(_first(in_article("number"))),
            components=_texts(in_article("components")),
            topics=_texts(in_article("topics")),
        )
    return None


def with_page(url: str, page: int) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "page"]
    query.append(("page", str(page)))
    return urlunsplit(parts._replace(query=urlencode(query)))


class DojNewsSpider(LawwatchSpider):
    name = "doj_news"
    form = "press_release"

    def first_requests(self) -> Iterable[scrapy.Request]:
        for path in self.options.get("listings", DEFAULT_LISTINGS):
            yield self.listing_request(self.url(path), 0)

    def listing_request(self, url: str, page: int) -> scrapy.Request:
        # Only the first page is fetched conditionally (a 304 there means the listing has nothing new), and never
        # in a backfill, which walks back whatever the first page says.
        conditional = page == 0 and self.since is None
        return scrapy.Request(
            with_page(url, page),
            callback=self.parse_listing,
            meta={"page": page, "conditional": conditional},
            dont_filter=page == 0,
        )

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        if not isinstance(response, TextResponse):
            raise NotSupported("Response content isn't text")  # what response.css() raises for it
        root = response.selector.root
        rows = _L["rows"](root) or _L["rows_2018"](root)
        self.sanity_check(len(rows), f"listing {response.url}")
        entries: list[Listed] = []
        dates: list[datetime] = []
        for row in rows:
            href = _first(_L["href"](row)) or _first(_L["href_2018"](row))
            if not href:
                continue
            url = response.urljoin(href)
            day = _first(_L["date"](row)) or _first(_L["date_2018"](row))
            when = read_date(day)[0] if day else None  # an absurd listing date neither orders nor stops the walk
            if when is not None:
                dates.append(when)
            known = self.is_known(url=url, signature=day)
            entries.append(Listed(url, None, known, when))
            if known or (self.since is not None and when is not None and when < self.since):
                continue
            title = _text(_first_string(_L["title"](row)) or _first_string(_L["title_2018"](row)))
            listing = {"title": title, "date": day}
            yield scrapy.Request(url, callback=self.parse_release, meta={"listing": listing})
        self.sanity_check(len(entries), f"listing {response.url} (entries without links)")
        page = int(response.meta.get("page", 0))
        max_pages = None if self.since is not None else int(self.options.get("max_pages", DEFAULT_MAX_PAGES))
        next_href = _first(_L["next"](root))
        walk = urlsplit(response.url).path  # the walk's id: the listing's path, whatever page this is
        oldest = min(dates) if dates else None
        go_on = self.next_page(
            walk, entries, oldest=oldest, more=bool(next_href), max_pages=max_pages, position=page + 1
        )
        if go_on and next_href:
            yield self.listing_request(response.urljoin(next_href), page + 1)

    def parse_release(self, response: Response) -> Iterator[DocumentItem]:
        release = parse_release_page(response)
        if release is None or not release.body_html:
            self.sanity_check(0, f"release page {response.url} (neither the current nor the 2018 layout)")
            return
        listing = response.meta.get("listing") or {}
        yield self.make_item(
            url=response.url,
            title=release.title or listing.get("title") or "",
            published=release.published or listing.get("date"),
            html=release.body_html,
            metadata=release.metadata(),
            listing_signature=listing.get("date"),
        )
