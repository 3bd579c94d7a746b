"""Draining the alert outbox: claim what is due, send it through its channel, record what happened.

The ingest service writes one ``alert_outbox`` row per newly matching (rule, document, target) in the same
transaction as the document (:mod:`lawwatch.alerts.outbox`). This module delivers them, at least once and — outside
one tiny window — exactly once:

1. **claim** one unit (an instant alert, or every due row of one digest) and mark it ``sending`` with this
   dispatcher's id and the time; **commit**;
2. **send** it through the channel (Slack, email, webhook);
3. **record** ``sent`` with the provider's id (Slack ``ts``, the email ``Message-ID``, the webhook's status) and
   **commit** at once.

A failure sets ``attempts`` and the next try (exponential backoff with jitter, at least the provider's
``Retry-After``) until ``alerts.max_attempts``; then the row is ``failed``, shown by ``lawwatch alerts status`` and
retried only by ``lawwatch alerts retry``. A permanent error (an unknown Slack channel, a rejected address) fails at
once. The only window for a duplicate is a crash between the provider accepting the message and the commit of step
3: a row left ``sending`` is sent again.

Concurrency: on PostgreSQL any number of dispatchers run at once — the claim is ``SELECT … FOR UPDATE SKIP
LOCKED``, and a row left ``sending`` longer than ``alerts.sending_timeout`` by a dispatcher that died is claimed
again. On SQLite one dispatcher runs at a time, enforced by an exclusive ``flock`` on ``<archive>.dispatch.lock``
(the kernel drops it when the holder dies, so the holder may take back every ``sending`` row at once).
"""

from __future__ import annotations

import fcntl
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from lawwatch.alerts.channels import Channel, build_channels
from lawwatch.alerts.errors import DeliveryError
from lawwatch.alerts.render import load_alert, load_digest
from lawwatch.config import AlertsConfig
from lawwatch.errors import AlertError
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.models import OutboxEntry, utcnow

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
BACKOFF_CAP = 3600.0


class DispatcherBusy(AlertError):
    """Another dispatcher holds this SQLite archive's dispatch lock."""


@dataclass
class DispatchStats:
    """What one ``run_once`` did: units (an alert or a digest) and rows."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    rows_sent: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "retried": self.retried,
            "failed": self.failed,
            "rows_sent": self.rows_sent,
            "errors": self.errors[:20],
        }


@dataclass(frozen=True)
class Claim:
    """One unit of delivery: the rows of one instant alert (one row) or of one digest (rule, target)."""

    ids: tuple[int, ...]
    rule: str
    target: str
    channel: str
    digest: str | None
    attempts: int


def backoff(attempts: int, base: float, rng: random.Random, retry_after: float | None = None) -> float:
    """Seconds before the next try after ``attempts`` failures: ``base·2^(attempts-1)`` capped at an hour, with
    "equal jitter" (between half and all of it), never less than the provider's ``Retry-After``."""
    ceiling = min(BACKOFF_CAP, base * 2.0 ** max(0, attempts - 1))
    delay = ceiling / 2 + rng.random() * ceiling / 2
    return float(max(delay, retry_after or 0.0))


