"""Opening the archive: engine, sessions and migrations applied on first use.

``open_archive(config.archive)`` is the only way code reaches the database: it builds the engine (SQLite with WAL
and foreign keys on; PostgreSQL through psycopg 3), applies pending Alembic migrations, and hands out sessions.
Migrations are serialised between processes: a transaction-scoped advisory lock on PostgreSQL, an exclusive
``flock`` on ``<archive>.migrate.lock`` beside a SQLite file (two commands opening a fresh archive at once: one
migrates, the other finds it migrated).

Opening an archive that is already at the newest revision does not import Alembic (about a third of a second of
start-up): the stored revision is read with one plain query and compared with the head found by reading the
``revision = ...`` lines of the migration scripts. Alembic runs only when there is something to migrate.
"""

from __future__ import annotations

import ast
import fcntl
import logging
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from lawwatch.errors import ArchiveError, NoArchiveError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
# Any constant works as long as every lawwatch process uses the same one: it serialises concurrent upgrades.
_PG_MIGRATION_LOCK = 0x1A3_1373
# ``revision = "0002"`` / ``down_revision: str | None = "0001"`` at the start of a line of a migration script.
_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*(?:#.*)?$", re.M)

logger = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=30000")
    _switch_to_wal(cur)
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    # Searches read document rows at random across a large file: a 64 MiB page cache and memory-mapped reads
    # (up to 1 GiB) serve those from memory instead of a read() per page.
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA mmap_size=1073741824")
    cur.close()


def _switch_to_wal(cur: Any, patience: float = 30.0) -> None:
    """``PRAGMA journal_mode=WAL``, waiting for another process that holds the file's lock (a new archive being
    created and migrated by another command): SQLite answers that pragma "database is locked" at once instead of
    waiting for its busy timeout."""
    deadline = time.monotonic() + patience
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


PG_CONNECT_TIMEOUT = 10  # seconds; a URL's own connect_timeout wins


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite archive URL, ``~`` expanded; None for other backends, in-memory and ``file:`` URIs."""
    try:
        parsed = make_url(url)
    except Exception:  # not a URL: make_engine says so
        return None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:") or parsed.query.get("uri"):
        return None
    return Path(database).expanduser()


def make_engine(url: str, *, echo: bool = False, schema: str | None = None, create: bool = True) -> Engine:
    """An engine for ``url``; ``schema`` puts every table of a PostgreSQL archive in that schema (tests use it).

    A SQLite path may start with ``~``. With ``create`` the folders of a new SQLite file are made; without it a
    SQLite file that does not exist is ``NoArchiveError`` (commands that only read never create an archive)."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError and ValueError subclasses here
        raise ArchiveError(f"archive url is not a database URL: {one_line(str(exc))}") from None
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if backend == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            _check_sqlite_file(path, create)
            parsed = parsed.set(database=str(path))
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        connect_args: dict[str, Any] = {}
        if "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT
        # JIT off: PostgreSQL compiles a statement whose plan costs more than jit_above_cost, and an archive's
        # plans do at a million documents (a planner setting that turns a scan off costs it 10^10): 300+ ms of
        # compiling for a statement that then runs in 1 ms (the search page's facets). No statement of an archive
        # runs long enough to win it back.
        given = parsed.query.get("options")
        options = [given] if isinstance(given, str) else []
        if schema:
            options.append(f"-csearch_path={schema}")
        connect_args["options"] = " ".join([*options, "-cjit=off"])
        kwargs["connect_args"] = connect_args
        kwargs["pool_pre_ping"] = True
        return create_engine(parsed, **kwargs)
    raise ArchiveError(f"unsupported archive backend {backend!r}: use sqlite:/// or postgresql://")


def _check_sqlite_file(path: Path, create: bool) -> None:
    """A SQLite archive's file must be a file; a new one (``create``) gets its folders, else ``NoArchiveError``."""
    try:
        if path.is_file():
            return
        if path.exists():
            raise ArchiveError(f"the archive {path} is not a file")
        if not create:
            raise NoArchiveError(str(path.absolute()))
        blocker = next((p for p in path.parents if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            raise ArchiveError(f"cannot create the archive at {path}: {blocker} is a file, not a folder")
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchiveError(f"cannot create the archive at {path}: {exc.strerror or exc}") from None


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line, at most ``limit`` characters (drivers' messages span lines and can be long)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_error(exc: SQLAlchemyError) -> str:
    """``ClassName: message`` of a database error on one line; the driver's own error when SQLAlchemy wraps one.

    Only DBAPI errors wrap a driver error (``.orig``); a pool timeout, for one, is raised by SQLAlchemy itself."""
    orig = getattr(exc, "orig", None)
    return f"{exc.__class__.__name__}: {one_line(str(orig or exc))}"


def _alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def _script_revisions(migrations: Path) -> dict[str, tuple[str, ...]] | None:
    """``{revision: its down revisions}`` from the scripts' ``revision =`` lines; None when a script is unclear."""
    graph: dict[str, tuple[str, ...]] = {}
    for script in sorted((migrations / "versions").glob("*.py")):
        values: dict[str, Any] = {}
        for name, value in _REVISION_LINE.findall(script.read_text(encoding="utf-8")):
            try:
                values.setdefault(name, ast.literal_eval(value))
            except (ValueError, SyntaxError):
                return None
        if "revision" not in values:
            if script.name == "__init__.py":
                continue
            return None
        down = values.get("down_revision")
        downs = () if down is None else (down,) if isinstance(down, str) else tuple(down)
        if not isinstance(values["revision"], str) or not all(isinstance(d, str) for d in downs):
            return None
        graph[values["revision"]] = downs
    return graph


def head_revision(migrations: Path = MIGRATIONS_DIR) -> str:
    """The newest migration's revision id, read from the scripts without importing Alembic.

    Falls back to Alembic's ``ScriptDirectory`` when a script does not spell its revision as a plain literal or the
    scripts do not have exactly one head (Alembic then says what is wrong)."""
    graph = _script_revisions(migrations)
    if graph:
        below = {down for downs in graph.values() for down in downs}
        heads = [revision for revision in graph if revision not in below]
        if len(heads) == 1:
            return heads[0]
    return _alembic_head(migrations)


def _alembic_head(migrations: Path = MIGRATIONS_DIR) -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(migrations)).get_current_head()
    if head is None:
        raise ArchiveError(f"no migrations in {migrations}")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the archive is at (None for an empty database), read with plain SQL."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        stored: list[str] = list(conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())
    if len(stored) > 1:  # several branch heads: let Alembic say what it makes of them
        from alembic.runtime.migration import MigrationContext

        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    return stored[0] if stored else None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision``; safe to call from several processes at once (PostgreSQL: an advisory
    lock; a SQLite file: a ``flock``). Whoever waited finds the archive migrated, and Alembic does nothing."""
    from alembic import command
    from alembic.util import CommandError

    try:
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
                cfg = _alembic_config(engine)
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
        else:
            with _sqlite_migration_lock(engine):
                command.upgrade(_alembic_config(engine), revision)
    except SQLAlchemyError as exc:
        raise ArchiveError(f"cannot migrate the archive: {describe_error(exc)}") from exc
    except CommandError as exc:  # e.g. the archive is at a revision this version of lawwatch does not know
        raise ArchiveError(f"cannot migrate the archive: {exc}") from exc


@contextmanager
def _sqlite_migration_lock(engine: Engine) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``<archive file>.migrate.lock`` (nothing for PostgreSQL or an in-memory
    SQLite database): processes migrating the same SQLite file take turns."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    path = Path(database).expanduser()
    with open(path.with_name(path.name + ".migrate.lock"), "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def downgrade(engine: Engine, revision: str = "base") -> None:
    from alembic import command

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
        """A session whose transaction commits on success and rolls back on any error.

        When every pooled connection stays busy for the pool's timeout, that is an ``ArchiveError``."""
        try:
            with self.sessions.begin() as session:
                yield session
        except PoolTimeoutError as exc:
            raise ArchiveError(f"the archive is busy: no database connection came free in time ({exc})") from exc

    def optimize(self) -> None:
        """Refresh the planner's statistics after bulk writes (SQLite; PostgreSQL's autovacuum does this itself).

        Best effort: the writes are committed already, and ``PRAGMA optimize`` can meet another writer (a
        dispatcher, a second crawl) and fail at once with "database is locked" despite the busy timeout — then the
        statistics are refreshed by a later call, and nothing is reported as failed."""
        if self.dialect == "sqlite":
            try:
                with self.engine.begin() as conn:
                    conn.exec_driver_sql("PRAGMA optimize")
            except OperationalError as exc:
                logger.info("PRAGMA optimize skipped: %s", exc.orig)

    def dispose(self) -> None:
        self.engine.dispose()


def open_archive(
    url: str, *, echo: bool = False, schema: str | None = None, migrate: bool = True, create: bool = True
) -> Archive:
    """Open (and on first use create or migrate) the archive at ``url``. Without ``create`` a SQLite file that does
    not exist is ``NoArchiveError``: commands that only read never create an archive (an existing one is still
    migrated)."""
    engine = make_engine(url, echo=echo, schema=schema, create=create)
    try:
        if migrate and current_revision(engine) != head_revision():
            upgrade(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise ArchiveError(f"cannot open the archive: {describe_error(exc)}") from exc
    except ArchiveError:
        engine.dispose()
        raise
    return Archive(engine, sessionmaker(engine, expire_on_commit=False))
