"""What runs in the crawl's ingest worker process: one batch of ``DocumentItem`` → normalize, classify, store.

The item pipeline (``crawler/pipelines.py``) submits :func:`store_batch` to ONE worker process: forked by the crawl's
process before its reactor starts (``pipelines.fork_worker``: the worker then has the crawl's imports — Scrapy, the
archive, SQLAlchemy — for free and starts in milliseconds instead of ~0.5 s of CPU), else spawned with :func:`warm_up`.
A spawned process imports what it unpickles, so this module imports neither Scrapy nor Twisted: only the ingest
service, the archive and the item class.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.util
import os
import sys
import threading
from dataclasses import dataclass, field

from lawwatch import heap
from lawwatch.crawler.items import DocumentItem
from lawwatch.crawler.logs import quiet_worker
from lawwatch.errors import ArchiveError
from lawwatch.pipeline.db import Archive, open_archive
from lawwatch.pipeline.ingest import IngestSettings, classify_document, describe_error, ingest_isolated
from lawwatch.pipeline.normalize import normalize_document

logger = logging.getLogger("lawwatch.crawler.pipelines")  # the name the worker's messages always had

_archives: dict[str, Archive] = {}  # (worker process) opened once per archive URL


def warm_up(log: bool = True) -> None:
    """(spawned worker process, its initializer) :func:`start`, then load the classifier before the first batch
    arrives."""
    start(log)
    ready()


def start(log: bool = True) -> None:
    """(worker process, its initializer) Exit with the crawl; log only with ``log`` (every failure is sent back and
    printed by the crawl); end without tearing the interpreter down. A worker forked by the crawl before its reactor
    started (``pipelines.fork_worker``) runs only this at once, and loads the classifier when the crawl's first item
    arrives (:func:`ready`), so a crawl that finds nothing new never pays for it."""
    _exit_with_parent()
    quiet_worker(log)
    if multiprocessing.parent_process() is not None:  # a worker process (never the crawl's own, nor a test's)
        # multiprocessing runs its finalizers as the worker's process ends, spawned or forked (a forked child
        # ends with os._exit and never runs atexit); the lowest priority runs last
        multiprocessing.util.Finalize(None, _end, exitpriority=-(2**31))


_loaded: list[bool] = []  # (worker process) the classifier is loaded


def load_classifier() -> None:
    """(worker process) Load the classifier's tables (once) by classifying a short document."""
    if not _loaded:
        classify_document(normalize_document(source="warm-up", title="Warm-up", text="Philadelphia, 8 U.S.C. 1373"))
        _loaded.append(True)


def _end() -> None:
    """(worker process, as it ends) Close the archives' connections, flush, and end the process at once. Everything
    the worker had to do is done by then (the pool sends its shutdown only after the last batch's report, which the
    worker wrote to its pipe itself), and freeing the classifier's tables object by object, as the interpreter's
    teardown would, costs ~0.2 s of CPU per crawl for nothing."""
    close_archives()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


def started() -> None:
    """(worker process) Nothing: the forking runner submits it so the worker is forked at once."""


def ready() -> None:
    """(worker process) Load the classifier: the pipeline submits it with a crawl's first item, which starts a
    spawned worker (whose initializer loaded it already) or wakes a forked one. What the worker holds then lasts until
    it ends: it is loaded with no collection on the way and then taken out of the garbage collector's reach
    (``heap.loading_for_good``; the classifier's tables alone are ~90,000 objects that each full collection would
    walk)."""
    if _loaded:
        return
    if multiprocessing.parent_process() is None:  # (a test's own process: its heap is left alone)
        load_classifier()
        return
    with heap.loading_for_good():
        load_classifier()


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


def store_batch(settings: IngestSettings, items: list[DocumentItem]) -> BatchReport:
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
