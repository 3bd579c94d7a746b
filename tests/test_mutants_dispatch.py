"""The alert dispatcher (alerts/dispatch.py) as an operator sees it: what a row's status, attempts, error and next try
become after each kind of failure, when it gives up, what ``retry`` puts back, and how the loop survives a bad round.
Written to kill the mutants that survived tests/test_alerts_delivery.py (issue 16, docs/mutation.md). Channels here are
fakes that record what they were asked to send; the real channels are tested in test_alerts_delivery.py."""

from __future__ import annotations

import logging
import os
import random
import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from lawwatch.alerts.channels import Delivery
from lawwatch.alerts.dispatch import (
    BACKOFF_CAP,
    Dispatcher,
    DispatchStats,
    backoff,
    lock_path,
    retry,
    wait_until_idle,
)
from lawwatch.alerts.errors import DeliveryError
from lawwatch.config import Config
from lawwatch.pipeline.db import Archive, open_archive
from tests.helpers.alerts import alert_settings, letter, outbox, run_ingest

START = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)  # the dispatcher's clock: after ingest


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class FixedRandom(random.Random):
    """``random()`` always gives ``value``: the jitter at its lowest (0.0) or highest (just under 1)."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


class FakeChannel:
    """Renders an alert as its claim's rows and sends it by returning the next outcome (default: a delivery)."""

    kind: ClassVar[str] = "slack"

    def __init__(self, *outcomes: BaseException | None, render_error: BaseException | None = None) -> None:
        self.outcomes = list(outcomes)
        self.render_error = render_error
        self.sent: list[Any] = []

    def validate_target(self, target: Any) -> None:
        return None

    def render(self, message: Any, target: Any) -> Any:
        if self.render_error is not None:
            raise self.render_error
        return message

    def send(self, payload: Any, target: Any) -> Delivery:
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        self.sent.append(payload)
        return Delivery(provider_id=f"p{len(self.sent)}")


HOURLY_DIGEST = """
[[alerts.rules]]
name = "hourly"
statutes = ["1373"]
digest = "1h"
targets = [{targets}]
"""  # one rule whose alerts wait for an hourly digest


@pytest.fixture
def setup(sqlite_archive: Archive, tmp_path: Path) -> Iterator[tuple[Archive, Config]]:
    url = sqlite_archive.engine.url.render_as_string(hide_password=False)
    config = alert_settings(tmp_path, url)  # retry_base 1.0, max_attempts 4, rule chicago-1373 → target "slack"
    run_ingest(sqlite_archive, config, [letter(1)])
    yield sqlite_archive, config


def _dispatcher(archive: Archive, config: Config, channel: FakeChannel, rng: float = 0.0, **kw: Any) -> Dispatcher:
    return Dispatcher(archive, config.alerts, channels={"slack": channel}, clock=Clock(), rng=FixedRandom(rng), **kw)


def _row(archive: Archive) -> dict[str, Any]:
    (row,) = outbox(archive)
    return row


# --- backoff -----------------------------------------------------------------------------------------------------


def test_backoff_doubles_from_the_base_with_jitter_between_half_and_all() -> None:
    low, high = FixedRandom(0.0), FixedRandom(0.999999)
    assert [backoff(n, 10.0, low) for n in (0, 1, 2, 3)] == [5.0, 5.0, 10.0, 20.0]
    assert backoff(3, 10.0, high) == pytest.approx(40.0, abs=1e-3)
    assert backoff(30, 10.0, low) == BACKOFF_CAP / 2  # capped at an hour
    assert backoff(30, 10.0, high) == pytest.approx(BACKOFF_CAP, abs=1e-2)


def test_backoff_waits_at_least_the_providers_retry_after() -> None:
    assert backoff(1, 10.0, FixedRandom(0.0), retry_after=60.0) == 60.0
    assert backoff(1, 10.0, FixedRandom(0.0), retry_after=1.0) == 5.0
    assert backoff(1, 10.0, FixedRandom(0.0), retry_after=None) == 5.0


def test_stats_report_at_most_twenty_errors() -> None:
    stats = DispatchStats(sent=1, retried=2, failed=3, rows_sent=4, errors=[f"e{n}" for n in range(25)])
    assert stats.as_dict() == {
        "sent": 1,
        "retried": 2,
        "failed": 3,
        "rows_sent": 4,
        "errors": [f"e{n}" for n in range(20)],
    }


# --- what a delivery does to the row ---------------------------------------------------------------------------------


