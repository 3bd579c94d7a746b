"""Crawler guards of issue 8, unit level: addresses checked before connecting (every spelling of loopback, a name that
resolves to one), credentials only over https to the configured host, failure records that say why (redirect loop,
compression bomb, oversize body, a callback's unexpected exception), feeds read through the one checked path, absurd
dates and odd JSON that cost only their own item, and one document per identity in a crawl."""

from __future__ import annotations

import asyncio
import json
from types import MappingProxyType
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest, ResponseDataLossError
from scrapy.http import Response, TextResponse
from scrapy.utils.test import get_crawler

from lawwatch.config import Config, CrawlerConfig, SourceConfig
from lawwatch.config_schema import Secret
from lawwatch.crawler.base import LawwatchSpider
from lawwatch.crawler.content import declares_entities, read_feed
from lawwatch.crawler.context import CrawlContext, KnownIndex
from lawwatch.crawler.failures import (
    DecompressionGuardMiddleware,
    RedirectGuardMiddleware,
    SpiderFailureMiddleware,
    describe_download_failure,
)
from lawwatch.crawler.identity import IdentityLedger
from lawwatch.crawler.items import DocumentItem
from lawwatch.crawler.middlewares import AddressCheckMiddleware, UrlPolicy
from lawwatch.crawler.settings import scrapy_settings
from lawwatch.crawler.spiders import courtlistener, doj_api
from lawwatch.errors import CrawlError
from tests.helpers.hostile_server import gzip_bomb

REAL = SourceConfig(id="courtlistener", spider="courtlistener", base_url="https://www.courtlistener.com")
MIRROR = SourceConfig(
    id="doj_api", spider="doj_api", base_url="http://127.0.0.1:8123/www.justice.gov", local=True, download_delay=0.0
)


class _Spider(LawwatchSpider):
    name = "guard_probe"


def _crawler(source: SourceConfig) -> Any:
    crawler = get_crawler(_Spider, scrapy_settings(Config(crawler=CrawlerConfig()), source))
    crawler.spider = _Spider.from_crawler(crawler, context=CrawlContext(source=source))
    crawler.stats.open_spider()
    return crawler


def _messages(crawler: Any) -> list[str]:
    return list(crawler.stats.get_value("lawwatch/error_messages") or [])


# --- addresses and credentials -----------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f000001", "0177.0.0.1", "[::ffff:127.0.0.1]", "0"])
def test_every_spelling_of_a_loopback_address_is_refused_for_a_real_source(host: str) -> None:
    why = UrlPolicy("https://www.courtlistener.com", False, [host.strip("[]")]).refusal(f"http://{host}/x")
    assert why is not None and ("loopback" in why or "private" in why)


def _check(source: SourceConfig, request: Request, resolved: str = "93.184.216.34") -> tuple[Any, list[str]]:
    crawler = _crawler(source)
    asked: list[str] = []

    async def resolve(host: str) -> str:
        asked.append(host)
        return resolved

    middleware = AddressCheckMiddleware(crawler, resolve)
    try:
        asyncio.run(middleware.process_request(request))
    except IgnoreRequest:
        return crawler, asked + ["refused"]
    return crawler, asked


def test_a_name_that_resolves_to_loopback_is_refused_before_connecting() -> None:
    crawler, asked = _check(REAL, Request("https://www.courtlistener.com/api/"), resolved="127.0.0.1")
    assert asked == ["www.courtlistener.com", "refused"]
    assert _messages(crawler) == [
        "refused request to https://www.courtlistener.com/api/: www.courtlistener.com resolves to 127.0.0.1, "
        "a loopback address (only a local source)"
    ]
    _, asked = _check(REAL, Request("https://www.courtlistener.com/api/"), resolved="10.1.2.3")
    assert asked[-1] == "refused"
    _, asked = _check(REAL, Request("https://www.courtlistener.com/api/"))  # a public address passes
    assert asked == ["www.courtlistener.com"]
    _, asked = _check(MIRROR, Request("http://127.0.0.1:8123/www.justice.gov/x"))  # a local source: no lookup
    assert asked == []


