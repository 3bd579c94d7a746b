"""Alerts end to end in one process: the ingest service writes the outbox in the store's transaction, the dispatcher
delivers through the real Slack (slack-sdk) and email (smtplib) channels to local servers, exactly once.

Time is the dispatcher's injected clock where a test waits for a retry or a digest, so nothing here sleeps long.
"""

from __future__ import annotations

import fcntl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from lawwatch.alerts.dispatch import Dispatcher, DispatcherBusy, lock_path, retry
from lawwatch.pipeline.db import Archive
from tests.helpers.alerts import alert_settings, dispatcher, letter, outbox, run_ingest
from tests.helpers.slack_server import SlackServer, api_error, rate_limited, server_error
from tests.helpers.slack_server import slack_server_fixture as slack_server_fixture  # noqa: F401
from tests.helpers.smtp_server import SMTPServer
from tests.helpers.smtp_server import smtp_server_fixture as smtp_server_fixture  # noqa: F401


def _url(archive: Archive) -> str:
    return archive.engine.url.render_as_string(hide_password=False)


class Clock:
    """A settable clock for the dispatcher."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_same_document_via_three_sources_recrawled_five_times_alerts_once_per_target(
    archive: Archive, tmp_path: Path, slack_server: SlackServer, smtp_server: SMTPServer
) -> None:
    config = alert_settings(
        tmp_path, _url(archive), slack_url=slack_server.base_url, smtp_port=smtp_server.port, targets=("slack", "email")
    )
    for _crawl in range(5):
        run_ingest(archive, config, [letter(1, source=s) for s in ("doj_api", "doj_rss", "doj_news")])
    rows = outbox(archive)
    assert sorted((r["rule"], r["target"], r["status"]) for r in rows) == [
        ("chicago-1373", "email", "pending"),
        ("chicago-1373", "slack", "pending"),
    ]
    stats = dispatcher(archive, config).run_once()
    assert (stats.sent, stats.failed, stats.retried) == (2, 0, 0)
    assert len(slack_server.messages) == 1
    assert len(smtp_server.wait_for(1)) == 1
    assert dispatcher(archive, config).run_once().sent == 0  # nothing left; nothing sent twice
    assert len(slack_server.messages) == 1 and len(smtp_server.messages) == 1
    sent = {r["target"]: r for r in outbox(archive)}
    assert sent["slack"]["status"] == "sent" and sent["slack"]["provider_id"] == slack_server.messages[0]["ts"]
    mail = smtp_server.messages[0].message()
    assert sent["email"]["provider_id"] == mail["Message-ID"]
    assert "Chicago, IL" in slack_server.messages[0]["text"] + str(slack_server.messages[0]["blocks"])


def test_documents_that_do_not_match_write_no_outbox_row(archive: Archive, tmp_path: Path) -> None:
    config = alert_settings(tmp_path, _url(archive))
    run_ingest(
        archive,
        config,
        [
            letter(1, place="the City of Denver, Colorado"),  # another place
            letter(2, statute="8 U.S.C. § 1324"),  # another statute
        ],
    )
    assert outbox(archive) == []


def test_edit_that_newly_matches_alerts_once_and_unrelated_edit_does_not(archive: Archive, tmp_path: Path) -> None:
    config = alert_settings(tmp_path, _url(archive))
    url = "https://www.justice.gov/opa/pr/chicago-story"
    run_ingest(archive, config, [letter(1, url=url, statute="federal immigration law")])
    assert outbox(archive) == []  # Chicago, but no § 1373 yet
    run_ingest(archive, config, [letter(1, url=url)])  # the edit adds § 1373: newly matches
    assert [(r["revision"], r["status"]) for r in outbox(archive)] == [(0, "pending")]
    assert outbox(archive)[0]["why"]["jurisdictions"] == ["Chicago, IL"]
    run_ingest(archive, config, [letter(1, url=url, extra="An unrelated sentence was added.")])
    assert len(outbox(archive)) == 1  # still matching: not a new match


def test_any_change_rule_alerts_on_each_substantive_edit_with_what_changed(
    archive: Archive, tmp_path: Path, slack_server: SlackServer
) -> None:
    rules = """
