"""Service benchmark: publish → Slack latency of ``lawwatch run`` with a 10 s schedule, and the scheduler's RSS.

    .venv/bin/python -m bench.service_bench                           # 10 publishes, then a 5-minute RSS run
    .venv/bin/python -m bench.service_bench --publishes 10 --minutes 5 --schedule 10s

1. **Latency.** The offline mirror and the local Slack-compatible server of the tests; ``lawwatch run`` (a real
   subprocess) crawls ``doj_api`` every ``--schedule`` with a rule that alerts on its new releases. After the first
   crawl, ``--publishes`` times: the mirror publishes one release at a random moment of the schedule's cycle, and
   the time until the Slack server receives its alert is measured. Printed: median and max, beside the **floor**
   measured in the same run — a publish followed at once by ``lawwatch crawl doj_api`` and ``lawwatch alerts
   dispatch --once`` by hand (what the latency would be with no schedule to wait for) — and the expectation
   ``schedule / 2 + floor`` for a publish at a uniformly random moment.
2. **Memory.** The same service with ``doj_api``, ``doj_rss`` and ``doj_news`` every ``--schedule`` for ``--minutes``;
   the scheduler process's RSS (``/proc/PID/status`` VmRSS, its crawl subprocesses not included) is sampled every
   5 s. Printed: RSS after the first minute and at the end, the slope of a least-squares line over the samples after
   the first minute, and RSS extrapolated to one hour of 10 s schedules from that slope; also the largest crawl
   subprocess seen (RSS of a crawl and its store worker).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lawwatch.config_schema import parse_interval  # noqa: E402
from lawwatch.crawler.mirror.server import MirrorServer  # noqa: E402
from tests.helpers.slack_server import TOKEN, SlackServer  # noqa: E402

JUSTICE = "www.justice.gov"
ALL = ("doj_api", "doj_news", "doj_rss", "courtlistener", "pacer_rss", "news_rss")


def settings(mirror: MirrorServer, slack: SlackServer, db_url: str, schedule: str, sources: tuple[str, ...]) -> str:
    text = mirror.sources_toml(db_url).replace('schedule = "15m"', f'schedule = "{schedule}"')
    for sid in ALL:
        if sid not in sources:
            text = text.replace(f'id = "{sid}"\n', f'id = "{sid}"\nenabled = false\n')
    return (
        text
        + f"""
[alerts.slack]
token = {{ env = "SLACK_BOT_TOKEN" }}
base_url = "{slack.base_url}"

[[alerts.targets]]
name = "news"
type = "slack"
channel = "#sanctuary"

