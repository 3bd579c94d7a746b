"""Writing rows straight through the database driver, for the store's bulk writes (issue 15: store within 0.9 of
writing the same rows raw): ``COPY … FROM STDIN`` on PostgreSQL, ``executemany`` / plain statements on SQLite's
``sqlite3`` cursor, in the session's transaction. Values are converted as SQLAlchemy's column types bind them
(:func:`converters`) and the driver's errors are raised as SQLAlchemy's (``IntegrityError`` …), so a caller sees
what an ``INSERT`` through SQLAlchemy would have given it. SQLAlchemy events and ``echo`` do not see these
statements.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from lawwatch.pipeline.models import UTCDateTime


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def dialect_insert(session: Session) -> Any:
    """The session's dialect's ``insert`` (with ``on_conflict_do_nothing`` / ``on_conflict_do_update``). SQLAlchemy's
    PostgreSQL dialect is imported only for a PostgreSQL session: the package imports every driver's module with it
    (asyncpg, pg8000, psycopg2…), which a process on SQLite (the crawl's worker, the CLI) need not pay for."""
    if is_postgres(session):
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    from sqlalchemy.dialects import sqlite

    return sqlite.insert


def copy_rows(session: Session, table: Table, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (values in the order of the column ``names``) in the session's transaction, straight through
    the driver: one ``COPY … FROM STDIN`` on PostgreSQL, one ``executemany`` on SQLite; values converted as the
    column types bind them (:func:`converters`). The database's errors are raised as SQLAlchemy's
    (``IntegrityError`` …), as an ``INSERT`` through SQLAlchemy would raise them."""
    if not rows:
        return
    columns = ", ".join(f'"{name}"' for name in names)
    values = converted(rows, converters(session, table, names))
    if not is_postgres(session):
        statement = f"INSERT INTO {table.name} ({columns}) VALUES ({', '.join('?' * len(names))})"
        sqlite_run(session, statement, values, many=True)
        return
    import psycopg

    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    statement = f"COPY {table.name} ({columns}) FROM STDIN"
    try:
        with cursor.copy(statement) as copy:
            for row in values:
                copy.write_row(row)
    except psycopg.Error as exc:
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc


def converters(session: Session, table: Table, names: Sequence[str]) -> list[tuple[int, Callable[[Any], Any]]]:
    """(position, function) for each column whose values the driver does not take as they are: what binding does.
    Aware datetimes become naive UTC (on SQLite the text SQLAlchemy stores, ``YYYY-MM-DD HH:MM:SS.ffffff``; each
    distinct value converted once), JSON values their text (``json.dumps``, SQLAlchemy's default serializer);
    anything else that has a bind processor for the dialect goes through it (on PostgreSQL too: an ``Enum`` stored
    by value, a ``PickleType``; the archive's own columns need none there)."""
    dialect = session.get_bind().dialect
    postgres = dialect.name == "postgresql"
    found: list[tuple[int, Callable[[Any], Any]]] = []
    for index, name in enumerate(names):
        kind = table.c[name].type
        if isinstance(kind, UTCDateTime):
            found.append((index, _time_converter(kind, dialect, text=not postgres)))
        elif isinstance(kind, JSON):
            found.append((index, json.dumps))
        elif (processor := kind.dialect_impl(dialect).bind_processor(dialect)) is not None:
            found.append((index, processor))
    return found


def _time_converter(kind: UTCDateTime, dialect: Any, *, text: bool) -> Callable[[Any], Any]:
    done: dict[datetime, Any] = {}

    def convert(value: datetime | None) -> Any:
        if value is None:
            return None
        found = done.get(value)
        if found is None:
            naive = kind.process_bind_param(value, dialect)
            found = done[value] = naive.isoformat(" ", "microseconds") if text and naive is not None else naive
        return found

    return convert


def converted(
    rows: Sequence[Sequence[Any]], converters: Sequence[tuple[int, Callable[[Any], Any]]]
) -> Sequence[Sequence[Any]]:
    if not converters:
        return rows
    out = []
    for row in rows:
        values = list(row)
        for index, convert in converters:
            values[index] = convert(values[index])
        out.append(values)
    return out


def sqlite_run(session: Session, statement: str, values: Any, *, many: bool = False) -> list[Any]:
    """Run ``statement`` on the session's SQLite connection (``executemany`` of ``values`` with ``many``); the rows
    it returns. Errors are SQLAlchemy's."""
    import sqlite3

    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if many:
            cursor.executemany(statement, values)
            return []
        found: list[Any] = cursor.execute(statement, values).fetchall()
        return found
    except sqlite3.Error as exc:
        raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc
    finally:
        cursor.close()
