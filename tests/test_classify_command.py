"""``lawwatch classify`` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from lawwatch.cli.classify import classify

EXAMPLES = Path(__file__).resolve().parent / "examples" / "classify"


def test_files_give_one_json_line_each(tmp_path: Path) -> None:
    a = tmp_path / "order.txt"
    a.write_text("MEMORANDUM OPINION. The City of Philadelphia prevails under 8 U.S.C. § 1373.", encoding="utf-8")
    b = tmp_path / "letter.txt"
    b.write_text("The Department sent letters to Cook County, Ill.", encoding="utf-8")
    result = CliRunner().invoke(classify, [str(a), str(b)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["file"] for line in lines] == [str(a), str(b)]
    assert lines[0]["statutes"][0]["section"] == "1373"
    assert lines[1]["jurisdictions"][0]["id"] == "fips:17031"
    assert lines[1]["doc_type"] == "letter"


def test_stdin_and_title() -> None:
    result = CliRunner().invoke(classify, ["--title", "California sues", "-"], input="The State of California.")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["file"] == "-" and out["doc_type"] == "lawsuit" and out["jurisdictions"][0]["id"] == "fips:06"
    assert json.loads(CliRunner().invoke(classify, [], input="Chicago").output)["file"] == "-"


def test_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(classify, [str(tmp_path / "nope.txt")])
    assert result.exit_code == 1
    assert "cannot read" in result.output and "Traceback" not in result.output


def test_eval_prints_the_table() -> None:
    result = CliRunner().invoke(classify, ["--eval", str(EXAMPLES)])
    assert result.exit_code == 0, result.output
    for metric in ("statute_recall", "jurisdiction_precision", "jurisdiction_recall", "doc_type_accuracy"):
        assert metric in result.output


def test_eval_below_thresholds_exits_non_zero(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Chicago", encoding="utf-8")
    (tmp_path / "a.expected.json").write_text(json.dumps({"doc_type": "letter", "jurisdictions": []}))
    result = CliRunner().invoke(classify, ["--eval", str(tmp_path), "--errors"])
    assert result.exit_code == 1
    assert "NO" in result.output and "a.txt" in result.output


def test_eval_without_labels_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Chicago", encoding="utf-8")
    result = CliRunner().invoke(classify, ["--eval", str(tmp_path)])
    assert result.exit_code == 1 and "no label file" in result.output


def test_docstring_has_an_example() -> None:
    assert "Example:" in (classify.help or "")
