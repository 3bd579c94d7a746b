"""Focused tests of the courtlistener, pacer_rss and news_rss spiders: filters, paging, secrets, fallbacks, charsets."""

from __future__ import annotations

import json
import logging
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse
from twisted.python.failure import Failure

from lawwatch.config import SourceConfig
from lawwatch.config_schema import Secret
from lawwatch.crawler import content
from lawwatch.crawler.base import KnownIndex, Listed
from lawwatch.crawler.context import WalkBoundary
from lawwatch.crawler.items import DocumentItem
from lawwatch.crawler.spiders import courtlistener, news_rss, pacer_rss
from lawwatch.errors import CrawlError

EXAMPLES = Path(__file__).resolve().parent / "examples"
TOKEN = "cl-test-token-9f8e7d6c5b4a"
CL = "https://www.courtlistener.com"
QUERY = courtlistener.DEFAULT_QUERIES[0]
CHN = "https://www.courthousenews.com"
PHILA_GUID = "https://ecf.paed.uscourts.gov/cgi-bin/DktRpt.pl?533128&612"


def make(
    spider_cls: type, base_url: str, known: KnownIndex | None = None, since: datetime | None = None, **options: Any
) -> Any:
    frozen = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
    source = SourceConfig(
        id=spider_cls.name, spider=spider_cls.name, base_url=base_url, options=MappingProxyType(frozen)
    )
    return spider_cls(source=source, known=known, since=since)


def response(
    cls: type[Response],
    url: str,
    body: bytes | str,
    meta: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return cls(url=url, body=data, headers=headers or {}, status=status, request=Request(url, meta=meta or {}))


def example(*parts: str) -> bytes:
    return EXAMPLES.joinpath(*parts).read_bytes()


def split(results: Any) -> tuple[list[DocumentItem], list[Request]]:
    out = list(results or ())
    return [r for r in out if isinstance(r, DocumentItem)], [r for r in out if isinstance(r, Request)]


# --- pacer_rss -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("short", "form"),
    [
        ("Complaint", "complaint"),
        ("AMENDED COMPLAINT against All Defendants", "complaint"),
        ("Answer to Complaint", "docket_entry"),
        ("Memorandum and/or Opinion", "opinion"),
        ("Memorandum", "opinion"),
        ("MEMORANDUM in Support re Motion to Dismiss", "docket_entry"),
        ("Memorandum of Law in Opposition", "docket_entry"),
        ("Case termination for opinion", "opinion"),
        ("Order on Motion for Summary Judgment", "order"),
        ("Case termination for order and judgment", "order"),
        ("Motion for Order to Show Cause", "docket_entry"),
        ("Proposed Order", "docket_entry"),
        ("Telephone Conference", "docket_entry"),
    ],
)
def test_pacer_entry_form(short: str, form: str) -> None:
    assert pacer_rss.entry_form(short) == form


def _entry(docket_number: str, case_name: str) -> pacer_rss.PacerEntry:
    return pacer_rss.PacerEntry(
        court_id="paed",
        case_name=case_name,
        docket_number=docket_number,
        pacer_case_id="1",
        date_filed=datetime(2018, 6, 6, tzinfo=UTC),
        document_number="1",
        pacer_doc_id="",
        pacer_seq_no=None,
        short_description="Order",
    )


def test_pacer_docket_number_filter_ignores_office_judge_and_zeros() -> None:
    entry = _entry("2:17-cv-03894", "City of Philadelphia v. Sessions")
    assert pacer_rss.matches(entry, ["2:17-cv-03894"], [])
    assert pacer_rss.matches(entry, ["17-cv-3894"], [])
    assert pacer_rss.matches(entry, ["2:17-CV-03894-MMB"], [])
    assert not pacer_rss.matches(entry, ["1:17-cv-03894"], [])  # another office
    assert not pacer_rss.matches(entry, ["2:17-cv-03895"], [])
    assert not pacer_rss.matches(entry, ["2:17-cr-03894"], [])
    assert pacer_rss.matches(_entry("17-2991", "City of Chicago v. Sessions"), ["17-2991"], [])


