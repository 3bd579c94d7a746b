"""Every command with a table of hostile arguments, on SQLite and PostgreSQL (issue 9): each must fail with exit
code ≠ 0, exactly one line on standard error, no traceback, and at most a short prefix of the input echoed.

The table runs in-process (CliRunner keeps stderr apart); a few cases run the real entry point in a subprocess.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lawwatch.errors import SHOWN_INPUT
from tests.helpers.cli import Lawwatch, assert_one_line_error, db_url, loaded

__all__ = ["db_url", "loaded"]  # fixtures

HUGE = "x" * 100_000
INT64_OVER = str(2**63)
LATE = "9999-12-31T23:59:59-05:00"  # after 9999 in UTC
EARLY = "0001-01-01T00:00:00+14:00"  # before year 1 in UTC
_DOJ_RSS = '[[sources]]\nid = "doj_rss"\nspider = "doj_rss"\nbase_url = "https://www.justice.gov"\n'

HOSTILE: list[list[str]] = [
    # search
    ["search", "x", "--since", LATE],
    ["search", "x", "--until", EARLY],
    ["search", "x", "--since", "someday"],
    ["search", "x", "--until", HUGE],
    ["search", "x", "--offset", INT64_OVER],
    ["search", "x", "--offset", "-1"],
    ["search", "x", "--limit", "99999999999999999999"],
    ["search", "x", "--limit", "0"],
    ["search", "x", "--order", "random"],
    ["search", "x", "--jurisdiction", "Springfield"],
    ["search", "x", "--jurisdiction", "Columbus"],
    ["search", "x", "--jurisdiction", "Chicgo"],
    ["search", "x", "--jurisdiction", HUGE],
    ["search", "x", "--jurisdiction", ""],
    ["search", "x", "--statute", "the constitution"],
    ["search", "x", "--statute", HUGE],
    ["search", "x", "--source", "nosuch"],
    ["search", "x", "--source", HUGE],
    ["search", "x", "--type", "memo"],
    ["search", '"unbalanced'],
    ["search", "OR"],
    ["search", "-texas"],
    ["search", "w " * 5_000],
    ["search", HUGE],
    ["search", "x", "--json", "--csv"],
    ["search", "x", "--nope"],
    # show
    ["show", INT64_OVER],
    ["show", str(2**63 - 1)],
    ["show", "0"],
    ["show", "abc"],
    ["show", "999999"],
    ["show"],
    # export
    ["export", "-o", "missing/dir/file.jsonl"],
    ["export", "--since", LATE],
    ["export", "--until", EARLY],
    ["export", "--source", "nosuch"],
    ["export", "--format", "xml"],
    ["export", "--jurisdiction", "Springfield"],
    ["export", "-o", "."],
    # status
    ["status", "--nope"],
    ["status", "extra"],
    # reclassify
    ["reclassify"],
    ["reclassify", "--since", LATE],
    ["reclassify", "--since", "someday"],
    ["reclassify", "--source", "nosuch"],
    # db upgrade
    ["db", "upgrade", "extra"],
    ["db", "downgrade"],
    # alerts
    ["alerts", "list", "--since", "someday"],
    ["alerts", "list", "--since", LATE],
    ["alerts", "list", "--limit", "0"],
    ["alerts", "preview", INT64_OVER],
    ["alerts", "preview", str(2**31)],  # past PostgreSQL's 32-bit id column: "no document", not a DataError
    # the group
    ["nosuchcommand"],
    ["--nope"],
]


def _config_files(tmp_path: Path, db_url: str) -> list[list[str]]:
    """``--config FILE config check`` (and ``import``) cases with broken settings or input files."""
    archive = f'[archive]\nurl = "{db_url}"\n'
    target = '[[alerts.targets]]\nname = "hook"\ntype = "webhook"\nurl = "http://127.0.0.1:9/hook"\n'
    files = {
        "unknown-key.toml": archive + "nope = 1\n",
        "place-typo.toml": archive + target + '[[alerts.rules]]\nname = "r"\njurisdictions = ["Chicgo"]\n'
        'targets = ["hook"]\n',
        "ambiguous-place.toml": archive + target + '[[alerts.rules]]\nname = "r"\njurisdictions = ["Springfield"]\n'
        'targets = ["hook"]\n',
        "statute-typo.toml": archive + target + '[[alerts.rules]]\nname = "r"\nstatutes = ["8 U.S.C. 13x73"]\n'
        'targets = ["hook"]\n',
        "not-toml.toml": "[archive\n",
    }
    cases = []
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        cases.append(["--config", str(tmp_path / name), "config", "check"])
    cases.append(["--config", str(tmp_path / "missing.toml"), "config", "check"])
    bad = tmp_path / "bad.jsonl"
    bad.write_text("nope\n{}\n", encoding="utf-8")
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(bytes(range(256)) * 8)
    cases += [["import", str(bad)], ["import", str(binary)], ["import", str(tmp_path / "missing.jsonl")]]
    cases += [["import", str(tmp_path)]]
    return cases


def test_hostile_arguments_fail_in_one_line(loaded: Lawwatch, tmp_path: Path, db_url: str) -> None:
    problems = []
    for args in HOSTILE + _config_files(tmp_path, db_url):
        result = loaded.run(*args)
        try:
            assert_one_line_error(result)
        except AssertionError:
            problems.append(f"{[a[:40] for a in args]}: exit {result.exit_code}, stderr {result.stderr[:300]!r}")
            continue
        if any(len(a) > 1000 for a in args):  # never more than a short prefix of the input in the error
            assert "x" * (SHOWN_INPUT + 1) not in result.stderr and "w " * 100 not in result.stderr, args
    assert not problems, "\n".join(problems)
    assert not (tmp_path / "missing").exists()


def test_unknown_sources_list_the_known_ones(loaded: Lawwatch, tmp_path: Path, db_url: str) -> None:
    known = "(known sources: doj_api)"  # none configured here; doj_api is in the archive
    for args in (["search", "x"], ["export"], ["reclassify"]):
        assert loaded.error(*args, "--source", "nosuch", code=2).startswith(f"Error: unknown source 'nosuch' {known}")
    (tmp_path / "other").mkdir()
    configured = Lawwatch(tmp_path / "other", db_url, extra=_DOJ_RSS)
    line = configured.error("search", "x", "--source", "doj_api", "--source", "nope", code=2)
    assert "unknown source 'nope' (known sources: doj_api, doj_rss)" in line
    assert configured.hits("", "--source", "doj_rss") == []  # configured, nothing stored yet: not an error
    assert len(loaded.hits("", "--source", "doj_api")) == 8


@pytest.mark.parametrize(
    "args",
    [
        ["search", "x", "--offset", INT64_OVER],
        ["show", INT64_OVER],
        ["export", "-o", "missing/dir/file"],
    ],
)
def test_the_real_entry_point_prints_one_line(tmp_path: Path, args: list[str]) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text(f'[archive]\nurl = "sqlite:///{tmp_path / "archive.db"}"\n', encoding="utf-8")
    Lawwatch(tmp_path, f"sqlite:///{tmp_path / 'archive.db'}")("db", "upgrade")
    done = subprocess.run(
        [sys.executable, "-m", "lawwatch", "--config", str(settings), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("Error: "), done.stderr


def test_the_largest_numbers_are_exact(loaded: Lawwatch) -> None:
    biggest = str(2**63 - 1)
    assert loaded.error("show", biggest, code=1) == f"Error: no document with id {biggest}"
    for query in ("", "1373"):
        data = loaded.json("search", query, "--offset", biggest)
        assert isinstance(data, dict) and data["hits"] == []
    assert "is not in the range 0<=x<=9223372036854775807" in loaded.error("search", "x", "--offset", INT64_OVER)


def test_ids_past_the_id_column_are_simply_not_there(loaded: Lawwatch) -> None:
    """PostgreSQL's documents.id is 32 bits: a larger id is "no document", never the database's range error."""
    for args in (["show", str(2**31)], ["alerts", "preview", str(2**31)]):
        assert "no document with id 2147483648" in loaded.error(*args, code=1)
