"""Places as people write them → one jurisdiction, or an error that lists the candidates.

Used wherever a person names a place for lawwatch to act on (alert rules, the command line's filters, the web
page): a name that fits several places ("Springfield") is an error listing them (largest first), unless one has
at least 10 times the population of every other ("Cook County" is Cook County, IL: 5.2 million people, GA 17,000,
MN 5,500), which is then taken with ``resolved_by="prominence"`` (the command line says so on stderr); a name that
fits none gets did-you-mean suggestions. Written forms:

    Cook County, IL      Cook County, Illinois      cook county, ill.      a name with its state
    Philadelphia         a name that fits one place (or a state: "Illinois")
    fips:17031           a jurisdiction id
    NYC                  an alias the classifier knows
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import replace

from lawwatch.errors import QueryError
from lawwatch.errors import shown as _shown
from lawwatch.pipeline.classify.gazetteer import Entry, fold, load, prominent
from lawwatch.pipeline.classify.jurisdictions import JurisdictionTag, resolve

_LONGEST_NAME = 120  # longer text is not a place name (and would only slow the did-you-mean search)
_QUALIFIED = re.compile(r"^(.*?),\s*([A-Za-z. ]+)$")


class PlaceError(QueryError):
    """A place name lawwatch cannot resolve to exactly one jurisdiction; ``candidates`` are display labels."""

    def __init__(self, message: str, candidates: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.candidates = candidates


def label(entry: Entry | JurisdictionTag) -> str:
    """``Cook County, IL``; a state by its name alone."""
    return entry.name if entry.kind == "state" else f"{entry.name}, {entry.state}"


@functools.cache
def _by_name() -> dict[str, tuple[int, ...]]:
    """Folded place names (and the classifier's surface forms) → entry indexes, largest place first."""
    gaz = load()
    index: dict[str, set[int]] = {}
    for i, entry in enumerate(gaz.entries):
        index.setdefault(fold(entry.name).strip(), set()).add(i)
    for key in gaz.keys:
        for i, _form in key.candidates:
            index.setdefault(key.text.strip(), set()).add(i)
    return {
        name: tuple(sorted(ids, key=lambda i: (-gaz.entries[i].population, label(gaz.entries[i]))))
        for name, ids in index.items()
    }


def _candidate(entry: Entry) -> str:
    """How to write ``entry`` so that it resolves to it alone: ``New York State`` beside ``New York City, NY``."""
    return f"{entry.name} State" if entry.kind == "state" else label(entry)


def _tag(entry: Entry) -> JurisdictionTag:
    return JurisdictionTag(entry.id, entry.name, entry.kind, entry.state, 0, 0)


def resolve_place(text: str) -> JurisdictionTag:
    """The one jurisdiction ``text`` names; ``PlaceError`` (a ``QueryError``) when it names none or several."""
    gaz = load()
    query = " ".join(str(text).split())
    if not query:
        raise PlaceError("an empty place name")
    if len(query) > _LONGEST_NAME:
        raise PlaceError(f"unknown jurisdiction {_shown(query)}: a place name has at most {_LONGEST_NAME} characters")
    if query.lower().startswith("fips:"):
        i = gaz.by_id.get("fips:" + query[5:].strip())
        if i is None:
            raise PlaceError(f"unknown jurisdiction id {_shown(query)}")
        return _tag(gaz.entries[i])
    name, state = query, None
    match = _QUALIFIED.match(query)
    if match:
        qualifier = match.group(2).strip()
        state = gaz.state_forms.get(qualifier) or gaz.state_forms.get(qualifier.upper()) or _state_code(qualifier)
        if state is None:
            raise PlaceError(f"{_shown(query)}: {_shown(qualifier)} is not a U.S. state or its abbreviation")
        name = match.group(1).strip()
    found = [gaz.entries[i] for i in _by_name().get(fold(name).strip(), ())]
    if state is not None:
        found = [e for e in found if e.state == state and e.kind != "state"] or [e for e in found if e.state == state]
    if len(found) == 1:
        return _tag(found[0])
    if len(found) > 1:
        labels = tuple(dict.fromkeys(_candidate(e) for e in found))
        if len(labels) == 1:  # one place under several ids (DC and Guam: the state-level and the county entry)
            tagged = resolve(query)  # the id the classifier gives the place, which documents are tagged with
            return tagged if tagged is not None and tagged.id in {e.id for e in found} else _tag(found[0])
        if state is None:  # no state given: a candidate 10x as populous as every other one is the one meant
            best = prominent(gaz.by_id[e.id] for e in found)
            if best is not None:
                return replace(_tag(gaz.entries[best]), resolved_by="prominence")
        raise PlaceError(
            f"{_shown(query)} is ambiguous: did you mean {_either(found, labels)}? Add the state, like {labels[0]!r}",
            labels,
        )
    tag = resolve(query)  # aliases ("NYC") and forms only the classifier's scanner knows
    if tag is not None and (state is None or tag.state == state):
        return tag
    names = difflib.get_close_matches(fold(name).strip(), list(_by_name()), n=3, cutoff=0.8)
    near = [gaz.entries[i] for n in names for i in _by_name()[n][:3]]
    near = [e for e in near if state is None or e.state == state] or near
    suggestions = tuple(dict.fromkeys(label(e) for e in near))[:6]
    hint = (
        f": did you mean {' / '.join(suggestions)}?"
        if suggestions
        else ": try a name with its state, like 'Cook County, IL'"
    )
    raise PlaceError(f"unknown jurisdiction {_shown(query)}{hint}", suggestions)


def _either(found: list[Entry], labels: tuple[str, ...], most: int = 8) -> str:
    """The candidates as one alternative: ``Springfield, MO / MA / IL`` when they share their name, else their
    labels (``Cook County, IL / Cook County, GA``); at most ``most`` of them."""
    names = {e.name for e in found if e.kind != "state"}
    states = list(dict.fromkeys(e.state for e in found))
    if len(names) == 1 and all(e.kind != "state" for e in found) and len(states) == len(labels):
        text = f"{names.pop()}, " + " / ".join(states[:most])
    else:
        text = " / ".join(labels[:most])
    return text + (f" (and {len(labels) - most} more)" if len(labels) > most else "")


def _state_code(text: str) -> str | None:
    gaz = load()
    folded = fold(text).strip()
    for form, code in gaz.state_forms.items():
        if fold(form).strip() == folded:
            return code
    return None
