"""Statute recognisers: every written form of § 1373 and the numbers that are not it."""

from __future__ import annotations

import pytest

from lawwatch.pipeline.classify import classify, parse_statute
from lawwatch.pipeline.classify.statutes import find_statutes


def cites(text: str) -> list[tuple[str | None, str, str | None]]:
    return [(c.title, c.section, c.subsection) for c in find_statutes(text)]


@pytest.mark.parametrize(
    "text",
    [
        "under 8 U.S.C. § 1373 the city",
        "under 8 U.S.C. 1373 the city",
        "under 8 USC 1373 the city",
        "under 8 U.S.C.A. § 1373 the city",
        "under 8 U.S.C. §1373 the city",
        "under Title 8, United States Code, Section 1373 the city",
        "under section 1373 of title 8 the city",
        "under Section 1373 of Title 8, United States Code, the city",
    ],
)
def test_full_forms_give_title_8(text: str) -> None:
    assert cites(text) == [("8", "1373", None)]


@pytest.mark.parametrize("text", ["Section 1373 says", "Sec. 1373 says", "SECTION 1373 says", "§ 1373 says"])
def test_bare_section_has_no_title_without_title_8_elsewhere(text: str) -> None:
    assert cites(text) == [(None, "1373", None)]


def test_bare_section_takes_title_8_when_document_cites_title_8() -> None:
    text = "The letter cites 8 U.S.C. § 1644. Later it says Section 1373 controls."
    assert cites(text) == [("8", "1644", None), ("8", "1373", None)]


def test_bare_section_takes_the_title_given_to_the_same_section() -> None:
    assert cites("18 U.S.C. § 1373 and again § 1373") == [("18", "1373", None), ("18", "1373", None)]


def test_subsection_and_lists() -> None:
    assert cites("§ 1373(a)") == [(None, "1373", "a")]
    assert cites("§§ 1373 and 1644") == [(None, "1373", None), (None, "1644", None)]
    assert cites("Sections 1373(a) and (b)") == [(None, "1373", "a"), (None, "1373", "b")]
    assert cites("8 U.S.C. §§ 1373(a), 1644, and 1357") == [
        ("8", "1373", "a"),
        ("8", "1644", None),
        ("8", "1357", None),
    ]
    assert cites("sections 1373 and 1644 of title 8") == [("8", "1373", None), ("8", "1644", None)]


@pytest.mark.parametrize(
    "text",
    ["a fee of $1,373", "1,373 cases", "Room 1373", "No. 17-1373", "Section 2 of the Act", "1373 people"],
)
def test_numbers_that_are_not_sections(text: str) -> None:
    assert cites(text) == []


def test_title_18_is_not_title_8() -> None:
    assert cites("charged under 18 U.S.C. § 1373") == [("18", "1373", None)]


def test_other_titles_and_list_boundaries() -> None:
    assert cites("8 U.S.C. § 1644 and 34 U.S.C. § 10151") == [("8", "1644", None), ("34", "10151", None)]
    assert cites("8 U.S.C. § 1373, 2018 WL 123456") == [("8", "1373", None)]


def test_section_of_an_act_has_no_code_title() -> None:
    assert cites("INA § 287(g) and 8 U.S.C. § 1357(g)") == [(None, "287", "g"), ("8", "1357", "g")]


def test_offsets_and_text() -> None:
    text = "The order cites 8 U.S.C. § 1373(a) twice."
    (c,) = find_statutes(text)
    assert text[c.start : c.end] == c.text == "8 U.S.C. § 1373(a)"


def test_case_citations_via_eyecite() -> None:
    text = "See City of Chicago v. Sessions, 888 F.3d 272, 280 (7th Cir. 2018); 8 U.S.C. § 1373."
    result = classify(text)
    assert [c.text for c in result.cases] == ["888 F.3d 272"]
    assert [(s.title, s.section) for s in result.statutes] == [("8", "1373")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("8 U.S.C. 1373", ("8", "1373", None)),
        ("8 USC 1373(a)", ("8", "1373", "a")),
        ("1373", (None, "1373", None)),
        ("§ 1373", (None, "1373", None)),
        ("34 U.S.C. § 10151", ("34", "10151", None)),
    ],
)
def test_parse_statute(query: str, expected: tuple) -> None:
    assert parse_statute(query) == expected


def test_parse_statute_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        parse_statute("sanctuary")
