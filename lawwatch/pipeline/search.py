"""Full-text search over the archive, on SQLite (FTS5) and PostgreSQL (tsvector), with a ``DocumentFilter``.

The query syntax is in ``pipeline/textquery.py`` (words ANDed, "phrases", OR, -exclusion, prefix*). Words are
matched after stemming (English, Porter), ignoring case and accents. Punctuation inside a word splits it on
SQLite (``U.S.C.`` is the phrase "u s c"); PostgreSQL keeps such tokens whole on both sides. On PostgreSQL,
English stop words ("the", "of") are ignored. An empty query lists the documents matching the filter, newest
first. A malformed query (an unbalanced ``"``, a dangling ``OR``, only exclusions) raises ``QueryError``.

User text never reaches the FTS5 or tsquery parsers as syntax: on SQLite every term is a double-quoted FTS5
string; on PostgreSQL every term is a bound parameter of ``plainto_tsquery``/``phraseto_tsquery`` (prefix terms
are reduced to letters and digits before ``to_tsquery``), combined with the ``&&``, ``||`` and ``!!`` operators.

The filter is rendered here as raw SQL rather than through ``DocumentFilter.conditions()`` so that each search
can pick its plan: tag filters become ``EXISTS`` probes per row, or ``IN`` lists driven from the tag index when a
tag is rare (fewer than ``_RARE_TAG`` documents). ``tests/test_filters.py`` checks both renderings agree.

Ranking: SQLite ``bm25`` with the title weighted 10x the body, PostgreSQL ``ts_rank`` (title weight A, body
B); ``SearchHit.score`` is higher-is-better on both.

Common words (bounded ranking). Ranking reads every match's index entry or vector, so a word in a tenth of a
million documents cannot be ranked in 100 ms. When a word query has more than ``rank_bound`` (default
``RANK_BOUND``, 1,000) matches, relevance ranks only the newest ``rank_bound`` of them — the matches with the
highest ids, i.e. the most recently stored, found through the index (SQLite: FTS5 walks its doclist by rowid
descending; PostgreSQL: the id range is ANDed with the GIN bitmap) — and ``SearchResult.ranked_among`` says how
many were ranked: the hits are exactly the best of those, in exact rank order, and the pages stop there. Newest
first needs no ranking: it walks the publication-date index and stops after the page. ``rank_bound=None``
ranks every match.

Totals. Listings without words count up to ``count_cap`` (default 10,000) matches: ``total_exact`` False means
"at least". Word searches count exactly when that is cheap: every match already visited, a SQLite FTS5 count of
at most ``COUNT_BOUND`` matches (a C loop over the doclist), a PostgreSQL query the planner expects to match at
most ``2 * rank_bound`` rows. Otherwise the total is estimated and ``total_is_estimate`` says so (shown as
"about"): on SQLite from the density of matches among the newest ids (and of the filter among the newest matches),
on PostgreSQL the planner's estimate from the tsvector statistics (``ANALYZE``; most-common-lexeme frequencies).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from lawwatch.errors import QueryError, shown
from lawwatch.pipeline.filters import DocumentFilter
from lawwatch.pipeline.models import UTCDateTime
from lawwatch.pipeline.textquery import ParsedQuery, Term, parse_query, to_fts5, to_tsquery_sql

__all__ = [
    "COUNT_CAP",
    "DocumentFilter",
    "Order",
    "ParsedQuery",
    "SearchHit",
    "SearchResult",
    "Term",
    "parse_query",
    "search",
    "to_fts5",
    "to_tsquery_sql",
]

Order = Literal["relevance", "newest"]
COUNT_CAP = 10_000
RANK_BOUND = 1000  # relevance ranks at most the newest this many matches of a word query
COUNT_BOUND = 20_000  # SQLite counts at most this many full-text matches; more are estimated
TITLE_WEIGHT, BODY_WEIGHT = 10.0, 1.0
_OPEN, _CLOSE = "\x02", "\x03"  # sentinels, replaced by the caller's highlight markers
_PG_HEADLINE = f'StartSel="{_OPEN}", StopSel="{_CLOSE}", MaxWords=30, MinWords=12, MaxFragments=1'
_FTS_SNIPPET_TOKENS = 24
_LISTING_SNIPPET_CHARS = 200
_RARE_TAG = 2000


@dataclass(frozen=True)
class SearchHit:
    document_id: int
    source: str
    url: str | None
    title: str
    published_at: datetime | None
    doc_type: str
    score: float
    snippet: str

    def as_dict(self) -> dict[str, Any]:
        """The hit in the shape of ``lawwatch search --json`` (also the web API's)."""
        return {
            "id": self.document_id,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "source": self.source,
            "doc_type": self.doc_type,
            "title": self.title,
            "url": self.url,
            "score": round(self.score, 4),
            "snippet": self.snippet,
        }


@dataclass(frozen=True)
class SearchResult:
    """A page of hits and the number of matches: exact, at least (``total_exact`` False: a listing's count stopped
    at its cap) or about (``total_is_estimate``). ``ranked_among``: relevance ranked only the newest this many
    matches (None: all of them)."""

    total: int
    hits: list[SearchHit]
    total_exact: bool = True
    total_is_estimate: bool = False
    ranked_among: int | None = None

    @property
    def total_text(self) -> str:
        """The total as people read it: ``11,888``, ``about 11,900`` or ``10,000+``."""
        if self.total_is_estimate:
            return f"about {self.total:,}"
        return f"{self.total:,}" if self.total_exact else f"{self.total:,}+"

    @property
    def reachable(self) -> int:
        """How many hits paging can reach: the total, or the matches ranked when ranking was bounded."""
        return self.total if self.ranked_among is None else min(self.total, self.ranked_among)

    @property
    def note(self) -> str:
        """What a reader must know about this result beyond its hits ("" when nothing)."""
        if self.ranked_among is None:
            return ""
        return (
            f"ranked by relevance among the newest {self.ranked_among:,} of {self.total_text} matches "
            "(order by newest to see them all)"
        )

    def as_dict(self, query: str, offset: int) -> dict[str, Any]:
        """The result in the shape of ``lawwatch search --json`` (also the web API's)."""
        return {
            "query": query,
            "total": self.total,
            "total_exact": self.total_exact,
            "total_is_estimate": self.total_is_estimate,
            "ranked_among": self.ranked_among,
            "offset": offset,
            "hits": [h.as_dict() for h in self.hits],
        }


def about(n: float) -> int:
    """An estimate rounded to three significant digits (11,888.4 -> 11,900)."""
    whole = max(int(round(n)), 0)
    digits = len(str(whole))
    return whole if digits <= 3 else int(round(whole, 3 - digits))


# --- filters and execution ----------------------------------------------------------------------------------


@dataclass
class _Sql:
    where: list[str]  # conditions on d (documents)
    tags: list[tuple[str, str]]  # (table, condition on alias t) for tag filters
    params: dict[str, Any]
    binds: list[sa.BindParameter[Any]]
    # a tag filter that alone selects each document at most once (one place: the tag table's key is
    # (document_id, jurisdiction_id)); when it is the whole filter, its rows are counted without the documents
    sole: str | None = None

    def text(self, sql: str, **columns: Any) -> sa.TextClause | sa.TextualSelect:
        used = [b for b in self.binds if re.search(rf":{b.key}\b", sql)]
        clause = sa.text(sql).bindparams(*used)
        return clause.columns(**columns) if columns else clause

    def clause(self, first: str | None = None, *, probe: bool) -> str:
        """The WHERE clause. ``probe``: test each row's tags (EXISTS), else drive from the tag index (IN)."""
        conditions = ([first] if first else []) + self.where
        for table, condition in self.tags:
            if probe:
                conditions.append(f"EXISTS (SELECT 1 FROM {table} t WHERE t.document_id = d.id AND ({condition}))")
            else:
                conditions.append(f"d.id IN (SELECT t.document_id FROM {table} t WHERE {condition})")
        return ("WHERE " + " AND ".join(conditions)) if conditions else ""

    def rare_tag(self, session: Session) -> bool:
        """Whether some tag filter matches fewer than ``_RARE_TAG`` documents (then its index should drive)."""
        for table, condition in self.tags:
            probe = f"SELECT count(*) FROM (SELECT 1 FROM {table} t WHERE {condition} LIMIT {_RARE_TAG}) c"
            if session.execute(self.text(probe), self.params).scalar_one() < _RARE_TAG:
                return True
        return False


def _filter_sql(flt: DocumentFilter) -> _Sql:
    sql = _Sql([], [], {}, [])
    doc_types = [t.value for t in flt.doc_types]
    if flt.sources:  # seen via a source: the one that stored the document, or any other it was seen under
        sql.where.append(
            "(d.source IN :sources OR EXISTS (SELECT 1 FROM document_sources s "
            "WHERE s.document_id = d.id AND s.source IN :seen_via))"
        )
        for name in ("sources", "seen_via"):
            sql.params[name] = list(flt.sources)
            sql.binds.append(sa.bindparam(name, expanding=True))
    if doc_types:
        sql.where.append("d.doc_type IN :doc_types")
        sql.params["doc_types"] = doc_types
        sql.binds.append(sa.bindparam("doc_types", expanding=True))
    for name, value, condition in (
        ("since", flt.published_since, "d.published_at >="),
        ("until", flt.published_until, "d.published_at <"),
        ("fetched_since", flt.fetched_since, "d.fetched_at >="),
        ("fetched_until", flt.fetched_until, "d.fetched_at <"),
    ):
        if value is not None:  # DocumentFilter holds aware UTC datetimes only
            sql.where.append(f"{condition} :{name}")
            sql.params[name] = value
            sql.binds.append(sa.bindparam(name, type_=UTCDateTime()))
    if flt.jurisdictions:
        sql.params["jurisdictions"] = list(flt.jurisdictions)
        sql.binds.append(sa.bindparam("jurisdictions", expanding=True))
        if flt.within:
            likes = []
            for index, prefix in enumerate(flt.state_prefixes):
                sql.params[f"jp{index}"] = prefix + "%"
                likes.append(f" OR t.jurisdiction_id LIKE :jp{index}")
            sql.tags.append(("document_jurisdictions", "(t.jurisdiction_id IN :jurisdictions" + "".join(likes) + ")"))
        else:
            condition = "t.jurisdiction_id IN :jurisdictions AND t.role <> 'locator'"
            sql.tags.append(("document_jurisdictions", condition))
            if len(flt.jurisdictions) == 1:
                sql.sole = f"FROM document_jurisdictions t WHERE {condition}"
    if flt.statutes:
        cites = []
        for index, (title, section) in enumerate(flt.statutes):
            sql.params[f"ss{index}"] = section
            if title is None:
                cites.append(f"t.section = :ss{index}")
            else:
                sql.params[f"st{index}"] = title
                cites.append(f"(t.title = :st{index} AND t.section = :ss{index})")
        sql.tags.append(("document_statutes", " OR ".join(cites)))
    return sql


def search(
    session: Session,
    query: str | DocumentFilter = "",
    *,
    filter: DocumentFilter | None = None,
    order: Order = "relevance",
    limit: int = 20,
    offset: int = 0,
    highlight: tuple[str, str] = ("[", "]"),
    count_cap: int | None = COUNT_CAP,
    rank_bound: int | None = RANK_BOUND,
) -> SearchResult:
    """Search the archive for the documents ``filter`` selects, ranked by the full-text query.

    The query (syntax: ``pipeline/textquery.py``) is either the second argument, a string, or the ``query`` of
    the filter; the second argument may also be the filter itself: ``search(s, "sanctuary", filter=f)``,
    ``search(s, f)``. Giving a query both ways raises ``QueryError``. ``rank_bound``: see the module docstring
    (None ranks and counts every match, however many)."""
    flt = _resolve(query, filter)
    if order not in ("relevance", "newest"):
        raise QueryError(f"order must be 'relevance' or 'newest', not {order!r}")
    if limit < 0 or offset < 0:
        raise QueryError("limit and offset must not be negative")
    if rank_bound is not None and rank_bound < 1:
        raise QueryError("rank_bound must be at least 1 (or None: rank every match)")
    parsed = flt.parsed_query
    dialect = session.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise QueryError(f"search is not supported on {dialect}")
    sql = _filter_sql(flt)
    sql.params.update(limit=limit, offset=offset)
    try:
        if parsed.empty:
            found = _listing(session, sql)
        elif dialect == "sqlite":
            found = _sqlite(session, sql, parsed, order, rank_bound)
        else:
            with _planner(session, enable_seqscan="off", plan_cache_mode="force_custom_plan"):
                found = _postgres(session, sql, parsed, order, rank_bound)
        if found.total is not None:
            total, exact = found.total, not found.estimate
        else:
            total, exact = _total(session, sql, found.count_from, len(found.rows), limit, offset, count_cap)
    except DBAPIError as exc:
        raise QueryError(f"cannot run query {shown(flt.query)}: {shown(str(exc.orig).splitlines()[0], 200)}") from None
    open_, close = highlight
    return SearchResult(
        total=total,
        hits=[_finish(h, open_, close) for h in found.rows],
        total_exact=exact,
        total_is_estimate=found.estimate,
        ranked_among=found.ranked_among,
    )


@dataclass
class _Found:
    rows: list[Any]  # (id, source, url, title, published_at, doc_type, score, snippet) per hit
    total: int | None = None  # None: count ``count_from`` (see ``_total``)
    estimate: bool = False
    ranked_among: int | None = None
    count_from: str = ""


@contextmanager
def _planner(session: Session, **settings: str) -> Iterator[None]:
    """PostgreSQL planner settings for the statements inside, restored after (``set_config(..., true)``: this
    transaction only). ``enable_seqscan=off`` finds a word query's matches through the ``search_vector`` index: the
    planner, costing a common word by its share of rows, would rather scan the table and test every document's
    vector, each read back from TOAST — a cost it does not count, 4-20x slower. ``plan_cache_mode=force_custom_plan``:
    psycopg prepares a statement run five times on a connection, and PostgreSQL's generic plan for it, blind to the
    words, walks the newest-first index reading every vector (1 s for a rare word and a place at 100,000)."""
    names = list(settings)
    read = ", ".join(f"current_setting(:n{i})" for i in range(len(names)))
    keys = {f"n{i}": name for i, name in enumerate(names)}
    was = list(session.execute(sa.text(f"SELECT {read}"), keys).one())  # one round trip each way
    _set(session, dict(zip(names, settings.values(), strict=True)))
    yield  # on an error the transaction is rolled back, and the settings with it
    _set(session, dict(zip(names, was, strict=True)))


def _set(session: Session, values: dict[str, str]) -> None:
    calls = ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in range(len(values)))
    params = {f"{k}{i}": x for i, pair in enumerate(values.items()) for k, x in zip("nv", pair, strict=True)}
    session.execute(sa.text(f"SELECT {calls}"), params)


