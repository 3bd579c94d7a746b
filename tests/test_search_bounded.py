"""Common words: relevance ranked among the newest matches, totals estimated and said so (``pipeline/search.py``).

What is guaranteed, and tested here on both backends with a small ``rank_bound``: a word with more matches than the
bound is ranked among exactly the newest ``ranked_among`` of its matches (the highest ids), and the hits are those
matches in the exact ranking's order (the ranking ``rank_bound=None`` gives, restricted to them); when the exact
top hits are all among the newest matches, the bounded ranking is the exact one. A rare word stays exact. A total
that is not counted says so (``total_is_estimate``, "about …") in the result, ``search --json``, the text output,
the web page and the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import lxml.html
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

import lawwatch.pipeline.search as search_module
from lawwatch.pipeline.db import Archive, open_archive
from lawwatch.pipeline.filters import DocumentFilter as F
from lawwatch.pipeline.search import SearchResult, about, search
from lawwatch.pipeline.textquery import parse_query, to_tsquery_sql
from lawwatch.web import create_app
from tests.helpers.cli import Lawwatch, db_url  # noqa: F401 -- a fixture
from tests.helpers.factories import add_document
from tests.helpers.web import client

COMMON = 40  # documents with "immigration"; ten fillers come first, two "asylum" documents last
PLACE = "fips:17031"  # every second common document names it
BOUND = 5


def seed(archive: Archive, *, best_newest: bool = False) -> dict[str, list[int]]:
    """The corpus; ``best_newest``: the five newest common documents also have the word in their title."""
    start = datetime(2015, 1, 1, tzinfo=UTC)
    found: dict[str, list[int]] = {"filler": [], "common": [], "rare": []}
    with archive.session() as s:
        for n in range(10):
            doc = add_document(s, title=f"Tax case {n}", body="A jury convicted the preparer of filing false returns.")
            found["filler"].append(doc.id)
        for n in range(COMMON):
            # scores differ: 1-4 occurrences in bodies of different lengths
            body = " ".join(["immigration"] * (1 + n % 4) + ["court", "records", "show"] * (1 + n % 7))
            titled = best_newest and n >= COMMON - 5
            doc = add_document(
                s,
                title=f"Immigration report {n}" if titled else f"Report {n}",
                body=body,
                published_at=start + timedelta(days=n),
                jurisdictions=[PLACE] if n % 2 == 0 else [],
            )
            found["common"].append(doc.id)
        for n in range(2):
            doc = add_document(s, title=f"Asylum ruling {n}", body="The asylum claim was denied.")
            found["rare"].append(doc.id)
    if archive.dialect == "postgresql":  # the planner's estimate reads the statistics, as after autovacuum
        with archive.engine.begin() as conn:
            conn.execute(sa.text("ANALYZE documents, document_jurisdictions"))
    return found


def run(archive: Archive, query: str | F, **kwargs: Any) -> SearchResult:
    with archive.session() as s:
        return search(s, query, **kwargs)


def ids(result: SearchResult) -> list[int]:
    return [h.document_id for h in result.hits]


def restricted(exact: SearchResult, among: set[int]) -> list[int]:
    """The exact ranking's order, keeping only ``among``."""
    return [i for i in ids(exact) if i in among]


@pytest.fixture
def corpus(archive: Archive) -> Iterator[dict[str, list[int]]]:
    yield seed(archive)


def test_about_rounds_to_three_digits() -> None:
    assert [about(n) for n in (0, 7, 999, 11_888.4, 84_484, 119_123)] == [0, 7, 999, 11_900, 84_500, 119_000]


def test_a_rare_word_stays_exact(archive: Archive, corpus: dict[str, list[int]]) -> None:
    result = run(archive, "asylum", rank_bound=BOUND)
    assert (result.total, result.total_exact, result.total_is_estimate, result.ranked_among) == (2, True, False, None)
    assert set(ids(result)) == set(corpus["rare"])
    assert result.total_text == "2" and result.note == ""


