"""The Scrapy item pipeline: ``DocumentItem`` → normalize → classify → store, in batches.

Items are normalized on the reactor thread; full batches go to ONE worker process shared by every source of the
crawl, which classifies and stores each batch in one transaction (``Archive.session()``), so a failure rolls the
whole batch back and never leaves a half-written document, and the CPU-heavy classification runs on another core
than downloading and parsing. One worker keeps each source's batches in order. Outcomes are counted on the
crawler's stats (``lawwatch/new``, ``/updated``, ``/unchanged``); unusable items are dropped with a recorded error.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lawwatch.crawler.base import SIGNATURES
from lawwatch.crawler.items import DocumentItem
from lawwatch.crawler.middlewares import record_error
from lawwatch.pipeline.db import Archive, open_archive
from lawwatch.pipeline.ingest import classify_document
from lawwatch.pipeline.models import Document
from lawwatch.pipeline.normalize import NormalizedDocument, normalize_document
from lawwatch.pipeline.store import StoreResult, store_documents

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

def to_document(item: DocumentItem) -> NormalizedDocument:
    """The normalized document of ``item``; raises ValueError when it is unusable."""
    metadata: dict[str, Any] = dict(item.metadata)
    if item.listing_signature:
        metadata[SIGNATURES] = {item.source: item.listing_signature}
    return normalize_document(
        source=item.source,
        title=item.title,
        url=item.url,
        external_id=item.external_id,
        html=item.html,
        text=item.text,
        published=item.published,
        form=item.form,
        metadata=metadata,
    )


class _SharedWorker:
    """The crawl's one classify-and-store process, started with the first pipeline and stopped with the last."""

    executor: ProcessPoolExecutor | None = None
    users = 0

    @classmethod
    def acquire(cls, url: str) -> ProcessPoolExecutor:
        if cls.executor is None:
            context = multiprocessing.get_context("spawn")  # never fork a process that runs a reactor and threads
            cls.executor = ProcessPoolExecutor(1, mp_context=context, initializer=_open_worker, initargs=(url,))
        cls.users += 1
        return cls.executor

    @classmethod
    def release(cls) -> None:
        cls.users -= 1
        if cls.users == 0 and cls.executor is not None:
            cls.executor.shutdown(wait=True)
            cls.executor = None


_worker_archive: Archive | None = None


def _open_worker(url: str) -> None:
    """(worker process) Open the archive once and load the classifier before the first batch arrives."""
    global _worker_archive
    _worker_archive = open_archive(url, migrate=False)
    classify_document(normalize_document(source="warm-up", title="Warm-up", text="Philadelphia, 8 U.S.C. 1373"))


# (outcome counts, messages about single items, the batch's failure or None, documents lost with that failure)
BatchOutcome = tuple[dict[str, int], list[str], str | None, int]


def _documents(items: list[DocumentItem]) -> tuple[list[NormalizedDocument], list[str]]:
    """Normalize items; an unusable one is dropped with a message, an unreadable date is dropped from its item."""
    docs: list[NormalizedDocument] = []
    messages: list[str] = []
    for item in items:
        try:
            docs.append(to_document(item))
            continue
        except ValueError as exc:
            if item.published is None or "date" not in str(exc):
                messages.append(f"dropped unusable document {item.url}: {exc}")
                continue
            messages.append(f"{item.url}: unreadable date {item.published!r}; stored without one")
        try:
            docs.append(to_document(replace(item, published=None)))
        except ValueError as exc:
            messages.append(f"dropped unusable document {item.url}: {exc}")
    return docs, messages


def _store_batch(items: list[DocumentItem]) -> BatchOutcome:
    """(worker process) Normalize, classify and store one batch in one transaction."""
    assert _worker_archive is not None
    docs, messages = _documents(items)
    try:
        batch = [classify_document(doc) for doc in docs]
        with _worker_archive.session() as session:
            before = _signatures_of(session, batch)
            results = store_documents(session, batch)
            _merge_signatures(session, batch, results, before)
    except Exception as exc:  # the whole batch rolled back: every document of it is an error
        logger.exception("storing a batch of %d documents failed", len(docs))
        return {}, messages, f"storing {len(docs)} documents failed: {type(exc).__name__}: {exc}", len(docs)
    return dict(Counter(r.outcome for r in results)), messages, None, 0