[[alerts.rules]]
name = "fresh-doj"
max_age = "1d"
targets = ["news"]
"""
    )


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LAWWATCH_DATABASE_URL", "LAWWATCH_CONFIG")}
    env["SLACK_BOT_TOKEN"] = TOKEN
    return env


@contextmanager
def service(config: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "lawwatch", "--config", str(config), "run"]
    with open(log, "wb") as err:
        process = subprocess.Popen(command, cwd=ROOT, env=environment(), stdout=subprocess.DEVNULL, stderr=err)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        if code != 0:
            print(f"lawwatch run exited {code}; log: {log}", file=sys.stderr)


def wait_for(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def arrived(slack: SlackServer, before: int, timeout: float) -> bool:
    """Whether Slack got more than ``before`` messages within ``timeout`` seconds."""
    return wait_for(lambda: len(slack.messages) > before, timeout)


def crawls_done(log: Path) -> int:
    return len(re.findall(r" INFO crawl ", log.read_text("utf-8", errors="replace")))


def floor(config: Path, mirror: MirrorServer, slack: SlackServer, repeats: int = 3) -> float:
    """Median seconds from a publish to Slack when the crawl and a dispatch are started at once, by hand."""
    samples = []
    for _ in range(repeats):
        before = len(slack.messages)
        began = time.monotonic()
        mirror.publish(JUSTICE, 1)
        base = [sys.executable, "-m", "lawwatch", "--config", str(config)]
        subprocess.run([*base, "crawl", "doj_api", "--json"], cwd=ROOT, env=environment(), capture_output=True)
        subprocess.run([*base, "alerts", "dispatch", "--once"], cwd=ROOT, env=environment(), capture_output=True)
        if not arrived(slack, before, 30):
            raise SystemExit("floor: the alert never arrived")
        samples.append(time.monotonic() - began)
    return statistics.median(samples)


def latency(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    interval = float(parse_interval(args.schedule) or 10)
    with MirrorServer() as mirror, SlackServer() as slack:
        config = tmp / "latency.toml"
        config.write_text(settings(mirror, slack, f"sqlite:///{tmp / 'latency.db'}", args.schedule, ("doj_api",)))
        log = tmp / "latency.log"
        samples = []
        with service(config, log):
            if not wait_for(lambda: crawls_done(log) >= 1, 120):
                raise SystemExit(f"no first crawl; see {log}")
            rng = random.Random(1373)
            for n in range(args.publishes):
                time.sleep(rng.uniform(0, interval))  # a random moment of the schedule's cycle
                before = len(slack.messages)
                began = time.monotonic()
                mirror.publish(JUSTICE, 1)
                if not arrived(slack, before, interval * 3 + 60):
                    raise SystemExit(f"publish {n + 1}: no alert; see {log}")
                samples.append(time.monotonic() - began)
                print(f"  publish {n + 1:2d}: {samples[-1]:5.2f} s", flush=True)
        base = floor(config, mirror, slack, args.floor_repeats)
    median, worst = statistics.median(samples), max(samples)
    print(f"\npublish → Slack with a {args.schedule} schedule, {len(samples)} publishes (lawwatch run)")
    print(f"  median {median:6.2f} s   max {worst:6.2f} s   min {min(samples):6.2f} s")
    print(f"  floor (crawl + dispatch --once by hand, no schedule): {base:6.2f} s")
    expected, bound = interval / 2 + base, interval + base
    print(f"  expectation schedule/2 + floor: {expected:6.2f} s   bound schedule + floor: {bound:6.2f} s")
    print(f"  median / expectation = {median / expected:.2f}   max / bound = {worst / bound:.2f}")
    return {
        "schedule_s": interval,
        "publishes": len(samples),
        "median_s": round(median, 3),
        "max_s": round(worst, 3),
        "min_s": round(min(samples), 3),
        "floor_s": round(base, 3),
        "expected_s": round(expected, 3),
        "bound_s": round(bound, 3),
        "median_expected_ratio": round(median / expected, 3),
        "max_bound_ratio": round(worst / bound, 3),
    }


def rss_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"VmRSS:\s+(\d+) kB", text)
    return int(match.group(1)) if match else 0


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def memory(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    with MirrorServer() as mirror, SlackServer() as slack:
        config = tmp / "memory.toml"
        sources = ("doj_api", "doj_rss", "doj_news")
        config.write_text(settings(mirror, slack, f"sqlite:///{tmp / 'memory.db'}", args.schedule, sources))
        log = tmp / "memory.log"
        samples: list[tuple[float, int]] = []
        crawl_peak = 0
        with service(config, log) as process:
            began = time.monotonic()
            end = began + args.minutes * 60
            next_publish = began + 30
            while time.monotonic() < end:
                samples.append((time.monotonic() - began, rss_kb(process.pid)))
                crawl_peak = max([crawl_peak, *(rss_kb(p) for p in descendants(process.pid))])
                if time.monotonic() >= next_publish:  # something new now and then, so alerts flow too
                    mirror.publish(JUSTICE, 1)
                    next_publish += 30
                time.sleep(5)
            crawls = crawls_done(log)
    later = [(t, kb) for t, kb in samples if t >= 60]
    if len(later) < 3:
        raise SystemExit("run at least 2 minutes for a slope")
    mean_t = statistics.fmean(t for t, _ in later)
    mean_kb = statistics.fmean(kb for _, kb in later)
    slope = sum((t - mean_t) * (kb - mean_kb) for t, kb in later) / sum((t - mean_t) ** 2 for t, _ in later)
    at_hour = later[-1][1] + slope * (3600 - later[-1][0])
    print(f"\nscheduler RSS, {len(sources)} sources every {args.schedule} for {args.minutes:g} min ({crawls} crawls)")
    print(f"  after 1 min {later[0][1] / 1024:6.1f} MB   at the end {later[-1][1] / 1024:6.1f} MB")
    print(f"  slope {slope * 60:+.1f} kB/min → {at_hour / 1024:.1f} MB after 1 hour (extrapolated)")
    print(f"  largest crawl subprocess seen: {crawl_peak / 1024:.1f} MB (not part of the scheduler's RSS)")
    return {
        "minutes": args.minutes,
        "crawls": crawls,
        "rss_after_1_min_mb": round(later[0][1] / 1024, 1),
        "rss_end_mb": round(later[-1][1] / 1024, 1),
        "slope_kb_per_min": round(slope * 60, 1),
        "rss_after_1_hour_mb": round(at_hour / 1024, 1),
        "crawl_peak_mb": round(crawl_peak / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schedule", default="10s")
    parser.add_argument("--publishes", type=int, default=10)
    parser.add_argument("--minutes", type=float, default=5.0, help="length of the memory run (0: skip it)")
    parser.add_argument("--floor-repeats", type=int, default=3, help="by-hand publish → Slack runs (median taken)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout (the rest to stderr)")
    args = parser.parse_args()
    report: dict[str, Any] = {"latency": None, "memory": None}
    with (
        tempfile.TemporaryDirectory(prefix="lawwatch-service-bench-") as tmp,
        contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext(),
    ):
        if args.publishes:
            report["latency"] = latency(args, Path(tmp))
        if args.minutes:
            report["memory"] = memory(args, Path(tmp))
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
