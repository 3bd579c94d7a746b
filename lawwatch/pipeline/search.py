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
B); ``SearchHit.score`` is higher-is-better on both. Totals of word searches are exact (a window count
taken while ranking); listings without words count up to ``count_cap`` (default 10,000) matches and
``SearchResult.total_exact`` tells whether ``total`` is exact or the cap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from lawwatch.errors import QueryError, shown
from lawwatch.pipeline.filters import DocumentFilter
from lawwatch.pipeline.models import UTCDateTime
from lawwatch.pipeline.textquery import ParsedQuery, Term, parse_query, to_fts5

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
    total: int
    hits: list[SearchHit]
    total_exact: bool = True


# --- PostgreSQL tsquery -------------------------------------------------------------------------------------


def to_tsquery_sql(parsed: ParsedQuery) -> tuple[str, dict[str, Any]]:
    """A SQL expression building the tsquery for ``parsed`` from bound parameters, and those parameters."""
    params: dict[str, Any] = {}

    def term_sql(term: Term) -> str:
        name = f"t{len(params)}"
        if term.prefix:
            tokens = term.tokens
            params[name] = " <-> ".join(tokens[:-1] + [tokens[-1] + ":*"])
            return f"to_tsquery('english', :{name})"
        params[name] = term.text
        function = "phraseto_tsquery" if term.phrase or len(term.tokens) > 1 else "plainto_tsquery"
        return f"{function}('english', :{name})"

    ands = []
    for group in parsed.groups:
        terms = [term_sql(t) for t in group]
        ands.append(terms[0] if len(terms) == 1 else "(" + " || ".join(terms) + ")")
    expr = " && ".join(ands)
    for term in parsed.excluded:
        expr = f"({expr}) && !!{term_sql(term)}"
    return expr, params


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
) -> SearchResult:
    """Search the archive for the documents ``filter`` selects, ranked by the full-text query.

    The query (syntax: ``pipeline/textquery.py``) is either the second argument, a string, or the ``query`` of
    the filter; the second argument may also be the filter itself: ``search(s, "sanctuary", filter=f)``,
    ``search(s, f)``. Giving a query both ways raises ``QueryError``."""
    flt = _resolve(query, filter)
    if order not in ("relevance", "newest"):
        raise QueryError(f"order must be 'relevance' or 'newest', not {order!r}")
    if limit < 0 or offset < 0:
        raise QueryError("limit and offset must not be negative")
    parsed = flt.parsed_query
    dialect = session.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise QueryError(f"search is not supported on {dialect}")
    sql = _filter_sql(flt)
    sql.params.update(limit=limit, offset=offset)
    try:
        if parsed.empty:
            count_from, hits, known = _listing(session, sql)
        elif dialect == "sqlite":
            count_from, hits, known = _sqlite(session, sql, parsed, order)
        else:
            count_from, hits, known = _postgres(session, sql, parsed, order)
    except DBAPIError as exc:
        raise QueryError(f"cannot run query {shown(flt.query)}: {shown(str(exc.orig).splitlines()[0], 200)}") from None
    if known is not None:  # ranking visited every match anyway and counted them (a window count)
        total, exact = known, True
    else:
        total, exact = _total(session, sql, count_from, len(hits), limit, offset, count_cap)
    open_, close = highlight
    return SearchResult(
        total=total,
        hits=[_finish(h, open_, close) for h in hits],
        total_exact=exact,
    )


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


def _listing(session: Session, sql: _Sql) -> tuple[str, list[Any], int | None]:
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
        return sql.sole, hits, None
    return f"FROM documents d {sql.clause(probe=False)}", hits, None