[[alerts.rules]]
name = "every-edit"
statutes = ["1373"]
on_update = "any-change"
targets = [{targets}]
"""
    config = alert_settings(tmp_path, _url(archive), slack_url=slack_server.base_url, rules=rules)
    url = "https://www.justice.gov/opa/pr/edited"
    run_ingest(archive, config, [letter(1, url=url)])
    run_ingest(archive, config, [letter(1, url=url)])  # unchanged: nothing
    run_ingest(archive, config, [letter(1, url=url, title="Corrected: letter on sanctuary policies")])
    rows = outbox(archive)
    assert [r["revision"] for r in rows] == [0, 1]
    assert rows[1]["why"]["changes"][0]["field"] == "title"
    assert dispatcher(archive, config).run_once().sent == 2
    assert "Corrected" in str(slack_server.messages[1])


def test_max_age_keeps_a_backfill_from_alerting(archive: Archive, tmp_path: Path) -> None:
    config = alert_settings(tmp_path, _url(archive), extra='max_age = "30d"')
    run_ingest(archive, config, [letter(1, published=datetime(2017, 10, 11, tzinfo=UTC)), letter(2)])
    assert [r["document_id"] for r in outbox(archive)] == [2]


def test_rate_limit_with_a_long_retry_after_is_honoured_then_delivered_once(
    sqlite_archive: Archive, tmp_path: Path, slack_server: SlackServer
) -> None:
    config = alert_settings(tmp_path, _url(sqlite_archive), slack_url=slack_server.base_url)
    run_ingest(sqlite_archive, config, [letter(1)])
    clock = Clock()
    slack_server.fail_next(rate_limited(120))  # longer than the client waits in-line: back to the outbox
    first = dispatcher(sqlite_archive, config, clock=clock).run_once()
    assert (first.sent, first.retried) == (0, 1)
    row = outbox(sqlite_archive)[0]
    assert row["status"] == "pending" and row["attempts"] == 1 and "rate" in row["last_error"].lower()
    assert row["next_attempt_at"] >= clock.now + timedelta(seconds=120)
    clock.advance(60)
    assert dispatcher(sqlite_archive, config, clock=clock).run_once().sent == 0  # not yet due
    clock.advance(61)
    assert dispatcher(sqlite_archive, config, clock=clock).run_once().sent == 1
    assert len(slack_server.messages) == 1


def test_short_rate_limit_and_server_error_are_retried_in_line_and_delivered_once(
    sqlite_archive: Archive, tmp_path: Path, slack_server: SlackServer
) -> None:
    config = alert_settings(tmp_path, _url(sqlite_archive), slack_url=slack_server.base_url)
    run_ingest(sqlite_archive, config, [letter(1), letter(2)])
    slack_server.fail_next(rate_limited(1), server_error())
    stats = dispatcher(sqlite_archive, config).run_once()
    assert (stats.sent, stats.failed) == (2, 0)
    assert len(slack_server.messages) == 2


def test_smtp_down_is_retried_and_delivered_once_when_it_is_back(sqlite_archive: Archive, tmp_path: Path) -> None:
    server = SMTPServer()
    config = alert_settings(tmp_path, _url(sqlite_archive), smtp_port=server.port, targets=("email",))
    run_ingest(sqlite_archive, config, [letter(1)])
    clock = Clock()
    down = dispatcher(sqlite_archive, config, clock=clock).run_once()  # server not started: connection refused
    assert (down.sent, down.retried) == (0, 1)
    with server:
        assert dispatcher(sqlite_archive, config, clock=clock).run_once().sent == 0  # backoff not over
        clock.advance(5)
        assert dispatcher(sqlite_archive, config, clock=clock).run_once().sent == 1
        assert dispatcher(sqlite_archive, config, clock=clock).run_once().sent == 0
        mails = server.wait_for(1)
    assert len(mails) == 1
    assert outbox(sqlite_archive)[0]["attempts"] == 2


def test_permanent_error_fails_at_once_and_retry_sends_it_again(
    sqlite_archive: Archive, tmp_path: Path, slack_server: SlackServer
) -> None:
    config = alert_settings(tmp_path, _url(sqlite_archive), slack_url=slack_server.base_url)
    run_ingest(sqlite_archive, config, [letter(1)])
    slack_server.fail_next(api_error("channel_not_found"))
    stats = dispatcher(sqlite_archive, config).run_once()
    assert (stats.failed, stats.sent) == (1, 0)
    assert outbox(sqlite_archive)[0]["status"] == "failed"
    assert "channel_not_found" in outbox(sqlite_archive)[0]["last_error"]
    assert dispatcher(sqlite_archive, config).run_once().sent == 0  # failed rows wait for a person
    assert retry(sqlite_archive, failed=True) == 1
    assert dispatcher(sqlite_archive, config).run_once().sent == 1
    assert len(slack_server.messages) == 1


def test_gives_up_after_max_attempts(sqlite_archive: Archive, tmp_path: Path) -> None:
    config = alert_settings(tmp_path, _url(sqlite_archive), targets=("email",))  # port 9: nothing listens
    run_ingest(sqlite_archive, config, [letter(1)])
    clock = Clock()
    for _ in range(config.alerts.max_attempts):
        dispatcher(sqlite_archive, config, clock=clock).run_once()
        clock.advance(3600)
    row = outbox(sqlite_archive)[0]
    assert (row["status"], row["attempts"]) == ("failed", config.alerts.max_attempts)


def test_digest_waits_for_its_time_and_sends_one_message_listing_every_document(
    sqlite_archive: Archive, tmp_path: Path, smtp_server: SMTPServer
) -> None:
    rules = """
