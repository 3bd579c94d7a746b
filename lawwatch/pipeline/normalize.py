"""Normalization shared by crawling and import: canonical URLs, text from HTML, dates in UTC, content hashes.

Everything a source hands over becomes a :class:`NormalizedDocument` through :func:`normalize_document`; the store
compares documents only by these normalized values, so a release reached through the API, RSS and HTML pages
dedups to one row, and cosmetic HTML changes do not count as edits.

Whatever a server sends, a normalized document fits every backend: NUL characters and unpaired surrogates are removed
(PostgreSQL refuses both), and the sizes are capped: the title at ``TITLE_MAX`` characters, the text at ``BODY_MAX``,
an external id over ``EXTERNAL_ID_MAX`` becomes a stable shortened form (a prefix and a hash of the whole), and a URL
over ``URL_MAX`` is refused. A publication date outside ``EARLIEST_DATE`` … now + ``FUTURE_SLACK`` is not plausible
(:func:`plausible_date`); a crawled document is then stored without a date, with a warning.
"""

from __future__ import annotations

import hashlib
import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
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

# Size limits of a stored document (characters). A title is one line; the text of the longest court opinions is a few
# hundred thousand characters; ``documents.external_id`` is VARCHAR(255); an index entry of a longer URL would not
# fit PostgreSQL's B-tree (about 2,700 bytes), and no real page has one.
TITLE_MAX = 2_000
BODY_MAX = 1_000_000
EXTERNAL_ID_MAX = 255
URL_MAX = 2_048
# Plausible publication dates: nothing the sources publish predates the federal courts (1789); a date more than a
# day ahead of the clock is a server's error, not an announcement.
EARLIEST_DATE = datetime(1789, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)

# A URL w3lib's canonical form leaves exactly as it is: lower-case http(s), a lower-case host of ASCII labels, a port
# without leading zeros, a path of unreserved characters whose segments neither are empty nor start with a dot (so no
# "." or ".." to resolve, nothing to percent-encode or decode), no query, no fragment (tests/test_normalize.py
# compares both on every combination of the forms each part can take).
_PLAIN_URL = re.compile(
    r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::(?P<port>[1-9][0-9]{0,4}))?(?:(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+/?|/)"
    r"\Z"
)
# Page furniture that is never part of a document's text.
_DROP_TAGS = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template", "iframe")
_TIME_TAG = re.compile(r"<time\b[^>]*\bdatetime\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
_EPOCH = re.compile(r"^\s*-?\d{9,11}(\.\d+)?\s*$")
# Runs of spaces fold to one space: a single " " is left alone (it is what it would become), so ordinary text has
# almost no matches to replace.
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]{2,}|[\t\u00a0\u2000-\u200b\u3000]")
_BLANKS = re.compile(r"\n{3,}")
_YEAR = re.compile(r"(?<![\d.:+-])(\d{4})(?![\d:])")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL (PostgreSQL refuses it) and unpaired surrogates (not UTF-8)
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")  # not allowed in XML/HTML text
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
    # the other US zones, as PACER writes them (juriscraper reads the same set)
    "MT": tz.gettz("America/Denver"),
    "MST": tz.gettz("America/Denver"),
    "MDT": tz.gettz("America/Denver"),
    "AKST": tz.gettz("America/Anchorage"),
    "AKDT": tz.gettz("America/Anchorage"),
    "HST": tz.gettz("Pacific/Honolulu"),
    "HDT": tz.gettz("Pacific/Honolulu"),
    "CHST": tz.gettz("Pacific/Guam"),
    "SST": tz.gettz("Pacific/Pago_Pago"),
    "AST": tz.gettz("America/Puerto_Rico"),
}


def canonical_url(url: str) -> str:
    """The canonical form of ``url``: no fragment, no ``utm_*`` tracking parameters, sorted query, lower-case host."""
    url = url.strip()
    plain = _PLAIN_URL.match(url)
    if plain is not None and (plain["port"] is None or int(plain["port"]) <= 65535):
        return url  # already canonical: what w3lib would return unchanged (a release page's usual form)
    return _canonical_url(url)


def _canonical_url(url: str) -> str:
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
    if _CONTROLS.search(html):  # lxml refuses them (and would leave the markup in the text)
        html = _CONTROLS.sub("", html)
    if not html.strip():
        return ""
    try:
        tree = lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):
        return clean_text(html)
    for element in tree.xpath("//" + " | //".join(_DROP_TAGS)):
        element.drop_tree()
    text = _extract_text(tree)
    # The extracted text is clean already (every line stripped, single spaces, at most one blank line: see
    # _tree_text) unless it holds a zero-width space, the one character clean_text folds that str.split keeps.
    return clean_text(text) if "\u200b" in text else text


def _extract_text(tree: Any) -> str:
    """``html_text.extract_text(tree, guess_layout=True)``, the same text in a third of the time: html_text's own
    cleaning (scripts, styles, comments, embedded objects, frames), then :func:`_tree_text`."""
    if not isinstance(tree, lxml.html.HtmlElement):  # (never from lxml.html.fromstring) html_text's own way
        return str(html_text.extract_text(tree, guess_layout=True))
    try:
        cleaned = html_text.cleaner.clean_html(tree)
    except AssertionError:  # an lxml bug (launchpad 1838497): html_text then reads the tree as it is
        cleaned = tree
    return _tree_text(cleaned)


