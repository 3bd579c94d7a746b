"""The document filter options shared by ``search`` and ``export`` (and ``--since`` for ``reclassify``).

``filter_options`` adds ``--jurisdiction``, ``--statute``, ``--type``, ``--source``, ``--since``, ``--until`` and
``--within``, named as the keyword arguments of ``DocumentFilter.from_user``, which reads them: commands call
``DocumentFilter.from_user(**filters)`` and nothing here interprets a name, a citation or a date.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from lawwatch.errors import QueryError
from lawwatch.pipeline.doctypes import DOC_TYPES

F = TypeVar("F", bound=Callable[..., Any])


class DateParam(click.ParamType):
    """A ``--since``/``--until`` value, checked when the command line is read so that a date lawwatch cannot read
    is a usage error (exit 2); the value stays text, which ``DocumentFilter.from_user`` interprets: a year, a month,
    a day or a timestamp (``pipeline.filters.parse_period``). An option named ``until`` is checked as an end."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from lawwatch.pipeline.filters import parse_when

        try:
            parse_when(value, name="date", end=param is not None and param.name == "until")
        except QueryError as exc:
            self.fail(str(exc).removeprefix("date: "), param, ctx)
        return value


DATE = DateParam()


def filter_options(func: F) -> F:
    options = [
        click.option(
            "--jurisdiction",
            "jurisdictions",
            multiple=True,
            metavar="NAME",
            help='e.g. "Cook County, IL", "Philadelphia", "fips:17031" (repeatable: any of them); '
            "an ambiguous name is an error listing the candidates",
        ),
        click.option(
            "--statute",
            "statutes",
            multiple=True,
            metavar="CITE",
            help='e.g. "8 U.S.C. 1373" or "1373" (repeatable)',
        ),
        click.option("--type", "doc_types", multiple=True, type=click.Choice(DOC_TYPES), help="document type"),
        click.option(
            "--source",
            "sources",
            multiple=True,
            metavar="ID",
            help="seen via this source id (repeatable); an id neither configured nor in the archive is an error",
        ),
        click.option(
            "--since",
            type=DATE,
            help="published on or after DATE: a year (2017: from 2017-01-01), a month (2017-10), a day, or a "
            "timestamp (2017-10-12T10:00-05:00; UTC without an offset)",
        ),
        click.option(
            "--until",
            type=DATE,
            help="published on or before DATE: a year (2017: through 2017-12-31), a month (2017-10: through "
            "2017-10-31), a day (inclusive), or a timestamp (exclusive)",
        ),
        click.option(
            "--within",
            is_flag=True,
            help="a state also matches places inside it and mentions that only locate a place",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def note_prominent(names: tuple[str, ...] | list[str]) -> None:
    """Say on stderr which place names were taken as their far most populous candidate ("Cook County" → Cook
    County, IL), so a pick is never silent."""
    if not names:  # no gazetteer to load (start-up of a search without places)
        return
    from lawwatch.pipeline.places import resolve_place

    for name in names:
        try:
            tag = resolve_place(name)
        except QueryError:
            continue  # the filter itself reports it
        if getattr(tag, "resolved_by", "") == "prominence":
            label = f"{tag.name}, {tag.state}" if tag.kind != "state" else tag.name
            click.echo(
                f"note: {name!r} taken as {label} ({tag.id}), at least 10 times as populous as any other place "
                "of that name; add the state to choose another",
                err=True,
            )
