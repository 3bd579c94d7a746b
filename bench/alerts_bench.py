"""Alerts benchmark: ingest commit → Slack request latency, and dispatcher throughput against raw Slack calls.

1. **Latency**: a ``Dispatcher`` runs in a thread (``run(stop, interval=…)``, its own engine, pacing off) while
   documents that match a rule are ingested one at a time at a steady ``--rate``; for each one, the time from its
   ingest commit (the ingest service's ``on_batch``) to the local Slack server receiving its ``chat.postMessage``.
   p50/p95/max per dispatch interval: a small one, 1 s and the configured default (``alerts.dispatch_interval``).
2. **Throughput**: ``--throughput-alerts`` pending alerts drained by one ``run_once`` (alerts/s), on SQLite and
   PostgreSQL, against the floor measured in the same run: as many ``chat.postMessage`` calls made directly with
   slack-sdk's ``WebClient`` (the same message) to the same local server. The ratio is what claiming, loading,
   rendering and recording cost on top of the HTTP call.

The Slack server is the tests' local one (``tests/helpers/slack_server.py``), in this process.

    .venv/bin/python -m bench.alerts_bench
    .venv/bin/python -m bench.alerts_bench --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python -m bench.alerts_bench --no-pg --intervals 0.05 --latency-alerts 50 --throughput-alerts 200
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from slack_sdk import WebClient

from lawwatch.alerts.channels import ChannelOptions, build_channels
from lawwatch.alerts.dispatch import Dispatcher
from lawwatch.alerts.rules import resolve_rules
from lawwatch.config import Config, default_config
from lawwatch.pipeline.db import Archive, open_archive
from lawwatch.pipeline.ingest import IngestSettings, ingest
from tests.helpers.alerts import alert_settings, letter, letter_number
from tests.helpers.slack_server import TOKEN, SlackServer

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@dataclass
class Backend:
    name: str
    url: str  # for the settings file and the ingest service
    open: Callable[[], Archive]  # a new engine on the same database


@contextmanager
def sqlite_backend(folder: Path, name: str) -> Iterator[Backend]:
    url = f"sqlite:///{folder / f'{name}.db'}"
    yield Backend("SQLite", url, lambda: open_archive(url))


@contextmanager
def postgres_backend(url: str) -> Iterator[Backend]:
    """A schema of its own on the server, dropped afterwards."""
    schema = f"lawwatch_alerts_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        scoped = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
        yield Backend("PostgreSQL", scoped, lambda: open_archive(url, schema=schema))
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def postgres_answers(url: str) -> str | None:
    """None when the server answers; else why not."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return None
    except sa.exc.OperationalError as exc:
        return str(exc.orig).splitlines()[0]
    finally:
        engine.dispose()


def settings(folder: Path, backend: Backend, slack: SlackServer) -> Config:
    return alert_settings(folder, backend.url, slack_url=slack.base_url, extra="pace_seconds = 0")


def dispatcher(archive: Archive, config: Config) -> Dispatcher:
    channels = build_channels(config.alerts, ChannelOptions(pace_seconds=0, timeout=10))
    return Dispatcher(archive, config.alerts, channels=channels)


# ---------------------------------------------------------------------------------------------------------- latency
@dataclass
class Latency:
    backend: str
    interval: float
    seconds: list[float]  # per alert: ingest commit → Slack received
    failed_after_commit: int  # ingest() calls that raised after their batch had committed


