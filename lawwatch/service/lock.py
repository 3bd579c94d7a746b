"""One scheduler per archive: ``SchedulerLock``.

Both backends keep a row in ``service_locks`` (name ``scheduler``): who holds it (``holder``, ``pid``, ``host``),
since when, its last heartbeat and a little ``info`` — that row is what ``lawwatch status`` and ``/healthz`` read.
What makes the lock exclusive differs:

- **PostgreSQL**: a session-level advisory lock (``pg_try_advisory_lock``) held on a connection kept open for the
  service's life. The server drops it the moment that connection ends — a crash, a SIGKILL, a lost host — so a new
  scheduler can start at once; the row is only informative and is simply overwritten. The lock key is derived from
  the database and schema, so two archives on one server do not exclude each other.
- **SQLite**: the row itself. It is taken with compare-and-set statements (an ``INSERT`` that fails when the row
  exists, an ``UPDATE … WHERE holder = <the stale holder>``), renewed by every heartbeat, and may be taken over
  when its heartbeat is older than ``stale_after`` seconds, or at once when its holder ran on this host and that
  process is gone.

A heartbeat that finds the lock taken by someone else (this process was frozen longer than ``stale_after``, or the
PostgreSQL connection broke) raises ``LockLost``: the service must stop.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from lawwatch.errors import LawwatchError
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.models import ServiceLock, utcnow
from lawwatch.pipeline.query import SCHEDULER_LOCK
from lawwatch.pipeline.runs import process_alive

LOCK_NAME = SCHEDULER_LOCK


class SchedulerBusy(LawwatchError):
    """Another scheduler holds this archive's lock."""


