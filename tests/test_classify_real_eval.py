"""The real-document evaluation set (issue 13): real court papers and real news or press texts, labelled by hand
before the rules were changed, each with its provenance; scored apart from the written set. This is the honest
figure: the written set (``tests/examples/classify/``) is the development set the rules were first written on.
(Since issue 13's rules were written with it, the held-out ``hold_*`` entries are the only part never tuned on.)

Two guards: the metrics must reach the issue's targets, and every document must give exactly its recorded outcome
(``OUTCOMES.json``; rewritten only by ``.venv/bin/python -m tests.helpers.classify_outcomes``, never by a test)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lawwatch.pipeline.classify import doctype, names
from lawwatch.pipeline.classify.evaluate import evaluate, labelled_documents
from tests.helpers.classify_outcomes import OUTCOMES, changes, outcomes, stored, unchanged_or_why

REAL = Path(__file__).resolve().parent / "examples" / "classify_real"
LABEL_KEYS = {
    "doc_type",
    "title",
    "form",
    "source",
    "jurisdictions",
    "allow_jurisdictions",
    "not_jurisdictions",
    "statutes",
    "not_statutes",
}


def _provenance() -> dict[str, tuple[str, str]]:
    """File name -> (kind, source) from PROVENANCE.md's table."""
    rows = {}
    for line in (REAL / "PROVENANCE.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"\| `([^`]+\.txt)` \| ([^|]+) \| (.+) \|$", line)
        if m:
            rows[m.group(1)] = (m.group(2).strip(), m.group(3).strip())
    return rows


def test_every_document_has_a_label_and_a_provenance_and_is_an_excerpt() -> None:
    docs = labelled_documents(REAL)
    provenance = _provenance()
    assert sorted(txt.name for txt, _ in docs) == sorted(provenance)
    for txt, label in docs:
        assert set(label) <= LABEL_KEYS, txt.name
        assert label["source"] == provenance[txt.name][1], txt.name
        assert not set(label["jurisdictions"]) & set(label.get("not_jurisdictions", [])), txt.name
        assert len(txt.read_bytes()) <= 6000, f"{txt.name}: an excerpt, a few KB at most"


def test_the_set_holds_forty_court_documents_and_twenty_news_or_press_texts() -> None:
    kinds = [kind for kind, _ in _provenance().values()]
    assert sum(k.startswith("court") for k in kinds) >= 40
    assert sum(k == "news/press" for k in kinds) >= 20
    types = {label["doc_type"] for _, label in labelled_documents(REAL)}
    assert {"ruling", "lawsuit", "filing", "letter"} <= types


def test_the_real_set_reaches_the_issue_targets() -> None:
    report = evaluate(REAL)
    m = report.metrics
    detail = report.table() + "\n" + "\n".join(report.errors)
    assert m["doc_type_accuracy"] >= 0.95, detail
    assert m["jurisdiction_recall"] >= 0.95 and m["jurisdiction_precision"] >= 0.95, detail
    assert m["statute_recall"] == 1.0 and m["statute_false_hits"] == 0, detail


def test_every_document_gives_exactly_its_recorded_outcome() -> None:
    why = unchanged_or_why(REAL)
    if why:
        pytest.fail(why, pytrace=False)


def test_the_outcome_file_lists_every_document() -> None:
    assert sorted(stored(REAL)) == sorted(txt.name for txt, _ in labelled_documents(REAL))


def _guard_catches(expected_docs: set[str]) -> None:
    assert evaluate(REAL).passed  # the thresholds let the change pass: the gap the outcome guard closes
    diff = changes(stored(REAL), outcomes(REAL))
    assert {line.split(":")[0] for line in diff} == expected_docs, diff
    with pytest.raises(
        pytest.fail.Exception, match=re.escape(f"change(s) against tests/examples/classify_real/{OUTCOMES}")
    ):
        test_every_document_gives_exactly_its_recorded_outcome()


def test_removing_the_docket_filer_rule_fails_the_outcome_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the rule that a docket entry's filer "(Ferguson, John)" is a person, two entries gain a place."""
    monkeypatch.setattr(names, "_FILER", re.compile(r"(?!x)x"))
    _guard_catches({"nef_deb_adversary_complaint.txt", "nef_txwd_response_opposition.txt"})


def test_removing_a_doc_type_cue_fails_the_outcome_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the letter cue "sent ... letters", two news stories about the DOJ letters are typed otherwise."""
    prefix = "sen(?:t|ds|ding) "
    cue = next((i for i, c in enumerate(doctype._COMPILED_CUES) if c.rx.pattern.startswith(prefix)), None)
    assert cue is not None, f"no doc-type cue starts with {prefix!r}: pick another cue for this check"
    without = {anchor: [i for i in ids if i != cue] for anchor, ids in doctype._BY_ANCHOR.items()}
    monkeypatch.setattr(doctype, "_BY_ANCHOR", without)
    _guard_catches({"news_doj_letters_29_jurisdictions_list.txt", "news_speroforum_doj_letters_23_jurisdictions.txt"})
