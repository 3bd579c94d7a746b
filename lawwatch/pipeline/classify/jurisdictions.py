"""Jurisdictions named in a document, resolved to gazetteer ids in one Aho–Corasick pass.

The automaton (see :mod:`pipeline.classify.gazetteer`) runs once over the folded text (lower case, punctuation to
spaces, padded), so every hit is a whole-word match; hits written in lower case are words, not places ("new york
style"); the leftmost longest hits are kept. Court names (found first, :mod:`pipeline.classify.courts`) are skipped.
A hit followed by a state ("Chicago, IL", "Cook County, Ill.", "Mobile, Alabama") resolves inside that state, and
to nothing when that state has no such place ("Arlington, Va.": a place below the gazetteer's threshold). The
other hits are resolved in a second pass against the *state context* — the states the document names without
doubt (qualifiers, explicit forms, unambiguous names):

* explicit forms ("Cook County", "City of Chicago", "State of Oregon", "NYC") resolve to their one candidate, or
  to the one in a context state; a place's own name is no explicit form ("Carson City" is Carson City, NV, not
  the city of Carson, CA; "Oregon City" is in Oregon);
* a bare name followed by "Act", "University", "Post"... names a law, school or paper ("Sherman Act");
* a bare person's name in person context ("George Washington", "Mayor Kenney", "Judge Jackson", "Roy Conn",
  "Benton J. Campbell") gives nothing; a bare common word ("Mobile", "Independence") gives nothing unless
  qualified by its state;
* a bare state name wins over places of the same name ("Oregon" is the state), except that a place of the same
  state wins when the document also names that place explicitly ("New York" is the city when the text says
  "New York City", "the City of New York", "NYC" or "NYPD"); a state name that is a common surname
  ("Washington") needs other evidence of that state, or a list of states around it;
* other homonyms ("Springfield", "Jackson", "Portland") and places named like a larger city abroad ("Paris",
  "Lima") resolve to the one candidate in a context state; a homonym also resolves to a namesake of 200,000+
  people ten times larger than any other ("Dallas"); the rest are dropped;
* an explicit form with several candidates and none in a context state ("Cook County") resolves by *prominence*:
  to the candidate with ten times the people of every other (:func:`~pipeline.classify.gazetteer.prominent`);
* a name qualified by a state that has no place of that name but a county of it ("Arlington, Va.": Arlington is
  a census-designated place that fills Arlington County; "Middlesex, New Jersey") is that county;
* a county's name alone ("Sonoma", "Middlesex": a ``county_name`` key, see the gazetteer) is the county when a state
  qualifies it ("Middlesex, New Jersey"), in a list of counties ("Monterey, Sonoma and Sacramento counties"), in a
  document that names one state only, or by prominence when its county has 200,000+ people and ten times every
  namesake ("Sonoma"); never inside a longer name ("Kings Bay", "Sacramento Kings") or as a person's;
* "the Oregon city of Portland" ("the Texas town of", "the Oregon county of") reads as "Portland, Oregon"; the names
  listed after "the cities of" are cities ("the cities of New York and Albany": New York City); the names of a list
  of counties ("the counties of Bergen, Essex and Hudson", "Middlesex, Essex and Hudson counties") are counties, in
  the state written after the list or else the one state that has a county of each name (New Jersey: "Hudson" is
  then no city in Ohio); a list that fits no single state is left to the rules above;
* party roles: a bare name ("Santa Clara") in a document that names the county of that name explicitly ("County
  of Santa Clara", "COUNTY OF SANTA CLARA v. TRUMP") is the county, the party, not the city of the same name;
* organisations and foreign places are not jurisdictions: a bare name followed by "Institution", "Foundation",
  "Law Group", ", Inc."... (also a few capitalised words later: "Ozark Mountain Poultry, Inc.", "Arkansas Federal
  Credit Union"), by ", Canada" (or another country), or after "province of"; a filer's name in a docket entry
  ("(Ferguson, John)") and a person's name in capitals ("ALBERT DUNCAN") are people, and a surname the document
  uses once for a person ("Wilson v. Filtrex") is a person in its other bare mentions too.

Each tag says how it was resolved (``resolved_by``): ``qualifier`` ("Chicago, IL"), ``explicit`` ("Cook County,
Ill." aside, "City of Chicago"), ``unique``, ``state``, ``state_context``, ``place_cue``, ``prominence``,
``county_of_place`` ("Arlington, Va."), ``county_list`` ("Hudson" in "the counties of Bergen, Essex and Hudson":
the list's state, written after it or the one state with a county of every name listed), ``party`` ("Santa
Clara" beside "County of Santa Clara"), ``dateline``,
``explicit+state``; for a tag with several mentions, that of its most certain one.

Each tag has a role. A jurisdiction the text names is ``"named"`` (``mentions`` and ``first`` count those names
only). A state (or territory, or DC) that the text uses only as the qualifier of a reported place ("Berkeley,
California", "Chicago, Ill.", "Cook County, IL") is a ``"locator"``: it says where the place is, it is not what the
document is about; its ``mentions`` and ``first`` count and place those qualifier uses. A state both named and used
as a qualifier is one named tag. Alert rules and filters match locators only with ``within`` (``pipeline.filters``).

The rules that read the words around a name (organisations, foreign places, people, county names, "the Oregon city
of Portland", "the cities of") are in :mod:`pipeline.classify.names`.

Addresses ("Washington, DC 20530"), datelines ("CHICAGO –") and the names of cited cases ("City of Chicago v.
Sessions, 888 F.3d 272") are low signal: a jurisdiction seen only there is not reported; it is listed in
``signals["low_signal"]`` instead. Every dropped name is listed in ``signals["dropped"]`` with the reason.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

from lawwatch.pipeline.classify.gazetteer import (
    BARE,
    COMMON_WORD,
    COUNTY_NAME,
    EXPLICIT,
    FIRST_NAME,
    FOREIGN,
    HAS_STATE,
    PERSON,
    SURNAME,
    Entry,
    Gazetteer,
    Key,
    fold,
    load,
    prominent,
)
from lawwatch.pipeline.classify.names import (
    _INITIAL_AFTER,
    _LIST_SEP,
    _PLACE_AFTER,
    _STATE_KINDS,
    DOMINANCE,
    DOMINANT_POPULATION,
    _alone,
    _county_by_name,
    _county_named,
    _mark_city_lists,
    _Mention,
    _not_a_place,
    _person_context,
    _person_name,
    _state_of_place,
    county_lists,
)

NAMED = "named"  # the document names the jurisdiction
LOCATOR = "locator"  # a state that only locates a place the document names ("Berkeley, California")


@dataclass(frozen=True, slots=True)
class JurisdictionTag:
    id: str
    name: str
    kind: str
    state: str
    mentions: int
    first: int
    role: str = NAMED  # NAMED | LOCATOR; with a default, so positional constructions keep working
    resolved_by: str = ""  # how the name was resolved (see the module's docstring); "" when built by hand

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_LOWER_OK = frozenset(
    "of and the city county town state commonwealth parish village borough metro government co. territory "
    "de la del los las".split()
)
_NEXT_WORD = re.compile(r"\s([A-Z][a-z]+|[A-Z]\.)")
# A bare name followed by one of these is the name of a law, school or paper, not a place ("Sherman Act",
# "Georgetown University", "Washington Post"); after a first name, any other capitalised word makes a person.
_NOT_PLACE_AFTER = frozenset(
    "Act Acts Amendment Amendments Institution Institute University College Post Times National Cemetery".split()
)
# "Monterey, Sonoma and Sacramento counties, Calif": names of counties listed before the word "counties"
_COUNTIES_AFTER = re.compile(
    r"(?:,\s*[A-Z][A-Za-z.]*(?: [A-Z][A-Za-z.]*)?)*,?\s*"
    r"(?:(?:and|or)\s+[A-Z][A-Za-z.]*(?: [A-Z][A-Za-z.]*)?\s+)?[Cc]ounties\b"
)
_ZIP = re.compile(r",?\s*(?:[A-Z]{2}\.?\s+|D\.\s?C\.\s+)?\d{5}(?:-\d{4})?\b")
_DATELINE_AFTER = re.compile(r"(?:,\s*[A-Z][A-Za-z.]*(?: [A-Z][A-Za-z.]*)?)?(?:\s+-\s|\s*[–—])")


@functools.cache
def _qualifier_re(forms: tuple[str, ...]) -> re.Pattern[str]:
    alternation = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(r",?\s*(" + alternation + r")(?![A-Za-z])")


@functools.cache
def _qualifier_by_char(forms: tuple[str, ...]) -> dict[str, re.Pattern[str]]:
    """``_qualifier_re(forms)`` split by the forms' first character: the pattern for "N" holds only "N.Y.", "NY",
    "New York"... Every form starts with a letter, none with a space or a comma, so ``,?\\s*`` takes the same text in
    both and the one alternation that can match after it is that of its next character: the same match, without
    trying 247 alternatives where a comma is followed by no state (~3 µs each)."""
    firsts: dict[str, list[str]] = {}
    for form in forms:
        firsts.setdefault(form[0], []).append(form)
    return {c: _qualifier_re(tuple(group)) for c, group in firsts.items()}


_QUALIFIER: list[Any] = [None, None]  # [state_forms, patterns]: hashing the 247-form tuple per document cost ~8 µs


def _qualifier(gaz: Gazetteer) -> dict[str, re.Pattern[str]]:
    if _QUALIFIER[0] is not gaz.state_forms:  # the same dict object: the same forms (the gazetteer is never mutated)
        _QUALIFIER[:] = [gaz.state_forms, _qualifier_by_char(tuple(gaz.state_forms))]
    patterns: dict[str, re.Pattern[str]] = _QUALIFIER[1]
    return patterns


def _qualifier_match(patterns: dict[str, re.Pattern[str]], text: str, pos: int) -> re.Match[str] | None:
    """``_qualifier_re(forms).match(text, pos)``, with ``patterns = _qualifier(gaz)``."""
    i = pos + 1 if text.startswith(",", pos) else pos
    n = len(text)
    while i < n and text[i].isspace():
        i += 1
    pattern = patterns.get(text[i : i + 1])
    return pattern.match(text, pos) if pattern is not None else None


_STATES: list[Any] = [None, None]  # [entries, {USPS code: index of the state, territory or DC}]


def _state_index(gaz: Gazetteer) -> dict[str, int]:
    """The entry of each state-level code: states, territories and DC (whose entry is "consolidated"), the entries
    with a two-digit FIPS code."""
    if _STATES[0] is not gaz.entries:
        _STATES[:] = [gaz.entries, {e.state: i for i, e in enumerate(gaz.entries) if len(e.fips) == 2}]
    index: dict[str, int] = _STATES[1]
    return index


_WORD_SEP = re.compile(r"[\s/-]+")


def _capitalised(span: str) -> bool:
    """Whether every word of a multi-word ``span`` is capitalised (or a number, or "of", "city"...); ``_scan`` has
    already taken a single word that starts with a capital."""
    for word in _WORD_SEP.split(span):  # compiled once: ``re.split`` looks the pattern up in re's cache per call
        if word and not (word[0].isupper() or word[0].isdigit() or word.lower() in _LOWER_OK):
            return False
    return True


def _overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    for s, e in spans:  # a loop, not ``any(genexpr)``: this runs for every hit, mostly over one or two spans
        if s < end and start < e:
            return True
    return False


_Hit = tuple[int, int, int]  # (start in ``text``, -end, key index)


def scan(folded: str, gaz: Gazetteer | None = None) -> tuple[list[_Hit], list[tuple[int, int]] | None]:
    """One pass of the gazetteer's automaton over ``folded`` (``" " + fold(text) + " "``): the gazetteer hits, and the
    doctype cue anchors' hits (last offset, index in ``doctype.ANCHOR_KEYS``) that share the automaton, or None when
    this automaton was built without them (``classify_doctype`` then scans for them itself)."""
    gaz = gaz if gaz is not None else load()
    shifts = _shifts(gaz)
    n = len(shifts)
    hits: list[_Hit] = []
    cues: list[tuple[int, int]] = []
    for last, idx in gaz.automaton.iter(folded):
        if idx < n:  # keys are " name ": every hit is a whole-word match (the padding shifts offsets by one)
            hits.append((last - shifts[idx], 1 - last, idx))
        else:
            cues.append((last, idx - n))
    return hits, (cues if _has_anchors(gaz) else None)


_SHIFTS: list[Any] = [None, None]  # [keys, the length of each key's text + 1]


def _shifts(gaz: Gazetteer) -> list[int]:
    """``len(key.text) + 1`` of every key, by index: a hit ending at ``last`` in the padded text starts at
    ``last - shift`` in ``text`` (computed once per gazetteer: ~20,000 lookups saved per 1,000 documents)."""
    if _SHIFTS[0] is not gaz.keys:
        _SHIFTS[:] = [gaz.keys, [len(k.text) + 1 for k in gaz.keys]]
    shifts: list[int] = _SHIFTS[1]
    return shifts


_ANCHORED: list[Any] = [None, False]  # [automaton, holds ANCHOR_KEYS valued as build() adds them]


def _has_anchors(gaz: Gazetteer) -> bool:
    if _ANCHORED[0] is not gaz.automaton:  # checked once: a gazetteer pickled by other code may lack the anchors
        from lawwatch.pipeline.classify.doctype import ANCHOR_KEYS

        n = len(gaz.keys)
        ok = all(gaz.automaton.get(k, None) == n + i for i, k in enumerate(ANCHOR_KEYS))
        _ANCHORED[:] = [gaz.automaton, ok and len(gaz.automaton) == n + len(ANCHOR_KEYS)]
    anchored: bool = _ANCHORED[1]
    return anchored


def _scan(
    gaz: Gazetteer,
    text: str,
    exclude: list[tuple[int, int]],
    lenient: bool,
    folded: str | None = None,
    hits: list[_Hit] | None = None,
) -> list[_Mention]:
    if hits is None:
        hits, _ = scan(folded if folded is not None else f" {fold(text)} ", gaz)
    keys = gaz.keys
    hits = sorted(hits)  # leftmost, then longest first
    out: list[_Mention] = []
    taken = -1
    for start, neg_end, idx in hits:
        end = -neg_end
        if start < taken:
            continue
        if not lenient:
            span = text[start:end]
            if not (span[0].isupper() and " " not in span) and not _capitalised(span):  # the first test inlined
                continue
            if text.startswith(" of ", end) and span.endswith(_KIND_WORDS):
                continue  # "the Oregon city of Portland": "Oregon" (a shorter hit at ``start``) locates Portland
        if exclude and _overlaps(start, end, exclude):
            continue
        out.append(_Mention(start, end, keys[idx]))
        taken = end
    return out


_KIND_WORDS = (" city", " town", " village", " county")  # in lower case: "the Texas city of Houston"
_KIND_HEADS = frozenset(w[1:5] for w in _KIND_WORDS)  # their first four letters, a cheap test before the regex


def _qualify(gaz: Gazetteer, text: str, mentions: list[_Mention]) -> list[_Mention]:
    """Attach a following state qualifier; drop hits that are themselves such a qualifier."""
    qre = _qualifier(gaz)
    entries = gaz.entries
    out: list[_Mention] = []
    consumed = -1
    lead = -1  # offset of the first non-space character, computed when first needed
    for k, m in enumerate(mentions):
        if m.start < consumed:
            continue
        if m.key.flags & HAS_STATE and text[m.end + 1 : m.end + 5] in _KIND_HEADS and k + 1 < len(mentions):
            if _state_of_place(gaz, text, m, mentions[k + 1]):  # "the Oregon city of Portland"
                continue
        nxt_char = text[m.end : m.end + 1]
        q = (
            _qualifier_match(qre, text, m.end)
            if not m.qual and (nxt_char == "," or nxt_char == " " and text[m.end + 1 : m.end + 3].isupper())
            else None
        )
        if q and k + 1 < len(mentions):
            nxt = mentions[k + 1]
            if nxt.start == q.start(1) and nxt.end > q.end() and "\n" not in text[q.end() : nxt.end]:
                q = None  # "New Orleans, New York City": the next name is longer than a state (on the same line)
        if q and (q.group(0).startswith(",") or q.group(1).isupper() and len(q.group(1)) == 2):
            state = gaz.state_forms[q.group(1)]
            if state == "DC" and m.key.text == "washington":  # "Washington, District of Columbia"
                m.qual_miss, m.county = True, _state_index(gaz).get("DC", -1)
                m.qual, m.qual_at, m.qual_end, consumed = state, q.start(1), q.end(1), q.end()
            elif any(entries[i].state == state and entries[i].kind not in _STATE_KINDS for i, _ in m.key.candidates):
                m.qual = state
                m.qual_at = q.start(1)
                m.qual_end = q.end(1)
                consumed = q.end()
            elif not m.key.flags & HAS_STATE:  # HAS_STATE: some candidate is a state or territory (gazetteer.build)
                m.qual_miss = True
                m.county = _county_named(gaz, m.key.text, state) if _alone(text, m.start, q.end()) else -1
                if m.county >= 0:  # "Arlington, Va.": the qualifier locates the county, it is not a mention
                    m.qual, m.qual_at, m.qual_end, consumed = state, q.start(1), q.end(1), q.end()
        tail = max(m.end, m.qual_end)  # after the qualifier ("Chicago, IL 60602"); "the Oregon city of" is before
        if _ZIP.match(text, tail):
            m.low_signal = "address"
        elif text[m.start : m.end].isupper():
            if lead < 0:  # ``not text[:start].strip()`` is ``start <= lead``, without an O(n) slice per mention
                lead = len(text) - len(text.lstrip())
            if (m.start <= lead or text[m.start - 1] == "\n") and _DATELINE_AFTER.match(text, tail):
                m.low_signal = "dateline"
        out.append(m)
    if text.find("ities of") >= 0:
        _mark_city_lists(text, out)
    for a, b in zip(out, out[1:], strict=False):  # the flags first: cheaper than the regex, and the same conjunction
        if a.key.flags & b.key.flags & HAS_STATE and b.start - a.end < 8 and b.end - a.start < 200:
            if _LIST_SEP.fullmatch(text, a.end, b.start):
                a.in_state_list = b.in_state_list = True
    return out


def _certain(gaz: Gazetteer, text: str, m: _Mention, counties: int) -> int | None:
    """The entry ``m`` names without doubt, or None; ``counties`` is ``text.rfind("ounties")``."""
    cands = m.key.candidates
    nxt = _NEXT_WORD.match(text, m.end)
    m.after = nxt.group(1) if nxt else None  # kept for ``_resolve``, which runs after this on the same mention
    if m.listed:  # a name in a list of counties, whose state the list gave (``county_lists``)
        return m.county
    if m.qual_miss:
        return m.county if m.county >= 0 else None
    if m.after in _NOT_PLACE_AFTER:
        return None
    if not m.qual:
        m.why_not = _not_a_place(gaz, text, m)
        if m.why_not:
            return None
    if not m.qual and cands[0][1] != EXPLICIT:
        # a list of any length ("Alameda, Contra Costa, ... and Sonoma counties"): the word after this name
        listed = _COUNTIES_AFTER.match(text, m.end) if m.end < counties else None
        if listed:  # "Monterey, Sonoma and Sacramento counties, Calif.": the county of each name in that state
            q = _qualifier_match(_qualifier(gaz), text, listed.end())
            states = {gaz.entries[i].state for i, _ in cands}  # else the state of the place of that name
            state = gaz.state_forms[q.group(1)] if q else states.pop() if len(states) == 1 else None
            if state is not None:
                m.county = _county_named(gaz, m.key.text, state)
                return m.county if m.county >= 0 else None
    if m.qual:
        inq = [i for i, _ in cands if gaz.entries[i].state == m.qual and gaz.entries[i].kind not in _STATE_KINDS]
        return max(inq, key=lambda i: gaz.entries[i].population)
    if len(cands) == 1 and (cands[0][1] == EXPLICIT or m.key.flags & ~HAS_STATE == 0 and cands[0][1] == BARE):
        if cands[0][1] != EXPLICIT and _INITIAL_AFTER.match(text, m.end):
            return None  # "Sidney R. Thomas": a person (``_resolve`` says so)
        return cands[0][0]
    return None


class _Facts(NamedTuple):
    """What ``_resolve`` reads of a key's candidates, the same for every mention of that key."""

    explicit: tuple[int, ...]  # the EXPLICIT candidates, none when the key is a BARE candidate's own name
    ids: tuple[int, ...]  # the BARE candidates
    state: int  # the first of ``ids`` that is a state or territory, or -1
    same: tuple[int, ...]  # the other ``ids`` in that state
    pops: tuple[int, ...]  # the populations of ``ids``, largest first, then 0
    largest: int  # the most populous of ``ids`` (the first of equals), -1 when there are none


