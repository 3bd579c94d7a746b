"""The scheduler's persistent jobs: one per enabled source, reconciled with the settings at every start.

A job must be found again by a new process, so it is stored as a reference to a module-level function,
``"lawwatch.scheduler:crawl_job"``, with one picklable argument, the source id. Its name says its schedule
(``crawl doj_api every 15m``), which is how a changed schedule is recognised.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler

from lawwatch.config import SourceConfig
from lawwatch.service.logs import event

log = logging.getLogger("lawwatch.scheduler")
CRAWL_JOB = "lawwatch.scheduler:crawl_job"
JOB_STORE = "default"  # the SQLAlchemyJobStore in the archive
CRAWL_EXECUTOR = "crawls"


class ServiceScheduler(BackgroundScheduler):  # type: ignore[misc]  # APScheduler 3 has no type hints
    """APScheduler 3's ``BackgroundScheduler`` without its last look at the job stores after ``shutdown()``: its main
    loop wakes once more and processes due jobs although the state is already STOPPED, submitting them to executors
    that are shut down — the run is lost and the job's next run time moves on. A stopped scheduler does nothing."""

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        result: float | None = super()._process_jobs()
        return result


def job_timing(source: SourceConfig, now: datetime) -> tuple[int, float | None]:
    """``(misfire_grace_time, jitter)`` for a source's job: one period of grace (a run late by less than that
    still happens, once); jitter a tenth of the period, at most 5 minutes (none below 1 s)."""
    trigger = source.schedule.trigger()
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first) if first else None
    period = (second - first).total_seconds() if first and second else float(source.schedule.seconds or 3600)
    jitter = min(period / 10, 300.0)
    return max(1, int(period)), (round(jitter, 1) if jitter >= 1 else None)


def sync_jobs(scheduler: BaseScheduler, sources: Sequence[SourceConfig], now: datetime) -> dict[str, str]:
    """Make the stored jobs match the enabled ``sources``: remove the jobs of sources that are gone or disabled,
    keep an unchanged job as stored (with its next run time, so a restart neither skips nor repeats a crawl),
    reschedule a job whose schedule changed, add a new source's job due at once. Returns ``{source: action}``."""
    wanted = {s.id: s for s in sources}
    stored = {job.id: job for job in scheduler.get_jobs(jobstore=JOB_STORE)}
    actions: dict[str, str] = {}
    for job_id in sorted(set(stored) - set(wanted)):
        scheduler.remove_job(job_id, jobstore=JOB_STORE)
        actions[job_id] = "removed"
        event(log, "job", source=job_id, action="removed", reason="no longer an enabled source")
    for source in wanted.values():
        grace, jitter = job_timing(source, now)
        name = f"crawl {source.id} every {source.schedule.text}"
        job = stored.get(source.id)
        same = job is not None and (job.name, job.func_ref, tuple(job.args)) == (name, CRAWL_JOB, (source.id,))
        if job is not None and same and (job.misfire_grace_time, job.executor) == (grace, CRAWL_EXECUTOR):
            action, next_run = "kept", job.next_run_time
        else:
            trigger = source.schedule.trigger()
            trigger.jitter = jitter
            when: dict[str, Any] = {}
            if job is None:
                action, when["next_run_time"] = "added", now  # a new source is crawled at once
            elif same:
                action, when["next_run_time"] = "updated", job.next_run_time
            else:
                action = "rescheduled"
            added = scheduler.add_job(
                CRAWL_JOB,
                trigger=trigger,
                args=(source.id,),
                id=source.id,
                name=name,
                jobstore=JOB_STORE,
                executor=CRAWL_EXECUTOR,
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=grace,
                **when,
            )
            next_run = getattr(added, "next_run_time", None)
        actions[source.id] = action
        event(
            log,
            "job",
            source=source.id,
            action=action,
            schedule=source.schedule.text,
            next_run=next_run.isoformat() if next_run else "-",
        )
    return actions
