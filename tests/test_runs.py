"""Import runs and source selection as plain functions (the CLI only wraps them)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from lawwatch.config import load_config
from lawwatch.crawler.selection import pick_sources
from lawwatch.errors import ImportFileError, ImportFormatError, UnknownSourceError, UsageError
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.models import CrawlRun
from lawwatch.pipeline.runs import import_stream
from tests.conftest import EXAMPLES

SAMPLE = EXAMPLES / "import" / "doj_api_sample.jsonl"


def test_import_stream_reports_bad_lines_and_records_the_run(sqlite_archive: Archive) -> None:
    lines: list[None] = []
    bad: list[ImportFormatError] = []
    with SAMPLE.open(encoding="utf-8") as stream:
        summary = import_stream(
            sqlite_archive,
            stream,
            file="sample.jsonl",
            fmt="doj-api",
            on_line=lambda: lines.append(None),
            on_bad_line=bad.append,
        )
    assert summary == {"file": "sample.jsonl", "format": "doj-api", "new": 8, "updated": 0, "unchanged": 0, "errors": 4}
    assert [e.line_no for e in bad] == [9, 10, 11, 13] and len(lines) == 12
    with sqlite_archive.session() as session:
        (run,) = session.scalars(select(CrawlRun)).all()
        assert (run.source, run.status, run.new, run.errors) == ("doj_api", "partial", 8, 4)
        assert run.stats == {"kind": "import", "file": "sample.jsonl", "format": "doj-api"}
        assert run.error_messages[0].startswith("line 9: ")


def test_a_file_of_only_bad_lines_is_recorded_then_refused(sqlite_archive: Archive) -> None:
    with pytest.raises(ImportFileError, match=r"^bad.jsonl: no line could be imported \(2 bad lines\)$") as caught:
        import_stream(sqlite_archive, io.StringIO("nope\n{}\n"), file="bad.jsonl", fmt="doj-api", source="mine")
    assert caught.value.file == "bad.jsonl"
    with sqlite_archive.session() as session:
        (run,) = session.scalars(select(CrawlRun)).all()
        assert (run.source, run.status, run.new, run.errors) == ("mine", "partial", 0, 2)


def test_pick_sources(tmp_path: Path) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text(
        '[[sources]]\nid = "doj_api"\nspider = "doj_api"\nbase_url = "https://www.justice.gov"\n\n'
        '[[sources]]\nid = "doj_rss"\nspider = "doj_rss"\nbase_url = "https://www.justice.gov"\n',
        encoding="utf-8",
    )
    config = load_config(settings)
    assert [s.id for s in pick_sources(config, ("doj_rss", "doj_api", "doj_rss"), False)] == ["doj_rss", "doj_api"]
    assert [s.id for s in pick_sources(config, (), True)] == ["doj_api", "doj_rss"]
    with pytest.raises(UnknownSourceError) as caught:
        pick_sources(config, ("nope", "doj_api"), False)
    assert (caught.value.unknown, caught.value.known) == (["nope"], ["doj_api", "doj_rss"])
    assert str(caught.value) == "unknown source nope (configured: doj_api, doj_rss)"
    with pytest.raises(UsageError, match="not both"):
        pick_sources(config, ("doj_api",), True)
    with pytest.raises(UsageError, match="say which sources"):
        pick_sources(config, (), False)
