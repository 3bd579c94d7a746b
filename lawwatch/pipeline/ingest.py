"""The one path every document takes into the archive: normalize → classify → store, then ``after_store``.

``ingest_batch(session, documents, settings)`` does one batch in the caller's transaction: each document is
normalized (a crawled item) and classified on its own, so one that fails is reported as a :class:`Problem` and the
others are stored; then ``store_documents`` writes the batch and :func:`after_store` writes what must commit with
it. :func:`ingest_isolated` does one batch in a transaction of its own, and when the archive refuses the batch it
stores each document again in a transaction of its own, so only the document the archive refuses is dropped (a
:class:`Problem` with its URL and the database's reason, never the SQL). ``ingest(archive, documents, settings)``
runs batches of ``settings.batch_size`` that way.

Both ways in use it: ``lawwatch import`` (already normalized documents, ``pipeline/runs.py``) and the crawl's worker
process (``crawler/pipelines.py``: ``DocumentItem`` batches, with :class:`IngestSettings` as its only
configuration). A document is tagged and stored the same way whichever way it came in.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from lawwatch.errors import ArchiveError, QueryError
from lawwatch.pipeline.classify import Classification, classify
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.models import Document, utcnow
from lawwatch.pipeline.normalize import NormalizedDocument
from lawwatch.pipeline.store import Sighting, StoreResult, record_sightings, store_documents, write_tags

if TYPE_CHECKING:
    from lawwatch.alerts.rules import ResolvedRule
    from lawwatch.pipeline.filters import DocumentFilter

logger = logging.getLogger(__name__)
OUTCOMES = ("new", "updated", "unchanged")


@dataclass(frozen=True)
class IngestSettings:
    """Everything the ingest service needs besides the documents. Picklable: the crawl's worker process gets it.

    ``rules`` are the resolved alert rules (``lawwatch.alerts.rules.resolve_rules(config)``) that
    :func:`after_store` matches stored documents against to write the alert outbox; empty: no alerts (a backfill
    imported with ``--no-alerts``)."""

    archive_url: str
    batch_size: int = 500
    rules: tuple[ResolvedRule, ...] = ()


class RawDocument(Protocol):
    """A document not normalized yet: a crawled ``crawler.items.DocumentItem``.

    ``normalize()`` returns the normalized document and a note when something had to be left out (an unreadable
    date), or raises ``ValueError`` when the document is unusable. ``listing_signature`` is recorded in
    ``source_state`` for the item's source (None too: the source has then seen the document)."""

    url: str
    listing_signature: str | None

    def normalize(self) -> tuple[NormalizedDocument, str | None]: ...


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one input document (``index`` in its batch); ``dropped``: it was not stored."""

    index: int
    message: str
    dropped: bool = True


@dataclass(frozen=True, slots=True)
class Ingested:
    """One stored document: as stored (normalized, classified), its store result, and for a crawled one the
    listing signature its source saw (``crawled`` tells a crawled document without a signature from an import)."""

    document: NormalizedDocument
    result: StoreResult
    crawled: bool = False
    listing_signature: str | None = None


@dataclass
class IngestResult:
    """What one batch did: the stored documents in input order, and the problems of the others."""

    stored: list[Ingested] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def results(self) -> list[StoreResult]:
        return [i.result for i in self.stored]

    def outcomes(self) -> Counter[str]:
        return Counter(i.result.outcome for i in self.stored)


def classify_document(doc: NormalizedDocument) -> NormalizedDocument:
    """``doc`` with its classification (doc type, jurisdictions, statutes) attached."""
    tags = classify(doc.body_text, title=doc.title, url=doc.url, form=doc.form)
    return replace(doc, classification=tags)


def _label(incoming: NormalizedDocument | RawDocument) -> str:
    if isinstance(incoming, NormalizedDocument):
        return incoming.url or incoming.external_id or repr(incoming.title[:80])
    return incoming.url


def describe_error(exc: BaseException) -> str:
    """One line saying why storing failed: the database's own message (its first line: never the SQL statement or
    its parameters, which SQLAlchemy's message carries), or the kind of an unexpected error."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        lines = str(exc.orig).strip().splitlines()
        return f"{type(exc.orig).__name__}: {(lines[0] if lines else '')[:300]}".rstrip(": ")
    if isinstance(exc, SQLAlchemyError):
        first = str(exc).split("[SQL:", 1)[0].split("(Background on this error", 1)[0].strip().splitlines()
        return f"{type(exc).__name__}: {(first[0] if first else '')[:300]}".rstrip(": ")
    if isinstance(exc, ArchiveError):
        return str(exc)
    return f"an internal error ({type(exc).__name__})"


