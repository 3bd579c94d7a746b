"""Crawls never leave a hole (issue 8, item 1): a crawl cut short — killed, stopped by SIGTERM, or losing a page to a
transient error — is taken up by the next normal crawl, which brings the archive to exactly what a clean run stores.

The kill test uses one 2,000-release mirror and two kinds of cycle, each a crawl (doj_api, doj_news, doj_rss) killed
at a random moment of its work (SIGKILL or SIGTERM), then one normal crawl, after which the archive must hold exactly
what the clean run of the same history holds:

- *first crawl*: a fresh archive; the whole mirror is new;
- *new releases*: the archive as a clean crawl left it when the mirror's 479 newest releases (besides the
  usao-edpa ones, whose listing must not be empty) were not published yet, restored from a copy; then they are: the
  kill cuts the listing walks between their new top and the boundary of the last finished walk, so the repair crawl
  must resume past the pages the killed one stored.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from lawwatch.crawler.mirror.server import MirrorServer
from lawwatch.pipeline.db import open_archive
from lawwatch.pipeline.runs import interrupt_stale_runs
from tests.helpers.crawl import CrawlOutcome, CrawlProcess, archive_view, crawl, rows, scalar, write_settings

JUSTICE = "www.justice.gov"
MIRROR_RELEASES = 2000
HIDDEN = 479  # the newest releases, published between the two crawls of a "new releases" cycle
# (kind, signal) of the cycles, run in a shuffled order: SIGKILL and SIGTERM five times each
CYCLES = (
    [("first crawl", signal.SIGKILL)] + [("new releases", signal.SIGKILL)] * 4 + [("new releases", signal.SIGTERM)] * 5
)


def _started(crawl: CrawlProcess, db_url: str) -> None:
    """Wait until ``crawl`` has recorded its runs (it is past start-up)."""
    runs = scalar(db_url, "SELECT count(*) FROM crawl_runs")
    deadline = time.monotonic() + 60
    while scalar(db_url, "SELECT count(*) FROM crawl_runs") == runs and crawl.process.poll() is None:
        assert time.monotonic() < deadline, "the crawl never started"
        time.sleep(0.05)


def _ok(outcome: CrawlOutcome) -> None:
    assert outcome.code == 0, outcome.stderr[-3000:]
    assert {r["status"] for r in outcome.sources.values()} == {"ok"}, outcome.sources
    assert "Traceback" not in outcome.stderr, outcome.stderr[-3000:]


def _serve(mirror: MirrorServer, releases: Sequence[Any]) -> None:
    """Make the mirror's justice.gov serve exactly ``releases`` (newest first), as if the others were unpublished."""
    with mirror._lock:
        mirror.justice.releases = list(releases)
        mirror.justice._reindex()
        mirror._cache.clear()


def _copy(db_url: str, to: Path) -> None:
    """A consistent copy of a SQLite archive (its WAL included) at ``to``, replacing what is there."""
    for stale in (to, to.with_name(to.name + "-wal"), to.with_name(to.name + "-shm")):
        stale.unlink(missing_ok=True)
    source = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    target = sqlite3.connect(to)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def _settings(mirror: MirrorServer, folder: Path) -> tuple[Path, str]:
    folder.mkdir()
    settings, db_url = write_settings(mirror, folder)
    open_archive(db_url).dispose()  # migrated up front: the kills are aimed at crawls, not at migrations
    return settings, db_url