def test_pacer_docket_number_filter_can_name_the_court() -> None:
    entry = _entry("2:17-cv-03894", "City of Philadelphia v. Sessions")  # court paed
    assert pacer_rss.matches(entry, ["paed:2:17-cv-03894"], [])
    assert pacer_rss.matches(entry, ["PAED:17-cv-3894"], [])
    assert not pacer_rss.matches(entry, ["edla:2:17-cv-03894"], [])  # the same number in another court
    assert not pacer_rss.matches(entry, ["ca7:17-2991", "ilnd:1:17-cv-05720"], [])


def test_pacer_case_name_filter_needs_every_word() -> None:
    entry = _entry("2:18-cv-00001", "City of Philadelphia v. Sessions")
    assert pacer_rss.matches(entry, [], ["philadelphia sessions"])
    assert not pacer_rss.matches(entry, [], ["Philadelphia Trump"])
    assert not pacer_rss.matches(entry, [], ["Phila"])  # whole words only
    assert pacer_rss.matches(entry, [], [])  # no filters: everything passes
    assert not pacer_rss.matches(entry, ["1:17-cv-05720"], ["Santa Clara"])


def test_pacer_spider_urls_domains_and_paths() -> None:
    spider = make(pacer_rss.PacerRssSpider, "https://ecf.{court}.uscourts.gov", courts=["paed", "ca7", "nyed"])
    urls = [r.url for r in spider.first_requests()]
    assert urls == [
        "https://ecf.paed.uscourts.gov/cgi-bin/rss_outside.pl",
        "https://ecf.ca7.uscourts.gov/n/beam/servlet/TransportRoom?servlet=RSSGenerator",
        "https://ecf.nyed.uscourts.gov/cgi-bin/readyDockets.pl",
    ]
    assert spider.allowed_domains == ["ecf.ca7.uscourts.gov", "ecf.nyed.uscourts.gov", "ecf.paed.uscourts.gov"]
    assert all(r.meta["conditional"] for r in spider.first_requests())
    mirror = make(
        pacer_rss.PacerRssSpider,
        "http://127.0.0.1:8765/ecf.{court}.uscourts.gov",
        courts=["ca7"],
        feed_path="/cgi-bin/rss_outside.pl",
    )
    assert [r.url for r in mirror.first_requests()] == [
        "http://127.0.0.1:8765/ecf.ca7.uscourts.gov/cgi-bin/rss_outside.pl"
    ]
    with pytest.raises(CrawlError, match="court"):
        make(pacer_rss.PacerRssSpider, "https://ecf.paed.uscourts.gov", courts=["paed"])


def _pacer_parse(spider: Any, body: bytes, headers: dict[str, str] | None = None) -> list[DocumentItem]:
    url = "https://ecf.paed.uscourts.gov/cgi-bin/rss_outside.pl"
    items, requests = split(spider.parse(response(XmlResponse, url, body, {"court": "paed"}, headers)))
    assert not requests
    return items


def test_pacer_filters_forms_and_metadata() -> None:
    spider = make(
        pacer_rss.PacerRssSpider,
        "https://ecf.{court}.uscourts.gov",
        courts=["paed"],
        docket_numbers=["2:17-cv-03894"],
        case_names=["Santa Clara Trump"],
    )
    items = _pacer_parse(spider, example("pacer_rss", "parse__paed_philadelphia.xml"))
    assert [(i.form, i.metadata["document_number"]) for i in items] == [("opinion", "205"), ("order", "206")]
    first = items[0]
    assert first.url == PHILA_GUID
    assert first.external_id == "paed:533128:seq612"
    assert first.published == datetime(2018, 6, 6, 20, 41, 37, tzinfo=UTC)
    assert first.metadata["pacer_doc_id"] == "153018734301"  # 4th digit zeroed, as juriscraper does
    assert first.metadata["case_name"] == "City of Philadelphia v. Sessions"
    assert first.text and "Memorandum and/or Opinion" in first.text