_FACTS: list[Any] = [None, {}]  # [keys, {id(key): (key, facts)}]


def _facts(gaz: Gazetteer, key: Key) -> _Facts:
    """``key``'s :class:`_Facts`, computed once per gazetteer key (they depend on the gazetteer only)."""
    if _FACTS[0] is not gaz.keys:
        _FACTS[:] = [gaz.keys, {}]
    known: dict[int, tuple[Key, _Facts]] = _FACTS[1]
    hit = known.get(id(key))
    if hit is not None and hit[0] is key:
        return hit[1]
    entries = gaz.entries
    cands = key.candidates
    explicit = [i for i, f in cands if f == EXPLICIT]
    if explicit and any(f == BARE and fold(entries[i].name) == key.text for i, f in cands):
        explicit = []  # "Carson City" is Carson City, NV by its own name, not the form "Carson city" of Carson, CA
    ids = [i for i, f in cands if f == BARE]
    states = [i for i in ids if entries[i].kind in _STATE_KINDS]
    st = states[0] if states else -1
    same = [i for i in ids if i != st and entries[i].state == entries[st].state] if states else []
    facts = _Facts(
        tuple(explicit),
        tuple(ids),
        st,
        tuple(same),
        tuple(sorted((entries[i].population for i in ids), reverse=True)) + (0,),
        max(ids, key=lambda i: entries[i].population) if ids else -1,
    )
    known[id(key)] = (key, facts)
    return facts


