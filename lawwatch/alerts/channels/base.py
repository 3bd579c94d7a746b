"""The channel protocol every ``channels/<kind>.py`` module implements, and helpers they share.

A channel turns an ``Alert``, a ``Digest`` or an operator ``Notice`` into a payload for one target (``render``:
pure, no I/O, may be called again for a retry) and delivers it (``send``: one attempt, bounded in time). ``send``
either returns a ``Delivery`` or raises ``DeliveryError``; any other exception is a bug in the channel.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Protocol

from lawwatch.alerts.message import Alert, Digest, Notice

__all__ = ["Channel", "ChannelOptions", "Delivery", "Item", "deliver", "parse_retry_after"]

Item = Alert | Digest | Notice


@dataclass(frozen=True, slots=True)
class Delivery:
    """A successful delivery: ``provider_id`` is the provider's handle (Slack ``ts``, the email ``Message-ID``,
    ``webhook:200``); ``detail`` notes anything partial (e.g. recipients an SMTP server refused)."""

    provider_id: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ChannelOptions:
    """Run-time knobs that are not settings: ``pace_seconds`` (Slack: minimum gap between messages to one channel;
    0 turns pacing off, e.g. for the benchmark) and ``timeout`` (seconds per HTTP request)."""

    pace_seconds: float = 1.0
    timeout: float = 30.0


class Channel(Protocol):
    """One delivery mechanism. ``kind`` matches the ``kind`` of the targets it serves."""

    kind: ClassVar[str]

    def validate_target(self, target: Any) -> None:
        """Raise ``TargetError`` with a clear message when this channel cannot deliver to ``target``."""

    def render(self, item: Item, target: Any) -> Any:
        """The payload for ``item`` at ``target``; pure and deterministic apart from a ``Date`` header."""

    def send(self, payload: Any, target: Any) -> Delivery:
        """One delivery attempt (with the channel's own bounded in-request retries); raises ``DeliveryError``."""


def deliver(channel: Channel, item: Item, target: Any) -> Delivery:
    """Validate, render and send in one call."""
    channel.validate_target(target)
    return channel.send(channel.render(item, target), target)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value (delta-seconds or an HTTP date); ``None`` when absent or unreadable.

    Never negative; fractional seconds are accepted (some servers send them).
    """
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def first_header(headers: Any, name: str) -> str | None:
    """A header's value from a mapping whose values may be strings or lists of strings, matched case-insensitively."""
    for key, value in dict(headers or {}).items():
        if str(key).lower() == name.lower():
            if isinstance(value, list | tuple):
                return str(value[0]) if value else None
            return str(value)
    return None


def utcnow() -> datetime:
    return datetime.now(UTC)
