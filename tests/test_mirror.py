"""The offline mirror: every path in its real format, validators and 304, publish/edit, faults, request counts.

All traffic goes to 127.0.0.1 through plain clients (urllib / http.client), bounded in count, size and time.
"""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner
from parsel import Selector

from lawwatch.crawler.mirror import MirrorServer
from lawwatch.crawler.mirror.sites.base import DATA

STORY = ("2:17-cv-03894", "1:17-cv-05720", "3:17-cv-00574")
API = "/www.justice.gov/api/v1/press_releases.json"


@pytest.fixture(scope="module")
def shared() -> Iterator[MirrorServer]:
    with MirrorServer() as server:
        yield server


@pytest.fixture
def mirror(shared: MirrorServer) -> MirrorServer:
    shared.reset()
    return shared


class Reply:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


def fetch(
    mirror: MirrorServer,
    path: str,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    body: bytes | None = None,
    timeout: float = 10,
) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", mirror.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read() if method != "HEAD" else b""
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        conn.close()


def local(mirror: MirrorServer, url: str) -> str:
    assert url.startswith(mirror.base_url + "/"), url
    return url[len(mirror.base_url) :]


def control(mirror: MirrorServer, name: str, data: dict[str, Any]) -> Reply:
    return fetch(mirror, f"/_mirror/{name}", {"Content-Type": "application/json"}, "POST", json.dumps(data).encode())


def api(mirror: MirrorServer, page: int = 0, pagesize: int = 50) -> dict[str, Any]:
    reply = fetch(mirror, f"{API}?pagesize={pagesize}&page={page}")
    assert reply.status == 200 and reply.headers["content-type"].startswith("application/json")
    return reply.json()


def epoch(value: str) -> int:
    match = re.search(r">(\d+)</time>", value)
    return int(match.group(1) if match else value)


# --------------------------------------------------------------------------- DOJ
def test_robots_allows_all_but_the_control_api(mirror: MirrorServer) -> None:
    reply = fetch(mirror, "/robots.txt")
    assert reply.status == 200 and "Disallow: /_mirror/" in reply.text and reply.headers["etag"]


def test_doj_api_envelope_paging_and_order(mirror: MirrorServer) -> None:
    first = api(mirror, 0, 500)
    meta = first["metadata"]["resultset"]
    assert meta["pagesize"] == 50 and meta["page"] == 0 and len(first["results"]) == 50
    total = meta["count"]
    assert total == 100 + 5 + 16
    results = [r for page in range(3) for r in api(mirror, page)["results"]]
    assert len(results) == total and api(mirror, 3)["results"] == []
    dates = [epoch(r["date"]) for r in results]
    assert dates == sorted(dates, reverse=True)
    assert any(r["date"].startswith("<time datetime=") for r in results)
    row = next(r for r in results if "Nine Jurisdictions" in r["title"])
    assert (
        row["url"] == mirror.base_url + "/www.justice.gov/opa/pr/"
        "attorney-general-sessions-sends-letters-nine-jurisdictions-regarding-compliance-8-usc-1373"
    )
    assert {"uuid", "body", "teaser", "created", "changed", "number", "component", "topic", "attachment"} <= set(row)
    assert row["component"] == [{"name": "Office of the Attorney General"}] and row["changed"] == "1492783200"
    mirror.api_order = "oldest"
    oldest = [epoch(r["date"]) for r in api(mirror)["results"]]
    assert oldest == sorted(oldest) and oldest[0] == min(dates)
    assert control(mirror, "order", {"api_order": "newest"}).json() == {"api_order": "newest"}
    assert epoch(api(mirror)["results"][0]["date"]) == max(dates)


def walk_listing(mirror: MirrorServer, path: str) -> list[Selector]:
    rows: list[Selector] = []
    for _ in range(50):
        page = Selector(text=fetch(mirror, path).text)
        rows += page.css("div.views-row article.news-content-listing")
        following = page.css("a[aria-label='Next page']::attr(href)").get()
        if following is None:
            return rows
        path = local(mirror, following)
    raise AssertionError("listing did not end")