def _resolve(
    gaz: Gazetteer,
    text: str,
    m: _Mention,
    ctx: set[str],
    explicit_ids: set[int],
    lenient: bool,
    parties: dict[str, int],
) -> tuple[int | None, str]:
    entries: list[Entry] = gaz.entries
    cands = m.key.candidates
    if m.qual_miss:
        return None, "other_place_in_state"
    if m.after in _NOT_PLACE_AFTER:  # ``m.after`` was set by ``_certain``, always called first
        return None, "name_of_institution"
    if m.why_not:  # set by ``_certain``, always called first
        return None, m.why_not
    facts = _facts(gaz, m.key)
    explicit = facts.explicit
    if explicit:
        if len(explicit) == 1:
            return explicit[0], "explicit"
        inctx = [i for i in explicit if entries[i].state in ctx]
        if len(inctx) == 1:
            return inctx[0], "explicit+state"
        top = prominent(explicit, gaz=gaz) if not inctx else None
        return (top, "prominence") if top is not None else (None, "ambiguous")
    if cands[0][1] == COUNTY_NAME:
        return _county_by_name(gaz, text, m, ctx, lenient)
    party = parties.get(m.key.text, -1)
    if party >= 0 and any(entries[i].state == entries[party].state for i, f in cands if f == BARE):
        return party, "party"  # "Santa Clara" in a document that names the County of Santa Clara
    flags = m.key.flags
    if m.low_signal == "dateline" and m.key.text == "washington":
        return gaz.by_id["fips:11"], "dateline"  # DOJ datelines: "WASHINGTON –" is the capital
    if not lenient:
        if flags & PERSON and _person_context(gaz, text, m.start) or _INITIAL_AFTER.match(text, m.end):
            return None, "person"
        is_state = bool(flags & HAS_STATE)  # some candidate is a state or territory (gazetteer.build)
        if flags & FIRST_NAME and m.after is not None and m.after not in _PLACE_AFTER and not is_state:
            return None, "person"
        if flags & COMMON_WORD:
            return None, "common_word"
    ids = facts.ids
    st = facts.state
    if st >= 0:
        same = facts.same
        if same and (m.city_list or any(i in explicit_ids for i in same)):
            return same[0], "place_cue"
        if flags & SURNAME and entries[st].state not in ctx and not lenient and not m.in_state_list:
            return None, "needs_state_context"
        return st, "state"
    if len(ids) == 1 and not flags & FOREIGN:
        return ids[0], "unique"
    inctx = [i for i in ids if entries[i].state in ctx]
    pops = facts.pops
    second = max(pops[1], m.key.rival)
    dominant = not flags & FOREIGN and pops[0] >= DOMINANT_POPULATION and pops[0] >= DOMINANCE * second
    # A document that names places in many states gives no state to this name: "Louisville" beside "Denver" in a
    # list of 23 jurisdictions is Louisville, KY, not Louisville, CO
    if len(inctx) == 1 and not (dominant and len(ctx) > 2):
        return inctx[0], "state_context"
    if dominant:
        return facts.largest, "prominence"
    if flags & FOREIGN and not lenient:
        return None, "foreign_namesake"
    if lenient and ids:
        return facts.largest, "largest"
    return None, "ambiguous"


