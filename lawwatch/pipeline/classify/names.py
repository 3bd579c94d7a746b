"""What a name the gazetteer found is, read from the words around it: the rules that :mod:`jurisdictions` applies to
each mention before and while it resolves it (see that module's docstring for the whole list).

* organisations and foreign places: "Benbrook Law Group", "Ozark Mountain Poultry, Inc.", "Arkansas Federal Credit
  Union", "University of Cincinnati", "Ontario, Canada", "the province of Ontario" (:func:`_not_a_place`);
* people: a title or a first name before a name ("Mayor Kenney", "Scott Avery Wilson"), a caption's party, a docket
  entry's filer; a surname the document uses once for a person is a person throughout (:func:`_person_name`);
* a county's name alone ("Sonoma", "Middlesex"): :func:`_county_by_name`, :func:`_county_named`;
* "the Oregon city of Portland" (:func:`_state_of_place`) and "the cities of New York and Albany"
  (:func:`_mark_city_lists`);
* lists of counties, "the counties of Bergen, Essex and Hudson" and "Middlesex, Essex and Hudson counties"
  (:func:`county_lists`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lawwatch.pipeline.classify.gazetteer import BARE, EXPLICIT, HAS_STATE, PERSON, Gazetteer, Key, fold, prominent

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
_INITIAL_AFTER = re.compile(r"\s[A-Z]\.\s[A-Z][a-z]")
# A bare name followed by one of these (or by ", Inc."...) names an organisation ("Benbrook Law Group", "Madison
# Society Foundation", "Heartbeat of Miami, Inc."); only bare forms: "City of Philadelphia Law Department" is a place.
_ORG_AFTER = frozenset(
    "Foundation Society Group Law Company Corporation Corp Bank Partners Associates Inc LLC LLP Coalition".split()
)  # also anywhere in the capitalised words after the name ("Benbrook Legal Group"), see ``_org_name_after``
# A state's name followed by capitalised words that include one of these names an organisation, not the state
# ("Arkansas Federal Credit Union"); a state's offices ("Texas Department of Public Safety") are the state.
_STATE_ORG_WORDS = frozenset(
    "Union Bank Bancorp Company Corporation Foundation Association Society Cooperative Railroad Insurance "
    "Airlines".split()
)
_CAPITALISED_RUN = re.compile(r"(?:\s+[A-Z][A-Za-z]+){1,4}")
_ORG_SUFFIX = re.compile(r",?\s+(?:Inc|LLC|L\.L\.C|LLP|Corp|Ltd)\b")
_FOREIGN_AFTER = re.compile(
    r",?\s+(?:Canada|Mexico|England|Scotland|Ireland|Australia|Germany|France|Italy|Spain|China|Japan|India|Israel"
    r"|Brazil|Peru|Chile|Colombia|the U\.K\.|UK|U\.K\.)\b|\s+[Pp]rovince\b"
)
_FOREIGN_BEFORE = re.compile(r"[Pp]rovinces? of\s+$|[Pp]rovince,?\s+$")
_FILER = re.compile(r", [A-Z][a-z]+(?: [A-Z]\.?)?\)")  # "(Ferguson, John)": a docket entry's filer
_NEXT_ANY = re.compile(r"\s+([A-Za-z]+)")
_ORG_BEFORE = re.compile(
    r"\b(?:University|College|School|Institute|Bank|Diocese|Archdiocese|Museum|Hospital|Church|Port) [Oo]f\s+$"
)
_CAPTION_PARTY = re.compile(r"\s+v\.\s")  # "Wilson v. Filtrex": a party; a surname is a person there
_NOT_TITLES = frozenset("st saint fort mount lake port jr sr".split())  # in ``_TITLES`` but not a person's title
_PLACE_AFTER = frozenset(
    "County City Police Department Office Field Division Branch Council Board Mayor Sheriff School Schools Public "
    "Housing Airport Metro Area Jail Court Superior Municipal Federal District Region Regional Detention".split()
)
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
    qual_end: int = -1  # where that form ends
    low_signal: str | None = None  # "address" | "dateline"
    in_state_list: bool = False  # "Oregon, Washington and California": a list of states
    city_list: bool = False  # after "the cities of": "the cities of New York and Albany" names two cities
    qual_miss: bool = False  # followed by a state that has no place of this name ("Arlington, Va.")
    county: int = -1  # with ``qual_miss``: the county of that name in that state ("Arlington County, VA"), if any
    listed: bool = False  # a name in a list of counties: ``county`` is that county (``county_lists``)
    why_not: str | None = None  # set by ``_certain``: why the name is no place here (``_not_a_place``)
    after: str | None = None  # the capitalised word that follows (``_NEXT_WORD``), set by ``_certain``


_KIND_OF = re.compile(r" (?:city|town|village|county) of ")
_CITIES_OF = re.compile(r"[Cc]ities of\s+$")


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
        or (word.isupper() and len(word) > 2 and word.capitalize() in gaz.first_names)  # "ALBERT DUNCAN"
    )


def _state_of_place(gaz: Gazetteer, text: str, m: _Mention, place: _Mention) -> bool:
    """ "the Oregon city of Portland", "the Texas town of Uvalde": the state ``m`` qualifies ``place`` (the next
    mention) as "Portland, Oregon" would, when it has a candidate in that state; then ``m`` is no mention of its own."""
    kind_of = _KIND_OF.match(text, m.end)  # the place is the next name ("Portland") or its form "city of Portland"
    if kind_of is None or place.start not in (kind_of.end(), m.end + 1) or place.qual:
        return False
    states = [i for i, _ in m.key.candidates if gaz.entries[i].kind in _STATE_KINDS]
    if not states:
        return False
    state = gaz.entries[states[0]].state
    if not any(
        gaz.entries[i].state == state and gaz.entries[i].kind not in _STATE_KINDS for i, _ in place.key.candidates
    ):
        return False
    place.qual, place.qual_at, place.qual_end = state, m.start, m.end
    return True


def _mark_city_lists(text: str, mentions: list[_Mention]) -> None:
    """Mark the names listed after "the cities of" ("the cities of New York and Albany, N.Y."): each is a city."""
    prev: _Mention | None = None
    for m in mentions:
        if prev is not None and m.start - max(prev.end, prev.qual_end) < 8:
            if _LIST_SEP.fullmatch(text, max(prev.end, prev.qual_end), m.start):
                m.city_list = True
                prev = m
                continue
        prev = None
        if _CITIES_OF.search(text, max(0, m.start - 12), m.start):
            m.city_list = True
            prev = m


_COUNTY_KEYS: list[Any] = [None, None]  # [keys, {folded text: key}]

# A list of two or more capitalised names (one to three words each: "St. Louis", "Prince George's", "Miami-Dade")
# after "the counties of", or before "counties": each name is a county's.
_LIST_NAME = r"[A-Z][A-Za-z'’.]*(?:[ -][A-Z][A-Za-z'’.]*){0,2}"
_LIST_GLUE = r"(?:\s*,\s*(?:(?:and|or|&)\s+)?|\s+(?:and|or|&)\s+)"
_COUNTY_LIST = re.compile(
    rf"[Cc]ounties of ({_LIST_NAME}(?:{_LIST_GLUE}{_LIST_NAME})+)"
    rf"|(?<![A-Za-z])({_LIST_NAME}(?:{_LIST_GLUE}{_LIST_NAME})+),?\s+[Cc]ounties\b"
)
_LIST_ITEM = re.compile(rf"{_LIST_NAME}")


def _keys_by_text(gaz: Gazetteer) -> dict[str, Key]:
    """The gazetteer's keys by their folded text, built once per gazetteer."""
    if _COUNTY_KEYS[0] is not gaz.keys:
        _COUNTY_KEYS[:] = [gaz.keys, {k.text: k for k in gaz.keys}]
    by_text: dict[str, Key] = _COUNTY_KEYS[1]
    return by_text


