from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.models import Document, DocumentVersion
from lawwatch.pipeline.normalize import NormalizedDocument, normalize_document
from lawwatch.pipeline.store import store_documents


def _doc(n: int, body: str = "The Department sent letters.", **kw: Any) -> NormalizedDocument:
    fields: dict[str, Any] = dict(
        source="doj_api",
        url=f"https://www.justice.gov/opa/pr/release-{n}",
        external_id=f"uuid-{n}",
        title=f"Release {n}",
        html=f"<p>{body}</p>",
        published="1508330100",
    )
    fields.update(kw)
    return normalize_document(**fields)


def _count(archive: Archive, model: type) -> int:
    with archive.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_new_unchanged_updated(archive: Archive) -> None:
    with archive.session() as s:
        first = store_documents(s, [_doc(1), _doc(2)])
    assert [r.outcome for r in first] == ["new", "new"]
    assert first[0].document_id != first[1].document_id

    with archive.session() as s:
        again = store_documents(s, [_doc(1), _doc(2, body="The Department  sent\n letters.")])
    assert [r.outcome for r in again] == ["unchanged", "unchanged"]  # whitespace is not an edit
    assert _count(archive, DocumentVersion) == 0

    with archive.session() as s:
        edited = store_documents(s, [_doc(2, body="The Department sent corrected letters.")])
    assert edited[0].outcome == "updated" and edited[0].document_id == first[1].document_id
    with archive.session() as s:
        versions = s.scalars(select(DocumentVersion)).all()
        assert len(versions) == 1
        assert versions[0].body_text == "The Department sent letters."
        current = s.get(Document, first[1].document_id)
        assert current is not None and current.body_text == "The Department sent corrected letters."
        assert current.published_at == datetime(2017, 10, 18, 12, 35, tzinfo=UTC)
    assert _count(archive, Document) == 2


def test_content_changed_tells_a_body_edit_from_a_title_edit(archive: Archive) -> None:
    with archive.session() as s:
        (new,) = store_documents(s, [_doc(1)])
    with archive.session() as s:
        (same,) = store_documents(s, [_doc(1, body="The  Department sent letters.")])
    with archive.session() as s:
        (retitled,) = store_documents(s, [_doc(1, title="Release 1 (corrected)")])
    with archive.session() as s:
        (edited,) = store_documents(s, [_doc(1, title="Release 1 (corrected)", body="New text.")])
    outcomes = [(r.outcome, r.content_changed) for r in (new, same, retitled, edited)]
    assert outcomes == [("new", True), ("unchanged", False), ("updated", False), ("updated", True)]
    assert len({r.document_id for r in (new, same, retitled, edited)}) == 1


def test_dedup_by_url_and_by_external_id(archive: Archive) -> None:
    with archive.session() as s:
        store_documents(s, [_doc(1)])
    with archive.session() as s:
        # same release seen through another path: tracking params and fragment do not matter
        by_url = store_documents(
            s, [_doc(1, url="https://WWW.justice.gov/opa/pr/release-1?utm_source=rss#x", external_id=None)]
        )
        by_key = store_documents(s, [_doc(1, url="https://www.justice.gov/node/999")])
    assert by_url[0].outcome == "unchanged" and by_key[0].outcome == "unchanged"
    assert _count(archive, Document) == 1


def test_duplicates_within_one_batch(archive: Archive) -> None:
    with archive.session() as s:
        results = store_documents(s, [_doc(1), _doc(1), _doc(1, body="Edited.")])
    assert [r.outcome for r in results] == ["new", "unchanged", "updated"]
    assert len({r.document_id for r in results}) == 1
    assert _count(archive, DocumentVersion) == 1


def test_batch_is_atomic(archive: Archive) -> None:
    with pytest.raises(ValueError):
        with archive.session() as s:
            store_documents(s, [_doc(n) for n in range(10)])
            raise ValueError("crash after the store, before commit")
    assert _count(archive, Document) == 0


def test_large_batch_over_chunk_size(archive: Archive) -> None:
    docs = [_doc(n, body=f"Body number {n}.") for n in range(950)]
    with archive.session() as s:
        results = store_documents(s, docs)
    assert [r.outcome for r in results].count("new") == 950
    with archive.session() as s:
        again = store_documents(s, docs)
    assert {r.outcome for r in again} == {"unchanged"}
    assert [r.document_id for r in again] == [r.document_id for r in results]


def _tags(archive: Archive, doc_id: int) -> tuple[set[str], set[tuple[str | None, str]]]:
    with archive.session() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        return {j.jurisdiction_id for j in doc.jurisdictions}, {(c.title, c.section) for c in doc.statutes}


def test_tags_written_and_replaced_on_update(archive: Archive) -> None:
    from lawwatch.pipeline.ingest import classify_document

    first = classify_document(
        _doc(7, body="The Department sent letters to Philadelphia, Pennsylvania under 8 U.S.C. 1373.")
    )
    with archive.session() as s:
        (stored,) = store_documents(s, [first])
    places, cites = _tags(archive, stored.document_id)
    assert "fips:4260000" in places and ("8", "1373") in cites

    edited = classify_document(
        _doc(7, body="The Department sent letters to Cook County, Illinois under 8 U.S.C. 1644.")
    )
    with archive.session() as s:
        (again,) = store_documents(s, [edited])
    assert again.outcome == "updated"
    places, cites = _tags(archive, stored.document_id)
    assert "fips:17031" in places and "fips:4260000" not in places
    assert cites == {("8", "1644")}