def find_jurisdictions(
    text: str,
    exclude: list[tuple[int, int]] | None = None,
    *,
    low_spans: list[tuple[int, int]] | None = None,
    lenient: bool = False,
    lowered: str | None = None,
    folded: str | None = None,
    hits: list[_Hit] | None = None,
    spans: list[tuple[int, int, str, str]] | None = None,
) -> tuple[tuple[JurisdictionTag, ...], dict[str, Any]]:
    """Jurisdictions named in ``text`` (outside the ``exclude`` spans, e.g. court names), with signals.

    Mentions inside ``low_spans`` (the names of cited cases) count as low signal, like addresses. ``lowered`` is
    ``text.lower()``, or ``folded`` is ``" " + fold(text) + " "``, or ``hits`` are ``scan(folded)[0]``, when the
    caller has it already. ``spans``, when given, receives ``(start, end, id, role)`` of every mention the tags
    count, in text order (the web page highlights them)."""
    gaz = load()
    if folded is None and hits is None:
        folded = f" {fold(text, lowered)} "
    mentions = _qualify(gaz, text, _scan(gaz, text, exclude or [], lenient, folded, hits))
    counties = text.rfind("ounties")  # the last "counties": a list of counties can only end before it
    if counties >= 0:
        qre = _qualifier(gaz)
        mentions = county_lists(gaz, text, mentions, lambda pos: _qualifier_match(qre, text, pos))
    for m in mentions:
        if low_spans and _overlaps(m.start, m.end, low_spans):
            m.low_signal = "citation"
    ctx: set[str] = set()
    explicit_ids: set[int] = set()
    resolved: list[tuple[_Mention, int]] = []
    reasons: dict[int, str] = {}  # entry -> how its most certain mention was resolved
    pending: list[_Mention] = []
    for m in mentions:
        i = _certain(gaz, text, m, counties)
        if m.qual:
            ctx.add(m.qual)
        if i is None:
            pending.append(m)
            continue
        resolved.append((m, i))
        why = "qualifier" if m.qual else "unique"
        if m.county >= 0:
            why = "county_of_place" if gaz.entries[m.county].kind == "county" else "qualifier"
        if m.key.candidates[0][1] == EXPLICIT and not m.qual:
            why = "explicit"
        if m.listed:
            why = "county_list"
        _reason(reasons, i, why, m.low_signal)
        ctx.add(gaz.entries[i].state)
        if m.key.candidates[0][1] == EXPLICIT or m.qual:
            explicit_ids.add(i)
    parties = _parties(gaz, explicit_ids) if pending and explicit_ids else {}
    dropped: dict[str, list[str]] = {}
    outcomes = [(m, *_resolve(gaz, text, m, ctx, explicit_ids, lenient, parties)) for m in pending]
    people = {m.key.text for m, _, why in outcomes if why == "person"}
    for m, i, why in outcomes:
        if i is not None and people and m.key.text in people and _person_name(m):
            i, why = None, "person"  # "Wilson v. Filtrex ... by Scott Avery Wilson": a person all through
        if i is None:
            dropped.setdefault(why, []).append(text[m.start : m.end])
        else:
            resolved.append((m, i))
            _reason(reasons, i, why, m.low_signal)
    counts: dict[int, list[int]] = {}
    low_only: dict[int, str] = {}
    located: dict[str, list[int]] = {}  # state code -> offsets of its qualifier uses, for reported places only
    for m, i in resolved:
        if m.low_signal:
            low_only.setdefault(i, m.low_signal)
            continue
        counts.setdefault(i, []).append(m.start)
        if m.qual:
            located.setdefault(m.qual, []).append(m.qual_at)
    tags = []
    for i, starts in counts.items():
        e = gaz.entries[i]
        tags.append(JurisdictionTag(e.id, e.name, e.kind, e.state, len(starts), min(starts), NAMED, reasons[i]))
    if located:
        states = _state_index(gaz)
        for code, offsets in located.items():
            i = states.get(code, -1)
            if i >= 0 and i not in counts:  # a state also named on its own is one named tag
                e = gaz.entries[i]
                tags.append(
                    JurisdictionTag(e.id, e.name, e.kind, e.state, len(offsets), min(offsets), LOCATOR, "qualifier")
                )
    tags.sort(key=lambda t: t.first)
    if spans is not None:
        spans.extend(_spans(gaz, resolved, {t.id for t in tags if t.role == LOCATOR}))
    signals: dict[str, Any] = {}
    low = {gaz.entries[i].id: why for i, why in low_only.items() if i not in counts}
    if low:
        signals["low_signal"] = low
    if dropped:
        signals["dropped"] = {k: sorted(set(v)) for k, v in dropped.items()}
    if ctx:
        signals["state_context"] = sorted(ctx)
    return tuple(tags), signals


