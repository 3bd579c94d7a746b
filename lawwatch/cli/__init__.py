"""The ``lawwatch`` command: a click group over the archive, the importer, the classifier, crawls and the mirror.

One module per command group (``db``, ``config``, ``importing``, ``search`` for search/show/export/status,
``reclassify``, ``crawl``, ``mirror``, ``classify``, ``alerts``, ``run``); ``_common`` holds what they share and
``filters`` the filter options. This package is the only code that imports click or rich, and each command
imports its heavy dependencies (the archive, Scrapy, the classifier, rich) when it runs, so ``lawwatch
--version`` and ``--help`` start fast.

Domain errors become one clear line at this edge (``_common.to_click``): ``UsageError`` (with the command's usage)
and ``ConfigError`` exit 2, like a usage error; every other ``LawwatchError`` exits 1; no traceback. Click's own
errors, database failures and unwritable files are one line too (``_common.OneLineError``). ``--json``
output is one JSON document, or JSON lines for streams; the shapes are documented in README.md ("JSON output").
"""

from __future__ import annotations

import click

from lawwatch.cli._common import App, LawwatchGroup
from lawwatch.cli.alerts import alerts_group
from lawwatch.cli.classify import classify
from lawwatch.cli.config import config_group
from lawwatch.cli.crawl import crawl
from lawwatch.cli.db import db
from lawwatch.cli.demo import demo
from lawwatch.cli.importing import import_cmd
from lawwatch.cli.mirror import mirror
from lawwatch.cli.reclassify import reclassify_cmd
from lawwatch.cli.run import run_cmd
from lawwatch.cli.search import export, search, show, status
from lawwatch.cli.serve import serve

__all__ = ["cli", "main"]


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

    Errors are one line on standard error (exit 2: a usage or settings error, 1: any other failure).

    \b
    Example (from a checkout):
      lawwatch import tests/examples/import/doj_api_sample.jsonl
      lawwatch search 1373 --jurisdiction "Cook County, IL" --since 2017 --until 2017
    \b
    Shell completion (bash; zsh and fish alike):
      eval "$(_LAWWATCH_COMPLETE=bash_source lawwatch)"
    """
    app = App(config_path)
    ctx.obj = app
    ctx.call_on_close(app.close)


for _command in (
    db,
    config_group,
    import_cmd,
    search,
    show,
    export,
    status,
    reclassify_cmd,
    classify,
    crawl,
    mirror,
    alerts_group,
    run_cmd,
    demo,
    serve,
):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="lawwatch")


if __name__ == "__main__":
    main()
