"""A jurisdiction's § 1373 story: its letters, lawsuits, filings and rulings by date, grouped by court case, drawn
as an SVG on the server (no JavaScript), each mark a link to its document.

The events are the documents that name the jurisdiction, cite § 1373 (of any title) and are of one of those four
types. A document belongs to the court case its source recorded (``metadata.case_name``, as CourtListener and
PACER give it) or, failing that, the first case its title or opening names ("City of Philadelphia v. Sessions");
the rest (DOJ letters, mostly) share the first lane.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from lawwatch.pipeline.doctypes import DocType
from lawwatch.pipeline.filters import LOCATOR
from lawwatch.pipeline.models import Document, DocumentJurisdiction, DocumentStatute
from lawwatch.pipeline.search_common import _indexed, _planner

TYPES = (DocType.LETTER, DocType.LAWSUIT, DocType.FILING, DocType.RULING)
STATUTE = (None, "1373")
MAX_EVENTS = 500
DRIVER = 5000  # documents counted per field when choosing the one that drives the events' query (then 10x)
_HEAD_CHARS = 3000  # of the body, where a case is looked for
_PARTY = r"[A-Z][A-Za-z.'&-]*(?: (?:of|the|de|[A-Z][A-Za-z.'&-]*)){0,4}"
_CASE = re.compile(rf"\b({_PARTY}) v\. ({_PARTY})")
_TRAILING = re.compile(r"(?: (?:of|the|de))+$")
NO_CASE = "Letters and other documents"

# drawing
WIDTH, LEFT, RIGHT, TOP, LANE = 960, 230, 24, 34, 40
SHAPES = {
    "letter": "M{x},{y} m-6,0 a6,6 0 1,0 12,0 a6,6 0 1,0 -12,0",
    "lawsuit": "M{x},{y} m-6,-6 h12 v12 h-12 z",
    "filing": "M{x},{y} m0,-7 l7,7 l-7,7 l-7,-7 z",
    "ruling": "M{x},{y} m0,-7 l7,12 h-14 z",
}


@dataclass(frozen=True)
class Event:
    id: int
    published_at: datetime
    doc_type: str
    title: str
    source: str
    url: str | None
    case: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "published_at": self.published_at.isoformat(),
            "doc_type": self.doc_type,
            "title": self.title,
            "source": self.source,
            "url": self.url,
            "case": self.case,
        }


@dataclass(frozen=True)
class Lane:
    case: str | None  # None: the documents that name no case
    events: list[Event]


def case_of(meta: Any, title: str, head: str) -> str | None:
    """The court case a document belongs to: its recorded ``case_name``, else the first "X v. Y" it names."""
    if isinstance(meta, dict):
        name = meta.get("case_name")
        if isinstance(name, str) and " v. " in name:
            return " ".join(name.split())
    for text in (title, head):
        if not text or " v. " not in text:  # what the pattern needs, found at C speed: most texts name no case
            continue
        match = _CASE.search(text)
        if match:
            first, second = (_TRAILING.sub("", g) for g in match.groups())
            return f"{first} v. {second}"
    return None


def events(session: Session, jurisdiction_id: str, *, limit: int = MAX_EVENTS) -> list[Event]:
    """The jurisdiction's § 1373 events, oldest first (the newest ``limit`` of them)."""
    # The filter's three fields, each a set of ids an index gives: the place's tags, the four types, the § 1373
    # citations. The smallest drives: its ids come from its own index, each tested against the place's tags and the
    # citations (small tables, probed by document id), and only the survivors' documents are read: a documents row is
    # large (its body), and its type is stored past the body, so the type is tested on the survivors (unless the
    # types drive: their index holds the ids; on PostgreSQL ix_documents_doc_type_id, migration 0008); a document's
    # citations of § 1373 and a section's documents are each in an index of their own (migration 0009). Sizes are
    # counted up to DRIVER through covering indexes, and up to ten times that when all three reach it (a place's
    # count includes its locator tags: an upper bound, enough to choose).
    dj, ds, typed_doc = DocumentJurisdiction, DocumentStatute, aliased(Document, name="typed")
    place, cited = dj.jurisdiction_id == jurisdiction_id, ds.section == STATUTE[1]
    types = [t.value for t in TYPES]
    is_typed = typed_doc.doc_type.in_(types)
    counted = [
        select(dj.document_id).where(place),
        select(typed_doc.id).where(is_typed),
        select(ds.document_id).where(cited),
    ]

    def count(field: int, limit: int) -> int:
        with _indexed(session):
            return session.scalar(select(func.count()).select_from(counted[field].limit(limit).subquery())) or 0

    counts = _sizes(count, DRIVER)
    if min(counts) == DRIVER:  # every field is large: count further to find the smallest (at most 10x the work)
        counts = _sizes(count, 10 * DRIVER)
    driver = _smallest(counts)

    def named(ids: Any) -> Any:
        return exists().where(dj.document_id == ids, place, dj.role != LOCATOR)

    def cites(ids: Any) -> Any:
        return exists().where(ds.document_id == ids, cited)

    if driver == 0:
        driving = select(dj.document_id).where(place, dj.role != LOCATOR, cites(dj.document_id))
    elif driver == 1:
        driving = select(typed_doc.id).where(is_typed, named(typed_doc.id), cites(typed_doc.id))
    else:
        driving = select(ds.document_id).where(cited, named(ds.document_id))
    typed = [] if driver == 1 else [Document.doc_type.in_(types)]
    # ordering by an expression keeps the planner from walking the whole published_at index instead
    newest = func.coalesce(Document.published_at, Document.published_at)
    stmt = (
        select(
            Document.id,
            Document.published_at,
            Document.doc_type,
            Document.title,
            Document.source,
            Document.url,
            Document.meta,
            func.substr(Document.body_text, 1, _HEAD_CHARS),
        )
        .where(Document.id.in_(driving), Document.published_at.is_not(None), *typed)
        .order_by(newest.desc(), Document.id.desc())
        .limit(limit)
    )
    # on PostgreSQL, probe the other two fields through their indexes, by the driving ids: it would rather hash every
    # § 1373 citation (a scan of the whole table, 70 ms at a million documents) to test 20,000 ids
    postgres = session.get_bind().dialect.name == "postgresql"
    with _planner(session, enable_hashjoin="off", enable_mergejoin="off") if postgres else contextlib.nullcontext():
        rows = list(session.execute(stmt))
    found = [
        Event(doc_id, when, doc_type, title or "", source, url, case_of(meta, title, head))
        for doc_id, when, doc_type, title, source, url, meta, head in rows
    ]
    return found[::-1]