def test_pacer_skips_known_entries_unless_changed() -> None:
    known = KnownIndex(source="pacer_rss")

    def crawl() -> Any:  # one spider per crawl: it lists each entry once
        options: dict[str, Any] = {"courts": ["paed"], "docket_numbers": ["2:17-cv-03894"]}
        return make(pacer_rss.PacerRssSpider, "https://ecf.{court}.uscourts.gov", known=known, **options)

    items = _pacer_parse(crawl(), example("pacer_rss", "parse__paed_philadelphia.xml"))
    for item in items:
        known.add(url=item.url, external_id=item.external_id, signature=item.listing_signature)
    assert _pacer_parse(crawl(), example("pacer_rss", "parse__paed_philadelphia.xml")) == []
    edited = example("pacer_rss", "parse__paed_philadelphia.xml").replace(
        b"[Memorandum and/or Opinion]", b"[Memorandum and/or Opinion (corrected)]"
    )
    again = _pacer_parse(crawl(), edited)
    assert [i.external_id for i in again] == [items[0].external_id]


@pytest.mark.parametrize("header", [None, "application/rss+xml; charset=utf-8", "text/xml; charset=ISO-8859-1"])
def test_pacer_latin1_is_decoded_whatever_the_header_says(header: str | None) -> None:
    spider = make(pacer_rss.PacerRssSpider, "https://ecf.{court}.uscourts.gov", courts=["paed"])
    body = example("pacer_rss", "parse__paed_philadelphia.xml")
    assert "Muñoz".encode("iso-8859-1") in body
    items = _pacer_parse(spider, body, {"Content-Type": header} if header else None)
    assert "Muñoz v. Delaware Valley Transit Co." in [i.metadata["case_name"] for i in items]


def test_pacer_utf8_body_under_a_latin1_declaration_is_read_as_utf8() -> None:
    body = example("pacer_rss", "parse__paed_philadelphia.xml").decode("iso-8859-1").encode("utf-8")
    assert pacer_rss.decode_feed(body, "ISO-8859-1").count("Muñoz") == 2
    assert pacer_rss.decode_feed("Muñoz".encode("cp1252"), "utf-8") == "Muñoz"


BOMB = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    + ']><rss version="2.0"><channel><title>x</title><item><title>2:17-cv-03894 A v. B &i;</title>'
    "<link>https://ecf.paed.uscourts.gov/cgi-bin/DktRpt.pl?1</link><description>[Order] </description>"
    "<pubDate>Wed, 06 Jun 2018 20:41:37 GMT</pubDate></item></channel></rss>"
)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(lambda raw: raw[: len(raw) // 2], id="truncated"),
        pytest.param(lambda raw: BOMB.encode(), id="entity-bomb"),
        pytest.param(lambda raw: b"<html><body><h1>Service Unavailable</h1></body></html>", id="html-error-page"),
    ],
)
def test_pacer_broken_feeds_fail_visibly(body: Any) -> None:
    spider = make(pacer_rss.PacerRssSpider, "https://ecf.{court}.uscourts.gov", courts=["paed"])
    with pytest.raises(CrawlError):
        _pacer_parse(spider, body(example("pacer_rss", "parse__paed_philadelphia.xml")))


def test_pacer_empty_feed_is_not_an_error_but_unparsable_items_are() -> None:
    spider = make(pacer_rss.PacerRssSpider, "https://ecf.{court}.uscourts.gov", courts=["paed"])
    empty = (
        b'<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>E.D. Pa.</title>'
        b"</channel></rss>"
    )
    assert _pacer_parse(spider, empty) == []
    junk = empty.replace(
        b"</channel>",
        b"<item><title>no docket number</title><link>https://x/1</link>"
        b"<pubDate>Wed, 06 Jun 2018 20:41:37 GMT</pubDate></item></channel>",
    )
    with pytest.raises(CrawlError, match="sanity"):
        _pacer_parse(spider, junk)


# --- courtlistener ---------------------------------------------------------------------------------------------------


def _cl(
    token: str | None = None, known: KnownIndex | None = None, since: datetime | None = None, **options: Any
) -> Any:
    if token is not None:
        options["token"] = Secret(token, "COURTLISTENER_TOKEN")
    return make(courtlistener.CourtlistenerSpider, CL, known=known, since=since, **options)