def test_a_common_word_is_ranked_among_its_newest_matches(archive: Archive, corpus: dict[str, list[int]]) -> None:
    exact = run(archive, "immigration", rank_bound=None, limit=100)
    assert (exact.total, exact.total_exact, exact.ranked_among) == (COMMON, True, None)
    bounded = run(archive, "immigration", rank_bound=BOUND, limit=100)
    among = bounded.ranked_among
    assert among is not None and BOUND // 2 <= among < COMMON
    if archive.dialect == "sqlite":
        assert among == BOUND  # exactly the bound: FTS5 walks the matches newest first
    newest = set(sorted(corpus["common"], reverse=True)[:among])
    assert ids(bounded) == restricted(exact, newest)
    scores = {h.document_id: h.score for h in exact.hits}
    assert all(h.score == pytest.approx(scores[h.document_id]) for h in bounded.hits)
    assert "ranked by relevance among the newest" in bounded.note


def test_when_the_best_matches_are_the_newest_the_ranking_is_exact(archive: Archive) -> None:
    seed(archive, best_newest=True)  # the five newest have the word in their title too (weighted 10x / A)
    exact = run(archive, "immigration", rank_bound=None, limit=5)
    bounded = run(archive, "immigration", rank_bound=BOUND, limit=5)
    assert bounded.ranked_among is not None
    assert ids(bounded) == ids(exact)


