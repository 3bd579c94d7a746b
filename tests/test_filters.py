"""DocumentFilter: search, export and ``matches()`` agree on both backends; ``describe()``; ``from_user`` errors."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from lawwatch.errors import QueryError
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.doctypes import DOC_TYPES, DocType
from lawwatch.pipeline.filters import DocumentFilter, FilterableDocument, parse_when
from lawwatch.pipeline.normalize import NormalizedDocument
from lawwatch.pipeline.query import iter_documents
from lawwatch.pipeline.search import Order, search
from lawwatch.pipeline.store import store_documents
from lawwatch.pipeline.textquery import FTS5_TOKENIZE
from tests.helpers.factories import normalized_document

SOURCES = ("doj", "usao", "ojp")
STORED_TYPES = (*DOC_TYPES, "press_release")  # older rows may carry a type no filter names
PLACES = ("fips:17031", "fips:1714000", "fips:06", "fips:06075", "fips:48")
CITES: tuple[tuple[str | None, str], ...] = (("8", "1373"), (None, "1373"), ("18", "1373"), ("8", "1324"))
# Moments around which the dates cluster, so that ranges often fall exactly on a stored value.
BOUNDS = tuple(datetime(2017, month, 1, tzinfo=UTC) for month in (1, 4, 7, 10)) + (datetime(2018, 1, 1, tzinfo=UTC),)
NEAR = (timedelta(0), timedelta(microseconds=-1), timedelta(microseconds=1), timedelta(hours=-5), timedelta(days=20))
# Words whose Porter (SQLite) and Snowball (PostgreSQL) stems agree; none is a PostgreSQL stop word.
VOCAB = (
    "sanctuary sanctuaries county counties grant grants granted letter letters court courts border detainer "
    "detainers warrant warrants funding funded compliance comply jail sheriff ruling rulings immigration "
    "enforcement federal justice agency agencies policy policies"
).split()


def _moment(rng: random.Random) -> datetime:
    return rng.choice(BOUNDS) + rng.choice(NEAR)


def _text(rng: random.Random, words: int) -> str:
    return " ".join(w.capitalize() if rng.random() < 0.2 else w for w in rng.choices(VOCAB, k=words))


def _document(rng: random.Random) -> NormalizedDocument:
    return normalized_document(
        title=_text(rng, rng.randint(2, 5)),
        # the body starts with a word no query uses: a PostgreSQL phrase may run from the title into the body
        body="Summary. " + _text(rng, rng.randint(4, 16)),
        source=rng.choice(SOURCES),
        doc_type=rng.choice(STORED_TYPES),
        published_at=None if rng.random() < 0.1 else _moment(rng),
        fetched_at=_moment(rng),
        jurisdictions=rng.sample(PLACES, rng.choice((0, 0, 1, 1, 2, 3))),
        statutes=rng.sample(CITES, rng.choice((0, 1, 1, 2))),
    )


def _sample(rng: random.Random, pool: tuple[Any, ...], extra: tuple[Any, ...] = ()) -> tuple[Any, ...]:
    if rng.random() > 0.4:
        return ()
    return tuple(rng.sample(pool + extra, rng.randint(1, 2)))


def _filter(rng: random.Random, query: str = "") -> DocumentFilter:
    def bound() -> datetime | None:
        return _moment(rng) if rng.random() < 0.3 else None

    return DocumentFilter(
        jurisdictions=_sample(rng, PLACES, ("fips:99",)),
        statutes=_sample(rng, CITES),
        doc_types=_sample(rng, tuple(DocType)),
        sources=_sample(rng, SOURCES, ("nowhere",)),
        published_since=bound(),
        published_until=bound(),
        fetched_since=bound(),
        fetched_until=bound(),
        query=query,
    )


def _term(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.15:
        word = rng.choice(VOCAB)
        prefix = word[: rng.randint(3, 4)]
        return (word[:5] if prefix in ("she", "just") else prefix) + "*"  # PostgreSQL drops stop words
    if kind < 0.3:
        return '"' + " ".join(rng.choices(VOCAB, k=2)) + '"'
    return rng.choice(VOCAB)


def _query(rng: random.Random) -> str:
    groups = [" OR ".join(_term(rng) for _ in range(rng.choice((1, 1, 2)))) for _ in range(rng.randint(1, 2))]
    if rng.random() < 0.3:
        groups.append("-" + _term(rng))
    return " ".join(groups)


@dataclass
class Generated:
    archive: Archive
    by_id: dict[int, NormalizedDocument]
    seen_via: dict[int, frozenset[str]]  # the sources besides its own each document was seen under


@pytest.fixture
def generated(archive: Archive) -> Iterator[Generated]:
    rng = random.Random(1373)
    docs = [_document(rng) for _ in range(160)]
    with archive.session() as session:
        results = store_documents(session, docs)
    # a third of them are seen again via another source (or "nowhere", which filters also name): the same URL, so
    # the same document, stored by its first source and seen via both
    again = [replace(doc, source=rng.choice((*SOURCES, "nowhere"))) for doc in docs if rng.random() < 0.35]
    with archive.session() as session:
        seen = store_documents(session, again)
    seen_via: dict[int, set[str]] = {r.document_id: set() for r in results}
    for result in seen:
        assert result.outcome == "unchanged"
        seen_via[result.document_id].add(result.source)
    yield Generated(
        archive,
        {r.document_id: doc for r, doc in zip(results, docs, strict=True)},
        {i: frozenset(sources) for i, sources in seen_via.items()},
    )


def _search_ids(archive: Archive, flt: DocumentFilter, order: Order = "newest", page: int = 9) -> list[int]:
    found: list[int] = []
    with archive.session() as session:
        while True:
            result = search(session, filter=flt, order=order, limit=page, offset=len(found))
            found += [hit.document_id for hit in result.hits]
            if len(result.hits) < page:
                break
    assert result.total == len(found) and result.total_exact
    assert len(set(found)) == len(found)
    return found


def _agree(generated: Generated, flt: DocumentFilter, rows: list[FilterableDocument], ids: list[int]) -> set[int]:
    expected = {i for i, row in zip(ids, rows, strict=True) if flt.matches(row)}
    normalized = {
        i
        for i, doc in generated.by_id.items()
        if flt.matches(replace(FilterableDocument.from_normalized(doc), sources=generated.seen_via[i]))
    }
    assert normalized == expected, flt
    with generated.archive.session() as session:
        exported = [doc.id for doc in iter_documents(session, flt, chunk=25)]
    assert exported == sorted(expected), flt
    return expected


def _stored(archive: Archive) -> tuple[list[FilterableDocument], list[int]]:
    with archive.session() as session:
        docs = list(iter_documents(session))
        return [FilterableDocument.from_row(d) for d in docs], [d.id for d in docs]


def test_search_export_and_matches_agree(generated: Generated, monkeypatch: pytest.MonkeyPatch) -> None:
    rows, ids = _stored(generated.archive)
    published = {i: row.published_at for i, row in zip(ids, rows, strict=True)}
    rng = random.Random(8)
    nonempty = 0
    for round_ in range(120):
        flt = _filter(rng)
        expected = _agree(generated, flt, rows, ids)
        nonempty += bool(expected)
        # both listing plans: probe tags per row while walking dates, or drive from the tag index
        monkeypatch.setattr("lawwatch.pipeline.search._RARE_TAG", 1 if round_ % 2 else 10**6)
        listed = _search_ids(generated.archive, flt)
        assert set(listed) == expected, flt
        newest = sorted(expected, key=lambda i: (published[i] is not None, published[i] or BOUNDS[0], i))
        assert listed == newest[::-1], flt
    assert nonempty > 40  # the filters were not all empty-handed


def test_queries_agree_with_matches(generated: Generated) -> None:
    """With a full-text query: search (both orders) and ``matches()``; on SQLite matches() is exact by
    construction, on PostgreSQL they agree for words without stop words, accents or inner punctuation."""
    rows, ids = _stored(generated.archive)
    rng = random.Random(9)
    matched = 0
    for round_ in range(120):
        query = _query(rng)
        flt = _filter(rng, query) if round_ % 3 == 0 else DocumentFilter(query=query)
        expected = {i for i, row in zip(ids, rows, strict=True) if flt.matches(row)}
        matched += bool(expected)
        orders: tuple[Order, ...] = ("relevance", "newest")
        for order in orders:
            assert set(_search_ids(generated.archive, flt, order)) == expected, (query, flt)
    assert matched > 40


def test_a_source_means_seen_via_it(archive: Archive) -> None:
    """A release stored first by doj_news and then seen via doj_api is doj_api's too, for every rendering."""
    html = normalized_document(title="Letters", body="Letters to jurisdictions", source="doj_news")
    with archive.session() as session:
        (first,) = store_documents(session, [html])
        (second,) = store_documents(session, [replace(html, source="doj_api", external_id="uuid-1")])
    assert (first.outcome, second.outcome) == ("new", "unchanged") and first.document_id == second.document_id
    for sources, found in ((("doj_api",), True), (("doj_news",), True), (("doj_rss",), False)):
        flt = DocumentFilter(sources=sources)
        with archive.session() as session:
            exported = [d.id for d in iter_documents(session, flt)]
            (row,) = iter_documents(session)
            assert flt.matches(FilterableDocument.from_row(row)) is found
            listed = [h.document_id for h in search(session, filter=flt).hits]
            matched = [h.document_id for h in search(session, "letters", filter=flt).hits]
        assert exported == ([first.document_id] if found else [])
        assert listed == matched == exported


