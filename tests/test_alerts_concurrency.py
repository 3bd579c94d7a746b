"""Dispatchers side by side: two on PostgreSQL share 500 alerts with no duplicate (``FOR UPDATE SKIP LOCKED``);
on SQLite a second one refuses while the first runs.

Real ``lawwatch alerts dispatch`` subprocesses. Each PostgreSQL dispatcher posts to a Slack server of its own (same
archive, rule, target and channel; only ``alerts.slack.base_url`` differs), so what each one sent is known without
the outbox having to remember who sent a row.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from lawwatch.pipeline.db import open_archive
from tests.helpers.alerts import (
    DispatcherProcess,
    alert_settings,
    lawwatch_cli,
    letter,
    letter_number,
    outbox,
    run_ingest,
)
from tests.helpers.slack_server import Fault, SlackServer

ALERTS = 500


@pytest.mark.postgres
@pytest.mark.timeout(180)
def test_two_dispatchers_on_postgres_deliver_500_alerts_with_no_duplicate(postgres_url: str, tmp_path: Path) -> None:
    archive = open_archive(postgres_url)
    try:
        with SlackServer() as slack_a, SlackServer() as slack_b:
            config_a = alert_settings(tmp_path, postgres_url, slack_url=slack_a.base_url, extra="pace_seconds = 0")
            config_b = alert_settings(tmp_path, postgres_url, slack_url=slack_b.base_url, extra="pace_seconds = 0")
            for slack in (slack_a, slack_b):  # a few ms per answer, like a real API: the two overlap
                slack.fail_next(Fault(delay=0.005), times=ALERTS)
            with (
                DispatcherProcess(config_a, tmp_path / "a.log") as a,
                DispatcherProcess(config_b, tmp_path / "b.log") as b,
            ):
                a.wait_ready()
                b.wait_ready()
                run_ingest(archive, config_a, [letter(n) for n in range(1, ALERTS + 1)])  # both see them at once
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    statuses = Counter(r["status"] for r in outbox(archive))
                    if statuses["sent"] == ALERTS:
                        break
                    time.sleep(0.2)
                codes = (a.terminate(), b.terminate())
            rows = outbox(archive)
            sent_by = {
                "a": Counter(map(letter_number, slack_a.messages)),
                "b": Counter(map(letter_number, slack_b.messages)),
            }
    finally:
        archive.dispose()

    assert codes == (0, 0), (a.output(), b.output())
    assert Counter(r["status"] for r in rows) == {"sent": ALERTS}
    together = sent_by["a"] + sent_by["b"]
    assert sorted(together) == list(range(1, ALERTS + 1)), "every alert delivered"
    assert [n for n, count in together.items() if count > 1] == [], "none twice"
    print(f"\ntwo dispatchers: a sent {sum(sent_by['a'].values())}, b sent {sum(sent_by['b'].values())}")
    assert sent_by["a"] and sent_by["b"], "both dispatchers took a share"


@pytest.mark.timeout(120)
def test_a_second_dispatcher_on_sqlite_refuses_while_the_first_runs(tmp_path: Path) -> None:
    config = alert_settings(tmp_path, f"sqlite:///{tmp_path / 'archive.db'}")  # nothing due: the first one idles
    with DispatcherProcess(config, tmp_path / "first.log") as first:
        first.wait_ready()
        time.sleep(0.3)  # a few rounds
        once = lawwatch_cli(config, "alerts", "dispatch", "--once")
        looping = lawwatch_cli(config, "alerts", "dispatch", "--interval", "0.05", timeout=30)
        assert first.process is not None and first.process.poll() is None, first.output()
        code = first.terminate()
    for second in (once, looping):
        assert second.returncode == 1, (second.stdout, second.stderr)
        lines = second.stderr.strip().splitlines()
        assert "another dispatcher is running" in lines[-1] and "Traceback" not in second.stderr
    assert code == 0
    after = lawwatch_cli(config, "alerts", "dispatch", "--once")
    assert after.returncode == 0 and "sent 0" in after.stdout