class LockLost(LawwatchError):
    """This scheduler no longer holds the archive's lock (taken over as stale, or its PostgreSQL session ended)."""


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) the lock, as its row says."""

    holder: str
    pid: int | None
    host: str | None
    acquired_at: datetime
    heartbeat_at: datetime
    info: dict[str, Any] | None

    def describe(self, now: datetime) -> str:
        age = (now - self.heartbeat_at).total_seconds()
        return f"pid {self.pid} on {self.host}, last heartbeat {age:.0f} s ago, running since {self.acquired_at:%c} UTC"


def read_holder(archive: Archive, name: str = LOCK_NAME) -> Holder | None:
    with archive.session() as session:
        row = session.get(ServiceLock, name)
        if row is None:
            return None
        return Holder(row.holder, row.pid, row.host, row.acquired_at, row.heartbeat_at, row.info)


def advisory_key(database: str, schema: str) -> int:
    """A signed 64-bit advisory lock key for the scheduler of one archive (database + schema)."""
    digest = hashlib.sha256(f"lawwatch-scheduler:{database}:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class SchedulerLock:
    """The archive's scheduler lock for this process: ``acquire()``, ``heartbeat()`` now and then, ``release()``."""

    def __init__(
        self,
        archive: Archive,
        *,
        stale_after: float,
        name: str = LOCK_NAME,
        clock: Callable[[], datetime] = utcnow,
        pid: int | None = None,
        host: str | None = None,
    ) -> None:
        self.archive = archive
        self.stale_after = stale_after
        self.name = name
        self.clock = clock
        self.pid = os.getpid() if pid is None else pid
        self.host = socket.gethostname() if host is None else host
        self.holder = f"{self.host}:{self.pid}:{uuid.uuid4().hex[:8]}"
        self.acquired_at: datetime | None = None
        self._postgres = archive.dialect == "postgresql"
        self._connection: Connection | None = None  # PostgreSQL: the session that holds the advisory lock
        self._key: int | None = None
        self.took_over: Holder | None = None  # the stale holder this process took the lock from, if any

    # ------------------------------------------------------------------ acquire / release
    def acquire(self, info: dict[str, Any] | None = None) -> None:
        """Take the lock or raise ``SchedulerBusy`` naming its holder."""
        if self._postgres:
            self._acquire_advisory()
            self._write_row(info)
        else:
            self._acquire_row(info)
        self.acquired_at = self.clock()

    def release(self) -> None:
        """Give the lock up (its row is deleted); safe to call when it is not held."""
        try:
            with self.archive.session() as session:
                session.execute(
                    delete(ServiceLock).where(ServiceLock.name == self.name, ServiceLock.holder == self.holder)
                )
        except SQLAlchemyError:
            pass  # the archive is gone; a stale row is taken over by the next scheduler
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
                self._connection.commit()
            except SQLAlchemyError:
                pass  # closing the session below releases it anyway
            finally:
                self._connection.close()
                self._connection = None
        self.acquired_at = None

    def heartbeat(self, info: dict[str, Any] | None = None) -> None:
        """Renew the lock (and its row's ``info``); ``LockLost`` when this process no longer holds it."""
        if self._postgres:
            if self._connection is None:
                raise LockLost("the scheduler lock is not held")
            try:
                self._connection.execute(text("SELECT 1"))
                self._connection.commit()
            except SQLAlchemyError as exc:
                reason = exc.__class__.__name__
                raise LockLost(f"the database session holding the scheduler lock ended: {reason}") from exc
            self._write_row(info)
            return
        values: dict[str, Any] = {"heartbeat_at": self.clock()}
        if info is not None:
            values["info"] = info
        with self.archive.session() as session:
            done = session.execute(
                update(ServiceLock)
                .where(ServiceLock.name == self.name, ServiceLock.holder == self.holder)
                .values(**values)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                current = session.get(ServiceLock, self.name)
                who = f"{current.holder} (pid {current.pid} on {current.host})" if current else "nobody"
                raise LockLost(f"the scheduler lock was taken over as stale; it is now held by {who}")

    # ------------------------------------------------------------------ PostgreSQL
    def _acquire_advisory(self) -> None:
        conn = self.archive.engine.connect()
        try:
            database, schema = conn.execute(text("SELECT current_database(), current_schema()")).one()
            self._key = advisory_key(str(database), str(schema))
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar())
            conn.commit()
        except BaseException:
            conn.close()
            raise
        if not got:
            conn.close()
            raise SchedulerBusy(self._busy_message(read_holder(self.archive, self.name), advisory=True))
        self._connection = conn

    def _write_row(self, info: dict[str, Any] | None) -> None:
        """PostgreSQL (the advisory lock is ours): make the row say so."""
        now = self.clock()
        with self.archive.session() as session:
            row = session.get(ServiceLock, self.name, with_for_update=True)
            if row is None:
                session.add(
                    ServiceLock(
                        name=self.name,
                        holder=self.holder,
                        pid=self.pid,
                        host=self.host,
                        acquired_at=now,
                        heartbeat_at=now,
                        info=info,
                    )
                )
                return
            if row.holder != self.holder:
                row.holder, row.pid, row.host, row.acquired_at = self.holder, self.pid, self.host, now
            row.heartbeat_at = now
            if info is not None:
                row.info = info

    # ------------------------------------------------------------------ SQLite
    def _acquire_row(self, info: dict[str, Any] | None) -> None:
        now = self.clock()
        current = read_holder(self.archive, self.name)
        values = {
            "holder": self.holder,
            "pid": self.pid,
            "host": self.host,
            "acquired_at": now,
            "heartbeat_at": now,
            "info": info,
        }
        if current is None:
            try:
                with self.archive.session() as session:
                    session.execute(insert(ServiceLock).values(name=self.name, **values))
                return
            except IntegrityError:  # another scheduler inserted it first
                raise SchedulerBusy(self._busy_message(read_holder(self.archive, self.name))) from None
        why = self._stale(current, now)
        if why is None:
            raise SchedulerBusy(self._busy_message(current))
        condition = [ServiceLock.name == self.name, ServiceLock.holder == current.holder]
        if why == "heartbeat":
            condition.append(ServiceLock.heartbeat_at < now - timedelta(seconds=self.stale_after))
        with self.archive.session() as session:
            done = session.execute(update(ServiceLock).where(*condition).values(**values))
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise SchedulerBusy(self._busy_message(read_holder(self.archive, self.name)))
        self.took_over = current

    def _stale(self, current: Holder, now: datetime) -> str | None:
        """Why the lock ``current`` may be taken over (``"heartbeat"``, ``"process"``), or None."""
        if now - current.heartbeat_at > timedelta(seconds=self.stale_after):
            return "heartbeat"
        if current.host == self.host and current.pid is not None and current.pid != self.pid:
            if not process_alive(current.pid):
                return "process"
        return None

    def _busy_message(self, current: Holder | None, *, advisory: bool = False) -> str:
        backend = "PostgreSQL" if self._postgres else "SQLite"
        if current is None:
            who = "another process"
        else:
            who = current.describe(self.clock())
        if advisory:
            after = "it is released the moment that process ends"
        else:
            after = f"a crashed one's lock is taken over {self.stale_after:g} s after its last heartbeat"
        return f"another lawwatch scheduler runs on this {backend} archive ({who}); stop it first ({after})"