def test_a_delivered_alert_records_the_provider_id_and_time(setup: tuple[Archive, Config]) -> None:
    archive, config = setup
    channel = FakeChannel()
    stats = _dispatcher(archive, config, channel).run_once()
    assert (stats.sent, stats.rows_sent, stats.retried, stats.failed) == (1, 1, 0, 0)
    row = _row(archive)
    assert (row["status"], row["provider_id"], row["attempts"], row["last_error"]) == ("sent", "p1", 1, None)
    assert row["sent_at"] == START and row["claimed_by"] is None and row["claimed_at"] is None


def test_a_transient_failure_is_tried_again_after_the_backoff(setup: tuple[Archive, Config]) -> None:
    archive, config = setup
    stats = _dispatcher(archive, config, FakeChannel(DeliveryError("slack is down"))).run_once()
    assert (stats.sent, stats.retried, stats.failed) == (0, 1, 0)
    assert stats.errors == ["chicago-1373 → slack: slack is down"]
    row = _row(archive)
    assert (row["status"], row["attempts"], row["last_error"]) == ("pending", 1, "slack is down")
    assert row["next_attempt_at"] == START + timedelta(seconds=0.5)  # base 1 s, the lowest jitter
    assert row["claimed_by"] is None


def test_a_retry_after_longer_than_the_backoff_is_honoured(setup: tuple[Archive, Config]) -> None:
    archive, config = setup
    _dispatcher(archive, config, FakeChannel(DeliveryError("slow down", retry_after=90.0))).run_once()
    assert _row(archive)["next_attempt_at"] == START + timedelta(seconds=90)


def test_a_permanent_failure_fails_at_once(setup: tuple[Archive, Config]) -> None:
    archive, config = setup
    stats = _dispatcher(archive, config, FakeChannel(DeliveryError("channel_not_found", permanent=True))).run_once()
    assert (stats.sent, stats.retried, stats.failed) == (0, 0, 1)
    row = _row(archive)
    assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 1, "channel_not_found")


def test_an_unexpected_channel_error_is_retried_and_named(setup: tuple[Archive, Config]) -> None:
    archive, config = setup
    stats = _dispatcher(archive, config, FakeChannel(RuntimeError("bug in channel"))).run_once()
    assert stats.retried == 1
    assert _row(archive)["last_error"] == "RuntimeError: bug in channel"
    assert _row(archive)["status"] == "pending"


def test_the_last_allowed_attempt_fails_the_row(setup: tuple[Archive, Config]) -> None:
    archive, config = setup
    errors = [DeliveryError(f"down {n}") for n in range(4)]
    dispatcher = _dispatcher(archive, config, FakeChannel(*errors))
    assert isinstance(dispatcher.clock, Clock)
    for attempt in range(1, 5):
        dispatcher.clock.now += timedelta(hours=2)
        stats = dispatcher.run_once()
        row = _row(archive)
        assert row["attempts"] == attempt
        assert row["status"] == ("failed" if attempt == 4 else "pending")  # max_attempts = 4
        assert (stats.failed, stats.retried) == ((1, 0) if attempt == 4 else (0, 1))


def test_a_long_error_is_kept_cut_to_2000_characters(setup: tuple[Archive, Config]) -> None:
    archive, config = setup
    _dispatcher(archive, config, FakeChannel(DeliveryError("x" * 3000, permanent=True))).run_once()
    assert _row(archive)["last_error"] == "x" * 2000


def test_an_alert_that_cannot_be_rendered_fails_without_blocking(setup: tuple[Archive, Config]) -> None:
    archive, config = setup
    channel = FakeChannel(render_error=ValueError("template broke"))
    stats = _dispatcher(archive, config, channel).run_once()
    assert stats.failed == 1 and channel.sent == []
    row = _row(archive)
    assert (row["status"], row["last_error"]) == ("failed", "cannot render the alert: ValueError: template broke")


def test_a_target_removed_from_the_settings_fails_the_row(setup: tuple[Archive, Config]) -> None:
    archive, config = setup
    dispatcher = _dispatcher(archive, config, FakeChannel())
    del dispatcher.targets["slack"]
    assert dispatcher.run_once().failed == 1
    assert _row(archive)["last_error"] == "target 'slack' is no longer configured for slack"


def test_a_channel_no_longer_built_fails_the_row(setup: tuple[Archive, Config]) -> None:
    archive, config = setup
    dispatcher = Dispatcher(archive, config.alerts, channels={}, clock=Clock())
    assert dispatcher.run_once().failed == 1
    assert _row(archive)["last_error"] == "channel 'slack' is no longer configured for slack"


