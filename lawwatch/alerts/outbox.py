"""Writing the alert outbox inside the ingest transaction: one row per newly matching (rule, document, target).

Called by the ingest service after the store, before the commit, so an alert exists exactly when its document
does (the transactional outbox). Uniqueness is the database's: ``UNIQUE(rule, document_id, target, revision)``
and ``INSERT … ON CONFLICT DO NOTHING``, so a document reached through three sources or crawled ten times alerts
once. An edit alerts again only under ``on_update = "any-change"`` (a new revision, with what changed); under the
default ``"new-match"`` the insert of revision 0 is a no-op when the document had already matched.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from lawwatch.alerts.rules import ResolvedRule, explain
from lawwatch.pipeline.bulk import dialect_insert
from lawwatch.pipeline.filters import FilterableDocument
from lawwatch.pipeline.models import DocumentVersion, OutboxEntry

if TYPE_CHECKING:
    from lawwatch.pipeline.ingest import Ingested


@dataclass(frozen=True)
class Stored:
    """One stored document as the outbox sees it: its id, the store's outcome, the document as stored, and (for
    an update) what changed."""

    document_id: int
    outcome: str  # new | updated | unchanged
    now: FilterableDocument
    changes: tuple[dict[str, Any], ...] = ()


def stored_for_outbox(session: Session, stored: Sequence[Ingested]) -> list[Stored]:
    """The ingest service's stored documents as the outbox sees them; an update carries what changed since the
    version it superseded (title before → after, how much of the body)."""
    items: list[Stored] = []
    updated = [i.result.document_id for i in stored if i.result.outcome == "updated"]
    previous: dict[int, DocumentVersion] = {}
    if updated:
        latest = (
            select(DocumentVersion.document_id, func.max(DocumentVersion.id).label("id"))
            .where(DocumentVersion.document_id.in_(updated))
            .group_by(DocumentVersion.document_id)
            .subquery()
        )
        for version in session.scalars(select(DocumentVersion).join(latest, DocumentVersion.id == latest.c.id)):
            previous[version.document_id] = version
    for item in stored:
        result = item.result
        changes: tuple[dict[str, Any], ...] = ()
        if result.outcome == "updated":
            changes = _changes(previous.get(result.document_id), item.document.title, item.document.body_text)
        items.append(
            Stored(
                result.document_id, result.outcome, FilterableDocument.from_normalized(item.document), changes=changes
            )
        )
    return items


def _changes(before: DocumentVersion | None, title: str, body: str) -> tuple[dict[str, Any], ...]:
    if before is None:
        return ({"field": "content", "before": None, "after": "changed"},)
    found: list[dict[str, Any]] = []
    if (before.title or "") != (title or ""):
        found.append({"field": "title", "before": before.title, "after": title})
    if (before.body_text or "") != (body or ""):
        added, removed = edit_size(before.body_text or "", body or "")
        found.append(
            {
                "field": "body",
                "before": f"{len(before.body_text or '')} characters",
                "after": f"{added} characters added, {removed} removed",
            }
        )
    return tuple(found)


_CHAR_DIFF_CELLS = 4_000_000  # up to this len(a) * len(b) of the differing middles, characters are compared


def edit_size(before: str, after: str) -> tuple[int, int]:
    """(characters added, characters removed) from ``before`` to ``after``. With the common start and end cut off,
    the differing middles are compared character by character (difflib without its ``autojunk`` heuristic, which on
    texts of 200+ characters treats frequent characters as junk and reports a one-phrase edit as a rewrite of the
    paragraph). When both middles are long, the whole texts are compared word by word instead (a word with the
    whitespace after it is one token, counted by its length; ``autojunk`` on, as for lines of a file), so a large
    rewrite costs time in words, not in characters squared."""
    prefix = len(os.path.commonprefix([before, after]))
    limit = min(len(before), len(after)) - prefix
    suffix = 0
    while suffix < limit and before[-1 - suffix] == after[-1 - suffix]:
        suffix += 1
    a, b = before[prefix : len(before) - suffix], after[prefix : len(after) - suffix]
    if not a or not b:
        return len(b), len(a)
    left: Sequence[str] = a
    right: Sequence[str] = b
    if len(a) * len(b) > _CHAR_DIFF_CELLS:
        left, right = _WORDS.findall(before), _WORDS.findall(after)
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=left is not a)
    added = removed = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("insert", "replace"):
            added += sum(map(len, right[j1:j2]))
        if tag in ("delete", "replace"):
            removed += sum(map(len, left[i1:i2]))
    return added, removed


_WORDS = re.compile(r"\s*\S+\s*|\s+")


def enqueue(session: Session, stored: Sequence[Stored], rules: Sequence[ResolvedRule], now: datetime) -> int:
    """Insert the outbox rows ``stored`` calls for under ``rules``; return how many rows were new."""
    rows: list[dict[str, Any]] = []
    revisions: dict[tuple[str, int, str], int] = {}
    for item in stored:
        if item.outcome == "unchanged" or not rules:
            continue
        for rule in rules:
            if not rule.wants(item.now, now):
                continue
            why = explain(rule, item.now)
            revision = 0
            if item.outcome == "updated":
                if rule.on_update == "any-change":
                    if not item.changes:
                        continue
                    why["changes"] = list(item.changes)
                    revision = -1  # resolved per target below: one past the last revision
            due = rule.next_digest(now) if rule.digest else now
            for target in rule.targets:
                rev = revision
                if rev < 0:
                    key = (rule.name, item.document_id, target.name)
                    if key not in revisions:
                        revisions[key] = _last_revision(session, *key) + 1
                    rev = revisions[key]
                rows.append(
                    {
                        "rule": rule.name,
                        "document_id": item.document_id,
                        "target": target.name,
                        "channel": target.channel,
                        "digest": rule.digest,
                        "revision": rev,
                        "why": why,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": due,
                        "created_at": now,
                    }
                )
    if not rows:
        return 0
    return _insert_ignore(session, rows)


def _last_revision(session: Session, rule: str, document_id: int, target: str) -> int:
    last = session.scalar(
        select(func.max(OutboxEntry.revision)).where(
            OutboxEntry.rule == rule, OutboxEntry.document_id == document_id, OutboxEntry.target == target
        )
    )
    return -1 if last is None else int(last)


def _insert_ignore(session: Session, rows: list[dict[str, Any]]) -> int:
    maker = dialect_insert(session)
    table = OutboxEntry.__table__
    assert isinstance(table, Table)
    added = 0
    for start in range(0, len(rows), 400):
        chunk = rows[start : start + 400]
        result = session.execute(maker(table).on_conflict_do_nothing().returning(table.c.id), chunk)
        added += len(result.all())
    return added


def cutoff(max_age: float | None, now: datetime) -> datetime | None:
    """The oldest publication date that still alerts, or None for no limit."""
    return None if max_age is None else now - timedelta(seconds=max_age)
