"""The scheduler's persistent jobs in the archive's ``SQLAlchemyJobStore``: one per enabled source, found again by a
new scheduler (a restart) with their next run times, rescheduled when a schedule changes, removed when a source
leaves; stored as a reference to ``lawwatch.scheduler:crawl_job`` with the source id."""

from __future__ import annotations

import pickle
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

from lawwatch.config import Schedule, SourceConfig
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.query import SCHEDULER_JOBS_TABLE, status_report
from lawwatch.scheduler import crawl_job
from lawwatch.service.jobs import CRAWL_JOB, ServiceScheduler, job_timing, sync_jobs


def source(sid: str, schedule: str) -> SourceConfig:
    return SourceConfig(id=sid, spider=sid, base_url="https://www.justice.gov", schedule=Schedule.parse(schedule))


@pytest.fixture
def start(archive: Archive) -> Iterator[object]:
    """``start()`` → a paused scheduler on the archive's job store (a fresh one each call, like a new process)."""
    started: list[ServiceScheduler] = []

    def make() -> ServiceScheduler:
        # the archive's own engine: the PostgreSQL fixture's schema is in its connect_args, not in its URL
        store = SQLAlchemyJobStore(engine=archive.engine, tablename=SCHEDULER_JOBS_TABLE)
        executors = {"default": ThreadPoolExecutor(1), "crawls": ThreadPoolExecutor(1)}
        scheduler = ServiceScheduler(jobstores={"default": store}, executors=executors, timezone=UTC)
        scheduler.start(paused=True)
        started.append(scheduler)
        return scheduler

    yield make
    for scheduler in started:
        if scheduler.running:
            scheduler.shutdown(wait=False)
    drop_jobs(archive)


def drop_jobs(archive: Archive) -> None:
    """The PostgreSQL fixture's schema lives for the session, and its reset knows only lawwatch's tables."""
    with archive.engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {SCHEDULER_JOBS_TABLE}"))


def stored(archive: Archive) -> dict[str, tuple[float, dict[str, object]]]:
    with archive.engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT id, next_run_time, job_state FROM {SCHEDULER_JOBS_TABLE}")).all()
    return {row[0]: (row[1], pickle.loads(row[2])) for row in rows}


def test_jobs_survive_a_restart_and_follow_the_settings(archive: Archive, start: object) -> None:
    now = datetime.now(UTC)
    first = start()  # type: ignore[operator]
    actions = sync_jobs(first, [source("doj_api", "15m"), source("doj_rss", "0 * * * *")], now)
    assert actions == {"doj_api": "added", "doj_rss": "added"}
    jobs = stored(archive)
    assert set(jobs) == {"doj_api", "doj_rss"}
    next_run, state = jobs["doj_api"]
    assert next_run == pytest.approx(now.timestamp(), abs=1)  # a new source is crawled at once
    assert state["func"] == CRAWL_JOB and state["args"] == ("doj_api",) and state["executor"] == "crawls"
    assert (state["coalesce"], state["max_instances"], state["misfire_grace_time"]) == (True, 1, 900)
    assert state["trigger"].jitter == 90.0 and jobs["doj_rss"][1]["trigger"].jitter == 300.0
    first.shutdown(wait=False)

    later = now + timedelta(minutes=5)
    again = start()  # type: ignore[operator]
    actions = sync_jobs(again, [source("doj_api", "15m"), source("doj_rss", "0 * * * *")], later)
    assert actions == {"doj_api": "kept", "doj_rss": "kept"}
    assert {k: v[0] for k, v in stored(archive).items()} == {k: v[0] for k, v in jobs.items()}  # next runs kept
    job = again.get_job("doj_api")
    assert job is not None and job.func is crawl_job  # the reference resolves in a new process
    again.shutdown(wait=False)

    third = start()  # type: ignore[operator]
    actions = sync_jobs(third, [source("doj_api", "30m")], later)
    assert actions == {"doj_rss": "removed", "doj_api": "rescheduled"}
    jobs_now = stored(archive)
    assert set(jobs_now) == {"doj_api"}
    assert 0 <= jobs_now["doj_api"][0] - (time.time() + 1800) <= 180 + 2  # the new schedule from now, with jitter
    assert jobs_now["doj_api"][1]["name"] == "crawl doj_api every 30m"
    third.shutdown(wait=False)

    with archive.session() as session:
        report = status_report(session, ["doj_api", "doj_rss"], schedules={"doj_api": "30m"})
    by_source = {s["source"]: s for s in report["sources"]}
    assert by_source["doj_api"]["schedule"] == "30m" and by_source["doj_api"]["next_run_at"] is not None
    assert by_source["doj_rss"]["schedule"] is None and by_source["doj_rss"]["next_run_at"] is None
    assert report["scheduler"] is None and report["alerts"] == {"pending": 0, "failed": 0}


def test_status_without_a_job_table(archive: Archive) -> None:
    drop_jobs(archive)
    with archive.session() as session:
        report = status_report(session, ["doj_api"], schedules={"doj_api": "1h"})
    (item,) = report["sources"]
    assert item["schedule"] == "1h" and item["next_run_at"] is None and item["watchdog"] is None


@pytest.mark.parametrize(
    ("schedule", "grace", "jitter"),
    [("10s", 10, 1.0), ("5s", 5, None), ("15m", 900, 90.0), ("1d", 86400, 300.0), ("*/5 * * * *", 300, 30.0)],
)
def test_job_timing(schedule: str, grace: int, jitter: float | None) -> None:
    assert job_timing(source("doj_api", schedule), datetime(2026, 12, 2, 14, 3, tzinfo=UTC)) == (grace, jitter)
