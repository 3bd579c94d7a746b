"""``lawwatch run`` end to end: real service processes against the offline mirror and the local Slack server.

One story shares a mirror, a Slack server and a SQLite archive (its tests run in file order): two sources crawl on
their own cadence; a release the mirror publishes reaches Slack within one interval plus one dispatch period;
``/healthz`` and ``lawwatch status`` describe the running service; a second instance refuses to start; the
watchdog tells the ops channel once when the API starts answering 500 and once when it recovers; SIGTERM exits 0
with JSON log lines; a restart keeps the jobs and sends nothing twice; a source left out of the settings loses its
job. Then: SIGTERM in the middle of a crawl, and a lock taken over after a SIGKILL (SQLite and PostgreSQL).

Schedules are seconds long and every wait is bounded; service processes are stopped in ``finally`` blocks.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lawwatch.cli import cli
from lawwatch.crawler.mirror.server import MirrorServer
from tests.helpers.crawl import rows, scalar
from tests.helpers.slack_server import TOKEN, SlackServer

pytestmark = pytest.mark.timeout(240)
ROOT = Path(__file__).resolve().parents[1]
JUSTICE = "www.justice.gov"
INTERVAL = {"doj_api": 2.0, "doj_rss": 6.0}
DISPATCH = 1.0
OFF = ("doj_news", "courtlistener", "pacer_rss", "news_rss")


def service_settings(mirror: MirrorServer, slack: SlackServer, db_url: str, *, off: tuple[str, ...] = OFF) -> str:
    """The mirror's settings with doj_api every 2 s and doj_rss every 6 s, alert and ops targets on ``slack``."""
    text = mirror.sources_toml(db_url).replace("retry_times = 2", "retry_times = 0")
    for sid, seconds in INTERVAL.items():
        text = text.replace(f'id = "{sid}"\n', f'id = "{sid}"\nfail_after = {2 if sid == "doj_api" else 0}\n')
        text = re.sub(rf'(id = "{sid}"\n(?:.*\n)*?)schedule = "15m"', rf'\1schedule = "{seconds:g}s"', text, count=1)
    for sid in off:
        text = text.replace(f'id = "{sid}"\n', f'id = "{sid}"\nenabled = false\n')
    return (
        text
        + f"""
[alerts]
dispatch_interval = {DISPATCH}
ops_targets = ["ops"]

[alerts.slack]
token = {{ env = "SLACK_BOT_TOKEN" }}
base_url = "{slack.base_url}"

[[alerts.targets]]
name = "news"
type = "slack"
channel = "#sanctuary"

[[alerts.targets]]
name = "ops"
type = "slack"
channel = "#ops"

[[alerts.rules]]
name = "fresh-doj"
max_age = "1d"
targets = ["news"]

[service]
health_port = 0
lock_stale_after = 4
watchdog_interval = 1
stop_timeout = 10
"""
    )