def _search(spider: Any, name: str, page: int = 1) -> tuple[list[DocumentItem], list[Request]]:
    url = courtlistener.search_url(CL, courtlistener.DEFAULT_QUERIES[0])
    body = example("courtlistener", name)
    meta = {"query": courtlistener.DEFAULT_QUERIES[0], "page": page}
    return split(spider.parse_search(response(TextResponse, url, body, meta, {"Content-Type": "application/json"})))


def test_courtlistener_token_header_only_when_set() -> None:
    with_token = _cl(TOKEN).first_requests()
    assert with_token[0].headers.get("Authorization") == f"Token {TOKEN}".encode()
    _, requests = _search(_cl(TOKEN), "parse_search__sanctuary_page1.json")
    assert all(
        r.headers.get("Authorization") == f"Token {TOKEN}".encode()
        for r in requests
        if r.callback.__name__ == "parse_search"
    )
    without = _cl().first_requests() + _cl("").first_requests()
    assert all(b"Authorization" not in r.headers for r in without)
    _, requests = _search(_cl(), "parse_search__sanctuary_page1.json")
    assert all(b"Authorization" not in r.headers for r in requests)


def test_courtlistener_token_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    spider = _cl(TOKEN, max_pages=1)
    requests = spider.first_requests()
    logging.getLogger("test").debug("requests %r, options %r, source %r", requests, spider.options, spider.source)
    _, follow = _search(spider, "parse_search__sanctuary_page1.json")
    failed = Failure(ConnectionError("refused"))
    failed.request = follow[0]  # type: ignore[attr-defined]
    items = list(spider.opinion_failed(failed))
    assert items and caplog.records
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(spider.source) and TOKEN not in json.dumps([i.as_json() for i in items])


def test_courtlistener_cursor_paging() -> None:
    spider = _cl()
    _, requests = _search(spider, "parse_search__sanctuary_page1.json")
    nxt = [r for r in requests if r.callback == spider.parse_search]
    assert len(nxt) == 1 and "cursor=cz0xMDIuMDUmcz0yMDE4LTA0LTE5" in nxt[0].url and nxt[0].meta["page"] == 2
    _, last = _search(spider, "parse_search__sanctuary_page2.json", page=2)
    assert not [r for r in last if r.callback == spider.parse_search]  # next is null
    _, capped = _search(_cl(max_pages=2), "parse_search__sanctuary_page1.json", page=2)
    assert not [r for r in capped if r.callback.__name__ == "parse_search"]  # max_pages reached


def test_courtlistener_stops_at_an_all_known_page_unless_backfilling() -> None:
    known = KnownIndex(source="courtlistener")
    listed = []
    for cluster in courtlistener.search_results(
        json.loads(example("courtlistener", "parse_search__sanctuary_page1.json"))
    ):
        external_id = f"cluster:{cluster['cluster_id']}"
        known.add(url=CL + cluster["path"], external_id=external_id, signature=cluster["signature"])
        listed.append(Listed(CL + cluster["path"], external_id, True))
    # no finished walk yet (an earlier one was cut short): the walk goes past the all-known page, "resumed"
    spider = _cl(known=known)
    items, requests = _search(spider, "parse_search__sanctuary_page1.json")
    assert items == [] and [r.meta["page"] for r in requests] == [2]
    assert spider.context.resumed == spider.context.walks_started == {f"search:{QUERY}"}
    # the last finished walk began on this page: it stops here
    known.walks[f"search:{QUERY}"] = WalkBoundary.of(listed[:3], None)
    spider = _cl(known=known)
    items, requests = _search(spider, "parse_search__sanctuary_page1.json")
    assert items == [] and requests == []
    assert f"search:{QUERY}" in spider.context.walks  # finished: the runner may move the boundary up
    _, back = _search(_cl(known=known, since=datetime(2017, 1, 1, tzinfo=UTC)), "parse_search__sanctuary_page1.json")
    assert [r.meta["page"] for r in back] == [2]


