"""The watchdog in one process: verdicts from crawl runs, one notice to ``alerts.ops_targets`` per change of state
(once, not once per tick; once more on recovery), retried until delivered, through the real channel code."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lawwatch.alerts.channels import ChannelOptions, build_channels
from lawwatch.alerts.channels.email import EmailChannel
from lawwatch.alerts.channels.webhook import WebhookChannel
from lawwatch.config import Config, EmailConfig, SourceConfig
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.models import CrawlRun, SourceHealth
from lawwatch.service.watchdog import Watchdog, assess, human, notice_for
from tests.helpers.alerts import alert_settings
from tests.helpers.slack_server import DROP, SlackServer, api_error
from tests.helpers.slack_server import slack_server_fixture as slack_server_fixture  # noqa: F401

OPS_TARGET = """
[[alerts.targets]]
name = "ops"
type = "slack"
channel = "#ops"
"""


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def settings(tmp_path: Path, archive: Archive, slack: SlackServer, *, ops: bool = True, **source: Any) -> Config:
    url = archive.engine.url.render_as_string(hide_password=False)
    config = alert_settings(tmp_path, url, slack_url=slack.base_url, rules=OPS_TARGET, extra="")
    watched = SourceConfig(id="doj_api", spider="doj_api", base_url="https://www.justice.gov", **source)
    alerts = dataclasses.replace(config.alerts, ops_targets=("ops",) if ops else ())
    return dataclasses.replace(config, sources=(watched,), alerts=alerts)


def watchdog(archive: Archive, config: Config, clock: Clock) -> Watchdog:
    channels = build_channels(config.alerts, ChannelOptions(pace_seconds=0, timeout=5.0))
    return Watchdog(archive, config, channels, clock=clock)


def add_run(archive: Archive, clock: Clock, status: str, *, new: int = 0, kind: str | None = None) -> None:
    with archive.session() as session:
        session.add(
            CrawlRun(
                source="doj_api",
                started_at=clock.now - timedelta(seconds=5),
                finished_at=clock.now,
                status=status,
                new=new,
                error_messages=["doj_api: HTTP 500 from /api/v1/press_releases.json"] if status == "failed" else [],
                stats={"kind": kind} if kind else {},
            )
        )


def health(archive: Archive) -> SourceHealth:
    with archive.session() as session:
        row = session.get(SourceHealth, "doj_api")
        assert row is not None
        return row


def ops_texts(slack: SlackServer) -> list[str]:
    return [str(m["text"]) for m in slack.messages if m["channel"] == "#ops"]


def test_failing_alerts_once_and_recovery_once(archive: Archive, tmp_path: Path, slack_server: SlackServer) -> None:
    clock = Clock()
    config = settings(tmp_path, archive, slack_server, fail_after=3)
    dog = watchdog(archive, config, clock)
    add_run(archive, clock, "ok", new=3)
    assert dog.tick() == [] and health(archive).state == "ok" and ops_texts(slack_server) == []
    for _ in range(2):
        clock.advance(60)
        add_run(archive, clock, "failed")
        dog.tick()
    assert health(archive).state == "ok"  # two failures are not three
    clock.advance(60)
    add_run(archive, clock, "failed")
    (change,) = dog.tick()
    assert (change.before, change.after) == ("ok", "failing") and "last 3 crawls failed: doj_api: HTTP 500" in (
        change.reason or ""
    )
    for _ in range(3):  # still failing: nobody is told again
        clock.advance(60)
        add_run(archive, clock, "failed")
        assert dog.tick() == []
    assert ops_texts(slack_server) == ["lawwatch: source doj_api is failing"]
    row = health(archive)
    assert row.state == "failing" and row.alerted_at is not None
    blocks = json.dumps(slack_server.messages[0]["blocks"])
    assert "last 3 crawls failed" in blocks and "lawwatch crawl doj_api -v" in blocks
    clock.advance(60)
    add_run(archive, clock, "ok")
    (change,) = dog.tick()
    assert (change.before, change.after) == ("failing", "ok")
    for _ in range(2):
        clock.advance(60)
        add_run(archive, clock, "ok")
        assert dog.tick() == []
    assert ops_texts(slack_server) == ["lawwatch: source doj_api is failing", "lawwatch: source doj_api recovered"]
    assert "was failing since" in json.dumps(slack_server.messages[1]["blocks"])


def test_imports_and_interrupted_crawls_do_not_count(
    archive: Archive, tmp_path: Path, slack_server: SlackServer
) -> None:
    clock = Clock()
    config = settings(tmp_path, archive, slack_server, fail_after=2)
    dog = watchdog(archive, config, clock)
    add_run(archive, clock, "failed")
    add_run(archive, clock, "interrupted")
    add_run(archive, clock, "partial", kind="import")
    with archive.session() as session:
        assert assess(session, config.sources[0], clock.now).state == "ok"
    add_run(archive, clock, "failed")
    dog.tick()
    assert health(archive).state == "failing"


def test_quiet_source(archive: Archive, tmp_path: Path, slack_server: SlackServer) -> None:
    clock = Clock()
    config = settings(tmp_path, archive, slack_server, expect_every=3600.0, fail_after=0)
    dog = watchdog(archive, config, clock)
    add_run(archive, clock, "ok", new=2)
    for _ in range(5):  # crawled every 15 minutes, nothing new
        clock.advance(900)
        add_run(archive, clock, "ok")
        dog.tick()
    assert health(archive).state == "quiet"
    assert "nothing new for 1h15m" in (health(archive).reason or "")
    assert ops_texts(slack_server) == ["lawwatch: source doj_api has gone quiet"]
    clock.advance(900)
    add_run(archive, clock, "ok", new=1)
    dog.tick()
    assert health(archive).state == "ok"
    assert ops_texts(slack_server)[-1] == "lawwatch: source doj_api recovered"


def test_a_source_that_was_not_crawled_is_not_called_quiet(
    archive: Archive, tmp_path: Path, slack_server: SlackServer
) -> None:
    clock = Clock()
    config = settings(tmp_path, archive, slack_server, expect_every=3600.0)
    add_run(archive, clock, "ok", new=2)
    clock.advance(3 * 86400)  # the service was down for three days
    with archive.session() as session:
        assert assess(session, config.sources[0], clock.now).state == "ok"
    add_run(archive, clock, "ok")  # its first crawl after the restart finds nothing new
    with archive.session() as session:
        verdict = assess(session, config.sources[0], clock.now)
    assert verdict.state == "quiet" and "nothing new for 3d" in (verdict.reason or "")


def test_a_notice_that_could_not_be_sent_is_sent_on_a_later_tick(
    archive: Archive, tmp_path: Path, slack_server: SlackServer
) -> None:
    clock = Clock()
    config = settings(tmp_path, archive, slack_server, fail_after=1)
    dog = watchdog(archive, config, clock)
    add_run(archive, clock, "failed")
    slack_server.fail_next(DROP)  # the connection drops: retried by the next tick, not in the request
    dog.tick()
    assert ops_texts(slack_server) == [] and health(archive).alerted_at is None
    clock.advance(60)
    dog.tick()
    assert ops_texts(slack_server) == ["lawwatch: source doj_api is failing"]
    assert health(archive).alerted_at == clock.now
    # a fresh process (a restart) owes nothing either
    clock.advance(60)
    watchdog(archive, config, clock).tick()
    assert len(ops_texts(slack_server)) == 1


def test_a_trouble_nobody_was_told_about_recovers_silently(
    archive: Archive, tmp_path: Path, slack_server: SlackServer
) -> None:
    clock = Clock()
    config = settings(tmp_path, archive, slack_server, fail_after=1)
    dog = watchdog(archive, config, clock)
    add_run(archive, clock, "failed")
    slack_server.fail_next(DROP)
    dog.tick()
    clock.advance(60)
    add_run(archive, clock, "ok")
    dog.tick()
    row = health(archive)
    assert row.state == "ok" and row.alerted_at == clock.now and ops_texts(slack_server) == []


def test_a_permanent_refusal_is_given_up_and_no_ops_targets_only_logs(
    archive: Archive, tmp_path: Path, slack_server: SlackServer, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    config = settings(tmp_path, archive, slack_server, fail_after=1)
    add_run(archive, clock, "failed")
    slack_server.fail_next(api_error("channel_not_found"))
    watchdog(archive, config, clock).tick()
    assert health(archive).alerted_at is not None and ops_texts(slack_server) == []
    assert 'result="given up"' in caplog.text and "channel_not_found" in caplog.text
    with archive.session() as session:
        session.execute(sa.delete(SourceHealth))
    quiet = dataclasses.replace(config, alerts=dataclasses.replace(config.alerts, ops_targets=()))
    watchdog(archive, quiet, clock).tick()
    assert health(archive).state == "failing" and health(archive).alerted_at is not None
    assert "no alerts.ops_targets configured" in caplog.text


def test_notice_in_email_and_webhook() -> None:
    since = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
    notice = notice_for("doj_api", "failing", since, "its last 3 crawls failed: <!channel> HTTP 500", "ops")
    assert notice.message_id == "<notice-watchdog-doj_api-failing-20261202T140000@lawwatch>"
    message = EmailChannel(EmailConfig()).render(notice, type("T", (), {"name": "ops", "to": ("ops@x.org",)})())
    assert message["Subject"] == "[lawwatch] lawwatch: source doj_api is failing"
    assert message["Message-ID"] == notice.message_id and message["X-Lawwatch-Notice"] == "watchdog"
    html = message.get_body(("html",))
    assert html is not None and "&lt;!channel&gt;" in html.get_content()
    payload = WebhookChannel().render(notice, None)  # type: ignore[arg-type]
    body = json.loads(payload.body)
    assert payload.event == "notice" and body["notice"]["state"] == "failing" and body["notice"]["source"] == "doj_api"


def test_human() -> None:
    assert [human(s) for s in (42, 90, 5400, 172800, 180000)] == ["42s", "1m", "1h30m", "2d", "2d2h"]
