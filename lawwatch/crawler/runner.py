"""Run one or more sources in ONE Scrapy ``CrawlerProcess``; each source gets its own crawler and ``crawl_runs`` row.

A source's row is written ``running`` before the reactor starts and finished when its spider closes: ``ok``,
``partial`` (some requests or documents failed), ``failed`` (the spider raised, a sanity check failed, or every
request failed) or ``interrupted`` (SIGTERM/SIGINT stopped the crawl: the batches already handed to the store are
committed whole), with pages, new/updated/unchanged/errors counts, seconds and the first error messages. One source
failing never stops the others. While it runs, the row names the process (``pid``, ``host``) and gets a
``heartbeat_at`` every ``HEARTBEAT_SECONDS``, so ``lawwatch run`` can tell a run whose process died (it marks it
``interrupted``). Scrapy's reactor cannot restart, so call :func:`run_crawl` once per process (the
CLI and the scheduler run ``lawwatch crawl`` in a subprocess). At the default log level a crawl prints one line per
failure and never a traceback (``crawler/logs.py``); each result keeps the ids of the documents its run stored as
new or updated (8 bytes each), whose titles :func:`changed_documents` reads back for the summary.

Each source's spider is created with one ``CrawlContext`` (``crawler/context.py``): its config, its known documents
and validators (``KnownIndex.load``: its ``source_state`` and ``http_cache`` rows), ``since``, the run's id and the
``IngestSettings`` its items are stored with. The runner reads the run's fresh validators and finished listing walks
back from it. When the spider closes, the item pipeline has already waited for every batch of the run, so:

- a finished walk's boundary (``source_state`` key ``walk:<listing>``) is stored only when the crawl finished
  normally (not shut down, not failed) with no failed request and no lost batch; items dropped one by one as
  unusable do not hold it back (fetching them again would not help). Otherwise the boundary stays where it was and
  the next crawl resumes the walk (``resumed``: how many listings went past all-known pages to do so; also in the
  run's stats as ``lawwatch/resumed`` and ``lawwatch/resumed_pages``);
- fresh validators are stored when the run is ``ok`` and none of its walks was left unfinished (else a 304 on a
  listing's first page could stop the next crawl from resuming it).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from array import array
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.spiderloader import SpiderLoader
from sqlalchemy import Table, select, update

from lawwatch.crawler.context import WALK_PREFIX, CrawlContext, KnownIndex, Validators, WalkBoundary
from lawwatch.crawler.logs import one_line_failures
from lawwatch.crawler.middlewares import MAX_MESSAGES, record_error
from lawwatch.crawler.pipelines import fork_worker, stop_worker
from lawwatch.crawler.settings import scrapy_settings
from lawwatch.errors import CrawlError
from lawwatch.heap import long_lived
from lawwatch.pipeline.db import Archive, open_archive
from lawwatch.pipeline.ingest import IngestSettings
from lawwatch.pipeline.models import CrawlRun, Document, HttpCacheEntry
from lawwatch.pipeline.store import Sighting, record_sightings, upsert

if TYPE_CHECKING:
    from scrapy import Spider
    from twisted.python.failure import Failure

    from lawwatch.config import Config, SourceConfig

logger = logging.getLogger(__name__)
STORED_MESSAGES = 10
BATCH_SIZE = 200  # items per transaction of the crawl's worker
HEARTBEAT_SECONDS = 10.0  # how often a running crawl refreshes crawl_runs.heartbeat_at


def ingest_settings(config: Config) -> IngestSettings:
    """The ingest settings of a crawl with ``config``: its archive, its alert rules (resolved, picklable)."""
    from lawwatch.alerts.rules import resolve_rules

    return IngestSettings(config.archive.url, batch_size=BATCH_SIZE, rules=resolve_rules(config))


@dataclass
class SourceResult:
    """The outcome of one source in one crawl (also what `lawwatch crawl --json` prints)."""

    source: str
    status: str = "running"
    pages: int = 0
    requests: int = 0
    not_modified: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: int = 0
    resumed: int = 0  # listings whose walk went past all-known pages to finish an earlier, unfinished walk
    seconds: float = 0.0
    error_messages: list[str] = field(default_factory=list)
    run_id: int | None = None
    # ids of the documents stored as new / updated (read back with ``changed_documents``; not in ``as_dict``)
    new_ids: array[int] = field(default_factory=lambda: array("q"), repr=False)
    updated_ids: array[int] = field(default_factory=lambda: array("q"), repr=False)

    def as_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("new_ids", "updated_ids")}
        data["error_messages"] = list(self.error_messages)
        data["seconds"] = round(self.seconds, 3)
        return data


def changed_documents(archive: Archive, result: SourceResult, limit: int | None = None) -> list[dict[str, Any]]:
    """The documents ``result``'s run stored as new or updated (new first, each in the order stored; the first
    ``limit``): ``{"id", "title", "url", "status"}``, read from the archive in chunks (a document deleted since is
    left out)."""
    wanted: list[tuple[int, str]] = []
    seen: set[int] = set()
    for status, ids in (("new", result.new_ids), ("updated", result.updated_ids)):
        for doc_id in ids:
            if limit is not None and len(wanted) >= limit:
                break
            if doc_id not in seen:
                seen.add(doc_id)
                wanted.append((doc_id, status))
    found: dict[int, tuple[str, str | None]] = {}
    with archive.session() as session:
        for start in range(0, len(wanted), 500):
            chunk = [doc_id for doc_id, _ in wanted[start : start + 500]]
            query = select(Document.id, Document.title, Document.url).where(Document.id.in_(chunk))
            found.update({doc_id: (title, url) for doc_id, title, url in session.execute(query)})
    return [
        {"id": doc_id, "title": found[doc_id][0], "url": found[doc_id][1], "status": status}
        for doc_id, status in wanted
        if doc_id in found
    ]


def walks_may_finish(stats: dict[str, Any], fatal: bool, reason: str | None) -> bool:
    """Whether the walks that ended normally in a run with these stats may record their boundary: the crawl finished
    (no shutdown, no fatal error) and every error was an item dropped alone (no failed request, no lost batch)."""
    errors = int(stats.get("lawwatch/errors", 0))
    item_errors = int(stats.get("lawwatch/item_errors", 0))
    return reason == "finished" and not fatal and errors <= item_errors and not stats.get("lawwatch/lost")


def decide_status(stats: dict[str, Any], fatal: bool, reason: str | None) -> str:
    """``failed`` when the spider raised or every request failed; ``partial`` with some errors; else ``ok``."""
    requests = int(stats.get("lawwatch/requests", 0))
    usable = int(stats.get("lawwatch/pages", 0)) + int(stats.get("lawwatch/not_modified", 0))
    if reason == "shutdown" and not fatal:
        return "interrupted"
    if fatal or reason not in ("finished", None):
        return "failed"
    if requests > 0 and usable == 0:
        return "failed"
    if int(stats.get("lawwatch/errors", 0)) > 0:
        return "partial"
    return "ok"


class SourceCrawl:
    """One source's crawler and its run row; finishes the row when the spider closes."""

    def __init__(
        self,
        archive: Archive,
        config: Config,
        source: SourceConfig,
        spidercls: type[Spider],
        *,
        since: datetime | None,
        log_level: str | None,
        politeness: bool,
        first: bool,
        ingest: IngestSettings | None = None,
    ) -> None:
        self.archive = archive
        self.source = source
        self.result = SourceResult(source=source.id)
        self.fatal = False
        self.started = time.monotonic()
        settings = scrapy_settings(config, source, log_level=log_level, politeness=politeness)
        self.crawler = Crawler(spidercls, settings, init_reactor=first)
        self.crawler.signals.connect(self.on_spider_error, signal=signals.spider_error)
        self.crawler.signals.connect(self.on_spider_closed, signal=signals.spider_closed)
        with archive.session() as session:
            now = datetime.now(UTC)
            row = CrawlRun(
                source=source.id,
                started_at=now,
                status="running",
                pid=os.getpid(),
                host=socket.gethostname(),
                heartbeat_at=now,
            )
            session.add(row)
            session.flush()
            self.result.run_id = row.id
            known = KnownIndex.load(session, source.id)
        self.context = CrawlContext(
            source=source, known=known, since=since, ingest=ingest or ingest_settings(config), run_id=row.id
        )

    def on_spider_error(self, failure: Failure, response: Any, spider: Spider) -> None:
        self.fatal = True
        error = failure.value
        where = getattr(response, "url", "?")
        text = str(error) if isinstance(error, CrawlError) else f"{type(error).__name__}: {error}"
        record_error(self.crawler, f"{text} (at {where})")

    def on_start_failed(self, failure: Failure) -> None:
        self.fatal = True
        record_error(self.crawler, f"{self.source.id} did not start: {failure.type.__name__}: {failure.value}")
        if self.result.status == "running":
            self.finish(None, "failed to start")

    def on_spider_closed(self, spider: Spider, reason: str) -> None:
        self.finish(spider, reason)

    def snapshot(self) -> dict[str, Any]:
        stats = self.crawler.stats
        return dict(stats.get_stats()) if stats is not None else {}

    def finish(self, spider: Spider | None, reason: str | None) -> None:
        stats = self.snapshot()
        r = self.result
        r.seconds = time.monotonic() - self.started
        r.pages = int(stats.get("lawwatch/pages", 0))
        r.requests = int(stats.get("lawwatch/requests", 0))
        r.not_modified = int(stats.get("lawwatch/not_modified", 0))
        for key in ("new", "updated", "unchanged", "errors"):
            setattr(r, key, int(stats.get(f"lawwatch/{key}", 0)))
        r.error_messages = list(stats.get("lawwatch/error_messages") or [])[:STORED_MESSAGES]
        if reason not in ("finished", None):
            r.error_messages.append(f"crawl ended early: {reason}")
        fatal = self.fatal or bool(stats.get("lawwatch/fatal"))
        r.status = decide_status(stats, fatal, reason)
        if r.status == "failed" and not r.error_messages:
            r.error_messages.append("every request failed")
        r.new_ids, r.updated_ids = self.context.new_ids, self.context.updated_ids
        r.resumed = len(self.context.resumed)
        if r.resumed:
            stats["lawwatch/resumed"] = r.resumed
            stats["lawwatch/resumed_pages"] = self.context.resumed_pages
        unfinished = self.context.unfinished_walks
        validators = self.context.fresh_validators if r.status == "ok" and not unfinished else {}
        walks = self.context.walks if walks_may_finish(stats, fatal, reason) else {}
        try:
            self.save(validators, stats, walks)
        except Exception:  # the archive itself failed: keep the in-memory result, log loudly
            logger.exception("could not record the crawl run of %s", self.source.id)

    def save(self, validators: Validators, stats: dict[str, Any], walks: dict[str, WalkBoundary]) -> None:
        r = self.result
        kept = {k: v for k, v in stats.items() if isinstance(v, int | float | str) and not k.startswith("lawwatch/e")}
        with self.archive.session() as session:
            row = session.get(CrawlRun, r.run_id)
            assert row is not None
            row.finished_at = datetime.now(UTC)
            row.status, row.pages, row.errors = r.status, r.pages, r.errors
            row.new, row.updated, row.unchanged = r.new, r.updated, r.unchanged
            row.error_messages = r.error_messages
            row.stats = {
                **{k: str(v) if isinstance(v, datetime) else v for k, v in kept.items()},
                "seconds": round(r.seconds, 3),
            }
            now = datetime.now(UTC)
            if validators:  # an upsert: another crawl of the same feeds may store them at the same time
                rows = [
                    {"url": u, "source": self.source.id, "etag": e, "last_modified": m, "checked_at": now}
                    for u, (e, m) in validators.items()
                ]
                columns = ("source", "etag", "last_modified", "checked_at")
                upsert(session, cast(Table, HttpCacheEntry.__table__), rows, ("url",), columns)
            boundaries = [
                Sighting(self.source.id, WALK_PREFIX + listing, None, boundary.encode())
                for listing, boundary in walks.items()
            ]
            record_sightings(session, boundaries, now)


