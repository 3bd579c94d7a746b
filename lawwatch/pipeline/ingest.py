"""The one path every document takes into the archive: normalize → classify → store, in batches.

Crawling (the Scrapy item pipeline) and ``lawwatch import`` both end here, so a document is tagged and stored the
same way whichever way it came in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import selectinload

from lawwatch.pipeline.classify import Classification, classify
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.models import Document
from lawwatch.pipeline.normalize import NormalizedDocument
from lawwatch.pipeline.store import StoreResult, store_documents, write_tags


def classify_document(doc: NormalizedDocument) -> NormalizedDocument:
    """``doc`` with its classification (doc type, jurisdictions, statutes) attached."""
    tags = classify(doc.body_text, title=doc.title, url=doc.url, form=doc.form)
    return replace(doc, classification=tags)


OUTCOMES = ("new", "updated", "unchanged")


@dataclass
class IngestCounts:
    """Store outcomes per source (``by_source[source][outcome]``); totals are derived from them."""

    by_source: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, results: Iterable[StoreResult]) -> None:
        for result in results:
            self.by_source.setdefault(result.source, Counter())[result.outcome] += 1

    def total(self, outcome: str) -> int:
        return sum(counts[outcome] for counts in self.by_source.values())

    @property
    def new(self) -> int:
        return self.total("new")

    @property
    def updated(self) -> int:
        return self.total("updated")

    @property
    def unchanged(self) -> int:
        return self.total("unchanged")

    def as_dict(self) -> dict[str, int]:
        return {outcome: self.total(outcome) for outcome in OUTCOMES}


def ingest(
    archive: Archive,
    docs: Iterable[NormalizedDocument],
    *,
    batch_size: int = 500,
    on_batch: Callable[[list[StoreResult]], None] | None = None,
) -> IngestCounts:
    """Classify and store ``docs``, committing once per batch of ``batch_size``."""
    counts = IngestCounts()
    batch: list[NormalizedDocument] = []

    def flush() -> None:
        with archive.session() as session:
            results = store_documents(session, batch)
        counts.add(results)
        if on_batch is not None:
            on_batch(results)
        batch.clear()

    for doc in docs:
        batch.append(classify_document(doc))
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    if counts.new:
        archive.optimize()
    return counts


def _tag_signature(doc_type: str, jurisdictions: Iterable[tuple[str, int, int]], statutes: Iterable[tuple]) -> tuple:
    return (doc_type, tuple(sorted(jurisdictions)), tuple(sorted(statutes, key=repr)))


def reclassify(archive: Archive, conditions: Sequence[ColumnElement[bool]], *, batch_size: int = 500) -> dict[str, int]:
    """Re-run the classifier over stored documents matching ``conditions``; rewrite doc type and tags that changed."""
    seen = changed = 0
    last_id = 0
    while True:
        with archive.session() as session:
            docs = session.scalars(
                select(Document)
                .where(Document.id > last_id, *conditions)
                .order_by(Document.id)
                .limit(batch_size)
                .options(selectinload(Document.jurisdictions), selectinload(Document.statutes))
            ).all()
            if not docs:
                break
            rewrites: list[tuple[int, Classification]] = []
            for doc in docs:
                tags = classify(doc.body_text, title=doc.title, url=doc.url, form=doc.form)
                before = _tag_signature(
                    doc.doc_type,
                    ((j.jurisdiction_id, j.mentions, j.first_offset) for j in doc.jurisdictions),
                    ((s.title, s.section, s.subsection, s.start, s.end) for s in doc.statutes),
                )
                after = _tag_signature(
                    tags.doc_type,
                    ((j.id, j.mentions, j.first) for j in tags.jurisdictions),
                    ((s.title, s.section, s.subsection, s.start, s.end) for s in tags.statutes),
                )
                if before != after:
                    rewrites.append((doc.id, tags))
                    session.execute(update(Document).where(Document.id == doc.id).values(doc_type=tags.doc_type))
            write_tags(session, rewrites, replace=True)
            seen += len(docs)
            changed += len(rewrites)
            last_id = docs[-1].id
    return {"documents": seen, "changed": changed}
