"""Listing walks resume what an earlier crawl left unfinished (issue 8, item 1): ``LawwatchSpider.next_page``.

A page here is a list of entries (URL, known?) with a date; the walk's decisions are checked page by page: where it
stops, what it records as finished (the boundary the runner stores), what it reports as resumed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from lawwatch.config import SourceConfig
from lawwatch.crawler.base import LawwatchSpider, Listed
from lawwatch.crawler.context import KnownIndex, WalkBoundary
from lawwatch.crawler.runner import walks_may_finish

LISTING = "/news"
DAY = datetime(2020, 1, 31, tzinfo=UTC)


class _Spider(LawwatchSpider):
    name = "walker"


def _spider(boundary: WalkBoundary | None = None, since: datetime | None = None) -> _Spider:
    source = SourceConfig(id="walker", spider="walker", base_url="https://example.org", options=MappingProxyType({}))
    known = KnownIndex(source="walker", walks={LISTING: boundary} if boundary else {})
    return _Spider(source=source, known=known, since=since)


def _page(number: int, known: bool, size: int = 3) -> tuple[list[Listed], datetime]:
    """Page ``number`` of a newest-first listing: ``size`` entries, dated one day per page back from DAY."""
    entries = [Listed(f"https://example.org/pr/{number}-{i}", None, known) for i in range(size)]
    return entries, DAY - timedelta(days=number)


def _walk(spider: _Spider, pages: list[bool], *, max_pages: int | None = None) -> int:
    """Walk pages (their known flags) until the spider stops; the number of pages it looked at."""
    for number, known in enumerate(pages):
        entries, oldest = _page(number, known)
        more = number + 1 < len(pages)
        if not spider.next_page(LISTING, entries, oldest=oldest, more=more, max_pages=max_pages):
            return number + 1
    raise AssertionError("the walk asked for a page past the end")


def test_a_first_walk_goes_past_all_known_pages_to_the_end_and_finishes() -> None:
    spider = _spider()
    assert _walk(spider, [True, True, False, True, True]) == 5
    assert spider.context.walks[LISTING] == WalkBoundary.of(_page(0, True)[0], _page(0, True)[1])
    assert spider.context.resumed == {LISTING}  # it went past pages a first walk cut short had stored
    assert spider.context.resumed_pages == 4


def test_a_walk_stops_at_the_first_all_known_page_once_past_the_last_boundary() -> None:
    boundary = WalkBoundary.of(_page(1, True)[0][:1], _page(1, True)[1])  # the last walk began on page 1
    spider = _spider(boundary)
    assert _walk(spider, [False, True, True, True]) == 2  # page 1 reaches the boundary and is all known
    assert LISTING in spider.context.walks and spider.context.resumed == set()
    # new entries on pages 0-1, the boundary on page 2: it goes on while pages have something new
    spider = _spider(WalkBoundary.of(_page(2, True)[0][:1], None))
    assert _walk(spider, [False, False, True, True]) == 3


def test_a_walk_cut_short_is_resumed_past_the_pages_it_stored() -> None:
    # the last finished walk began on page 4; a killed crawl stored pages 0-1 of the new ones: the next walk goes past
    # them (resumed), fetches pages 2-3, reaches the boundary on page 4 and stops there (all known)
    spider = _spider(WalkBoundary.of(_page(4, True)[0][:1], _page(4, True)[1]))
    assert _walk(spider, [True, True, False, False, True, True]) == 5
    assert spider.context.resumed == {LISTING} and spider.context.resumed_pages == 2
    assert spider.context.walks[LISTING].keys == WalkBoundary.of(_page(0, True)[0], None).keys


def test_a_page_older_than_the_boundary_reaches_it_when_its_entries_are_gone() -> None:
    gone = WalkBoundary(frozenset({"https://example.org/pr/deleted"}), DAY - timedelta(days=1, hours=12))
    spider = _spider(gone)
    assert _walk(spider, [True, True, True, True]) == 3  # page 2 is older than the boundary's oldest entry


def test_the_page_cap_leaves_the_boundary_unless_it_is_a_first_walk() -> None:
    boundary = WalkBoundary.of(_page(9, True)[0][:1], None)
    spider = _spider(boundary)
    # all-known pages walked to reach the boundary do not count: 2 known + 2 new pages, then the cap of 2
    assert _walk(spider, [True, True, False, False, False, False, True], max_pages=2) == 4
    assert spider.context.walks == {} and spider.context.unfinished_walks == {LISTING}
    spider = _spider()  # a first walk: its cap is the listing's horizon, the walk counts as finished
    assert _walk(spider, [False, False, False, False], max_pages=2) == 2
    assert LISTING in spider.context.walks


def test_a_backfill_walks_back_to_since_and_records_nothing() -> None:
    spider = _spider(WalkBoundary.of(_page(0, True)[0], None), since=DAY - timedelta(days=2))
    assert _walk(spider, [True, True, True, True, True]) == 4  # page 3 is the first older than since
    assert spider.context.walks == {} and spider.context.walks_started == set()


def test_boundaries_round_trip_and_unreadable_ones_are_ignored() -> None:
    boundary = WalkBoundary.of([Listed("https://example.org/pr/1?utm_source=x", "uuid-1", True)], DAY)
    assert WalkBoundary.decode(boundary.encode()) == boundary
    assert "id:uuid-1" in boundary.keys
    assert WalkBoundary.decode("not json") is None and WalkBoundary.decode(None) is None


@pytest.mark.parametrize(
    ("stats", "fatal", "reason", "finishes"),
    [
        ({}, False, "finished", True),
        ({"lawwatch/errors": 2, "lawwatch/item_errors": 2}, False, "finished", True),  # unusable items only
        ({"lawwatch/errors": 3, "lawwatch/item_errors": 2}, False, "finished", False),  # a failed request
        ({"lawwatch/errors": 1, "lawwatch/lost": 200}, False, "finished", False),  # a lost batch
        ({}, False, "shutdown", False),  # SIGTERM
        ({}, True, "finished", False),
    ],
)
def test_walk_boundaries_move_only_when_nothing_was_lost(
    stats: dict[str, int], fatal: bool, reason: str, finishes: bool
) -> None:
    assert walks_may_finish(stats, fatal, reason) is finishes
