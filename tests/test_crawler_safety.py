"""Politeness and safety of every crawl: Scrapy settings from the config, URL/redirect policy, Retry-After backoff,
conditional GET and failure accounting (unit level; the fault switches run whole crawls in test_crawl_mirror.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from lawwatch.config import Config, CrawlerConfig, SourceConfig
from lawwatch.crawler.base import LawwatchSpider
from lawwatch.crawler.context import CrawlContext, KnownIndex, crawl_context
from lawwatch.crawler.middlewares import (
    BackoffRetryMiddleware,
    ConditionalGetMiddleware,
    ErrorRecorderMiddleware,
    SafetyMiddleware,
    UrlPolicy,
    retry_after_seconds,
)
from lawwatch.crawler.runner import decide_status
from lawwatch.crawler.settings import scrapy_settings
from lawwatch.errors import CrawlError

REAL = SourceConfig(id="doj_api", spider="doj_api", base_url="https://www.justice.gov")
MIRROR = SourceConfig(
    id="doj_api", spider="doj_api", base_url="http://127.0.0.1:8123/www.justice.gov", local=True, download_delay=0.0
)


def _config(**crawler: Any) -> Config:
    return Config(crawler=CrawlerConfig(**crawler))


def test_settings_for_a_real_host_are_polite() -> None:
    s = scrapy_settings(_config(download_delay=0.2, concurrent_requests_per_domain=8), REAL)
    assert s["ROBOTSTXT_OBEY"] is True and s["AUTOTHROTTLE_ENABLED"] is True
    assert s["CONCURRENT_REQUESTS_PER_DOMAIN"] == 2
    assert s["DOWNLOAD_DELAY"] == 1.0
    assert "contact" in s["USER_AGENT"]
    assert s["DOWNLOAD_TIMEOUT"] == 30 and s["DOWNLOAD_MAXSIZE"] == 16 * 1024 * 1024 and s["REDIRECT_MAX_TIMES"] == 5
    assert s["DOWNLOAD_VERIFY_CERTIFICATES"] is True
    assert s["DOWNLOAD_HANDLERS"] == {"file": None, "data": None, "ftp": None, "s3": None}
    assert s["TELNETCONSOLE_ENABLED"] is False
    assert {429, 500, 502, 503, 504} <= set(s["RETRY_HTTP_CODES"])
    assert s["DOWNLOADER_MIDDLEWARES"]["scrapy.downloadermiddlewares.retry.RetryMiddleware"] is None
    assert s["SPIDER_MODULES"] == ["lawwatch.crawler.spiders"]


def test_settings_for_the_local_mirror_may_skip_the_delay() -> None:
    s = scrapy_settings(_config(download_delay=1.0, concurrent_requests_per_domain=8), MIRROR)
    assert s["DOWNLOAD_DELAY"] == 0.0 and s["CONCURRENT_REQUESTS_PER_DOMAIN"] == 8
    with pytest.raises(ValueError, match="only be turned off for a local source"):
        scrapy_settings(_config(), REAL, politeness=False)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://www.justice.gov/opa/pr/x", None),
        ("https://search.justice.gov/x", None),
        ("ftp://www.justice.gov/x", "not http(s)"),
        ("file:///etc/passwd", "not http(s)"),
        ("https://evil.example/x", "outside the source's domains"),
        ("https://justice.gov.evil.example/x", "outside the source's domains"),
        ("http://127.0.0.1:8123/www.justice.gov/x", "loopback"),
        ("http://localhost/x", "loopback"),
        ("http://10.1.2.3/x", "private"),
        ("http://192.168.0.1/x", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]/x", "loopback"),
    ],
)
def test_policy_of_a_real_source(url: str, reason: str | None) -> None:
    why = UrlPolicy("https://www.justice.gov", False, ["www.justice.gov", "justice.gov"]).refusal(url)
    assert (why is None) if reason is None else (reason in (why or ""))


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8123/www.courtlistener.com/x", True),
        ("http://127.0.0.1:8124/www.justice.gov/x", False),  # another loopback port: another service
        ("http://127.0.0.1/www.justice.gov/x", False),  # port 80
        ("http://localhost:8123/x", False),
        ("https://www.justice.gov/x", False),
        ("file:///etc/passwd", False),
    ],
)
def test_policy_of_a_local_source(url: str, allowed: bool) -> None:
    policy = UrlPolicy("http://127.0.0.1:8123/www.justice.gov", True, ["127.0.0.1"])
    assert (policy.refusal(url) is None) is allowed


def test_resolved_private_address_is_refused_for_a_real_source() -> None:
    policy = UrlPolicy("https://www.justice.gov", False, ["www.justice.gov"])
    assert "private" in (policy.address_refusal("10.0.0.7") or "")
    assert policy.address_refusal("149.101.1.1") is None
    assert UrlPolicy("http://127.0.0.1:8123/x", True, []).address_refusal("127.0.0.1") is None


class _Spider(LawwatchSpider):
    name = "safety_probe"


def _crawler(source: SourceConfig, known: KnownIndex | None = None) -> Any:
    settings = scrapy_settings(_config(), source)
    crawler = get_crawler(_Spider, settings)
    context = CrawlContext(source=source, known=known or KnownIndex(source=source.id))
    crawler.spider = _Spider.from_crawler(crawler, context=context)
    crawler.stats.open_spider()
    return crawler


def _errors(crawler: Any) -> list[str]:
    return list(crawler.stats.get_value("lawwatch/error_messages") or [])


@pytest.mark.parametrize("location", ["file:///etc/passwd", "http://127.0.0.1:9/www.justice.gov/x"])
def test_redirect_guard_refuses_and_records(location: str) -> None:
    crawler = _crawler(MIRROR)
    guard = SafetyMiddleware.from_crawler(crawler)
    request = Request("http://127.0.0.1:8123/www.justice.gov/news")
    response = Response(request.url, status=302, headers={"Location": location}, request=request)
    with pytest.raises(IgnoreRequest):
        guard.process_response(request, response)
    assert crawler.stats.get_value("lawwatch/errors") == 1
    assert location in _errors(crawler)[0] and "refused redirect" in _errors(crawler)[0]


def test_redirect_inside_the_source_passes() -> None:
    crawler = _crawler(MIRROR)
    guard = SafetyMiddleware.from_crawler(crawler)
    request = Request("http://127.0.0.1:8123/www.justice.gov/news")
    response = Response(request.url, status=301, headers={"Location": "/www.justice.gov/news?page=0"}, request=request)
    assert guard.process_response(request, response) is response
    guard.process_request(Request("http://127.0.0.1:8123/www.justice.gov/opa/pr/x"))
    assert not _errors(crawler)


def test_request_to_a_private_address_is_refused_for_a_real_source() -> None:
    crawler = _crawler(REAL)
    with pytest.raises(IgnoreRequest):
        SafetyMiddleware.from_crawler(crawler).process_request(Request("http://169.254.169.254/latest/"))
    assert "link-local" in _errors(crawler)[0]


def test_retry_after_forms() -> None:
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(b"7") == 7.0
    assert retry_after_seconds("Mon, 01 Jan 2024 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Mon, 01 Jan 2024 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds(b"soon") is None and retry_after_seconds(None) is None


def test_429_is_retried_after_the_servers_wait() -> None:
    crawler = _crawler(MIRROR)
    retry = BackoffRetryMiddleware.from_crawler(crawler)
    request = Request("http://127.0.0.1:8123/www.justice.gov/news")
    response = Response(request.url, status=429, headers={"Retry-After": "0"}, request=request)
    again = asyncio.run(retry.process_response(request, response))
    assert isinstance(again, Request) and again.meta["retry_times"] == 1
    too_long = Response(request.url, status=429, headers={"Retry-After": "3600"}, request=request)
    with pytest.raises(IgnoreRequest):
        asyncio.run(retry.process_response(request, too_long))
    assert "Retry-After 3600" in _errors(crawler)[0]


def test_backoff_grows_and_is_capped() -> None:
    retry = BackoffRetryMiddleware.from_crawler(_crawler(REAL))
    waits = [retry.backoff(Request("https://www.justice.gov/", meta={"retry_times": n})) for n in range(8)]
    assert waits == sorted(waits) and waits[0] == 2.0 and waits[-1] == 30.0


def test_conditional_get_sends_validators_and_treats_304_as_nothing_new() -> None:
    url = "https://www.justice.gov/feeds/opa/justice-news.xml"
    known = KnownIndex(source="doj_api", validators={url: ('"abc"', "Wed, 01 May 2024 10:00:00 GMT")})
    crawler = _crawler(REAL, known)
    middleware = ConditionalGetMiddleware.from_crawler(crawler)
    request = Request(url, meta={"conditional": True})
    middleware.process_request(request)
    assert request.headers[b"If-None-Match"] == b'"abc"'
    assert request.headers[b"If-Modified-Since"] == b"Wed, 01 May 2024 10:00:00 GMT"
    with pytest.raises(IgnoreRequest):
        middleware.process_response(request, Response(url, status=304, request=request))
    assert crawler.stats.get_value("lawwatch/not_modified") == 1
    fresh = Response(url, status=200, headers={"ETag": '"def"'}, request=request)
    assert middleware.process_response(request, fresh) is fresh
    assert crawler.spider.context.fresh_validators[url] == ('"def"', None)
    plain = Request("https://www.justice.gov/opa/pr/x")
    middleware.process_request(plain)
    assert b"If-None-Match" not in plain.headers


def test_final_failures_are_recorded_and_all_failing_is_failed() -> None:
    crawler = _crawler(REAL)
    recorder = ErrorRecorderMiddleware.from_crawler(crawler)
    request = Request("https://www.justice.gov/news")
    recorder.process_request(request)
    recorder.process_response(request, Response(request.url, status=500, request=request))
    recorder.process_exception(request, TimeoutError("took too long"))
    recorder.process_exception(request, IgnoreRequest("robots"))
    messages = _errors(crawler)
    assert messages == [
        "HTTP 500: https://www.justice.gov/news",
        "download failed: https://www.justice.gov/news: TimeoutError: took too long",
    ]
    stats = crawler.stats.get_stats()
    assert decide_status(stats, False, "finished") == "failed"
    assert decide_status({**stats, "lawwatch/pages": 3}, False, "finished") == "partial"
    assert decide_status({"lawwatch/requests": 3, "lawwatch/pages": 3}, False, "finished") == "ok"
    assert decide_status({"lawwatch/requests": 1, "lawwatch/not_modified": 1}, False, "finished") == "ok"
    assert decide_status({"lawwatch/requests": 3, "lawwatch/pages": 3}, True, "finished") == "failed"


def test_spider_state_is_one_context_object() -> None:
    from scrapy import Spider

    crawler = _crawler(MIRROR)
    context = crawl_context(crawler)
    spider = crawler.spider
    assert spider.context is context and spider.source is MIRROR and spider.known is context.known
    assert spider.since is None and context.known.source == "doj_api" and context.fresh_validators == {}
    with pytest.raises(TypeError, match="not both"):
        _Spider(context=context, since=context.since or datetime(2017, 1, 1, tzinfo=UTC))
    with pytest.raises(TypeError, match="needs context="):
        _Spider()
    plain = get_crawler(Spider)
    plain.spider = Spider(name="plain")
    with pytest.raises(RuntimeError, match="has no CrawlContext"):
        crawl_context(plain)


def test_sanity_check_and_known_index() -> None:
    crawler = _crawler(REAL)
    spider = crawler.spider
    with pytest.raises(CrawlError, match="no entries in listing"):
        spider.sanity_check(0, "listing x")
    known = KnownIndex(source="doj_api")
    known.add(url="https://www.justice.gov/opa/pr/a?utm_source=x", external_id="u1", signature="100")
    assert known.has(url="https://www.justice.gov/opa/pr/a")
    assert known.has(url="https://www.justice.gov/opa/pr/a", signature="100")
    assert not known.has(url="https://www.justice.gov/opa/pr/a", signature="200")
    assert known.has(external_id="u1") and not known.has(url="https://www.justice.gov/opa/pr/b")
    assert spider.options == MappingProxyType({}) and spider.url("/news") == "https://www.justice.gov/news"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "say which sources"),
        (["nope"], "unknown source nope"),
        (["--all", "doj_api"], "not both"),
        (["doj_api", "--since", "2017-01-01"], "go together"),
    ],
)
def test_crawl_command_usage_errors(tmp_path: Any, args: list[str], message: str) -> None:
    from click.testing import CliRunner

    from lawwatch.cli import cli

    settings = tmp_path / "settings.toml"
    settings.write_text(
        f'[archive]\nurl = "sqlite:///{tmp_path}/a.db"\n\n[[sources]]\nid = "doj_api"\nspider = "doj_api"\n'
        'base_url = "https://www.justice.gov"\n'
    )
    result = CliRunner().invoke(cli, ["--config", str(settings), "crawl", *args])
    assert result.exit_code == 2 and message in result.output
