"""The garbage collector's settings for a crawl's reactor and its ingest worker (lawwatch/heap.py)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lawwatch import heap

ROOT = Path(__file__).resolve().parent.parent


def test_long_lived_freezes_what_exists_and_undoes_it_afterwards() -> None:
    before_threshold, before_frozen = gc.get_threshold(), gc.get_freeze_count()
    kept = [object() for _ in range(3)]
    with heap.long_lived():
        assert gc.get_freeze_count() > before_frozen  # this test's objects too
        assert gc.get_threshold() == heap.THRESHOLD
    assert (gc.get_threshold(), gc.get_freeze_count()) == (before_threshold, before_frozen)
    assert kept


def test_long_lived_undoes_it_when_the_work_fails() -> None:
    before = (gc.get_threshold(), gc.get_freeze_count())
    with pytest.raises(RuntimeError), heap.long_lived():
        raise RuntimeError("the reactor failed")
    assert (gc.get_threshold(), gc.get_freeze_count()) == before


def test_a_cycle_made_during_the_work_is_still_collected() -> None:
    import weakref

    class Node:
        pass

    with heap.long_lived():
        node = Node()
        node.me = node  # type: ignore[attr-defined]
        ref = weakref.ref(node)
        del node
        gc.collect()
        assert ref() is None


# The crawl's process runs its reactor under long_lived: Scrapy's CrawlerProcess.start replaced by a probe of the
# collector's settings (no crawl starts), in a fresh interpreter (a reactor cannot restart).
_PROBE = """
import gc, json, sys
from scrapy.crawler import CrawlerProcess
from lawwatch.config import load_config
from lawwatch.crawler.runner import run_crawl

seen = {}
def start(self, *args, **kwargs):
    seen["threshold"], seen["frozen"] = list(gc.get_threshold()), gc.get_freeze_count()
CrawlerProcess.start = start
before = list(gc.get_threshold())
results = run_crawl(load_config(sys.argv[1]), list(load_config(sys.argv[1]).sources))
print(json.dumps({**seen, "before": before, "after": list(gc.get_threshold()), "frozen_after": gc.get_freeze_count(),
                  "status": results[0].status}))
"""


def test_the_crawl_runs_its_reactor_with_the_heap_frozen(tmp_path: Path) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text(
        f'[archive]\nurl = "sqlite:///{tmp_path / "archive.db"}"\n\n'
        '[crawler]\nuser_agent = "lawwatch-test/0.1 (contact: lawwatch@example.org)"\n\n'
        '[[sources]]\nid = "doj_news"\nspider = "doj_news"\nbase_url = "http://127.0.0.1:9/www.justice.gov"\n'
        "local = true\n",
        "utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(settings)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["threshold"] == list(heap.THRESHOLD) and out["frozen"] > 10_000  # Scrapy, SQLAlchemy, lawwatch
    assert out["after"] == out["before"] and out["frozen_after"] == 0
    assert out["status"] == "failed"  # (the probe started no crawl: the runner says so)


def test_loading_for_good_collects_nothing_while_loading_then_freezes(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "set_threshold", lambda *t: calls.append(f"threshold {t}"))
    assert gc.isenabled()
    with heap.loading_for_good():
        assert not gc.isenabled()
        calls.append("load")
    assert gc.isenabled()
    assert calls == ["load", "freeze", f"threshold {heap.THRESHOLD}"]
