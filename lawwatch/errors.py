"""lawwatch's exception tree.

Every error lawwatch raises on purpose derives from one root, so the command line can turn any of them into one
clear line and an exit code (``lawwatch.cli``: ``UsageError`` and ``ConfigError`` exit 2, the rest 1) and the crawl
runner can record them on a ``crawl_runs`` row::

    LawwatchError
    ├── UsageError           the user asked for something that cannot be done as asked (names what to say instead)
    │   └── UnknownSourceError   a source id that the settings do not configure
    │       └── UnknownFilterSourceError   a filter's source id neither configured nor in the archive
    ├── ConfigError          settings.toml is unreadable or invalid (names the file and key path)
    ├── ArchiveError         the archive cannot be opened, migrated or written
    │   ├── NoArchiveError   a read-only command found no archive (it never creates one)
    │   └── QueryError       a search query or filter the user gave is malformed
    ├── ImportFormatError    a backfill file has lines that do not fit the chosen format
    ├── ImportFileError      a whole backfill file could not be imported (e.g. not one good line)
    ├── CrawlError           a source failed (fetch, parse or sanity check)
    ├── ClassifyError        the classifier cannot load its gazetteer or read an input
    └── AlertError           an alert could not be rendered or delivered
"""

from __future__ import annotations

SHOWN_INPUT = 80  # the most characters of a user's input that an error message repeats


def shown(value: object, limit: int = SHOWN_INPUT) -> str:
    """``repr`` of a user's input for an error message, cut to ``limit`` characters ("…" marks the cut), so that a
    100 KB query or a pasted file never floods the one error line."""
    text = str(value)
    return repr(text) if len(text) <= limit else repr(text[: limit - 1] + "…")


class LawwatchError(Exception):
    """Root of every error lawwatch raises on purpose."""


class UsageError(LawwatchError):
    """The user asked for something that cannot be done as asked, e.g. a crawl with neither sources nor ``--all``."""


class UnknownSourceError(UsageError):
    """Source ids that the settings do not configure; ``known`` lists the ones they do."""

    def __init__(self, unknown: list[str], known: list[str]) -> None:
        self.unknown = unknown
        self.known = known
        super().__init__(f"unknown source {', '.join(unknown)} (configured: {', '.join(known) or 'none configured'})")


class UnknownFilterSourceError(UnknownSourceError):
    """A filter's source ids (``--source``) that are neither configured nor found in the archive; ``known`` lists
    the ones that are."""

    def __init__(self, unknown: list[str], known: list[str]) -> None:  # noqa: B042 -- the fields are kept
        self.unknown = unknown
        self.known = known
        names = ", ".join(shown(name) for name in unknown)
        UsageError.__init__(self, f"unknown source {names} (known sources: {', '.join(known) or 'none'})")


class ConfigError(LawwatchError):
    """settings.toml (or an override) is invalid; ``key`` is the dotted key path, e.g. ``sources[2].schedule``."""

    def __init__(self, path: str, key: str, message: str) -> None:
        self.path = path
        self.key = key
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.key:
            return f"{self.path}: {self.key}: {self.message}"
        return f"{self.path}: {self.message}"


class ArchiveError(LawwatchError):
    """The archive cannot be opened, migrated or written."""


class NoArchiveError(ArchiveError):
    """A command that only reads found no archive at ``where`` (a SQLite file that does not exist); it never
    creates one."""

    def __init__(self, where: str) -> None:
        self.where = where
        super().__init__(f"no archive at {where}; run `lawwatch crawl` or set archive.url")


class QueryError(ArchiveError):
    """A search query or filter given by the user is malformed."""


class ImportFormatError(LawwatchError):
    """A line of a backfill file does not fit the chosen format."""

    def __init__(self, line_no: int, message: str) -> None:
        self.line_no = line_no
        self.message = message
        super().__init__(f"line {line_no}: {message}")


class ImportFileError(LawwatchError):
    """A whole backfill file could not be imported; ``file`` is its name as given ("-" for standard input)."""

    def __init__(self, file: str, message: str) -> None:
        self.file = file
        self.message = message
        super().__init__(f"{file}: {message}")


class CrawlError(LawwatchError):
    """A source failed: fetch, parse or sanity check."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        self.message = message
        super().__init__(f"{source}: {message}")


class ClassifyError(LawwatchError):
    """The classifier cannot load its gazetteer or read an input."""


class AlertError(LawwatchError):
    """An alert could not be rendered or delivered."""
