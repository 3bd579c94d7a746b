"""What every command module shares: the error-to-exit-code mapping, ``App`` (settings and archive, opened lazily),
and the output helpers (JSON, rich consoles).

Importing this module costs click only: the settings loader, the archive and rich are imported when first used,
so ``lawwatch --version`` and ``--help`` stay fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

import click

from lawwatch.errors import ConfigError, LawwatchError, UnknownFilterSourceError, UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from lawwatch.config import Config
    from lawwatch.pipeline.db import Archive


class ConfigProblem(click.ClickException):
    """Wrong settings exit 2, like a usage error."""

    exit_code = 2


ERROR_LINE_MAX = 600  # the one error line is cut here (user input in it is cut at 80 characters already)


def one_line(text: str, limit: int = ERROR_LINE_MAX) -> str:
    """``text`` on one line (runs of whitespace, newlines included, become one space), at most ``limit`` chars."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class OneLineError(click.ClickException):
    """Any click error (lawwatch's, a bad option value, a missing file) shown as exactly one line on standard
    error, ``Error: <message>``, a usage error followed by the command's usage; the exit code is kept."""

    def __init__(self, exc: click.ClickException) -> None:
        message = exc.format_message()
        ctx = getattr(exc, "ctx", None)
        if isinstance(exc, click.UsageError) and ctx is not None:
            usage = one_line(ctx.get_usage()).removeprefix("Usage: ")
            message = f"{message} (usage: {usage})"
        super().__init__(one_line(message))
        self.exit_code = exc.exit_code  # type: ignore[misc]  # click declares it per class; this one wraps any

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"Error: {self.format_message()}", file=file or sys.stderr)


def to_click(exc: LawwatchError, ctx: click.Context | None = None) -> click.ClickException:
    """The one place lawwatch's errors become exit codes: ``UsageError`` (with the command's usage) and
    ``ConfigError`` exit 2, every other ``LawwatchError`` exits 1; all print one line, no traceback."""
    if isinstance(exc, UsageError):
        return OneLineError(click.UsageError(str(exc), ctx))
    if isinstance(exc, ConfigError):
        return OneLineError(ConfigProblem(str(exc)))
    return OneLineError(click.ClickException(str(exc)))


def _mapped(exc: Exception, ctx: click.Context | None) -> click.ClickException | None:
    """The one-line error for an exception escaping a command: lawwatch's errors, click's own, and failures of the
    environment (the database went away, a file cannot be written); None for anything else (a bug: traceback)."""
    if isinstance(exc, OneLineError | click.exceptions.Exit | click.exceptions.Abort):
        return None
    if isinstance(exc, LawwatchError):
        return to_click(exc, ctx)
    if isinstance(exc, click.ClickException):
        return OneLineError(exc)
    database = sys.modules.get("sqlalchemy.exc")  # not imported: not a database error (--help stays light)
    if database is not None and isinstance(exc, database.SQLAlchemyError):
        from lawwatch.pipeline.db import describe_error

        return OneLineError(click.ClickException(f"the archive failed: {describe_error(exc)}"))
    if isinstance(exc, OSError) and exc.strerror and not isinstance(exc, BrokenPipeError):
        where = f"{exc.filename}: " if exc.filename else ""
        return OneLineError(click.ClickException(f"{where}{exc.strerror}"))
    return None


class LawwatchCommand(click.Command):
    """A command whose errors become one line and an exit code (see :func:`to_click`)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            mapped = _mapped(exc, ctx)
            if mapped is None:
                raise
            raise mapped from None


_DASH_WORD = "\0"  # marks an argument that starts with "-" but is a word; no command-line argument contains NUL


class WordsCommand(LawwatchCommand):
    """A command whose variadic argument takes words that start with "-" (``lawwatch search -texas sanctuary``):
    an argument that starts with one "-" and is not one of the command's options (nor an option's value) is a word.
    Unknown ``--long`` options stay errors; after ``--`` everything is a word. The command reads its words with
    :func:`words`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        flags: set[str] = set()
        valued: set[str] = set()
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                names = {*param.opts, *param.secondary_opts}
                (flags if param.is_flag or param.count else valued).update(names)
        marked: list[str] = []
        value_next = words_only = False
        for arg in args:
            if words_only or value_next:
                value_next = False
                marked.append(arg)
            elif arg == "--":
                words_only = True
                marked.append(arg)
            elif arg in flags or arg in valued or arg.startswith("--") or not arg.startswith("-") or arg == "-":
                value_next = arg in valued
                marked.append(arg)
            else:
                marked.append(_DASH_WORD + arg)
        return super().parse_args(ctx, marked)


def words(values: tuple[str, ...]) -> str:
    """The words a :class:`WordsCommand` read, joined by spaces."""
    return " ".join(value.removeprefix(_DASH_WORD) for value in values)


class LawwatchGroup(click.Group):
    """A group whose commands (and subgroups) are ``LawwatchCommand``s; every error of its commands, of its own
    callback and of reading the command line is one line (:class:`OneLineError`)."""

    command_class = LawwatchCommand
    group_class = type  # subgroups made with @group.group() are LawwatchGroups as well

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.ClickException as exc:
            raise _mapped(exc, None) or exc from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            mapped = _mapped(exc, ctx)
            if mapped is None:
                raise
            raise mapped from None


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
        """The archive, created (and migrated) when it does not exist yet: for the commands that write."""
        return self._open(create=True)

    @property
    def existing_archive(self) -> Archive:
        """The archive, which must exist (``NoArchiveError`` otherwise): for the commands that only read it."""
        return self._open(create=False)

    def _open(self, *, create: bool) -> Archive:
        if self._archive is None:
            from lawwatch.pipeline.db import open_archive

            archive = self.config.archive
            self._archive = open_archive(archive.url, echo=archive.echo, create=create)
        return self._archive

    def check_sources(self, sources: Sequence[str]) -> None:
        """``UnknownFilterSourceError`` unless every id in ``sources`` is a configured source or a source of
        documents in the archive (the one a document was stored by, or one it was seen via)."""
        if not sources:
            return
        from lawwatch.pipeline.query import archive_sources

        configured = {s.id for s in self.config.sources}
        unknown = [s for s in dict.fromkeys(sources) if s not in configured]
        if not unknown:
            return
        with self.existing_archive.session() as session:
            stored = archive_sources(session)
        unknown = [s for s in unknown if s not in stored]
        if unknown:
            raise UnknownFilterSourceError(unknown, sorted(configured | stored))

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