_NO_FILTER = DocumentFilter()


def _resolve(query: str | DocumentFilter, given: DocumentFilter | None) -> DocumentFilter:
    """The one filter of a search call, its query included."""
    text = ""
    if isinstance(query, DocumentFilter):
        if given is not None:
            raise TypeError("search() takes the filter once: as the second argument or as filter=")
        given = query
    else:
        text = query
    flt = given or _NO_FILTER
    if text.strip():
        if flt.query.strip():
            raise QueryError(f"two queries given: {shown(text)} and the filter's {shown(flt.query)}; give one")
        flt = replace(flt, query=text)
    return flt


_ORDER_NEWEST = "d.published_at DESC NULLS LAST, d.id DESC"
_ORDER_RELEVANCE = "score DESC, " + _ORDER_NEWEST
_HIT_COLUMNS = "d.id, d.source, d.url, d.title, d.published_at, d.doc_type"
_TYPES = {"published_at": UTCDateTime()}


def _listing(session: Session, sql: _Sql) -> _Found:
    # Walk the published_at index newest first and probe tags per row, unless a tag is rare: then its index
    # drives and the few matches are sorted. Counting always drives from the tag index.
    base = f"FROM documents d {sql.clause(probe=not sql.rare_tag(session))}"
    rows = session.execute(
        sql.text(
            f"SELECT {_HIT_COLUMNS}, 0.0 AS score, substr(d.body_text, 1, {_LISTING_SNIPPET_CHARS * 2}) AS snip "
            f"{base} ORDER BY {_ORDER_NEWEST} LIMIT :limit OFFSET :offset",
            **_TYPES,
        ),
        sql.params,
    ).all()
    hits = [(*row[:6], 0.0, _shorten(row.snip)) for row in rows]
    if sql.sole is not None and len(sql.tags) == 1 and not sql.where:
        # one place and nothing else: count its tags (each tag's document exists: a foreign key, ON DELETE CASCADE)
        return _Found(hits, count_from=sql.sole)
    return _Found(hits, count_from=f"FROM documents d {sql.clause(probe=False)}")


