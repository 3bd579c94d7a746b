"""What a crawl prints on stderr: one line per failure at the default level, Scrapy's own log only with ``-v``.

Every error of a source goes through :func:`crawler.middlewares.record_error`, which keeps it in the run record
(``crawl_runs.error_messages``) and logs it on the ``lawwatch.crawl`` logger as ``SOURCE: message`` (warnings of a
run go there at INFO). :func:`one_line_failures` is the handler of a crawl at the default level: Scrapy's log is
off (``LOG_ENABLED = False``), and stderr gets

- each ``lawwatch.crawl`` line at WARNING and above (the first ``SHOWN_ERRORS`` of each source, then one line
  saying the rest are in the run record);
- any other ERROR or CRITICAL record (an unexpected failure) as its message's first line, never a traceback;
- nothing else: Scrapy's retry and robots.txt messages repeat a failure that is recorded already.

With ``-v``/``-vv`` Scrapy's own handler prints everything at INFO/DEBUG, tracebacks included.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

FAILURES = "lawwatch.crawl"
SHOWN_ERRORS = 50  # error lines printed per source and run (all are counted in the run record)
_DUPLICATES = ("scrapy.downloadermiddlewares.robotstxt",)  # the page's own request fails and is recorded

failure_log = logging.getLogger(FAILURES)


def source_of(crawler: Crawler) -> str:
    """The id of the source ``crawler`` runs (its spider's name before the spider exists)."""
    spider = getattr(crawler, "spider", None)
    source = getattr(getattr(spider, "context", None), "source", None)
    name = getattr(source, "id", None) or getattr(spider, "name", None) or getattr(crawler.spidercls, "name", "?")
    return str(name)


def log_error(crawler: Crawler, message: str, count: int) -> None:
    """Log the ``count``-th error of ``crawler``'s source as one line (the first ``SHOWN_ERRORS``)."""
    source = source_of(crawler)
    if count <= SHOWN_ERRORS:
        failure_log.warning("%s", _prefixed(source, message))
    elif count == SHOWN_ERRORS + 1:
        failure_log.warning("%s: more errors; each is counted in the run record (lawwatch status)", source)


def log_warning(crawler: Crawler, message: str) -> None:
    """Log a warning of ``crawler``'s source (shown with ``-v``)."""
    failure_log.info("%s", _prefixed(source_of(crawler), message))


def _prefixed(source: str, message: str) -> str:
    return message if message.startswith(f"{source}: ") else f"{source}: {message}"


def first_line(record: logging.LogRecord) -> str:
    """A record's message reduced to one line (a twisted failure's text carries its traceback in the message)."""
    try:
        text = record.getMessage()
    except Exception:  # a record whose arguments do not fit its format: still one line
        text = str(record.msg)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else ""


class OneLineHandler(logging.Handler):
    """Prints the records :func:`wanted` keeps, one line each, on the current ``sys.stderr`` (looked up at each
    record, so a progress display or a test that swaps stderr gets them)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(logging.INFO)
        self._stream = stream
        self.addFilter(wanted)

    def emit(self, record: logging.LogRecord) -> None:
        stream = self._stream or sys.stderr
        line = first_line(record)
        if record.name != FAILURES:
            line = f"{record.levelname.lower()}: {line}"
        try:
            stream.write(line + "\n")
            stream.flush()
        except Exception:  # stderr closed: nothing to tell
            self.handleError(record)


def wanted(record: logging.LogRecord) -> bool:
    """Which records a crawl prints at the default level (see the module's docstring)."""
    if record.name == FAILURES:
        return record.levelno >= logging.WARNING
    if record.name.startswith(_DUPLICATES):
        return False
    return record.levelno >= logging.ERROR


@contextmanager
def one_line_failures(stream: TextIO | None = None) -> Iterator[OneLineHandler]:
    """Print the crawl's failures one line each (see the module's docstring) while the block runs."""
    handler = OneLineHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def quiet_worker(enabled: bool) -> None:
    """(store worker process) Its log: Scrapy's level with ``-v`` (``enabled``), else nothing, because every
    failure it meets is sent back and printed by the crawl's own process."""
    root = logging.getLogger()
    if enabled:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    else:
        root.addHandler(logging.NullHandler())  # no last-resort handler printing to stderr
