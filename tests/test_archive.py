"""Migrations build the schema the ORM expects, on both backends; SQLite runs with WAL and foreign keys."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from lawwatch.errors import ArchiveError
from lawwatch.pipeline.db import Archive, current_revision, downgrade, head_revision, open_archive, upgrade
from lawwatch.pipeline.models import Base


def _diff(archive: Archive) -> list[object]:
    with archive.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    # the FTS structures and the PostgreSQL newest-first and type-id indexes are dialect-specific and live only in
    # migrations
    dialect_only = ("documents_fts", "search_vector", "ix_documents_newest", "ix_documents_doc_type_id")
    return [d for d in diff if not any(name in repr(d) for name in dialect_only)]


def test_migrated_schema_matches_models(archive: Archive) -> None:
    assert current_revision(archive.engine) == head_revision()
    assert _diff(archive) == []


def test_sqlite_pragmas(sqlite_archive: Archive) -> None:
    with sqlite_archive.engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


def test_downgrade_and_upgrade_again(tmp_path: Path) -> None:
    archive = open_archive(f"sqlite:///{tmp_path / 'a.db'}")
    downgrade(archive.engine, "base")
    assert sa.inspect(archive.engine).get_table_names() == ["alembic_version"]
    upgrade(archive.engine)
    assert "documents_fts" in sa.inspect(archive.engine).get_table_names()
    archive.dispose()


def test_first_use_creates_missing_directories(tmp_path: Path) -> None:
    archive = open_archive(f"sqlite:///{tmp_path / 'deep' / 'er' / 'a.db'}")
    assert (tmp_path / "deep" / "er" / "a.db").exists()
    archive.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://localhost/x", "unsupported archive backend"),
        ("not a url", "not a database URL"),
    ],
)
def test_bad_urls_are_clear_errors(url: str, message: str) -> None:
    with pytest.raises(ArchiveError, match=message):
        open_archive(url)


def test_unreachable_postgres_is_a_clear_error() -> None:
    with pytest.raises(ArchiveError, match="cannot open the archive"):
        open_archive("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
