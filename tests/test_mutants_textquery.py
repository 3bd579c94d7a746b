"""The search query syntax as a user meets it (pipeline/textquery.py): which documents a query matches, which
queries are refused and why. Written to kill the mutants that survived tests/test_search*.py (issue 16,
docs/mutation.md); every case is a behaviour of the documented syntax."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from lawwatch.errors import QueryError
from lawwatch.pipeline.textquery import (
    MAX_QUERY_BYTES,
    MAX_QUERY_WORDS,
    ParsedQuery,
    Term,
    parse_query,
    text_matches,
    to_fts5,
    to_tsquery_sql,
)
from tests.conftest import _postgres_or_fail

TITLE = "Letter to Cook County"
BODY = "The Department says the sanctuary city policy of Chicago violates section 1373."


def matches(query: str, title: str | None = TITLE, body: str | None = BODY) -> bool:
    return text_matches(parse_query(query), title, body)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sanctuary chicago", True),  # both words
        ("sanctuary texas", False),  # words are ANDed
        ("texas OR chicago", True),  # either word
        ("texas OR houston", False),
        ("texas OR chicago sanctuary", True),  # OR binds tighter than the implicit AND
        ("texas OR chicago houston", False),
        ('"sanctuary city"', True),  # the exact phrase
        ('"city sanctuary"', False),  # the same words in another order are not the phrase
        ("sanctuary -texas", True),  # without a word the document lacks
        ("sanctuary -chicago", False),  # without a word it has
        ('sanctuary -"cook county"', False),  # a phrase excluded
        ('sanctuary -"county cook"', True),
        ("sanctuary -texas -houston", True),
        ("sanctuary -texas -chicago", False),  # any one exclusion present excludes
        ("sanct*", True),  # a prefix
        ("sanctx*", False),
        ('"sanctuary ci"*', True),  # a phrase whose last word is a prefix
        ('"sanctuary ci"', False),
        ("cook", True),  # the title is searched
        ("department", True),  # and the body
        ("SANCTUARY", True),  # case is ignored
        ("violating", True),  # stemming: violates ~ violating
        ("sanctuary - texas", False),  # a lone "-" is not an exclusion: the query wants texas
        ("sanctuary -", True),  # a "-" at the end is nothing
        ("-OR sanctuary", True),  # "-OR" excludes the word "or", which the document lacks
        ("sanctuary -x", True),  # a one-letter exclusion at the end is an exclusion
        ("sanctuary -1373", False),
        ('"cook county"*department', True),  # a word right after a prefix phrase is a word of its own
        ('"cook county"*epartment', False),
        ("TEX", False),  # a word ending in X is that word, not a prefix
    ],
)
def test_query_syntax_selects_documents(query: str, expected: bool) -> None:
    assert matches(query) is expected


def test_a_word_ending_in_x_is_no_prefix() -> None:
    assert not matches("TEX", "Texas", "")
    assert matches("TEX*", "Texas", "")


def test_a_lowercase_or_is_a_word() -> None:
    assert not matches("texas or chicago")  # "or" and "texas" are words the document lacks
    assert matches("texas OR chicago")


def test_a_word_after_a_phrase_is_a_word_of_its_own() -> None:
    assert matches('"cook county" chicago')
    assert not matches('"cook county" houston')
    assert matches('"cook county"chicago')  # no space needed after the closing quote


def test_an_excluded_phrase_only_excludes_that_phrase() -> None:
    assert matches('chicago -"sanctuary texas"')


def test_empty_and_blank_queries_match_every_document() -> None:
    for query in ("", "   ", "\t\n"):
        parsed = parse_query(query)
        assert parsed.empty
        assert parsed == ParsedQuery((), ())
        assert text_matches(parsed, "", "")


def test_a_query_of_words_is_not_empty() -> None:
    assert not parse_query("chicago").empty


def test_missing_title_or_body_is_searched_as_empty() -> None:
    assert matches("chicago", None, "Chicago")
    assert matches("chicago", "Chicago", None)
    assert not matches("chicago", None, None)
    assert not matches("xxxx", None, None)
    assert not matches("xxxx", "", None) and not matches("xxxx", None, "")


def test_nothing_is_kept_between_documents() -> None:
    assert matches("chicago", "Chicago", "")
    assert not matches("chicago", "Houston", "")
    assert not matches("houston OR chicago", "Boston", "")


def test_matching_keeps_one_in_memory_database_per_thread(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No file is written, and a thread matching many documents opens its database once."""
    opened: list[str] = []
    connect = sqlite3.connect

    def counting(database: str, *args: object, **kwargs: object) -> sqlite3.Connection:
        opened.append(database)
        return connect(database, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(sqlite3, "connect", counting)
    monkeypatch.chdir(tmp_path)
    answers: list[bool] = []

    def work() -> None:
        for title in ("Chicago", "Houston", "Chicago city"):
            answers.append(matches("chicago", title, ""))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert answers == [True, False, True]
    assert opened == [":memory:"]
    assert list(tmp_path.iterdir()) == []


def test_each_thread_matches_on_its_own() -> None:
    answers: list[bool] = []

    def work() -> None:
        answers.append(matches("chicago", "Chicago", ""))
        answers.append(matches("chicago", "Houston", ""))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert answers == [True, False]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"sanctuary city', "unbalanced double quote"),
        ('sanctuary "', "unbalanced double quote"),
        ("OR chicago", "OR must stand between two search words"),
        ("chicago OR", "OR must stand between two search words"),
        ("chicago OR OR texas", "OR must stand between two search words"),
        ("chicago OR -texas", "OR must stand between two search words"),
        ("-texas OR chicago", "OR must stand between two search words"),
        ("OR", "OR must stand between two search words"),
        ("-texas", "only excludes words"),
        ('-"cook county" -texas', "only excludes words"),
        ("*** !!!", "has no searchable words"),
        ('""', "has no searchable words"),
    ],
)
def test_malformed_queries_are_refused_with_the_reason(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message) as caught:
        parse_query(query)
    assert "\n" not in str(caught.value)
    assert repr(query) in str(caught.value)  # the message quotes the query


