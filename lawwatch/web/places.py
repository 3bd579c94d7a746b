"""The jurisdictions of the archive with their counts (the ``/jurisdictions`` table), and one jurisdiction by id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from lawwatch.errors import QueryError
from lawwatch.pipeline.filters import LOCATOR
from lawwatch.pipeline.models import Document, DocumentJurisdiction, Jurisdiction

SORTS = ("name", "state", "kind", "documents", "letters", "lawsuits", "rulings", "latest")


@dataclass(frozen=True)
class Place:
    id: str
    name: str
    kind: str
    state: str | None

    @property
    def label(self) -> str:
        return self.name if self.kind == "state" or not self.state else f"{self.name}, {self.state}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "kind": self.kind, "state": self.state, "label": self.label}


@dataclass(frozen=True)
class PlaceRow:
    place: Place
    documents: int
    letters: int
    lawsuits: int
    rulings: int
    latest: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.place.to_dict(),
            "documents": self.documents,
            "letters": self.letters,
            "lawsuits": self.lawsuits,
            "rulings": self.rulings,
            "latest": self.latest.isoformat() if self.latest else None,
        }


def _key(sort: str) -> Any:
    if sort in ("name", "state", "kind"):
        return lambda r: (getattr(r.place, sort) or "").casefold()
    if sort == "latest":
        return lambda r: r.latest.timestamp() if r.latest else float("-inf")
    return lambda r: getattr(r, sort)


def place_rows(session: Session, *, sort: str = "documents", descending: bool = True) -> list[PlaceRow]:
    """Every jurisdiction some document names, with its documents, letters, lawsuits and rulings and the date of
    its newest document, sorted by ``sort`` (one of ``SORTS``; ties by name)."""
    if sort not in SORTS:
        raise QueryError(f"cannot sort jurisdictions by {sort!r}: choose from {', '.join(SORTS)}")
    dj = DocumentJurisdiction

    def typed(kind: str) -> Any:
        return func.sum(case((Document.doc_type == kind, 1), else_=0))

    stmt = (
        select(
            Jurisdiction.id,
            Jurisdiction.name,
            Jurisdiction.kind,
            Jurisdiction.state,
            func.count(),
            typed("letter"),
            typed("lawsuit"),
            typed("ruling"),
            func.max(Document.published_at),
        )
        .join(dj, dj.jurisdiction_id == Jurisdiction.id)
        .join(Document, Document.id == dj.document_id)
        .where(dj.role != LOCATOR)
        .group_by(Jurisdiction.id, Jurisdiction.name, Jurisdiction.kind, Jurisdiction.state)
    )
    rows = [
        PlaceRow(Place(jid, name, kind, state), n, int(letters or 0), int(suits or 0), int(rulings or 0), latest)
        for jid, name, kind, state, n, letters, suits, rulings, latest in session.execute(stmt)
    ]
    rows.sort(key=lambda r: r.place.label.casefold())
    rows.sort(key=_key(sort), reverse=descending)
    return rows


def find_place(session: Session, jurisdiction_id: str) -> Place | None:
    """The jurisdiction with this id: from the archive, else from the gazetteer; None when neither knows it."""
    row = session.get(Jurisdiction, jurisdiction_id)
    if row is not None:
        return Place(row.id, row.name, row.kind, row.state)
    if not jurisdiction_id.startswith("fips:"):
        return None
    from lawwatch.pipeline.places import resolve_place

    try:
        tag = resolve_place(jurisdiction_id)
    except QueryError:
        return None
    return Place(tag.id, tag.name, tag.kind, tag.state or None)
