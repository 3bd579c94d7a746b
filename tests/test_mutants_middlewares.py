"""The crawler's downloader middlewares (crawler/middlewares.py) as a crawl sees them: what is refused and with which
recorded message, what is retried, counted or kept. Written to kill the mutants that survived the other crawler
tests (issue 16, docs/mutation.md)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from twisted.internet.error import DNSLookupError

from lawwatch.config import SourceConfig
from lawwatch.crawler.middlewares import (
    MAX_MESSAGES,
    AddressCheckMiddleware,
    BackoffRetryMiddleware,
    ConditionalGetMiddleware,
    ErrorRecorderMiddleware,
    SafetyMiddleware,
    UrlPolicy,
    record_error,
    record_for,
    record_warning,
    retry_after_seconds,
)
from tests.test_crawler_safety import MIRROR, REAL, _crawler, _errors

DOMAINS = ["www.justice.gov", ".Justice.GOV", ""]


def _stat(crawler: Any, key: str) -> Any:
    return crawler.stats.get_value(key)


# --- the run's messages ------------------------------------------------------------------------------------------


def test_an_error_when_the_messages_are_full_of_errors_is_counted_not_kept() -> None:
    crawler = _crawler(MIRROR)
    for n in range(MAX_MESSAGES + 3):
        record_error(crawler, f"e{n}")
    assert _errors(crawler) == [f"e{n}" for n in range(MAX_MESSAGES)]
    assert _stat(crawler, "lawwatch/errors") == MAX_MESSAGES + 3


def test_an_error_takes_the_place_of_the_last_warning_when_full() -> None:
    crawler = _crawler(MIRROR)
    for n in range(MAX_MESSAGES - 1):
        record_error(crawler, f"e{n}")
    record_warning(crawler, "w")
    assert _errors(crawler)[-1] == "warning: w"
    record_error(crawler, "last")
    assert _errors(crawler) == [*(f"e{n}" for n in range(MAX_MESSAGES - 1)), "last"]
    record_warning(crawler, "dropped")
    assert len(_errors(crawler)) == MAX_MESSAGES and _stat(crawler, "lawwatch/warnings") == 2


def test_a_warning_goes_after_the_errors_and_one_under_the_limit_is_kept() -> None:
    crawler = _crawler(MIRROR)
    for n in range(MAX_MESSAGES - 1):
        record_warning(crawler, f"w{n}")
    record_error(crawler, "e")
    assert _errors(crawler)[0] == "e" and len(_errors(crawler)) == MAX_MESSAGES
    crawler = _crawler(MIRROR)
    record_error(crawler, "e")
    record_warning(crawler, "w")
    assert _errors(crawler) == ["e", "warning: w"]


def test_messages_are_cut_at_500_characters() -> None:
    crawler = _crawler(MIRROR)
    record_error(crawler, "x" * 600)
    record_warning(crawler, "y" * 600)
    error, warning = _errors(crawler)
    assert error == "x" * 500
    assert warning == ("warning: " + "y" * 600)[:500]


def test_record_for_a_spider_with_a_crawl_counts_errors_and_warnings() -> None:
    crawler = _crawler(MIRROR)
    record_for(crawler.spider, "bad page")
    record_for(crawler.spider, "odd date", warning=True)
    assert _errors(crawler) == ["bad page", "warning: odd date"]
    assert (_stat(crawler, "lawwatch/errors"), _stat(crawler, "lawwatch/warnings")) == (1, 1)


def test_record_for_a_hand_made_spider_only_logs(caplog: pytest.LogCaptureFixture) -> None:
    class HandMade:
        logger = logging.getLogger("hand-made-spider")

    with caplog.at_level(logging.WARNING, logger="hand-made-spider"):
        record_for(HandMade(), "only logged")
    assert [r.getMessage() for r in caplog.records] == ["only logged"]


# --- which URLs a source may fetch ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://www.justice.gov/x", None),
        ("HTTPS://WWW.JUSTICE.GOV/x", None),  # scheme and host in any case
        ("https://justice.gov/x", None),  # a domain given with a leading dot and in capitals
        ("https://a.b.justice.gov/x", None),  # any subdomain
        ("https://notjustice.gov/x", "notjustice.gov is outside the source's domains (www.justice.gov, justice.gov)"),
        ("ftp://www.justice.gov/x", "scheme ftp: is not http(s)"),
        ("//www.justice.gov/x", "scheme (none): is not http(s)"),
        ("https:///x", "no host"),
        ("http://10.0.0.1/x", "10.0.0.1 is a private address (only a local source may use it)"),
        ("http://127.0.0.1/x", "127.0.0.1 is a loopback address (only a local source may use it)"),
    ],
)
def test_a_real_source_refuses_with_the_reason(url: str, why: str | None) -> None:
    assert UrlPolicy("https://www.justice.gov", False, DOMAINS).refusal(url) == why


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:8123/other/path", None),
        ("HTTP://127.0.0.1:8123/x", None),
        ("http://127.0.0.1:8124/x", "127.0.0.1:8124 is not the local source's own 127.0.0.1:8123"),
        ("http://127.0.0.1/x", "127.0.0.1:80 is not the local source's own 127.0.0.1:8123"),
        ("http://127.0.0.1:99999/x", "127.0.0.1:None is not the local source's own 127.0.0.1:8123"),
        ("https://127.0.0.1:8123/x", None),  # the same host and port: the local source's own
    ],
)
def test_a_local_source_may_fetch_only_its_own_host_and_port(url: str, why: str | None) -> None:
    assert UrlPolicy("http://127.0.0.1:8123/www.justice.gov", True, []).refusal(url) == why


def test_default_ports_are_the_schemes() -> None:
    https = UrlPolicy("https://127.0.0.1/x", True, [])
    assert https.refusal("https://127.0.0.1:443/y") is None
    assert https.refusal("http://127.0.0.1/y") == "127.0.0.1:80 is not the local source's own 127.0.0.1:443"
    assert UrlPolicy("http://127.0.0.1/x", True, []).refusal("http://127.0.0.1:80/y") is None


def test_the_peer_address_is_checked_only_for_a_real_source() -> None:
    policy = UrlPolicy("https://www.justice.gov", False, DOMAINS)
    assert policy.address_refusal(None) is None
    assert policy.address_refusal("10.0.0.7") == "a private address"
    assert policy.address_refusal("169.254.1.1") == "a link-local address"
    assert UrlPolicy("http://127.0.0.1:8123/x", True, []).address_refusal("10.0.0.7") is None


# --- SafetyMiddleware ---------------------------------------------------------------------------------------------


def _response(url: str, status: int = 200, ip: str | None = None, **headers: str) -> Response:
    from ipaddress import ip_address

    request = Request(url)
    return Response(
        url, status=status, headers=headers or None, request=request, ip_address=ip_address(ip) if ip else None
    )


def test_a_response_from_a_private_peer_is_refused_with_the_address() -> None:
    crawler = _crawler(REAL)
    guard = SafetyMiddleware.from_crawler(crawler)
    response = _response("https://www.justice.gov/news", ip="192.168.1.5")
    with pytest.raises(IgnoreRequest, match="^refused response from https://www.justice.gov/news: "):
        guard.process_response(response.request, response)
    assert _errors(crawler) == [
        "refused response from https://www.justice.gov/news: the server's address a private address"
    ]
    public = _response("https://www.justice.gov/news", ip="149.101.1.1")
    assert guard.process_response(public.request, public) is public


def test_a_refused_request_says_where_and_why() -> None:
    crawler = _crawler(REAL)
    with pytest.raises(IgnoreRequest) as info:
        SafetyMiddleware.from_crawler(crawler).process_request(Request("https://evil.example/x"))
    expected = (
        "refused request to https://evil.example/x: evil.example is outside the source's domains (www.justice.gov)"
    )
    assert str(info.value) == expected and _errors(crawler) == [expected]


@pytest.mark.parametrize("status", [300, 301, 399])
def test_every_3xx_redirect_is_checked(status: int) -> None:
    crawler = _crawler(REAL)
    guard = SafetyMiddleware.from_crawler(crawler)
    response = _response("https://www.justice.gov/a", status, Location="  http://10.0.0.1/b  ")
    with pytest.raises(IgnoreRequest):
        guard.process_response(response.request, response)
    assert _errors(crawler) == [
        "refused redirect from https://www.justice.gov/a to http://10.0.0.1/b: 10.0.0.1 is a private address "
        "(only a local source may use it)"
    ]


@pytest.mark.parametrize("status", [200, 299, 400, 404])
def test_a_location_header_outside_3xx_is_not_a_redirect(status: int) -> None:
    crawler = _crawler(REAL)
    response = _response("https://www.justice.gov/a", status, Location="http://10.0.0.1/b")
    assert SafetyMiddleware.from_crawler(crawler).process_response(response.request, response) is response
    assert _errors(crawler) == []


def test_a_redirect_without_location_passes() -> None:
    crawler = _crawler(REAL)
    response = _response("https://www.justice.gov/a", 302)
    assert SafetyMiddleware.from_crawler(crawler).process_response(response.request, response) is response


def test_the_policy_follows_the_spiders_allowed_domains() -> None:
    crawler = _crawler(REAL)
    crawler.spider.allowed_domains = ["www.justice.gov", "search.justice.gov"]
    guard = SafetyMiddleware.from_crawler(crawler)
    guard.process_request(Request("https://search.justice.gov/x"))
    with pytest.raises(IgnoreRequest):
        guard.process_request(Request("https://www.courtlistener.com/x"))
    assert guard.policy is guard.policy


# --- AddressCheckMiddleware ----------------------------------------------------------------------------------------


def _address_check(source: SourceConfig, answer: str | BaseException = "149.101.1.1") -> tuple[Any, Any, list[str]]:
    crawler = _crawler(source)
    asked: list[str] = []

    async def resolve(host: str) -> str:
        asked.append(host)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    return crawler, AddressCheckMiddleware(crawler, resolve), asked


def _process(middleware: Any, request: Request) -> None:
    asyncio.run(middleware.process_request(request))


def test_a_name_that_does_not_resolve_fails_every_request_to_it_after_one_lookup() -> None:
    crawler, middleware, asked = _address_check(REAL, DNSLookupError("no such host"))
    for path in ("/robots.txt", "/a", "/b"):
        with pytest.raises(IgnoreRequest, match="does not resolve"):
            _process(middleware, Request(f"https://www.justice.gov{path}"))
    assert asked == ["www.justice.gov"]
    assert _errors(crawler) == [
        f"download failed: https://www.justice.gov/{p}: www.justice.gov does not resolve "
        "(DNS lookup failed: no such host.)"
        for p in ("a", "b")
    ]
    assert _stat(crawler, "lawwatch/errors") == 2  # the robots.txt request fails quietly


def test_a_lookup_failure_without_text_is_named_by_its_type() -> None:
    class Silent(DNSLookupError):
        def __str__(self) -> str:
            return "  "

    crawler, middleware, _ = _address_check(REAL, Silent())
    with pytest.raises(IgnoreRequest):
        _process(middleware, Request("https://www.justice.gov/a"))
    assert _errors(crawler) == ["download failed: https://www.justice.gov/a: www.justice.gov does not resolve (Silent)"]


def test_other_resolver_trouble_lets_the_download_say_why() -> None:
    crawler, middleware, asked = _address_check(REAL, RuntimeError("resolver broke"))
    _process(middleware, Request("https://www.justice.gov/a"))
    _process(middleware, Request("https://www.justice.gov/b"))
    assert asked == ["www.justice.gov", "www.justice.gov"]  # not remembered as unresolvable
    assert _errors(crawler) == []


@pytest.mark.parametrize("url", ["https://10.0.0.1/x", "https://149.101.1.1/x", "https://localhost/x"])
def test_addresses_and_special_names_are_not_looked_up(url: str) -> None:
    _, middleware, asked = _address_check(REAL)
    _process(middleware, Request(url))
    assert asked == []


def test_a_public_answer_passes_and_a_private_one_is_refused_with_the_address() -> None:
    crawler, middleware, asked = _address_check(REAL, "10.9.8.7")
    with pytest.raises(IgnoreRequest):
        _process(middleware, Request("https://www.justice.gov/a"))
    assert _errors(crawler) == [
        "refused request to https://www.justice.gov/a: www.justice.gov resolves to 10.9.8.7, a private address "
        "(only a local source)"
    ]
    crawler, middleware, asked = _address_check(REAL, "149.101.1.1")
    _process(middleware, Request("https://www.justice.gov/a"))
    assert asked == ["www.justice.gov"] and _errors(crawler) == []


def test_credentials_removed_from_a_request_elsewhere_are_warned_about() -> None:
    crawler, middleware, _ = _address_check(REAL)
    request = Request("http://www.justice.gov/x", headers={"Authorization": "Token t"})
    _process(middleware, request)
    assert b"Authorization" not in request.headers
    assert _errors(crawler) == [
        "warning: http://www.justice.gov/x: credentials not sent (only over https to https://www.justice.gov)"
    ]
    assert _stat(crawler, "lawwatch/warnings") == 1 and _stat(crawler, "lawwatch/errors") is None
    kept = Request("https://WWW.justice.gov:443/x", headers={"Authorization": "Token t"})
    _process(middleware, kept)
    assert kept.headers[b"Authorization"] == b"Token t"


# --- Retry-After and backoff --------------------------------------------------------------------------------------


def test_retry_after_is_read_in_its_forms() -> None:
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(b" 12 ") == 12.0
    assert retry_after_seconds("") is None and retry_after_seconds(b"") is None
    assert retry_after_seconds("Mon, 01 Jan 2024 12:00:30", now) == 30.0  # no zone: GMT
    assert retry_after_seconds("Mon, 01 Jan 2024 12:00:30 +0100", now) == 0.0  # 11:00:30 GMT: already past
    assert retry_after_seconds("Mon, 01 Jan 2024 13:00:30 +0100", now) == 30.0
    assert retry_after_seconds("-5") is None


def _retry(**settings: Any) -> tuple[Any, BackoffRetryMiddleware]:
    crawler = _crawler(MIRROR)
    crawler.settings.frozen = False
    for key, value in settings.items():
        crawler.settings.set(key, value)
    return crawler, BackoffRetryMiddleware.from_crawler(crawler)


def test_backoff_follows_the_settings() -> None:
    _, retry = _retry(LAWWATCH_BACKOFF_BASE=0.5, LAWWATCH_BACKOFF_MAX=3.0)
    waits = [retry.backoff(Request("http://127.0.0.1:8123/x", meta={"retry_times": n})) for n in range(5)]
    assert waits == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert retry.backoff(Request("http://127.0.0.1:8123/x")) == 0.5


def test_a_retry_after_at_the_limit_is_waited_for_and_one_above_it_gives_up() -> None:
    crawler, retry = _retry(LAWWATCH_RETRY_AFTER_MAX=0.0)
    request = Request("http://127.0.0.1:8123/x")
    at_limit = Response(request.url, status=503, headers={"Retry-After": "0"}, request=request)
    assert isinstance(asyncio.run(retry.process_response(request, at_limit)), Request)
    above = Response(request.url, status=503, headers={"Retry-After": "1"}, request=request)
    with pytest.raises(IgnoreRequest, match=r"^HTTP 503: http://127.0.0.1:8123/x: Retry-After 1 s exceeds 0 s$"):
        asyncio.run(retry.process_response(request, above))
    assert _errors(crawler) == ["HTTP 503: http://127.0.0.1:8123/x: Retry-After 1 s exceeds 0 s"]


def test_responses_that_are_not_retried_pass_through() -> None:
    _, retry = _retry(LAWWATCH_BACKOFF_BASE=0.0)
    request = Request("http://127.0.0.1:8123/x")
    ok = Response(request.url, status=200, request=request)
    assert asyncio.run(retry.process_response(request, ok)) is ok
    no_retry = Request(request.url, meta={"dont_retry": True})
    failing = Response(request.url, status=503, request=no_retry)
    assert asyncio.run(retry.process_response(no_retry, failing)) is failing
    spent = Request(request.url, meta={"retry_times": 99})
    last = Response(request.url, status=503, request=spent)
    assert asyncio.run(retry.process_response(spent, last)) is last  # retries used up: the response stands


def test_a_timeout_is_retried_and_other_exceptions_are_not() -> None:
    _, retry = _retry(LAWWATCH_BACKOFF_BASE=0.0)
    request = Request("http://127.0.0.1:8123/x")
    from twisted.internet.error import TimeoutError as TwistedTimeout

    again = asyncio.run(retry.process_exception(request, TwistedTimeout()))
    assert isinstance(again, Request) and again.meta["retry_times"] == 1
    assert asyncio.run(retry.process_exception(request, ValueError("bug"))) is None
    assert (
        asyncio.run(retry.process_exception(Request(request.url, meta={"dont_retry": True}), TwistedTimeout())) is None
    )
    spent = Request(request.url, meta={"retry_times": 99})
    assert asyncio.run(retry.process_exception(spent, TwistedTimeout())) is None


# --- conditional GET -----------------------------------------------------------------------------------------------


def test_validators_already_on_the_request_are_kept_and_only_2xx_refresh_them() -> None:
    from lawwatch.crawler.context import KnownIndex

    url = "https://www.justice.gov/feed"
    crawler = _crawler(REAL, KnownIndex(source="doj_api", validators={url: ("old-etag", "old-date")}))
    middleware = ConditionalGetMiddleware.from_crawler(crawler)
    request = Request(url, meta={"conditional": True}, headers={"If-None-Match": "mine", "If-Modified-Since": "me"})
    middleware.process_request(request)
    assert (request.headers[b"If-None-Match"], request.headers[b"If-Modified-Since"]) == (b"mine", b"me")
    fresh = crawler.spider.context.fresh_validators
    for status in (199, 300, 404):
        middleware.process_response(request, Response(url, status=status, headers={"ETag": "x"}, request=request))
    assert fresh == {}
    middleware.process_response(request, Response(url, status=299, headers={"Last-Modified": "d"}, request=request))
    assert fresh == {url: (None, "d")}
    middleware.process_response(request, Response(url, status=200, request=request))
    assert fresh == {url: (None, "d")}  # no validators: nothing to keep
    plain = Request(url)
    response = Response(url, status=304, request=plain)
    assert middleware.process_response(plain, response) is response  # not conditional: a 304 is a response


# --- counting and recording what failed ----------------------------------------------------------------------------


def test_pages_requests_and_robots_are_counted_apart() -> None:
    crawler = _crawler(REAL)
    recorder = ErrorRecorderMiddleware.from_crawler(crawler)
    robots = Request("https://www.justice.gov/robots.txt")
    page = Request("https://www.justice.gov/a")
    for request in (robots, page, page):
        recorder.process_request(request)
    for status in (200, 299, 300, 399):
        recorder.process_response(page, Response(page.url, status=status, request=page))
    recorder.process_response(robots, Response(robots.url, status=404, request=robots))
    recorder.process_exception(robots, TimeoutError("slow"))
    assert _stat(crawler, "lawwatch/robots_requests") == 1 and _stat(crawler, "lawwatch/requests") == 2
    assert _stat(crawler, "lawwatch/pages") == 2
    assert _errors(crawler) == []
    recorder.process_response(page, Response(page.url, status=400, request=page))
    assert _errors(crawler) == ["HTTP 400: https://www.justice.gov/a"]


def test_a_download_over_the_size_limit_is_recorded_with_the_limit() -> None:
    crawler = _crawler(REAL)
    recorder = ErrorRecorderMiddleware.from_crawler(crawler)
    request = Request("https://www.justice.gov/huge")
    recorder.process_exception(request, DownloadCancelledError("Cancelling download"))
    limit = crawler.settings.getint("DOWNLOAD_MAXSIZE")
    assert _errors(crawler) == [
        f"download failed: https://www.justice.gov/huge: DownloadCancelledError: the body grew past the {limit:,}-byte "
        f"limit (more than {limit:,} bytes received); cancelled"
    ]


def test_a_page_that_only_mentions_robots_txt_is_a_page() -> None:
    crawler = _crawler(REAL)
    recorder = ErrorRecorderMiddleware.from_crawler(crawler)
    page = Request("https://www.justice.gov/search?q=/robots.txt")
    recorder.process_request(page)
    recorder.process_response(page, Response(page.url, status=200, request=page))
    assert _stat(crawler, "lawwatch/requests") == 1 and _stat(crawler, "lawwatch/pages") == 1
    assert _stat(crawler, "lawwatch/robots_requests") is None


def test_a_retried_exception_waits_the_backoff_and_is_counted_by_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    import lawwatch.crawler.middlewares as middlewares

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(middlewares, "sleep", sleep)
    crawler, retry = _retry(LAWWATCH_BACKOFF_BASE=0.25)
    from twisted.internet.error import TimeoutError as TwistedTimeout

    request = Request("http://127.0.0.1:8123/x")
    asyncio.run(retry.process_exception(request, TwistedTimeout()))
    assert waits == [0.25]
    assert _stat(crawler, "retry/reason_count/twisted.internet.error.TimeoutError") == 1
    spent = Request(request.url, meta={"retry_times": 99})
    assert asyncio.run(retry.process_exception(spent, TwistedTimeout())) is None
    assert waits == [0.25]  # no wait when nothing is retried


def test_a_304_ends_the_request_saying_not_modified() -> None:
    url = "https://www.justice.gov/feed"
    crawler = _crawler(REAL)
    middleware = ConditionalGetMiddleware.from_crawler(crawler)
    request = Request(url, meta={"conditional": True})
    with pytest.raises(IgnoreRequest) as info:
        middleware.process_response(request, Response(url, status=304, request=request))
    assert str(info.value) == f"not modified: {url}"


def test_the_address_check_is_built_for_a_crawl() -> None:
    crawler = _crawler(REAL)
    middleware = AddressCheckMiddleware.from_crawler(crawler)
    assert middleware.crawler is crawler and middleware.unresolved == {}


def test_the_first_errors_are_logged_then_one_line_says_more(caplog: pytest.LogCaptureFixture) -> None:
    from lawwatch.crawler.logs import FAILURES, SHOWN_ERRORS

    crawler = _crawler(REAL)
    with caplog.at_level(logging.WARNING, logger=FAILURES):
        for n in range(SHOWN_ERRORS + 3):
            record_error(crawler, f"error {n}")
    lines = [r.getMessage() for r in caplog.records if r.name == FAILURES]
    assert len(lines) == SHOWN_ERRORS + 1
    assert lines[0].endswith("error 0") and lines[SHOWN_ERRORS - 1].endswith(f"error {SHOWN_ERRORS - 1}")
    assert "more errors" in lines[-1]


def test_retry_after_in_bytes_may_be_a_date_and_is_measured_from_now() -> None:
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(b"Mon, 01 Jan 2024 12:00:30 GMT", now) == 30.0
    assert (retry_after_seconds("Fri, 01 Jan 2100 00:00:00 GMT") or 0.0) > 365 * 86400  # now is the real now


def test_a_retried_response_waits_what_the_server_asked_or_the_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    import lawwatch.crawler.middlewares as middlewares

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(middlewares, "sleep", sleep)
    crawler = _crawler(REAL)  # the project's settings: backoff 2 s, Retry-After up to 120 s
    retry = BackoffRetryMiddleware.from_crawler(crawler)
    request = Request("https://www.justice.gov/x", meta={"retry_times": 1})
    asked = Response(request.url, status=503, headers={"Retry-After": "100"}, request=request)
    assert isinstance(asyncio.run(retry.process_response(request, asked)), Request)
    plain = Response(request.url, status=503, request=request)
    assert isinstance(asyncio.run(retry.process_response(request, plain)), Request)
    assert waits == [100.0, 4.0]  # the server's wait; then 2 s · 2^1
    assert _stat(crawler, "retry/reason_count/503 Service Unavailable") == 2


def test_a_local_source_sends_credentials_only_over_https_too() -> None:
    crawler, middleware, asked = _address_check(MIRROR)
    request = Request("http://127.0.0.1:8123/www.justice.gov/x", headers={"Authorization": "Token t"})
    _process(middleware, request)
    assert b"Authorization" not in request.headers and asked == []
    assert _errors(crawler)[0].startswith("warning: http://127.0.0.1:8123/www.justice.gov/x: credentials not sent")


def test_a_local_source_never_looks_names_up() -> None:
    local = SourceConfig(id="doj_api", spider="doj_api", base_url="http://mirror.example:8123/x", local=True)
    _, middleware, asked = _address_check(local)
    _process(middleware, Request("http://mirror.example:8123/x/y"))
    assert asked == []


def test_an_unresolvable_host_ends_the_request_saying_why() -> None:
    _, middleware, _ = _address_check(REAL, DNSLookupError("no such host"))
    with pytest.raises(IgnoreRequest) as info:
        _process(middleware, Request("https://www.justice.gov/a"))
    assert str(info.value) == (
        "download failed: https://www.justice.gov/a: www.justice.gov does not resolve "
        "(DNS lookup failed: no such host.)"
    )


def test_allowed_domains_are_read_in_any_case_and_with_a_leading_dot() -> None:
    policy = UrlPolicy("https://www.justice.gov", False, [".Justice.GOV.", ""])
    assert policy.refusal("https://justice.gov/x") == "justice.gov is outside the source's domains (justice.gov.)"
    policy = UrlPolicy("https://www.justice.gov", False, ["..Justice.GOV"])
    assert policy.refusal("https://search.justice.gov/x") is None
    assert policy.domains == ["justice.gov"]


def test_host_names_are_resolved_with_the_installed_reactor(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    import twisted.internet
    from twisted.internet import defer

    from lawwatch.crawler.middlewares import resolve_host

    class Reactor:
        def resolve(self, host: str) -> Any:
            return defer.succeed({"www.justice.gov": "149.101.1.1"}.get(host, "0.0.0.0"))

    reactor = Reactor()
    monkeypatch.setitem(sys.modules, "twisted.internet.reactor", reactor)
    monkeypatch.setattr(twisted.internet, "reactor", reactor, raising=False)
    assert asyncio.run(resolve_host("www.justice.gov")) == "149.101.1.1"


def test_a_local_source_with_credentials_still_looks_no_name_up() -> None:
    local = SourceConfig(id="doj_api", spider="doj_api", base_url="https://mirror.example:8123/x", local=True)
    crawler, middleware, asked = _address_check(local)
    request = Request("https://mirror.example:8123/x/y", headers={"Authorization": "Token t"})
    _process(middleware, request)
    assert asked == [] and request.headers[b"Authorization"] == b"Token t"


def test_a_private_answer_ends_the_request_saying_where_it_resolves() -> None:
    _, middleware, _ = _address_check(REAL, "10.9.8.7")
    with pytest.raises(IgnoreRequest) as info:
        _process(middleware, Request("https://www.justice.gov/a"))
    assert str(info.value) == (
        "refused request to https://www.justice.gov/a: www.justice.gov resolves to 10.9.8.7, a private address "
        "(only a local source)"
    )
