"""Issue 9: ``datasette var/lawwatch.db`` searches documents out of the box.

Datasette finds a table's FTS index by the text of its ``CREATE VIRTUAL TABLE`` (``content="documents"``); migration
0007 declares the archive's FTS5 table that way. Checked in-process with Datasette's own client, on a new archive and
on an archive made at schema 0002 and migrated through 0006; lawwatch's own search (bm25, snippets, triggers) still
works on both sides of 0007.
"""

from __future__ import annotations

import asyncio
import io
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lawwatch.pipeline.db import Archive, current_revision, downgrade, head_revision, make_engine, open_archive, upgrade
from lawwatch.pipeline.runs import import_stream
from lawwatch.pipeline.search import search
from tests.conftest import EXAMPLES

datasette_app = pytest.importorskip("datasette.app", reason="datasette is in the test extra")
from datasette.utils import detect_fts  # noqa: E402 - after the importorskip

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "archive_0002.db"
API_CORPUS = EXAMPLES / "import" / "doj_api_corpus.jsonl"


def _datasette_search(path: Path, term: str, table: str = "documents") -> tuple[int, list[dict[str, Any]]]:
    """Status and rows of Datasette's ``_search`` on ``table`` of the database file at ``path``."""

    async def fetch() -> tuple[int, list[dict[str, Any]]]:
        ds = datasette_app.Datasette([str(path)])
        await ds.invoke_startup()
        response = await ds.client.get(f"/{path.stem}/{table}.json?_search={term}&_shape=array&_col=title")
        return response.status_code, response.json() if response.status_code == 200 else []

    return asyncio.run(fetch())


def _fts_table(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return detect_fts(conn.connection.driver_connection, "documents")  # type: ignore[arg-type]


def _lawwatch_ids(archive: Archive, query: str) -> list[int]:
    with archive.session() as session:
        result = search(session, query, limit=100)
    assert all("[" in hit.snippet for hit in result.hits)  # snippets still highlight
    return sorted(hit.document_id for hit in result.hits)


def _ids(engine: sa.Engine, like: str) -> list[int]:
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT id FROM documents WHERE body_text LIKE :p ORDER BY id"), {"p": like})
        return [row[0] for row in found]


def test_datasette_searches_a_new_archive(tmp_path: Path) -> None:
    path = tmp_path / "lawwatch.db"
    archive = open_archive(f"sqlite:///{path}")
    try:
        with API_CORPUS.open(encoding="utf-8") as stream:
            assert import_stream(archive, stream, file="corpus.jsonl")["new"] == 5
        assert _fts_table(archive.engine) == "documents_fts"
        expected = _ids(archive.engine, "%Mujagic%")
        assert len(expected) == 1
        status, rows = _datasette_search(path, "Mujagic")
        assert status == 200 and [r["id"] for r in rows] == expected
        assert _lawwatch_ids(archive, "Mujagic") == expected
        # stemming (porter) as in lawwatch's search: "extradite" finds "extradited"
        status, rows = _datasette_search(path, "extradite")
        assert sorted(r["id"] for r in rows) == _lawwatch_ids(archive, "extradite") != []
        # the triggers still keep the index in step
        with archive.engine.begin() as conn:
            conn.execute(sa.text("UPDATE documents SET body_text = 'Zanzibar only' WHERE id = :i"), {"i": expected[0]})
        assert _datasette_search(path, "Mujagic")[1] == []
        assert [r["id"] for r in _datasette_search(path, "Zanzibar")[1]] == expected
    finally:
        archive.dispose()


def test_migration_0007_on_an_archive_from_0002(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copyfile(FIXTURE, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine, "0006")
        assert _fts_table(engine) is None  # content='documents': Datasette does not see it
        expected = _ids(engine, "%Philadelphia%")
        documents = _ids(engine, "%")
        assert expected and len(expected) < len(documents)
        status, rows = _datasette_search(path, "Philadelphia")
        assert status == 200 and [r["id"] for r in rows] == documents[:100]  # the search was ignored: every row
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert _fts_table(engine) == "documents_fts"
        status, rows = _datasette_search(path, "Philadelphia")
        assert status == 200 and sorted(r["id"] for r in rows) == expected  # the rebuilt index holds every document
        archive = Archive(engine, sa.orm.sessionmaker(engine))
        assert _lawwatch_ids(archive, "Philadelphia") == expected[:100]
        downgrade(engine, "0006")
        assert _fts_table(engine) is None and _lawwatch_ids(archive, "Philadelphia") == expected[:100]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_is_unaffected(pg_archive: Archive) -> None:
    with io.StringIO(API_CORPUS.read_text("utf-8")) as stream:
        import_stream(pg_archive, stream, file="corpus.jsonl")
    assert current_revision(pg_archive.engine) == head_revision() == "0009"
    assert len(_lawwatch_ids(pg_archive, "Mujagic")) == 1
