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
    is a usage error (exit 2); the value stays text, which ``DocumentFilter.from_user`` interprets."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from lawwatch.pipeline.filters import parse_when

        try:
            parse_when(value, name="date")
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
        click.option("--source", "sources", multiple=True, metavar="ID", help="source id (repeatable)"),
        click.option("--since", type=DATE, help="published on or after DATE"),
        click.option("--until", type=DATE, help="published on or before DATE"),
        click.option(
            "--within",
            is_flag=True,
            help="a state also matches places inside it and mentions that only locate a place",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func
