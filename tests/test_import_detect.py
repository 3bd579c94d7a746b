"""Issue 9: an import never stores empty bodies because of a wrong format. The format is told from the first lines
when --format is not given; a given format whose fields the lines lack is refused (bad lines, or one error naming
the format the lines look like)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import Result

from lawwatch.cli import cli
from lawwatch.errors import ImportFileError, ImportFormatError, UsageError
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.importer import read_jsonl, sniff
from lawwatch.pipeline.runs import import_stream
from tests.conftest import EXAMPLES
from tests.helpers.crawl import rows
from tests.test_cli import Lawwatch

SAMPLES = EXAMPLES / "import"
DATASET = SAMPLES / "doj_dataset_sample.jsonl"
DATASET_CORPUS = SAMPLES / "doj_dataset_corpus.jsonl"
API_CORPUS = SAMPLES / "doj_api_corpus.jsonl"


class Cli(Lawwatch):
    """``Lawwatch`` (tests/test_cli.py) with standard input."""

    def __call__(self, *args: str, code: int = 0, input: str | None = None) -> Result:  # noqa: A002 - click's name
        result = self.runner.invoke(cli, ["--config", str(self.config), *args], input=input, catch_exceptions=False)
        assert result.exit_code == code, (result.exit_code, result.output, result.stderr)
        return result


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'archive.db'}"


@pytest.fixture
def lawwatch(tmp_path: Path, db_url: str) -> Cli:
    return Cli(tmp_path, db_url)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_the_format_is_told_by_the_text_field() -> None:
    assert sniff(_lines(API_CORPUS)) == "doj-api"
    assert sniff(_lines(SAMPLES / "doj_api_sample.jsonl")) == "doj-api"  # bad lines among them do not matter
    assert sniff(_lines(DATASET)) == "doj-dataset"
    assert sniff(_lines(DATASET_CORPUS)) == "doj-dataset"
    export = json.dumps({"source": "doj_api", "title": "T", "body_text": "Text", "url": "https://x.gov/1"})
    assert sniff([export]) == "lawwatch"
    assert sniff(["not json", "[1]", '{"title": "no text field"}']) is None


def test_the_dataset_without_format_is_imported_as_the_dataset_with_its_text(lawwatch: Cli, db_url: str) -> None:
    # before: read as doj-api by default, "2 new, 1 bad lines" with two empty bodies
    result = lawwatch("import", str(DATASET_CORPUS), str(DATASET))
    assert f"imported {DATASET} (format doj-dataset, told from its lines): 2 new" in result.stdout
    assert "line 3: not a doj-dataset record: missing 'title', 'contents'" in " ".join(result.stderr.split())
    stored = rows(db_url, "SELECT source, title, body_text FROM documents ORDER BY id")
    assert len(stored) == 7
    assert {source for source, _, _ in stored} == {"doj_dataset"}
    assert all(len(body.strip()) > 20 for _, _, body in stored), [t for _, t, b in stored if len(b.strip()) <= 20]
    assert "Sulejman Mujagic" in stored[0][2]


def test_a_format_that_does_not_fit_is_one_error_naming_the_right_one(lawwatch: Cli, db_url: str) -> None:
    result = lawwatch("import", str(DATASET_CORPUS), "--format", "doj-api", code=2)
    assert (
        f"Error: {DATASET_CORPUS}: these lines look like doj-dataset, not doj-api; use --format doj-dataset"
        in result.stderr
    )
    assert "Traceback" not in result.output
    assert rows(db_url, "SELECT count(*) FROM documents") == [(0,)]
    result = lawwatch("import", str(API_CORPUS), "--format", "doj-dataset", code=2)
    assert "these lines look like doj-api, not doj-dataset; use --format doj-api" in result.stderr


def test_lines_without_the_formats_text_are_bad_lines(sqlite_archive: Archive) -> None:
    api = _lines(API_CORPUS)
    no_body = json.dumps({"id": 7, "title": "A release without a body", "date": "1368676800"}) + "\n"
    empty_html = json.dumps({"id": 8, "title": "Only markup", "date": "1368676800", "body": "<p> </p>"}) + "\n"
    bad: list[ImportFormatError] = []
    summary = import_stream(
        sqlite_archive, io.StringIO("".join([*api, no_body, empty_html])), file="x.jsonl", on_bad_line=bad.append
    )
    assert (summary["format"], summary["new"], summary["errors"]) == ("doj-api", 5, 2)
    assert [(e.line_no, e.message) for e in bad] == [
        (6, "not a doj-api record: missing 'body'"),
        (7, "not a doj-api record: its 'body' holds no text"),
    ]
    blank = '{"id": "1", "title": "Blank", "contents": "  \\n ", "date": "2017-11-15"}\n'
    (error,) = list(read_jsonl(io.StringIO(blank), "doj-dataset"))
    assert isinstance(error, ImportFormatError) and error.message.endswith("its 'contents' holds no text")
    (error,) = list(read_jsonl(io.StringIO('{"source": "s", "title": "No text"}\n'), "lawwatch"))
    assert isinstance(error, ImportFormatError) and error.message == "not a lawwatch record: missing 'body_text'"


def test_lines_of_no_known_format_are_refused_without_a_format(sqlite_archive: Archive, lawwatch: Cli) -> None:
    with pytest.raises(ImportFileError, match="cannot tell the format from the first lines"):
        import_stream(sqlite_archive, io.StringIO('{"title": "x", "date": "2017-01-01"}\n'), file="odd.jsonl")
    with pytest.raises(ImportFileError, match="no lines to import"):
        import_stream(sqlite_archive, io.StringIO("\n\n"), file="empty.jsonl")
    with pytest.raises(UsageError, match="use --format lawwatch"):
        export = json.dumps({"source": "doj_api", "title": "T", "body_text": "Text"}) + "\n"
        import_stream(sqlite_archive, io.StringIO(export), file="e.jsonl", fmt="doj-dataset")
    result = lawwatch("import", "-", code=1, input='{"title": "x"}\n')
    assert "-: cannot tell the format from the first lines" in result.stderr and "Traceback" not in result.output


def test_standard_input_and_an_export_are_told_apart(lawwatch: Cli, tmp_path: Path) -> None:
    summary = json.loads(lawwatch("import", "-", "--json", input=API_CORPUS.read_text("utf-8")).stdout)
    assert (summary["format"], summary["new"], summary["errors"]) == ("doj-api", 5, 0)
    exported = tmp_path / "all.jsonl"
    lawwatch("export", "-o", str(exported))
    (tmp_path / "copy").mkdir()
    other = Cli(tmp_path / "copy", f"sqlite:///{tmp_path / 'copy.db'}")
    summary = json.loads(other("import", str(exported), "--json").stdout)
    assert (summary["format"], summary["new"], summary["errors"]) == ("lawwatch", 5, 0)
