"""Shared fixtures: an archive on SQLite and on the real PostgreSQL server.

``archive`` is parametrised over both backends. PostgreSQL tests run in a schema of their own, created for the test
session and dropped afterwards. When PostgreSQL does not answer they skip locally but FAIL under ``CI=true``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from lawwatch.pipeline.db import Archive, open_archive

EXAMPLES = Path(__file__).resolve().parent / "examples"
POSTGRES_URL = os.environ.get("LAWWATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_or_fail() -> str:
    engine = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        message = f"PostgreSQL at {POSTGRES_URL} does not answer: {exc.orig}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (required under CI=true)")
        pytest.skip(message)
    finally:
        engine.dispose()
    return POSTGRES_URL


@contextmanager
def _fresh_schema() -> Iterator[tuple[str, str]]:
    """``(url, schema)``: a new schema on the test server, dropped on exit."""
    url = _postgres_or_fail()
    schema = f"lw_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url, schema
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[tuple[str, str]]:
    """A fresh schema on the test server for this test session: ``(url, schema)``; dropped at the end."""
    with _fresh_schema() as found:
        yield found


def _reset_postgres(archive: Archive) -> None:
    with archive.engine.begin() as conn:
        conn.execute(
            sa.text(
                "TRUNCATE documents, document_versions, jurisdictions, document_jurisdictions, "
                "document_statutes, crawl_runs, http_cache, alert_outbox, source_state, document_sources, "
                "service_locks, source_health RESTART IDENTITY CASCADE"
            )
        )


@pytest.fixture(scope="session")
def _pg_archive(postgres_schema: tuple[str, str]) -> Iterator[Archive]:
    url, schema = postgres_schema
    archive = open_archive(url, schema=schema)
    yield archive
    archive.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def archive(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Archive]:
    """An empty, migrated archive on each backend."""
    if request.param == "sqlite":
        archive = open_archive(f"sqlite:///{tmp_path / 'archive.db'}")
        yield archive
        archive.dispose()
    else:
        archive = request.getfixturevalue("_pg_archive")
        _reset_postgres(archive)
        yield archive


@pytest.fixture
def pg_archive(_pg_archive: Archive) -> Iterator[Archive]:
    """An empty, migrated archive on PostgreSQL (mark the test ``postgres``)."""
    _reset_postgres(_pg_archive)
    yield _pg_archive


@pytest.fixture
def sqlite_archive(tmp_path: Path) -> Iterator[Archive]:
    archive = open_archive(f"sqlite:///{tmp_path / 'archive.db'}")
    yield archive
    archive.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose connections land in a fresh schema of their own (for code that opens the archive itself)."""
    with _fresh_schema() as (url, schema):
        yield f"{url}?options=-csearch_path%3D{schema}"