def test_a_target_now_of_another_kind_fails_the_row(setup: tuple[Archive, Config]) -> None:
    archive, config = setup
    channel = FakeChannel()
    dispatcher = _dispatcher(archive, config, channel)
    dispatcher.targets["slack"] = dispatcher.targets["email"]  # the name now points at an email target
    assert dispatcher.run_once().failed == 1
    assert channel.sent == []
    assert _row(archive)["last_error"] == "channel 'slack' is no longer configured for slack"


# --- the loop ------------------------------------------------------------------------------------------------------


def test_run_once_sends_at_most_limit_and_nothing_once_stopped(sqlite_archive: Archive, tmp_path: Path) -> None:
    url = sqlite_archive.engine.url.render_as_string(hide_password=False)
    config = alert_settings(tmp_path, url)
    run_ingest(sqlite_archive, config, [letter(1), letter(2), letter(3)])
    channel = FakeChannel()
    dispatcher = _dispatcher(sqlite_archive, config, channel)
    stopped = threading.Event()
    stopped.set()
    assert dispatcher.run_once(stop=stopped).sent == 0
    assert dispatcher.run_once(limit=2).sent == 2
    assert dispatcher.run_once(limit=0).sent == 0
    assert dispatcher.run_once().sent == 1


def test_run_keeps_going_after_a_failed_round_and_logs_what_it_sent(
    setup: tuple[Archive, Config], caplog: pytest.LogCaptureFixture
) -> None:
    archive, config = setup
    stop = threading.Event()

    class StopAfterSending(FakeChannel):
        def send(self, payload: Any, target: Any) -> Delivery:
            delivery = super().send(payload, target)
            stop.set()
            return delivery

    dispatcher = _dispatcher(archive, config, StopAfterSending())
    claim = dispatcher._claim
    rounds: list[str] = []

    def flaky_claim() -> Any:
        if not rounds:
            rounds.append("broken")
            raise RuntimeError("database went away")
        return claim()

    dispatcher._claim = flaky_claim  # type: ignore[method-assign]
    with caplog.at_level(logging.INFO, logger="lawwatch.alerts.dispatch"):
        thread = threading.Thread(target=dispatcher.run, args=(stop,), kwargs={"interval": 0.01})
        thread.start()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert _row(archive)["status"] == "sent"
    messages = [r.getMessage() for r in caplog.records]
    assert "dispatch round failed" in messages
    assert any(m.startswith("dispatch: {'sent': 1, 'retried': 0, 'failed': 0, 'rows_sent': 1") for m in messages)


def test_a_quiet_round_logs_nothing(sqlite_archive: Archive, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = sqlite_archive.engine.url.render_as_string(hide_password=False)
    config = alert_settings(tmp_path, url)
    stop = threading.Event()
    dispatcher = _dispatcher(sqlite_archive, config, FakeChannel())
    with caplog.at_level(logging.INFO, logger="lawwatch.alerts.dispatch"):
        timer = threading.Timer(0.2, stop.set)
        timer.start()
        dispatcher.run(stop, interval=0.01)
    assert caplog.records == []


# --- retry, idle, lock ---------------------------------------------------------------------------------------------


def test_retry_puts_failed_rows_back_due_now_with_attempts_reset(setup: tuple[Archive, Config]) -> None:
    archive, config = setup
    _dispatcher(archive, config, FakeChannel(DeliveryError("no", permanent=True))).run_once()
    row_id = _row(archive)["id"]
    assert retry(archive) == 0  # neither ids nor failed: nothing
    assert retry(archive, [row_id + 1000]) == 0
    assert retry(archive, failed=True) == 1
    row = _row(archive)
    assert (row["status"], row["attempts"], row["last_error"]) == ("pending", 0, None)
    assert row["next_attempt_at"] <= datetime.now(UTC)
    assert retry(archive, [row_id]) == 1  # a pending row may be retried by id
    channel = FakeChannel()
    _dispatcher(archive, config, channel).run_once()
    assert retry(archive, [row_id]) == 0  # a sent row is not sent again
    assert retry(archive, failed=True) == 0


def test_wait_until_idle_is_true_only_when_nothing_is_due(setup: tuple[Archive, Config]) -> None:
    archive, config = setup
    assert wait_until_idle(archive, 0.2) is False  # a pending row is due
    Dispatcher(archive, config.alerts, channels={"slack": FakeChannel()}).run_once()
    assert wait_until_idle(archive, 5.0) is True


def test_the_dispatch_lock_sits_beside_a_file_archive(tmp_path: Path) -> None:
    archive = open_archive(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        assert lock_path(archive) == tmp_path / "a.db.dispatch.lock"
    finally:
        archive.dispose()
    memory = open_archive("sqlite://")
    try:
        assert lock_path(memory) is None
    finally:
        memory.dispose()


def test_an_in_memory_archive_dispatches_without_a_lock_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    memory = open_archive("sqlite://")
    try:
        config = alert_settings(tmp_path, "sqlite://")
        stats = Dispatcher(memory, config.alerts, channels={"slack": FakeChannel()}).run_once()
        assert stats.sent == 0
    finally:
        memory.dispose()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".lock")]


