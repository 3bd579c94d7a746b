"""``lawwatch demo``: the whole pipeline offline in one command (``lawwatch.demo``), printed for an 80-column
terminal, or as one JSON document."""

from __future__ import annotations

import shlex
import time
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lawwatch.cli._common import LawwatchCommand, emit_json

if TYPE_CHECKING:
    from rich.console import Console

    from lawwatch.demo.session import DeliveredAlert, DemoReport, DemoSession

WIDTH = 80
SHOWN_DOCUMENTS = 4
NEXT = " Next: lawwatch demo --live (a new DOJ letter every 30 s)"


@click.command("demo", cls=LawwatchCommand)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo"),
    show_default=True,
    help="folder for the demo's settings, archive and received messages (emptied first if an earlier demo's)",
)
@click.option("--json", "as_json", is_flag=True, help="print one JSON document instead of the report")
@click.option("--live", is_flag=True, help="then keep running: the mirror publishes a new DOJ letter now and then")
@click.option(
    "--publish-every",
    type=click.FloatRange(min=1.0),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="with --live: seconds between two letters the mirror publishes",
)
@click.pass_context
def demo(ctx: click.Context, data_dir: Path, as_json: bool, live: bool, publish_every: float) -> None:
    """Show the whole pipeline offline: crawl, tag, archive, alerts delivered to a local Slack and mailbox.

    Starts on free loopback ports the bundled mirror of every source (justice.gov, CourtListener, PACER,
    Courthouse News), a Slack-compatible API server and an SMTP server; crawls every source through the real
    spiders and classifier into a fresh archive in DATA_DIR (never the configured archive); sends the alerts of
    the demo rules through the real Slack and email channels; prints what happened and three searches to try.
    Exit code 1 when a source failed or an alert was not delivered.

    \b
    Example:
      lawwatch demo
      lawwatch demo --json --data-dir /tmp/lawwatch-demo
      lawwatch demo --live --publish-every 20
    """
    if as_json and live:
        raise click.UsageError("--json prints one report and ends; leave it out with --live")
    from lawwatch.demo.session import DemoSession

    started = time.monotonic()
    out = _console()
    try:
        session = DemoSession(data_dir, shown_dir=str(data_dir))
        session.__enter__()
    except OSError as exc:
        raise click.ClickException(f"cannot start the demo's local servers: {exc.strerror or exc}") from None
    try:
        if not as_json:
            _header(out, session)
        report = _run(session, show_progress=not as_json)
        report.seconds = time.monotonic() - started
        if as_json:
            emit_json(report.as_json())
        else:
            _print_report(out, report, live=live)
        if live:
            _live(out, session, publish_every)
            return
    finally:
        session.__exit__(None, None, None)
    if not report.ok:
        ctx.exit(1)


def _console() -> Console:
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=False)
    console.width = min(console.width, WIDTH)
    return console


def _run(session: DemoSession, *, show_progress: bool) -> DemoReport:
    from rich.console import Console

    err = Console(stderr=True, highlight=False)
    if not (show_progress and err.is_terminal):
        return session.run()
    with err.status("crawling every source of the mirror …") as status:

        def tick(results: Any, stats: list[dict[str, Any]]) -> None:
            new = sum(int(s.get("lawwatch/new", 0)) for s in stats)
            pages = sum(int(s.get("lawwatch/pages", 0)) for s in stats)
            status.update(f"crawling every source of the mirror … {pages} pages, {new} new documents")

        return session.run(on_tick=tick)


def clean(text: str) -> str:
    """Scraped text made safe for a terminal: control characters (escape sequences included) become spaces, and
    rich markup is escaped."""
    from rich.markup import escape

    cleaned = "".join(" " if unicodedata.category(c) in ("Cc", "Cf") else c for c in text)
    return escape(" ".join(cleaned.split()))


def _short(text: str, width: int) -> str:
    from lawwatch.alerts.escape import one_line, truncate

    return truncate(one_line(text), width)


def _header(out: Console, session: DemoSession) -> None:
    s = session.servers
    out.print("[bold]lawwatch demo[/] — every source, offline, on this machine", soft_wrap=True)
    out.print(f"  mirror  {s.mirror.base_url}  (DOJ, CourtListener, PACER, Courthouse News)")
    out.print(f"  Slack   {s.slack.base_url}  (a Slack-compatible API server)")
    out.print(f"  SMTP    127.0.0.1:{s.smtp.port}  (aiosmtpd)")
    out.print(f"  folder  {clean(session.shown_dir)}/  (a fresh archive; your configured archive is not touched)")
    out.print()


