"""One scheduler per archive: the SQLite lock row (heartbeat, stale takeover) and the PostgreSQL advisory lock."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

import lawwatch.service.lock as lock_module
from lawwatch.pipeline.db import Archive, open_archive
from lawwatch.service.lock import LockLost, SchedulerBusy, SchedulerLock, advisory_key, read_holder


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def test_sqlite_second_scheduler_refused_until_the_first_releases(sqlite_archive: Archive) -> None:
    first = SchedulerLock(sqlite_archive, stale_after=60)
    first.acquire({"sources": ["doj_api"]})
    second = SchedulerLock(sqlite_archive, stale_after=60)
    with pytest.raises(SchedulerBusy, match=r"another lawwatch scheduler runs on this SQLite archive \(pid \d+ on "):
        second.acquire()
    held = read_holder(sqlite_archive)
    assert held is not None and held.holder == first.holder and held.info == {"sources": ["doj_api"]}
    first.heartbeat({"sources": [], "crawling": ["doj_api"]})
    held = read_holder(sqlite_archive)
    assert held is not None and held.info == {"sources": [], "crawling": ["doj_api"]}
    first.release()
    assert read_holder(sqlite_archive) is None
    second.acquire()
    assert second.took_over is None
    second.release()


def test_sqlite_stale_heartbeat_is_taken_over_and_the_old_holder_learns_it(sqlite_archive: Archive) -> None:
    clock = Clock()
    old = SchedulerLock(sqlite_archive, stale_after=10, clock=clock, host="elsewhere", pid=4242)
    old.acquire()
    new = SchedulerLock(sqlite_archive, stale_after=10, clock=clock)
    clock.now += timedelta(seconds=9)
    with pytest.raises(SchedulerBusy, match="taken over 10 s after its last heartbeat"):
        new.acquire()  # fresh enough; another host, so its pid means nothing here
    clock.now += timedelta(seconds=2)
    new.acquire()
    assert new.took_over is not None and new.took_over.holder == old.holder
    with pytest.raises(LockLost, match="taken over as stale"):
        old.heartbeat()
    new.heartbeat()
    new.release()


def test_sqlite_lock_of_a_dead_process_on_this_host_is_taken_over_at_once(sqlite_archive: Archive) -> None:
    dead = SchedulerLock(sqlite_archive, stale_after=3600, pid=_dead_pid())
    dead.acquire()
    live = SchedulerLock(sqlite_archive, stale_after=3600)
    live.acquire()
    assert live.took_over is not None and live.took_over.pid == dead.pid


def test_sqlite_takeover_is_a_compare_and_set(sqlite_archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two schedulers that both saw the same stale row: only the first update wins."""
    clock = Clock()
    SchedulerLock(sqlite_archive, stale_after=5, clock=clock, host="elsewhere").acquire()
    clock.now += timedelta(seconds=30)
    winner = SchedulerLock(sqlite_archive, stale_after=5, clock=clock)
    loser = SchedulerLock(sqlite_archive, stale_after=5, clock=clock)
    stale = read_holder(sqlite_archive)
    winner.acquire()
    # the loser decides from the stale row it read before the winner wrote
    monkeypatch.setattr(lock_module, "read_holder", lambda *args, **kwargs: stale)
    with pytest.raises(SchedulerBusy):
        loser.acquire()
    monkeypatch.undo()
    held = read_holder(sqlite_archive)
    assert held is not None and held.holder == winner.holder


def test_advisory_keys_differ_per_archive() -> None:
    assert advisory_key("test", "lw_a") != advisory_key("test", "lw_b")
    assert advisory_key("test", "lw_a") == advisory_key("test", "lw_a")
    assert -(2**63) <= advisory_key("test", "public") < 2**63


@pytest.fixture
def pg_pair(postgres_url: str) -> Iterator[tuple[Archive, Archive]]:
    """Two archives (two engines, as two processes would have) on one fresh PostgreSQL schema."""
    first, second = open_archive(postgres_url), open_archive(postgres_url)
    yield first, second
    first.dispose()
    second.dispose()


@pytest.mark.postgres
def test_postgres_advisory_lock_refuses_and_frees_when_the_session_ends(pg_pair: tuple[Archive, Archive]) -> None:
    a, b = pg_pair
    first = SchedulerLock(a, stale_after=60)
    first.acquire()
    second = SchedulerLock(b, stale_after=60)
    with pytest.raises(SchedulerBusy, match="PostgreSQL archive .* released the moment that process ends"):
        second.acquire()
    first.heartbeat({"crawling": []})
    # a crash: the session ends without unlocking, the row stays behind with a fresh heartbeat
    assert first._connection is not None
    first._connection.invalidate()
    first._connection = None
    second.acquire()
    held = read_holder(b)
    assert held is not None and held.holder == second.holder
    with pytest.raises(LockLost):
        first.heartbeat()
    second.release()
    assert read_holder(b) is None


@pytest.mark.postgres
def test_postgres_heartbeat_notices_a_broken_session(pg_pair: tuple[Archive, Archive]) -> None:
    a, _ = pg_pair
    lock = SchedulerLock(a, stale_after=60)
    lock.acquire()
    assert lock._connection is not None
    backend = lock._connection.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    lock._connection.commit()
    with a.engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": backend})
    with pytest.raises(LockLost, match="session holding the scheduler lock ended"):
        lock.heartbeat()
    lock.release()