def run_crawl(
    config: Config,
    sources: Sequence[SourceConfig],
    *,
    since: datetime | None = None,
    log_level: str | None = None,
    politeness: bool = True,
    on_tick: Callable[[list[SourceResult], list[dict[str, Any]]], None] | None = None,
    tick_seconds: float = 0.5,
) -> list[SourceResult]:
    """Crawl ``sources`` concurrently in one ``CrawlerProcess``; one :class:`SourceResult` per source, in order.

    ``log_level`` None (the default): one line on stderr per failure, no traceback (``crawler.logs``); a level
    name: Scrapy's own log at that level instead. ``on_tick(results, live_stats)`` is called from the reactor every
    ``tick_seconds`` (progress displays)."""
    with ExitStack() as stack:
        if log_level is None:
            stack.enter_context(one_line_failures())
        return _run_crawl(config, sources, since, log_level, politeness, on_tick, tick_seconds)


def _run_crawl(
    config: Config,
    sources: Sequence[SourceConfig],
    since: datetime | None,
    log_level: str | None,
    politeness: bool,
    on_tick: Callable[[list[SourceResult], list[dict[str, Any]]], None] | None,
    tick_seconds: float,
) -> list[SourceResult]:
    archive = open_archive(config.archive.url)  # migrates before any worker opens it
    from lawwatch.pipeline.runs import interrupt_stale_runs

    interrupt_stale_runs(archive)  # runs left `running` by a crawl that was killed are marked interrupted
    try:
        fork_worker(log_level is not None)  # before the reactor and its threads start (see crawler/pipelines.py)
        process = CrawlerProcess(
            {
                "LOG_ENABLED": log_level is not None,
                "LOG_LEVEL": log_level or "WARNING",
                "TELNETCONSOLE_ENABLED": False,
                "REMOTE_CONTROL_ENABLED": False,
                "SPIDER_MODULES": ["lawwatch.crawler.spiders"],
            }
        )
        loader = SpiderLoader.from_settings(process.settings)
        ingest = ingest_settings(config)
        crawls: list[SourceCrawl] = []
        for index, source in enumerate(sources):
            crawl = SourceCrawl(
                archive,
                config,
                source,
                loader.load(source.spider),
                since=since,
                log_level=log_level,
                politeness=politeness,
                first=index == 0,
                ingest=ingest,
            )
            crawls.append(crawl)
            deferred = process.crawl(crawl.crawler, context=crawl.context)
            deferred.addErrback(crawl.on_start_failed)
        if on_tick is not None:
            _start_ticker(crawls, on_tick, tick_seconds)
        _start_heartbeat(archive, crawls)
        with long_lived():  # what is built so far lasts the crawl: out of the collector's reach (lawwatch/heap.py)
            process.start()
        for crawl in crawls:  # a crawler that never reached spider_closed (e.g. a shutdown) is failed
            if crawl.result.status == "running":
                crawl.finish(None, "did not finish")
        return [c.result for c in crawls]
    finally:
        stop_worker()
        archive.dispose()


