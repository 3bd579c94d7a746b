"""bench/run_all.py: its rows from canned bench outputs, and a failing bench as one FAILED row (no benchmark runs)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import run_all
from bench.run_all import Bench, Completed, Row

ROOT = Path(__file__).resolve().parents[1]

# What each bench printed with --json in a real run (shortened where lists repeat)
CRAWL = {
    "release_pages": 621,
    "concurrency": 16,
    "bare": {"pages": 638, "seconds": 2.68, "pages_per_s": 238.1, "cpu_ms_per_page": 1.2},
    "lawwatch": {
        "pages": 638,
        "seconds": 3.9,
        "pages_per_s": 163.6,
        "cpu_ms_per_page": 1.8,
        "new": 621,
        "status": "ok",
    },
    "floor_ratio": 1.42,
    "work_floor_ratio": 1.47,
    "throughput_ratio": 0.687,
    "cpu_per_page_ratio": 1.5,
    "first_crawl_requests": 638,
    "second_crawl_requests": 1,
    "second_status": "ok",
    "request_ratio": 0.0016,
}
CLASSIFY = {
    "documents": 2000,
    "chars_per_document": 3828,
    "with_jurisdiction": 1600,
    "classify_cpu_s": 0.8,
    "classify_docs_per_s": 2500.0,
    "classify_docs_per_s_wall": 2100.0,
    "floor_cpu_s": 0.2,
    "floor_docs_per_s": 10000.0,
    "floor_hits": 5346,
    "classify_floor_time_ratio": 4.0,
    "startup_cold_s": 0.611,
    "startup_warm_s": 1.2,
    "cli_warm_s": 0.765,
    "peak_rss_mb": 74.8,
    "load1": 2.2,
    "goals": {"docs_per_s": 2000.0, "startup_s": 1.0, "peak_rss_mb": 300.0},
}
ARCHIVE_SQLITE = {
    "backend": "sqlite",
    "documents": 10000,
    "store_docs_per_s": 3000.0,
    "floor_documents": 10000,
    "floor_docs_per_s": 4000.0,
    "store_floor_ratio": 0.75,
    "searches": [
        {
            "shape": "selective word",
            "hits": 14,
            "p50_ms": 4.66,
            "p95_ms": 7.55,
            "like_ms": 34.42,
            "like_p50_ratio": 7.4,
        },
        {
            "shape": "word + jurisdiction fips:10000",
            "hits": 2,
            "p50_ms": 40.0,
            "p95_ms": 60.0,
            "like_ms": 120.0,
            "like_p50_ratio": 3.0,
        },
    ],
}
ARCHIVE_PG_REUSED = {
    "backend": "postgresql",
    "documents": 1_000_000,
    "store_docs_per_s": None,
    "floor_documents": None,
    "floor_docs_per_s": None,
    "store_floor_ratio": None,
    "searches": [
        {
            "shape": "word + jurisdiction fips:10000",
            "hits": 2,
            "p50_ms": 40,
            "p95_ms": 60,
            "like_ms": 900,
            "like_p50_ratio": 22,
        }
    ],
}
ALERTS = {
    "postgres_skipped": None,
    "latency": [
        {
            "backend": "SQLite",
            "interval_s": 0.05,
            "default_interval": False,
            "alerts": 60,
            "p50_s": 0.03,
            "p95_s": 0.06,
            "max_s": 0.07,
            "failed_after_commit": 0,
        },
        {
            "backend": "SQLite",
            "interval_s": 5.0,
            "default_interval": True,
            "alerts": 60,
            "p50_s": 2.8,
            "p95_s": 4.79,
            "max_s": 5.0,
            "failed_after_commit": 3,
        },
    ],
    "throughput": [
        {
            "backend": "PostgreSQL",
            "alerts": 200,
            "dispatcher_per_s": 26.5,
            "raw_per_s": 391.8,
            "ratio": 0.068,
            "overhead_ms_per_alert": 35.24,
        }
    ],
}
STARTUP = {
    "documents": 2000,
    "repeats": 3,
    "baseline": "python -c pass",
    "baseline_s": 0.1,
    "commands": [
        {"command": "python -c pass", "seconds": 0.1, "ratio": 1.0},
        {"command": "lawwatch --version", "seconds": 0.25, "ratio": 2.5},
        {"command": "lawwatch --help", "seconds": 0.41, "ratio": 4.1},
        {"command": "lawwatch search fugitive", "seconds": 0.9, "ratio": 9.0},
    ],
}
SERVICE = {
    "latency": {
        "schedule_s": 5.0,
        "publishes": 2,
        "median_s": 11.718,
        "max_s": 13.061,
        "min_s": 10.375,
        "floor_s": 7.017,
        "expected_s": 9.517,
        "bound_s": 12.017,
        "median_expected_ratio": 1.231,
        "max_bound_ratio": 1.087,
    },
    "memory": None,
}
WEB = [
    {"page": "search: a selective word", "p50": 20.0, "p95": 30.0, "base_p50": 10.0, "base_p95": 15.0, "ratio": 2.0},
    {"page": "timeline page", "p50": 90.0, "p95": 150.0, "base_p50": 60.0, "base_p95": 75.0, "ratio": 1.5},
]


def by_figure(rows: list[Row], start: str) -> Row:
    found = [r for r in rows if r.figure.startswith(start)]
    assert len(found) == 1, [r.figure for r in rows]
    return found[0]


def test_crawl_rows_ratio_against_bare_scrapy_and_first_crawl() -> None:
    rows = run_all.crawl_rows(CRAWL)
    speed = by_figure(rows, "pages/s")
    assert (speed.value, speed.baseline, speed.ratio) == ("163.6 pages/s", "238.1 pages/s", "0.69")
    assert (speed.goal, speed.met) == ("ratio ≥ 0.7", "MISSED")
    again = by_figure(rows, "re-crawl")
    assert (again.value, again.baseline, again.ratio, again.met) == ("1 requests", "638 requests", "0.0016", "met")


def test_classify_rows() -> None:
    rows = run_all.classify_rows(CLASSIFY)
    rate = by_figure(rows, "docs/s")
    assert (rate.value, rate.baseline, rate.ratio, rate.met) == ("2,500 docs/s", "10,000 docs/s", "0.25", "met")
    assert "2,000 docs" in rate.figure
    start = by_figure(rows, "start-up")
    assert (start.value, start.baseline, start.goal, start.met) == ("1.20 s", "—", "≤ 1 s", "MISSED")
    assert by_figure(rows, "peak RSS").met == "met"


def test_archive_rows_store_against_floor_and_search_against_like() -> None:
    rows = run_all.archive_rows(ARCHIVE_SQLITE)
    assert {r.bench for r in rows} == {"archive SQLite"}
    store = by_figure(rows, "store")
    assert (store.value, store.baseline, store.ratio) == ("3,000 docs/s", "4,000 docs/s", "0.75")
    assert store.met == "MISSED"  # above 2,000/s but below 0.9 of the floor
    word = by_figure(rows, "search p95 at 10k: selective word")
    assert (word.value, word.baseline, word.goal, word.met) == ("7.5 ms", "34.4 ms", "≤ 100 ms at 1M", "met*")
    assert word.ratio == "0.22"
    filtered = by_figure(rows, "search p95 at 10k: word + jurisdiction")
    assert (filtered.goal, filtered.met) == ("≤ 50 ms at 1M", "MISSED*")


def test_archive_rows_on_postgresql_at_1m_with_a_reused_archive() -> None:
    rows = run_all.archive_rows(ARCHIVE_PG_REUSED)
    assert rows[0].bench == "archive PostgreSQL"
    assert rows[0].figure.startswith("store: not measured")
    search = by_figure(rows, "search p95 at 1M")
    assert (search.goal, search.met) == ("≤ 100 ms at 1M", "met")  # no "*": measured at the goal's size


def test_alerts_rows() -> None:
    rows = run_all.alerts_rows(ALERTS)
    fast = by_figure(rows, "commit → Slack p95, SQLite, dispatch every 0.05 s")
    assert (fast.value, fast.goal, fast.met) == ("0.060 s", "≤ 2 s", "met")
    default = by_figure(rows, "commit → Slack p95, SQLite, dispatch every 5 s (default)")
    assert default.met == "MISSED"
    assert "3 'database is locked' after commit" in default.figure
    rate = by_figure(rows, "dispatcher alerts/s")
    assert (rate.value, rate.baseline, rate.ratio, rate.met) == ("26.5 /s", "391.8 /s", "0.068", "—")


def test_alerts_rows_say_when_postgresql_was_skipped() -> None:
    rows = run_all.alerts_rows({**ALERTS, "postgres_skipped": "--no-pg"})
    assert rows[-1].met == "skipped" and "--no-pg" in rows[-1].figure


def test_startup_rows_against_the_bare_interpreter() -> None:
    rows = run_all.startup_rows(STARTUP)
    assert len(rows) == 3  # the baseline itself is no row
    version = by_figure(rows, "`lawwatch --version`")
    assert (version.value, version.baseline, version.ratio, version.goal, version.met) == (
        "0.250 s",
        "0.100 s",
        "2.50",
        "≤ 0.3 s",
        "met",
    )
    assert by_figure(rows, "`lawwatch --help`").goal == "—"
    search = by_figure(rows, "`lawwatch search fugitive` on 2,000 documents")
    assert (search.goal, search.met) == ("≤ 0.8 s at 10k", "MISSED*")


def test_service_rows() -> None:
    rows = run_all.service_rows(SERVICE)
    median = by_figure(rows, "publish → Slack median")
    assert (median.value, median.baseline, median.ratio) == ("11.72 s", "9.52 s", "1.23")
    assert by_figure(rows, "publish → Slack max").ratio == "1.09"


def test_web_rows_from_a_json_list() -> None:
    rows = run_all.web_rows(run_all.parse_report(json.dumps(WEB)), 10_000)
    page = by_figure(rows, "page p95 at 10k: timeline page")
    assert (page.value, page.baseline, page.ratio, page.met) == ("150.0 ms", "75.0 ms", "2.00", "MISSED")


def test_parse_report_takes_the_json_line_after_other_output() -> None:
    out = "archive: sqlite:///x.db (sqlite)\nstored 10 documents\n" + json.dumps(CRAWL) + "\n"
    assert run_all.parse_report(out) == CRAWL
    assert run_all.parse_report(json.dumps(CRAWL, indent=2)) == CRAWL
    with pytest.raises(ValueError, match="no JSON object"):
        run_all.parse_report("throughput ratio 0.7\n")


def test_error_line_is_the_exception_of_the_last_traceback() -> None:
    stderr = (
        "corpus: 100 releases\n"
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n'
        "    boom()\n"
        "KeyError: 'a'\n"
        "\nDuring handling of the above exception, another exception occurred:\n\n"
        "Traceback (most recent call last):\n"
        '  File "x.py", line 3, in <module>\n'
        "    connect()\n"
        "sqlalchemy.exc.OperationalError: (psycopg.OperationalError) connection refused\n"
        "(Background on this error at: https://sqlalche.me/e/20/e3q8)\n"
    )
    assert run_all.error_line(stderr) == (
        "sqlalchemy.exc.OperationalError: (psycopg.OperationalError) connection refused"
    )
    assert (
        run_all.error_line("stored 10 documents\nno first crawl; see /tmp/x.log\n") == "no first crawl; see /tmp/x.log"
    )
    assert run_all.error_line("") == "no error output"
    assert len(run_all.error_line("x" * 500)) == 200


def fake(returncode: int = 0, stdout: str = "", stderr: str = "") -> run_all.Runner:
    def runner(command: list[str], timeout: float) -> Completed:
        return Completed(returncode, stdout, stderr)

    return runner


def crawl_bench(**kwargs: Any) -> Bench:
    return Bench("crawl", "bench.crawl_bench", ("--releases", "10"), 5.0, run_all.crawl_rows, **kwargs)


def test_a_bench_that_succeeds_gives_its_rows_and_report() -> None:
    outcome = run_all.run_bench(crawl_bench(), fake(stdout=json.dumps(CRAWL)))
    assert outcome.error is None and outcome.report == CRAWL
    assert [r.met for r in outcome.rows] == ["MISSED", "met", "met"]


@pytest.mark.parametrize(
    ("runner", "expected"),
    [
        (fake(1, "", "Traceback (most recent call last):\n  File 'b.py'\nRuntimeError: mirror died\n"),
         "exit 1: RuntimeError: mirror died"),
        (fake(0, "not json at all"), "unreadable output: ValueError: no JSON object on stdout"),
        (fake(0, json.dumps({"release_pages": 3})), "unreadable output: KeyError: 'bare'"),
    ],
)  # fmt: skip
def test_a_failing_bench_becomes_one_failed_row(runner: run_all.Runner, expected: str) -> None:
    outcome = run_all.run_bench(crawl_bench(), runner)
    assert outcome.error is not None and outcome.error.startswith(expected)
    [row] = outcome.rows
    assert (row.bench, row.met, row.value) == ("crawl", "FAILED", "—")
    assert row.figure == f"FAILED: {outcome.error}"


def test_a_bench_that_times_out_or_cannot_start_is_a_failed_row_and_is_cleaned_up_after() -> None:
    cleaned: list[str] = []

    def too_slow(command: list[str], timeout: float) -> Completed:
        raise TimeoutError(f"timed out after {timeout:,.0f} s")

    def missing(command: list[str], timeout: float) -> Completed:
        raise FileNotFoundError(2, "No such file or directory", command[0])

    for runner in (too_slow, missing):
        outcome = run_all.run_bench(crawl_bench(cleanup=lambda: cleaned.append("x")), runner)
        assert [r.met for r in outcome.rows] == ["FAILED"]
    assert cleaned == ["x", "x"]
    assert run_all.run_bench(crawl_bench(), too_slow).error == "timed out after 5 s"


def test_a_precheck_that_says_no_skips_the_bench() -> None:
    def never(command: list[str], timeout: float) -> Completed:
        raise AssertionError("must not run")

    outcome = run_all.run_bench(crawl_bench(precheck=lambda: "PostgreSQL does not answer"), never)
    [row] = outcome.rows
    assert (row.met, row.figure) == ("skipped", "skipped: PostgreSQL does not answer")


def test_the_subprocess_runner_reports_errors_and_ends_a_bench_that_runs_too_long() -> None:
    done = run_all.subprocess_runner([sys.executable, "-c", "import sys; sys.exit('no mirror')"], 30)
    assert (done.returncode, done.stderr.strip()) == (1, "no mirror")
    with pytest.raises(TimeoutError, match="timed out after 0 s"):
        run_all.subprocess_runner([sys.executable, "-c", "import time; time.sleep(60)"], 0.3)
    # a module that has no --json: argparse's complaint is the row's error
    outcome = run_all.run_bench(Bench("x", "json.tool", ("--no-such-option",), 30, run_all.crawl_rows))
    assert outcome.error is not None and outcome.error.startswith("exit 2: ")
    assert "unrecognized arguments" in outcome.error


def test_tables_have_seven_columns_and_escape_pipes() -> None:
    rows = [*run_all.crawl_rows(CRAWL), run_all.failed_row("web", "exit 1: a | b")]
    text = run_all.text_table(rows)
    assert text[0].split() == ["benchmark", "figure", "value", "baseline", "ratio", "goal", "met"]
    assert len(text) == 2 + len(rows)
    markdown = run_all.markdown_table(rows)
    assert markdown[0] == "| benchmark | figure | value | baseline | ratio | goal | met |"
    assert all(len(re.findall(r"(?<!\\)\|", line)) == 8 for line in markdown)
    assert "a \\| b" in markdown[-1]


def test_the_plan_uses_each_bench_own_size_options(tmp_path: Path) -> None:
    quick = {b.name: b for b in run_all.plan(quick=True, full_1m=False, root=tmp_path)}
    assert list(quick) == [
        "crawl",
        "classify",
        "archive SQLite",
        "archive PostgreSQL",
        "alerts",
        "start-up",
        "service",
    ]  # no web row without bench/web_bench.py
    assert sum(b.timeout for b in quick.values()) < 20 * 60
    for bench in quick.values():
        source = (ROOT / (bench.module.replace(".", "/") + ".py")).read_text()
        for option in [a for a in bench.command()[3:] if a.startswith("--")]:
            assert f'"{option}"' in source, (bench.module, option)  # the bench takes the option
    archive = quick["archive SQLite"].args
    assert archive[:2] == ("--n", "10000") and archive[archive.index("--floor-n") + 1] == "10000"
    full = {b.name: b for b in run_all.plan(quick=False, full_1m=True, root=ROOT)}
    assert "--n" in full["archive PostgreSQL"].args and "1000000" in full["archive PostgreSQL"].args
    if (ROOT / "bench" / "web_bench.py").exists():
        assert full["web"].args[:3] == ("--n", "1000000", "--reuse")


def test_main_prints_one_table_with_the_machine_and_writes_markdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = {
        "bench.crawl_bench": Completed(0, json.dumps(CRAWL), ""),
        "bench.classify_bench": Completed(1, "", "boom"),
    }

    def runner(command: list[str], timeout: float) -> Completed:
        return outputs[command[2]]

    monkeypatch.setattr(run_all, "subprocess_runner", runner)
    monkeypatch.setattr(run_all, "git_commit", lambda root=ROOT: "abc1234")
    monkeypatch.setattr(
        run_all,
        "plan",
        lambda quick, full_1m, pg_url: [
            crawl_bench(),
            Bench("classify", "bench.classify_bench", (), 5.0, run_all.classify_rows),
        ],
    )
    markdown = tmp_path / "report.md"
    assert run_all.main(["--quick", "--markdown", str(markdown)]) == 0
    out = capsys.readouterr().out
    assert "--quick" in out and "commit abc1234" in out and "CPUs" in out and "load average" in out
    assert "Python " in out and "at start" in out and "at end" in out
    assert re.search(r"classify\s+FAILED: exit 1: boom", out)
    assert "pages/s, lawwatch crawl vs bare Scrapy" in out
    written = markdown.read_text()
    assert "| crawl | re-crawl requests vs first crawl" in written
    assert (
        "| crawl | CPU ms per page, lawwatch crawl + ingest worker vs bare Scrapy; bare + normalize + classify + "
        "store: ×1.42, + reading the pages and loading the classifier: ×1.47 | 1.80 ms | 1.20 ms | 1.50 | ratio ≤ 1.5 "
        "| met |" in written
    )
    assert "`python bench/run_all.py --quick --markdown" in written

    assert run_all.main(["--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["benches"]["crawl"]["report"] == CRAWL
    assert report["benches"]["classify"]["error"] == "exit 1: boom"
    assert [r["met"] for r in report["rows"]] == ["MISSED", "met", "met", "FAILED"]
    assert len(report["machine"]["load_start"]) == 3
