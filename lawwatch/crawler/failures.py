"""Failures that say why: what a download, a redirect chain, a compressed body or a spider callback did wrong, as one
plain line in the run record (``crawl_runs.error_messages``), never a Python traceback or a raw exception text.

- :func:`describe_download_failure`: a download's final exception → ``download failed: URL: Kind: reason`` (an
  oversize body names its size and the limit; a cut-off body says so).
- :class:`RedirectGuardMiddleware` (Scrapy's ``RedirectMiddleware``, 600): a redirect loop (``A → B → A``) and a chain
  longer than ``REDIRECT_MAX_TIMES`` are recorded, not dropped silently.
- :class:`DecompressionGuardMiddleware` (Scrapy's ``HttpCompressionMiddleware``, 590): a body that decompresses past
  ``DOWNLOAD_MAXSIZE`` (a gzip bomb) is recorded with both sizes.
- :class:`SpiderFailureMiddleware` (spider middleware, outermost): an exception a callback raises fails the source with
  the page's URL and a readable reason (a ``CrawlError``'s own message; for anything else, what kind of content
  could not be read); the items the callback yielded before it are kept, and nothing is logged as a traceback
  (only at DEBUG).
- :class:`QuietLogFormatter` (``LOG_FORMATTER``): Scrapy logs a failed download, a spider error and an item error
  with the exception's traceback; lawwatch records each of them as one line in the run record already, so Scrapy's
  own lines (and their tracebacks) go to DEBUG.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.logformatter import LogFormatter, LogFormatterResult
from scrapy.spidermiddlewares.httperror import HttpError

from lawwatch.crawler.middlewares import record_error
from lawwatch.errors import CrawlError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)
_EXPECTED_SIZE = re.compile(r"Expected to receive (\d+) bytes")
# What a callback's unexpected exception says about the content it was reading (the message itself is not shown).
_KINDS = {
    "AttributeError": "a value of an unexpected type",
    "TypeError": "a value of an unexpected type",
    "KeyError": "a missing field",
    "IndexError": "a missing element",
    "ValueError": "a value it could not read",
    "JSONDecodeError": "text that is not JSON",
    "UnicodeDecodeError": "bytes in no known encoding",
}


def describe_download_failure(exception: BaseException, request: Request, maxsize: int) -> str:
    """One line for a request whose download finally failed (after retries)."""
    name = type(exception).__name__
    text = " ".join(str(exception).split())
    if name == "DownloadCancelledError":
        limit = int(request.meta.get("download_maxsize", maxsize) or maxsize)
        declared = _EXPECTED_SIZE.search(text)
        if declared:
            text = f"the response declares {int(declared.group(1)):,} bytes, over the {limit:,}-byte limit"
        elif limit:
            text = f"the body grew past the {limit:,}-byte limit (more than {limit:,} bytes received); cancelled"
        else:
            text = text or "cancelled"
    elif name == "ResponseDataLossError":
        text = "the connection closed before the whole body arrived (truncated response)"
    return f"download failed: {request.url}: {name}: {text}".rstrip(": ")


class RedirectGuardMiddleware(RedirectMiddleware):
    """Scrapy's redirects, with a loop or an overlong chain recorded as an error of the source."""

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if redirected.url in chain:
            path = " → ".join([*chain[chain.index(redirected.url) :], redirected.url])
            message = f"redirect loop: {path}"
            record_error(self.crawler, message)
            raise IgnoreRequest(message)
        try:
            return super()._redirect(redirected, request, reason)
        except IgnoreRequest:
            message = f"too many redirects: {chain[0]} redirected more than {self.max_redirect_times} times"
            record_error(self.crawler, f"{message} (last to {redirected.url})")
            raise IgnoreRequest(message) from None


class DecompressionGuardMiddleware(HttpCompressionMiddleware):
    """Scrapy's decompression (bounded by ``DOWNLOAD_MAXSIZE``), with a body that decompresses past the bound
    recorded with its compressed size."""

    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        middleware = super().from_crawler(crawler)
        middleware.crawler = crawler
        return middleware

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        try:
            return super().process_response(request, response)
        except IgnoreRequest:
            limit = int(request.meta.get("download_maxsize", self._max_size))
            message = (
                f"refused {request.url}: its {len(response.body):,} compressed bytes decompress to more than the "
                f"{limit:,}-byte limit (a compression bomb?)"
            )
            record_error(self.crawler, message)
            raise IgnoreRequest(message) from None


class SpiderFailureMiddleware:
    """Spider middleware, outermost (40): an exception raised while a callback reads a response fails the source
    (``lawwatch/fatal``) with one readable line naming the page; Scrapy then neither logs a traceback nor drops what
    the callback yielded before. HTTP errors are left to Scrapy's ``HttpErrorMiddleware``."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_spider_exception(self, response: Response, exception: Exception) -> Iterable[Any] | None:
        if isinstance(exception, HttpError | IgnoreRequest):
            return None
        spider = self.crawler.spider
        source = getattr(getattr(spider, "context", None), "source", None)
        source_id = getattr(source, "id", None) or getattr(spider, "name", "?")
        if isinstance(exception, CrawlError):
            text = str(exception)
        else:
            name = type(exception).__name__
            kind = _KINDS.get(name, "something it could not handle")
            text = f"{source_id}: could not read the response: it holds {kind} ({name})"
        logger.debug("the callback for %s raised", response.url, exc_info=exception)
        record_error(self.crawler, f"{text} (at {response.url})")
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("lawwatch/fatal", 1)
        return []


class QuietLogFormatter(LogFormatter):
    """Scrapy's log lines, with download, spider and item errors at DEBUG: Scrapy attaches the traceback to each, and
    the run record says what failed and why (``ErrorRecorderMiddleware``, :class:`SpiderFailureMiddleware`, the
    runner's ``spider_error`` handler; an item pipeline's exception is recorded here)."""

    crawler: Crawler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        formatter = cls()
        formatter.crawler = crawler
        return formatter

    def download_error(self, *args: Any, **kwargs: Any) -> LogFormatterResult:
        return {**super().download_error(*args, **kwargs), "level": logging.DEBUG}

    def spider_error(self, *args: Any, **kwargs: Any) -> LogFormatterResult:
        return {**super().spider_error(*args, **kwargs), "level": logging.DEBUG}

    def item_error(self, item: Any, exception: BaseException, response: Any, spider: Any = None) -> LogFormatterResult:
        if self.crawler is not None and self.crawler.stats is not None:
            url = getattr(item, "url", None) or getattr(response, "url", "?")
            record_error(self.crawler, f"storing {url} failed in the item pipeline ({type(exception).__name__})")
        return {**super().item_error(item, exception, response, spider), "level": logging.DEBUG}