def _start_ticker(crawls: list[SourceCrawl], on_tick: Callable[..., None], seconds: float) -> None:
    from twisted.internet import task

    def tick() -> None:
        on_tick([c.result for c in crawls], [c.snapshot() for c in crawls])

    loop = task.LoopingCall(tick)
    loop.start(seconds, now=False)


def _start_heartbeat(archive: Archive, crawls: list[SourceCrawl]) -> None:
    """Refresh ``heartbeat_at`` of the runs still running, every ``HEARTBEAT_SECONDS``, off the reactor thread."""
    from twisted.internet import task, threads

    def beat() -> None:
        ids = [c.result.run_id for c in crawls if c.result.status == "running"]
        if not ids:
            return
        try:
            with archive.session() as session:
                session.execute(
                    update(CrawlRun)
                    .where(CrawlRun.id.in_(ids), CrawlRun.status == "running")
                    .values(heartbeat_at=datetime.now(UTC))
                )
        except Exception:  # a missed heartbeat is not worth a crawl
            logger.warning("could not record the crawl's heartbeat", exc_info=True)

    loop = task.LoopingCall(lambda: threads.deferToThread(beat))
    loop.start(HEARTBEAT_SECONDS, now=False)


__all__ = ["MAX_MESSAGES", "SourceResult", "changed_documents", "decide_status", "run_crawl"]
