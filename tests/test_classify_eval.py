"""The labelled evaluation set: metrics over the whole set must reach the issue's thresholds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lawwatch.pipeline.classify.evaluate import THRESHOLDS, evaluate, labelled_documents

EXAMPLES = Path(__file__).resolve().parent / "examples" / "classify"


def test_the_set_is_large_enough_and_every_document_is_labelled() -> None:
    docs = labelled_documents(EXAMPLES)
    assert len(docs) >= 60
    types = {label["doc_type"] for _, label in docs}
    assert types == {"letter", "ruling", "lawsuit", "filing", "other"}
    for txt, label in docs:
        assert set(label) <= {
            "doc_type",
            "title",
            "form",
            "source",
            "jurisdictions",
            "allow_jurisdictions",
            "not_jurisdictions",
            "statutes",
            "not_statutes",
        }, txt.name
        assert not set(label["jurisdictions"]) & set(label.get("not_jurisdictions", [])), txt.name


def test_the_set_covers_every_statute_form_and_trap() -> None:
    texts = "\n".join(txt.read_text(encoding="utf-8") for txt, _ in labelled_documents(EXAMPLES))
    for form in [
        "8 U.S.C. § 1373",
        "8 U.S.C. 1373",
        "8 USC 1373",
        "8 U.S.C.A. § 1373",
        "Title 8, United States Code, Section 1373",
        "section 1373 of title 8",
        "Section 1373",
        "Sec. 1373",
        "§ 1373(a)",
        "§§ 1373 and 1644",
        "Sections 1373(a) and (b)",
        "$1,373",
        "1,373 cases",
        "Room 1373",
        "No. 17-1373",
        "18 U.S.C. § 1373",
        "8 U.S.C. § 1644",
        "34 U.S.C. § 10151",
        "888 F.3d 272",
        "City and County of San Francisco",
        "City and County of Denver",
        "Louisville Metro",
        "Miami-Dade County",
        "New York City",
        "NYPD",
        "Washington, D.C.",
        "Cook County, Ill.",
        "Chicago, IL",
        "Calif.",
        "N.Y.",
        "Pa.",
        "THE CITY OF PHILADELPHIA",
        "George Washington",
        "Springfield",
        "Jackson",
        "Columbia",
        "Sessions",
        "Kenney",
        "Justice Department",
        "Mobile, Alabama",
        "Washington, D.C. 20531",
        "E.D. Pa.",
        "N.D. Ill.",
        "Eastern District of Pennsylvania",
        "Ninth Circuit",
        "Seventh Circuit",
    ]:
        assert form in texts, form


def test_metrics_reach_the_thresholds() -> None:
    report = evaluate(EXAMPLES)
    print(report.table())
    assert report.passed, report.table() + "\n" + "\n".join(report.errors)
    assert report.documents >= 60


def test_a_document_without_label_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "lonely.txt").write_text("Chicago", encoding="utf-8")
    with pytest.raises(FileNotFoundError):
        evaluate(tmp_path)


def test_a_wrong_label_fails_the_thresholds(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Chicago sued under 8 U.S.C. § 1373.", encoding="utf-8")
    label = {"doc_type": "letter", "jurisdictions": ["fips:36"], "statutes": [["8", "1644", None]]}
    (tmp_path / "a.expected.json").write_text(json.dumps(label), encoding="utf-8")
    report = evaluate(tmp_path)
    assert not report.passed
    m = report.metrics
    assert m["statute_recall"] == 0.0 and m["statute_false_hits"] == 1
    assert m["jurisdiction_precision"] == 0.0 and m["doc_type_accuracy"] == 0.0
    assert set(THRESHOLDS) == set(m)
