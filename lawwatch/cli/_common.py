"""What every command module shares: the error-to-exit-code mapping, ``App`` (settings and archive, opened lazily),
and the output helpers (JSON, rich consoles).

Importing this module costs click only: the settings loader, the archive and rich are imported when first used,
so ``lawwatch --version`` and ``--help`` stay fast.
"""

from __future__ import annotations

import json
import sys
from typing import IO, TYPE_CHECKING, Any

import click

from lawwatch.errors import ConfigError, LawwatchError, UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from lawwatch.config import Config
    from lawwatch.pipeline.db import Archive


class ConfigProblem(click.ClickException):
    """Wrong settings exit 2, like a usage error."""

    exit_code = 2


def to_click(exc: LawwatchError, ctx: click.Context | None = None) -> click.ClickException:
    """The one place lawwatch's errors become exit codes: ``UsageError`` (with the command's usage line) and
    ``ConfigError`` exit 2, every other ``LawwatchError`` exits 1; all print one line, no traceback."""
    if isinstance(exc, UsageError):
        return click.UsageError(str(exc), ctx)
    if isinstance(exc, ConfigError):
        return ConfigProblem(str(exc))
    return click.ClickException(str(exc))


class LawwatchCommand(click.Command):
    """A command whose ``LawwatchError``s become one line and an exit code (see :func:`to_click`)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LawwatchError as exc:
            raise to_click(exc, ctx) from None


class LawwatchGroup(click.Group):
    """A group whose commands (and subgroups) are ``LawwatchCommand``s; it maps errors of its own callback too."""

    command_class = LawwatchCommand
    group_class = type  # subgroups made with @group.group() are LawwatchGroups as well

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LawwatchError as exc:
            raise to_click(exc, ctx) from None


class App:
    """What every command needs: the settings and the archive, each opened once and only when needed."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._config: Config | None = None
        self._archive: Archive | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            from lawwatch.config import load_config

            self._config = load_config(self.config_path)
        return self._config

    @property
    def archive(self) -> Archive:
        if self._archive is None:
            from lawwatch.pipeline.db import open_archive

            self._archive = open_archive(self.config.archive.url, echo=self.config.archive.echo)
        return self._archive

    def close(self) -> None:
        if self._archive is not None:
            self._archive.dispose()


pass_app = click.make_pass_decorator(App)


def console(err: bool = False) -> Console:
    """A rich console on stdout (or stderr) without automatic highlighting or wrapping."""
    from rich.console import Console

    return Console(stderr=err, highlight=False, soft_wrap=False)


def emit_json(data: Any, stream: IO[str] | None = None) -> None:
    """``data`` as one line of JSON on ``stream`` (standard output by default)."""
    (stream or sys.stdout).write(json.dumps(data, ensure_ascii=False, sort_keys=False) + "\n")
