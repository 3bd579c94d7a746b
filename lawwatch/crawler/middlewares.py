"""Downloader middlewares: safety, Retry-After aware retries, conditional GET, and accounting of what failed.

Every refusal and every final failure is recorded on the crawler's stats (``lawwatch/errors``,
``lawwatch/error_messages``) with :func:`record_error`; the runner copies them onto the source's ``crawl_runs`` row.
What a middleware needs to know about the source and the run comes from the spider's ``CrawlContext``
(:func:`crawler.context.crawl_context`); none sets anything on the spider.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.asyncio import sleep  # public since Scrapy 2.18
from scrapy.utils.response import response_status_message
from twisted.internet.error import DNSLookupError

from lawwatch.config_schema import ip_of, special_address
from lawwatch.crawler.context import crawl_context
from lawwatch.crawler.logs import log_error, log_warning

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

MAX_MESSAGES = 20
WARNING = "warning: "  # how a warning's message starts in ``lawwatch/error_messages``
_DEFAULT_PORTS = {"http": 80, "https": 443}


def record_error(crawler: Crawler, message: str) -> None:
    """Count one error of this crawl, log it as one line (``crawler.logs``) and keep its message (the first
    ``MAX_MESSAGES``). Errors come before the warnings in the list, and a warning gives way to an error when it is
    full: the run record keeps the first ones."""
    stats = crawler.stats
    assert stats is not None
    stats.inc_value("lawwatch/errors")
    log_error(crawler, message, int(stats.get_value("lawwatch/errors", 0)))
    messages = list(stats.get_value("lawwatch/error_messages") or [])
    first_warning = next((i for i, m in enumerate(messages) if m.startswith(WARNING)), len(messages))
    if len(messages) >= MAX_MESSAGES:
        if first_warning == len(messages):
            return
        messages.pop()
    messages.insert(first_warning, message[:500])
    stats.set_value("lawwatch/error_messages", messages)


def record_warning(crawler: Crawler, message: str) -> None:
    """Keep a warning in the run's messages (``warning: ...``) and count it in ``lawwatch/warnings``: something was
    changed or left out (an implausible date, a cut title), but nothing was lost, so the run's status is unchanged."""
    stats = crawler.stats
    assert stats is not None
    stats.inc_value("lawwatch/warnings")
    log_warning(crawler, message)
    messages = list(stats.get_value("lawwatch/error_messages") or [])
    if len(messages) < MAX_MESSAGES:
        messages.append(f"{WARNING}{message}"[:500])
        stats.set_value("lawwatch/error_messages", messages)


def record_for(spider: Any, message: str, *, warning: bool = False) -> None:
    """Record ``message`` on ``spider``'s crawl (an error, or a warning; either is logged as one line); a spider
    made by hand (offline tests) has no crawler: the message is only logged then."""
    crawler = getattr(spider, "crawler", None)
    if crawler is not None and crawler.stats is not None:
        (record_warning if warning else record_error)(crawler, message)
    else:
        spider.logger.warning("%s", message)


def _is_robots(request: Request) -> bool:
    url = request.url
    return "/robots.txt" in url and urlsplit(url).path.endswith("/robots.txt")  # (splits only a likely one)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


def _special_address(host: str) -> str | None:
    """Why ``host`` (an address in any spelling, or ``localhost``) is not a public address, or None."""
    return special_address(host)


class UrlPolicy:
    """Which URLs a source may fetch.

    A local source (the mirror) may fetch only its ``base_url``'s own scheme, host and port: another loopback port
    is another service on this machine. A real source may fetch http(s) URLs on its allowed domains (and their
    subdomains), never an IP literal or name for a loopback, private or link-local address.
    """

    def __init__(self, base_url: str, local: bool, domains: list[str]) -> None:
        self.local = local
        self.base = _origin(base_url)
        self.domains = [d.lower().lstrip(".") for d in domains if d]

    def refusal(self, url: str) -> str | None:
        scheme, host, port = _origin(url)
        if scheme not in ("http", "https"):
            return f"scheme {scheme or '(none)'}: is not http(s)"
        if not host:
            return "no host"
        if self.local:
            if (host, port) != self.base[1:]:
                return f"{host}:{port} is not the local source's own {self.base[1]}:{self.base[2]}"
            return None
        special = _special_address(host)
        if special:
            return f"{host} is {special} (only a local source may use it)"
        if not any(host == d or host.endswith("." + d) for d in self.domains):
            return f"{host} is outside the source's domains ({', '.join(self.domains)})"
        return None

    def address_refusal(self, ip: Any) -> str | None:
        """Why the connected peer address is unacceptable (a public name that resolved to a private address)."""
        if ip is None or self.local:
            return None
        return _special_address(str(ip))


