"""The crawl's worker side, called in-process: items → normalize → classify → store, one transaction per batch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from lawwatch.crawler import pipelines
from lawwatch.crawler.items import DocumentItem
from lawwatch.pipeline.db import open_archive


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    open_archive(url).dispose()  # migrated, as the runner does before the worker starts
    pipelines._open_worker(url)
    yield url
    assert pipelines._worker_archive is not None
    pipelines._worker_archive.dispose()
    pipelines._worker_archive = None


def _item(n: int, **changes: object) -> DocumentItem:
    fields: dict[str, object] = dict(
        source="doj_news",
        url=f"https://www.justice.gov/opa/pr/release-{n}",
        title=f"Letters to Philadelphia, release {n}",
        form="press_release",
        external_id=None,
        published="2017-10-12T11:30:00-04:00",
        html="<p>The Department sent letters to Philadelphia, Pennsylvania under 8 U.S.C. 1373.</p>",
        listing_signature=f"sig-{n}",
    )
    fields.update(changes)
    return DocumentItem(**fields)  # type: ignore[arg-type]


def test_batch_is_normalized_classified_and_stored(worker: str) -> None:
    items = [_item(1), _item(2, published="the day after tomorrow"), _item(3, title="", html="")]
    outcomes, messages, error, lost = pipelines._store_batch(items)
    assert (outcomes, error, lost) == ({"new": 2}, None, 0)
    assert messages[0].startswith("https://www.justice.gov/opa/pr/release-2: unreadable date")
    assert messages[1].startswith("dropped unusable document https://www.justice.gov/opa/pr/release-3")
    engine = sa.create_engine(worker)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT url, published_at, doc_type FROM documents ORDER BY url")).all()
        tags = conn.execute(sa.text("SELECT DISTINCT jurisdiction_id FROM document_jurisdictions")).scalars().all()
    engine.dispose()
    assert [r.url.rsplit("-", 1)[1] for r in rows] == ["1", "2"]
    assert rows[0].published_at is not None and rows[1].published_at is None
    assert {r.doc_type for r in rows} == {"letter"}
    assert tags == ["fips:4260000"]

    again = pipelines._store_batch([_item(1), _item(2, published=None)])
    assert again == ({"unchanged": 2}, [], None, 0)


def test_a_failing_batch_is_rolled_back_and_counted(worker: str) -> None:
    engine = sa.create_engine(worker)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE document_statutes"))  # the tag write of this batch must fail
    engine.dispose()
    outcomes, messages, error, lost = pipelines._store_batch([_item(1), _item(2)])
    assert outcomes == {} and messages == [] and lost == 2
    assert error is not None and error.startswith("storing 2 documents failed: OperationalError")
    engine = sa.create_engine(worker)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM documents")).scalar() == 0  # nothing half-written
    engine.dispose()
