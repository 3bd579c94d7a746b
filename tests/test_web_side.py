"""The search page's facets counted beside its search on PostgreSQL (``web/side.py``): on their own connections and
threads, read-only, in the archive's schema, with the same page as counting them one after the other; on SQLite on
the page's own session; the side pool closed with the app."""

from __future__ import annotations

import gc
import threading
from typing import Any

import pytest
from sqlalchemy import text

from lawwatch.pipeline.db import Archive
from lawwatch.web import create_app
from lawwatch.web import facets as facets_module
from tests.helpers.web import PHILADELPHIA, client, seed_story

URLS = ["/?q=1373", f"/?q=letters&jurisdiction={PHILADELPHIA}", "/?statute=8 U.S.C. 1373&type=ruling", "/"]


def _pages(archive: Archive) -> list[str]:
    with client(create_app(archive)) as c:
        pages = [c.get(url) for url in URLS]
    assert [p.status_code for p in pages] == [200] * len(URLS)
    return [p.text for p in pages]


def test_facets_are_counted_beside_the_search_on_postgresql_only(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_story(archive)
    counted_in: list[str] = []
    count = facets_module.count

    def recorded(session: Any, flt: Any, names: list[str]) -> Any:
        counted_in.append(threading.current_thread().name)
        return count(session, flt, names)

    beside = _pages(archive)
    monkeypatch.setattr(facets_module, "count", recorded)
    monkeypatch.setattr("lawwatch.web.pages.facet_counts", recorded)
    if archive.dialect == "postgresql":
        assert counted_in == [] and beside == _pages(archive)  # (the first pages were counted beside the search)
        assert counted_in and all(name.startswith("lawwatch-side") for name in counted_in)
        # a statement per distinct filter: the search's, and one more per field with a chosen value
        assert len(counted_in) == 1 + 2 + 3 + 1
        monkeypatch.setattr("lawwatch.web.side.SideQueries.enabled", property(lambda self: False))
        counted_in.clear()
        assert _pages(archive) == beside  # one after the other on the page's session: the same pages
        assert counted_in and not any(name.startswith("lawwatch-side") for name in counted_in)
    else:
        assert _pages(archive) == beside
        assert counted_in and not any(name.startswith("lawwatch-side") for name in counted_in)


@pytest.mark.postgres
def test_side_sessions_are_read_only_in_the_archives_schema_and_closed_with_the_app(pg_archive: Archive) -> None:
    app = create_app(pg_archive)
    side = app.state.side
    shown = side.submit(
        lambda s: (s.execute(text("SHOW transaction_read_only")).scalar(), s.execute(text("SHOW search_path")).scalar())
    ).result(timeout=30)
    with pg_archive.engine.connect() as conn:
        assert shown == ("on", conn.execute(text("SHOW search_path")).scalar())
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
