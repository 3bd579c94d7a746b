"""Writing documents into the archive: batch upserts with versions and tags, in the caller's transaction.

``store_documents`` dedups by canonical URL and by (source, external id). Identical content (same content hash) is
``unchanged`` and touches no document row; changed content keeps the earlier text as a ``document_versions`` row and
updates the document and its tags (``updated``); everything else is ``new``. Every stored document is recorded in
``document_sources`` under the incoming source, its id and URL there (``--source X`` means "seen via X"). One batch is
a handful of statements, never one commit per row; the caller owns the transaction (``Archive.session()``), so
whatever else must happen atomically with the documents (the alert outbox, the crawl state) is written in the same
one.

Several writers at once (two crawls, a crawl and an import) converge without errors: new documents are inserted with
``INSERT … ON CONFLICT DO NOTHING`` (on PostgreSQL a ``COPY`` in a savepoint first, that insert when another writer
stored one of them meanwhile) and an update applies only if the row still has the content hash it was read with
(``UPDATE … WHERE content_hash = <read>``). A document another writer stored or changed in between is read
again and compared once more, so the loser of a race sees ``unchanged`` (or ``updated`` when its text differs) and
the winner alone writes the version, the tags and (through ``after_store``) the alert outbox rows. Every other table
is written with upserts. Rows are written in a fixed order (by URL, by id, by key) so that two PostgreSQL
transactions never wait on each other in a cycle.

Per batch (issue 15: store within 0.9 of writing the same rows raw): one ``SELECT`` of the identities and hashes of
the documents it matches (the full rows only of those that change); new documents, their tags and their
``document_sources`` rows straight through the driver, no ORM objects and no SQLAlchemy work per value: ``COPY`` on
PostgreSQL (ids drawn from the sequence in one statement), multi-row ``INSERT … RETURNING`` and ``executemany`` on
SQLite; each value converted as its column type binds it (:func:`lawwatch.pipeline.bulk.converters`).

``record_sightings`` / ``source_state_of`` write and read the per-source crawl state (``source_state``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, cast

from sqlalchemy import Table, delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from lawwatch.errors import ArchiveError
from lawwatch.pipeline.bulk import converted, converters, copy_rows, dialect_insert, is_postgres, sqlite_run
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
SOURCES = cast(Table, DocumentSource.__table__)
PLACES = cast(Table, DocumentJurisdiction.__table__)
CITES = cast(Table, DocumentStatute.__table__)
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
    every = [key for doc in docs for key in _identity(doc)]
    if len(set(every)) == len(every):  # the usual batch: nothing repeats
        return [docs] if docs else []
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


# what the store compares of a stored document, and what it keeps of one it changes (Core rows, no ORM objects)
_STORED = (
    *(DOCUMENTS.c[name] for name in ("id", "source", "url", "external_id", "content_hash", "title", "body_text")),
    DOCUMENTS.c["metadata"].label("meta"),
    DOCUMENTS.c.fetched_at,
    DOCUMENTS.c.published_at,
)


def _existing(session: Session, docs: Sequence[NormalizedDocument]) -> dict[tuple[str, Any], Any]:
    """The stored documents (``id, source, url, external_id, content_hash``) ``docs`` would match, by identity; read
    afresh (on SQLite in one statement per few thousand documents, on PostgreSQL in one). (source, external id)
    pairs are asked per source, ``source = ? AND external_id IN (...)``: SQLite answers a row-value ``IN`` of pairs
    with a scan of the whole table."""
    urls = sorted({d.url for d in docs if d.url})
    keys: dict[str, set[str]] = defaultdict(set)
    for doc in docs:
        if doc.external_id:
            keys[doc.source].add(doc.external_id)
    found: dict[tuple[str, Any], Any] = {}
    for row in (_existing_sqlite if not is_postgres(session) else _existing_pg)(session, urls, keys):
        if row.url:
            found[("url", row.url)] = row
        if row.external_id:
            found[("key", (row.source, row.external_id))] = row
    return found


class _Found(NamedTuple):
    id: int
    source: str
    url: str | None
    external_id: str | None
    content_hash: str


def _existing_pg(session: Session, urls: list[str], keys: dict[str, set[str]]) -> Iterable[Any]:
    """One statement whatever the batch's size: each list is one array parameter (``= ANY``), which psycopg sends
    as it is, where an ``IN`` list costs SQLAlchemy's work per value (as much as the lookups themselves)."""
    conditions = ["url = ANY(:urls)"] if urls else []
    params: dict[str, Any] = {"urls": urls}
    for n, (source, ids) in enumerate(sorted(keys.items())):
        conditions.append(f"(source = :source{n} AND external_id = ANY(:ids{n}))")
        params |= {f"source{n}": source, f"ids{n}": sorted(ids)}
    if conditions:
        where = " OR ".join(conditions)
        yield from session.execute(
            text(f"SELECT id, source, url, external_id, content_hash FROM documents WHERE {where}"), params
        )