@pytest.mark.parametrize(
    ("url", "sent"),
    [
        ("https://www.courtlistener.com/api/rest/v4/search/?cursor=2", True),
        ("http://www.courtlistener.com/api/rest/v4/search/?cursor=2", False),  # not over https
        ("https://evil.example/api/?cursor=2", False),  # another host
        ("https://www.courtlistener.com:8443/api/", False),  # another port
    ],
)
def test_credentials_go_only_over_https_to_the_configured_host(url: str, sent: bool) -> None:
    request = Request(url, headers={"Authorization": "Token secret"})
    crawler, _ = _check(REAL, request)
    assert (b"Authorization" in request.headers) is sent
    assert any("credentials not sent" in m for m in _messages(crawler)) is not sent


def test_courtlistener_sends_its_token_only_with_https_urls_of_its_host() -> None:
    options = MappingProxyType({"token": Secret("tok", "COURTLISTENER_TOKEN")})
    spider = courtlistener.CourtlistenerSpider(
        source=SourceConfig(id="courtlistener", spider="courtlistener", base_url=REAL.base_url, options=options)
    )
    assert spider.headers() == {"Authorization": "Token tok"}
    assert spider.headers("https://www.courtlistener.com/api/rest/v4/search/?cursor=x") == spider.headers()
    assert spider.headers("https://elsewhere.example/api/?cursor=x") == {}
    assert spider.headers("http://www.courtlistener.com/api/") == {}
    local = SourceConfig(
        id="courtlistener",
        spider="courtlistener",
        base_url="http://127.0.0.1:1/www.courtlistener.com",
        local=True,
        options=options,
    )
    assert courtlistener.CourtlistenerSpider(source=local).headers() == {}  # the mirror is http: no token


# --- failures that say why ---------------------------------------------------------------------------------------


def test_a_redirect_loop_and_an_overlong_chain_are_recorded() -> None:
    crawler = _crawler(MIRROR)
    guard = RedirectGuardMiddleware.from_crawler(crawler)
    a, b = "http://127.0.0.1:8123/www.justice.gov/a", "http://127.0.0.1:8123/www.justice.gov/b"
    first = guard.process_response(Request(a), Response(a, status=302, headers={"Location": b}))
    assert isinstance(first, Request) and first.url == b
    with pytest.raises(IgnoreRequest, match="redirect loop"):
        guard.process_response(first, Response(b, status=302, headers={"Location": a}))
    assert _messages(crawler) == [f"redirect loop: {a} → {b} → {a}"]
    request = Request(a)
    for n in range(crawler.settings.getint("REDIRECT_MAX_TIMES") + 1):
        url = f"{a}{n}"
        try:
            request = guard.process_response(request, Response(request.url, status=302, headers={"Location": url}))
        except IgnoreRequest:
            break
    assert _messages(crawler)[-1].startswith(f"too many redirects: {a} redirected more than 5 times")


def test_a_compression_bomb_is_recorded_with_its_sizes() -> None:
    crawler = _crawler(MIRROR)
    guard = DecompressionGuardMiddleware.from_crawler(crawler)
    url = "http://127.0.0.1:8123/www.justice.gov/feed.xml"
    body = gzip_bomb(17 * 1024 * 1024)
    with pytest.raises(IgnoreRequest):
        guard.process_response(Request(url), Response(url, body=body, headers={"Content-Encoding": "gzip"}))
    assert _messages(crawler) == [
        f"refused {url}: its {len(body):,} compressed bytes decompress to more than the 16,777,216-byte limit "
        "(a compression bomb?)"
    ]


def test_download_failures_name_the_size_or_the_cut() -> None:
    request = Request("https://www.justice.gov/big")
    declared = DownloadCancelledError(
        "Expected to receive 20971520 bytes which is larger than download max size (16777216) in request <GET x>."
    )
    assert describe_download_failure(declared, request, 16777216) == (
        "download failed: https://www.justice.gov/big: DownloadCancelledError: the response declares 20,971,520 "
        "bytes, over the 16,777,216-byte limit"
    )
    assert "grew past the 1,024-byte limit" in describe_download_failure(DownloadCancelledError(), request, 1024)
    assert "truncated response" in describe_download_failure(ResponseDataLossError(), request, 1024)
    assert describe_download_failure(TimeoutError("took too long"), request, 1) == (
        "download failed: https://www.justice.gov/big: TimeoutError: took too long"
    )


