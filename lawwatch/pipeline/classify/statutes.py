"""Statute citations (normalised to title/section/subsection) and case citations.

Recognisers, tried in this order on spans not yet taken:

1. ``8 U.S.C. § 1373``, ``8 U.S.C. 1373``, ``8 USC 1373``, ``8 U.S.C.A. § 1373``, ``8 U.S.C. §§ 1373 and 1644``;
2. ``Title 8, United States Code, Section 1373``;
3. ``section 1373 of title 8`` (also ``sections 1373 and 1644 of title 8``);
4. bare ``Section 1373``, ``Sec. 1373``, ``§ 1373(a)``, ``§§ 1373 and 1644``, ``Sections 1373(a) and (b)``. A bare
   section takes the title that the document gives the same section elsewhere, else title 8 when the document
   cites title 8 elsewhere, else no title (``None``). A section of an Act ("INA § 287(g)", "Pub. L. 104-208, § 642")
   is not a Code section: its title stays ``None``. ``Title 8, Section 1373 of the U.S. Code`` (the title before
   the keyword, the Code named after it, a parenthesis allowed between) gives the section its title. A section of
   a state's code ("California Penal Code section 626.9") is no U.S. Code section and is not reported.

Numbers without one of these keywords ("$1,373", "1,373 cases", "Room 1373", "No. 17-1373") are never sections.
eyecite then reads the citations it knows — case citations ("888 F.3d 272") and any U.S.C. citation the
recognisers missed — but only in windows around a reporter abbreviation or "U.S.C.", found with a pyahocorasick
automaton over reporters-db's reporter names, so that documents without citations never pay for eyecite.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import asdict, dataclass
from typing import Any

import ahocorasick

from lawwatch.pipeline.classify.cache import cached
from lawwatch.pipeline.classify.eyecite_load import load as load_eyecite


@dataclass(frozen=True, slots=True)
class StatuteCite:
    title: str | None
    section: str
    subsection: str | None
    text: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class CaseCite:
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_SEC = r"(\d{1,5}[a-z]?(?:-\d{1,3}[a-z]?)?)"
_SUBS = r"((?:\s?\([A-Za-z0-9]{1,4}\))*)"
_USC = r"U\.?\s?S\.?\s?C\.?(?:\s?A\.?)?"
_KEYWORD = r"(?:[Ss]ections?|SECTIONS?|[Ss]ecs?\.|SECS?\.|§§?)"
_END = r"(?!\w|,\d)"
_RE_USC = re.compile(rf"\b(\d{{1,2}})\s+{_USC}\s*(?:§§?\s*|{_KEYWORD}\s*)?{_SEC}{_END}{_SUBS}")
_RE_TITLE_FIRST = re.compile(
    rf"\b[Tt]itle\s+(\d{{1,2}}),?\s+(?:of\s+the\s+)?United\s+States\s+Code(?:\s+Annotated)?,?\s+"
    rf"{_KEYWORD}\s*{_SEC}{_END}{_SUBS}"
)
# The quick test before each pattern: the pattern's fixed words with exactly its case and spacing ("8 U S C 1373",
# "United States\nCode"), so that it passes every text the pattern can match and few others (in lower case, "us c"
# of "status conference" passed most documents on to the pattern's slow scan)
_ANCHORED = (
    (_RE_USC, re.compile(_USC[: _USC.index("C") + 1])),
    (_RE_TITLE_FIRST, re.compile(r"United\s+States\s+Code")),
)
_RE_BARE = re.compile(rf"(?:\b(?:[Ss]ections?|SECTIONS?|[Ss]ecs?\.|SECS?\.)\s*|§§?\s*){_SEC}{_END}{_SUBS}")
_RE_CONT = re.compile(
    rf"\s*(?:,\s*(?:and|or)?|and|or|&)\s*(?:§§?\s*)?(?:{_SEC}(?!\w|,\d|\s+[A-Z]|\s*U\.?\s?S)|(?=\())" + _SUBS
)
_RE_OF_TITLE = re.compile(r"\s+of\s+[Tt]itle\s+(\d{1,2})\b(?:,?\s+(?:of\s+the\s+)?United\s+States\s+Code)?")
_RE_ACT_BEFORE = re.compile(r"(?:\bINA|\bAct|Pub\.\s?L\.[^;§]{0,30}|Stat\.[^;§]{0,10})\s*,?\s*$")
_WORD_KEY = re.compile(r"^(?:[Ss]ec|SEC)")
_RE_TITLE_BEFORE = re.compile(r"\b[Tt]itle\s+(\d{1,2}),?\s*$")
_RE_CODE_AFTER = re.compile(r"(?:\s*\([^)]{0,40}\))?\s+of\s+the\s+(?:United\s+States|U\.\s?S\.)\s+Code\b")
# "California Penal Code section 626.9", "Gov't Code § 7284.6": a state's code, not the U.S. Code
_RE_STATE_CODE_BEFORE = re.compile(r"(?<!United States )(?<!U\.S\. )\bCode,?\s*$")


def _subsection(subs: str) -> str | None:
    m = re.match(r"\s?\(([A-Za-z0-9]{1,4})\)", subs or "")
    return m.group(1) if m else None


@dataclass(slots=True)
class _Raw:
    title: str | None
    section: str
    subsection: str | None
    start: int
    end: int
    bare: bool
    act: bool = False


def _with_continuations(text: str, first: _Raw, out: list[_Raw]) -> int:
    """Append ``first`` and the sections listed after it ("and 1644", "and (b)"); return the list's end."""
    out.append(first)
    pos = first.end
    while True:
        m = _RE_CONT.match(text, pos)
        if not m or (m.group(1) is None and not m.group(2)):
            return pos
        section = m.group(1) or first.section
        start = m.start(1) if m.group(1) else m.start(2)
        out.append(_Raw(first.title, section, _subsection(m.group(2)), start, m.end(), first.bare, first.act))
        pos = m.end()


