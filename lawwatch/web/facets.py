"""Facet counts of a search: jurisdiction, statute, type, source and year.

The documents counted are those the search finds (its full-text query and filters), except that a facet ignores
its own field's filter, so its counts say what each value would contribute — the values of one field OR together,
as in ``DocumentFilter`` (disjunctive faceting). With nothing chosen in a field, clicking one of its values narrows
the search to exactly the count shown.

Facets count at most ``SAMPLE`` matching documents (an index-ordered sample when a search finds more, which the page
says), so that a facet costs the same on any archive; when the search finds fewer, the counts are exact.

All the facets that count the same documents (every facet but those of the fields with a chosen value) are one
statement: the sample is found once, as a common table expression, and each facet is a ``GROUP BY`` over it (its
tag table read for the sample's ids through the table's ``document_id`` index), the parts joined by ``UNION ALL``.

The full-text match is the search's own: FTS5 ``MATCH`` on SQLite, the ``search_vector`` on PostgreSQL, built by
``pipeline.search``'s public ``to_fts5``/``to_tsquery_sql`` from the same parsed query.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.util import ClauseAdapter

from lawwatch.pipeline.filters import LOCATOR, DocumentFilter
from lawwatch.pipeline.models import Document, DocumentJurisdiction, DocumentSource, DocumentStatute, Jurisdiction
from lawwatch.pipeline.search import to_fts5, to_tsquery_sql
from lawwatch.pipeline.search_common import _indexed, _planner, _Sql
from lawwatch.pipeline.search_pg import _pg_estimate
from lawwatch.web.params import SearchParams

TOP = 10
SAMPLE = 2000
RARE = 5000  # a tag on fewer documents drives the sample's query
COMMON_WORDS = 10 * SAMPLE  # words expected in more documents: the filters' samples share one pass (PostgreSQL)


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet: what it is called, its count, the link that adds it (or removes it when chosen)."""

    label: str
    count: int
    value: str  # the URL value (a jurisdiction id, a citation, a type, a source id, a year)
    selected: bool
    link: str


@dataclass(frozen=True)
class Facet:
    name: str  # the URL field: jurisdiction, statute, type, source, year
    title: str
    values: list[FacetValue]
    sampled: bool = False  # the counts are those of ``SAMPLE`` of the documents the facet counts, not of all


def text_match(session: Session, flt: DocumentFilter) -> ColumnElement[bool] | None:
    """The filter's full-text query as a condition on ``documents`` (None: no query)."""
    parsed = flt.parsed_query
    if parsed.empty:
        return None
    if session.get_bind().dialect.name == "sqlite":
        matches: sa.Select[int] = (
            select(sa.column("rowid", sa.Integer))
            .select_from(sa.table("documents_fts"))
            .where(sa.text("documents_fts MATCH :lw_match").bindparams(lw_match=to_fts5(parsed)))
        )
        return Document.id.in_(matches)
    expr, params = to_tsquery_sql(parsed)
    return sa.text(f"documents.search_vector @@ ({expr})").bindparams(**params)  # type: ignore[return-value]


def _drivers(session: Session, flt: DocumentFilter) -> list[ColumnElement[bool]]:
    """The filter's rare tag conditions again as ``IN`` lists (the same documents): a rare tag's index then drives
    the query, where ``conditions()``' ``EXISTS`` would probe every document of the archive to find its few. A
    common tag is left to ``EXISTS``, which stops at the ``SAMPLE``-th match (pipeline/search.py decides alike)."""
    tags: list[sa.Select[int]] = []
    if flt.jurisdictions and not flt.within:
        dj = DocumentJurisdiction
        tags.append(select(dj.document_id).where(dj.jurisdiction_id.in_(flt.jurisdictions), dj.role != LOCATOR))
    if len(flt.statutes) == 1:
        title, section = flt.statutes[0]
        ds = DocumentStatute
        tags.append(select(ds.document_id).where(ds.section == section, *([ds.title == title] if title else [])))
    out: list[ColumnElement[bool]] = []
    for tagged in tags:
        with _indexed(session):
            few = session.scalar(select(func.count()).select_from(tagged.limit(RARE).subquery()))
        if (few or 0) < RARE:
            out.append(Document.id.in_(tagged))
    return out


FIELDS = ("jurisdiction", "statute", "type", "source", "year")
Row = tuple[str | None, str | None, int]  # (key, second key, count) of one facet value


Counted = tuple[dict[str, list["Row"]], bool]  # the rows of each facet a statement counts; more than SAMPLE found


