"""Issue 9: what `lawwatch crawl` prints.

- At the default level every failure (a download error, a 5xx, an unreadable feed, a spider error) is one line on
  stderr, never a traceback; the detail is in the run record, and Scrapy's log (tracebacks included) only with -v.
- A name that does not resolve fails its requests at once, without retries or download delays.
- The table shows requests and 304s per source, then the titles of the new and updated documents (the first 10 per
  source); --json carries all of them.
- `crawl --backfill --since` takes a timestamp with an offset.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lawwatch.cli import cli
from tests.helpers.crawl import ROOT, rows
from tests.helpers.hostile_server import HostileServer, Reply, Seen

pytestmark = pytest.mark.timeout(240)
J = "/www.justice.gov"
HEAD = (
    '[crawler]\nuser_agent = "lawwatch-test (contact: lawwatch@example.org)"\ndownload_delay = 0.0\n'
    "retry_times = 1\nautothrottle = false\n"
)


def _source(sid: str, spider: str, base_url: str, *, local: bool = True, **options: Any) -> str:
    lines = ["[[sources]]", f'id = "{sid}"', f'spider = "{spider}"', f"base_url = {json.dumps(base_url)}"]
    lines.append("local = true" if local else "download_delay = 1.0")
    lines += [f"{k} = {json.dumps(v)}" for k, v in options.items()]
    return "\n".join(lines) + "\n"


def _settings(tmp_path: Path, *sources: str, robots: bool = True) -> Path:
    path = tmp_path / "settings.toml"
    archive = f'[archive]\nurl = "sqlite:///{tmp_path / "archive.db"}"\n'
    path.write_text(archive + HEAD + f"obey_robots_txt = {str(robots).lower()}\n\n" + "\n".join(sources), "utf-8")
    return path


def _run(settings: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "lawwatch", "--config", str(settings), "crawl", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _release(n: int, base: str, **fields: Any) -> dict[str, Any]:
    release = {
        "uuid": f"u{n}",
        "title": f"Release number {n} on 8 U.S.C. 1373",
        "body": f"<p>Release {n}: the Department wrote to Philadelphia about 8 U.S.C. 1373.</p>",
        "url": f"{base}{J}/opa/pr/release-{n}",
        "date": f"2017-10-{28 - n:02d}T10:00:00-04:00",
        "changed": "1500000000",
    }
    release.update(fields)
    return release


def _api(releases: list[dict[str, Any]]) -> Reply:
    envelope = {"metadata": {"resultset": {"count": len(releases), "pagesize": 50, "page": 0}}, "results": releases}
    return Reply(body=json.dumps(envelope).encode(), content_type="application/json")


def _feed(base: str) -> bytes:
    items = "".join(
        f"<item><title>Feed item {i}</title><link>{base}{J}/opa/pr/feed-{i}</link><guid>feed-{i}</guid>"
        f"<pubDate>Thu, 12 Oct 2017 1{i}:30:00 -0400</pubDate><description>Feed item {i} about Chicago."
        "</description></item>"
        for i in range(3)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>'.encode()


def _conditional(body: bytes) -> Any:
    def answer(seen: Seen) -> Reply:
        if seen.headers.get("if-none-match") == '"v1"':
            return Reply(status=304)
        return Reply(body=body, content_type="application/rss+xml", headers={"ETag": '"v1"'})

    return answer


def _failure_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def test_every_failure_is_one_line_without_a_traceback(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{_closed_port()}{J}"
    with HostileServer({}) as server:
        base = server.base_url
        server.routes.update(
            {
                f"{J}/api/v1/press_releases.json": Reply(status=500, body=b"<h1>Internal Server Error</h1>"),
                f"{J}/feeds/garbage.xml": Reply(body=b"\x00\x01 no feed at all", content_type="application/rss+xml"),
                f"{J}/feeds/broken.json": Reply(body=b"{not json", content_type="application/json"),
            }
        )
        settings = _settings(
            tmp_path,
            _source("closed_api", "doj_api", closed),
            _source("closed_news", "doj_news", closed, listings=["/news", "/opa/pr", "/usao-edpa/pr"]),
            _source("error_api", "doj_api", base + J),
            _source("garbage_rss", "doj_rss", base + J, feeds=["/feeds/garbage.xml"], fetch_pages=False),
            _source("broken_api", "doj_api", base + J + "/feeds/broken.json?"),
        )
        done = _run(settings, "--all", "--json")
        verbose = _run(settings, "closed_api", "-v")
    assert done.returncode == 1
    results = {s["source"]: s for s in json.loads(done.stdout)["sources"]}
    assert {s: r["status"] for s, r in results.items()} == dict.fromkeys(results, "failed")
    assert "Traceback" not in done.stderr, done.stderr
    lines = _failure_lines(done.stderr)
    failures = sum(r["errors"] for r in results.values())
    assert len(lines) <= failures, (lines, failures)  # before: 5 tracebacks, about 400 lines
    for source in results:  # each source's failures are named, one line each, with the source first
        assert any(line.startswith(f"{source}: ") for line in lines), (source, lines)
    assert all(line.split(":", 1)[0] in results for line in lines), lines
    assert any("error_api: HTTP 500: " in line for line in lines)
    record = rows(
        f"sqlite:///{tmp_path / 'archive.db'}", "SELECT error_messages FROM crawl_runs WHERE source = 'closed_news'"
    )
    assert "Connection was refused" in record[0][0]  # the detail stays in the run record
    # with -v, Scrapy's own log, tracebacks included
    assert "Traceback" in verbose.stderr and "[scrapy." in verbose.stderr


def test_a_host_that_does_not_resolve_fails_at_once(tmp_path: Path) -> None:
    host = "lawwatch-test.invalid"  # RFC 2606: never resolves
    settings = _settings(
        tmp_path,
        _source("nowhere", "doj_news", f"https://{host}", local=False, listings=["/a", "/b", "/c", "/d"]),
        _source("nowhere_api", "doj_api", f"https://{host}", local=False),
    )
    started = time.monotonic()
    done = _run(settings, "--all", "--json")
    seconds = time.monotonic() - started
    results = {s["source"]: s for s in json.loads(done.stdout)["sources"]}
    assert results["nowhere"]["errors"] == 4 and results["nowhere_api"]["errors"] == 1
    assert all(f"{host} does not resolve" in m for r in results.values() for m in r["error_messages"])
    lines = _failure_lines(done.stderr)
    assert len(lines) == 5 and "Traceback" not in done.stderr, lines
    # before: a retry with backoff and a 1 s delay per request, about 20 s; the process itself takes a few seconds
    assert seconds < 15, seconds


def test_the_table_shows_requests_304s_and_the_documents(tmp_path: Path) -> None:
    with HostileServer({}) as server:
        base = server.base_url
        releases = [_release(n, base) for n in range(1, 13)]
        server.routes[f"{J}/api/v1/press_releases.json"] = _api(releases)
        server.routes[f"{J}/feeds/news.xml"] = _conditional(_feed(base))
        settings = _settings(
            tmp_path,
            _source("doj_api", "doj_api", base + J, max_pages=1),
            _source("doj_rss", "doj_rss", base + J, feeds=["/feeds/news.xml"], fetch_pages=False),
            robots=False,
        )
        first = _run(settings, "--all", "--json")
        releases[0] = _release(1, base, title="Release number 1, corrected", changed="1600000000")
        server.routes[f"{J}/api/v1/press_releases.json"] = _api(releases)
        second = _run(settings, "--all")

    assert first.returncode == 0, first.stderr
    results = {s["source"]: s for s in json.loads(first.stdout)["sources"]}
    api = results["doj_api"]
    assert (api["requests"], api["new"]) == (1, 12)
    assert len(api["documents"]) == 12  # --json: all of them
    assert {d["status"] for d in api["documents"]} == {"new"}
    assert {d["title"] for d in api["documents"]} == {r["title"] for r in releases[1:]} | {
        "Release number 1 on 8 U.S.C. 1373"
    }
    assert all(d["url"].endswith(f"/opa/pr/release-{d['title'].split()[2]}") for d in api["documents"])
    assert [d["title"] for d in results["doj_rss"]["documents"]] == ["Feed item 0", "Feed item 1", "Feed item 2"]

    assert second.returncode == 0, second.stderr
    out = second.stdout
    header = next(line for line in out.splitlines() if line.lstrip().startswith("source"))
    assert header.split() == [
        "source",
        "status",
        "requests",
        "304s",
        "pages",
        "new",
        "updated",
        "same",
        "errors",
        "secs",
    ]
    rss_row = next(line for line in out.splitlines() if line.startswith("doj_rss ")).split()
    assert rss_row[1:6] == ["ok", "1", "1", "0", "0"]  # one request, answered 304: not "pages 0" alone
    assert "doj_api: 0 new, 1 updated" in out
    assert "Release number 1, corrected" in out
    assert "Release number 2 " not in out  # only what this run changed is listed
    assert second.stderr == ""


def test_the_first_ten_documents_are_listed_then_a_count(tmp_path: Path) -> None:
    with HostileServer({}) as server:
        base = server.base_url
        server.routes[f"{J}/api/v1/press_releases.json"] = _api([_release(n, base) for n in range(1, 13)])
        settings = _settings(tmp_path, _source("doj_api", "doj_api", base + J, max_pages=1), robots=False)
        done = _run(settings, "doj_api")
    assert done.returncode == 0, done.stderr
    listed = [line for line in done.stdout.splitlines() if line.startswith("  new ")]
    assert len(listed) == 10 and "doj_api: 12 new, 0 updated" in done.stdout
    assert "… and 2 more (--json lists them all)" in done.stdout


@pytest.mark.parametrize(
    ("since", "code", "expected"),
    [
        ("2017-01-01T00:00:00-05:00", 0, "2017-01-01T05:00:00+00:00"),
        ("2017-01-01", 0, "2017-01-01T00:00:00+00:00"),
        ("9999-12-31T23:59:59-05:00", 2, "--since"),
        ("someday", 2, "--since"),
    ],
)
def test_backfill_since_takes_an_offset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, since: str, code: int, expected: str
) -> None:
    import lawwatch.crawler.runner as runner

    seen: list[Any] = []

    def run_crawl(config: Any, sources: Any, **options: Any) -> list[Any]:
        seen.append(options["since"])
        return []

    monkeypatch.setattr(runner, "run_crawl", run_crawl)
    settings = _settings(tmp_path, _source("doj_api", "doj_api", "http://127.0.0.1:9/x"))
    args = ["--config", str(settings), "crawl", "doj_api", "--backfill", "--since", since]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    if code == 0:
        assert [s.isoformat() for s in seen] == [expected]
    else:
        assert expected in result.stderr and len(result.stderr.strip().splitlines()) <= 2 and not seen


def test_the_one_line_handler() -> None:
    import io
    import logging

    from lawwatch.crawler import logs

    class _Crawler:
        spider = None
        spidercls = type("S", (), {"name": "doj_api"})

    out = io.StringIO()
    with logs.one_line_failures(out):
        try:
            raise ValueError("inner\ndetail")
        except ValueError:
            logging.getLogger("scrapy.core.scraper").error("Spider error processing <GET x>", exc_info=True)
        logging.getLogger("scrapy.downloadermiddlewares.robotstxt").error("Error downloading robots.txt")
        logging.getLogger("scrapy.downloadermiddlewares.retry").warning("Gave up retrying <GET x>")
        logging.getLogger("twisted").critical("Unhandled error in Deferred:\nTraceback (most recent call last):\n  x")
        for n in range(1, logs.SHOWN_ERRORS + 5):
            logs.log_error(_Crawler(), f"failure {n}", n)  # type: ignore[arg-type]
        logs.log_warning(_Crawler(), "a date left out")  # type: ignore[arg-type]
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["error: Spider error processing <GET x>", "critical: Unhandled error in Deferred:"]
    assert lines[2] == "doj_api: failure 1" and lines[-2] == f"doj_api: failure {logs.SHOWN_ERRORS}"
    assert lines[-1] == "doj_api: more errors; each is counted in the run record (lawwatch status)"
    assert len(lines) == 2 + logs.SHOWN_ERRORS + 1 and "Traceback" not in out.getvalue()
    logging.getLogger("scrapy.core.scraper").error("after the crawl")  # the handler is gone
    assert out.getvalue().splitlines()[-1].startswith("doj_api: more errors")


def test_a_name_is_looked_up_once_and_its_robots_txt_fails_quietly() -> None:
    import asyncio

    from scrapy import Request
    from scrapy.exceptions import IgnoreRequest
    from scrapy.utils.test import get_crawler
    from twisted.internet.error import DNSLookupError

    from lawwatch.config import Config, CrawlerConfig, SourceConfig
    from lawwatch.crawler.base import LawwatchSpider
    from lawwatch.crawler.context import CrawlContext
    from lawwatch.crawler.middlewares import AddressCheckMiddleware
    from lawwatch.crawler.settings import scrapy_settings

    class _Spider(LawwatchSpider):
        name = "dns_probe"

    source = SourceConfig(id="nowhere", spider="doj_news", base_url="https://lawwatch-test.invalid")
    crawler = get_crawler(_Spider, scrapy_settings(Config(crawler=CrawlerConfig()), source))
    crawler.spider = _Spider.from_crawler(crawler, context=CrawlContext(source=source))
    crawler.stats.open_spider()
    asked: list[str] = []

    async def resolve(host: str) -> str:
        asked.append(host)
        raise DNSLookupError(f"address {host!r} not found")

    middleware = AddressCheckMiddleware(crawler, resolve)
    for path in ("/robots.txt", "/a", "/b"):
        with pytest.raises(IgnoreRequest):
            asyncio.run(middleware.process_request(Request(f"https://lawwatch-test.invalid{path}")))
    assert asked == ["lawwatch-test.invalid"]
    messages = crawler.stats.get_value("lawwatch/error_messages")
    assert messages == [
        f"download failed: https://lawwatch-test.invalid/{p}: lawwatch-test.invalid does not resolve "
        "(DNS lookup failed: address 'lawwatch-test.invalid' not found.)"
        for p in ("a", "b")
    ]