def _existing_sqlite(session: Session, urls: list[str], keys: dict[str, set[str]]) -> Iterable[_Found]:
    """``url IN (...) OR (source = ? AND external_id IN (...))`` written out for the driver (SQLAlchemy's work per
    value in an ``IN`` list costs as much as SQLite's lookups)."""
    conditions: list[tuple[str, list[str]]] = [
        (f"url IN ({', '.join('?' * len(chunk))})", list(chunk)) for chunk in _chunks(urls)
    ]
    for source, ids in sorted(keys.items()):
        for chunk in _chunks(sorted(ids)):
            conditions.append((f"(source = ? AND external_id IN ({', '.join('?' * len(chunk))}))", [source, *chunk]))
    for part in _chunks(conditions, 8):
        where = " OR ".join(condition for condition, _ in part)
        statement = f"SELECT id, source, url, external_id, content_hash FROM documents WHERE {where}"
        for row in sqlite_run(session, statement, [value for _, values in part for value in values]):
            yield _Found(*row)


def _details(session: Session, ids: Sequence[int]) -> dict[int, Any]:
    """The rows of ``_STORED`` of the stored documents ``ids`` (those about to change), by id."""
    found: dict[int, Any] = {}
    for chunk in _chunks(sorted(ids)):
        found.update((row.id, row) for row in session.execute(select(*_STORED).where(DOCUMENTS.c.id.in_(chunk))))
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
    maker = dialect_insert(session)
    for chunk in _chunks(rows):
        session.execute(maker(table).on_conflict_do_nothing(), list(chunk))


def upsert(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str], update: Sequence[str]
) -> None:
    """``INSERT … ON CONFLICT (keys) DO UPDATE SET`` the ``update`` columns, in key order (the last row of a key
    wins)."""
    latest = {tuple(row[k] for k in keys): row for row in rows}
    ordered = [latest[key] for key in sorted(latest, key=repr)]
    if not ordered:
        return
    statement = dialect_insert(session)(table)
    excluded = statement.excluded
    # one statement executed for many rows: compiled once and cached, where a multi-row VALUES is compiled anew for
    # every batch (which cost more CPU than the rows themselves)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c[k] for k in keys], set_={c: excluded[c] for c in update}
    )
    session.execute(statement, ordered)