def test_a_refused_long_query_is_quoted_cut_short() -> None:
    with pytest.raises(QueryError, match=r"bytes\): 'chicago chicago chicago"):
        parse_query(" ".join(["chicago"] * (MAX_QUERY_WORDS + 1)))


def test_punctuation_alone_is_no_word_but_words_around_it_count() -> None:
    assert matches("*** chicago !!!")
    assert parse_query("*** chicago !!!") == parse_query("chicago")


def test_queries_up_to_the_limits_are_accepted() -> None:
    assert matches(" ".join(["chicago"] * MAX_QUERY_WORDS))
    at_limit = "chicago".ljust(MAX_QUERY_BYTES)  # one word and spaces: 4096 bytes
    assert len(at_limit.encode()) == MAX_QUERY_BYTES
    assert matches(at_limit)


def test_queries_past_the_limits_are_refused() -> None:
    with pytest.raises(QueryError, match=rf"query too long \({MAX_QUERY_WORDS + 1} words"):
        parse_query(" ".join(["chicago"] * (MAX_QUERY_WORDS + 1)))
    too_big = "chicago".ljust(MAX_QUERY_BYTES + 1)
    with pytest.raises(QueryError, match=rf"1 words, {MAX_QUERY_BYTES + 1} bytes"):
        parse_query(too_big)
    # bytes are counted in UTF-8, not characters: 2,049 "é" are 4,098 bytes
    with pytest.raises(QueryError, match="query too long"):
        parse_query("é" * (MAX_QUERY_BYTES // 2 + 1))
    with pytest.raises(QueryError, match=rf"at most {MAX_QUERY_WORDS} words and {MAX_QUERY_BYTES} bytes"):
        parse_query("a " * (MAX_QUERY_WORDS + 1))


def test_terms_remember_phrases_and_prefixes() -> None:
    parsed = parse_query('sanct* "cook county" -texas chicago OR houston "sanctuary ci"*')
    assert parsed.groups == (
        (Term("sanct", prefix=True),),
        (Term("cook county", phrase=True),),
        (Term("chicago"), Term("houston")),
        (Term("sanctuary ci", phrase=True, prefix=True),),
    )
    assert parsed.excluded == (Term("texas"),)


def test_term_tokens_are_its_lowercase_words() -> None:
    assert Term("U.S.C. § 1373 Cook_County").tokens == ["u", "s", "c", "1373", "cook", "county"]


def test_fts5_expression_quotes_every_term() -> None:
    """The expression search runs on SQLite: user text only ever appears inside double quotes."""
    parsed = parse_query('chicago OR cook sanct* -texas -"brien x"')
    assert to_fts5(parsed) == '(("chicago" OR "cook") AND "sanct"*) NOT ("texas" OR "brien x")'
    assert to_fts5(parse_query("chicago")) == '"chicago"'
    assert to_fts5(parse_query("title:letters NEAR(a b)")) == '"title:letters" AND "NEAR(a" AND "b)"'
    assert to_fts5(parse_query('"cook county"*department')) == '"cook county"* AND "department"'


def test_a_double_quote_inside_a_term_stays_inside_it() -> None:
    """parse_query never puts a quote in a term, but to_fts5 is public: a term built with one stays one string."""
    term = Term('o"brien OR x')
    assert to_fts5(ParsedQuery(((term,),), ())) == '"o""brien OR x"'
    assert text_matches(ParsedQuery(((term,),), ()), 'O"Brien or X', "")
    assert not text_matches(ParsedQuery(((term,),), ()), "x", "")


def test_operators_typed_by_users_are_searched_as_words() -> None:
    assert not matches("title:cook")  # no column filter: "title" is a word the document lacks
    assert matches("cook:county", "Cook County", "")  # the words, as a phrase


def test_a_query_the_fts_engine_refuses_is_a_query_error() -> None:
    """A NUL byte typed into a word: SQLite's FTS5 cannot read it, and the user gets one QueryError line."""
    parsed = parse_query("chi\x00cago")
    with pytest.raises(QueryError, match=r"^cannot run query: "):
        text_matches(parsed, "Chicago", "")
    assert matches("chicago", "Chicago", "")  # the failed query left nothing behind


# --- PostgreSQL: the tsquery search runs there --------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres() -> Iterator[sa.Engine]:
    engine = sa.create_engine(_postgres_or_fail())
    yield engine
    engine.dispose()


def pg_matches(engine: sa.Engine, query: str, text: str) -> bool:
    expr, params = to_tsquery_sql(parse_query(query))
    with engine.connect() as conn:
        found = conn.execute(sa.text(f"SELECT to_tsvector('english', :lw_doc) @@ ({expr})"), {**params, "lw_doc": text})
        return bool(found.scalar_one())


PG_DOC = f"{TITLE} {BODY} See 8 U.S.C. 1373."


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sanctuary chicago", True),
        ("sanctuary texas", False),
        ("texas OR chicago", True),
        ("texas OR houston", False),
        ("texas OR chicago sanctuary", True),
        ("texas OR chicago houston", False),
        ("houston OR texas OR chicago", True),
        ('"sanctuary city"', True),
        ('"city sanctuary"', False),
        ("sanctuary -texas", True),
        ("sanctuary -chicago", False),
        ('sanctuary -"cook county"', False),
        ('sanctuary -"county cook"', True),
        ("sanctuary -texas -chicago", False),
        ("sanctuary -texas -houston", True),
        ("sanct*", True),
        ("sanctx*", False),
        ('"sanctuary ci"*', True),  # a phrase whose last word is a prefix
        ('"sanctuar cit"*', False),  # only the last word is a prefix
        ('"city sanctuary"*', False),
        ('"county letter"*', False),
        ("cook,county", True),  # several words in one term: a phrase
        ("county,cook", False),
        ("violating", True),
    ],
)
def test_postgres_tsquery_follows_the_query_syntax(postgres: sa.Engine, query: str, expected: bool) -> None:
    assert pg_matches(postgres, query, PG_DOC) is expected


def test_postgres_tsquery_keeps_user_text_out_of_the_sql() -> None:
    expr, params = to_tsquery_sql(parse_query('chicago OR cook sanct* -texas -"o brien" "a b"* u.s.c.'))
    assert expr == (
        "(((plainto_tsquery('english', :t0) || plainto_tsquery('english', :t1)) && to_tsquery('english', :t2) && "
        "to_tsquery('english', :t3) && phraseto_tsquery('english', :t4)) && !!plainto_tsquery('english', :t5)) && "
        "!!phraseto_tsquery('english', :t6)"
    )
    assert params == {
        "t0": "chicago",
        "t1": "cook",
        "t2": "sanct:*",
        "t3": "a <-> b:*",
        "t4": "u.s.c.",
        "t5": "texas",
        "t6": "o brien",
    }