def test_export_refuses_a_query(generated: Generated) -> None:
    with generated.archive.session() as session, pytest.raises(QueryError, match="full-text query"):
        next(iter_documents(session, DocumentFilter(query="sanctuary")))


# --- matches() on its own ------------------------------------------------------------------------------------------


def _doc(**fields: Any) -> FilterableDocument:
    base: dict[str, Any] = {
        "source": "doj",
        "doc_type": "letter",
        "published_at": datetime(2017, 10, 1, tzinfo=UTC),
        "fetched_at": datetime(2017, 10, 2, tzinfo=UTC),
        "jurisdictions": frozenset({"fips:17031"}),
        "statutes": frozenset({("8", "1373")}),
        "title": "Letters to sanctuary jurisdictions",
        "body_text": "The Department sent letters to Cook County about 8 U.S.C. 1373.",
    }
    return FilterableDocument(**{**base, **fields})


def test_matches_follows_the_query_syntax() -> None:
    doc = _doc()
    for query, expected in [
        ("sanctuary", True),
        ("SANCTUARY letter", True),  # case and stemming: "letter" finds "Letters"
        ('"cook county"', True),
        ('"county cook"', False),
        ("texas OR cook", True),
        ("sanctuary -cook", False),
        ('sanctuary -"cook city"', True),
        ("sanct*", True),
        ("sanct", False),
        ('"u s c"', True),  # punctuation splits words, as on SQLite
    ]:
        assert DocumentFilter(query=query).matches(doc) is expected, query
    assert DocumentFilter(query="departement").matches(_doc(body_text="Départément")) is True  # accents folded