def _free(taken: list[tuple[int, int]], start: int, end: int) -> bool:
    return not any(s < end and start < e for s, e in taken)


_AFTER_SEC = ("t", "s", ".")


def _keyword_positions(text: str, lowered: str) -> list[int]:
    """Where a bare section can start: "§" and the word "sect", "secs" or "sec." (found with str.find, not a regex
    scan): every keyword of ``_RE_BARE`` but "§" is one of those, so "security", "second" and "secretary" are skipped
    before the regex."""
    out = []
    for needle, hay in (("§", text), ("sec", lowered)):
        pos = hay.find(needle)
        while pos >= 0:
            if needle == "§" or (pos == 0 or not hay[pos - 1].isalnum()) and hay[pos + 3 : pos + 4] in _AFTER_SEC:
                out.append(pos)
            pos = hay.find(needle, pos + 1)
    out.sort()
    return out


def _usc_matches(text: str, anchor: re.Pattern[str]) -> list[re.Match[str]]:
    """``list(_RE_USC.finditer(text))``, trying the pattern only where a match can start: a match is a word's one or
    two digits, the spaces after them, then "U.S.C" (``anchor``, which the pattern's ``_USC`` begins with; no two of
    its matches overlap, as "U" starts it and occurs nowhere else in it). So from each "U.S.C" the digits start one or
    two characters before the run of spaces that ends there, and the leftmost of those that matches (at or after the
    end of the previous match) is the one ``finditer`` finds, without trying the pattern at every offset of the text
    (~100 µs a document that cites the U.S. Code)."""
    out: list[re.Match[str]] = []
    done = 0
    for a in anchor.finditer(text):
        ws = a.start()
        while ws > 0 and text[ws - 1].isspace():
            ws -= 1
        if ws == a.start():
            continue  # ``\s+`` takes one space at least
        for start in (ws - 2, ws - 1):
            m = _RE_USC.match(text, start) if start >= done else None
            if m is not None:
                out.append(m)
                done = m.end()
                break
    return out


