"""Statute and case citations (classify/statutes.py) as a reader of a classification sees them: which sections are
reported, with which title, subsection, text and offsets, and which case citations and extra U.S.C. citations
eyecite adds. Written to kill the mutants that survived tests/test_classify_statutes.py (issue 16,
docs/mutation.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lawwatch.pipeline.classify import statutes as statutes_module
from lawwatch.pipeline.classify.gazetteer import fold
from lawwatch.pipeline.classify.statutes import CaseCite, StatuteCite, find_cases, find_statutes, parse_statute

Cite = tuple[str | None, str, str | None, str]


def cites(text: str) -> list[Cite]:
    """(title, section, subsection, text) of each statute found; the offsets must give the text back."""
    found = find_statutes(text)
    for c in found:
        assert text[c.start : c.end].strip() == c.text and c.end - c.start >= len(c.text), c
    return [(c.title, c.section, c.subsection, c.text) for c in found]


def folded(text: str) -> str:
    """The folded text the classifier hands to ``find_cases`` (padded by one space at each end)."""
    return f" {fold(text)} "


# --- statutes: the written forms and the lists after them -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8 U. S. C. § 1373", [("8", "1373", None, "8 U. S. C. § 1373")]),
        ("§§ 1373 and 1644 apply", [(None, "1373", None, "§§ 1373"), (None, "1644", None, "1644")]),
        ("Sections 1373(a) and (b)", [(None, "1373", "a", "Sections 1373(a)"), (None, "1373", "b", "(b)")]),
        (
            "8 U.S.C. § 1644. Also §§ 1373 and 1357 apply",
            [("8", "1644", None, "8 U.S.C. § 1644"), ("8", "1373", None, "§§ 1373"), ("8", "1357", None, "1357")],
        ),
        (
            "8 U.S.C. § 1357. INA §§ 287(g) and 235 apply",
            [("8", "1357", None, "8 U.S.C. § 1357"), (None, "287", "g", "§§ 287(g)"), (None, "235", None, "235")],
        ),
        ("Section 1373 and (the rest)", [(None, "1373", None, "Section 1373")]),
        ("§ 1373(A)", [(None, "1373", "A", "§ 1373(A)")]),
        (
            "sections 1373 and 1644 of title 8, United States Code, apply",
            [("8", "1373", None, "sections 1373"), ("8", "1644", None, "1644 of title 8, United States Code")],
        ),
    ],
)
def test_written_forms_and_lists_give_each_section_with_its_text(text: str, expected: list[Cite]) -> None:
    assert cites(text) == expected


def test_a_listed_section_starts_at_its_number() -> None:
    (_, second) = find_statutes("§§ 1373 and 1644 apply")
    assert (second.start, second.end) == (12, 16)
    (_, sub) = find_statutes("Sections 1373(a) and (b)")
    assert (sub.start, sub.end) == (21, 24)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a section written right after another one, without a space
        ("§ 1373(a)8 U.S.C. § 1644", [("8", "1373", "a", "§ 1373(a)"), ("8", "1644", None, "8 U.S.C. § 1644")]),
        ("8 U.S.C. § 1373§ 1644", [("8", "1373", None, "8 U.S.C. § 1373"), ("8", "1644", None, "§ 1644")]),
        # every keyword is read, however many
        (
            "Section 1373 applies. Section 1644 too. Section 1357 also.",
            [
                (None, "1373", None, "Section 1373"),
                (None, "1644", None, "Section 1644"),
                (None, "1357", None, "Section 1357"),
            ],
        ),
        (
            "§ 1373; § 1644; § 1357",
            [(None, "1373", None, "§ 1373"), (None, "1644", None, "§ 1644"), (None, "1357", None, "§ 1357")],
        ),
        ("§§§ 1373", [(None, "1373", None, "§§ 1373")]),
        # a title-first form inside another citation is skipped, the next one is still read
        (
            "Title 8, United States Code, Section 12 U.S.C. § 1373; Title 18, United States Code, Section 1644",
            [
                ("12", "1373", None, "12 U.S.C. § 1373"),
                ("18", "1644", None, "Title 18, United States Code, Section 1644"),
            ],
        ),
    ],
)
def test_neighbouring_citations_are_each_read(text: str, expected: list[Cite]) -> None:
    assert cites(text) == expected


def test_a_section_right_after_another_keeps_its_offsets() -> None:
    first, second = find_statutes("8 U.S.C. § 1373§ 1644")
    assert (first.start, first.end, second.start, second.end) == (0, 15, 15, 21)
    assert [c.start for c in find_statutes("§§§ 1373")] == [1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Section 287 says", [(None, "287", None, "Section 287")]),  # three digits are enough
        ("Section 2 of the Act and Section 1373 apply", [(None, "1373", None, "Section 1373")]),
        ("Penal Code section 6269 and Section 1373", [(None, "1373", None, "Section 1373")]),
        ("Code section 1373", []),
        ("Section 1373 of the Code", [(None, "1373", None, "Section 1373")]),  # a Code named after is no state code
        ("under section 626.9 of the rules", []),  # a decimal section is a state code's
        ("under Section 1373. The city", [(None, "1373", None, "Section 1373")]),  # a full stop is no decimal point
        ("§ 1373(1).5", [(None, "1373", "1", "§ 1373(1)")]),
        ("Penal Code § 626.9. Section 1373 applies.", [(None, "1373", None, "Section 1373")]),
    ],
)
def test_short_and_state_code_sections_are_left_out_and_the_rest_read(text: str, expected: list[Cite]) -> None:
    assert cites(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Title 8, Section 1373 of the U.S. Code", [("8", "1373", None, "Section 1373")]),
        ("Title 8, Section 1373 of the U.S. Code. See also Title 18", [("8", "1373", None, "Section 1373")]),
        ("Section 1373 of the United States Code requires", [(None, "1373", None, "Section 1373")]),
        ("Title 8, Section 1373 says", [(None, "1373", None, "Section 1373")]),  # no Code named: maybe an Act's title
    ],
)
def test_a_title_before_the_section_counts_only_with_the_code_after_it(text: str, expected: list[Cite]) -> None:
    assert cites(text) == expected


def test_a_letter_that_lower_cases_to_two_keeps_the_sections_after_it() -> None:
    # "İ".lower() is two characters: the keyword positions must still be those of the text
    assert cites("İstanbul office: Section 1373 applies") == [(None, "1373", None, "Section 1373")]
    assert cites("İİ 8 U.S.C. § 1373 and Section 1644") == [
        ("8", "1373", None, "8 U.S.C. § 1373"),
        ("8", "1644", None, "Section 1644"),
    ]


def test_cites_serialise_to_their_fields() -> None:
    (cite,) = find_statutes("under 8 U.S.C. § 1373(a) the city")
    assert cite.to_dict() == {
        "title": "8",
        "section": "1373",
        "subsection": "a",
        "text": "8 U.S.C. § 1373(a)",
        "start": 6,
        "end": 24,
    }
    assert CaseCite("888 F.3d 272").to_dict() == {"text": "888 F.3d 272"}


# --- parse_statute: what a user types --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Title 8, United States Code, Section 1373", ("8", "1373", None)),
        ("section 1373 of title 8", ("8", "1373", None)),
        ("8 § 1373", ("8", "1373", None)),
        ("1373(A)", (None, "1373", "A")),
        ("1373a", (None, "1373a", None)),
        ("1373(a)", (None, "1373", "a")),
    ],
)
def test_parse_statute_reads_every_form_a_user_types(query: str, expected: tuple[str | None, str, str | None]) -> None:
    assert parse_statute(query) == expected


def test_parse_statute_says_what_it_could_not_read() -> None:
    with pytest.raises(ValueError, match=r"^not a statute citation: 'sanctuary'$"):
        parse_statute("sanctuary")


# --- case citations and the U.S.C. citations eyecite adds ------------------------------------------------------------


def _cases(
    text: str, statutes: list[StatuteCite], fast: bool
) -> tuple[list[str], list[StatuteCite], list[tuple[int, int]]]:
    found, extra, cited = find_cases(text, statutes, folded(text) if fast else None)
    return [c.text for c in found], extra, cited


FAST = pytest.mark.parametrize("fast", [False, True], ids=["full-scan", "folded"])


@FAST
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("888 F.3d 272 (7th Cir. 2018)", ["888 F.3d 272"]),  # at the very start of the text
        ("Roe v. Wade, 410 U.S. 113 (1973)", ["410 U.S. 113"]),
        ("Marbury v. Madison, 5 U.S. 137 (1803)", ["5 U.S. 137"]),  # a one-digit volume
        ("888 F.3d 272 and 138 S. Ct. 1816", ["888 F.3d 272", "138 S. Ct. 1816"]),
        ("Doe v. Roe, 2015 Ark. App. 123", ["2015 Ark. App. 123"]),
        ("Table 2 5 U.S. 137 (1803)", ["5 U.S. 137"]),  # a volume right after another number
        ("Sessions, 888 F.3d 272 (7th Cir. 2018); Doe v. Roe, 999 F.3d ___ (2019).", ["888 F.3d 272"]),  # no page yet
        # a state reporter alone opens no window, nor does a federal one without a volume and a page
        ("In 2018 F.3d cases rose. People v. Doe, 12 Ill. 2d 456 (1957).", []),
        ("City v. Sessions, 888 F.3d ___ (7th Cir. 2018)", []),  # no page yet
    ],
)
def test_case_citations_found(text: str, expected: list[str], fast: bool) -> None:
    assert _cases(text, [], fast)[0] == expected


@FAST
def test_the_cited_case_spans_are_offsets_in_the_whole_text(fast: bool) -> None:
    text = "x" * 300 + " City of Chicago v. Sessions, 888 F.3d 272 (7th Cir. 2018)"
    assert _cases(text, [], fast) == (["888 F.3d 272"], [], [(301, 358)])
    assert _cases("888 F.3d 272 and 138 S. Ct. 1816", [], fast)[2] == [(0, 12), (17, 32)]


@FAST
def test_a_usc_citation_no_recogniser_took_is_added(fast: bool) -> None:
    text = "8 U.S.C. § 1373 requires it"
    assert _cases(text, [], fast) == ([], [StatuteCite("8", "1373", None, "8 U.S.C. § 1373", 0, 15)], [])
    later = "x" * 300 + " under 42 U.S.C. § 1983"
    assert _cases(later, [], fast)[1] == [StatuteCite("42", "1983", None, "42 U.S.C. § 1983", 307, 323)]
    # other laws eyecite reads are not U.S.C. sections
    law = "See 8 U.S.C. § 1373; Pub. L. No. 104-208, 110 Stat. 3009 (1996)."
    assert _cases(law, [], fast)[1] == [StatuteCite("8", "1373", None, "8 U.S.C. § 1373", 4, 19)]
    # one the recognisers took is not added again
    assert _cases(text, find_statutes(text), fast)[1] == []


@FAST
def test_statutes_elsewhere_or_right_beside_do_not_hide_an_added_citation(fast: bool) -> None:
    text = "See § 1644; 8 U.S.C. § 1373 requires it"
    added = [StatuteCite("8", "1373", None, "8 U.S.C. § 1373", 12, 27)]
    elsewhere = StatuteCite(None, "1644", None, "§ 1644", 4, 10)
    assert _cases(text, [elsewhere], fast)[1] == added
    before = StatuteCite(None, "1644", None, "See § 1644; ", 0, 12)  # ends where the added one starts
    after = StatuteCite(None, "1", None, " requires", 27, 36)  # starts where it ends
    assert _cases(text, [before, after], fast)[1] == added
    overlapping = StatuteCite(None, "1373", None, "§ 1373", 21, 27)
    assert _cases(text, [overlapping], fast)[1] == []


NON_ASCII = [
    # a volume in Arabic-Indic digits: the precheck cannot read it and falls back to the full scan, whose window
    # around "F.3d" also holds the Illinois case (a state reporter, which opens no window of its own)
    "中 ٨٨٨ F.3d 272 and People v. Doe, 12 Ill. 2d 456 (1957).",
    "٨٨٨ F.3d 272 and People v. Doe, 12 Ill. 2d 456 (1957) 中",
    "中٨ F.3d 272 and People v. Doe, 12 Ill. 2d 456 (1957).",
    "中 ٨ F.3d 272 中 and People v. Doe, 12 Ill. 2d 456 (1957) 中",
]


@FAST
@pytest.mark.parametrize("text", NON_ASCII)
def test_a_volume_in_other_digits_still_opens_its_window(text: str, fast: bool) -> None:
    assert _cases(text, [], fast)[0] == ["12 Ill. 2d 456"]


def test_non_ascii_text_with_ascii_digits_uses_the_precheck_and_finds_the_case() -> None:
    text = "Le café de la cour: 888 F.3d 272 (7th Cir. 2018) — 中文"
    assert find_cases(text, [], folded(text))[0] == [CaseCite("888 F.3d 272")]


@pytest.mark.parametrize(
    "text",
    [
        "888 \nF.3d 272",  # a space and a line break between volume and reporter
        "888  F.3d 272",
        "888\nF.3d 272",
        "888 F.3d 272",
    ],
)
def test_the_precheck_and_the_full_scan_agree_on_the_space_before_a_reporter(text: str) -> None:
    # a window opened around "F.3d" would also hold the Illinois case (a state reporter opens none of its own)
    text = f"City v. Sessions, {text} (7th Cir. 2018); People v. Doe, 12 Ill. 2d 456 (1957)."
    assert find_cases(text, [], folded(text)) == find_cases(text, [])


@pytest.mark.parametrize("shape", ["unpadded", "cut", "short", "shifted"])
def test_a_folded_text_of_another_length_is_not_trusted(shape: str) -> None:
    text = "City of Chicago v. Sessions, 888 F.3d 272 (7th Cir. 2018)"
    given = {
        "unpadded": fold(text),
        "cut": folded(text)[2:],
        "short": fold(text)[2:],
        "shifted": "  " + fold(text) + " ",
    }[shape]
    assert find_cases(text, [], given)[0] == [CaseCite("888 F.3d 272")]


# --- the reporter table, built afresh (it is cached on disk between runs) ---------------------------------------------


@pytest.fixture
def fresh_reporters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    statutes_module._reporters.cache_clear()
    statutes_module._reporter_shape.cache_clear()
    yield tmp_path
    statutes_module._reporters.cache_clear()
    statutes_module._reporter_shape.cache_clear()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("City of Chicago v. Sessions, 888 F.3d 272 (7th Cir. 2018)", ["888 F.3d 272"]),
        ("City of Chicago v. Sessions, 888 F. 3d 272 (7th Cir. 2018)", ["888 F.3d 272"]),  # a variation
        ("Doe v. Roe, 123 So. 456 (Fla. 1930)", ["123 So. 456"]),  # a three-character name
        ("Trump v. Hawaii, 138 S. Ct. 2392 (2018)", ["138 S. Ct. 2392"]),  # a name with dots and no digit
        ("Doe v. Roe, 2015 Ark. App. 123", ["2015 Ark. App. 123"]),
        ("State v. Roe, 2010 N.H. 12", ["2010 N.H. 12"]),
        ("People v. Doe, 12 Ill. 2d 456 (1957)", []),  # a state reporter: no window
    ],
)
def test_a_freshly_built_reporter_table_finds_the_same_citations(
    fresh_reporters: Path, text: str, expected: list[str]
) -> None:
    assert [c.text for c in find_cases(text, [])[0]] == expected
    assert [c.text for c in find_cases(text, [], folded(text))[0]] == expected
    assert list(fresh_reporters.glob("lawwatch/reporters-*.pickle"))


def test_a_freshly_built_reporter_table_knows_the_usc(fresh_reporters: Path) -> None:
    text = "under 8 U.S.C. § 1373 the city"
    assert find_cases(text, [])[1] == [StatuteCite("8", "1373", None, "8 U.S.C. § 1373", 6, 21)]


@pytest.mark.parametrize(
    "text",
    [
        "Under 8 U S C 1373 the city must not restrict communication.",  # spaces, no periods
        "Under 8 U.S. C. § 1373 the city must not restrict communication.",
        "Under 8 U. S.C. 1373 the city must not restrict communication.",
        "Under title 8, United States\nCode, section 1373, the city must not restrict communication.",  # a line break
        "Under title 8 of the United  States  Code, section 1373, the city must not restrict it.",
    ],
)
def test_every_spacing_the_citation_patterns_accept_is_found(text: str) -> None:
    """The quick test that skips a pattern on texts without its words must accept every spacing the pattern does
    (it once looked for "u.s.c", "usc" and "u. s. c" only, and for "united states code" with single spaces)."""
    assert [(c.title, c.section) for c in find_statutes(text)] == [("8", "1373")]
