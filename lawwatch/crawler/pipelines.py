"""The Scrapy item pipeline: batches of ``DocumentItem`` → the ingest service (``pipeline.ingest.ingest_batch``).

Full batches go to ONE worker process shared by every source of the crawl, which normalizes, classifies and stores
each batch in one transaction (``Archive.session()``) with the ingest service, so a failure while storing rolls the
whole batch back and never leaves a half-written document (the batch is then stored item by item, each in a
transaction of its own: ``pipeline.ingest.ingest_isolated``; only an item the archive refuses is lost), and the
CPU-heavy classification runs on another core than downloading and parsing. One worker keeps each source's batches
in order. The worker's only configuration is the picklable ``IngestSettings`` of the spider's ``CrawlContext``, sent
with each batch. Outcomes are counted on the crawler's stats (``lawwatch/new``, ``/updated``, ``/unchanged``); an
item that cannot be normalized or classified is an error of its own (also counted in ``lawwatch/item_errors``), and
the rest of its batch is stored; the items of a batch that failed are counted in ``lawwatch/lost``. What runs in the
worker is in ``crawler/worker.py``, which imports no Scrapy (the spawned worker imports only what it runs).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import multiprocessing
import threading
from collections import Counter
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from lawwatch.crawler.context import crawl_context
from lawwatch.crawler.items import DocumentItem
from lawwatch.crawler.middlewares import record_error, record_warning
from lawwatch.crawler.worker import BatchReport, close_archives, ready, start, started, store_batch, warm_up

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

    from lawwatch.pipeline.ingest import IngestSettings

# The worker's side (crawler/worker.py) under the names it had here.
_store_batch = store_batch
_warm_up = warm_up
__all__ = ["ArchivePipeline", "BatchReport", "close_archives", "fork_worker", "stop_worker"]


class _SharedWorker:
    """The crawl's one ingest process: forked by the runner before the reactor starts (:func:`fork_worker`) and
    stopped by it after the reactor (:func:`stop_worker`), or else spawned with the first pipeline and stopped with
    the last."""

    executor: ProcessPoolExecutor | None = None
    users = 0
    forked = False  # the runner forked it and stops it

    @classmethod
    def fork(cls, log: bool = True) -> bool:
        """Fork the worker now, when the crawl's process runs no thread but this one (a thread's locks would stay
        locked forever in the child): whether it was forked."""
        if cls.executor is not None or threading.active_count() != 1:
            return False
        executor = ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("fork"), initializer=start, initargs=(log,)
        )
        gc.freeze()  # the child's collections then leave the crawl's objects (and their shared pages) alone
        try:
            executor.submit(started)  # a forking executor forks at its first task, before its own threads start
        except (OSError, BrokenExecutor):  # no fork (out of memory, a process limit): the pipeline spawns one
            executor.shutdown(wait=False)
            return False
        finally:
            gc.unfreeze()
        cls.executor, cls.forked = executor, True
        return True

    @classmethod
    def acquire(cls, log: bool = True) -> ProcessPoolExecutor:
        """The worker (spawned by the first caller when none was forked; ``log``: whether it logs, as the crawl's
        Scrapy log does)."""
        if cls.executor is None:
            context = multiprocessing.get_context("spawn")  # never fork a process that runs a reactor and threads
            cls.executor = ProcessPoolExecutor(1, mp_context=context, initializer=warm_up, initargs=(log,))
        cls.users += 1
        return cls.executor

    @classmethod
    def release(cls) -> None:
        cls.users -= 1
        if cls.users == 0 and not cls.forked:
            cls.stop()

    @classmethod
    def stop(cls) -> None:
        if cls.executor is not None:
            cls.executor.shutdown(wait=True)
        cls.executor, cls.forked = None, False


def fork_worker(log: bool = True) -> bool:
    """(the crawl's runner, before the reactor starts) Fork the crawl's ingest worker, so it starts with every module
    the crawl imported already (``crawler/worker.py``); whether it did (it does not while another thread runs: the
    pipeline then spawns one). The runner stops it with :func:`stop_worker` once the reactor has stopped."""
    return _SharedWorker.fork(log)


def stop_worker() -> None:
    """(the crawl's runner, after the reactor stopped) Wait for the worker to finish and end."""
    _SharedWorker.stop()


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
        self.started = False  # the worker process was asked to start (by the first item)

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
        if not self.started and self.worker is not None:
            # The first item starts a spawned worker (its imports, the classifier's warm-up) or has the forked one
            # load the classifier, while the first batch fills; a crawl that finds nothing new never pays for it.
            self.started = True
            with contextlib.suppress(BrokenExecutor):  # (a dead worker is reported with the batch)
                self.worker.submit(ready)
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
        try:
            future = self.worker.submit(store_batch, self.settings, batch)
        except BrokenExecutor as exc:  # the worker died before this batch (while starting, or with an earlier one)
            self._failed(
                f"storing {len(batch)} documents failed: the store worker died ({type(exc).__name__})", len(batch)
            )
            return
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