def test_an_unexpected_exception_in_a_callback_fails_the_source_in_plain_words() -> None:
    crawler = _crawler(MIRROR)
    middleware = SpiderFailureMiddleware.from_crawler(crawler)
    response = Response("http://127.0.0.1:8123/www.justice.gov/api")
    assert middleware.process_spider_exception(response, AttributeError("'list' object has no attribute 'get'")) == []
    assert middleware.process_spider_exception(response, CrawlError("doj_api", "sanity check failed")) == []
    assert _messages(crawler) == [
        "doj_api: could not read the response: it holds a value of an unexpected type (AttributeError) "
        "(at http://127.0.0.1:8123/www.justice.gov/api)",
        "doj_api: sanity check failed (at http://127.0.0.1:8123/www.justice.gov/api)",
    ]
    assert crawler.stats.get_value("lawwatch/fatal") == 1


# --- feeds -------------------------------------------------------------------------------------------------------


def test_an_entity_declaration_is_found_however_late_in_the_prolog() -> None:
    late = b'<?xml version="1.0"?>\n<!--' + b" pad " * 20000 + b'-->\n<!DOCTYPE rss [<!ENTITY a "b">]><rss/>'
    assert declares_entities(late) and len(late) > 65536
    assert not declares_entities(
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>&amp;</title></channel></rss>'
    )
    assert not declares_entities(b"<rss><channel><title>about &lt;!ENTITY&gt; in text</title></channel></rss>")
    with pytest.raises(ValueError, match="entity bomb"):
        read_feed(late)
    with pytest.raises(ValueError, match="malformed feed"):
        read_feed(b'<?xml version="1.0"?><rss version="2.0"><channel><title>cut</title><item><title>a')


# --- items that cost only themselves -----------------------------------------------------------------------------


def _api_spider() -> Any:
    source = SourceConfig(
        id="doj_api", spider="doj_api", base_url="https://www.justice.gov", options=MappingProxyType({"max_pages": 1})
    )
    spider = doj_api.DojApiSpider(source=source, known=KnownIndex(source="doj_api"))
    return spider


def _api_response(data: Any) -> TextResponse:
    url = "https://www.justice.gov/api/v1/press_releases.json?pagesize=50&page=0"
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return TextResponse(url, body=body, encoding="utf-8", request=Request(url, meta={"page": 0}))


def test_doj_api_keeps_the_neighbours_of_absurd_dates_and_odd_results() -> None:
    results = [
        {
            "uuid": "a",
            "title": "A",
            "url": "https://www.justice.gov/opa/pr/a",
            "date": "2017-10-12",
            "body": "<p>a</p>",
        },
        {"uuid": "b", "title": "B", "url": "https://www.justice.gov/opa/pr/b", "date": "9999-12-31T23:59:59-05:00"},
        {"uuid": "c", "title": "C", "url": "https://www.justice.gov/opa/pr/c", "date": "0001-01-01T00:00:00+14:00"},
        {"uuid": "d", "title": "D", "url": ["no"], "date": "2017-10-10"},
        {"uuid": "a", "title": "A2", "url": "https://www.justice.gov/opa/pr/a2", "date": "2017-10-09"},
        {
            "uuid": "e",
            "title": "E",
            "url": "https://www.justice.gov/opa/pr/e",
            "date": "2017-10-01",
            "component": "OPA",
        },
        ["not", "an", "object"],
    ]
    data = {"metadata": {"resultset": {"count": "7", "pagesize": "fifty"}}, "results": results}
    out = list(_api_spider().parse_page(_api_response(data)))
    items = [o for o in out if isinstance(o, DocumentItem)]
    assert [i.external_id for i in items] == ["a", "b", "c", "e"]
    assert [i.published for i in items][1:3] == ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+14:00"]
    assert items[1].normalize()[0].published_at is None and items[3].metadata["components"] == ["OPA"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>Service Unavailable</html>", "not JSON"),
        (json.dumps([1, 2]).encode(), "a JSON list, not the API's object"),
        (json.dumps({"results": {"a": 1}}).encode(), "results is a dict, not a list"),
    ],
)
def test_doj_api_names_an_envelope_it_cannot_read(body: bytes, message: str) -> None:
    with pytest.raises(CrawlError, match=message):
        list(_api_spider().parse_page(_api_response(body)))


