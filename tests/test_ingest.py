"""The one ingest service: ``ingest_batch`` in the caller's transaction, ``ingest`` in batches, crawl state written
by ``after_store`` with the documents, and a bad document never losing its batch. On both backends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from lawwatch.crawler.context import KnownIndex
from lawwatch.crawler.items import DocumentItem
from lawwatch.errors import QueryError
from lawwatch.pipeline import ingest as ingest_module
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.filters import DocumentFilter
from lawwatch.pipeline.ingest import IngestResult, IngestSettings, ingest, ingest_batch, reclassify
from lawwatch.pipeline.models import Document, DocumentJurisdiction, SourceState
from lawwatch.pipeline.normalize import NormalizedDocument, normalize_document

BODY = "<p>The Department sent letters to Philadelphia, Pennsylvania under 8 U.S.C. 1373.</p>"


@pytest.fixture
def archive_(archive: Archive) -> Iterator[Archive]:
    """The archive fixture with an empty ``source_state`` (the PostgreSQL one is shared by the test session)."""
    with archive.session() as session:
        session.execute(delete(SourceState))
    yield archive


def _settings(archive: Archive, batch_size: int = 500) -> IngestSettings:
    return IngestSettings(archive.engine.url.render_as_string(hide_password=False), batch_size=batch_size)


def _doc(n: int, **changes: Any) -> NormalizedDocument:
    fields: dict[str, Any] = dict(
        source="doj_api",
        url=f"https://www.justice.gov/opa/pr/release-{n}",
        external_id=f"uuid-{n}",
        title=f"Release {n}",
        html=BODY,
        published="1508330100",
    )
    fields.update(changes)
    return normalize_document(**fields)


def _item(n: int, source: str = "doj_news", signature: str | None = None, **changes: Any) -> DocumentItem:
    fields: dict[str, Any] = dict(
        source=source,
        url=f"https://www.justice.gov/opa/pr/release-{n}?utm_source=rss",
        title=f"Release {n}",
        form="press_release",
        html=BODY,
        published="2017-10-12T11:30:00-04:00",
        listing_signature=signature if signature is not None else f"{source}-{n}",
    )
    fields.update(changes)
    return DocumentItem(**fields)


def _state(archive: Archive) -> list[tuple[str, str, str | None, str | None]]:
    with archive.session() as session:
        rows = session.execute(
            select(SourceState.source, SourceState.key, SourceState.external_id, SourceState.signature).order_by(
                SourceState.source, SourceState.key
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def _documents(archive: Archive) -> int:
    with archive.session() as session:
        return session.scalar(select(func.count()).select_from(Document)) or 0


def test_ingest_batches_and_counts_per_source(archive_: Archive) -> None:
    seen: list[IngestResult] = []
    docs = [_doc(1), _doc(2), _doc(3, source="backfill"), _doc(1)]
    counts = ingest(archive_, docs, batch_size=2, on_batch=seen.append)  # the import command's call
    assert [len(r.stored) for r in seen] == [2, 2]
    assert counts.as_dict() == {"new": 3, "updated": 0, "unchanged": 1} and counts.problems == []
    assert {s: dict(c) for s, c in counts.by_source.items()} == {
        "doj_api": {"new": 2, "unchanged": 1},
        "backfill": {"new": 1},
    }
    assert seen[0].stored[0].document.doc_type == "letter"  # classified on the way in
    assert _state(archive_) == []  # an import is not a crawl: no listing state


def test_batch_runs_in_the_callers_transaction(archive_: Archive) -> None:
    settings = _settings(archive_)
    with pytest.raises(RuntimeError, match="caller gives up"), archive_.session() as session:
        result = ingest_batch(session, [_doc(1), _item(2)], settings)
        assert [i.result.outcome for i in result.stored] == ["new", "new"]
        raise RuntimeError("caller gives up")
    assert _documents(archive_) == 0 and _state(archive_) == []  # documents and crawl state rolled back together


def test_crawled_items_record_their_listing_state(archive_: Archive) -> None:
    settings = _settings(archive_)
    with archive_.session() as session:
        ingest_batch(session, [_doc(1)], settings)  # stored by an import
        result = ingest_batch(
            session,
            [
                _item(1),  # the same release, listed by doj_news: unchanged, and now known to doj_news
                _item(2, external_id="guid-2"),
                _item(2, external_id="guid-2", signature="doj_news-2b"),  # twice in one batch: the last one wins
                _item(3, source="doj_rss", listing_signature=None),  # listed without a signature
            ],
            settings,
        )
    assert [(i.result.outcome, i.crawled) for i in result.stored] == [
        ("unchanged", True),
        ("new", True),
        ("unchanged", True),
        ("new", True),
    ]
    url = "https://www.justice.gov/opa/pr/release-{}".format
    assert _state(archive_) == [
        ("doj_news", url(1), None, "doj_news-1"),
        ("doj_news", url(2), "guid-2", "doj_news-2b"),
        ("doj_rss", url(3), None, None),
    ]
    with archive_.session() as session:
        news, api, rss = (KnownIndex.load(session, s) for s in ("doj_news", "doj_api", "doj_rss"))
    assert news.has(url=url(1) + "?utm_source=x", signature="doj_news-1")
    assert not news.has(url=url(1), signature="changed") and news.has(external_id="guid-2", signature="doj_news-2b")
    assert not api.has(url=url(1))  # imported, never listed by doj_api: its crawl fetches it once
    assert rss.has(url=url(3)) and not rss.has(url=url(3), signature="Mon, 1 Jan 2018")

    with archive_.session() as session:  # a later sighting updates the row
        ingest_batch(session, [_item(1, signature="doj_news-1b")], settings)
    assert ("doj_news", url(1), None, "doj_news-1b") in _state(archive_)


def test_a_bad_document_is_a_problem_and_the_rest_is_stored(archive_: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    real = ingest_module.classify_document

    def flaky(doc: NormalizedDocument) -> NormalizedDocument:
        if doc.title == "Release 2":
            raise ZeroDivisionError("boom")
        return real(doc)

    monkeypatch.setattr(ingest_module, "classify_document", flaky)
    items: list[NormalizedDocument | DocumentItem] = [
        _item(1),
        _item(2),
        _item(3, title="", html=""),
        _item(4, published="someday"),
        _doc(5),
    ]
    with archive_.session() as session:
        result = ingest_batch(session, items, _settings(archive_))
    assert [i.document.title for i in result.stored] == ["Release 1", "Release 4", "Release 5"]
    assert [(p.index, p.dropped, p.message.split(":")[0]) for p in result.problems] == [
        (1, True, "dropped https"),
        (2, True, "dropped unusable document https"),
        (3, False, "https"),
    ]
    assert "classifying it failed: ZeroDivisionError: boom" in result.problems[0].message
    assert "unreadable date 'someday'; stored without one" in result.problems[2].message
    assert result.stored[1].document.published_at is None
    assert _documents(archive_) == 3
    assert [key[-1] for _, key, _, _ in _state(archive_)] == ["1", "4"]  # only stored items are known

    counts = ingest(archive_, [_doc(6, title="Release 2"), _doc(7)])
    assert counts.new == 1 and len(counts.problems) == 1 and "boom" in counts.problems[0]


def test_reclassify_takes_a_document_filter(archive_: Archive) -> None:
    ingest(archive_, [_doc(1), _doc(2, source="ojp")])
    with archive_.session() as session:  # stale tags: only their roles differ from what the classifier gives
        session.execute(update(DocumentJurisdiction).values(role="locator"))
    summary = reclassify(archive_, DocumentFilter(sources=("doj_api",)))
    assert summary == {"documents": 1, "changed": 1}  # a role-only change counts (it was missed before)
    with archive_.session() as session:
        rows = session.execute(select(Document.source, DocumentJurisdiction.role).join(DocumentJurisdiction)).all()
    roles = {source: {role for s, role in rows if s == source} for source, _ in rows}
    assert roles == {"doj_api": {"named", "locator"}, "ojp": {"locator"}}  # Philadelphia, (located in) Pennsylvania
    assert reclassify(archive_, DocumentFilter()) == {"documents": 2, "changed": 1}
    with pytest.raises(QueryError, match="full-text query"):
        reclassify(archive_, DocumentFilter(query="sanctuary"))