[[alerts.rules]]
name = "daily"
statutes = ["8 U.S.C. 1373"]
digest = "0 8 * * *"
timezone = "America/Chicago"
targets = [{targets}]
"""
    config = alert_settings(tmp_path, _url(sqlite_archive), smtp_port=smtp_server.port, rules=rules, targets=("email",))
    run_ingest(sqlite_archive, config, [letter(n, place=p) for n, p in enumerate(["Chicago", "Philadelphia"], 1)])
    rows = outbox(sqlite_archive)
    due = rows[0]["next_attempt_at"]
    assert {r["next_attempt_at"] for r in rows} == {rows[0]["next_attempt_at"]}
    assert due.astimezone(__import__("zoneinfo").ZoneInfo("America/Chicago")).hour == 8
    clock = Clock()
    assert dispatcher(sqlite_archive, config, clock=clock).run_once().sent == 0
    clock.now = due + timedelta(hours=30)  # the dispatcher was down at 08:00: it sends at its next start
    stats = dispatcher(sqlite_archive, config, clock=clock).run_once()
    assert (stats.sent, stats.rows_sent) == (1, 2)
    mail = smtp_server.wait_for(1)[0].message()
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "letter number 1" in text and "letter number 2" in text


def test_hostile_text_arrives_inert_in_slack_and_email(
    sqlite_archive: Archive, tmp_path: Path, slack_server: SlackServer, smtp_server: SMTPServer
) -> None:
    config = alert_settings(
        tmp_path,
        _url(sqlite_archive),
        slack_url=slack_server.base_url,
        smtp_port=smtp_server.port,
        targets=("slack", "email"),
    )
    hostile = "<!channel> <!here> <@U123> <https://evil.example|click> <script>alert(1)</script> *bold*"
    title = f"Chicago letter {hostile}\r\nBcc: evil@example.org"
    run_ingest(sqlite_archive, config, [letter(1, title=title, extra=f"Chicago answered: {hostile}")])
    assert dispatcher(sqlite_archive, config).run_once().sent == 2
    slack = str(slack_server.messages[0])
    for raw in ("<!channel>", "<!here>", "<@U123>", "<https://evil.example|click>", "<script>"):
        assert raw not in slack
    assert "&lt;!channel&gt;" in slack and "&lt;@U123&gt;" in slack
    mail = smtp_server.wait_for(1)[0].message()
    assert mail["Bcc"] is None and mail.get_all("To") == ["legal@example.org"]
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html and "&lt;@U123&gt;" in html


def test_sqlite_row_left_sending_by_a_dead_dispatcher_is_sent_by_the_next(
    sqlite_archive: Archive, tmp_path: Path, slack_server: SlackServer
) -> None:
    config = alert_settings(tmp_path, _url(sqlite_archive), slack_url=slack_server.base_url)
    run_ingest(sqlite_archive, config, [letter(1)])
    with sqlite_archive.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE alert_outbox SET status = 'sending', claimed_by = 'dead', claimed_at = :t"),
            {"t": datetime.now(UTC)},
        )
    assert dispatcher(sqlite_archive, config).run_once().sent == 1


@pytest.mark.postgres
def test_postgres_row_left_sending_is_taken_back_only_after_the_timeout(
    pg_archive: Archive, tmp_path: Path, slack_server: SlackServer
) -> None:
    archive = pg_archive
    config = alert_settings(tmp_path, _url(archive), slack_url=slack_server.base_url, extra="sending_timeout = 60.0")
    run_ingest(archive, config, [letter(1)])
    clock = Clock()
    with archive.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE alert_outbox SET status = 'sending', claimed_by = 'other', claimed_at = :t"),
            {"t": clock.now},
        )
    assert dispatcher(archive, config, clock=clock).run_once().sent == 0  # another dispatcher may be sending it
    clock.advance(61)
    assert dispatcher(archive, config, clock=clock).run_once().sent == 1


def test_sqlite_allows_one_dispatcher_at_a_time(sqlite_archive: Archive, tmp_path: Path) -> None:
    config = alert_settings(tmp_path, _url(sqlite_archive))
    path = lock_path(sqlite_archive)
    assert path is not None
    with open(path, "a+") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(DispatcherBusy, match="another dispatcher is running"):
            dispatcher(sqlite_archive, config).run_once()
    assert isinstance(dispatcher(sqlite_archive, config), Dispatcher)
    assert dispatcher(sqlite_archive, config).run_once().sent == 0


def test_state_rule_skips_a_state_that_only_locates_a_place_unless_within(archive: Archive, tmp_path: Path) -> None:
    rules = """
[[alerts.rules]]
name = "california"
jurisdictions = ["California"]
targets = [{targets}]

[[alerts.rules]]
name = "california-within"
jurisdictions = ["California"]
within = true
targets = [{targets}]
"""
    config = alert_settings(tmp_path, _url(archive), rules=rules)
    run_ingest(
        archive,
        config,
        [
            letter(1, place="the City of Berkeley, California"),  # California only locates Berkeley
            letter(2, place="Los Angeles County"),  # inside California, the state not written at all
            letter(3, place="the State of California"),  # the state itself
        ],
    )
    matched = sorted((r["rule"], r["document_id"]) for r in outbox(archive))
    assert matched == [
        ("california", 3),
        ("california-within", 1),
        ("california-within", 2),
        ("california-within", 3),
    ]
