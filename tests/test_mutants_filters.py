"""DocumentFilter and the dates people type (pipeline/filters.py): behaviours the other tests left unguarded, found
by mutation testing (issue 16, docs/mutation.md). Each test names what a user of search, export or alert rules sees."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from lawwatch.errors import QueryError
from lawwatch.pipeline.classify import Classification, JurisdictionTag
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.doctypes import DocType
from lawwatch.pipeline.filters import (
    EARLIEST,
    LATEST,
    DocumentFilter,
    FilterableDocument,
    Period,
    parse_period,
    parse_when,
)
from lawwatch.pipeline.models import Document, DocumentJurisdiction, DocumentSource, DocumentStatute
from lawwatch.pipeline.normalize import NormalizedDocument
from lawwatch.pipeline.store import store_documents
from tests.helpers.factories import normalized_document


def _utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture
def new_york_clock() -> Iterator[None]:
    """The machine's local zone is New York: results must still be UTC."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        yield
    finally:
        mp.undo()
        time.tzset()


def _doc(**fields: object) -> FilterableDocument:
    base: dict[str, object] = {
        "source": "doj",
        "doc_type": "letter",
        "published_at": _utc(2017, 10, 12),
        "fetched_at": _utc(2026, 1, 1),
        "jurisdictions": frozenset({"fips:17031"}),
        "statutes": frozenset({("8", "1373")}),
        "title": "Letter to Cook County",
        "body_text": "Sanctuary policies and 8 U.S.C. 1373.",
    }
    base.update(fields)
    return FilterableDocument(**base)  # type: ignore[arg-type]


# --- the documents a filter looks at -------------------------------------------------------------------------------


def test_a_stored_document_without_title_or_body_is_searched_as_empty_text() -> None:
    row = Document(source="doj", doc_type="letter", title=None, body_text=None, published_at=None)
    row.fetched_at = _utc(2026, 1, 1)
    row.jurisdictions = [
        DocumentJurisdiction(jurisdiction_id="fips:06075", role="named"),
        DocumentJurisdiction(jurisdiction_id="fips:06", role="locator"),
    ]
    row.statutes = [DocumentStatute(title="8", section="1373")]
    row.seen_via = [DocumentSource(source="usao")]
    doc = FilterableDocument.from_row(row)
    assert (doc.title, doc.body_text) == ("", "")
    assert doc.jurisdictions == {"fips:06075"} and doc.locators == {"fips:06"}
    assert doc.seen_via == {"doj", "usao"}
    assert doc.statutes == {("8", "1373")}
    assert not DocumentFilter(query="sanctuary").matches(doc)
    assert DocumentFilter(sources=("usao",), statutes=(("8", "1373"),)).matches(doc)


@dataclass(frozen=True)
class _BareTag:
    """A jurisdiction tag from before tags had roles: only an id."""

    id: str


def test_a_jurisdiction_tag_without_a_role_counts_as_named() -> None:
    doc = normalized_document(title="Letter", body="Sanctuary")
    bare = NormalizedDocument(
        **{
            **{f: getattr(doc, f) for f in doc.__dataclass_fields__},
            "classification": Classification(
                doc_type="letter",
                statutes=(),
                jurisdictions=(_BareTag("fips:48"),),  # type: ignore[arg-type]
                courts=(),
                cases=(),
            ),
        }
    )
    found = FilterableDocument.from_normalized(bare)
    assert found.jurisdictions == {"fips:48"} and found.locators == frozenset()
    assert (found.title, found.body_text) == ("Letter", "Sanctuary")
    assert DocumentFilter(jurisdictions=("fips:48",)).matches(found)


def _with_tags(doc: NormalizedDocument, *tags: object) -> NormalizedDocument:
    fields = {f: getattr(doc, f) for f in doc.__dataclass_fields__}
    fields["classification"] = Classification(
        doc_type="letter",
        statutes=(),
        jurisdictions=tags,  # type: ignore[arg-type]
        courts=(),
        cases=(),
    )
    return NormalizedDocument(**fields)


def test_a_state_that_only_locates_a_place_is_a_locator_of_the_document() -> None:
    berkeley = JurisdictionTag("fips:0606000", "Berkeley", "city", "CA", 1, 0)
    california = JurisdictionTag("fips:06", "California", "state", "", 1, 10, role="locator")
    doc = FilterableDocument.from_normalized(_with_tags(normalized_document(title="Berkeley"), berkeley, california))
    assert doc.jurisdictions == {"fips:0606000"} and doc.locators == {"fips:06"}
    assert not DocumentFilter(jurisdictions=("fips:06",)).matches(doc)
    assert DocumentFilter(jurisdictions=("fips:06",), within=True).matches(doc)


