"""Whole crawls against a hostile server (``tests/helpers/hostile_server.py``), on SQLite and on PostgreSQL.

One crawl of eight sources meets, at once, every bad input of issue 8 that a server can send: absurd dates (year 9999
at -05:00, year 0001 at +14:00, 1700, PACER's year 0000, "garbage"), a NUL in a title, a title over 1 MB, an id over
255 characters, a text whose full-text vector would pass PostgreSQL's 1 MiB limit, NaN in the JSON, an API result
without a URL, a search result that is a list, shared identities (a uuid, a guid with two links), a truncated feed,
garbage, an entity declaration after 64 KiB, a redirect loop, a gzip bomb, oversize bodies (declared and streamed),
and a real source whose host name resolves to this machine. For each: the good items around the bad one are stored,
the bad one is named in the run record (an error, or a warning when it was stored changed), nothing is printed as a
traceback, and a second crawl changes nothing (no version churn).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lawwatch.config_schema import special_address
from tests.helpers.crawl import CrawlOutcome, crawl, rows, scalar
from tests.helpers.hostile_server import HostileServer, Reply, Seen, gzip_bomb, zero_chunks

pytestmark = pytest.mark.timeout(240)
J = "/www.justice.gov"
CL = "/www.courtlistener.com"
TOKEN = "cl-hostile-token-5e4d3c2b1a"
MiB = 1024 * 1024
WIDE = "".join(chr(0x20000 + i) for i in range(4000))  # four-byte letters: the densest full-text vector


def _wide_text(chars: int) -> str:
    """Hyphenated pairs of distinct four-byte letters: about 5 bytes of tsvector lexemes per character."""
    words = (
        f"{WIDE[n % 4000]}{WIDE[n // 4000 % 4000]}-{WIDE[(n * 7 + 1) % 4000]}{WIDE[n // 13 % 4000]}"
        for n in range(chars // 6 + 1)
    )
    return " ".join(words)[:chars]


def _release(n: int, base: str, **fields: Any) -> dict[str, Any]:
    result = {
        "uuid": f"u{n}",
        "title": f"Hostile release {n}",
        "body": f"<p>Release {n}: the Department wrote to Philadelphia about 8 U.S.C. 1373.</p>",
        "url": f"{base}{J}/opa/pr/hostile-{n}",
        "date": f"2017-10-{30 - n:02d}T10:00:00-04:00",
        "number": f"17-{n}",
    }
    result.update(fields)
    return result


def _api_page(base: str) -> bytes:
    results = [
        _release(1, base),
        _release(2, base, date="9999-12-31T23:59:59-05:00"),
        _release(3, base, date="0001-01-01T00:00:00+14:00"),
        _release(4, base, date="1700-01-01T00:00:00Z"),
        _release(5, base, title="Hostile\u0000 release 5"),
        _release(6, base, title="Sanctuary " * 110_000),
        _release(7, base, uuid="x" * 300),
        _release(8, base, body="<p>" + _wide_text(400_000) + "</p>"),
        _release(9, base, uuid="u1"),  # shares release 1's uuid with another URL
        _release(10, base, url=["not", "a", "url"]),
        _release(11, base, number=float("nan")),
        _release(12, base),
    ]
    envelope = {"metadata": {"resultset": {"count": len(results), "pagesize": 50, "page": 0}}, "results": results}
    return json.dumps(envelope, ensure_ascii=False).encode("utf-8")  # NaN stays NaN, as Python's reader accepts


def _rss(items: list[tuple[str, str, str]], title: str = "Hostile feed") -> bytes:
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><guid>{guid}</guid><pubDate>{date}</pubDate>"
        f"<description>&lt;p&gt;{t}: Philadelphia and 8 U.S.C. 1373.&lt;/p&gt;</description></item>"
        for t, link, guid, date in ((f"Item {i}", *item) for i, item in enumerate(items))
    )
    head = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
    return (head + body + "</channel></rss>").encode()


def _pacer_item(seq: int, date: str) -> str:
    doc = f"https://ecf.paed.uscourts.gov/doc1/1531187343{seq:02d}?caseid=533128&amp;de_seq_num={seq}"
    return (
        "<item><title>2:17-cv-03894-MMB City of Philadelphia v. Sessions</title>"
        "<link>https://ecf.paed.uscourts.gov/cgi-bin/DktRpt.pl?533128</link>"
        f"<description>[Order number {seq}] (&lt;a href=&quot;{doc}&quot; &gt;{seq}&lt;/a&gt;)</description>"
        f'<guid isPermaLink="true">https://ecf.paed.uscourts.gov/cgi-bin/DktRpt.pl?533128&amp;{seq}</guid>'
        f"<pubDate>{date}</pubDate></item>"
    )


def _cl_result(n: int, filed: Any) -> dict[str, Any]:
    return {
        "cluster_id": 9000 + n,
        "absolute_url": f"/opinion/{9000 + n}/hostile-{n}/",
        "caseName": f"City of Philadelphia v. Sessions {n}",
        "court_id": "paed",
        "docketNumber": "2:17-cv-03894",
        "dateFiled": filed,
        "opinions": [{"id": n, "type": "010combined", "snippet": f"Opinion {n} on 8 U.S.C. 1373", "download_url": ""}],
    }


def routes(base: str) -> dict[str, Any]:
    late_entity = (
        b'<?xml version="1.0" encoding="utf-8"?>\n<!--' + b" padding " * 9000 + b"-->\n"
        b'<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<rss version="2.0"><channel><title>&b;</title><item><title>&b;</title><link>'
        + base.encode()
        + J.encode()
        + b"/opa/pr/late-entity</link></item></channel></rss>"
    )
    good_feed = _rss(
        [
            (f"{base}{J}/opa/pr/rss-1", "guid-rss-1", "Thu, 12 Oct 2017 11:30:00 -0400"),
            (f"{base}{J}/opa/pr/rss-2", "guid-rss-1", "Thu, 12 Oct 2017 11:00:00 -0400"),  # the same guid
            (f"{base}{J}/opa/pr/rss-3", "guid-rss-3", "Fri, 31 Dec 9999 23:59:59 -0500"),
            (f"{base}{J}/opa/pr/rss-4", "guid-rss-4", "Wed, 11 Oct 2017 09:00:00 -0400"),
        ]
    )
    pacer = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>E.D. Pa.</title>'
        + _pacer_item(10, "Wed, 06 Jun 2018 20:41:37 GMT")
        + _pacer_item(11, "Mon, 01 Jan 0000 00:00:00 GMT")
        + _pacer_item(12, "Fri, 31 Dec 9999 23:59:59 -0500")
        + _pacer_item(13, "garbage")
        + _pacer_item(14, "Wed, 06 Jun 2018 20:45:00 GMT")
        + "</channel></rss>"
    ).encode("latin-1")
    news = _rss(
        [
            (f"{base}/www.courthousenews.com/news-1/", "p=1", "Thu, 12 Oct 2017 11:30:00 -0400"),
            (f"{base}/www.courthousenews.com/news-2/", "p=2", "Fri, 31 Dec 9999 23:59:59 -0500"),
            (f"{base}/www.courthousenews.com/news-3/", "p=3", "Wed, 11 Oct 2017 09:00:00 -0400"),
        ]
    )

    def search(seen: Seen) -> Reply:
        if "cursor=2" in seen.path:
            data: dict[str, Any] = {"count": 5, "next": None, "results": [_cl_result(5, "2018-04-01")]}
        else:
            page1 = [_cl_result(1, "2018-04-19"), _cl_result(2, "9999-12-31"), _cl_result(3, "0000-00-00")]
            data = {
                "count": 5,
                "next": f"{base}{CL}/api/rest/v4/search/?q=hostile&cursor=2",
                "results": [*page1, ["not", "an", "object"]],
            }
        return Reply(body=json.dumps(data).encode(), content_type="application/json")

    xml = "application/rss+xml; charset=utf-8"
    return {
        f"{J}/api/v1/press_releases.json": Reply(body=_api_page(base), content_type="application/json"),
        f"{J}/feeds/good.xml": Reply(body=good_feed, content_type=xml),
        f"{J}/feeds/truncated.xml": Reply(body=good_feed[: len(good_feed) // 2], content_type=xml),
        f"{J}/feeds/garbage.xml": Reply(body=b"\x00\x01\x02 this is no feed at all", content_type=xml),
        f"{J}/feeds/late-entity.xml": Reply(body=late_entity, content_type=xml),
        f"{J}/feeds/loop-a.xml": Reply(location=f"{base}{J}/feeds/loop-b.xml"),
        f"{J}/feeds/loop-b.xml": Reply(location=f"{base}{J}/feeds/loop-a.xml"),
        f"{J}/feeds/bomb.xml": Reply(body=gzip_bomb(20 * MiB), content_type=xml, headers={"Content-Encoding": "gzip"}),
        f"{J}/feeds/oversize.xml": Reply(body=b"<rss>", content_type=xml, declared_length=20 * MiB),
        f"{J}/feeds/streamed.xml": Reply(content_type=xml, chunks=zero_chunks(17 * MiB)),
        "/ecf.paed.uscourts.gov/cgi-bin/rss_outside.pl": Reply(body=pacer, content_type="application/rss+xml"),
        f"{CL}/api/rest/v4/search/": search,
        "/www.courthousenews.com/feed/": Reply(body=news, content_type=xml),
    }


def _name_for_this_machine() -> str | None:
    """A host name (not spelled as an address, not localhost) that resolves to a loopback or private address."""
    for name in ("vm", "runsc", socket.gethostname()):
        try:
            address = socket.gethostbyname(name)
        except OSError:
            continue
        if special_address(name) is None and special_address(address):
            return name
    return None


def settings_text(base: str, db_url: str, named: str | None) -> str:
    def source(sid: str, spider: str, base_url: str, local: bool = True, **options: Any) -> str:
        lines = ["[[sources]]", f'id = "{sid}"', f'spider = "{spider}"', f"base_url = {json.dumps(base_url)}"]
        lines.append("local = true" if local else "download_delay = 1.0")
        lines += [f"{k} = {json.dumps(v)}" for k, v in options.items()]
        return "\n".join(lines) + "\n"

    parts = [
        f"[archive]\nurl = {json.dumps(db_url)}\n",
        '[crawler]\nuser_agent = "lawwatch-test (contact: lawwatch@example.org)"\ndownload_delay = 0.0\n'
        "concurrent_requests_per_domain = 2\ntimeout = 10.0\nretry_times = 0\nautothrottle = false\n"
        "obey_robots_txt = false\n",
        source("doj_api", "doj_api", base + J, pagesize=50, max_pages=1),
        source(
            "doj_rss",
            "doj_rss",
            base + J,
            feeds=["/feeds/good.xml", "/feeds/truncated.xml", "/feeds/garbage.xml", "/feeds/late-entity.xml"],
            fetch_pages=False,
        ),
        source(
            "doj_rss_faults",
            "doj_rss",
            base + J,
            feeds=["/feeds/loop-a.xml", "/feeds/bomb.xml", "/feeds/oversize.xml", "/feeds/streamed.xml"],
            fetch_pages=False,
        ),
        source("pacer_rss", "pacer_rss", base + "/ecf.{court}.uscourts.gov", courts=["paed"]),
        source("courtlistener", "courtlistener", base + CL, queries=["hostile"], fetch_pages=False, max_pages=3)
        + 'token = { env = "COURTLISTENER_TOKEN" }\n',
        source("news_rss", "news_rss", base + "/www.courthousenews.com", feeds=["/feed/"], fetch_pages=False),
    ]
    if named:
        parts.append(source("named", "doj_api", f"http://{named}:{base.rsplit(':', 1)[1]}/named{J}", local=False))
    return "\n".join(parts)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


def _messages(db: str, source: str) -> str:
    """The messages of the source's first run (the first crawl), one per line."""
    value = rows(db, f"SELECT error_messages FROM crawl_runs WHERE source = '{source}' ORDER BY id")[0][0]
    return "\n".join(json.loads(value) if isinstance(value, str) else value)


