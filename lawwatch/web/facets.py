"""Facet counts of a search: jurisdiction, statute, type, source and year.

The documents counted are those the search finds (its full-text query and filters), except that a facet ignores
its own field's filter, so its counts say what each value would contribute — the values of one field OR together,
as in ``DocumentFilter`` (disjunctive faceting). With nothing chosen in a field, clicking one of its values narrows
the search to exactly the count shown.

Facets count at most ``SAMPLE`` matching documents (an index-ordered sample when a search finds more, which the page
says), so that a facet costs the same on any archive; when the search finds fewer, the counts are exact.

The full-text match is the search's own: FTS5 ``MATCH`` on SQLite, the ``search_vector`` on PostgreSQL, built by
``pipeline.search``'s public ``to_fts5``/``to_tsquery_sql`` from the same parsed query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date

import sqlalchemy as sa
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import InstrumentedAttribute, Session

from lawwatch.pipeline.filters import LOCATOR, DocumentFilter
from lawwatch.pipeline.models import Document, DocumentJurisdiction, DocumentSource, DocumentStatute, Jurisdiction
from lawwatch.pipeline.search import to_fts5, to_tsquery_sql
from lawwatch.web.params import SearchParams

TOP = 10
SAMPLE = 2000
RARE = 5000  # a tag on fewer documents drives the sample's query


@dataclass(frozen=True)
class Sample:
    """The ids of the documents a facet counts, sent to the database as one parameter (a JSON array read with
    ``json_each`` on SQLite, an ``integer[]`` on PostgreSQL): an ``IN`` list of thousands of parameters costs more
    to build than the counting."""

    ids: list[int]
    dialect: str

    def has(self, column: InstrumentedAttribute[int]) -> ColumnElement[bool]:
        if self.dialect == "postgresql":
            return column == sa.any_(sa.bindparam(None, self.ids, type_=postgresql.ARRAY(sa.Integer)))
        each = func.json_each(sa.bindparam(None, json.dumps(self.ids), type_=sa.String)).table_valued("value")
        return column.in_(select(each.c.value))


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


def _sample(session: Session, flt: DocumentFilter) -> Sample:
    """The ids of the documents a facet counts: at most ``SAMPLE`` of those ``flt`` selects."""
    match = text_match(session, flt)
    conditions = [*flt.conditions(), *([match] if match is not None else []), *_drivers(session, flt)]
    ids = list(session.scalars(select(Document.id).where(*conditions).limit(SAMPLE)))
    return Sample(ids, session.get_bind().dialect.name)


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
        few = session.scalar(select(func.count()).select_from(tagged.limit(RARE).subquery()))
        if (few or 0) < RARE:
            out.append(Document.id.in_(tagged))
    return out


def facets(session: Session, params: SearchParams) -> list[Facet]:
    """The five facets of the search ``params`` describes (its filter must be valid)."""
    flt = params.filter
    samples: dict[DocumentFilter, Sample] = {}  # one query per distinct filter: the search's, and one per chosen field

    def sample(without: DocumentFilter) -> Sample:
        if without not in samples:
            samples[without] = _sample(session, without)
        return samples[without]

    return [
        _jurisdictions(session, params, sample(replace(flt, jurisdictions=(), within=False))),
        _statutes(session, params, sample(replace(flt, statutes=()))),
        _types(session, params, sample(replace(flt, doc_types=()))),
        _sources(session, params, sample(replace(flt, sources=()))),
        _years(session, params, sample(replace(flt, published_since=None, published_until=None))),
    ]


def _value(params: SearchParams, name: str, value: str, label: str, count: int, chosen: bool) -> FacetValue:
    """``count`` -1: not counted (a chosen value outside the top ones)."""
    link = params.removing(name, value) if chosen else params.adding(name, value)
    return FacetValue(label, count, value, chosen, link)


def _jurisdictions(session: Session, params: SearchParams, sample: Sample) -> Facet:
    dj = DocumentJurisdiction
    count = func.count().label("n")
    stmt = (
        select(dj.jurisdiction_id, Jurisdiction.name, Jurisdiction.kind, Jurisdiction.state, count)
        .join(Jurisdiction, Jurisdiction.id == dj.jurisdiction_id)
        .where(dj.role != LOCATOR)
        .group_by(dj.jurisdiction_id, Jurisdiction.name, Jurisdiction.kind, Jurisdiction.state)
        .order_by(count.desc(), dj.jurisdiction_id)
        .limit(TOP)
    )
    stmt = stmt.where(sample.has(dj.document_id))
    typed = dict(zip(params.filter.jurisdictions, params.jurisdiction, strict=False))  # id -> as written
    values = []
    for jid, name, kind, state, n in session.execute(stmt):
        label = name if kind == "state" or not state else f"{name}, {state}"
        chosen = jid in typed
        link = params.removing("jurisdiction", typed[jid]) if chosen else params.adding("jurisdiction", jid)
        values.append(FacetValue(label, n, jid, chosen, link))
    shown = {v.value for v in values}
    for jid, written in typed.items():  # a chosen place outside the top ones stays listed, to remove it
        if jid not in shown:
            values.append(FacetValue(written, -1, jid, True, params.removing("jurisdiction", written)))
    return Facet("jurisdiction", "Jurisdiction", values)


def cite_label(title: str | None, section: str) -> str:
    return f"{title} U.S.C. § {section}" if title else f"§ {section}"


def _statutes(session: Session, params: SearchParams, sample: Sample) -> Facet:
    ds = DocumentStatute
    count = func.count(sa.distinct(ds.document_id)).label("n")
    stmt = select(ds.title, ds.section, count).group_by(ds.title, ds.section).order_by(count.desc()).limit(TOP)
    stmt = stmt.where(sample.has(ds.document_id))
    chosen = set(params.filter.statutes)
    typed = dict(zip(params.filter.statutes, params.statute, strict=False))
    values = []
    for title, section, n in session.execute(stmt):
        cite = (title, section)
        value = typed.get(cite, f"{title} U.S.C. {section}" if title else section)
        values.append(_value(params, "statute", value, cite_label(title, section), n, cite in chosen))
    return Facet("statute", "Statute", values)


def _types(session: Session, params: SearchParams, sample: Sample) -> Facet:
    count = func.count().label("n")
    stmt = (
        select(Document.doc_type, count)
        .where(sample.has(Document.id))
        .group_by(Document.doc_type)
        .order_by(count.desc())
    )
    chosen = {t.value for t in params.filter.doc_types}
    values = [_value(params, "type", t, t, n, t in chosen) for t, n in session.execute(stmt)]
    return Facet("type", "Type", values)


def _sources(session: Session, params: SearchParams, sample: Sample) -> Facet:
    # "seen via": the source that stored a document and every other source it was seen under, once each
    first = select(Document.id.label("id"), Document.source.label("source")).where(sample.has(Document.id))
    others = select(DocumentSource.document_id, DocumentSource.source).where(sample.has(DocumentSource.document_id))
    seen = sa.union(first, others).subquery()
    count = func.count().label("n")
    stmt = select(seen.c.source, count).group_by(seen.c.source).order_by(count.desc(), seen.c.source).limit(TOP)
    chosen = set(params.filter.sources)
    values = [_value(params, "source", s, s, n, s in chosen) for s, n in session.execute(stmt)]
    return Facet("source", "Source", values)


def _years(session: Session, params: SearchParams, sample: Sample) -> Facet:
    year = func.extract("year", Document.published_at)
    count = func.count().label("n")
    stmt = (
        select(year.label("year"), count)
        .where(Document.published_at.is_not(None), sample.has(Document.id))
        .group_by(year)
        .order_by(year.desc())
    )
    values = []
    for value, n in session.execute(stmt):
        y = int(value)
        span = (date(y, 1, 1).isoformat(), date(y, 12, 31).isoformat())
        chosen = (params.since, params.until) == span
        link = params.url(since="", until="") if chosen else params.url(since=span[0], until=span[1])
        values.append(FacetValue(str(y), n, str(y), chosen, link))
    return Facet("year", "Year", values)