def write_tags(session: Session, pairs: Sequence[tuple[int, Classification | None]], *, replace: bool) -> None:
    """Write the jurisdiction and statute tags of each (document id, classification); ``replace`` drops old tags
    first."""
    ids = [doc_id for doc_id, _ in pairs]
    if replace and ids:
        for chunk in _chunks(ids):
            session.execute(delete(DocumentJurisdiction).where(DocumentJurisdiction.document_id.in_(chunk)))
            session.execute(delete(DocumentStatute).where(DocumentStatute.document_id.in_(chunk)))
    places: dict[str, dict[str, Any]] = {}
    links: list[tuple[Any, ...]] = []
    cites: list[tuple[Any, ...]] = []
    for doc_id, tags in pairs:
        if tags is None:
            continue
        for j in tags.jurisdictions:
            places[j.id] = {"id": j.id, "name": j.name, "kind": j.kind, "state": j.state}
            links.append((doc_id, j.id, j.mentions, j.first, getattr(j, "role", "named")))
        for s in tags.statutes:
            cites.append((doc_id, s.title, s.section, s.subsection, s.text, s.start, s.end))
    if places:
        _insert_places(session, [places[k] for k in sorted(places)])
    copy_rows(session, PLACES, ("document_id", "jurisdiction_id", "mentions", "first_offset", "role"), links)
    copy_rows(session, CITES, ("document_id", "title", "section", "subsection", "text", "start", "end"), cites)


def _insert_places(session: Session, rows: list[dict[str, Any]]) -> None:
    """``jurisdictions`` rows not stored yet; PostgreSQL: one statement over arrays (not a statement per row)."""
    if not is_postgres(session):
        _insert_ignore(session, Jurisdiction.__table__, rows)
        return
    columns = ("id", "name", "kind", "state")
    arrays = ", ".join(f"CAST(:{c} AS text[])" for c in columns)
    statement = (
        f"INSERT INTO jurisdictions ({', '.join(columns)}) SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING"
    )
    session.execute(text(statement), {c: [row[c] for row in rows] for c in columns})


def _insert_new(session: Session, fresh: Sequence[NormalizedDocument], now: datetime) -> list[int | None]:
    """Insert new documents in URL order; None for a document that another writer stored since it was read (the
    caller reads it again). PostgreSQL: one ``COPY`` with ids taken from the sequence beforehand, in a savepoint;
    when another writer stored one of them meanwhile (a unique violation), back to the savepoint and the way
    SQLite always takes: multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING`` (ids matched by identity, not by
    row order: an ordered RETURNING would make SQLAlchemy insert row by row on SQLite)."""
    keyed = sorted((d for d in fresh if d.url or d.external_id), key=_write_order)
    ids = (_copy_new if is_postgres(session) else _insert_sqlite)(session, keyed, now)
    found: list[int | None] = []
    for doc in fresh:
        if doc.url or doc.external_id:
            found.append(ids.get((doc.url, doc.source, doc.external_id)))
        else:  # no identity at all: cannot be deduplicated, inserted one by one in order
            found.append(session.scalars(insert(Document).returning(Document.id), [_document_values(doc, now)]).one())
    return found


_Ids = dict[tuple[str | None, str, str | None], int]


def _insert_returning(session: Session, keyed: Sequence[NormalizedDocument], now: datetime) -> _Ids:
    ids: _Ids = {}
    table = DOCUMENTS
    stmt = (
        dialect_insert(session)(table)
        .on_conflict_do_nothing()
        .returning(table.c.id, table.c.url, table.c.source, table.c.external_id)
    )
    for chunk in _chunks(keyed):
        for row in session.execute(stmt, [document_row(d, now) for d in chunk]):
            ids[(row.url, row.source, row.external_id)] = row.id
    return ids


# the keys of ``document_row``, in order
_NEW_COLUMNS: tuple[str, ...] = (
    *("source", "url", "external_id", "title", "published_at", "fetched_at", "updated_at", "body_text"),
    *("content_hash", "doc_type", "form", "metadata"),
)


def _new_row(doc: NormalizedDocument, now: datetime) -> tuple[Any, ...]:
    """``document_row(doc, now)``'s values in the order of ``_NEW_COLUMNS``."""
    return (
        *(doc.source, doc.url, doc.external_id, doc.title, doc.published_at, doc.fetched_at, now, doc.body_text),
        *(doc.content_hash, doc.doc_type, doc.form, dict(doc.metadata)),
    )