class SafetyMiddleware:
    """Refuses requests, redirects and connections outside the source's policy (see :class:`UrlPolicy`).

    Sits at 610, so its ``process_response`` sees a redirect's ``Location`` before ``RedirectMiddleware`` (600)
    follows it, and its ``process_request`` checks every request that passed Scrapy's offsite filter."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._policy: UrlPolicy | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def policy(self) -> UrlPolicy:
        if self._policy is None:
            source = crawl_context(self.crawler).source
            domains = list(getattr(self.crawler.spider, "allowed_domains", None) or [])
            self._policy = UrlPolicy(source.base_url, source.local, domains)
        return self._policy

    def _refuse(self, what: str, url: str, why: str) -> IgnoreRequest:
        message = f"refused {what} {url}: {why}"
        record_error(self.crawler, message)
        return IgnoreRequest(message)

    def process_request(self, request: Request) -> None:
        why = self.policy.refusal(request.url)
        if why:
            raise self._refuse("request to", request.url, why)

    def process_response(self, request: Request, response: Response) -> Response:
        why = self.policy.address_refusal(response.ip_address)
        if why:
            raise self._refuse("response from", request.url, f"the server's address {why}")
        if 300 <= response.status < 400 and b"Location" in response.headers:
            location = (response.headers.get(b"Location") or b"").decode("latin-1").strip()
            target = urljoin(request.url, location)
            why = self.policy.refusal(target)
            if why:
                raise self._refuse(f"redirect from {request.url} to", target, why)
        return response


async def resolve_host(host: str) -> str:
    """The IPv4 address Scrapy's resolver gives ``host`` (its cache is the one the connection then uses)."""
    from scrapy.utils.defer import maybe_deferred_to_future
    from twisted.internet import reactor

    core: Any = reactor  # IReactorCore.resolve: the installed resolver (Scrapy's caching one)
    address: str = await maybe_deferred_to_future(core.resolve(host))
    return address


