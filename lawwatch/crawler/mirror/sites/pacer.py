"""PACER CM/ECF "Recent Entries" RSS 2.0 (ISO-8859-1) at ``/ecf.<court>.uscourts.gov/cgi-bin/rss_outside.pl``.

Two kinds of court:

- corpus courts (sdny — real host ``ecf.nysd``, also served as ``ecf.sdny`` —, nyed, mdb, wvsd, nysb, ca2, ca4, ca6,
  ca10, ca11, cadc, cafc): the real juriscraper sample feeds, byte for byte (only links rewritten to the mirror);
  read-only (publish/edit raise ``ValueError``). Also served at the court's real feed path where it differs
  (juriscraper's ``PacerRssFeed.url``): ``/n/beam/servlet/TransportRoom?servlet=RSSGenerator`` for the courts of
  appeals, ``/cgi-bin/readyDockets.pl`` for nyed.
- written courts (paed, ilnd, cand): feeds rendered from ``data/pacer_story.json`` — entries of City of
  Philadelphia v. Sessions 2:17-cv-03894, City of Chicago v. Sessions 1:17-cv-05720 and County of Santa Clara v.
  Trump 3:17-cv-00574 on the dates of the rulings, among fictional placeholder cases. ``publish`` adds entries to the
  court's § 1373 case; ``edit`` changes an entry's short description.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from html import escape

from lawwatch.crawler.mirror.sites.base import DATA, Resource, Site, next_stamp, read_json, rfc822

FEED_PATH = "/cgi-bin/rss_outside.pl"
APPELLATE_PATH = "/n/beam/servlet/TransportRoom"  # ?servlet=RSSGenerator, as juriscraper's PacerRssFeed.url
NYED_PATH = "/cgi-bin/readyDockets.pl"
CORPUS = {
    "nysd": "nysd.xml.gz",
    "nyed": "nyed.xml.gz",
    "nysb": "nysb.xml.gz",
    "mdb": "mdb.xml",
    "wvsd": "wvsd.xml",
    "ca2": "ca2.xml",
    "ca4": "ca4.xml",
    "ca6": "ca6.xml",
    "ca10": "ca10.xml",
    "ca11": "ca11.xml",
    "cadc": "cadc.xml",
    "cafc": "cafc.xml",
}
ALIASES = {"nysd": ("sdny",)}
CHARSET = "ISO-8859-1"


def host_of(court: str) -> str:
    return f"ecf.{court}.uscourts.gov"


class CorpusFeed(Site):
    def __init__(self, court: str, filename: str) -> None:
        self.court = court
        self.hosts = (host_of(court), *(host_of(alias) for alias in ALIASES.get(court, ())))
        self.host = self.hosts[0]
        raw = (DATA / "pacer" / filename).read_bytes()
        self.body = gzip.decompress(raw) if filename.endswith(".gz") else raw
        match = re.search(rb"<lastBuildDate>([^<]+)</lastBuildDate>", self.body)
        try:
            self.modified = parsedate_to_datetime(match.group(1).decode()).timestamp() if match else 0.0
        except (TypeError, ValueError):
            self.modified = 0.0

    def get(self, path: str, query: dict[str, list[str]]) -> Resource | None:
        real = NYED_PATH if self.court == "nyed" else APPELLATE_PATH if self.court.startswith("ca") else FEED_PATH
        if path not in (FEED_PATH, real):
            return None
        if path == APPELLATE_PATH and query.get("servlet") != ["RSSGenerator"]:
            return None
        return Resource(self.body, "application/rss+xml", self.modified, xml=True, charset=CHARSET)

    def publish(self, count: int) -> list[str]:
        raise ValueError(f"{self.host} serves a real corpus sample; publish to ecf.paed/ilnd/cand instead")

    def edit(self, which: int = 0) -> str:
        raise ValueError(f"{self.host} serves a real corpus sample; edit ecf.paed/ilnd/cand instead")


@dataclass(slots=True)
class Entry:
    docket_number: str
    case_name: str
    pacer_case_id: str
    document_number: str
    pacer_seq_no: str
    short_description: str
    filed: float
    pacer_doc_id: str
    story: bool = False
    changed: float = 0.0


class WrittenFeed(Site):
    def __init__(self, court: str, title: str, doc_prefix: str, rows: list[dict[str, object]]) -> None:
        self.court, self.title = court, title
        self.host = host_of(court)
        self.hosts = (self.host,)
        self.prefix = doc_prefix
        self.entries = [self._entry(row) for row in rows]
        self._sort()

    def _entry(self, row: dict[str, object]) -> Entry:
        filed = datetime.fromisoformat(str(row["filed"])).timestamp()
        seq = str(row["pacer_seq_no"])
        doc_id = f"{self.prefix}1{int(str(row['pacer_case_id'])) % 100000:05d}{int(seq) % 10000:04d}"[:12]
        return Entry(
            str(row["docket_number"]),
            str(row["case_name"]),
            str(row["pacer_case_id"]),
            str(row["document_number"]),
            seq,
            str(row["short_description"]),
            filed,
            doc_id,
            bool(row.get("story")),
            filed,
        )

    def _sort(self) -> None:
        self.entries.sort(key=lambda e: e.filed, reverse=True)
        self.modified = max(e.changed for e in self.entries)

    def get(self, path: str, query: dict[str, list[str]]) -> Resource | None:
        if path != FEED_PATH:
            return None
        base = f"https://{self.host}"
        items = []
        for e in self.entries:
            doc = f"{base}/doc1/{e.pacer_doc_id}?caseid={e.pacer_case_id}&de_seq_num={e.pacer_seq_no}"
            summary = f'[{e.short_description}] (<a href="{doc}" >{e.document_number}</a>)'
            items.append(
                f"<item>\n<title>{escape(e.docket_number)} {escape(e.case_name)}</title>\n"
                f"<link>{base}/cgi-bin/DktRpt.pl?{e.pacer_case_id}</link>\n"
                f"<description>{escape(summary)}</description>\n"
                f'<guid isPermaLink="true">{base}/cgi-bin/DktRpt.pl?{e.pacer_case_id}&amp;{e.pacer_seq_no}</guid>\n'
                f"<pubDate>{rfc822(e.filed)}</pubDate>\n</item>"
            )
        text = (
            f'<?xml version="1.0" encoding="{CHARSET}"?>\n\n<rss version="2.0"\n'
            ' xmlns:blogChannel="http://backend.userland.com/blogChannelModule"\n>\n\n<channel>\n'
            f"<title>{escape(self.title)} - Recent Entries</title>\n<link>{base}</link>\n"
            "<description>Docket entries of type: cmp,motion,notice,order,misc</description>\n"
            f"<lastBuildDate>{rfc822(self.modified)}</lastBuildDate>\n\n" + "\n".join(items) + "\n</channel>\n</rss>\n"
        )
        return Resource(
            text.encode(CHARSET, "xmlcharrefreplace"), "application/rss+xml", self.modified, xml=True, charset=CHARSET
        )

    def publish(self, count: int) -> list[str]:
        case = next(e for e in self.entries if e.story)
        numbers = [int(e.document_number) for e in self.entries if e.pacer_case_id == case.pacer_case_id]
        seqs = [int(e.pacer_seq_no) for e in self.entries if e.pacer_case_id == case.pacer_case_id]
        urls = []
        for n in range(1, count + 1):
            stamp = next_stamp(self.modified)
            seq = str(max(seqs) + 2 * n)
            row: dict[str, object] = {
                "docket_number": case.docket_number,
                "case_name": case.case_name,
                "pacer_case_id": case.pacer_case_id,
                "document_number": str(max(numbers) + n),
                "pacer_seq_no": seq,
                "short_description": f"Notice (mirror test entry {max(numbers) + n})",
                "story": True,
                "filed": datetime.fromtimestamp(stamp).astimezone().isoformat(),
            }
            self.entries.append(self._entry(row))
            self.modified = stamp
            urls.append(f"https://{self.host}/cgi-bin/DktRpt.pl?{case.pacer_case_id}&{seq}")
        self._sort()
        return urls

    def edit(self, which: int = 0) -> str:
        entry = self.entries[which]
        entry.short_description = entry.short_description.removesuffix(" (corrected)") + " (corrected)"
        entry.changed = next_stamp(self.modified)
        self.modified = entry.changed
        return f"https://{self.host}/cgi-bin/DktRpt.pl?{entry.pacer_case_id}&{entry.pacer_seq_no}"


def pacer_sites() -> list[Site]:
    story = read_json("pacer_story.json")
    sites: list[Site] = [CorpusFeed(court, name) for court, name in CORPUS.items()]
    for court, info in story["courts"].items():
        rows = [row for row in story["entries"] if row["court"] == court]
        sites.append(WrittenFeed(court, info["title"], info["doc_prefix"], rows))
    return sites
