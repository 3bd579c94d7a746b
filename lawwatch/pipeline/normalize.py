"""Normalization shared by crawling and import: canonical URLs, text from HTML, dates in UTC, content hashes.

Everything a source hands over becomes a :class:`NormalizedDocument` through :func:`normalize_document`; the store
compares documents only by these normalized values, so a release reached through the API, RSS and HTML pages
dedups to one row, and cosmetic HTML changes do not count as edits.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import html_text
import lxml.html
from dateutil import parser as dateparser
from dateutil import tz
from lxml import etree
from w3lib.url import canonicalize_url, url_query_cleaner

if TYPE_CHECKING:
    from lawwatch.pipeline.classify import Classification

# Page furniture that is never part of a document's text.
_DROP_TAGS = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template", "iframe")
_TIME_TAG = re.compile(r"<time\b[^>]*\bdatetime\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
_EPOCH = re.compile(r"^\s*-?\d{9,11}(\.\d+)?\s*$")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]+")
_BLANKS = re.compile(r"\n{3,}")
_TZINFOS = {
    "ET": tz.gettz("America/New_York"),
    "EST": tz.gettz("America/New_York"),
    "EDT": tz.gettz("America/New_York"),
    "CT": tz.gettz("America/Chicago"),
    "CST": tz.gettz("America/Chicago"),
    "CDT": tz.gettz("America/Chicago"),
    "PT": tz.gettz("America/Los_Angeles"),
    "PST": tz.gettz("America/Los_Angeles"),
    "PDT": tz.gettz("America/Los_Angeles"),
}


def canonical_url(url: str) -> str:
    """The canonical form of ``url``: no fragment, no ``utm_*`` tracking parameters, sorted query, lower-case host."""
    url = url.strip()
    cleaned = url_query_cleaner(url, parameterlist=(), remove=True, keep_fragments=False, unique=False)
    query_keys = [k.split("=", 1)[0] for k in (cleaned.split("?", 1)[1].split("&") if "?" in cleaned else [])]
    tracking = [k for k in query_keys if k.lower().startswith("utm_")]
    if tracking:
        cleaned = url_query_cleaner(cleaned, parameterlist=tracking, remove=True, unique=False)
    return canonicalize_url(cleaned, keep_fragments=False)


def html_to_text(html: str | bytes) -> str:
    """Readable text of an HTML fragment or page: furniture dropped, paragraph breaks kept, whitespace tidied."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    if not html.strip():
        return ""
    try:
        tree = lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):
        return clean_text(html)
    for element in tree.xpath("//" + " | //".join(_DROP_TAGS)):
        element.drop_tree()
    return clean_text(html_text.extract_text(tree, guess_layout=True))


def clean_text(text: str) -> str:
    """Fold runs of spaces, strip every line, keep at most one blank line between paragraphs."""
    folded = _SPACES.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _BLANKS.sub("\n\n", "\n".join(line.strip() for line in folded.split("\n"))).strip()


def to_utc(value: Any, *, default_tz: str = "UTC") -> datetime | None:
    """An aware UTC datetime from a datetime, a date, epoch seconds (number or string, also wrapped in
    ``<time datetime="...">``) or a date string in any common format. Naive values are read in ``default_tz``.
    Returns None for empty input; raises ValueError for text that is not a date."""
    if value is None or value == "":
        return None
    zone = tz.gettz(default_tz)
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    elif isinstance(value, str):
        text = value.strip()
        wrapped = _TIME_TAG.search(text)
        if wrapped:
            text = wrapped.group(1)
        elif "<" in text:
            text = html_to_text(text)
        if _EPOCH.match(text):
            return datetime.fromtimestamp(float(text), UTC)
        try:  # ISO 8601, what feeds and <time datetime> carry: the fast path
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        try:
            parsed = parsed or dateparser.parse(text, tzinfos=_TZINFOS)
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"not a date: {value!r}") from exc
    else:
        raise ValueError(f"not a date: {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def content_hash(title: str, body_text: str) -> str:
    """SHA-256 of the normalized title and text; whitespace-only differences hash alike."""
    folded = " ".join(title.split()) + "\n" + " ".join(body_text.split())
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class NormalizedDocument:
    """A document ready for classification and storage. ``published_at`` and ``fetched_at`` are aware UTC."""

    source: str
    url: str | None
    external_id: str | None
    title: str
    published_at: datetime | None
    body_text: str
    content_hash: str
    fetched_at: datetime
    form: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    classification: Classification | None = None

    @property
    def doc_type(self) -> str:
        return self.classification.doc_type if self.classification is not None else "other"


def normalize_document(
    *,
    source: str,
    title: str,
    url: str | None = None,
    external_id: str | int | None = None,
    html: str | bytes | None = None,
    text: str | None = None,
    published: Any = None,
    fetched_at: datetime | None = None,
    form: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    default_tz: str = "UTC",
) -> NormalizedDocument:
    """Build a :class:`NormalizedDocument` from raw fields; exactly one of ``html`` or ``text`` carries the body."""
    if html is not None and text is not None:
        raise ValueError("give the body as html or as text, not both")
    body = html_to_text(html) if html is not None else clean_text(text or "")
    clean_title = clean_text(html_to_text(title) if "<" in title else title).replace("\n", " ")
    if not clean_title and not body:
        raise ValueError("document has neither a title nor any text")
    canonical = canonical_url(url) if url else None
    meta = {k: v for k, v in (metadata or {}).items() if v not in (None, "", [], {})}
    return NormalizedDocument(
        source=source,
        url=canonical,
        external_id=str(external_id) if external_id not in (None, "") else None,
        title=clean_title,
        published_at=to_utc(published, default_tz=default_tz),
        body_text=body,
        content_hash=content_hash(clean_title, body),
        fetched_at=fetched_at or datetime.now(UTC),
        form=form,
        metadata=MappingProxyType(meta),
    )
