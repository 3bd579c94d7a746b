"""Full-text search on both backends: syntax, ranking, filters, snippets, paging, errors, FTS sync."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from lawwatch.errors import QueryError
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.doctypes import DocType
from lawwatch.pipeline.filters import DocumentFilter as F
from lawwatch.pipeline.models import Document
from lawwatch.pipeline.search import SearchResult, search
from tests.helpers.factories import add_document

FILLER = [
    ("Drug trafficking ring dismantled", "Agents seized heroin and cash in a multi-state operation."),
    ("Bank robber pleads guilty", "The defendant admitted robbing three banks with a replica firearm."),
    ("Tax preparer convicted", "A jury convicted the preparer of filing false returns for clients."),
    ("Wildlife smuggling charges", "Two men are charged with smuggling protected turtles across the border."),
    ("Health care fraud takedown", "Doctors and nurses billed Medicare for services never provided."),
    ("Antitrust settlement announced", "Two airlines agreed to pay a civil penalty over fare coordination."),
]


def d(year: int, month: int = 1, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def add_filler(session: Any) -> None:
    """Unrelated documents, so that the words under test are rare (bm25's IDF is positive)."""
    for index, (title, body) in enumerate(FILLER):
        add_document(session, title=title, body=body, published_at=d(2011, 1, index + 1))


@pytest.fixture
def corpus(archive: Archive) -> Iterator[dict[str, int]]:
    with archive.session() as s:
        add_filler(s)
        ids = {
            "letters": add_document(
                s,
                title="Sanctuary jurisdictions receive letters",
                body="The Department of Justice sent letters to Chicago and Cook County about compliance "
                "with 8 U.S.C. 1373.",
                jurisdictions=["fips:1714000", "fips:17031"],
                statutes=[("8", "1373")],
                published_at=d(2017, 4, 21),
                doc_type="letter",
            ).id,
            "ruling": add_document(
                s,
                title="Court rules on grant conditions",
                body="A federal judge in San Francisco ruled that the sanctuary conditions on Byrne JAG grants "
                "were unlawful.",
                source="courtlistener",
                doc_type="ruling",
                jurisdictions=["fips:06075"],
                statutes=[("8", "1373"), ("34", "10153")],
                published_at=d(2018, 3, 10),
            ).id,
            "fraud": add_document(
                s,
                title="Man sentenced for immigration fraud",
                body="A Texas man was sentenced to prison for immigration fraud and identity theft.",
                jurisdictions=["fips:48"],
                statutes=[("18", "1546")],
                published_at=d(2012, 6, 1),
                doc_type="other",
            ).id,
            "lawsuit": add_document(
                s,
                title="California sanctuary law challenged",
                body="The United States filed suit against California over three state laws that obstruct "
                "immigration enforcement.",
                jurisdictions=["fips:06"],
                statutes=[(None, "1373")],
                published_at=d(2018, 3, 7),
                doc_type="lawsuit",
            ).id,
            "report": add_document(
                s,
                title="Annual grants report",
                body="Statistics about justice assistance grants awarded to Chicago and other cities.",
                source="ojp",
                doc_type="other",
                published_at=d(2010, 1, 1),
            ).id,
        }
    yield ids


def run(archive: Archive, query: str | F, **kwargs: Any) -> SearchResult:
    with archive.session() as s:
        return search(s, query, **kwargs)


def ids(result: SearchResult) -> list[int]:
    return [h.document_id for h in result.hits]


# --- ranking -------------------------------------------------------------------------------------------------------


def test_title_match_ranks_above_body_match(archive: Archive) -> None:
    with archive.session() as s:
        add_filler(s)
        body = add_document(s, title="Weekly update", body="The zoning board met; nothing else happened today.")
        title = add_document(s, title="Zoning board decision", body="The board met; nothing else happened today.")
    result = run(archive, "zoning")
    assert ids(result) == [title.id, body.id]
    assert result.hits[0].score > result.hits[1].score


def test_more_occurrences_rank_higher(archive: Archive) -> None:
    with archive.session() as s:
        add_filler(s)
        once = add_document(s, title="Notice", body="One detainer was issued by the office for the county.")
        thrice = add_document(s, title="Notice", body="A detainer, a second detainer and a third detainer.")
    result = run(archive, "detainer")
    assert ids(result) == [thrice.id, once.id]
    assert result.hits[0].score > result.hits[1].score > 0


# --- query syntax --------------------------------------------------------------------------------------------------


def test_words_are_anded(archive: Archive, corpus: dict[str, int]) -> None:
    assert set(ids(run(archive, "sanctuary california"))) == {corpus["lawsuit"]}
    assert set(ids(run(archive, "sanctuary"))) == {corpus["letters"], corpus["ruling"], corpus["lawsuit"]}


def test_phrase_needs_adjacent_words(archive: Archive, corpus: dict[str, int]) -> None:
    assert ids(run(archive, '"immigration fraud"')) == [corpus["fraud"]]
    # both words occur in "lawsuit" too, but not next to each other
    assert set(ids(run(archive, "immigration enforcement"))) == {corpus["lawsuit"]}
    assert ids(run(archive, '"enforcement immigration"')) == []


def test_or_matches_either_word(archive: Archive, corpus: dict[str, int]) -> None:
    result = run(archive, "texas OR california")
    assert set(ids(result)) == {corpus["fraud"], corpus["lawsuit"]}
    # OR binds tighter than the implicit AND: sanctuary AND (texas OR california)
    assert ids(run(archive, "sanctuary texas OR california")) == [corpus["lawsuit"]]


def test_exclusion(archive: Archive, corpus: dict[str, int]) -> None:
    assert set(ids(run(archive, "sanctuary -california"))) == {corpus["letters"], corpus["ruling"]}
    assert set(ids(run(archive, 'sanctuary -"san francisco"'))) == {corpus["letters"], corpus["lawsuit"]}


def test_prefix(archive: Archive, corpus: dict[str, int]) -> None:
    assert set(ids(run(archive, "sanct*"))) == {corpus["letters"], corpus["ruling"], corpus["lawsuit"]}
    assert ids(run(archive, "sanct")) == []  # without the star it is a whole word


def test_lowercase_or_is_a_word(archive: Archive, corpus: dict[str, int]) -> None:
    # were "or" an operator this would find both; as a word (a stop word on PostgreSQL) it ANDs
    assert ids(run(archive, "texas or california")) == []


@pytest.mark.parametrize(
    "query",
    [
        "title:letters",
        "NEAR(sanctuary letters)",
        "sanctuary AND",
        "a & b | !c",
        "o'brien",
        "(sanctuary",
        "sanctuary *",
        "sanctuary:*",
        "NOT sanctuary",
        'x"y"*',
        "{title}: x",
        "sanctuary^",
        "ü\\",
    ],
)
def test_user_text_cannot_inject_syntax(archive: Archive, corpus: dict[str, int], query: str) -> None:
    result = run(archive, query)  # must not raise; the characters are treated as separators
    assert isinstance(result.total, int)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"sanctuary city', "unbalanced double quote"),
        ('letters "a" "b', "unbalanced double quote"),
        ("-sanctuary", "only excludes"),
        ('-sanctuary -"cook county"', "only excludes"),
        ("sanctuary OR", "OR must stand between"),
        ("OR sanctuary", "OR must stand between"),
        ("sanctuary OR OR letters", "OR must stand between"),
        ("sanctuary OR -letters", "OR must stand between"),
        ("§ --- *", "no searchable words"),
    ],
)
def test_malformed_query_is_a_query_error(archive: Archive, query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message) as info:
        run(archive, query)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"order": "oldest"},
        {"limit": -1},
        {"offset": -5},
    ],
)
def test_bad_arguments_are_query_errors(archive: Archive, kwargs: dict[str, Any]) -> None:
    with pytest.raises(QueryError):
        run(archive, "sanctuary", **kwargs)


