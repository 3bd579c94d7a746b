"""Crawl subprocesses of the service: the result read from ``crawl --json``, the timeout (SIGTERM, then SIGKILL),
stopping every crawl, and runs left ``running`` by a dead process marked ``interrupted``.

The child here is a stand-in for ``lawwatch crawl`` (a few lines of Python that write a ``running`` crawl run under
their own pid, like the runner does) so that each behaviour — finishing, stopping on SIGTERM, ignoring it — is
certain and fast.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.models import CrawlRun, utcnow
from lawwatch.pipeline.runs import interrupt_stale_runs
from lawwatch.service.crawls import CrawlRunner

FAKE_CRAWL = r"""
import json, os, signal, socket, sys, time
from lawwatch.pipeline.db import open_archive
from lawwatch.pipeline.models import CrawlRun, utcnow
url, source, mode = sys.argv[1:4]
archive = open_archive(url, migrate=False)
def report(status, new):
    print(json.dumps({"ok": status != "failed", "sources": [{"source": source, "status": status, "new": new,
                      "updated": 0, "unchanged": 1, "errors": 0, "run_id": run_id, "error_messages": []}]}))
    sys.stdout.flush()
def stop(*_):
    with archive.session() as session:
        session.get(CrawlRun, run_id).status = "interrupted"
    report("interrupted", 0)
    sys.exit(0)
if mode != "ok":  # like Scrapy: the handler is in place before the run is written
    signal.signal(signal.SIGTERM, signal.SIG_IGN if mode == "stubborn" else stop)
with archive.session() as session:
    row = CrawlRun(source=source, status="running", pid=os.getpid(), host=socket.gethostname(), heartbeat_at=utcnow())
    session.add(row)
    session.flush()
    run_id = row.id
if mode == "ok":
    with archive.session() as session:
        session.get(CrawlRun, run_id).status = "ok"
    report("ok", 2)
    sys.exit(0)
time.sleep(60)
"""


def runner(archive: Archive, tmp_path: Path, mode: str, *, timeout: float = 30.0, grace: float = 5.0) -> CrawlRunner:
    script = tmp_path / "fake_crawl.py"
    script.write_text(FAKE_CRAWL, encoding="utf-8")
    url = archive.engine.url.render_as_string(hide_password=False)
    return CrawlRunner(
        archive, lambda source: [sys.executable, str(script), url, source, mode], timeout=timeout, grace=grace
    )


def runs(archive: Archive) -> list[CrawlRun]:
    with archive.session() as session:
        return list(session.scalars(sa.select(CrawlRun).order_by(CrawlRun.id)))


def wait_for_running(archive: Archive, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(r.status == "running" for r in runs(archive)):
            return
        time.sleep(0.05)
    raise AssertionError("the fake crawl never started")


def test_the_result_comes_from_crawl_json(sqlite_archive: Archive, tmp_path: Path) -> None:
    outcome = runner(sqlite_archive, tmp_path, "ok").run("doj_api")
    assert (outcome.status, outcome.ended, outcome.exit_code) == ("ok", "exit", 0)
    assert outcome.count("new") == 2 and outcome.count("unchanged") == 1 and outcome.result["run_id"] == 1
    assert [r.status for r in runs(sqlite_archive)] == ["ok"]


def test_an_overrun_is_terminated_then_killed_and_recorded_interrupted(sqlite_archive: Archive, tmp_path: Path) -> None:
    crawls = runner(sqlite_archive, tmp_path, "stubborn", timeout=1.5, grace=0.5)
    began = time.monotonic()
    outcome = crawls.run("doj_api")
    assert time.monotonic() - began < 10
    assert (outcome.status, outcome.ended) == ("interrupted", "timeout")
    assert outcome.exit_code is not None and outcome.exit_code < 0  # SIGKILL: it ignored SIGTERM
    (row,) = runs(sqlite_archive)
    assert row.status == "interrupted" and row.finished_at is not None
    assert "after its 1.5 s timeout" in row.error_messages[-1]
    assert crawls.running() == []


def test_stop_all_stops_a_crawl_gracefully(sqlite_archive: Archive, tmp_path: Path) -> None:
    crawls = runner(sqlite_archive, tmp_path, "graceful")
    outcomes = []
    thread = threading.Thread(target=lambda: outcomes.append(crawls.run("doj_api")))
    thread.start()
    try:
        wait_for_running(sqlite_archive)
        assert crawls.running() == ["doj_api"]
        crawls.stop_all()
    finally:
        thread.join(timeout=20)
    (outcome,) = outcomes
    assert (outcome.status, outcome.ended, outcome.exit_code) == ("interrupted", "stopped", 0)
    (row,) = runs(sqlite_archive)
    assert row.status == "interrupted" and "while shutting down" in row.error_messages[-1]
    assert crawls.run("doj_rss").status == "skipped"  # nothing starts after a stop


def test_a_forced_stop_kills_at_once(sqlite_archive: Archive, tmp_path: Path) -> None:
    crawls = runner(sqlite_archive, tmp_path, "stubborn", grace=60)
    outcomes = []
    thread = threading.Thread(target=lambda: outcomes.append(crawls.run("doj_api")))
    thread.start()
    try:
        wait_for_running(sqlite_archive)
        crawls.stop_all()
        time.sleep(0.5)
        assert thread.is_alive()  # it ignores SIGTERM and has 60 s of grace
        crawls.stop_all(force=True)
    finally:
        thread.join(timeout=10)
    assert outcomes and outcomes[0].ended == "stopped" and outcomes[0].status == "interrupted"
    assert runs(sqlite_archive)[0].status == "interrupted"


def test_runs_of_dead_processes_are_marked_interrupted(archive: Archive) -> None:
    now = utcnow()
    here, me = socket.gethostname(), 1
    cases = {
        "dead here": dict(host=here, pid=999_999, heartbeat_at=now),
        "alive here": dict(host=here, pid=me, heartbeat_at=now),
        "stale elsewhere": dict(host="elsewhere", pid=5, heartbeat_at=now - timedelta(seconds=300)),
        "fresh elsewhere": dict(host="elsewhere", pid=5, heartbeat_at=now - timedelta(seconds=30)),
        "old, no heartbeat": dict(host=None, pid=None, heartbeat_at=None, started_at=now - timedelta(hours=7)),
        "new, no heartbeat": dict(host=None, pid=None, heartbeat_at=None, started_at=now - timedelta(minutes=5)),
    }
    with archive.session() as session:
        for name, values in cases.items():
            session.add(CrawlRun(source=name, status="running", **values))
        session.add(CrawlRun(source="finished", status="ok", host=here, pid=999_999))
    marked = interrupt_stale_runs(archive, host=here, now=now, alive=lambda pid: pid == me)
    states = {r.source: r.status for r in runs(archive)}
    assert len(marked) == 3
    assert states == {
        "dead here": "interrupted",
        "alive here": "running",
        "stale elsewhere": "interrupted",
        "fresh elsewhere": "running",
        "old, no heartbeat": "interrupted",
        "new, no heartbeat": "running",
        "finished": "ok",
    }
    reasons = {r.source: r.error_messages[-1] for r in runs(archive) if r.status == "interrupted"}
    assert "its process (999999 on" in reasons["dead here"] and "no heartbeat since" in reasons["stale elsewhere"]