def test_courtlistener_resumes_past_all_known_pages_to_the_last_finished_walk() -> None:
    pages = [
        list(
            courtlistener.search_results(json.loads(example("courtlistener", f"parse_search__sanctuary_page{n}.json")))
        )
        for n in (1, 2)
    ]
    known = KnownIndex(source="courtlistener")
    for cluster in pages[0]:  # page 1 was stored by a crawl that was killed before page 2
        known.add(
            url=CL + cluster["path"], external_id=f"cluster:{cluster['cluster_id']}", signature=cluster["signature"]
        )
    old = pages[1][-1]  # the last finished walk began with the oldest cluster of page 2
    known.walks[f"search:{QUERY}"] = WalkBoundary.of([Listed(CL + old["path"], None, False)], None)
    spider = _cl(known=known)
    _, requests = _search(spider, "parse_search__sanctuary_page1.json")
    assert [r.meta["page"] for r in requests if r.callback == spider.parse_search] == [2]
    assert spider.context.resumed == {f"search:{QUERY}"}
    items, requests = _search(spider, "parse_search__sanctuary_page2.json", page=2)
    assert {r.url for r in requests} == {CL + c["path"] for c in pages[1]}  # page 2's clusters are fetched
    first_page = WalkBoundary.of([Listed(CL + c["path"], f"cluster:{c['cluster_id']}", True) for c in pages[0]], None)
    # the end of the listing: the walk finished, and its boundary (for the runner to store) is page 1
    assert list(spider.context.walks) == [f"search:{QUERY}"]
    assert spider.context.walks[f"search:{QUERY}"].keys == first_page.keys


def test_courtlistener_api_and_feed_give_the_same_document_identity() -> None:
    api = {
        c["cluster_id"]: c
        for c in courtlistener.search_results(
            json.loads(example("courtlistener", "parse_search__sanctuary_page1.json"))
        )
    }
    feed = content.read_feed(example("courtlistener", "parse_feed__court_ca7.xml"))
    atom = {c["cluster_id"]: c for c in courtlistener.feed_clusters(feed, "ca7")}
    a, f = api["4489322"], atom["4489322"]
    assert CL + a["path"] == f["path"]
    assert a["signature"] == f["signature"] == "2018-04-19|City of Chicago v. Sessions"
    assert a["date_filed"] == f["date_filed"] == "2018-04-19"


def test_courtlistener_without_pages_yields_items_from_the_listing() -> None:
    items, requests = _search(_cl(fetch_pages=False), "parse_search__sanctuary_page2.json", page=2)
    assert requests == []
    assert [i.form for i in items] == ["opinion", "opinion", "order"]
    santa_clara = items[2]
    assert santa_clara.metadata["docket_number"] == "3:17-cv-00574" and santa_clara.metadata["court"] == "cand"
    assert santa_clara.html and "<mark>1373</mark>" in santa_clara.html
    assert santa_clara.published == datetime(2017, 4, 25, tzinfo=UTC)


@pytest.mark.parametrize("payload", [{"count": 3, "next": None, "results": []}, {"detail": "Throttled"}, "[]"])
def test_courtlistener_bad_api_pages_fail_visibly(payload: Any) -> None:
    spider = _cl()
    body = payload if isinstance(payload, str) else json.dumps(payload)
    resp = response(
        TextResponse, CL + "/api/rest/v4/search/?q=x", body, {"page": 1}, {"Content-Type": "application/json"}
    )
    with pytest.raises(CrawlError):
        list(spider.parse_search(resp))


def test_courtlistener_binary_api_page_is_a_crawl_error() -> None:
    """A body Scrapy does not read as text (no ``.json()``) was an AttributeError traceback (found by mypy)."""
    url = CL + "/api/rest/v4/search/?q=x"
    resp = response(Response, url, b"\x89PNG\r\n", {"page": 1}, {"Content-Type": "image/png"})
    with pytest.raises(CrawlError, match=r"not JSON \(image/png\)"):
        list(_cl().parse_search(resp))