class Dispatcher:
    """Delivers due outbox rows; ``run_once`` drains what is due now, ``run`` keeps doing it until stopped."""

    def __init__(
        self,
        archive: Archive,
        alerts: AlertsConfig,
        *,
        channels: Mapping[str, Channel] | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        worker: str | None = None,
    ) -> None:
        self.archive = archive
        self.alerts = alerts
        self.channels = dict(channels) if channels is not None else build_channels(alerts)
        self.targets = {t.name: t for t in alerts.targets}
        self.clock = clock
        self.rng = rng or random.Random()
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._postgres = archive.dialect == "postgresql"

    # ------------------------------------------------------------------ loop
    def run_once(self, *, limit: int | None = None, stop: threading.Event | None = None) -> DispatchStats:
        """Send everything due now (at most ``limit`` units; none more once ``stop`` is set); raise
        ``DispatcherBusy`` on a locked SQLite archive."""
        with self._exclusive():
            return self._drain(limit, stop)

    def _drain(self, limit: int | None, stop: threading.Event | None) -> DispatchStats:
        stats = DispatchStats()
        done = 0
        while (limit is None or done < limit) and not (stop is not None and stop.is_set()):
            claim = self._claim()
            if claim is None:
                break
            self._deliver(claim, stats)
            done += 1
        return stats

    def run(self, stop: threading.Event, *, interval: float | None = None) -> None:
        """Dispatch every ``interval`` seconds (``alerts.dispatch_interval``) until ``stop`` is set; a round in
        progress ends after the alert being sent. On SQLite the dispatch lock is held from start to stop, so a
        second dispatcher refuses (``DispatcherBusy``) instead of taking turns with this one."""
        every = self.alerts.dispatch_interval if interval is None else interval
        with self._exclusive():
            while not stop.is_set():
                try:
                    stats = self._drain(None, stop)
                    if stats.sent or stats.failed or stats.retried:
                        log.info("dispatch: %s", stats.as_dict())
                except Exception:  # one bad round must not end the service; the next round tries again
                    log.exception("dispatch round failed")
                stop.wait(every)

    # ------------------------------------------------------------------ claim
    def _claim(self) -> Claim | None:
        now = self.clock()
        # SQLite: we hold the only dispatch lock, so every row left sending belongs to a dead dispatcher.
        stale = now - timedelta(seconds=self.alerts.sending_timeout) if self._postgres else now
        due = or_(
            and_(OutboxEntry.status == PENDING, OutboxEntry.next_attempt_at <= now),
            and_(OutboxEntry.status == SENDING, OutboxEntry.claimed_at <= stale),
        )
        with self.archive.session() as session:
            first = select(OutboxEntry).where(due).order_by(OutboxEntry.next_attempt_at, OutboxEntry.id).limit(1)
            if self._postgres:
                first = first.with_for_update(skip_locked=True)
            row = session.scalars(first).first()
            if row is None:
                return None
            rows = [row]
            if row.digest is not None:
                group = select(OutboxEntry).where(
                    due, OutboxEntry.rule == row.rule, OutboxEntry.target == row.target, OutboxEntry.id != row.id
                )
                if self._postgres:
                    group = group.with_for_update(skip_locked=True)
                rows += list(session.scalars(group.order_by(OutboxEntry.id)))
            ids = tuple(r.id for r in rows)
            session.execute(
                update(OutboxEntry)
                .where(OutboxEntry.id.in_(ids))
                .values(status=SENDING, claimed_at=now, claimed_by=self.worker)
            )
            return Claim(ids, row.rule, row.target, row.channel, row.digest, max(r.attempts for r in rows))

    # ------------------------------------------------------------------ send + record
    def _deliver(self, claim: Claim, stats: DispatchStats) -> None:
        target = self.targets.get(claim.target)
        channel = self.channels.get(claim.channel)
        if target is None or channel is None or getattr(target, "kind", None) != claim.channel:
            what = "target" if target is None else "channel"
            self._failed(claim, f"{what} {claim.target!r} is no longer configured for {claim.channel}", True, stats)
            return
        try:
            with self.archive.session() as session:
                message = self._load(session, claim)
            payload = channel.render(message, target)
        except Exception as exc:  # a row that cannot be rendered must not block the ones behind it
            log.exception("cannot render outbox rows %s", claim.ids)
            self._failed(claim, f"cannot render the alert: {type(exc).__name__}: {exc}", True, stats)
            return
        try:
            delivery = channel.send(payload, target)
        except DeliveryError as exc:
            self._failed(claim, str(exc), exc.permanent, stats, retry_after=exc.retry_after)
            return
        except Exception as exc:  # an unexpected channel bug: retried like a transient error, and logged
            log.exception("channel %s failed on outbox rows %s", claim.channel, claim.ids)
            self._failed(claim, f"{type(exc).__name__}: {exc}", False, stats)
            return
        self._record(claim, status=SENT, provider_id=delivery.provider_id, attempts=claim.attempts + 1)
        stats.sent += 1
        stats.rows_sent += len(claim.ids)

    def _load(self, session: Session, claim: Claim) -> Any:
        if claim.digest is None:
            return load_alert(session, claim.ids[0])
        return load_digest(session, claim.ids)

    def _failed(
        self,
        claim: Claim,
        message: str,
        permanent: bool,
        stats: DispatchStats,
        *,
        retry_after: float | None = None,
    ) -> None:
        attempts = claim.attempts + 1
        stats.errors.append(f"{claim.rule} → {claim.target}: {message}")
        if permanent or attempts >= self.alerts.max_attempts:
            self._record(claim, status=FAILED, error=message, attempts=attempts)
            stats.failed += 1
            return
        delay = backoff(attempts, self.alerts.retry_base, self.rng, retry_after)
        self._record(
            claim,
            status=PENDING,
            error=message,
            attempts=attempts,
            next_attempt_at=self.clock() + timedelta(seconds=delay),
        )
        stats.retried += 1

    def _record(
        self,
        claim: Claim,
        *,
        status: str,
        attempts: int,
        provider_id: str | None = None,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status, "attempts": attempts, "claimed_at": None, "claimed_by": None}
        if status == SENT:
            values.update(sent_at=self.clock(), provider_id=provider_id, last_error=None)
        else:
            values["last_error"] = error[:2000] if error else None
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        with self.archive.session() as session:
            done = session.execute(
                update(OutboxEntry)
                .where(OutboxEntry.id.in_(claim.ids), OutboxEntry.claimed_by == self.worker)
                .values(**values)
            )
            if done.rowcount != len(claim.ids):  # type: ignore[attr-defined]
                log.warning(
                    "outbox rows %s were taken over by another dispatcher while %s sent them", claim.ids, self.worker
                )

    # ------------------------------------------------------------------ SQLite: one dispatcher at a time
    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        if self._postgres:
            yield
            return
        path = lock_path(self.archive)
        if path is None:  # an in-memory archive lives in this process only
            with _MEMORY_LOCK:
                yield
            return
        with open(path, "a+") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise DispatcherBusy(
                    f"another dispatcher is running on this SQLite archive (lock {path}); "
                    "SQLite allows one at a time — use PostgreSQL for several"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


_MEMORY_LOCK = threading.Lock()


def lock_path(archive: Archive) -> Path | None:
    """``<database file>.dispatch.lock`` for a file-backed SQLite archive; None for an in-memory one."""
    database = archive.engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database).with_name(Path(database).name + ".dispatch.lock")


def retry(archive: Archive, ids: Sequence[int] = (), *, failed: bool = False) -> int:
    """Put outbox rows (by id, or every failed one) back to pending, due now, with their attempts reset."""
    with archive.session() as session:
        stmt = update(OutboxEntry).values(status=PENDING, attempts=0, next_attempt_at=utcnow(), last_error=None)
        if ids:
            stmt = stmt.where(OutboxEntry.id.in_(list(ids)), OutboxEntry.status.in_([FAILED, PENDING]))
        elif failed:
            stmt = stmt.where(OutboxEntry.status == FAILED)
        else:
            return 0
        return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def wait_until_idle(archive: Archive, timeout: float) -> bool:
    """For tests and the demo: True once no row is pending-and-due or sending, within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with archive.session() as session:
            busy = session.scalar(
                select(OutboxEntry.id)
                .where(
                    or_(
                        OutboxEntry.status == SENDING,
                        and_(OutboxEntry.status == PENDING, OutboxEntry.next_attempt_at <= utcnow()),
                    )
                )
                .limit(1)
            )
        if busy is None:
            return True
        time.sleep(0.05)
    return False
