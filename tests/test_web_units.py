"""The web package's pure parts: snippet marks, highlights, diffs, court cases, the SVG, the URL state and the
loopback rule of ``lawwatch serve``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import lxml.etree
import lxml.html
import pytest
from click.testing import CliRunner

from lawwatch.cli import cli
from lawwatch.errors import UsageError
from lawwatch.web.documents import Span, diff, highlighted, marked
from lawwatch.web.params import SearchParams, search_params
from lawwatch.web.server import check_host, is_loopback
from lawwatch.web.timeline import Event, case_of, lanes, render_svg

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(1)> \"quoted\" & 'single'"


def test_snippet_marks_are_escaped_and_always_balanced() -> None:
    assert marked("a \x02<b>\x03 c") == "a <mark>&lt;b&gt;</mark> c"
    assert marked("\x03stray close \x02open never closed") == "stray close <mark>open never closed</mark>"
    assert "<script>" not in marked(HOSTILE) and "&lt;script&gt;" in marked(HOSTILE)
    assert marked("[x]", "[", "]") == "<mark>x</mark>"


def test_highlights_wrap_exactly_their_spans_and_escape_the_rest() -> None:
    text = "<b>Philadelphia</b> under 8 U.S.C. § 1373 & more"
    spans = [
        Span(3, 15, "place", 'Phila "PA"', "fips:4260000"),
        Span(26, 41, "statute", "8 U.S.C. § 1373", "8 U.S.C. § 1373"),
    ]
    html = str(highlighted(text, spans))
    assert html.startswith(
        '&lt;b&gt;<mark class="place" title="Phila &#34;PA&#34;" data-ref="fips:4260000">Philadelphia</mark>'
    )
    assert '<mark class="statute"' in html and ">8 U.S.C. § 1373</mark> &amp; more" in html
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    assert "".join(root.itertext()) == text


def test_diff_marks_insertions_and_deletions_escaped() -> None:
    out = str(diff("The deadline is June 30. <old>", "The deadline is July 7. <new>"))
    assert "<del>June</del>" in out and "<ins>July</ins>" in out
    assert "&lt;<del>old</del><ins>new</ins>&gt;" in out  # the brackets are unchanged text, escaped
    long_same = "word " * 400
    assert " … " in str(diff(long_same + "a", long_same + "b"))


def test_a_document_belongs_to_its_recorded_case_else_the_first_it_names() -> None:
    assert case_of({"case_name": "City of Chicago v. Sessions"}, "Opinion", "") == "City of Chicago v. Sessions"
    assert case_of({}, "Memorandum", "MEMORANDUM in City of Philadelphia v. Sessions, No. 2:17-cv-03894") == (
        "City of Philadelphia v. Sessions"
    )
    assert case_of(None, "Philadelphia Wins Injunction", "the City of Philadelphia v. Sessions case") == (
        "City of Philadelphia v. Sessions"
    )
    assert case_of({}, "Justice Department Sends Letters to Nine Jurisdictions", "The letters went to ...") is None


def _event(n: int, day: str, kind: str, case: str | None, title: str = "t") -> Event:
    when = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return Event(n, when, kind, title, "doj_api", None, case)


def test_the_svg_has_one_lane_per_case_and_escapes_titles() -> None:
    events = [
        _event(1, "2017-04-21", "letter", None, HOSTILE),
        _event(2, "2017-11-15", "ruling", "City of Philadelphia v. Sessions"),
        _event(3, "2018-06-06", "ruling", "city of philadelphia v. sessions"),
        _event(4, "2017-08-30", "lawsuit", "City of Philadelphia v. Sessions"),
        _event(5, "2018-04-19", "ruling", "City of Chicago v. Sessions <x>"),
    ]
    grouped = lanes(events)
    assert [g.case for g in grouped] == [None, "City of Philadelphia v. Sessions", "City of Chicago v. Sessions <x>"]
    assert [e.id for e in grouped[1].events] == [2, 3, 4]
    svg = str(render_svg(grouped, link=lambda i: f"/documents/{i}", label="Timeline & <story>"))
    root = lxml.etree.fromstring(svg.encode())  # well-formed XML
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert [a.get("href") for a in root.findall(".//s:a", ns)] == [f"/documents/{i}" for i in (1, 2, 3, 4, 5)]
    assert root.findall(".//s:script", ns) == [] and "<script>" not in svg and "<x>" not in svg
    titles = [t.text for t in root.findall(".//s:a/s:path/s:title", ns)]
    assert titles[0] == f"2017-04-21 · letter · {HOSTILE}"
    years = [t.text for t in root.findall(".//s:text", ns) if t.get("class") == "year"]
    assert years == ["2017", "2018"]
    # later dates lie further right
    xs = {
        int(a.get("href").rsplit("/", 1)[1]): float(a[0].get("d").split()[0][1:].split(",")[0])
        for a in root.findall(".//s:a", ns)
    }
    assert xs[1] < xs[4] < xs[2] < xs[5] < xs[3]
    assert render_svg([], link=str, label="x") == ""


def test_the_url_keeps_the_state_and_drops_defaults() -> None:
    params = search_params(q=" sanctuary ", jurisdiction=["Chicago", " ", "Chicago"], order="", offset=40, limit=20)
    assert params.q == "sanctuary" and params.jurisdiction == ("Chicago",) and params.order is None
    assert params.url() == "/?q=sanctuary&jurisdiction=Chicago"  # a new link starts on the first page
    assert params.url(offset=60) == "/?q=sanctuary&jurisdiction=Chicago&offset=60"
    assert params.adding("type", "letter") == "/?q=sanctuary&jurisdiction=Chicago&type=letter"
    assert params.removing("jurisdiction", "Chicago") == "/?q=sanctuary"
    assert SearchParams(since="2017-01-01", until="2017-12-31", within=True).url("/feeds/documents.atom") == (
        "/feeds/documents.atom?since=2017-01-01&until=2017-12-31&within=true"
    )


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_only_loopback_is_served_without_allow_remote(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    if loopback:
        check_host(host, allow_remote=False)
    else:
        with pytest.raises(UsageError, match="--allow-remote"):
            check_host(host, allow_remote=False)
        check_host(host, allow_remote=True)


def test_serve_refuses_a_public_address_with_exit_2() -> None:
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "8080"])
    assert result.exit_code == 2
    assert "--allow-remote" in result.output and "Traceback" not in result.output
    assert "Example:" in (cli.commands["serve"].help or "")


def test_the_classifier_reports_every_mention_it_counts() -> None:
    from lawwatch.pipeline.classify import classify

    text = (
        "WASHINGTON – The letters went to the City of Chicago, Illinois; Cook County, Illinois; Berkeley, "
        "California; and Philadelphia. Chicago and Philadelphia answered; see City of Chicago v. Sessions, "
        "888 F.3d 272 (7th Cir. 2018)."
    )
    mentions: list[tuple[int, int, str, str]] = []
    tags = classify(text, mentions=mentions)
    assert tags == classify(text)  # the same classification with or without the mentions
    assert mentions == sorted(mentions)
    for tag in tags.jurisdictions:
        spans = [(start, end) for start, end, jid, role in mentions if jid == tag.id]
        assert len(spans) == tag.mentions and spans[0][0] == tag.first, tag
        assert all(role == tag.role for _, _, jid, role in mentions if jid == tag.id)
    assert [text[s:e] for s, e, jid, _ in mentions if jid == "fips:1714000"] == ["City of Chicago", "Chicago"]
    assert {text[s:e] for s, e, _, role in mentions if role == "locator"} == {"Illinois", "California"}


def test_serve_loads_the_gazetteer_and_freezes_the_heap_before_the_first_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import gc

    import uvicorn

    from lawwatch.pipeline.classify import gazetteer
    from lawwatch.pipeline.db import open_archive
    from lawwatch.web.server import serve

    seen: dict[str, object] = {}

    def run(app: object, **kwargs: object) -> None:  # uvicorn's run, at the moment it would start serving
        seen.update(frozen=gc.get_freeze_count(), loaded=gazetteer.load.cache_info().currsize, host=kwargs["host"])

    monkeypatch.setattr(uvicorn, "run", run)
    gazetteer.load.cache_clear()
    archive = open_archive(f"sqlite:///{tmp_path / 'archive.db'}")
    try:
        assert gc.get_freeze_count() == 0
        serve(archive, host="127.0.0.1", port=0)
    finally:
        gc.unfreeze()
        archive.dispose()
    assert seen["loaded"] == 1 and seen["host"] == "127.0.0.1"
    assert isinstance(seen["frozen"], int) and seen["frozen"] > 100_000  # the gazetteer's tables among them
