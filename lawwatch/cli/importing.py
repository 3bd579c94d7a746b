"""``lawwatch import``: backfill the archive from JSON-lines files (the work is ``pipeline.runs.import_stream``)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from lawwatch.cli._common import App, LawwatchCommand, console, emit_json, pass_app

if TYPE_CHECKING:
    from lawwatch.errors import ImportFormatError

SHOWN_BAD_LINES = 20  # bad lines printed per file (all are counted)


class LazyChoice(click.Choice):
    """A ``click.Choice`` whose values are loaded when first needed (a value is checked or help is shown).

    The import formats live beside the importer, which needs lxml: loading them lazily keeps that cost out of
    every other command's start-up."""

    def __init__(self, load: Callable[[], Sequence[str]]) -> None:
        self._load = load
        self._choices: tuple[str, ...] | None = None
        self.case_sensitive = True

    @property
    def choices(self) -> tuple[str, ...]:
        if self._choices is None:
            self._choices = tuple(self._load())
        return self._choices

    @choices.setter
    def choices(self, value: Sequence[str]) -> None:
        self._choices = tuple(value)


def _formats() -> Sequence[str]:
    from lawwatch.pipeline.importer import FORMATS

    return FORMATS


@click.command("import", cls=LawwatchCommand)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True, path_type=str))
@click.option(
    "--format",
    "fmt",
    type=LazyChoice(_formats),
    help="format of the lines (default: told from the first lines; lines without its text field are refused)",
)
@click.option("--source", help="source name to store under (default: doj_api / doj_dataset / the record's own)")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 10_000),
    default=500,
    show_default=True,
    help="documents stored per transaction",
)
@click.option("--json", "as_json", is_flag=True, help="print one JSON summary per file (JSON lines)")
@click.option(
    "--no-alerts", is_flag=True, help="write no alerts for these documents (a backfill nobody needs to hear of)"
)
@pass_app
def import_cmd(
    app: App,
    files: Sequence[str],
    fmt: str | None,
    source: str | None,
    batch_size: int,
    as_json: bool,
    no_alerts: bool,
) -> None:
    """Backfill the archive from JSON-lines FILES (normalize → classify → store); "-" reads standard input.

    The format of each file is told from its first lines by its text field: "body" (doj-api, the justice.gov API),
    "contents" (doj-dataset, the 2009-2018 DOJ dataset) or "body_text" (lawwatch, from `lawwatch export`).
    --format names it instead; lines without that format's fields are bad lines, and a file whose lines look like
    another format is refused whole, with the format to use. Bad lines are reported with their line numbers and
    skipped; the rest is imported. New documents that match alert rules are queued for `lawwatch alerts dispatch`,
    as from a crawl (not with --no-alerts; alerts.max_age also keeps old documents quiet).

    \b
    Example:
      lawwatch import lawwatch/crawler/mirror/data/doj_corpus_100.jsonl
      lawwatch export -o all.jsonl && lawwatch import all.jsonl --format lawwatch
    """
    for file in files:
        summary = _import_file(app, file, fmt, source, batch_size, no_alerts)
        if as_json:
            emit_json(summary)
        else:
            how = "" if fmt else f" (format {summary['format']}, told from its lines)"
            click.echo(
                f"imported {file}{how}: {summary['new']} new, {summary['updated']} updated, "
                f"{summary['unchanged']} unchanged, {summary['errors']} bad lines skipped"
            )


def _import_file(
    app: App, file: str, fmt: str | None, source: str | None, batch_size: int, no_alerts: bool
) -> dict[str, Any]:
    from rich.markup import escape

    from lawwatch.alerts.rules import resolve_rules
    from lawwatch.pipeline.runs import import_stream

    err = console(err=True)
    shown = 0

    def report(error: ImportFormatError) -> None:
        nonlocal shown
        if shown < SHOWN_BAD_LINES:
            err.print(f"[yellow]{escape(file)}: {escape(str(error))}[/yellow]")
            shown += 1

    with _open_input(file) as stream, _progress(stream, file) as advance:
        return import_stream(
            app.archive,
            stream,
            file=file,
            fmt=fmt,  # type: ignore[arg-type]  # one of FORMATS: click checked it
            source=source,
            batch_size=batch_size,
            rules=() if no_alerts else resolve_rules(app.config),
            on_line=advance,
            on_bad_line=report,
        )


@contextmanager
def _open_input(file: str) -> Iterator[IO[str]]:
    if file == "-":
        yield sys.stdin
        return
    try:
        with open(file, encoding="utf-8", errors="replace") as stream:
            yield stream
    except OSError as exc:
        raise click.ClickException(f"{file}: {exc.strerror}") from None


@contextmanager
def _progress(stream: IO[str], file: str) -> Iterator[Callable[[], None]]:
    """A progress bar over the file's bytes when stderr is a terminal; a no-op otherwise."""
    err = console(err=True)
    if not err.is_terminal or file == "-":
        yield lambda: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    total = Path(file).stat().st_size
    columns = (
        TextColumn("importing"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("import", total=total)
        yield lambda: progress.update(task, completed=stream.buffer.tell() if hasattr(stream, "buffer") else 0)
