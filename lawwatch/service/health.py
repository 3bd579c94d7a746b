"""``GET /healthz`` for ``lawwatch run`` (off unless ``[service] health_port`` is set; ``127.0.0.1`` by default).

``200`` with a JSON body when the service is healthy, ``503`` with the same body and the reasons when it is not:
its heartbeat (the loop that keeps the scheduler lock) is older than ``lock_stale_after``, or an alert has been
due for longer than ``backlog_max_age`` (the dispatcher is stuck or a channel keeps failing), or the archive does
not answer. A stdlib ``ThreadingHTTPServer`` in a daemon thread; every other path is ``404``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import func, select

from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.models import OutboxEntry, utcnow

Probe = Callable[[], tuple[int, dict[str, Any]]]


def backlog(archive: Archive, now: datetime | None = None) -> dict[str, Any]:
    """Alerts waiting: ``pending`` (all), ``due`` (pending and due now) and ``oldest_due_seconds`` (how long the
    longest-waiting due one has been due; None when none is)."""
    now = now or utcnow()
    with archive.session() as session:
        pending = session.scalar(select(func.count()).where(OutboxEntry.status == "pending")) or 0
        due, oldest = session.execute(
            select(func.count(), func.min(OutboxEntry.next_attempt_at)).where(
                OutboxEntry.status == "pending", OutboxEntry.next_attempt_at <= now
            )
        ).one()
    age = round((now - oldest).total_seconds(), 1) if oldest is not None else None
    return {"pending": int(pending), "due": int(due or 0), "oldest_due_seconds": age}


def verdict(
    heartbeat_age: float | None, queue: dict[str, Any] | None, *, stale_after: float, backlog_max_age: float
) -> tuple[int, list[str]]:
    """``(200, [])`` or ``(503, reasons)``."""
    problems = []
    if heartbeat_age is None or heartbeat_age > stale_after:
        problems.append("no heartbeat yet" if heartbeat_age is None else f"heartbeat {heartbeat_age:.0f} s old")
    if queue is None:
        problems.append("the archive does not answer")
    elif queue["oldest_due_seconds"] is not None and queue["oldest_due_seconds"] > backlog_max_age:
        problems.append(f"an alert has been due for {queue['oldest_due_seconds']:.0f} s")
    return (503 if problems else 200), problems


class HealthServer:
    """Serves ``probe()`` at ``/healthz`` on ``host:port`` (port 0: a free one) until ``stop()``."""

    def __init__(self, host: str, port: int, probe: Probe) -> None:
        self.probe = probe

        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                outer._answer(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self.host = host
        self.port = int(self._httpd.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/healthz"

    def start(self) -> HealthServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="lawwatch-health", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        status: int
        body: dict[str, Any]
        if handler.path.split("?", 1)[0] != "/healthz":
            status, body = 404, {"error": "not found; try /healthz"}
        else:
            try:
                status, body = self.probe()
            except Exception as exc:  # the probe itself failed: unhealthy, and say why
                status, body = 503, {"status": "unhealthy", "problems": [f"{type(exc).__name__}: {exc}"]}
        data = json.dumps(body, default=str).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Cache-Control", "no-store")
        handler.end_headers()
        handler.wfile.write(data)
