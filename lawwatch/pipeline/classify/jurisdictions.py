"""Jurisdictions named in a document, resolved to gazetteer ids in one Aho–Corasick pass.

The automaton (see :mod:`pipeline.classify.gazetteer`) runs once over the folded text (lower case, punctuation to
spaces, padded), so every hit is a whole-word match; hits written in lower case are words, not places ("new york
style"); the leftmost longest hits are kept. Court names (found first, :mod:`pipeline.classify.courts`) are skipped.
A hit followed by a state ("Chicago, IL", "Cook County, Ill.", "Mobile, Alabama") resolves inside that state, and
to nothing when that state has no such place ("Arlington, Va.": a place below the gazetteer's threshold). The
other hits are resolved in a second pass against the *state context* — the states the document names without
doubt (qualifiers, explicit forms, unambiguous names):

* explicit forms ("Cook County", "City of Chicago", "State of Oregon", "NYC") resolve to their one candidate, or
  to the one in a context state;
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
  people ten times larger than any other ("Dallas"); the rest are dropped.

Each tag has a role. A jurisdiction the text names is ``"named"`` (``mentions`` and ``first`` count those names
only). A state (or territory, or DC) that the text uses only as the qualifier of a reported place ("Berkeley,
California", "Chicago, Ill.", "Cook County, IL") is a ``"locator"``: it says where the place is, it is not what the
document is about; its ``mentions`` and ``first`` count and place those qualifier uses. A state both named and used
as a qualifier is one named tag. Alert rules and filters match locators only with ``within`` (``pipeline.filters``).

Addresses ("Washington, DC 20530"), datelines ("CHICAGO –") and the names of cited cases ("City of Chicago v.
Sessions, 888 F.3d 272") are low signal: a jurisdiction seen only there is not reported; it is listed in
``signals["low_signal"]`` instead. Every dropped name is listed in ``signals["dropped"]`` with the reason.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from lawwatch.pipeline.classify.gazetteer import (
    BARE,
    COMMON_WORD,
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
    role: str = NAMED  # NAMED | LOCATOR; last, with a default, so positional constructions keep working

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_LOWER_OK = frozenset(
    "of and the city county town state commonwealth parish village borough metro government co. territory "
    "de la del los las".split()
)
_TITLES = frozenset(
    "mr mrs ms dr judge justice mayor senator sen rep representative gov governor president secretary general "
    "officer agent sheriff commissioner chief councilman councilwoman councilmember director attorney deputy "
    "sergeant detective lieutenant captain jr sr st saint fort mount lake port".split()
)
_PREV_WORD = re.compile(r"([A-Za-z][A-Za-z'’-]*)\.?\s+$")  # the word before a name; kept as the tests' reference
# ``_PREV_WORD.search(text, start - 40, start)`` tries every offset of the window, and backtracks at each; the same
# pattern reversed, anchored, on the reversed window finds the same word in one ``match``: ``\s+`` must take the whole
# run of spaces before ``start`` (nothing else is a space), then an optional ".", then the word's letters and "'’-",
# greedy, backtracked to end (in the reversed text) at a letter, as the search's leftmost start must be a letter.
_PREV_DROW = re.compile(r"\s+\.?([A-Za-z'’-]*[A-Za-z])")
_NEXT_WORD = re.compile(r"\s([A-Z][a-z]+|[A-Z]\.)")
# A bare name followed by one of these is the name of a law, school or paper, not a place ("Sherman Act",
# "Georgetown University", "Washington Post"); after a first name, any other capitalised word makes a person.
_NOT_PLACE_AFTER = frozenset(
    "Act Acts Amendment Amendments Institution Institute University College Post Times National Cemetery".split()
)
_INITIAL_AFTER = re.compile(r"\s[A-Z]\.\s[A-Z][a-z]")
_PLACE_AFTER = frozenset(
    "County City Police Department Office Field Division Branch Council Board Mayor Sheriff School Schools Public "
    "Housing Airport Metro Area Jail Court Superior Municipal Federal District Region Regional Detention".split()
)
_ZIP = re.compile(r",?\s*(?:[A-Z]{2}\.?\s+|D\.\s?C\.\s+)?\d{5}(?:-\d{4})?\b")
_DATELINE_AFTER = re.compile(r"(?:,\s*[A-Z][A-Za-z.]*(?: [A-Z][A-Za-z.]*)?)?(?:\s+-\s|\s*[–—])")
_STATE_KINDS = ("state", "territory")
_LIST_SEP = re.compile(r"\s*(?:,|;|and|or|&)?\s*(?:and|or)?\s*$")
# A bare homonym goes to its largest namesake when that one has 200,000+ people and 10x the next ("Dallas"
# is Dallas, Texas, not Dallas, Oregon); "Springfield", "Jackson" and "Columbia" have no such namesake.
DOMINANT_POPULATION = 200_000
DOMINANCE = 10


@dataclass(slots=True)
class _Mention:
    start: int
    end: int
    key: Key
    qual: str | None = None
    qual_at: int = -1  # offset of the qualifier's state form ("California" in "Berkeley, California")
    low_signal: str | None = None  # "address" | "dateline"
    in_state_list: bool = False  # "Oregon, Washington and California": a list of states
    qual_miss: bool = False  # followed by a state that has no place of this name ("Arlington, Va.")
    after: str | None = None  # the capitalised word that follows (``_NEXT_WORD``), set by ``_certain``


@functools.cache
def _qualifier_re(forms: tuple[str, ...]) -> re.Pattern[str]:
    alternation = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(r",?\s*(" + alternation + r")(?![A-Za-z])")


_QUALIFIER: list[Any] = [None, None]  # [state_forms, pattern]: hashing the 247-form tuple per document cost ~8 µs


def _qualifier(gaz: Gazetteer) -> re.Pattern[str]:
    if _QUALIFIER[0] is not gaz.state_forms:  # the same dict object: the same forms (the gazetteer is never mutated)
        _QUALIFIER[:] = [gaz.state_forms, _qualifier_re(tuple(gaz.state_forms))]
    pattern: re.Pattern[str] = _QUALIFIER[1]
    return pattern


_STATES: list[Any] = [None, None]  # [entries, {USPS code: index of the state, territory or DC}]


def _state_index(gaz: Gazetteer) -> dict[str, int]:
    """The entry of each state-level code: states, territories and DC (whose entry is "consolidated"), the entries
    with a two-digit FIPS code."""
    if _STATES[0] is not gaz.entries:
        _STATES[:] = [gaz.entries, {e.state: i for i, e in enumerate(gaz.entries) if len(e.fips) == 2}]
    index: dict[str, int] = _STATES[1]
    return index


def _capitalised(span: str) -> bool:
    if span[0].isupper() and " " not in span:
        return True
    for word in re.split(r"[\s/-]+", span):
        if word and not (word[0].isupper() or word[0].isdigit() or word.lower() in _LOWER_OK):
            return False
    return True


def _overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in spans)


_Hit = tuple[int, int, int]  # (start in ``text``, -end, key index)


def scan(folded: str, gaz: Gazetteer | None = None) -> tuple[list[_Hit], list[tuple[int, int]] | None]:
    """One pass of the gazetteer's automaton over ``folded`` (``" " + fold(text) + " "``): the gazetteer hits, and the
    doctype cue anchors' hits (last offset, index in ``doctype.ANCHOR_KEYS``) that share the automaton, or None when
    this automaton was built without them (``classify_doctype`` then scans for them itself)."""
    gaz = gaz if gaz is not None else load()
    keys = gaz.keys
    n = len(keys)
    hits: list[_Hit] = []
    cues: list[tuple[int, int]] = []
    for last, idx in gaz.automaton.iter(folded):
        if idx < n:  # keys are " name ": every hit is a whole-word match (the padding shifts offsets by one)
            hits.append((last - len(keys[idx].text) - 1, 1 - last, idx))
        else:
            cues.append((last, idx - n))
    return hits, (cues if _has_anchors(gaz) else None)


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
        if exclude and _overlaps(start, end, exclude):
            continue
        out.append(_Mention(start, end, keys[idx]))
        taken = end
    return out


def _prev_word(text: str, start: int) -> str | None:
    """The word just before ``start`` (within 40 characters), as ``_PREV_WORD.search`` finds it."""
    m = _PREV_DROW.match(text[max(0, start - 40) : start][::-1])
    return m.group(1)[::-1] if m else None


def _person_context(gaz: Gazetteer, text: str, start: int) -> bool:
    word = _prev_word(text, start)
    if word is None:
        return False
    if len(word) == 1 and word.isupper():  # an initial: "J. Washington"
        return True
    return (
        word.lower() in _TITLES
        or word.lower().removesuffix("s") in _TITLES
        or (word[0].isupper() and word in gaz.first_names)
    )


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
        nxt_char = text[m.end : m.end + 1]
        q = (
            qre.match(text, m.end)
            if nxt_char == "," or nxt_char == " " and text[m.end + 1 : m.end + 3].isupper()
            else None
        )
        if q and k + 1 < len(mentions):
            nxt = mentions[k + 1]
            if nxt.start == q.start(1) and nxt.end > q.end():
                q = None  # "New Orleans, New York City": the next name is longer than a state
        if q and (q.group(0).startswith(",") or q.group(1).isupper() and len(q.group(1)) == 2):
            state = gaz.state_forms[q.group(1)]
            if any(entries[i].state == state and entries[i].kind not in _STATE_KINDS for i, _ in m.key.candidates):
                m.qual = state
                m.qual_at = q.start(1)
                consumed = q.end()
            elif not m.key.flags & HAS_STATE:  # HAS_STATE: some candidate is a state or territory (gazetteer.build)
                m.qual_miss = True
        tail = consumed if m.qual else m.end
        if _ZIP.match(text, tail):
            m.low_signal = "address"
        elif text[m.start : m.end].isupper():
            if lead < 0:  # ``not text[:start].strip()`` is ``start <= lead``, without an O(n) slice per mention
                lead = len(text) - len(text.lstrip())
            if (m.start <= lead or text[m.start - 1] == "\n") and _DATELINE_AFTER.match(text, tail):
                m.low_signal = "dateline"
        out.append(m)
    for a, b in zip(out, out[1:], strict=False):  # the flags first: cheaper than the regex, and the same conjunction
        if a.key.flags & b.key.flags & HAS_STATE and b.start - a.end < 8 and b.end - a.start < 200:
            if _LIST_SEP.fullmatch(text, a.end, b.start):
                a.in_state_list = b.in_state_list = True
    return out


def _certain(gaz: Gazetteer, text: str, m: _Mention) -> int | None:
    cands = m.key.candidates
    nxt = _NEXT_WORD.match(text, m.end)
    m.after = nxt.group(1) if nxt else None  # kept for ``_resolve``, which runs after this on the same mention
    if m.qual_miss:
        return None
    if m.after in _NOT_PLACE_AFTER:
        return None
    if m.qual:
        inq = [i for i, _ in cands if gaz.entries[i].state == m.qual and gaz.entries[i].kind not in _STATE_KINDS]
        return max(inq, key=lambda i: gaz.entries[i].population)
    if len(cands) == 1 and (cands[0][1] == EXPLICIT or m.key.flags & ~HAS_STATE == 0):
        return cands[0][0]
    return None


def _resolve(
    gaz: Gazetteer, text: str, m: _Mention, ctx: set[str], explicit_ids: set[int], lenient: bool
) -> tuple[int | None, str]:
    entries: list[Entry] = gaz.entries
    cands = m.key.candidates
    if m.qual_miss:
        return None, "other_place_in_state"
    if m.after in _NOT_PLACE_AFTER:  # ``m.after`` was set by ``_certain``, always called first
        return None, "name_of_institution"
    explicit = [i for i, f in cands if f == EXPLICIT]
    if explicit:
        if len(explicit) == 1:
            return explicit[0], "explicit"
        inctx = [i for i in explicit if entries[i].state in ctx]
        return (inctx[0], "explicit+state") if len(inctx) == 1 else (None, "ambiguous")
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
    ids = [i for i, f in cands if f == BARE]
    states = [i for i in ids if entries[i].kind in _STATE_KINDS]
    if states:
        st = states[0]
        same = [i for i in ids if i != st and entries[i].state == entries[st].state]
        if same and any(i in explicit_ids for i in same):
            return same[0], "place_cue"
        if flags & SURNAME and entries[st].state not in ctx and not lenient and not m.in_state_list:
            return None, "needs_state_context"
        return st, "state"
    if len(ids) == 1 and not flags & FOREIGN:
        return ids[0], "unique"
    inctx = [i for i in ids if entries[i].state in ctx]
    if len(inctx) == 1:
        return inctx[0], "state_context"
    pops = sorted((entries[i].population for i in ids), reverse=True) + [0]
    second = max(pops[1], m.key.rival)
    if not flags & FOREIGN and pops[0] >= DOMINANT_POPULATION and pops[0] >= DOMINANCE * second:
        return max(ids, key=lambda i: entries[i].population), "dominant"
    if flags & FOREIGN and not lenient:
        return None, "foreign_namesake"
    if lenient and ids:
        return max(ids, key=lambda i: entries[i].population), "largest"
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
) -> tuple[tuple[JurisdictionTag, ...], dict[str, Any]]:
    """Jurisdictions named in ``text`` (outside the ``exclude`` spans, e.g. court names), with signals.

    Mentions inside ``low_spans`` (the names of cited cases) count as low signal, like addresses. ``lowered`` is
    ``text.lower()``, or ``folded`` is ``" " + fold(text) + " "``, or ``hits`` are ``scan(folded)[0]``, when the
    caller has it already."""
    gaz = load()
    if folded is None and hits is None:
        folded = f" {fold(text, lowered)} "
    mentions = _qualify(gaz, text, _scan(gaz, text, exclude or [], lenient, folded, hits))
    for m in mentions:
        if low_spans and _overlaps(m.start, m.end, low_spans):
            m.low_signal = "citation"
    ctx: set[str] = set()
    explicit_ids: set[int] = set()
    resolved: list[tuple[_Mention, int]] = []
    pending: list[_Mention] = []
    for m in mentions:
        i = _certain(gaz, text, m)
        if m.qual:
            ctx.add(m.qual)
        if i is None:
            pending.append(m)
            continue
        resolved.append((m, i))
        ctx.add(gaz.entries[i].state)
        if m.key.candidates[0][1] == EXPLICIT or m.qual:
            explicit_ids.add(i)
    dropped: dict[str, list[str]] = {}
    for m in pending:
        i, why = _resolve(gaz, text, m, ctx, explicit_ids, lenient)
        if i is None:
            dropped.setdefault(why, []).append(text[m.start : m.end])
        else:
            resolved.append((m, i))
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
        tags.append(JurisdictionTag(e.id, e.name, e.kind, e.state, len(starts), min(starts)))
    if located:
        states = _state_index(gaz)
        for code, offsets in located.items():
            i = states.get(code, -1)
            if i >= 0 and i not in counts:  # a state also named on its own is one named tag
                e = gaz.entries[i]
                tags.append(JurisdictionTag(e.id, e.name, e.kind, e.state, len(offsets), min(offsets), LOCATOR))
    tags.sort(key=lambda t: t.first)
    signals: dict[str, Any] = {}
    low = {gaz.entries[i].id: why for i, why in low_only.items() if i not in counts}
    if low:
        signals["low_signal"] = low
    if dropped:
        signals["dropped"] = {k: sorted(set(v)) for k, v in dropped.items()}
    if ctx:
        signals["state_context"] = sorted(ctx)
    return tuple(tags), signals


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