def test_the_total_of_a_common_word_is_exact_or_says_about(
    archive: Archive, corpus: dict[str, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run(archive, "immigration", rank_bound=BOUND)
    if archive.dialect == "sqlite":  # FTS5 counts up to COUNT_BOUND matches cheaply: exact
        assert (result.total, result.total_exact, result.total_is_estimate) == (COMMON, True, False)
        monkeypatch.setattr(search_module, "COUNT_BOUND", 10)
        result = run(archive, "immigration", rank_bound=BOUND)
    # beyond what is counted: the planner's estimate (PostgreSQL) or the newest matches' density (SQLite)
    assert result.total_is_estimate and not result.total_exact
    assert result.total_text == f"about {result.total:,}"
    assert COMMON * 0.5 <= result.total <= COMMON * 1.5
    assert "about" in result.note


def test_a_filtered_common_word(archive: Archive, corpus: dict[str, list[int]]) -> None:
    flt = F(query="immigration", jurisdictions=(PLACE,))
    placed = [i for n, i in enumerate(corpus["common"]) if n % 2 == 0]
    exact = run(archive, flt, rank_bound=None, limit=100)
    assert (exact.total, set(ids(exact))) == (len(placed), set(placed))
    bounded = run(archive, flt, rank_bound=BOUND, limit=100)
    among = bounded.ranked_among
    assert among is not None and 0 < among < len(placed)
    assert ids(bounded) == restricted(exact, set(sorted(placed, reverse=True)[:among]))
    assert bounded.total_is_estimate and len(placed) * 0.5 <= bounded.total <= len(placed) * 1.5


def test_a_filtered_word_under_the_bound_is_ranked_exactly(archive: Archive, corpus: dict[str, list[int]]) -> None:
    """Fewer matches than the bound: found first, then ranked (PostgreSQL reads only their vectors) — the same
    hits, scores, order and exact total as ranking every match in one statement, page by page."""
    placed = [i for n, i in enumerate(corpus["common"]) if n % 2 == 0]
    for flt in (F(query="immigration", jurisdictions=(PLACE,)), F(query="immigration -records")):
        exact = run(archive, flt, rank_bound=None, limit=100)
        for offset in (0, 3, len(exact.hits)):
            page = run(archive, flt, limit=7, offset=offset)
            assert (page.total, page.total_exact, page.total_is_estimate, page.ranked_among) == (
                exact.total,
                True,
                False,
                None,
            )
            assert ids(page) == ids(exact)[offset : offset + 7]
            assert [h.score for h in page.hits] == pytest.approx([h.score for h in exact.hits][offset : offset + 7])
            assert [h.snippet for h in page.hits] == [h.snippet for h in exact.hits][offset : offset + 7]
    assert run(archive, F(query="immigration", jurisdictions=(PLACE,))).total == len(placed)
    nothing = run(archive, F(query="asylum", jurisdictions=(PLACE,)))
    assert (nothing.total, nothing.hits, nothing.total_exact) == (0, [], True)


def test_newest_first_is_never_bounded(archive: Archive, corpus: dict[str, list[int]]) -> None:
    for flt in (F(query="immigration"), F(query="immigration", jurisdictions=(PLACE,))):
        exact = run(archive, flt, order="newest", rank_bound=None, limit=100)
        bounded = run(archive, flt, order="newest", rank_bound=BOUND, limit=7, offset=3)
        assert bounded.ranked_among is None
        assert ids(bounded) == ids(exact)[3:10]
        assert [h.snippet for h in bounded.hits] == [h.snippet for h in exact.hits][3:10]
        assert all(h.score == 0.0 for h in bounded.hits + exact.hits)  # not ranked, so not scored


def test_pages_stop_at_the_ranked_matches(archive: Archive, corpus: dict[str, list[int]]) -> None:
    first = run(archive, "immigration", rank_bound=BOUND, limit=2)
    among = first.ranked_among
    assert among is not None and first.reachable == among
    every = [
        i
        for offset in range(0, among, 2)
        for i in ids(run(archive, "immigration", rank_bound=BOUND, limit=2, offset=offset))
    ]
    assert every == ids(run(archive, "immigration", rank_bound=BOUND, limit=100))
    past = run(archive, "immigration", rank_bound=BOUND, limit=2, offset=among)
    assert past.hits == [] and past.ranked_among == among and past.total == first.total


@pytest.mark.postgres
def test_postgres_ranks_every_match_when_its_statistics_are_stale(pg_archive: Archive) -> None:
    """The planner still expects the word in 40 documents (ANALYZE ran before it was edited out of 36): the newest
    window holds none, so search ranks and counts every match rather than say "about 40" with no hits."""
    found = seed(pg_archive)
    with pg_archive.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE documents SET body_text = 'court records' WHERE id = ANY(:ids)"),
            {"ids": found["common"][4:]},
        )
    result = run(pg_archive, "immigration", rank_bound=10, limit=100)
    assert (result.total, result.total_exact, result.total_is_estimate, result.ranked_among) == (4, True, False, None)
    assert set(ids(result)) == set(found["common"][:4])


# --- what people and scripts see ---------------------------------------------------------------------------------


@pytest.fixture
def small_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """``search()``'s default rank bound lowered to ``BOUND`` for the callers that do not pass one."""
    monkeypatch.setitem(search.__kwdefaults__, "rank_bound", BOUND)  # type: ignore[index]
    monkeypatch.setattr(search_module, "COUNT_BOUND", 10)  # SQLite too estimates beyond 10


def test_search_command_says_about(db_url: str, tmp_path: Any, small_bound: None) -> None:  # noqa: F811
    archive = open_archive(db_url)
    try:
        seed(archive)
    finally:
        archive.dispose()
    lawwatch = Lawwatch(tmp_path, db_url)
    data = lawwatch.json("search", "immigration")
    assert isinstance(data, dict)
    assert data["total_is_estimate"] is True and data["total_exact"] is False
    assert data["ranked_among"] is not None and len(data["hits"]) == min(20, data["ranked_among"])
    assert set(data) == {"query", "total", "total_exact", "total_is_estimate", "ranked_among", "offset", "hits"}
    text = lawwatch("search", "immigration").stdout
    assert f"of about {data['total']:,}" in text
    assert f"ranked by relevance among the newest {data['ranked_among']:,}" in text and "--order newest" in text
    rare = lawwatch.json("search", "asylum")
    assert isinstance(rare, dict)
    assert (rare["total"], rare["total_exact"], rare["total_is_estimate"], rare["ranked_among"]) == (
        2,
        True,
        False,
        None,
    )
    assert "about" not in lawwatch("search", "asylum").stdout


def test_web_page_and_api_say_about(archive: Archive, corpus: dict[str, list[int]], small_bound: None) -> None:
    app: FastAPI = create_app(archive)
    with client(app) as web:
        data = web.get("/api/v1/documents", params={"q": "immigration", "limit": 2}).json()
        assert data["total_is_estimate"] is True and data["ranked_among"] is not None
        page = lxml.html.fromstring(web.get("/", params={"q": "immigration"}).text)
        assert page.get_element_by_id("summary").text_content().split()[:2] == ["about", f"{data['total']:,}"]
        note = " ".join(page.get_element_by_id("ranked-note").text_content().split())
        assert note.startswith(f"Ranked by relevance among the newest {data['ranked_among']:,} of about")
        assert not page.xpath('//a[@rel="next"]')  # 20 a page: the ranked matches fit on the first
        rare = lxml.html.fromstring(web.get("/", params={"q": "asylum"}).text)
        assert rare.get_element_by_id("summary").text_content().split()[0] == "2"
        assert not rare.xpath('//*[@id="ranked-note"]')
        assert web.get("/api/v1/documents", params={"q": "asylum"}).json()["total_is_estimate"] is False


def test_hits_read_in_arms_are_the_same_by_relevance_and_newest_first(
    archive: Archive, corpus: dict[str, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite reads a page's snippets one rowid at a time, in statements of at most ``_ARMS`` arms (3 here, so the
    page of 40 takes 14), with the scores its ranking query read (no second bm25 pass over a common word's
    doclist); newest first the hits are not scored. Same hits and snippets either way, on both backends."""
    monkeypatch.setattr("lawwatch.pipeline.search_sqlite._ARMS", 3)
    ranked = run(archive, "immigration", rank_bound=None, limit=100)
    newest = run(archive, "immigration", order="newest", limit=100)
    assert len(ranked.hits) == COMMON and sorted(ids(ranked)) == sorted(ids(newest))
    by_id = {h.document_id: h for h in newest.hits}
    for hit in ranked.hits:
        other = by_id[hit.document_id]
        assert (hit.title, hit.url, hit.published_at, hit.snippet) == (
            other.title,
            other.url,
            other.published_at,
            other.snippet,
        )
        assert "[immigration]" in hit.snippet.lower()
        assert hit.score > 0 and other.score == 0.0
    assert [h.score for h in ranked.hits] == sorted((h.score for h in ranked.hits), reverse=True)
    assert len({round(h.score, 6) for h in ranked.hits}) > 1  # scored, not a constant


def test_newest_first_is_the_same_whether_the_total_is_counted_or_estimated(
    archive: Archive, corpus: dict[str, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite walks the dates and looks each document up among the matches: through a copy of the matches when they
    were counted or are sparse, by a seek per document (EXISTS) when there are too many to count and the walk meets
    few documents per hit (``_SEEK_COST``). Same page every way."""
    statements: list[str] = []
    sa.event.listen(archive.engine, "before_cursor_execute", lambda _c, _k, sql, *_a: statements.append(sql))
    counted = run(archive, "immigration", order="newest", rank_bound=BOUND, limit=12, offset=3)
    monkeypatch.setattr(search_module, "COUNT_BOUND", 10)
    estimated = run(archive, "immigration", order="newest", rank_bound=BOUND, limit=12, offset=3)
    walks = [s for s in statements if "INDEXED BY ix_documents_published_at" in s]
    monkeypatch.setattr("lawwatch.pipeline.search_sqlite._SEEK_COST", 0)  # seeking costs nothing: seek
    sought = run(archive, "immigration", order="newest", rank_bound=BOUND, limit=12, offset=3)
    walks += [s for s in statements if "INDEXED BY ix_documents_published_at" in s][len(walks) :]
    if archive.dialect == "sqlite":
        assert (counted.total_is_estimate, estimated.total_is_estimate, sought.total_is_estimate) == (False, True, True)
        assert ["EXISTS" in s for s in walks] == [False, False, True]  # copy, copy (dense but cheap), seek
    expected = sorted(corpus["common"], reverse=True)[3:15]  # published one day apart, in id order
    assert ids(counted) == ids(estimated) == ids(sought) == expected
    assert [h.snippet for h in counted.hits] == [h.snippet for h in estimated.hits] == [h.snippet for h in sought.hits]


@pytest.mark.postgres
def test_postgres_planner_settings_hold_inside_and_are_restored_after(pg_archive: Archive) -> None:
    from lawwatch.pipeline.search_common import _planner

    names = ("enable_indexscan", "work_mem", "enable_seqscan")
    read = "SELECT " + ", ".join(f"current_setting('{n}')" for n in names)
    with pg_archive.session() as s:
        s.execute(sa.text("SET LOCAL work_mem = '5MB'"))
        before = tuple(s.execute(sa.text(read)).one())
        assert before[1] == "5MB"
        with _planner(s, enable_indexscan="off", work_mem="64MB"):
            assert tuple(s.execute(sa.text(read)).one()) == ("off", "64MB", before[2])
            with _planner(s, enable_seqscan="off"):
                assert tuple(s.execute(sa.text(read)).one()) == ("off", "64MB", "off")
            assert tuple(s.execute(sa.text(read)).one()) == ("off", "64MB", before[2])
        assert tuple(s.execute(sa.text(read)).one()) == before


def test_a_phrase_is_ranked_among_its_newest_matches_its_words_elsewhere_left_out(archive: Archive) -> None:
    """A phrase's words found together in many more documents than the phrase: the bounded ranking (PostgreSQL:
    walked by the words, only the newest tested for the phrase, ``_pg_phrase``) ranks exactly the newest phrase
    matches, never a document holding the words apart; an excluded phrase still excludes only the phrase."""
    start = datetime(2016, 1, 1, tzinfo=UTC)
    phrase, apart = [], []
    with archive.session() as s:
        for n in range(30):
            together = n % 3 == 0  # every third: the phrase; the others hold both words apart
            body = "Agents swiftly apprehended him." if together else "Swiftly, agents came; they apprehended him."
            doc = add_document(s, title=f"Arrest {n}", body=body * (1 + n % 4), published_at=start + timedelta(days=n))
            (phrase if together else apart).append(doc.id)
    if archive.dialect == "postgresql":
        with archive.engine.begin() as conn:
            conn.execute(sa.text("ANALYZE documents"))
    query = '"swiftly apprehended"'
    exact = run(archive, query, rank_bound=None, limit=100)
    assert sorted(ids(exact)) == sorted(phrase) and (exact.total, exact.total_exact) == (10, True)
    every = run(archive, query, rank_bound=100, limit=100)  # under the bound: every match, exactly
    assert ids(every) == ids(exact) and (every.total, every.total_exact, every.ranked_among) == (10, True, None)
    bounded = run(archive, query, rank_bound=4, limit=100)
    among = bounded.ranked_among
    assert among is not None and 4 <= among < 10
    assert ids(bounded) == restricted(exact, set(sorted(phrase, reverse=True)[:among]))
    assert 5 <= bounded.total <= 15 and (bounded.total_exact or bounded.total_is_estimate)
    # loose: the phrase's words in any order, an excluded phrase still a phrase (the loose query holds every match)
    loose, params = to_tsquery_sql(parse_query('"swiftly apprehended" -"agents came"'), loose=True)
    assert loose == "(plainto_tsquery('english', :t0)) && !!phraseto_tsquery('english', :t1)"
    assert params == {"t0": "swiftly apprehended", "t1": "agents came"}
    for query, matches in (
        ('"swiftly apprehended" -"agents came"', phrase),
        ('apprehended -"swiftly apprehended"', apart),
    ):
        exact = run(archive, query, rank_bound=None, limit=100)
        assert sorted(ids(exact)) == sorted(matches)
        bounded = run(archive, query, rank_bound=4, limit=100)
        among = bounded.ranked_among
        assert among is not None and ids(bounded) == restricted(exact, set(sorted(matches, reverse=True)[:among]))
