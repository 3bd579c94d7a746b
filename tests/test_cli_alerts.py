"""``lawwatch alerts …`` and ``lawwatch import``'s alerts through click's CliRunner, on a SQLite archive, with the
Slack target pointed at the local Slack server (the email target at a closed port unless a test says otherwise)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from lawwatch.cli import cli
from lawwatch.pipeline.db import Archive, open_archive
from tests.helpers.alerts import alert_settings, letter, outbox, run_ingest
from tests.helpers.slack_server import TOKEN, SlackServer, api_error
from tests.helpers.slack_server import slack_server_fixture as slack_server_fixture  # noqa: F401

RESULT_KEYS = {"rule", "target", "pending", "sending", "sent", "failed", "oldest_pending_seconds"}


class Alerts:
    """``lawwatch --config <settings> ARGS`` in process; ``archive`` is the same SQLite file, opened here."""

    def __init__(self, tmp_path: Path, slack: SlackServer, targets: tuple[str, ...]) -> None:
        url = f"sqlite:///{tmp_path / 'archive.db'}"
        self.archive: Archive = open_archive(url)
        self.config = alert_settings(tmp_path, url, slack_url=slack.base_url, targets=targets, extra="pace_seconds = 0")
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0) -> Result:
        result = self.runner.invoke(cli, ["--config", str(self.config.path), *args], catch_exceptions=False)
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        assert "Traceback" not in result.output
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def ingest(self, *numbers: int, **kwargs: Any) -> None:
        run_ingest(self.archive, self.config, [letter(n, **kwargs) for n in numbers])


@pytest.fixture
def alerts(tmp_path: Path, slack_server: SlackServer, monkeypatch: pytest.MonkeyPatch) -> Alerts:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.delenv("LAWWATCH_DATABASE_URL", raising=False)
    return Alerts(tmp_path, slack_server, ("slack",))


@pytest.fixture
def two_targets(tmp_path: Path, slack_server: SlackServer, monkeypatch: pytest.MonkeyPatch) -> Alerts:
    """Slack (the local server) and email (port 9: nothing listens, so every send is retried later)."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.delenv("LAWWATCH_DATABASE_URL", raising=False)
    return Alerts(tmp_path, slack_server, ("slack", "email"))


def _one_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_status_json_counts_each_state_per_rule_and_target(two_targets: Alerts) -> None:
    cli = two_targets
    assert cli.json("alerts", "status") == {"rules": []}
    assert cli("alerts", "status").stdout.strip() == "no alerts yet"
    cli.ingest(1, 2, 3)
    cli.ingest(4, place="the City of Denver, Colorado")  # matches no rule

    before = cli.json("alerts", "status")["rules"]
    assert [(r["rule"], r["target"]) for r in before] == [("chicago-1373", "email"), ("chicago-1373", "slack")]
    for row in before:
        assert set(row) == RESULT_KEYS
        assert (row["pending"], row["sending"], row["sent"], row["failed"]) == (3, 0, 0, 0)
        assert isinstance(row["oldest_pending_seconds"], float) and 0 <= row["oldest_pending_seconds"] < 120

    done = cli.json("alerts", "dispatch", "--once")
    assert {k: done[k] for k in ("sent", "retried", "failed", "rows_sent")} == {
        "sent": 3,
        "retried": 3,
        "failed": 0,
        "rows_sent": 3,
    }
    assert len(done["errors"]) == 3 and all(e.startswith("chicago-1373 → email: ") for e in done["errors"])

    after = {r["target"]: r for r in cli.json("alerts", "status")["rules"]}
    assert set(after["slack"]) == RESULT_KEYS
    assert (after["slack"]["sent"], after["slack"]["pending"], after["slack"]["oldest_pending_seconds"]) == (3, 0, None)
    assert set(after["email"]) == RESULT_KEYS | {"last_error"}
    assert (after["email"]["pending"], after["email"]["sent"], after["email"]["failed"]) == (3, 0, 0)
    assert "127.0.0.1:9" in after["email"]["last_error"]
    text = cli("alerts", "status").stdout
    assert "chicago-1373 → slack: 0 pending, 0 sending, 3 sent, 0 failed" in text
    assert "chicago-1373 → email: 3 pending, 0 sending, 0 sent, 0 failed, oldest pending" in text
    assert "last error: " in text


