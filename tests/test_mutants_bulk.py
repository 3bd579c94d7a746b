"""The driver-level writer the store uses (pipeline/bulk.py) on its own (issue 16): rows written through ``COPY`` or
``executemany`` read back as SQLAlchemy's own ``INSERT`` writes them, column type by column type (on SQLite even the
stored text is the same), and the driver's errors come out as SQLAlchemy's, naming the statement. On SQLite and
PostgreSQL: bulk.py branches on the backend.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Enum,
    Integer,
    MetaData,
    Numeric,
    PickleType,
    String,
    Table,
    insert,
    select,
    text,
)
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, ProgrammingError

from lawwatch.pipeline.bulk import copy_rows, is_postgres, sqlite_run
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.models import UTCDateTime

METADATA = MetaData()
PROBE = Table(
    "bulk_probe",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("flag", Boolean),
    Column("amount", Numeric(10, 2)),
    Column("naive", DateTime),
    Column("moment", UTCDateTime),
    Column("later", UTCDateTime),
    Column("doc", JSON),
    Column("label", String(40)),
)
NAMES = ("id", "flag", "amount", "naive", "moment", "later", "doc", "label")
MISSING = Table("bulk_never_created", MetaData(), Column("id", Integer, primary_key=True))

EASTERN = timezone(timedelta(hours=-5))
WHOLE = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # no microseconds: SQLAlchemy still writes ".000000" on SQLite
FRACTION = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
OFFSET = datetime(2017, 10, 18, 7, 35, tzinfo=EASTERN)  # 12:35 UTC
ROWS: list[tuple[Any, ...]] = [
    (1, True, Decimal("12.50"), datetime(2020, 5, 6, 7, 8, 9), WHOLE, FRACTION, {"a": [1, "é"], "b": None}, "one"),
    (2, False, Decimal("0.10"), datetime(2020, 5, 6, 7, 8, 9, 5), OFFSET, WHOLE, ["x"], "«two»"),
    (3, None, None, None, None, None, None, None),
    (4, True, Decimal("3.00"), datetime(1999, 12, 31), WHOLE, OFFSET, {"n": 4}, "tab\there"),
]


@pytest.fixture
def probe(archive: Archive) -> Iterator[Archive]:
    METADATA.create_all(archive.engine)
    try:
        yield archive
    finally:
        METADATA.drop_all(archive.engine)


def _read(archive: Archive) -> list[tuple[Any, ...]]:
    with archive.session() as s:
        return [tuple(row) for row in s.execute(select(PROBE).order_by(PROBE.c.id)).all()]


def _expected(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """What SQLAlchemy reads back of ``row``: aware datetimes in UTC."""
    return tuple(v.astimezone(UTC) if isinstance(v, datetime) and v.tzinfo else v for v in row)


def test_copied_rows_read_back_as_given(probe: Archive) -> None:
    with probe.session() as s:
        copy_rows(s, PROBE, NAMES, ROWS)
    assert _read(probe) == [_expected(row) for row in ROWS]


def test_copied_rows_are_stored_as_sqlalchemys_insert_stores_them(probe: Archive) -> None:
    with probe.session() as s:
        copy_rows(s, PROBE, NAMES, ROWS)
        s.execute(insert(PROBE), [dict(zip(NAMES, (row[0] + 100, *row[1:]), strict=True)) for row in ROWS])
    columns = ", ".join(f"CAST({name} AS TEXT)" for name in NAMES[1:])
    with probe.session() as s:
        stored = s.execute(text(f"SELECT id, {columns} FROM bulk_probe ORDER BY id")).all()
    copied = {row[0]: tuple(row[1:]) for row in stored if row[0] < 100}
    inserted = {row[0] - 100: tuple(row[1:]) for row in stored if row[0] > 100}
    assert copied == inserted and len(copied) == len(ROWS)
    assert copied[1][3] == ("2026-01-02 03:04:05" if is_postgres_archive(probe) else "2026-01-02 03:04:05.000000")


def test_copying_the_same_columns_again_converts_each_row(probe: Archive) -> None:
    first = [(n, None, None, None, WHOLE if n % 2 else FRACTION, None, None, None) for n in range(1, 7)]
    with probe.session() as s:
        copy_rows(s, PROBE, NAMES, first)
        copy_rows(s, PROBE, ("id", "moment"), [(7, OFFSET), (8, WHOLE)])
    assert [row[4] for row in _read(probe)] == [WHOLE, FRACTION] * 3 + [OFFSET.astimezone(UTC), WHOLE]


def test_rows_of_columns_needing_no_conversion_are_written_as_given(probe: Archive) -> None:
    with probe.session() as s:
        copy_rows(s, PROBE, ("label", "id"), [("a", 1), ("b", 2)])
    assert [(row[0], row[7]) for row in _read(probe)] == [(1, "a"), (2, "b")]


def test_no_rows_write_nothing_not_even_to_a_table_that_does_not_exist(probe: Archive) -> None:
    with probe.session() as s:
        copy_rows(s, MISSING, ("id",), [])
        copy_rows(s, PROBE, NAMES, [])
    assert _read(probe) == []


def test_a_refused_row_is_sqlalchemys_integrity_error_naming_the_statement(probe: Archive) -> None:
    with probe.session() as s:
        copy_rows(s, PROBE, ("id",), [(1,)])
    with pytest.raises(IntegrityError) as caught:
        with probe.session() as s:
            copy_rows(s, PROBE, ("id", "label"), [(2, "new"), (1, "again")])
    if is_postgres_archive(probe):
        import psycopg

        assert caught.value.statement == 'COPY bulk_probe ("id", "label") FROM STDIN'
        assert isinstance(caught.value.orig, psycopg.errors.UniqueViolation)
    else:
        import sqlite3

        assert caught.value.statement == 'INSERT INTO bulk_probe ("id", "label") VALUES (?, ?)'
        assert isinstance(caught.value.orig, sqlite3.IntegrityError)
    assert [row[0] for row in _read(probe)] == [1]  # nothing of the refused batch was kept


def test_a_value_of_the_wrong_kind_is_sqlalchemys_data_error(archive: Archive) -> None:
    METADATA.create_all(archive.engine)
    try:
        wrong = [(1, None, None, None, None, None, None, "x" * 41)]  # longer than String(40)
        if is_postgres_archive(archive):
            with pytest.raises(DataError):
                with archive.session() as s:
                    copy_rows(s, PROBE, NAMES, wrong)
        else:  # SQLite keeps any length
            with archive.session() as s:
                copy_rows(s, PROBE, NAMES, wrong)
            assert _read(archive)[0][7] == "x" * 41
    finally:
        METADATA.drop_all(archive.engine)


def test_copying_into_a_table_that_does_not_exist_is_sqlalchemys_error(archive: Archive) -> None:
    with pytest.raises((OperationalError, ProgrammingError)) as caught:
        with archive.session() as s:
            copy_rows(s, MISSING, ("id",), [(1,)])
    assert "bulk_never_created" in str(caught.value.statement)


class Court(enum.Enum):
    SUPREME = "scotus"
    APPEALS = "ca"


TYPED = Table(
    "bulk_probe_typed",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("court", Enum(Court, values_callable=lambda kind: [m.value for m in kind], native_enum=False)),
    Column("blob", PickleType),
)


def test_values_of_types_with_a_bind_processor_are_converted_as_sqlalchemy_binds_them(archive: Archive) -> None:
    TYPED.create(archive.engine)
    try:
        rows = [(1, Court.SUPREME, {"a": (1, 2)}), (2, Court.APPEALS, [3]), (3, None, None)]
        with archive.session() as s:
            copy_rows(s, TYPED, ("id", "court", "blob"), rows)
            s.execute(insert(TYPED), [{"id": 10 + r[0], "court": r[1], "blob": r[2]} for r in rows])
        with archive.session() as s:
            assert s.execute(select(TYPED).order_by(TYPED.c.id)).all() == [*rows, *((10 + r[0], *r[1:]) for r in rows)]
            stored = s.execute(text("SELECT id, court FROM bulk_probe_typed ORDER BY id")).all()
        assert stored == [(1, "scotus"), (2, "ca"), (3, None), (11, "scotus"), (12, "ca"), (13, None)]
    finally:
        TYPED.drop(archive.engine)


def is_postgres_archive(archive: Archive) -> bool:
    return archive.engine.dialect.name == "postgresql"


@pytest.mark.parametrize("archive", ["sqlite"], indirect=True)
def test_sqlite_run_returns_the_rows_of_a_statement_and_none_of_many(probe: Archive) -> None:
    with probe.session() as s:
        assert not is_postgres(s)
        assert sqlite_run(s, "INSERT INTO bulk_probe (id, label) VALUES (?, ?)", [(1, "a"), (2, "b")], many=True) == []
        assert sqlite_run(s, "SELECT id, label FROM bulk_probe WHERE id >= ? ORDER BY id", [1]) == [(1, "a"), (2, "b")]
        assert sqlite_run(s, "SELECT label FROM bulk_probe WHERE id = ?", (2,)) == [("b",)]
        with pytest.raises(OperationalError) as caught:
            sqlite_run(s, "SELECT no_column FROM bulk_probe", [])
        assert caught.value.statement == "SELECT no_column FROM bulk_probe"
        assert "no such column" in str(caught.value.orig)


@pytest.mark.postgres
def test_is_postgres_tells_the_backend(pg_archive: Archive) -> None:
    with pg_archive.session() as s:
        assert is_postgres(s)