def test_the_longest_waiting_alert_goes_first(sqlite_archive: Archive, tmp_path: Path) -> None:
    import sqlalchemy as sa

    url = sqlite_archive.engine.url.render_as_string(hide_password=False)
    config = alert_settings(tmp_path, url)
    run_ingest(sqlite_archive, config, [letter(1), letter(2), letter(3)])
    first, second, third = (row["id"] for row in outbox(sqlite_archive))
    with sqlite_archive.engine.begin() as conn:
        for row_id, minutes in ((first, 5), (second, 30), (third, 30)):
            conn.execute(
                sa.text("UPDATE alert_outbox SET next_attempt_at = :at WHERE id = :id"),
                {"at": START - timedelta(minutes=minutes), "id": row_id},
            )
    _dispatcher(sqlite_archive, config, FakeChannel()).run_once()
    sent = {row["id"]: row["provider_id"] for row in outbox(sqlite_archive)}
    assert sent == {second: "p1", third: "p2", first: "p3"}  # the oldest due first; ties by id


def test_a_digest_is_one_delivery_of_every_due_row_of_its_rule_and_target(
    sqlite_archive: Archive, tmp_path: Path
) -> None:
    rules = HOURLY_DIGEST
    url = sqlite_archive.engine.url.render_as_string(hide_password=False)
    config = alert_settings(tmp_path, url, rules=rules, targets=("slack", "email"))
    run_ingest(sqlite_archive, config, [letter(1), letter(2)])
    channel = FakeChannel()
    dispatcher = Dispatcher(
        sqlite_archive,
        config.alerts,
        channels={"slack": channel, "email": channel},
        clock=lambda: START + timedelta(hours=2),
        rng=FixedRandom(0.0),
    )
    stats = dispatcher.run_once()
    assert (stats.sent, stats.rows_sent) == (2, 4)  # one digest per target, two documents each
    assert len(channel.sent) == 2
    assert {row["status"] for row in outbox(sqlite_archive)} == {"sent"}
    assert {row["provider_id"] for row in outbox(sqlite_archive)} == {"p1", "p2"}