def test_a_document_without_title_or_body_has_empty_text() -> None:
    doc = FilterableDocument.from_normalized(normalized_document(title="", body=""))
    assert (doc.title, doc.body_text) == ("", "")
    assert not DocumentFilter(query="xxxx").matches(doc)


def test_the_storing_source_matches_even_without_a_sighting_row(sqlite_archive: Archive) -> None:
    """``conditions()`` answers as ``matches()``: the source that stored a document is one it was seen via."""
    with sqlite_archive.session() as session:
        (result,) = store_documents(session, [normalized_document(title="x", source="doj")])
        session.execute(sa.text("DELETE FROM document_sources"))
    flt = DocumentFilter(sources=("doj",))
    with sqlite_archive.session() as session:
        found = session.scalars(sa.select(Document.id).where(*flt.conditions())).all()
        row = session.get(Document, result.document_id)
        assert row is not None and flt.matches(FilterableDocument.from_row(row))
    assert found == [result.document_id]


# --- explain(): an alert's "why" ---------------------------------------------------------------------------------


def test_explain_says_which_places_statutes_type_and_words_matched() -> None:
    flt = DocumentFilter(
        jurisdictions=("fips:17031",),
        statutes=((None, "1373"),),
        doc_types=(DocType.LETTER,),
        query='sanctuary OR texas "cook county"',
    )
    doc = _doc(statutes=frozenset({("8", "1373"), ("8", "1324"), ("18", "1373")}))
    assert flt.matches(doc)
    assert flt.explain(doc) == {
        "jurisdictions": ["fips:17031"],
        "statutes": ["18 U.S.C. § 1373", "8 U.S.C. § 1373"],
        "doc_types": ["letter"],
        "words": ["sanctuary", "texas", "cook county"],
    }


def test_explain_names_only_the_cited_title_that_was_asked_for() -> None:
    flt = DocumentFilter(statutes=(("8", "1373"),))
    doc = _doc(statutes=frozenset({("8", "1373"), ("18", "1373"), ("8", "1324"), (None, "1373")}))
    assert flt.explain(doc)["statutes"] == ["8 U.S.C. § 1373"]


def test_explain_of_a_filter_without_fields_lists_nothing() -> None:
    assert DocumentFilter().explain(_doc()) == {"jurisdictions": [], "statutes": [], "doc_types": [], "words": []}


def test_explain_with_within_lists_the_places_inside_the_state() -> None:
    flt = DocumentFilter(jurisdictions=("fips:17",), within=True)
    doc = _doc(jurisdictions=frozenset({"fips:17031", "fips:48"}), locators=frozenset({"fips:17"}))
    assert flt.explain(doc)["jurisdictions"] == ["fips:17", "fips:17031"]


# --- describe() ----------------------------------------------------------------------------------------------------


def test_describe_says_within_for_a_state_and_its_places() -> None:
    assert DocumentFilter(jurisdictions=("fips:17",), within=True).describe() == "documents in or naming Illinois"
    assert DocumentFilter(jurisdictions=("fips:17",)).describe() == "documents naming Illinois"


def test_describe_of_one_type_and_one_source() -> None:
    assert DocumentFilter(doc_types=(DocType.RULING,), sources=("doj",)).describe() == "rulings from doj"


def test_describe_gives_seconds_only_when_the_bound_has_them() -> None:
    def until(moment: datetime) -> str:
        return DocumentFilter(fetched_until=moment).describe()

    assert until(_utc(2026, 1, 1, 12, 30)) == "documents fetched before 2026-01-01 12:30 UTC"
    assert until(_utc(2026, 1, 1, 12, 30, 15)) == "documents fetched before 2026-01-01 12:30:15 UTC"
    assert until(datetime(2026, 1, 1, 12, 30, 0, 500, tzinfo=UTC)) == "documents fetched before 2026-01-01 12:30:00 UTC"
    assert (
        DocumentFilter(fetched_since=_utc(2026, 1, 1, 0, 0, 15)).describe()
        == "documents fetched from 2026-01-01 00:00:15 UTC"
    )


def test_describe_leaves_ids_that_are_not_places_as_they_are() -> None:
    assert DocumentFilter(jurisdictions=("cook-county",)).describe() == "documents naming cook-county"


@pytest.mark.parametrize("field", ["jurisdictions", "sources", "statutes", "doc_types"])
def test_a_string_where_a_sequence_belongs_is_refused_naming_the_field(field: str) -> None:
    with pytest.raises(QueryError, match=rf"^{field} takes a sequence of values, not the string 'letter'$"):
        DocumentFilter(**{field: "letter"})  # type: ignore[arg-type]