def test_matches_without_dates_or_tags() -> None:
    undated = _doc(published_at=None, jurisdictions=frozenset(), statutes=frozenset({(None, "1373")}))
    assert DocumentFilter().matches(undated)
    assert not DocumentFilter(published_until=datetime(2030, 1, 1, tzinfo=UTC)).matches(undated)
    assert not DocumentFilter(jurisdictions=("fips:17031",)).matches(undated)
    assert DocumentFilter(statutes=((None, "1373"),)).matches(undated)
    assert not DocumentFilter(statutes=(("8", "1373"),)).matches(undated)  # a title-less cite is no title 8


def test_from_normalized_without_classification() -> None:
    doc = normalized_document(title="x", jurisdictions=["fips:48"])
    bare = FilterableDocument.from_normalized(
        NormalizedDocument(**{**{f: getattr(doc, f) for f in doc.__dataclass_fields__}, "classification": None})
    )
    assert (bare.doc_type, bare.jurisdictions, bare.statutes) == ("other", frozenset(), frozenset())
    assert FilterableDocument.from_normalized(doc).jurisdictions == {"fips:48"}


def test_the_matcher_indexes_like_the_archive(sqlite_archive: Archive) -> None:
    with sqlite_archive.engine.connect() as conn:
        ddl = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'documents_fts'")).scalar_one()
    assert f"tokenize='{FTS5_TOKENIZE}'" in ddl


# --- the value itself ----------------------------------------------------------------------------------------------


