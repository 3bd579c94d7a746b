"""Reading the archive for people and scripts: one document with its tags and versions, the stream of documents
a ``DocumentFilter`` selects (export), and the per-source status report. The dict shapes here are lawwatch's JSON
output (README: "JSON output") and the ``lawwatch`` import format, so export → import round-trips.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import column, func, inspect, select, table
from sqlalchemy.orm import Session, selectinload

from lawwatch.errors import QueryError, shown
from lawwatch.pipeline.filters import DocumentFilter
from lawwatch.pipeline.models import CrawlRun, Document, DocumentSource, OutboxEntry, ServiceLock, SourceHealth

SCHEDULER_JOBS_TABLE = "apscheduler_jobs"  # lawwatch run's APScheduler job store, in the archive database
SCHEDULER_LOCK = "scheduler"  # the service_locks row of lawwatch run


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


_ALL = DocumentFilter()


_ID_MAX = {"postgresql": 2**31 - 1, "sqlite": 2**63 - 1}  # documents.id is an INTEGER: 32 bits on PostgreSQL


def get_document(session: Session, document_id: int) -> Document | None:
    """The document with this id and its tags and versions; None when there is none (any id: one out of the
    column's range, which the database would refuse, is simply not there)."""
    if not 0 < document_id <= _ID_MAX.get(session.get_bind().dialect.name, 2**31 - 1):
        return None
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


def iter_documents(session: Session, where: DocumentFilter | None = None, *, chunk: int = 500) -> Iterator[Document]:
    """Documents the filter selects (``None``: all), oldest first, with their tags, fetched in keyset-paged chunks
    so exports of any size use bounded memory.

    A filter with a full-text ``query`` raises ``QueryError``: only search can run one."""
    where = where or _ALL
    if not where.parsed_query.empty:
        raise QueryError(f"cannot export by the full-text query {shown(where.query)}: search for it instead")
    conditions = where.conditions()
    last_id = 0
    while True:
        stmt = (
            select(Document)
            .where(Document.id > last_id, *conditions)
            .order_by(Document.id)
            .limit(chunk)
            .options(
                selectinload(Document.jurisdictions), selectinload(Document.statutes), selectinload(Document.seen_via)
            )
        )
        rows = session.scalars(stmt).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        session.expunge_all()


def archive_sources(session: Session) -> set[str]:
    """Every source id the archive holds documents of: the sources that stored them and those they were seen via."""
    stored = session.scalars(select(Document.source).distinct())
    seen = session.scalars(select(DocumentSource.source).distinct())
    return {*stored, *seen}


def status_report(
    session: Session,
    configured: Sequence[str] = (),
    *,
    schedules: Mapping[str, str] | None = None,
    stale_after: float = 60.0,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Per source: documents stored and the last crawl run; plus archive totals. With the service's view: each
    source's ``schedule`` (``schedules``: the enabled sources' schedules), ``next_run_at`` and ``watchdog`` state;
    alerts pending and failed; the ``scheduler`` (alive when its heartbeat is at most ``stale_after`` s old)."""
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
    report = {
        "documents": sum(counts.values()),
        "newest_published_at": _iso(newest),
        "sources": sources,
    }
    report.update(_service_status(session, sources, schedules or {}, stale_after, now or datetime.now(UTC)))
    return report


def _service_status(
    session: Session, sources: list[dict[str, Any]], schedules: Mapping[str, str], stale_after: float, now: datetime
) -> dict[str, Any]:
    """Add ``schedule``, ``next_run_at`` and ``watchdog`` to each source; return ``alerts`` and ``scheduler``."""
    next_runs: dict[str, datetime] = {}
    if inspect(session.connection()).has_table(SCHEDULER_JOBS_TABLE):
        jobs = table(SCHEDULER_JOBS_TABLE, column("id"), column("next_run_time"))
        for job_id, stamp in session.execute(select(jobs.c.id, jobs.c.next_run_time)):
            if stamp is not None:
                next_runs[str(job_id)] = datetime.fromtimestamp(float(stamp), UTC)
    health = {row.source: row for row in session.scalars(select(SourceHealth))}
    for item in sources:
        name = item["source"]
        row = health.get(name)
        item["schedule"] = schedules.get(name)
        item["next_run_at"] = _iso(next_runs.get(name)) if name in schedules else None
        item["watchdog"] = (
            None
            if row is None
            else {
                "state": row.state,
                "since": _iso(row.since),
                "reason": row.reason,
                "alerted_at": _iso(row.alerted_at),
                "checked_at": _iso(row.checked_at),
            }
        )
    by_status = dict(session.execute(select(OutboxEntry.status, func.count()).group_by(OutboxEntry.status)).all())
    lock = session.get(ServiceLock, SCHEDULER_LOCK)
    scheduler = None
    if lock is not None:
        age = (now - lock.heartbeat_at).total_seconds()
        info = lock.info or {}
        scheduler = {
            "alive": age <= stale_after,
            "holder": lock.holder,
            "pid": lock.pid,
            "host": lock.host,
            "running_since": _iso(lock.acquired_at),
            "heartbeat_at": _iso(lock.heartbeat_at),
            "heartbeat_age_seconds": round(age, 1),
            "crawling": list(info.get("crawling") or []),
            "health": info.get("health"),
        }
    return {
        "alerts": {"pending": int(by_status.get("pending", 0)), "failed": int(by_status.get("failed", 0))},
        "scheduler": scheduler,
    }