def test_list_json_shows_what_was_sent_newest_first(alerts: Alerts, slack_server: SlackServer) -> None:
    assert alerts.json("alerts", "list") == {"alerts": []}
    assert alerts("alerts", "list").stdout.strip() == "nothing sent"
    alerts.ingest(1, 2)
    alerts("alerts", "dispatch", "--once")
    sent = alerts.json("alerts", "list")["alerts"]
    assert len(sent) == 2
    assert set(sent[0]) == {
        "id",
        "sent_at",
        "rule",
        "target",
        "channel",
        "document_id",
        "title",
        "url",
        "revision",
        "digest",
        "provider_id",
    }
    assert [a["sent_at"] for a in sent] == sorted((a["sent_at"] for a in sent), reverse=True)
    assert {a["title"] for a in sent} == {letter(1).title, letter(2).title}
    assert {(a["rule"], a["target"], a["channel"], a["revision"], a["digest"]) for a in sent} == {
        ("chicago-1373", "slack", "slack", 0, None)
    }
    assert {a["provider_id"] for a in sent} == {m["ts"] for m in slack_server.messages}
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert alerts.json("alerts", "list", "--since", tomorrow) == {"alerts": []}
    assert len(alerts.json("alerts", "list", "--limit", "1")["alerts"]) == 1
    assert letter(1).title in alerts("alerts", "list").stdout
    bad = alerts.runner.invoke(cli, ["--config", str(alerts.config.path), "alerts", "list", "--since", "someday"])
    assert bad.exit_code in (1, 2) and "Traceback" not in bad.output  # 2 once it uses cli/filters.py's DATE
    assert "--since" in _one_line(bad) and "is not a date" in bad.stderr


def test_retry_by_id_and_failed(alerts: Alerts, slack_server: SlackServer) -> None:
    alerts.ingest(1, 2, 3)
    slack_server.fail_next(api_error("channel_not_found"), times=2)  # permanent: failed at once
    done = alerts.json("alerts", "dispatch", "--once")
    assert (done["sent"], done["failed"]) == (1, 2)
    failed = [r["id"] for r in outbox(alerts.archive) if r["status"] == "failed"]
    sent_id = next(r["id"] for r in outbox(alerts.archive) if r["status"] == "sent")
    assert len(failed) == 2

    assert alerts("alerts", "retry", str(failed[0])).stdout.strip() == "1 alert queued again"
    status = alerts.json("alerts", "status")["rules"][0]
    assert (status["pending"], status["failed"], status["sent"]) == (1, 1, 1)
    assert alerts("alerts", "retry", "--failed").stdout.strip() == "1 alert queued again"
    assert alerts("alerts", "retry", "--failed").stdout.strip() == "0 alerts queued again"
    assert alerts.json("alerts", "dispatch", "--once")["sent"] == 2
    assert [r["status"] for r in outbox(alerts.archive)] == ["sent"] * 3
    assert len(slack_server.messages) == 3

    refused = alerts("alerts", "retry", str(sent_id), code=1)  # a sent alert is not sent again by retry
    assert "1 of the ids are not failed or pending alerts" in refused.stderr
    for args in ([], [str(sent_id), "--failed"]):
        usage = alerts("alerts", "retry", *args, code=2)
        assert (
            "give alert ids or --failed (not both)" in usage.stderr
            and "alerts retry [OPTIONS] [IDS]...)\n" in usage.stderr
        )
        assert len(usage.stderr.splitlines()) == 1  # issue 9: every error is one line


