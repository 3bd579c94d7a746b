"""``lawwatch reclassify``: re-tag stored documents after the gazetteer or the rules changed."""

from __future__ import annotations

from collections.abc import Sequence

import click

from lawwatch.cli._common import App, LawwatchCommand, emit_json, pass_app
from lawwatch.cli.filters import DATE


@click.command("reclassify", cls=LawwatchCommand)
@click.option("--all", "everything", is_flag=True, help="re-tag every stored document")
@click.option(
    "--since", type=DATE, help="re-tag documents published on or after DATE (a year, a month, a day or a timestamp)"
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="ID",
    help="only documents seen via this source (repeatable); an id neither configured nor in the archive is an error",
)
@click.option("--json", "as_json", is_flag=True, help="the summary as one JSON document: {documents, changed}")
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
    from lawwatch.pipeline.filters import DocumentFilter
    from lawwatch.pipeline.ingest import reclassify

    flt = DocumentFilter.from_user(sources=sources, since=since)
    app.check_sources(flt.sources)
    summary = reclassify(app.existing_archive, flt)
    if as_json:
        emit_json(summary)
    else:
        click.echo(f"reclassified {summary['documents']} documents: {summary['changed']} changed tags")
