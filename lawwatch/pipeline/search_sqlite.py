"""Word queries on SQLite: the FTS5 index ``documents_fts``, ranked by ``bm25`` with the title weighted 10x the body.

``_sqlite`` finds the newest matches by id (FTS5 walks its doclists by rowid descending), ranks at most ``bound``
of them, and counts or estimates the total (``_sqlite_total``); ``_sqlite_detail`` reads a page's hits with their
snippets. What the results mean is in ``pipeline/search.py``, which calls ``_sqlite``.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lawwatch.pipeline.search_common import (
    _CLOSE,
    _HIT_COLUMNS,
    _OPEN,
    _TYPES,
    Order,
    _Found,
    _merge,
    _Sql,
    about,
)
from lawwatch.pipeline.textquery import ParsedQuery, to_fts5

TITLE_WEIGHT, BODY_WEIGHT = 10.0, 1.0
_FTS_SNIPPET_TOKENS = 24
_FTS_JOIN = "FROM documents_fts f CROSS JOIN documents d ON d.id = f.rowid"  # CROSS JOIN: the FTS index drives
_BM25 = f"-bm25(documents_fts, {TITLE_WEIGHT}, {BODY_WEIGHT})"


def _sqlite(
    session: Session, sql: _Sql, parsed: ParsedQuery, order: Order, bound: int | None, count_bound: int
) -> _Found:
    sql.params["match"] = to_fts5(parsed)
    filtered = bool(sql.where or sql.tags)
    where = sql.clause("documents_fts MATCH :match", probe=True)
    # the newest matches (by id) first: FTS5 walks its doclists by rowid descending and stops after bound + 1
    newest = (
        f"SELECT f.rowid {_FTS_JOIN} {where} ORDER BY f.rowid DESC LIMIT :probe"
        if filtered
        else "SELECT rowid FROM documents_fts WHERE documents_fts MATCH :match ORDER BY rowid DESC LIMIT :probe"
    )
    ids = list(session.execute(sql.text(newest), {**sql.params, "probe": -1 if bound is None else bound + 1}).scalars())
    common = bound is not None and len(ids) > bound
    candidates = ids[:bound] if bound is not None else ids
    if not candidates:
        return _Found([], total=0)
    total, estimate = _sqlite_total(session, sql, filtered, candidates, count_bound) if common else (len(ids), False)
    low, high = candidates[-1], candidates[0]
    window = {"match": sql.params["match"], "low": low, "high": high, "ids": json.dumps(candidates)}
    # the candidates again as a range of the FTS index (one FTS5 query: bm25's statistics are read once) and,
    # when a filter left some matches of that range out, a list
    member = " AND +f.rowid IN (SELECT value FROM json_each(:ids))" if filtered else ""
    in_window = f"documents_fts MATCH :match AND f.rowid BETWEEN :low AND :high{member}"
    page = {"limit": sql.params["limit"], "offset": sql.params["offset"]}
    scores: dict[int, float] = {}
    if order == "relevance":
        ranked = session.execute(
            sa.text(
                f"SELECT f.rowid, {_BM25} AS score FROM documents_fts f WHERE {in_window} "
                f"ORDER BY score DESC, f.rowid DESC LIMIT :limit OFFSET :offset"
            ),
            {**window, **page},
        ).all()
        scores = {row[0]: row[1] for row in ranked}  # kept: bm25 costs a pass over the word's whole doclist
        page_ids: Any = [row[0] for row in ranked]
    elif common:  # walk the publication dates newest first; each document is looked up in the list of matches
        # Past COUNT_BOUND matches (the total is then estimated) EXISTS seeks each dated document's id in the
        # doclists (FTS5 reads ``rowid =`` as a range of one): a dense word is met within a few rows, where
        # ``IN (SELECT rowid … MATCH)`` would first copy every match into a temporary index (710 -> 23 ms at
        # 742,000 matches). A sparser word keeps the copy: the walk would seek thousands of documents for a page
        # (6,668 matches in 1,000,000: 37 ms with the copy, 650 ms seeking).
        # Which is cheaper: copying the matches (~1 µs each) or seeking each document the walk meets (~0.2 ms; it
        # meets about ids / matches of them per hit of the page): a word in 3% of the documents is copied (33,000
        # matches in 1,000,000: 30 ms against 200 seeking), one in 12% sought.
        walked = (sql.params["offset"] + sql.params["limit"]) * high / max(total, 1)
        seek = estimate and walked * _SEEK_COST < total
        fts = (
            "EXISTS (SELECT 1 FROM documents_fts WHERE documents_fts MATCH :match AND rowid = d.id)"
            if seek
            else "d.id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH :match)"
        )
        page_ids = session.execute(
            sql.text(
                f"SELECT d.id FROM documents d INDEXED BY ix_documents_published_at {sql.clause(fts, probe=True)} "
                f"ORDER BY d.published_at DESC, d.id DESC LIMIT :limit OFFSET :offset"
            ),
            sql.params,
        ).scalars()
    else:  # few matches: sort them
        page_ids = session.execute(
            sa.text(
                "SELECT d.id FROM documents d WHERE d.id IN (SELECT value FROM json_each(:ids)) "
                "ORDER BY d.published_at DESC, d.id DESC LIMIT :limit OFFSET :offset"
            ),
            {**window, **page},
        ).scalars()
    wanted = list(page_ids)
    if order == "newest":  # not ranked, so not scored (as a listing): bm25 would read a common word's whole doclist
        scores = dict.fromkeys(wanted, 0.0)
    rows = _sqlite_detail(session, wanted, sql.params["match"], scores) if wanted else []
    return _Found(rows, total=total, estimate=estimate, ranked_among=bound if common and order == "relevance" else None)


def _sqlite_total(
    session: Session, sql: _Sql, filtered: bool, candidates: list[int], count_bound: int
) -> tuple[int, bool]:
    """The number of matches of a query with more than ``bound`` (the newest of which are ``candidates``), and
    whether it is an estimate. FTS5 counts up to ``count_bound`` (``search.COUNT_BOUND``) matches in a loop over
    its doclists (a few ms for 20,000); beyond, and for a filter over many matches, the density of the newest ones
    is extrapolated."""
    match = sql.params["match"]
    counted, lowest = session.execute(
        sa.text(
            "SELECT count(*), min(r) FROM (SELECT rowid AS r FROM documents_fts WHERE documents_fts MATCH :match "
            "ORDER BY rowid DESC LIMIT :cap)"
        ),
        {"match": match, "cap": count_bound},
    ).one()
    raw: float = counted
    estimated = counted >= count_bound
    if estimated:  # the newest count_bound matches span the ids from ``lowest`` up: as dense below
        top, bottom = session.execute(
            sa.text("SELECT (SELECT max(id) FROM documents), (SELECT min(id) FROM documents)")
        ).one()
        raw = counted * (top - bottom + 1) / (top - lowest + 1)
    if not filtered:
        return (about(raw), True) if estimated else (counted, False)
    if not estimated and counted <= 4 * len(candidates):  # few enough to test each against the filter
        where = sql.clause("documents_fts MATCH :match", probe=True)
        return session.execute(sql.text(f"SELECT count(*) {_FTS_JOIN} {where}"), sql.params).scalar_one(), False
    # the filter passes len(candidates) of the matches from the lowest candidate up: as often below
    in_window = session.execute(
        sa.text("SELECT count(*) FROM documents_fts WHERE documents_fts MATCH :match AND rowid >= :low"),
        {"match": match, "low": candidates[-1]},
    ).scalar_one()
    return about(raw * len(candidates) / max(in_window, 1)), True


def _sqlite_detail(session: Session, wanted: list[int], match: str, scores: dict[int, float]) -> list[Any]:
    """The hits ``wanted``, in that order, with their ``scores`` (read by the ranking query; 0.0 newest first) and
    snippets. Each hit's snippets are read on their own — an FTS5 query of one rowid — in one statement of
    ``UNION ALL`` arms: no second pass over a common word's doclist for bm25's statistics, and no walk over the ids
    between the hits."""
    snippets = (
        f"snippet(documents_fts, 1, :o, :c, '…', {_FTS_SNIPPET_TOKENS}) AS body, "
        f"snippet(documents_fts, 0, :o, :c, '…', {_FTS_SNIPPET_TOKENS}) AS title_snip"
    )
    found: list[_Detail] = []
    for at in range(0, len(wanted), _ARMS):  # SQLite allows 500 terms in a compound SELECT
        part = wanted[at : at + _ARMS]
        arms = " UNION ALL ".join(
            f"SELECT {_HIT_COLUMNS}, 0.0 AS score, {snippets} {_FTS_JOIN} "
            f"WHERE documents_fts MATCH :match AND f.rowid BETWEEN :i{k} AND :i{k}"
            for k in range(len(part))
        )
        params = {"match": match, "o": _OPEN, "c": _CLOSE, **{f"i{k}": i for k, i in enumerate(part)}}
        rows = session.execute(sa.text(arms).columns(**_TYPES), params)
        for row in rows:
            doc_id, source, url, title, published_at, doc_type = row[:6]
            found.append(
                _Detail(doc_id, source, url, title, published_at, doc_type, scores[doc_id], row.body, row.title_snip)
            )
    return _merge(wanted, found)


_ARMS = 200
_SEEK_COST = 200  # a seek into the doclists costs about as much as copying this many matches


class _Detail(NamedTuple):
    """A hit's row as ``_merge`` reads it, with the score the ranking query read."""

    id: int
    source: str
    url: str
    title: str
    published_at: Any
    doc_type: str
    score: float
    body: str | None
    title_snip: str | None
