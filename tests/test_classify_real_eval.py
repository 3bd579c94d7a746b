"""The real-document evaluation set (issue 13): real court papers and real news or press texts, labelled by hand
before the rules were changed, each with its provenance; scored apart from the written set."""

from __future__ import annotations

import re
from pathlib import Path

from lawwatch.pipeline.classify.evaluate import evaluate, labelled_documents

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