class Service:
    """``lawwatch run --log-format json`` in a subprocess; its standard error (the log) in a file."""

    def __init__(self, settings: Path, log: Path) -> None:
        self.log = log
        env = {k: v for k, v in os.environ.items() if k not in ("LAWWATCH_DATABASE_URL", "LAWWATCH_CONFIG")}
        env["SLACK_BOT_TOKEN"] = TOKEN
        command = [sys.executable, "-m", "lawwatch", "--config", str(settings), "run", "--log-format", "json"]
        with open(log, "wb") as err:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)

    def lines(self) -> list[str]:
        return [line for line in self.log.read_text("utf-8", errors="replace").splitlines() if line.strip()]

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        found = []
        for line in self.lines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if name is None or record.get("event") == name:
                found.append(record)
        return found

    def wait_for(self, name: str, timeout: float = 30.0, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for record in self.events(name):
                if all(record.get(k) == v for k, v in match.items()):
                    return record
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no {name} {match} within {timeout} s (exit {self.process.poll()}):\n" + self.tail())

    def tail(self) -> str:
        return "\n".join(self.lines()[-30:])

    def terminate(self, timeout: float = 40.0) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise AssertionError(
                "lawwatch run did not stop within the timeout after SIGTERM:\n" + self.tail()
            ) from None

    def close(self, db_url: str | None = None) -> None:
        """Stop it if it still runs (SIGTERM, then SIGKILL) and kill any crawl it left behind."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if db_url is not None:
            kill_orphan_crawls(db_url)


def kill_orphan_crawls(db_url: str) -> None:
    """Crawls of a killed service live on in their own sessions; end those of this host."""
    try:
        found = rows(db_url, "SELECT pid, host FROM crawl_runs WHERE status = 'running' AND pid IS NOT NULL")
    except Exception:
        return
    for pid, host in found:
        if host == socket.gethostname():
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


def finished_runs(db_url: str, source: str) -> list[tuple[Any, ...]]:
    return rows(
        db_url,
        "SELECT id, status, started_at, finished_at, new FROM crawl_runs "
        f"WHERE source = '{source}' AND status != 'running' ORDER BY id",
    )


def when(value: Any) -> datetime:
    """A timestamp column as SQLite returns it (naive UTC text) → aware datetime."""
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def status_json(settings: Path) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["--config", str(settings), "status", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


# ---------------------------------------------------------------------------------------------------- the story
@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("service")
    db_url = f"sqlite:///{tmp / 'archive.db'}"
    with MirrorServer() as mirror, SlackServer() as slack:
        settings = tmp / "settings.toml"
        settings.write_text(service_settings(mirror, slack, db_url), "utf-8")
        first = Service(settings, tmp / "first.log")
        state: dict[str, Any] = {"tmp": tmp, "db": db_url, "mirror": mirror, "slack": slack, "settings": settings}
        state["first"] = first
        try:
            yield state
        finally:
            for name in ("first", "second", "third"):
                if name in state:
                    state[name].close(db_url)


def news(slack: SlackServer) -> list[dict[str, Any]]:
    return [m for m in slack.messages if m["channel"] == "#sanctuary"]


def ops(slack: SlackServer) -> list[str]:
    return [str(m["text"]) for m in slack.messages if m["channel"] == "#ops"]


def test_two_sources_crawl_on_their_own_cadence(story: dict[str, Any]) -> None:
    first: Service = story["first"]
    started = first.wait_for("started")
    assert started["sources"] == 2 and started["health"].startswith("http://127.0.0.1:")
    assert {e["source"]: (e["action"], e["schedule"]) for e in first.events("job")} == {
        "doj_api": ("added", "2s"),
        "doj_rss": ("added", "6s"),
    }
    db = story["db"]
    wait_until(lambda: len(finished_runs(db, "doj_rss")) >= 2, 60, "two doj_rss crawls")
    wait_until(lambda: len(finished_runs(db, "doj_api")) >= 3, 30, "three doj_api crawls")
    for source, interval in INTERVAL.items():
        runs = finished_runs(db, source)
        assert all(r[1] == "ok" for r in runs), runs
        starts = [when(r[2]) for r in runs]
        gaps = [(b - a).total_seconds() for a, b in zip(starts, starts[1:], strict=False)]
        assert min(gaps) >= interval - interval / 10 - 0.5, (source, gaps)  # never sooner than its schedule
    assert len(finished_runs(db, "doj_api")) > len(finished_runs(db, "doj_rss"))
    crawls = first.events("crawl")
    assert {c["source"] for c in crawls} == {"doj_api", "doj_rss"}
    assert all({"status", "seconds", "new", "updated", "unchanged", "errors", "run_id"} <= set(c) for c in crawls)
    assert news(story["slack"]) == []  # the mirror's releases are years old: max_age keeps them quiet


def test_a_published_release_reaches_slack_within_one_interval_plus_one_dispatch(story: dict[str, Any]) -> None:
    mirror: MirrorServer = story["mirror"]
    slack: SlackServer = story["slack"]
    published_at = datetime.now(UTC)
    (url,) = mirror.publish(JUSTICE, 1)
    wait_until(lambda: bool(news(slack)), 30, "the alert on Slack")
    received_at = datetime.now(UTC)
    (message,) = news(slack)
    assert "fresh-doj" in message["text"]
    # The crawl that stored it (doj_api or doj_rss, whichever came first). Its run row is finished after the
    # document and its outbox row were committed, so the alert may be out before that: wait for it.
    since = published_at.replace(tzinfo=None)
    query = f"SELECT started_at, finished_at FROM crawl_runs WHERE new > 0 AND finished_at > '{since}' ORDER BY id"
    wait_until(lambda: bool(rows(story["db"], query)), 20, "the run of the crawl that stored it")
    crawl_started, crawl_finished = (when(t) for t in rows(story["db"], query)[0])
    committed = when(scalar(story["db"], "SELECT created_at FROM alert_outbox"))
    # the crawl may have started just before the publish: its run row is written before Scrapy sends a request
    waited = max(0.0, (crawl_started - published_at).total_seconds())  # until a crawl picked it up
    delivered = (received_at - committed).total_seconds()  # from the commit of the document to Slack
    total = (received_at - published_at).total_seconds()
    # A crawl of doj_api running at the publish may have read the API just before it; the next one starts when it
    # ends (runs of a source never overlap) — so one interval plus the longest crawl so far.
    longest = max((when(b) - when(a)).total_seconds() for _, _, a, b, _ in finished_runs(story["db"], "doj_api"))
    assert waited <= INTERVAL["doj_api"] + longest + 0.5, (waited, longest)
    assert delivered <= DISPATCH + 1.0, delivered
    assert total <= waited + (crawl_finished - crawl_started).total_seconds() + DISPATCH + 1.0, total
    assert scalar(story["db"], f"SELECT count(*) FROM documents WHERE url = '{url}'") == 1


def test_healthz_and_status_describe_the_running_service(story: dict[str, Any]) -> None:
    health_url = story["first"].wait_for("started")["health"]
    with urllib.request.urlopen(health_url, timeout=5) as response:
        assert response.status == 200
        body = json.loads(response.read())
    assert body["status"] == "ok" and body["heartbeat_age_seconds"] < 4
    assert body["backlog"]["pending"] == 0 and body["holder"].startswith(socket.gethostname())
    report = status_json(story["settings"])
    scheduler = report["scheduler"]
    assert scheduler["alive"] is True and scheduler["pid"] == story["first"].process.pid
    assert scheduler["health"] == health_url and scheduler["heartbeat_age_seconds"] < 4
    by_source = {s["source"]: s for s in report["sources"]}
    assert by_source["doj_api"]["schedule"] == "2s" and by_source["doj_api"]["next_run_at"]
    assert by_source["doj_api"]["watchdog"]["state"] == "ok"
    assert by_source["doj_news"]["schedule"] is None and by_source["doj_news"]["next_run_at"] is None
    assert report["alerts"] == {"pending": 0, "failed": 0}


def test_a_second_instance_refuses_to_start(story: dict[str, Any]) -> None:
    other = Service(story["settings"], story["tmp"] / "refused.log")
    try:
        code = other.process.wait(timeout=30)
    finally:
        other.close()
    text = "\n".join(other.lines())
    assert code == 1, text
    assert "another lawwatch scheduler runs on this SQLite archive" in text
    assert f"pid {story['first'].process.pid} on {socket.gethostname()}" in text


def test_the_watchdog_tells_ops_once_when_the_api_fails_and_once_when_it_recovers(story: dict[str, Any]) -> None:
    mirror: MirrorServer = story["mirror"]
    slack: SlackServer = story["slack"]
    db = story["db"]
    mirror.set_fault(f"{JUSTICE}/api", "500")
    try:
        wait_until(lambda: len(ops(slack)) >= 1, 40, "the failing notice")
        failed = len([r for r in finished_runs(db, "doj_api") if r[1] == "failed"])
        wait_until(
            lambda: len([r for r in finished_runs(db, "doj_api") if r[1] == "failed"]) > failed, 30, "one more failure"
        )
        time.sleep(1.5)  # a watchdog tick after it
        assert ops(slack) == ["lawwatch: source doj_api is failing"]
    finally:
        mirror.clear_faults()
    wait_until(lambda: len(ops(slack)) >= 2, 30, "the recovery notice")
    runs = len(finished_runs(db, "doj_api"))
    wait_until(lambda: len(finished_runs(db, "doj_api")) > runs, 30, "one more crawl")
    time.sleep(1.5)
    assert ops(slack) == ["lawwatch: source doj_api is failing", "lawwatch: source doj_api recovered"]
    changes = [(e["source"], e["state"]) for e in story["first"].events("watchdog")]
    assert changes == [("doj_api", "failing"), ("doj_api", "ok")]
    assert len(story["first"].events("ops_notice")) == 2


def test_sigterm_stops_cleanly_with_json_log_lines(story: dict[str, Any]) -> None:
    first: Service = story["first"]
    assert first.terminate() == 0, first.tail()
    records = [json.loads(line) for line in first.lines()]  # every line is JSON
    names = {r.get("event") for r in records}
    assert {"job", "started", "crawl", "dispatch", "watchdog", "ops_notice", "stopping", "stopped"} <= names
    assert all({"time", "level"} <= set(r) for r in records)
    assert records[-1]["event"] == "stopped" and records[-1]["exit_code"] == 0
    assert scalar(story["db"], "SELECT count(*) FROM crawl_runs WHERE status = 'running'") == 0
    assert scalar(story["db"], "SELECT count(*) FROM service_locks") == 0
    assert status_json(story["settings"])["scheduler"] is None


def test_a_restart_keeps_its_jobs_and_sends_nothing_twice(story: dict[str, Any]) -> None:
    db = story["db"]
    jobs = rows(db, "SELECT id, next_run_time FROM apscheduler_jobs ORDER BY id")
    assert [j[0] for j in jobs] == ["doj_api", "doj_rss"]
    sent = len(news(story["slack"]))
    before = len(finished_runs(db, "doj_api"))
    second = story["second"] = Service(story["settings"], story["tmp"] / "second.log")
    second.wait_for("started")
    assert {e["source"]: e["action"] for e in second.events("job")} == {"doj_api": "kept", "doj_rss": "kept"}
    kept = {e["source"]: e["next_run"] for e in second.events("job")}
    assert kept == {j[0]: datetime.fromtimestamp(j[1], UTC).isoformat() for j in jobs}
    wait_until(lambda: len(finished_runs(db, "doj_api")) >= before + 2, 30, "two crawls after the restart")
    time.sleep(DISPATCH + 0.5)
    assert len(news(story["slack"])) == sent == 1
    assert scalar(db, "SELECT count(*) FROM alert_outbox WHERE status != 'sent'") == 0
    assert second.terminate() == 0, second.tail()


def test_a_source_left_out_of_the_settings_loses_its_job(story: dict[str, Any]) -> None:
    settings = story["tmp"] / "fewer.toml"
    text = service_settings(story["mirror"], story["slack"], story["db"], off=(*OFF, "doj_rss"))
    settings.write_text(text, "utf-8")
    third = story["third"] = Service(settings, story["tmp"] / "third.log")
    third.wait_for("started")
    assert {e["source"]: e["action"] for e in third.events("job")} == {"doj_rss": "removed", "doj_api": "kept"}
    assert [r[0] for r in rows(story["db"], "SELECT id FROM apscheduler_jobs")] == ["doj_api"]
    assert third.terminate() == 0, third.tail()


# ---------------------------------------------------------------------------------------------------- SIGTERM
def test_sigterm_during_a_crawl_exits_0_and_records_it_interrupted(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    with MirrorServer() as mirror, SlackServer() as slack:
        settings = tmp_path / "settings.toml"
        text = service_settings(mirror, slack, db, off=(*OFF, "doj_rss")).replace('schedule = "2s"', 'schedule = "1h"')
        settings.write_text(text.replace("pagesize = 50", "pagesize = 20"), "utf-8")
        mirror.set_fault(f"{JUSTICE}/api", "slow", seconds=2)  # every API page takes 2 s
        service = Service(settings, tmp_path / "run.log")
        try:
            service.wait_for("started")
            api = f"/{JUSTICE}/api/v1/press_releases.json"
            wait_until(lambda: mirror.request_counts().get(api, 0) >= 2, 40, "the crawl on its second page")
            assert scalar(db, "SELECT status FROM crawl_runs") == "running"
            began = time.monotonic()
            assert service.terminate() == 0, service.tail()
            assert time.monotonic() - began < 20
        finally:
            service.close(db)
    (run,) = rows(db, "SELECT status, new, error_messages FROM crawl_runs")
    assert run[0] == "interrupted", run
    assert "stopped the crawl while shutting down" in run[2]
    documents = scalar(db, "SELECT count(*) FROM documents")
    # the pages fetched before the stop (Scrapy lets the one in flight finish), stored whole; not the rest
    assert documents == run[1] and documents % 20 == 0 and 0 < documents < 100, (documents, run)
    assert scalar(db, "SELECT count(*) FROM documents_fts") == documents
    assert scalar(db, "SELECT count(*) FROM documents WHERE content_hash = '' OR body_text = ''") == 0
    assert scalar(db, "PRAGMA integrity_check") == "ok"
    crawl = service.events("crawl")[-1]
    assert (crawl["status"], crawl["ended"]) == ("interrupted", "stopped")


# ---------------------------------------------------------------------------------------------------- the lock
def lock_settings(tmp_path: Path, db_url: str) -> Path:
    settings = tmp_path / "settings.toml"
    settings.write_text(f'[archive]\nurl = "{db_url}"\n\n[service]\nlock_stale_after = 3\n', "utf-8")
    return settings


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_after_a_sigkill_a_new_scheduler_takes_over(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    db = f"sqlite:///{tmp_path / 'archive.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    settings = lock_settings(tmp_path, db)
    first = Service(settings, tmp_path / "first.log")
    services = [first]
    try:
        first.wait_for("started")
        refused = Service(settings, tmp_path / "refused.log")
        services.append(refused)
        assert refused.process.wait(timeout=30) == 1
        assert "another lawwatch scheduler runs on this" in "\n".join(refused.lines())
        first.process.kill()
        first.process.wait(timeout=10)
        killed = time.monotonic()
        new = Service(settings, tmp_path / "new.log")
        services.append(new)
        new.wait_for("started", timeout=30)
        assert time.monotonic() - killed < 3 + 10  # within the stale timeout (plus a process start)
        if backend == "sqlite":  # the row of the dead holder was taken over; PostgreSQL freed the lock itself
            assert new.wait_for("lock_taken_over")["pid"] == first.process.pid
        assert new.terminate() == 0, new.tail()
    finally:
        for service in services:
            service.close()
