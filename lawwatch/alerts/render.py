"""From outbox rows to what a channel renders: the document as it is now, with its tags, why the rule matched
(stored with the row when it was written) and a snippet with the matched words marked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lawwatch.alerts.message import (
    MARK_CLOSE,
    MARK_OPEN,
    Alert,
    AlertDocument,
    Change,
    Digest,
    Why,
    parse_snippet,
)
from lawwatch.errors import AlertError
from lawwatch.pipeline.models import Document, OutboxEntry

SNIPPET_CHARS = 320


def jurisdiction_label(name: str, kind: str, state: str | None) -> str:
    """``Chicago, IL`` for a city or county, the name alone for a state."""
    if kind == "state" or not state or name.endswith(f", {state}"):
        return name
    return f"{name}, {state}"


def statute_label(title: str | None, section: str, subsection: str | None = None) -> str:
    cite = f"{title} U.S.C. § {section}" if title else f"§ {section}"
    return cite + (subsection or "")


def alert_document(doc: Document, marks: Sequence[str] = ()) -> AlertDocument:
    named = [link for link in doc.jurisdictions if link.role != "locator"]  # a locator only says where a place is
    links = sorted(named, key=lambda link: (link.first_offset, link.jurisdiction_id))
    statutes = list(dict.fromkeys(statute_label(s.title, s.section, s.subsection) for s in doc.statutes))
    return AlertDocument(
        id=doc.id,
        title=doc.title,
        url=doc.url,
        source=doc.source,
        doc_type=doc.doc_type,
        published_at=doc.published_at,
        jurisdictions=tuple(
            jurisdiction_label(link.jurisdiction.name, link.jurisdiction.kind, link.jurisdiction.state)
            for link in links
        ),
        statutes=tuple(statutes),
        snippet=parse_snippet(snippet(doc.body_text, marks)),
    )


def snippet(body: str, marks: Sequence[str], width: int = SNIPPET_CHARS) -> str:
    """About ``width`` characters of ``body`` around the first of ``marks`` found (case-insensitive), every
    occurrence of each mark wrapped in the snippet sentinels; the opening of the body when none is found."""
    text = " ".join(body.split())
    words = sorted({m for m in marks if m and m.strip()}, key=len, reverse=True)
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(w)}" for w in words), re.IGNORECASE) if words else None
    first = pattern.search(text) if pattern else None
    start = max(0, first.start() - width // 3) if first else 0
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 40 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + width // 2 else end
    window = text[start:end]
    window = window.replace(MARK_OPEN, "").replace(MARK_CLOSE, "")
    if pattern:
        window = pattern.sub(lambda m: f"{MARK_OPEN}{m.group(0)}{MARK_CLOSE}", window)
    return ("… " if start else "") + window + (" …" if end < len(text) else "")


def why_of(data: dict[str, Any] | None) -> tuple[Why, tuple[Change, ...]]:
    data = data or {}
    why = Why(
        jurisdictions=tuple(data.get("jurisdictions", ())),
        statutes=tuple(data.get("statutes", ())),
        words=tuple(data.get("words", ())),
    )
    changes = tuple(
        Change(str(c.get("field", "")), c.get("before"), c.get("after"))
        if isinstance(c, dict)
        else Change(str(c), None, None)
        for c in data.get("changes", ())
    )
    return why, changes


def _marks(why: Why, doc: Document) -> list[str]:
    marks = list(why.words)
    for link in doc.jurisdictions:
        if link.role == "locator":
            continue
        if link.jurisdiction.name and (
            not why.jurisdictions or any(link.jurisdiction.name in j for j in why.jurisdictions)
        ):
            marks.append(link.jurisdiction.name)
    marks += [s.text for s in doc.statutes if s.text]
    return marks


def _alerts(session: Session, ids: Sequence[int]) -> list[Alert]:
    rows = list(session.scalars(select(OutboxEntry).where(OutboxEntry.id.in_(list(ids))).order_by(OutboxEntry.id)))
    if len(rows) != len(set(ids)):
        raise AlertError(f"outbox rows {sorted(set(ids) - {r.id for r in rows})} are gone")
    documents = {
        d.id: d
        for d in session.scalars(
            select(Document)
            .where(Document.id.in_({r.document_id for r in rows}))
            .options(selectinload(Document.jurisdictions), selectinload(Document.statutes))
        )
    }
    alerts = []
    for row in rows:
        doc = documents.get(row.document_id)
        if doc is None:
            raise AlertError(f"document {row.document_id} of outbox row {row.id} is gone")
        why, changes = why_of(row.why)
        alerts.append(
            Alert(
                outbox_id=row.id,
                rule=row.rule,
                target=row.target,
                document=alert_document(doc, _marks(why, doc)),
                why=why,
                changes=changes,
                revision=row.revision,
            )
        )
    return alerts


def load_alert(session: Session, outbox_id: int) -> Alert:
    """The instant alert of outbox row ``outbox_id``."""
    return _alerts(session, [outbox_id])[0]


def load_digest(session: Session, ids: Sequence[int]) -> Digest:
    """One digest of the outbox rows ``ids`` (one rule, one target), newest document first. Its period runs from
    the first row's creation to the last one's, so a digest sent again after a crash keeps its Message-ID."""
    alerts = _alerts(session, ids)
    created = session.scalars(select(OutboxEntry.created_at).where(OutboxEntry.id.in_(list(ids)))).all()
    oldest = datetime.min.replace(tzinfo=UTC)
    alerts.sort(key=lambda a: a.document.published_at or oldest, reverse=True)
    return Digest(
        rule=alerts[0].rule,
        target=alerts[0].target,
        alerts=tuple(alerts),
        period_start=min(created),
        period_end=max(created),
    )