@pytest.mark.parametrize(
    "fields",
    [
        {"published_since": datetime(2017, 1, 1)},
        {"fetched_until": datetime(2017, 1, 1)},
        {"statutes": [("8", "")]},
        {"doc_types": ["opinion"]},
        {"query": '"unbalanced'},
    ],
)
def test_bad_filters_are_query_errors(fields: dict[str, Any]) -> None:
    with pytest.raises(QueryError):
        F(**fields)


# --- snippets ------------------------------------------------------------------------------------------------------


def test_snippet_marks_the_matched_word(archive: Archive, corpus: dict[str, int]) -> None:
    (hit,) = run(archive, "byrne").hits
    assert "[Byrne]" in hit.snippet
    assert "sanctuary conditions" in hit.snippet
    (hit,) = run(archive, "byrne", highlight=("<b>", "</b>")).hits
    assert "<b>Byrne</b>" in hit.snippet and "[" not in hit.snippet


def test_snippet_falls_back_to_the_title(archive: Archive, corpus: dict[str, int]) -> None:
    (hit,) = run(archive, "annual").hits
    assert "[Annual]" in hit.snippet


def test_hit_fields(archive: Archive, corpus: dict[str, int]) -> None:
    (hit,) = run(archive, "byrne").hits
    assert hit.document_id == corpus["ruling"]
    assert (hit.source, hit.doc_type, hit.title) == ("courtlistener", "ruling", "Court rules on grant conditions")
    assert hit.published_at == d(2018, 3, 10)
    assert hit.url is not None and hit.url.startswith("https://")


