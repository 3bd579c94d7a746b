"""Escaping of untrusted (scraped) text, one function per output language.

Guarantees, for any input string:

* ``mrkdwn(text)`` contains no ``<``, ``>`` or bare ``&`` (so ``<!channel>``, ``<!here>``, ``<@U123>``,
  ``<https://evil|click>`` arrive as visible text, never as mentions or links) and none of Slack's formatting
  characters ``* _ ~ ` `` (replaced by look-alikes: ``∗ ˍ ∼ ˋ``), and no line starts a block quote. Slack has no
  escape for formatting characters, so look-alikes are the only way to show them inert (the approach jsx-slack's
  ``<Escape>`` takes inside links). Use it in text objects with ``verbatim: true`` so bare URLs and ``#channel``
  names are not auto-linked either.
* ``mrkdwn_link(url, label)`` links only an http(s) URL with a host and no whitespace; anything else yields the
  escaped label alone.
* ``html(text)`` is markupsafe's escape (what Jinja2's autoescape does): ``< > & " '`` become entities.
* ``header(text)`` has no CR, LF or other control/line-separator character, so it cannot start a new header.
* ``plain(text)`` drops control characters except newline and tab (for text/plain bodies).
* ``json_text(value)`` is ``json.dumps`` (ASCII-only, sorted keys, compact): JSON needs no more.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup, escape

__all__ = ["header", "html", "http_url", "json_text", "mrkdwn", "mrkdwn_link", "one_line", "plain", "truncate"]

_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_LOOKALIKES = {
    "*": "\u2217",
    "\uff0a": "\ufe61",
    "_": "\u02cd",
    "\uff3f": "\u2e0f",
    "~": "\u223c",
    "`": "\u02cb",
    "\uff40": "\u02cb",
}
_FORMATTING = re.compile("[" + re.escape("".join(_LOOKALIKES)) + "]")
_INTRA_WORD_SAFE = frozenset("*_~")
_QUOTE_START = re.compile(r"(?m)^([ \t]*)(&gt;|\uff1e)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_URL_BAD = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """All whitespace runs (newlines included) become one space; leading/trailing space removed."""
    return " ".join(text.split())


def truncate(text: str, limit: int) -> str:
    """At most ``limit`` characters; a cut text ends with ``…``. Cut *before* escaping so no entity is split."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def plain(text: str) -> str:
    """Text for a text/plain body: control characters other than newline and tab removed."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _lookalike(match: re.Match[str]) -> str:
    char, text, i = match.group(), match.string, match.start()
    if char in _INTRA_WORD_SAFE and 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum():
        return char
    return _LOOKALIKES[char]


def mrkdwn(text: str) -> str:
    """Untrusted text → Slack mrkdwn that shows the same words and has no effect (see the module docstring)."""
    escaped = _FORMATTING.sub(_lookalike, _CONTROL.sub("", text)).translate(_ENTITIES)
    return _QUOTE_START.sub("\\1\u00ad\\2", escaped)


def http_url(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) URL with a host and no whitespace or control characters, else None."""
    if not url or _URL_BAD.search(url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number in range)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def mrkdwn_link(url: str | None, label: str) -> str:
    """``<url|label>`` with both escaped when ``url`` is http(s); otherwise the escaped label alone."""
    shown = mrkdwn(one_line(label))
    safe = http_url(url)
    if safe is None:
        return shown
    target = safe.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "%7C")
    return f"<{target}|{shown or target}>"


def html(text: str) -> Markup:
    """HTML-escaped text (markupsafe, as Jinja2's autoescape)."""
    return escape(text)


def header(text: str) -> str:
    """A header-safe single line: CR, LF, other control characters and line separators become one space."""
    return one_line(_HEADER_BREAKS.sub(" ", text))


def json_text(value: Any) -> str:
    """``json.dumps`` with sorted keys, compact separators and ASCII-only output."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
