"""A real browser against ``lawwatch serve``: headless Chromium (Debian's /usr/bin/chromium, driven by Playwright)
loads the search page of a seeded archive, types a query, clicks a facet, opens a document, checks the highlights,
opens a jurisdiction's timeline and follows a mark; it fails on any console error (a CSP violation is one) and on
any hostile text that runs or renders as markup.

Screenshots go to the test's tmp_path; with ``LAWWATCH_SCREENSHOTS=DIR`` the search page and the timeline are also
written to ``DIR/search.png`` and ``DIR/timeline.png`` (README's pictures: ``LAWWATCH_SCREENSHOTS=docs/screenshots``).
Without Chromium the test skips, except under ``CI=true``, where it fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lawwatch.pipeline.db import open_archive
from tests.helpers.web import HOSTILE_TITLES, PHILADELPHIA, running_server, seed_story

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (required under CI=true)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    archive = open_archive(url)
    seed_story(archive)
    archive.dispose()
    with running_server(url, tmp_path) as base:
        yield base


def _shots(tmp_path: Path) -> list[Path]:
    target = os.environ.get("LAWWATCH_SCREENSHOTS")
    return [tmp_path] + ([Path(target)] if target else [])


def test_search_facet_document_and_timeline_in_chromium(browser: Any, server: str, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(server) else outside.append(r.url))

    # search: type a query
    page.goto(server + "/")
    assert page.locator("li.hit").count() == 20
    page.fill("#q", "injunction")
    page.press("#q", "Enter")
    page.wait_for_url("**/?q=injunction*")
    assert page.locator("li.hit").count() >= 6
    assert page.locator("li.hit .snippet mark").first.inner_text().lower().startswith("injunction")
    for folder in _shots(tmp_path):
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "search.png"), full_page=True)

    # click a facet: the search narrows to its count, the URL carries it
    facet = page.locator(f'#facet-jurisdiction a[data-value="{PHILADELPHIA}"]')
    count = int(facet.locator("xpath=..").locator(".count").inner_text().replace(",", ""))
    facet.click()
    page.wait_for_url(f"**jurisdiction={PHILADELPHIA.replace(':', '%3A')}*")
    assert page.locator("li.hit").count() == count
    assert page.locator("#facet-jurisdiction li.selected").count() == 1

    # the order select submits the form by itself (progressive enhancement)
    page.select_option("#order", "newest")
    page.wait_for_url("**order=newest*")
    dates = page.locator("li.hit .meta").all_inner_texts()
    days = [next(w for w in d.split() if w[:2] in ("19", "20")) for d in dates]
    assert days == sorted(days, reverse=True)

    # open a document: its citations and places are highlighted
    page.locator("li.hit a.title").first.click()
    page.wait_for_url("**/documents/*")
    statute = page.locator("#body mark.statute").first
    place = page.locator(f'#body mark.place[data-ref="{PHILADELPHIA}"]').first
    assert statute.is_visible() and place.is_visible()
    assert "1373" in statute.inner_text() and "Philadelphia" in place.inner_text()
    background = statute.evaluate("m => getComputedStyle(m).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")  # the stylesheet applies

    # the jurisdiction's timeline: an SVG whose marks link to documents
    page.locator(f'a.place[href="/jurisdictions/{PHILADELPHIA}"]').first.click()
    page.wait_for_url(f"**/jurisdictions/{PHILADELPHIA}")
    marks = page.locator("figure.timeline svg a.event")
    assert marks.count() >= 5
    assert page.locator("svg text.case", has_text="City of Philadelphia v. Sessions").count() == 1
    assert page.locator("figure.timeline svg").bounding_box()["width"] > 600
    heading, figure = page.locator("h1#place").bounding_box(), page.locator("figure.timeline").bounding_box()
    clip = {"x": 0, "y": heading["y"] - 12, "width": 1280, "height": figure["y"] + figure["height"] - heading["y"] + 24}
    for folder in _shots(tmp_path):
        page.screenshot(path=str(folder / "timeline.png"), clip=clip)
    href = marks.last.get_attribute("href")
    marks.last.click()
    page.wait_for_url(f"**{href}")
    assert page.locator("#title").inner_text()

    # hostile titles and bodies are text: nothing runs, nothing renders as an element
    page.goto(server + "/?source=hostile")
    assert sorted(page.locator("li.hit a.title").all_inner_texts()) == sorted(HOSTILE_TITLES)
    page.locator("li.hit a.title").first.click()
    page.wait_for_url("**/documents/*")
    assert page.locator("#title").inner_text() in HOSTILE_TITLES
    assert "<svg onload=alert(3)>" in page.locator("#body").inner_text()
    assert page.evaluate("document.querySelectorAll('main img, main script, #body svg').length") == 0
    page.goto(server + "/jurisdictions")
    assert page.locator("#places tbody tr").count() > 5

    assert (tmp_path / "search.png").stat().st_size > 10_000
    assert (tmp_path / "timeline.png").stat().st_size > 5_000
    assert not outside, f"requests left the server: {outside}"
    assert not problems, problems
    page.close()
