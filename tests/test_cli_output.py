"""What people read (issue 9): whole URLs (hyperlinks on terminals), place names in CSV, help for every option, and
search queries that start with "-"."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from lawwatch.cli import cli
from lawwatch.pipeline.textquery import MAX_QUERY_BYTES, MAX_QUERY_WORDS
from tests.helpers.cli import Lawwatch, db_url, loaded

__all__ = ["db_url", "loaded"]  # fixtures

LONG_URL = "https://www.justice.gov/opa/pr/justice-department-sends-letters-29-jurisdictions-regarding-their-compliance-8-usc-1373"


@pytest.fixture
def narrow(tmp_path: Path) -> Lawwatch:
    """The sample archive (SQLite) on a 40-column output that is not a terminal."""
    lawwatch = Lawwatch(tmp_path, f"sqlite:///{tmp_path / 'archive.db'}", env={"COLUMNS": "40"})
    lawwatch("import", str(Path(__file__).parent / "examples" / "import" / "doj_api_sample.jsonl"))
    return lawwatch


def test_search_prints_urls_whole(narrow: Lawwatch) -> None:
    out = narrow("search", "29 jurisdictions").stdout
    assert f"    {LONG_URL}\n" in out  # not folded at 40 columns
    assert "\x1b]8;" not in out  # not a terminal: no escape codes


def test_show_prints_the_url_whole(narrow: Lawwatch) -> None:
    (hit,) = narrow.hits('"29 jurisdictions"')
    out = narrow("show", str(hit)).stdout
    assert f"\n{LONG_URL}\n" in out  # on a line of its own, not cut with "…" in a table cell


def test_urls_are_hyperlinks_on_a_terminal(narrow: Lawwatch) -> None:
    narrow.runner = CliRunner(env={"COLUMNS": "40", "FORCE_COLOR": "1"})  # rich then writes for a terminal
    (hit,) = narrow.hits('"29 jurisdictions"')
    for args in (["search", "29 jurisdictions"], ["show", str(hit)]):
        out = narrow(*args).stdout
        assert "\x1b]8;id=" in out and f";{LONG_URL}\x1b\\" in out  # OSC 8: the link target
        assert f"{LONG_URL}\x1b[0m\x1b]8;;\x1b\\" in out or f"{LONG_URL}\x1b]8;;\x1b\\" in out  # the visible text


def test_export_csv_names_jurisdictions_with_their_ids(loaded: Lawwatch) -> None:
    rows = list(csv.DictReader(io.StringIO(loaded("export", "--format", "csv", "--jurisdiction", "Illinois").stdout)))
    places = {place for row in rows for place in row["jurisdictions"].split("; ")}
    assert {"Illinois (fips:17)", "Chicago, IL (fips:1714000)", "Cook County, IL (fips:17031)"} <= places


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix}{name} ")
        else:
            found.append((prefix + name, command))
    return found


MINE = ["search", "show", "export", "status", "reclassify", "db upgrade", "config show", "config check"]
MINE += [name for name, _ in _commands(cli) if name.startswith("alerts ")]


@pytest.mark.parametrize(("name", "command"), [(n, c) for n, c in _commands(cli) if n in MINE])
def test_every_option_has_help(name: str, command: click.Command) -> None:
    bare = [p.name for p in command.params if isinstance(p, click.Option) and not p.help]
    assert bare == [], f"lawwatch {name}: options without help text"


@pytest.mark.parametrize(
    ("args", "query"),
    [
        (["-california", "1373"], "1373 -california"),  # click would read -california as options
        (["--", "-california", "1373"], "1373 -california"),
        (["-california 1373"], "1373 -california"),
        (["1373", "-california"], "1373 -california"),
        (["-hawaii", "justice"], "justice -hawaii"),  # not -h (help) followed by "awaii"
    ],
)
def test_a_query_may_start_with_an_excluded_word(loaded: Lawwatch, args: list[str], query: str) -> None:
    expected = loaded.hits(query)
    assert expected and (expected != loaded.hits("1373") or "hawaii" in query)
    data = json.loads(loaded("search", "--json", *args).stdout)  # after "--" every argument is a word
    assert [h["id"] for h in data["hits"]] == expected
    assert data["query"] == " ".join(a for a in args if a != "--")
    if "--" not in args:  # options still work after such words
        narrowed = loaded.json("search", *args, "--type", "letter", "--limit", "1")
        assert isinstance(narrowed, dict) and [h["doc_type"] for h in narrowed["hits"]] == ["letter"]


def test_unknown_long_options_stay_errors(loaded: Lawwatch) -> None:
    assert "No such option '--limt'. Did you mean '--limit'?" in loaded.error("search", "-texas", "x", "--limt", "3")
    assert "choose one of --json and --csv" in loaded.error("search", "-texas", "x", "--json", "--csv", code=2)


def test_long_queries_are_refused_with_a_short_echo(loaded: Lawwatch) -> None:
    words = " ".join(f"w{n}" for n in range(MAX_QUERY_WORDS + 1))
    line = loaded.error("search", words, code=1)
    assert f"at most {MAX_QUERY_WORDS} words and {MAX_QUERY_BYTES} bytes" in line
    assert "w0 w1" in line and f"w{MAX_QUERY_WORDS}" not in line and len(line) < 250
    huge = "sanctuary" + "x" * 100_000
    line = loaded.error("search", huge, code=1)
    assert "query too long" in line and len(line) < 250
    assert loaded.hits(" ".join(["1373"] * MAX_QUERY_WORDS)) == loaded.hits("1373")  # the cap itself is allowed


def test_a_place_taken_by_prominence_is_said_on_stderr(narrow: Lawwatch) -> None:
    result = narrow("search", "--jurisdiction", "Cook County", "sanctuary")
    assert "note: 'Cook County' taken as Cook County, IL (fips:17031)" in result.stderr
    assert "note:" not in narrow("search", "--jurisdiction", "Cook County, IL", "sanctuary").stderr
    assert "note:" not in narrow("search", "sanctuary").stderr


def test_a_search_without_places_or_statutes_does_not_load_the_classifier(narrow: Lawwatch) -> None:
    """Start-up (issue 15): the gazetteer and the classifier's ~150 regexes load only for a place or a statute."""
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['lawwatch', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('lawwatch', run_name='__main__')\n"
        "except SystemExit as done:\n    assert not done.code, done.code\n"
        "print('LOADED' if 'lawwatch.pipeline.classify' in sys.modules else 'NOT LOADED')\n"
    )
    settings = str(narrow.config)

    def loads(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe, "--config", settings, "search", *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip().splitlines()[-1]

    assert loads("sanctuary") == "NOT LOADED"
    assert loads("--type", "letter", "--since", "2017", "sanctuary") == "NOT LOADED"
    assert loads("--jurisdiction", "Chicago, IL", "sanctuary") == "LOADED"  # the control: a place needs it
