"""A page's second query run beside its first (``web/side.py``): the search page's facets beside its search, a
jurisdiction's newest documents beside its timeline, on their own connections and threads, read-only, in the
archive's schema (PostgreSQL) or file (SQLite, with its settings), with the same page as one after the other; an
in-memory SQLite archive on the page's own session; the side pool closed with the app."""

from __future__ import annotations

import gc
import threading
from typing import Any

import lxml.html
import pytest
from sqlalchemy import text

from lawwatch.pipeline.db import Archive
from lawwatch.web import create_app
from lawwatch.web import facets as facets_module
from lawwatch.web import pages as pages_module
from lawwatch.web.params import SearchParams
from tests.helpers.web import PHILADELPHIA, client, seed_story

URLS = ["/?q=1373", f"/?q=letters&jurisdiction={PHILADELPHIA}", "/?statute=8 U.S.C. 1373&type=ruling", "/"]


def _pages(archive: Archive) -> list[str]:
    with client(create_app(archive)) as c:
        pages = [c.get(url) for url in URLS]
    assert [p.status_code for p in pages] == [200] * len(URLS)
    return [p.text for p in pages]


def test_facets_are_counted_beside_the_search(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_story(archive)
    counted_in: list[str] = []
    count = facets_module.count

    def recorded(session: Any, flt: Any, names: list[str], drivers: Any = None) -> Any:
        counted_in.append(threading.current_thread().name)
        return count(session, flt, names, drivers)

    beside = _pages(archive)
    monkeypatch.setattr(facets_module, "count", recorded)
    assert counted_in == [] and beside == _pages(archive)  # (the first pages were counted beside the search)
    assert counted_in and all(name.startswith("lawwatch-side") for name in counted_in)
    # a statement per distinct filter: the search's, and one more per field with a chosen value
    assert len(counted_in) == 1 + 2 + 3 + 1
    monkeypatch.setattr("lawwatch.web.side.SideQueries.enabled", property(lambda self: False))
    counted_in.clear()
    assert _pages(archive) == beside  # one after the other on the page's session: the same pages
    assert counted_in and not any(name.startswith("lawwatch-side") for name in counted_in)


def test_an_in_memory_sqlite_archive_counts_on_the_pages_own_session() -> None:
    """A second connection to an in-memory database would be another, empty database."""
    from lawwatch.pipeline.db import open_archive

    memory = open_archive("sqlite://")
    try:
        assert not create_app(memory).state.side.enabled
    finally:
        memory.dispose()


def test_side_sessions_of_a_sqlite_file_read_it_with_the_archives_settings(sqlite_archive: Archive) -> None:
    seed_story(sqlite_archive)
    app = create_app(sqlite_archive)
    side = app.state.side
    names = ("journal_mode", "foreign_keys", "query_only", "busy_timeout")
    shown = side.submit(lambda s: tuple(s.execute(text(f"PRAGMA {name}")).scalar() for name in names)).result(30)
    with sqlite_archive.engine.connect() as conn:
        assert shown == ("wal", 1, 1, conn.execute(text("PRAGMA busy_timeout")).scalar())  # read-only, as set up
        documents = conn.execute(text("SELECT count(*) FROM documents")).scalar()
    assert side.submit(lambda s: s.execute(text("SELECT count(*) FROM documents")).scalar()).result(30) == documents
    del app


@pytest.mark.postgres
def test_side_sessions_are_read_only_in_the_archives_schema_and_closed_with_the_app(pg_archive: Archive) -> None:
    app = create_app(pg_archive)
    side = app.state.side
    names = ("transaction_read_only", "search_path", "max_parallel_workers_per_gather")
    shown = side.submit(lambda s: tuple(s.execute(text(f"SHOW {name}")).scalar() for name in names)).result(timeout=30)
    with pg_archive.engine.connect() as conn:
        assert shown == ("on", conn.execute(text("SHOW search_path")).scalar(), "0")  # no parallel workers
    assert side.archive.engine is not pg_archive.engine  # a pool of its own
    assert (
        create_app(pg_archive, read_only=False)
        .state.side.submit(lambda s: s.execute(text("SHOW transaction_read_only")).scalar())
        .result(timeout=30)
        == "off"
    )
    executor = side.executor
    del app
    gc.collect()
    assert side.executor is None and side.archive is None  # the app collected: threads and connections closed
    assert executor._shutdown  # type: ignore[attr-defined]


@pytest.mark.postgres
def test_facet_samples_are_found_in_an_index_order_on_postgresql(pg_archive: Archive) -> None:
    """A scan of a large table starts wherever the last scan of it stopped (synchronized scans), so a sample taken
    by a table scan differs from one request to the next: the facets' statements run with table scans and their
    synchronizing off, and JIT off on every connection of the archive (a turned-off scan costs a plan 10^10, which
    PostgreSQL would compile for 300 ms)."""
    from sqlalchemy import event

    seed_story(pg_archive)
    settings: list[tuple[str, ...]] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "lw_found" in statement:
            raw = cursor.connection
            names = ("enable_seqscan", "synchronize_seqscans", "jit", "max_parallel_workers_per_gather")
            settings.append(tuple(raw.execute(f"SHOW {name}").fetchone()[0] for name in names))

    event.listen(pg_archive.engine, "before_cursor_execute", before)
    try:
        with pg_archive.session() as s:
            facets_module.facets(s, SearchParams(type=("ruling",)))
            facets_module.facets(s, SearchParams(q="letters"))
    finally:
        event.remove(pg_archive.engine, "before_cursor_execute", before)
    assert settings and set(settings) == {("off", "off", "off", "0")}


@pytest.mark.postgres
def test_filters_sharing_common_words_are_counted_in_one_statement_with_the_same_facets(
    pg_archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the filters of a search with common words and only common tags share one pass through the
    words' matches (``facets._count_shared``): the same facets as a statement per filter, sampled or not; a filter
    with a type, source or date (or a rare tag) keeps its own statement."""
    from sqlalchemy import Engine, event

    seed_story(pg_archive)
    monkeypatch.setattr(facets_module, "RARE", 0)  # every tag common: none drives its filter's sample
    urls = [
        f"/?q=letters&jurisdiction={PHILADELPHIA}",
        f"/?q=1373&jurisdiction={PHILADELPHIA}&statute=8 U.S.C. 1373",
        f"/?q=1373&jurisdiction={PHILADELPHIA}&type=letter",
        "/?q=immigration",
    ]
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "lw_found" in statement:
            statements.append(statement)

    def pages() -> list[str]:
        statements.clear()
        with client(create_app(pg_archive)) as c:
            out = [c.get(url) for url in urls]
        assert [p.status_code for p in out] == [200] * len(urls)
        return [p.text for p in out]

    event.listen(Engine, "before_cursor_execute", before)  # every engine: the side queries' pool is another
    try:
        monkeypatch.setattr(facets_module, "COMMON_WORDS", 10**9)  # words never common: a statement each
        alone, separate = pages(), list(statements)
        monkeypatch.setattr(facets_module, "COMMON_WORDS", -1)  # every word common: shared where it can be
        assert pages() == alone  # every count exact (the archive holds fewer documents than the sample)
        # the place: 2 filters, one statement; place and statute: 3, one; place and type: the place's own (the
        # type facet's) and the type's two, each alone; no filter: one
        assert [s.count("lw_words") > 0 for s in statements] == [True, True, False, False, False, False]
        assert len(separate) == 2 + 3 + 3 + 1 and len(statements) == 1 + 1 + 3 + 1
        # sampled: each filter's first matches in the words' order (which may differ from another plan's order on
        # so small a table), the same on every request, and said so
        monkeypatch.setattr(facets_module, "SAMPLE", 3)
        monkeypatch.setattr("lawwatch.web.pages.SAMPLE", 3)
        sampled = pages()
        assert pages() == sampled and all("Counts from 3 of the matches" in page for page in sampled)
        for page in (sampled[0], sampled[1]):  # the type facet: the words within the place, shared, 3 counted
            counts = lxml.html.fromstring(page).cssselect("#facet-type .count")
            assert sum(int(c.text) for c in counts) == 3
    finally:
        event.remove(Engine, "before_cursor_execute", before)


def test_a_jurisdictions_newest_documents_are_listed_beside_its_timeline(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_story(archive)
    listed_in: list[str] = []
    search = pages_module.search

    def recorded(session: Any, **kwargs: Any) -> Any:
        listed_in.append(threading.current_thread().name)
        return search(session, **kwargs)

    def page() -> str:
        with client(create_app(archive)) as c:
            response = c.get(f"/jurisdictions/{PHILADELPHIA}")
        assert response.status_code == 200
        return response.text

    monkeypatch.setattr(pages_module, "search", recorded)
    beside = page()
    assert len(listed_in) == 1 and listed_in[0].startswith("lawwatch-side")
    monkeypatch.setattr("lawwatch.web.side.SideQueries.enabled", property(lambda self: False))
    assert page() == beside  # listed on the page's own session: the same page
    assert len(listed_in) == 2 and not listed_in[1].startswith("lawwatch-side")
