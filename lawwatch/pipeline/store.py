"""Writing documents into the archive: batch upserts with versions and tags, in the caller's transaction.

``store_documents`` dedups by canonical URL and by (source, external id). Identical content (same content hash) is
``unchanged`` and touches no document row; changed content keeps the earlier text as a ``document_versions`` row and
updates the document and its tags (``updated``); everything else is ``new``. Every stored document is recorded in
``document_sources`` under the incoming source, its id and URL there (``--source X`` means "seen via X"). One batch is
a handful of statements, never one commit per row; the caller owns the transaction (``Archive.session()``), so
whatever else must happen atomically with the documents (the alert outbox, the crawl state) is written in the same
one.

Several writers at once (two crawls, a crawl and an import) converge without errors: new documents are inserted with
``INSERT … ON CONFLICT DO NOTHING`` and an update applies only if the row still has the content hash it was read
with (``UPDATE … WHERE content_hash = <read>``). A document another writer stored or changed in between is read
again and compared once more, so the loser of a race sees ``unchanged`` (or ``updated`` when its text differs) and
the winner alone writes the version, the tags and (through ``after_store``) the alert outbox rows. Every other table
is written with upserts. Rows are written in a fixed order (by URL, by id, by key) so that two PostgreSQL
transactions never wait on each other in a cycle.

``record_sightings`` / ``source_state_of`` write and read the per-source crawl state (``source_state``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, cast

from sqlalchemy import Table, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lawwatch.errors import ArchiveError
from lawwatch.pipeline.models import (
    Document,
    DocumentJurisdiction,
    DocumentSource,
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
_RACE_ROUNDS = 5  # reads again of documents other writers stored meanwhile, before giving up


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
    """The stored documents ``docs`` would match, by identity; read afresh (another writer may have changed rows
    this session loaded before)."""
    urls = [d.url for d in docs if d.url]
    pairs = [(d.source, d.external_id) for d in docs if d.external_id]
    found: dict[tuple[str, Any], Document] = {}
    conditions = [Document.url.in_(chunk) for chunk in _chunks(urls)]
    conditions += [tuple_(Document.source, Document.external_id).in_(chunk) for chunk in _chunks(pairs)]
    for chunk in _chunks(conditions, 8):
        query = select(Document).where(or_(*chunk)).execution_options(populate_existing=True)
        for row in session.scalars(query):
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


def _insert(session: Session) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_do_nothing`` / ``on_conflict_do_update``)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _insert_ignore(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    maker = _insert(session)
    for chunk in _chunks(rows):
        session.execute(maker(table).on_conflict_do_nothing(), list(chunk))


def upsert(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str], update: Sequence[str]
) -> None:
    """``INSERT … ON CONFLICT (keys) DO UPDATE SET`` the ``update`` columns, in key order (the last row of a key
    wins)."""
    latest = {tuple(row[k] for k in keys): row for row in rows}
    ordered = [latest[key] for key in sorted(latest, key=repr)]
    maker = _insert(session)
    size = max(1, _CHUNK // max(1, len(table.columns)))
    for chunk in _chunks(ordered, size):
        statement = maker(table).values(list(chunk))
        excluded = statement.excluded
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c[k] for k in keys], set_={c: excluded[c] for c in update}
            )
        )


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
        _insert_ignore(session, Jurisdiction.__table__, [places[k] for k in sorted(places)])
    tables = (cast(Table, DocumentJurisdiction.__table__), cast(Table, DocumentStatute.__table__))
    for table, rows in zip(tables, (links, cites), strict=True):
        for chunk in _chunks(rows):
            session.execute(insert(table), list(chunk))


def _insert_new(session: Session, fresh: Sequence[NormalizedDocument], now: datetime) -> list[int | None]:
    """Insert new documents in multi-row ``INSERT … ON CONFLICT DO NOTHING`` statements, in URL order; ids come back
    matched by identity, not by row order (an ordered RETURNING would make SQLAlchemy insert row by row on SQLite).
    None for a document that another writer stored since it was read (the caller reads it again)."""
    ids: dict[tuple[str | None, str, str | None], int] = {}
    keyed = sorted((d for d in fresh if d.url or d.external_id), key=_write_order)
    table = DOCUMENTS
    maker = _insert(session)
    for chunk in _chunks(keyed):
        stmt = (
            maker(table)
            .on_conflict_do_nothing()
            .returning(table.c.id, table.c.url, table.c.source, table.c.external_id)
        )
        for row in session.execute(stmt, [document_row(d, now) for d in chunk]):
            ids[(row.url, row.source, row.external_id)] = row.id
    found: list[int | None] = []
    for doc in fresh:
        if doc.url or doc.external_id:
            found.append(ids.get((doc.url, doc.source, doc.external_id)))
        else:  # no identity at all: cannot be deduplicated, inserted one by one in order
            found.append(session.scalars(insert(Document).returning(Document.id), [_document_values(doc, now)]).one())
    return found


def _write_order(doc: NormalizedDocument) -> tuple[str, str, str]:
    return (doc.url or "", doc.source, doc.external_id or "")


def _folded(text: str) -> str:
    return " ".join(text.split())


def _update_changed(
    session: Session, changed: Sequence[tuple[Document, NormalizedDocument]], now: datetime
) -> set[int]:
    """Update each stored row to its changed document, in id order, only if the row still has the content hash it
    was read with; keep the superseded text as a version. The ids of the rows updated (the others changed
    meanwhile: the caller reads them again)."""
    done: set[int] = set()
    versions: list[dict[str, Any]] = []
    for row, doc in sorted(changed, key=lambda pair: pair[0].id):
        version = {
            "document_id": row.id,
            "title": row.title,
            "body_text": row.body_text,
            "content_hash": row.content_hash,
            "meta": row.meta,
            "fetched_at": row.fetched_at,
            "superseded_at": now,
        }
        values = _document_values(doc, now)
        values["url"] = row.url or doc.url
        values["external_id"] = row.external_id or doc.external_id
        values["source"] = row.source  # a document keeps the source that first reported it
        if doc.published_at is None:
            values["published_at"] = row.published_at
        statement = (
            update(Document)
            .where(Document.id == row.id, Document.content_hash == row.content_hash)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if session.execute(statement).rowcount == 1:  # type: ignore[attr-defined]
            done.add(row.id)
            versions.append(version)
        session.expire(row)
    if versions:
        session.execute(insert(DocumentVersion), versions)
    return done


def _store_unique(session: Session, docs: Sequence[NormalizedDocument], now: datetime) -> list[StoreResult]:
    """Store documents with distinct identities; a document another writer stored or changed after it was read is
    read and compared again (up to ``_RACE_ROUNDS`` times)."""
    results: dict[int, StoreResult] = {}
    added: list[tuple[int, Classification | None]] = []
    replaced: list[tuple[int, Classification | None]] = []
    pending = list(range(len(docs)))
    for _round in range(_RACE_ROUNDS):
        existing = _existing(session, [docs[i] for i in pending])
        fresh: list[int] = []
        changed: list[tuple[int, Document]] = []
        for i in pending:
            doc = docs[i]
            row = next((existing[k] for k in _identity(doc) if k in existing), None)
            if row is None:
                fresh.append(i)
            elif row.content_hash == doc.content_hash:
                results[i] = StoreResult(row.id, "unchanged", doc.source, doc.url, doc.external_id)
            else:
                changed.append((i, row))
        raced: list[int] = []
        for i, doc_id in zip(fresh, _insert_new(session, [docs[i] for i in fresh], now), strict=True):
            doc = docs[i]
            if doc_id is None:
                raced.append(i)
                continue
            results[i] = StoreResult(doc_id, "new", doc.source, doc.url, doc.external_id, True)
            added.append((doc_id, doc.classification))
        # read before the update expires the rows
        seen = [(i, row.id, _folded(row.body_text) != _folded(docs[i].body_text)) for i, row in changed]
        updated = _update_changed(session, [(row, docs[i]) for i, row in changed], now)
        for i, doc_id, body_changed in seen:
            doc = docs[i]
            if doc_id not in updated:
                raced.append(i)
                continue
            results[i] = StoreResult(doc_id, "updated", doc.source, doc.url, doc.external_id, body_changed)
            replaced.append((doc_id, doc.classification))
        pending = sorted(raced)
        if not pending:
            break
    if pending:
        labels = ", ".join(docs[i].url or docs[i].external_id or "?" for i in pending[:3])
        raise ArchiveError(f"{len(pending)} documents kept changing under other writers: {labels}")
    write_tags(session, added, replace=False)
    write_tags(session, replaced, replace=True)
    return [results[i] for i in range(len(docs))]


def store_documents(session: Session, docs: Sequence[NormalizedDocument]) -> list[StoreResult]:
    """Upsert ``docs`` in the session's transaction; one :class:`StoreResult` per input, in input order."""
    now = datetime.now(UTC)
    results: list[StoreResult] = []
    for part in _split_duplicates(docs):
        results.extend(_store_unique(session, part, now))
        session.flush()
    record_sources(session, results, now)
    return results


