"""Writing documents into the archive: batch upserts with versions and tags, in the caller's transaction.

``store_documents`` dedups by canonical URL and by (source, external id). Identical content (same content hash) is
``unchanged`` and touches no row; changed content keeps the earlier text as a ``document_versions`` row and updates
the document and its tags (``updated``); everything else is ``new``. One batch is a handful of statements, never
one commit per row; the caller owns the transaction (``Archive.session()``), so whatever else must happen
atomically with the documents (the alert outbox, the crawl state) is written in the same one.

``record_sightings`` / ``source_state_of`` write and read the per-source crawl state (``source_state``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, cast

from sqlalchemy import Table, delete, insert, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lawwatch.pipeline.models import (
    Document,
    DocumentJurisdiction,
    DocumentStatute,
    DocumentVersion,
    Jurisdiction,
    SourceState,
)
from lawwatch.pipeline.normalize import NormalizedDocument

if TYPE_CHECKING:
    from lawwatch.pipeline.classify import Classification

Outcome = Literal["new", "updated", "unchanged"]
DOCUMENTS = cast(Table, Document.__table__)
_CHUNK = 400  # keeps IN lists and multi-row VALUES well under every backend's bound-parameter limit


@dataclass(frozen=True, slots=True)
class StoreResult:
    """What storing one document did. ``source``/``url``/``external_id`` are the incoming document's.

    ``content_changed`` says whether the text a reader sees changed: True for ``new``; for ``updated``, True when
    the body text changed and False when only the title did (whitespace-only edits are ``unchanged``: the content
    hash folds whitespace); False for ``unchanged``."""

    document_id: int
    outcome: Outcome
    source: str
    url: str | None
    external_id: str | None
    content_changed: bool = False


@dataclass(frozen=True, slots=True)
class Sighting:
    """A source listed a document: ``key`` is its canonical URL, ``signature`` what the listing said of its
    version (None: nothing). One ``source_state`` row per (source, key)."""

    source: str
    key: str
    external_id: str | None
    signature: str | None


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _identity(doc: NormalizedDocument) -> list[tuple[str, Any]]:
    keys: list[tuple[str, Any]] = []
    if doc.url:
        keys.append(("url", doc.url))
    if doc.external_id:
        keys.append(("key", (doc.source, doc.external_id)))
    return keys


def _split_duplicates(docs: Sequence[NormalizedDocument]) -> list[Sequence[NormalizedDocument]]:
    """Split a batch where an identity repeats, so later copies are compared with the stored earlier ones."""
    parts: list[Sequence[NormalizedDocument]] = []
    seen: set[tuple[str, Any]] = set()
    start = 0
    for index, doc in enumerate(docs):
        keys = _identity(doc)
        if any(k in seen for k in keys):
            parts.append(docs[start:index])
            start, seen = index, set()
        seen.update(keys)
    parts.append(docs[start:])
    return [p for p in parts if p]


def _existing(session: Session, docs: Sequence[NormalizedDocument]) -> dict[tuple[str, Any], Document]:
    urls = [d.url for d in docs if d.url]
    pairs = [(d.source, d.external_id) for d in docs if d.external_id]
    found: dict[tuple[str, Any], Document] = {}
    conditions = [Document.url.in_(chunk) for chunk in _chunks(urls)]
    conditions += [tuple_(Document.source, Document.external_id).in_(chunk) for chunk in _chunks(pairs)]
    for chunk in _chunks(conditions, 8):
        for row in session.scalars(select(Document).where(or_(*chunk))):
            if row.url:
                found[("url", row.url)] = row
            if row.external_id:
                found[("key", (row.source, row.external_id))] = row
    return found


def _document_values(doc: NormalizedDocument, now: datetime) -> dict[str, Any]:
    return {
        "source": doc.source,
        "url": doc.url,
        "external_id": doc.external_id,
        "title": doc.title,
        "published_at": doc.published_at,
        "fetched_at": doc.fetched_at,
        "updated_at": now,
        "body_text": doc.body_text,
        "content_hash": doc.content_hash,
        "doc_type": doc.doc_type,
        "form": doc.form,
        "meta": dict(doc.metadata),
    }


def document_row(doc: NormalizedDocument, now: datetime) -> dict[str, Any]:
    """The ``documents`` row of ``doc``, keyed by column name (for Core inserts)."""
    values = _document_values(doc, now)
    values["metadata"] = values.pop("meta")
    return values


def _insert_ignore(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    dialect = session.get_bind().dialect.name
    maker = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for chunk in _chunks(rows):
        session.execute(maker(table).on_conflict_do_nothing(), list(chunk))


def write_tags(session: Session, pairs: Sequence[tuple[int, Classification | None]], *, replace: bool) -> None:
    """Write the jurisdiction and statute tags of each (document id, classification); ``replace`` drops old tags
    first."""
    ids = [doc_id for doc_id, _ in pairs]
    if replace and ids:
        for chunk in _chunks(ids):
            session.execute(delete(DocumentJurisdiction).where(DocumentJurisdiction.document_id.in_(chunk)))
            session.execute(delete(DocumentStatute).where(DocumentStatute.document_id.in_(chunk)))
    places: dict[str, dict[str, Any]] = {}
    links: list[dict[str, Any]] = []
    cites: list[dict[str, Any]] = []
    for doc_id, tags in pairs:
        if tags is None:
            continue
        for j in tags.jurisdictions:
            places[j.id] = {"id": j.id, "name": j.name, "kind": j.kind, "state": j.state}
            links.append(
                {
                    "document_id": doc_id,
                    "jurisdiction_id": j.id,
                    "mentions": j.mentions,
                    "first_offset": j.first,
                    "role": getattr(j, "role", "named"),
                }
            )
        for s in tags.statutes:
            cites.append(
                {
                    "document_id": doc_id,
                    "title": s.title,
                    "section": s.section,
                    "subsection": s.subsection,
                    "text": s.text,
                    "start": s.start,
                    "end": s.end,
                }
            )
    if places:
        _insert_ignore(session, Jurisdiction.__table__, list(places.values()))
    tables = (cast(Table, DocumentJurisdiction.__table__), cast(Table, DocumentStatute.__table__))
    for table, rows in zip(tables, (links, cites), strict=True):
        for chunk in _chunks(rows):
            session.execute(insert(table), list(chunk))


def _insert_new(session: Session, fresh: Sequence[NormalizedDocument], now: datetime) -> list[int]:
    """Insert new documents in multi-row statements; ids come back matched by identity, not by row order (an
    ordered RETURNING would make SQLAlchemy insert row by row on SQLite)."""
    ids: dict[tuple[str | None, str, str | None], int] = {}
    anonymous: list[int] = []
    for chunk in _chunks(fresh):
        keyed = [d for d in chunk if d.url or d.external_id]
        if keyed:
            table = DOCUMENTS
            stmt = insert(table).returning(table.c.id, table.c.url, table.c.source, table.c.external_id)
            for row in session.execute(stmt, [document_row(d, now) for d in keyed]):
                ids[(row.url, row.source, row.external_id)] = row.id
        for doc in chunk:  # no identity at all: cannot be deduplicated, inserted one by one in order
            if not (doc.url or doc.external_id):
                anonymous.append(
                    session.scalars(insert(Document).returning(Document.id), [_document_values(doc, now)]).one()
                )
    unnamed = iter(anonymous)
    return [ids[(d.url, d.source, d.external_id)] if (d.url or d.external_id) else next(unnamed) for d in fresh]


def _folded(text: str) -> str:
    return " ".join(text.split())


def _store_unique(session: Session, docs: Sequence[NormalizedDocument], now: datetime) -> list[StoreResult]:
    existing = _existing(session, docs)
    outcomes: list[tuple[Outcome, int | None]] = []
    body_changed: dict[int, bool] = {}
    fresh: list[NormalizedDocument] = []
    changed: list[tuple[Document, NormalizedDocument]] = []
    for doc in docs:
        row = next((existing[k] for k in _identity(doc) if k in existing), None)
        if row is None:
            outcomes.append(("new", None))
            fresh.append(doc)
        elif row.content_hash == doc.content_hash:
            outcomes.append(("unchanged", row.id))
        else:
            outcomes.append(("updated", row.id))
            changed.append((row, doc))
            body_changed[row.id] = _folded(row.body_text) != _folded(doc.body_text)

    new_ids = _insert_new(session, fresh, now)
    if changed:
        session.execute(
            insert(DocumentVersion),
            [
                {
                    "document_id": row.id,
                    "title": row.title,
                    "body_text": row.body_text,
                    "content_hash": row.content_hash,
                    "meta": row.meta,
                    "fetched_at": row.fetched_at,
                    "superseded_at": now,
                }
                for row, _ in changed
            ],
        )
        for row, doc in changed:
            values = _document_values(doc, now)
            values["url"] = row.url or doc.url
            values["external_id"] = row.external_id or doc.external_id
            values["source"] = row.source  # a document keeps the source that first reported it
            if doc.published_at is None:
                values["published_at"] = row.published_at
            session.execute(update(Document).where(Document.id == row.id).values(**values))
            session.expire(row)

    write_tags(session, [(i, d.classification) for i, d in zip(new_ids, fresh, strict=True)], replace=False)
    write_tags(session, [(row.id, doc.classification) for row, doc in changed], replace=True)

    fresh_ids = iter(new_ids)
    results = []
    for doc, (outcome, doc_id) in zip(docs, outcomes, strict=True):
        resolved = next(fresh_ids) if doc_id is None else doc_id
        content_changed = outcome == "new" or body_changed.get(resolved, False)
        results.append(StoreResult(resolved, outcome, doc.source, doc.url, doc.external_id, content_changed))
    return results


def store_documents(session: Session, docs: Sequence[NormalizedDocument]) -> list[StoreResult]:
    """Upsert ``docs`` in the session's transaction; one :class:`StoreResult` per input, in input order."""
    now = datetime.now(UTC)
    results: list[StoreResult] = []
    for part in _split_duplicates(docs):
        results.extend(_store_unique(session, part, now))
        session.flush()
    return results