def _sqlite(session: Session, sql: _Sql, parsed: ParsedQuery, order: Order) -> tuple[str, list[Any], int | None]:
    sql.params["match"] = to_fts5(parsed)
    # CROSS JOIN pins the join order: the FTS index drives, each match probes documents by rowid.
    where = sql.clause("documents_fts MATCH :match", probe=True)
    base = f"FROM documents_fts f CROSS JOIN documents d ON d.id = f.rowid {where}"
    count_from = base if sql.where or sql.tags else "FROM documents_fts WHERE documents_fts MATCH :match"
    bm25 = f"-bm25(documents_fts, {TITLE_WEIGHT}, {BODY_WEIGHT})"
    if order == "relevance" and not (sql.where or sql.tags):  # rank inside the FTS index alone
        inner = f"SELECT rowid AS id, {bm25} AS score FROM documents_fts WHERE documents_fts MATCH :match"
        ordering = "m.score DESC, m.id DESC"
    else:
        inner = f"SELECT d.id, {bm25} AS score, d.published_at {base}"
        ordering = (_ORDER_RELEVANCE if order == "relevance" else _ORDER_NEWEST).replace("d.", "m.")
    # bm25() cannot run beside a window function, hence the subquery.
    ranked_sql = (
        f"SELECT m.id, m.score, count(*) OVER () AS total FROM ({inner}) m "
        f"ORDER BY {ordering} LIMIT :limit OFFSET :offset"
    )
    ranked = session.execute(sql.text(ranked_sql), sql.params).all()
    if not ranked:
        return count_from, [], None
    detail = session.execute(
        sa.text(
            f"SELECT {_HIT_COLUMNS}, snippet(documents_fts, 1, :o, :c, '…', {_FTS_SNIPPET_TOKENS}) AS body, "
            f"snippet(documents_fts, 0, :o, :c, '…', {_FTS_SNIPPET_TOKENS}) AS title_snip "
            "FROM documents_fts f CROSS JOIN documents d ON d.id = f.rowid "
            "WHERE documents_fts MATCH :match AND f.rowid IN :ids"
        )
        .bindparams(sa.bindparam("ids", expanding=True))
        .columns(**_TYPES),
        {"match": sql.params["match"], "ids": [r.id for r in ranked], "o": _OPEN, "c": _CLOSE},
    ).all()
    return count_from, _merge(ranked, detail), ranked[0].total


def _postgres(session: Session, sql: _Sql, parsed: ParsedQuery, order: Order) -> tuple[str, list[Any], int | None]:
    expr, params = to_tsquery_sql(parsed)
    sql.params.update(params)
    base = f"FROM documents d, (SELECT {expr} AS q) tq {sql.clause('d.search_vector @@ tq.q', probe=True)}"
    ordering = _ORDER_RELEVANCE if order == "relevance" else _ORDER_NEWEST
    ranked = session.execute(
        sql.text(
            f"SELECT d.id, ts_rank(d.search_vector, tq.q) AS score, count(*) OVER () AS total {base} "
            f"ORDER BY {ordering} LIMIT :limit OFFSET :offset"
        ),
        sql.params,
    ).all()
    if not ranked:
        return base, [], None
    detail = session.execute(
        sa.text(
            f"SELECT {_HIT_COLUMNS}, ts_headline('english', d.body_text, tq.q, :opts) AS body, "
            f"ts_headline('english', d.title, tq.q, :opts) AS title_snip "
            f"FROM documents d, (SELECT {expr} AS q) tq WHERE d.id IN :ids"
        )
        .bindparams(sa.bindparam("ids", expanding=True))
        .columns(**_TYPES),
        {**params, "ids": [r.id for r in ranked], "opts": _PG_HEADLINE},
    ).all()
    return base, _merge(ranked, detail), ranked[0].total


def _merge(ranked: Sequence[Any], detail: Sequence[Any]) -> list[Any]:
    by_id = {row.id: row for row in detail}
    hits = []
    for row in ranked:
        d = by_id[row.id]
        snippet = d.body if _OPEN in (d.body or "") or _OPEN not in (d.title_snip or "") else d.title_snip
        hits.append((*d[:6], float(row.score), snippet or ""))
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
