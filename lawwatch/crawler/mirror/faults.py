"""Fault switches: a site prefix (``"www.justice.gov"``, ``"www.justice.gov/feeds"``, ``"ecf.paed.uscourts.gov"``)
is made to misbehave in one of these ways until cleared (or for ``times`` requests when that parameter is given):

==================  ==========================================================================================
``"500"``           ``500 Internal Server Error``
``"slow"``          sleeps ``seconds`` (default 2) before answering normally
``"429"``           ``429 Too Many Requests`` with ``Retry-After: retry_after`` (default 1)
``"truncate"``      ``Content-Length`` larger than the body sent; the connection is closed after half the body
``"charset"``       the real bytes, with a wrong declared charset (``charset``; default: ISO-8859-1 for UTF-8
                    content, UTF-8 for ISO-8859-1 content)
``"entity_bomb"``   XML responses (feeds) become a billion-laughs document; other responses are unchanged
``"huge"``          a generated HTML body of ``size`` bytes (default 100 MB) streamed in chunks, without a
                    Content-Length unless ``declare_length`` is true
``"redirect_port"`` ``302`` to the same path on another loopback port (``port``; default: a decoy server the
                    mirror starts, whose hits are counted in ``MirrorServer.decoy_hits``)
``"redirect_file"`` ``302`` to ``file:///etc/passwd``
==================  ==========================================================================================

Set from Python (``MirrorServer.set_fault``) or over HTTP: ``POST /_mirror/fault`` with JSON
``{"site": "www.justice.gov", "fault": "429", "params": {"retry_after": 2}}``; ``{"clear": true}`` clears all.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

FAULTS = ("500", "slow", "429", "truncate", "charset", "entity_bomb", "huge", "redirect_port", "redirect_file")
HUGE_SIZE = 100 * 1024 * 1024

ENTITY_BOMB = b"""<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title><link>http://127.0.0.1/</link><description>&lol9;</description>
<item><title>&lol9;</title><link>http://127.0.0.1/bomb</link><description>&lol9;</description></item>
</channel></rss>
"""


@dataclass(slots=True)
class Fault:
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    remaining: int | None = None


class FaultTable:
    """Faults by path prefix; the longest matching prefix wins. Thread-safe."""

    def __init__(self) -> None:
        self._faults: dict[str, Fault] = {}
        self._lock = threading.Lock()

    def set(self, prefix: str, kind: str, **params: Any) -> None:
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r} (known: {', '.join(FAULTS)})")
        times = params.pop("times", None)
        with self._lock:
            self._faults["/" + prefix.strip("/")] = Fault(kind, params, int(times) if times is not None else None)

    def clear(self, prefix: str | None = None) -> None:
        with self._lock:
            if prefix is None:
                self._faults.clear()
            else:
                self._faults.pop("/" + prefix.strip("/"), None)

    def active(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {p: {"fault": f.kind, "params": f.params, "remaining": f.remaining} for p, f in self._faults.items()}

    def take(self, path: str) -> Fault | None:
        """The fault for ``path`` (counting down ``times``), or None."""
        with self._lock:
            matches = [p for p in self._faults if path == p or path.startswith(p.rstrip("/") + "/")]
            if not matches:
                return None
            prefix = max(matches, key=len)
            fault = self._faults[prefix]
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    del self._faults[prefix]
            return fault


def huge_chunks(size: int, chunk: int = 64 * 1024) -> Any:
    """A generated HTML body of exactly ``size`` bytes, in chunks (never held in memory at once)."""
    head = b"<!DOCTYPE html><html><head><title>huge</title></head><body>"
    row = b"<p>lawwatch mirror: a deliberately huge response body.</p>\n"
    block = (row * (chunk // len(row) + 1))[:chunk]
    sent = 0
    first = head[:size]
    yield first
    sent += len(first)
    while sent < size:
        piece = block[: size - sent]
        yield piece
        sent += len(piece)