class AddressCheckMiddleware:
    """The last check before a request leaves (950, after every other middleware): what the request would connect
    to, and what it carries.

    - A real (non-local) source's host name is resolved first, with Scrapy's caching resolver, whose answer the
      connection then reuses; a name that resolves to a loopback, private or link-local address is refused before
      anything is sent (``refused request to ...: NAME resolves to 127.0.0.1, a loopback address``).
    - A name that does not resolve fails its request at once, without retries (``download failed: URL: HOST does
      not resolve ...``), and every later request to that host in the same crawl too, without another lookup: an
      offline crawl fails in seconds, not after minutes of retries and download delays. Its robots.txt request
      ends quietly (the page's own request is the failure recorded). The next crawl looks the name up again.
    - An ``Authorization`` header (the CourtListener token) goes only over https to the source's own host and port;
      on any other request it is removed and a warning says so.
    """

    def __init__(self, crawler: Crawler, resolve: Callable[[str], Awaitable[str]] = resolve_host) -> None:
        self.crawler = crawler
        self.resolve = resolve
        self.unresolved: dict[str, str] = {}  # host → why its lookup failed (in this crawl)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        source = crawl_context(self.crawler).source
        has_credentials = b"Authorization" in request.headers
        if source.local and not has_credentials:
            return None  # (the common case of a mirror crawl, without splitting the URL)
        scheme, host, port = _origin(request.url)
        if has_credentials and (scheme, host, port) != ("https", *_origin(source.base_url)[1:]):
            del request.headers[b"Authorization"]
            record_warning(self.crawler, f"{request.url}: credentials not sent (only over https to {source.base_url})")
        if source.local or not host or _special_address(host) or ip_of(host) is not None:
            return None  # a local source may use loopback; literal addresses are the URL policy's to refuse
        if host not in self.unresolved:
            try:
                address = await self.resolve(host)
            except DNSLookupError as exc:
                self.unresolved[host] = " ".join(str(exc).split()) or type(exc).__name__
            except Exception:  # any other trouble: the download itself then fails and says why
                return None
        if host in self.unresolved:
            message = f"download failed: {request.url}: {host} does not resolve ({self.unresolved[host]})"
            if not _is_robots(request):
                record_error(self.crawler, message)
            raise IgnoreRequest(message)
        why = _special_address(address)
        if why:
            message = f"refused request to {request.url}: {host} resolves to {address}, {why} (only a local source)"
            record_error(self.crawler, message)
            raise IgnoreRequest(message)
        return None


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry (429, 5xx, timeouts; ``RETRY_TIMES``) with a wait before each retry: the server's Retry-After
    when given (a wait longer than ``LAWWATCH_RETRY_AFTER_MAX`` gives up instead), else exponential backoff
    ``LAWWATCH_BACKOFF_BASE * 2**n`` capped at ``LAWWATCH_BACKOFF_MAX``. The wait does not block the reactor."""

    backoff_base = 1.0
    backoff_max = 30.0
    retry_after_max = 120.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        middleware = super().from_crawler(crawler)
        settings = crawler.settings
        middleware.backoff_base = settings.getfloat("LAWWATCH_BACKOFF_BASE", 1.0)
        middleware.backoff_max = settings.getfloat("LAWWATCH_BACKOFF_MAX", 30.0)
        middleware.retry_after_max = settings.getfloat("LAWWATCH_RETRY_AFTER_MAX", 120.0)
        return middleware

    def backoff(self, request: Request) -> float:
        attempt = int(request.meta.get("retry_times", 0))
        return float(min(self.backoff_max, self.backoff_base * (2**attempt)))

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        asked = retry_after_seconds(response.headers.get(b"Retry-After"))
        if asked is not None and asked > self.retry_after_max:
            limit = self.retry_after_max
            message = f"HTTP {response.status}: {request.url}: Retry-After {asked:g} s exceeds {limit:g} s"
            record_error(self.crawler, message)
            raise IgnoreRequest(message)
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        await sleep(asked if asked is not None else self.backoff(request))
        return retry

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:  # type: ignore[override]
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        retry = self._retry(request, exception)
        if retry is not None:
            await sleep(self.backoff(request))
        return retry


class ConditionalGetMiddleware:
    """Conditional GET for requests with ``meta["conditional"]``: sends the validators the archive holds for the URL
    (``If-None-Match`` / ``If-Modified-Since``); a 304 means nothing new (the request ends quietly, counted in
    ``lawwatch/not_modified``); fresh validators of a 2xx are kept in the context's ``fresh_validators`` for the
    runner to store once the run has succeeded."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if not request.meta.get("conditional"):
            return
        etag, last_modified = crawl_context(self.crawler).known.validators.get(request.url) or (None, None)
        if etag and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = etag
        if last_modified and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = last_modified

    def process_response(self, request: Request, response: Response) -> Response:
        if not request.meta.get("conditional"):
            return response
        if response.status == 304:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("lawwatch/not_modified")
            raise IgnoreRequest(f"not modified: {request.url}")
        if 200 <= response.status < 300:
            etag = response.headers.get(b"ETag")
            last_modified = response.headers.get(b"Last-Modified")
            if etag or last_modified:
                crawl_context(self.crawler).fresh_validators[request.url] = (
                    etag.decode("latin-1") if etag else None,
                    last_modified.decode("latin-1") if last_modified else None,
                )
        return response


class ErrorRecorderMiddleware:
    """Outermost middleware: counts requests and pages, and records what finally failed (an exception after all
    retries, or a 4xx/5xx response), so a source whose requests all fail is recorded as failed."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        assert self.crawler.stats is not None
        key = "lawwatch/robots_requests" if _is_robots(request) else "lawwatch/requests"
        self.crawler.stats.inc_value(key)

    def process_response(self, request: Request, response: Response) -> Response:
        if _is_robots(request):
            return response
        assert self.crawler.stats is not None
        if 200 <= response.status < 300:
            self.crawler.stats.inc_value("lawwatch/pages")
        elif response.status >= 400:
            record_error(self.crawler, f"HTTP {response.status}: {request.url}")
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, IgnoreRequest) or _is_robots(request):
            return
        from lawwatch.crawler.failures import describe_download_failure

        maxsize = self.crawler.settings.getint("DOWNLOAD_MAXSIZE")
        record_error(self.crawler, describe_download_failure(exception, request, maxsize))
