"""One search as the pages, the API and the Atom feed run it: ``pipeline.search.search`` with the URL's filter."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from lawwatch.pipeline.search import SearchResult, search
from lawwatch.web.params import SearchParams


def run(session: Session, params: SearchParams, highlight: tuple[str, str] = ("[", "]")) -> SearchResult:
    """The page of hits ``params`` asks for (``QueryError`` for a filter or query lawwatch cannot understand).

    On PostgreSQL a word query's matches are found through the ``search_vector`` index for the rest of the
    request's transaction: the planner, costing a common word by its share of rows, would rather scan the table
    and test every document's vector, each read back from TOAST — a cost it does not count, 4-20x slower."""
    if not params.filter.parsed_query.empty and session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config('enable_seqscan', 'off', true)"))
    return search(
        session,
        filter=params.filter,
        order=params.effective_order,
        limit=params.limit,
        offset=params.offset,
        highlight=highlight,
    )


def result_to_dict(params: SearchParams, result: SearchResult) -> dict[str, Any]:
    """The whole result in the shape of ``lawwatch search --json``."""
    return {
        "query": params.q,
        "total": result.total,
        "offset": params.offset,
        "hits": [h.as_dict() for h in result.hits],
    }
