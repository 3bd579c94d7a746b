"""Federal courts named in a document ("Eastern District of Pennsylvania", "E.D. Pa.", "Ninth Circuit").

Ids are courts-db ids.

The table is built once from courts-db's ``courts.json``: every federal district court (parent ``usdistct``) gives
its citation string ("E.D. Pa.") and its long form ("Eastern District of Pennsylvania", from the direction in the
citation and the court's location); every court of appeals gives "Ninth Circuit", "9th Cir." and "Court of Appeals
for the Ninth Circuit". A court is where a case is heard, not the place a letter targets: the spans returned here are
excluded from jurisdiction matching.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lawwatch.pipeline.classify.cache import cached


@dataclass(frozen=True, slots=True)
class CourtTag:
    id: str
    name: str
    state: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_DIRECTIONS = {"N": "Northern", "S": "Southern", "E": "Eastern", "W": "Western", "M": "Middle", "C": "Central"}
_ORDINALS = "First Second Third Fourth Fifth Sixth Seventh Eighth Ninth Tenth Eleventh".split()
_NUMERIC = ("1st", "2d|2nd", "3d|3rd", "4th", "5th", "6th", "7th", "8th", "9th", "10th", "11th")


# every court form contains one of these: the pattern only runs on documents that have one
_ANCHORS = ("istrict", "ISTRICT", "ircuit", "IRCUIT", "Cir.", "D.", "Supreme Court")


@dataclass(frozen=True, slots=True)
class _Table:
    forms: dict[str, tuple[str, str, str | None]]  # normalised surface form -> (id, display name, state)
    pattern: re.Pattern[str]


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace(". ", ".")).strip().lower()


@functools.cache
def _table() -> _Table:
    return cached("courts", _build_table)


def _build_table() -> _Table:
    import courts_db
    import us

    data = json.loads((Path(courts_db.__file__).parent / "data" / "courts.json").read_text(encoding="utf-8"))
    forms: dict[str, tuple[str, str, str | None]] = {}
    for c in data:
        if c.get("system") != "federal":
            continue
        cid, cite = c["id"], c.get("citation_string") or ""
        if re.fullmatch(r"[a-z]{2}[nsewmc]?d", cid) and re.match(r"(?:[NSEWMC]\.\s?)?D\.", cite):
            loc = c.get("location") or ""
            st = us.states.DC if "D.C." in loc else us.states.lookup(loc)
            if st is None:
                continue
            m = re.match(r"([NSEWMC])\.\s?D\.", cite)
            place = st.name.removeprefix("District of ")
            long = f"{_DIRECTIONS[m.group(1)]} District of {place}" if m else f"District of {place}"
            entry: tuple[str, str, str | None] = (cid, long, st.abbr)
            forms.setdefault(_norm(cite), entry)
            forms.setdefault(_norm(long), entry)
        elif re.fullmatch(r"ca\d+", cid):
            n = int(cid[2:])
            name = f"{_ORDINALS[n - 1]} Circuit"
            st = us.states.lookup(c.get("location") or "")
            entry = (cid, name, None)
            forms[_norm(name)] = entry
            for num in _NUMERIC[n - 1].split("|"):
                forms[_norm(f"{num} Cir.")] = entry
                forms[_norm(f"{num} Circuit")] = entry
        elif cid in ("cadc", "cafc", "scotus"):
            name = {"cadc": "D.C. Circuit", "cafc": "Federal Circuit", "scotus": "Supreme Court"}[cid]
            entry = (cid, name, "DC" if cid != "cafc" else None)
            forms[_norm(name)] = entry
            if cid == "cadc":
                forms[_norm("D.C. Cir.")] = entry
            if cid == "cafc":
                forms[_norm("Fed. Cir.")] = entry
    states = "|".join(
        sorted({re.escape(s.name.lower()) for s in us.states.STATES_AND_TERRITORIES}, key=len, reverse=True)
    )
    pattern = re.compile(rf"\s+(?:{states}|columbia)\b")
    return _Table(forms, pattern)


_DIRECTION_BEFORE = re.compile(r"(?:northern|southern|eastern|western|middle|central)\s+$")
_CIRCUIT_BEFORE = re.compile(
    rf"\b(?:{'|'.join(o.lower() for o in _ORDINALS)}|{'|'.join(_NUMERIC)}|d\.c\.|federal|fed\.)\s+$"
)
_ABBR_AT = re.compile(r"D\.\s?[A-Z][A-Za-z]{0,5}\.?(?:\s?[A-Z][a-z]{0,4}\.)?(?=[\s,;:)\]]|$)")
_DIRECTION_ABBR_BEFORE = re.compile(r"\b[NSEWMC]\.\s?$")


def _candidates(text: str, lowered: str, table: _Table) -> list[tuple[int, int]]:
    """Spans that may name a court, found from literal anchors (no scan of the whole text with a big pattern)."""
    out: list[tuple[int, int]] = []
    pos = lowered.find("district of")
    while pos >= 0:
        m = table.pattern.match(lowered, pos + len("district of"))
        if m:
            d = _DIRECTION_BEFORE.search(lowered, max(0, pos - 12), pos)
            out.append((d.start() if d else pos, m.end()))
        pos = lowered.find("district of", pos + 1)
    for word, cut in (("circuit", 7), ("cir.", 4)):
        pos = lowered.find(word)
        while pos >= 0:
            b = _CIRCUIT_BEFORE.search(lowered, max(0, pos - 12), pos)
            if b:
                out.append((b.start(), pos + cut))
            pos = lowered.find(word, pos + 1)
    pos = text.find("D.")
    while pos >= 0:
        m = _ABBR_AT.match(text, pos)
        if m and (pos == 0 or not text[pos - 1].isalnum() or _DIRECTION_ABBR_BEFORE.search(text, max(0, pos - 3), pos)):
            d = _DIRECTION_ABBR_BEFORE.search(text, max(0, pos - 3), pos)
            out.append((d.start() if d else pos, m.end()))
        pos = text.find("D.", pos + 1)
    pos = text.find("Supreme Court")
    while pos >= 0:
        out.append((pos, pos + len("Supreme Court")))
        pos = text.find("Supreme Court", pos + 1)
    out.sort()
    return out


def find_courts(text: str, lowered: str | None = None) -> tuple[tuple[CourtTag, ...], list[tuple[int, int]]]:
    """Courts named in ``text`` (one tag per court id, in order of first mention) and the spans they cover."""
    tags: dict[str, CourtTag] = {}
    spans: list[tuple[int, int]] = []
    if not any(a in text for a in _ANCHORS):
        return (), spans
    table = _table()
    taken = -1
    for start, end in _candidates(text, lowered if lowered is not None else text.lower(), table):
        if start < taken:
            continue
        surface = _norm(text[start:end])
        hit = table.forms.get(surface)
        if hit is None and surface.startswith("district of columbia"):
            hit = table.forms.get("district of columbia")
        if hit is None:
            continue
        before = text[max(0, start - 40) : start]
        if hit[0] == "scotus":
            after = text[end : end + 30].lower()
            if (after.startswith(" of") and "united states" not in after) or re.search(r"[A-Z][a-z]+ $", before):
                continue  # a state's supreme court ("Supreme Court of Illinois", "Oregon Supreme Court")
        if (
            surface.startswith("district")
            and hit[0] == "dcd"
            and not re.search(r"(?i)(court|attorney)\b[^.]*$", before)
        ):
            continue  # "the District of Columbia" the place, not its district court
        spans.append((start, end))
        taken = end
        tags.setdefault(hit[0], CourtTag(*hit))
    return tuple(tags.values()), spans
