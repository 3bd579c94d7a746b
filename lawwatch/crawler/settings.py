"""``Config`` + one ``SourceConfig`` → the Scrapy settings of that source's crawler.

Every source runs as its own Scrapy crawler (inside one ``CrawlerProcess``), so politeness is per source: robots.txt
obeyed, AutoThrottle on, at most 2 requests in flight per domain, at least 1 s between requests to a real host (0 is
allowed only for a ``local`` mirror source), an honest User-Agent with a contact, 30 s timeout, 16 MiB body limit
(also after decompression), 5 redirects (a loop or a longer chain is an error of its own), TLS certificates verified,
``file:``/``data:``/``ftp:``/``s3:`` handlers off, telnet console off, retries for 429/5xx/timeouts with backoff
that honours Retry-After (``crawler.middlewares.BackoffRetryMiddleware``), a real source's host resolved and checked
before each connection (``AddressCheckMiddleware``), and failures recorded as one line each, never a traceback
(``crawler.failures``).
Only Scrapy's own settings and the backoff tunables are here: what the middlewares and the item pipeline need to know
about the source and the run (base URL, local, the archive, known documents) is in the spider's ``CrawlContext``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lawwatch.config import Config, SourceConfig

MIN_REMOTE_DELAY = 1.0
# Scrapy starts CONCURRENT_ITEMS asyncio workers for every callback's output (default 100: ~100 tasks per page).
# The archive pipeline only appends to a batch, so item concurrency buys nothing; a few suffice.
CONCURRENT_ITEMS = 4
MAX_PER_DOMAIN = 2
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]

DOWNLOADER_MIDDLEWARES = {
    # Called last on the way back: records what finally failed (after retries and redirects).
    "lawwatch.crawler.middlewares.ErrorRecorderMiddleware": 10,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "lawwatch.crawler.middlewares.BackoffRetryMiddleware": 550,
    "lawwatch.crawler.middlewares.ConditionalGetMiddleware": 560,
    # Scrapy's own, with decompression bombs, redirect loops and overlong redirect chains recorded as errors.
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "lawwatch.crawler.failures.DecompressionGuardMiddleware": 590,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "lawwatch.crawler.failures.RedirectGuardMiddleware": 600,
    # Scheme, domain and address checks on every request; sees a redirect's Location before RedirectMiddleware (600).
    "lawwatch.crawler.middlewares.SafetyMiddleware": 610,
    # Last before the connection: a real source's host is resolved and refused when it is loopback/private, and
    # credentials go only over https to the source's own host.
    "lawwatch.crawler.middlewares.AddressCheckMiddleware": 950,
}
# Outermost: an exception in a callback fails the source with one readable line (no traceback).
SPIDER_MIDDLEWARES = {"lawwatch.crawler.failures.SpiderFailureMiddleware": 40}


def scrapy_settings(
    config: Config,
    source: SourceConfig,
    *,
    log_level: str | None = "WARNING",
    politeness: bool = True,
) -> dict[str, Any]:
    """The Scrapy settings dict for ``source``. ``log_level`` None turns Scrapy's log off (the crawl prints one line
    per failure instead: ``crawler.logs``). ``politeness=False`` (benchmarks against a local mirror only) turns
    AutoThrottle, robots.txt and the delay off; it is refused for a non-local source."""
    crawler = config.crawler
    if not politeness and not source.local:
        raise ValueError(f"politeness can only be turned off for a local source, not {source.id}")
    delay = source.download_delay if source.download_delay is not None else crawler.download_delay
    if not source.local:
        delay = max(delay, MIN_REMOTE_DELAY)
    per_domain = crawler.concurrent_requests_per_domain
    if not source.local:
        per_domain = min(per_domain, MAX_PER_DOMAIN)
    return {
        "BOT_NAME": "lawwatch",
        "SPIDER_MODULES": ["lawwatch.crawler.spiders"],
        "NEWSPIDER_MODULE": "lawwatch.crawler.spiders",
        "USER_AGENT": crawler.user_agent,
        "ROBOTSTXT_OBEY": crawler.obey_robots_txt and politeness,
        "CONCURRENT_REQUESTS": crawler.concurrent_requests,
        "CONCURRENT_REQUESTS_PER_DOMAIN": per_domain,
        "CONCURRENT_ITEMS": CONCURRENT_ITEMS,
        "DOWNLOAD_DELAY": delay if politeness else 0,
        "DOWNLOAD_DELAY_JITTER": 0.5,
        "AUTOTHROTTLE_ENABLED": crawler.autothrottle and politeness,
        "AUTOTHROTTLE_START_DELAY": max(delay, 0.1 if source.local else MIN_REMOTE_DELAY),
        "AUTOTHROTTLE_MAX_DELAY": 60.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(per_domain),
        "DOWNLOAD_TIMEOUT": crawler.timeout,
        "DOWNLOAD_MAXSIZE": crawler.max_body_size,
        "DOWNLOAD_WARNSIZE": min(crawler.max_body_size, 4 * 1024 * 1024),
        "DOWNLOAD_VERIFY_CERTIFICATES": True,
        "DOWNLOAD_HANDLERS": {"file": None, "data": None, "ftp": None, "s3": None},
        "REDIRECT_ENABLED": True,
        "REDIRECT_MAX_TIMES": crawler.max_redirects,
        "METAREFRESH_ENABLED": False,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": crawler.retry_times,
        "RETRY_HTTP_CODES": RETRY_HTTP_CODES,
        "RETRY_GIVE_UP_LOG_LEVEL": "WARNING",
        "LAWWATCH_BACKOFF_BASE": 0.5 if source.local else 2.0,
        "LAWWATCH_BACKOFF_MAX": 30.0,
        "LAWWATCH_RETRY_AFTER_MAX": 120.0,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "COOKIES_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        # Scrapy's check that a generator callback returns no value reads the callback's source and parses it again
        # and again (its cache is keyed by short-lived bound methods): about 3% of a crawl's CPU. The same check
        # runs over every spider's callbacks in tests/test_crawler_guards.py instead.
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "DOWNLOADER_MIDDLEWARES": dict(DOWNLOADER_MIDDLEWARES),
        "SPIDER_MIDDLEWARES": dict(SPIDER_MIDDLEWARES),
        "ITEM_PIPELINES": {"lawwatch.crawler.pipelines.ArchivePipeline": 300},
        "EXTENSIONS": {"scrapy.extensions.logstats.LogStats": None},
        "LOG_ENABLED": log_level is not None,
        "LOG_LEVEL": log_level or "WARNING",
        # failures are one line each in the run record; Scrapy's own error lines (with tracebacks) go to DEBUG
        "LOG_FORMATTER": "lawwatch.crawler.failures.QuietLogFormatter",
        "LOG_FORMAT": "%(asctime)s [%(name)s] %(levelname)s: %(message)s",
    }