# the rest rank after these, in found order
_CERTAINTY = ("qualifier", "county_of_place", "county_list", "explicit", "unique")


_RANK = {why: n for n, why in enumerate(_CERTAINTY)}


def _reason(reasons: dict[int, str], i: int, why: str, low_signal: str | None) -> None:
    """Keep for entry ``i`` the most certain way one of its counted mentions was resolved."""
    if low_signal:
        return
    old = reasons.get(i)
    if old is None or old != why and _RANK.get(why, 9) < _RANK.get(old, 9):
        reasons[i] = why


def _parties(gaz: Gazetteer, explicit_ids: set[int]) -> dict[str, int]:
    """Folded base name -> county, for the counties the document names explicitly ("County of Santa Clara")."""
    out: dict[str, int] = {}
    for i in explicit_ids:
        e = gaz.entries[i]
        if e.kind == "county" and e.name.endswith((" County", " Parish")):
            out[_county_base(e.name)] = i
    return out


@functools.lru_cache(maxsize=4096)
def _county_base(name: str) -> str:
    """ "Santa Clara County" -> "santa clara" (folded, as keys are)."""
    return fold(name.rsplit(" ", 1)[0]).strip()


def _spans(gaz: Gazetteer, resolved: list[tuple[_Mention, int]], locators: set[str]) -> list[tuple[int, int, str, str]]:
    """``(start, end, id, role)`` of the counted mentions: the names, and the qualifiers of locator states."""
    found = []
    states = _state_index(gaz) if locators else {}
    for m, i in resolved:
        if m.low_signal:
            continue
        found.append((m.start, m.end, gaz.entries[i].id, NAMED))
        if m.qual and m.qual_end > m.qual_at >= 0:
            state_id = gaz.entries[states[m.qual]].id if m.qual in states else ""
            if state_id in locators:
                found.append((m.qual_at, m.qual_end, state_id, LOCATOR))
    return sorted(found)


