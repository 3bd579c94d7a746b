"""The JSON API, ``/api/v1/``: the shapes of ``lawwatch search --json`` and ``lawwatch show --json``, the
jurisdictions and a jurisdiction's timeline. Its OpenAPI document is ``/api/openapi.json``, read at ``/api/docs``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from lawwatch.pipeline.query import document_to_dict, get_document
from lawwatch.web import timeline
from lawwatch.web.app import NotFound, session
from lawwatch.web.params import SearchParams, search_params
from lawwatch.web.places import SORTS, find_place, place_rows
from lawwatch.web.searching import result_to_dict, run

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": 'a filter lawwatch cannot understand: {"error": {"status", "message", "candidates"}}'},
    404: {"description": 'no such document or jurisdiction: {"error": {"status", "message"}}'},
}
router = APIRouter(prefix="/api/v1", tags=["api"], responses=ERRORS)
DbSession = Annotated[Session, Depends(session)]


@router.get("/documents", summary="Search the archive")
def documents(db: DbSession, params: Annotated[SearchParams, Depends(search_params)]) -> dict[str, Any]:
    """Full-text search with filters: `{"query", "total", "total_exact", "total_is_estimate", "ranked_among",
    "offset", "hits": [{"id", "published_at", "source", "doc_type", "title", "url", "score", "snippet"}]}`, as
    `lawwatch search --json` prints it (matches in the snippet between `[` and `]`). An empty `q` lists the
    matching documents newest first. `total_is_estimate`: `total` is an estimate ("about"), for a word in very many
    documents; `total_exact` false: `total` is an estimate or a lower bound (a listing counts up to 10,000).
    `ranked_among`: relevance ranked only the newest this many matches (null: all); pages stop there, and
    `order=newest` reaches every match."""
    return result_to_dict(params, run(db, params))


@router.get("/documents/{document_id}", summary="One document")
def document(db: DbSession, document_id: int) -> dict[str, Any]:
    """The document with its tags, body and earlier versions, as `lawwatch show --json` prints it."""
    doc = get_document(db, document_id)
    if doc is None:
        raise NotFound(f"no document with id {document_id}")
    return document_to_dict(doc, versions=True)


@router.get("/jurisdictions", summary="Jurisdictions with their counts")
def jurisdictions(
    db: DbSession,
    sort: Annotated[str, Query(description=f"one of {', '.join(SORTS)}")] = "documents",
    dir: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
) -> dict[str, Any]:
    """Every jurisdiction some document names: `{"jurisdictions": [{"id", "name", "kind", "state", "label",
    "documents", "letters", "lawsuits", "rulings", "latest"}]}`."""
    rows = place_rows(db, sort=sort, descending=dir == "desc")
    return {"jurisdictions": [r.to_dict() for r in rows]}


@router.get("/jurisdictions/{jurisdiction_id}/timeline", summary="A jurisdiction's § 1373 timeline")
def jurisdiction_timeline(db: DbSession, jurisdiction_id: str) -> dict[str, Any]:
    """The letters, lawsuits, filings and rulings that name the jurisdiction and cite § 1373, grouped by court case:
    `{"jurisdiction": {...}, "events": N, "cases": [{"case": name or null, "events": [{"id", "published_at",
    "doc_type", "title", "source", "url", "case"}]}]}`, oldest first."""
    place = find_place(db, jurisdiction_id)
    if place is None:
        raise NotFound(f"no jurisdiction with id {jurisdiction_id!r}")
    found = timeline.events(db, place.id)
    return {
        "jurisdiction": place.to_dict(),
        "events": len(found),
        "cases": [{"case": lane.case, "events": [e.to_dict() for e in lane.events]} for lane in timeline.lanes(found)],
    }
