"""The classifier's prechecks and fast paths give the same answers as the plain scans they skip."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from lawwatch.pipeline.classify import classify
from lawwatch.pipeline.classify.doctype import (
    _CAPTION,
    CASE_TRAPS,
    _anchor_starts,
    _has_caption,
    _heading,
    classify_doctype,
)
from lawwatch.pipeline.classify.gazetteer import fold
from lawwatch.pipeline.classify.statutes import _windows, find_cases

EXAMPLES = sorted(Path(__file__).parent.joinpath("examples", "classify").glob("*.txt"))
TEXTS = [p.read_text(encoding="utf-8") for p in EXAMPLES]
DOJ = [t for p, t in zip(EXAMPLES, TEXTS, strict=True) if p.name.startswith("doj")]


def folded(text: str) -> str:
    return f" {fold(text)} "


def test_examples_include_doj_releases() -> None:
    assert len(DOJ) >= 5


# --- caption: re.I pattern vs lower-case pattern on the lower-cased text -------------------------------------------


def test_case_traps_are_all_the_non_ascii_letters_re_i_or_lower_maps_to_ascii() -> None:
    chars = "".join(chr(i) for i in range(128, 0x110000) if not 0xD800 <= i < 0xE000)
    found = set(re.findall(r"[a-z0-9_]", chars, re.I))
    found |= {c for c in chars if any(ch.isascii() for ch in c.lower())}
    assert found == set(CASE_TRAPS)


@pytest.mark.parametrize(
    "head",
    [
        "CITY OF CHICAGO v. SESSIONS",
        "CITY OF CHICAGO V. SESSIONS",
        "Case No. 17-cv-5720",
        "CIVIL ACTION NO. 17-3894",
        "No. 18-1",
        "NO. 18:1",
        "IN THE UNITED STATES DISTRICT COURT",
        "the United States District Courts",  # no word boundary after "court": no caption
        "v. at the start",
        "xv. and _v. and 2v.",  # inside a word: no caption
        "no. 123-4 and nO. 1-",
        "A man from Kyiv. Nothing else, no. none.",
        "the district court said",
        "CAſE NO. 1",  # long s: re.I equates it with "s"
        "Cıvil Action No. 1",  # dotless i
        "\u212aansas v. Smith",  # Kelvin sign
        "İN THE UNITED STATES DİSTRICT COURT",
        "",
    ],
)
def test_caption_fast_path_matches_the_re_i_pattern(head: str) -> None:
    assert _has_caption(head, head.lower() if len(head.lower()) == len(head) else None) == bool(_CAPTION.search(head))


def test_caption_fast_path_matches_on_random_and_example_heads() -> None:
    rng = random.Random(1373)
    alphabet = "vV.nNoOcCaAsSeE -:19_xuUdDiIrRtT\nſı"
    heads = [t[:3000] for t in TEXTS]
    heads += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    heads += [rng.choice(["", "x", " "]) + w for w in ("v.", "case no.", "civil action no.", "no. 12-", "no. 3:")]
    for head in heads:
        low = head.lower()
        assert _has_caption(head, low if len(low) == len(head) else None) == bool(_CAPTION.search(head)), head


def test_heading_found_on_ascii_and_non_ascii_lines() -> None:
    assert _heading("CITY v. SESSIONS\nMEMORANDUM OPINION\n") == ("ruling", 6, "MEMORANDUM OPINION")
    assert _heading("CITY v. SESSIONS\nORDER — GRANTING MOTION\n")[0] == "ruling"  # type: ignore[index]
    # a title-case line is a heading only when it is nothing but "Opinion" / "Memorandum [Opinion] [and Order]"
    assert _heading("City v. Sessions\nMemorandum Opinion\n") == ("ruling", 5, "Memorandum Opinion")
    assert _heading("City v. Sessions\nMemorandum Opinion of the city solicitor\n") is None


# --- doctype anchors: padded automaton over the folded text vs automaton over the lower-cased text -------------------


@pytest.mark.parametrize(
    "text",
    [
        "Dear Mayor,\nThe Department sent letters to nine jurisdictions. Sincerely, Alan",
        "Sincerely. Sincerely,Sincerely, insincerely, the department's letter, the department’s letter",
        "resent a letter; pre-sent letters; X-sent letters; (sent) letters; sent\nletters",
        "éfiled suit; filed suit; refiled suit; the court, the panel ruled, a justice held",
        "IT IS ORDERED that the motion is GRANTED. SO ORDERED. It is hereby ordered.",
        "a letter a letter the letter letters to — letter",
        "",
    ],
)
def test_anchor_starts_same_as_lowered_scan(text: str) -> None:
    low = text.lower()
    assert list(_anchor_starts(low, folded(text)).items()) == list(_anchor_starts(low, None).items())


def test_anchor_starts_same_as_lowered_scan_on_examples() -> None:
    for text in TEXTS:
        low = text.lower()
        for limit in (len(text), 20000, 500):
            expect = _anchor_starts(low[:limit], None)
            assert list(_anchor_starts(low[:limit], folded(text)).items()) == list(expect.items())


def test_doctype_same_with_and_without_the_folded_text() -> None:
    for text in TEXTS:
        title = text.splitlines()[0] if text.strip() else None
        low = text.lower()
        plain = classify_doctype(text, title=title, lowered=low)
        assert classify_doctype(text, title=title, lowered=low, folded=folded(text)) == plain
        assert classify_doctype(text, title=title) == plain


# --- case-citation windows: only where "<digit> " precedes a reporter ------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "City of Chicago v. Sessions, 888 F.3d 272 (7th Cir. 2018), aff'd.",
        "888\nF.3d 272 and 888\tF.3d\t272 and 888  F.3d 272",
        "Café owners cited 888 F.3d 272 and 138 S. Ct. 1816 (2018).",
        "under 8 U.S.C. 1373 and 8 U.S.C. § 1644",
        "٨٨٨ F.3d 272 with an Arabic-Indic volume",  # non-ASCII digits: the full scan
        "In 2018 F.3d was cited; 2018, U.S. Attorney; 12 Ill. 3",
        "no citation at all",
        "",
    ],
)
def test_windows_same_as_full_scan(text: str) -> None:
    assert _windows(text, folded(text)) == _windows(text)


def test_windows_same_as_full_scan_on_examples() -> None:
    for text in TEXTS:
        assert _windows(text, folded(text)) == _windows(text)
        assert find_cases(text, [], folded(text)) == find_cases(text, [])


def test_precheck_keeps_a_case_citation_in_non_ascii_text() -> None:
    text = "The café’s lawyers relied on City of Chicago v. Sessions, 888 F.3d 272 (7th Cir. 2018)."
    got = classify(text)
    assert [c.text for c in got.cases] == ["888 F.3d 272"]
    assert not any(j.name == "Chicago" for j in got.jurisdictions)  # the cited case's name is low signal
