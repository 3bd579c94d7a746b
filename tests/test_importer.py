from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from lawwatch.errors import ImportFormatError
from lawwatch.pipeline.importer import read_jsonl
from lawwatch.pipeline.normalize import NormalizedDocument
from tests.conftest import EXAMPLES

SAMPLES = EXAMPLES / "import"


def _split(
    items: list[NormalizedDocument | ImportFormatError],
) -> tuple[list[NormalizedDocument], list[ImportFormatError]]:
    docs = [i for i in items if isinstance(i, NormalizedDocument)]
    errors = [i for i in items if isinstance(i, ImportFormatError)]
    return docs, errors


def test_doj_api_records_and_bad_lines() -> None:
    with open(SAMPLES / "doj_api_sample.jsonl", encoding="utf-8") as stream:
        docs, errors = _split(list(read_jsonl(stream, "doj-api")))
    assert len(docs) == 8
    assert [(e.line_no, e.message.split(":")[0]) for e in errors] == [
        (9, "not a doj-api record"),
        (10, "not JSON (Expecting value at column 1)"),
        (11, "expected a JSON object, got list"),
        (13, "not a doj-api record"),
    ]
    assert "missing 'title'" in errors[-1].message
    first = docs[0]
    assert first.source == "doj_api" and first.external_id == "1" and first.form == "press_release"
    assert first.url and first.url.startswith("https://www.justice.gov/interpol-washington/pr/")
    assert first.published_at == datetime.fromtimestamp(1368676800, UTC)
    assert "Shilo Watts" in first.body_text and "<p>" not in first.body_text
    letters = docs[3]
    assert letters.external_id and len(letters.external_id) == 36  # the API's uuid wins over id
    assert letters.metadata["topics"] == ["Immigration", "Grants"]
    assert letters.metadata["components"] == ["Office of the Attorney General"]


def test_doj_dataset_records() -> None:
    with open(SAMPLES / "doj_dataset_sample.jsonl", encoding="utf-8") as stream:
        docs, errors = _split(list(read_jsonl(stream, "doj-dataset", source="backfill")))
    assert len(docs) == 2 and len(errors) == 1 and errors[0].line_no == 3
    assert docs[0].source == "backfill" and docs[0].url is None and docs[0].external_id == "17-1143"
    assert docs[0].published_at == datetime(2017, 11, 15, 5, tzinfo=UTC)
    assert docs[0].body_text.splitlines()[1] == "The letters ask for a response by December 8, 2017."


def test_lawwatch_format_keeps_each_records_source() -> None:
    line = (
        '{"source": "pacer_rss", "url": "https://ecf.paed.uscourts.gov/doc1/1", "external_id": "e1", '
        '"title": "ORDER", "body_text": "Order granting motion.", "published_at": "2017-11-15T00:00:00+00:00", '
        '"fetched_at": "2017-11-16T00:00:00+00:00", "form": "order", "metadata": {"court": "paed"}}\n'
    )
    (doc,) = list(read_jsonl(io.StringIO(line), "lawwatch"))
    assert isinstance(doc, NormalizedDocument)
    assert (doc.source, doc.form, dict(doc.metadata)) == ("pacer_rss", "order", {"court": "paed"})
    assert doc.fetched_at == datetime(2017, 11, 16, tzinfo=UTC)


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown import format"):
        list(read_jsonl(io.StringIO(""), "csv"))  # type: ignore[arg-type]
