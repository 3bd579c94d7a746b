"""Issue 9: the help of `import`, `crawl` and `classify` (every option explained, examples shown as blocks) and
shell completion, documented in README.md and working."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from lawwatch.cli import cli

ROOT = Path(__file__).resolve().parent.parent
OWNED = ("import", "crawl", "classify")


@pytest.mark.parametrize("name", OWNED)
def test_every_option_has_help(name: str) -> None:
    command = cli.commands[name]
    missing = [p.name for p in command.params if isinstance(p, click.Option) and not p.help]
    assert missing == [], f"`lawwatch {name}` options without help: {missing}"


@pytest.mark.parametrize("name", OWNED)
def test_the_example_is_a_block(name: str) -> None:
    shown = CliRunner().invoke(cli, [name, "--help"], terminal_width=80).output
    example = shown.split("Example:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(example) >= 2 and all(line.startswith("    lawwatch ") or "| lawwatch" in line for line in example)


def test_classify_help_keeps_its_example_lines() -> None:
    shown = CliRunner().invoke(cli, ["classify", "--help"], terminal_width=80).output
    assert "\n    lawwatch classify order.txt letter.txt\n" in shown  # before: one re-wrapped paragraph
    assert "\n    lawwatch classify --eval tests/examples/classify\n" in shown
    assert "tests/examples/classify" in shown and (ROOT / "tests" / "examples" / "classify").is_dir()


def test_shell_completion_is_documented_and_works() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "_LAWWATCH_COMPLETE=bash_source lawwatch" in readme
    env = {
        **os.environ,
        "_LAWWATCH_COMPLETE": "bash_complete",
        "COMP_WORDS": "lawwatch import --format ",
        "COMP_CWORD": "3",
    }
    done = subprocess.run(
        [sys.executable, "-c", "from lawwatch.cli import main; main()"], env=env, capture_output=True, text=True
    )
    assert done.stdout.split() == ["plain,doj-api", "plain,doj-dataset", "plain,lawwatch"], done.stderr
