"""The watchdog: tell the operators when a source goes quiet or keeps failing — once — and once when it recovers.

Each enabled source is judged from the archive on every tick (``[service] watchdog_interval``):

- ``failing`` — its last ``fail_after`` crawls (default 3; ``0`` turns the check off) all ended ``failed``.
  Imports and ``interrupted`` crawls (a service stop, a timeout) are left out of the count.
- ``quiet`` — the source has ``expect_every`` (e.g. ``"2d"``), it was crawled within that window, and nothing new
  was stored from it for that long (the newest crawl of it that stored a new document, or the first time
  ``document_sources`` saw a document under it). A source that was simply not crawled (the service was down) is
  not called quiet.
- ``ok`` — neither.

The verdict lives in ``source_health`` (state, since when, why, when the operators were told). A change of state
is committed first; then a ``Notice`` goes to every target of ``alerts.ops_targets`` through the alert channels,
and ``alerted_at`` is set once every target took it (a permanent refusal — an unknown channel — is given up on and
logged). Until then every tick tries again, and so does the next service start: the row is the notice's outbox.
A recovery is announced only when the trouble was; a trouble that cleared before anyone was told stays silent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lawwatch.alerts.channels import Channel, channel_for
from lawwatch.alerts.errors import DeliveryError, TargetError
from lawwatch.alerts.message import Notice
from lawwatch.config import Config, SourceConfig
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.models import CrawlRun, DocumentSource, SourceHealth, utcnow
from lawwatch.service.logs import event

log = logging.getLogger("lawwatch.watchdog")
OK, QUIET, FAILING = "ok", "quiet", "failing"


@dataclass(frozen=True)
class Verdict:
    state: str
    reason: str | None = None


@dataclass(frozen=True)
class Change:
    """A source's state changed on this tick."""

    source: str
    before: str | None
    after: str
    reason: str | None


def human(seconds: float) -> str:
    """``172800`` → ``"2d"``, ``5400`` → ``"1h30m"``, ``42`` → ``"42s"``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
        if len(parts) == 2:
            break
    return "".join(parts)


def _crawls(session: Session, source: str, *, limit: int, where: Any = None) -> list[CrawlRun]:
    """The source's newest finished crawl runs (imports left out), newest first."""
    stmt = select(CrawlRun).where(CrawlRun.source == source, CrawlRun.status != "running")
    if where is not None:
        stmt = stmt.where(where)
    rows = session.scalars(stmt.order_by(CrawlRun.id.desc()).limit(limit)).all()
    return [r for r in rows if (r.stats or {}).get("kind") != "import"]


def assess(session: Session, source: SourceConfig, now: datetime) -> Verdict:
    """The watchdog's verdict on ``source`` at ``now`` (see the module docstring)."""
    if source.fail_after > 0:
        recent = [r for r in _crawls(session, source.id, limit=source.fail_after * 3 + 10) if r.status != "interrupted"]
        last = recent[: source.fail_after]
        if len(last) == source.fail_after and all(r.status == "failed" for r in last):
            first_error = next((str(m) for m in (last[0].error_messages or [])), "")
            reason = f"its last {source.fail_after} crawls failed" + (f": {first_error}" if first_error else "")
            return Verdict(FAILING, reason[:500])
    if source.expect_every:
        window = now - timedelta(seconds=source.expect_every)
        if not _crawls(session, source.id, limit=5, where=CrawlRun.finished_at >= window):
            return Verdict(OK)  # not crawled lately: nothing to say about the source itself
        new = _crawls(session, source.id, limit=20, where=CrawlRun.new > 0)
        seen = session.scalar(select(func.max(DocumentSource.first_seen_at)).where(DocumentSource.source == source.id))
        first = session.scalar(select(func.min(CrawlRun.started_at)).where(CrawlRun.source == source.id))
        times = [t for t in (new[0].finished_at if new else None, seen) if t is not None]
        reference = max(times) if times else first
        if reference is not None and reference < window:
            what = "new" if times else "at all since its first crawl"
            reason = (
                f"nothing {what} for {human((now - reference).total_seconds())} "
                f"(since {reference:%Y-%m-%d %H:%M} UTC; expected every {human(source.expect_every)})"
            )
            return Verdict(QUIET, reason)
    return Verdict(OK)


def notice_for(source: str, state: str, since: datetime, reason: str | None, target: str) -> Notice:
    """The operators' message about ``source`` entering ``state``."""
    key = f"watchdog-{source}-{state}-{since:%Y%m%dT%H%M%S}"
    if state == FAILING:
        subject = f"lawwatch: source {source} is failing"
    elif state == QUIET:
        subject = f"lawwatch: source {source} has gone quiet"
    else:
        subject = f"lawwatch: source {source} recovered"
    lines = [reason or "", f"since {since:%Y-%m-%d %H:%M:%S} UTC"]
    if state != OK:
        lines.append(f"`lawwatch status` shows its runs; `lawwatch crawl {source} -v` runs it by hand")
    return Notice(key, target, subject, tuple(x for x in lines if x), source=source, state=state)