# --- filters -------------------------------------------------------------------------------------------------------


def test_jurisdiction_filter_ors_values(archive: Archive, corpus: dict[str, int]) -> None:
    assert ids(run(archive, "sanctuary", filter=F(jurisdictions=("fips:17031",)))) == [corpus["letters"]]
    both = run(archive, "sanctuary", filter=F(jurisdictions=("fips:17031", "fips:06")))
    assert set(ids(both)) == {corpus["letters"], corpus["lawsuit"]}
    assert ids(run(archive, "sanctuary", filter=F(jurisdictions=("fips:48",)))) == []


def test_statute_filter(archive: Archive, corpus: dict[str, int]) -> None:
    with_title = run(archive, "", filter=F(statutes=(("8", "1373"),)))
    assert set(ids(with_title)) == {corpus["letters"], corpus["ruling"]}
    any_title = run(archive, "", filter=F(statutes=((None, "1373"),)))
    assert set(ids(any_title)) == {corpus["letters"], corpus["ruling"], corpus["lawsuit"]}
    either = run(archive, "", filter=F(statutes=(("18", "1546"), ("34", "10153"))))
    assert set(ids(either)) == {corpus["fraud"], corpus["ruling"]}
    assert ids(run(archive, "", filter=F(statutes=(("18", "1373"),)))) == []


def test_doc_type_and_source_filters(archive: Archive, corpus: dict[str, int]) -> None:
    assert ids(run(archive, "sanctuary", filter=F(doc_types=(DocType.RULING,)))) == [corpus["ruling"]]
    assert ids(run(archive, "grants", filter=F(sources=("ojp",)))) == [corpus["report"]]
    assert set(ids(run(archive, "grants", filter=F(sources=("ojp", "courtlistener"))))) == {
        corpus["report"],
        corpus["ruling"],
    }


def test_date_range_since_inclusive_until_exclusive(archive: Archive, corpus: dict[str, int]) -> None:
    since = run(archive, "sanctuary", filter=F(published_since=d(2018, 3, 7)))
    assert set(ids(since)) == {corpus["ruling"], corpus["lawsuit"]}
    until = run(archive, "sanctuary", filter=F(published_until=d(2018, 3, 10)))
    assert set(ids(until)) == {corpus["letters"], corpus["lawsuit"]}
    window = run(archive, "", filter=F(published_since=d(2012, 1, 1), published_until=d(2018, 1, 1)))
    assert set(ids(window)) == {corpus["fraud"], corpus["letters"]}


def test_filters_combine_with_and(archive: Archive, corpus: dict[str, int]) -> None:
    flt = F(
        statutes=((None, "1373"),),
        sources=("doj",),
        doc_types=(DocType.LAWSUIT,),
        published_since=d(2018, 1, 1),
    )
    assert ids(run(archive, "sanctuary", filter=flt)) == [corpus["lawsuit"]]
    assert ids(run(archive, "sanctuary", filter=F(jurisdictions=("fips:06075",), sources=("doj",)))) == []


def test_query_in_the_filter(archive: Archive, corpus: dict[str, int]) -> None:
    flt = F(query="sanctuary", sources=("doj",))
    expected = {corpus["letters"], corpus["lawsuit"]}
    assert set(ids(run(archive, flt))) == expected
    assert set(ids(run(archive, "", filter=flt))) == expected
    assert set(ids(run(archive, "sanctuary", filter=F(sources=("doj",))))) == expected
    with pytest.raises(QueryError, match="two queries"):
        run(archive, "letters", filter=flt)


def test_the_filter_is_given_once_as_a_document_filter(archive: Archive, corpus: dict[str, int]) -> None:
    with pytest.raises(TypeError, match="once"):
        run(archive, F(), filter=F())
    with pytest.raises(TypeError, match="sources"):  # the separate filter keywords are gone: filter=DocumentFilter
        run(archive, "sanctuary", sources=["doj"])


def test_empty_query_lists_filtered_documents_newest_first(archive: Archive, corpus: dict[str, int]) -> None:
    result = run(archive, "  ", filter=F(statutes=((None, "1373"),)))
    assert ids(result) == [corpus["ruling"], corpus["lawsuit"], corpus["letters"]]
    assert result.total == 3
    assert all(h.score == 0.0 for h in result.hits)
    assert result.hits[0].snippet.startswith("A federal judge")
    assert run(archive, "").total == len(FILLER) + 5


