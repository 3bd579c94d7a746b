"""Whole crawls of the DOJ sources against the offline mirror, through `lawwatch crawl` in a subprocess.

The sequence (first crawl → unchanged second crawl → publish 2 + edit 1) shares one mirror and one archive, so its
tests run in file order; each fault test gets its own archive (and clears the mirror's faults).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lawwatch.crawler.mirror.server import MirrorServer
from tests.helpers.crawl import CrawlOutcome, crawl, release_page_requests, rows, scalar, snapshot, write_settings

pytestmark = pytest.mark.timeout(240)
JUSTICE = "www.justice.gov"


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("story")
    with MirrorServer() as mirror:
        settings, db_url = write_settings(mirror, tmp)
        before = mirror.request_counts()
        first = crawl(settings)
        yield {
            "mirror": mirror,
            "settings": settings,
            "db": db_url,
            "first": first,
            "first_requests": _diff(mirror.request_counts(), before),
        }


def _diff(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {path: n - before.get(path, 0) for path, n in after.items() if n - before.get(path, 0)}


def _releases(mirror: MirrorServer) -> int:
    return len(mirror.justice.releases)


def test_first_crawl_stores_every_release(story: dict[str, Any]) -> None:
    first: CrawlOutcome = story["first"]
    assert first.code == 0, first.stderr[-2000:]
    assert {s: r["status"] for s, r in first.sources.items()} == {"doj_api": "ok", "doj_news": "ok", "doj_rss": "ok"}
    total = _releases(story["mirror"])
    assert scalar(story["db"], "SELECT count(*) FROM documents") == total
    assert sum(r["new"] for r in first.sources.values()) == total
    runs = rows(story["db"], "SELECT source, status, pages, new, finished_at FROM crawl_runs ORDER BY source")
    assert [(r[0], r[1]) for r in runs] == [("doj_api", "ok"), ("doj_news", "ok"), ("doj_rss", "ok")]
    assert all(r[2] > 0 and r[4] is not None for r in runs)


def test_same_release_through_api_rss_and_html_is_one_document(story: dict[str, Any]) -> None:
    mirror: MirrorServer = story["mirror"]
    release = next(r for r in mirror.justice.releases if "29-jurisdictions" in r.url)
    url = mirror.url(release.url)
    found = rows(story["db"], f"SELECT id, title FROM documents WHERE url = '{url}'")
    assert len(found) == 1 and found[0][1] == release.title
    # every source reached it: the API (its body), RSS and the HTML pages compared as unchanged, no version
    first = story["first"].sources
    assert first["doj_news"]["unchanged"] + first["doj_news"]["new"] == _releases(mirror)
    assert first["doj_rss"]["unchanged"] + first["doj_rss"]["new"] == 50
    assert scalar(story["db"], "SELECT count(*) FROM document_versions") == 0
    assert story["first_requests"].get(mirror.url(release.url).split(str(mirror.port), 1)[1], 0) == 2


def test_second_crawl_of_the_unchanged_mirror_downloads_no_release_again(story: dict[str, Any]) -> None:
    mirror: MirrorServer = story["mirror"]
    documents, runs = snapshot(story["db"]), scalar(story["db"], "SELECT count(*) FROM crawl_runs")
    before = mirror.request_counts()
    second = crawl(story["settings"])
    requested = _diff(mirror.request_counts(), before)
    assert second.code == 0 and all(r["status"] == "ok" for r in second.sources.values()), second.stderr[-2000:]
    assert release_page_requests(requested) == 0, requested
    assert sum(requested.values()) <= 8, requested  # robots.txt ×3, one API page, two listings, one feed
    assert all(r["new"] == r["updated"] == 0 for r in second.sources.values())
    assert snapshot(story["db"]) == documents
    assert scalar(story["db"], "SELECT count(*) FROM crawl_runs") == runs + 3
    assert second.sources["doj_rss"]["not_modified"] == 1


def test_publish_two_and_edit_one_adds_two_documents_and_one_version(story: dict[str, Any]) -> None:
    mirror: MirrorServer = story["mirror"]
    edited = mirror.edit(JUSTICE, which=3)
    published = mirror.publish(JUSTICE, 2)
    documents = scalar(story["db"], "SELECT count(*) FROM documents")
    third = crawl(story["settings"])
    assert third.code == 0, third.stderr[-2000:]
    assert scalar(story["db"], "SELECT count(*) FROM documents") == documents + 2
    versions = rows(story["db"], "SELECT d.url FROM document_versions v JOIN documents d ON d.id = v.document_id")
    assert versions == [(edited,)]
    body = scalar(story["db"], f"SELECT body_text FROM documents WHERE url = '{edited}'")
    assert "Updated: this release was corrected" in body
    for url in published:
        assert scalar(story["db"], f"SELECT count(*) FROM documents WHERE url = '{url}'") == 1
    assert sum(r["new"] for r in third.sources.values()) == 2


def test_api_walks_an_oldest_first_api_from_its_last_page(story: dict[str, Any]) -> None:
    mirror: MirrorServer = story["mirror"]
    mirror.api_order = "oldest"
    try:
        published = mirror.publish(JUSTICE, 1)
        before = mirror.request_counts()
        outcome = crawl(story["settings"], "doj_api")
        requested = _diff(mirror.request_counts(), before)
    finally:
        mirror.api_order = "newest"
    assert outcome.sources["doj_api"]["status"] == "ok" and outcome.sources["doj_api"]["new"] == 1
    assert scalar(story["db"], f"SELECT source FROM documents WHERE url = '{published[0]}'") == "doj_api"
    assert requested.get("/www.justice.gov/api/v1/press_releases.json", 0) <= 3, requested


# ---------------------------------------------------------------- fault switches
@pytest.fixture(scope="module")
def faulty() -> Iterator[MirrorServer]:
    with MirrorServer() as mirror:
        yield mirror


# Two RSS sources (the mirror serves the feed at two paths), each under its own fault, beside a healthy API source:
# one `lawwatch crawl` checks two fault switches.
ALT_RSS = """
[[sources]]
id = "doj_rss_alt"
spider = "doj_rss"
base_url = "{base}/www.justice.gov"
local = true
feeds = ["/news/rss"]
"""
FEED, ALT_FEED = f"{JUSTICE}/feeds", f"{JUSTICE}/news/rss"
FAULT_PAIRS = [
    pytest.param(("500", {}, "HTTP 500"), ("429", {"retry_after": 1}, "HTTP 429"), id="500+429"),
    pytest.param(("slow", {"seconds": 3}, "TimeoutError"), ("truncate", {}, "download failed"), id="slow+truncate"),
    pytest.param(("entity_bomb", {}, "entity bomb"), ("huge", {}, "download failed"), id="entity_bomb+huge"),
    pytest.param(
        ("redirect_port", {}, "refused redirect"),
        ("redirect_file", {}, "file:///etc/passwd"),
        id="redirect_port+redirect_file",
    ),
]
Fault = tuple[str, dict[str, Any], str]


@pytest.mark.parametrize(("main", "alt"), FAULT_PAIRS)
def test_faults_are_recorded_and_other_sources_complete(
    faulty: MirrorServer, tmp_path: Path, main: Fault, alt: Fault
) -> None:
    faulty.clear_faults()
    settings, db_url = write_settings(faulty, tmp_path, replace={"timeout = 30.0": "timeout = 1.5"})
    settings.write_text(settings.read_text("utf-8") + ALT_RSS.format(base=faulty.base_url), "utf-8")
    faulty.set_fault(FEED, main[0], **main[1])
    faulty.set_fault(ALT_FEED, alt[0], **alt[1])
    hits = faulty.decoy_hits
    started = time.monotonic()
    try:
        outcome = crawl(settings, "doj_api", "doj_rss", "doj_rss_alt")
    finally:
        faulty.clear_faults()
    assert outcome.code == 1
    api = outcome.sources["doj_api"]
    assert api["status"] == "ok" and api["new"] == _releases(faulty)
    for source, (_fault, _params, message) in (("doj_rss", main), ("doj_rss_alt", alt)):
        result = outcome.sources[source]
        assert result["status"] == "failed" and any(message in m for m in result["error_messages"]), result
        stored = rows(db_url, f"SELECT status, error_messages FROM crawl_runs WHERE source = '{source}'")
        assert stored[0][0] == "failed" and message in stored[0][1]
        assert scalar(db_url, f"SELECT count(*) FROM http_cache WHERE source = '{source}'") == 0
    # no half-written document: every stored one is whole, and only the API stored any
    docs = rows(db_url, "SELECT source, title, body_text, content_hash FROM documents")
    assert Counter(d[0] for d in docs) == {"doj_api": _releases(faulty)}
    assert all(d[1] and d[2] and len(d[3]) == 64 for d in docs)
    if main[0] == "500":  # the 429 source waited Retry-After (1 s) before each of its 2 retries
        assert time.monotonic() - started >= 2.0
    if main[0] == "redirect_port":
        assert faulty.decoy_hits == hits


def test_wrong_charset_still_gives_the_same_text(faulty: MirrorServer, tmp_path: Path) -> None:
    faulty.clear_faults()
    settings, db_url = write_settings(faulty, tmp_path)
    faulty.set_fault(f"{JUSTICE}/opa/pr", "charset")
    try:
        outcome = crawl(settings, "doj_api", "doj_news")
    finally:
        faulty.clear_faults()
    assert outcome.code == 0 and outcome.sources["doj_news"]["status"] == "ok"
    assert scalar(db_url, "SELECT count(*) FROM document_versions") == 0  # HTML text == API text
    assert scalar(db_url, "SELECT count(*) FROM documents WHERE body_text LIKE '%â€%'") == 0