def facets(session: Session, params: SearchParams) -> list[Facet]:
    """The five facets of the search ``params`` describes (its filter must be valid), counted on ``session``
    (``count_all``)."""
    return assemble(session, params, count_all(session, statements(params)))


def statements(params: SearchParams) -> dict[DocumentFilter, list[str]]:
    """The counting statements the facets of ``params`` take: one per distinct filter (the search's, and one per
    field with a chosen value, which ignores it), with the facets each counts. They are independent of each other
    (the search page runs them beside its search on PostgreSQL: ``web/side.py``)."""
    flt = params.filter
    without = {
        "jurisdiction": replace(flt, jurisdictions=(), within=False),
        "statute": replace(flt, statutes=()),
        "type": replace(flt, doc_types=()),
        "source": replace(flt, sources=()),
        "year": replace(flt, published_since=None, published_until=None),
    }
    served: dict[DocumentFilter, list[str]] = {}
    for name in FIELDS:
        served.setdefault(without[name], []).append(name)
    return served


def assemble(session: Session, params: SearchParams, counted: dict[DocumentFilter, Counted]) -> list[Facet]:
    """The facets from what each of ``statements(params)`` counted (``count``)."""
    by_name: dict[str, tuple[list[Row], bool]] = {}
    for flt, names in statements(params).items():
        rows, more = counted[flt]
        by_name.update((name, (rows.get(name, []), more)) for name in names)
    build = {"jurisdiction": _jurisdictions, "statute": _statutes, "type": _types, "source": _sources, "year": _years}
    return [build[name](session, params, *by_name[name]) for name in FIELDS]


def _found(tag: str) -> sa.TableClause:  # the CTEs ``count`` adds to the statement ``_parts`` builds
    return sa.table(f"lw_found{tag}", sa.column("id", sa.Integer))


def _sampled(tag: str) -> sa.TableClause:
    return sa.table(
        f"lw_sample{tag}",
        sa.column("id", sa.Integer),
        sa.column("source", sa.String),
        sa.column("published_at", Document.published_at.type),
        sa.column("doc_type", sa.String),
    )


def count(
    session: Session, flt: DocumentFilter, names: list[str], drivers: list[ColumnElement[bool]] | None = None
) -> Counted:
    """The counts of the facets ``names`` over at most ``SAMPLE`` of the documents ``flt`` selects, in one
    statement; and whether ``flt`` selects more than ``SAMPLE``. ``drivers``: ``_drivers(session, flt)`` when the
    caller has them."""
    match = text_match(session, flt)
    words: list[Any] = [match] if match is not None else []  # (on SQLite with words: the FTS index's MATCH below)
    columns = select(Document.id, Document.source, Document.published_at, Document.doc_type)
    dialect = session.get_bind().dialect.name
    if len(flt.jurisdictions) == 1 and not flt.within and (match is None or dialect == "sqlite"):
        # one place: walk its tags (each names a document once: the key is (document_id, jurisdiction_id)) and
        # stop at the sample's end, where EXISTS would probe every document until then, and an IN list collect
        # every tag first. Not on PostgreSQL with words: testing each tagged document's vector reads it back from
        # TOAST (1.3 s for "immigration" and a place named by a fifth of 100,000 documents, 70 ms through the
        # word's GIN bitmap, each match probing the place)
        dj, rest = DocumentJurisdiction, replace(flt, jurisdictions=())
        tagged = [dj.jurisdiction_id == flt.jurisdictions[0], dj.role != LOCATOR]
        columns = columns.select_from(dj).join(Document, Document.id == dj.document_id)
        conditions = [*tagged, *rest.conditions(), *_drivers(session, rest), *words]
    else:
        driving = _drivers(session, flt) if drivers is None else drivers
        if match is not None and dialect == "sqlite":
            # walk the FTS index's matches and stop at the sample's end (an IN list would collect every match first)
            fts = sa.table("documents_fts", sa.column("rowid", sa.Integer))
            columns = columns.select_from(fts).join(Document, Document.id == fts.c.rowid)
            words = [sa.text("documents_fts MATCH :lw_match").bindparams(lw_match=to_fts5(flt.parsed_query))]
        conditions = [*flt.conditions(), *driving, *words]
    found = (
        columns.where(*conditions)
        .limit(SAMPLE + 1)  # one more, to know whether there are more
        .cte("lw_found")
    )
    sample = select(found).limit(SAMPLE).cte("lw_sample")
    stmt = sa.union_all(*_parts(dialect, tuple(names))).add_cte(found, sample)
    return _read(_execute(session, stmt, planned=match is not None))[""]


