"""One benchmark report: every benchmark in bench/, one table, each figure against its same-run baseline.

    .venv/bin/python bench/run_all.py --quick                 # smaller sizes: within 5 minutes on the 2-core machine
    .venv/bin/python bench/run_all.py                         # the benches' own sizes (100,000-document archive ...)
    .venv/bin/python bench/run_all.py --full-1m               # the archive bench at 1,000,000 documents (hours)
    .venv/bin/python bench/run_all.py --quick --markdown var/bench/report.md    # the table as Markdown too
    .venv/bin/python bench/run_all.py --quick --json          # one JSON object: machine, rows, each bench's output

Each benchmark runs in a subprocess of its own, one after the other (``python -m bench.X --json`` with its own size
options), and prints one JSON object; this script turns those into rows of
``benchmark | figure | value | baseline | ratio | goal | met``, where ratio = value ÷ baseline and the baseline is
measured in the same run (bare Scrapy, the first crawl, a raw Aho–Corasick scan, a raw INSERT, a LIKE scan, raw
slack-sdk calls, ``python -c pass``, a crawl and dispatch by hand). A benchmark that fails, times out or prints
something unreadable becomes one FAILED row with the first line of its error; the others still run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "lawwatch_bench_run_all"  # the archive bench's schema on PostgreSQL (and "<schema>_floor"), dropped after
MILLION = 1_000_000
NO = "—"

# --- rows ----------------------------------------------------------------------------------------------------------


@dataclass
class Row:
    bench: str
    figure: str
    value: str
    baseline: str = NO
    ratio: str = NO
    goal: str = NO
    met: str = NO  # "met", "MISSED", "FAILED", "skipped" or NO (no goal); "*" when measured below the goal's size


COLUMNS = ("benchmark", "figure", "value", "baseline", "ratio", "goal", "met")


def cells(row: Row) -> tuple[str, ...]:
    return (row.bench, row.figure, row.value, row.baseline, row.ratio, row.goal, row.met)


def verdict(ok: bool, *, scaled: bool = False) -> str:
    """Met or MISSED, with "*" when the figure was measured at a smaller size than the goal is set for."""
    return ("met" if ok else "MISSED") + ("*" if scaled else "")


def ratio(value: float, baseline: float) -> str:
    if not baseline:
        return NO
    r = value / baseline
    if r == 0:
        return "0"
    if abs(r) >= 100:
        return f"{r:,.0f}"
    if abs(r) >= 0.1:
        return f"{r:.2f}"
    return f"{r:.2g}"


def failed_row(bench: str, error: str) -> Row:
    return Row(bench, f"FAILED: {error}", NO, met="FAILED")


def skipped_row(bench: str, why: str) -> Row:
    return Row(bench, f"skipped: {why}", NO, met="skipped")


# --- each benchmark's JSON → rows ----------------------------------------------------------------------------------


def crawl_rows(r: dict[str, Any]) -> list[Row]:
    bare, lawwatch = r["bare"]["pages_per_s"], r["lawwatch"]["pages_per_s"]
    first, second = r["first_crawl_requests"], r["second_crawl_requests"]
    pages = f"{r['release_pages']:,} releases, {r['concurrency']} in flight"
    return [
        Row(
            "crawl",
            f"pages/s, lawwatch crawl vs bare Scrapy ({pages})",
            f"{lawwatch:,.1f} pages/s",
            f"{bare:,.1f} pages/s",
            ratio(lawwatch, bare),
            "ratio ≥ 0.7",
            verdict(lawwatch / bare >= 0.7),
        ),
        *_crawl_cpu_rows(r),
        Row(
            "crawl",
            "re-crawl requests vs first crawl (unchanged mirror)",
            f"{second:,} requests",
            f"{first:,} requests",
            ratio(second, first),
            "ratio ≤ 0.02",
            verdict(second / first <= 0.02),
        ),
    ]


def _crawl_cpu_rows(r: dict[str, Any]) -> list[Row]:
    """CPU per page of the lawwatch crawl (crawl process + ingest worker) vs bare Scrapy's, with the floor beside it:
    bare Scrapy + normalizing, classifying and storing each page (a report from before those figures has none)."""
    if "cpu_per_page_ratio" not in r:
        return []
    own, bare = r["lawwatch"]["cpu_ms_per_page"], r["bare"]["cpu_ms_per_page"]
    floor = f"; bare + normalize + classify + store: ×{r['floor_ratio']:.2f}" if "floor_ratio" in r else ""
    if "work_floor_ratio" in r:
        floor += f", + reading the pages and loading the classifier: ×{r['work_floor_ratio']:.2f}"
    return [
        Row(
            "crawl",
            f"CPU ms per page, lawwatch crawl + ingest worker vs bare Scrapy{floor}",
            f"{own:.2f} ms",
            f"{bare:.2f} ms",
            ratio(own, bare),
            "ratio ≤ 1.5",
            verdict(own / bare <= 1.5),
        )
    ]


def classify_rows(r: dict[str, Any]) -> list[Row]:
    goals = {"docs_per_s": 2000.0, "startup_s": 1.0, "peak_rss_mb": 300.0, **r.get("goals", {})}
    rate, floor = r["classify_docs_per_s"], r["floor_docs_per_s"]
    return [
        Row(
            "classify",
            f"docs/s (CPU, one core, best of {r.get('passes', 1)} passes) vs raw Aho–Corasick scan "
            f"({r['documents']:,} docs)",
            f"{rate:,.0f} docs/s"
            + (f" (median {r['classify_docs_per_s_median']:,.0f})" if r.get("passes", 1) > 1 else ""),
            f"{floor:,.0f} docs/s",
            ratio(rate, floor),
            f"≥ {goals['docs_per_s']:,.0f} docs/s",
            verdict(rate >= goals["docs_per_s"]),
        ),
        Row(
            "classify",
            "start-up: new process, warm cache, one document",
            f"{r['startup_warm_s']:.2f} s",
            goal=f"≤ {goals['startup_s']:g} s",
            met=verdict(r["startup_warm_s"] <= goals["startup_s"]),
        ),
        Row(
            "classify",
            "peak RSS",
            f"{r['peak_rss_mb']:,.0f} MB",
            goal=f"≤ {goals['peak_rss_mb']:,.0f} MB",
            met=verdict(r["peak_rss_mb"] <= goals["peak_rss_mb"]),
        ),
    ]


BACKENDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
STORE_GOAL, STORE_FLOOR_GOAL = 2000.0, 0.9  # documents/s (issue 2); ÷ the raw-INSERT floor (issue 15)


def search_goal_ms(backend: str, shape: str) -> float:
    """p95 goal at 1M documents: filtered word searches on SQLite ≤ 50 ms (issue 2), any other ≤ 100 ms (issue 15)."""
    filtered = shape.startswith(("word + jurisdiction", "word + date range"))
    return 50.0 if backend == "sqlite" and filtered else 100.0


def size(n: int) -> str:
    if n >= MILLION and n % MILLION == 0:
        return f"{n // MILLION}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return f"{n:,}"


def archive_rows(r: dict[str, Any]) -> list[Row]:
    backend = BACKENDS.get(r["backend"], r["backend"])
    bench = f"archive {backend}"
    n = r["documents"]
    rows = []
    store, floor = r.get("store_docs_per_s"), r.get("floor_docs_per_s")
    if store is None or floor is None:
        rows.append(Row(bench, "store: not measured (an archive already loaded was reused)", NO))
    else:
        rows.append(
            Row(
                bench,
                f"store docs/s vs raw-INSERT floor ({size(n)} docs; floor {size(r['floor_documents'])})",
                f"{store:,.0f} docs/s",
                f"{floor:,.0f} docs/s",
                ratio(store, floor),
                f"≥ {STORE_GOAL:,.0f} docs/s and ratio ≥ {STORE_FLOOR_GOAL:g}",
                verdict(store >= STORE_GOAL and store / floor >= STORE_FLOOR_GOAL),
            )
        )
    for s in r["searches"]:
        goal = search_goal_ms(r["backend"], s["shape"])
        like = s.get("like_p95_ms", s["like_ms"])  # p95 against p95 (older archive_bench output: its p50)
        rows.append(
            Row(
                bench,
                f"search p95 at {size(n)}: {s['shape']} ({'about ' if s.get('total_is_estimate') else ''}"
                f"{s['hits']:,} hits) vs LIKE",
                f"{s['p95_ms']:,.1f} ms",
                f"{like:,.1f} ms",
                ratio(s["p95_ms"], like),
                f"≤ {goal:g} ms at 1M",
                verdict(s["p95_ms"] <= goal, scaled=n < MILLION),
            )
        )
    return rows


LATENCY_GOAL_S = 2.0  # commit → Slack p95 (issue 10)


def alerts_rows(r: dict[str, Any]) -> list[Row]:
    rows = []
    for run in r["latency"]:
        default = " (default)" if run.get("default_interval") else ""
        locked = run.get("failed_after_commit") or 0
        locked_note = f"; {locked} 'database is locked' after commit" if locked else ""
        rows.append(
            Row(
                "alerts",
                f"commit → Slack p95, {run['backend']}, dispatch every {run['interval_s']:g} s{default} "
                f"({run['alerts']} alerts{locked_note})",
                f"{run['p95_s']:.3f} s",
                goal=f"≤ {LATENCY_GOAL_S:g} s",
                met=verdict(run["p95_s"] <= LATENCY_GOAL_S),
            )
        )
    for t in r["throughput"]:
        rows.append(
            Row(
                "alerts",
                f"dispatcher alerts/s vs raw WebClient, {t['backend']} ({t['alerts']:,} alerts)",
                f"{t['dispatcher_per_s']:,.1f} /s",
                f"{t['raw_per_s']:,.1f} /s",
                ratio(t["dispatcher_per_s"], t["raw_per_s"]),
            )
        )
    if r.get("postgres_skipped"):
        rows.append(skipped_row("alerts", f"PostgreSQL: {r['postgres_skipped']}"))
    return rows


STARTUP_GOALS_S = {"lawwatch --version": 0.3, "lawwatch search": 0.8}  # issue 7; the search on a 10k archive
STARTUP_SEARCH_DOCUMENTS = 10_000


def startup_rows(r: dict[str, Any]) -> list[Row]:
    rows = []
    baseline = r["baseline_s"]
    for c in r["commands"]:
        if c["command"] == r["baseline"]:
            continue
        searching = c["command"].startswith("lawwatch search")
        goal = next((g for prefix, g in STARTUP_GOALS_S.items() if c["command"].startswith(prefix)), None)
        where = f" on {r['documents']:,} documents" if searching else ""
        scaled = searching and r["documents"] < STARTUP_SEARCH_DOCUMENTS
        rows.append(
            Row(
                "start-up",
                f"`{c['command']}`{where} vs `{r['baseline']}` (median of {r['repeats']})",
                f"{c['seconds']:.3f} s",
                f"{baseline:.3f} s",
                ratio(c["seconds"], baseline),
                NO
                if goal is None
                else f"≤ {goal:g} s" + (f" at {size(STARTUP_SEARCH_DOCUMENTS)}" if searching else ""),
                NO if goal is None else verdict(c["seconds"] <= goal, scaled=scaled),
            )
        )
    return rows


def service_rows(r: dict[str, Any]) -> list[Row]:
    rows = []
    if lat := r.get("latency"):
        every = f"`lawwatch run` every {lat['schedule_s']:g} s, {lat['publishes']} publishes"
        rows.append(
            Row(
                "service",
                f"publish → Slack median ({every}) vs schedule/2 + floor",
                f"{lat['median_s']:.2f} s",
                f"{lat['expected_s']:.2f} s",
                ratio(lat["median_s"], lat["expected_s"]),
            )
        )
        rows.append(
            Row(
                "service",
                "publish → Slack max vs schedule + floor",
                f"{lat['max_s']:.2f} s",
                f"{lat['bound_s']:.2f} s",
                ratio(lat["max_s"], lat["bound_s"]),
            )
        )
    if mem := r.get("memory"):
        rows.append(
            Row(
                "service",
                f"scheduler RSS after 1 h, extrapolated from {mem['minutes']:g} min ({mem['crawls']} crawls) "
                "vs RSS after 1 min",
                f"{mem['rss_after_1_hour_mb']:,.1f} MB",
                f"{mem['rss_after_1_min_mb']:,.1f} MB",
                ratio(mem["rss_after_1_hour_mb"], mem["rss_after_1_min_mb"]),
            )
        )
    return rows


WEB_GOAL_MS = 100.0  # p95 of every page (issue 14)


def web_rows(r: dict[str, Any], documents: int | None = None) -> list[Row]:
    """bench/web_bench.py (written beside this script): a list of pages, each with p50/p95 and the p50/p95 of the
    same question asked the way ``lawwatch search --json`` asks it (``base_p50``/``base_p95``), in milliseconds."""
    pages = r.get("items", r.get("pages", r.get("rows")))
    if not isinstance(pages, list) or not pages:
        raise ValueError("no pages in its JSON output")
    documents = documents or r.get("documents")
    at = f" at {size(documents)}" if isinstance(documents, int) else ""
    return [
        Row(
            "web",
            f"page p95{at}: {p['page']} vs the CLI's work",
            f"{p['p95']:,.1f} ms",
            f"{p['base_p95']:,.1f} ms",
            ratio(p["p95"], p["base_p95"]),
            f"≤ {WEB_GOAL_MS:g} ms",
            verdict(p["p95"] <= WEB_GOAL_MS),
        )
        for p in pages
    ]


# --- running one benchmark -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


Runner = Callable[[list[str], float], Completed]  # raises TimeoutError after the timeout (seconds)


@dataclass(frozen=True)
class Bench:
    name: str  # the "benchmark" column
    module: str  # run as ``python -m MODULE --json ARGS``
    args: tuple[str, ...]
    timeout: float  # seconds
    rows: Callable[[dict[str, Any]], list[Row]]
    precheck: Callable[[], str | None] | None = None  # a reason to skip, or None to run
    cleanup: Callable[[], None] | None = None  # always called after a run

    def command(self) -> list[str]:
        return [sys.executable, "-m", self.module, "--json", *self.args]


@dataclass
class Outcome:
    bench: Bench
    seconds: float
    rows: list[Row]
    report: dict[str, Any] | None = None
    error: str | None = None


def subprocess_runner(command: list[str], timeout: float) -> Completed:
    """Run ``command`` from the repository root in a process group of its own; on timeout (or Ctrl-C here), end that
    whole group: the benches start children of their own (crawls, ``lawwatch run``, servers)."""
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        end_group(process)
        raise TimeoutError(f"timed out after {timeout:,.0f} s") from None
    except BaseException:
        end_group(process)
        raise
    return Completed(process.returncode, stdout, stderr)


def end_group(process: subprocess.Popen[str]) -> None:
    """SIGTERM to the process group ``process`` leads, SIGKILL after 10 s (and to whatever of the group is left when
    the leader has gone); reaps ``process``."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 30.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.communicate(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def error_line(stderr: str, limit: int = 200) -> str:
    """The first line of what went wrong: a traceback's exception line (the last traceback's, when exceptions are
    chained or a bench passes on a child's), else the last line written (a ``SystemExit`` message)."""
    lines = [line.rstrip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return "no error output"
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
    found = lines[-1]
    if starts:
        found = next((line for line in lines[starts[-1] + 1 :] if not line.startswith((" ", "\t"))), lines[-1])
    found = found.strip()
    return found if len(found) <= limit else found[: limit - 1] + "…"


def parse_report(stdout: str) -> dict[str, Any]:
    """The bench's JSON object: all of stdout, else its last line that is one; a JSON list comes back as
    ``{"items": [...]}``."""
    text = stdout.strip()
    lines = [line.strip() for line in reversed(text.splitlines()) if line.lstrip().startswith(("{", "["))]
    for candidate in (text, *lines):
        try:
            found = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(found, dict):
            return found
        if isinstance(found, list):
            return {"items": found}
    raise ValueError("no JSON object on stdout" + (f" (it ends: {text[-80:]!r})" if text else ""))


def run_bench(bench: Bench, runner: Runner | None = None) -> Outcome:
    """Run one benchmark (with ``subprocess_runner`` unless told); whatever goes wrong becomes a FAILED row."""
    runner = runner or subprocess_runner
    began = time.monotonic()
    if bench.precheck is not None:
        try:
            why = bench.precheck()
        except Exception as exc:
            why = f"{type(exc).__name__}: {exc}".splitlines()[0]
        if why:
            return Outcome(bench, time.monotonic() - began, [skipped_row(bench.name, why)])
    report: dict[str, Any] | None = None
    error: str | None = None
    rows: list[Row] = []
    try:
        done = runner(bench.command(), bench.timeout)
        if done.returncode != 0:
            error = f"exit {done.returncode}: {error_line(done.stderr)}"
        else:
            report = parse_report(done.stdout)
            rows = bench.rows(report)
    except TimeoutError as exc:
        error = str(exc) or f"timed out after {bench.timeout:,.0f} s"
    except (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError) as exc:
        error = f"unreadable output: {type(exc).__name__}: {exc}".splitlines()[0]
    except Exception as exc:  # the runner itself (cannot start the process, ...): still a row, not a crash
        error = f"{type(exc).__name__}: {exc}".splitlines()[0]
    finally:
        if bench.cleanup is not None:
            try:
                bench.cleanup()
            except Exception as exc:
                print(f"  cleanup after {bench.name} failed: {exc}", file=sys.stderr)
    if error is not None:
        rows = [failed_row(bench.name, error)]
    return Outcome(bench, time.monotonic() - began, rows, report, error)


# --- the plan ------------------------------------------------------------------------------------------------------


def postgres_unavailable(url: str = PG_URL) -> str | None:
    """None when PostgreSQL answers at ``url``; else why not (first line)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return None
    except sa.exc.SQLAlchemyError as exc:
        return f"PostgreSQL does not answer at {url}: {str(getattr(exc, 'orig', exc)).splitlines()[0]}"
    finally:
        engine.dispose()


def drop_schemas(url: str, schemas: Iterable[str]) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.begin() as conn:
            for schema in schemas:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Sizes:
    crawl: tuple[str, ...]
    classify: tuple[str, ...]
    archive: tuple[str, ...]
    alerts: tuple[str, ...]
    startup: tuple[str, ...]
    service: tuple[str, ...]
    web: tuple[str, ...]  # on the SQLite archive the archive bench has just loaded (--reuse)
    timeouts: dict[str, float] = field(default_factory=dict)


QUICK_ARCHIVE_N = 10_000


def sizes(quick: bool, full_1m: bool) -> Sizes:
    """Each bench's own size options: --quick shrinks them to fit 5 minutes in all; --full-1m loads 1M documents."""
    n = MILLION if full_1m else (QUICK_ARCHIVE_N if quick else 100_000)
    archive: tuple[str, ...] = ("--n", str(n))
    web: tuple[str, ...] = ("--n", str(n), "--reuse")
    if quick and not full_1m:  # the floor over as many documents as the store, so both fill a table of one size
        archive += ("--floor-n", str(n), "--repeats", "5", "--words", "4", "--like-queries", "2")
    if quick:
        web += ("--repeats", "5", "--words", "3", "--documents", "5", "--places", "3")
    archive_timeout = 6 * 3600.0 if full_1m else (150.0 if quick else 1800.0)
    if quick:
        return Sizes(
            crawl=("--releases", "500"),
            classify=("--docs", "2000"),
            archive=archive,
            alerts=("--latency-alerts", "60", "--throughput-alerts", "200"),
            startup=("--n", "2000", "--repeats", "3"),
            service=("--publishes", "2", "--schedule", "5s", "--minutes", "0", "--floor-repeats", "1"),
            web=web,
            timeouts={
                "crawl": 150,
                "classify": 90,
                "archive": archive_timeout,
                "alerts": 120,
                "start-up": 90,
                "service": 150,
                "web": 120,
            },
        )
    return Sizes(
        crawl=("--releases", "5000"),
        classify=("--docs", "5000"),
        archive=archive,
        alerts=(),
        startup=(),
        service=(),
        web=web,
        timeouts={
            "crawl": 1200,
            "classify": 600,
            "archive": archive_timeout,
            "alerts": 900,
            "start-up": 600,
            "service": 1200,
            "web": 1800,
        },
    )


def plan(quick: bool, full_1m: bool, pg_url: str = PG_URL, root: Path = ROOT) -> list[Bench]:
    s = sizes(quick, full_1m)
    t = s.timeouts
    benches = [
        Bench("crawl", "bench.crawl_bench", s.crawl, t["crawl"], crawl_rows),
        Bench("classify", "bench.classify_bench", s.classify, t["classify"], classify_rows),
        Bench("archive SQLite", "bench.archive_bench", s.archive, t["archive"], archive_rows),
        Bench(
            "archive PostgreSQL",
            "bench.archive_bench",
            (*s.archive, "--url", pg_url, "--schema", PG_SCHEMA),
            t["archive"],
            archive_rows,
            precheck=lambda: postgres_unavailable(pg_url),
            cleanup=lambda: drop_schemas(pg_url, (PG_SCHEMA, f"{PG_SCHEMA}_floor", f"{PG_SCHEMA}_floor_documents")),
        ),
        Bench("alerts", "bench.alerts_bench", (*s.alerts, "--pg-url", pg_url), t["alerts"], alerts_rows),
        Bench("start-up", "bench.startup_bench", s.startup, t["start-up"], startup_rows),
        Bench("service", "bench.service_bench", s.service, t["service"], service_rows),
    ]
    if (root / "bench" / "web_bench.py").exists():  # being written beside this script: run it when it is there
        documents = int(s.web[s.web.index("--n") + 1])
        benches.append(Bench("web", "bench.web_bench", s.web, t["web"], lambda r: web_rows(r, documents)))
    return benches


# --- the report ----------------------------------------------------------------------------------------------------


@dataclass
class Machine:
    date: str
    cpus: int
    cpu_model: str
    python: str
    system: str
    commit: str
    load_start: tuple[float, float, float]
    load_end: tuple[float, float, float] = (0.0, 0.0, 0.0)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def git_commit(root: Path = ROOT) -> str:
    """The checked-out commit, and whether the work tree differs from it (read-only git calls)."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, env=env, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--"], cwd=root, env=env, check=False).returncode
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted changes" if dirty else "")


def machine_now() -> Machine:
    load = os.getloadavg()
    return Machine(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        cpus=os.cpu_count() or 0,
        cpu_model=cpu_model(),
        python=platform.python_version(),
        system=f"{platform.system()} {platform.release()}",
        commit=git_commit(),
        load_start=(load[0], load[1], load[2]),
    )


def load_text(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.2f}" for v in load)


def header_lines(machine: Machine, mode: str, wall: float) -> list[str]:
    minutes, seconds = divmod(round(wall), 60)
    return [
        f"lawwatch benchmarks, {machine.date}, {mode}: {minutes} min {seconds:02d} s wall; commit {machine.commit}",
        f"machine: {machine.cpus} CPUs ({machine.cpu_model}), Python {machine.python}, {machine.system}; "
        f"load average (1/5/15 min) {load_text(machine.load_start)} at start, {load_text(machine.load_end)} at end",
        "ratio = value ÷ baseline, both measured in the same run; goals from the issues; "
        "met* = measured below the size the goal is set for; service floor = a crawl and a dispatch started by hand",
    ]


def text_table(rows: list[Row]) -> list[str]:
    table = [COLUMNS, *(cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    right = {2, 3, 4}  # value, baseline, ratio

    def render(line: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ).rstrip()

    return [render(COLUMNS), "  ".join("-" * w for w in widths), *(render(cells(r)) for r in rows)]


def markdown_table(rows: list[Row]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(COLUMNS) + " |", "|---|---|---:|---:|---:|---|---|"]
    lines += ["| " + " | ".join(cell(c) for c in cells(r)) + " |" for r in rows]
    return lines


def timing_line(outcomes: list[Outcome]) -> str:
    return "time per benchmark: " + ", ".join(f"{o.bench.name} {o.seconds:,.0f} s" for o in outcomes)


def report_text(machine: Machine, mode: str, wall: float, outcomes: list[Outcome]) -> str:
    rows = [row for o in outcomes for row in o.rows]
    return "\n".join([*header_lines(machine, mode, wall), "", *text_table(rows), "", timing_line(outcomes)]) + "\n"


def report_markdown(machine: Machine, mode: str, wall: float, outcomes: list[Outcome], command: str) -> str:
    rows = [row for o in outcomes for row in o.rows]
    head = header_lines(machine, mode, wall)
    return (
        "\n".join(
            [f"`{command}`", "", *(f"{line}  " for line in head[:-1]), head[-1], "", *markdown_table(rows), ""]
            + [timing_line(outcomes)]
        )
        + "\n"
    )


def report_json(machine: Machine, mode: str, wall: float, outcomes: list[Outcome]) -> dict[str, Any]:
    return {
        "machine": asdict(machine),
        "mode": mode,
        "wall_s": round(wall, 1),
        "rows": [asdict(row) for o in outcomes for row in o.rows],
        "benches": {
            o.bench.name: {
                "command": o.bench.command()[1:],
                "seconds": round(o.seconds, 1),
                "error": o.error,
                "report": o.report,
            }
            for o in outcomes
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes: all benches within 5 minutes here")
    parser.add_argument("--full-1m", action="store_true", help="the archive bench at 1,000,000 documents (hours)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--markdown", type=Path, metavar="PATH", help="also write the table as Markdown to PATH")
    parser.add_argument("--pg-url", default=PG_URL, help=f"PostgreSQL for the archive and alerts benches ({PG_URL})")
    parser.add_argument(
        "--only", metavar="NAMES", help="comma-separated benchmark names to run (e.g. crawl,classify), default all"
    )
    args = parser.parse_args(argv)

    benches = plan(args.quick, args.full_1m, args.pg_url)
    if args.only:
        wanted = {n.strip() for n in args.only.split(",") if n.strip()}
        benches = [b for b in benches if b.name in wanted or b.name.split()[0] in wanted]
        if not benches:
            parser.error(f"--only {args.only}: no such benchmark")
    mode = " ".join(["--quick" if args.quick else "full sizes", *(["--full-1m"] if args.full_1m else [])])
    machine = machine_now()
    began = time.monotonic()
    outcomes = []
    for bench in benches:
        print(f"[{time.monotonic() - began:6.0f} s] {bench.name}: {' '.join(bench.command()[1:])}", file=sys.stderr)
        outcome = run_bench(bench)
        note = f"FAILED: {outcome.error}" if outcome.error else f"{len(outcome.rows)} rows"
        print(f"[{time.monotonic() - began:6.0f} s] {bench.name}: {outcome.seconds:,.0f} s, {note}", file=sys.stderr)
        outcomes.append(outcome)
    wall = time.monotonic() - began
    end = os.getloadavg()
    machine.load_end = (end[0], end[1], end[2])

    if args.json:
        print(json.dumps(report_json(machine, mode, wall, outcomes)))
    else:
        print(report_text(machine, mode, wall, outcomes), end="")
    if args.markdown:
        command = " ".join(["python", "bench/run_all.py", *(argv if argv is not None else sys.argv[1:])])
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(report_markdown(machine, mode, wall, outcomes, command), encoding="utf-8")
        print(f"Markdown table written to {args.markdown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