def _prepare(
    index: int, incoming: NormalizedDocument | RawDocument, problems: list[Problem]
) -> NormalizedDocument | None:
    """The normalized, classified document, or None (with a problem recorded) when that failed."""
    label = _label(incoming)
    try:
        if isinstance(incoming, NormalizedDocument):
            doc = incoming
        else:
            doc, note = incoming.normalize()
            if note:
                problems.append(Problem(index, note, dropped=False))
    except ValueError as exc:
        problems.append(Problem(index, f"dropped unusable document {label}: {exc}"))
        return None
    except Exception as exc:
        logger.warning("normalizing %s failed: %s: %s", label, type(exc).__name__, exc)
        logger.debug("normalizing %s failed", label, exc_info=True)
        problems.append(Problem(index, f"dropped unusable document {label}: {type(exc).__name__}: {exc}"))
        return None
    try:
        return classify_document(doc)
    except Exception as exc:
        logger.warning("classifying %s failed: %s: %s", label, type(exc).__name__, exc)
        logger.debug("classifying %s failed", label, exc_info=True)
        problems.append(Problem(index, f"dropped {label}: classifying it failed: {type(exc).__name__}: {exc}"))
        return None


@dataclass(frozen=True, slots=True)
class _Prepared:
    index: int
    document: NormalizedDocument
    incoming: NormalizedDocument | RawDocument


def _prepare_all(documents: Sequence[NormalizedDocument | RawDocument], outcome: IngestResult) -> list[_Prepared]:
    prepared = []
    for index, incoming in enumerate(documents):
        doc = _prepare(index, incoming, outcome.problems)
        if doc is not None:
            prepared.append(_Prepared(index, doc, incoming))
    return prepared


def _store_prepared(session: Session, prepared: Sequence[_Prepared], settings: IngestSettings) -> list[Ingested]:
    results = store_documents(session, [p.document for p in prepared])
    stored = []
    for p, result in zip(prepared, results, strict=True):
        if isinstance(p.incoming, NormalizedDocument):
            stored.append(Ingested(p.document, result))
        else:
            stored.append(Ingested(p.document, result, crawled=True, listing_signature=p.incoming.listing_signature))
    after_store(session, stored, settings)
    return stored


def ingest_batch(
    session: Session, documents: Sequence[NormalizedDocument | RawDocument], settings: IngestSettings
) -> IngestResult:
    """Normalize, classify and store ``documents`` in the session's transaction, then :func:`after_store`.

    A document that cannot be normalized or classified becomes a :class:`Problem` and the rest are stored; an error
    while storing propagates (the caller's transaction then rolls the whole batch back)."""
    outcome = IngestResult()
    prepared = _prepare_all(documents, outcome)
    outcome.stored = _store_prepared(session, prepared, settings)
    return outcome


def ingest_isolated(
    archive: Archive, documents: Sequence[NormalizedDocument | RawDocument], settings: IngestSettings
) -> IngestResult:
    """:func:`ingest_batch` in a transaction of its own; when the archive refuses the batch, every document is
    stored again in a transaction of its own and only the ones it still refuses are dropped, each a :class:`Problem`
    naming it with the database's reason. When it refuses every one of several documents the fault is not theirs
    (the archive is down, its schema is wrong): that raises ``ArchiveError`` and nothing is stored."""
    outcome = IngestResult()
    prepared = _prepare_all(documents, outcome)
    if not prepared:
        return outcome
    try:
        with archive.session() as session:
            stored = _store_prepared(session, prepared, settings)
    except Exception as exc:
        if len(prepared) == 1:
            _refused(outcome, prepared[0], exc)
            return outcome
        reason = describe_error(exc)
        logger.warning("storing a batch of %d documents failed (%s); storing them one by one", len(prepared), reason)
    else:
        outcome.stored = stored
        return outcome
    refused: list[tuple[_Prepared, Exception]] = []
    for one in prepared:
        try:
            with archive.session() as session:
                outcome.stored.extend(_store_prepared(session, [one], settings))
        except Exception as error:
            refused.append((one, error))
    if len(refused) == len(prepared):
        raise ArchiveError(f"storing {len(prepared)} documents failed: {describe_error(refused[0][1])}")
    for one, why in refused:
        _refused(outcome, one, why)
    outcome.problems.sort(key=lambda p: p.index)
    return outcome


