"""PACER CM/ECF "Recent Entries" RSS feeds, one document per docket entry.

Scrapy fetches each configured court's feed; juriscraper's maintained ``PacerRssFeed`` parses the downloaded text,
exactly as CourtListener feeds it (``_parse_text(text)`` then its per-entry ``metadata``/``docket_entries``), so
docket numbers, case names, PACER ids and the merging of multi-event entries follow the field's reference parser.
We only keep, beside juriscraper's fields, each item's guid/link/document link (for a URL per entry) and then apply
the configured case filters (docket numbers, case-name words).

Options: ``courts``, ``docket_numbers``, ``case_names``, ``feed_path``. ``base_url`` carries ``{court}``:
``https://ecf.{court}.uscourts.gov``.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response

from lawwatch.crawler.base import LawwatchSpider
from lawwatch.crawler.content import check_feed, refuse_entity_declarations
from lawwatch.crawler.identity import first_listing
from lawwatch.crawler.items import DocumentItem
from lawwatch.crawler.middlewares import record_for
from lawwatch.crawler.specs.pacer_rss import OPTIONS
from lawwatch.errors import CrawlError
from lawwatch.pipeline.normalize import read_date

# juriscraper opens /var/log/juriscraper/debug.log at import (and complains on stderr when it cannot) unless its
# logger already has a handler; lawwatch logs through Scrapy, so it gets one that discards.
logging.getLogger("juriscraper.lib.log_tools").addHandler(logging.NullHandler())

DEFAULT_COURTS = OPTIONS.default("courts")
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']""")
_HREF = re.compile(r"""href=["']([^"']+)["']""")
_COURT_IN_URL = re.compile(r"ecf\.([a-z0-9]+)\.uscourts\.gov")
_DN = re.compile(r"(?:(\d{1,2}):)?(\d{2})-([a-z]{1,5})-(\d{1,10})|(\d{2})-(\d{1,10})")
_WORD = re.compile(r"[a-z0-9]+")
_COURT_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9]*:")  # "paed:2:17-cv-03894" (a bare "2:17-cv-..." has none)

_COMPLAINT = re.compile(r"^(?:(?:first|second|third|\w+ed) )?(?:amended )?complaint\b", re.I)
_FILING = re.compile(
    r"^(?:motion|proposed|letter|notice|response|reply|brief|declaration|affidavit|stipulation|consent|"
    r"memorandum (?:of law |in (?:support|opposition))|exhibit|transcript|summons|certificate|appearance|"
    r"answer|praecipe|civil cover)",
    re.I,
)
_OPINION = re.compile(r"\bopinion\b|^memorandum\b", re.I)  # a bare "Memorandum" is the court's (E.D. Pa. style)
_ORDER = re.compile(r"\b(?:order(?:ed|s)?|judgment|injunction|decision)\b", re.I)

log = logging.getLogger(__name__)


@dataclass
class PacerEntry:
    """One docket entry of a feed: juriscraper's docket fields plus the feed item's own links."""

    court_id: str
    case_name: str
    docket_number: str
    pacer_case_id: str | None
    date_filed: datetime | None  # None: the feed's date was unreadable or implausible (``date_text`` says what)
    document_number: str | None
    pacer_doc_id: str
    pacer_seq_no: str | None
    short_description: str
    link: str = ""
    guid: str = ""
    doc_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    date_text: str = ""  # the item's pubDate as the feed wrote it

    @property
    def external_id(self) -> str:
        """Stable per entry: court, case (PACER case id, else docket number), then the entry: its docket-entry
        sequence number (district ``de_seq_num``), else its document id, else its document number."""
        case = self.pacer_case_id or self.docket_number
        if self.pacer_seq_no:
            doc = f"seq{self.pacer_seq_no}"
        elif self.pacer_doc_id:
            doc = f"doc{self.pacer_doc_id}"
        elif self.document_number:
            doc = f"no{self.document_number}"
        elif self.guid and self.guid != self.link:
            doc = "g" + hashlib.sha1(self.guid.encode()).hexdigest()[:12]
        else:
            raw = f"{self.date_key}|{self.short_description}".encode()
            doc = "h" + hashlib.sha1(raw).hexdigest()[:12]
        return f"{self.court_id}:{case}:{doc}"

    @property
    def url(self) -> str:
        if self.guid and self.guid.startswith("http") and self.guid != self.link:
            return self.guid
        if self.doc_url.startswith("http"):
            return self.doc_url
        joiner = "&" if "?" in self.link else "?"
        return f"{self.link}{joiner}lawwatch_entry={self.external_id.rsplit(':', 1)[-1]}"

    @property
    def form(self) -> str:
        return entry_form(self.short_description)

    @property
    def signature(self) -> str:
        return f"{self.date_key}|{self.short_description}"

    @property
    def date_key(self) -> str:
        return self.date_filed.isoformat() if self.date_filed is not None else self.date_text