def _county_key(gaz: Gazetteer, name: str) -> Key | None:
    """The key of "``name`` County" ("bergen county"), or None."""
    return _keys_by_text(gaz).get(f"{fold(name)} county")


def county_lists(
    gaz: Gazetteer, text: str, mentions: list[_Mention], qualifier: Callable[[int], re.Match[str] | None]
) -> list[_Mention]:
    """``mentions`` with every name of a list of counties read as the county of that name: "the counties of Bergen,
    Essex and Hudson", "Middlesex, Essex and Hudson counties" (", N.J."). The state is the one written right after
    the list, else the one state that has a county of every name listed (Bergen, Essex and Hudson: only New Jersey
    has all three); with neither (or a name that is no county's), the list is left to the other rules. A name of the
    list that the gazetteer has only as another place ("Hudson", a city in Ohio) is then no mention of that place.
    ``qualifier(pos)``: the state qualifier that starts at ``pos`` (``jurisdictions._qualifier_match``), or None."""
    entries = gaz.entries
    added: list[_Mention] = []
    for found in _COUNTY_LIST.finditer(text):
        group = 1 if found.group(1) is not None else 2
        items = [(m.start() + found.start(group), m.group(0)) for m in _LIST_ITEM.finditer(found[group])]
        written = gaz.state_forms.get(items[-1][1]) if group == 1 else None  # "... and Hudson, N.J.": its state
        if written is not None:
            items.pop()
        else:
            q = qualifier(found.end())
            if q and (q.group(0).startswith(",") or len(q.group(1)) == 2):
                written = gaz.state_forms[q.group(1)]
        items = [(start, name.rstrip(".")) for start, name in items]
        if len(items) < 2:
            continue
        if group == 2:  # the list may start with a capitalised word of the sentence: "In Bergen and ..."
            start, first = items[0]
            words = first.split(" ")
            while len(words) > 1 and _county_key(gaz, " ".join(words)) is None:
                start += len(words.pop(0)) + 1
            items[0] = (start, " ".join(words))
        keys = [_county_key(gaz, name) for _, name in items]
        found_keys = [key for key in keys if key is not None]
        if len(found_keys) < len(keys):
            continue
        states = [{entries[i].state for i, _ in key.candidates if entries[i].kind == "county"} for key in found_keys]
        common = set.intersection(*states)
        state = written if written in common else next(iter(common)) if len(common) == 1 and not written else None
        if state is None:
            continue
        for (start, name), key in zip(items, found_keys, strict=True):
            county = next(i for i, _ in key.candidates if entries[i].state == state and entries[i].kind == "county")
            added.append(_Mention(start, start + len(name), key, county=county, listed=True))
    if not added:
        return mentions
    spans = [(m.start, m.end) for m in added]
    kept = [m for m in mentions if not any(m.start < end and start < m.end for start, end in spans)]
    return sorted(kept + added, key=lambda m: m.start)


