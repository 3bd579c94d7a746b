"""The ``lawwatch`` command: a click group over the archive, the importer, the classifier and (later) crawls.

Domain errors become one clear line at this edge: ``ConfigError`` exits 2 (like a usage error: the settings are
wrong), every other ``LawwatchError`` exits 1; no traceback. ``--json`` output is one JSON document, or JSON lines
for streams; the shapes are documented in README.md ("JSON output").
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from lawwatch.config import Config, load_config
from lawwatch.crawler.command import crawl
from lawwatch.crawler.mirror.command import mirror
from lawwatch.errors import ConfigError, ImportFormatError, LawwatchError, QueryError
from lawwatch.pipeline.classify.command import classify as classify_cmd
from lawwatch.pipeline.db import Archive, current_revision, head_revision, open_archive, upgrade
from lawwatch.pipeline.importer import DEFAULT_SOURCE, FORMATS, read_jsonl
from lawwatch.pipeline.ingest import ingest, reclassify
from lawwatch.pipeline.models import CrawlRun, utcnow
from lawwatch.pipeline.normalize import NormalizedDocument, to_utc
from lawwatch.pipeline.query import document_filters, document_to_dict, get_document, iter_documents, status_report

F = TypeVar("F", bound=Callable[..., Any])
_MARK_ON, _MARK_OFF = "\x02", "\x03"  # snippet highlight markers for the terminal
DOC_TYPES = ("letter", "ruling", "lawsuit", "filing", "other")
CSV_FIELDS = ("id", "published_at", "source", "doc_type", "title", "url", "score", "snippet")


class ConfigProblem(click.ClickException):
    exit_code = 2


class LawwatchGroup(click.Group):
    """Turns lawwatch's own errors into one line and an exit code, wherever a subcommand raised them."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise ConfigProblem(str(exc)) from None
        except LawwatchError as exc:
            raise click.ClickException(str(exc)) from None