def _read(result: list[Any]) -> dict[str, Counted]:
    """The rows of ``_parts``' statements by their tag: each facet's rows, and whether more than SAMPLE were found."""
    out: dict[str, Counted] = {}
    for label, key, second, n in result:
        tag, _, facet = label.rpartition(":")
        rows = out.setdefault(tag, ({}, False))[0]
        if facet:
            rows.setdefault(facet, []).append((key, second, n))
        else:
            out[tag] = (rows, n > SAMPLE)
    return out


def count_all(
    session: Session, served: dict[DocumentFilter, list[str]], *, common: bool | None = None
) -> dict[DocumentFilter, Counted]:
    """``count`` of each of ``statements(params)`` (``served``), one after the other; but on PostgreSQL the filters
    with common words (``_common``; ``common``: the caller knows) and no other condition than common tags (no rare
    one to drive them, ``_drivers``; ``_tags_only``) are counted in one statement, over one pass through the words'
    matches (``_count_shared``)."""
    out: dict[DocumentFilter, Counted] = {}
    shared: list[tuple[DocumentFilter, list[str]]] = []
    postgres = session.get_bind().dialect.name == "postgresql"
    for flt, names in served.items():
        if not postgres or flt.parsed_query.empty:
            out[flt] = count(session, flt, names)
            continue
        drivers = _drivers(session, flt)
        if drivers or not _tags_only(flt):
            out[flt] = count(session, flt, names, drivers)
        else:
            shared.append((flt, names))
    if len(shared) > 1 and (common if common is not None else _common(session, shared[0][0])):
        out.update(_count_shared(session, shared))
    else:
        out.update((flt, count(session, flt, names, drivers=[])) for flt, names in shared)
    return out


def tasks(session: Session, served: dict[DocumentFilter, list[str]]) -> list[dict[DocumentFilter, list[str]]]:
    """``served`` cut into what the search page counts beside its search on PostgreSQL, each part a ``count_all``
    of its own, on a connection of its own (``web/side.py``): with common words, the filters that may share their
    matches together, and every other filter alone; else every filter alone, each statement beside the others."""
    first = next(iter(served))
    postgres = session.get_bind().dialect.name == "postgresql"
    if not postgres or first.parsed_query.empty or not _common(session, first):
        return [{flt: names} for flt, names in served.items()]
    together = {flt: names for flt, names in served.items() if _tags_only(flt)}
    return [together, *({flt: names} for flt, names in served.items() if flt not in together)]


def _common(session: Session, flt: DocumentFilter) -> bool:
    """Whether the planner expects ``flt``'s words in more than ``COMMON_WORDS`` documents: sharing their matches
    saves building and sorting their bitmap again (25 ms for a word in 120,000 documents of a million); for fewer,
    the shared statement's larger plan costs more than it saves (3 ms)."""
    expr, params = to_tsquery_sql(flt.parsed_query)
    return (
        _pg_estimate(session, _Sql([], [], params, []), f"FROM documents d WHERE d.search_vector @@ ({expr})")
        > COMMON_WORDS
    )


def _tags_only(flt: DocumentFilter) -> bool:
    """Whether ``flt``'s conditions are only tags (places, statutes): the words' matches are then probed for them one
    by one, the same in a filter's own statement or shared. A type, source or date is a column the planner ANDs
    with the words' bitmap through its own index, reading only the matches that pass (the words with a rare type:
    30 ms alone, 260 ms reading every match of the words in a shared statement)."""
    return not (
        flt.doc_types
        or flt.sources
        or flt.published_since
        or flt.published_until
        or flt.fetched_since
        or flt.fetched_until
    )


def _count_shared(session: Session, shared: list[tuple[DocumentFilter, list[str]]]) -> dict[DocumentFilter, Counted]:
    """On PostgreSQL, the facets of several filters with the same words, none with a rare tag, in one statement.

    Each filter's own statement (``count``) would find its sample through the words' GIN bitmap: the whole bitmap
    built and sorted before its first match is read (25 ms for "immigration", in 120,000 documents of a million),
    then the matches in the table's order, each probed for the filter, until the sample's end. Here the matches are
    one common table expression (``lw_words``), which PostgreSQL computes once and only as far as its readers read;
    each filter's sample is its first ``SAMPLE`` matches passing the filter's conditions (on the expression's
    columns): the same documents, in the same order, as its own statement finds them. (The search page's words
    within one place: two statements, 32 + 57 ms, become one of 62.)"""
    match = text_match(session, shared[0][0])
    assert match is not None and all(flt.query == shared[0][0].query for flt, _ in shared)
    words = (
        select(Document.id, Document.source, Document.published_at, Document.doc_type, Document.fetched_at)
        .where(match)
        .cte("lw_words")
    )
    adapt = ClauseAdapter(words)  # the filters' conditions on documents' columns, on the expression's instead
    ctes: list[sa.CTE] = [words]
    parts: list[sa.Select[Any]] = []
    for n, (flt, names) in enumerate(shared):
        conditions = [adapt.traverse(c) for c in flt.conditions()]
        passing = select(words.c.id, words.c.source, words.c.published_at, words.c.doc_type).where(*conditions)
        # every documents column read through the expression: the table itself is never joined again
        assert Document.__table__ not in passing.get_final_froms()
        found = passing.limit(SAMPLE + 1).cte(f"lw_found{n}")
        ctes += [found, select(found).limit(SAMPLE).cte(f"lw_sample{n}")]
        parts += _parts("postgresql", tuple(names), str(n))
    stmt = sa.union_all(*parts).add_cte(*ctes)
    read = _read(_execute(session, stmt, planned=True))
    return {flt: read.get(str(n), ({}, False)) for n, (flt, _) in enumerate(shared)}


