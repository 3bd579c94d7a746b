"""Full-text search over the archive, on SQLite (FTS5) and PostgreSQL (tsvector), with a ``DocumentFilter``.

The query syntax is in ``pipeline/textquery.py`` (words ANDed, "phrases", OR, -exclusion, prefix*). Words are
matched after stemming (English, Porter), ignoring case and accents. Punctuation inside a word splits it on
SQLite (``U.S.C.`` is the phrase "u s c"); PostgreSQL keeps such tokens whole on both sides. On PostgreSQL,
English stop words ("the", "of") are ignored. An empty query lists the documents matching the filter, newest
first. A malformed query (an unbalanced ``"``, a dangling ``OR``, only exclusions) raises ``QueryError``.

User text never reaches the FTS5 or tsquery parsers as syntax: on SQLite every term is a double-quoted FTS5
string; on PostgreSQL every term is a bound parameter of ``plainto_tsquery``/``phraseto_tsquery`` (prefix terms
are reduced to letters and digits before ``to_tsquery``), combined with the ``&&``, ``||`` and ``!!`` operators.

Where things are: this module is the entry (``search()``, ``SearchResult``, the listing without words, the counted
totals); word queries run in ``search_sqlite.py`` (FTS5) and ``search_pg.py`` (tsvector); what both share, the
filter's SQL included, is in ``search_common.py``. The limits (``COUNT_CAP``, ``RANK_BOUND``, ``COUNT_BOUND``,
``_RARE_TAG``) are this module's and are read here at each call.

The filter is rendered as raw SQL (``search_common._filter_sql``) rather than through
``DocumentFilter.conditions()`` so that each search can pick its plan: tag filters become ``EXISTS`` probes per
row, or ``IN`` lists driven from the tag index when a tag is rare (fewer than ``_RARE_TAG`` documents).
``tests/test_filters.py`` checks both renderings agree.

Ranking: SQLite ``bm25`` with the title weighted 10x the body, PostgreSQL ``ts_rank`` (title weight A, body
B); ``SearchHit.score`` is higher-is-better on both. Hits that are not ranked are not scored: newest first, as in
a listing without words, ``score`` is 0.0 (FTS5's bm25 of one hit reads a common word's whole doclist for its
statistics: 40 ms for 845,000 matches).

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
at most ``COUNT_BOUND`` matches (a C loop over the doclist), on PostgreSQL by relevance a walk over the id windows
that reached the oldest document with at most ``rank_bound`` matches, newest first a query the planner expects to
match at most ``2 * rank_bound`` rows. Otherwise the total is estimated and ``total_is_estimate`` says so (shown as
"about"): from the density of matches among the newest ids (and of the filter among the newest matches), or, on
PostgreSQL newest first, the planner's estimate from the tsvector statistics (``ANALYZE``; most-common-lexeme
frequencies).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from lawwatch.errors import QueryError, shown
from lawwatch.pipeline.filters import DocumentFilter
from lawwatch.pipeline.search_common import (
    _CLOSE,
    _HIT_COLUMNS,
    _OPEN,
    _ORDER_NEWEST,
    _TYPES,
    Order,
    _filter_sql,
    _Found,
    _indexed,
    _planner,
    _Sql,
    about,
)
from lawwatch.pipeline.search_pg import _postgres
from lawwatch.pipeline.search_sqlite import _sqlite
from lawwatch.pipeline.textquery import ParsedQuery, Term, parse_query, to_fts5, to_tsquery_sql

__all__ = [
    "COUNT_CAP",
    "DocumentFilter",
    "Order",
    "ParsedQuery",
    "SearchHit",
    "SearchResult",
    "Term",
    "about",
    "parse_query",
    "search",
    "to_fts5",
    "to_tsquery_sql",
]

COUNT_CAP = 10_000
RANK_BOUND = 1000  # relevance ranks at most the newest this many matches of a word query
COUNT_BOUND = 20_000  # SQLite counts at most this many full-text matches; more are estimated
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
            found = _sqlite(session, sql, parsed, order, rank_bound, COUNT_BOUND)
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


def _listing(session: Session, sql: _Sql) -> _Found:
    # Walk the published_at index newest first and probe tags per row, unless a tag is rare: then its index
    # drives and the few matches are sorted. Counting always drives from the tag index.
    base = f"FROM documents d {sql.clause(probe=not sql.rare_tag(session, _RARE_TAG))}"
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


def _total(
    session: Session, sql: _Sql, base: str, found: int, limit: int, offset: int, cap: int | None
) -> tuple[int, bool]:
    if found < limit and (found or not offset):
        return offset + found, True  # a short page: nothing lies beyond it
    capped = f"SELECT 1 {base} LIMIT :cap" if cap is not None else f"SELECT 1 {base}"
    params = {**sql.params, "cap": (cap or 0) + 1}
    try:
        with _indexed(session) if cap is not None else nullcontext():  # (an uncapped count: the planner's way)
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
