"""Run one or more sources in ONE Scrapy ``CrawlerProcess``; each source gets its own crawler and ``crawl_runs`` row.

A source's row is written ``running`` before the reactor starts and finished when its spider closes: ``ok``,
``partial`` (some requests or documents failed), or ``failed`` (the spider raised, a sanity check failed, or every
request failed), with pages, new/updated/unchanged/errors counts, seconds and the first error messages. One source
failing never stops the others. Scrapy's reactor cannot restart, so call :func:`run_crawl` once per process (the
CLI and the scheduler run ``lawwatch crawl`` in a subprocess).

Each source's spider is created with one ``CrawlContext`` (``crawler/context.py``): its config, its known documents
and validators (``KnownIndex.load``: its ``source_state`` and ``http_cache`` rows), ``since``, the run's id and the
``IngestSettings`` its items are stored with. The runner reads the run's fresh validators back from it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.spiderloader import SpiderLoader
from sqlalchemy import delete, insert

from lawwatch.crawler.context import CrawlContext, KnownIndex, Validators
from lawwatch.crawler.middlewares import MAX_MESSAGES, record_error
from lawwatch.crawler.settings import scrapy_settings
from lawwatch.errors import CrawlError
from lawwatch.pipeline.db import Archive, open_archive
from lawwatch.pipeline.ingest import IngestSettings
from lawwatch.pipeline.models import CrawlRun, HttpCacheEntry

if TYPE_CHECKING:
    from scrapy import Spider
    from twisted.python.failure import Failure

    from lawwatch.config import Config, SourceConfig

logger = logging.getLogger(__name__)
STORED_MESSAGES = 10
BATCH_SIZE = 200  # items per transaction of the crawl's worker


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
    seconds: float = 0.0
    error_messages: list[str] = field(default_factory=list)
    run_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data


def decide_status(stats: dict[str, Any], fatal: bool, reason: str | None) -> str:
    """``failed`` when the spider raised or every request failed; ``partial`` with some errors; else ``ok``."""
    requests = int(stats.get("lawwatch/requests", 0))
    usable = int(stats.get("lawwatch/pages", 0)) + int(stats.get("lawwatch/not_modified", 0))
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
        log_level: str,
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
            row = CrawlRun(source=source.id, started_at=datetime.now(UTC), status="running")
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
        r.status = decide_status(stats, self.fatal or bool(stats.get("lawwatch/fatal")), reason)
        if r.status == "failed" and not r.error_messages:
            r.error_messages.append("every request failed")
        validators = self.context.fresh_validators if r.status == "ok" else {}
        try:
            self.save(validators, stats)
        except Exception:  # the archive itself failed: keep the in-memory result, log loudly
            logger.exception("could not record the crawl run of %s", self.source.id)

    def save(self, validators: Validators, stats: dict[str, Any]) -> None:
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
            if validators:
                session.execute(delete(HttpCacheEntry).where(HttpCacheEntry.url.in_(list(validators))))
                now = datetime.now(UTC)
                rows = [
                    {"url": u, "source": self.source.id, "etag": e, "last_modified": m, "checked_at": now}
                    for u, (e, m) in validators.items()
                ]
                session.execute(insert(HttpCacheEntry), rows)


def run_crawl(
    config: Config,
    sources: Sequence[SourceConfig],
    *,
    since: datetime | None = None,
    log_level: str = "WARNING",
    politeness: bool = True,
    on_tick: Callable[[list[SourceResult], list[dict[str, Any]]], None] | None = None,
    tick_seconds: float = 0.5,
) -> list[SourceResult]:
    """Crawl ``sources`` concurrently in one ``CrawlerProcess``; one :class:`SourceResult` per source, in order.

    ``on_tick(results, live_stats)`` is called from the reactor every ``tick_seconds`` (progress displays)."""
    archive = open_archive(config.archive.url)  # migrates before any worker opens it
    try:
        process = CrawlerProcess(
            {
                "LOG_LEVEL": log_level,
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
        process.start()
        for crawl in crawls:  # a crawler that never reached spider_closed (e.g. a shutdown) is failed
            if crawl.result.status == "running":
                crawl.finish(None, "did not finish")
        return [c.result for c in crawls]
    finally:
        archive.dispose()


def _start_ticker(crawls: list[SourceCrawl], on_tick: Callable[..., None], seconds: float) -> None:
    from twisted.internet import task

    def tick() -> None:
        on_tick([c.result for c in crawls], [c.snapshot() for c in crawls])

    loop = task.LoopingCall(tick)
    loop.start(seconds, now=False)


__all__ = ["MAX_MESSAGES", "SourceResult", "decide_status", "run_crawl"]
