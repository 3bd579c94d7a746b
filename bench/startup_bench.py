"""Start-up benchmark: wall time of ``lawwatch --version``, ``--help`` and ``search WORD`` against ``python -c pass``.

Each command runs in a fresh process (what a user or a cron job pays), ``--repeats`` times after one warm-up; the
table shows the median and its ratio to the baseline interpreter start measured in the same run. The search runs on
a SQLite archive of ``--n`` documents (default 10,000) generated from the bundled DOJ releases with the archive
bench's generator, kept under var/bench/ and reused when it already holds ``--n`` documents.

    .venv/bin/python -m bench.startup_bench
    .venv/bin/python -m bench.startup_bench --n 10000 --word sanctuary --repeats 9
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "lawwatch" / "crawler" / "mirror" / "data" / "doj_corpus_100.jsonl"


def build_archive(path: Path, n: int) -> None:
    """A SQLite archive of ``n`` generated documents at ``path`` (kept when it already holds ``n``)."""
    import sqlalchemy as sa

    from lawwatch.pipeline.db import open_archive

    path.parent.mkdir(parents=True, exist_ok=True)
    archive = open_archive(f"sqlite:///{path}")
    try:
        with archive.engine.connect() as conn:
            present = conn.execute(sa.text("SELECT count(*) FROM documents")).scalar_one()
        if present == n:
            return
        if present:
            raise SystemExit(f"{path} holds {present} documents, not {n}: delete it first")
        from bench.archive_bench import Pools, load  # the generator (it imports the classifier's tag types)

        print(f"generating {n:,} documents into {path} ...", flush=True)
        load(archive, Pools.load(CORPUS), n, 1000, 1373)
        with archive.engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
    finally:
        archive.dispose()


def wall(args: list[str], repeats: int) -> float:
    """Median wall seconds of running ``args`` (one untimed warm-up first; output discarded; must exit 0)."""
    samples = []
    for attempt in range(repeats + 1):
        began = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=ROOT)
        if attempt:
            samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def lawwatch_command() -> list[str]:
    script = Path(sys.executable).parent / "lawwatch"
    if script.exists():
        return [str(script)]
    found = shutil.which("lawwatch")
    return [found] if found else [sys.executable, "-m", "lawwatch"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="documents in the search archive (default 10000)")
    parser.add_argument("--word", default="fugitive", help="the word to search for (default: fugitive)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per command (median shown)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)

    db = ROOT / "var" / "bench" / f"startup-{args.n}.db"
    with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
        build_archive(db, args.n)
    settings = db.with_suffix(".toml")
    settings.write_text(f'[archive]\nurl = "sqlite:///{db}"\n', encoding="utf-8")

    lawwatch = lawwatch_command()
    commands = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("lawwatch --version", [*lawwatch, "--version"]),
        ("lawwatch --help", [*lawwatch, "--help"]),
        (f"lawwatch search {args.word}", [*lawwatch, "--config", str(settings), "search", args.word]),
    ]
    timings = [(name, wall(command, args.repeats)) for name, command in commands]
    baseline = timings[0][1]
    if args.json:
        report = {
            "documents": args.n,
            "repeats": args.repeats,
            "baseline": timings[0][0],
            "baseline_s": round(baseline, 4),
            "commands": [
                {"command": name, "seconds": round(s, 4), "ratio": round(s / baseline, 2)} for name, s in timings
            ],
        }
        print(json.dumps(report))
        return
    print(f"\nstart-up, median of {args.repeats} runs; search on {args.n:,} documents (SQLite)")
    line = f"{'command':<32} {'wall s':>8} {'/ python':>9}"
    print(line)
    print("-" * len(line))
    for name, seconds in timings:
        print(f"{name:<32} {seconds:>8.3f} {seconds / baseline:>8.1f}x")


if __name__ == "__main__":
    main()
