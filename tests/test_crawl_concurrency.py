"""Two crawls at once on one archive (issue 8, item 4): no failed batch, no duplicate, the clean run's documents, on
SQLite and PostgreSQL; and two commands opening a fresh SQLite archive at once both find it migrated.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lawwatch.crawler.mirror.server import MirrorServer
from tests.helpers.crawl import ROOT, CrawlProcess, archive_view, crawl, rows, write_settings

EXTRA_RELEASES = 600  # 721 releases: a dozen batches per source, racing on the same documents


@pytest.fixture(scope="module")
def mirror() -> Iterator[MirrorServer]:
    with MirrorServer(extra_releases=EXTRA_RELEASES) as served:
        yield served


@pytest.fixture(scope="module")
def clean_run(mirror: MirrorServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings, db_url = write_settings(mirror, tmp_path_factory.mktemp("clean"))
    outcome = crawl(settings)
    assert outcome.code == 0, outcome.stderr[-3000:]
    return archive_view(db_url)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_crawls_at_once_converge_on_the_clean_runs_documents(
    mirror: MirrorServer, clean_run: dict[str, Any], tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    db_url = request.getfixturevalue("postgres_url") if backend == "postgres" else None
    settings, db_url = write_settings(mirror, tmp_path, db_url=db_url)  # a fresh archive: both migrate it at once
    started = time.monotonic()
    crawls = [CrawlProcess(settings), CrawlProcess(settings)]
    try:
        outcomes = [c.outcome(timeout=150) for c in crawls]
    finally:
        for c in crawls:
            c.close()
    seconds = time.monotonic() - started
    for outcome in outcomes:
        assert outcome.code == 0, outcome.stderr[-3000:]
        assert "Traceback" not in outcome.stderr, outcome.stderr[-3000:]
        for source, result in outcome.sources.items():
            assert (result["status"], result["errors"]) == ("ok", 0), (source, result)
    view = archive_view(db_url)
    assert view["duplicate_urls"] == 0
    assert view == clean_run
    new = {s: sum(o.sources[s]["new"] for o in outcomes) for s in outcomes[0].sources}
    unchanged = {s: sum(o.sources[s]["unchanged"] for o in outcomes) for s in outcomes[0].sources}
    assert sum(new.values()) == len(clean_run["documents"])  # each document is new to exactly one writer
    failed = rows(db_url, "SELECT count(*) FROM crawl_runs WHERE status <> 'ok'")
    assert failed == [(0,)]
    print(f"\n{backend}: two crawls in {seconds:.1f} s; new {new}, unchanged {unchanged}")


@pytest.mark.timeout(120)
def test_two_commands_migrate_a_fresh_sqlite_archive_at_once(tmp_path: Path) -> None:
    """Each round, two processes open the same new SQLite file at the same moment: both succeed."""
    script = (
        "import sys, time\n"
        "from lawwatch.pipeline.db import open_archive\n"
        "at = float(sys.argv[2])\n"
        "time.sleep(max(0.0, at - time.time()))\n"
        "open_archive(sys.argv[1]).dispose()\n"
    )
    for round_ in range(3):
        db_url = f"sqlite:///{tmp_path / f'archive-{round_}.db'}"
        at = time.time() + 1.5  # both are past their imports by then
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", script, db_url, str(at)], cwd=ROOT, stderr=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        for process in processes:
            _, stderr = process.communicate(timeout=60)
            assert process.returncode == 0, stderr[-2000:]
        assert rows(db_url, "SELECT count(*) FROM alembic_version") == [(1,)]