# --- SQLite ---------------------------------------------------------------------------------------------------

_FTS_JOIN = "FROM documents_fts f CROSS JOIN documents d ON d.id = f.rowid"  # CROSS JOIN: the FTS index drives
_BM25 = f"-bm25(documents_fts, {TITLE_WEIGHT}, {BODY_WEIGHT})"


def _sqlite(session: Session, sql: _Sql, parsed: ParsedQuery, order: Order, bound: int | None) -> _Found:
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
    total, estimate = _sqlite_total(session, sql, filtered, candidates) if common else (len(ids), False)
    low, high = candidates[-1], candidates[0]
    window = {"match": sql.params["match"], "low": low, "high": high, "ids": json.dumps(candidates)}
    # the candidates again as a range of the FTS index (one FTS5 query: bm25's statistics are read once) and,
    # when a filter left some matches of that range out, a list
    member = " AND +f.rowid IN (SELECT value FROM json_each(:ids))" if filtered else ""
    in_window = f"documents_fts MATCH :match AND f.rowid BETWEEN :low AND :high{member}"
    page = {"limit": sql.params["limit"], "offset": sql.params["offset"]}
    if order == "relevance":
        page_ids = session.execute(
            sa.text(
                f"SELECT f.rowid FROM documents_fts f WHERE {in_window} "
                f"ORDER BY {_BM25} DESC, f.rowid DESC LIMIT :limit OFFSET :offset"
            ),
            {**window, **page},
        ).scalars()
    elif common:  # walk the publication dates newest first; each document is looked up in the list of matches
        fts = "d.id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH :match)"
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
    rows = _sqlite_detail(session, wanted, sql.params["match"]) if wanted else []
    return _Found(rows, total=total, estimate=estimate, ranked_among=bound if common and order == "relevance" else None)