_NEWLINE = object()  # the last chunk of _tree_text was a newline / a blank line (else it is the last raw text)
_BLANK_LINE = object()
_NEWLINE_TAGS = html_text.NEWLINE_TAGS
_DOUBLE_NEWLINE_TAGS = html_text.DOUBLE_NEWLINE_TAGS
_PUNCT_AFTER = frozenset(',:;.!?")')


def _tree_text(tree: Any) -> str:
    r"""``html_text.etree_to_text(tree)`` (``guess_punct_space`` and ``guess_layout`` on) with string methods for its
    regular expressions: ``\s`` matches exactly the characters ``str.isspace`` accepts, so ``_whitespace.sub(" ",
    t.strip())`` is ``" ".join(t.split())`` and ``\s$`` is "ends with whitespace"; ``\($`` ("ends with ``(`` or
    ``(\n``") only matters when that is false, so it is "ends with ``(``"; ``^[,:;.!?")]`` is "starts with one of
    them" (tests/test_normalize.py compares both on every example page and on generated fragments)."""
    chunks: list[str] = []
    prev: Any = _BLANK_LINE
    for event, element in etree.iterwalk(tree, events=("start", "end")):
        tag = element.tag
        if not isinstance(tag, str):  # html_text asserts the same (its cleaning removes comments and PIs)
            raise AssertionError(f"not an element: {tag!r}")
        if prev is not _BLANK_LINE:
            if tag in _DOUBLE_NEWLINE_TAGS:
                chunks.append("\n" if prev is _NEWLINE else "\n\n")
                prev = _BLANK_LINE
            elif tag in _NEWLINE_TAGS:
                if prev is not _NEWLINE:
                    chunks.append("\n")
                prev = _NEWLINE
        raw = element.text if event == "start" else element.tail if element is not tree else None
        if not raw:
            continue
        text = " ".join(raw.split())
        if not text:
            continue
        if (
            prev is not _NEWLINE
            and prev is not _BLANK_LINE
            and (prev[-1].isspace() or (text[0] not in _PUNCT_AFTER and not prev.endswith("(")))
        ):
            chunks.append(" ")
        chunks.append(text)
        prev = raw
    # What comes out: no whitespace but the spaces and newlines added here (str.split removed the rest), never two
    # spaces in a row, never a space at either end of a line, never more than two newlines in a row.
    return "".join(chunks).strip()


def clean_text(text: str) -> str:
    """Fold runs of spaces, strip every line, keep at most one blank line between paragraphs."""
    folded = _SPACES.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _BLANKS.sub("\n\n", "\n".join(line.strip() for line in folded.split("\n"))).strip()


def storable(text: str) -> str:
    """``text`` without the characters no archive can store: NUL, and unpaired surrogates (what a JSON ``"\\ud800"``
    decodes to), which are not UTF-8."""
    return _UNSTORABLE.sub("", text) if _UNSTORABLE.search(text) else text


def _epoch(seconds: float, value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"not a date: {value!r} (out of range)") from exc


