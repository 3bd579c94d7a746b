"""The Scrapy item pipeline: batches of ``DocumentItem`` → the ingest service (``pipeline.ingest.ingest_batch``).

Full batches go to ONE worker process shared by every source of the crawl, which normalizes, classifies and stores
each batch in one transaction (``Archive.session()``) with the ingest service, so a failure while storing rolls the
whole batch back and never leaves a half-written document (the batch is then stored item by item, each in a
transaction of its own: ``pipeline.ingest.ingest_isolated``; only an item the archive refuses is lost), and the
CPU-heavy classification runs on another core than downloading and parsing. One worker keeps each source's batches
in order. The worker's only configuration is the picklable ``IngestSettings`` of the spider's ``CrawlContext``, sent
with each batch. Outcomes are counted on the crawler's stats (``lawwatch/new``, ``/updated``, ``/unchanged``); an
item that cannot be normalized or classified is an error of its own (also counted in ``lawwatch/item_errors``), and
the rest of its batch is stored; the items of a batch that failed are counted in ``lawwatch/lost``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
import threading
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from lawwatch.crawler.context import crawl_context
from lawwatch.crawler.items import DocumentItem
from lawwatch.crawler.logs import quiet_worker
from lawwatch.crawler.middlewares import record_error, record_warning
from lawwatch.errors import ArchiveError
from lawwatch.pipeline.db import Archive, open_archive
from lawwatch.pipeline.ingest import IngestSettings, classify_document, describe_error, ingest_isolated
from lawwatch.pipeline.normalize import normalize_document

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class _SharedWorker:
    """The crawl's one ingest process, started with the first pipeline and stopped with the last."""

    executor: ProcessPoolExecutor | None = None
    users = 0

    @classmethod
    def acquire(cls, log: bool = True) -> ProcessPoolExecutor:
        """The worker (started by the first caller; ``log``: whether it logs, as the crawl's Scrapy log does)."""
        if cls.executor is None:
            context = multiprocessing.get_context("spawn")  # never fork a process that runs a reactor and threads
            cls.executor = ProcessPoolExecutor(1, mp_context=context, initializer=_warm_up, initargs=(log,))
        cls.users += 1
        return cls.executor

    @classmethod
    def release(cls) -> None:
        cls.users -= 1
        if cls.users == 0 and cls.executor is not None:
            cls.executor.shutdown(wait=True)
            cls.executor = None


_archives: dict[str, Archive] = {}  # (worker process) opened once per archive URL


def _warm_up(log: bool = True) -> None:
    """(worker process) Exit with the crawl; log only with ``log`` (every failure is sent back and printed by the
    crawl); load the classifier before the first batch arrives."""
    _exit_with_parent()
    quiet_worker(log)
    classify_document(normalize_document(source="warm-up", title="Warm-up", text="Philadelphia, 8 U.S.C. 1373"))


def _exit_with_parent() -> None:
    """(worker process) End this process when the crawl's process is gone (kill -9): a spawned pool worker would
    otherwise wait for work forever. A batch it was storing then rolls back whole, like any interrupted
    transaction."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os._exit(1)

    threading.Thread(target=watch, name="lawwatch-exit-with-parent", daemon=True).start()


def _archive(url: str) -> Archive:
    if url not in _archives:
        _archives[url] = open_archive(url, migrate=False)  # the runner migrated it before the crawl
    return _archives[url]


def close_archives() -> None:
    """(worker process) Dispose of the archives the worker opened."""
    while _archives:
        _archives.popitem()[1].dispose()


@dataclass(frozen=True)
class BatchReport:
    """What the worker sends back for one batch: outcome counts, the messages of single items (each one error), and
    the batch's failure with the number of items it lost."""

    outcomes: dict[str, int] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    error: str | None = None
    lost: int = 0
    warnings: list[str] = field(default_factory=list)  # items stored with a change (a date left out, a cut title)
    new_ids: list[int] = field(default_factory=list)  # documents stored as new / updated
    updated_ids: list[int] = field(default_factory=list)