class RecordingStop(threading.Event):
    """A stop event that records how long the loop waits between rounds, and stops it after the first wait."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        self.set()
        return True


def test_the_loop_waits_the_given_interval_or_the_configured_one(setup: tuple[Archive, Config]) -> None:
    archive, config = setup
    dispatcher = _dispatcher(archive, config, FakeChannel())
    stop = RecordingStop()
    dispatcher.run(stop, interval=0.25)
    assert stop.waits == [0.25]
    stop = RecordingStop()
    dispatcher.run(stop)
    assert stop.waits == [config.alerts.dispatch_interval]


def test_stopping_ends_a_round_after_the_alert_being_sent(sqlite_archive: Archive, tmp_path: Path) -> None:
    url = sqlite_archive.engine.url.render_as_string(hide_password=False)
    config = alert_settings(tmp_path, url)
    run_ingest(sqlite_archive, config, [letter(1), letter(2), letter(3)])
    stop = threading.Event()

    class StopAfterSending(FakeChannel):
        def send(self, payload: Any, target: Any) -> Delivery:
            delivery = super().send(payload, target)
            stop.set()
            return delivery

    _dispatcher(sqlite_archive, config, StopAfterSending()).run(stop, interval=0.01)
    assert sorted(row["status"] for row in outbox(sqlite_archive)) == ["pending", "pending", "sent"]


def test_a_round_that_only_failed_is_logged(setup: tuple[Archive, Config], caplog: pytest.LogCaptureFixture) -> None:
    archive, config = setup
    stop = RecordingStop()
    dispatcher = _dispatcher(archive, config, FakeChannel(DeliveryError("no", permanent=True)))
    with caplog.at_level(logging.INFO, logger="lawwatch.alerts.dispatch"):
        dispatcher.run(stop, interval=0.01)
    assert [r.getMessage() for r in caplog.records] == [
        "dispatch: {'sent': 0, 'retried': 0, 'failed': 1, 'rows_sent': 0, 'errors': ['chicago-1373 → slack: no']}"
    ]


def test_retry_makes_a_row_due_now_even_if_its_next_try_was_later(setup: tuple[Archive, Config]) -> None:
    import sqlalchemy as sa

    archive, config = setup
    _dispatcher(archive, config, FakeChannel(DeliveryError("no", permanent=True))).run_once()
    later = datetime.now(UTC) + timedelta(days=3)
    with archive.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alert_outbox SET next_attempt_at = :at"), {"at": later})
    assert retry(archive, failed=True) == 1
    assert _row(archive)["next_attempt_at"] <= datetime.now(UTC)


def test_a_row_left_sending_is_not_idle_and_one_not_yet_due_is(setup: tuple[Archive, Config]) -> None:
    import sqlalchemy as sa

    archive, _config = setup
    with archive.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alert_outbox SET status = 'sending'"))
    assert wait_until_idle(archive, 0.1) is False
    with archive.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE alert_outbox SET status = 'pending', next_attempt_at = :at"),
            {"at": datetime.now(UTC) + timedelta(days=1)},
        )
    assert wait_until_idle(archive, 5.0) is True


def test_every_failure_of_a_round_is_counted(sqlite_archive: Archive, tmp_path: Path) -> None:
    url = sqlite_archive.engine.url.render_as_string(hide_password=False)
    config = alert_settings(tmp_path, url)
    run_ingest(sqlite_archive, config, [letter(1), letter(2), letter(3), letter(4)])
    errors = [DeliveryError("gone", permanent=True), DeliveryError("gone", permanent=True)]
    errors += [DeliveryError("later"), DeliveryError("later")]
    stats = _dispatcher(sqlite_archive, config, FakeChannel(*errors)).run_once()
    assert (stats.sent, stats.failed, stats.retried) == (0, 2, 2)


def test_an_alert_that_cannot_be_rendered_is_logged_with_its_rows(
    setup: tuple[Archive, Config], caplog: pytest.LogCaptureFixture
) -> None:
    archive, config = setup
    row_id = _row(archive)["id"]
    with caplog.at_level(logging.ERROR, logger="lawwatch.alerts.dispatch"):
        _dispatcher(archive, config, FakeChannel(render_error=ValueError("template broke"))).run_once()
    (record,) = caplog.records
    assert record.getMessage() == f"cannot render outbox rows ({row_id},)"
    assert record.exc_info is not None and record.exc_info[0] is ValueError


def test_a_channel_bug_is_logged_with_the_channel_and_rows(
    setup: tuple[Archive, Config], caplog: pytest.LogCaptureFixture
) -> None:
    archive, config = setup
    row_id = _row(archive)["id"]
    with caplog.at_level(logging.ERROR, logger="lawwatch.alerts.dispatch"):
        _dispatcher(archive, config, FakeChannel(RuntimeError("bug"))).run_once()
    (record,) = caplog.records
    assert record.getMessage() == f"channel slack failed on outbox rows ({row_id},)"
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError


def test_a_row_sent_after_a_failure_keeps_no_error(setup: tuple[Archive, Config]) -> None:
    archive, config = setup
    dispatcher = _dispatcher(archive, config, FakeChannel(DeliveryError("down")))
    dispatcher.run_once()
    assert _row(archive)["last_error"] == "down"
    assert isinstance(dispatcher.clock, Clock)
    dispatcher.clock.now += timedelta(hours=1)
    dispatcher.run_once()
    row = _row(archive)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 2, None)


def test_a_failure_without_a_message_records_no_error_text(setup: tuple[Archive, Config]) -> None:
    archive, config = setup
    _dispatcher(archive, config, FakeChannel(DeliveryError("", permanent=True))).run_once()
    row = _row(archive)
    assert (row["status"], row["last_error"]) == ("failed", None)


# --- the dispatcher's defaults ---------------------------------------------------------------------------------------


def test_without_channels_the_dispatcher_builds_them_from_the_settings(setup: tuple[Archive, Config]) -> None:
    archive, config = setup  # the Slack target points at a port where nothing listens
    stats = Dispatcher(archive, config.alerts, clock=Clock(), rng=FixedRandom(0.0)).run_once()
    assert (stats.sent, stats.retried, stats.failed) == (0, 1, 0)  # the Slack channel tried and failed to connect
    row = _row(archive)
    assert row["status"] == "pending" and "no longer configured" not in row["last_error"]


def test_a_dispatcher_claims_rows_as_host_process_and_a_random_part(setup: tuple[Archive, Config]) -> None:
    archive, config = setup
    seen: list[str] = []

    class Watching(FakeChannel):
        def send(self, payload: Any, target: Any) -> Delivery:
            seen.extend(row["claimed_by"] for row in outbox(archive) if row["status"] == "sending")
            return super().send(payload, target)

    run_ingest(archive, config, [letter(2)])
    for _ in range(2):
        Dispatcher(archive, config.alerts, channels={"slack": Watching()}, clock=Clock()).run_once(limit=1)
    pattern = rf"{re.escape(socket.gethostname())}:{os.getpid()}:[0-9a-f]{{8}}"
    assert len(seen) == 2 and all(re.fullmatch(pattern, worker) for worker in seen), seen
    assert seen[0] != seen[1]  # each dispatcher has an id of its own


def test_without_a_random_source_the_backoff_still_has_its_bounds(setup: tuple[Archive, Config]) -> None:
    archive, config = setup
    Dispatcher(archive, config.alerts, channels={"slack": FakeChannel(DeliveryError("down"))}, clock=Clock()).run_once()
    wait = _row(archive)["next_attempt_at"] - START
    assert timedelta(seconds=0.5) <= wait <= timedelta(seconds=1)  # base 1 s, first failure: half to all of it


def test_every_in_memory_spelling_of_sqlite_has_no_lock_file() -> None:
    for url in ("sqlite:///:memory:", "sqlite:///file::memory:?cache=shared&uri=true", "sqlite://"):
        memory = open_archive(url)
        try:
            assert lock_path(memory) is None, url
        finally:
            memory.dispose()


# --- when a row is due ------------------------------------------------------------------------------------------------


def _set(archive: Archive, sql: str, **params: Any) -> None:
    import sqlalchemy as sa

    with archive.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def test_a_row_due_at_this_very_instant_is_sent(setup: tuple[Archive, Config]) -> None:
    archive, config = setup
    _set(archive, "UPDATE alert_outbox SET next_attempt_at = :at", at=START)
    assert _dispatcher(archive, config, FakeChannel()).run_once().sent == 1
    assert _row(archive)["status"] == "sent"


def test_sqlite_a_row_claimed_at_this_very_instant_by_a_dead_dispatcher_is_taken_back(
    setup: tuple[Archive, Config],
) -> None:
    archive, config = setup  # on SQLite the lock says no other dispatcher runs: every sending row is abandoned
    _set(archive, "UPDATE alert_outbox SET status = 'sending', claimed_by = 'dead', claimed_at = :at", at=START)
    assert _dispatcher(archive, config, FakeChannel()).run_once().sent == 1


# --- PostgreSQL: several dispatchers at once --------------------------------------------------------------------------


@pytest.fixture
def pg_setup(pg_archive: Archive, tmp_path: Path) -> Iterator[tuple[Archive, Config]]:
    url = pg_archive.engine.url.render_as_string(hide_password=False)
    config = alert_settings(tmp_path, url, extra="sending_timeout = 60.0")
    yield pg_archive, config


@pytest.mark.postgres
def test_postgres_a_row_left_sending_exactly_the_timeout_ago_is_taken_back(pg_setup: tuple[Archive, Config]) -> None:
    archive, config = pg_setup
    run_ingest(archive, config, [letter(1)])
    sql = "UPDATE alert_outbox SET status = 'sending', claimed_by = 'other', claimed_at = :at"
    _set(archive, sql, at=START - timedelta(seconds=60) + timedelta(microseconds=1))
    assert _dispatcher(archive, config, FakeChannel()).run_once().sent == 0  # still within its timeout
    _set(archive, sql, at=START - timedelta(seconds=60))
    assert _dispatcher(archive, config, FakeChannel()).run_once().sent == 1


@pytest.mark.postgres
def test_postgres_equal_due_times_go_by_id_whatever_order_the_rows_were_written(
    pg_setup: tuple[Archive, Config],
) -> None:
    archive, config = pg_setup
    run_ingest(archive, config, [letter(1), letter(2), letter(3)])
    ids = [row["id"] for row in outbox(archive)]
    for row_id in reversed(ids):  # rewritten last to first: PostgreSQL now stores them in that order
        _set(archive, "UPDATE alert_outbox SET next_attempt_at = :at WHERE id = :id", at=START, id=row_id)
    _dispatcher(archive, config, FakeChannel()).run_once()
    assert {row["id"]: row["provider_id"] for row in outbox(archive)} == dict(zip(ids, ["p1", "p2", "p3"], strict=True))


def _run_beside_a_lock(archive: Archive, locked: int, dispatcher: Dispatcher) -> DispatchStats | None:
    """Run ``dispatcher.run_once()`` while another transaction holds row ``locked`` (as a second dispatcher sending it
    would); the lock is released after at most 10 s, so a dispatcher that waits for it cannot hang the test."""
    import sqlalchemy as sa

    result: list[DispatchStats] = []
    with archive.engine.connect() as conn:
        with conn.begin():
            conn.execute(sa.text("SELECT id FROM alert_outbox WHERE id = :id FOR UPDATE"), {"id": locked})
            thread = threading.Thread(target=lambda: result.append(dispatcher.run_once()))
            thread.start()
            thread.join(timeout=10)
            waited = thread.is_alive()
        thread.join(timeout=30)
    assert not waited, "the dispatcher waited for a row another dispatcher holds"
    return result[0] if result else None


@pytest.mark.postgres
def test_postgres_a_dispatcher_skips_the_row_another_one_holds(pg_setup: tuple[Archive, Config]) -> None:
    archive, config = pg_setup
    run_ingest(archive, config, [letter(1), letter(2)])
    first, second = (row["id"] for row in outbox(archive))
    stats = _run_beside_a_lock(archive, first, _dispatcher(archive, config, FakeChannel()))
    assert stats is not None and stats.sent == 1
    assert {row["id"]: row["status"] for row in outbox(archive)} == {first: "pending", second: "sent"}


@pytest.mark.postgres
def test_postgres_a_digest_leaves_out_the_row_another_dispatcher_holds(pg_archive: Archive, tmp_path: Path) -> None:
    rules = HOURLY_DIGEST
    url = pg_archive.engine.url.render_as_string(hide_password=False)
    config = alert_settings(tmp_path, url, rules=rules)
    run_ingest(pg_archive, config, [letter(1), letter(2), letter(3)])
    first, second, third = (row["id"] for row in outbox(pg_archive))
    channel = FakeChannel()
    dispatcher = Dispatcher(
        pg_archive, config.alerts, channels={"slack": channel}, clock=lambda: START + timedelta(hours=2)
    )
    stats = _run_beside_a_lock(pg_archive, second, dispatcher)
    assert stats is not None and (stats.sent, stats.rows_sent) == (1, 2)
    statuses = {row["id"]: row["status"] for row in outbox(pg_archive)}
    assert statuses == {first: "sent", second: "pending", third: "sent"}


@pytest.mark.postgres
def test_postgres_a_row_taken_over_while_being_sent_is_left_to_the_new_owner(
    pg_setup: tuple[Archive, Config], caplog: pytest.LogCaptureFixture
) -> None:
    archive, config = pg_setup
    run_ingest(archive, config, [letter(1)])

    class TakenOver(FakeChannel):
        def send(self, payload: Any, target: Any) -> Delivery:
            # the send took longer than sending_timeout: another dispatcher claimed the row meanwhile
            _set(archive, "UPDATE alert_outbox SET claimed_by = 'other', claimed_at = :at", at=START)
            return super().send(payload, target)

    dispatcher = _dispatcher(archive, config, TakenOver())
    with caplog.at_level(logging.WARNING, logger="lawwatch.alerts.dispatch"):
        assert dispatcher.run_once().sent == 1
    row = _row(archive)
    assert (row["status"], row["claimed_by"], row["attempts"], row["provider_id"]) == ("sending", "other", 0, None)
    assert [r.getMessage() for r in caplog.records] == [
        f"outbox rows ({row['id']},) were taken over by another dispatcher while {dispatcher.worker} sent them"
    ]
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


@pytest.mark.postgres
def test_postgres_a_row_sent_by_its_owner_logs_no_takeover(
    pg_setup: tuple[Archive, Config], caplog: pytest.LogCaptureFixture
) -> None:
    archive, config = pg_setup
    run_ingest(archive, config, [letter(1), letter(2)])
    with caplog.at_level(logging.WARNING, logger="lawwatch.alerts.dispatch"):
        assert _dispatcher(archive, config, FakeChannel(DeliveryError("down"))).run_once().sent == 1
    assert caplog.records == []
    assert sorted((row["status"], row["attempts"]) for row in outbox(archive)) == [("pending", 1), ("sent", 1)]


def test_recording_a_delivery_leaves_the_other_rows_this_dispatcher_claimed_alone(
    sqlite_archive: Archive, tmp_path: Path
) -> None:
    url = sqlite_archive.engine.url.render_as_string(hide_password=False)
    config = alert_settings(tmp_path, url)
    run_ingest(sqlite_archive, config, [letter(1), letter(2)])
    first, second = (row["id"] for row in outbox(sqlite_archive))
    # the second row was claimed by this dispatcher in an earlier round that failed before recording it
    sql = "UPDATE alert_outbox SET status = 'sending', claimed_by = 'w1', claimed_at = :at, next_attempt_at = :due"
    _set(sqlite_archive, sql + " WHERE id = :id", at=START, due=START + timedelta(days=1), id=second)
    _set(sqlite_archive, "UPDATE alert_outbox SET next_attempt_at = :at WHERE id = :id", at=START, id=first)
    channel = FakeChannel()
    stats = _dispatcher(sqlite_archive, config, channel, worker="w1").run_once()
    assert (stats.sent, len(channel.sent)) == (2, 2)  # each row sent, none recorded as sent with another
    assert {row["id"]: row["provider_id"] for row in outbox(sqlite_archive)} == {first: "p1", second: "p2"}


@pytest.mark.postgres
def test_postgres_while_one_dispatcher_claims_a_row_another_claims_the_next(pg_setup: tuple[Archive, Config]) -> None:
    import sqlalchemy as sa

    archive, config = pg_setup
    run_ingest(archive, config, [letter(1), letter(2), letter(3)])
    first, second, third = (row["id"] for row in outbox(archive))
    one, other = FakeChannel(), FakeChannel()
    dispatcher = _dispatcher(archive, config, one, worker="one")
    rival = _dispatcher(archive, config, other, worker="other")
    rival_stats: list[DispatchStats] = []
    started: list[bool] = []

    def meanwhile(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # right after the first dispatcher's claiming SELECT, before its transaction commits
        if "FOR UPDATE" in statement and not started:
            started.append(True)
            thread = threading.Thread(target=lambda: rival_stats.append(rival.run_once(limit=1)))
            thread.start()
            thread.join(timeout=10)  # a rival that waited for the claimed row would block until this commits

    sa.event.listen(archive.engine, "after_cursor_execute", meanwhile)
    try:
        assert dispatcher.run_once(limit=1).sent == 1
    finally:
        sa.event.remove(archive.engine, "after_cursor_execute", meanwhile)
    assert rival_stats and rival_stats[0].sent == 1
    sent_by = {row["id"]: (row["status"], row["provider_id"]) for row in outbox(archive)}
    assert sent_by == {first: ("sent", "p1"), second: ("sent", "p1"), third: ("pending", None)}
    assert len(one.sent) == len(other.sent) == 1


DIGESTS = """
[[alerts.rules]]
name = "hourly"
statutes = ["1373"]
digest = "1h"
targets = [{targets}]