def record_sources(session: Session, results: Sequence[StoreResult], now: datetime | None = None) -> None:
    """Upsert the (document, source) rows of ``document_sources``: the source's external id and URL for the
    document (a value given replaces the stored one; None keeps it) and when it was last seen."""
    seen_at = now or datetime.now(UTC)
    rows = [
        {
            "document_id": r.document_id,
            "source": r.source,
            "external_id": r.external_id,
            "url": r.url,
            "first_seen_at": seen_at,
            "last_seen_at": seen_at,
        }
        for r in results
    ]
    if not rows:
        return
    table = cast(Table, DocumentSource.__table__)
    latest = {(row["document_id"], row["source"]): row for row in rows}
    ordered = [latest[key] for key in sorted(latest)]
    maker = _insert(session)
    for chunk in _chunks(ordered, _CHUNK // 6):
        statement = maker(table).values(list(chunk))
        excluded = statement.excluded
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.document_id, table.c.source],
                set_={
                    "external_id": func.coalesce(excluded.external_id, table.c.external_id),
                    "url": func.coalesce(excluded.url, table.c.url),
                    "last_seen_at": excluded.last_seen_at,
                },
            )
        )


def record_sightings(session: Session, sightings: Sequence[Sighting], now: datetime | None = None) -> None:
    """Upsert each source's listing state of each document, in the session's transaction (the last sighting of a
    (source, key) in ``sightings`` wins)."""
    latest = {(s.source, s.key): s for s in sightings}
    if not latest:
        return
    seen_at = now or datetime.now(UTC)
    rows = [
        {"source": s.source, "key": s.key, "external_id": s.external_id, "signature": s.signature, "seen_at": seen_at}
        for _, s in sorted(latest.items())
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
