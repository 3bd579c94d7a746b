"""User text cannot inject query syntax: a query full of FTS5 or tsquery operators returns exactly the documents
its words return when searched plainly (on both backends). ``title:letters`` must not become a column filter,
``NEAR(...)``, ``AND``/``NOT``, ``^`` and ``{title}:`` must not become operators."""

from __future__ import annotations

import re

import pytest

from lawwatch.pipeline.db import Archive
from tests.test_search import corpus as corpus  # noqa: F401 (the fixture)
from tests.test_search import ids, run

HOSTILE = [
    "title:letters",
    "body_text:sanctuary",
    "NEAR(sanctuary letters)",
    "sanctuary AND",
    "a & b | !c",
    "o'brien",
    "(sanctuary",
    "sanctuary *",
    "sanctuary^",
    "NOT sanctuary",
    "{title}: letters",
    "letters^ (chicago)",
    "ü\\",
]


def plain(query: str) -> str:
    """The query's words alone, separated by spaces."""
    return " ".join(re.findall(r"[^\W_]+", query))


@pytest.mark.parametrize("query", HOSTILE)
def test_operators_in_user_text_are_words(archive: Archive, corpus: dict[str, int], query: str) -> None:  # noqa: F811
    hostile = run(archive, query, limit=100)
    expected = run(archive, plain(query), limit=100)
    assert hostile.total == expected.total
    assert sorted(ids(hostile)) == sorted(ids(expected))


def test_the_cases_are_not_vacuous(archive: Archive, corpus: dict[str, int]) -> None:  # noqa: F811
    """Some hostile queries find documents, and a column filter would find a different set than the words."""
    assert run(archive, plain("(sanctuary")).total >= 3
    assert run(archive, plain("letters^ (chicago)")).total >= 1
    assert run(archive, plain("title:letters")).total == 0  # "title" is in no document; letters only in a title
    assert run(archive, "letters").total >= 1
