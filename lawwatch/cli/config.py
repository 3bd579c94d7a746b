"""``lawwatch config``: inspect and validate settings.toml."""

from __future__ import annotations

import click

from lawwatch.cli._common import App, LawwatchGroup, emit_json, pass_app


@click.group("config", cls=LawwatchGroup)
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
    emit_json(app.config.masked())


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
