"""A document page's pieces: the body with its statute citations and jurisdiction mentions highlighted at their
offsets, the type's deciding signals, and the diff of each earlier version against the current text.

Statute citations are stored with their offsets (``document_statutes.start``/``end``). Jurisdiction tags store only
their first offset and a count, so the body is classified again (``classify`` is pure and fast) to get the offset of
every mention; only the places among the document's stored tags are highlighted, so the page never shows a tag the
archive does not have. Every piece of text is escaped before any markup is added.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from lawwatch.pipeline.classify import classify
from lawwatch.pipeline.models import Document

_OPEN, _CLOSE = "\x02", "\x03"  # search's highlight sentinels, turned into <mark> after escaping
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
_MAX_TOKENS = 40_000  # above this a diff compares lines, not words
_CONTEXT = 160  # characters of unchanged text kept around a change


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str  # statute | place | locator
    label: str
    ref: str  # the jurisdiction id or the citation


def marked(snippet: str, open_: str = _OPEN, close: str = _CLOSE) -> Markup:
    """A search snippet (matches between ``open_`` and ``close``) as escaped HTML with ``<mark>`` around matches;
    the marks always balance, whatever the text holds."""
    out: list[str] = []
    inside = False
    for part in re.split(f"({re.escape(open_)}|{re.escape(close)})", snippet):
        if part == open_:
            inside = True
        elif part == close:
            inside = False
        elif part:
            out.append(f"<mark>{escape(part)}</mark>" if inside else str(escape(part)))
    return Markup("".join(out))


def spans(doc: Document, labels: dict[str, str]) -> tuple[list[Span], dict[str, Any]]:
    """The highlights of ``doc``'s body, in order and without overlaps, and the classifier's signals."""
    text = doc.body_text or ""
    found: list[Span] = []
    for s in doc.statutes:
        if 0 <= s.start < s.end <= len(text) and text[s.start : s.end] == s.text:
            found.append(Span(s.start, s.end, "statute", s.text, f"{s.title or ''} U.S.C. § {s.section}".strip()))
    mentions: list[tuple[int, int, str, str]] = []
    tags = classify(text, title=doc.title, url=doc.url, form=doc.form, mentions=mentions)
    stored = {j.jurisdiction_id for j in doc.jurisdictions}
    for start, end, jid, role in mentions:
        if jid in stored:
            kind = "locator" if role == "locator" else "place"
            found.append(Span(start, end, kind, labels.get(jid, jid), jid))
    found.sort(key=lambda s: (s.start, -s.end))
    kept: list[Span] = []
    for span in found:
        if not kept or span.start >= kept[-1].end:
            kept.append(span)
    return kept, tags.signals


def highlighted(text: str, found: list[Span]) -> Markup:
    """``text`` escaped, each span wrapped in ``<mark class="KIND">`` with its label as the title."""
    out: list[str] = []
    at = 0
    for span in found:
        out.append(str(escape(text[at : span.start])))
        out.append(
            f'<mark class="{span.kind}" title="{escape(span.label)}" data-ref="{escape(span.ref)}">'
            f"{escape(text[span.start : span.end])}</mark>"
        )
        at = span.end
    out.append(str(escape(text[at:])))
    return Markup("".join(out))


def diff(old: str, new: str) -> Markup:
    """What changed from ``old`` to ``new``: ``<del>`` and ``<ins>`` by words (by lines for very long texts),
    long unchanged stretches shortened to their ends."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    if len(a) + len(b) > _MAX_TOKENS:
        a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(str(escape(_shorten("".join(a[i1:i2])))))
            continue
        if i2 > i1:
            out.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if j2 > j1:
            out.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    return Markup("".join(out))


def _shorten(same: str) -> str:
    if len(same) <= 2 * _CONTEXT + 20:
        return same
    return f"{same[:_CONTEXT]} … {same[-_CONTEXT:]}"
