"""The crawl's worker side, called in-process: items → the ingest service, one transaction per batch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lawwatch.crawler import pipelines
from lawwatch.crawler.items import DocumentItem
from lawwatch.pipeline.db import open_archive
from lawwatch.pipeline.ingest import IngestSettings


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[IngestSettings]:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    open_archive(url).dispose()  # migrated, as the runner does before the worker starts
    yield IngestSettings(url, batch_size=50)
    pipelines.close_archives()


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


def _rows(url: str, sql: str) -> list[Any]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql)).all())
    finally:
        engine.dispose()


def test_batch_is_normalized_classified_and_stored(worker: IngestSettings) -> None:
    items = [_item(1), _item(2, published="the day after tomorrow"), _item(3, title="", html="")]
    report = pipelines._store_batch(worker, items)
    assert (report.outcomes, report.error, report.lost) == ({"new": 2}, None, 0)
    assert report.warnings[0].startswith("https://www.justice.gov/opa/pr/release-2: unreadable date")  # kept
    assert report.messages[0].startswith("dropped unusable document https://www.justice.gov/opa/pr/release-3")
    rows = _rows(worker.archive_url, "SELECT url, published_at, doc_type, metadata FROM documents ORDER BY url")
    tags = _rows(
        worker.archive_url, "SELECT DISTINCT jurisdiction_id, role FROM document_jurisdictions ORDER BY jurisdiction_id"
    )
    assert [r.url.rsplit("-", 1)[1] for r in rows] == ["1", "2"]
    assert rows[0].published_at is not None and rows[1].published_at is None
    assert {r.doc_type for r in rows} == {"letter"}
    assert [tuple(t) for t in tags] == [("fips:42", "locator"), ("fips:4260000", "named")]  # "Philadelphia, Pa."
    assert all("signatures" not in r.metadata for r in rows)  # crawl state is not document metadata
    state = _rows(worker.archive_url, "SELECT source, key, signature FROM source_state ORDER BY key")
    assert [tuple(r) for r in state] == [("doj_news", r.url, f"sig-{r.url[-1]}") for r in rows]

    again = pipelines._store_batch(worker, [_item(1), _item(2, published=None)])
    assert again == pipelines.BatchReport({"unchanged": 2})


def test_a_failing_batch_is_rolled_back_and_counted(worker: IngestSettings) -> None:
    engine = sa.create_engine(worker.archive_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE document_statutes"))  # the tag write of this batch must fail
    engine.dispose()
    report = pipelines._store_batch(worker, [_item(1), _item(2)])
    assert report.outcomes == {} and report.messages == [] and report.lost == 2
    assert report.error is not None and report.error.startswith("storing 2 documents failed: OperationalError")
    assert _rows(worker.archive_url, "SELECT count(*) FROM documents")[0][0] == 0  # nothing half-written
    assert _rows(worker.archive_url, "SELECT count(*) FROM source_state")[0][0] == 0  # nor its crawl state


def test_one_document_that_fails_to_classify_does_not_lose_its_batch(
    worker: IngestSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lawwatch.pipeline import ingest

    real = ingest.classify_document

    def flaky(doc: Any) -> Any:
        if doc.url.endswith("-2"):
            raise RuntimeError("classifier bug")
        return real(doc)

    monkeypatch.setattr(ingest, "classify_document", flaky)
    report = pipelines._store_batch(worker, [_item(1), _item(2), _item(3)])
    assert report.outcomes == {"new": 2} and report.error is None
    assert report.messages == [
        "dropped https://www.justice.gov/opa/pr/release-2: classifying it failed: RuntimeError: classifier bug"
    ]
    keys = _rows(worker.archive_url, "SELECT key FROM source_state ORDER BY key")
    assert [k[0][-1] for k in keys] == ["1", "3"]  # the dropped one stays unknown: the next crawl fetches it again


def test_settings_travel_to_the_worker_process() -> None:
    import pickle

    from lawwatch.config import AlertRule

    settings = IngestSettings("sqlite:///x.db", rules=(AlertRule("philly", jurisdictions=("fips:4260000",)),))
    assert pickle.loads(pickle.dumps(settings)) == settings


def test_a_worker_process_reports_its_batch_then_ends_with_exit_code_0(worker: IngestSettings) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(1, mp_context=context, initializer=pipelines._warm_up, initargs=(False,))
    report = pool.submit(pipelines._store_batch, worker, [_item(1), _item(2)]).result(timeout=120)
    processes = list(pool._processes.values())  # type: ignore[attr-defined]
    pool.shutdown(wait=True)
    assert report.outcomes == {"new": 2}
    assert [p.exitcode for p in processes] == [0]
    assert len(_rows(worker.archive_url, "SELECT id FROM documents")) == 2


def test_the_worker_ends_its_process_at_exit_with_its_archives_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    from lawwatch.crawler import worker as worker_module

    calls: list[object] = []
    monkeypatch.setattr(worker_module, "close_archives", lambda: calls.append("closed"))
    monkeypatch.setattr(worker_module.os, "_exit", lambda code: calls.append(code))
    worker_module._end()
    assert calls == ["closed", 0]


def test_warm_up_in_a_process_that_is_no_worker_leaves_its_exit_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing.util

    from lawwatch.crawler import worker as worker_module

    registered: list[tuple[object, object]] = []
    monkeypatch.setattr(
        multiprocessing.util, "Finalize", lambda obj, fn, exitpriority: registered.append((fn, exitpriority))
    )
    monkeypatch.setattr(worker_module, "_exit_with_parent", lambda: None)
    monkeypatch.setattr(worker_module, "quiet_worker", lambda log: None)
    worker_module.warm_up(False)
    assert registered == []
    monkeypatch.setattr(worker_module.multiprocessing, "parent_process", lambda: object())
    worker_module.warm_up(False)
    assert registered == [(worker_module._end, -(2**31))]  # multiprocessing runs it last as the worker ends


# A process that forks the worker as the runner does (the crawl's own process, before its reactor), in a fresh
# interpreter: pytest's own process runs threads, where fork_worker must refuse.
_FORKING = """
import json, sys, threading
from lawwatch.crawler import pipelines, worker
from lawwatch.crawler.items import DocumentItem
from lawwatch.pipeline.ingest import IngestSettings

