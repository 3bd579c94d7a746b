"""The archive bench end to end on PostgreSQL at a tiny size: its JSON report, and the run's schema (and its floors'
schemas) dropped when it ends unless ``--keep`` (issue 15: a schema per run, dropped after)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import POSTGRES_URL

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "lawwatch" / "crawler" / "mirror" / "data" / "doj_corpus_100.jsonl"

pytestmark = pytest.mark.postgres


def _schemas(prefix: str) -> set[str]:
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"), {"p": prefix + "%"}
            ).scalars()
            return set(rows)
    finally:
        engine.dispose()


def _bench(schema: str, *extra: str) -> dict[str, object]:
    args = ["--n", "300", "--floor-n", "300", "--repeats", "1", "--words", "1", "--like-queries", "1"]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.archive_bench",
            *args,
            "--url",
            POSTGRES_URL,
            "--schema",
            schema,
            "--corpus",
            str(CORPUS),
            "--json",
            *extra,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_a_postgres_run_reports_every_shape_and_drops_its_schemas() -> None:
    schema = f"lawwatch_benchtest_{os.getpid()}"
    report = _bench(schema)
    assert report["backend"] == "postgresql" and report["documents"] == 300
    assert isinstance(report["store_floor_ratio"], float) and report["store_floor_ratio"] > 0
    searches = report["searches"]
    assert isinstance(searches, list)
    shapes = [s["shape"] for s in searches]
    assert shapes[:2] == ["selective word", "phrase"] and "common word 'immigration'" in shapes
    assert all({"hits", "p50_ms", "p95_ms"} <= set(s) for s in searches)
    assert _schemas(schema) == set()


def test_keep_leaves_the_schema_for_reuse() -> None:
    schema = f"lawwatch_benchkeep_{os.getpid()}"
    try:
        _bench(schema, "--keep", "--store-only")
        assert schema in _schemas(schema)
        assert _schemas(f"{schema}_floor") == set()  # the floors are the run's own: always dropped
    finally:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