def _execute(session: Session, stmt: sa.CompoundSelect[Any], *, planned: bool) -> list[Any]:
    """Run the facets' statement (on PostgreSQL its sample found through indexes, see below). ``planned``: on
    PostgreSQL, find a word query's sample through the
    ``search_vector`` index (a bitmap scan, stopped at the sample's end). The planner, expecting a common word on
    every few rows, would rather scan the table, or walk the primary key to merge it with a filter's tags, testing
    each row's vector (read from TOAST) — 20-60x slower; so sequential scans, merge and hash joins are off for this
    statement: the matches come through the bitmap and each is probed for the filters through their indexes (a hash of
    every tag of a place on a fifth of a million documents took 67 ms to build; the probes of "immigration"'s matches,
    ~30 ms). ``work_mem`` is raised as search raises it, so that a common word's bitmap stays exact: at the default
    4 MB it turns lossy and every row of its lossy pages has its vector read back and tested ("immigration" within
    that place: 350 ms and 245,000 buffers; exact and probed, 60-70 ms). No parallel workers: the statement stops
    at the sample's end, and starting two workers to read the heap for it doubled its time (a word within a place on
    a fifth of a million documents: 55 ms alone, 110 ms with two workers on two cores)."""
    if session.get_bind().dialect.name != "postgresql":
        return list(session.execute(stmt))
    # every statement: the sample in an index's order, the same on every request (a scan of the table would start
    # wherever the last scan of it stopped, "synchronized scans": at a million documents the landing page's facets
    # counted a different sample on each of 12 requests); no parallel workers
    settings = {"enable_seqscan": "off", "synchronize_seqscans": "off", "max_parallel_workers_per_gather": "0"}
    if planned:
        settings.update(enable_mergejoin="off", enable_hashjoin="off", work_mem="64MB")
    with _planner(session, **settings):
        return list(session.execute(stmt))


@functools.cache
def _parts(dialect: str, names: tuple[str, ...], tag: str = "") -> tuple[sa.Select[Any], ...]:
    """The facets ``names`` over the CTE ``lw_sample{tag}`` as the parts of one ``UNION ALL`` of (label, key, second
    key, count), after a row counting ``lw_found{tag}``; a row's label is ``tag:facet`` (``tag:`` for the count),
    the facet alone without a tag. Built once (building it costs more than running it on a small search)."""
    sample = _sampled(tag)
    ids = select(sample.c.id)
    nothing = sa.null().cast(sa.String)
    n = func.count().label("n")
    prefix = f"{tag}:" if tag else ""

    def part(name: str, stmt: sa.SelectBase) -> sa.Select[Any]:
        sub = stmt.subquery()
        return select(sa.literal(prefix + name, sa.String).label("facet"), *sub.c)

    counted = sa.literal(prefix, sa.String).label("facet")
    parts: list[Any] = [select(counted, nothing, nothing, func.count()).select_from(_found(tag))]
    if "jurisdiction" in names:
        dj = DocumentJurisdiction
        parts.append(
            part(
                "jurisdiction",
                select(dj.jurisdiction_id, nothing, n)
                .where(dj.role != LOCATOR, dj.document_id.in_(ids))
                .group_by(dj.jurisdiction_id)
                .order_by(n.desc(), dj.jurisdiction_id)
                .limit(TOP),
            )
        )
    if "statute" in names:
        ds = DocumentStatute
        distinct = func.count(sa.distinct(ds.document_id)).label("n")
        parts.append(
            part(
                "statute",
                select(ds.title, ds.section, distinct)
                .where(ds.document_id.in_(ids))
                .group_by(ds.title, ds.section)
                .order_by(distinct.desc(), ds.title, ds.section)
                .limit(TOP),
            )
        )
    if "type" in names:
        parts.append(part("type", select(sample.c.doc_type, nothing, n).group_by(sample.c.doc_type)))
    if "source" in names:
        # "seen via": the source that stored a document and every other source it was seen under, once each
        others = select(DocumentSource.document_id, DocumentSource.source).where(DocumentSource.document_id.in_(ids))
        seen = sa.union(select(sample.c.id, sample.c.source), others).subquery()
        parts.append(
            part(
                "source",
                select(seen.c.source, nothing, n).group_by(seen.c.source).order_by(n.desc(), seen.c.source).limit(TOP),
            )
        )
    if "year" in names:
        when: ColumnElement[Any] = sample.c.published_at
        if dialect == "postgresql":  # the year in UTC, as the year's link filters
            when = func.timezone("UTC", when)
        year = sa.cast(sa.cast(func.extract("year", when), sa.Integer), sa.String)
        parts.append(part("year", select(year, nothing, n).where(sample.c.published_at.is_not(None)).group_by(year)))
    return tuple(parts)


