"""``lawwatch classify``: tag documents from files or stdin, or evaluate the classifier on a labelled set."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from lawwatch.cli._common import LawwatchCommand


@click.command("classify", cls=LawwatchCommand)
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--title", help="Title of the document (helps decide the document type).")
@click.option("--form", help="Form of the document as the source gives it (opinion, complaint, letter...).")
@click.option(
    "--eval",
    "eval_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Evaluate on a directory of NAME.txt + NAME.expected.json; exit 1 below the thresholds.",
)
@click.option("--errors/--no-errors", "show_errors", default=False, help="With --eval, list every miss.")
def classify(
    files: tuple[str, ...], title: str | None, form: str | None, eval_dir: Path | None, show_errors: bool
) -> None:
    """Tag documents with document type, statutes, jurisdictions, courts and cases.

    Prints one JSON object per input, one per line, with "file" added ("-" for stdin).
    Reads stdin when no FILE is given or FILE is "-".

    Example:

        lawwatch classify order.txt letter.txt
        echo "The City of Philadelphia sued over 8 U.S.C. § 1373." | lawwatch classify --title "Lawsuit"
        lawwatch classify --eval tests/examples/classify
    """
    from lawwatch.pipeline.classify import classify as run

    if eval_dir is not None:
        from lawwatch.pipeline.classify.evaluate import evaluate

        try:
            report = evaluate(eval_dir)
        except (OSError, ValueError, KeyError) as exc:
            raise click.ClickException(f"cannot evaluate {eval_dir}: {exc}") from exc
        click.echo(report.table())
        if show_errors:
            for line in report.errors:
                click.echo(line)
        if not report.passed:
            sys.exit(1)
        return
    for name in files or ("-",):
        if name == "-":
            text = sys.stdin.read()
        else:
            try:
                text = Path(name).read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                raise click.ClickException(f"cannot read {name}: {exc.strerror or exc}") from exc
        out = {"file": name, **run(text, title=title, form=form).to_dict()}
        click.echo(json.dumps(out, ensure_ascii=False))