def test_filters_are_normalised_values() -> None:
    east = datetime(2017, 10, 1, 9, tzinfo=UTC).astimezone(ZoneInfo("America/New_York"))
    one = DocumentFilter(jurisdictions=["fips:48"], doc_types=["letter"], published_since=east)  # type: ignore[arg-type]
    two = DocumentFilter(jurisdictions=("fips:48",), doc_types=(DocType.LETTER,), published_since=east)
    assert one == two and hash(one) == hash(two)
    assert one.published_since is not None and one.published_since.tzinfo is UTC
    assert one.doc_types == (DocType.LETTER,)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"published_since": datetime(2017, 1, 1)}, "timezone-aware"),
        ({"fetched_until": datetime(2017, 1, 1)}, "timezone-aware"),
        ({"statutes": [("8", "")]}, "needs a section"),
        ({"statutes": [("", "1373")]}, "title number or None"),
        ({"statutes": ["1373"]}, r"\(title or None, section\)"),
        ({"statutes": ["13"]}, r"\(title or None, section\)"),
        ({"jurisdictions": "fips:48"}, "a sequence of values, not the string 'fips:48'"),
        ({"sources": "doj"}, "a sequence of values"),
        ({"doc_types": ["opinion"]}, "unknown document type 'opinion'"),
        ({"query": "sanctuary OR"}, "OR must stand between"),
    ],
)
def test_bad_values_are_query_errors(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(QueryError, match=message):
        DocumentFilter(**fields)


# --- describe() ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flt", "sentence"),
    [
        (DocumentFilter(), "all documents"),
        (
            DocumentFilter(
                doc_types=(DocType.LETTER, DocType.RULING),
                jurisdictions=("fips:17031",),
                statutes=(("8", "1373"),),
                sources=("doj_api",),
                published_since=datetime(2017, 10, 1, tzinfo=UTC),
            ),
            "letters or rulings naming Cook County, IL citing 8 U.S.C. § 1373 from doj_api published from 2017-10-01",
        ),
        (
            DocumentFilter(
                doc_types=(DocType.LAWSUIT, DocType.FILING, DocType.OTHER),
                jurisdictions=("fips:48", "fips:1714000", "fips:99"),
                statutes=((None, "1373"),),
            ),
            "lawsuits, filings or other documents naming Texas, Chicago, IL or fips:99 citing § 1373 (any title)",
        ),
        (
            DocumentFilter(
                query='sanctuary -"cook county"',
                published_since=datetime(2017, 1, 1, tzinfo=UTC),
                published_until=datetime(2018, 1, 1, tzinfo=UTC),
                fetched_until=datetime(2026, 1, 1, 12, 30, tzinfo=UTC),
            ),
            "documents matching 'sanctuary -\"cook county\"' published from 2017-01-01 through 2017-12-31 "
            "fetched before 2026-01-01 12:30 UTC",
        ),
        (DocumentFilter(published_until=datetime(2018, 3, 1, tzinfo=UTC)), "documents published through 2018-02-28"),
    ],
)
def test_describe(flt: DocumentFilter, sentence: str) -> None:
    assert flt.describe() == sentence


def test_describe_uses_given_names() -> None:
    flt = DocumentFilter(jurisdictions=("fips:17031",))
    assert flt.describe({"fips:17031": "Cook County, Illinois"}) == "documents naming Cook County, Illinois"


# --- from_user -----------------------------------------------------------------------------------------------------


def test_from_user_resolves_what_people_type() -> None:
    flt = DocumentFilter.from_user(
        jurisdictions=["Cook County, IL", "fips:48"],
        statutes=["8 U.S.C. 1373", "1373(a)"],
        doc_types=["letter", "ruling"],
        sources=["doj_api"],
        since="2017-10-01",
        until="2017-12-31",
        fetched_since="2026-01-01T10:00:00-05:00",
        query="sanctuary",
    )
    assert flt == DocumentFilter(
        jurisdictions=("fips:17031", "fips:48"),
        statutes=(("8", "1373"), (None, "1373")),
        doc_types=(DocType.LETTER, DocType.RULING),
        sources=("doj_api",),
        published_since=datetime(2017, 10, 1, tzinfo=UTC),
        published_until=datetime(2018, 1, 1, tzinfo=UTC),  # the whole last day
        fetched_since=datetime(2026, 1, 1, 15, tzinfo=UTC),
        query="sanctuary",
    )
    assert DocumentFilter.from_user(since="", until=None) == DocumentFilter()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Springfield, IL", "fips:1772000"),
        ("Philadelphia", "fips:4260000"),
        ("NYC", "fips:3651000"),
        ("Illinois", "fips:17"),
        # one place under two gazetteer ids (state-level and county entries): the id documents are tagged with
        ("District of Columbia", "fips:11"),
        ("Guam", "fips:66"),
    ],
)
def test_from_user_resolves_places_as_alert_rules_do(name: str, expected: str) -> None:
    from lawwatch.pipeline.classify import classify
    from lawwatch.pipeline.places import resolve_place

    assert resolve_place(name).id == expected
    assert DocumentFilter.from_user(jurisdictions=[name]).jurisdictions == (expected,)
    if name in ("District of Columbia", "Guam"):
        assert expected in {j.id for j in classify(f"Officials of {name} received a letter.").jurisdictions}


