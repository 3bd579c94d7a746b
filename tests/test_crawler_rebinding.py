"""The DNS-rebinding defence: a real source's response that came from a loopback, private or link-local peer is
refused by ``SafetyMiddleware.process_response`` (the name resolved to a public address when the request was
checked, and to another one when the connection was made)."""

from __future__ import annotations

import ipaddress

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from lawwatch.crawler.middlewares import SafetyMiddleware
from tests.test_crawler_safety import MIRROR, REAL, _crawler, _errors


@pytest.mark.parametrize("peer", ["10.0.0.7", "127.0.0.1", "169.254.169.254", "192.168.1.2", "::1", "fe80::1"])
def test_response_from_a_private_peer_is_refused_for_a_real_source(peer: str) -> None:
    crawler = _crawler(REAL)
    guard = SafetyMiddleware.from_crawler(crawler)
    request = Request("https://www.justice.gov/news")
    response = Response(
        request.url, status=200, body=b"<html></html>", request=request, ip_address=ipaddress.ip_address(peer)
    )
    with pytest.raises(IgnoreRequest, match="the server's address"):
        guard.process_response(request, response)
    assert crawler.stats.get_value("lawwatch/errors") == 1
    assert "refused response from https://www.justice.gov/news" in _errors(crawler)[0]


def test_response_from_a_public_peer_passes_and_the_mirror_may_be_local() -> None:
    crawler = _crawler(REAL)
    guard = SafetyMiddleware.from_crawler(crawler)
    request = Request("https://www.justice.gov/news")
    public = Response(request.url, status=200, request=request, ip_address=ipaddress.ip_address("149.101.1.1"))
    assert guard.process_response(request, public) is public
    unknown = Response(request.url, status=200, request=request)  # no peer address known (e.g. from the cache)
    assert guard.process_response(request, unknown) is unknown
    assert not _errors(crawler)

    local = _crawler(MIRROR)
    request = Request("http://127.0.0.1:8123/www.justice.gov/news")
    loopback = Response(request.url, status=200, request=request, ip_address=ipaddress.ip_address("127.0.0.1"))
    assert SafetyMiddleware.from_crawler(local).process_response(request, loopback) is loopback
