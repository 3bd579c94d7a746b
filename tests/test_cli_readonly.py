"""Commands that only read never create an archive; archive URLs that cannot work are one line (issue 9)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers.cli import SAMPLE, Lawwatch

READERS = [
    ["search", "sanctuary"],
    ["search", ""],
    ["show", "1"],
    ["export"],
    ["export", "--format", "csv"],
    ["status"],
    ["reclassify", "--all"],
    ["alerts", "status"],
    ["alerts", "list"],
    ["alerts", "preview", "1"],
]


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("args", READERS, ids=[" ".join(a) or "-" for a in READERS])
def test_read_only_commands_never_create_an_archive(tmp_path: Path, args: list[str]) -> None:
    missing = tmp_path / "var" / "deeper" / "lawwatch.db"
    lawwatch = Lawwatch(tmp_path, f"sqlite:///{missing}")
    line = lawwatch.error(*args, code=1)
    assert line == f"Error: no archive at {missing}; run `lawwatch crawl` or set archive.url"
    assert _tree(tmp_path) == ["settings.toml"]  # no file, no folder


def test_a_relative_sqlite_path_is_named_in_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    lawwatch = Lawwatch(tmp_path, "sqlite:///var/lawwatch.db")
    assert f"no archive at {tmp_path / 'var' / 'lawwatch.db'};" in lawwatch.error("search", "x")
    assert lawwatch("config", "show").stdout  # settings only: no archive needed
    assert _tree(tmp_path) == ["settings.toml"]


def test_writing_commands_create_the_archive_readers_then_find_it(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "lawwatch.db"
    lawwatch = Lawwatch(tmp_path, f"sqlite:///{path}")
    lawwatch("import", str(SAMPLE))
    assert path.is_file()
    assert len(lawwatch.hits("")) == 8
    other = tmp_path / "other.db"
    Lawwatch(tmp_path, f"sqlite:///{other}")("db", "upgrade")
    assert other.is_file()


def test_a_tilde_in_a_sqlite_path_is_the_home_folder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    lawwatch = Lawwatch(tmp_path, "sqlite:///~/lawwatch/archive.db", env={"HOME": str(home)})
    old_cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert f"no archive at {home / 'lawwatch' / 'archive.db'};" in lawwatch.error("status")
        lawwatch("db", "upgrade")
    finally:
        os.chdir(old_cwd)
    assert (home / "lawwatch" / "archive.db").is_file()
    assert not (tmp_path / "~").exists()


@pytest.mark.parametrize("command", [["db", "upgrade"], ["import", str(SAMPLE)], ["search", "x"], ["status"]])
def test_sqlite_paths_that_cannot_be_an_archive_are_one_line(tmp_path: Path, command: list[str]) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder", encoding="utf-8")
    for url, message in (
        (f"sqlite:///{a_file}/archive.db", f"{a_file} is a file, not a folder"),
        ("sqlite:////proc/lawwatch/archive.db", "/proc/lawwatch/archive.db"),
        (f"sqlite:///{tmp_path}", "is not a file"),  # a folder
    ):
        line = Lawwatch(tmp_path, url).error(*command, code=1)
        assert message in line or "no archive at" in line
    assert a_file.read_text(encoding="utf-8") == "not a folder"


@pytest.mark.parametrize("command", [["db", "upgrade"], ["search", "x"], ["status"], ["import", str(SAMPLE)]])
def test_a_postgres_url_with_a_placeholder_host_is_one_line(tmp_path: Path, command: list[str]) -> None:
    lawwatch = Lawwatch(tmp_path, "postgresql://user@host.invalid/db")
    line = lawwatch.error(*command, code=1)
    assert line.startswith("Error: cannot open the archive: OperationalError: ") and "host.invalid" in line
