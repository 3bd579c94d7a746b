"""The classifier's one-byte fast path (``gazetteer.lower_fold``): a text of Latin-1 and typographic punctuation is
lower-cased and folded with byte tables, the punctuation beyond Latin-1 read as "?" in the lowered text. Held here:
the full result (every field, offsets and signals included) equals the exact path's on every labelled document and
on variants rich in that punctuation; and no pattern that runs on the lowered text can tell "?" from it."""

from __future__ import annotations

import re
from re import _constants as K  # type: ignore[attr-defined]
from re import _parser as P  # type: ignore[attr-defined]
from typing import Any

import pytest

import lawwatch.pipeline.classify as classify_module
from lawwatch.pipeline.classify import classify, courts, doctype
from lawwatch.pipeline.classify.evaluate import labelled_documents
from lawwatch.pipeline.classify.gazetteer import INERT, fold, lower_fold
from tests.helpers.classify_outcomes import SETS

DOCS = [
    (txt.read_text(encoding="utf-8"), label.get("title"))
    for directory in SETS.values()
    for txt, label in labelled_documents(directory)
]
QUOTED = (
    "The City’s “sanctuary” policy—under 8 U.S.C. § 1373—was upheld… In City of Chicago v. Sessions, 888 F.3d 272 "
    "(7th Cir. 2018), the court (Judge Leinenweber) ruled for Chicago, Ill.; Cook County’s ordinance – and "
    "Philadelphia, Pa.’s – stand. IT IS ORDERED that the motion is GRANTED. Café owners in Española, N.M. agreed™."
)


def both(text: str, title: str | None, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], dict[str, Any]]:
    fast = classify(text, title=title).to_dict()
    with monkeypatch.context() as patched:
        patched.setattr(classify_module, "lower_fold", lambda _text: None)  # the exact path
        exact = classify(text, title=title).to_dict()
    return fast, exact


def test_the_fast_path_is_taken_for_typographic_text() -> None:
    pair = lower_fold(QUOTED)
    assert pair is not None
    lowered, folded = pair
    assert len(lowered) == len(folded) == len(QUOTED)
    assert folded == fold(QUOTED, QUOTED.lower())  # exact
    assert lowered == "".join("?" if c in INERT else c.lower() for c in QUOTED)
    assert lower_fold("Ω and the city") is None and lower_fold("İstanbul") is None  # beyond: the exact path


def test_every_labelled_document_classifies_the_same_on_both_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_taken = 0
    for text, title in DOCS:
        for variant in (text, text.replace("'", "’").replace('"', "”").replace(" - ", " – "), text.upper()):
            fast, exact = both(variant, title, monkeypatch)
            assert fast == exact, variant[:80]
            fast_taken += lower_fold(variant) is not None and not variant.isascii()
    assert fast_taken > 100  # the variants did take the fast path


def test_a_text_rich_in_punctuation_beyond_latin1_classifies_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, exact = both(QUOTED, "Judge sides with Chicago — ‘sanctuary’ ruling", monkeypatch)
    assert fast == exact
    assert fast["statutes"] and fast["jurisdictions"] and fast["cases"] and fast["courts"] == exact["courts"]
    for c in sorted(INERT):  # each character around and inside every kind of mention
        text = QUOTED.replace("’", c).replace("—", c)
        assert both(text, None, monkeypatch)[0] == both(text, None, monkeypatch)[1], c


def _blind_spots(items: Any, out: list[Any]) -> None:
    """What in a parsed pattern could see "?" or a character beyond Latin-1: a literal of either, any-character
    (".", "[^...]", "\\S", "\\W", "\\D", a class over either)."""
    for op, av in items:
        if op is K.LITERAL and (av == ord("?") or av > 255):
            out.append(chr(av))
        elif op in (K.ANY, K.NOT_LITERAL):
            out.append(str(op))
        elif op is K.IN:
            for o, a in av:
                if (
                    o is K.NEGATE
                    or (o is K.CATEGORY and "NOT" in str(a))
                    or (o is K.LITERAL and (a == ord("?") or a > 255))
                    or (o is K.RANGE and (a[0] <= ord("?") <= a[1] or a[1] > 255))
                ):
                    out.append((str(o), a))
        elif op is K.CATEGORY and "NOT" in str(av):
            out.append(str(av))
        elif op is K.SUBPATTERN:
            _blind_spots(av[-1], out)
        elif op in (K.MAX_REPEAT, K.MIN_REPEAT, K.POSSESSIVE_REPEAT):
            _blind_spots(av[2], out)
        elif op is K.BRANCH:
            for branch in av[1]:
                _blind_spots(branch, out)
        elif op in (K.ASSERT, K.ASSERT_NOT):
            _blind_spots(av[1], out)
        elif op is K.ATOMIC_GROUP:
            _blind_spots(av, out)


def test_no_pattern_on_the_lowered_text_can_tell_the_punctuation_from_a_question_mark() -> None:
    patterns: list[re.Pattern[str]] = [c.rx for c in doctype._COMPILED_CUES if not c.case_sensitive]
    patterns += [c.before for c in doctype._COMPILED_CUES if c.before]
    patterns += [doctype._CAPTION_LOWER, courts._DIRECTION_BEFORE, courts._CIRCUIT_BEFORE, courts._table().pattern]
    assert len(patterns) > 30
    problems = []
    for pattern in patterns:
        found: list[Any] = []
        _blind_spots(P.parse(pattern.pattern, pattern.flags), found)
        if found:
            problems.append((pattern.pattern[:60], found))
    assert problems == []
    # the literal needles searched in the lowered text hold neither "?" nor a character beyond Latin-1
    needles = [*doctype._ANCHORS.keys(), "district of", "circuit", "cir.", "sec"]
    assert [n for n in needles if "?" in n or max(map(ord, n)) > 255] == []
    # the walk does see what it must flag
    for bad in (r"a.b", r"[^x]", r"\S", r"x\?", "’", r"[!-@]"):
        found = []
        _blind_spots(P.parse(bad, 0), found)
        assert found, bad
