"""The command line starts fast: the CLI modules import their heavy dependencies only inside the commands.

No timings here (those are in bench/startup_bench.py): these tests check which modules a start-up imports.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lawwatch.pipeline.db import open_archive

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lawwatch"
HEAVY = {"sqlalchemy", "alembic", "rich", "scrapy", "twisted", "lxml", "juriscraper", "apscheduler", "eyecite"}


_PROBE = """
import json, sys
code, heavy, sys.argv = sys.argv[1], set(json.loads(sys.argv[2])), ["lawwatch", *sys.argv[3:]]
try:
    exec(code)
except SystemExit:
    pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & heavy)), file=sys.stderr)
"""


def _imported_after(code: str, *argv: str) -> set[str]:
    """The packages of HEAVY that are imported after running ``code`` with ``sys.argv[1:] == argv``."""
    args = [sys.executable, "-c", _PROBE, code, json.dumps(sorted(HEAVY)), *argv]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.stderr.strip(), done
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_importing_the_command_line_imports_nothing_heavy() -> None:
    assert _imported_after("import lawwatch.cli") == set()


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["search", "--help"], ["crawl", "--help"]])
def test_version_and_help_import_nothing_heavy(argv: list[str]) -> None:
    assert _imported_after("from lawwatch.cli import main; main()", *argv) == set()


def test_search_imports_neither_alembic_nor_scrapy_nor_the_classifier(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    open_archive(url).dispose()
    settings = tmp_path / "settings.toml"
    settings.write_text(f'[archive]\nurl = "{url}"\n', encoding="utf-8")
    imported = _imported_after("from lawwatch.cli import main; main()", "--config", str(settings), "search", "x")
    assert "sqlalchemy" in imported  # it did search
    assert not imported & {"alembic", "scrapy", "twisted", "juriscraper", "eyecite"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_cli_package_imports_click_or_rich() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted(PACKAGE.rglob("*.py"))
        if PACKAGE / "cli" not in path.parents and _imports(path) & {"click", "rich"}
    ]
    assert offenders == []