def loaded():
    return bool(worker._loaded)

def collector():
    import gc
    return list(gc.get_threshold()), gc.get_freeze_count()

settings = IngestSettings(sys.argv[1], batch_size=50)
item = DocumentItem(source="doj_news", url="https://www.justice.gov/opa/pr/release-1", title="Letters",
                    form="press_release", html="<p>Letters to Philadelphia under 8 U.S.C. 1373.</p>")
out = {"forked": pipelines.fork_worker(False)}
executor = pipelines._SharedWorker.acquire(False)
out["loaded_before_ready"] = executor.submit(loaded).result(timeout=60)
threshold, frozen = executor.submit(collector).result(timeout=60)
executor.submit(worker.ready).result(timeout=60)
out["loaded_after_ready"] = executor.submit(loaded).result(timeout=60)
threshold_after, frozen_after = executor.submit(collector).result(timeout=60)
out["heap"] = [threshold == [700, 10, 10], threshold_after == [50000, 20, 20], frozen_after > frozen + 50000]
out["outcomes"] = executor.submit(worker.store_batch, settings, [item]).result(timeout=60).outcomes
process = next(iter(executor._processes.values()))
pipelines._SharedWorker.release()
out["alive_after_release"] = process.is_alive()  # the runner, not the last pipeline, stops a forked worker
pipelines.stop_worker()
out["exitcode"] = process.exitcode
blocker = threading.Event()
thread = threading.Thread(target=blocker.wait)
thread.start()
out["forked_beside_a_thread"] = pipelines.fork_worker(False)
blocker.set()
thread.join()
print(json.dumps(out))
"""


def test_the_runner_forks_the_worker_which_loads_the_classifier_with_the_first_item(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'archive.db'}"
    open_archive(url).dispose()
    done = subprocess.run(
        [sys.executable, "-c", _FORKING, url], capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == {
        "forked": True,
        "loaded_before_ready": False,  # a crawl that finds nothing new never loads the classifier
        "loaded_after_ready": True,
        # the classifier's tables (~90,000 objects) out of the collector's reach once loaded, collections rarer
        "heap": [True, True, True],
        "outcomes": {"new": 1},
        "alive_after_release": True,
        "exitcode": 0,
        "forked_beside_a_thread": False,  # a thread's locks would stay locked in the child: the pipeline spawns
    }
    assert [r[0] for r in _rows(url, "SELECT url FROM documents")] == ["https://www.justice.gov/opa/pr/release-1"]


def test_the_forked_worker_closes_its_archives_as_it_ends(tmp_path: Path) -> None:
    """Its end runs through multiprocessing's finalizers (a forked child never runs atexit): SQLite removes the
    archive's write-ahead log when its last connection closes, which the worker's closing connection is."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'archive.db'}"
    open_archive(url).dispose()
    script = (
        _FORKING.split("out = ")[0]
        + """
pipelines.fork_worker(False)
executor = pipelines._SharedWorker.acquire(False)
executor.submit(worker.store_batch, settings, [item]).result(timeout=60)
process = next(iter(executor._processes.values()))
print(__import__("os").path.exists(sys.argv[2]))
pipelines.stop_worker()
print(process.exitcode, __import__("os").path.exists(sys.argv[2]))
"""
    )
    wal = str(tmp_path / "archive.db-wal")
    done = subprocess.run(
        [sys.executable, "-c", script, url, wal], capture_output=True, text=True, timeout=180, check=False
    )
    assert (done.returncode, done.stdout.split()) == (0, ["True", "0", "False"]), done.stderr[-2000:]


def test_a_fork_that_fails_leaves_the_worker_to_be_spawned(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    def no_fork() -> int:
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(os, "fork", no_fork)
    monkeypatch.setattr(pipelines.threading, "active_count", lambda: 1)  # (pytest's own process runs threads)
    assert pipelines.fork_worker(False) is False
    assert pipelines._SharedWorker.executor is None and not pipelines._SharedWorker.forked
