"""Word queries on PostgreSQL: the ``search_vector`` tsvector and its GIN index, ranked by ``ts_rank``.

``_postgres`` asks the planner how many documents match (``_pg_estimate``; not when ranking is unbounded). By
relevance, ``_pg_walk`` finds the newest matches in id windows (at most ``rank_bound``; all of them for a rarer
word), counting them exactly when the walk reaches the oldest document, and ranks them. Newest first, a common word
is found by walking the date index (its total is the planner's estimate), a rarer one through the GIN index.
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

# the order of _ORDER_NEWEST, by an expression no index provides (coalesce(x, x) is x)
_SORT_NEWEST = "coalesce(d.published_at, d.published_at) DESC NULLS LAST, d.id DESC"
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
    if order == "newest":  # few matches: found through the GIN index (the window count needs them all), sorted.
        # Sorted by an expression: ordered by the columns themselves, the planner would walk ix_documents_newest to
        # the end for the window count, reading every document's vector (97 ms against 11 ms for a word with 1,860
        # matches among 10,000 documents; 12 s at a million). Each match is probed for the filter's tags through
        # their index, not joined with a hash of every tag of the filter: a word in 6,600 of a million documents
        # within a place on a fifth of them, 22 ms against 37 (the place's 208,000 tags hashed).
        with _planner(session, enable_hashjoin="off", enable_mergejoin="off"):
            ranked = session.execute(
                sql.text(
                    f"SELECT d.id, count(*) OVER () AS total {base} ORDER BY {_SORT_NEWEST} LIMIT :limit OFFSET :offset"
                ),
                sql.params,
            ).all()
        if not ranked:
            return _Found([], count_from=base)
        return _Found(_pg_detail(session, expr, params, [r.id for r in ranked], scored=False), total=ranked[0].total)
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
    loose, _ = to_tsquery_sql(parsed, loose=True)
    return _pg_walk(session, sql, expr, params, bound, expected, loose)


_WINDOWS = 6  # id windows walked at most before the rest is taken in one
_COMMON = 20  # a word estimated in this many times rank_bound documents is common: its estimate holds


def _pg_walk(
    session: Session, sql: _Sql, expr: str, params: dict[str, Any], bound: int, expected: int, loose: str
) -> _Found:
    """Rank the newest ``bound`` matches (all of them when there are no more): found in id windows walked down from
    the newest document, then ranked by primary key, each vector read once. A window's id range is ANDed with the
    GIN bitmap (index scans are off: the planner would rather walk the primary key and read every vector of the
    range), so only the window's matches of the words are visited, and a filter is tested on those alone; the words'
    vectors are not read. The first window is sized by the words' estimated density, the next ones by the density
    of the filtered matches found so far; the walk stops when it holds ``bound`` matches or reaches the oldest
    document (then every match was found: the total is exact). Else the total is the density found, extrapolated
    over every id, and says "about". In one statement the planner would compute ts_rank for every match of the words
    before a tag filter drops most of them, and read every match of a word the statistics underestimate (those not
    among its most common lexemes are all guessed at 0.5%).

    A phrase (``loose`` differs from ``expr``: its words in any order) is walked by its words: the index answers
    them without reading a document, where testing the phrase reads each document's vector for the positions (6,600
    documents holding both words of a phrase at a million: 74 ms). Only the newest of them are read and tested
    (``_pg_phrase``), until ``bound`` pass; the total is exact when every one was tested, else the share that passed
    times those found, "about"."""
    top, bottom = session.execute(sa.text("SELECT max(id), min(id) FROM documents")).one()
    if top is None:
        return _Found([], total=0)
    span = top - bottom + 1
    # The first window sized by the planner's estimate of the filtered matches. Each window reads the words' whole
    # posting lists (35 ms for a word in 120,000 documents): a common word, whose estimate (from the statistics' most
    # common lexemes) is close, takes one. A rarer word's estimate can be 7x low (the statistics guess one figure for
    # every word they do not list) and its posting lists are short: its first window is 8x narrower, the next ones
    # sized by what it held, rather than one window visiting 7x the matches wanted.
    unfiltered = f"FROM documents d, (SELECT {expr} AS q) tq WHERE d.search_vector @@ tq.q"
    raw = _pg_estimate(session, _Sql([], [], dict(params), []), unfiltered) if sql.where or sql.tags else expected
    # A rarer query's first window spans at most a sixteenth of the ids, but for a phrase: its estimate is its
    # words' frequencies multiplied, so small that the planner tests a narrower window's range on every document
    # holding the words (visiting each one's row again for every window): a phrase takes the one wide window its
    # estimate asks for.
    if raw >= _COMMON * bound:
        width = int(bound * span / max(expected, 1) * 1.1) + 1
    else:
        width = int(bound * span / max(expected, 1) / 8) + 1
        if loose == expr:
            width = min(width, span // 16 + 1)
    where = sql.clause("d.search_vector @@ tq.q AND d.id > :low AND d.id <= :high", probe=True)
    window = f"SELECT d.id FROM documents d, (SELECT {loose} AS q) tq {where}"
    found: list[int] = []  # the matches, newest first
    pending: list[int] = []  # a phrase's documents not tested yet, newest first
    tested = 0
    high = top
    # work_mem: the bitmap of a word in most documents stays exact (at the default 4 MB it turns lossy, and every
    # document of a lossy page has its vector read and tested again)
    with _planner(session, enable_indexscan="off", work_mem="64MB"):
        for walked in range(1, _WINDOWS + 1):
            low = bottom - 1 if walked == _WINDOWS else max(high - width, bottom - 1)
            sql.params.update(low=low, high=high)
            ids = sorted(session.execute(sql.text(window), sql.params).scalars(), reverse=True)
            high = low
            if loose == expr:
                found += ids
            else:
                pending += ids
                tested += _pg_phrase(session, expr, params, pending, found, bound)
            if len(found) >= bound or low < bottom:
                break
            density = max(len(found), 0.5) / (top - low)  # filtered matches per id so far
            width = int((bound - len(found)) / density * 1.2) + 1  # narrower than the last when it held most
    every = high < bottom  # the walk reached the oldest document: every match (or phrase's candidate) was found
    complete = every and not pending
    newest = found[:bound]
    rows = _pg_ranked(session, expr, params, newest, sql.params)
    among = len(newest) if len(found) > bound or not complete else None
    if complete:
        return _Found(rows, total=len(found), ranked_among=among)
    walked_matches = len(found) + len(pending) * (len(found) / tested if tested else 1.0)
    total = walked_matches if every else walked_matches * span / (top - high)
    return _Found(rows, total=about(total), estimate=True, ranked_among=among)


def _pg_phrase(
    session: Session, expr: str, params: dict[str, Any], pending: list[int], found: list[int], bound: int
) -> int:
    """Test ``pending`` (newest first) against the query ``expr`` in chunks, newest first, moving those that pass
    to ``found``, until ``found`` holds ``bound`` or none is left; returns how many were tested. The first chunk is
    what is still wanted, the next ones sized by the share that passed so far."""
    tested = passed = 0
    # ts_match_vq: the function of @@, which no index answers: each chunk is read by its ids (the GIN bitmap would
    # have the planner test every document holding the words)
    test = sa.text(
        f"SELECT d.id FROM documents d, (SELECT {expr} AS q) tq "
        "WHERE d.id = ANY(:ids) AND ts_match_vq(d.search_vector, tq.q)"
    )
    while pending and len(found) < bound:
        wanted = bound - len(found)
        size = wanted if not tested else int(wanted * tested / max(passed, 1) * 1.2) + 1
        chunk = pending[:size]
        del pending[:size]
        matched = set(session.execute(test, {**params, "ids": chunk}).scalars())
        found += [i for i in chunk if i in matched]
        tested += len(chunk)
        passed += len(matched)
    return tested


def _pg_ranked(session: Session, expr: str, params: dict[str, Any], ids: list[int], page: dict[str, Any]) -> list[Any]:
    """The page (``page``'s limit and offset) of the documents ``ids`` ranked by ``ts_rank``, with their headlines,
    in one statement: each vector is read once, by its primary key, and only the page's texts are headlined."""
    if not ids:
        return []
    detail = session.execute(
        sa.text(
            f"SELECT {_HIT_COLUMNS}, r.score, "
            "ts_headline('english', d.body_text, tq.q, :opts) AS body, "
            "ts_headline('english', d.title, tq.q, :opts) AS title_snip "
            f"FROM (SELECT d.id, d.published_at, ts_rank(d.search_vector, tq.q) AS score "
            f"FROM documents d, (SELECT {expr} AS q) tq WHERE d.id = ANY(:ids) "
            f"ORDER BY score DESC, {_ORDER_NEWEST} LIMIT :limit OFFSET :offset) r "
            f"JOIN documents d ON d.id = r.id CROSS JOIN (SELECT {expr} AS q) tq "
            "ORDER BY r.score DESC, r.published_at DESC NULLS LAST, r.id DESC"
        ).columns(**_TYPES),
        {**params, "ids": ids, "limit": page["limit"], "offset": page["offset"], "opts": _PG_HEADLINE},
    ).all()
    return _merge([row.id for row in detail], detail)


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
