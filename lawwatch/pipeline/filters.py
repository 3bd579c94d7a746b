"""``DocumentFilter``: the one answer to "which documents" — search, export, reclassify and alert rules use it.

A filter renders itself three ways (after datasette's ``filters.py``): ``conditions()`` as SQLAlchemy WHERE
conditions on ``documents`` (both backends), ``matches(doc)`` as a Python predicate over a
:class:`FilterableDocument` (no database), and ``describe()`` as a sentence for people. Search renders the same
fields as its own raw SQL (``pipeline/search_common.py``) to choose a plan; the agreement test
(``tests/test_filters.py``) holds the renderings to the same answers.

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
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from sqlalchemy import ColumnElement, exists, or_

from lawwatch.errors import QueryError, shown
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
        (``"8 U.S.C. 1373"``, ``"1373"``: any title); dates are years, months, weeks or days (``since`` from the
        start of the span, ``until`` through its end: ``until="2017"`` takes all of 2017) or timestamps (without an
        offset read as UTC; ``until`` is then exclusive), see :func:`parse_when`. Raises ``QueryError`` for a name,
        citation, type, date or query it cannot understand."""
        jurisdictions, statutes = list(jurisdictions), list(statutes)
        ids: list[str] = []
        if jurisdictions:  # the gazetteer and the classifier's modules load only when a name is given (start-up)
            from lawwatch.pipeline.places import resolve_place

            ids = [resolve_place(name).id for name in jurisdictions]
        cites = []
        if statutes:  # the classifier's modules load only when a statute is given, as for places above
            from lawwatch.pipeline.classify import parse_statute
        for cite in statutes:
            try:
                title, section, _subsection = parse_statute(cite)
            except ValueError:
                raise QueryError(
                    f"not a statute citation: {shown(cite)}: try a title and section, like '8 U.S.C. 1373', "
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


Precision = Literal["year", "month", "week", "day", "instant"]
EARLIEST = datetime.min.replace(tzinfo=UTC)  # 0001-01-01T00:00Z: no stored date is earlier
LATEST = datetime.max.replace(tzinfo=UTC)  # 9999-12-31T23:59:59.999999Z: no stored date is later


@dataclass(frozen=True)
class Period:
    """The span of time a user's date names: ``2017`` the whole year, ``2017-10`` (or ``Oct 2017``) the month,
    ``2017-W40`` the ISO week, ``2017-10-12`` the day, ``2017-10-12T10:00-05:00`` one instant.

    ``start`` and ``end`` are aware UTC datetimes (``end`` exclusive; for an instant ``end == start``), or None
    where the bound falls outside the years 0001–9999 in UTC (``low``/``high`` say on which side)."""

    text: str
    precision: Precision
    start: datetime | None
    end: datetime | None
    start_side: Literal["low", "high", ""] = ""
    end_side: Literal["low", "high", ""] = ""


def parse_period(text: str, *, name: str = "date") -> Period:
    """Read a user's date with a real parser and keep the precision it was given with (see :class:`Period`).

    ISO 8601 forms are read by dateutil's strict ``isoparse`` (so ``0001`` stays the year 1); other text ("Oct 2017",
    "Oct 12 2017 10:00 UTC") by dateutil's parser, twice with different defaults: a field that changes with the
    default was not given. A date must give its year, and a day needs its month. Without an offset, UTC.
    Raises ``QueryError`` (one line, the input cut to 80 characters) for anything else."""
    from dateutil import parser as dateparser

    text = str(text).strip()
    problem = f"{name}: {shown(text)} is not a date like 2017, 2017-10, 2017-10-12 or 2017-10-12T10:00-05:00"
    if not text or len(text) > 64:
        raise QueryError(problem)
    precision: Precision
    try:
        moment = dateparser.isoparse(text)
    except (ValueError, OverflowError):
        moment, precision = _parse_free_form(text, problem)
    else:
        precision = _iso_precision(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    start, start_side = _in_utc(moment)
    if precision == "instant":
        return Period(text, precision, start, start, start_side, start_side)
    try:
        if precision == "year":
            after = moment.replace(year=moment.year + 1)
        elif precision == "month":
            after = moment.replace(year=moment.year + moment.month // 12, month=moment.month % 12 + 1)
        else:
            after = moment + (timedelta(days=7) if precision == "week" else _DAY)
    except (ValueError, OverflowError):  # the span ends with the year 9999
        return Period(text, precision, start, None, start_side, "high")
    end, end_side = _in_utc(after)
    return Period(text, precision, start, end, start_side, end_side)


def _iso_precision(text: str) -> Precision:
    """The precision of text that ``isoparse`` read: a date alone is a year (``YYYY``), a week (``YYYY-Www``), a day
    (the forms ``date.fromisoformat`` reads) or a month (``YYYY-MM``); anything with a time is an instant."""
    from dateutil.parser import isoparser

    try:
        isoparser().parse_isodate(text)
    except ValueError:
        return "instant"  # a time follows the date
    week = text.upper().partition("W")[2].replace("-", "")
    if week:
        return "week" if len(week) == 2 else "day"  # 2017-W40 a week, 2017-W40-1 its Monday
    try:
        date.fromisoformat(text)
    except ValueError:
        return "year" if len(text) == 4 else "month"
    return "day"


_FIELDS = ("year", "month", "day", "hour", "minute", "second")
_PROBE_DEFAULTS = (datetime(2001, 2, 3, 4, 5, 6), datetime(2004, 5, 6, 7, 8, 9))


def _parse_free_form(text: str, problem: str) -> tuple[datetime, Precision]:
    import warnings

    from dateutil import parser as dateparser

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", dateparser.UnknownTimezoneWarning)
            first, second = (dateparser.parse(text, default=d) for d in _PROBE_DEFAULTS)
    except dateparser.UnknownTimezoneWarning:
        raise QueryError(f"{problem} (unknown time zone: give an offset like -05:00)") from None
    except (ValueError, OverflowError):
        raise QueryError(problem) from None
    given = [getattr(first, f) == getattr(second, f) for f in _FIELDS]
    years = {int(token) for token in "".join(c if c.isdigit() else " " for c in text).split() if len(token) == 4}
    if not given[0]:
        raise QueryError(f"{problem} (it needs a year)")
    if years and first.year not in years:  # dateutil reads the year 0001 as 2001
        raise QueryError(f"{problem} (write a year before 1000 as an ISO date, like 0001-01-01)")
    if given[2] and not given[1]:
        raise QueryError(f"{problem} (a day needs its month)")
    if any(given[3:]) and not given[2]:  # else dateutil fills the day from its default
        raise QueryError(f"{problem} (a time needs its day)")
    if any(given[3:]):  # a time: the fields it leaves out are zero ("10am" is 10:00:00)
        minute, second = (first.minute if given[4] else 0), (first.second if given[5] else 0)
        return first.replace(minute=minute, second=second, microsecond=first.microsecond), "instant"
    day = datetime(first.year, first.month if given[1] else 1, first.day if given[2] else 1, tzinfo=first.tzinfo)
    return day, "day" if given[2] else "month" if given[1] else "year"


def _in_utc(moment: datetime) -> tuple[datetime | None, Literal["low", "high", ""]]:
    """``moment`` in UTC, or None and the side when that falls outside the years 0001–9999."""
    try:
        return moment.astimezone(UTC), ""
    except (OverflowError, ValueError):
        offset = moment.utcoffset() or timedelta(0)
        return None, "low" if offset > timedelta(0) else "high"


def parse_when(value: str | date | None, *, name: str = "date", end: bool = False) -> datetime | None:
    """A user's date as the aware UTC bound of a half-open range: its start, or with ``end`` the end of the span
    it names (``2017`` → 2018-01-01, ``2017-10`` → 2017-11-01, ``2017-10-12`` → 2017-10-13; a timestamp is itself).

    Empty means no bound. A ``date`` is that UTC day; a ``datetime`` must carry its zone. Bounds past the years
    0001–9999 that every stored date satisfies are clamped (``--until 9999-12-31`` → ``LATEST``); bounds that no
    date can satisfy (a start after 9999 in UTC, an end before year 1) raise ``QueryError``, as does text that is
    not a date (see :func:`parse_period`)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise QueryError(f"{name} must be a timezone-aware datetime, got {value.isoformat()}")
        return value.astimezone(UTC)
    if isinstance(value, date):
        value = value.isoformat()
    period = parse_period(value, name=name)
    bound, side = (period.end, period.end_side) if end else (period.start, period.start_side)
    if bound is not None:
        return bound
    if end and side == "high":
        return LATEST
    if not end and side == "low":
        return EARLIEST
    when = "before 0001-01-01" if side == "low" else "after 9999-12-31"
    raise QueryError(f"{name}: {shown(period.text)} is {when} in UTC, where no document can be")


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
        raise QueryError(f"unknown document type {shown(value)}: choose from {', '.join(DOC_TYPES)}") from None


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
    if until == LATEST:
        return f"{verb}{start} through {LATEST.date().isoformat()}"
    if until.time() == datetime.min.time():  # a day boundary: say the last day included
        return f"{verb}{start} through {_moment(until - _DAY)}"
    return f"{verb}{start} before {_moment(until)}"