def test_news_listing_current_layout_paginates_over_every_release(mirror: MirrorServer) -> None:
    rows = walk_listing(mirror, "/www.justice.gov/news")
    assert len(rows) == api(mirror)["metadata"]["resultset"]["count"]
    first = rows[0]
    assert first.css("h2.news-title a::text").get() and first.css("time::attr(datetime)").get()
    assert first.css(".field-formatter--smart-trim").get()
    hrefs = [r.css("h2.news-title a::attr(href)").get() for r in rows]
    assert len(set(hrefs)) == len(hrefs) and all(h.startswith(mirror.base_url + "/www.justice.gov/") for h in hrefs)


def test_usao_edpa_listing_serves_2018_and_current_layouts(mirror: MirrorServer) -> None:
    rows = walk_listing(mirror, "/www.justice.gov/usao-edpa/pr")
    assert len(rows) == 16
    layouts = []
    for row in rows:
        page = Selector(text=fetch(mirror, local(mirror, row.css("h2.news-title a::attr(href)").get())).text)
        if page.css("h1#node-title"):
            assert page.css("div.field--name-field-pr-body p")
            assert page.css("span.date-display-single::attr(content)").get()
            assert page.css("div.field--name-field-pr-component a::text").get() == "USAO - Pennsylvania, Eastern"
            assert page.css("div.field--name-field-pr-number .field__item::text").get()
            layouts.append("2018")
        else:
            assert page.css("h1.page-title") and page.css("article time::attr(datetime)").get()
            layouts.append("current")
    assert layouts.count("2018") == 12 and layouts.count("current") == 4


def inner(selector: Selector) -> str:
    html = selector.get()
    return html[html.index(">") + 1 : html.rindex("<")]


def test_same_release_same_url_title_and_body_through_api_rss_and_html(mirror: MirrorServer) -> None:
    feed = feedparser.parse(fetch(mirror, "/www.justice.gov/feeds/opa/justice-news.xml").body)
    assert not feed.bozo and len(feed.entries) == 50
    by_link = {e.link: e for e in feed.entries}
    listing = {
        r.css("h2.news-title a::attr(href)").get(): r.css("h2.news-title a::text").get()
        for r in walk_listing(mirror, "/www.justice.gov/news")
    }
    uuids = {json.loads(line)["uuid"] for line in (DATA / "doj_1373_releases.jsonl").read_text().splitlines()}
    story = [r for r in api(mirror)["results"] if r["uuid"] in uuids]
    assert len(story) == 5
    for row in story:
        page = Selector(text=fetch(mirror, local(mirror, row["url"])).text)
        assert page.css("h1.page-title::text").get() == row["title"]
        assert inner(page.css("div.field_body")) == row["body"]
        assert listing[row["url"]] == row["title"]
        assert by_link[row["url"]].title == row["title"]
        assert "WASHINGTON" in by_link[row["url"]].summary
        assert page.css("link[rel=canonical]::attr(href)").get() == row["url"]
    edpa = next(r for r in api(mirror, 0)["results"] if "/usao-edpa/" in r["url"] and r["date"] < "1546300800")
    page = Selector(text=fetch(mirror, local(mirror, edpa["url"])).text)
    assert inner(page.css("div.field--name-field-pr-body")) == edpa["body"]
    assert page.css("h1#node-title::text").get() == edpa["title"]


def test_every_mirrored_link_is_rewritten(mirror: MirrorServer) -> None:
    paths = [
        f"{API}?pagesize=50&page=0",
        "/www.justice.gov/news",
        "/www.justice.gov/feeds/opa/justice-news.xml",
        "/ecf.nysd.uscourts.gov/cgi-bin/rss_outside.pl",
        "/ecf.paed.uscourts.gov/cgi-bin/rss_outside.pl",
        "/www.courtlistener.com/feed/court/ca7/",
        "/www.courthousenews.com/feed/",
    ]
    for path in paths:
        body = fetch(mirror, path).body
        assert (
            re.search(rb"https://(www\.justice\.gov|www\.courtlistener\.com|www\.courthousenews\.com|ecf\.)", body)
            is None
        ), path
        assert mirror.base_url.encode() in body, path