[[alerts.rules]]
name = "hourly-chicago"
jurisdictions = ["Chicago, IL"]
digest = "1h"
targets = [{targets}]
"""


def test_a_digest_holds_its_own_rules_due_rows_only(sqlite_archive: Archive, tmp_path: Path) -> None:
    url = sqlite_archive.engine.url.render_as_string(hide_password=False)
    config = alert_settings(tmp_path, url, rules=DIGESTS)
    run_ingest(sqlite_archive, config, [letter(1), letter(2)])
    clock = Clock()
    clock.now = START + timedelta(hours=2)
    dispatcher = Dispatcher(sqlite_archive, config.alerts, channels={"slack": FakeChannel()}, clock=clock)
    stats = dispatcher.run_once()
    assert (stats.sent, stats.rows_sent) == (2, 4)  # one digest per rule, each with its two documents
    run_ingest(sqlite_archive, config, [letter(3)])
    clock.now += timedelta(hours=2)
    stats = dispatcher.run_once()
    assert (stats.sent, stats.rows_sent) == (2, 2)  # the rows already sent are not sent again


def test_a_row_left_sending_by_a_dispatcher_that_died_is_sent_by_the_next(setup: tuple[Archive, Config]) -> None:
    archive, config = setup
    with pytest.raises(KeyboardInterrupt):  # the process is stopped in the middle of the send
        _dispatcher(archive, config, FakeChannel(KeyboardInterrupt())).run_once()
    assert _row(archive)["status"] == "sending"
    assert _dispatcher(archive, config, FakeChannel()).run_once().sent == 1
    assert _row(archive)["status"] == "sent"
