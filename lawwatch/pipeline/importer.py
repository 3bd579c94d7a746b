"""Backfill from JSON lines: the justice.gov API shape, the 2009–2018 DOJ dataset shape, and lawwatch's own export.

``read_jsonl`` yields a :class:`NormalizedDocument` for each good line and an :class:`ImportFormatError` (with the
line number) for each bad one, so a caller can report the bad lines and import the rest. A line must carry its
format's text field (``TEXT_FIELDS``: ``body`` for doj-api, ``contents`` for doj-dataset, ``body_text`` for
lawwatch), so a file read in the wrong format is refused line by line instead of stored as empty documents.
``sniff`` tells the format from a file's first lines by the same fields.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Literal
from urllib.parse import urljoin

from lawwatch.errors import ImportFormatError
from lawwatch.pipeline.normalize import NormalizedDocument, normalize_document, to_utc

Format = Literal["doj-api", "doj-dataset", "lawwatch"]
FORMATS: tuple[Format, ...] = ("doj-api", "doj-dataset", "lawwatch")
DEFAULT_SOURCE: dict[str, str] = {"doj-api": "doj_api", "doj-dataset": "doj_dataset"}
JUSTICE_GOV = "https://www.justice.gov"
# The field that holds each format's text: it tells the formats apart, and a line without it is not of that format.
TEXT_FIELDS: dict[Format, str] = {"doj-api": "body", "doj-dataset": "contents", "lawwatch": "body_text"}
SNIFF_LINES = 20  # lines looked at by ``sniff``


def _names(value: Any) -> list[str]:
    """``component[]``/``topic[]`` come as objects with a ``name``, as plain strings, or as one string."""
    if value in (None, ""):
        return []
    items = value if isinstance(value, list) else [value]
    names = [item.get("name") if isinstance(item, Mapping) else item for item in items]
    return [str(n).strip() for n in names if n not in (None, "")]


def _require(record: Mapping[str, Any], *keys: str) -> None:
    missing = [k for k in keys if record.get(k) in (None, "")]
    if missing:
        raise ValueError(f"missing {', '.join(repr(k) for k in missing)}")


def from_doj_api(record: Mapping[str, Any], source: str) -> NormalizedDocument:
    """A justice.gov ``/api/v1/press_releases.json`` result (or the corpus' flattened copy of one); its text is the
    HTML ``body``, which must not be empty."""
    _require(record, "title", "date", "body")
    url = record.get("url")
    return normalize_document(
        source=source,
        url=urljoin(JUSTICE_GOV, str(url)) if url else None,
        external_id=record.get("uuid") or record.get("id"),
        title=str(record["title"]),
        html=str(record.get("body") or ""),
        published=record.get("date") or record.get("created"),
        form="press_release",
        metadata={
            "release_number": record.get("number"),
            "components": _names(record.get("component")),
            "topics": _names(record.get("topic")),
            "teaser": record.get("teaser"),
        },
    )


def from_doj_dataset(record: Mapping[str, Any], source: str) -> NormalizedDocument:
    """A release of the 13,087-release DOJ dataset (``contents`` is already text; ``date`` is ISO 8601)."""
    _require(record, "title", "contents")
    return normalize_document(
        source=source,
        url=record.get("url") or None,
        external_id=record.get("id"),
        title=str(record["title"]),
        text=str(record["contents"]),
        published=record.get("date"),
        form="press_release",
        metadata={"components": _names(record.get("components")), "topics": _names(record.get("topics"))},
    )


def from_lawwatch(record: Mapping[str, Any], source: str | None) -> NormalizedDocument:
    """A line of ``lawwatch export --format jsonl``; the record's own source wins unless one is forced. It must
    have ``body_text`` (empty only when the exported document was)."""
    _require(record, "source", "title")
    if not isinstance(record.get("body_text"), str):
        raise ValueError("missing 'body_text'")
    return normalize_document(
        source=source or str(record["source"]),
        url=record.get("url"),
        external_id=record.get("external_id"),
        title=str(record["title"]),
        text=str(record.get("body_text") or ""),
        published=record.get("published_at"),
        fetched_at=to_utc(record["fetched_at"]) if record.get("fetched_at") else None,
        form=record.get("form"),
        metadata=record.get("metadata") or {},
    )


def _reader(fmt: Format, source: str | None) -> Callable[[Mapping[str, Any]], NormalizedDocument]:
    if fmt == "lawwatch":
        return lambda record: from_lawwatch(record, source)
    chosen = source or DEFAULT_SOURCE[fmt]
    if fmt == "doj-api":
        return lambda record: from_doj_api(record, chosen)
    return lambda record: from_doj_dataset(record, chosen)


def _objects(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            yield record


def sniff(lines: Iterable[str]) -> Format | None:
    """The format most of ``lines`` (JSON objects; others are ignored) are in, by their text field (see
    ``TEXT_FIELDS``); None when no line has exactly one of those fields."""
    votes: Counter[Format] = Counter()
    for record in _objects(lines):
        kinds = [fmt for fmt, key in TEXT_FIELDS.items() if key in record]
        if len(kinds) == 1:
            votes[kinds[0]] += 1
    return votes.most_common(1)[0][0] if votes else None


def carries(lines: Iterable[str], fmt: Format) -> bool:
    """Whether any of ``lines`` is a JSON object with ``fmt``'s text field."""
    return any(TEXT_FIELDS[fmt] in record for record in _objects(lines))


def read_jsonl(
    stream: Iterable[str], fmt: Format, *, source: str | None = None
) -> Iterator[NormalizedDocument | ImportFormatError]:
    """Parse ``stream`` line by line; blank lines are skipped, bad lines come back as errors."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown import format {fmt!r}; choose one of {', '.join(FORMATS)}")
    convert = _reader(fmt, source)
    for line_no, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield ImportFormatError(line_no, f"not JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(record, dict):
            yield ImportFormatError(line_no, f"expected a JSON object, got {type(record).__name__}")
            continue
        try:
            document = convert(record)
        except (ValueError, TypeError, OverflowError) as exc:
            yield ImportFormatError(line_no, f"not a {fmt} record: {exc}")
            continue
        if fmt != "lawwatch" and not document.body_text.strip():  # an export keeps an empty body as it was
            yield ImportFormatError(line_no, f"not a {fmt} record: its {TEXT_FIELDS[fmt]!r} holds no text")
            continue
        yield document
