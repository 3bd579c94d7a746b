"""Import runs: one JSON-lines file through the ingest service, recorded like a crawl run.

``import_stream`` reads a backfill stream (``pipeline.importer``; its format told from its first lines unless
given), sends its good lines down the one ingest path (normalize → classify → store) and writes one ``crawl_runs``
row per source it stored under, with its own counts and the first bad lines, so ``lawwatch status`` shows imports
beside crawls.
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import chain, islice
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import select

from lawwatch.errors import ImportFileError, ImportFormatError, UsageError
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.importer import DEFAULT_SOURCE, SNIFF_LINES, TEXT_FIELDS, Format, carries, read_jsonl, sniff
from lawwatch.pipeline.ingest import IngestSettings, ingest
from lawwatch.pipeline.models import CrawlRun, utcnow
from lawwatch.pipeline.normalize import NormalizedDocument

if TYPE_CHECKING:
    from lawwatch.alerts.rules import ResolvedRule

KEPT_MESSAGES = 20  # bad lines kept on the run row (the count covers them all)


def import_stream(
    archive: Archive,
    stream: IO[str],
    *,
    file: str,
    fmt: Format | None = None,
    source: str | None = None,
    batch_size: int = 500,
    on_line: Callable[[], None] | None = None,
    on_bad_line: Callable[[ImportFormatError], None] | None = None,
    rules: tuple[ResolvedRule, ...] = (),
) -> dict[str, Any]:
    """Import the JSON lines of ``stream`` (named ``file``) in format ``fmt`` and record the run.

    ``fmt`` None: the format is told from the first lines (``importer.sniff``); ``ImportFileError`` when they do
    not tell. A ``fmt`` given for lines that look like another format (none of the first lines has its text
    field, most have another's) is a ``UsageError`` naming that format, before anything is stored.
    ``on_line`` is called after each line is read, ``on_bad_line`` with each line that does not fit the format
    (it is skipped). ``rules``: the alert rules whose outbox rows are written with the documents (none: a
    backfill that alerts nobody). Returns the summary ``{file, format, new, updated, unchanged, errors}``; raises
    ``ImportFileError`` (after recording the run) when there were bad lines and not one good one."""
    head = list(islice(stream, SNIFF_LINES))
    fmt = choose_format(head, fmt, file)
    errors: list[ImportFormatError] = []
    started = utcnow()

    def documents() -> Iterator[NormalizedDocument]:
        for item in read_jsonl(chain(head, stream), fmt, source=source):
            if on_line is not None:
                on_line()
            if isinstance(item, ImportFormatError):
                if on_bad_line is not None:
                    on_bad_line(item)
                errors.append(item)
            else:
                yield item

    url = archive.engine.url.render_as_string(hide_password=False)
    counts = ingest(archive, documents(), IngestSettings(url, batch_size=batch_size, rules=rules))
    summary: dict[str, Any] = {"file": file, "format": fmt, **counts.as_dict(), "errors": len(errors)}
    by_source = counts.by_source or {source or DEFAULT_SOURCE.get(fmt, fmt): Counter()}
    record_import(archive, by_source, file=file, fmt=fmt, errors=errors, started=started)
    if errors and counts.new + counts.updated + counts.unchanged == 0:
        raise ImportFileError(file, f"no line could be imported ({len(errors)} bad lines)")
    return summary


def choose_format(head: Sequence[str], fmt: Format | None, file: str) -> Format:
    """The format to read a file in, from its first lines ``head`` and the format asked for (None: detect it)."""
    detected = sniff(head)
    if fmt is None:
        if detected is None:
            fields = ", ".join(f"{key!r} ({name})" for name, key in TEXT_FIELDS.items())
            if not any(line.strip() for line in head):
                raise ImportFileError(file, "no lines to import")
            raise ImportFileError(
                file, f"cannot tell the format from the first lines: none has a text field ({fields}); use --format"
            )
        return detected
    if detected is not None and detected != fmt and not carries(head, fmt):
        raise UsageError(f"{file}: these lines look like {detected}, not {fmt}; use --format {detected}")
    return fmt


def record_import(
    archive: Archive,
    by_source: Mapping[str, Counter[str]],
    *,
    file: str,
    fmt: str,
    errors: Sequence[ImportFormatError | str],
    started: datetime,
) -> None:
    """Record an import like a crawl run: one row per source with its own new/updated/unchanged counts."""
    status = "ok" if not errors else "partial"
    messages = [str(e) for e in errors[:KEPT_MESSAGES]]
    with archive.session() as session:
        for name, outcomes in by_source.items():
            session.add(
                CrawlRun(
                    source=name,
                    started_at=started,
                    finished_at=utcnow(),
                    status=status,
                    pages=0,
                    new=outcomes["new"],
                    updated=outcomes["updated"],
                    unchanged=outcomes["unchanged"],
                    errors=len(errors),
                    error_messages=messages,
                    stats={"kind": "import", "file": file, "format": fmt},
                )
            )


RUN_HEARTBEAT_STALE = 120.0  # seconds without a heartbeat after which a running crawl run is taken as dead


def process_alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists on this host (a zombie counts as gone only once reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def interrupt_stale_runs(
    archive: Archive,
    *,
    host: str | None = None,
    now: datetime | None = None,
    stale_after: float = RUN_HEARTBEAT_STALE,
    no_heartbeat_after: float = 6 * 3600.0,
    alive: Callable[[int], bool] = process_alive,
) -> list[int]:
    """Mark ``interrupted`` every run still ``running`` whose process is gone: it ran on this host and its pid
    no longer exists, or its heartbeat is older than ``stale_after`` seconds (a run without heartbeats, written by
    an older lawwatch: started more than ``no_heartbeat_after`` ago). Returns the ids marked."""
    host = host or socket.gethostname()
    now = now or utcnow()
    marked: list[int] = []
    with archive.session() as session:
        for row in session.scalars(select(CrawlRun).where(CrawlRun.status == "running")):
            if row.host == host and row.pid is not None and not alive(row.pid):
                why = f"its process ({row.pid} on {host}) is gone"
            elif row.heartbeat_at is not None and now - row.heartbeat_at > timedelta(seconds=stale_after):
                why = f"no heartbeat since {row.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC"
            elif row.heartbeat_at is None and now - row.started_at > timedelta(seconds=no_heartbeat_after):
                why = f"still running {no_heartbeat_after / 3600:g} h after it started, with no heartbeat"
            else:
                continue
            row.status, row.finished_at = "interrupted", now
            row.error_messages = [*(row.error_messages or []), f"marked interrupted: {why}"][-20:]
            marked.append(row.id)
    return marked
