"""A count up to a cap on PostgreSQL (a total, a rare-tag probe) runs through the filter's indexes: a table scan,
which the planner picks when it expects the cap's rows soon, starts wherever the last scan of the table stopped
(synchronized scans) and took 100-180 ms every ninth request or so at a million documents, against 2-15 ms through
the index, every time."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.filters import DocumentFilter
from lawwatch.pipeline.search import search
from tests.helpers.web import PHILADELPHIA, seed_story


@pytest.mark.postgres
def test_a_capped_count_is_found_through_indexes(pg_archive: Archive) -> None:
    seed_story(pg_archive)
    seen: list[tuple[str, str]] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("SELECT count(*) FROM (SELECT 1"):
            raw = cursor.connection
            seen.append(
                ("capped" if "LIMIT" in statement else "whole", raw.execute("SHOW enable_seqscan").fetchone()[0])
            )

    event.listen(pg_archive.engine, "before_cursor_execute", before)
    try:
        with pg_archive.session() as s:
            capped = search(s, filter=DocumentFilter(jurisdictions=(PHILADELPHIA,)), order="newest", limit=1)
            whole = search(
                s, filter=DocumentFilter(jurisdictions=(PHILADELPHIA,)), order="newest", limit=1, count_cap=None
            )
    finally:
        event.remove(pg_archive.engine, "before_cursor_execute", before)
    assert capped.total == whole.total > 1
    # the rare-tag probe (up to 2,000) and the total (up to 10,001) of the first search; the second's probe, then its
    # uncapped total, left to the planner
    assert seen == [("capped", "off"), ("capped", "off"), ("capped", "off"), ("whole", "on")]
