"""Evaluation of the classifier over a directory of labelled documents.

Each document ``NAME.txt`` has a label file ``NAME.expected.json``::

    {"doc_type": "letter",
     "title": "optional title passed to classify",
     "jurisdictions": ["fips:1714000", "fips:17031"],     # must be found
     "allow_jurisdictions": ["fips:11"],                  # may be found (neither right nor wrong)
     "not_jurisdictions": ["fips:53"],                    # must not be found (documents the trap)
     "statutes": [["8", "1373", null]],                   # must be found: [title, section, subsection]
     "not_statutes": [["8", "1373", null]]}               # must not be found

Jurisdiction labels are exhaustive: a found id that is neither required nor allowed is a false positive. Only
*named* tags are compared: a locator (a state that only qualifies a place, "Gary, Ind.") says where a place is,
not what the document is about, so it is neither found nor wrong, whatever the labels say of its id.
Statutes are compared as (title, section, subsection) sets; a found citation that is not required is a false hit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lawwatch.pipeline.classify.jurisdictions import NAMED

THRESHOLDS = {
    "statute_recall": 1.0,
    "statute_false_hits": 0,
    "jurisdiction_precision": 0.95,
    "jurisdiction_recall": 0.95,
    "doc_type_accuracy": 0.9,
}


@dataclass
class Report:
    documents: int = 0
    statute_tp: int = 0
    statute_fn: int = 0
    statute_fp: int = 0
    jur_tp: int = 0
    jur_fn: int = 0
    jur_fp: int = 0
    doc_type_ok: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def metrics(self) -> dict[str, float]:
        def ratio(a: int, b: int) -> float:
            return a / b if b else 1.0

        return {
            "statute_recall": ratio(self.statute_tp, self.statute_tp + self.statute_fn),
            "statute_false_hits": float(self.statute_fp),
            "jurisdiction_precision": ratio(self.jur_tp, self.jur_tp + self.jur_fp),
            "jurisdiction_recall": ratio(self.jur_tp, self.jur_tp + self.jur_fn),
            "doc_type_accuracy": ratio(self.doc_type_ok, self.documents),
        }

    @property
    def passed(self) -> bool:
        m = self.metrics
        return all(m[k] <= v if k == "statute_false_hits" else m[k] >= v for k, v in THRESHOLDS.items())

    def table(self) -> str:
        rows = [f"{'metric':<26}{'value':>10}{'threshold':>12}  ok", "-" * 52]
        for k, v in self.metrics.items():
            t = THRESHOLDS[k]
            ok = v <= t if k == "statute_false_hits" else v >= t
            value = f"{int(v)}" if k == "statute_false_hits" else f"{v:.3f}"
            bound = f"<= {t}" if k == "statute_false_hits" else f">= {t}"
            rows.append(f"{k:<26}{value:>10}{bound:>12}  {'yes' if ok else 'NO'}")
        rows.append(f"documents: {self.documents}")
        return "\n".join(rows)


def labelled_documents(directory: Path) -> list[tuple[Path, dict[str, Any]]]:
    """(text file, label) pairs; a text without a label file is an error, not a silent skip."""
    out = []
    for txt in sorted(directory.glob("*.txt")):
        label_file = txt.with_name(txt.stem + ".expected.json")
        if not label_file.exists():
            raise FileNotFoundError(f"no label file {label_file.name} for {txt.name}")
        out.append((txt, json.loads(label_file.read_text(encoding="utf-8"))))
    return out


def _key(s: list[Any] | tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(s)


def evaluate(directory: Path) -> Report:
    from lawwatch.pipeline.classify import classify

    report = Report()
    for txt, label in labelled_documents(directory):
        result = classify(txt.read_text(encoding="utf-8"), title=label.get("title"), form=label.get("form"))
        report.documents += 1
        name = txt.name
        if result.doc_type == label["doc_type"]:
            report.doc_type_ok += 1
        else:
            report.errors.append(f"{name}: doc_type {result.doc_type} != {label['doc_type']}")
        found = {(s.title, s.section, s.subsection) for s in result.statutes}
        want = {_key(s) for s in label.get("statutes", [])}
        banned = {_key(s) for s in label.get("not_statutes", [])}
        report.statute_tp += len(want & found)
        report.statute_fn += len(want - found)
        wrong = (found - want) | (found & banned)
        report.statute_fp += len(wrong)
        if want - found or wrong:
            report.errors.append(
                f"{name}: statutes missing {sorted(want - found, key=str)} wrong {sorted(wrong, key=str)}"
            )
        ids = {j.id for j in result.jurisdictions if j.role == NAMED}  # locators are not subjects: not compared
        need = set(label.get("jurisdictions", []))
        allowed = need | set(label.get("allow_jurisdictions", []))
        fp = (ids - allowed) | (ids & set(label.get("not_jurisdictions", [])))
        report.jur_tp += len(ids & need)
        report.jur_fn += len(need - ids)
        report.jur_fp += len(fp)
        if need - ids or fp:
            report.errors.append(f"{name}: jurisdictions missing {sorted(need - ids)} wrong {sorted(fp)}")
    return report