class App:
    """What every command needs: the settings and the archive, each opened once and only when needed."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._config: Config | None = None
        self._archive: Archive | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def archive(self) -> Archive:
        if self._archive is None:
            self._archive = open_archive(self.config.archive.url, echo=self.config.archive.echo)
        return self._archive

    def close(self) -> None:
        if self._archive is not None:
            self._archive.dispose()


pass_app = click.make_pass_decorator(App)


@click.group(cls=LawwatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    envvar="LAWWATCH_CONFIG",
    help="settings file (default: $LAWWATCH_CONFIG, else ./settings.toml, else built-in defaults)",
)
@click.version_option(package_name="lawwatch")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """lawwatch: watch DOJ releases and court news for 8 U.S.C. § 1373 letters and rulings.

    \b
    Example:
      lawwatch import sample.jsonl --format doj-api
      lawwatch search "sanctuary" --jurisdiction "Cook County, IL" --statute "8 U.S.C. 1373"
    """
    app = App(config_path)
    ctx.obj = app
    ctx.call_on_close(app.close)


def _console(err: bool = False) -> Console:
    return Console(stderr=err, highlight=False, soft_wrap=False)


def _emit_json(data: Any, stream: IO[str] | None = None) -> None:
    (stream or sys.stdout).write(json.dumps(data, ensure_ascii=False, sort_keys=False) + "\n")


# ---------------------------------------------------------------- db / config
@cli.group()
def db() -> None:
    """Create or migrate the archive.

    \b
    Example:
      lawwatch db upgrade
    """


@db.command("upgrade")
@pass_app
def db_upgrade(app: App) -> None:
    """Apply every pending migration to the archive (it is also done on first use).

    \b
    Example:
      LAWWATCH_DATABASE_URL=postgresql://localhost/lawwatch lawwatch db upgrade
    """
    archive = open_archive(app.config.archive.url, migrate=False)
    try:
        before = current_revision(archive.engine)
        upgrade(archive.engine)
        after = current_revision(archive.engine)
    finally:
        archive.dispose()
    click.echo(f"archive at revision {after} (was {before or 'empty'}; head {head_revision()})")


@cli.group("config")
def config_group() -> None:
    """Inspect and validate settings.toml.

    \b
    Example:
      lawwatch config check && lawwatch config show
    """


@config_group.command("show")
@pass_app
def config_show(app: App) -> None:
    """Print the effective settings as JSON, with every secret masked.

    \b
    Example:
      lawwatch --config settings.toml config show
    """
    _emit_json(app.config.masked())


@config_group.command("check")
@pass_app
def config_check(app: App) -> None:
    """Validate the settings; exit 2 with the offending key path when they are wrong.

    \b
    Example:
      lawwatch config check
    """
    cfg = app.config
    where = str(cfg.path) if cfg.path else "built-in defaults"
    click.echo(f"{where}: OK ({len(cfg.sources)} sources, {len(cfg.alerts.rules)} alert rules)")


# ---------------------------------------------------------------- import
@cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True, path_type=str))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="doj-api", show_default=True)
@click.option("--source", help="source name to store under (default: doj_api / doj_dataset / the record's own)")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=500, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print one JSON summary per file (JSON lines)")
@pass_app
def import_cmd(app: App, files: Sequence[str], fmt: str, source: str | None, batch_size: int, as_json: bool) -> None:
    """Backfill the archive from JSON-lines FILES (normalize → classify → store); "-" reads standard input.

    Bad lines are reported with their line numbers and skipped; the rest is imported.

    \b
    Example:
      lawwatch import crawler/mirror/data/*.jsonl --format doj-api
      lawwatch export -o all.jsonl && lawwatch import all.jsonl --format lawwatch
    """
    for file in files:
        summary = _import_file(app, file, fmt, source, batch_size)
        if as_json:
            _emit_json(summary)
        else:
            click.echo(
                f"imported {file}: {summary['new']} new, {summary['updated']} updated, "
                f"{summary['unchanged']} unchanged, {summary['errors']} bad lines skipped"
            )


def _import_file(app: App, file: str, fmt: str, source: str | None, batch_size: int) -> dict[str, Any]:
    errors: list[ImportFormatError] = []
    err = _console(err=True)
    started = utcnow()
    with _open_input(file) as stream, _progress(stream, file) as advance:

        def documents() -> Iterator[NormalizedDocument]:
            for item in read_jsonl(stream, fmt, source=source):  # type: ignore[arg-type]
                advance()
                if isinstance(item, ImportFormatError):
                    if len(errors) < 20:
                        err.print(f"[yellow]{escape(file)}: {escape(str(item))}[/yellow]")
                    errors.append(item)
                else:
                    yield item

        counts = ingest(app.archive, documents(), batch_size=batch_size)
    summary = {"file": file, "format": fmt, **counts.as_dict(), "errors": len(errors)}
    by_source = counts.by_source or {source or DEFAULT_SOURCE.get(fmt, fmt): Counter()}
    _record_import(app.archive, by_source, summary, errors, started)
    if errors and counts.new + counts.updated + counts.unchanged == 0:
        raise click.ClickException(f"{file}: no line could be imported ({len(errors)} bad lines)")
    return summary


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
    console = _console(err=True)
    if not console.is_terminal or file == "-":
        yield lambda: None
        return
    total = Path(file).stat().st_size
    columns = (
        TextColumn("importing"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("import", total=total)
        yield lambda: progress.update(task, completed=stream.buffer.tell() if hasattr(stream, "buffer") else 0)


def _record_import(
    archive: Archive,
    by_source: dict[str, Counter[str]],
    summary: dict[str, Any],
    errors: Sequence[ImportFormatError],
    started: datetime,
) -> None:
    """An import is recorded like a crawl run, so `lawwatch status` shows it and its bad lines."""
    with archive.session() as session:
        for name, outcomes in by_source.items():
            session.add(
                CrawlRun(
                    source=name,
                    started_at=started,
                    finished_at=utcnow(),
                    status="ok" if not errors else "partial",
                    pages=0,
                    new=outcomes["new"],
                    updated=outcomes["updated"],
                    unchanged=outcomes["unchanged"],
                    errors=len(errors),
                    error_messages=[str(e) for e in errors[:20]],
                    stats={"kind": "import", "file": summary["file"], "format": summary["format"]},
                )
            )


# ---------------------------------------------------------------- shared filters
def _parse_day(value: str | None, *, end: bool = False) -> datetime | None:
    """``--since``/``--until`` values: a date (``--until`` includes that whole day) or a full timestamp."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is not None:
        start = to_utc(datetime(day.year, day.month, day.day))
        return start + timedelta(days=1) if end and start else start
    try:
        return to_utc(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2017-10-12") from None


def filter_options(func: F) -> F:
    options = [
        click.option(
            "--jurisdiction",
            "jurisdictions",
            multiple=True,
            metavar="NAME",
            help='e.g. "Cook County, IL", "Philadelphia", "fips:17031" (repeatable: any of them)',
        ),
        click.option(
            "--statute",
            "statutes",
            multiple=True,
            metavar="CITE",
            help='e.g. "8 U.S.C. 1373" or "1373" (repeatable)',
        ),
        click.option("--type", "doc_types", multiple=True, type=click.Choice(DOC_TYPES), help="document type"),
        click.option("--source", "sources", multiple=True, metavar="ID", help="source id (repeatable)"),
        click.option("--since", metavar="DATE", help="published on or after DATE"),
        click.option("--until", metavar="DATE", help="published on or before DATE"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _filters(
    jurisdictions: Sequence[str],
    statutes: Sequence[str],
    doc_types: Sequence[str],
    sources: Sequence[str],
    since: str | None,
    until: str | None,
) -> dict[str, Any]:
    from lawwatch.pipeline.classify import parse_statute, resolve_jurisdiction

    ids = []
    for name in jurisdictions:
        tag = resolve_jurisdiction(name)
        if tag is None:
            raise QueryError(f"unknown jurisdiction {name!r}: try a name with its state, like 'Cook County, IL'")
        ids.append(tag.id)
    cites = []
    for cite in statutes:
        try:
            title, section, _sub = parse_statute(cite)
        except ValueError as exc:
            raise QueryError(f"--statute {cite!r}: {exc}") from None
        cites.append((title, section))
    return {
        "jurisdictions": ids,
        "statutes": cites,
        "doc_types": list(doc_types),
        "sources": list(sources),
        "since": _parse_day(since),
        "until": _parse_day(until, end=True),
    }


# ---------------------------------------------------------------- search / show / export / status
@cli.command()
@click.argument("query", default="")
@filter_options
@click.option("--order", type=click.Choice(["relevance", "newest"]), default="relevance", show_default=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--json", "as_json", is_flag=True, help="one JSON document: {total, hits: [...]}")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header row")
@pass_app
def search(
    app: App, query: str, order: str, limit: int, offset: int, as_json: bool, as_csv: bool, **filters: Any
) -> None:
    """Full-text search of the archive, with tag, source and date filters.

    Words are ANDed; "quoted phrases", OR, -word (exclude) and word* (prefix) work too.
    An empty QUERY with filters lists the matching documents, newest first.

    \b
    Example:
      lawwatch search "sanctuary jurisdiction" --type letter --since 2017-10-01
      lawwatch search "" --jurisdiction "Cook County, IL" --statute "8 U.S.C. 1373" --json
    """
    from lawwatch.pipeline.search import search as run_search

    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    marks = ("[", "]") if (as_json or as_csv) else (_MARK_ON, _MARK_OFF)
    with app.archive.session() as session:
        result = run_search(
            session,
            query,
            order=order,
            limit=limit,
            offset=offset,
            highlight=marks,
            **_filters(**filters),
        )
    rows = [
        {
            "id": h.document_id,
            "published_at": h.published_at.isoformat() if h.published_at else None,
            "source": h.source,
            "doc_type": h.doc_type,
            "title": h.title,
            "url": h.url,
            "score": round(h.score, 4),
            "snippet": h.snippet,
        }
        for h in result.hits
    ]
    if as_json:
        _emit_json({"query": query, "total": result.total, "offset": offset, "hits": rows})
    elif as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    else:
        _print_hits(query, result.total, rows, offset)


def _highlighted(snippet: str) -> Text:
    text = Text()
    for n, part in enumerate(re.split(f"[{_MARK_ON}{_MARK_OFF}]", snippet)):
        text.append(part, style="bold yellow" if n % 2 else "")
    return text


def _print_hits(query: str, total: int, rows: list[dict[str, Any]], offset: int) -> None:
    console = _console()
    if not rows:
        console.print(f"no documents match {query!r}" if query else "no documents match")
        return
    for row in rows:
        day = (row["published_at"] or "")[:10]
        console.print(f"[bold]#{row['id']}[/bold] {day} [cyan]{row['doc_type']}[/cyan] {escape(row['title'])}")
        console.print(Text("    ") + _highlighted(row["snippet"] or ""), soft_wrap=True)
        console.print(f"    [dim]{escape(row['url'] or row['source'])}[/dim]")
    console.print(f"[dim]{offset + 1}–{offset + len(rows)} of {total}[/dim]")


@cli.command()
@click.argument("document_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="the document, its tags and its earlier versions as JSON")
@pass_app
def show(app: App, document_id: int, as_json: bool) -> None:
    """Show one document with its tags and its earlier versions.

    \b
    Example:
      lawwatch show 42 --json
    """
    with app.archive.session() as session:
        doc = get_document(session, document_id)
        if doc is None:
            raise click.ClickException(f"no document with id {document_id}")
        data = document_to_dict(doc, versions=True)
    if as_json:
        _emit_json(data)
        return
    console = _console()
    console.print(f"[bold]{escape(data['title'])}[/bold]")
    table = Table.grid(padding=(0, 2))
    for key in ("id", "source", "url", "published_at", "doc_type", "form", "external_id"):
        table.add_row(f"[dim]{key}[/dim]", escape(str(data[key])))
    places = ", ".join(f"{j['name']} ({j['id']}, {j['mentions']}×)" for j in data["jurisdictions"])
    table.add_row("[dim]jurisdictions[/dim]", escape(places or "—"))
    table.add_row("[dim]statutes[/dim]", escape(", ".join(s["text"] for s in data["statutes"]) or "—"))
    table.add_row("[dim]versions[/dim]", str(len(data["versions"])))
    console.print(table)
    console.print()
    console.print(escape(data["body_text"]), soft_wrap=True)


@cli.command()
@filter_options
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    help="file to write (default: standard output)",
)
@pass_app
def export(app: App, fmt: str, output: str, **filters: Any) -> None:
    """Export documents (with their tags) as JSON lines or CSV; JSON lines re-import with --format lawwatch.

    \b
    Example:
      lawwatch export --type letter --since 2017-01-01 -o letters.jsonl
      lawwatch export --format csv --jurisdiction Chicago -o chicago.csv
    """
    conditions = document_filters(**_filters(**filters))
    count = 0
    with click.open_file(output, "w", encoding="utf-8") as out, app.archive.session() as session:
        writer = None
        for doc in iter_documents(session, conditions):
            data = document_to_dict(doc)
            if fmt == "jsonl":
                out.write(json.dumps(data, ensure_ascii=False) + "\n")
            else:
                if writer is None:
                    writer = csv.writer(out)
                    writer.writerow(
                        [
                            "id",
                            "published_at",
                            "source",
                            "doc_type",
                            "title",
                            "url",
                            "jurisdictions",
                            "statutes",
                            "body_text",
                        ]
                    )
                writer.writerow(
                    [
                        data["id"],
                        data["published_at"],
                        data["source"],
                        data["doc_type"],
                        data["title"],
                        data["url"],
                        ";".join(j["id"] for j in data["jurisdictions"]),
                        ";".join(s["text"] for s in data["statutes"]),
                        data["body_text"],
                    ]
                )
            count += 1
    if output != "-":
        click.echo(f"exported {count} documents to {output}", err=True)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="the report as one JSON document")
@pass_app
def status(app: App, as_json: bool) -> None:
    """Per source: documents stored and the last crawl or import run with its first errors.

    \b
    Example:
      lawwatch status --json
    """
    configured = [s.id for s in app.config.sources]
    with app.archive.session() as session:
        report = status_report(session, configured)
    if as_json:
        _emit_json(report)
        return
    console = _console()
    table = Table(title=f"lawwatch archive: {report['documents']} documents")
    for column in ("source", "documents", "last run", "status", "new", "upd", "same", "errors"):
        table.add_column(column)
    for item in report["sources"]:
        run = item["last_run"] or {}
        status_text = run.get("status", "never run")
        colour = {"ok": "green", "failed": "red", "partial": "yellow"}.get(status_text, "dim")
        table.add_row(
            item["source"],
            str(item["documents"]),
            (run.get("started_at") or "—")[:19],
            f"[{colour}]{status_text}[/{colour}]",
            *(str(run.get(k, "")) for k in ("new", "updated", "unchanged")),
            str(run.get("errors", "")),
        )
    console.print(table)
    for item in report["sources"]:
        for message in (item["last_run"] or {}).get("error_messages", []):
            console.print(f"[red]{escape(item['source'])}[/red]: {escape(message)}")


@cli.command("reclassify")
@click.option("--all", "everything", is_flag=True, help="re-tag every stored document")
@click.option("--since", metavar="DATE", help="re-tag documents published on or after DATE")
@click.option("--source", "sources", multiple=True, metavar="ID", help="only this source (repeatable)")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def reclassify_cmd(app: App, everything: bool, since: str | None, sources: Sequence[str], as_json: bool) -> None:
    """Re-tag stored documents after the gazetteer or the rules changed.

    \b
    Example:
      lawwatch reclassify --since 2017-01-01
      lawwatch reclassify --all
    """
    if not everything and not since and not sources:
        raise click.UsageError("say which documents: --all, --since DATE or --source ID")
    conditions = document_filters(sources=list(sources), since=_parse_day(since))
    summary = reclassify(app.archive, conditions)
    if as_json:
        _emit_json(summary)
    else:
        click.echo(f"reclassified {summary['documents']} documents: {summary['changed']} changed tags")


cli.add_command(classify_cmd)
cli.add_command(crawl)
cli.add_command(mirror)


def main() -> None:
    cli(prog_name="lawwatch")


if __name__ == "__main__":
    main()
