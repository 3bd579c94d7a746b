"""One search as the pages, the API and the Atom feed run it: ``pipeline.search.search`` with the URL's filter."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lawwatch.pipeline.search import SearchResult, search
from lawwatch.web.params import SearchParams


def run(session: Session, params: SearchParams, highlight: tuple[str, str] = ("[", "]")) -> SearchResult:
    """The page of hits ``params`` asks for (``QueryError`` for a filter or query lawwatch cannot understand).

    A common word's relevance ranking is bounded (``pipeline/search.py``): ``result.ranked_among`` and
    ``result.total_is_estimate`` say so, and the pages and the API show it."""
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
    return result.as_dict(params.q, params.offset)