def catalog() -> list[dict[str, str]]:
    return [{"id": e.id, "name": e.name, "kind": e.kind, "state": e.state, "fips": e.fips} for e in load().entries]


def resolve(query: str) -> JurisdictionTag | None:
    """Resolve user input ("Cook County, IL", "Philadelphia", "fips:17031", "NYC") to one jurisdiction."""
    gaz = load()
    q = query.strip()
    if q.lower().startswith("fips:"):
        i = gaz.by_id.get("fips:" + q[5:].strip())
        if i is None:
            return None
        e = gaz.entries[i]
        return JurisdictionTag(e.id, e.name, e.kind, e.state, 0, 0)
    m = re.match(r"^(.*?),\s*([A-Za-z. ]+)$", q)
    if m:  # "cook county, il" -> "cook county, IL"; "chicago, illinois" -> "chicago, Illinois"
        st = m.group(2).strip()
        q = f"{m.group(1)}, {st.upper() if len(st.replace('.', '')) == 2 else st.title()}"
    tags, _ = find_jurisdictions(q, lenient=True)
    named = [t for t in tags if t.role == NAMED]  # "Cook County, IL": the county, not its locator
    if not named:
        return None
    t = named[0]
    return JurisdictionTag(t.id, t.name, t.kind, t.state, 0, 0)
