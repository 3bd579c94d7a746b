"""A page's second query run beside its first: the search page's facets while its hits are found, a jurisdiction's
newest documents while its timeline's events are.

The facets and the hits are separate statements over the same filter (each a few tens of milliseconds at a million
documents); on PostgreSQL each runs in its own server process, on SQLite in a thread of this one (``sqlite3`` lets
go of the GIL while a statement runs), so the page waits for the longer of the two instead of their sum. They read
through a pool of their own (``WORKERS`` threads, a connection each at most, opened as the archive's own are: the
same URL, options and connect-time settings), so a page holding one of the app's connections
never waits for a second one from the same pool — many pages at once could otherwise each hold one and wait for
another until the pool's timeout. Each statement sees the committed state when it starts, on the page's connection
or here alike (PostgreSQL's READ COMMITTED; a SQLite file in WAL mode: each read its own snapshot).

An in-memory SQLite archive is left as it is (a second connection would be another, empty database): its page's
statements run one after the other on the page's session.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from lawwatch.pipeline.db import Archive

T = TypeVar("T")
WORKERS = 4
THREADS = "lawwatch-side"  # the name of its threads


@contextmanager
def read_session(archive: Archive, read_only: bool) -> Iterator[Session]:
    """A session of ``archive`` for one request, its transaction read-only unless ``read_only`` is False."""
    with archive.session() as s:
        if not read_only:
            yield s
            return
        if archive.dialect == "postgresql":
            s.execute(text("SET TRANSACTION READ ONLY"))
            # psycopg prepares a statement run five times on a connection, and PostgreSQL may then plan it once for
            # any parameters: for a page's queries (a place on 20% of the archive or on 5 documents, a common or a
            # rare word) that generic plan is often 10x slower than planning with the values
            s.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
            # no parallel workers: a page's statements already run beside each other (its search, its facets), and
            # workers started for one of them take the cores the others run on ("immigration" within a place on a
            # fifth of a million documents, two cores: the page 93-96 ms p50 with the search's two workers, 81-82
            # without)
            s.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
            yield s
            return
        s.execute(text("PRAGMA query_only = ON"))
        try:
            yield s
        finally:
            s.execute(text("PRAGMA query_only = OFF"))


class SideQueries:
    """Runs ``fn(session)`` in a read session of its own, beside the caller (PostgreSQL, a SQLite file); built at
    first use."""

    def __init__(self, archive: Archive, read_only: bool) -> None:
        self.source = archive
        self.read_only = read_only
        # reentrant: a garbage collection while it is held (building the pool) may collect the app, whose finalizer
        # closes this in the same thread
        self.lock = threading.RLock()
        self.archive: Archive | None = None
        self.executor: ThreadPoolExecutor | None = None

    @property
    def enabled(self) -> bool:
        if self.source.dialect == "postgresql":
            return True
        # SQLite: a file's second connection reads the same database (WAL: beside the first), and sqlite3 lets go of
        # the GIL while a statement runs; an in-memory database's would be another, empty one
        database = self.source.engine.url.database or ""
        return database not in ("", ":memory:") and "mode=memory" not in str(self.source.engine.url)

    def submit(self, fn: Callable[[Session], T]) -> Future[T]:
        archive, executor = self._open()
        return executor.submit(self._run, archive, fn)

    def _run(self, archive: Archive, fn: Callable[[Session], T]) -> T:
        with read_session(archive, self.read_only) as s:
            return fn(s)

    def _open(self) -> tuple[Archive, ThreadPoolExecutor]:
        with self.lock:
            if self.archive is None or self.executor is None:
                engine = self.source.engine
                # a pool like the archive's (same creator: URL, connect arguments, connect-time events), not shared
                own = create_engine(engine.url, pool=engine.pool.recreate())
                self.archive = Archive(own, sessionmaker(own, expire_on_commit=False))
                self.executor = ThreadPoolExecutor(WORKERS, thread_name_prefix=THREADS)
            return self.archive, self.executor

    def close(self) -> None:
        """Wait for what runs, then close the threads and the connections (the app's shutdown, or its collection).
        Called in one of its own threads (the app collected by a garbage collection that ran there), it cannot wait
        for itself: the threads then end once what runs is done."""
        with self.lock:
            executor, archive = self.executor, self.archive
            self.executor = self.archive = None
        if executor is not None:
            executor.shutdown(wait=not threading.current_thread().name.startswith(THREADS))
        if archive is not None:
            archive.dispose()


def side_queries(app: Any, archive: Archive, read_only: bool) -> SideQueries:
    """The app's side queries, closed when the app shuts down or is collected (tests build many apps)."""
    side = SideQueries(archive, read_only)
    weakref.finalize(app, side.close)
    return side