def _insert_sqlite(session: Session, keyed: Sequence[NormalizedDocument], now: datetime) -> _Ids:
    """SQLite: ``_insert_returning`` straight through the driver (the same statement, without SQLAlchemy's work per
    value)."""
    ids: _Ids = {}
    columns = ", ".join(f'"{name}"' for name in _NEW_COLUMNS)
    one = f"({', '.join('?' * len(_NEW_COLUMNS))})"
    conversions = converters(session, DOCUMENTS, _NEW_COLUMNS)
    for chunk in _chunks(keyed):
        values = converted([_new_row(d, now) for d in chunk], conversions)
        statement = (
            f"INSERT INTO documents ({columns}) VALUES {', '.join([one] * len(chunk))} "
            "ON CONFLICT DO NOTHING RETURNING id, url, source, external_id"
        )
        for doc_id, url, source, external_id in sqlite_run(session, statement, [v for row in values for v in row]):
            ids[(url, source, external_id)] = doc_id
    return ids


def _copy_new(session: Session, keyed: Sequence[NormalizedDocument], now: datetime) -> _Ids:
    if not keyed:
        return {}
    import psycopg

    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.execute("SAVEPOINT lawwatch_store_copy")
    numbers = cursor.execute(
        "SELECT nextval(pg_get_serial_sequence('documents', 'id')) FROM generate_series(1, %s)", (len(keyed),)
    ).fetchall()
    ids = [number for (number,) in numbers]
    try:
        rows = [(doc_id, *_new_row(doc, now)) for doc_id, doc in zip(ids, keyed, strict=True)]
        copy_rows(session, DOCUMENTS, ("id", *_NEW_COLUMNS), rows)
    except DBAPIError as exc:
        if not isinstance(exc.orig, psycopg.errors.UniqueViolation):
            raise
        cursor.execute("ROLLBACK TO SAVEPOINT lawwatch_store_copy")
        cursor.execute("RELEASE SAVEPOINT lawwatch_store_copy")
        return _insert_returning(session, keyed, now)
    cursor.execute("RELEASE SAVEPOINT lawwatch_store_copy")
    return {(doc.url, doc.source, doc.external_id): doc_id for doc_id, doc in zip(ids, keyed, strict=True)}


def _write_order(doc: NormalizedDocument) -> tuple[str, str, str]:
    return (doc.url or "", doc.source, doc.external_id or "")


def _folded(text: str) -> str:
    return " ".join(text.split())


def _update_changed(session: Session, changed: Sequence[tuple[Any, NormalizedDocument]], now: datetime) -> set[int]:
    """Update each stored row (of ``_STORED``) to its changed document, in id order, only if the row still has the
    content hash it was read with; keep the superseded text as a version. The ids of the rows updated (the others
    changed meanwhile: the caller reads them again). A ``Document`` the session holds of an updated row is expired."""
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
        held = session.identity_map.get(identity_key(Document, row.id))
        if held is not None:
            session.expire(held)
    if versions:
        session.execute(insert(DocumentVersion), versions)
    return done


