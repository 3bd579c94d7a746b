"""Migration 0003: listing signatures move from ``documents.metadata`` into ``source_state``.

``fixtures/archive_0002.db`` was made by the code of schema 0002 (``fixtures/make_archive_0002.py``: four mirror
sources crawled, one release edited and crawled again). Upgrading a copy keeps every document and version as it
was, minus the signatures, and a crawl of the same mirror then downloads nothing again. The same move is checked on
PostgreSQL with documents written at 0002.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
import sqlalchemy as sa

from lawwatch.crawler.mirror.server import MirrorServer
from lawwatch.pipeline.db import current_revision, downgrade, head_revision, make_engine, upgrade
from lawwatch.pipeline.models import Document, DocumentVersion
from tests.fixtures.make_archive_0002 import EDITED, PORT, SOURCES, settings_text
from tests.helpers.crawl import ROOT, crawl, release_page_requests, rows

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "archive_0002.db"
KEPT = "id, source, url, external_id, title, body_text, content_hash, doc_type, updated_at, fetched_at"


def _metadata(db_url: str, table: str = "documents") -> dict[int, dict[str, Any]]:
    return {
        i: m if isinstance(m, dict) else json.loads(m) for i, m in rows(db_url, f"SELECT id, metadata FROM {table}")
    }


@pytest.fixture
def archive_0002(tmp_path: Path) -> Iterator[tuple[str, MirrorServer]]:
    """A copy of the 0002 fixture whose URLs point at a mirror of this test (the fixture's is on ``PORT``), and that
    mirror, in the state the fixture was crawled in."""
    path = tmp_path / "archive.db"
    shutil.copyfile(FIXTURE, path)
    db_url = f"sqlite:///{path}"
    with MirrorServer() as mirror:
        old, new = f"http://127.0.0.1:{PORT}/", mirror.base_url + "/"
        engine = sa.create_engine(db_url)
        with engine.begin() as conn:
            for table, column in (("documents", "url"), ("documents", "external_id"), ("http_cache", "url")):
                statement = sa.text(f"UPDATE {table} SET {column} = replace({column}, :old, :new)")
                conn.execute(statement, {"old": old, "new": new})
        engine.dispose()
        # The edit as the fixture's second crawl saw it; an edit stamps the release with the time it is made.
        edited = mirror.edit("www.justice.gov", which=EDITED)
        (meta,) = [m for (u, m) in rows(db_url, "SELECT url, metadata FROM documents") if u == edited]
        release = next(r for r in mirror.justice.releases if mirror.url(r.url) == edited)
        release.changed = int(json.loads(meta)["signatures"]["doj_api"])  # nothing is served (cached) yet
        yield db_url, mirror


def test_upgrade_moves_signatures_and_keeps_documents(archive_0002: tuple[str, MirrorServer]) -> None:
    db_url, _ = archive_0002
    before = rows(db_url, f"SELECT {KEPT} FROM documents ORDER BY id")
    versions = rows(db_url, "SELECT * FROM document_versions ORDER BY id")
    metadata, old_versions = _metadata(db_url), _metadata(db_url, "document_versions")
    urls = {r[0]: (r[2], r[1], r[3]) for r in before}
    expected = sorted(
        (source, urls[i][0], urls[i][2] if source == urls[i][1] else None, signature)
        for i, meta in metadata.items()
        for source, signature in meta["signatures"].items()
    )
    assert len(expected) > len(before) and old_versions and all("signatures" in m for m in old_versions.values())

    engine = make_engine(db_url)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()

    assert rows(db_url, f"SELECT {KEPT} FROM documents ORDER BY id") == before  # no content or version bump
    assert len(rows(db_url, "SELECT * FROM document_versions")) == len(versions)
    assert _metadata(db_url) == {i: {k: v for k, v in m.items() if k != "signatures"} for i, m in metadata.items()}
    assert all("signatures" not in m for m in _metadata(db_url, "document_versions").values())
    moved = rows(db_url, "SELECT source, key, external_id, signature FROM source_state")
    assert sorted(moved) == expected
    plan = " ".join(str(r) for r in rows(db_url, "EXPLAIN QUERY PLAN SELECT key FROM source_state WHERE source = 'x'"))
    assert "USING" in plan and "INDEX" in plan.upper()  # a per-source read is an index range, not a scan

    engine = make_engine(db_url)
    downgrade(engine, "0002")  # and back: the signatures return to the documents
    engine.dispose()
    assert _metadata(db_url) == metadata


@pytest.mark.timeout(240)
def test_upgraded_archive_crawls_incrementally_and_exports_no_signatures(
    archive_0002: tuple[str, MirrorServer], tmp_path: Path
) -> None:
    db_url, mirror = archive_0002
    settings = tmp_path / "settings.toml"
    settings.write_text(settings_text(mirror.base_url, db_url), "utf-8")
    documents = rows(db_url, f"SELECT {KEPT} FROM documents ORDER BY id")
    before = mirror.request_counts()

    outcome = crawl(settings, *SOURCES)  # opening the archive upgrades it

    requested = {p: n - before.get(p, 0) for p, n in mirror.request_counts().items() if n - before.get(p, 0)}
    assert outcome.code == 0 and all(r["status"] == "ok" for r in outcome.sources.values()), outcome.stderr[-2000:]
    assert all(r["new"] == r["updated"] == r["unchanged"] == 0 for r in outcome.sources.values()), outcome.sources
    assert release_page_requests(requested) == 0, requested
    assert {p for p in requested if "courthousenews" in p} == {"/www.courthousenews.com/feed/"}, requested
    assert rows(db_url, f"SELECT {KEPT} FROM documents ORDER BY id") == documents

    out = tmp_path / "export.jsonl"
    args = [sys.executable, "-m", "lawwatch", "--config", str(settings), "export", "-o", str(out)]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    exported = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(exported) == len(documents)
    assert not any("signatures" in record["metadata"] for record in exported)
    assert any(record["metadata"] for record in exported)  # the rest of the metadata is still there


# ---------------------------------------------------------------- the same move on each backend, from documents
# written at revision 0002
def _backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'archive.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def at_0002(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    engine = make_engine(_backend_url(request, tmp_path))
    upgrade(engine, "0002")
    yield engine
    engine.dispose()


def _document(n: int, source: str, metadata: dict[str, Any], url: str | None = "") -> dict[str, Any]:
    when = datetime(2018, 1, n, tzinfo=UTC)
    return {
        "source": source,
        "url": f"https://www.justice.gov/opa/pr/r{n}" if url == "" else url,
        "external_id": f"id-{n}",
        "title": f"Release {n}",
        "published_at": when,
        "fetched_at": when,
        "updated_at": when,
        "body_text": "Text.",
        "content_hash": f"{n:064d}",
        "doc_type": "press_release",
        "form": "press_release",
        "metadata": metadata,
    }


def test_migration_moves_signatures_on_each_backend(at_0002: sa.Engine) -> None:
    documents, versions = cast(sa.Table, Document.__table__), cast(sa.Table, DocumentVersion.__table__)
    signed = {"topics": ["Immigration"], "signatures": {"doj_api": "1526655600", "doj_news": "2018-05-18"}}
    with at_0002.begin() as conn:
        conn.execute(
            sa.insert(documents),
            [
                _document(1, "doj_api", signed),
                _document(2, "doj_rss", {"signatures": {"doj_rss": "Fri, 18 May 2018"}}),
                _document(3, "doj_api", {"components": ["OPA"]}),  # never listed with a signature
                _document(4, "doj_api", {"note": "a 'signatures' word in a value", "signatures": "not a mapping"}),
                _document(5, "import", {"signatures": {"doj_news": "x"}}, url=None),  # no URL: nothing to key it by
            ],
        )
        conn.execute(
            sa.insert(versions),
            [
                {
                    "document_id": 1,
                    "title": "Release 1",
                    "body_text": "Old text.",
                    "content_hash": "f" * 64,
                    "metadata": {"signatures": {"doj_api": "1500000000"}, "topics": []},
                    "fetched_at": datetime(2018, 1, 1, tzinfo=UTC),
                    "superseded_at": datetime(2018, 1, 2, tzinfo=UTC),
                }
            ],
        )
    upgrade(at_0002)
    with at_0002.connect() as conn:
        state = conn.execute(sa.text("SELECT source, key, external_id, signature FROM source_state")).all()
        docs = conn.execute(sa.select(documents.c.id, documents.c.metadata, documents.c.updated_at)).all()
        old = conn.execute(sa.select(versions.c.metadata)).scalar_one()
        count = conn.execute(sa.select(sa.func.count()).select_from(versions)).scalar_one()
    assert sorted(tuple(r) for r in state) == [
        ("doj_api", "https://www.justice.gov/opa/pr/r1", "id-1", "1526655600"),
        ("doj_news", "https://www.justice.gov/opa/pr/r1", None, "2018-05-18"),
        ("doj_rss", "https://www.justice.gov/opa/pr/r2", "id-2", "Fri, 18 May 2018"),
    ]
    assert {r.id: r.metadata for r in docs} == {
        1: {"topics": ["Immigration"]},
        2: {},
        3: {"components": ["OPA"]},
        4: {"note": "a 'signatures' word in a value", "signatures": "not a mapping"},  # not ours: left alone
        5: {},
    }
    assert all(r.updated_at == datetime(2018, 1, r.id, tzinfo=UTC) for r in docs)
    assert (old, count) == ({"topics": []}, 1)
