"""justice.gov press releases through ``/api/v1/press_releases.json?pagesize=N&page=P``.

``page`` starts at 0, ``pagesize`` is capped at 50, the total is ``metadata.resultset.count``. Public reports
disagree on the sort order, so the spider detects it from the dates of the first page (or, when that page cannot
tell, by comparing with the last page) and walks from the newest page towards older ones, stopping at the first
page whose releases are all known with the same ``changed`` stamp once past where the last finished walk began
(``LawwatchSpider.next_page``). Dates are epoch strings, sometimes wrapped as
``<time datetime="...">EPOCH</time>``; the body is HTML, so no release page is downloaded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import scrapy
from scrapy.http import Response

from lawwatch.crawler.base import LawwatchSpider, Listed
from lawwatch.crawler.identity import first_listing
from lawwatch.crawler.items import DocumentItem
from lawwatch.crawler.middlewares import record_for
from lawwatch.crawler.specs.doj_api import OPTIONS
from lawwatch.errors import CrawlError
from lawwatch.pipeline.normalize import read_date, to_utc

API_PATH = "/api/v1/press_releases.json"
MAX_PAGESIZE = 50
DEFAULT_MAX_PAGES = OPTIONS.default("max_pages")


def _date(result: dict[str, Any]) -> datetime | None:
    """The result's first readable, plausible date (``date``, else ``created``, else ``changed``), or None; an
    absurd date (year 9999, 0001, before 1789) never orders or stops a walk. The item carries the raw value: the
    archive stores it without a date and the run record gets a warning."""
    for key in ("date", "created", "changed"):
        value, _problem = read_date(result.get(key))
        if value is not None:
            return value
    return None


def _count(value: Any, default: int) -> int:
    """A non-negative integer from the envelope's ``count``/``pagesize`` (``"120"`` too), else ``default``."""
    try:
        number = int(str(value).strip()) if value not in (None, "") and not isinstance(value, bool) else default
    except ValueError:
        return default
    return number if number >= 0 else default


def envelope(response: Response, source_id: str) -> tuple[list[dict[str, Any]], int, int, list[int]]:
    """``(results, count, pagesize, odd)`` of an API page (``odd``: the positions, from 1, of results that are not
    objects); CrawlError, naming the page, when the body is not the API's JSON envelope (not JSON, not an object,
    ``results`` not a list)."""
    try:
        data = json.loads(response.body)  # JSON is UTF-8 whatever charset the server declares
    except ValueError as exc:
        raise CrawlError(source_id, f"API page {response.url}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise CrawlError(source_id, f"API page {response.url}: a JSON {type(data).__name__}, not the API's object")
    raw_results = data.get("results") or []
    if not isinstance(raw_results, list):
        raise CrawlError(source_id, f"API page {response.url}: results is a {type(raw_results).__name__}, not a list")
    metadata = data.get("metadata")
    resultset = metadata.get("resultset") if isinstance(metadata, dict) else None
    resultset = resultset if isinstance(resultset, dict) else {}
    results = [r for r in raw_results if isinstance(r, dict)]
    odd = [n for n, r in enumerate(raw_results, 1) if not isinstance(r, dict)]
    return results, _count(resultset.get("count"), 0), _count(resultset.get("pagesize"), 0), odd


def detect_order(dates: list[datetime]) -> str | None:
    """``"newest"`` or ``"oldest"`` (first) from a page's dates in the served order; None when they cannot tell."""
    if len(dates) < 2 or dates[0] == dates[-1]:
        return None
    return "newest" if dates[0] > dates[-1] else "oldest"


def _names(values: Any) -> list[str]:
    names = []
    for value in values if isinstance(values, list) else [values] if values else []:
        name = value.get("name") if isinstance(value, dict) else value
        if name:
            names.append(str(name))
    return names


class DojApiSpider(LawwatchSpider):
    name = "doj_api"
    form = "press_release"

    @property
    def pagesize(self) -> int:
        return max(1, min(int(self.options.get("pagesize", MAX_PAGESIZE)), MAX_PAGESIZE))

    def page_request(self, page: int, **meta: Any) -> scrapy.Request:
        url = self.url(f"{API_PATH}?pagesize={self.pagesize}&page={page}")
        return scrapy.Request(url, callback=self.parse_page, meta={"page": page, **meta}, dont_filter=True)

    def first_requests(self) -> Iterable[scrapy.Request]:
        yield self.page_request(0)

    def parse_page(self, response: Response) -> Iterator[DocumentItem | scrapy.Request]:
        results, count, pagesize, odd = envelope(response, self.source.id)
        if odd:
            record_for(self, f"API page {response.url}: results {odd} are not objects; skipped")
        pagesize = pagesize or self.pagesize
        self.sanity_check(len(results), f"API page {response.url} (count {count})")
        pages = max(1, math.ceil(count / pagesize))
        page = int(response.meta.get("page", 0))
        order = response.meta.get("order")
        dates = [d for d in map(_date, results) if d is not None]
        if order is None and "probe" in response.meta:  # the last page, fetched to compare with the first
            first = to_utc(response.meta["probe"])
            order = "oldest" if dates and first is not None and max(dates) > first else "newest"
            if order == "newest":  # the first page was the newest after all: walk from it
                yield self.page_request(0, order=order)
                return
        if order is None:
            order = detect_order(dates)
            if order is None and pages > 1:
                probe = dates[0].isoformat() if dates else None
                yield self.page_request(pages - 1, probe=probe)
                return
            order = order or "newest"
            if order == "oldest" and page == 0 and pages > 1:
                yield self.page_request(pages - 1, order=order)
                return
        yield from self.walk(results, page, pages, order, dates)

    def walk(
        self, results: list[dict[str, Any]], page: int, pages: int, order: str, dates: list[datetime]
    ) -> Iterator[DocumentItem | scrapy.Request]:
        entries: list[Listed] = []
        for result in results:
            url, uuid = result.get("url"), result.get("uuid")
            if not isinstance(url, str) or not url.strip():
                record_for(self, f"API result {uuid or result.get('title')!r}: no URL ({url!r}); skipped")
                continue
            changed = str(result.get("changed") or "") or None
            known = self.is_known(url=str(url), external_id=uuid, signature=changed)
            when = _date(result)
            entries.append(Listed(str(url), uuid, known, when))
            if not first_listing(self, url, str(uuid) if uuid else None):  # known ones claim their identity too
                continue
            if known or (self.since is not None and when is not None and when < self.since):
                continue
            yield self.item(result, changed)
        next_page = page + (1 if order == "newest" else -1)
        walked = abs(page - (0 if order == "newest" else pages - 1)) + 1
        max_pages = None if self.since is not None else int(self.options.get("max_pages", DEFAULT_MAX_PAGES))
        oldest = min(dates) if dates else None
        more = 0 <= next_page < pages
        if self.next_page(API_PATH, entries, oldest=oldest, more=more, max_pages=max_pages, position=walked):
            yield self.page_request(next_page, order=order)

    def item(self, result: dict[str, Any], changed: str | None) -> DocumentItem:
        return self.make_item(
            url=str(result["url"]),
            external_id=str(result["uuid"]) if result.get("uuid") else None,
            title=str(result.get("title") or ""),
            published=result.get("date") or result.get("created"),
            html=str(result.get("body") or ""),
            metadata={
                "release_number": result.get("number") or None,
                "components": _names(result.get("component")),
                "topics": _names(result.get("topic")),
                "teaser": result.get("teaser") or None,
                "changed": changed,
            },
            listing_signature=changed,
        )
