"""Block Kit rendering of alerts and digests (pure functions; no I/O).

Guarantees: every piece of scraped or configured text goes through ``escape.mrkdwn`` (or ``mrkdwn_link``) and sits
in a ``mrkdwn`` text object with ``verbatim: true``, so it can neither mention (``<!channel>``), link, nor format;
the only markup in a message is the one written here. Limits of Block Kit are respected: at most 50 blocks, section
text ≤ 3000 characters, fields ≤ 2000, plain-text fallback ≤ 3000 (titles and snippets are cut before escaping).
"""

from __future__ import annotations

from typing import Any

from lawwatch.alerts.escape import mrkdwn, mrkdwn_link, one_line, truncate
from lawwatch.alerts.message import Alert, AlertDocument, Digest, Notice, SnippetPart

__all__ = ["alert_blocks", "digest_blocks", "fallback_text", "notice_blocks", "snippet_mrkdwn"]

Block = dict[str, Any]

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
TITLE_CHARS = 250
SNIPPET_CHARS = 500
LIST_ITEMS = 12
_ZWSP = "\u200b"  # lets a bold match start or end inside a word (Slack needs a boundary next to the ``*``)


def _text(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _section(text: str) -> Block:
    return {"type": "section", "text": _text(truncate(text, SECTION_LIMIT))}


def _title(doc: AlertDocument) -> str:
    return truncate(one_line(doc.title), TITLE_CHARS) or "(untitled)"


def _listing(values: tuple[str, ...]) -> str:
    shown = [truncate(one_line(v), 120) for v in values[:LIST_ITEMS]]
    more = f" (+{len(values) - LIST_ITEMS} more)" if len(values) > LIST_ITEMS else ""
    return ", ".join(shown) + more


def _meta(doc: AlertDocument) -> str:
    parts = [doc.date or "undated", doc.source, doc.doc_type]
    return " · ".join(mrkdwn(one_line(p)) for p in parts if p)


def snippet_mrkdwn(parts: tuple[SnippetPart, ...], limit: int = SNIPPET_CHARS) -> str:
    """The snippet escaped, with matched words in bold; cut to ``limit`` characters of original text."""
    out: list[str] = []
    budget = limit
    for part in parts:
        if budget <= 0:
            out.append("…")
            break
        text = truncate(part.text, budget)
        budget -= len(part.text)
        if part.match and text.strip():
            lead, core, tail = text[: len(text) - len(text.lstrip())], text.strip(), text[len(text.rstrip()) :]
            out.append(f"{lead}{_ZWSP}*{mrkdwn(core)}*{_ZWSP}{tail}")
        else:
            out.append(mrkdwn(text))
        if text != part.text:
            break
    return one_line("".join(out))


def fallback_text(item: Alert | Digest | Notice) -> str:
    """The top-level ``text`` (notifications, screen readers, clients without blocks): escaped mrkdwn."""
    if isinstance(item, Notice):
        return mrkdwn(truncate(one_line(item.subject), TITLE_CHARS))
    if isinstance(item, Digest):
        count = len(item.alerts)
        return mrkdwn(f"lawwatch digest for {one_line(item.rule)}: {count} document{'s' * (count != 1)}")
    kind = "Changed" if item.is_change else "New"
    return mrkdwn(f"{kind}: {_title(item.document)} ({one_line(item.rule)})")


def alert_blocks(alert: Alert) -> list[Block]:
    """Linked title, date · source · type, jurisdictions and statutes, the rule and why, the snippet, changes."""
    doc = alert.document
    label = "Changed: " if alert.is_change else ""
    blocks: list[Block] = [
        _section(f"{label}*{mrkdwn_link(doc.url, _title(doc))}*"),
        {"type": "context", "elements": [_text(_meta(doc))]},
    ]
    fields = [
        _text(truncate(f"*{name}*\n{mrkdwn(_listing(values))}", FIELD_LIMIT))
        for name, values in (("Jurisdictions", doc.jurisdictions), ("Statutes", doc.statutes))
        if values
    ]
    if fields:
        blocks.append({"type": "section", "fields": fields})
    why = mrkdwn(truncate(one_line(alert.why.describe()), 1000))
    blocks.append(_section(f"*Rule:* {mrkdwn(one_line(alert.rule))} — matched {why}"))
    if doc.snippet:
        blocks.append(_section(snippet_mrkdwn(doc.snippet)))
    if alert.changes:
        lines = [
            f"• *{mrkdwn(one_line(c.field))}*: {mrkdwn(truncate(one_line(c.before or '∅'), 300))}"
            f" → {mrkdwn(truncate(one_line(c.after or '∅'), 300))}"
            for c in alert.changes[:20]
        ]
        blocks.append(_section("*What changed*\n" + "\n".join(lines)))
    return blocks


def _digest_line(alert: Alert) -> str:
    doc = alert.document
    extra = f" — {mrkdwn(_listing(doc.jurisdictions))}" if doc.jurisdictions else ""
    return f"• *{mrkdwn_link(doc.url, _title(doc))}*\n   {_meta(doc)}{extra}"


def digest_blocks(digest: Digest) -> list[Block]:
    """A heading, then every document as one line, packed into sections; past 50 blocks a last line says how many
    were left out (email digests list them all)."""
    count = len(digest.alerts)
    heading = (
        f"*Digest — {mrkdwn(one_line(digest.rule))}*: {count} document{'s' * (count != 1)}, {mrkdwn(digest.period)}"
    )
    blocks: list[Block] = [_section(heading)]
    chunk: list[str] = []
    size = 0
    shown = 0
    for alert in digest.alerts:
        line = truncate(_digest_line(alert), SECTION_LIMIT - 10)
        if chunk and size + len(line) + 1 > SECTION_LIMIT:
            if len(blocks) >= MAX_BLOCKS - 2:
                break
            blocks.append(_section("\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
        shown += 1
    if chunk:
        blocks.append(_section("\n".join(chunk)))
    if shown < count:
        blocks.append({"type": "context", "elements": [_text(f"…and {count - shown} more")]})
    return blocks


def notice_blocks(notice: Notice) -> list[Block]:
    """An operator notice: its subject in bold, its lines, and where it comes from."""
    blocks: list[Block] = [_section(f"*{mrkdwn(truncate(one_line(notice.subject), TITLE_CHARS))}*")]
    if notice.lines:
        text = "\n".join(mrkdwn(truncate(one_line(line), 500)) for line in notice.lines[:20])
        blocks.append(_section(text))
    blocks.append({"type": "context", "elements": [_text(mrkdwn(f"lawwatch {one_line(notice.kind)}"))]})
    return blocks
