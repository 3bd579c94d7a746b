"""A crawl killed with SIGKILL leaves its run `running`; the next `lawwatch status` (or crawl) marks it interrupted."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from lawwatch.pipeline.db import open_archive
from lawwatch.pipeline.models import CrawlRun, utcnow


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_status_marks_a_run_whose_process_died_interrupted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    archive = open_archive(url)
    with archive.session() as session:
        dead = CrawlRun(source="doj_api", status="running", pid=_dead_pid(), host=socket.gethostname())
        alive = CrawlRun(source="doj_rss", status="running", pid=None, host=None, heartbeat_at=utcnow())
        old = CrawlRun(
            source="doj_news", status="running", heartbeat_at=utcnow() - timedelta(hours=2), host="elsewhere", pid=1
        )
        session.add_all([dead, alive, old])
    archive.dispose()
    settings = tmp_path / "settings.toml"
    settings.write_text(f'[archive]\nurl = "{url}"\n', encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "lawwatch", "--config", str(settings), "status", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    runs = {s["source"]: s["last_run"] for s in json.loads(out.stdout)["sources"]}
    assert runs["doj_api"]["status"] == "interrupted"  # its pid is gone on this host
    assert runs["doj_news"]["status"] == "interrupted"  # no heartbeat for two hours
    assert runs["doj_rss"]["status"] == "running"  # a fresh heartbeat: still alive
    assert "Traceback" not in out.stderr