def _sqlite_total(session: Session, sql: _Sql, filtered: bool, candidates: list[int]) -> tuple[int, bool]:
    """The number of matches of a query with more than ``bound`` (the newest of which are ``candidates``), and
    whether it is an estimate. FTS5 counts up to ``COUNT_BOUND`` matches in a loop over its doclists (a few ms for
    20,000); beyond, and for a filter over many matches, the density of the newest ones is extrapolated."""
    match = sql.params["match"]
    counted, lowest = session.execute(
        sa.text(
            "SELECT count(*), min(r) FROM (SELECT rowid AS r FROM documents_fts WHERE documents_fts MATCH :match "
            "ORDER BY rowid DESC LIMIT :cap)"
        ),
        {"match": match, "cap": COUNT_BOUND},
    ).one()
    raw: float = counted
    estimated = counted >= COUNT_BOUND
    if estimated:  # the newest COUNT_BOUND matches span the ids from ``lowest`` up: as dense below
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


def _sqlite_detail(session: Session, wanted: list[int], match: str) -> list[Any]:
    """The hits ``wanted``, in that order, with their bm25 score and snippets (one FTS5 query over their id range)."""
    detail = session.execute(
        sa.text(
            f"SELECT {_HIT_COLUMNS}, {_BM25} AS score, "
            f"snippet(documents_fts, 1, :o, :c, '…', {_FTS_SNIPPET_TOKENS}) AS body, "
            f"snippet(documents_fts, 0, :o, :c, '…', {_FTS_SNIPPET_TOKENS}) AS title_snip "
            f"{_FTS_JOIN} WHERE documents_fts MATCH :match AND f.rowid BETWEEN :low AND :high "
            "AND +f.rowid IN (SELECT value FROM json_each(:ids))"
        ).columns(**_TYPES),
        {"match": match, "low": min(wanted), "high": max(wanted), "ids": json.dumps(wanted), "o": _OPEN, "c": _CLOSE},
    ).all()
    return _merge(wanted, detail)