def to_utc(value: Any, *, default_tz: str = "UTC") -> datetime | None:
    """An aware UTC datetime from a datetime, a date, epoch seconds (number or string, also wrapped in
    ``<time datetime="...">``) or a date string in any common format. Naive values are read in ``default_tz``.
    Returns None for empty input; raises ValueError for text that is not a date, for a date that cannot be expressed
    in UTC (``9999-12-31T23:59:59-05:00``) and for a four-digit year the parser would have changed (``0000``)."""
    if value is None or value == "":
        return None
    zone = tz.gettz(default_tz)
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, int | float):
        return _epoch(float(value), value)
    elif isinstance(value, str):
        text = value.strip()
        wrapped = _TIME_TAG.search(text)
        if wrapped:
            text = wrapped.group(1)
        elif "<" in text:
            text = html_to_text(text)
        if _EPOCH.match(text):
            return _epoch(float(text), value)
        try:  # ISO 8601, what feeds and <time datetime> carry: the fast path
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = _parse_text(text, value)
    else:
        raise ValueError(f"not a date: {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValueError(f"not a date: {value!r} (out of range in UTC)") from exc


def _parse_text(text: str, value: Any) -> datetime:
    try:
        with warnings.catch_warnings():  # an unknown zone name: read as local time rather than warn
            warnings.simplefilter("ignore", dateparser.UnknownTimezoneWarning)
            parsed = dateparser.parse(text, tzinfos=_TZINFOS)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a date: {value!r}") from exc
    years = {int(y) for y in _YEAR.findall(text)}
    if years and parsed.year not in years:  # dateutil reads year 0000 as 2000 and 0001 as 2001
        raise ValueError(f"not a date: {value!r} (year out of range)")
    return parsed


def plausible_date(when: datetime, now: datetime | None = None) -> bool:
    """Whether an aware ``when`` can be a publication date: from ``EARLIEST_DATE`` to now + ``FUTURE_SLACK``."""
    return EARLIEST_DATE <= when <= (now or datetime.now(UTC)) + FUTURE_SLACK


def read_date(value: Any, *, default_tz: str = "UTC") -> tuple[datetime | None, str | None]:
    """``(date, None)`` for a readable, plausible date (None for no date at all); ``(None, why)`` for any other value:
    unreadable, out of range, or not plausible. Never raises."""
    try:
        when = to_utc(value, default_tz=default_tz)
    except ValueError:
        return None, f"unreadable date {_shown(value)}"
    if when is not None and not plausible_date(when):
        return None, f"implausible date {_shown(value)} (outside {EARLIEST_DATE.year} to tomorrow)"
    return when, None


def _shown(value: Any) -> str:
    text = value.isoformat() if isinstance(value, datetime | date) else str(value)
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _short_id(external_id: str) -> str:
    """An external id within ``EXTERNAL_ID_MAX``: unchanged when it fits, else a prefix and a hash of the whole id
    (the same long id always gives the same short one)."""
    if len(external_id) <= EXTERNAL_ID_MAX:
        return external_id
    tail = "…sha256:" + hashlib.sha256(external_id.encode("utf-8")).hexdigest()[:40]
    return external_id[: EXTERNAL_ID_MAX - len(tail)] + tail


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
    """Build a :class:`NormalizedDocument` from raw fields; exactly one of ``html`` or ``text`` carries the body.

    Raises ValueError for an unusable document, and for a date that is unreadable or not plausible (an import reports
    that line); sizes are capped silently. :func:`normalize_noted` keeps such a document and says what it changed."""
    doc, _notes = normalize_noted(
        source=source,
        title=title,
        url=url,
        external_id=external_id,
        html=html,
        text=text,
        published=published,
        fetched_at=fetched_at,
        form=form,
        metadata=metadata,
        default_tz=default_tz,
        strict_date=True,
    )
    return doc


def normalize_noted(
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
    strict_date: bool = False,
) -> tuple[NormalizedDocument, list[str]]:
    """:func:`normalize_document` for a crawled document: an unreadable or implausible date is left out (unless
    ``strict_date``) and every change beyond normalizing (a cut title or text, a shortened id, a dropped date) comes
    back as a note. Raises ValueError only for an unusable document (no title and no text, a URL over ``URL_MAX``)."""
    if html is not None and text is not None:
        raise ValueError("give the body as html or as text, not both")
    notes: list[str] = []
    body = html_to_text(html) if html is not None else clean_text(storable(text or ""))
    title = storable(title)
    clean_title = clean_text(html_to_text(title) if "<" in title else title).replace("\n", " ")
    if not clean_title and not body:
        raise ValueError("document has neither a title nor any text")
    if len(clean_title) > TITLE_MAX:
        notes.append(f"title cut to {TITLE_MAX:,} of its {len(clean_title):,} characters")
        clean_title = clean_title[:TITLE_MAX].rstrip()
    if len(body) > BODY_MAX:
        notes.append(f"text cut to {BODY_MAX:,} of its {len(body):,} characters")
        body = body[:BODY_MAX].rstrip()
    canonical = canonical_url(storable(url)) if url else None
    if canonical is not None and len(canonical) > URL_MAX:
        raise ValueError(f"its URL has {len(canonical):,} characters (at most {URL_MAX:,})")
    key = storable(str(external_id)) if external_id not in (None, "") else ""
    if len(key) > EXTERNAL_ID_MAX:
        notes.append(f"external id of {len(key):,} characters shortened to {EXTERNAL_ID_MAX} (a prefix and a hash)")
        key = _short_id(key)
    if strict_date:
        when = to_utc(published, default_tz=default_tz)
        if when is not None and not plausible_date(when):
            raise ValueError(f"implausible date {_shown(published)} (outside {EARLIEST_DATE.year} to tomorrow)")
    else:
        when, why = read_date(published, default_tz=default_tz)
        if why:
            notes.append(f"{why}; stored without one")
    meta = {storable(str(k)): _storable_value(v) for k, v in (metadata or {}).items() if v not in (None, "", [], {})}
    doc = NormalizedDocument(
        source=source,
        url=canonical,
        external_id=key or None,
        title=clean_title,
        published_at=when,
        body_text=body,
        content_hash=content_hash(clean_title, body),
        fetched_at=fetched_at or datetime.now(UTC),
        form=form,
        metadata=MappingProxyType(meta),
    )
    return doc, notes


def _storable_value(value: Any) -> Any:
    """A metadata value with NULs and unpaired surrogates removed from every string, each string capped at
    ``TITLE_MAX`` characters (metadata holds names, numbers and short descriptions, never a text), and NaN or an
    infinity (which Python's JSON reader accepts) as None."""
    if isinstance(value, str):
        return storable(value)[:TITLE_MAX]
    if isinstance(value, float) and not math.isfinite(value):  # JSON has no NaN/Infinity: PostgreSQL refuses them
        return None
    if isinstance(value, Mapping):
        return {storable(str(k)): _storable_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable_value(v) for v in value]
    return value
