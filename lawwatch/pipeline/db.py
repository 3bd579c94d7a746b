"""Opening the archive: engine, sessions and migrations applied on first use.

``open_archive(config.archive)`` is the only way code reaches the database: it builds the engine (SQLite with WAL
and foreign keys on; PostgreSQL through psycopg 3), applies pending Alembic migrations, and hands out sessions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from lawwatch.errors import ArchiveError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant works as long as every lawwatch process uses the same one: it serialises concurrent upgrades.
_PG_MIGRATION_LOCK = 0x1A3_1373


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    # Searches read document rows at random across a large file: a 64 MiB page cache and memory-mapped reads
    # (up to 1 GiB) serve those from memory instead of a read() per page.
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA mmap_size=1073741824")
    cur.close()


def make_engine(url: str, *, echo: bool = False, schema: str | None = None) -> Engine:
    """An engine for ``url``; ``schema`` puts every table of a PostgreSQL archive in that schema (tests use it)."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError and ValueError subclasses here
        raise ArchiveError(f"archive url is not a database URL: {exc}") from None
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if backend == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        if schema:
            kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
        kwargs["pool_pre_ping"] = True
        return create_engine(parsed, **kwargs)
    raise ArchiveError(f"unsupported archive backend {backend!r}: use sqlite:/// or postgresql://")


def _alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision``; safe to call from several processes at once on PostgreSQL."""
    try:
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
                cfg = _alembic_config(engine)
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
        else:
            command.upgrade(_alembic_config(engine), revision)
    except SQLAlchemyError as exc:
        raise ArchiveError(f"cannot migrate the archive: {exc.__class__.__name__}: {exc}") from exc


def downgrade(engine: Engine, revision: str = "base") -> None:
    command.downgrade(_alembic_config(engine), revision)


@dataclass(frozen=True)
class Archive:
    """An opened archive: its engine and a session factory."""

    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        with self.sessions.begin() as session:
            yield session

    def optimize(self) -> None:
        """Refresh the planner's statistics after bulk writes (SQLite; PostgreSQL's autovacuum does this itself)."""
        if self.dialect == "sqlite":
            with self.engine.begin() as conn:
                conn.exec_driver_sql("PRAGMA optimize")

    def dispose(self) -> None:
        self.engine.dispose()


def open_archive(url: str, *, echo: bool = False, schema: str | None = None, migrate: bool = True) -> Archive:
    """Open (and on first use create or migrate) the archive at ``url``."""
    engine = make_engine(url, echo=echo, schema=schema)
    try:
        if migrate and current_revision(engine) != head_revision():
            upgrade(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise ArchiveError(f"cannot open the archive: {exc.__class__.__name__}: {exc.orig or exc}") from exc
    return Archive(engine, sessionmaker(engine, expire_on_commit=False))
