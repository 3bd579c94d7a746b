"""``lawwatch crawl``: run sources through Scrapy into the archive and summarise each source's run."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from lawwatch.cli._common import LawwatchCommand
from lawwatch.crawler.selection import MIRROR_PORT, mirror_config, pick_sources

if TYPE_CHECKING:
    from rich.table import Table

    from lawwatch.config import Config
    from lawwatch.crawler.runner import SourceResult

COLUMNS = ("pages", "new", "updated", "unchanged", "errors", "seconds")
_STYLE = {"ok": "green", "partial": "yellow", "failed": "bold red", "running": "cyan"}


def _table(results: list[SourceResult], live: list[dict[str, Any]] | None = None) -> Table:
    from rich.table import Table

    table = Table(title=None if live else "crawl summary")
    table.add_column("source")
    table.add_column("status")
    for name in COLUMNS:
        table.add_column(name, justify="right")
    for index, r in enumerate(results):
        values: dict[str, Any] = r.as_dict()
        if live is not None and r.status == "running":
            stats = live[index]
            counters = ("pages", "new", "updated", "unchanged", "errors")
            values.update({k: stats.get(f"lawwatch/{k}", 0) for k in counters})
            values["seconds"] = "…"
        style = _STYLE.get(r.status, "")
        table.add_row(r.source, f"[{style}]{r.status}[/]", *(str(values[c]) for c in COLUMNS))
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
) -> None:
    """Fetch new and changed documents from the given sources (or --all) into the archive.

    All sources run at once in one Scrapy process; each gets a crawl_runs row (see `lawwatch status`). Exit code
    1 when any source failed. With --mirror, the bundled offline mirror of every source is served on loopback and
    crawled instead (all its sources unless some are named), into the configured archive.

    \b
    Example:
      lawwatch crawl --all
      lawwatch crawl doj_api doj_rss --json
      lawwatch crawl doj_news --backfill --since 2017-01-01
      lawwatch crawl --mirror && lawwatch search 1373 --type letter
    """
    if not mirror:
        _crawl(ctx, ctx.obj.config, source_ids, everything, backfill, since_text, as_json, verbose)
        return
    with ExitStack() as stack:
        try:
            config = stack.enter_context(mirror_config(ctx.obj.config, mirror_port))
        except OSError as exc:
            raise click.ClickException(f"cannot serve the mirror on 127.0.0.1:{mirror_port}: {exc.strerror}") from None
        _crawl(ctx, config, source_ids, everything or not source_ids, backfill, since_text, as_json, verbose)


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
        from lawwatch.pipeline.normalize import to_utc

        try:
            since = to_utc(since_text)
        except ValueError:
            raise click.BadParameter(f"{since_text!r} is not a date like 2017-01-01", param_hint="--since") from None
    sources = pick_sources(config, source_ids, everything)
    from rich.console import Console
    from rich.live import Live

    from lawwatch.crawler.runner import run_crawl

    log_level = ("WARNING", "INFO", "DEBUG")[min(verbose, 2)]
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
    if as_json:
        payload = {"ok": not failed, "sources": [r.as_dict() for r in results]}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        from rich.markup import escape

        out = Console(highlight=False)
        out.print(_table(results))
        for r in results:
            if r.status != "ok" and r.error_messages:
                out.print(f"[bold]{r.source}[/] ({r.status}): " + escape("; ".join(r.error_messages[:3])))
    if failed:
        ctx.exit(1)
