"""One log line per event, as text for people or JSON for log shippers (``lawwatch run --log-format json``).

Service code logs an event with :func:`event`: a name and fields, e.g. ``event(log, "crawl", source="doj_api",
status="ok", seconds=2.1, new=3)`` →

    2026-12-02T14:21:37Z INFO crawl source=doj_api status=ok seconds=2.1 new=3
    {"time": "2026-12-02T14:21:37.120Z", "level": "INFO", "event": "crawl", "source": "doj_api", ...}

Any other record (a library's warning, a traceback) is one line too: newlines are escaped in text, and a traceback
becomes the ``exc`` field in JSON.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import IO, Any, Literal

LogFormat = Literal["text", "json"]
_FIELDS = "lawwatch_fields"
_EVENT = "lawwatch_event"


def event(logger: logging.Logger, name: str, level: int = logging.INFO, /, **fields: Any) -> None:
    """Log the event ``name`` with ``fields`` (JSON-able values) as one line."""
    if logger.isEnabledFor(level):
        text = " ".join(f"{k}={_text(v)}" for k, v in fields.items())
        logger.log(level, "%s %s", name, text, extra={_EVENT: name, _FIELDS: fields})


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    text = str(value)
    if not text or any(c.isspace() for c in text) or '"' in text:
        return json.dumps(text, ensure_ascii=False)
    return text


def _when(record: logging.LogRecord, millis: bool) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{stamp}.{int(record.msecs):03d}Z" if millis else f"{stamp}Z"


class TextFormatter(logging.Formatter):
    """``<UTC time> <LEVEL> <event> key=value ...`` (other records: ``<time> <LEVEL> <logger>: <message>``)."""

    def format(self, record: logging.LogRecord) -> str:
        name = getattr(record, _EVENT, None)
        body = record.getMessage() if name else f"{record.name}: {record.getMessage()}"
        if record.exc_info:
            body += " | " + self.formatException(record.exc_info)
        return f"{_when(record, False)} {record.levelname} " + body.replace("\n", " | ")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``event`` (or ``logger`` and ``message``), the fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {"time": _when(record, True), "level": record.levelname}
        name = getattr(record, _EVENT, None)
        if name:
            data["event"] = name
            data.update(getattr(record, _FIELDS, {}))
        else:
            data.update(logger=record.name, message=record.getMessage())
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class _NotSkipped(logging.Filter):
    """Drops APScheduler's "skipped: maximum number of running instances" warning (the service logs that event)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances" not in str(record.msg)


def configure(fmt: LogFormat = "text", level: int = logging.INFO, stream: IO[str] | None = None) -> None:
    """Send every log record to ``stream`` (standard error) in ``fmt``. APScheduler's own lines about jobs are
    muted — the service logs each job, a missed run, a skipped run and a failed job as its own events — but not its
    other warnings (a job store that cannot be read)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # a first start migrates the archive: one line per step
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.executors").setLevel(logging.CRITICAL)
    scheduler = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, _NotSkipped) for f in scheduler.filters):
        scheduler.addFilter(_NotSkipped())