def _refused(outcome: IngestResult, prepared: _Prepared, exc: Exception) -> None:
    label = _label(prepared.incoming)
    reason = describe_error(exc)
    logger.warning("the archive refused %s: %s", label, reason)
    outcome.problems.append(Problem(prepared.index, f"dropped {label}: the archive refused it ({reason})"))


def after_store(session: Session, stored: Sequence[Ingested], settings: IngestSettings) -> None:
    """What must commit atomically with a batch's documents: runs in their transaction, after they are stored and
    before the caller commits. Anything written here exists if and only if the documents do.

    - Crawl state: each crawled document's listing signature goes into ``source_state`` under its source and
      canonical URL, so that source's next crawl does not download it again.
    - The alert outbox (the transactional outbox): one ``alert_outbox`` row per (rule of ``settings.rules``,
      document, target) that newly matches; see :mod:`lawwatch.alerts.outbox`."""
    record_sightings(
        session,
        [
            Sighting(i.result.source, i.document.url, i.document.external_id, i.listing_signature)
            for i in stored
            if i.crawled and i.document.url
        ],
    )
    if settings.rules:
        from lawwatch.alerts.outbox import enqueue, stored_for_outbox

        enqueue(session, stored_for_outbox(session, stored), settings.rules, utcnow())


@dataclass
class IngestCounts:
    """Store outcomes per source (``by_source[source][outcome]``); totals are derived from them. ``problems``: the
    documents that could not be stored (or were stored without a field), with their messages."""

    by_source: dict[str, Counter[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

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
    documents: Iterable[NormalizedDocument | RawDocument],
    settings: IngestSettings | None = None,
    *,
    batch_size: int | None = None,
    on_batch: Callable[[IngestResult], None] | None = None,
) -> IngestCounts:
    """Ingest ``documents`` with :func:`ingest_batch`, one transaction per ``settings.batch_size`` of them.

    Without ``settings``, the archive's own URL and no alert rules; ``batch_size`` overrides the settings' one.
    ``on_batch`` sees each committed batch's :class:`IngestResult`."""
    if settings is None:
        settings = IngestSettings(archive.engine.url.render_as_string(hide_password=False))
    if batch_size is not None:
        settings = replace(settings, batch_size=batch_size)
    counts = IngestCounts()
    batch: list[NormalizedDocument | RawDocument] = []

    def flush() -> None:
        result = ingest_isolated(archive, batch, settings)
        counts.add(result.results)
        counts.problems.extend(p.message for p in result.problems)
        if on_batch is not None:
            on_batch(result)
        batch.clear()

    for doc in documents:
        batch.append(doc)
        if len(batch) >= settings.batch_size:
            flush()
    if batch:
        flush()
    if counts.new:
        archive.optimize()
    return counts


def _tag_signature(
    doc_type: str, jurisdictions: Iterable[tuple[str, int, int, str]], statutes: Iterable[tuple[object, ...]]
) -> tuple[object, ...]:
    return (doc_type, tuple(sorted(jurisdictions)), tuple(sorted(statutes, key=repr)))


def reclassify(archive: Archive, where: DocumentFilter, *, batch_size: int = 500) -> dict[str, int]:
    """Re-run the classifier over the stored documents ``where`` selects (``DocumentFilter()``: all); rewrite the
    doc type and tags that changed. A filter with a full-text ``query`` raises ``QueryError``: only search runs one."""
    if not where.parsed_query.empty:
        raise QueryError(f"cannot reclassify by the full-text query {where.query!r}: filter by tags, source or date")
    conditions = where.conditions()
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
                    ((j.jurisdiction_id, j.mentions, j.first_offset, j.role) for j in doc.jurisdictions),
                    ((s.title, s.section, s.subsection, s.start, s.end) for s in doc.statutes),
                )
                after = _tag_signature(
                    tags.doc_type,
                    ((j.id, j.mentions, j.first, j.role) for j in tags.jurisdictions),
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
