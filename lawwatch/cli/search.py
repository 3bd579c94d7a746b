"""``lawwatch search``, ``show``, ``export`` and ``status``: reading the archive."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lawwatch.cli._common import App, LawwatchCommand, WordsCommand, console, emit_json, pass_app, words
from lawwatch.cli.filters import filter_options, note_prominent
from lawwatch.errors import shown

if TYPE_CHECKING:
    from rich.text import Text

    from lawwatch.pipeline.search import SearchResult

ROW_ID_MAX = 2**63 - 1  # the largest id (and offset) both backends take

_MARK_ON, _MARK_OFF = "\x02", "\x03"  # snippet highlight markers for the terminal
CSV_FIELDS = ("id", "published_at", "source", "doc_type", "title", "url", "score", "snippet")
EXPORT_CSV_FIELDS = (
    "id",
    "published_at",
    "source",
    "doc_type",
    "title",
    "url",
    "jurisdictions",
    "statutes",
    "body_text",
)


@click.command(cls=WordsCommand)
@click.argument("query_words", metavar="[QUERY]...", nargs=-1)
@filter_options
@click.option(
    "--order",
    type=click.Choice(["relevance", "newest"]),
    default="relevance",
    show_default=True,
    help="rank by relevance to the query, or newest first",
)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="hits per page")
@click.option(
    "--offset", type=click.IntRange(0, ROW_ID_MAX), default=0, show_default=True, help="skip this many hits first"
)
@click.option("--json", "as_json", is_flag=True, help="one JSON document: {total, hits: [...]}")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header row")
@pass_app
def search(
    app: App,
    /,
    query_words: tuple[str, ...],
    order: str,
    limit: int,
    offset: int,
    as_json: bool,
    as_csv: bool,
    **filters: Any,
) -> None:
    """Full-text search of the archive, with tag, source and date filters.

    Words are ANDed; "quoted phrases", OR, -word (exclude) and word* (prefix) work too; a query may start with
    an excluded word (search -texas sanctuary). At most 256 words and 4 KB. An empty QUERY with filters lists the
    matching documents, newest first. A word in very many documents is ranked among its newest 1,000 matches and
    its total may be an estimate: the output says so ("about", and in --json "total_is_estimate" and
    "ranked_among"); --order newest reaches every match.

    \b
    Example:
      lawwatch search "sanctuary jurisdiction" --type letter --since 2017-10
      lawwatch search "" --jurisdiction "Cook County, IL" --statute "8 U.S.C. 1373" --json
    """
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    from lawwatch.pipeline.filters import DocumentFilter
    from lawwatch.pipeline.search import search as run_search

    query = words(query_words)
    flt = DocumentFilter.from_user(**filters, query=query)
    note_prominent(filters.get("jurisdictions", ()))
    app.check_sources(flt.sources)
    marks = ("[", "]") if (as_json or as_csv) else (_MARK_ON, _MARK_OFF)
    with app.existing_archive.session() as session:
        result = run_search(
            session,
            flt,
            order=order,  # type: ignore[arg-type]  # one of the choices: click checked it
            limit=limit,
            offset=offset,
            highlight=marks,
        )
    rows = [h.as_dict() for h in result.hits]
    if as_json:
        emit_json(result.as_dict(query, offset))
    elif as_csv:
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    else:
        _print_hits(query, result, rows, offset)


def _highlighted(snippet: str) -> Text:
    from rich.text import Text

    text = Text()
    for n, part in enumerate(re.split(f"[{_MARK_ON}{_MARK_OFF}]", snippet)):
        text.append(part, style="bold yellow" if n % 2 else "")
    return text


def link(url: str, style: str = "") -> Text:
    """``url`` whole, as a terminal hyperlink where the terminal shows them (rich writes plain text elsewhere);
    print it with ``soft_wrap=True`` so that it is never folded or cut."""
    from rich.style import Style
    from rich.text import Text

    return Text(url, style=Style.parse(style or "none") + Style(link=url))


def _print_hits(query: str, result: SearchResult, rows: list[dict[str, Any]], offset: int) -> None:
    from rich.markup import escape
    from rich.text import Text

    out = console()
    if not rows:
        if result.total:  # a page past the end (or past the ranked matches)
            out.print(f"no hits on this page: {result.total_text} matches")
            if result.note:
                out.print(f"[dim]{escape(result.note.replace('order by newest', '--order newest'))}[/dim]")
            return
        out.print(f"no documents match {escape(shown(query))}" if query else "no documents match")
        return
    for row in rows:
        day = (row["published_at"] or "")[:10]
        out.print(f"[bold]#{row['id']}[/bold] {day} [cyan]{row['doc_type']}[/cyan] {escape(row['title'])}")
        out.print(Text("    ") + _highlighted(row["snippet"] or ""), soft_wrap=True)
        where = link(row["url"], "dim") if row["url"] else Text(row["source"], style="dim")
        out.print(Text("    ") + where, soft_wrap=True)
    out.print(f"[dim]{offset + 1}–{offset + len(rows)} of {result.total_text}[/dim]")
    if result.note:
        out.print(f"[dim]{escape(result.note.replace('order by newest', '--order newest'))}[/dim]")


@click.command(cls=LawwatchCommand)
@click.argument("document_id", metavar="ID", type=click.IntRange(1, ROW_ID_MAX))
@click.option("--json", "as_json", is_flag=True, help="the document, its tags and its earlier versions as JSON")
@pass_app
def show(app: App, document_id: int, as_json: bool) -> None:
    """Show one document with its tags and its earlier versions.

    \b
    Example:
      lawwatch show 42 --json
    """
    from lawwatch.pipeline.query import document_to_dict, get_document

    with app.existing_archive.session() as session:
        doc = get_document(session, document_id)
        if doc is None:
            raise click.ClickException(f"no document with id {document_id}")
        data = document_to_dict(doc, versions=True)
    if as_json:
        emit_json(data)
        return
    from rich.markup import escape
    from rich.table import Table

    out = console()
    out.print(f"[bold]{escape(data['title'])}[/bold]")
    if data["url"]:  # whole, on a line of its own: a table cell would cut it with "…"
        out.print(link(data["url"]), soft_wrap=True)
    table = Table.grid(padding=(0, 2))
    for key in ("id", "source", "published_at", "doc_type", "form", "external_id"):
        table.add_row(f"[dim]{key}[/dim]", escape(str(data[key])))
    places = ", ".join(f"{j['name']} ({j['id']}, {j['mentions']}×)" for j in data["jurisdictions"])
    table.add_row("[dim]jurisdictions[/dim]", escape(places or "—"))
    table.add_row("[dim]statutes[/dim]", escape(", ".join(s["text"] for s in data["statutes"]) or "—"))
    table.add_row("[dim]versions[/dim]", str(len(data["versions"])))
    out.print(table)
    out.print()
    out.print(escape(data["body_text"]), soft_wrap=True)


@click.command(cls=LawwatchCommand)
@filter_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    show_default=True,
    help="JSON lines (one document with its tags per line) or CSV (jurisdictions as 'Cook County, IL (fips:17031)')",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    help="file to write (default: standard output)",
)
@pass_app
def export(app: App, /, fmt: str, output: str, **filters: Any) -> None:
    """Export documents (with their tags) as JSON lines or CSV; JSON lines re-import with --format lawwatch.

    \b
    Example:
      lawwatch export --type letter --since 2017-01-01 -o letters.jsonl
      lawwatch export --format csv --jurisdiction Chicago -o chicago.csv
    """
    import csv

    from lawwatch.pipeline.filters import DocumentFilter
    from lawwatch.pipeline.query import document_to_dict, iter_documents

    flt = DocumentFilter.from_user(**filters)
    note_prominent(filters.get("jurisdictions", ()))
    app.check_sources(flt.sources)
    archive = app.existing_archive
    target = Path(output)
    whole = output != "-" and (target.is_file() or not target.exists())  # not a FIFO nor /dev/stdout
    try:  # a regular file is written whole or not at all (a failed export leaves no half file)
        stream = click.open_file(output, "w", encoding="utf-8", atomic=whole)
    except OSError as exc:
        raise click.FileError(output, hint=exc.strerror or str(exc)) from None
    count = 0
    with stream as out, archive.session() as session:
        writer = None
        for doc in iter_documents(session, flt):
            data = document_to_dict(doc)
            if fmt == "jsonl":
                out.write(json.dumps(data, ensure_ascii=False) + "\n")
            else:
                if writer is None:
                    writer = csv.writer(out)
                    writer.writerow(EXPORT_CSV_FIELDS)
                writer.writerow(
                    [
                        data["id"],
                        data["published_at"],
                        data["source"],
                        data["doc_type"],
                        data["title"],
                        data["url"],
                        "; ".join(f"{_place_label(j)} ({j['id']})" for j in data["jurisdictions"]),
                        ";".join(s["text"] for s in data["statutes"]),
                        data["body_text"],
                    ]
                )
            count += 1
    if output != "-":
        click.echo(f"exported {count} documents to {output}", err=True)


def _place_label(place: dict[str, Any]) -> str:
    """``Cook County, IL``; a state by its name alone."""
    if place["kind"] == "state" or not place["state"]:
        return str(place["name"])
    return f"{place['name']}, {place['state']}"


@click.command(cls=LawwatchCommand)
@click.option("--json", "as_json", is_flag=True, help="the report as one JSON document")
@pass_app
def status(app: App, as_json: bool) -> None:
    """Per source: documents stored, the last crawl or import run with its first errors, the schedule, the next run
    and the watchdog's state; alerts pending and failed; whether a scheduler (`lawwatch run`) is alive.

    \b
    Example:
      lawwatch status --json
    """
    from lawwatch.pipeline.query import status_report
    from lawwatch.pipeline.runs import interrupt_stale_runs

    config = app.config
    archive = app.existing_archive
    interrupt_stale_runs(archive)  # a run whose process died is shown as interrupted, not running
    configured = [s.id for s in config.sources]
    schedules = {s.id: s.schedule.text for s in config.sources if s.enabled}
    with archive.session() as session:
        report = status_report(session, configured, schedules=schedules, stale_after=config.service.lock_stale_after)
    if as_json:
        emit_json(report)
        return
    from rich.markup import escape
    from rich.table import Table

    out = console()
    table = Table(title=f"lawwatch archive: {report['documents']} documents")
    for column in ("source", "documents", "last run", "status", "new", "upd", "same", "errors"):
        table.add_column(column)
    for column in ("schedule", "next run", "watchdog"):
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
            *_service_columns(item),
        )
    out.print(table)
    out.print(_service_line(report))
    for item in report["sources"]:
        for message in (item["last_run"] or {}).get("error_messages", []):
            out.print(f"[red]{escape(item['source'])}[/red]: {escape(message)}")


def _service_columns(item: dict[str, Any]) -> tuple[str, str, str]:
    """``schedule``, ``next run`` and ``watchdog`` cells of one source's row (rich markup)."""
    watchdog = item.get("watchdog") or {}
    state = watchdog.get("state")
    colour = {"ok": "green", "quiet": "yellow", "failing": "red"}.get(state or "", "dim")
    next_run = "—"
    if item.get("next_run_at"):
        from datetime import UTC, datetime

        seconds = (datetime.fromisoformat(item["next_run_at"]) - datetime.now(UTC)).total_seconds()
        next_run = "due" if seconds <= 0 else f"in {seconds:.0f}s" if seconds < 120 else f"in {seconds / 60:.0f}m"
    return (
        item.get("schedule") or ("—" if item.get("configured") else ""),
        next_run,
        f"[{colour}]{state or '—'}[/{colour}]",
    )


def _service_line(report: dict[str, Any]) -> str:
    """One line on the scheduler and the alert backlog."""
    alerts = report.get("alerts") or {}
    backlog = f"alerts: {alerts.get('pending', 0)} pending, {alerts.get('failed', 0)} failed"
    scheduler = report.get("scheduler")
    if scheduler is None:
        return f"scheduler: not running · {backlog}"
    age = scheduler["heartbeat_age_seconds"]
    where = f"pid {scheduler['pid']} on {scheduler['host']}, heartbeat {age:.0f} s ago"
    if scheduler["alive"]:
        return f"scheduler: [green]alive[/green] ({where}) · {backlog}"
    return f"scheduler: [red]no heartbeat[/red] ({where}: it crashed or hangs) · {backlog}"
