"""``lawwatch run``: the background service (``lawwatch.scheduler``)."""

from __future__ import annotations

import click

from lawwatch.cli._common import App, LawwatchCommand, pass_app


@click.command("run", cls=LawwatchCommand)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="one line per event: text for people, JSON for log shippers",
)
@click.option("-v", "--verbose", is_flag=True, help="also log each crawl's start (DEBUG)")
@pass_app
def run_cmd(app: App, log_format: str, verbose: bool) -> None:
    """Run the service: crawl every enabled source on its schedule, dispatch alerts, watch for silent sources.

    One scheduler per archive (a second one refuses to start). Jobs live in the archive's database, so a restart
    keeps them. SIGTERM or Ctrl-C stops it cleanly (running crawls are stopped and recorded as interrupted);
    exit code 0. `lawwatch status` shows the schedules, the next runs, the watchdog and the scheduler's heartbeat.

    \b
    Example:
      lawwatch run
      lawwatch --config /etc/lawwatch/settings.toml run --log-format json
    """
    import logging

    from lawwatch.scheduler import Service
    from lawwatch.service import logs

    config = app.config
    logs.configure("json" if log_format == "json" else "text", logging.DEBUG if verbose else logging.INFO)
    code = Service(config).run()
    if code:
        raise click.ClickException("the scheduler stopped because it lost its lock on the archive (see the log)")
