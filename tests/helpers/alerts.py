"""Settings and documents for alert tests: a config whose targets point at the local Slack and SMTP servers, and
documents shaped like the 2017 DOJ letters (real classifier, real ingest service); ``lawwatch`` subprocesses
(``lawwatch_cli``, ``DispatcherProcess``) for tests that kill or race dispatchers."""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lawwatch.alerts.channels import ChannelOptions, build_channels
from lawwatch.alerts.dispatch import Dispatcher
from lawwatch.alerts.rules import resolve_rules
from lawwatch.config import Config, load_config
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.ingest import IngestCounts, IngestSettings, ingest
from lawwatch.pipeline.normalize import NormalizedDocument, normalize_document
from tests.helpers.slack_server import TOKEN

_serial = itertools.count(1)

RULE_CHICAGO = """
[[alerts.rules]]
name = "chicago-1373"
jurisdictions = ["Chicago, IL"]
statutes = ["8 U.S.C. 1373"]
targets = [{targets}]
"""


def alert_settings(
    tmp_path: Path,
    archive_url: str,
    *,
    slack_url: str = "http://127.0.0.1:9/api/",
    smtp_port: int = 9,
    rules: str = RULE_CHICAGO,
    targets: Sequence[str] = ("slack",),
    extra: str = "",
) -> Config:
    """A Config with a Slack target ``slack`` (#sanctuary), an email target ``email`` and the given rules."""
    text = f"""
[archive]
url = "{archive_url}"

[alerts]
retry_base = 1.0
max_attempts = 4
{extra}

[alerts.slack]
token = {{ env = "SLACK_BOT_TOKEN" }}
base_url = "{slack_url}"

[alerts.email]
host = "127.0.0.1"
port = {smtp_port}
from_addr = "lawwatch@example.org"
timeout = 5.0

[[alerts.targets]]
name = "slack"
type = "slack"
channel = "#sanctuary"

[[alerts.targets]]
name = "email"
type = "email"
to = ["legal@example.org"]
""" + rules.replace("{targets}", ", ".join(f'"{t}"' for t in targets))
    path = tmp_path / f"settings-{next(_serial)}.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(str(path), environ={"SLACK_BOT_TOKEN": TOKEN})


def letter(
    n: int = 1,
    *,
    source: str = "doj_api",
    place: str = "the City of Chicago, Illinois",
    statute: str = "8 U.S.C. § 1373",
    title: str | None = None,
    extra: str = "",
    url: str | None = None,
    published: datetime | None = None,
) -> NormalizedDocument:
    """A DOJ-letter-like document; the same ``n`` (and url) from any source is the same document."""
    body = (
        f"The Department of Justice sent a letter to {place} today. The letter says the jurisdiction appears "
        f"to have laws, policies or practices that may violate {statute}, a federal statute on sharing "
        f"immigration-status information. {extra}"
    ).strip()
    return normalize_document(
        source=source,
        title=title or f"Justice Department letter number {n} on sanctuary policies",
        url=url or f"https://www.justice.gov/opa/pr/letter-{n}",
        text=body,
        published=published or datetime.now(UTC) - timedelta(hours=1),
    )


def run_ingest(archive: Archive, config: Config, docs: Iterable[NormalizedDocument]) -> IngestCounts:
    """Documents through the one ingest service with the config's alert rules, as a crawl or import does."""
    url = archive.engine.url.render_as_string(hide_password=False)
    return ingest(archive, list(docs), IngestSettings(url, rules=resolve_rules(config)))


def dispatcher(archive: Archive, config: Config, **kwargs: Any) -> Dispatcher:
    """A dispatcher over ``archive`` with pacing off (tests that check pacing build their own channels)."""
    channels = build_channels(config.alerts, ChannelOptions(pace_seconds=0, timeout=5.0))
    return Dispatcher(archive, config.alerts, channels=channels, **kwargs)


def outbox(archive: Archive) -> list[dict[str, Any]]:
    """Every outbox row as a dict (typed values: JSON decoded, aware UTC datetimes), by id."""
    import sqlalchemy as sa

    from lawwatch.pipeline.models import OutboxEntry

    columns = [c.key for c in OutboxEntry.__table__.columns]
    with archive.session() as session:
        rows = session.scalars(sa.select(OutboxEntry).order_by(OutboxEntry.id)).all()
        return [{name: getattr(row, name) for name in columns} for row in rows]


def letter_number(message: dict[str, Any]) -> int | None:
    """The ``n`` of the ``letter(n)`` a Slack message is about (from its fallback text), or None."""
    found = re.search(r"letter number (\d+) on", str(message.get("text", "")))
    return int(found.group(1)) if found else None


def lawwatch_env(token: str = TOKEN) -> dict[str, str]:
    """The environment of a ``python -m lawwatch`` subprocess: the test Slack token, no archive or config override."""
    env = {k: v for k, v in os.environ.items() if k not in ("LAWWATCH_DATABASE_URL", "LAWWATCH_CONFIG")}
    env["SLACK_BOT_TOKEN"] = token
    return env


def lawwatch_cli(config: Config, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """``python -m lawwatch --config <config's file> ARGS`` run to the end (at most ``timeout`` seconds)."""
    command = [sys.executable, "-m", "lawwatch", "--config", str(config.path), *args]
    return subprocess.run(command, env=lawwatch_env(), capture_output=True, text=True, timeout=timeout)


class DispatcherProcess:
    """``lawwatch alerts dispatch --interval S`` in a subprocess (standard error in ``log``), as a context manager
    that SIGKILLs it on exit if it still runs. ``wait_ready`` waits for its start line: Python's start-up is not
    part of the time a test lets it work."""

    READY = "dispatching every"

    def __init__(self, config: Config, log: Path, *, interval: float = 0.05) -> None:
        self.log = log
        command = [sys.executable, "-m", "lawwatch", "--config", str(config.path), "alerts", "dispatch"]
        self.command = [*command, "--interval", str(interval)]
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> DispatcherProcess:
        with open(self.log, "wb") as err:
            self.process = subprocess.Popen(
                self.command, env=lawwatch_env(), stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Return once the dispatcher printed its start line; fail if it exits or ``timeout`` passes first."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.READY in self.output():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"dispatcher exited with {self.process.returncode}: {self.output()}")
            time.sleep(0.01)
        raise AssertionError(f"dispatcher not ready after {timeout} s: {self.output()}")

    def kill(self) -> None:
        """SIGKILL, and reap it."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM; its exit code once it stopped (SIGKILL and fail after ``timeout`` seconds)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"dispatcher still running {timeout} s after SIGTERM: {self.output()}") from None