def find_statutes(text: str, lowered: str | None = None) -> list[StatuteCite]:
    raws: list[_Raw] = []
    taken: list[tuple[int, int]] = []
    if lowered is None:
        lowered = text.lower()
        if len(lowered) != len(text):  # "İ" lower-cases to two characters: keep the offsets those of ``text``
            lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    for pattern, anchor in _ANCHORED:
        if anchor.search(text) is None:
            continue
        for m in _usc_matches(text, anchor) if pattern is _RE_USC else pattern.finditer(text):
            if not _free(taken, m.start(), m.end()):
                continue
            group: list[_Raw] = []
            first = _Raw(m.group(1), m.group(2), _subsection(m.group(3)), m.start(), m.end(), False)
            end = _with_continuations(text, first, group)
            raws += group
            taken.append((m.start(), end))
    for pos in _keyword_positions(text, lowered):
        found = _RE_BARE.match(text, pos)
        if not found or not _free(taken, found.start(), found.end()):
            continue
        m = found
        if _WORD_KEY.match(m.group(0)) and len(re.sub(r"\D", "", m.group(1).split("-")[0])) < 3:
            continue  # "Section 2 of the Act": too short to be a Code section written without "§"
        if (
            _RE_STATE_CODE_BEFORE.search(text, max(0, m.start() - 30), m.start())
            or text.startswith(".", m.end(1))
            and text[m.end(1) + 1 : m.end(1) + 2].isdigit()
        ):
            continue  # a state code's section ("Penal Code section 626.9"): not reported
        act = bool(_RE_ACT_BEFORE.search(text, max(0, m.start() - 40), m.start()))
        group = []
        first = _Raw(None, m.group(1), _subsection(m.group(2)), m.start(), m.end(), True, act)
        end = _with_continuations(text, first, group)
        title_before = _RE_TITLE_BEFORE.search(text, max(0, m.start() - 12), m.start())
        if title_before and _RE_CODE_AFTER.match(text, end):  # "Title 8, Section 1373 of the U.S. Code"
            for r in group:
                r.title, r.bare = title_before.group(1), False
        of_title = _RE_OF_TITLE.match(text, end)
        if of_title:
            for r in group:
                r.title, r.bare = of_title.group(1), False
            group[-1].end = end = of_title.end()
        raws += group
        taken.append((m.start(), end))
    explicit_titles = {r.title for r in raws if not r.bare}
    by_section = {r.section: r.title for r in raws if not r.bare}
    out = []
    for r in sorted(raws, key=lambda r: r.start):
        title = r.title
        if r.bare and not r.act:
            title = by_section.get(r.section) or ("8" if "8" in explicit_titles else None)
        out.append(StatuteCite(title, r.section, r.subsection, text[r.start : r.end].strip(), r.start, r.end))
    return out


# --- case citations -----------------------------------------------------------------------------------------


# federal and regional reporters: the courts that decide § 1373 cases (state reporters would hit "Ill.", "Cal.")
_CITE_TYPES = frozenset({"federal", "scotus_early", "state_regional", "neutral"})


@functools.cache
def _reporters() -> ahocorasick.Automaton:
    return cached("reporters", _build_reporters)


def _build_reporters() -> ahocorasick.Automaton:
    from reporters_db import REPORTERS

    auto = ahocorasick.Automaton(ahocorasick.STORE_LENGTH)
    for editions in REPORTERS.values():
        for rep in editions:
            if rep.get("cite_type") not in _CITE_TYPES:
                continue
            for name in [*rep["editions"], *rep.get("variations", {})]:
                if len(name) >= 3 and (any(c.isdigit() for c in name) or "." in name):
                    auto.add_word(name)
    auto.add_word("U.S.C.")
    auto.make_automaton()
    return auto


_VOL_BEFORE = re.compile(r"\d{1,4}\s$")
_PAGE_AFTER = re.compile(r"\s(?:§\s?)?\d")
_DIGITS_TO_0 = bytes(48 if 48 <= c <= 57 else c for c in range(256))