def test_values_of_the_wrong_shape_are_refused_naming_the_field() -> None:
    with pytest.raises(QueryError, match=r"^jurisdiction ids and sources are strings, not 48$"):
        DocumentFilter(jurisdictions=[48])  # type: ignore[list-item]
    with pytest.raises(QueryError) as info:
        DocumentFilter(statutes=[("8", " ")])
    assert str(info.value) == "a statute filter needs a section, e.g. 8 U.S.C. 1373 → ('8', '1373')"


def test_sequences_given_as_lists_are_kept_as_tuples() -> None:
    flt = DocumentFilter(sources=["doj", "usao"], statutes=[("8", "1373")])  # type: ignore[arg-type]
    assert flt.sources == ("doj", "usao") and flt.statutes == (("8", "1373"),)
    assert hash(flt) == hash(DocumentFilter(sources=("doj", "usao"), statutes=(("8", "1373"),)))


# --- from_user: the fetched range and within -------------------------------------------------------------------------


def test_from_user_reads_the_fetched_range_as_a_span() -> None:
    flt = DocumentFilter.from_user(fetched_since="2026-01", fetched_until="2026-01", within=True)
    assert flt.fetched_since == _utc(2026, 1, 1)
    assert flt.fetched_until == _utc(2026, 2, 1)  # through the end of January
    assert flt.within is True
    assert DocumentFilter.from_user().within is False


@pytest.mark.parametrize(
    ("field", "label"),
    [("since", "since"), ("until", "until"), ("fetched_since", "fetched since"), ("fetched_until", "fetched until")],
)
def test_from_user_names_the_date_field_that_is_wrong(field: str, label: str) -> None:
    with pytest.raises(QueryError, match=rf"^{label}: 'someday' is not a date like 2017"):
        DocumentFilter.from_user(**{field: "someday"})  # type: ignore[arg-type]


def test_from_user_explains_what_a_statute_citation_looks_like() -> None:
    with pytest.raises(QueryError) as info:
        DocumentFilter.from_user(statutes=["the constitution"])
    assert str(info.value) == (
        "not a statute citation: 'the constitution': try a title and section, like '8 U.S.C. 1373', "
        "or a section, like '1373'"
    )


# --- parse_period / parse_when ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "precision", "start", "end"),
    [
        ("2017-11", "month", _utc(2017, 11, 1), _utc(2017, 12, 1)),
        ("2017-01", "month", _utc(2017, 1, 1), _utc(2017, 2, 1)),
        ("2017W40", "week", _utc(2017, 10, 2), _utc(2017, 10, 9)),
        ("2017-W40-1", "day", _utc(2017, 10, 2), _utc(2017, 10, 3)),
        ("2017W401", "day", _utc(2017, 10, 2), _utc(2017, 10, 3)),
        ("12 2017", "month", _utc(2017, 12, 1), _utc(2018, 1, 1)),
        ("October 2017", "month", _utc(2017, 10, 1), _utc(2017, 11, 1)),
        ("Dec 31 2017", "day", _utc(2017, 12, 31), _utc(2018, 1, 1)),
        ("2017 AD", "year", _utc(2017, 1, 1), _utc(2018, 1, 1)),  # a year alone, in words: all of it
        ("2017.", "year", _utc(2017, 1, 1), _utc(2018, 1, 1)),
        ("Oct 12 2017 10:30", "instant", _utc(2017, 10, 12, 10, 30), _utc(2017, 10, 12, 10, 30)),
        ("Oct 12 2017 10:30:15", "instant", _utc(2017, 10, 12, 10, 30, 15), _utc(2017, 10, 12, 10, 30, 15)),
        (
            "Oct 12 2017 10:30:15.25",
            "instant",
            datetime(2017, 10, 12, 10, 30, 15, 250000, tzinfo=UTC),
            datetime(2017, 10, 12, 10, 30, 15, 250000, tzinfo=UTC),
        ),
        ("Oct 12 2017 10:00 -05:00", "instant", _utc(2017, 10, 12, 15), _utc(2017, 10, 12, 15)),
        ("Oct 12 2017 00:00 +14:00", "instant", _utc(2017, 10, 11, 10), _utc(2017, 10, 11, 10)),
        ("2017-10-12T00:00+02:00", "instant", _utc(2017, 10, 11, 22), _utc(2017, 10, 11, 22)),
        ("9999-12-31", "day", _utc(9999, 12, 31), None),
        ("9999-12", "month", _utc(9999, 12, 1), None),
        ("9999-W52", "week", _utc(9999, 12, 27), None),
    ],
)
def test_a_date_is_the_span_it_names(text: str, precision: str, start: datetime, end: datetime | None) -> None:
    period = parse_period(text)
    assert (period.text, period.precision, period.start, period.end) == (text, precision, start, end)


def test_a_span_past_9999_says_it_ends_high() -> None:
    assert parse_period("9999") == Period("9999", "year", _utc(9999, 1, 1), None, "", "high")
    assert parse_period(" 2017 ") == Period("2017", "year", _utc(2017, 1, 1), _utc(2018, 1, 1), "", "")


