"""``lawwatch serve``'s app in process (the ASGI test client), on SQLite and PostgreSQL: every page and API route,
facets that narrow, highlights at their offsets, the timeline, the Atom feed, errors, escaping and headers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import feedparser
import lxml.html
import pytest
from fastapi import Depends
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.models import Document
from lawwatch.web import create_app
from lawwatch.web.app import session as db_session
from tests.helpers.web import (
    CHICAGO,
    EDIT,
    EDITED_TITLE,
    HOSTILE_TITLES,
    PHILADELPHIA,
    Story,
    TestClient,
    client,
    seed_story,
)


@dataclass
class Site:
    archive: Archive
    client: TestClient
    story: Story

    def html(self, url: str, status: int = 200) -> lxml.html.HtmlElement:
        response = self.client.get(url)
        assert response.status_code == status, (url, response.text[:500])
        assert response.headers["content-type"].startswith("text/html")
        return lxml.html.fromstring(response.text)

    def json(self, url: str, status: int = 200) -> dict:  # type: ignore[type-arg]
        response = self.client.get(url)
        assert response.status_code == status, (url, response.text[:500])
        assert response.headers["content-type"].startswith("application/json")
        return response.json()  # type: ignore[no-any-return]

    def doc_id(self, title: str) -> int:
        with self.archive.session() as s:
            return s.scalars(select(Document.id).where(Document.title == title).order_by(Document.id)).first()  # type: ignore[return-value]


@pytest.fixture
def site(archive: Archive) -> Iterator[Site]:
    story = seed_story(archive)
    with client(create_app(archive)) as c:
        yield Site(archive, c, story)


def _total(page: lxml.html.HtmlElement) -> int:
    summary = page.get_element_by_id("summary").text_content()
    return int(re.match(r"\s*([\d,]+)", summary).group(1).replace(",", ""))  # type: ignore[union-attr]


def _facet(page: lxml.html.HtmlElement, name: str) -> list[tuple[str, int, str, bool]]:
    """(value, count, link, selected) of one facet."""
    out = []
    for li in page.cssselect(f"#facet-{name} li"):
        a = li.cssselect("a")[0]
        count = li.cssselect(".count")
        out.append(
            (
                a.get("data-value"),
                int(count[0].text.replace(",", "")) if count else -1,
                a.get("href"),
                "selected" in li.classes,
            )
        )
    return out


def test_search_page_shows_hits_with_marked_snippets_and_the_state_in_the_url(site: Site) -> None:
    page = site.html("/?q=injunction&order=newest")
    hits = page.cssselect("li.hit")
    api = site.json("/api/v1/documents?q=injunction&order=newest")
    assert _total(page) == api["total"] >= 6
    assert [int(h.cssselect("a.title")[0].get("href").rsplit("/", 1)[1]) for h in hits] == [
        h["id"] for h in api["hits"]
    ]
    marks = [m.text_content().lower() for m in page.cssselect("li.hit .snippet mark")]
    assert marks and all(m.startswith("injunction") for m in marks)
    assert page.cssselect("#q")[0].get("value") == "injunction"
    assert page.cssselect("#order option[selected]")[0].get("value") == "newest"
    # every facet link keeps the query and the order
    for name in ("jurisdiction", "statute", "type", "source", "year"):
        values = _facet(page, name)
        assert values, name
        for _, _, link, _ in values:
            params = dict(parse_qsl(urlsplit(link).query))
            assert params["q"] == "injunction" and params["order"] == "newest"


def test_clicking_a_facet_narrows_the_search_to_its_count(site: Site) -> None:
    start = site.html("/?q=1373")
    everything = _total(start)
    for name in ("jurisdiction", "statute", "type", "source", "year"):
        value, count, link, selected = _facet(start, name)[0]
        assert not selected and count > 0
        narrowed = site.html(link)
        assert _total(narrowed) == count, (name, value)
        chosen = [v for v in _facet(narrowed, name) if v[3]]
        assert chosen and chosen[0][0] == value, (name, chosen)
        assert count <= everything
        # the chosen value's link removes it again
        assert _total(site.html(chosen[0][2])) == everything
    # the jurisdiction facet of a narrowed search counts the co-named places within it
    philly = site.html(f"/?jurisdiction={PHILADELPHIA}&type=ruling")
    assert _total(philly) == site.json("/api/v1/documents?jurisdiction=Philadelphia&type=ruling")["total"] > 0
    types = {v[0]: v[1] for v in _facet(philly, "type")}
    assert types["ruling"] == _total(philly)
    assert types["letter"] == site.json(f"/api/v1/documents?jurisdiction={PHILADELPHIA}&type=letter")["total"]


def test_the_search_form_keeps_the_filters(site: Site) -> None:
    page = site.html(f"/?q=injunction&jurisdiction={PHILADELPHIA}&type=ruling&source=courtlistener&within=true")
    hidden = [(i.get("name"), i.get("value")) for i in page.cssselect("form.search input[type=hidden]")]
    assert hidden == [
        ("jurisdiction", PHILADELPHIA),
        ("type", "ruling"),
        ("source", "courtlistener"),
        ("within", "true"),
    ]
    # submitting the form as a browser does (empty dates and order) runs the same search
    again = site.html(
        f"/?q=injunction&jurisdiction={PHILADELPHIA}&type=ruling&source=courtlistener&within=true&since=&until=&order="
    )
    assert _total(again) == _total(page) > 0


def test_paging_follows_the_api(site: Site) -> None:
    first = site.html("/?limit=5&order=newest")
    assert len(first.cssselect("li.hit")) == 5
    next_link = first.cssselect("a[rel=next]")[0].get("href")
    assert "offset=5" in next_link and "limit=5" in next_link
    second = site.html(next_link)
    api = site.json("/api/v1/documents?limit=5&offset=5&order=newest")
    got = [int(a.get("href").rsplit("/", 1)[1]) for a in second.cssselect("li.hit a.title")]
    assert got == [h["id"] for h in api["hits"]]
    assert second.cssselect("a[rel=prev]")[0].get("href").count("offset") == 0  # back to the first page
    last = site.html(f"/?limit=5&offset={site.story.documents - 1}")
    assert len(last.cssselect("li.hit")) == 1 and not last.cssselect("a[rel=next]")


def test_document_page_highlights_citations_and_places_at_their_offsets(site: Site) -> None:
    doc_id = site.doc_id("Memorandum")  # E.D. Pa., City of Philadelphia v. Sessions
    data = site.json(f"/api/v1/documents/{doc_id}")
    page = site.html(f"/documents/{doc_id}")
    body = page.get_element_by_id("body")
    assert body.text_content() == data["body_text"]  # the whole text, nothing added or lost
    statutes = [m.text_content() for m in body.cssselect("mark.statute")]
    assert statutes == [s["text"] for s in data["statutes"]]
    places = body.cssselect("mark.place")
    assert {m.get("data-ref") for m in places} == {j["id"] for j in data["jurisdictions"] if j["role"] == "named"}
    philly = [m for m in places if m.get("data-ref") == PHILADELPHIA]
    assert len(philly) == next(j["mentions"] for j in data["jurisdictions"] if j["id"] == PHILADELPHIA)
    assert all("Philadelphia" in m.text_content() for m in philly)
    # each mark sits at its offset in the stored text
    offsets = _mark_offsets(body)
    assert [pos for kind, _, pos in offsets if kind == "statute"] == [s["start"] for s in data["statutes"]]
    first = next(j["first"] for j in data["jurisdictions"] if j["id"] == PHILADELPHIA)
    assert next(pos for _, ref, pos in offsets if ref == PHILADELPHIA) == first
    # the type and the signals that decided it
    facts = page.cssselect("dl.facts")[0].text_content()
    assert "ruling" in facts and "scores:" in facts
    assert page.cssselect("ul.cues code")
    assert page.get_element_by_id("original").get("href") == data["url"]
    assert any(a.get("href") == f"/jurisdictions/{PHILADELPHIA}" for a in page.cssselect("a.place"))


def _mark_offsets(body: lxml.html.HtmlElement) -> list[tuple[str, str, int]]:
    """(class, data-ref, offset of its text in ``body``'s text) of each ``<mark>`` in ``body``."""
    out = []
    pos = len(body.text or "")
    for child in body:
        out.append((child.get("class"), child.get("data-ref"), pos))
        pos += len(child.text_content()) + len(child.tail or "")
    return out


def test_an_edited_document_shows_the_diff_of_its_earlier_version(site: Site) -> None:
    doc_id = site.doc_id(EDITED_TITLE)
    data = site.json(f"/api/v1/documents/{doc_id}")
    assert len(data["versions"]) == 1 and EDIT not in data["versions"][0]["body_text"]
    page = site.html(f"/documents/{doc_id}")
    inserted = " ".join(i.text_content() for i in page.cssselect("#versions ins"))
    assert "corrected deadline" in inserted
    assert not page.cssselect("#versions del")  # only text was added


def test_jurisdictions_table_counts_and_sorts(site: Site) -> None:
    page = site.html("/jurisdictions")
    rows = page.cssselect("#places tbody tr")
    by_id = {r.cssselect("a")[0].get("href").rsplit("/", 1)[1]: r for r in rows}
    philly = by_id[PHILADELPHIA]
    cells = [c.text_content().strip() for c in philly.cssselect("td")]
    assert cells[0] == "Philadelphia" and cells[2] == "PA"
    assert int(cells[3]) == site.json(f"/api/v1/documents?jurisdiction={PHILADELPHIA}")["total"]
    assert int(cells[6]) == site.json(f"/api/v1/documents?jurisdiction={PHILADELPHIA}&type=ruling")["total"]
    counts = [int(r.cssselect("td")[3].text_content()) for r in rows]
    assert counts == sorted(counts, reverse=True)
    names = [
        r.cssselect("td")[0].text_content().casefold()
        for r in site.html("/jurisdictions?sort=name").cssselect("#places tbody tr")
    ]
    assert names == sorted(names)
    api = site.json("/api/v1/jurisdictions?sort=rulings")
    assert [j["rulings"] for j in api["jurisdictions"]] == sorted(
        (j["rulings"] for j in api["jurisdictions"]), reverse=True
    )
    assert site.json("/api/v1/jurisdictions?sort=bogus", 400)["error"]["message"].startswith("cannot sort")


def test_jurisdiction_timeline_is_an_svg_of_linked_marks_grouped_by_case(site: Site) -> None:
    api = site.json(f"/api/v1/jurisdictions/{PHILADELPHIA}/timeline")
    assert api["jurisdiction"]["label"] == "Philadelphia, PA"
    cases = [c["case"] for c in api["cases"]]
    assert "City of Philadelphia v. Sessions" in cases
    ruling_ids = {e["id"] for c in api["cases"] if c["case"] == "City of Philadelphia v. Sessions" for e in c["events"]}
    assert len(ruling_ids) >= 2
    events = [e for c in api["cases"] for e in c["events"]]
    assert api["events"] == len(events) and {e["doc_type"] for e in events} <= {"letter", "lawsuit", "filing", "ruling"}
    page = site.html(f"/jurisdictions/{PHILADELPHIA}")
    svg = page.cssselect("figure.timeline svg")[0]
    links = [a.get("href") for a in svg.iter("{*}a", "a")]
    assert sorted(links) == sorted(f"/documents/{e['id']}" for e in events)
    labels = [t.text_content() for t in svg.iter("{*}text", "text") if "case" in (t.get("class") or "")]
    assert any("City of Philadelphia v. Sessions" in label for label in labels)
    for e in events:  # every mark's document exists and names Philadelphia
        doc = site.json(f"/api/v1/documents/{e['id']}")
        assert PHILADELPHIA in {j["id"] for j in doc["jurisdictions"]}
        assert any(s["section"] == "1373" for s in doc["statutes"])
    chicago = site.json(f"/api/v1/jurisdictions/{CHICAGO}/timeline")
    assert "City of Chicago v. Sessions" in [c["case"] for c in chicago["cases"]]
    # a place no document names has an empty story; an unknown id is 404
    assert "No letter" in site.html("/jurisdictions/fips:4805000").text_content()
    assert site.json("/api/v1/jurisdictions/fips:99999999/timeline", 404)["error"]["status"] == 404
    site.html("/jurisdictions/nowhere", 404)


def test_api_documents_and_show_shapes(site: Site) -> None:
    result = site.json("/api/v1/documents?q=injunction&jurisdiction=Chicago&since=2017-01-01&until=2018-12-31")
    assert set(result) == {"query", "total", "total_exact", "total_is_estimate", "ranked_among", "offset", "hits"}
    assert result["query"] == "injunction" and result["hits"]
    assert (result["total_exact"], result["total_is_estimate"], result["ranked_among"]) == (True, False, None)
    for hit in result["hits"]:
        assert set(hit) == {"id", "published_at", "source", "doc_type", "title", "url", "score", "snippet"}
        assert "[" in hit["snippet"]
    doc = site.json(f"/api/v1/documents/{result['hits'][0]['id']}")
    for key in (
        "id",
        "source",
        "url",
        "external_id",
        "title",
        "published_at",
        "fetched_at",
        "updated_at",
        "doc_type",
        "form",
        "content_hash",
        "metadata",
        "jurisdictions",
        "statutes",
        "body_text",
        "versions",
    ):
        assert key in doc
    assert site.json("/api/v1/documents/999999", 404) == {
        "error": {"status": 404, "message": "no document with id 999999"}
    }


def test_bad_filters_are_400_with_the_candidates(site: Site) -> None:
    error = site.json("/api/v1/documents?jurisdiction=Springfield", 400)["error"]
    assert "ambiguous" in error["message"] and "Springfield, IL" in error["candidates"]
    page = site.html("/?jurisdiction=Springfield", 400)
    assert "Springfield, IL" in [li.text_content() for li in page.cssselect("ul.candidates li")]
    assert "unknown jurisdiction" in site.json("/api/v1/documents?jurisdiction=Atlantiss", 400)["error"]["message"]
    assert "2017-13-01" in site.json("/api/v1/documents?since=2017-13-01", 400)["error"]["message"]
    assert "2017-13-01" in site.html("/?since=2017-13-01", 400).get_element_by_id("error-message").text_content()
    assert site.json("/api/v1/documents?type=memo", 400)["error"]["message"].startswith("unknown document type")
    assert site.json('/api/v1/documents?q="unbalanced', 400)["error"]["message"]
    assert "limit" in site.json("/api/v1/documents?limit=abc", 400)["error"]["message"]
    assert "limit" in site.json("/feeds/documents.atom?limit=0", 400)["error"]["message"]
    site.html("/no-such-page", 404)
    site.html("/documents/424242", 404)
    for path in ("/", "/api/v1/documents", "/documents/1"):
        response = site.client.post(path)
        assert response.status_code == 405 and "Traceback" not in response.text


def test_a_server_error_is_one_sentence_never_a_traceback(sqlite_archive: Archive) -> None:
    seed_story(sqlite_archive)
    app = create_app(sqlite_archive)
    with sqlite_archive.engine.begin() as conn:
        conn.execute(text("DROP TABLE document_versions"))
    with client(app) as c:
        for path in ("/api/v1/documents/1", "/documents/1"):
            response = c.get(path)
            assert response.status_code == 500
            assert "Traceback" not in response.text and "document_versions" not in response.text
            assert "internal error" in response.text
        assert c.get("/api/v1/documents/1").json()["error"]["status"] == 500


def test_the_atom_feed_lists_the_api_documents_and_parses(site: Site) -> None:
    for query in ("q=1373&order=newest", f"jurisdiction={PHILADELPHIA}&type=ruling", "q=injunction&limit=3&offset=2"):
        response = site.client.get(f"/feeds/documents.atom?{query}")
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
        feed = feedparser.parse(response.content)
        assert not feed.bozo, feed.bozo_exception
        api = site.json(f"/api/v1/documents?{query}")
        assert [e.id for e in feed.entries] == [f"http://testserver/documents/{h['id']}" for h in api["hits"]]
        assert [e.title for e in feed.entries] == [h["title"] for h in api["hits"]]
        assert feed.feed.title.startswith("lawwatch: ")
    feed = feedparser.parse(site.client.get("/feeds/documents.atom?source=hostile").content)
    assert not feed.bozo and sorted(e.title for e in feed.entries) == sorted(HOSTILE_TITLES)


HOSTILE_RAW = re.compile(r"<script>alert|<img src=x|<svg onload|onerror=alert\(1\)>", re.IGNORECASE)


def _pages(site: Site) -> list[str]:
    hostile = [site.doc_id(t) for t in HOSTILE_TITLES]
    return [
        "/",
        "/?q=alert",
        "/?q=Philadelphia&source=hostile",
        "/?source=hostile&q=" + "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        *[f"/documents/{i}" for i in hostile],
        "/jurisdictions",
        f"/jurisdictions/{PHILADELPHIA}",
        "/?jurisdiction=%3Cscript%3Ealert(1)%3C/script%3E",
        "/api/docs",
    ]


def test_scraped_text_is_escaped_everywhere(site: Site) -> None:
    for path in _pages(site):
        response = site.client.get(path)
        assert response.status_code in (200, 400), path
        assert not HOSTILE_RAW.search(response.text), (path, HOSTILE_RAW.search(response.text))
        page = lxml.html.fromstring(response.text)
        for element in page.iter():
            if not isinstance(element.tag, str):
                continue
            assert not any(name.lower().startswith("on") for name in element.attrib), (path, element.tag)
            assert element.get("style") is None, (path, element.tag)  # CSP forbids inline styles
            if element.tag == "script":
                assert element.get("src", "").startswith("/static/") and not (element.text or "").strip(), path
            assert element.tag not in ("img", "iframe", "object", "embed"), (path, element.tag)
    page = site.html(f"/documents/{site.doc_id(HOSTILE_TITLES[0])}")
    assert page.get_element_by_id("title").text_content() == HOSTILE_TITLES[0]
    assert "</textarea><svg onload=alert(3)>" in page.get_element_by_id("body").text_content()
    listing = site.html("/?source=hostile")
    assert sorted(a.text_content() for a in listing.cssselect("li.hit a.title")) == sorted(HOSTILE_TITLES)
    hostile_url = site.json(f"/api/v1/documents/{site.doc_id(HOSTILE_TITLES[0])}")["url"]
    assert page.get_element_by_id("original").get("href") == hostile_url  # quotes and brackets stay in the value
    scripted = site.html(f"/documents/{site.doc_id(HOSTILE_TITLES[1])}")  # its URL is javascript:alert(1)//
    assert not scripted.cssselect("#original") and not listing.cssselect('a[href^="javascript"]')
    assert "javascript:" not in site.client.get("/feeds/documents.atom?source=hostile").text


def test_security_headers_and_no_cdn(site: Site) -> None:
    for path in (
        "/",
        "/api/v1/documents",
        "/api/docs",
        "/feeds/documents.atom",
        "/no-such-page",
        "/static/lawwatch.css",
    ):
        response = site.client.get(path)
        csp = response.headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "script-src 'self'" in csp and "default-src 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
    for path in ("/", "/api/docs", f"/jurisdictions/{PHILADELPHIA}"):
        page = site.client.get(path).text
        for url in re.findall(r'(?:src|href)="([^"]+)"', page):
            if url.startswith(("http://", "https://", "//")):
                assert "/documents/" not in url or url.startswith("https://"), url
        assert not re.search(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//', page), path
    assert site.client.get("/static/lawwatch.js").status_code == 200
    assert site.client.get("/static/favicon.svg").status_code == 200


def test_requests_run_in_read_only_transactions(site: Site) -> None:
    app = create_app(site.archive)

    @app.get("/try-to-write")
    def write(db: Session = Depends(db_session)) -> dict[str, int]:  # noqa: B008
        return {"deleted": db.execute(text("DELETE FROM documents")).rowcount}  # type: ignore[attr-defined]

    with client(app) as c:
        assert c.get("/try-to-write").status_code == 500
    with site.archive.session() as s:
        assert s.scalar(select(Document.id).limit(1)) is not None
        s.execute(text("UPDATE documents SET title = title WHERE id = 0"))  # the archive itself is writable again


def test_api_docs_describe_every_api_route(site: Site) -> None:
    spec = site.json("/api/openapi.json")
    paths = set(spec["paths"])
    assert paths == {
        "/api/v1/documents",
        "/api/v1/documents/{document_id}",
        "/api/v1/jurisdictions",
        "/api/v1/jurisdictions/{jurisdiction_id}/timeline",
    }
    params = {p["name"] for p in spec["paths"]["/api/v1/documents"]["get"]["parameters"]}
    assert params == {
        "q",
        "jurisdiction",
        "statute",
        "type",
        "source",
        "since",
        "until",
        "within",
        "order",
        "offset",
        "limit",
    }
    page = site.html("/api/docs")
    headings = [h.text_content() for h in page.cssselect("section.operation h2 code")]
    assert sorted(h.split(" ", 1)[1] for h in headings) == sorted(paths)


def test_facet_counts_do_not_depend_on_the_query_plan_and_say_when_sampled(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lawwatch.web import facets as facets_module

    urls = ["/?q=1373", f"/?jurisdiction={PHILADELPHIA}", "/?statute=8 U.S.C. 1373&type=ruling"]
    driven = [[_facet(site.html(u), n) for n in ("jurisdiction", "statute", "type", "source", "year")] for u in urls]
    monkeypatch.setattr(facets_module, "RARE", 0)  # every tag left to EXISTS
    probed = [[_facet(site.html(u), n) for n in ("jurisdiction", "statute", "type", "source", "year")] for u in urls]
    assert driven == probed
    assert not site.html("/").cssselect("p.sampled")
    monkeypatch.setattr(facets_module, "SAMPLE", 3)
    monkeypatch.setattr("lawwatch.web.pages.SAMPLE", 3)
    page = site.html("/")
    assert "Counts from 3 of the matches" in page.cssselect("p.sampled")[0].text_content()
    assert sum(count for _, count, _, _ in _facet(page, "type")) == 3


def test_a_facet_counting_more_than_the_sample_says_so_even_when_the_search_is_small(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the type facet ignores the chosen type, so it counts every document: more than the sample, though the
    # search itself finds no more than the sample
    from lawwatch.web import facets as facets_module

    types = {value: count for value, count, _, _ in _facet(site.html("/"), "type")}
    rare, few = min(types.items(), key=lambda item: item[1])
    assert few < sum(types.values())
    monkeypatch.setattr(facets_module, "SAMPLE", few)
    monkeypatch.setattr("lawwatch.web.pages.SAMPLE", few)
    page = site.html(f"/?type={rare}")
    assert _total(page) == few
    assert page.cssselect("p.sampled"), "a sampled facet must say so"
    assert sum(count for _, count, _, _ in _facet(page, "type")) == few


def test_a_one_place_listing_counts_its_tags_as_the_documents(site: Site) -> None:
    from lawwatch.pipeline.filters import DocumentFilter
    from lawwatch.pipeline.search import search

    with site.archive.session() as s:
        for place in (PHILADELPHIA, CHICAGO):
            flt = DocumentFilter(jurisdictions=(place,))
            every = search(s, filter=flt, order="newest", limit=1000)
            assert every.total == len(every.hits) > 1
            counted = search(s, filter=flt, order="newest", limit=1)  # a full page: the count query runs
            assert (counted.total, counted.total_exact) == (every.total, True)
            capped = search(s, filter=flt, order="newest", limit=1, count_cap=1)
            assert (capped.total, capped.total_exact) == (1, False)


def test_timeline_events_are_the_filters_documents_whichever_field_drives(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lawwatch.pipeline.filters import DocumentFilter
    from lawwatch.pipeline.search import search
    from lawwatch.web import timeline

    with site.archive.session() as s:
        for place in (PHILADELPHIA, CHICAGO):
            flt = DocumentFilter(jurisdictions=(place,), statutes=(timeline.STATUTE,), doc_types=timeline.TYPES)
            hits = search(s, filter=flt, order="newest", limit=500).hits
            expected = sorted(h.document_id for h in hits if h.published_at is not None)
            assert expected
            for driver in range(3):  # the place's tags, the types, the citations
                monkeypatch.setattr(timeline, "_smallest", lambda sizes, driver=driver: driver)
                assert sorted(e.id for e in timeline.events(s, place)) == expected


def test_the_timelines_driver_is_the_smallest_field_though_fields_are_counted_only_past_the_smallest() -> None:
    """Each field is counted only up to one more than the smallest size before it: the field chosen to drive (the
    smallest, the first of equals) and its size are those of counting every field up to the cap, for every sizes."""
    from itertools import product

    from lawwatch.web.timeline import _sizes, _smallest

    for true in product(range(9), repeat=3):
        for cap in range(1, 10):
            asked: list[int] = []

            def count(field: int, limit: int, true: tuple[int, ...] = true, asked: list[int] = asked) -> int:
                asked.append(limit)
                return min(true[field], limit)

            sizes = _sizes(count, cap)
            full = [min(n, cap) for n in true]
            assert (_smallest(sizes), min(sizes)) == (_smallest(full), min(full)), (true, cap, sizes)
            assert len(asked) == 3 and max(asked) <= cap