def test_courtlistener_empty_court_feed_is_a_sanity_error() -> None:
    spider = _cl(courts=["ca7"])
    empty = b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>'
    resp = response(XmlResponse, CL + "/feed/court/ca7/", empty, {"court": "ca7"})
    with pytest.raises(CrawlError, match="sanity"):
        list(spider.parse_feed(resp))


# --- news_rss --------------------------------------------------------------------------------------------------------

FEED_URL = CHN + "/feed/"


def _news_feed(spider: Any, body: bytes | None = None) -> tuple[list[DocumentItem], list[Request]]:
    raw = body if body is not None else example("news_rss", "parse__courthousenews_feed.xml")
    return split(spider.parse(response(XmlResponse, FEED_URL, raw, {"conditional": True})))


def _article(spider: Any, request: Request, page: str) -> list[DocumentItem]:
    resp = HtmlResponse(
        url=request.url,
        body=example("news_rss", page),
        request=request,
        headers={"Content-Type": "text/html; charset=UTF-8"},
    )
    items, _ = split(spider.parse_article(resp))
    return items


def test_news_page_text_from_trafilatura_and_fallback_to_content_encoded() -> None:
    spider = make(news_rss.NewsRssSpider, CHN)
    items, requests = _news_feed(spider)
    assert items == [] and len(requests) == 2
    (good,) = _article(spider, requests[0], "parse_article__philadelphia_ruling.html")
    assert good.text and "Tenth Amendment" in good.text and "Subscribe" not in good.text
    assert good.metadata["body_from"] == "page"
    (stub,) = _article(spider, requests[1], "parse_article__drought_stub.html")
    assert stub.text is None and stub.html and "party-line vote Wednesday" in stub.html
    assert stub.metadata["body_from"] == "feed"


def test_news_failed_page_falls_back_to_the_feed() -> None:
    spider = make(news_rss.NewsRssSpider, CHN)
    _, requests = _news_feed(spider)
    failure = Failure(TimeoutError("page timed out"))
    failure.request = requests[0]  # type: ignore[attr-defined]
    (item,) = list(spider.article_failed(failure))
    assert item.html and "8 U.S.C. § 1373" in item.html
    assert item.published == datetime(2018, 6, 6, 22, 31, 5, tzinfo=UTC)
    assert item.external_id == "https://www.courthousenews.com/?p=822917"


def test_news_known_items_are_not_fetched_again_but_edited_ones_are() -> None:
    known = KnownIndex(source="news_rss")
    spider = make(news_rss.NewsRssSpider, CHN, known=known)
    raw = example("news_rss", "parse__courthousenews_feed.xml")
    result = content.read_feed(raw)
    for entry in news_rss.feed_entries(result, FEED_URL):
        known.add(url=entry["link"], external_id=entry["guid"], signature=entry["signature"])
    assert _news_feed(spider) == ([], [])
    edited = raw.replace(
        b"advanced out of committee on a party-line vote Wednesday",
        b"advanced out of committee on a 5-2 vote Wednesday",
    )
    next_crawl = make(news_rss.NewsRssSpider, CHN, known=known)  # one spider per crawl: it lists each item once
    _, requests = _news_feed(next_crawl, edited)
    assert [r.url for r in requests] == [CHN + "/drought-relief-bill-clears-state-senate-committee/"]


def test_news_offsite_links_and_no_page_fetching_use_the_feed() -> None:
    spider = make(news_rss.NewsRssSpider, CHN, fetch_pages=False)
    items, requests = _news_feed(spider)
    assert requests == [] and [i.metadata["body_from"] for i in items] == ["feed", "feed"]
    offsite = example("news_rss", "parse__courthousenews_feed.xml").replace(
        b"<link>https://www.courthousenews.com/judge", b"<link>https://elsewhere.example.org/judge"
    )
    items, requests = _news_feed(make(news_rss.NewsRssSpider, CHN), offsite)
    assert [i.url for i in items] == [
        "https://elsewhere.example.org/judge-rules-philadelphia-keeps-justice-grant-despite-sanctuary-policies/"
    ]
    assert len(requests) == 1
    local = make(news_rss.NewsRssSpider, "http://127.0.0.1:8765/www.courthousenews.com")
    _, requests = _news_feed(
        local,
        example("news_rss", "parse__courthousenews_feed.xml").replace(
            b"https://www.courthousenews.com/", b"http://127.0.0.1:8765/www.courthousenews.com/"
        ),
    )
    assert len(requests) == 2  # a mirror URL with a port is on the allowed host


