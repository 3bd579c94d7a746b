"""The state of a search as the URL carries it, so that every page is bookmarkable and shareable.

``?q=sanctuary&jurisdiction=fips:4260000&statute=8 U.S.C. 1373&type=letter&source=doj_api&since=2017-01-01
&until=2018-12-31&order=newest&offset=20`` — the parameters of ``lawwatch search`` (``jurisdiction``, ``statute``,
``type`` and ``source`` repeat: any of their values), read by :func:`search_params` (a FastAPI dependency, so the
API's OpenAPI document lists them) and turned into a ``DocumentFilter`` by ``DocumentFilter.from_user``, as the
command line does. :meth:`SearchParams.url` writes a link to the same search with some values changed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import Query

from lawwatch.pipeline.filters import DocumentFilter

Order = Literal["relevance", "newest"]
PAGE_SIZE = 20
MAX_LIMIT = 1000
LIST_FIELDS = ("jurisdiction", "statute", "type", "source")


@dataclass(frozen=True)
class SearchParams:
    """One search: the full-text query, the filters as a person typed them, the order and the page."""

    q: str = ""
    jurisdiction: tuple[str, ...] = ()
    statute: tuple[str, ...] = ()
    type: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    since: str = ""
    until: str = ""
    within: bool = False
    order: Order | None = None  # None: relevance (newest first when there is no query)
    offset: int = 0
    limit: int = PAGE_SIZE

    @property
    def effective_order(self) -> Order:
        return self.order or "relevance"

    @cached_property
    def filter(self) -> DocumentFilter:
        """The ``DocumentFilter`` (``QueryError``, e.g. ``PlaceError`` with candidates, when a value is not
        understood)."""
        return DocumentFilter.from_user(
            jurisdictions=self.jurisdiction,
            statutes=self.statute,
            doc_types=self.type,
            sources=self.source,
            since=self.since or None,
            until=self.until or None,
            query=self.q,
            within=self.within,
        )

    def items(self) -> list[tuple[str, str]]:
        """The URL parameters of this search, defaults left out."""
        out: list[tuple[str, str]] = []
        if self.q:
            out.append(("q", self.q))
        for name in LIST_FIELDS:
            out.extend((name, value) for value in getattr(self, name))
        for name in ("since", "until"):
            if getattr(self, name):
                out.append((name, getattr(self, name)))
        if self.within:
            out.append(("within", "true"))
        if self.order:
            out.append(("order", self.order))
        if self.offset:
            out.append(("offset", str(self.offset)))
        if self.limit != PAGE_SIZE:
            out.append(("limit", str(self.limit)))
        return out

    def url(self, path: str = "/", /, **changes: object) -> str:
        """A link to ``path`` with this search, ``changes`` applied (``offset`` back to 0 unless changed)."""
        changed = replace(self, **{"offset": 0, **changes})  # type: ignore[arg-type]
        query = urlencode(changed.items())
        return f"{path}?{query}" if query else path

    def adding(self, name: str, value: str) -> str:
        """A link to this search with ``value`` added to the list field ``name``."""
        values: tuple[str, ...] = getattr(self, name)
        return self.url(**{name: values if value in values else (*values, value)})

    def removing(self, name: str, value: str) -> str:
        """A link to this search without ``value`` in the list field ``name``."""
        return self.url(**{name: tuple(v for v in getattr(self, name) if v != value)})

    @property
    def has_filters(self) -> bool:
        return any(getattr(self, n) for n in (*LIST_FIELDS, "since", "until"))


def search_params(
    q: Annotated[str, Query(description="full-text query, the syntax of `lawwatch search`")] = "",
    jurisdiction: Annotated[
        list[str], Query(description='place name or id, e.g. "Cook County, IL" or "fips:4260000" (repeatable)')
    ] = [],  # noqa: B006 -- FastAPI copies defaults
    statute: Annotated[list[str], Query(description='citation, e.g. "8 U.S.C. 1373" or "1373" (repeatable)')] = [],  # noqa: B006
    type: Annotated[list[str], Query(description="letter, ruling, lawsuit, filing or other (repeatable)")] = [],  # noqa: B006
    source: Annotated[list[str], Query(description="source id, e.g. doj_api (repeatable)")] = [],  # noqa: B006
    since: Annotated[str, Query(description="published on or after this day (YYYY-MM-DD)")] = "",
    until: Annotated[str, Query(description="published on or before this day (YYYY-MM-DD)")] = "",
    within: Annotated[bool, Query(description="a state also matches places inside it")] = False,
    order: Annotated[
        Literal["relevance", "newest", ""] | None, Query(description="relevance (default) or newest")
    ] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = PAGE_SIZE,
) -> SearchParams:
    """The search in the request's URL (a FastAPI dependency)."""
    return SearchParams(
        q=q.strip(),
        jurisdiction=_clean(jurisdiction),
        statute=_clean(statute),
        type=_clean(type),
        source=_clean(source),
        since=since.strip(),
        until=until.strip(),
        within=within,
        order=order or None,
        offset=offset,
        limit=limit,
    )


def _clean(values: list[str]) -> tuple[str, ...]:
    """Values without blanks and repeats (an empty form field sends ``jurisdiction=``)."""
    return tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