@pytest.mark.timeout(300)
def test_a_crawl_killed_at_random_moments_is_completed_by_the_next_one(tmp_path: Path) -> None:
    rng = random.Random(81373)
    cycles = rng.sample(CYCLES, len(CYCLES))
    with MirrorServer(extra_releases=MIRROR_RELEASES - 121) as mirror:
        full = list(mirror.justice.releases)
        assert len(full) == MIRROR_RELEASES
        hidden = {r.url for r in [r for r in full if r.component != "usao-edpa"][:HIDDEN]}
        # the clean run: the mirror without its newest releases, then with them
        clean, clean_db = _settings(mirror, tmp_path / "clean")
        _serve(mirror, [r for r in full if r.url not in hidden])
        _ok(crawl(clean))
        before_new = tmp_path / "before-new.db"
        _copy(clean_db, before_new)
        _serve(mirror, full)
        _ok(crawl(clean))
        later = archive_view(clean_db)
        # a first crawl of the whole mirror stores the same, but doj_rss sees only the feed's 50 newest releases
        feed = {mirror.url(r.url) for r in full[:50]}
        first = {**later, "seen_via": [s for s in later["seen_via"] if s[1] != "doj_rss" or s[0] in feed]}
        expected = {"first crawl": first, "new releases": later}
        killed, killed_db = _settings(mirror, tmp_path / "killed")
        empty = tmp_path / "empty.db"
        _copy(killed_db, empty)

        report: list[dict[str, Any]] = []
        statuses: Counter[str] = Counter()
        for cycle, (kind, signum) in enumerate(cycles):
            _copy(
                f"sqlite:///{empty if kind == 'first crawl' else before_new}",
                Path(killed_db.removeprefix("sqlite:///")),
            )
            known = scalar(killed_db, "SELECT count(*) FROM documents")
            last_run = scalar(killed_db, "SELECT coalesce(max(id), 0) FROM crawl_runs")
            # the cut falls at a random moment of the crawl's work: once it has stored a random share of what it has
            # to store (0: right after its start), plus a random fraction of a second
            new = MIRROR_RELEASES - known
            target, lag = rng.uniform(0.0, 0.95) * new, rng.uniform(0.0, 0.5)
            victim = CrawlProcess(killed)
            try:
                _started(victim, killed_db)
                started = time.monotonic()
                while scalar(killed_db, "SELECT count(*) FROM documents") - known < target:
                    assert victim.process.poll() is None, "the crawl ended before its cut"
                    time.sleep(0.02)
                time.sleep(lag)
                at = time.monotonic() - started
                victim.signal(signum)
                code = victim.wait(timeout=120)
                deadline = time.monotonic() + 10
                while victim.group_alive() and time.monotonic() < deadline:  # the worker follows its crawl
                    time.sleep(0.1)
                assert victim.group_alive() == [], f"processes left after {signum.name}"
                stderr = victim.stderr()
            finally:
                victim.close()
            if signum == signal.SIGTERM:
                assert "Traceback" not in stderr, stderr[-3000:]
            kept = scalar(killed_db, "SELECT count(*) FROM documents") - known
            repair = crawl(killed)
            _ok(repair)
            view = archive_view(killed_db)
            assert view["duplicate_urls"] == 0 and view["versions"] == 0
            missing = {d[0] for d in expected[kind]["documents"]} - {d[0] for d in view["documents"]}
            assert not missing, f"cycle {cycle} ({kind}): {len(missing)} documents never fetched"
            assert view == expected[kind], f"cycle {cycle} ({kind}): the archive differs from the clean run's"
            archive = open_archive(killed_db, migrate=False)
            try:
                interrupt_stale_runs(archive)  # what `lawwatch run` / `status` do with a killed crawl's rows
            finally:
                archive.dispose()
            cycle_runs = Counter(r[0] for r in rows(killed_db, f"SELECT status FROM crawl_runs WHERE id > {last_run}"))
            assert cycle_runs["running"] == 0
            statuses.update(cycle_runs)
            report.append(
                {
                    "cycle": cycle,
                    "kind": kind,
                    "signal": signum.name,
                    "target": round(target),
                    "at": round(at, 2),
                    "exit": code,
                    "kept": kept,
                    "repair_new": sum(r["new"] for r in repair.sources.values()),
                    "repair_resumed": sum(r["resumed"] for r in repair.sources.values()),
                    "documents": len(view["documents"]),
                }
            )
    print("\nkill cycles:", *report, f"runs of the killed archive: {dict(statuses)}", sep="\n  ")
    assert len(report) >= 10
    assert sum(r["repair_new"] for r in report) > 0  # the kills did cut crawls short
    assert any(r["repair_resumed"] for r in report if r["kind"] == "new releases")  # resumed to a boundary


@pytest.mark.timeout(120)
def test_a_release_page_lost_to_a_transient_error_is_fetched_by_the_next_crawl(tmp_path: Path) -> None:
    with MirrorServer() as mirror:
        settings, db_url = write_settings(mirror, tmp_path, replace={"retry_times = 2": "retry_times = 0"})
        oldest = mirror.justice.releases[-1]
        mirror.set_fault(f"{JUSTICE}{oldest.path}", "500", times=1)  # once: the next request would succeed
        first = crawl(settings, "doj_news")
        assert first.sources["doj_news"]["status"] == "partial" and first.sources["doj_news"]["errors"] == 1
        assert scalar(db_url, "SELECT count(*) FROM documents") == len(mirror.justice.releases) - 1
        second = crawl(settings, "doj_news")  # the listing's first pages are all known now: it resumes past them
        _ok(second)
        assert second.sources["doj_news"]["new"] == 1 and second.sources["doj_news"]["resumed"] >= 1
        assert scalar(db_url, "SELECT count(*) FROM documents") == len(mirror.justice.releases)
        assert scalar(db_url, "SELECT count(*) FROM source_state WHERE key LIKE 'walk:%'") == 2  # two listings
        before = mirror.requests(JUSTICE)
        third = crawl(settings, "doj_news")  # finished: the next crawl needs only the listings' first pages
        _ok(third)
        assert third.sources["doj_news"]["resumed"] == 0
        assert mirror.requests(JUSTICE) - before <= 3  # robots.txt is outside; two listing pages (304s)