# --- PostgreSQL -----------------------------------------------------------------------------------------------


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
        return _Found(_pg_detail(session, expr, params, list(page_ids)), total=about(expected), estimate=True)
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
        return _Found(_pg_detail(session, expr, params, [r.id for r in ranked]), total=ranked[0].total)
    if common:
        assert bound is not None
        bounded = _pg_bounded(session, sql, expr, params, bound, expected)
        if bounded is not None:
            return bounded
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
    ranked = session.execute(  # each candidate's vector read once, by its primary key
        sa.text(
            f"SELECT d.id FROM documents d, (SELECT {expr} AS q) tq WHERE d.id = ANY(:ids) "
            f"ORDER BY ts_rank(d.search_vector, tq.q) DESC, {_ORDER_NEWEST} LIMIT :limit OFFSET :offset"
        ),
        {**params, "ids": candidates, "limit": sql.params["limit"], "offset": sql.params["offset"]},
    ).scalars()
    rows = _pg_detail(session, expr, params, list(ranked))
    if low < bottom:  # the window holds every match: all were ranked and counted
        return _Found(rows, total=among)
    return _Found(rows, total=about(max(expected, among)), estimate=True, ranked_among=among)


def _pg_estimate(session: Session, sql: _Sql, base: str) -> int:
    """The planner's estimate of the rows ``base`` selects (tsvector statistics: most common lexemes)."""
    plan = session.execute(sql.text(f"EXPLAIN (FORMAT JSON) SELECT 1 {base}"), sql.params).scalar_one()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _pg_detail(session: Session, expr: str, params: dict[str, Any], wanted: list[int]) -> list[Any]:
    """The hits ``wanted``, in that order, with their ts_rank score and headlines."""
    if not wanted:
        return []
    detail = session.execute(
        sa.text(
            f"SELECT {_HIT_COLUMNS}, ts_rank(d.search_vector, tq.q) AS score, "
            "ts_headline('english', d.body_text, tq.q, :opts) AS body, "
            "ts_headline('english', d.title, tq.q, :opts) AS title_snip "
            f"FROM documents d, (SELECT {expr} AS q) tq WHERE d.id IN :ids"
        )
        .bindparams(sa.bindparam("ids", expanding=True))
        .columns(**_TYPES),
        {**params, "ids": wanted, "opts": _PG_HEADLINE},
    ).all()
    return _merge(wanted, detail)