def test_news_feed_charset_from_the_bytes() -> None:
    raw = example("news_rss", "parse__courthousenews_feed.xml").decode("utf-8")
    latin = raw.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace("Courthouse News Staff", "Pe\u00f1a Staff")
    spider = make(news_rss.NewsRssSpider, CHN, fetch_pages=False)
    items, _ = _news_feed(spider, latin.encode("iso-8859-1"))
    assert items[0].metadata["author"] == "Peña Staff"
    assert items[0].title == "Judge Rules Philadelphia Keeps Justice Grant Despite \u2018Sanctuary\u2019 Policies"


def test_news_broken_or_empty_feeds_fail_visibly() -> None:
    spider = make(news_rss.NewsRssSpider, CHN)
    raw = example("news_rss", "parse__courthousenews_feed.xml")
    with pytest.raises(CrawlError, match="malformed"):
        _news_feed(spider, raw[: len(raw) // 2])
    empty = b'<?xml version="1.0"?><rss version="2.0"><channel><title>CNS</title></channel></rss>'
    with pytest.raises(CrawlError, match="sanity"):
        _news_feed(spider, empty)


def test_news_feeds_option_and_extra_domains() -> None:
    spider = make(news_rss.NewsRssSpider, CHN, feeds=["/feed/", "https://feeds.example.org/law.xml"])
    assert [r.url for r in spider.first_requests()] == [FEED_URL, "https://feeds.example.org/law.xml"]
    assert "feeds.example.org" in spider.allowed_domains
    assert [r.url for r in make(news_rss.NewsRssSpider, CHN).first_requests()] == [FEED_URL]


# --- against the offline mirror --------------------------------------------------------------------------------------


def _fetch(request: Request) -> Response:
    with urllib.request.urlopen(request.url, timeout=20) as r:  # test-side fetching only; spiders never block
        body, headers = r.read(), dict(r.headers)
    content_type = headers.get("Content-Type", "")
    cls = HtmlResponse if "html" in content_type else XmlResponse if "xml" in content_type else TextResponse
    return cls(url=request.url, body=body, headers=headers, request=request)


def _walk(spider: Any, limit: int = 40) -> list[DocumentItem]:
    queue, items = list(spider.first_requests()), []
    while queue and limit:
        limit -= 1
        request = queue.pop(0)
        for out in request.callback(_fetch(request)) or ():
            (items if isinstance(out, DocumentItem) else queue).append(out)
    return items


def test_spiders_parse_what_the_mirror_serves() -> None:
    from lawwatch.crawler.mirror.server import MirrorServer

    with MirrorServer() as mirror:
        pacer = _walk(
            make(
                pacer_rss.PacerRssSpider,
                mirror.base_url + "/ecf.{court}.uscourts.gov",
                courts=["paed", "ilnd", "cand", "ca2"],
                docket_numbers=["paed:2:17-cv-03894", "ilnd:1:17-cv-05720", "cand:3:17-cv-00574"],
            )
        )
        cl = _walk(make(courtlistener.CourtlistenerSpider, mirror.site_url("www.courtlistener.com"), courts=["ca7"]))
        news = _walk(make(news_rss.NewsRssSpider, mirror.site_url("www.courthousenews.com")))
    assert {i.metadata["court"] for i in pacer} == {"paed", "ilnd", "cand"}
    assert {i.form for i in pacer} >= {"opinion", "order"}
    assert len({i.external_id for i in pacer}) == len({i.url for i in pacer}) == len(pacer)
    assert any(i.metadata["case_name"] == "City of Chicago v. Sessions" and i.metadata["court"] == "ca7" for i in cl)
    assert all(i.url.startswith(mirror.base_url) and i.published is not None for i in cl + news)
    assert news and all(i.metadata["body_from"] == "page" for i in news)  # trafilatura found each article's text
