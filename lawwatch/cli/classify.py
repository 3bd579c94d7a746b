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
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "text"]),
    default="json",
    show_default=True,
    help="json: one object per input; text: a short summary (type and its top signals, statutes, jurisdictions "
    "with how each was resolved).",
)
def classify(
    files: tuple[str, ...], title: str | None, form: str | None, eval_dir: Path | None, show_errors: bool, fmt: str
) -> None:
    """Tag documents with document type, statutes, jurisdictions, courts and cases.

    Prints one JSON object per input, one per line, with "file" added ("-" for stdin).
    Reads stdin when no FILE is given or FILE is "-".

    \b
    Example:
      lawwatch classify order.txt letter.txt
      lawwatch classify --format text order.txt
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
            if sys.stdin.isatty():
                click.echo("lawwatch classify: reading the document from stdin (end it with Ctrl-D)", err=True)
            text = sys.stdin.read()
        else:
            try:
                text = Path(name).read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                raise click.ClickException(f"cannot read {name}: {exc.strerror or exc}") from exc
        result = run(text, title=title, form=form)
        if fmt == "text":
            from lawwatch.pipeline.classify.summary import summary

            click.echo(summary(result, name))
            continue
        out = {"file": name, **result.to_dict()}
        click.echo(json.dumps(out, ensure_ascii=False))