def test_one_document_per_identity_in_a_crawl() -> None:
    ledger = IdentityLedger()
    assert ledger.claim("https://x.org/1", "g1") is None
    assert ledger.claim("https://x.org/1?utm_source=rss", "g1") == ""  # the same document listed again: quiet
    assert "shares the id 'g1' with https://x.org/1" in (ledger.claim("https://x.org/2", "g1") or "")
    assert "listed first with the id 'g1'" in (ledger.claim("https://x.org/1", "g2") or "")
    assert ledger.claim("https://x.org/3", None) is None and ledger.claim("https://x.org/3", "g3") == ""


def test_errors_come_before_warnings_and_are_never_crowded_out() -> None:
    from lawwatch.crawler.middlewares import MAX_MESSAGES, record_error, record_warning

    crawler = _crawler(MIRROR)
    for n in range(MAX_MESSAGES):
        record_warning(crawler, f"w{n}")
    record_error(crawler, "e1")
    record_error(crawler, "e2")
    messages = _messages(crawler)
    assert len(messages) == MAX_MESSAGES and messages[:3] == ["e1", "e2", "warning: w0"]
    assert (
        crawler.stats.get_value("lawwatch/errors") == 2 and crawler.stats.get_value("lawwatch/warnings") == MAX_MESSAGES
    )


def test_scrapy_error_lines_go_to_debug_and_an_item_pipeline_failure_is_recorded() -> None:
    import logging

    from lawwatch.crawler.failures import QuietLogFormatter

    crawler = _crawler(MIRROR)
    formatter = QuietLogFormatter.from_crawler(crawler)
    item = DocumentItem(source="doj_api", url="https://www.justice.gov/opa/pr/x", title="X", form="other", text="x")
    assert formatter.item_error(item, RuntimeError("boom"), None, None)["level"] == logging.DEBUG
    assert _messages(crawler) == ["storing https://www.justice.gov/opa/pr/x failed in the item pipeline (RuntimeError)"]
    assert scrapy_settings(Config(), MIRROR)["LOG_FORMATTER"] == "lawwatch.crawler.failures.QuietLogFormatter"


def test_no_spider_callback_is_a_generator_that_returns_a_value() -> None:
    """Scrapy's own run-time check, which the crawl settings turn off (WARN_ON_GENERATOR_RETURN_VALUE: it parses the
    callback's source again on most responses), run once over every spider's methods here instead."""
    import inspect
    import pkgutil
    from importlib import import_module

    from scrapy.utils.misc import is_generator_with_return_value

    import lawwatch.crawler.spiders

    assert scrapy_settings(Config(), MIRROR)["WARN_ON_GENERATOR_RETURN_VALUE"] is False
    checked = []
    for module_info in pkgutil.iter_modules(lawwatch.crawler.spiders.__path__):
        module = import_module(f"lawwatch.crawler.spiders.{module_info.name}")
        for spider in vars(module).values():
            if not (
                inspect.isclass(spider) and issubclass(spider, LawwatchSpider) and spider.__module__ == module.__name__
            ):
                continue
            for name, method in inspect.getmembers(spider, inspect.isgeneratorfunction):
                assert not is_generator_with_return_value(method), f"{spider.__name__}.{name} returns a value"
                checked.append(f"{spider.__name__}.{name}")
    assert "DojNewsSpider.parse_listing" in checked and "DojNewsSpider.parse_release" in checked
