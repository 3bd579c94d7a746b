"""Crawls for the service: ``lawwatch crawl SOURCE --json`` in a subprocess, with a timeout.

Scrapy's Twisted reactor cannot be restarted in a process, so every scheduled crawl is a fresh ``lawwatch crawl``
(the same settings file; the environment, with its secrets, is inherited). The child runs in a session of its own,
so a Ctrl-C in the terminal reaches only the service, which then stops its crawls itself:

- **overrun** (``[service] crawl_timeout``) or **service stop**: SIGTERM to the crawl process — Scrapy closes its
  spiders (``reason = "shutdown"``), the store worker commits the batches it was given, and the run is recorded
  ``interrupted`` — then, if it is still there ``[service] stop_timeout`` seconds later, SIGKILL to its whole
  process group (crawl and store worker: a batch in flight rolls back as one transaction).
- afterwards, any run row the child left ``running`` (it was killed) is marked ``interrupted`` with the reason.

:func:`lawwatch.pipeline.runs.interrupt_stale_runs` does the same for runs of processes that died while nobody
watched (a crash of the service, a reboot): a row still ``running`` whose process is gone from this host, or whose
heartbeat stopped.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.models import CrawlRun, utcnow

log = logging.getLogger(__name__)
_POLL = 0.5


@dataclass
class CrawlOutcome:
    """What one crawl subprocess did: the source's result from ``crawl --json`` (``status``, counts,
    ``run_id``...) when it printed one, how it ended (``ended``: ``exit``, ``timeout``, ``stopped``), its exit code
    and the end of its standard error."""

    source: str
    status: str
    ended: str = "exit"
    exit_code: int | None = None
    seconds: float = 0.0
    result: dict[str, Any] = field(default_factory=dict)
    stderr_tail: str = ""

    def count(self, key: str) -> int:
        return int(self.result.get(key) or 0)


@dataclass
class _Child:
    source: str
    process: subprocess.Popen[str]
    started: float
    term_at: float | None = None
    kill_at: float | None = None
    reason: str | None = None  # timeout | stopped


def crawl_command(config_path: Path | None) -> Callable[[str], list[str]]:
    """``python -m lawwatch [--config PATH] crawl SOURCE --json``."""
    base = [sys.executable, "-m", "lawwatch"]
    if config_path is not None:
        base += ["--config", str(config_path)]

    def command(source: str) -> list[str]:
        return [*base, "crawl", source, "--json"]

    return command


class CrawlRunner:
    """Runs crawl subprocesses (any number at once, from any thread) and can stop them all."""

    def __init__(
        self,
        archive: Archive,
        command: Callable[[str], Sequence[str]],
        *,
        timeout: float,
        grace: float,
        env: dict[str, str] | None = None,
    ) -> None:
        self.archive = archive
        self.command = command
        self.timeout = timeout
        self.grace = grace
        self.env = env
        self._children: dict[int, _Child] = {}
        # reentrant: a second SIGTERM's handler (stop_all(force=True)) may interrupt stop_all in the main thread
        self._lock = threading.RLock()
        self._stopping = False

    def running(self) -> list[str]:
        """Sources being crawled now."""
        with self._lock:
            return sorted(c.source for c in self._children.values())

    def run(self, source: str) -> CrawlOutcome:
        """Crawl ``source`` in a subprocess and wait for it (bounded by the timeout plus the grace period)."""
        began, wall = time.monotonic(), utcnow()
        with self._lock:
            if self._stopping:
                return CrawlOutcome(source, "skipped", ended="stopped")
            process = subprocess.Popen(
                list(self.command(source)),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                env=self.env,
                start_new_session=True,  # signals from the terminal reach the service only; it stops the crawl
            )
            child = _Child(source, process, began)
            self._children[process.pid] = child
        try:
            stdout, stderr = self._wait(child)
        finally:
            with self._lock:
                self._children.pop(process.pid, None)
        outcome = _outcome(child, stdout, stderr, time.monotonic() - began)
        if child.reason is not None or process.returncode < 0:
            self._interrupt_rows(child, wall)
        return outcome

    def stop_all(self, *, force: bool = False) -> None:
        """Stop every crawl: SIGTERM now, SIGKILL after the grace period (``force``: SIGKILL now). No new crawl
        starts afterwards."""
        now = time.monotonic()
        with self._lock:
            self._stopping = True
            for child in self._children.values():
                if child.term_at is None:
                    child.reason = child.reason or "stopped"
                    _signal(child.process, signal.SIGTERM)
                    child.term_at, child.kill_at = now, now + self.grace
                if force:
                    child.kill_at = now

    def _wait(self, child: _Child) -> tuple[str, str]:
        out: list[str] = []
        err: list[str] = []
        while True:
            try:
                stdout, stderr = child.process.communicate(timeout=_POLL)
                out.append(stdout or "")
                err.append(stderr or "")
                return "".join(out), "".join(err)
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            with self._lock:
                if child.term_at is None and now - child.started > self.timeout:
                    child.reason = "timeout"
                    _signal(child.process, signal.SIGTERM)
                    child.term_at, child.kill_at = now, now + self.grace
                kill = child.kill_at is not None and now >= child.kill_at
            if kill:
                _kill_group(child.process)
                child.kill_at = None  # once

    def _interrupt_rows(self, child: _Child, since: datetime) -> None:
        """Runs the child left ``running`` (it was killed) → ``interrupted``; a timeout is said on the run."""
        if child.reason == "timeout":
            why = f"lawwatch run stopped the crawl after its {self.timeout:g} s timeout ([service] crawl_timeout)"
        elif child.reason == "stopped":
            why = "lawwatch run stopped the crawl while shutting down"
        else:
            why = f"the crawl process was killed by signal {-int(child.process.returncode or 0)}"
        try:
            with self.archive.session() as session:
                rows = session.scalars(
                    select(CrawlRun).where(
                        CrawlRun.pid == child.process.pid,
                        CrawlRun.host == socket.gethostname(),
                        CrawlRun.started_at >= since - timedelta(seconds=5),
                        CrawlRun.status.in_(("running", "interrupted")),
                    )
                )
                for row in rows:
                    if row.status == "running":
                        row.status, row.finished_at = "interrupted", utcnow()
                    row.error_messages = [*(row.error_messages or []), why][-20:]
        except Exception:  # recording is best effort; the next start marks the row via interrupt_stale_runs
            log.exception("could not record the interrupted crawl of %s", child.source)


def _signal(process: subprocess.Popen[str], signum: int) -> None:
    try:
        process.send_signal(signum)
    except ProcessLookupError:
        pass


def _kill_group(process: subprocess.Popen[str]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        _signal(process, signal.SIGKILL)


def _outcome(child: _Child, stdout: str, stderr: str, seconds: float) -> CrawlOutcome:
    code = child.process.returncode
    result: dict[str, Any] = {}
    for line in reversed(stdout.strip().splitlines()):
        try:
            payload = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(payload, dict):
            found = [s for s in payload.get("sources", []) if isinstance(s, dict) and s.get("source") == child.source]
            result = found[0] if found else {}
        break
    status = str(result.get("status") or ("interrupted" if child.reason else "failed"))
    if child.reason and status == "running":
        status = "interrupted"
    tail = " | ".join(line for line in stderr.strip().splitlines()[-5:] if line.strip())
    return CrawlOutcome(
        child.source,
        status,
        ended=child.reason or "exit",
        exit_code=code,
        seconds=seconds,
        result=result,
        stderr_tail=tail[-1000:],
    )
