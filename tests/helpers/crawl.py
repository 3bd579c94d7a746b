"""Whole-crawl helpers: run `lawwatch crawl` in a subprocess (Scrapy's reactor cannot restart) against a mirror."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
DOJ = ("doj_api", "doj_news", "doj_rss")


@dataclass
class CrawlOutcome:
    code: int
    sources: dict[str, dict[str, Any]]
    stdout: str
    stderr: str


def write_settings(mirror: Any, tmp: Path, *, replace: dict[str, str] | None = None) -> tuple[Path, str]:
    """A settings.toml for ``mirror`` archiving to a fresh SQLite file in ``tmp``; ``replace`` edits its text."""
    db_url = f"sqlite:///{tmp / 'archive.db'}"
    text = mirror.sources_toml(db_url)
    for old, new in (replace or {}).items():
        assert old in text, f"{old!r} is not in the mirror's settings"
        text = text.replace(old, new)
    path = tmp / "settings.toml"
    path.write_text(text, "utf-8")
    return path, db_url


def crawl(settings: Path, *sources: str, timeout: float = 150) -> CrawlOutcome:
    args = [sys.executable, "-m", "lawwatch", "--config", str(settings), "crawl", *(sources or DOJ), "--json"]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    try:
        payload = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise AssertionError(f"no JSON from lawwatch crawl (exit {done.returncode}):\n{done.stderr[-3000:]}") from None
    return CrawlOutcome(done.returncode, {s["source"]: s for s in payload["sources"]}, done.stdout, done.stderr)


def rows(db_url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def scalar(db_url: str, sql: str) -> Any:
    return rows(db_url, sql)[0][0]


def snapshot(db_url: str) -> list[tuple[Any, ...]]:
    """Every document row, as stored (for "nothing changed" checks)."""
    return rows(
        db_url,
        "SELECT id, source, url, external_id, title, body_text, content_hash, doc_type, metadata, "
        "updated_at, fetched_at FROM documents ORDER BY id",
    )


def release_page_requests(counts: dict[str, int]) -> int:
    """Requests for release pages (``/<component>/pr/<slug>``) in a mirror's per-path request counts."""
    return sum(n for path, n in counts.items() if "/pr/" in path)
