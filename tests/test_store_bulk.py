"""The store's bulk paths (issue 15): what they write is exactly what was given, on SQLite and PostgreSQL.

New documents, their tags and their source rows go in by ``COPY`` on PostgreSQL and by multi-row inserts or
executemany on SQLite; these tests read every written column back, check that a refused row is SQLAlchemy's error
(as an ``INSERT`` raises it), that a batch costs the same number of statements whatever its size, that the identity
lookup uses the indexes (SQLite scanned the whole table for (source, external id) pairs) and that a ``Document``
the session holds sees an update.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lawwatch.pipeline.classify import JurisdictionTag, StatuteCite
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.models import Document, DocumentJurisdiction, DocumentSource, DocumentStatute, Jurisdiction
from lawwatch.pipeline.normalize import NormalizedDocument
from lawwatch.pipeline.store import store_documents

FETCHED = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
CHICAGO = JurisdictionTag("fips:1714000", "Chicago", "city", "IL", 3, 120, "named")
COOK = JurisdictionTag("fips:17031", "Cook County", "county", "IL", 1, 40, "locator")


@dataclass(frozen=True)
class Tags:  # the parts of pipeline.classify.Classification the store reads
    doc_type: str = "letter"
    jurisdictions: list[JurisdictionTag] = field(default_factory=list)
    statutes: list[StatuteCite] = field(default_factory=list)


def _doc(n: int, source: str = "doj_api", **kw: Any) -> NormalizedDocument:
    fields: dict[str, Any] = {
        "source": source,
        "url": f"https://www.justice.gov/opa/pr/bulk-{n}",
        "external_id": f"bulk-{n}",
        "title": f"Letter {n} — «Sanctuary» policies",
        "published_at": datetime(2017, 10, 18, 12, 35, n % 60, tzinfo=UTC),
        "body_text": f"The Department wrote to Chicago.\n\nLetter number {n}: 8 U.S.C. 1373 and tabs\there.",
        "content_hash": f"{n:064x}",
        "fetched_at": FETCHED,
        "form": None,
        "metadata": {"topics": ["immigration", "grants"], "n": n, "nested": {"ok": True, "none": None}},
        "classification": Tags(
            jurisdictions=[CHICAGO, COOK],
            statutes=[StatuteCite("8", "1373", "(a)", "8 U.S.C. 1373(a)", 50, 66)],
        ),
    }
    fields.update(kw)
    return NormalizedDocument(**fields)


def test_every_written_column_reads_back_as_given(archive: Archive) -> None:
    eastern = datetime(2017, 10, 18, 7, 35, tzinfo=timezone(timedelta(hours=-5)))  # stored as 12:35 UTC
    docs = [
        _doc(1),
        _doc(2, form="letter", published_at=None, external_id=None),
        _doc(3, url=None, published_at=eastern),
    ]
    with archive.session() as s:
        results = store_documents(s, docs)
    assert [r.outcome for r in results] == ["new", "new", "new"]
    with archive.session() as s:
        for doc, result in zip(docs, results, strict=True):
            row = s.get(Document, result.document_id)
            assert row is not None
            got = (row.source, row.url, row.external_id, row.title, row.body_text, row.content_hash, row.form)
            assert got == (doc.source, doc.url, doc.external_id, doc.title, doc.body_text, doc.content_hash, doc.form)
            assert (row.published_at, row.fetched_at, row.doc_type) == (doc.published_at, FETCHED, "letter")
            assert row.published_at is None or row.published_at.tzinfo == UTC
            assert row.meta == doc.metadata
            assert row.updated_at.tzinfo is not None
            places = {(j.jurisdiction_id, j.mentions, j.first_offset, j.role) for j in row.jurisdictions}
            assert places == {("fips:1714000", 3, 120, "named"), ("fips:17031", 1, 40, "locator")}
            cites = [(c.title, c.section, c.subsection, c.text, c.start, c.end) for c in row.statutes]
            assert cites == [("8", "1373", "(a)", "8 U.S.C. 1373(a)", 50, 66)]
            (seen,) = row.seen_via
            assert (seen.source, seen.external_id, seen.url) == (doc.source, doc.external_id, doc.url)
            assert seen.first_seen_at == seen.last_seen_at == row.updated_at
        names = s.execute(select(Jurisdiction.id, Jurisdiction.name, Jurisdiction.kind, Jurisdiction.state)).all()
        assert sorted(names) == [
            ("fips:17031", "Cook County", "county", "IL"),
            ("fips:1714000", "Chicago", "city", "IL"),
        ]
    assert len({r.document_id for r in results}) == 3


def test_a_refused_tag_row_is_sqlalchemys_integrity_error_and_nothing_is_kept(archive: Archive) -> None:
    twice = _doc(1, classification=Tags(jurisdictions=[CHICAGO, CHICAGO]))  # the same place twice: one primary key
    with pytest.raises(IntegrityError):
        with archive.session() as s:
            store_documents(s, [_doc(2), twice])
    with archive.session() as s:
        assert s.scalars(select(Document.id)).all() == []
        assert s.scalars(select(DocumentJurisdiction.document_id)).all() == []


def test_sources_and_tags_of_new_and_known_documents_in_one_batch(archive: Archive) -> None:
    with archive.session() as s:
        (first,) = store_documents(s, [_doc(1)])
    via_news = _doc(1, source="doj_news", external_id="news-1")  # the same URL, seen via another source
    with archive.session() as s:
        results = store_documents(s, [via_news, _doc(2), _doc(2, source="doj_news", external_id="news-2")])
    assert [r.outcome for r in results] == ["unchanged", "new", "unchanged"]
    assert results[0].document_id == first.document_id and results[1].document_id == results[2].document_id
    with archive.session() as s:
        rows = s.execute(
            select(DocumentSource.document_id, DocumentSource.source, DocumentSource.external_id).order_by(
                DocumentSource.document_id, DocumentSource.source
            )
        ).all()
        assert rows == [
            (first.document_id, "doj_api", "bulk-1"),
            (first.document_id, "doj_news", "news-1"),
            (results[1].document_id, "doj_api", "bulk-2"),
            (results[1].document_id, "doj_news", "news-2"),
        ]
        assert len(s.scalars(select(DocumentStatute.id)).all()) == 2  # one citation per document, written once


def test_documents_of_several_sources_are_found_again_by_their_ids(archive: Archive) -> None:
    docs = [_doc(n, source=("doj_api", "doj_news", "usao")[n % 3]) for n in range(30)]
    with archive.session() as s:
        stored = store_documents(s, docs)
    moved = [replace(d, url=f"https://www.justice.gov/moved/{i}") for i, d in enumerate(docs)]  # matched by id only
    with archive.session() as s:
        again = store_documents(s, moved)
    assert {r.outcome for r in again} == {"unchanged"}
    assert [r.document_id for r in again] == [r.document_id for r in stored]


def _statements(archive: Archive, docs: list[NormalizedDocument]) -> list[str]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(archive.engine, "before_cursor_execute", record)
    try:
        with archive.session() as s:
            store_documents(s, docs)
    finally:
        event.remove(archive.engine, "before_cursor_execute", record)
    return seen


def test_a_batch_costs_the_same_statements_whatever_its_size(archive: Archive) -> None:
    small = _statements(archive, [_doc(n) for n in range(20)])
    large = _statements(archive, [_doc(n) for n in range(1000, 1390)])
    assert len(large) == len(small) and len(small) <= 12, small
    # and storing them again is one read and the source rows' upsert
    again = _statements(archive, [_doc(n) for n in range(1000, 1390)])
    assert len(again) <= 3, again


@pytest.mark.parametrize("archive", ["sqlite"], indirect=True)
def test_the_identity_lookup_uses_the_indexes(archive: Archive) -> None:
    with archive.session() as s:
        store_documents(s, [_doc(n, source=("doj_api", "doj_news")[n % 2]) for n in range(40)])
    executed: list[str] = []  # every statement SQLite ran, values written in (the store reads through the driver)
    with archive.engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.set_trace_callback(executed.append)
        try:
            with Session(bind=conn) as s:
                store_documents(s, [_doc(n, source=("doj_api", "doj_news")[n % 2]) for n in range(30, 50)])
                s.commit()
        finally:
            driver.set_trace_callback(None)
        lookups = [st for st in executed if st.lstrip().upper().startswith("SELECT") and "FROM documents" in st]
        assert lookups
        for statement in lookups:
            details = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}").all()]
            assert not any(d.startswith("SCAN documents") for d in details), details
    with archive.session() as s:  # and it found what it had to: 10 stored again unchanged, 10 new
        assert s.execute(text("SELECT count(*) FROM documents")).scalar_one() == 50


def test_a_document_held_by_the_session_sees_the_update(archive: Archive) -> None:
    with archive.session() as s:
        (first,) = store_documents(s, [_doc(1)])
    with archive.session() as s:
        held = s.get(Document, first.document_id)
        assert held is not None and "Letter number 1" in held.body_text
        (edited,) = store_documents(s, [_doc(1, body_text="Corrected text.", content_hash="f" * 64)])
        assert edited.outcome == "updated"
        assert held.body_text == "Corrected text."
        assert s.execute(text("SELECT count(*) FROM document_versions")).scalar_one() == 1