# --- order and paging ----------------------------------------------------------------------------------------------


def test_newest_order(archive: Archive, corpus: dict[str, int]) -> None:
    result = run(archive, "sanctuary", order="newest")
    assert ids(result) == [corpus["ruling"], corpus["lawsuit"], corpus["letters"]]
    # not ranked, so not scored (as a listing); the same hits by relevance are scored, with the same snippets
    assert [h.score for h in result.hits] == [0.0, 0.0, 0.0]
    ranked = {h.document_id: h for h in run(archive, "sanctuary").hits}
    assert all(ranked[h.document_id].score > 0 for h in result.hits)
    assert [h.snippet for h in result.hits] == [ranked[h.document_id].snippet for h in result.hits]
    assert all("[sanctuary]" in h.snippet.lower() for h in result.hits)


def test_pagination(archive: Archive, corpus: dict[str, int]) -> None:
    full = run(archive, "sanctuary OR grants OR fraud", order="newest")
    assert full.total == 6  # five from the corpus and the health care fraud filler
    first = run(archive, "sanctuary OR grants OR fraud", order="newest", limit=2)
    second = run(archive, "sanctuary OR grants OR fraud", order="newest", limit=2, offset=2)
    last = run(archive, "sanctuary OR grants OR fraud", order="newest", limit=2, offset=4)
    assert ids(first) + ids(second) + ids(last) == ids(full)
    assert (first.total, second.total, last.total) == (6, 6, 6)
    assert run(archive, "sanctuary OR grants OR fraud", order="newest", limit=4, offset=4).total == 6
    assert run(archive, "sanctuary", limit=2, offset=10) == SearchResult(total=3, hits=[])


def test_total_is_capped(archive: Archive, corpus: dict[str, int]) -> None:
    result = run(archive, "", limit=1, count_cap=4)
    assert (result.total, result.total_exact, len(result.hits)) == (4, False, 1)
    exact = run(archive, "", limit=1, count_cap=None)
    assert (exact.total, exact.total_exact) == (len(FILLER) + 5, True)


# --- keeping the index in sync -------------------------------------------------------------------------------------


def test_index_follows_updates_and_deletes(archive: Archive, corpus: dict[str, int]) -> None:
    with archive.session() as s:
        doc = s.get(Document, corpus["fraud"])
        assert doc is not None
        doc.title = "Man sentenced for passport forgery"
        doc.body_text = "A Texas man forged passports."
    assert ids(run(archive, "forgery")) == [corpus["fraud"]]
    assert ids(run(archive, "identity")) == []  # the old body is gone from the index
    with archive.session() as s:
        s.execute(sa.delete(Document).where(Document.id == corpus["fraud"]))
    assert ids(run(archive, "forgery")) == []
    assert ids(run(archive, "passports")) == []


def test_sqlite_plan_drives_from_the_fts_index(sqlite_archive: Archive) -> None:
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        statements.append((statement, parameters))

    sa.event.listen(sqlite_archive.engine, "before_cursor_execute", capture)
    with sqlite_archive.session() as s:
        add_filler(s)
        search(s, "smuggling", filter=F(jurisdictions=("fips:48",), published_since=d(2010)), limit=1)
        sa.event.remove(sqlite_archive.engine, "before_cursor_execute", capture)
        plans = [
            " | ".join(row[3] for row in s.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params))
            for sql, params in statements
            if "documents_fts MATCH" in sql and "ORDER BY f.rowid DESC" in sql  # the filtered matches, newest first
        ]
    assert len(plans) == 1
    accesses = [step for step in plans[0].split(" | ") if step.startswith(("SCAN", "SEARCH"))]
    assert accesses[0].startswith("SCAN f VIRTUAL TABLE"), plans[0]  # the FTS index drives
    assert "SEARCH d USING INTEGER PRIMARY KEY" in plans[0]
    assert "SCAN d" not in plans[0]


@pytest.mark.parametrize("rare_below", [1, 10**6], ids=["walk-dates", "drive-from-tags"])
def test_listing_plans_agree(
    archive: Archive, corpus: dict[str, int], monkeypatch: pytest.MonkeyPatch, rare_below: int
) -> None:
    monkeypatch.setattr("lawwatch.pipeline.search._RARE_TAG", rare_below)
    result = run(archive, "", filter=F(jurisdictions=("fips:17031", "fips:06", "fips:06075")), limit=2)
    assert ids(result) == [corpus["ruling"], corpus["lawsuit"]]
    assert result.total == 3
    cited = run(archive, "", filter=F(statutes=((None, "1373"),), sources=("doj",)))
    assert ids(cited) == [corpus["lawsuit"], corpus["letters"]]
