"""The document filter options shared by ``search`` and ``export`` (and ``--since`` for ``reclassify``).

``filter_options`` adds ``--jurisdiction``, ``--statute``, ``--type``, ``--source``, ``--since`` and ``--until``;
``parse_filters`` turns their values into the keyword arguments the search and query functions take.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import click

from lawwatch.errors import QueryError
from lawwatch.pipeline.doctypes import DOC_TYPES

F = TypeVar("F", bound=Callable[..., Any])


def parse_day(value: str | None, *, end: bool = False) -> datetime | None:
    """``--since``/``--until`` values: a date (``--until`` includes that whole day) or a full timestamp."""
    if not value:
        return None
    from lawwatch.pipeline.normalize import to_utc

    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is not None:
        start = to_utc(datetime(day.year, day.month, day.day))
        return start + timedelta(days=1) if end and start else start
    try:
        return to_utc(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2017-10-12") from None


def filter_options(func: F) -> F:
    options = [
        click.option(
            "--jurisdiction",
            "jurisdictions",
            multiple=True,
            metavar="NAME",
            help='e.g. "Cook County, IL", "Philadelphia", "fips:17031" (repeatable: any of them)',
        ),
        click.option(
            "--statute",
            "statutes",
            multiple=True,
            metavar="CITE",
            help='e.g. "8 U.S.C. 1373" or "1373" (repeatable)',
        ),
        click.option("--type", "doc_types", multiple=True, type=click.Choice(DOC_TYPES), help="document type"),
        click.option("--source", "sources", multiple=True, metavar="ID", help="source id (repeatable)"),
        click.option("--since", metavar="DATE", help="published on or after DATE"),
        click.option("--until", metavar="DATE", help="published on or before DATE"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def parse_filters(
    jurisdictions: Sequence[str],
    statutes: Sequence[str],
    doc_types: Sequence[str],
    sources: Sequence[str],
    since: str | None,
    until: str | None,
) -> dict[str, Any]:
    """The values of ``filter_options`` as keyword arguments for ``search``/``document_filters``."""
    ids: list[str] = []
    cites: list[tuple[str | None, str]] = []
    if jurisdictions or statutes:
        from lawwatch.pipeline.classify import parse_statute, resolve_jurisdiction

        for name in jurisdictions:
            tag = resolve_jurisdiction(name)
            if tag is None:
                raise QueryError(f"unknown jurisdiction {name!r}: try a name with its state, like 'Cook County, IL'")
            ids.append(tag.id)
        for cite in statutes:
            try:
                title, section, _sub = parse_statute(cite)
            except ValueError as exc:
                raise QueryError(f"--statute {cite!r}: {exc}") from None
            cites.append((title, section))
    return {
        "jurisdictions": ids,
        "statutes": cites,
        "doc_types": list(doc_types),
        "sources": list(sources),
        "since": parse_day(since),
        "until": parse_day(until, end=True),
    }