def record_sightings(session: Session, sightings: Sequence[Sighting], now: datetime | None = None) -> None:
    """Upsert each source's listing state of each document, in the session's transaction (the last sighting of a
    (source, key) in ``sightings`` wins)."""
    latest = {(s.source, s.key): s for s in sightings}
    if not latest:
        return
    seen_at = now or datetime.now(UTC)
    rows = [
        {"source": s.source, "key": s.key, "external_id": s.external_id, "signature": s.signature, "seen_at": seen_at}
        for s in latest.values()
    ]
    table = cast(Table, SourceState.__table__)
    maker = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for chunk in _chunks(rows, _CHUNK // 5):
        statement = maker(table).values(list(chunk))
        excluded = statement.excluded
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.source, table.c.key],
                set_={
                    "external_id": excluded.external_id,
                    "signature": excluded.signature,
                    "seen_at": excluded.seen_at,
                },
            )
        )


def source_state_of(session: Session, source: str) -> list[tuple[str, str | None, str | None]]:
    """``(key, external_id, signature)`` of every ``source_state`` row of ``source`` (a range of its primary key)."""
    rows = session.execute(
        select(SourceState.key, SourceState.external_id, SourceState.signature).where(SourceState.source == source)
    )
    return [(row.key, row.external_id, row.signature) for row in rows]