def _print_report(out: Console, report: DemoReport, *, live: bool = False) -> None:
    from rich import box
    from rich.table import Table

    shown = _shown_dir(report)
    out.print("[bold]1. Crawl[/]: the real spiders → normalize → classify → archive")
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name, justify in (
        ("source", "left"),
        ("status", "left"),
        ("requests", "right"),
        ("new", "right"),
        ("updated", "right"),
        ("unchanged", "right"),
        ("errors", "right"),
        ("seconds", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for s in report.sources:
        style = {"ok": "green", "partial": "yellow"}.get(s["status"], "bold red")
        table.add_row(
            s["source"],
            f"[{style}]{s['status']}[/]",
            str(s.get("requests", s.get("pages", 0))),
            str(s["new"]),
            str(s["updated"]),
            str(s["unchanged"]),
            str(s["errors"]),
            f"{s['seconds']:.1f}",
        )
    out.print(table)
    out.print(f"  {report.documents} documents in {shown}/lawwatch.db")
    for s in report.sources:
        for message in (s.get("error_messages") or [])[:2]:
            out.print(f"  [red]{s['source']}[/]: {clean(_short(message, 66))}")
    out.print()

    counts = report.counts()
    out.print(f"[bold]2. Alerts delivered[/]: {counts['slack']} to Slack, {counts['email']} by email")
    by_document: dict[int, list[DeliveredAlert]] = {}
    for alert in report.alerts:
        by_document.setdefault(alert.document_id, []).append(alert)
    newest = sorted(by_document.values(), key=lambda group: group[0].published or "", reverse=True)
    for group in newest[:SHOWN_DOCUMENTS]:
        first = group[0]
        out.print(f"  {clean(_short(first.title, 55))} [dim]({first.doc_type}, {first.published or 'no date'})[/]")
        places = "; ".join(first.jurisdictions[:3]) + (
            f" +{len(first.jurisdictions) - 3}" if len(first.jurisdictions) > 3 else ""
        )
        tags = " · ".join(x for x in (places, ", ".join(first.statutes)) if x)
        out.print(f"    {clean(_short(tags, 74))}")
        for alert in group:
            where = _short(f"{alert.channel} {alert.destination}", 40)
            out.print(f"    → [cyan]{clean(where)}[/] [dim]rule {clean(_short(alert.rule, 28))}[/]")
            out.print(f"      [dim]why: {clean(_short(alert.why, 69))}[/]")
    if len(newest) > SHOWN_DOCUMENTS:
        more = len(newest) - SHOWN_DOCUMENTS
        out.print(f"  … and {more} more documents: lawwatch --config {shown}/settings.toml alerts list")
    for problem in report.undelivered[:5]:
        out.print(f"  [bold red]not delivered[/]: {clean(_short(problem, 62))}")
    out.print(f"  Slack payloads as received: {shown}/slack/*.json ({len(report.slack_files)} files)")
    out.print(f"  Emails as received:         {shown}/mail/*.eml ({len(report.mail_files)} files)")
    out.print()

    out.print(f"[bold]3. Search the demo archive[/] — first: export LAWWATCH_CONFIG={shown}/settings.toml")
    for search in report.searches:
        out.print(f"  {clean(search.what)}: {search.total} document{'s' if search.total != 1 else ''}")
        for doc_id, day, doc_type, title in search.hits:
            out.print(f"    #{doc_id:<4} {day} {doc_type:<7} {clean(_short(title, 46))}")
        command = search.command.replace(f"--config {shlex.quote(search.settings)} ", "")
        out.print(f"    [dim]$[/] {clean(command)}", soft_wrap=True)
    out.print()
    verdict = "[green]done[/]" if report.ok else "[bold red]done, with problems (above)[/]"
    out.print(f"{verdict} in {report.seconds:.1f} s." + ("" if live else NEXT))


def _shown_dir(report: DemoReport) -> str:
    try:
        return str(report.data_dir.relative_to(Path.cwd()))
    except ValueError:
        return str(report.data_dir)


def _live(out: Console, session: DemoSession, publish_every: float) -> None:
    labels = {"published": "[yellow]DOJ   [/]", "slack": "[cyan]Slack [/]", "email": "[cyan]email [/]"}

    def on_event(kind: str, text: str) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        if kind == "start":
            out.print(f"[bold]Live[/]: lawwatch run against the mirror; {clean(text)}. Ctrl-C stops.")
            return
        out.print(f"{stamp} {labels.get(kind, kind)} {clean(_short(text, WIDTH - 16))}")

    out.print()
    code = session.live(publish_every=publish_every, on_event=on_event)
    out.print("stopped.")
    if code:
        raise click.ClickException("the scheduler stopped because it lost its lock on the demo archive")