def _county_named(gaz: Gazetteer, name: str, state: str) -> int:
    """The county (or parish) called ``name`` in ``state``, or -1: "arlington", "VA" -> Arlington County."""
    by_text = _keys_by_text(gaz)
    for word in ("county", "parish"):
        key = by_text.get(f"{name} {word}")
        if key is not None:
            for i, _form in key.candidates:
                if gaz.entries[i].state == state and gaz.entries[i].kind == "county":
                    return i
    return -1


def _not_a_place(gaz: Gazetteer, text: str, m: _Mention) -> str | None:
    """Why a bare mention names an organisation, a foreign place or a docket entry's filer, or None. Each rule's
    regex runs only where a plain string test on the characters around the name says it can match (this runs for
    every mention)."""
    explicit = m.key.candidates[0][1] == EXPLICIT
    end = m.end
    if not explicit and not m.key.flags & HAS_STATE:  # not a state: "Mississippi law" is the state's law
        if m.after is not None:  # the capitalised word that follows ("Law", "Foundation")
            org = m.after in _ORG_AFTER
        else:  # "BENBROOK LAW GROUP"
            nxt = _NEXT_ANY.match(text, end) if text[end + 1 : end + 2].isupper() else None
            org = nxt is not None and nxt.group(1).capitalize() in _ORG_AFTER
        if org or m.after is not None and _org_name_after(text, end, _ORG_AFTER):
            return "name_of_institution"  # "Benbrook Law Group", "Ozark Mountain Poultry, Inc."
        if m.start >= 2 and text.startswith("f ", m.start - 2):
            if _ORG_BEFORE.search(text, max(0, m.start - 24), m.start):
                return "name_of_institution"  # "University of Cincinnati"
        if m.key.flags & PERSON and (
            _CAPTION_PARTY.match(text, end) or text.endswith(("v. ", "V. "), max(0, m.start - 3), m.start)
        ):
            return "person"  # "Wilson v. Filtrex Service Group"
        if m.start >= 3 and text[m.start - 2] == ".":
            word = _prev_word(text, m.start)  # "BRADLEY A. BENBROOK": after an initial
            if word is not None and len(word) == 1 and word.isupper():
                return "person"
        if m.after is not None and len(m.key.candidates) == 1 and not m.key.flags and m.after not in _PLACE_AFTER:
            word = _prev_word(text, m.start)  # "Judge Sidney Thomas" (flagged names: ``_resolve``'s person rules)
            if word is not None and word.lower() in _TITLES and word.lower() not in _NOT_TITLES:
                return "person"
        if m.start and text[m.start - 1] == "(" and _FILER.match(text, end):
            return "person"
    elif not explicit and m.after is not None and _org_name_after(text, end, _STATE_ORG_WORDS):
        return "name_of_institution"  # "Arkansas Federal Credit Union", "New York Civil Liberties Union"
    tail = text[end : end + 8]  # "Mishcon De Reya New York LLP", "Heartbeat of Miami, Inc."
    if ("Inc" in tail or "LL" in tail or "Corp" in tail or "Ltd" in tail) and _ORG_SUFFIX.match(text, end):
        return "name_of_institution"
    province = text.find("rovince", max(0, m.start - 20), end + 12) >= 0
    if (tail[:1] == "," or province) and _FOREIGN_AFTER.match(text, end):
        return "foreign_place"
    if province and _FOREIGN_BEFORE.search(text, max(0, m.start - 20), m.start):
        return "foreign_place"
    return None