def test_preview_shows_matches_why_and_messages_and_sends_nothing(
    two_targets: Alerts, slack_server: SlackServer
) -> None:
    cli = two_targets
    cli.ingest(1)
    cli.ingest(2, place="the City of Denver, Colorado")
    ids = {r["url"]: r["id"] for r in _documents(cli.archive)}
    chicago, denver = ids[letter(1).url], ids[letter(2).url]
    rows_before = outbox(cli.archive)

    text = cli("alerts", "preview", str(chicago)).stdout
    assert "chicago-1373: matches (documents naming Chicago, IL citing 8 U.S.C. § 1373)" in text
    assert "why: " in text and "Chicago, IL" in text and "8 U.S.C. § 1373" in text
    assert f"→ slack: New: {letter(1).title}" in text
    assert "→ email: " in text and letter(1).title in text.split("→ email: ")[1]

    data = cli.json("alerts", "preview", str(chicago))
    assert data["document_id"] == chicago and len(data["rules"]) == 1
    rule = data["rules"][0]
    assert (rule["rule"], rule["matches"]) == ("chicago-1373", True)
    assert rule["why"]["jurisdictions"] == ["Chicago, IL"] and rule["why"]["statutes"] == ["8 U.S.C. § 1373"]
    assert set(rule["messages"]) == {"slack", "email"}
    slack = rule["messages"]["slack"]
    assert letter(1).title in slack["text"] and isinstance(slack["blocks"], list) and slack["blocks"]
    email = rule["messages"]["email"]
    assert letter(1).title in email["subject"] and email["to"] == ["legal@example.org"]
    assert letter(1).title in email["text"] and "<html" in email["html"].lower()

    miss = cli.json("alerts", "preview", str(denver))["rules"][0]
    assert miss["matches"] is False and "why" not in miss and "messages" not in miss
    assert "chicago-1373: does not match" in cli("alerts", "preview", str(denver)).stdout

    assert "no document with id 999" in _one_line(cli("alerts", "preview", "999", code=1))
    assert slack_server.requests == []  # nothing was sent
    assert outbox(cli.archive) == rows_before  # nor queued, nor touched


def _documents(archive: Archive) -> list[dict[str, Any]]:
    import sqlalchemy as sa

    with archive.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text("SELECT id, url FROM documents"))]


def test_alerts_test_sends_one_message_and_prints_its_id(alerts: Alerts, slack_server: SlackServer) -> None:
    result = alerts("alerts", "test", "--target", "slack")
    assert len(slack_server.messages) == 1
    ts = slack_server.messages[0]["ts"]
    assert result.stdout.strip() == f"slack: sent (slack, id {ts})"
    assert "[lawwatch test]" in slack_server.messages[0]["text"]
    assert outbox(alerts.archive) == []  # a test alert is not an outbox row


def test_alerts_test_with_a_wrong_or_missing_token_fails_in_one_line(
    alerts: Alerts, slack_server: SlackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-not-the-right-one")
    line = _one_line(alerts("alerts", "test", "--target", "slack", code=1))
    assert line.startswith("Error: slack: ") and "invalid_auth" in line
    assert "xoxb" not in line
    assert slack_server.messages == [] and len(slack_server.requests) == 1

    monkeypatch.delenv("SLACK_BOT_TOKEN")
    line = _one_line(alerts("alerts", "test", "--target", "slack", code=1))
    assert "token is not set" in line
    assert len(slack_server.requests) == 1  # not even tried

    line = _one_line(alerts("alerts", "test", "--target", "nope", code=1))
    assert 'unknown target "nope" (known: slack, email)' in line


def test_import_queues_alerts_and_no_alerts_does_not(alerts: Alerts, tmp_path: Path) -> None:
    def jsonl(name: str, *numbers: int) -> str:
        path = tmp_path / name
        with path.open("w", encoding="utf-8") as out:
            for n in numbers:
                doc = letter(n)
                record = {
                    "source": doc.source,
                    "title": doc.title,
                    "url": doc.url,
                    "body_text": doc.body_text,
                    "published_at": doc.published_at.isoformat() if doc.published_at else None,
                }
                out.write(json.dumps(record) + "\n")
            weather = {"source": "doj_api", "title": f"Weather ({name})", "body_text": "Rain in Denver."}
            out.write(json.dumps(weather) + "\n")  # matches no rule
        return str(path)

    quiet = json.loads(
        alerts("import", jsonl("backfill.jsonl", 1, 2), "--format", "lawwatch", "--json", "--no-alerts").stdout
    )
    assert (quiet["new"], quiet["errors"]) == (3, 0)
    assert outbox(alerts.archive) == [] and alerts.json("alerts", "status") == {"rules": []}

    loud = json.loads(alerts("import", jsonl("new.jsonl", 3, 4), "--format", "lawwatch", "--json").stdout)
    assert loud["new"] == 3
    status = alerts.json("alerts", "status")["rules"]
    assert [(r["rule"], r["target"], r["pending"]) for r in status] == [("chicago-1373", "slack", 2)]
    assert alerts.json("alerts", "dispatch", "--once")["sent"] == 2
