"""Word queries on PostgreSQL: the ``search_vector`` tsvector and its GIN index, ranked by ``ts_rank``.

``_postgres`` asks the planner how many documents match (``_pg_estimate``; not when ranking is unbounded): few
are found through the GIN index, ranked and counted exactly; a common word is ranked among its newest matches
(``_pg_bounded``) or, newest first, found by walking the date index, and its total is the planner's estimate.
``_pg_detail`` reads a page's hits with their headlines. What the results mean is in ``pipeline/search.py``, which
calls ``_postgres`` inside its planner settings.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lawwatch.pipeline.search_common import (
    _CLOSE,
    _HIT_COLUMNS,
    _OPEN,
    _ORDER_NEWEST,
    _TYPES,
    Order,
    _Found,
    _merge,
    _planner,
    _Sql,
    about,
)
from lawwatch.pipeline.textquery import ParsedQuery, to_tsquery_sql

_PG_HEADLINE = f'StartSel="{_OPEN}", StopSel="{_CLOSE}", MaxWords=30, MinWords=12, MaxFragments=1'


def _postgres(session: Session, sql: _Sql, parsed: ParsedQuery, order: Order, bound: int | None) -> _Found:
    expr, params = to_tsquery_sql(parsed)
    sql.params.update(params)
    base = f"FROM documents d, (SELECT {expr} AS q) tq {sql.clause('d.search_vector @@ tq.q', probe=True)}"
    expected = _pg_estimate(session, sql, base) if bound is not None else 0
    common = bound is not None and expected > 2 * bound
    if order == "newest" and common:  # walk ix_documents_newest, testing each vector: a common word is soon found
        page_ids = session.execute(
            sql.text(f"SELECT d.id {base} ORDER BY {_ORDER_NEWEST} LIMIT :limit OFFSET :offset"), sql.params
        ).scalars()
        return _Found(
            _pg_detail(session, expr, params, list(page_ids), scored=False), total=about(expected), estimate=True
        )
    if order == "newest":  # few matches: found through the GIN index (the window count needs them all), sorted
        # without index scans: else the planner walks ix_documents_newest to the end for the window count, reading
        # every document's vector (97 ms against 11 ms for a word with 1,860 matches among 10,000 documents)
        with _planner(session, enable_indexscan="off"):
            ranked = session.execute(
                sql.text(
                    f"SELECT d.id, count(*) OVER () AS total {base} ORDER BY {_ORDER_NEWEST} "
                    "LIMIT :limit OFFSET :offset"
                ),
                sql.params,
            ).all()
        if not ranked:
            return _Found([], count_from=base)
        return _Found(_pg_detail(session, expr, params, [r.id for r in ranked], scored=False), total=ranked[0].total)
    if common:
        assert bound is not None
        bounded = _pg_bounded(session, sql, expr, params, bound, expected)
        if bounded is not None:
            return bounded
    if bound is None:  # every match ranked, however many: one statement
        ranked = session.execute(
            sql.text(
                f"SELECT d.id, count(*) OVER () AS total {base} "
                f"ORDER BY ts_rank(d.search_vector, tq.q) DESC, {_ORDER_NEWEST} LIMIT :limit OFFSET :offset"
            ),
            sql.params,
        ).all()
        if not ranked:
            return _Found([], count_from=base)
        return _Found(_pg_detail(session, expr, params, [r.id for r in ranked]), total=ranked[0].total)
    # Few matches expected: find them first (the GIN index and the filter; a word's vectors are not read), then
    # rank those alone, each vector read once by its primary key. In one statement the planner computes ts_rank
    # for every match of the words before a tag filter drops most of them (5,000 TOASTed vectors read for 1,400
    # hits at a million documents).
    matches = list(session.execute(sql.text(f"SELECT d.id {base}"), sql.params).scalars())
    return _Found(_pg_ranked(session, expr, params, matches, sql.params), total=len(matches))


def _pg_bounded(
    session: Session, sql: _Sql, expr: str, params: dict[str, Any], bound: int, expected: int
) -> _Found | None:
    """Rank the newest matches: those above an id sized to hold about ``bound`` of them at the expected density
    (widened while it holds fewer than half that). The id range's bitmap ANDed with the GIN bitmap finds them
    without reading the other matches (index scans are off: the planner would rather walk the primary key and read
    every vector of the range)."""
    top, bottom = session.execute(sa.text("SELECT max(id), min(id) FROM documents")).one()
    unfiltered = f"FROM documents d, (SELECT {expr} AS q) tq WHERE d.search_vector @@ tq.q"
    raw = _pg_estimate(session, _Sql([], [], dict(params), []), unfiltered) if sql.where or sql.tags else expected
    # sized by the word alone: a window holding many more of its matches tips the planner into reading every
    # vector of the range (bitmap on the primary key, the word as a filter) — 30x slower
    width = int(bound * (top - bottom + 1) / max(raw, 1) * 1.1) + 1
    where = sql.clause("d.search_vector @@ tq.q AND d.id > :low", probe=True)
    window = f"SELECT d.id FROM documents d, (SELECT {expr} AS q) tq {where}"
    with _planner(session, enable_indexscan="off"):
        # a filter expected to pass fewer than half the word's matches: twice as wide at once; when the window
        # holds fewer than bound / 2 candidates, once twice as wide, then rank what was found
        for widen in (1, 2) if expected * 2 >= raw else (2,):
            sql.params["low"] = low = top - width * widen
            candidates = list(session.execute(sql.text(window), sql.params).scalars())
            if len(candidates) >= bound // 2 or low < bottom:
                break
    among = len(candidates)
    if among < bound // 10 and low >= bottom:  # the estimate was far off (statistics out of date): rank them all
        return None
    rows = _pg_ranked(session, expr, params, candidates, sql.params)
    if low < bottom:  # the window holds every match: all were ranked and counted
        return _Found(rows, total=among)
    return _Found(rows, total=about(max(expected, among)), estimate=True, ranked_among=among)


def _pg_ranked(session: Session, expr: str, params: dict[str, Any], ids: list[int], page: dict[str, Any]) -> list[Any]:
    """The page (``page``'s limit and offset) of the documents ``ids`` ranked by ``ts_rank``, with their detail;
    each vector is read once, by its primary key."""
    if not ids:
        return []
    ranked = session.execute(
        sa.text(
            f"SELECT d.id FROM documents d, (SELECT {expr} AS q) tq WHERE d.id = ANY(:ids) "
            f"ORDER BY ts_rank(d.search_vector, tq.q) DESC, {_ORDER_NEWEST} LIMIT :limit OFFSET :offset"
        ),
        {**params, "ids": ids, "limit": page["limit"], "offset": page["offset"]},
    ).scalars()
    return _pg_detail(session, expr, params, list(ranked))


def _pg_estimate(session: Session, sql: _Sql, base: str) -> int:
    """The planner's estimate of the rows ``base`` selects (tsvector statistics: most common lexemes)."""
    plan = session.execute(sql.text(f"EXPLAIN (FORMAT JSON) SELECT 1 {base}"), sql.params).scalar_one()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _pg_detail(
    session: Session, expr: str, params: dict[str, Any], wanted: list[int], *, scored: bool = True
) -> list[Any]:
    """The hits ``wanted``, in that order, with their headlines and their ts_rank score (0.0 unless ``scored``:
    newest first, hits are not ranked)."""
    if not wanted:
        return []
    score = "ts_rank(d.search_vector, tq.q)" if scored else "0.0"
    detail = session.execute(
        sa.text(
            f"SELECT {_HIT_COLUMNS}, {score} AS score, "
            "ts_headline('english', d.body_text, tq.q, :opts) AS body, "
            "ts_headline('english', d.title, tq.q, :opts) AS title_snip "
            f"FROM documents d, (SELECT {expr} AS q) tq WHERE d.id IN :ids"
        )
        .bindparams(sa.bindparam("ids", expanding=True))
        .columns(**_TYPES),
        {**params, "ids": wanted, "opts": _PG_HEADLINE},
    ).all()
    return _merge(wanted, detail)