def _sizes(count: Callable[[int, int], int], cap: int) -> list[int]:
    """The three fields' sizes up to ``cap`` (``count(field, limit)``: the field's size up to ``limit``). A field is
    counted only up to one more than the smallest size counted before it (the types first: their index is the
    cheapest to count), which tells it is not the smallest and leaves a size equal to it exact: the smallest, and the
    first of equals, are those of every field counted to ``cap`` (a place on a fifth of a million documents: the
    counting took 41 ms, now 19)."""
    out = [0, 0, 0]
    least = cap
    for field in (1, 0, 2):
        out[field] = count(field, min(cap, least + 1))
        least = min(least, out[field])
    return out


def _smallest(sizes: list[int]) -> int:
    """The index of the field that drives the events' query."""
    return sizes.index(min(sizes))


def lanes(found: list[Event]) -> list[Lane]:
    """One lane for the events without a case, then one per case in the order of its first event. Cases are
    matched on their names case-insensitively, and a lane is labelled by the first spelling seen."""
    loose = [e for e in found if e.case is None]
    cases: dict[str, list[Event]] = {}
    names: dict[str, str] = {}
    for e in found:
        if e.case is not None:
            key = e.case.casefold()
            names.setdefault(key, e.case)
            cases.setdefault(key, []).append(e)
    out = [Lane(None, loose)] if loose else []
    out.extend(Lane(names[key], items) for key, items in cases.items())
    return out


def render_svg(groups: list[Lane], *, link: Callable[[int], str], label: str) -> Markup:
    """The timeline as an inline SVG: a lane per case, a year axis, a mark per event linking to ``link(id)``."""
    if not groups:
        return Markup("")
    every = [e for lane in groups for e in lane.events]
    first = min(e.published_at for e in every)
    last = max(e.published_at for e in every)
    start = datetime(first.year, 1, 1, tzinfo=UTC)
    end = datetime(last.year + 1, 1, 1, tzinfo=UTC)
    span = (end - start).total_seconds()
    height = TOP + LANE * len(groups) + 44

    def x_of(when: datetime) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (when - start).total_seconds() / span

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
    ]
    for year in range(start.year, end.year + 1):
        x = x_of(datetime(year, 1, 1, tzinfo=UTC))
        parts.append(f'<line class="tick" x1="{x:.1f}" y1="{TOP - 8}" x2="{x:.1f}" y2="{height - 40}"/>')
        if year < end.year:
            middle = x_of(datetime(year, 7, 1, tzinfo=UTC))
            parts.append(f'<text class="year" x="{middle:.1f}" y="{TOP - 14}" text-anchor="middle">{year}</text>')
    for row, lane in enumerate(groups):
        y = TOP + LANE * row + LANE / 2
        name = lane.case or NO_CASE
        short = name if len(name) <= 34 else name[:33] + "…"
        parts.append(f'<line class="lane" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="case" x="{LEFT - 10}" y="{y + 4:.1f}" text-anchor="end">'
            f"<title>{escape(name)}</title>{escape(short)}</text>"
        )
        seen: dict[str, int] = {}
        for event in lane.events:
            day = event.published_at.date().isoformat()
            stack = seen.get(day, 0)
            seen[day] = stack + 1
            x = x_of(event.published_at)
            dy = (0, -9, 9, -18, 18)[stack % 5]
            shape = SHAPES.get(event.doc_type, SHAPES["letter"]).format(x=f"{x:.1f}", y=f"{y + dy:.1f}")
            tip = f"{day} · {event.doc_type} · {event.title}"
            parts.append(
                f'<a href="{escape(link(event.id))}" class="event" aria-label="{escape(tip)}">'
                f'<path class="mark {escape(event.doc_type)}" d="{shape}"><title>{escape(tip)}</title></path></a>'
            )
    legend_y = height - 18
    for k, kind in enumerate(t.value for t in TYPES):
        x = LEFT + 110 * k
        shape = SHAPES[kind].format(x=f"{x:.1f}", y=f"{legend_y:.1f}")
        parts.append(f'<path class="mark {kind}" d="{shape}"/>')
        parts.append(f'<text class="legend" x="{x + 12:.1f}" y="{legend_y + 4:.1f}">{kind}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