def latency(folder: Path, backend: Backend, interval: float, alerts: int, rate: float) -> Latency:
    """Seconds from each document's ingest commit to Slack receiving its alert, the dispatcher running."""
    with SlackServer() as slack:
        config = settings(folder, backend, slack)
        ingest_archive, dispatch_archive = backend.open(), backend.open()
        ingest_settings = IngestSettings(backend.url, rules=resolve_rules(config))
        committed: dict[int, float] = {}
        failed_after_commit = 0
        stop = threading.Event()
        worker = threading.Thread(
            target=dispatcher(dispatch_archive, config).run, args=(stop,), kwargs={"interval": interval}
        )
        worker.start()
        try:
            start = time.monotonic()
            for n in range(1, alerts + 1):
                time.sleep(max(0.0, start + (n - 1) / rate - time.monotonic()))

                def mark(_result: Any, n: int = n) -> None:
                    committed.setdefault(n, time.monotonic())

                try:
                    ingest(ingest_archive, [letter(n)], ingest_settings, on_batch=mark)
                except sa.exc.OperationalError:
                    # SQLite: ingest()'s "PRAGMA optimize" after the commit can meet the dispatcher's writes and
                    # raise "database is locked" at once (busy_timeout does not apply); the batch is committed.
                    if n not in committed:
                        raise
                    failed_after_commit += 1
            slack.wait_for(len(committed), timeout=interval + 60)
        finally:
            stop.set()
            worker.join(timeout=60)
            ingest_archive.dispose()
            dispatch_archive.dispose()
        received: dict[int, float] = {}
        for request in list(slack.requests):
            number = letter_number(request.payload) if isinstance(request.payload, dict) else None
            if number is not None:
                received.setdefault(number, request.at)
    missing = sorted(set(committed) - set(received))
    if missing:
        raise SystemExit(f"{len(missing)} alerts never reached the Slack server (e.g. {missing[:5]})")
    seconds = [received[n] - committed[n] for n in sorted(committed)]
    return Latency(backend.name, interval, seconds, failed_after_commit)


# ------------------------------------------------------------------------------------------------------- throughput
@dataclass
class Throughput:
    backend: str
    alerts: int
    dispatcher: float  # alerts/s
    raw: float  # chat.postMessage calls/s


def raw_rate(slack: SlackServer, calls: int, text: str, blocks: list[dict[str, object]]) -> float:
    """``calls`` chat.postMessage calls straight from slack-sdk's WebClient (after 20 untimed ones)."""
    client = WebClient(token=TOKEN, base_url=slack.base_url, timeout=10)

    def post() -> None:
        client.chat_postMessage(channel="#sanctuary", text=text, blocks=blocks, unfurl_links=False, unfurl_media=False)

    for _ in range(20):
        post()
    began = time.perf_counter()
    for _ in range(calls):
        post()
    return calls / (time.perf_counter() - began)


def throughput(folder: Path, backend: Backend, alerts: int) -> Throughput:
    with SlackServer() as slack:
        config = settings(folder, backend, slack)
        archive = backend.open()
        try:
            ingest(
                archive,
                [letter(n) for n in range(1, alerts + 1)],
                IngestSettings(backend.url, rules=resolve_rules(config)),
            )
            with archive.engine.connect() as conn:
                pending = conn.execute(sa.text("SELECT count(*) FROM alert_outbox WHERE status = 'pending'")).scalar()
            assert pending == alerts, f"expected {alerts} pending alerts, found {pending}"
            began = time.perf_counter()
            stats = dispatcher(archive, config).run_once()
            elapsed = time.perf_counter() - began
        finally:
            archive.dispose()
        if stats.rows_sent != alerts or len(slack.messages) != alerts:
            raise SystemExit(f"{backend.name}: sent {stats.rows_sent} of {alerts} alerts ({stats.errors[:3]})")
        sample = slack.messages[0]
        raw = raw_rate(slack, alerts, str(sample["text"]), list(sample["blocks"]))
    return Throughput(backend.name, alerts, alerts / elapsed, raw)


# ------------------------------------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> None:
    default_interval = default_config().alerts.dispatch_interval
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-alerts", type=int, default=200, help="documents ingested one at a time (200)")
    parser.add_argument("--rate", type=float, default=20.0, help="documents ingested per second (20)")
    parser.add_argument(
        "--intervals",
        default=f"0.05,1,{default_interval:g}",
        help=f"dispatch intervals for the latency runs, seconds (0.05,1,{default_interval:g}: the configured default)",
    )
    parser.add_argument("--throughput-alerts", type=int, default=1000, help="alerts drained per backend (1000)")
    parser.add_argument(
        "--pg-url", default=PG_URL, help=f"PostgreSQL server; a schema of its own is dropped after ({PG_URL})"
    )
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout (the rest to stderr)")
    args = parser.parse_args(argv)
    if args.json:
        with contextlib.redirect_stdout(sys.stderr):
            report = measure(args, default_interval)
        print(json.dumps(report))
    else:
        measure(args, default_interval)


