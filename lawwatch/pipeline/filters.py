"""``DocumentFilter``: the one answer to "which documents" — search, export, reclassify and alert rules use it.

A filter renders itself three ways (after datasette's ``filters.py``): ``conditions()`` as SQLAlchemy WHERE
conditions on ``documents`` (both backends), ``matches(doc)`` as a Python predicate over a
:class:`FilterableDocument` (no database), and ``describe()`` as a sentence for people. Search renders the same
fields as its own raw SQL (``pipeline/search.py``) to choose a plan; the agreement test (``tests/test_filters.py``)
holds the renderings to the same answers.

Semantics: different fields AND together, the values of one field OR together; an empty field does not filter.
A source matches the documents seen via it (``document_sources``), whichever source stored them first.
Dates are aware datetimes, kept in UTC, and ranges are half-open: ``since <= value < until``; a document without a
publication date never passes a published range. A statute ``(None, "1373")`` matches section 1373 of any title,
``("8", "1373")`` only title 8. ``query`` is a full-text query (``pipeline/textquery.py``): ``conditions()``
leaves it out (only search can run it), ``matches()`` evaluates it as search does on SQLite.

``DocumentFilter.from_user(...)`` builds a filter from what a person types (jurisdiction names, citations, dates)
and raises ``QueryError`` with one clear line when something cannot be understood.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, exists, or_

from lawwatch.errors import QueryError
from lawwatch.pipeline.doctypes import DOC_TYPES, DocType
from lawwatch.pipeline.models import Document, DocumentJurisdiction, DocumentSource, DocumentStatute
from lawwatch.pipeline.textquery import ParsedQuery, parse_query, text_matches

if TYPE_CHECKING:
    from lawwatch.pipeline.normalize import NormalizedDocument

Cite = tuple[str | None, str]
T = TypeVar("T")
_PLURALS = {DocType.OTHER: "other documents"}
_DAY = timedelta(days=1)
_STATE_ID = re.compile(r"fips:\d\d")
LOCATOR = "locator"


def _role(tag: Any) -> str:
    return str(getattr(tag, "role", "named"))


@dataclass(frozen=True)
class FilterableDocument:
    """What a filter looks at: build one with ``from_row`` (a stored document) or ``from_normalized``.

    ``source`` is the source that stored the document, ``sources`` every other source it was seen via (a source
    filter matches either)."""

    source: str
    doc_type: str
    published_at: datetime | None
    fetched_at: datetime | None
    jurisdictions: frozenset[str] = frozenset()  # the places the document names (role "named")
    statutes: frozenset[Cite] = frozenset()
    title: str = ""
    body_text: str = ""
    locators: frozenset[str] = frozenset()  # states that only locate a named place ("Berkeley, California")
    sources: frozenset[str] = frozenset()

    @property
    def seen_via(self) -> frozenset[str]:
        """Every source the document was seen via, ``source`` included."""
        return self.sources | {self.source}

    @classmethod
    def from_row(cls, doc: Document) -> FilterableDocument:
        """A stored document; reads its ``jurisdictions``, ``statutes`` and ``seen_via`` relationships."""
        return cls(
            source=doc.source,
            doc_type=doc.doc_type,
            published_at=doc.published_at,
            fetched_at=doc.fetched_at,
            jurisdictions=frozenset(j.jurisdiction_id for j in doc.jurisdictions if j.role != LOCATOR),
            statutes=frozenset((s.title, s.section) for s in doc.statutes),
            title=doc.title or "",
            body_text=doc.body_text or "",
            locators=frozenset(j.jurisdiction_id for j in doc.jurisdictions if j.role == LOCATOR),
            sources=frozenset(s.source for s in doc.seen_via),
        )

    @classmethod
    def from_normalized(cls, doc: NormalizedDocument) -> FilterableDocument:
        """A document about to be stored, tagged by its ``classification`` (none: no tags, type ``other``)."""
        tags = doc.classification
        return cls(
            source=doc.source,
            doc_type=doc.doc_type,
            published_at=doc.published_at,
            fetched_at=doc.fetched_at,
            jurisdictions=frozenset(j.id for j in tags.jurisdictions if _role(j) != LOCATOR) if tags else frozenset(),
            statutes=frozenset((s.title, s.section) for s in tags.statutes) if tags else frozenset(),
            title=doc.title or "",
            body_text=doc.body_text or "",
            locators=frozenset(j.id for j in tags.jurisdictions if _role(j) == LOCATOR) if tags else frozenset(),
        )


@dataclass(frozen=True)
class DocumentFilter:
    """Which documents: see the module docstring. Sequences are stored as tuples, datetimes in UTC."""

    jurisdictions: tuple[str, ...] = ()  # ids as in document_jurisdictions.jurisdiction_id, e.g. "fips:17031"
    statutes: tuple[Cite, ...] = ()  # (title or None, section)
    doc_types: tuple[DocType, ...] = ()
    sources: tuple[str, ...] = ()
    published_since: datetime | None = None
    published_until: datetime | None = None
    fetched_since: datetime | None = None
    fetched_until: datetime | None = None
    query: str = ""
    # False: a jurisdiction matches documents that name it. True: also documents where it only locates a place
    # ("Berkeley, California" for California), and for a state every place inside it (by FIPS prefix).
    within: bool = False

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise once, here
        set_(self, "jurisdictions", _values("jurisdictions", self.jurisdictions, _text))
        set_(self, "sources", _values("sources", self.sources, _text))
        set_(self, "statutes", _values("statutes", self.statutes, _cite))
        set_(self, "doc_types", _values("doc_types", self.doc_types, _doc_type))
        for name in ("published_since", "published_until", "fetched_since", "fetched_until"):
            value = getattr(self, name)
            if value is not None:
                if not isinstance(value, datetime) or value.tzinfo is None:
                    raise QueryError(f"{name} must be a timezone-aware datetime, got {value!r}")
                set_(self, name, value.astimezone(UTC))
        self.parsed_query  # noqa: B018 -- a malformed query fails here, not at first use

    @classmethod
    def from_user(
        cls,
        *,
        jurisdictions: Iterable[str] = (),
        statutes: Iterable[str] = (),
        doc_types: Iterable[str] = (),
        sources: Iterable[str] = (),
        since: str | date | None = None,
        until: str | date | None = None,
        fetched_since: str | date | None = None,
        fetched_until: str | date | None = None,
        query: str = "",
        within: bool = False,
    ) -> DocumentFilter:
        """A filter from what a person types, e.g. ``from_user(jurisdictions=["Cook County, IL"],
        statutes=["8 U.S.C. 1373"], doc_types=["letter"], since="2017-10-01")``.

        Jurisdictions are names, abbreviations or ids (``"Philadelphia"``, ``"NYC"``, ``"fips:17031"``), resolved
        by :func:`lawwatch.pipeline.places.resolve_place` as alert rules are: a name that fits several places
        ("Springfield") or none raises ``PlaceError`` listing the candidates. Statutes are citations
        (``"8 U.S.C. 1373"``, ``"1373"``: any title); dates are days (``since`` from the start of that UTC day,
        ``until`` through the end of it) or timestamps (without an offset read as UTC; ``until`` is then
        exclusive). Raises ``QueryError`` for a name, citation, type, date or query it cannot understand."""
        from lawwatch.pipeline.classify import parse_statute
        from lawwatch.pipeline.places import resolve_place

        ids = [resolve_place(name).id for name in jurisdictions]
        cites = []
        for cite in statutes:
            try:
                title, section, _subsection = parse_statute(cite)
            except ValueError:
                raise QueryError(
                    f"not a statute citation: {cite!r}: try a title and section, like '8 U.S.C. 1373', "
                    "or a section, like '1373'"
                ) from None
            cites.append((title, section))
        return cls(
            jurisdictions=tuple(ids),
            statutes=tuple(cites),
            doc_types=tuple(_doc_type(t) for t in doc_types),
            sources=tuple(sources),
            published_since=parse_when(since, name="since"),
            published_until=parse_when(until, name="until", end=True),
            fetched_since=parse_when(fetched_since, name="fetched since"),
            fetched_until=parse_when(fetched_until, name="fetched until", end=True),
            query=query,
            within=within,
        )

    @cached_property
    def parsed_query(self) -> ParsedQuery:
        """``query`` parsed (``QueryError`` when malformed); an empty query is ``ParsedQuery.empty``."""
        return parse_query(self.query)

    def conditions(self) -> list[ColumnElement[bool]]:
        """WHERE conditions on ``documents`` (SQLite and PostgreSQL). The full-text ``query`` is not among them."""
        conditions: list[ColumnElement[bool]] = []
        if self.jurisdictions:
            tag = DocumentJurisdiction.jurisdiction_id
            if self.within:
                which = or_(tag.in_(self.jurisdictions), *[tag.startswith(p) for p in self.state_prefixes])
            else:
                which = tag.in_(self.jurisdictions) & (DocumentJurisdiction.role != LOCATOR)
            conditions.append(exists().where(DocumentJurisdiction.document_id == Document.id, which))
        if self.statutes:
            cites = [
                (DocumentStatute.title == title) & (DocumentStatute.section == section)
                if title is not None
                else DocumentStatute.section == section
                for title, section in self.statutes
            ]
            conditions.append(exists().where(DocumentStatute.document_id == Document.id, or_(*cites)))
        if self.doc_types:
            conditions.append(Document.doc_type.in_([t.value for t in self.doc_types]))
        if self.sources:
            seen = exists().where(DocumentSource.document_id == Document.id, DocumentSource.source.in_(self.sources))
            conditions.append(or_(Document.source.in_(self.sources), seen))
        for column, since, until in (
            (Document.published_at, self.published_since, self.published_until),
            (Document.fetched_at, self.fetched_since, self.fetched_until),
        ):
            if since is not None:
                conditions.append(column >= since)
            if until is not None:
                conditions.append(column < until)
        return conditions

    def matches(self, doc: FilterableDocument) -> bool:
        """Whether ``doc`` passes: the same answer as ``conditions()`` and search (the query as on SQLite)."""
        if self.jurisdictions and not self._places(doc):
            return False
        if self.statutes and not any(
            section == cited_section and (title is None or title == cited_title)
            for title, section in self.statutes
            for cited_title, cited_section in doc.statutes
        ):
            return False
        if self.doc_types and doc.doc_type not in self.doc_types:
            return False
        if self.sources and doc.seen_via.isdisjoint(self.sources):
            return False
        for value, since, until in (
            (doc.published_at, self.published_since, self.published_until),
            (doc.fetched_at, self.fetched_since, self.fetched_until),
        ):
            if since is None and until is None:
                continue
            if value is None or (since is not None and value < since) or (until is not None and value >= until):
                return False
        return text_matches(self.parsed_query, doc.title, doc.body_text)

    @property
    def state_prefixes(self) -> tuple[str, ...]:
        """``fips:NN`` for each state among the jurisdictions: with ``within``, every place id starting so."""
        return tuple(j for j in self.jurisdictions if _STATE_ID.fullmatch(j))

    def _places(self, doc: FilterableDocument) -> list[str]:
        """The document's jurisdiction ids this filter's jurisdictions select (empty: none)."""
        if not self.within:
            return sorted(doc.jurisdictions.intersection(self.jurisdictions))
        prefixes = self.state_prefixes
        return sorted(j for j in doc.jurisdictions | doc.locators if j in self.jurisdictions or j.startswith(prefixes))

    def explain(self, doc: FilterableDocument) -> dict[str, list[str]]:
        """Why ``doc`` passes (call it on a document that ``matches``): the jurisdictions (ids), statutes and
        query words of this filter found in it, for an alert's "why"."""
        statutes = sorted(
            _cite_text((cited_title, cited_section))
            for cited_title, cited_section in doc.statutes
            if any(s == cited_section and (t is None or t == cited_title) for t, s in self.statutes)
        )
        words = [term.text for group in self.parsed_query.groups for term in group]
        return {
            "jurisdictions": self._places(doc) if self.jurisdictions else [],
            "statutes": statutes,
            "doc_types": [doc.doc_type] if self.doc_types else [],
            "words": words,
        }

    def describe(self, names: Mapping[str, str] | None = None) -> str:
        """The filter as a sentence, e.g. "letters or rulings naming Cook County, IL citing 8 U.S.C. § 1373 from
        doj_api published from 2017-10-01". ``names`` maps jurisdiction ids to labels; ids it lacks are looked
        up in the gazetteer."""
        parts = [_either([_PLURALS.get(t, f"{t.value}s") for t in self.doc_types]) or "documents"]
        if self.query.strip():
            parts.append(f"matching {self.query.strip()!r}")
        if self.jurisdictions:
            verb = "in or naming " if self.within else "naming "
            parts.append(verb + _either([_place(j, names) for j in self.jurisdictions]))
        if self.statutes:
            parts.append("citing " + _either([_cite_text(c) for c in self.statutes]))
        if self.sources:
            parts.append("from " + _either(list(self.sources)))
        for verb, since, until in (
            ("published", self.published_since, self.published_until),
            ("fetched", self.fetched_since, self.fetched_until),
        ):
            if since is not None or until is not None:
                parts.append(_range(verb, since, until))
        if len(parts) == 1 and parts[0] == "documents":
            return "all documents"
        return " ".join(parts)


