"""``lawwatch crawl``: run sources through Scrapy into the archive and summarise each source's run."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from lawwatch.cli._common import LawwatchCommand
from lawwatch.crawler.selection import MIRROR_ARCHIVE, MIRROR_PORT, mirror_config, pick_sources

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from lawwatch.config import Config
    from lawwatch.crawler.runner import SourceResult

# (SourceResult field, column heading): requests and 304s first, so an incremental run does not read "pages 0"
# ("304s": requests answered "not modified"; "same": documents seen again unchanged)
COLUMNS = (
    ("requests", "requests"),
    ("not_modified", "304s"),
    ("pages", "pages"),
    ("new", "new"),
    ("updated", "updated"),
    ("unchanged", "same"),
    ("errors", "errors"),
    ("seconds", "secs"),
)
_COUNTERS = ("requests", "not_modified", "pages", "new", "updated", "unchanged", "errors")
_STYLE = {"ok": "green", "partial": "yellow", "failed": "bold red", "running": "cyan"}
SHOWN_DOCUMENTS = 10  # new/updated documents listed per source after the table (--json lists them all)


def _table(results: list[SourceResult], live: list[dict[str, Any]] | None = None) -> Table:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title=None if live else "crawl summary", box=box.SIMPLE_HEAD, show_edge=False, padding=0)
    table.add_column("source", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for _, heading in COLUMNS:
        table.add_column(heading, justify="right")
    for index, r in enumerate(results):
        values: dict[str, Any] = r.as_dict()
        if live is not None and r.status == "running":
            stats = live[index]
            values.update({k: stats.get(f"lawwatch/{k}", 0) for k in _COUNTERS})
            values["seconds"] = "…"
        cells = [f"{v:.1f}" if isinstance(v, float) else str(v) for v in (values[key] for key, _ in COLUMNS)]
        table.add_row(Text(r.source), Text(r.status, style=_STYLE.get(r.status, "")), *cells)
    return table


@click.command("crawl", cls=LawwatchCommand)
@click.argument("source_ids", nargs=-1, metavar="[SOURCE ...]")
@click.option("--all", "everything", is_flag=True, help="crawl every enabled source")
@click.option("--backfill", is_flag=True, help="walk listings further back than the first known page")
@click.option("--since", "since_text", metavar="DATE", help="with --backfill: how far back (YYYY-MM-DD)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON document with the per-source results")
@click.option("-v", "--verbose", count=True, help="Scrapy log on stderr (-v INFO, -vv DEBUG)")
@click.option(
    "--mirror",
    is_flag=True,
    help="crawl the bundled offline mirror (started on loopback) instead of the configured sources",
)
@click.option(
    "--mirror-port",
    type=click.IntRange(1, 65535),
    default=MIRROR_PORT,
    show_default=True,
    help="loopback port for --mirror (fixed, so document URLs stay the same from run to run)",
)
@click.option(
    "--mirror-archive",
    metavar="URL",
    help=f"with --mirror: the archive its documents go to, never the configured one [default: {MIRROR_ARCHIVE}]",
)
@click.pass_context
def crawl(
    ctx: click.Context,
    source_ids: tuple[str, ...],
    everything: bool,
    backfill: bool,
    since_text: str | None,
    as_json: bool,
    verbose: int,
    mirror: bool,
    mirror_port: int,
    mirror_archive: str | None,
) -> None:
    """Fetch new and changed documents from the given sources (or --all) into the archive.

    All sources run at once in one Scrapy process; each gets a crawl_runs row (see `lawwatch status`). Exit code
    1 when any source failed. With --mirror, the bundled offline mirror of every source is served on loopback and
    crawled instead (all its sources unless some are named) into an archive of its own (var/mirror.db), with
    var/mirror.toml beside it to search it; `lawwatch demo` shows the whole pipeline with alerts.

    \b
    Example:
      lawwatch crawl --all
      lawwatch crawl doj_api doj_rss --json
      lawwatch crawl doj_news --backfill --since 2017-01-01
      lawwatch crawl --mirror && lawwatch --config var/mirror.toml search 1373 --type letter
    """
    if mirror_archive is not None and not mirror:
        raise click.UsageError("--mirror-archive goes with --mirror")
    if not mirror:
        _crawl(ctx, ctx.obj.config, source_ids, everything, backfill, since_text, as_json, verbose)
        return
    with ExitStack() as stack:
        try:
            config = stack.enter_context(mirror_config(ctx.obj.config, mirror_port, mirror_archive or MIRROR_ARCHIVE))
        except OSError as exc:
            raise click.ClickException(f"cannot serve the mirror on 127.0.0.1:{mirror_port}: {exc.strerror}") from None
        _crawl(ctx, config, source_ids, everything or not source_ids, backfill, since_text, as_json, verbose)
        if not as_json and config.path is not None:
            click.echo(
                f"the mirror's documents are in {config.archive.url}; "
                f"search them with: lawwatch --config {config.path} search 1373"
            )


def _crawl(
    ctx: click.Context,
    config: Config,
    source_ids: tuple[str, ...],
    everything: bool,
    backfill: bool,
    since_text: str | None,
    as_json: bool,
    verbose: int,
) -> None:
    if backfill != bool(since_text):
        raise click.UsageError("--backfill and --since DATE go together")
    since: datetime | None = None
    if since_text:
        from lawwatch.errors import QueryError
        from lawwatch.pipeline.filters import parse_when

        try:
            since = parse_when(since_text, name="--since")
        except QueryError as exc:
            raise click.BadParameter(str(exc), param_hint="--since") from None
    sources = pick_sources(config, source_ids, everything)
    from rich.console import Console
    from rich.live import Live

    from lawwatch.crawler.runner import run_crawl

    log_level = (None, "INFO", "DEBUG")[min(verbose, 2)]  # default: one line per failure (crawler/logs.py)
    console = Console(stderr=True, highlight=False)
    show_live = console.is_terminal and not as_json
    live = Live(console=console, transient=True, refresh_per_second=4) if show_live else None

    def tick(results: list[SourceResult], stats: list[dict[str, Any]]) -> None:
        if live is not None:
            live.update(_table(results, stats))

    if live is not None:
        live.start()
    try:
        results = run_crawl(config, sources, since=since, log_level=log_level, on_tick=tick if live else None)
    finally:
        if live is not None:
            live.stop()
    failed = [r for r in results if r.status == "failed"]
    documents = _documents(config, results, None if as_json else SHOWN_DOCUMENTS)
    if as_json:
        payload = [{**r.as_dict(), "documents": docs} for r, docs in zip(results, documents, strict=True)]
        sys.stdout.write(json.dumps({"ok": not failed, "sources": payload}, ensure_ascii=False) + "\n")
    else:
        from rich.markup import escape

        out = Console(highlight=False)
        out.print(_table(results))
        for r in results:
            if r.status != "ok" and r.error_messages:
                out.print(f"[bold]{r.source}[/] ({r.status}): " + escape("; ".join(r.error_messages[:3])))
        for r, docs in zip(results, documents, strict=True):
            _print_documents(out, r, docs)
    if failed:
        ctx.exit(1)


def _documents(config: Config, results: list[SourceResult], limit: int | None) -> list[list[dict[str, Any]]]:
    """Per source, the documents its run stored as new or updated (the first ``limit``; None: all)."""
    if not any(len(r.new_ids) or len(r.updated_ids) for r in results):
        return [[] for _ in results]
    from lawwatch.crawler.runner import changed_documents
    from lawwatch.pipeline.db import open_archive

    archive = open_archive(config.archive.url, migrate=False)  # the crawl opened (and migrated) it
    try:
        return [changed_documents(archive, r, limit) for r in results]
    finally:
        archive.dispose()


def _print_documents(out: Console, result: SourceResult, docs: list[dict[str, Any]]) -> None:
    """``SOURCE: N new, M updated`` and the titles of the first ``SHOWN_DOCUMENTS`` of them."""
    from rich.markup import escape

    if not docs:
        return
    new, updated = len(result.new_ids), len(set(result.updated_ids) - set(result.new_ids))
    out.print(f"[bold]{result.source}[/]: {new} new, {updated} updated")
    for doc in docs:
        out.print(f"  {doc['status']:<7} #{doc['id']}  " + escape(" ".join(str(doc["title"]).split())), overflow="fold")
    more = new + updated - len(docs)
    if more > 0:
        out.print(f"  … and {more} more (--json lists them all)")
