"""What a channel renders: alerts and digests as frozen plain data, independent of the database.

The dispatcher builds these from outbox rows; channels only read them. Every text field holds *untrusted* scraped
text exactly as archived — escaping is the channel's job (``lawwatch.alerts.escape``), never the builder's.

Identifiers are deterministic: ``Alert.message_id`` depends only on the outbox id, the rule, the document id and the
revision, and ``Digest.message_id`` only on the rule, the target, the period end and the alerts in it — so a retried
delivery carries the same ``Message-ID`` / ``X-Lawwatch-Delivery`` and a receiver can drop duplicates. No hostname
goes into them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = [
    "MARK_CLOSE",
    "MARK_OPEN",
    "Alert",
    "AlertDocument",
    "Change",
    "Digest",
    "Notice",
    "SnippetPart",
    "Why",
    "as_utc",
    "parse_snippet",
]

MARK_OPEN, MARK_CLOSE = "\x02", "\x03"  # the search module's snippet sentinels (``_finish(row, MARK_OPEN, ...)``)
_ATOM_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class SnippetPart:
    """A piece of a snippet; ``match=True`` when it is a word that made the rule match (shown emphasised)."""

    text: str
    match: bool = False


def parse_snippet(marked: str, open_: str = MARK_OPEN, close: str = MARK_CLOSE) -> tuple[SnippetPart, ...]:
    """``"a \\x02b\\x03 c"`` → ``(a , b*, c)``: split a search snippet at its match markers.

    Whitespace is collapsed; an unmatched marker is dropped rather than trusted; empty parts are left out.
    """
    parts: list[SnippetPart] = []
    text = " ".join(marked.split())
    for i, chunk in enumerate(text.split(open_)):
        if i == 0:
            pieces = [(chunk.replace(close, ""), False)]
        else:
            inside, sep, after = chunk.partition(close)
            pieces = [(inside, bool(sep)), (after.replace(close, ""), False)] if sep else [(inside, False)]
        parts.extend(SnippetPart(t, m) for t, m in pieces if t)
    return tuple(parts)


@dataclass(frozen=True, slots=True)
class AlertDocument:
    """One archived document as an alert shows it.

    ``jurisdictions`` are display names ("Cook County, Illinois"), ``statutes`` display strings ("8 U.S.C. § 1373"),
    ``published_at`` is UTC (a naive value is taken as UTC), ``url`` may be ``None`` or any scheme — channels link it
    only when it is http(s).
    """

    id: int
    title: str
    url: str | None
    source: str
    doc_type: str
    published_at: datetime | None = None
    jurisdictions: tuple[str, ...] = ()
    statutes: tuple[str, ...] = ()
    snippet: tuple[SnippetPart, ...] = ()

    @property
    def snippet_text(self) -> str:
        """The snippet without emphasis."""
        return "".join(p.text for p in self.snippet)

    @property
    def date(self) -> str:
        """``YYYY-MM-DD`` in UTC, or ``""`` when the date is unknown."""
        return as_utc(self.published_at).strftime("%Y-%m-%d") if self.published_at else ""


@dataclass(frozen=True, slots=True)
class Why:
    """What made the rule match: the rule's jurisdictions, statutes and words found in the document."""

    jurisdictions: tuple[str, ...] = ()
    statutes: tuple[str, ...] = ()
    words: tuple[str, ...] = ()

    def describe(self) -> str:
        """One plain line, e.g. ``jurisdictions: Chicago, Illinois; statutes: 8 U.S.C. § 1373; words: sanctuary``."""
        parts = [
            f"{label}: {', '.join(values)}"
            for label, values in (
                ("jurisdictions", self.jurisdictions),
                ("statutes", self.statutes),
                ("words", self.words),
            )
            if values
        ]
        return "; ".join(parts) or "all documents"


@dataclass(frozen=True, slots=True)
class Change:
    """One field of an already-alerted document that changed (an "any-change" re-alert)."""

    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class Alert:
    """One (rule, document, target) delivery: the outbox row ``outbox_id``.

    ``revision`` is 0 for the first alert and grows with each any-change re-alert of the same outbox row, so every
    re-alert gets its own ``message_id`` (mail clients drop a second message with a known Message-ID).
    """

    outbox_id: int
    rule: str
    target: str
    document: AlertDocument
    why: Why = field(default_factory=Why)
    changes: tuple[Change, ...] = ()
    revision: int = 0

    @property
    def message_id(self) -> str:
        """``<alert-{outbox_id}-{rule}-{document_id}@lawwatch>`` (``-r{revision}`` added for a re-alert)."""
        rev = f"-r{self.revision}" if self.revision else ""
        return f"<alert-{self.outbox_id}-{_atom(self.rule)}-{self.document.id}{rev}@lawwatch>"

    @property
    def is_change(self) -> bool:
        return bool(self.changes)


@dataclass(frozen=True, slots=True)
class Digest:
    """Every alert of one rule for one target over ``[period_start, period_end)``; all alerts must share both."""

    rule: str
    target: str
    alerts: tuple[Alert, ...]
    period_start: datetime
    period_end: datetime

    def __post_init__(self) -> None:
        stray = [a.outbox_id for a in self.alerts if (a.rule, a.target) != (self.rule, self.target)]
        if stray:
            raise ValueError(f"digest {self.rule}/{self.target} holds alerts of another rule or target: {stray}")

    @property
    def documents(self) -> tuple[AlertDocument, ...]:
        return tuple(a.document for a in self.alerts)

    @property
    def message_id(self) -> str:
        """``<digest-{rule}-{target}-{period_end}-{hash of the outbox ids}@lawwatch>``."""
        ids = ",".join(str(i) for i in sorted(a.outbox_id for a in self.alerts))
        digest = hashlib.sha256(ids.encode()).hexdigest()[:12]
        end = as_utc(self.period_end).strftime("%Y%m%dT%H%M%SZ")
        return f"<digest-{_atom(self.rule)}-{_atom(self.target)}-{end}-{digest}@lawwatch>"

    @property
    def period(self) -> str:
        """``2024-05-01 – 2024-05-02`` (UTC dates) or one date when both fall on the same day."""
        start, end = as_utc(self.period_start).strftime("%Y-%m-%d"), as_utc(self.period_end).strftime("%Y-%m-%d")
        return start if start == end else f"{start} – {end}"


@dataclass(frozen=True, slots=True)
class Notice:
    """A message to the operators that is about no document: the watchdog saying a source went quiet, is failing,
    or recovered (``lawwatch run``, ``alerts.ops_targets``).

    ``key`` names the event (the same on every retry of it, different for the next event), so ``message_id`` is
    stable per event; ``lines`` are plain text (scraped text may appear in them, e.g. a crawl error: channels
    escape them like any other text).
    """

    key: str
    target: str
    subject: str
    lines: tuple[str, ...] = ()
    source: str = ""
    state: str = ""
    kind: str = "watchdog"

    @property
    def message_id(self) -> str:
        """``<notice-{key}@lawwatch>``."""
        return f"<notice-{_atom(self.key)}@lawwatch>"


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive value is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _atom(text: str) -> str:
    """A Message-ID-safe token (RFC 5322 atext subset) for a rule or target name; never empty."""
    return _ATOM_UNSAFE.sub("-", text).strip("-")[:64] or "x"
