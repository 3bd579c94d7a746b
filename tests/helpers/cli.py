"""Running ``lawwatch`` in-process with click's CliRunner (stdout and stderr apart), against a settings file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lawwatch.cli import cli
from tests.conftest import EXAMPLES

SAMPLE = EXAMPLES / "import" / "doj_api_sample.jsonl"  # 8 DOJ releases (2013–2018) and 4 bad lines


class Lawwatch:
    """``lawwatch --config <tmp>/settings.toml …`` with ``[archive] url = db_url`` (plus ``extra`` TOML)."""

    def __init__(self, tmp_path: Path, db_url: str, extra: str = "", env: Mapping[str, str] | None = None) -> None:
        self.config = tmp_path / "settings.toml"
        self.config.write_text(f'[archive]\nurl = "{db_url}"\n{extra}', encoding="utf-8")
        self.runner = CliRunner(env=dict(env or {}))

    def run(self, *args: str) -> Result:
        """The command's result, whatever its exit code (exceptions are not caught: a traceback fails the test)."""
        return self.runner.invoke(cli, ["--config", str(self.config), *args], catch_exceptions=False)

    def __call__(self, *args: str, code: int = 0) -> Result:
        result = self.run(*args)
        assert result.exit_code == code, (result.exit_code, result.output, result.stderr)
        return result

    def json(self, *args: str) -> object:
        return json.loads(self(*args, "--json").stdout)

    def hits(self, *args: str) -> list[int]:
        """The ids ``search … --json --limit 1000`` finds, in its order."""
        data = self.json("search", *args, "--limit", "1000")
        assert isinstance(data, dict)
        return [hit["id"] for hit in data["hits"]]

    def error(self, *args: str, code: int | None = None) -> str:
        """The one error line of a failing command (asserted: exit ≠ 0, or ``code``; one line; no traceback)."""
        result = self.run(*args)
        assert_one_line_error(result, code)
        return result.stderr.rstrip("\n")


def assert_one_line_error(result: Result, code: int | None = None) -> None:
    """A failed command: exit code ≠ 0 (or ``code``), exactly one line on stderr starting "Error: ", no traceback."""
    assert result.exit_code != 0, (result.output, result.stderr)
    if code is not None:
        assert result.exit_code == code, (result.exit_code, result.stderr)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An archive URL on each backend: a SQLite file not created yet, or a fresh PostgreSQL schema.

    Import it into a test module (``from tests.helpers.cli import db_url``) to use it."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'archive.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def loaded(db_url: str, tmp_path: Path) -> Lawwatch:
    """``lawwatch`` on an archive (each backend) holding the 8 documents of ``SAMPLE``."""
    lawwatch = Lawwatch(tmp_path, db_url)
    lawwatch("import", str(SAMPLE))
    return lawwatch