def _merge(wanted: Sequence[int], detail: Sequence[Any]) -> list[Any]:
    by_id = {row.id: row for row in detail}
    hits = []
    for doc_id in wanted:
        d = by_id[doc_id]
        snippet = d.body if _OPEN in (d.body or "") or _OPEN not in (d.title_snip or "") else d.title_snip
        hits.append((*d[:6], float(d.score), snippet or ""))
    return hits


def _total(
    session: Session, sql: _Sql, base: str, found: int, limit: int, offset: int, cap: int | None
) -> tuple[int, bool]:
    if found < limit and (found or not offset):
        return offset + found, True  # a short page: nothing lies beyond it
    capped = f"SELECT 1 {base} LIMIT :cap" if cap is not None else f"SELECT 1 {base}"
    params = {**sql.params, "cap": (cap or 0) + 1}
    try:
        total: int = session.execute(sql.text(f"SELECT count(*) FROM ({capped}) c"), params).scalar_one()
    except DBAPIError as exc:
        raise QueryError(f"cannot count matches: {shown(str(exc.orig).splitlines()[0], 200)}") from None
    if cap is not None and total > cap:
        return cap, False
    return total, True


def _shorten(text: str | None) -> str:
    text = " ".join((text or "").split())
    if len(text) <= _LISTING_SNIPPET_CHARS:
        return text
    cut = text.rfind(" ", 0, _LISTING_SNIPPET_CHARS)
    return text[: cut if cut > 0 else _LISTING_SNIPPET_CHARS] + "…"


def _finish(row: Sequence[Any], open_: str, close: str) -> SearchHit:
    doc_id, source, url, title, published_at, doc_type, score, snippet = row
    snippet = " ".join(snippet.split()).replace(_OPEN, open_).replace(_CLOSE, close)
    return SearchHit(doc_id, source, url, title, published_at, doc_type, score, snippet)