# --------------------------------------------------------------------------- courts and news
def test_courtlistener_search_api_cursor_paging(mirror: MirrorServer) -> None:
    q = urllib.parse.quote('"1373" OR "sanctuary jurisdiction"')
    path = f"/www.courtlistener.com/api/rest/v4/search/?q={q}&type=o&order_by=dateFiled+desc"
    results, pages = [], 0
    while path and pages < 10:
        data = fetch(mirror, path).json()
        results += data["results"]
        path = local(mirror, data["next"]) if data["next"] else ""
        pages += 1
    assert pages == 2 and data["count"] == 6 and data["previous"]
    assert [r["dateFiled"] for r in results] == [
        "2018-07-27",
        "2018-06-06",
        "2018-04-19",
        "2017-11-15",
        "2017-09-15",
        "2017-04-25",
    ]
    assert {r["docketNumber"] for r in results} == {*STORY, "17-2991"}
    first = results[0]
    assert first["caseName"] == "City of Chicago v. Sessions" and first["court_id"] == "ilnd"
    assert "<mark>1373</mark>" in first["opinions"][0]["snippet"]
    assert first["absolute_url"].startswith("/opinion/") and first["cluster_id"]
    page = fetch(mirror, "/www.courtlistener.com" + first["absolute_url"])
    assert page.status == 200 and "anti-commandeering" in page.text
    none = fetch(mirror, "/www.courtlistener.com/api/rest/v4/search/?q=%22no+such+words%22&type=o").json()
    assert none == {"count": 0, "next": None, "previous": None, "results": []}


def test_courtlistener_atom_feeds(mirror: MirrorServer) -> None:
    search = feedparser.parse(fetch(mirror, "/www.courtlistener.com/feed/search/?q=1373").body)
    assert not search.bozo and len(search.entries) == 6
    court = feedparser.parse(fetch(mirror, "/www.courtlistener.com/feed/court/ca7/").body)
    assert not court.bozo and 1 < len(court.entries) <= 20
    chicago = next(e for e in court.entries if e.title == "City of Chicago v. Sessions")
    assert chicago.published.startswith("2018-04-19") and chicago.author == "Court of Appeals for the Seventh Circuit"
    assert fetch(mirror, local(mirror, chicago.link)).status == 200
    assert fetch(mirror, "/www.courtlistener.com/feed/court/nosuchcourt/").status == 404


def test_pacer_feeds_are_iso_8859_1_and_parse_with_juriscraper(mirror: MirrorServer) -> None:
    from juriscraper.pacer import PacerRssFeed

    for court, docket in zip(("paed", "ilnd", "cand"), STORY, strict=True):
        reply = fetch(mirror, f"/ecf.{court}.uscourts.gov/cgi-bin/rss_outside.pl")
        assert reply.headers["content-type"] == "application/rss+xml; charset=ISO-8859-1"
        assert reply.body.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
        feed = PacerRssFeed(court)
        feed._parse_text(reply.body.decode("iso-8859-1"))
        mine = [d for d in feed.data if d["docket_number"] == docket]
        assert mine and all(d["pacer_case_id"] for d in mine)
        entries = [e for d in mine for e in d["docket_entries"]]
        assert all(e["pacer_doc_id"] and e["pacer_seq_no"] and e["document_number"] for e in entries)
        others = [d for d in feed.data if d["docket_number"] != docket]
        assert others, "a feed needs non-matching cases too"
    sample = fetch(mirror, "/ecf.nysd.uscourts.gov/cgi-bin/rss_outside.pl")
    parsed = feedparser.parse(sample.body)
    assert len(parsed.entries) > 300 and parsed.entries[0].title == "1:18-cv-03365 Chau v. Donovan et al"
    assert fetch(mirror, "/ecf.sdny.uscourts.gov/cgi-bin/rss_outside.pl").body == sample.body
    real_paths = {}
    for court in ("nyed", "ca2"):  # juriscraper's real feed paths differ for nyed and the courts of appeals
        real = urllib.parse.urlsplit(PacerRssFeed(court).url)
        real_paths[court] = real.path + (f"?{real.query}" if real.query else "")
    for court in ("nyed", "mdb", "wvsd", "nysb", "ca2", "ca4", "ca6", "ca10", "ca11", "cadc", "cafc"):
        reply = fetch(mirror, f"/ecf.{court}.uscourts.gov/cgi-bin/rss_outside.pl")
        assert reply.status == 200 and b"<item>" in reply.body and b"ISO-8859-1" in reply.body[:60], court
        path = (
            real_paths["ca2" if court.startswith("ca") else court]
            if court in ("nyed",) or court.startswith("ca")
            else "/cgi-bin/rss_outside.pl"
        )
        assert fetch(mirror, f"/ecf.{court}.uscourts.gov{path}").body == reply.body, court