class Watchdog:
    """Judges every enabled source on ``tick()`` and tells ``alerts.ops_targets`` about changes."""

    def __init__(
        self,
        archive: Archive,
        config: Config,
        channels: Mapping[str, Channel],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.archive = archive
        self.config = config
        self.channels = channels
        self.clock = clock
        self.sources = [s for s in config.sources if s.enabled and (s.fail_after > 0 or s.expect_every)]
        self._delivered: set[tuple[str, str]] = set()  # (notice key, target) taken by this process

    def tick(self) -> list[Change]:
        """Judge every source, record changes, send what is owed; the changes of this tick."""
        now = self.clock()
        changes: list[Change] = []
        owed: list[tuple[str, str, datetime, str | None]] = []
        with self.archive.session() as session:
            for source in self.sources:
                verdict = assess(session, source, now)
                change = self._record(session, source.id, verdict, now)
                if change is not None:
                    changes.append(change)
            for row in session.scalars(select(SourceHealth).where(SourceHealth.alerted_at.is_(None))):
                if any(s.id == row.source for s in self.sources):
                    owed.append((row.source, row.state, row.since, row.reason))
        for change in changes:
            event(
                log,
                "watchdog",
                logging.WARNING if change.after != OK else logging.INFO,
                source=change.source,
                state=change.after,
                was=change.before or "-",
                reason=change.reason or "",
            )
        for name, state, since, reason in owed:
            if self._tell(name, state, since, reason):
                with self.archive.session() as session:
                    session.execute(
                        update(SourceHealth)
                        .where(SourceHealth.source == name, SourceHealth.state == state, SourceHealth.since == since)
                        .values(alerted_at=self.clock())
                    )
        return changes

    def _record(self, session: Session, source: str, verdict: Verdict, now: datetime) -> Change | None:
        row = session.get(SourceHealth, source)
        if row is None:
            alerted = now if verdict.state == OK else None  # a source that starts fine owes nobody a message
            session.add(
                SourceHealth(
                    source=source,
                    state=verdict.state,
                    since=now,
                    reason=verdict.reason,
                    alerted_at=alerted,
                    checked_at=now,
                )
            )
            return Change(source, None, verdict.state, verdict.reason) if verdict.state != OK else None
        row.checked_at = now
        if row.state == verdict.state:
            if verdict.state != OK:
                row.reason = verdict.reason
            return None
        before, told = row.state, row.alerted_at is not None
        reason = verdict.reason
        if verdict.state == OK:
            reason = f"was {before} since {row.since:%Y-%m-%d %H:%M} UTC: {row.reason or '?'}"[:500]
        row.state, row.since, row.reason = verdict.state, now, reason
        # A trouble is always owed a message; a recovery only when the trouble was told.
        row.alerted_at = None if (verdict.state != OK or told) else now
        return Change(source, before, verdict.state, reason)

    def _tell(self, source: str, state: str, since: datetime, reason: str | None) -> bool:
        """Send the notice to every ops target not yet reached; True when none is left to try."""
        targets = self.config.alerts.ops_targets
        if not targets:
            event(
                log,
                "ops_notice",
                logging.WARNING,
                source=source,
                state=state,
                target="-",
                result="no alerts.ops_targets configured",
            )
            return True
        done = True
        for name in targets:
            notice = notice_for(source, state, since, reason, name)
            if (notice.key, name) in self._delivered:
                continue
            try:
                target = self.config.alerts.target(name)
                channel = channel_for(self.channels, target)
                channel.validate_target(target)
                delivery = channel.send(channel.render(notice, target), target)
            except (TargetError, DeliveryError) as exc:
                permanent = isinstance(exc, TargetError) or bool(getattr(exc, "permanent", False))
                event(
                    log,
                    "ops_notice",
                    logging.ERROR,
                    source=source,
                    state=state,
                    target=name,
                    result="given up" if permanent else "will retry",
                    error=str(exc),
                )
                if permanent:
                    self._delivered.add((notice.key, name))
                else:
                    done = False
                continue
            except Exception as exc:  # a channel bug: retried on the next tick
                event(
                    log,
                    "ops_notice",
                    logging.ERROR,
                    source=source,
                    state=state,
                    target=name,
                    result="will retry",
                    error=f"{type(exc).__name__}: {exc}",
                )
                done = False
                continue
            self._delivered.add((notice.key, name))
            event(
                log,
                "ops_notice",
                source=source,
                state=state,
                target=name,
                result="sent",
                provider_id=delivery.provider_id,
            )
        return done
