"""Exact per-document outcomes of the classifier on the two eval sets, and the command that regenerates them.

``OUTCOMES.json`` beside each set (``tests/examples/classify/``, the development set; ``tests/examples/classify_real/``,
the real set) records, for every document, what ``classify`` gives *now*: the document type, every jurisdiction tag
as ``[id, role]`` (``named`` or ``locator``) and every statute as ``[title, section, subsection]``. The eval tests
compare the classifier's output with that file and fail on any change of any document, showing the change; the file
is updated only deliberately, with::

    .venv/bin/python -m tests.helpers.classify_outcomes            # rewrite both files, print what changed
    .venv/bin/python -m tests.helpers.classify_outcomes --check    # print what changed, write nothing (exit 1)

Regenerate only after reading the printed change and deciding it is right; the hand-written labels
(``NAME.expected.json``) stay the judge of right and wrong, this file only freezes the current result.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lawwatch.pipeline.classify.evaluate import labelled_documents

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SETS = {"development": EXAMPLES / "classify", "real": EXAMPLES / "classify_real"}
OUTCOMES = "OUTCOMES.json"
REGENERATE = ".venv/bin/python -m tests.helpers.classify_outcomes"

Outcome = dict[str, Any]


def outcome_of(text: str, label: dict[str, Any]) -> Outcome:
    """The classifier's result for one labelled document, in the file's JSON shape (lists, sorted)."""
    from lawwatch.pipeline.classify import classify

    result = classify(text, title=label.get("title"), form=label.get("form"))
    return {
        "doc_type": result.doc_type,
        "jurisdictions": sorted([j.id, j.role] for j in result.jurisdictions),
        "statutes": [list(s) for s in sorted({(s.title, s.section, s.subsection) for s in result.statutes}, key=str)],
    }


def outcomes(directory: Path) -> dict[str, Outcome]:
    """File name -> outcome for every labelled document of ``directory``."""
    out = {}
    for txt, label in labelled_documents(directory):
        out[txt.name] = outcome_of(txt.read_text(encoding="utf-8"), label)
    return out


def stored(directory: Path) -> dict[str, Outcome]:
    data: dict[str, Outcome] = json.loads((directory / OUTCOMES).read_text(encoding="utf-8"))
    return data


def render(data: dict[str, Outcome]) -> str:
    """The file's text: one document per line, so that a change shows as a one-line diff."""
    lines = [f"  {json.dumps(name)}: {json.dumps(data[name], sort_keys=True)}" for name in sorted(data)]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def changes(old: dict[str, Outcome], new: dict[str, Outcome]) -> list[str]:
    """One line per changed field of each document (and per document added or removed); empty when equal."""
    lines = []
    for name in sorted(old.keys() | new.keys()):
        if name not in new:
            lines.append(f"{name}: gone (it was {json.dumps(old[name], sort_keys=True)})")
        elif name not in old:
            lines.append(f"{name}: new, not in {OUTCOMES}: {json.dumps(new[name], sort_keys=True)}")
        else:
            for key in sorted(old[name].keys() | new[name].keys()):
                was, now = old[name].get(key), new[name].get(key)
                if was == now:
                    continue
                if isinstance(was, list) and isinstance(now, list):
                    lost = [x for x in was if x not in now]
                    gained = [x for x in now if x not in was]
                    lines.append(f"{name}: {key} lost {json.dumps(lost)} gained {json.dumps(gained)}")
                else:
                    lines.append(f"{name}: {key} {json.dumps(was)} -> {json.dumps(now)}")
    return lines


def unchanged_or_why(directory: Path) -> str:
    """ "" when every document of ``directory`` gives exactly its outcome in ``OUTCOMES.json``; else the failure
    message: what changed, document by document, and the command that records the change once it is judged right."""
    diff = changes(stored(directory), outcomes(directory))
    if not diff:
        return ""
    here = directory.relative_to(EXAMPLES.parent.parent)
    where = here / OUTCOMES
    return (
        f"{len(diff)} change(s) against {where}:\n  "
        + "\n  ".join(diff)
        + f"\nIf the change is right (check the labels: `lawwatch classify --eval {here} --errors`), "
        + f"record it with `{REGENERATE}` and commit the file with the change."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="print the changes, write nothing; exit 1 on a change")
    args = parser.parse_args(argv)
    changed = False
    for name, directory in SETS.items():
        new = outcomes(directory)
        path = directory / OUTCOMES
        old = stored(directory) if path.exists() else {}
        diff = changes(old, new)
        changed |= bool(diff)
        print(f"{name} set ({path.relative_to(EXAMPLES.parent.parent)}): {len(new)} documents, {len(diff)} changes")
        for line in diff:
            print(f"  {line}")
        if diff and not args.check:
            path.write_text(render(new), encoding="utf-8")
    return 1 if changed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
