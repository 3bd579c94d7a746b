"""Whole-crawl helpers: run `lawwatch crawl` in a subprocess (Scrapy's reactor cannot restart) against a mirror."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
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


def write_settings(
    mirror: Any, tmp: Path, *, replace: dict[str, str] | None = None, db_url: str | None = None
) -> tuple[Path, str]:
    """A settings.toml for ``mirror`` archiving to ``db_url`` (default: a fresh SQLite file in ``tmp``); ``replace``
    edits its text."""
    db_url = db_url or f"sqlite:///{tmp / 'archive.db'}"
    text = mirror.sources_toml(db_url)
    for old, new in (replace or {}).items():
        assert old in text, f"{old!r} is not in the mirror's settings"
        text = text.replace(old, new)
    path = tmp / "settings.toml"
    path.write_text(text, "utf-8")
    return path, db_url


def _crawl_args(settings: Path, sources: tuple[str, ...]) -> list[str]:
    return [sys.executable, "-m", "lawwatch", "--config", str(settings), "crawl", *(sources or DOJ), "--json"]


def crawl(settings: Path, *sources: str, timeout: float = 150) -> CrawlOutcome:
    done = subprocess.run(
        _crawl_args(settings, sources), cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    return _outcome(done.returncode, done.stdout, done.stderr)


def _outcome(code: int, stdout: str, stderr: str) -> CrawlOutcome:
    try:
        payload = json.loads(stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise AssertionError(f"no JSON from lawwatch crawl (exit {code}):\n{stderr[-3000:]}") from None
    return CrawlOutcome(code, {s["source"]: s for s in payload["sources"]}, stdout, stderr)


class CrawlProcess:
    """``lawwatch crawl`` started in the background, in a session (process group) of its own, output to files."""

    def __init__(self, settings: Path, *sources: str) -> None:
        self.out = tempfile.TemporaryFile("w+")
        self.err = tempfile.TemporaryFile("w+")
        self.process = subprocess.Popen(
            _crawl_args(settings, sources),
            cwd=ROOT,
            stdout=self.out,
            stderr=self.err,
            text=True,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the crawl's own process (not its worker: that one must notice by itself)."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signum)

    def wait(self, timeout: float = 150) -> int:
        return self.process.wait(timeout=timeout)

    def outcome(self, timeout: float = 150) -> CrawlOutcome:
        code = self.wait(timeout)
        self.out.seek(0)
        self.err.seek(0)
        return _outcome(code, self.out.read(), self.err.read())

    def stderr(self) -> str:
        self.err.seek(0)
        return self.err.read()

    def group_alive(self) -> list[int]:
        """Live (not zombie) processes still in the crawl's process group."""
        alive = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.process.pid and fields[0] != "Z":
                alive.append(int(stat.parent.name))
        return alive

    def close(self) -> None:
        """Kill whatever is left of the group and close the output files."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)
        self.out.close()
        self.err.close()


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


def archive_view(db_url: str) -> dict[str, Any]:
    """What must be the same after any history of crawls of the same mirror, whichever source got a document first:
    the documents (URL, title, content hash, publication time, type), every (URL, source, external id) they were
    seen under, their jurisdiction tags, the number of versions and of duplicate URLs."""
    docs = rows(db_url, "SELECT url, title, content_hash, published_at, doc_type FROM documents")
    return {
        "documents": sorted((u, t, h, str(p)[:19], d) for u, t, h, p, d in docs),
        "duplicate_urls": len(docs) - len({d[0] for d in docs}),
        "seen_via": sorted(
            rows(
                db_url,
                "SELECT d.url, s.source, s.external_id FROM document_sources s "
                "JOIN documents d ON d.id = s.document_id",
            )
        ),
        "tags": sorted(
            rows(
                db_url,
                "SELECT d.url, j.jurisdiction_id, j.role FROM document_jurisdictions j "
                "JOIN documents d ON d.id = j.document_id",
            )
        ),
        "versions": scalar(db_url, "SELECT count(*) FROM document_versions"),
    }


def release_page_requests(counts: dict[str, int]) -> int:
    """Requests for release pages (``/<component>/pr/<slug>``) in a mirror's per-path request counts."""
    return sum(n for path, n in counts.items() if "/pr/" in path)