def entry_form(short_description: str) -> str:
    """complaint, opinion, order or docket_entry from a docket entry's short description."""
    text = short_description.strip()
    if _COMPLAINT.search(text):
        return "complaint"
    if _FILING.search(text):
        return "docket_entry"
    if _OPINION.search(text):
        return "opinion"
    if _ORDER.search(text):
        return "order"
    return "docket_entry"


def decode_feed(body: bytes, declared: str | None = None) -> str:
    """The feed's text. PACER declares ISO-8859-1; a server may lie (header or declaration), so: bytes that are
    valid UTF-8 with non-ASCII characters are UTF-8; otherwise the XML declaration, then ``declared`` (the HTTP
    charset), then windows-1252, whichever decodes first."""
    if not body.isascii():
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            pass
    match = _XML_DECL.match(body)
    candidates = [match.group(1).decode("ascii") if match else None, declared, "cp1252"]
    for encoding in candidates:
        if not encoding:
            continue
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("latin-1")


def new_feed(court: str) -> Any:
    """A juriscraper ``PacerRssFeed`` for ``court`` (imported lazily: juriscraper is heavy)."""
    from juriscraper.pacer import PacerRssFeed

    return PacerRssFeed(court)


def feed_path(court: str) -> str:
    """The court's feed path as juriscraper knows it (appellate and nyed differ from ``/cgi-bin/rss_outside.pl``)."""
    parts = urlsplit(new_feed(court).url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def parse_feed(text: str, court: str, problems: list[str] | None = None) -> tuple[list[PacerEntry], int]:
    """Parse a feed's text with juriscraper; returns (entries, number of raw RSS items).

    Follows ``PacerRssFeed.data`` item by item (same ``metadata``/``docket_entries``/``append_or_merge_entry``) so
    each merged docket keeps the guid and links of its first feed item. An item whose date is unreadable or not
    plausible (year 0000, 9999, before 1789) is kept without a date (juriscraper reads it with a stand-in date, then
    ``date_filed`` is None); an item juriscraper cannot read at all is skipped and named in ``problems``.
    """
    from juriscraper.pacer.rss_feeds import append_or_merge_entry

    feed = new_feed(court)
    feed._parse_text(text)
    check_feed(feed.feed)
    dockets: list[dict[str, Any]] = []
    for raw in feed.feed.entries:
        date_text = str(dict.get(raw, "published") or "")
        date_problem = bool(date_text) and read_date(date_text)[1] is not None
        try:
            readable = _with_stand_in_date(raw) if date_problem else raw
            docket = feed.metadata(readable)
            docket["parties"] = None
            docket["docket_entries"] = feed.docket_entries(readable)
        except AttributeError:  # juriscraper skips items without a link or date the same way
            continue
        except (IndexError, KeyError, TypeError, ValueError, OverflowError) as exc:  # an item it cannot read at all
            title = " ".join(str(raw.get("title") or "(no title)").split())[:120]
            log.warning("%s: skipping an unreadable feed item %r (%s)", court, title, type(exc).__name__)
            if problems is not None:
                problems.append(f"{court} feed: skipped an unreadable item {title!r} ({type(exc).__name__})")
            continue
        entries = docket["docket_entries"]
        if entries and (date_problem or read_date(entries[0]["date_filed"])[1] is not None):
            entries[0]["date_filed"] = None
        docket["_date_text"] = date_text
        if docket["docket_entries"] and docket["docket_number"]:
            summary = raw.get("summary", "")
            hrefs = _HREF.findall(summary)
            docket["_links"] = (raw.get("link", ""), raw.get("id", ""), html.unescape(hrefs[0]) if hrefs else "")
            append_or_merge_entry(dockets, docket)
    return [_entry(court, d) for d in dockets], len(feed.feed.entries)


def _entry(court: str, docket: dict[str, Any]) -> PacerEntry:
    de = docket["docket_entries"][0]
    link, guid, doc_url = docket["_links"]
    extra = {k: docket[k] for k in ("type", "office", "chapter") if docket.get(k)}
    return PacerEntry(
        court_id=docket["court_id"] or court,
        case_name=docket["case_name"],
        docket_number=docket["docket_number"],
        pacer_case_id=docket["pacer_case_id"],
        date_filed=de["date_filed"],
        document_number=de["document_number"],
        pacer_doc_id=de["pacer_doc_id"] or "",
        pacer_seq_no=de["pacer_seq_no"],
        short_description=de["short_description"],
        link=link.strip(),
        guid=guid.strip(),
        doc_url=doc_url.strip(),
        extra=extra,
        date_text=docket.get("_date_text", ""),
    )


def _with_stand_in_date(raw: Any) -> Any:
    """A copy of a feed item whose date juriscraper can read (the real one is not a plausible date)."""
    copy = type(raw)(raw)
    copy["published"] = "Thu, 01 Jan 1970 00:00:00 GMT"
    copy.pop("published_parsed", None)
    return copy


def docket_key(text: str) -> tuple[str | None, str, str, int] | None:
    """(office, year, case type, number) of a docket number; judge initials and leading zeros ignored."""
    m = _DN.search(text.lower())
    if not m:
        return None
    if m.group(2):
        return m.group(1), m.group(2), m.group(3), int(m.group(4))
    return None, m.group(5), "", int(m.group(6))


def matches(entry: PacerEntry, docket_numbers: Sequence[str], case_names: Sequence[str]) -> bool:
    """Whether the entry passes the case filters (no filters: every entry passes).

    A docket number may name its court (``paed:2:17-cv-03894``, ``ca7:17-2991``): docket numbers are unique only
    within a court. Office number and judge initials are optional.
    """
    if not docket_numbers and not case_names:
        return True
    key = docket_key(entry.docket_number)
    for wanted in docket_numbers:
        court, number = wanted.split(":", 1) if _COURT_PREFIX.match(wanted) else ("", wanted)
        if court and court.lower() != entry.court_id:
            continue
        want = docket_key(number)
        if key and want and want[1:] == key[1:] and (want[0] is None or key[0] is None or want[0] == key[0]):
            return True
    words = set(_WORD.findall(entry.case_name.lower()))
    return any((group := _WORD.findall(phrase.lower())) and all(w in words for w in group) for phrase in case_names)


def entry_text(entry: PacerEntry) -> str:
    number = f" (document {entry.document_number})" if entry.document_number else ""
    return (
        f"{entry.short_description}{number}\n"
        f"{entry.case_name}, No. {entry.docket_number} ({entry.court_id.upper()}), "
        f"entered {entry.date_filed.isoformat() if entry.date_filed is not None else '(no readable date)'}"
    )


class PacerRssSpider(LawwatchSpider):
    name = "pacer_rss"
    form = "docket_entry"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.courts: tuple[str, ...] = tuple(c.lower() for c in self.options.get("courts") or DEFAULT_COURTS)
        self.docket_numbers: tuple[str, ...] = tuple(self.options.get("docket_numbers") or ())
        self.case_names: tuple[str, ...] = tuple(self.options.get("case_names") or ())
        if "{court}" not in self.base_url:
            raise CrawlError(self.source.id, f'base_url "{self.base_url}" must contain "{{court}}"')
        hosts = {(urlsplit(self.court_url(c)).hostname or "").lower() for c in self.courts}
        self.allowed_domains = sorted(hosts)

    def court_url(self, court: str) -> str:
        path = self.options.get("feed_path") or feed_path(court)
        return self.base_url.replace("{court}", court) + "/" + path.lstrip("/")

    def first_requests(self) -> list[scrapy.Request]:
        return [
            scrapy.Request(self.court_url(court), callback=self.parse, meta={"court": court, "conditional": True})
            for court in self.courts
        ]

    def parse(self, response: Response, **kwargs: Any) -> Iterable[DocumentItem]:
        if response.status == 304:
            return
        problems: list[str] = []
        try:
            court = response.meta.get("court") or _court_from_url(response.url)
            refuse_entity_declarations(response.body)
            entries, raw_count = parse_feed(decode_feed(response.body, header_charset(response)), court, problems)
        except ValueError as exc:
            raise CrawlError(self.source.id, f"{response.url}: {exc}") from exc
        for problem in problems:  # items juriscraper could not read at all: errors of their own
            record_for(self, f"{problem} at {response.url}")
        if raw_count:
            self.sanity_check(len(entries), f"{court} feed {response.url} ({raw_count} items, none parsed)")
        kept = [e for e in entries if matches(e, self.docket_numbers, self.case_names)]
        log.info("%s: %d entries, %d match the case filters", court, len(entries), len(kept))
        for entry in kept:
            if not first_listing(self, entry.url, entry.external_id):
                continue
            if self.is_known(url=entry.url, external_id=entry.external_id, signature=entry.signature):
                continue
            yield self.make_item(
                url=entry.url,
                external_id=entry.external_id,
                title=f"{entry.case_name} ({entry.docket_number}): {entry.short_description}",
                # an unreadable or implausible date goes on as the feed wrote it: the archive stores the entry
                # without a date and the run record gets a warning naming it
                published=entry.date_filed.astimezone(UTC) if entry.date_filed is not None else entry.date_text,
                text=entry_text(entry),
                form=entry.form,
                metadata={
                    "court": entry.court_id,
                    "docket_number": entry.docket_number,
                    "case_name": entry.case_name,
                    "pacer_case_id": entry.pacer_case_id,
                    "document_number": entry.document_number,
                    "pacer_doc_id": entry.pacer_doc_id,
                    "pacer_seq_no": entry.pacer_seq_no,
                    "short_description": entry.short_description,
                    **entry.extra,
                },
                listing_signature=entry.signature,
            )


def header_charset(response: Response) -> str | None:
    """The charset named by the response's Content-Type header, if any."""
    content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
    m = re.search(r"charset=[\"']?([A-Za-z0-9._-]+)", content_type)
    return m.group(1) if m else None


def _court_from_url(url: str) -> str:
    m = _COURT_IN_URL.search(url)
    if not m:
        raise ValueError(f"cannot tell the court of {url}")
    return m.group(1)