class ArchivePipeline:
    """Stores items in the archive named by ``LAWWATCH_ARCHIVE_URL``, ``LAWWATCH_BATCH_SIZE`` per transaction.

    Each full batch of items is normalized, classified and stored by the crawl's worker process, so none of that
    work stalls downloading and parsing. Outcomes and the messages of unusable items reach the crawler's stats
    through the reactor (``callFromThread``); ``close_spider`` waits for every batch."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.url = crawler.settings.get("LAWWATCH_ARCHIVE_URL")
        self.batch_size = crawler.settings.getint("LAWWATCH_BATCH_SIZE", 200)
        self.batch: list[DocumentItem] = []
        self.worker: ProcessPoolExecutor | None = None
        self.pending: list[Future[BatchOutcome]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open_spider(self) -> None:
        self.worker = _SharedWorker.acquire(self.url)

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
        if len(self.batch) >= self.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        if not self.batch:
            return
        if self.worker is None:
            raise RuntimeError("the archive pipeline is not open")
        batch, self.batch = self.batch, []
        self.pending = [f for f in self.pending if not f.done()]
        future = self.worker.submit(_store_batch, batch)
        future.add_done_callback(functools.partial(self._done, count=len(batch)))
        self.pending.append(future)

    def _done(self, future: Future[BatchOutcome], count: int) -> None:
        """(executor thread) Hand the batch's outcome to the reactor."""
        from twisted.internet import reactor

        try:
            outcomes, messages, error, lost = future.result()
        except Exception as exc:  # the worker process itself died
            outcomes, messages, lost = {}, [], count
            error = f"storing {count} documents failed: the store worker died ({type(exc).__name__})"
        for message in messages:
            reactor.callFromThread(record_error, self.crawler, message)
        if error is not None:
            reactor.callFromThread(self._failed, error, lost)
        else:
            reactor.callFromThread(self._stored, Counter(outcomes))

    def _stored(self, outcomes: Counter[str]) -> None:
        assert self.crawler.stats is not None
        for outcome, n in outcomes.items():
            self.crawler.stats.inc_value(f"lawwatch/{outcome}", n)

    def _failed(self, message: str, count: int) -> None:
        record_error(self.crawler, message)
        assert self.crawler.stats is not None
        if count > 1:  # record_error counted one
            self.crawler.stats.inc_value("lawwatch/errors", count - 1)


Known = dict[str, tuple[dict[str, Any], dict[str, Any]]]


def _signatures_of(session: Session, docs: list[NormalizedDocument]) -> Known:
    """(metadata, signatures) of the stored documents with the batch's URLs, read before the batch is stored."""
    urls = sorted({d.url for d in docs if d.url})
    found: Known = {}
    for start in range(0, len(urls), 400):
        chunk = urls[start : start + 400]
        for url, meta in session.execute(select(Document.url, Document.meta).where(Document.url.in_(chunk))):
            meta = dict(meta or {})
            found[url] = (meta, dict(meta.get(SIGNATURES) or {}))
    return found


def _merge_signatures(session: Session, docs: list[NormalizedDocument], results: list[StoreResult],
                      before: Known) -> None:
    """Record each source's listing signature on the stored document, keeping the other sources' signatures.

    ``store_documents`` leaves an unchanged document's row alone and replaces an updated one's metadata; a source
    that reached a document another source stored (or whose signature changed without a content change) records its
    signature here, so its next crawl does not download that document again. Nothing is written when every
    signature is already recorded."""
    for doc, result in zip(docs, results, strict=True):
        mine = dict(doc.metadata.get(SIGNATURES) or {})
        if not mine or not doc.url:
            continue
        if result.outcome == "new" or doc.url not in before:
            before[doc.url] = (dict(doc.metadata), mine)
            continue
        meta, previous = before[doc.url]
        merged = {**previous, **mine}
        if result.outcome == "unchanged" and merged == previous:
            continue
        if result.outcome == "updated":
            if merged == mine:
                continue
            meta = dict(doc.metadata)
        values = {**meta, SIGNATURES: merged}
        session.execute(update(Document).where(Document.id == result.document_id).values(meta=values))
        before[doc.url] = ({**meta, SIGNATURES: merged}, merged)