def _keep(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    """Open or extend a window around the reporter at ``text[start:end]`` when a volume and a page surround it."""
    if start < 2 or not text[start - 2].isdigit():
        return
    if _VOL_BEFORE.search(text, max(0, start - 6), start) and _PAGE_AFTER.match(text, end):
        lo, hi = max(0, start - 200), min(len(text), end + 200)
        if spans and lo <= spans[-1][1]:
            spans[-1] = (spans[-1][0], hi)
        else:
            spans.append((lo, hi))


def _windows(text: str, folded: str | None = None) -> list[tuple[int, int]]:
    """Windows of ±200 characters around each reporter abbreviation written between a volume and a page.

    ``folded`` is ``" " + fold(text) + " "`` (see :func:`pipeline.classify.gazetteer.fold`). Precheck: a window needs
    a digit and a space character right before the reporter (``_VOL_BEFORE``), and ``fold`` keeps every digit and
    turns every space character into " " at the same offset (+1 for the padding). So when all digits of ``folded``
    are ASCII, the reporter automaton only needs to run where ``folded`` has "<digit> " and a reporter name can
    start right after (a few places per document instead of the whole text). A non-ASCII digit ("٣") falls back
    to the full scan. The hits are replayed in the automaton's own order (end offset, longest first), so the
    windows are the same as those of a full scan."""
    reporters = _reporters()
    spans: list[tuple[int, int]] = []
    raw = _ascii_digits(folded) if folded is not None and len(folded) == len(text) + 2 else None
    if raw is None:
        for last, length in reporters.iter(text):  # the whole text
            _keep(text, last - length + 1, last + 1, spans)
        return spans
    longest, first_chars = _reporter_shape()
    digits = raw.translate(_DIGITS_TO_0)
    hits: list[tuple[int, int]] = []
    pos = digits.find(b"0 ")
    while pos >= 0:
        q = pos + 1  # the offset in ``text`` right after "<digit> " (folded is padded by one)
        if text[q : q + 1] in first_chars:  # else no reporter name starts here ("2018, the")
            # a slice, not ``iter(text, q, q + longest)``: that copies the whole text to UCS-4 at every call
            for last, length in reporters.iter(text[q : q + longest]):
                if last - length + 1 == 0:
                    hits.append((last + q, q))
        pos = digits.find(b"0 ", pos + 2)
    for last, start in sorted(hits):
        _keep(text, start, last + 1, spans)
    return spans


def _ascii_digits(folded: str) -> bytes | None:
    """``folded`` as bytes, a non-ASCII character as "?"; None when one of those is a digit."""
    raw = folded.encode("ascii", "replace")
    if not folded.isascii():
        pos = raw.find(b"?")  # fold leaves no "?" (punctuation): each one is a non-ASCII character
        while pos >= 0:
            if folded[pos].isdigit():
                return None
            pos = raw.find(b"?", pos + 1)
    return raw


@functools.cache
def _reporter_shape() -> tuple[int, frozenset[str]]:
    """The length of the longest reporter name, and the characters the names start with."""
    names = _reporters().keys()
    return int(_reporters().get_stats()["longest_word"]), frozenset(str(name)[0] for name in names)


@functools.cache
def _quiet_eyecite() -> None:
    """eyecite logs overlapping citations as warnings; with no handler Python would print them to stderr."""
    logging.getLogger("eyecite").addHandler(logging.NullHandler())


def find_cases(
    text: str, statutes: list[StatuteCite], folded: str | None = None
) -> tuple[list[CaseCite], list[StatuteCite], list[tuple[int, int]]]:
    """Case citations, U.S.C. citations eyecite found that the recognisers did not, and the spans of the cited
    cases (name to parenthetical: "City of Chicago v. Sessions, 888 F.3d 272 (7th Cir. 2018)")."""
    spans = _windows(text, folded)
    if not spans:
        return [], [], []
    load_eyecite()  # the reporter tables from the cache, before the imports below would build them
    from eyecite import get_citations
    from eyecite.models import FullCaseCitation, FullLawCitation

    _quiet_eyecite()

    cases: dict[str, CaseCite] = {}
    extra: list[StatuteCite] = []
    cited: list[tuple[int, int]] = []
    for lo, hi in spans:
        for c in get_citations(text[lo:hi]):
            if isinstance(c, FullCaseCitation):
                fs, fe = c.full_span()
                cited.append((fs + lo, fe + lo))
                g = c.groups
                if g.get("volume") and g.get("page"):
                    cite = f"{g['volume']} {c.corrected_reporter()} {g['page']}"
                    cases.setdefault(cite, CaseCite(cite))
            elif isinstance(c, FullLawCitation) and "U.S.C" in (c.groups.get("reporter") or ""):
                s, e = c.span()
                s, e = s + lo, e + lo
                if all(not (st.start < e and s < st.end) for st in [*statutes, *extra]):
                    g = c.groups
                    extra.append(StatuteCite(g.get("title"), g.get("section", ""), None, text[s:e], s, e))
    return list(cases.values()), extra, cited


def parse_statute(query: str) -> tuple[str | None, str, str | None]:
    """Parse user input ("8 U.S.C. 1373", "1373", "8 USC 1373(a)", "§ 1373") to (title, section, subsection)."""
    q = query.strip()
    if re.fullmatch(r"\d{1,5}[a-z]?(?:\([A-Za-z0-9]+\))*", q):
        q = "§ " + q
    found = find_statutes(q)
    if not found:
        raise ValueError(f"not a statute citation: {query!r}")
    c = found[0]
    title = c.title if c.title is not None else None
    if re.match(r"\s*\d{1,2}\s", q) and title is None:
        title = q.split()[0]
    return title, c.section, c.subsection
