"""``lawwatch run``: the background service — every source crawled on its schedule, alerts dispatched within seconds,
digests at their times, a watchdog for sources that go quiet or keep failing.

One process per archive (``service.lock``: a PostgreSQL advisory lock, or a SQLite lock row with a heartbeat)::

    APScheduler 3 BackgroundScheduler (UTC)
      job store "default" = SQLAlchemyJobStore, table ``apscheduler_jobs`` in the archive database
        one job per enabled source: id = source id, its schedule's trigger with jitter, coalesce, max_instances=1,
        misfire_grace_time = one period; it runs ``crawl_job(source_id)`` on the "crawls" executor
        (``[service] max_crawls`` threads), which runs ``lawwatch crawl SOURCE --json`` in a subprocess
    threads: the dispatcher (every ``alerts.dispatch_interval`` s, and at once after a crawl stored something;
    digests are outbox rows due at their digest time), the watchdog (every ``[service] watchdog_interval`` s), the
    heartbeat (keeps the lock; ``/healthz`` reads it), the ``/healthz`` server (``[service] health_port``)

Persistent jobs must be found again by a new process, so a job is a reference to the module-level function
:func:`crawl_job` (``"lawwatch.scheduler:crawl_job"``) with one picklable argument, the source id; the function
finds the running :class:`Service` of this process (there is one: ``Service.run`` registers itself). At start the
stored jobs are reconciled with the settings: a job whose source is gone or disabled is removed, a job whose
schedule changed is rescheduled, an unchanged job is kept as stored — with its next run time, so a restart neither
skips nor repeats a crawl (a run missed while the service was down is made up once, coalesced), and a new source
is crawled at once.

SIGTERM or SIGINT: no new job starts, running crawls get SIGTERM (SIGKILL after ``[service] stop_timeout``; their
runs are recorded ``interrupted``), a dispatch pass in progress finishes its current alerts, the lock is released,
exit code 0. A second signal kills the crawls at once. Every event is one log line (``service.logs``).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from types import FrameType
from typing import TYPE_CHECKING, Any

from lawwatch.config import Config, SourceConfig
from lawwatch.pipeline.query import SCHEDULER_JOBS_TABLE
from lawwatch.service.jobs import CRAWL_JOB, job_timing
from lawwatch.service.logs import event

if TYPE_CHECKING:
    from lawwatch.alerts.dispatch import Dispatcher
    from lawwatch.pipeline.db import Archive
    from lawwatch.service.crawls import CrawlRunner
    from lawwatch.service.health import HealthServer
    from lawwatch.service.jobs import ServiceScheduler
    from lawwatch.service.lock import SchedulerLock
    from lawwatch.service.watchdog import Watchdog

log = logging.getLogger("lawwatch.scheduler")
_service: Service | None = None  # the Service running in this process (the job functions' way back to it)
_DISPATCH_CHUNK = 20


def crawl_job(source_id: str) -> None:
    """The persistent job of one source: crawl it with the running service of this process."""
    service = _service
    if service is None:
        event(log, "crawl_skipped", logging.WARNING, source=source_id, reason="no lawwatch service in this process")
        return
    service.crawl(source_id)


def _version() -> str:
    try:
        return version("lawwatch")
    except PackageNotFoundError:
        return "unknown"


class Service:
    """The scheduler process. ``run()`` blocks until ``stop()`` (or SIGTERM/SIGINT) and returns the exit code."""

    def __init__(
        self,
        config: Config,
        *,
        crawl_command: Callable[[str], Sequence[str]] | None = None,
        channels: Mapping[str, Any] | None = None,
        install_signals: bool = True,
    ) -> None:
        self.config = config
        self.crawl_command = crawl_command
        self.channels = channels
        self.install_signals = install_signals
        self.exit_code = 0
        self.health_url: str | None = None
        self._stop = threading.Event()
        self._wake_dispatch = threading.Event()
        self._signals = 0
        self._last_beat: float | None = None
        self._threads: list[threading.Thread] = []
        self._busy_logged = False
        self.archive: Archive | None = None
        self.lock: SchedulerLock | None = None
        self.crawls: CrawlRunner | None = None
        self.scheduler: ServiceScheduler | None = None
        self.dispatcher: Dispatcher | None = None
        self.watchdog: Watchdog | None = None
        self.health: HealthServer | None = None

    # ------------------------------------------------------------------ lifecycle
    def run(self) -> int:
        """Take the archive's lock (``SchedulerBusy`` when another scheduler holds it), schedule, serve, stop."""
        global _service
        from lawwatch.pipeline.db import open_archive
        from lawwatch.service.lock import SchedulerLock

        service = self.config.service
        archive = self.archive = open_archive(self.config.archive.url, echo=self.config.archive.echo)
        previous: dict[int, Any] = {}
        try:
            lock = self.lock = SchedulerLock(archive, stale_after=service.lock_stale_after)
            lock.acquire(self._info())
            self._last_beat = time.monotonic()
            if lock.took_over is not None:
                held = lock.took_over
                event(log, "lock_taken_over", logging.WARNING, holder=held.holder, pid=held.pid, host=held.host)
            if self.install_signals:
                previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
            _service = self
            try:
                self._start(archive)
                while not self._stop.wait(0.5):
                    pass
            finally:
                self._shutdown()
                _service = None
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            archive.dispose()
        return self.exit_code

    def stop(self, *, force: bool = False, exit_code: int | None = None) -> None:
        """Ask the service to stop (thread- and signal-safe); ``force`` kills running crawls at once."""
        if exit_code is not None:
            self.exit_code = exit_code
        if force and self.crawls is not None:
            self.crawls.stop_all(force=True)
        self._stop.set()
        self._wake_dispatch.set()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._signals += 1
        self.stop(force=self._signals > 1)

    def _start(self, archive: Archive) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

        from lawwatch.alerts.channels import ChannelOptions, build_channels
        from lawwatch.alerts.dispatch import Dispatcher
        from lawwatch.pipeline.db import make_engine
        from lawwatch.pipeline.runs import interrupt_stale_runs
        from lawwatch.service.crawls import CrawlRunner, crawl_command
        from lawwatch.service.jobs import CRAWL_EXECUTOR, JOB_STORE, ServiceScheduler, sync_jobs
        from lawwatch.service.watchdog import Watchdog

        config, service = self.config, self.config.service
        for run_id in interrupt_stale_runs(archive):
            event(log, "run_interrupted", logging.WARNING, run_id=run_id, reason="its process is gone")
        alerts = config.alerts
        channels = self.channels or build_channels(alerts, ChannelOptions(pace_seconds=alerts.pace_seconds))
        self.dispatcher = Dispatcher(archive, alerts, channels=channels)
        self.watchdog = Watchdog(archive, config, channels)
        command = self.crawl_command or crawl_command(config.path)
        self.crawls = CrawlRunner(archive, command, timeout=service.crawl_timeout, grace=service.stop_timeout)
        store = SQLAlchemyJobStore(engine=make_engine(config.archive.url), tablename=SCHEDULER_JOBS_TABLE)
        scheduler = self.scheduler = ServiceScheduler(
            jobstores={JOB_STORE: store},  # shut down with the scheduler: it disposes of its own engine
            executors={"default": ThreadPoolExecutor(2), CRAWL_EXECUTOR: ThreadPoolExecutor(service.max_crawls)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        scheduler.add_listener(self._on_job_event, _listened_events())
        scheduler.start(paused=True)
        sync_jobs(scheduler, self._sources(), datetime.now(UTC))
        for name, target in (
            ("dispatch", self._dispatch_loop),
            ("watchdog", self._watchdog_loop),
            ("heartbeat", self._heartbeat_loop),
        ):
            self._spawn(name, target)
        if service.health_port is not None:
            from lawwatch.service.health import HealthServer

            self.health = HealthServer(service.health_host, service.health_port, self._probe).start()
            self.health_url = self.health.url
        scheduler.resume()
        from lawwatch.config_schema import mask_db_url

        holder = self.lock.holder if self.lock else "-"
        event(
            log,
            "started",
            holder=holder,
            archive=mask_db_url(config.archive.url),
            sources=len(self._sources()),
            health=self.health_url or "off",
            version=_version(),
        )

    def _shutdown(self) -> None:
        event(log, "stopping", crawling=",".join(self.crawls.running()) if self.crawls else "")
        self._stop.set()
        self._wake_dispatch.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.pause()
        if self.crawls is not None:
            self.crawls.stop_all()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)  # waits for the crawl jobs, which wait for their processes
        for thread in self._threads:
            thread.join(timeout=self.config.service.stop_timeout + 30)
        if self.health is not None:
            self.health.stop()
        if self.lock is not None:
            self.lock.release()
        event(log, "stopped", exit_code=self.exit_code)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=f"lawwatch-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    # ------------------------------------------------------------------ jobs
    def _sources(self) -> list[SourceConfig]:
        return [s for s in self.config.sources if s.enabled]

    def _on_job_event(self, ev: Any) -> None:
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED

        if ev.code == EVENT_JOB_MISSED:
            event(log, "crawl_missed", logging.WARNING, source=ev.job_id, scheduled=ev.scheduled_run_time.isoformat())
        elif ev.code == EVENT_JOB_MAX_INSTANCES:
            event(log, "crawl_skipped", logging.WARNING, source=ev.job_id, reason="its previous crawl still runs")
        elif ev.code == EVENT_JOB_ERROR:
            event(
                log,
                "job_error",
                logging.ERROR,
                source=ev.job_id,
                error=repr(ev.exception),
                traceback=(ev.traceback or "").strip(),
            )

    def crawl(self, source_id: str) -> None:
        """One scheduled crawl of ``source_id`` (a subprocess), logged as one line."""
        if self._stop.is_set() or self.crawls is None:
            return
        event(log, "crawl_start", logging.DEBUG, source=source_id)
        outcome = self.crawls.run(source_id)
        if outcome.status == "skipped":
            return
        level = {"ok": logging.INFO, "partial": logging.WARNING}.get(outcome.status, logging.ERROR)
        fields: dict[str, Any] = {
            "source": source_id,
            "status": outcome.status,
            "seconds": round(outcome.seconds, 2),
            **{k: outcome.count(k) for k in ("pages", "new", "updated", "unchanged", "errors")},
            "run_id": outcome.result.get("run_id"),
            "exit_code": outcome.exit_code,
        }
        if outcome.ended != "exit":
            fields["ended"] = outcome.ended
        messages = list(outcome.result.get("error_messages") or [])
        if outcome.status != "ok" and (messages or outcome.stderr_tail):
            fields["error"] = str(messages[0] if messages else outcome.stderr_tail)[:500]
        event(log, "crawl", level, **fields)
        if outcome.count("new") + outcome.count("updated") > 0:
            self._wake_dispatch.set()  # its alerts go now, not at the next dispatch tick

    # ------------------------------------------------------------------ loops
    def _dispatch_loop(self) -> None:
        from lawwatch.alerts.dispatch import DispatcherBusy

        every = self.config.alerts.dispatch_interval
        assert self.dispatcher is not None
        while not self._stop.is_set():
            self._wake_dispatch.clear()
            began = time.monotonic()
            totals = {"sent": 0, "alerts": 0, "retried": 0, "failed": 0}
            errors: list[str] = []
            try:
                while not self._stop.is_set():  # a stop lets the current chunk of alerts finish, not the backlog
                    stats = self.dispatcher.run_once(limit=_DISPATCH_CHUNK)
                    for key, value in (
                        ("sent", stats.sent),
                        ("alerts", stats.rows_sent),
                        ("retried", stats.retried),
                        ("failed", stats.failed),
                    ):
                        totals[key] += value
                    errors += stats.errors
                    if stats.sent + stats.retried + stats.failed < _DISPATCH_CHUNK:
                        break
                self._busy_logged = False
            except DispatcherBusy as exc:
                if not self._busy_logged:
                    event(log, "dispatch_busy", logging.WARNING, reason=str(exc))
                    self._busy_logged = True
            except Exception as exc:  # one bad round must not end the service
                event(log, "dispatch_error", logging.ERROR, error=f"{type(exc).__name__}: {exc}", traceback=_trace())
            if totals["sent"] or totals["retried"] or totals["failed"]:
                level = logging.WARNING if totals["failed"] or totals["retried"] else logging.INFO
                extra = {"error": errors[0][:500]} if errors else {}
                event(log, "dispatch", level, **totals, seconds=round(time.monotonic() - began, 2), **extra)
            self._wake_dispatch.wait(every)

    def _watchdog_loop(self) -> None:
        from lawwatch.pipeline.runs import interrupt_stale_runs

        assert self.archive is not None and self.watchdog is not None
        delay = 1.0  # the first look soon after the start, then every watchdog_interval
        while not self._stop.wait(delay):
            delay = self.config.service.watchdog_interval
            try:
                for run_id in interrupt_stale_runs(self.archive):
                    event(log, "run_interrupted", logging.WARNING, run_id=run_id, reason="its process is gone")
                self.watchdog.tick()
            except Exception as exc:  # the next round tries again
                event(log, "watchdog_error", logging.ERROR, error=f"{type(exc).__name__}: {exc}", traceback=_trace())

    def _heartbeat_loop(self) -> None:
        from lawwatch.service.lock import LockLost

        every = min(max(self.config.service.lock_stale_after / 4, 0.5), 15.0)
        assert self.lock is not None
        while not self._stop.wait(every):
            try:
                self.lock.heartbeat(self._info())
                self._last_beat = time.monotonic()
            except LockLost as exc:
                event(log, "lock_lost", logging.ERROR, reason=str(exc))
                self.stop(exit_code=1)
            except Exception as exc:  # the archive is unreachable: /healthz turns 503 once the beat is stale
                event(log, "heartbeat_failed", logging.WARNING, error=f"{type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ health
    def _info(self) -> dict[str, Any]:
        crawling = self.crawls.running() if self.crawls is not None else []
        return {
            "version": _version(),
            "sources": [s.id for s in self._sources()],
            "crawling": crawling,
            "health": self.health_url,
        }

    def _probe(self) -> tuple[int, dict[str, Any]]:
        from lawwatch.service.health import backlog, verdict

        assert self.archive is not None and self.lock is not None and self.crawls is not None
        age = None if self._last_beat is None else round(time.monotonic() - self._last_beat, 1)
        try:
            queue: dict[str, Any] | None = backlog(self.archive)
        except Exception:
            queue = None
        service = self.config.service
        status, problems = verdict(
            age, queue, stale_after=service.lock_stale_after, backlog_max_age=service.backlog_max_age
        )
        acquired = self.lock.acquired_at
        return status, {
            "status": "ok" if status == 200 else "unhealthy",
            "problems": problems,
            "heartbeat_age_seconds": age,
            "backlog": queue,
            "crawling": self.crawls.running(),
            "holder": self.lock.holder,
            "running_since": acquired.isoformat() if acquired else None,
            "uptime_seconds": round((datetime.now(UTC) - acquired).total_seconds()) if acquired else None,
        }


def _trace() -> str:
    """The exception being handled, as text (a field of the event's one line)."""
    return traceback.format_exc().strip()


def _listened_events() -> int:
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED

    return int(EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)


__all__ = ["CRAWL_JOB", "Service", "crawl_job", "job_timing"]