def _docs(db: str, source: str) -> dict[str, Any]:
    found = rows(db, f"SELECT url, title, published_at, external_id FROM documents WHERE source = '{source}'")
    return {url.rsplit("/", 2)[-1] or url.rsplit("/", 2)[-2]: (t, p, e) for url, t, p, e in found}


def test_a_hostile_server_costs_only_its_bad_items(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURTLISTENER_TOKEN", TOKEN)
    named = _name_for_this_machine()
    with HostileServer({}) as server:
        server.routes.update(routes(server.base_url))
        settings = tmp_path / "settings.toml"
        settings.write_text(settings_text(server.base_url, db_url, named), "utf-8")
        sources = ["doj_api", "doj_rss", "doj_rss_faults", "pacer_rss", "courtlistener", "news_rss"]
        first = crawl(settings, *sources, *(["named"] if named else []), timeout=180)
        seen_first = list(server.requests)
        second = crawl(settings, *sources, timeout=180)

    for outcome in (first, second):
        assert "Traceback" not in outcome.stderr, outcome.stderr[-3000:]
    _check_first(first, db_url)
    # the token went nowhere: the configured API is http here, and it is only ever sent over https
    assert not [s.path for s in seen_first if "authorization" in s.headers]
    if named:
        assert server.paths("/named") == []  # refused before connecting: not one request reached the server
        assert f"{named} resolves to 127.0.0.1, a loopback address" in _messages(db_url, "named")
        assert first.sources["named"]["status"] == "failed"
    # a second crawl changes nothing: no new document, no version, nothing updated
    assert scalar(db_url, "SELECT count(*) FROM document_versions") == 0
    assert all(r["updated"] == 0 and r["new"] == 0 for r in second.sources.values()), second.sources


def _check_first(first: CrawlOutcome, db: str) -> None:
    api = _docs(db, "doj_api")
    assert sorted(api) == sorted(f"hostile-{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 11, 12))
    assert [n for n in (2, 3, 4) if api[f"hostile-{n}"][1] is not None] == []  # absurd dates: no date
    assert api["hostile-1"][1] is not None and api["hostile-12"][1] is not None
    assert api["hostile-5"][0] == "Hostile release 5" and len(api["hostile-6"][0]) <= 2000
    assert len(api["hostile-7"][2]) == 255 and api["hostile-1"][2] == "u1"
    messages = _messages(db, "doj_api")
    for expected in (
        "hostile-2: implausible date",  # year 9999 at -05:00 cannot be expressed in UTC: unreadable or implausible
        "hostile-3: ",
        "hostile-4: implausible date '1700-01-01T00:00:00Z'",
        "hostile-6: title cut to 2,000",
        "hostile-7: external id of 300 characters shortened",
        "hostile-9: skipped, it shares the id 'u1'",
        "API result 'u10': no URL",
    ):
        assert expected in messages or expected.replace("implausible", "unreadable") in messages, (expected, messages)
    assert first.sources["doj_api"]["status"] == "partial" and first.sources["doj_api"]["new"] == 10
    if db.startswith("postgresql"):  # the wide text is searchable on PostgreSQL too (its vector's prefix)
        vector = "SELECT search_vector IS NOT NULL FROM documents WHERE url LIKE '%hostile-8'"
        assert rows(db, vector) == [(True,)]

    rss = _docs(db, "doj_rss")
    assert sorted(rss) == ["rss-1", "rss-3", "rss-4"] and rss["rss-3"][1] is None
    messages = _messages(db, "doj_rss")
    for expected in (
        "truncated.xml: malformed feed",
        "garbage.xml",
        "late-entity.xml: declares XML entities",
        "rss-2: skipped, it shares the id 'guid-rss-1'",
        "rss-3: unreadable date",
    ):
        assert expected in messages, (expected, messages)

    faults = _messages(db, "doj_rss_faults")
    for expected in (
        "redirect loop: ",
        "loop-a.xml → ",
        "bomb.xml: its",
        "a compression bomb",
        "oversize.xml: DownloadCancelledError: the response declares 20,971,520 bytes",
        "streamed.xml: DownloadCancelledError: the body grew past the 16,777,216-byte limit",
    ):
        assert expected in faults, (expected, faults)
    assert "every request failed" not in faults

    pacer = rows(db, "SELECT external_id, published_at FROM documents WHERE source = 'pacer_rss' ORDER BY external_id")
    assert [(e.rsplit(":", 1)[1], p is not None) for e, p in pacer] == [
        ("seq10", True),
        ("seq11", False),
        ("seq12", False),
        ("seq13", False),
        ("seq14", True),
    ]
    assert _messages(db, "pacer_rss").count("date") == 3

    cl = rows(db, "SELECT external_id, published_at FROM documents WHERE source = 'courtlistener' ORDER BY 1")
    assert [(e, p is not None) for e, p in cl] == [
        ("cluster:9001", True),
        ("cluster:9002", False),
        ("cluster:9003", False),
        ("cluster:9005", True),
    ]  # page 2 was requested although page 1 held absurd dates and a result that is a list
    assert "search result 4 (a list) has no cluster page" in _messages(db, "courtlistener")

    news = _docs(db, "news_rss")
    assert sorted(news) == ["news-1", "news-2", "news-3"] and news["news-2"][1] is None
    assert "news-2/: unreadable date" in _messages(db, "news_rss")
    for source, result in first.sources.items():
        assert not any("object has no attribute" in m or "[SQL:" in m for m in result["error_messages"]), source
