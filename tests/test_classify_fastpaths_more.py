"""More fast paths (jurisdictions, caption, lower-casing) give the same answers as the plain code they replace."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from lawwatch.pipeline.classify import _lower, classify
from lawwatch.pipeline.classify.doctype import _CAPTION_LOWER, _caption_lower
from lawwatch.pipeline.classify.gazetteer import load
from lawwatch.pipeline.classify.jurisdictions import (
    _qualifier,
    _qualifier_by_char,
    _qualifier_match,
    _qualifier_re,
    find_jurisdictions,
)
from lawwatch.pipeline.classify.names import _PREV_WORD, _prev_word

EXAMPLES = sorted(Path(__file__).parent.joinpath("examples", "classify").glob("*.txt"))
TEXTS = [p.read_text(encoding="utf-8") for p in EXAMPLES]


def _search_prev(text: str, start: int) -> str | None:
    m = _PREV_WORD.search(text, max(0, start - 40), start)
    return m.group(1) if m else None


# --- the word before a name: reversed anchored match vs the backtracking search -------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Mayor Washington",
        "Dr. Washington",
        "J. Washington",
        "U.S. Washington",  # "S" then "." then a space: an initial, as the search finds it
        "ex-Mayor Washington",
        "O'Brien  Washington",
        "the ’Mayor Washington",
        "-'Mayor Washington",  # the word starts at its first letter
        "Mayor . Washington",  # a lone "." is no word's end
        "Mayor\n\nWashington",
        "Mayor\u2003\u00a0Washington",  # Unicode spaces are ``\s`` too
        "Mayor\x1cWashington",
        "Mayor,Washington",
        "Washington",
        " Washington",
        "1990s Washington",
        "é Washington",
        "a" * 45 + " Washington",  # a word longer than the 40-character window: cut at the window
        " " * 45 + "Washington",  # only spaces in the window
    ],
)
def test_prev_word_same_as_search(text: str) -> None:
    start = text.rindex("Washington")
    assert _prev_word(text, start) == _search_prev(text, start)


def test_prev_word_same_as_search_on_random_and_example_texts() -> None:
    rng = random.Random(1373)
    alphabet = "aZq'’-. \n\t\x1c\xa0\u2003,1éJ"
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        start = rng.randint(0, len(text))
        assert _prev_word(text, start) == _search_prev(text, start), (text, start)
    for text in TEXTS:
        for m in re.finditer(r"[A-Z]", text):
            assert _prev_word(text, m.start()) == _search_prev(text, m.start())


# --- caption: matches at the literals' occurrences vs a search ------------------------------------------------------


def test_caption_literals_same_as_search() -> None:
    rng = random.Random(1644)
    pieces = [
        "v.", "xv.", " v. ", "no.", "no. 1", "no. 12-", "no. 123-", "no. 1:", "case no.", "case  no.", "acase no.",
        "civil action no.", "acivil action no.", "united states district court", "united states district courts",
        "xunited states district court", "district court", "n", "o", ".", " ", "\n", "1", "-", ":", "_", "é",
    ]  # fmt: skip
    for _ in range(20000):
        head = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        assert _caption_lower(head) == (_CAPTION_LOWER.search(head) is not None), head
    for text in TEXTS:
        low = text[:3000].lower()
        assert _caption_lower(low) == (_CAPTION_LOWER.search(low) is not None)


# --- lower-casing through UTF-8 bytes vs str.lower -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ASCII ONLY",
        "The City’s “Sanctuary” Policy — Section 1373",
        "Café CAFÉ",  # "É" lower-cases: the plain path
        "İSTANBUL",  # lower-cases to two characters
        "ΟΔΟΣ ΣΑΣ",  # final sigma: by context
        "\u212a KELVIN",  # lower-cases to ASCII "k"
        "straße STRASSE ẞ",
        "lone \ud800 surrogate",
        "ǅungla ǈ ǋ",  # title-case letters
        "déjà vu, naïve",
    ],
)
def test_lower_same_as_str_lower(text: str) -> None:
    assert _lower(text) == text.lower()


def test_lower_same_as_str_lower_on_random_and_example_texts() -> None:
    rng = random.Random(8)
    alphabet = "aA zZ.’—éÉİıſ\u212aΣσςßẞ\u0307ǅ1"
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert _lower(text) == text.lower(), text
    for text in TEXTS:
        for variant in (text, text.upper(), text.lower()):
            assert _lower(variant) == variant.lower()


# --- jurisdictions: qualifier pattern cached per gazetteer, dateline test without a slice ---------------------------


def test_qualifier_cache_is_the_patterns_of_the_gazetteers_forms() -> None:
    gaz = load()
    assert _qualifier(gaz) is _qualifier_by_char(tuple(gaz.state_forms))
    assert _qualifier(gaz) is _qualifier(gaz)
    assert sum(len(p.pattern.split("|")) for p in _qualifier(gaz).values()) == len(gaz.state_forms)


def _qualifier_texts() -> list[str]:
    rng = random.Random(13)
    forms = list(load().state_forms)
    pieces = [*forms, ",", ", ", ",\n", " ", "\u2003", "x", "Nx", "N.", "and", "D.C.", "\t", "New", "Yorkshire"]
    made = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 6))) for _ in range(3000)]
    return [*TEXTS, *made, "", ",", " ,", "Illinois", ", ILL.", ",  N.Y.C.", ", Washington D.C."]


def test_qualifier_dispatch_matches_as_the_one_pattern() -> None:
    gaz = load()
    one = _qualifier_re(tuple(gaz.state_forms))
    by_char = _qualifier(gaz)
    for text in _qualifier_texts():
        for pos in range(len(text) + 1) if len(text) < 60 else [m.start() for m in re.finditer(r"[, ]", text)]:
            want, got = one.match(text, pos), _qualifier_match(by_char, text, pos)
            assert (want and (want.span(), want.groups())) == (got and (got.span(), got.groups())), (text, pos)


def test_fold_of_a_mostly_ascii_text_equals_the_regex() -> None:
    from lawwatch.pipeline.classify.gazetteer import _NON_WORD, fold

    rng = random.Random(7)
    alphabet = "aZé½ ?,.-_\u2003\u00a0\u0130\u03a3ß9\u0663中\U0001f600'\"\u2019\n\t\ud800"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(5000)]
    for text in [*texts, *TEXTS, *(t + " José ½ 3\u00b2" for t in TEXTS)]:
        low = text.lower()
        if len(low) != len(text):
            low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        assert fold(text) == _reference_fold(text, low, _NON_WORD), text


def _reference_fold(text: str, low: str, non_word: re.Pattern[str]) -> str:
    """``fold`` as it was written before the fast path: typographic marks to spaces, then the regex."""
    for c in "\u2018\u2019\u201c\u201d\u2013\u2014\u00a0\u00a7\u00b6\u2026\u00b7\u2022":
        low = low.replace(c, " ")
    return non_word.sub(" ", low)


@pytest.mark.parametrize("lead", ["", "\n", "  \n \t", "\u2003\u00a0\n", "\n\n   "])
def test_dateline_after_leading_spaces(lead: str) -> None:
    tags, signals = find_jurisdictions(lead + "WASHINGTON – The Department sent letters to Chicago, Illinois.")
    assert signals["low_signal"] == {"fips:11": "dateline"}
    assert [(t.name, t.role) for t in tags] == [("Chicago", "named"), ("Illinois", "locator")]


def test_upper_case_name_after_text_is_no_dateline() -> None:
    text = "Today. CHICAGO – The Department sent letters to CHICAGO, ILLINOIS."
    tags, signals = find_jurisdictions(text)
    assert "low_signal" not in signals
    assert [(t.name, t.mentions, t.role) for t in tags] == [("Chicago", 2, "named"), ("Illinois", 1, "locator")]


def test_upper_case_documents_classify_like_before() -> None:
    # an upper-case document makes every mention upper case: the dateline test ran a slice of the text per mention
    text = ("THE CITY OF CHICAGO, COOK COUNTY, ILL., AND NEW YORK CITY RECEIVED LETTERS. " * 40).strip()
    got = classify(text)
    assert {j.name for j in got.jurisdictions} >= {"Chicago", "Cook County"}


# --- one automaton pass for the gazetteer and the doctype cue anchors ------------------------------------------------


def _long_texts() -> list[str]:
    filler = "The court held that the Department sent letters to Chicago. "
    pad = "x" * (20000 - 3 - len("Dear Mayor, "))
    return [
        filler * 400,  # > 20,000 characters: anchors past the body's limit are left out
        pad + " sent letters to",  # an anchor across the limit
        pad + "Dear Mayor, sincerely,",
        "y" * 19990 + " sincerely, and the letter",
    ]


def test_shared_scan_gives_the_anchor_automatons_hits() -> None:
    from lawwatch.pipeline.classify.doctype import _anchor_starts
    from lawwatch.pipeline.classify.gazetteer import fold
    from lawwatch.pipeline.classify.jurisdictions import _has_anchors, scan

    assert _has_anchors(load())
    for text in [*TEXTS, *_long_texts(), "", "sent", " Sincerely,"]:
        folded = f" {fold(text)} "
        _, anchor_hits = scan(folded)
        for limit in (20000, 3000, len(text)):
            low = text.lower()[:limit]
            assert _anchor_starts(low, folded, anchor_hits) == _anchor_starts(low, folded), (text[:40], limit)
            assert _anchor_starts(low, folded, anchor_hits) == _anchor_starts(low, None)


def test_shared_scan_classifies_like_separate_scans() -> None:
    from lawwatch.pipeline.classify.doctype import classify_doctype
    from lawwatch.pipeline.classify.gazetteer import fold
    from lawwatch.pipeline.classify.jurisdictions import scan

    for text in [*TEXTS, *_long_texts()]:
        low = text.lower()
        folded = f" {fold(text)} "
        hits, anchor_hits = scan(folded)
        assert find_jurisdictions(text, hits=hits) == find_jurisdictions(text)
        title = text[:80]
        got = classify_doctype(text, title=title, lowered=low, folded=folded, anchor_hits=anchor_hits)
        assert got == classify_doctype(text, title=title)


def test_gazetteer_without_the_anchors_falls_back_to_the_doctype_scan() -> None:
    import ahocorasick

    from lawwatch.pipeline.classify.gazetteer import Gazetteer, Key
    from lawwatch.pipeline.classify.jurisdictions import scan

    gaz = load()
    automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    automaton.add_word(" chicago ", 0)
    automaton.make_automaton()
    keys = [Key("chicago", ((gaz.by_id["fips:1714000"], "bare"),), 0)]
    small = Gazetteer(gaz.entries, keys, automaton, gaz.first_names, gaz.state_forms, gaz.by_id)
    hits, anchor_hits = scan(" the department sent letters to chicago ", small)
    assert anchor_hits is None
    assert hits == [(31, -38, 0)]
    assert scan(" sent letters ")[0] == []  # anchors are never gazetteer hits


# --- statutes: "sec" positions filtered by the letter after them, before the regex ---------------------------------


def test_section_keyword_positions_give_the_matches_of_every_sec() -> None:
    from lawwatch.pipeline.classify.statutes import _RE_BARE, _keyword_positions

    rng = random.Random(3)
    parts = ["sec", "Sec.", "SECTION", "section", "§", "§§", " 1373", "(a)", "secs.", " and ", "security", "SECS."]
    made = ["".join(rng.choice(parts) for _ in range(8)) for _ in range(3000)]
    for text in [*TEXTS, *made]:
        low = text.lower()
        if len(low) != len(text):
            continue
        every = sorted(
            [i for i, c in enumerate(text) if c == "§"]
            + [m.start() for m in re.finditer("sec", low) if m.start() == 0 or not low[m.start() - 1].isalnum()]
        )
        want = [p for p in every if _RE_BARE.match(text, p)]
        assert [p for p in _keyword_positions(text, low) if _RE_BARE.match(text, p)] == want, text
