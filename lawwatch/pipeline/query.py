"""Reading the archive for people and scripts: one document with its tags and versions, the stream of documents
a ``DocumentFilter`` selects (export), and the per-source status report. The dict shapes here are lawwatch's JSON
output (README: "JSON output") and the ``lawwatch`` import format, so export → import round-trips.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from lawwatch.errors import QueryError
from lawwatch.pipeline.filters import DocumentFilter
from lawwatch.pipeline.models import CrawlRun, Document


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def document_to_dict(doc: Document, *, body: bool = True, versions: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": doc.id,
        "source": doc.source,
        "url": doc.url,
        "external_id": doc.external_id,
        "title": doc.title,
        "published_at": _iso(doc.published_at),
        "fetched_at": _iso(doc.fetched_at),
        "updated_at": _iso(doc.updated_at),
        "doc_type": doc.doc_type,
        "form": doc.form,
        "content_hash": doc.content_hash,
        "metadata": doc.meta or {},
        "jurisdictions": [
            {
                "id": link.jurisdiction_id,
                "name": link.jurisdiction.name,
                "kind": link.jurisdiction.kind,
                "state": link.jurisdiction.state,
                "mentions": link.mentions,
                "first": link.first_offset,
                "role": link.role,
            }
            for link in sorted(doc.jurisdictions, key=lambda j: (j.first_offset, j.jurisdiction_id))
        ],
        "statutes": [
            {
                "title": s.title,
                "section": s.section,
                "subsection": s.subsection,
                "text": s.text,
                "start": s.start,
                "end": s.end,
            }
            for s in doc.statutes
        ],
    }
    if body:
        data["body_text"] = doc.body_text
    if versions:
        data["versions"] = [
            {
                "id": v.id,
                "title": v.title,
                "content_hash": v.content_hash,
                "fetched_at": _iso(v.fetched_at),
                "superseded_at": _iso(v.superseded_at),
                "body_text": v.body_text,
            }
            for v in doc.versions
        ]
    return data


def get_document(session: Session, document_id: int) -> Document | None:
    stmt = (
        select(Document)
        .where(Document.id == document_id)
        .options(
            selectinload(Document.jurisdictions),
            selectinload(Document.statutes),
            selectinload(Document.versions),
        )
    )
    return session.scalars(stmt).first()


def document_filters(
    *,
    jurisdictions: Sequence[str] = (),
    statutes: Sequence[tuple[str | None, str]] = (),
    doc_types: Sequence[str] = (),
    sources: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[ColumnElement[bool]]:
    """Deprecated: ``DocumentFilter(...).conditions()``, for callers not yet building a ``DocumentFilter``.

    Raises ``QueryError`` for a naive datetime, an empty statute section or an unknown document type."""
    return DocumentFilter(
        jurisdictions=tuple(jurisdictions),
        statutes=tuple(statutes),
        doc_types=tuple(doc_types),  # type: ignore[arg-type]  # strings: checked and converted by the filter
        sources=tuple(sources),
        published_since=since,
        published_until=until,
    ).conditions()


def iter_documents(
    session: Session,
    where: DocumentFilter | Sequence[ColumnElement[bool]] | None = None,
    *,
    chunk: int = 500,
) -> Iterator[Document]:
    """Documents the filter selects (``None``: all), oldest first, with their tags, fetched in keyset-paged chunks
    so exports of any size use bounded memory. A list of conditions is still accepted (deprecated).

    A filter with a full-text ``query`` raises ``QueryError``: only search can run one."""
    if isinstance(where, DocumentFilter):
        if not where.parsed_query.empty:
            raise QueryError(f"cannot export by the full-text query {where.query!r}: search for it instead")
        conditions = where.conditions()
    else:
        conditions = list(where or ())
    last_id = 0
    while True:
        stmt = (
            select(Document)
            .where(Document.id > last_id, *conditions)
            .order_by(Document.id)
            .limit(chunk)
            .options(selectinload(Document.jurisdictions), selectinload(Document.statutes))
        )
        rows = session.scalars(stmt).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        session.expunge_all()


def status_report(session: Session, configured: Sequence[str] = ()) -> dict[str, Any]:
    """Per source: documents stored and the last crawl run; plus archive totals."""
    counts = dict(session.execute(select(Document.source, func.count()).group_by(Document.source)).all())
    latest = select(CrawlRun.source, func.max(CrawlRun.id).label("id")).group_by(CrawlRun.source).subquery()
    runs = {run.source: run for run in session.scalars(select(CrawlRun).join(latest, CrawlRun.id == latest.c.id))}
    names = sorted(set(configured) | set(counts) | set(runs))
    sources = []
    for name in names:
        run = runs.get(name)
        sources.append(
            {
                "source": name,
                "configured": name in configured,
                "documents": counts.get(name, 0),
                "last_run": None
                if run is None
                else {
                    "id": run.id,
                    "status": run.status,
                    "started_at": _iso(run.started_at),
                    "finished_at": _iso(run.finished_at),
                    "pages": run.pages,
                    "new": run.new,
                    "updated": run.updated,
                    "unchanged": run.unchanged,
                    "errors": run.errors,
                    "error_messages": list(run.error_messages or [])[:5],
                },
            }
        )
    newest = session.scalar(select(func.max(Document.published_at)))
    return {
        "documents": sum(counts.values()),
        "newest_published_at": _iso(newest),
        "sources": sources,
    }
