"""What the ``lawwatch alerts`` commands show: the outbox per rule and target, what was sent, what a document
would trigger (preview, without sending), and a canned test alert through the real channel code.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lawwatch.alerts.channels import ChannelOptions, build_channels, channel_for
from lawwatch.alerts.message import Alert, AlertDocument, Why, parse_snippet
from lawwatch.alerts.render import alert_document
from lawwatch.alerts.rules import ResolvedRule, explain
from lawwatch.config import AlertsConfig, Config
from lawwatch.errors import AlertError
from lawwatch.pipeline.filters import FilterableDocument
from lawwatch.pipeline.models import Document, OutboxEntry, utcnow

STATUSES = ("pending", "sending", "sent", "failed")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def status_report(session: Session, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per (rule, target): rows by status, the oldest pending row's age in seconds, the last error."""
    now = now or utcnow()
    counts = session.execute(
        select(OutboxEntry.rule, OutboxEntry.target, OutboxEntry.status, func.count(), func.min(OutboxEntry.created_at))
        .group_by(OutboxEntry.rule, OutboxEntry.target, OutboxEntry.status)
        .order_by(OutboxEntry.rule, OutboxEntry.target)
    ).all()
    report: dict[tuple[str, str], dict[str, Any]] = {}
    for rule, target, status, count, oldest in counts:
        entry = report.setdefault(
            (rule, target),
            {"rule": rule, "target": target, **dict.fromkeys(STATUSES, 0), "oldest_pending_seconds": None},
        )
        entry[status] = entry.get(status, 0) + count
        if status == "pending" and oldest is not None:
            entry["oldest_pending_seconds"] = round((now - oldest).total_seconds(), 1)
    errors = session.execute(
        select(OutboxEntry.rule, OutboxEntry.target, OutboxEntry.last_error)
        .where(OutboxEntry.last_error.is_not(None), OutboxEntry.status != "sent")
        .order_by(OutboxEntry.id.desc())
    ).all()
    for rule, target, error in errors:
        found = report.get((rule, target))
        if found is None:
            continue
        entry = found
        if "last_error" not in entry:
            entry["last_error"] = error
    return list(report.values())


def sent_list(session: Session, *, since: datetime | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """What was sent, newest first: when, where, which document and rule, the provider's id."""
    stmt = (
        select(OutboxEntry, Document.title, Document.url)
        .join(Document, Document.id == OutboxEntry.document_id)
        .where(OutboxEntry.status == "sent")
        .order_by(OutboxEntry.sent_at.desc(), OutboxEntry.id.desc())
        .limit(limit)
    )
    if since is not None:
        stmt = stmt.where(OutboxEntry.sent_at >= since)
    return [
        {
            "id": row.id,
            "sent_at": _iso(row.sent_at),
            "rule": row.rule,
            "target": row.target,
            "channel": row.channel,
            "document_id": row.document_id,
            "title": title,
            "url": url,
            "revision": row.revision,
            "digest": row.digest,
            "provider_id": row.provider_id,
        }
        for row, title, url in session.execute(stmt)
    ]


def preview(session: Session, config: Config, rules: Sequence[ResolvedRule], document_id: int) -> list[dict[str, Any]]:
    """For each rule: does document ``document_id`` match it, why, and each target's rendered message."""
    from lawwatch.pipeline.query import get_document  # range-checked: an id past the column's range is not there

    doc = get_document(session, document_id)
    if doc is None:
        raise AlertError(f"no document with id {document_id}")
    view = FilterableDocument.from_row(doc)
    channels = build_channels(config.alerts, ChannelOptions(pace_seconds=0))
    now = utcnow()
    result = []
    for rule in rules:
        matched = rule.wants(view, now)
        entry: dict[str, Any] = {"rule": rule.name, "matches": matched, "filter": rule.filter.describe()}
        if matched:
            why = explain(rule, view)
            entry["why"] = why
            alert_why = Why(tuple(why["jurisdictions"]), tuple(why["statutes"]), tuple(why["words"]))
            messages = {}
            for target in rule.targets:
                configured = config.alerts.target(target.name)
                alert = Alert(0, rule.name, target.name, alert_document(doc, why["words"]), alert_why)
                messages[target.name] = channel_for(channels, configured).render(alert, configured)
            entry["messages"] = messages
        result.append(entry)
    return result


def test_alert(alerts: AlertsConfig, rule: str, target_name: str) -> dict[str, Any]:
    """Send a canned alert (a sample DOJ letter, marked as a test) to ``target_name`` through its real channel."""
    try:
        target = alerts.target(target_name)
    except KeyError:
        known = ", ".join(t.name for t in alerts.targets) or "none configured"
        raise AlertError(f'unknown target "{target_name}" (known: {known})') from None
    channel = channel_for(build_channels(alerts, ChannelOptions(pace_seconds=0), kinds=[target.kind]), target)
    channel.validate_target(target)
    document = AlertDocument(
        id=0,
        title="[lawwatch test] Justice Department sends letters on 8 U.S.C. § 1373 compliance",
        url="https://www.justice.gov/opa/pr/justice-department-provides-last-chance-cities-show-1373-compliance",
        source="lawwatch-test",
        doc_type="letter",
        published_at=datetime(2017, 10, 12, tzinfo=UTC),
        jurisdictions=("Chicago, IL", "Cook County, IL", "New Orleans, LA", "New York City, NY", "Philadelphia, PA"),
        statutes=("8 U.S.C. § 1373",),
        snippet=parse_snippet(
            "This is a test alert from lawwatch. The letters said the jurisdictions appear to have laws, policies "
            "or practices that violate \x028 U.S.C. § 1373\x03."
        ),
    )
    why = Why(jurisdictions=("Chicago, IL",), statutes=("8 U.S.C. § 1373",))
    alert = Alert(int(time.time()), rule, target.name, document, why)  # a new Message-ID for every test
    delivery = channel.send(channel.render(alert, target), target)
    return {"target": target.name, "channel": target.kind, "provider_id": delivery.provider_id, "rule": rule}
