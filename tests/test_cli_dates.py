"""Dates on the command line (issue 9): a year or a month is the whole span; extreme values are exact or one line."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from lawwatch.errors import QueryError
from lawwatch.pipeline.filters import EARLIEST, LATEST, DocumentFilter, parse_period, parse_when
from tests.helpers.cli import Lawwatch, db_url, loaded

__all__ = ["db_url", "loaded"]  # fixtures

# The sample's documents by id and publication day: 1 2013-05-16, 3 2014-03-19, 2 2014-06-12, 4 2017-04-21,
# 7 2017-10-12, 8 2017-11-15, 5 2018-01-24, 6 2018-03-06.
ALL = [6, 5, 8, 7, 4, 2, 3, 1]


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "precision", "start", "end"),
    [
        ("2017", "year", _utc(2017, 1, 1), _utc(2018, 1, 1)),
        ("2017-10", "month", _utc(2017, 10, 1), _utc(2017, 11, 1)),
        ("2017-12", "month", _utc(2017, 12, 1), _utc(2018, 1, 1)),
        ("Oct 2017", "month", _utc(2017, 10, 1), _utc(2017, 11, 1)),
        ("2017-W40", "week", _utc(2017, 10, 2), _utc(2017, 10, 9)),
        ("2017-10-12", "day", _utc(2017, 10, 12), _utc(2017, 10, 13)),
        ("20171012", "day", _utc(2017, 10, 12), _utc(2017, 10, 13)),
        ("Oct 12 2017", "day", _utc(2017, 10, 12), _utc(2017, 10, 13)),
        ("2017-10-12T10:00-05:00", "instant", _utc(2017, 10, 12, 15), _utc(2017, 10, 12, 15)),
        ("2017-10-12T10:00", "instant", _utc(2017, 10, 12, 10), _utc(2017, 10, 12, 10)),
        ("Oct 12 2017 10am", "instant", _utc(2017, 10, 12, 10), _utc(2017, 10, 12, 10)),
        ("0001", "year", EARLIEST, _utc(2, 1, 1)),
        ("9999", "year", _utc(9999, 1, 1), None),
    ],
)
def test_a_date_keeps_the_precision_it_was_given_with(
    text: str, precision: str, start: datetime, end: datetime | None
) -> None:
    period = parse_period(text)
    assert (period.precision, period.start, period.end) == (precision, start, end)


@pytest.mark.parametrize(
    ("value", "end", "expected"),
    [
        ("2017", False, _utc(2017, 1, 1)),
        ("2017", True, _utc(2018, 1, 1)),  # --until 2017: through the end of 2017
        ("2017-10", True, _utc(2017, 11, 1)),
        (date(2017, 10, 1), True, _utc(2017, 10, 2)),
        ("9999-12-31", True, LATEST),  # no stored date is later: exact
        ("9999", True, LATEST),
        ("0001-01-01T00:00:00+14:00", False, EARLIEST),  # 0000-12-31T10:00Z: no stored date is earlier
        ("9999-12-31T23:59:59+05:00", False, _utc(9999, 12, 31, 18, 59, 59)),
    ],
)
def test_parse_when_spans_and_extremes(value: str | date, end: bool, expected: datetime) -> None:
    assert parse_when(value, end=end) == expected


@pytest.mark.parametrize(
    ("value", "end", "message"),
    [
        ("9999-12-31T23:59:59-05:00", False, "is after 9999-12-31 in UTC, where no document can be"),
        ("0001-01-01T00:00:00+14:00", True, "is before 0001-01-01 in UTC, where no document can be"),
        ("Oct 12", False, "it needs a year"),
        ("Jan 1 0001", False, "write a year before 1000 as an ISO date"),  # dateutil alone reads it as 2001
        ("Oct 12 2017 10:00 XYZ", False, "unknown time zone"),
        ("10000", False, "is not a date"),
    ],
)
def test_dates_that_cannot_be_exact_are_errors(value: str, end: bool, message: str) -> None:
    with pytest.raises(QueryError, match=message) as info:
        parse_when(value, name="since", end=end)
    assert "\n" not in str(info.value)


def test_describe_says_the_span() -> None:
    assert DocumentFilter.from_user(since="2017", until="2017").describe() == (
        "documents published from 2017-01-01 through 2017-12-31"
    )
    assert DocumentFilter.from_user(until="9999-12-31").describe() == "documents published through 9999-12-31"


def test_a_year_and_a_month_are_whole_spans_in_search_and_export(loaded: Lawwatch) -> None:
    assert sorted(loaded.hits("", "--since", "2017", "--until", "2017")) == [4, 7, 8]
    assert loaded.hits("", "--since", "2017-10", "--until", "2017-10") == [7]
    assert loaded.hits("", "--since", "Oct 2017", "--until", "2017-11") == [8, 7]
    assert loaded.hits("", "--since", "2018") == [6, 5]
    assert loaded.hits("", "--until", "2014") == [2, 3, 1]
    exported = loaded("export", "--since", "2017", "--until", "2017").stdout.splitlines()
    assert len(exported) == 3


def test_extreme_dates_are_exact_or_one_line(loaded: Lawwatch) -> None:
    assert loaded.hits("", "--until", "9999-12-31") == ALL
    assert loaded.hits("", "--since", "0001-01-01T00:00:00+14:00") == ALL
    assert loaded.hits("", "--since", "0001-01-01", "--until", "9999") == ALL
    assert loaded.hits("", "--since", "9999-12-31T23:59:59+05:00") == []
    for args in (
        ["search", "x", "--since", "9999-12-31T23:59:59-05:00"],
        ["search", "x", "--until", "0001-01-01T00:00:00+14:00"],
        ["export", "--since", "9999-12-31T23:59:59-05:00"],
        ["reclassify", "--since", "9999-12-31T23:59:59-05:00"],
        ["alerts", "list", "--since", "9999-12-31T23:59:59-05:00"],
    ):
        assert "in UTC, where no document can be" in loaded.error(*args, code=2)
    assert loaded.json("reclassify", "--since", "0001-01-01T00:00:00+14:00") == {"documents": 8, "changed": 0}