def test_courthousenews_feed_and_article_pages(mirror: MirrorServer) -> None:
    feed = feedparser.parse(fetch(mirror, "/www.courthousenews.com/feed/").body)
    assert not feed.bozo and len(feed.entries) == 13
    top = feed.entries[0]
    assert top.title == "Judge Rules Section 1373 Unconstitutional in Chicago Case"
    page = Selector(text=fetch(mirror, local(mirror, top.link)).text)
    assert page.css("h1.entry-title::text").get() == top.title
    assert inner(page.css("div.entry-content")).strip() == top.content[0].value
    assert any("1373" not in e.content[0].value for e in feed.entries), "background articles are non-matches"


# --------------------------------------------------------------------------- validators, publish, edit
CONTENT_PATHS = (
    f"{API}?pagesize=50&page=0",
    "/www.justice.gov/news?page=1",
    "/www.justice.gov/feeds/opa/justice-news.xml",
    "/www.justice.gov/opa/pr/justice-department-provides-last-chance-cities-show-1373-compliance",
    "/www.courtlistener.com/api/rest/v4/search/?q=1373&type=o",
    "/www.courtlistener.com/feed/court/ilnd/",
    "/ecf.ilnd.uscourts.gov/cgi-bin/rss_outside.pl",
    "/ecf.ca10.uscourts.gov/cgi-bin/rss_outside.pl",
    "/www.courthousenews.com/feed/",
)


