"""``/healthz``: 200 with the heartbeat and the alert backlog; 503 when the heartbeat is stale or alerts wait."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.models import OutboxEntry, utcnow
from lawwatch.service.health import HealthServer, backlog, verdict
from tests.helpers.alerts import alert_settings, letter, run_ingest


def get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_verdict() -> None:
    assert verdict(1.0, {"oldest_due_seconds": None}, stale_after=10, backlog_max_age=60) == (200, [])
    assert verdict(1.0, {"oldest_due_seconds": 59.0}, stale_after=10, backlog_max_age=60) == (200, [])
    assert verdict(11.0, {"oldest_due_seconds": 61.0}, stale_after=10, backlog_max_age=60) == (
        503,
        ["heartbeat 11 s old", "an alert has been due for 61 s"],
    )
    assert verdict(None, None, stale_after=10, backlog_max_age=60) == (
        503,
        ["no heartbeat yet", "the archive does not answer"],
    )


def test_backlog_counts_pending_and_due(archive: Archive, tmp_path: Path) -> None:
    url = archive.engine.url.render_as_string(hide_password=False)
    config = alert_settings(tmp_path, url, targets=("slack", "email"))
    assert backlog(archive) == {"pending": 0, "due": 0, "oldest_due_seconds": None}
    run_ingest(archive, config, [letter(1)])
    now = utcnow()
    with archive.session() as session:
        session.execute(sa.update(OutboxEntry).where(OutboxEntry.target == "slack").values(next_attempt_at=now))
        late = now - timedelta(seconds=90)
        session.execute(sa.update(OutboxEntry).where(OutboxEntry.target == "email").values(next_attempt_at=late))
    queue = backlog(archive, now)
    assert queue["pending"] == 2 and queue["due"] == 2 and queue["oldest_due_seconds"] == pytest.approx(90, abs=1)
    assert backlog(archive, now - timedelta(seconds=60)) == {"pending": 2, "due": 1, "oldest_due_seconds": 30.0}


def test_server_answers_the_probe_on_loopback() -> None:
    answers = iter([(200, {"status": "ok"}), (503, {"status": "unhealthy", "problems": ["heartbeat 99 s old"]})])

    def probe() -> tuple[int, dict[str, Any]]:
        answer = next(answers, None)
        if answer is None:
            raise RuntimeError("archive gone")
        return answer

    server = HealthServer("127.0.0.1", 0, probe).start()
    try:
        assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/healthz")
        assert get(server.url) == (200, {"status": "ok"})
        assert get(server.url) == (503, {"status": "unhealthy", "problems": ["heartbeat 99 s old"]})
        assert get(server.url) == (503, {"status": "unhealthy", "problems": ["RuntimeError: archive gone"]})
        assert get(server.url.replace("/healthz", "/"))[0] == 404
    finally:
        server.stop()
