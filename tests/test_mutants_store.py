"""The archive's write path (pipeline/store.py) where its other tests left mutants alive (issue 16): the crawl state
(``record_sightings`` / ``source_state_of``), the generic ``upsert``, the ``document_sources`` rows, tags written
directly, documents without an identity, repeats inside one batch, what an update keeps, and the writer that gives
up when other writers keep changing its documents. On SQLite and PostgreSQL: store.py branches on the backend.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, delete, select

from lawwatch.errors import ArchiveError
from lawwatch.pipeline import store
from lawwatch.pipeline.classify import JurisdictionTag, StatuteCite
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.models import (
    Document,
    DocumentJurisdiction,
    DocumentSource,
    DocumentStatute,
    DocumentVersion,
    HttpCacheEntry,
    Jurisdiction,
    SourceState,
)
from lawwatch.pipeline.normalize import NormalizedDocument
from lawwatch.pipeline.store import (
    Sighting,
    StoreResult,
    record_sightings,
    record_sources,
    source_state_of,
    store_documents,
    upsert,
    write_tags,
)

T1 = datetime(2026, 3, 1, 9, 0, 0, 250000, tzinfo=UTC)
T2 = datetime(2026, 3, 2, 10, 30, 0, tzinfo=UTC)
PUBLISHED = datetime(2017, 10, 18, 12, 35, tzinfo=UTC)
CHICAGO = JurisdictionTag("fips:1714000", "Chicago", "city", "IL", 3, 120, "named")
COOK = JurisdictionTag("fips:17031", "Cook County", "county", "IL", 1, 40, "locator")
CITE = StatuteCite("8", "1373", "(a)", "8 U.S.C. 1373(a)", 50, 66)


@dataclass(frozen=True)
class Tags:  # the parts of pipeline.classify.Classification the store reads
    doc_type: str = "letter"
    jurisdictions: list[Any] = field(default_factory=list)
    statutes: list[StatuteCite] = field(default_factory=list)


@dataclass(frozen=True)
class RolelessTag:  # a jurisdiction tag as built before tags had a role
    id: str
    name: str
    kind: str
    state: str | None
    mentions: int
    first: int


def _doc(n: int, source: str = "doj_api", body: str | None = None, **kw: Any) -> NormalizedDocument:
    text = body if body is not None else f"The Department wrote letter {n}."
    fields: dict[str, Any] = {
        "source": source,
        "url": f"https://www.justice.gov/opa/pr/m-{n}",
        "external_id": f"m-{n}",
        "title": f"Letter {n}",
        "published_at": PUBLISHED,
        "body_text": text,
        "content_hash": hashlib.sha256(text.encode()).hexdigest(),
        "fetched_at": T1,
        "metadata": {"n": n},
        "classification": None,
    }
    fields.update(kw)
    return NormalizedDocument(**fields)


# -- the crawl state ---------------------------------------------------------------------------------------------


def _state(archive: Archive) -> list[tuple[str, str, str | None, str | None, datetime]]:
    with archive.session() as s:
        rows = s.execute(
            select(
                SourceState.source, SourceState.key, SourceState.external_id, SourceState.signature, SourceState.seen_at
            ).order_by(SourceState.source, SourceState.key)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_sightings_keep_the_last_of_each_key_and_replace_what_was_stored(archive: Archive) -> None:
    with archive.session() as s:
        record_sightings(
            s,
            [
                Sighting("doj_api", "https://a/1", "e1", "v1"),
                Sighting("doj_news", "https://a/1", None, None),
                Sighting("doj_api", "https://a/1", "e2", "v2"),  # the same (source, key) later: it wins
                Sighting("doj_api", "https://a/0", "e0", "v0"),
            ],
            T1,
        )
    assert _state(archive) == [
        ("doj_api", "https://a/0", "e0", "v0", T1),
        ("doj_api", "https://a/1", "e2", "v2", T1),
        ("doj_news", "https://a/1", None, None, T1),
    ]
    with archive.session() as s:
        record_sightings(s, [Sighting("doj_api", "https://a/1", "e3", None)], T2)
    assert _state(archive)[1] == ("doj_api", "https://a/1", "e3", None, T2)
    with archive.session() as s:
        assert sorted(source_state_of(s, "doj_api")) == [("https://a/0", "e0", "v0"), ("https://a/1", "e3", None)]
        assert source_state_of(s, "doj_news") == [("https://a/1", None, None)]
        assert source_state_of(s, "usao") == []


def test_sightings_without_a_time_are_seen_now_and_none_write_nothing(archive: Archive) -> None:
    with archive.session() as s:
        record_sightings(s, [])
    assert _state(archive) == []
    before = datetime.now(UTC)
    with archive.session() as s:
        record_sightings(s, [Sighting("doj_api", "k", None, "sig")])
    ((_, _, _, _, seen_at),) = _state(archive)
    assert before <= seen_at <= datetime.now(UTC)


def test_many_sightings_are_all_stored(archive: Archive) -> None:
    sightings = [Sighting("doj_api", f"https://a/{n:05d}", f"e{n}", f"v{n}") for n in range(500)]
    with archive.session() as s:
        record_sightings(s, sightings, T1)
    with archive.session() as s:
        found = sorted(source_state_of(s, "doj_api"))
    assert found == [(x.key, x.external_id, x.signature) for x in sightings]


# -- upsert --------------------------------------------------------------------------------------------------------

CACHE = cast(Table, HttpCacheEntry.__table__)


def _cache_row(url: str, etag: str, source: str = "doj_api", when: datetime = T1) -> dict[str, Any]:
    return {"url": url, "source": source, "etag": etag, "last_modified": None, "checked_at": when}


def _cache(archive: Archive) -> list[tuple[Any, ...]]:
    with archive.session() as s:
        rows = s.execute(
            select(HttpCacheEntry.url, HttpCacheEntry.source, HttpCacheEntry.etag, HttpCacheEntry.checked_at).order_by(
                HttpCacheEntry.url
            )
        ).all()
    return [tuple(row) for row in rows]


def test_upsert_inserts_keeps_the_last_row_of_a_key_and_updates_only_the_named_columns(archive: Archive) -> None:
    with archive.session() as s:
        upsert(
            s,
            CACHE,
            [_cache_row("u2", "a"), _cache_row("u1", "b"), _cache_row("u2", "c")],
            ("url",),
            ("etag", "checked_at"),
        )
    assert _cache(archive) == [("u1", "doj_api", "b", T1), ("u2", "doj_api", "c", T1)]
    with archive.session() as s:
        upsert(s, CACHE, [_cache_row("u1", "d", source="usao", when=T2)], ("url",), ("etag", "checked_at"))
    assert _cache(archive) == [("u1", "doj_api", "d", T2), ("u2", "doj_api", "c", T1)]  # the source is kept


def test_upsert_of_many_rows_stores_them_all(archive: Archive) -> None:
    rows = [_cache_row(f"https://a/{n:05d}", f"t{n}") for n in range(500)]
    with archive.session() as s:
        upsert(s, CACHE, rows, ("url",), ("etag",))
    assert _cache(archive) == [(r["url"], "doj_api", r["etag"], T1) for r in rows]


CODES = Table(
    "store_probe_codes",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("code", String(16), unique=True, nullable=True),
    Column("label", String(16)),
)


def test_upsert_inserts_each_row_whose_key_is_null(archive: Archive) -> None:
    CODES.create(archive.engine)
    try:
        rows: list[dict[str, Any]] = [{"id": 1, "code": None, "label": "a"}, {"id": 2, "code": "x", "label": "b"}]
        with archive.session() as s:
            upsert(s, CODES, rows, ("code",), ("label",))
            upsert(s, CODES, [{"id": 3, "code": "x", "label": "c"}], ("code",), ("label",))
        with archive.session() as s:
            assert s.execute(select(CODES).order_by(CODES.c.id)).all() == [(1, None, "a"), (2, "x", "c")]
    finally:
        CODES.drop(archive.engine)


# -- document_sources ------------------------------------------------------------------------------------------------


def _sources(archive: Archive) -> list[tuple[Any, ...]]:
    with archive.session() as s:
        rows = s.execute(
            select(
                DocumentSource.document_id,
                DocumentSource.source,
                DocumentSource.external_id,
                DocumentSource.url,
                DocumentSource.first_seen_at,
                DocumentSource.last_seen_at,
            ).order_by(DocumentSource.document_id, DocumentSource.source)
        ).all()
    return [tuple(row) for row in rows]


def test_a_source_row_keeps_a_value_not_given_again_and_takes_a_new_one(archive: Archive) -> None:
    with archive.session() as s:
        (first,) = store_documents(s, [_doc(1)])
    ((_, _, ext, url, seen, last),) = _sources(archive)
    assert (ext, url) == ("m-1", "https://www.justice.gov/opa/pr/m-1") and seen == last
    with archive.session() as s:  # the same document by its URL, without an id this time
        (again,) = store_documents(s, [_doc(1, external_id=None)])
    with archive.session() as s:  # and by its id, under another URL
        (moved,) = store_documents(s, [_doc(1, url="https://www.justice.gov/node/1")])
    assert again.outcome == moved.outcome == "unchanged"
    ((doc_id, source, ext, url, first_seen, last_seen),) = _sources(archive)
    assert (doc_id, source, ext, url) == (first.document_id, "doj_api", "m-1", "https://www.justice.gov/node/1")
    assert first_seen == seen and last_seen > seen
    with archive.session() as s:  # by its id, without a URL: the stored URL stays
        (bare,) = store_documents(s, [_doc(1, url=None, external_id="m-1")])
    assert bare.outcome == "unchanged"
    ((*_, ext, url, _, _),) = _sources(archive)
    assert (ext, url) == ("m-1", "https://www.justice.gov/node/1")


def test_a_source_row_without_an_id_takes_the_id_given_later(archive: Archive) -> None:
    with archive.session() as s:
        (first,) = store_documents(s, [_doc(1, external_id=None)])
    with archive.session() as s:
        store_documents(s, [_doc(1, external_id="m-1")])
    assert [r[2] for r in _sources(archive)] == ["m-1"]
    with archive.session() as s:  # another id for it under the same URL and source: the newer one
        store_documents(s, [_doc(1, external_id="m-1-bis")])
    assert [r[:3] for r in _sources(archive)] == [(first.document_id, "doj_api", "m-1-bis")]


def test_record_sources_keeps_the_last_result_of_a_document_and_source(archive: Archive) -> None:
    with archive.session() as s:
        a, b = store_documents(s, [_doc(1), _doc(2)])
    results = [
        StoreResult(a.document_id, "unchanged", "usao", "https://usao/1", "u-1"),
        StoreResult(b.document_id, "unchanged", "usao", None, "u-2"),
        StoreResult(a.document_id, "unchanged", "usao", None, "u-1b"),
    ]
    with archive.session() as s:
        record_sources(s, results, T2)
    rows = [r for r in _sources(archive) if r[1] == "usao"]
    assert rows == [(a.document_id, "usao", "u-1b", None, T2, T2), (b.document_id, "usao", "u-2", None, T2, T2)]
    before = datetime.now(UTC)
    with archive.session() as s:  # no time given: now
        record_sources(s, [StoreResult(b.document_id, "unchanged", "usao", "https://usao/2", None)])
    ((*_, ext, url, first_seen, last_seen),) = [r for r in _sources(archive) if r[:2] == (b.document_id, "usao")]
    assert (ext, url, first_seen) == ("u-2", "https://usao/2", T2) and before <= last_seen <= datetime.now(UTC)


def test_record_sources_of_created_documents_writes_each_once(archive: Archive) -> None:
    with archive.session() as s:
        a, b = store_documents(s, [_doc(1), _doc(2)])
        record_sources(
            s,
            [StoreResult(a.document_id, "new", "usao", "https://usao/1", "u-1")],
            T2,
            created={a.document_id},
        )
    rows = [r for r in _sources(archive) if r[1] == "usao"]
    assert rows == [(a.document_id, "usao", "u-1", "https://usao/1", T2, T2)]
    with archive.session() as s:
        record_sources(s, [])  # nothing to record
    assert len(_sources(archive)) == 3


# -- tags ----------------------------------------------------------------------------------------------------------


def _tags(archive: Archive) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with archive.session() as s:
        places = s.execute(
            select(
                DocumentJurisdiction.document_id,
                DocumentJurisdiction.jurisdiction_id,
                DocumentJurisdiction.mentions,
                DocumentJurisdiction.first_offset,
                DocumentJurisdiction.role,
            ).order_by(DocumentJurisdiction.document_id, DocumentJurisdiction.jurisdiction_id)
        ).all()
        cites = s.execute(
            select(DocumentStatute.document_id, DocumentStatute.section, DocumentStatute.text).order_by(
                DocumentStatute.document_id, DocumentStatute.section
            )
        ).all()
        names = s.execute(select(Jurisdiction.id, Jurisdiction.name, Jurisdiction.kind, Jurisdiction.state)).all()
    return [tuple(r) for r in places], [tuple(r) for r in cites], sorted(tuple(r) for r in names)


def test_write_tags_adds_or_replaces_only_the_given_documents_tags(archive: Archive) -> None:
    with archive.session() as s:
        a, b, c = (r.document_id for r in store_documents(s, [_doc(1), _doc(2), _doc(3)]))
        write_tags(
            s,
            [
                (a, cast(Any, Tags(jurisdictions=[CHICAGO], statutes=[CITE]))),
                (b, None),  # not classified: nothing to write
                (c, cast(Any, Tags(jurisdictions=[RolelessTag("fips:17", "Illinois", "state", None, 2, 7)]))),
            ],
            replace=False,
        )
    places, cites, names = _tags(archive)
    assert places == [(a, "fips:1714000", 3, 120, "named"), (c, "fips:17", 2, 7, "named")]
    assert cites == [(a, "1373", "8 U.S.C. 1373(a)")]
    assert names == [("fips:17", "Illinois", "state", None), ("fips:1714000", "Chicago", "city", "IL")]
    with archive.session() as s:
        write_tags(s, [(a, cast(Any, Tags(jurisdictions=[COOK]))), (b, cast(Any, Tags(statutes=[CITE])))], replace=True)
    places, cites, names = _tags(archive)
    assert places == [(a, "fips:17031", 1, 40, "locator"), (c, "fips:17", 2, 7, "named")]
    assert cites == [(b, "1373", "8 U.S.C. 1373(a)")]
    assert ("fips:17031", "Cook County", "county", "IL") in names and len(names) == 3
    with archive.session() as s:  # replace=False keeps what is there
        write_tags(s, [(b, cast(Any, Tags(jurisdictions=[COOK])))], replace=False)
        write_tags(s, [], replace=True)
    places, cites, _ = _tags(archive)
    assert (b, "fips:17031", 1, 40, "locator") in places and len(places) == 3
    assert cites == [(b, "1373", "8 U.S.C. 1373(a)")]


def test_tags_of_many_documents_are_replaced(archive: Archive) -> None:
    docs = [_doc(n, classification=Tags(jurisdictions=[CHICAGO], statutes=[CITE])) for n in range(450)]
    with archive.session() as s:
        stored = store_documents(s, docs)
    edited = [
        replace(d, body_text="Edited.", content_hash="e" * 64, classification=cast(Any, Tags(jurisdictions=[COOK])))
        for d in docs
    ]
    with archive.session() as s:
        again = store_documents(s, edited)
    assert {r.outcome for r in again} == {"updated"}
    assert [r.document_id for r in again] == [r.document_id for r in stored]
    places, cites, _ = _tags(archive)
    assert cites == [] and {p[1] for p in places} == {"fips:17031"} and len(places) == 450


# -- documents without an identity, repeats in a batch ------------------------------------------------------------


def test_documents_without_url_or_id_are_each_new_in_input_order(archive: Archive) -> None:
    docs = [_doc(n, url=None, external_id=None) for n in (1, 2, 1)]
    with archive.session() as s:
        results = store_documents(s, [docs[0], _doc(5), docs[1], docs[2]])
    assert [r.outcome for r in results] == ["new", "new", "new", "new"]
    ids = [r.document_id for r in results]
    assert len(set(ids)) == 4
    with archive.session() as s:
        bodies = s.execute(select(Document.id, Document.body_text).order_by(Document.id)).all()
        sources = s.scalars(select(DocumentSource.document_id).order_by(DocumentSource.document_id)).all()
    assert dict(bodies)[ids[0]] == docs[0].body_text and dict(bodies)[ids[2]] == docs[1].body_text
    assert ids[0] < ids[2] < ids[3]  # inserted in input order
    assert sorted(sources) == sorted(ids)
    with archive.session() as s:  # stored at the same time as the rest of the batch
        assert len(set(s.scalars(select(Document.updated_at)).all())) == 1


def test_new_documents_get_ids_in_url_source_and_id_order_whatever_the_batch_order(archive: Archive) -> None:
    batch = [
        _doc(1, url="https://www.justice.gov/b"),
        _doc(2, url=None, external_id="z"),
        _doc(3, url="https://www.justice.gov/a", source="usao"),
        _doc(4, url=None, external_id="y", source="usao"),
        _doc(5, url="A-1 (a bare case number)"),
        _doc(6, url=None, external_id="x", source="usao"),
        _doc(7, url="https://www.justice.gov/a/", source="doj_api"),
    ]
    with archive.session() as s:
        results = store_documents(s, batch)
    order = sorted(range(len(batch)), key=lambda i: results[i].document_id)
    # without a URL first (by source, then id), then by URL
    assert [batch[i].url or batch[i].external_id for i in order] == [
        "z",
        "x",
        "y",
        "A-1 (a bare case number)",
        "https://www.justice.gov/a",
        "https://www.justice.gov/a/",
        "https://www.justice.gov/b",
    ]


def test_an_id_repeated_in_a_batch_is_compared_with_the_copy_stored_before_it(archive: Archive) -> None:
    one = _doc(1)
    by_id = _doc(1, url="https://www.justice.gov/node/1")  # the same id under another URL
    by_id_edited = _doc(1, url="https://www.justice.gov/node/1", body="Edited.")
    with archive.session() as s:
        results = store_documents(s, [_doc(0), one, _doc(2), by_id, _doc(3), by_id_edited, _doc(2)])
    assert [r.outcome for r in results] == ["new", "new", "new", "unchanged", "new", "updated", "unchanged"]
    assert results[1].document_id == results[3].document_id == results[5].document_id
    assert results[2].document_id == results[6].document_id
    with archive.session() as s:
        assert len(s.scalars(select(Document.id)).all()) == 4
        assert len(s.scalars(select(DocumentVersion.id)).all()) == 1


def test_a_document_found_under_many_sources_in_one_batch(archive: Archive) -> None:
    sources = [f"source_{n:02d}" for n in range(12)]  # more (source, id) lookups than one statement asks
    docs = [_doc(n, source=source) for n, source in enumerate(sources)]
    with archive.session() as s:
        stored = store_documents(s, docs)
    moved = [replace(d, url=f"https://www.justice.gov/node/{n}") for n, d in enumerate(docs)]  # found by id only
    with archive.session() as s:
        again = store_documents(s, moved)
    assert [r.outcome for r in again] == ["unchanged"] * 12
    assert [r.document_id for r in again] == [r.document_id for r in stored]


# -- updates ------------------------------------------------------------------------------------------------------


def test_an_update_keeps_the_old_text_as_a_version_and_fills_in_what_was_missing(archive: Archive) -> None:
    by_url = _doc(1, external_id=None, title="Old title", metadata={"old": True}, fetched_at=T1)
    by_id = _doc(2, url=None)
    with archive.session() as s:
        first = store_documents(s, [by_url, by_id])
    later = T2
    with archive.session() as s:
        edited = store_documents(
            s,
            [
                _doc(1, source="usao", external_id="u-1", body="Edited one.", published_at=None, fetched_at=later),
                _doc(2, url="https://www.justice.gov/node/2", body="Edited two.", published_at=T2, fetched_at=later),
            ],
        )
    assert [r.outcome for r in edited] == ["updated", "updated"]
    assert [r.document_id for r in edited] == [r.document_id for r in first]
    with archive.session() as s:
        one = s.get(Document, first[0].document_id)
        two = s.get(Document, first[1].document_id)
        assert one is not None and two is not None
        # the first source stays; an id or URL the stored row lacked is filled in; no date given keeps the stored one
        assert (one.source, one.url, one.external_id) == ("doj_api", by_url.url, "u-1")
        assert (one.body_text, one.title, one.published_at, one.fetched_at) == (
            "Edited one.",
            "Letter 1",
            PUBLISHED,
            later,
        )
        assert (two.url, two.external_id, two.published_at) == ("https://www.justice.gov/node/2", "m-2", T2)
        versions = {v.document_id: v for v in s.scalars(select(DocumentVersion)).all()}
        assert sorted(versions) == sorted([one.id, two.id])
        v = versions[one.id]
        assert (v.title, v.body_text, v.content_hash, v.meta, v.fetched_at) == (
            "Old title",
            by_url.body_text,
            by_url.content_hash,
            {"old": True},
            T1,
        )
        assert v.superseded_at == one.updated_at


def test_an_update_of_only_the_title_or_only_whitespace_in_the_body(archive: Archive) -> None:
    with archive.session() as s:
        store_documents(s, [_doc(1, body="Two  words")])
    with archive.session() as s:
        (retitled,) = store_documents(s, [_doc(1, body="Two words", title="New", content_hash="a" * 64)])
        (edited,) = store_documents(s, [_doc(1, body="Two words!", title="New", content_hash="b" * 64)])
    assert (retitled.outcome, retitled.content_changed) == ("updated", False)
    assert (edited.outcome, edited.content_changed) == ("updated", True)


# -- a writer that keeps losing -----------------------------------------------------------------------------------


def test_a_writer_gives_up_when_other_writers_keep_storing_its_documents(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = [_doc(1), _doc(2, url=None), _doc(3), _doc(4), _doc(5, url=None, external_id=None)]
    with archive.session() as s:
        store_documents(s, docs[:4])
    reads = [0]

    def stale(session: Any, batch: Any) -> dict[Any, Any]:  # every read misses what another writer just stored
        reads[0] += 1
        return {}

    monkeypatch.setattr(store, "_existing", stale)
    with pytest.raises(ArchiveError) as caught:
        with archive.session() as s:
            store_documents(s, docs)
    assert str(caught.value) == (
        "4 documents kept changing under other writers: https://www.justice.gov/opa/pr/m-1, m-2, "
        "https://www.justice.gov/opa/pr/m-3"
    )
    assert reads[0] == 5
    with archive.session() as s:
        assert len(s.scalars(select(Document.id)).all()) == 4  # nothing of the failed batch was kept


def test_a_new_document_stored_after_losing_an_insert_race_keeps_every_column(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    with archive.session() as s:
        (known,) = store_documents(s, [_doc(1)])
    real, reads = store._existing, [0]

    def stale_once(session: Any, batch: Any) -> Any:  # the first read misses the row another writer stored
        reads[0] += 1
        return {} if reads[0] == 1 else real(session, batch)

    monkeypatch.setattr(store, "_existing", stale_once)
    new = _doc(2, form="letter", metadata={"topics": ["grants"], "n": 2}, classification=Tags(statutes=[CITE]))
    with archive.session() as s:
        results = store_documents(s, [_doc(1), new])
    assert [(r.outcome, r.document_id == known.document_id) for r in results] == [("unchanged", True), ("new", False)]
    assert reads[0] == 2
    with archive.session() as s:
        row = s.get(Document, results[1].document_id)
        assert row is not None
        got = (row.source, row.url, row.external_id, row.title, row.body_text, row.content_hash, row.form, row.meta)
        assert got == (
            new.source,
            new.url,
            new.external_id,
            new.title,
            new.body_text,
            new.content_hash,
            "letter",
            {"topics": ["grants"], "n": 2},
        )
        assert (row.published_at, row.fetched_at, row.doc_type) == (PUBLISHED, T1, "letter")
        assert [c.section for c in row.statutes] == ["1373"]


def test_an_update_changes_only_its_document_not_another_with_the_same_text(archive: Archive) -> None:
    twin = _doc(2, body="The Department wrote letter 1.")
    with archive.session() as s:
        one, two = store_documents(s, [_doc(1), twin])
    assert _doc(1).content_hash == twin.content_hash
    with archive.session() as s:
        (edited,) = store_documents(s, [_doc(1, body="Edited.")])
    assert (edited.outcome, edited.document_id) == ("updated", one.document_id)
    with archive.session() as s:
        assert s.scalar(select(Document.body_text).where(Document.id == two.document_id)) == twin.body_text
        assert s.scalars(select(DocumentVersion.document_id)).all() == [one.document_id]


def test_a_result_names_the_incoming_url_and_id_whatever_the_outcome(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    with archive.session() as s:
        store_documents(s, [_doc(1), _doc(2)])
    edited = _doc(1, external_id="m-1-bis", body="Edited.")  # found by its URL
    moved = _doc(2, url="https://www.justice.gov/node/2")  # found by its id
    with archive.session() as s:
        results = store_documents(s, [edited, moved])
    assert [(r.outcome, r.source, r.url, r.external_id) for r in results] == [
        ("updated", "doj_api", edited.url, "m-1-bis"),
        ("unchanged", "doj_api", "https://www.justice.gov/node/2", "m-2"),
    ]
    real, reads = store._existing, [0]

    def other_writer_after_first_read(session: Any, batch: Any) -> Any:
        reads[0] += 1
        found = real(session, batch)
        if reads[0] == 1:  # another writer stores the same edit right after this writer read the old text
            with archive.session() as other:
                assert store_documents(other, [replace(moved, body_text="Same edit.", content_hash="c" * 64)])
        return found

    monkeypatch.setattr(store, "_existing", other_writer_after_first_read)
    mine = replace(moved, url="https://www.justice.gov/node/2b", body_text="Same edit.", content_hash="c" * 64)
    with archive.session() as s:
        (result,) = store_documents(s, [mine])
    assert (result.outcome, result.url, result.external_id) == ("unchanged", mine.url, "m-2")


def test_a_document_deleted_after_it_was_read_is_stored_again_as_new(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    with archive.session() as s:
        store_documents(s, [_doc(1)])
    real, reads = store._existing, [0]

    def deleted_after_first_read(session: Any, batch: Any) -> Any:
        reads[0] += 1
        found = real(session, batch)
        if reads[0] == 1:  # another writer deletes it right after this writer read it
            with archive.session() as other:
                other.execute(delete(Document))
        return found

    monkeypatch.setattr(store, "_existing", deleted_after_first_read)
    with archive.session() as s:
        (again,) = store_documents(s, [_doc(1, body="Edited.")])
    assert again.outcome == "new" and reads[0] == 2
    with archive.session() as s:
        assert s.execute(select(Document.id, Document.body_text)).all() == [(again.document_id, "Edited.")]
        assert s.scalars(select(DocumentVersion.id)).all() == []