@pytest.mark.parametrize("path", CONTENT_PATHS)
def test_etag_last_modified_and_304(mirror: MirrorServer, path: str) -> None:
    first = fetch(mirror, path)
    assert first.status == 200 and first.body
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert fetch(mirror, path, {"If-None-Match": etag}).status == 304
    again = fetch(mirror, path, {"If-Modified-Since": modified})
    assert again.status == 304 and again.body == b"" and again.headers["etag"] == etag
    assert fetch(mirror, path, {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status == 200
    assert fetch(mirror, path, {"If-None-Match": '"stale"', "If-Modified-Since": modified}).status == 200
    assert fetch(mirror, path, method="HEAD").headers["etag"] == etag


def test_publish_puts_new_items_on_top_everywhere(mirror: MirrorServer) -> None:
    before = api(mirror)
    listing = fetch(mirror, "/www.justice.gov/news")
    urls = mirror.publish("www.justice.gov", 2)
    after = api(mirror)
    assert after["metadata"]["resultset"]["count"] == before["metadata"]["resultset"]["count"] + 2
    assert {r["url"] for r in after["results"][:2]} == set(urls)
    assert after["results"][2]["uuid"] == before["results"][0]["uuid"]
    rss = feedparser.parse(fetch(mirror, "/www.justice.gov/feeds/opa/justice-news.xml").body)
    assert {e.link for e in rss.entries[:2]} == set(urls)
    assert fetch(mirror, "/www.justice.gov/news", {"If-None-Match": listing.headers["etag"]}).status == 200
    for url in urls:
        page = Selector(text=fetch(mirror, local(mirror, url)).text)
        row = next(r for r in after["results"] if r["url"] == url)
        assert inner(page.css("div.field_body")) == row["body"] and "WASHINGTON" in row["body"]
    cl = control(mirror, "publish", {"site": "www.courtlistener.com", "count": 1}).json()["urls"]
    atom = feedparser.parse(fetch(mirror, "/www.courtlistener.com/feed/search/?q=1373").body)
    assert atom.entries[0].link == cl[0] and len(atom.entries) == 7
    mirror.publish("ecf.paed.uscourts.gov", 2)
    pacer = feedparser.parse(fetch(mirror, "/ecf.paed.uscourts.gov/cgi-bin/rss_outside.pl").body)
    assert all(e.title.startswith("2:17-cv-03894") and "mirror test entry" in e.summary for e in pacer.entries[:2])
    news = mirror.publish("www.courthousenews.com", 1)
    assert feedparser.parse(fetch(mirror, "/www.courthousenews.com/feed/").body).entries[0].link == news[0]
    with pytest.raises(ValueError, match="corpus sample"):
        mirror.publish("ecf.nysd.uscourts.gov", 1)
    assert control(mirror, "publish", {"site": "www.nowhere.example"}).status == 400


def test_edit_changes_text_validators_and_api_changed(mirror: MirrorServer) -> None:
    before = api(mirror)["results"][3]
    path = local(mirror, before["url"])
    page = fetch(mirror, path)
    url = mirror.edit("www.justice.gov", which=3)
    assert url == before["url"]
    after = next(r for r in api(mirror)["results"] if r["uuid"] == before["uuid"])
    assert int(after["changed"]) > int(before["changed"]) and after["body"] != before["body"]
    assert after["url"] == before["url"] and after["title"] == before["title"]
    edited = fetch(mirror, path, {"If-None-Match": page.headers["etag"]})
    assert edited.status == 200 and edited.headers["etag"] != page.headers["etag"]
    assert fetch(mirror, path, {"If-Modified-Since": page.headers["last-modified"]}).status == 200
    assert inner(Selector(text=edited.text).css("div.field_body")) == after["body"]
    assert fetch(mirror, path, {"If-None-Match": edited.headers["etag"]}).status == 304
    second = control(mirror, "edit", {"site": "www.justice.gov", "which": 3}).json()["url"]
    assert second == url and api(mirror)["results"][3]["body"].count("Updated:") == 1
    for site in ("www.courtlistener.com", "www.courthousenews.com", "ecf.cand.uscourts.gov"):
        assert mirror.edit(site).startswith(mirror.site_url(site))


def test_request_counting_per_path(mirror: MirrorServer) -> None:
    path = "/www.justice.gov/opa/pr/justice-department-provides-last-chance-cities-show-1373-compliance"
    assert mirror.requests() == 0
    fetch(mirror, path)
    fetch(mirror, path, {"If-None-Match": fetch(mirror, path).headers["etag"]})
    fetch(mirror, "/www.courthousenews.com/feed/")
    fetch(mirror, "/_mirror/stats")
    assert mirror.requests("/www.justice.gov/opa/pr/") == 3
    assert mirror.requests("www.courthousenews.com") == 1 and mirror.requests() == 4
    stats = fetch(mirror, "/_mirror/stats").json()
    assert stats["total"] == 4 and stats["paths"][path] == 3
    control(mirror, "reset", {})
    assert mirror.requests() == 0


def test_extra_releases_mode() -> None:
    with MirrorServer(extra_releases=300) as big:
        data = api(big, 0)
        assert data["metadata"]["resultset"]["count"] == 121 + 300
        last = api(big, 8)["results"]
        assert len(last) == 421 - 400
        url = last[-1]["url"]
        page = Selector(text=fetch(big, local(big, url)).text)
        assert inner(page.css("div.field_body")) == last[-1]["body"]


# --------------------------------------------------------------------------- faults
def test_fault_500_429_slow_and_times(mirror: MirrorServer) -> None:
    feed = "/www.courthousenews.com/feed/"
    mirror.set_fault("www.courthousenews.com", "500")
    assert fetch(mirror, feed).status == 500
    assert fetch(mirror, "/www.justice.gov/news").status == 200, "other sites are unaffected"
    mirror.set_fault("www.courthousenews.com", "429", retry_after=7)
    reply = fetch(mirror, feed)
    assert reply.status == 429 and reply.headers["retry-after"] == "7"
    mirror.set_fault("www.courthousenews.com", "slow", seconds=0.4)
    started = time.monotonic()
    assert fetch(mirror, feed).status == 200 and time.monotonic() - started >= 0.4
    mirror.clear_faults()
    mirror.set_fault("www.courthousenews.com/feed", "500", times=2)
    assert [fetch(mirror, feed).status for _ in range(3)] == [500, 500, 200]


def test_fault_truncate(mirror: MirrorServer) -> None:
    mirror.set_fault("www.justice.gov/feeds", "truncate")
    conn = http.client.HTTPConnection("127.0.0.1", mirror.port, timeout=10)
    try:
        conn.request("GET", "/www.justice.gov/feeds/opa/justice-news.xml")
        response = conn.getresponse()
        declared = int(response.headers["Content-Length"])
        with pytest.raises(http.client.IncompleteRead) as caught:
            response.read()
        assert 0 < len(caught.value.partial) < declared
    finally:
        conn.close()


def test_fault_charset(mirror: MirrorServer) -> None:
    path = "/www.justice.gov/opa/pr/justice-department-provides-last-chance-cities-show-1373-compliance"
    honest = fetch(mirror, path)
    mirror.set_fault("www.justice.gov", "charset")
    wrong = fetch(mirror, path)
    assert honest.headers["content-type"].endswith("charset=utf-8")
    assert wrong.headers["content-type"].endswith("charset=ISO-8859-1") and wrong.body == honest.body
    mirror.set_fault("ecf.paed.uscourts.gov", "charset", charset="UTF-16")
    assert fetch(mirror, "/ecf.paed.uscourts.gov/cgi-bin/rss_outside.pl").headers["content-type"].endswith("UTF-16")


def test_fault_entity_bomb_only_hits_xml(mirror: MirrorServer) -> None:
    control(mirror, "fault", {"site": "www.justice.gov", "fault": "entity_bomb"})
    bomb = fetch(mirror, "/www.justice.gov/feeds/opa/justice-news.xml")
    assert b"<!ENTITY lol9" in bomb.body and b"&lol9;" in bomb.body and len(bomb.body) < 4096
    assert "<!ENTITY" not in fetch(mirror, "/www.justice.gov/news").text
    assert control(mirror, "fault", {"clear": True}).json() == {"faults": {}}
    assert b"<!ENTITY" not in fetch(mirror, "/www.justice.gov/feeds/opa/justice-news.xml").body


@pytest.mark.parametrize("declare", [False, True])
def test_fault_huge_streams_a_generated_body(mirror: MirrorServer, declare: bool) -> None:
    mirror.set_fault("www.courthousenews.com", "huge", declare_length=declare)
    conn = http.client.HTTPConnection("127.0.0.1", mirror.port, timeout=10)
    try:
        conn.request("GET", "/www.courthousenews.com/feed/")
        response = conn.getresponse()
        assert response.status == 200
        assert response.headers.get("Content-Length") == (str(100 * 1024 * 1024) if declare else None)
        got = 0
        while got < 2 * 1024 * 1024:
            chunk = response.read(256 * 1024)
            assert chunk
            got += len(chunk)
    finally:
        conn.close()
    assert fetch(mirror, "/www.justice.gov/news").status == 200, "the server survives a client hanging up"


def test_fault_redirects(mirror: MirrorServer) -> None:
    mirror.set_fault("www.justice.gov/news", "redirect_port")
    reply = fetch(mirror, "/www.justice.gov/news?page=1")
    location = reply.headers["location"]
    assert reply.status == 302 and location.endswith("/www.justice.gov/news?page=1")
    port = int(re.match(r"http://127\.0\.0\.1:(\d+)/", location).group(1))
    assert port != mirror.port
    hits = mirror.decoy_hits
    with urllib.request.urlopen(location, timeout=10) as decoy:
        assert b"decoy" in decoy.read()
    assert mirror.decoy_hits == hits + 1
    mirror.set_fault("www.justice.gov/news", "redirect_file")
    reply = fetch(mirror, "/www.justice.gov/news")
    assert reply.status == 302 and reply.headers["location"] == "file:///etc/passwd"
    with pytest.raises(ValueError, match="unknown fault"):
        mirror.set_fault("www.justice.gov", "meltdown")
    assert control(mirror, "fault", {"site": "www.justice.gov", "fault": "meltdown"}).status == 400


# --------------------------------------------------------------------------- settings, command, data
def test_sources_toml_validates_and_points_every_source_at_the_mirror(mirror: MirrorServer, tmp_path: Path) -> None:
    from lawwatch.config import load_config

    path = tmp_path / "mirror.toml"
    path.write_text(mirror.sources_toml("sqlite:///" + str(tmp_path / "a.db")), encoding="utf-8")
    config = load_config(str(path), environ={})
    ids = [s.id for s in config.sources]
    assert ids == ["doj_api", "doj_news", "doj_rss", "courtlistener", "pacer_rss", "news_rss"]
    assert all(s.local and s.spider == s.id and s.base_url.startswith(mirror.base_url) for s in config.sources)
    assert config.crawler.download_delay == 0 and "contact" in config.crawler.user_agent
    options = {s.id: s.options for s in config.sources}
    justice = config.source("doj_news").base_url
    for listing in options["doj_news"]["listings"]:
        assert fetch(mirror, local(mirror, justice + listing)).status == 200
    for feed in options["doj_rss"]["feeds"]:
        assert fetch(mirror, local(mirror, justice + feed)).status == 200
    assert fetch(mirror, local(mirror, config.source("news_rss").base_url + options["news_rss"]["feeds"][0])).body
    pacer = config.source("pacer_rss").base_url
    for court in options["pacer_rss"]["courts"]:
        url = pacer.replace("{court}", court) + "/cgi-bin/rss_outside.pl"
        assert fetch(mirror, local(mirror, url)).status == 200, court
    assert set(options["pacer_rss"]["docket_numbers"]) == set(STORY)
    assert options["courtlistener"]["queries"] == ('"1373" OR "sanctuary jurisdiction"',)


def test_mirror_command_is_documented() -> None:
    from lawwatch.cli import cli

    result = CliRunner().invoke(cli, ["mirror", "serve", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output and "--port" in result.output
    result = CliRunner().invoke(cli, ["mirror", "serve", "--host", "0.0.0.0"])
    assert result.exit_code != 0 and "loopback" in result.output


def test_data_folder_is_small() -> None:
    files = [p for p in Path(str(DATA)).rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 1_500_000
    assert not [
        p for p in files if p.suffix == ".jsonl" and p.name not in ("doj_corpus_100.jsonl", "doj_1373_releases.jsonl")
    ], "README imports data/*.jsonl"


def test_unknown_paths_are_404(mirror: MirrorServer) -> None:
    assert fetch(mirror, "/www.justice.gov/opa/pr/no-such-release").status == 404
    assert fetch(mirror, "/www.example.com/").status == 404
    assert fetch(mirror, "/_mirror/nothing").status == 404
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(mirror.base_url + "/ecf.paed.uscourts.gov/other", timeout=10)