def _org_name_after(text: str, end: int, words: frozenset[str]) -> bool:
    """Whether the (up to four) capitalised words after a name at ``end`` make it an organisation's: one of them is
    one of ``words`` ("Arkansas Federal Credit Union"), or they are followed by ", Inc.", "LLC"... ("Ozark Mountain
    Poultry, Inc.")."""
    run = _CAPITALISED_RUN.match(text, end)
    if run is None:
        return False
    if not words.isdisjoint(run.group(0).split()):
        return True
    tail = text[run.end() : run.end() + 8]
    return ("Inc" in tail or "LL" in tail or "Corp" in tail or "Ltd" in tail) and bool(
        _ORG_SUFFIX.match(text, run.end())
    )


_PROPER_BEFORE = re.compile(r"[A-Z][A-Za-z]*\s$")
_PROPER_AFTER = re.compile(r"\.?\s+[A-Z][a-z]")


def _alone(text: str, start: int, qual_end: int) -> bool:
    """Whether "Name, State" stands alone, not inside a longer proper name: "American Airlines Federal Credit Union,
    Arkansas Federal Credit Union" names no county; "police in Arlington, Va. said" does."""
    return not _PROPER_BEFORE.search(text, max(0, start - 20), start) and not _PROPER_AFTER.match(text, qual_end)


def _person_name(m: _Mention) -> bool:
    """A bare, unqualified name that is also a person's (and no state's): the document that uses it for a person once
    ("Wilson v. Filtrex", "Judge Jackson") means that person by its other bare mentions too."""
    flags = m.key.flags
    return bool(flags & PERSON) and not flags & HAS_STATE and not m.qual and m.key.candidates[0][1] == BARE


def _county_by_name(gaz: Gazetteer, text: str, m: _Mention, ctx: set[str], lenient: bool) -> tuple[int | None, str]:
    """A county's name alone ("Sonoma", "Middlesex"), neither qualified by a state nor in a list of counties: the
    county of that name in the document's state, when it names one state only ("Humboldt" beside Tennessee and
    California is no county: Humboldt, Tenn. is a town); else, when its largest county has 200,000+ people and
    ten times as many as every other, that one ("Sonoma" is Sonoma County, CA: its namesake the city of Sonoma has
    11,000 people); else nothing ("Middlesex": MA 1.6 million, NJ 825,000). A smaller county's bare name is too weak
    a sign (a person, a school): "Crowley" says nothing. Followed or preceded by another capitalised word, the name
    is part of a longer one ("Kings Bay", "LaSalle Street", "Sonoma Valley", "Sacramento Kings", "Mid-Marin")."""
    cands = [i for i, _ in m.key.candidates]
    if not lenient and (_person_context(gaz, text, m.start) or _INITIAL_AFTER.match(text, m.end)):
        return None, "person"
    if not lenient and (m.after is not None and m.after not in _PLACE_AFTER or _name_before(text, m.start)):
        return None, "part_of_name"
    inctx = [i for i in cands if gaz.entries[i].state in ctx]
    if len(inctx) == 1 and len(ctx) == 1:
        return inctx[0], "state_context"
    top = prominent(cands, m.key.rival, gaz)
    if top is not None and gaz.entries[top].population >= DOMINANT_POPULATION:
        return top, "prominence"
    if lenient:
        return max(cands, key=lambda i: gaz.entries[i].population), "largest"
    return None, "ambiguous"


_FUNCTION_WORDS = frozenset("in at the for from to of and by on with near across both all as".split())


def _name_before(text: str, start: int) -> bool:
    """Whether a capitalised word (not "In", "The"...) or a hyphen comes right before ``start``: "Sacramento Kings"."""
    if start == 0:
        return False
    if text[start - 1] == "-":
        return True
    if text[start - 1] != " " or start < 2 or not text[start - 2].isalpha():
        return False
    word = _prev_word(text, start)
    return word is not None and word[0].isupper() and word.lower() not in _FUNCTION_WORDS
