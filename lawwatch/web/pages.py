"""The HTML pages and the Atom feed: search with facets, a document, the jurisdictions, one jurisdiction's
timeline, and the API's documentation page. Every page works without JavaScript."""

from __future__ import annotations

import functools
from concurrent.futures import wait
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from lawwatch.pipeline.query import get_document
from lawwatch.pipeline.search import search
from lawwatch.web import documents, timeline
from lawwatch.web.app import NotFound, session
from lawwatch.web.facets import SAMPLE, assemble, count_all, facets, statements
from lawwatch.web.facets import tasks as facet_tasks
from lawwatch.web.params import PAGE_SIZE, SearchParams, search_params
from lawwatch.web.places import SORTS, find_place, place_rows
from lawwatch.web.searching import run

router = APIRouter(include_in_schema=False)
DbSession = Annotated[Session, Depends(session)]
Params = Annotated[SearchParams, Depends(search_params)]
ATOM = "application/atom+xml; charset=utf-8"


def _page(request: Request, name: str, **context: Any) -> HTMLResponse:
    html = request.app.state.templates.get_template(name).render(request=request, **context)
    return HTMLResponse(html)


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request, db: DbSession, params: Params) -> HTMLResponse:
    """Search: the query, the facets, a page of hits with their snippets (the facets counted beside the hits, on a
    connection of their own: ``web/side.py``, but for an in-memory SQLite archive)."""
    side = request.app.state.side
    counting = [
        side.submit(functools.partial(count_all, served=task, common=len(task) > 1))
        for task in (facet_tasks(db, statements(params)) if side.enabled else ())
    ]
    try:
        result = run(db, params, highlight=("\x02", "\x03"))
    finally:
        wait(counting)  # never left running past the request (an error of the search is raised below)
    hits = [(h, documents.marked(h.snippet)) for h in result.hits]
    pages = {
        "previous": params.url(offset=max(params.offset - params.limit, 0)) if params.offset else None,
        "next": params.url(offset=params.offset + params.limit)
        if params.offset + params.limit < result.reachable
        else None,
    }
    if counting:
        counted = assemble(db, params, {flt: c for future in counting for flt, c in future.result().items()})
    else:
        counted = facets(db, params)
    return _page(
        request,
        "search.html",
        params=params,
        result=result,
        hits=hits,
        facets=counted,
        # a facet ignoring its own field's filter may count more documents than the search finds
        sampled=SAMPLE if result.total > SAMPLE or any(f.sampled for f in counted) else None,
        pages=pages,
        description=params.filter.describe(),
        feed=params.url("/feeds/documents.atom"),
        api=params.url("/api/v1/documents"),
        newest=params.url(order="newest"),
    )


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document_page(request: Request, db: DbSession, document_id: int) -> HTMLResponse:
    """A document: its tags, its body with citations and places highlighted, its earlier versions as diffs."""
    doc = get_document(db, document_id)
    if doc is None:
        raise NotFound(f"no document with id {document_id}")
    places = sorted(doc.jurisdictions, key=lambda j: (j.first_offset, j.jurisdiction_id))
    labels = {j.jurisdiction_id: _label(j.jurisdiction.name, j.jurisdiction.kind, j.jurisdiction.state) for j in places}
    spans, signals = documents.spans(doc, labels)
    versions = [(v, documents.diff(v.body_text, doc.body_text), v.title != doc.title) for v in reversed(doc.versions)]
    return _page(
        request,
        "document.html",
        doc=doc,
        places=places,
        labels=labels,
        body=documents.highlighted(doc.body_text or "", spans),
        highlights=spans,
        doc_signals=signals.get("doc_type", {}),
        seen_via=[s.source for s in doc.seen_via if s.source != doc.source],
        versions=versions,
    )


@router.get("/jurisdictions", response_class=HTMLResponse)
def jurisdictions_page(
    request: Request,
    db: DbSession,
    sort: Annotated[str, Query()] = "documents",
    dir: Annotated[str, Query(pattern="^(asc|desc)$")] = "",
) -> HTMLResponse:
    """Every jurisdiction the archive's documents name, with counts; sortable by any column (links, no script)."""
    descending = (dir or ("asc" if sort in ("name", "state", "kind") else "desc")) == "desc"
    rows = place_rows(db, sort=sort, descending=descending)
    return _page(request, "jurisdictions.html", rows=rows, sort=sort, descending=descending, sorts=SORTS)


@router.get("/jurisdictions/{jurisdiction_id}", response_class=HTMLResponse)
def jurisdiction_page(request: Request, db: DbSession, jurisdiction_id: str) -> HTMLResponse:
    """One jurisdiction: its § 1373 timeline (SVG, each mark a link) and its newest documents (listed beside the
    timeline's query, on a connection of their own: ``web/side.py``, but for an in-memory SQLite archive)."""
    place = find_place(db, jurisdiction_id)
    if place is None:
        raise NotFound(f"no jurisdiction with id {jurisdiction_id!r}")
    params = SearchParams(jurisdiction=(place.id,))
    side = request.app.state.side
    newest = functools.partial(search, filter=params.filter, order="newest", limit=PAGE_SIZE)
    listing = side.submit(newest) if side.enabled else None  # beside the timeline's events
    try:
        found = timeline.events(db, place.id)
    finally:
        if listing is not None:
            wait([listing])  # never left running past the request
    recent = listing.result() if listing is not None else newest(db)
    lanes = timeline.lanes(found)
    svg = timeline.render_svg(lanes, link=lambda i: f"/documents/{i}", label=f"The § 1373 timeline of {place.label}")
    return _page(
        request,
        "jurisdiction.html",
        place=place,
        lanes=lanes,
        svg=svg,
        events=found,
        recent=recent,
        all_documents=params.url(),
        timeline_api=f"/api/v1/jurisdictions/{place.id}/timeline",
        feed=params.url("/feeds/documents.atom", order="newest"),
    )


@router.get("/feeds/documents.atom")
def feed(request: Request, db: DbSession, params: Params) -> Response:
    """An Atom feed of any search: the documents the API lists for the same parameters."""
    result = run(db, params)
    base = str(request.base_url).rstrip("/")
    updated = max((h.published_at for h in result.hits if h.published_at), default=None)
    xml = request.app.state.templates.get_template("feed.atom").render(
        base=base,
        self_url=base + params.url("/feeds/documents.atom", offset=params.offset),
        html_url=base + params.url(offset=params.offset),
        feed_id=base + params.url("/feeds/documents.atom", offset=0),
        title=f"lawwatch: {params.filter.describe()}",
        updated=(updated or datetime(1970, 1, 1, tzinfo=UTC)).isoformat(),
        hits=result.hits,
    )
    return Response(xml, media_type=ATOM)


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """The API's OpenAPI document, read as a page (no CDN, no script): paths, parameters and responses."""
    spec = request.app.openapi()
    return _page(request, "api_docs.html", spec=spec, operations=_operations(spec))


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            out.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": op.get("parameters", []),
                    "responses": op.get("responses", {}),
                }
            )
    return out


def _label(name: str, kind: str, state: str | None) -> str:
    return name if kind == "state" or not state else f"{name}, {state}"
