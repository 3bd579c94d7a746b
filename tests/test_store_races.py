"""Writers racing on the same documents converge (issue 8, item 4): upserts, no IntegrityError, right outcomes.

Two writers in threads store the same batches at once (each in its own transaction, as two crawls' workers do), on
SQLite and PostgreSQL; and the two ways a race can go are forced deterministically: another writer inserts a
document after it was read as new, or changes it after it was read as changed.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lawwatch.alerts.rules import resolve_rules
from lawwatch.pipeline import store
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.ingest import IngestSettings, ingest_batch
from lawwatch.pipeline.models import Document, DocumentSource, DocumentVersion, OutboxEntry, SourceState
from lawwatch.pipeline.normalize import NormalizedDocument
from lawwatch.pipeline.store import StoreResult, store_documents
from tests.helpers.alerts import alert_settings, letter

pytestmark = pytest.mark.timeout(120)
DOCS = 60


def _count(archive: Archive, model: type, *where: Any) -> int:
    with archive.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _race(archive: Archive, batches: list[list[Any]], settings: IngestSettings) -> list[list[StoreResult]]:
    """Store ``batches[i]`` in thread i, all starting at once; every thread's results (exceptions re-raised)."""
    barrier = threading.Barrier(len(batches))
    results: list[list[StoreResult]] = [[] for _ in batches]
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            with archive.session() as session:
                results[index] = ingest_batch(session, batches[index], settings).results
        except BaseException as exc:  # noqa: BLE001 -- reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def settings(archive: Archive, tmp_path: Path) -> IngestSettings:
    config = alert_settings(tmp_path, "sqlite:///unused.db", targets=("slack", "email"))
    return IngestSettings(archive.engine.url.render_as_string(hide_password=False), rules=resolve_rules(config))


@pytest.mark.parametrize("sources", [("doj_api", "doj_api"), ("doj_api", "doj_news")], ids=["same", "two-sources"])
def test_two_writers_storing_the_same_documents_converge(
    archive: Archive, settings: IngestSettings, sources: tuple[str, str]
) -> None:
    for round_ in range(3):  # a few rounds: the interleavings differ
        offset = round_ * DOCS
        batches = [[letter(offset + n, source=source) for n in range(DOCS)] for source in sources]
        first, second = _race(archive, batches, settings)
        for a, b in zip(first, second, strict=True):
            assert a.document_id == b.document_id
            assert sorted([a.outcome, b.outcome]) == ["new", "unchanged"], (a, b)
    total = 3 * DOCS
    assert _count(archive, Document) == total
    assert _count(archive, DocumentSource) == total * len(set(sources))
    assert _count(archive, SourceState) == 0  # normalized documents: no crawl state
    # exactly one outbox row per (rule, document, target): the rule matches every letter, two targets
    with archive.session() as session:
        keys = Counter(session.execute(select(OutboxEntry.rule, OutboxEntry.document_id, OutboxEntry.target)).all())
    assert len(keys) == total * 2 and set(keys.values()) == {1}

    # both writers bring the same edit: one stores it (one version), the other finds it unchanged
    edits = [
        [letter(n, source=source, extra="The letter was corrected on appeal.") for n in range(DOCS)]
        for source in sources
    ]
    first, second = _race(archive, edits, settings)
    for a, b in zip(first, second, strict=True):
        assert sorted([a.outcome, b.outcome]) == ["unchanged", "updated"], (a, b)
    assert _count(archive, DocumentVersion) == DOCS
    assert _count(archive, Document) == total


def _stale_reads(monkeypatch: pytest.MonkeyPatch, before_first: Callable[[], None] | None = None) -> list[int]:
    """Make the store's first read of existing documents see the archive as it was before another writer's commit:
    ``before_first`` (another writer) runs right after that read; with no writer, the read comes back empty (as if
    the rows were committed just after it). Returns the call counter."""
    real = store._existing
    calls = [0]

    def existing(session: Any, docs: Any) -> Any:
        calls[0] += 1
        if calls[0] > 1:
            return real(session, docs)
        if before_first is None:
            return {}
        found = real(session, docs)
        before_first()
        return found

    monkeypatch.setattr(store, "_existing", existing)
    return calls


def _doc(n: int, text: str = "", source: str = "doj_api") -> NormalizedDocument:
    return letter(n, source=source, extra=text)


def test_the_loser_of_an_insert_race_sees_unchanged_or_updated(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    with archive.session() as session:
        stored = store_documents(session, [_doc(1), _doc(2)])
    calls = _stale_reads(monkeypatch)  # the next store read nothing: the rows appeared after its read
    with archive.session() as session:
        again = store_documents(session, [_doc(1), _doc(2, "Corrected."), _doc(3)])
    assert calls[0] == 2  # read again after the insert found the rows
    assert [r.outcome for r in again] == ["unchanged", "updated", "new"]
    assert [r.document_id for r in again[:2]] == [r.document_id for r in stored]
    assert again[1].content_changed
    assert _count(archive, Document) == 3 and _count(archive, DocumentVersion) == 1


@pytest.mark.parametrize(("mine", "expected"), [("Second.", "unchanged"), ("Third.", "updated")])
def test_an_update_applies_only_to_the_text_it_was_read_with(
    archive: Archive, monkeypatch: pytest.MonkeyPatch, mine: str, expected: str
) -> None:
    with archive.session() as session:
        (first,) = store_documents(session, [_doc(1, "First.")])

    def other_writer() -> None:  # commits "Second." after this store read "First."
        with archive.session() as session:
            assert store_documents(session, [_doc(1, "Second.")])[0].outcome == "updated"

    _stale_reads(monkeypatch, other_writer)
    with archive.session() as session:
        (result,) = store_documents(session, [_doc(1, mine)])
    assert result.outcome == expected and result.document_id == first.document_id
    with archive.session() as session:
        versions = session.scalars(select(DocumentVersion.body_text).order_by(DocumentVersion.id)).all()
        body = session.scalar(select(Document.body_text))
    assert len(versions) == (1 if expected == "unchanged" else 2)  # never a version of the same text twice
    assert "First." in versions[0] and mine in (body or "")


def test_document_sources_keep_every_source_id_and_url(archive: Archive) -> None:
    api = replace(letter(1, source="doj_api"), external_id="uuid-1")
    with archive.session() as session:
        store_documents(session, [letter(1, source="doj_news")])
    with archive.session() as session:
        (seen,) = store_documents(session, [api])
    assert seen.outcome == "unchanged"
    with archive.session() as session:
        rows = session.execute(
            select(DocumentSource.source, DocumentSource.external_id, DocumentSource.url).order_by(
                DocumentSource.source
            )
        ).all()
        stored_source = session.scalar(select(Document.source))
    assert stored_source == "doj_news"  # the document keeps the source that stored it first
    assert [(r.source, r.external_id) for r in rows] == [("doj_api", api.external_id), ("doj_news", None)]
    assert {r.url for r in rows} == {api.url}