def _store_unique(
    session: Session, docs: Sequence[NormalizedDocument], now: datetime, created: set[int]
) -> list[StoreResult]:
    """Store documents with distinct identities; a document another writer stored or changed after it was read is
    read and compared again (up to ``_RACE_ROUNDS`` times). The ids of new documents are added to ``created``."""
    results: dict[int, StoreResult] = {}
    added: list[tuple[int, Classification | None]] = []
    replaced: list[tuple[int, Classification | None]] = []
    pending = list(range(len(docs)))
    for _round in range(_RACE_ROUNDS):
        existing = _existing(session, [docs[i] for i in pending])
        fresh: list[int] = []
        changed: list[tuple[int, Any]] = []
        for i in pending:
            doc = docs[i]
            row = existing.get(("url", doc.url)) if doc.url else None
            if row is None and doc.external_id:
                row = existing.get(("key", (doc.source, doc.external_id)))
            if row is None:
                fresh.append(i)
            elif row.content_hash == doc.content_hash:
                results[i] = StoreResult(row.id, "unchanged", doc.source, doc.url, doc.external_id)
            else:
                changed.append((i, row))
        raced: list[int] = []
        if changed:  # read what a version keeps of the documents that change (and see again whether they do)
            details = _details(session, [row.id for _, row in changed])
            still: list[tuple[int, Any]] = []
            for i, row in changed:
                doc, full = docs[i], details.get(row.id)
                if full is None:  # deleted meanwhile
                    raced.append(i)
                elif full.content_hash == doc.content_hash:
                    results[i] = StoreResult(full.id, "unchanged", doc.source, doc.url, doc.external_id)
                else:
                    still.append((i, full))
            changed = still
        for i, doc_id in zip(fresh, _insert_new(session, [docs[i] for i in fresh], now), strict=True):
            doc = docs[i]
            if doc_id is None:
                raced.append(i)
                continue
            results[i] = StoreResult(doc_id, "new", doc.source, doc.url, doc.external_id, True)
            added.append((doc_id, doc.classification))
            created.add(doc_id)
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
    created: set[int] = set()
    for part in _split_duplicates(docs):
        results.extend(_store_unique(session, part, now, created))
        session.flush()
    record_sources(session, results, now, created=created)
    return results


def record_sources(
    session: Session, results: Sequence[StoreResult], now: datetime | None = None, *, created: Collection[int] = ()
) -> None:
    """Upsert the (document, source) rows of ``document_sources``: the source's external id and URL for the
    document (a value given replaces the stored one; None keeps it) and when it was last seen. ``created``: ids of
    documents this transaction inserted, which no other writer can have rows of: those rows are plainly inserted
    (``COPY`` on PostgreSQL)."""
    seen_at = now or datetime.now(UTC)
    latest = {(r.document_id, r.source): r for r in results}
    ordered = [latest[key] for key in sorted(latest)]
    copy_rows(
        session,
        SOURCES,
        ("document_id", "source", "external_id", "url", "first_seen_at", "last_seen_at"),
        [
            (r.document_id, r.source, r.external_id, r.url, seen_at, seen_at)
            for r in ordered
            if r.document_id in created
        ],
    )
    known = [
        {
            "document_id": r.document_id,
            "source": r.source,
            "external_id": r.external_id,
            "url": r.url,
            "first_seen_at": seen_at,
            "last_seen_at": seen_at,
        }
        for r in ordered
        if r.document_id not in created
    ]
    if not known:
        return
    table = SOURCES
    statement = dialect_insert(session)(table)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.document_id, table.c.source],
        set_={
            "external_id": func.coalesce(excluded.external_id, table.c.external_id),
            "url": func.coalesce(excluded.url, table.c.url),
            "last_seen_at": excluded.last_seen_at,
        },
    )
    session.execute(statement, known)


def record_sightings(session: Session, sightings: Sequence[Sighting], now: datetime | None = None) -> None:
    """Upsert each source's listing state of each document, in the session's transaction (the last sighting of a
    (source, key) in ``sightings`` wins)."""
    seen_at = now or datetime.now(UTC)
    rows = [
        {"source": s.source, "key": s.key, "external_id": s.external_id, "signature": s.signature, "seen_at": seen_at}
        for s in sightings
    ]
    upsert(
        session, cast(Table, SourceState.__table__), rows, ("source", "key"), ("external_id", "signature", "seen_at")
    )


def source_state_of(session: Session, source: str) -> list[tuple[str, str | None, str | None]]:
    """``(key, external_id, signature)`` of every ``source_state`` row of ``source`` (a range of its primary key)."""
    rows = session.execute(
        select(SourceState.key, SourceState.external_id, SourceState.signature).where(SourceState.source == source)
    )
    return [(row.key, row.external_id, row.signature) for row in rows]
