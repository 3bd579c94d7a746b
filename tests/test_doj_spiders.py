"""justice.gov release pages that are not text (a PDF where a release was linked): no release, never a traceback."""

from __future__ import annotations

from scrapy import Request
from scrapy.http import Response

from lawwatch.crawler.spiders.doj_news import parse_release_page
from tests.helpers.spiders import make_spider

PDF = b"%PDF-1.7\n\x00\x01\x02 binary"
URL = "https://www.justice.gov/opa/press-release/file/1001321/download"


def _pdf(meta: dict[str, object] | None = None) -> Response:
    return Response(URL, body=PDF, headers={"Content-Type": "application/pdf"}, request=Request(URL, meta=meta or {}))


def test_a_binary_page_has_no_release() -> None:
    """It was an AttributeError ('Response' object has no attribute 'selector'), found by mypy."""
    assert parse_release_page(_pdf()) is None


def test_doj_rss_keeps_the_feed_description_of_a_binary_page() -> None:
    entry = {
        "guid": "1001321",
        "title": "Justice Department sends letters to sanctuary jurisdictions",
        "published": "2017-10-12T11:30:00-04:00",
        "updated": None,
        "summary": "<p>Letters under 8 U.S.C. 1373.</p>",
        "creator": "Office of Public Affairs",
    }
    spider = make_spider("doj_rss", url="https://www.justice.gov/feeds/opa/justice-news.xml")
    (item,) = spider.parse_release(_pdf({"entry": entry}))  # type: ignore[attr-defined]
    assert (item.url, item.external_id, item.title) == (URL, "1001321", entry["title"])
    assert item.html == entry["summary"]