def test_an_instant_outside_the_years_says_on_which_side() -> None:
    low = parse_period("0001-01-01T00:00+01:00")
    assert low == Period("0001-01-01T00:00+01:00", "instant", None, None, "low", "low")
    high = parse_period("9999-12-31T23:00-05:00")
    assert high == Period("9999-12-31T23:00-05:00", "instant", None, None, "high", "high")
    assert parse_period("0001-01-01T00:00Z").start == EARLIEST  # exactly the first moment: no side
    assert parse_period("0001-01-01T00:00Z").start_side == ""
    year_one = parse_period("0001-01-01T00:30+00:30")
    assert (year_one.start, year_one.start_side) == (EARLIEST, "")


def test_a_long_date_up_to_64_characters_is_read() -> None:
    text = "October" + " " * 50 + "12 2017"
    assert len(text) == 64
    assert parse_period(text).start == _utc(2017, 10, 12)
    with pytest.raises(QueryError, match="is not a date like"):
        parse_period("October" + " " * 51 + "12 2017")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Oct 12 2017 10:00 XYZ",
            r"^date: 'Oct 12 2017 10:00 XYZ' is not a date .* \(unknown time zone: give an offset",
        ),
        ("Jan 1 0001", r"^date: 'Jan 1 0001' is not a date .* \(write a year before 1000 as an ISO date"),
        ("Oct 12", r"^date: 'Oct 12' is not a date .* \(it needs a year\)$"),
        ("", r"^date: '' is not a date like 2017, 2017-10, 2017-10-12 or 2017-10-12T10:00-05:00$"),
    ],
)
def test_a_date_that_cannot_be_read_says_why(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse_period(text)


@pytest.mark.parametrize("text", ["2017 10am", "2017 10:30", "Oct 2017 10am", "2017-10 10am"])
def test_a_time_without_its_day_is_refused(text: str) -> None:
    with pytest.raises(QueryError, match=r"is not a date.*a time needs its day"):
        parse_period(text)


def test_a_four_digit_year_among_other_numbers_is_checked() -> None:
    assert parse_period("Oct 12 2017 10:30").start == _utc(2017, 10, 12, 10, 30)  # 10, 12 and 30 are not years
    with pytest.raises(QueryError, match="write a year before 1000"):
        parse_period("Jan 12 0017")


def test_dates_are_utc_whatever_the_machines_zone(new_york_clock: None) -> None:
    assert parse_when("2017-10-12T10:00-05:00") == _utc(2017, 10, 12, 15)
    assert parse_when("2017-10-12T10:00-05:00").tzinfo == UTC  # type: ignore[union-attr]
    east = datetime(2017, 10, 12, 10, tzinfo=timezone(timedelta(hours=-5)))
    assert parse_when(east).tzinfo == UTC  # type: ignore[union-attr]
    assert DocumentFilter(published_since=east).published_since.tzinfo == UTC  # type: ignore[union-attr]
    assert parse_period("2017").start.tzinfo == UTC  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "end", "expected"),
    [
        (date(2017, 10, 12), False, _utc(2017, 10, 12)),
        ("9999-12-31T23:00-05:00", True, LATEST),  # an end after every stored date
        ("0001-01-01T00:00+01:00", False, EARLIEST),  # a start before every stored date
        ("0001-01-01T00:00+01:00", False, EARLIEST),
    ],
)
def test_bounds_outside_the_years_that_every_date_satisfies_are_clamped(
    value: str | date, end: bool, expected: datetime
) -> None:
    assert parse_when(value, end=end) == expected


def test_bounds_that_no_date_can_satisfy_are_errors_naming_the_side() -> None:
    with pytest.raises(QueryError) as info:
        parse_when("0001-01-01T00:00+01:00", name="until", end=True)
    assert str(info.value) == "until: '0001-01-01T00:00+01:00' is before 0001-01-01 in UTC, where no document can be"
    with pytest.raises(QueryError) as info:
        parse_when("9999-12-31T23:00-05:00", name="since")
    assert str(info.value) == "since: '9999-12-31T23:00-05:00' is after 9999-12-31 in UTC, where no document can be"
    with pytest.raises(QueryError, match=r"^date: '9999-12-31T23:00-05:00' is after"):
        parse_when("9999-12-31T23:00-05:00")


def test_an_empty_bound_is_no_bound() -> None:
    assert parse_when(None) is None
    assert parse_when("", end=True) is None


def test_a_naive_datetime_bound_is_refused() -> None:
    with pytest.raises(QueryError, match=r"^fetched since must be a timezone-aware datetime, got 2017-01-01T00:00:00$"):
        parse_when(datetime(2017, 1, 1), name="fetched since")