def parse_when(value: str | date | None, *, name: str = "date", end: bool = False) -> datetime | None:
    """A user's date or timestamp as an aware UTC datetime; ``end``: a bare day means the start of the next one.

    Days (``2017-10-01`` or a ``date``) are UTC days; text with a time but no offset is read as UTC; a ``datetime``
    must carry its zone. Empty means no bound. Raises ``QueryError`` for anything else, including text that
    leaves the day out ("2017", "Oct 2017"), which a date parser would silently complete with today's."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise QueryError(f"{name} must be a timezone-aware datetime, got {value.isoformat()}")
        return value.astimezone(UTC)
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return _parse_timestamp(value, name)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start + _DAY if end else start


def _parse_timestamp(text: str, name: str) -> datetime:
    from dateutil import parser as dateparser

    from lawwatch.pipeline.normalize import to_utc

    problem = f"{name}: {text!r} is not a date like 2017-10-12"
    try:
        parsed = to_utc(text)
    except ValueError:
        raise QueryError(problem) from None
    assert parsed is not None
    try:
        datetime.fromisoformat(text.strip())
    except ValueError:  # not ISO: a free-form date must name its own year, month and day
        try:
            guesses = {dateparser.parse(text, default=d, ignoretz=True).date() for d in _PROBES}
        except (ValueError, OverflowError):
            guesses = set()
        if len(guesses) != 1 and not _EPOCH.match(text):
            raise QueryError(f"{problem} (it needs a year, a month and a day)") from None
    return parsed


_PROBES = (datetime(2001, 2, 3), datetime(2004, 5, 6))
_EPOCH = re.compile(r"\s*-?\d{9,11}(\.\d+)?\s*$")  # epoch seconds, as normalize.to_utc reads them


def _values(name: str, values: Iterable[Any], convert: Callable[[Any], T]) -> tuple[T, ...]:
    if isinstance(values, str):  # tuple("fips:48") would be its characters
        raise QueryError(f"{name} takes a sequence of values, not the string {values!r}")
    return tuple(convert(v) for v in values)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise QueryError(f"jurisdiction ids and sources are strings, not {value!r}")
    return value


def _doc_type(value: Any) -> DocType:
    try:
        return DocType(value)
    except ValueError:
        raise QueryError(f"unknown document type {value!r}: choose from {', '.join(DOC_TYPES)}") from None


def _cite(value: Any) -> Cite:
    try:
        if isinstance(value, str):
            raise ValueError(value)
        title, section = value
    except (TypeError, ValueError):
        raise QueryError(f"a statute filter is (title or None, section), not {value!r}") from None
    if not isinstance(section, str) or not section.strip():
        raise QueryError("a statute filter needs a section, e.g. 8 U.S.C. 1373 → ('8', '1373')")
    if title is not None and (not isinstance(title, str) or not title.strip()):
        raise QueryError(f"a statute filter's title is a title number or None (any title), not {title!r}")
    return (title, section)


def _either(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def _place(jurisdiction_id: str, names: Mapping[str, str] | None) -> str:
    if names and jurisdiction_id in names:
        return names[jurisdiction_id]
    from lawwatch.pipeline.classify import resolve_jurisdiction

    tag = resolve_jurisdiction(jurisdiction_id) if jurisdiction_id.startswith("fips:") else None
    if tag is None:
        return jurisdiction_id
    return tag.name if tag.kind == "state" or not tag.state else f"{tag.name}, {tag.state}"


def _cite_text(cite: Cite) -> str:
    title, section = cite
    return f"{title} U.S.C. § {section}" if title is not None else f"§ {section} (any title)"


def _moment(value: datetime) -> str:
    if value.time() == datetime.min.time():
        return value.date().isoformat()
    return value.strftime("%Y-%m-%d %H:%M:%S" if value.second or value.microsecond else "%Y-%m-%d %H:%M") + " UTC"


def _range(verb: str, since: datetime | None, until: datetime | None) -> str:
    start = f" from {_moment(since)}" if since is not None else ""
    if until is None:
        return verb + start
    if until.time() == datetime.min.time():  # a day boundary: say the last day included
        return f"{verb}{start} through {_moment(until - _DAY)}"
    return f"{verb}{start} before {_moment(until)}"
