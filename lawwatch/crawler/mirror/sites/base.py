"""What every mirrored site shares: the :class:`Resource` it renders and the :class:`Site` interface.

A site renders content with the *real* absolute links (``https://www.justice.gov/...``); the server rewrites them
to the mirror (``http://127.0.0.1:PORT/www.justice.gov/...``) on the way out, so every site stays unaware of the
port and the same item has the same URL wherever it is linked from.
"""

from __future__ import annotations

import json
import random
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from importlib import resources
from typing import Any

DATA = resources.files("lawwatch.crawler.mirror") / "data"


@dataclass(frozen=True, slots=True)
class Resource:
    """One rendered response. ``last_modified`` is epoch seconds; ``xml`` marks feeds (the entity-bomb fault)."""

    body: bytes
    content_type: str
    last_modified: float
    status: int = 200
    xml: bool = False
    charset: str = "utf-8"


class Site:
    """A mirrored site: ``host`` is its path prefix; ``get`` answers one path (below the prefix) or None (404)."""

    host: str = ""
    hosts: tuple[str, ...] = ()

    def get(self, path: str, query: dict[str, list[str]]) -> Resource | None:
        raise NotImplementedError

    def publish(self, count: int) -> list[str]:
        """Add ``count`` new items at the top of the listings/feeds; returns their (real) URLs."""
        raise NotImplementedError

    def edit(self, which: int = 0) -> str:
        """Change the text of an existing item (``which`` = index in newest-first order); returns its URL."""
        raise NotImplementedError


def read_text(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def read_json(name: str) -> Any:
    return json.loads(read_text(name))


def read_jsonl(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in read_text(name).splitlines() if line.strip()]


def html_page(title: str, body: str, *, head: str = "") -> bytes:
    return (
        f'<!DOCTYPE html>\n<html lang="en" dir="ltr">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n{head}</head>\n<body>\n{body}\n</body>\n</html>\n"
    ).encode()


def rfc822(epoch: float) -> str:
    return format_datetime(datetime.fromtimestamp(epoch, UTC), usegmt=True)


def iso(epoch: float, *, tz: str = "Z") -> str:
    text = datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")
    return text.replace("+00:00", tz)


def day_epoch(day: str, hour: int = 12) -> int:
    """``"2017-04-25"`` → epoch seconds at ``hour``:00 UTC."""
    return int(datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC).timestamp())


def slugify(text: str, limit: int = 80) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "item"


def next_stamp(floor: float) -> int:
    """A modification time later than ``floor`` and not earlier than now (so Last-Modified always advances)."""
    return int(max(time.time(), floor + 1))


class SentenceBank:
    """Sentences of the 100 real background releases, recombined into cheap, deterministic synthetic text."""

    _TAG = re.compile(r"<[^>]+>")
    _SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
    _QUOTE = re.compile(r"[\"“”]|\b(?:said|says|stated)\b")  # no quotes of real people out of context

    def __init__(self, bodies: list[str]) -> None:
        sentences: list[str] = []
        for body in bodies:
            text = " ".join(self._TAG.sub(" ", body).split())
            sentences += [s for s in self._SPLIT.split(text) if 60 <= len(s) <= 400 and not self._QUOTE.search(s)]
        self.sentences = sentences or ["The Department of Justice announced the matter today."]

    def paragraphs(self, seed: int, count: int = 4, per: int = 3) -> list[str]:
        rng = random.Random(seed)
        return [" ".join(rng.choice(self.sentences) for _ in range(per)) for _ in range(count)]

    def title(self, seed: int) -> str:
        words = random.Random(seed * 7919 + 1).choice(self.sentences).rstrip(".").split()
        return " ".join(words[:12])