def _store_batch(settings: IngestSettings, items: list[DocumentItem]) -> BatchReport:
    """(worker process) Normalize, classify and store one batch in one transaction; when the archive refuses it,
    each item in a transaction of its own (``ingest_isolated``), so only the items it refuses are lost."""
    try:
        result = ingest_isolated(_archive(settings.archive_url), items, settings)
    except Exception as exc:  # the archive refused every item: the whole batch is lost
        message = (
            str(exc)
            if isinstance(exc, ArchiveError)
            else f"storing {len(items)} documents failed: {describe_error(exc)}"
        )
        logger.debug("%s", message)  # the crawl's process records and prints it
        return BatchReport(error=message, lost=len(items))
    dropped = [p.message for p in result.problems if p.dropped]
    return BatchReport(
        dict(result.outcomes()),
        dropped,
        warnings=[p.message for p in result.problems if not p.dropped],
        new_ids=[r.document_id for r in result.results if r.outcome == "new"],
        updated_ids=[r.document_id for r in result.results if r.outcome == "updated"],
    )


class ArchivePipeline:
    """Stores items with the ingest settings of the spider's ``CrawlContext``, ``batch_size`` per transaction.

    Each full batch of items is normalized, classified and stored by the crawl's worker process, so none of that
    work stalls downloading and parsing. Outcomes and the messages of unusable items reach the crawler's stats
    through the reactor (``callFromThread``); ``close_spider`` waits for every batch."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.settings: IngestSettings | None = None
        self.batch: list[DocumentItem] = []
        self.worker: ProcessPoolExecutor | None = None
        self.pending: list[Future[BatchReport]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open_spider(self) -> None:
        self.settings = crawl_context(self.crawler).ingest
        if self.settings is None:
            raise RuntimeError("the crawl context has no ingest settings: the archive pipeline cannot store items")
        self.worker = _SharedWorker.acquire(self.crawler.settings.getbool("LOG_ENABLED", True))

    async def close_spider(self) -> None:
        try:
            self.flush()
            for future in self.pending:
                await asyncio.wrap_future(future)
        finally:
            if self.worker is not None:
                self.worker = None
                _SharedWorker.release()

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, DocumentItem):
            record_error(self.crawler, f"dropped an item that is not a DocumentItem: {type(item).__name__}")
            raise DropItem("not a DocumentItem")
        self.batch.append(item)
        if self.settings is not None and len(self.batch) >= self.settings.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        if not self.batch:
            return
        if self.worker is None or self.settings is None:
            raise RuntimeError("the archive pipeline is not open")
        batch, self.batch = self.batch, []
        self.pending = [f for f in self.pending if not f.done()]
        future = self.worker.submit(_store_batch, self.settings, batch)
        future.add_done_callback(functools.partial(self._done, count=len(batch)))
        self.pending.append(future)

    def _done(self, future: Future[BatchReport], count: int) -> None:
        """(executor thread) Hand the batch's outcome to the reactor."""
        from twisted.internet import reactor

        try:
            report = future.result()
        except Exception as exc:  # the worker process itself died
            error = f"storing {count} documents failed: the store worker died ({type(exc).__name__})"
            report = BatchReport(error=error, lost=count)
        for message in report.messages:
            reactor.callFromThread(self._item_problem, message)
        for message in report.warnings:
            reactor.callFromThread(record_warning, self.crawler, message)
        if report.error is not None:
            reactor.callFromThread(self._failed, report.error, report.lost)
        else:
            reactor.callFromThread(self._stored, report)

    def _stored(self, report: BatchReport) -> None:
        assert self.crawler.stats is not None
        for outcome, n in Counter(report.outcomes).items():
            self.crawler.stats.inc_value(f"lawwatch/{outcome}", n)
        context = crawl_context(self.crawler)
        context.new_ids.extend(report.new_ids)
        context.updated_ids.extend(report.updated_ids)

    def _item_problem(self, message: str) -> None:
        """One item the ingest service could not use (or stored without a field): an error of that item alone,
        counted apart (``lawwatch/item_errors``) so the runner can tell it from lost batches and failed requests."""
        record_error(self.crawler, message)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("lawwatch/item_errors")

    def _failed(self, message: str, count: int) -> None:
        record_error(self.crawler, message)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("lawwatch/lost", count)
        if count > 1:  # record_error counted one
            self.crawler.stats.inc_value("lawwatch/errors", count - 1)