def test_from_user_lists_the_candidates_of_an_ambiguous_place() -> None:
    from lawwatch.pipeline.places import PlaceError

    with pytest.raises(PlaceError) as info:
        DocumentFilter.from_user(jurisdictions=["Springfield"])
    assert {"Springfield, MO", "Springfield, IL", "Springfield, MA"} <= set(info.value.candidates)
    for name, state in (("New York", "fips:36"), ("Washington", "fips:53"), ("Delaware", "fips:10")):
        with pytest.raises(PlaceError) as info:  # a state and a city: each candidate, as written, is one place
            DocumentFilter.from_user(jurisdictions=[name])
        assert f"{name} State" in info.value.candidates
        resolved = {c: DocumentFilter.from_user(jurisdictions=[c]).jurisdictions for c in info.value.candidates}
        assert resolved[f"{name} State"] == (state,) and len(set(resolved.values())) == len(resolved)


@pytest.mark.parametrize(
    ("value", "end", "expected"),
    [
        ("2017-10-01", False, datetime(2017, 10, 1, tzinfo=UTC)),
        ("2017-10-01", True, datetime(2017, 10, 2, tzinfo=UTC)),
        (date(2017, 10, 1), True, datetime(2017, 10, 2, tzinfo=UTC)),
        ("2017-10-01T10:00", True, datetime(2017, 10, 1, 10, tzinfo=UTC)),  # a timestamp: exclusive, read as UTC
        ("Oct 1 2017", False, datetime(2017, 10, 1, tzinfo=UTC)),
        (datetime(2017, 10, 1, 10, tzinfo=UTC), False, datetime(2017, 10, 1, 10, tzinfo=UTC)),
    ],
)
def test_parse_when(value: Any, end: bool, expected: datetime) -> None:
    assert parse_when(value, end=end) == expected


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"jurisdictions": ["Atlantis, XX"]}, "'Atlantis, XX': 'XX' is not a U.S. state or its abbreviation"),
        ({"jurisdictions": ["Atlantis"]}, "unknown jurisdiction 'Atlantis'"),
        ({"jurisdictions": ["Springfield"]}, "'Springfield' is ambiguous: did you mean Springfield, MO / .*IL"),
        ({"jurisdictions": ["Portland"]}, "'Portland' is ambiguous: did you mean Portland, OR / ME"),
        ({"jurisdictions": ["Kansas City"]}, "'Kansas City' is ambiguous: did you mean Kansas City, MO / KS"),
        ({"jurisdictions": ["Chicgo"]}, "unknown jurisdiction 'Chicgo': did you mean Chicago, IL"),
        ({"statutes": ["the constitution"]}, "not a statute citation: 'the constitution': try"),
        ({"doc_types": ["memo"]}, "unknown document type 'memo': choose from letter, ruling"),
        ({"since": "last tuesday"}, "since: 'last tuesday' is not a date like 2017, 2017-10, 2017-10-12 or"),
        ({"until": "Oct 12"}, "until: 'Oct 12' is not a date .*it needs a year"),
        ({"since": "2017-13"}, "since: '2017-13' is not a date"),
        ({"since": "x" * 10_000}, "since: 'x{79}…' is not a date"),  # never more than 80 characters of input
        ({"since": datetime(2017, 1, 1)}, "since must be a timezone-aware datetime"),
        ({"query": '"sanctuary'}, "unbalanced double quote"),
    ],
)
def test_from_user_errors(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(QueryError, match=message) as info:
        DocumentFilter.from_user(**fields)
    assert "\n" not in str(info.value)


def test_a_far_more_populous_namesake_is_taken_and_said_so() -> None:
    """Prominence (issue 13): a candidate with 10 times the population of every other is the one meant; closer
    namesakes stay ambiguous (the negative side: Portland OR/ME is 9.5 to 1, Columbus OH/GA 4.5 to 1)."""
    from lawwatch.pipeline.places import resolve_place

    cook = resolve_place("Cook County")
    assert (cook.id, cook.state, cook.resolved_by) == ("fips:17031", "IL", "prominence")
    assert resolve_place("Cook County, GA").resolved_by == ""  # a state given: no guess
    assert DocumentFilter.from_user(jurisdictions=["Cook County"]).jurisdictions == ("fips:17031",)
    for name in ("Portland", "Columbus", "Kansas City", "Springfield"):
        with pytest.raises(QueryError, match="is ambiguous"):
            resolve_place(name)