def measure(args: argparse.Namespace, default_interval: float) -> dict[str, Any]:
    """The benchmark proper: prints its tables and returns the figures (the ``--json`` object)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # each interval once, in order ("0.05,1,1" when the configured default is 1 s)
    intervals = list(dict.fromkeys(float(v) for v in args.intervals.split(",") if v.strip()))

    why_not = "--no-pg" if args.no_pg else postgres_answers(args.pg_url)
    if why_not:
        print(f"PostgreSQL skipped: {why_not}")

    with tempfile.TemporaryDirectory(prefix="lawwatch-alerts-bench-") as tmp:
        folder = Path(tmp)
        latencies: list[Latency] = []
        for interval in intervals:
            with sqlite_backend(folder, f"latency-{interval:g}") as backend:
                latencies.append(latency(folder, backend, interval, args.latency_alerts, args.rate))
        if not why_not:
            with postgres_backend(args.pg_url) as backend:
                latencies.append(latency(folder, backend, intervals[0], args.latency_alerts, args.rate))
        rates: list[Throughput] = []
        with sqlite_backend(folder, "throughput") as backend:
            rates.append(throughput(folder, backend, args.throughput_alerts))
        if not why_not:
            with postgres_backend(args.pg_url) as backend:
                rates.append(throughput(folder, backend, args.throughput_alerts))

    print(
        f"\nlatency: ingest commit → local Slack server receives chat.postMessage; {args.latency_alerts} alerts "
        f"ingested one at a time at {args.rate:g}/s, dispatcher in a thread, pacing off (goal: p95 ≤ 2 s)"
    )
    head = f"{'backend':<11} {'interval s':>10} {'p50 s':>8} {'p95 s':>8} {'max s':>8} {'p95 ≤ 2 s':>10}"
    print(head)
    print("-" * len(head))
    for run in latencies:
        p95 = percentile(run.seconds, 0.95)
        default = " (the default interval)" if run.interval == default_interval else ""
        print(
            f"{run.backend:<11} {run.interval:>10g} {statistics.median(run.seconds):>8.3f} {p95:>8.3f} "
            f"{max(run.seconds):>8.3f} {'met' if p95 <= 2.0 else 'MISSED':>10}{default}"
        )
    for run in latencies:
        if run.failed_after_commit:
            print(
                f"  {run.backend} at {run.interval:g} s: ingest() raised 'database is locked' after committing "
                f"{run.failed_after_commit} of {len(run.seconds)} times (PRAGMA optimize vs. the dispatcher)"
            )

    print(
        f"\nthroughput: {args.throughput_alerts} pending alerts drained by one run_once, pacing off, against as many "
        "chat.postMessage calls made directly with slack-sdk's WebClient to the same local server"
    )
    head = (
        f"{'backend':<11} {'alerts':>7} {'dispatcher /s':>14} {'raw WebClient /s':>17} {'ratio':>6} "
        f"{'overhead ms/alert':>18}"
    )
    print(head)
    print("-" * len(head))
    for r in rates:
        overhead = (1 / r.dispatcher - 1 / r.raw) * 1000
        print(
            f"{r.backend:<11} {r.alerts:>7} {r.dispatcher:>14.1f} {r.raw:>17.1f} {r.dispatcher / r.raw:>6.2f} "
            f"{overhead:>18.2f}"
        )
    return {
        "postgres_skipped": why_not,
        "latency": [
            {
                "backend": run.backend,
                "interval_s": run.interval,
                "default_interval": run.interval == default_interval,
                "alerts": len(run.seconds),
                "p50_s": round(statistics.median(run.seconds), 4),
                "p95_s": round(percentile(run.seconds, 0.95), 4),
                "max_s": round(max(run.seconds), 4),
                "failed_after_commit": run.failed_after_commit,
            }
            for run in latencies
        ],
        "throughput": [
            {
                "backend": r.backend,
                "alerts": r.alerts,
                "dispatcher_per_s": round(r.dispatcher, 1),
                "raw_per_s": round(r.raw, 1),
                "ratio": round(r.dispatcher / r.raw, 3),
                "overhead_ms_per_alert": round((1 / r.dispatcher - 1 / r.raw) * 1000, 2),
            }
            for r in rates
        ],
    }


if __name__ == "__main__":
    main()