def _value(params: SearchParams, name: str, value: str, label: str, count: int, chosen: bool) -> FacetValue:
    """``count`` -1: not counted (a chosen value outside the top ones)."""
    link = params.removing(name, value) if chosen else params.adding(name, value)
    return FacetValue(label, count, value, chosen, link)


def _jurisdictions(session: Session, params: SearchParams, rows: list[Row], sampled: bool) -> Facet:
    ids = [str(jid) for jid, _, _ in rows]
    places = {  # every tag's place exists (a foreign key)
        jid: (name, kind, state)
        for jid, name, kind, state in session.execute(
            select(Jurisdiction.id, Jurisdiction.name, Jurisdiction.kind, Jurisdiction.state).where(
                Jurisdiction.id.in_(ids)
            )
        )
    }
    typed = dict(zip(params.filter.jurisdictions, params.jurisdiction, strict=False))  # id -> as written
    values = []
    for jid, _, n in rows:
        assert jid is not None
        name, kind, state = places.get(jid, (jid, "", None))
        label = name if kind == "state" or not state else f"{name}, {state}"
        chosen = jid in typed
        link = params.removing("jurisdiction", typed[jid]) if chosen else params.adding("jurisdiction", jid)
        values.append(FacetValue(label, n, jid, chosen, link))
    shown = {v.value for v in values}
    for jid, written in typed.items():  # a chosen place outside the top ones stays listed, to remove it
        if jid not in shown:
            values.append(FacetValue(written, -1, jid, True, params.removing("jurisdiction", written)))
    return Facet("jurisdiction", "Jurisdiction", values, sampled)


def cite_label(title: str | None, section: str) -> str:
    return f"{title} U.S.C. § {section}" if title else f"§ {section}"


def _statutes(session: Session, params: SearchParams, rows: list[Row], sampled: bool) -> Facet:
    chosen = set(params.filter.statutes)
    typed = dict(zip(params.filter.statutes, params.statute, strict=False))
    values = []
    for title, section, n in rows:
        assert section is not None
        cite = (title, section)
        value = typed.get(cite, f"{title} U.S.C. {section}" if title else section)
        values.append(_value(params, "statute", value, cite_label(title, section), n, cite in chosen))
    return Facet("statute", "Statute", values, sampled)


def _types(session: Session, params: SearchParams, rows: list[Row], sampled: bool) -> Facet:
    chosen = {t.value for t in params.filter.doc_types}
    ranked = sorted(((str(t), n) for t, _, n in rows), key=lambda r: (-r[1], r[0]))
    values = [_value(params, "type", t, t, n, t in chosen) for t, n in ranked]
    return Facet("type", "Type", values, sampled)


def _sources(session: Session, params: SearchParams, rows: list[Row], sampled: bool) -> Facet:
    chosen = set(params.filter.sources)
    values = [_value(params, "source", str(s), str(s), n, s in chosen) for s, _, n in rows]
    return Facet("source", "Source", values, sampled)


def _years(session: Session, params: SearchParams, rows: list[Row], sampled: bool) -> Facet:
    values = []
    for y, n in sorted(((int(str(y)), n) for y, _, n in rows), reverse=True):
        span = (date(y, 1, 1).isoformat(), date(y, 12, 31).isoformat())
        chosen = (params.since, params.until) == span
        link = params.url(since="", until="") if chosen else params.url(since=span[0], until=span[1])
        values.append(FacetValue(str(y), n, str(y), chosen, link))
    return Facet("year", "Year", values, sampled)
