"""What search and its two backends share: the filter rendered as raw SQL (``_Sql``, ``_filter_sql``), a page's
answer before it is finished (``_Found``), PostgreSQL planner settings for a few statements (``_planner``), the hit
columns and ``_merge``, which puts a page's hits in order and picks each one's snippet.

``pipeline/search.py`` is the entry (``search()``, its results, the listing without words, totals);
``search_sqlite.py`` and ``search_pg.py`` run word queries. This module imports neither of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lawwatch.pipeline.filters import DocumentFilter
from lawwatch.pipeline.models import UTCDateTime

Order = Literal["relevance", "newest"]
_OPEN, _CLOSE = "\x02", "\x03"  # sentinels, replaced by the caller's highlight markers
_ORDER_NEWEST = "d.published_at DESC NULLS LAST, d.id DESC"
_HIT_COLUMNS = "d.id, d.source, d.url, d.title, d.published_at, d.doc_type"
_TYPES = {"published_at": UTCDateTime()}


def about(n: float) -> int:
    """An estimate rounded to three significant digits (11,888.4 -> 11,900)."""
    whole = max(int(round(n)), 0)
    digits = len(str(whole))
    return whole if digits <= 3 else int(round(whole, 3 - digits))


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

    def rare_tag(self, session: Session, below: int) -> bool:
        """Whether some tag filter matches fewer than ``below`` documents (then its index should drive)."""
        for table, condition in self.tags:
            probe = f"SELECT count(*) FROM (SELECT 1 FROM {table} t WHERE {condition} LIMIT {below}) c"
            with _indexed(session):
                if session.execute(self.text(probe), self.params).scalar_one() < below:
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
    # read, then set, in one round trip (the subquery, kept apart by OFFSET 0, is read before the outer list is
    # computed); restored in another
    read = ", ".join(f"current_setting(:n{i}) AS s{i}" for i in range(len(names)))
    calls = ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in range(len(names)))
    params = {f"{k}{i}": x for i, pair in enumerate(settings.items()) for k, x in zip("nv", pair, strict=True)}
    statement = f"SELECT w.*, {calls} FROM (SELECT {read} OFFSET 0) w"
    was = list(session.execute(sa.text(statement), params).one())[: len(names)]
    yield  # on an error the transaction is rolled back, and the settings with it
    _set(session, dict(zip(names, was, strict=True)))


@contextmanager
def _indexed(session: Session, *, scans: bool = False) -> Iterator[None]:
    """A count up to a cap (``LIMIT``) through the filter's indexes on PostgreSQL (``scans``: or a scan of the table,
    when no index leads with the filter's column). The planner, expecting the cap's rows soon, would rather scan the
    table, and a scan of a large table starts wherever the last scan of it stopped (synchronized scans): some
    stretches hold few of the matches, so the same count took 2 ms most times and 100-180 ms every ninth or so at a
    million documents (a place's first 10,001 tags; through its index 2-15 ms, every time). A scan starts at the
    table's first page."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    with _planner(session, synchronize_seqscans="off", **({} if scans else {"enable_seqscan": "off"})):
        yield


def _set(session: Session, values: dict[str, str]) -> None:
    calls = ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in range(len(values)))
    params = {f"{k}{i}": x for i, pair in enumerate(values.items()) for k, x in zip("nv", pair, strict=True)}
    session.execute(sa.text(f"SELECT {calls}"), params)


def _merge(wanted: Sequence[int], detail: Sequence[Any]) -> list[Any]:
    by_id = {row.id: row for row in detail}
    hits = []
    for doc_id in wanted:
        d = by_id[doc_id]
        snippet = d.body if _OPEN in (d.body or "") or _OPEN not in (d.title_snip or "") else d.title_snip
        hits.append((*d[:6], float(d.score), snippet or ""))
    return hits
