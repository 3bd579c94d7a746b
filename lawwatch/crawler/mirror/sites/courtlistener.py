"""www.courtlistener.com: the v4 search API, the Atom feeds and opinion pages.

- ``/api/rest/v4/search/?q=...&type=o&order_by=dateFiled desc[&cursor=...]`` — envelope ``count``, ``next``,
  ``previous``, ``results[]`` (camelCase, ``absolute_url`` relative as on CourtListener); cursor paging, 5 results
  per page (small on purpose, so a handful of matches already pages). ``order_by=dateFiled asc`` is honoured.
- ``/feed/search/?q=...`` and ``/feed/court/<court_id>/`` — Atom 1.0, the 20 newest matching opinions.
- ``/opinion/<cluster_id>/<slug>/`` — the opinion page (text in ``#opinion-content``).

Query language: clauses separated by ``OR``; a clause matches when all its words and "quoted phrases" occur
(case-insensitive) in the case name, docket number or text. Content: the six § 1373 rulings of
``data/court_story.json`` among ~90 real appellate opinions (metadata from juriscraper's examples) as background.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import escape
from urllib.parse import urlencode

from lawwatch.crawler.mirror.sites.base import Resource, Site, day_epoch, html_page, next_stamp, read_json, slugify

HOST = "www.courtlistener.com"
ROOT = f"https://{HOST}"
PAGE_SIZE = 5
FEED_SIZE = 20
COURTS = {
    "cand": "District Court, N.D. California",
    "ilnd": "District Court, N.D. Illinois",
    "paed": "District Court, E.D. Pennsylvania",
    "ca2": "Court of Appeals for the Second Circuit",
    "ca3": "Court of Appeals for the Third Circuit",
    "ca5": "Court of Appeals for the Fifth Circuit",
    "ca7": "Court of Appeals for the Seventh Circuit",
    "ca9": "Court of Appeals for the Ninth Circuit",
    "cadc": "Court of Appeals for the D.C. Circuit",
}


@dataclass(slots=True)
class Opinion:
    cluster_id: int
    court_id: str
    case_name: str
    docket_number: str
    date_filed: str
    paragraphs: list[str]
    download_url: str = ""
    status: str = "Published"
    modified: float = 0.0
    note: str = ""

    @property
    def path(self) -> str:
        return f"/opinion/{self.cluster_id}/{slugify(self.case_name)}/"

    @property
    def text(self) -> str:
        return " ".join(self.paragraphs)

    def haystack(self) -> str:
        return f"{self.case_name} {self.docket_number} {self.text}".lower()


class CourtListener(Site):
    host = HOST
    hosts = (HOST,)

    def __init__(self) -> None:
        story = read_json("court_story.json")
        self.opinions = [
            Opinion(
                r["cluster_id"],
                r["court_id"],
                r["case_name"],
                r["docket_number"],
                r["date_filed"],
                list(r["paragraphs"]),
                modified=day_epoch(r["date_filed"], 18),
                note=story["_note"],
            )
            for r in story["rulings"]
        ]
        for n, row in enumerate(read_json("courtlistener_background.json")):
            court = COURTS.get(row["court_id"], row["court_id"])
            text = (
                f"Opinion of the {court} in {row['case_name']}, No. {row['docket_number']}, "
                f"filed {row['date_filed']} ({row['status'].lower()})."
            )
            self.opinions.append(
                Opinion(
                    9_100_000 + n,
                    row["court_id"],
                    row["case_name"],
                    row["docket_number"],
                    row["date_filed"],
                    [text],
                    row["download_url"],
                    row["status"],
                    day_epoch(row["date_filed"], 18),
                )
            )
        self._published = 0
        self._sort()

    def _sort(self) -> None:
        self.opinions.sort(key=lambda o: (o.date_filed, o.cluster_id), reverse=True)
        self.by_path = {o.path: o for o in self.opinions}
        self.modified = max(o.modified for o in self.opinions)

    # ------------------------------------------------------------------ changes
    def publish(self, count: int) -> list[str]:
        urls = []
        for _ in range(count):
            self._published += 1
            n = self._published
            newest = date.fromisoformat(max(o.date_filed for o in self.opinions)) + timedelta(days=1)
            filed = max(newest, datetime.now(UTC).date()).isoformat()
            stamp = next_stamp(self.modified)
            opinion = Opinion(
                4_390_000 + n,
                "ilnd",
                f"Doe v. Example County (mirror test case {n})",
                f"1:26-cv-{n:05d}",
                filed,
                [
                    f"ORDER in a synthetic test case published by the lawwatch offline mirror (number {n}).",
                    "It mentions 8 U.S.C. § 1373 and sanctuary jurisdiction policies only so that searches match it.",
                ],
                modified=stamp,
                note="Synthetic test entry; not a real case.",
            )
            self.opinions.append(opinion)
            self.modified = stamp
            urls.append(ROOT + opinion.path)
        self._sort()
        return urls

    def edit(self, which: int = 0) -> str:
        opinion = self.opinions[which]
        opinion.paragraphs = [p for p in opinion.paragraphs if not p.startswith("Amended by the mirror")]
        opinion.modified = next_stamp(self.modified)
        opinion.paragraphs.append(f"Amended by the mirror at {int(opinion.modified)}.")
        self.modified = opinion.modified
        return ROOT + opinion.path

    # ------------------------------------------------------------------ routing
    def get(self, path: str, query: dict[str, list[str]]) -> Resource | None:
        q = (query.get("q") or [""])[0]
        if path == "/api/rest/v4/search/":
            return self._search(q, query)
        if path == "/feed/search/":
            return self._atom(
                self._match(q)[:FEED_SIZE],
                f"/feed/search/?{urlencode({'q': q})}",
                f"CourtListener.com Custom Search Feed: {q}",
            )
        match = re.fullmatch(r"/feed/court/([a-z0-9]+)/", path)
        if match:
            court = match.group(1)
            chosen = [o for o in self.opinions if o.court_id == court][:FEED_SIZE]
            if court not in COURTS and not chosen:
                return None
            return self._atom(chosen, path, f"CourtListener.com: All opinions for the {COURTS.get(court, court)}")
        opinion = self.by_path.get(path)
        if opinion is None:
            return None
        return Resource(self._page(opinion), "text/html", opinion.modified)

    def _match(self, q: str) -> list[Opinion]:
        clauses = [c.strip() for c in re.split(r"\s+OR\s+", q) if c.strip()]
        if not clauses:
            return list(self.opinions)
        tests = []
        for clause in clauses:
            phrases = [p.lower() for p in re.findall(r'"([^"]+)"', clause)]
            words = [w.lower() for w in re.sub(r'"[^"]*"', " ", clause).split() if w not in ("AND", "(", ")")]
            tests.append([t.strip("()") for t in phrases + words if t.strip("()")])
        return [o for o in self.opinions if any(all(t in o.haystack() for t in test) for test in tests)]

    def _search(self, q: str, query: dict[str, list[str]]) -> Resource:
        found = self._match(q)
        if "asc" in (query.get("order_by") or ["dateFiled desc"])[0]:
            found = found[::-1]
        offset = _cursor_offset((query.get("cursor") or [""])[0])
        chunk = found[offset : offset + PAGE_SIZE]
        terms = [a or b for a, b in re.findall(r'"([^"]+)"|(\S+)', q) if (a or b) != "OR"]

        def link(at: int) -> str | None:
            if at < 0 or at >= len(found) or (at == 0 and offset == 0):
                return None
            params = {k: v[0] for k, v in query.items() if k != "cursor"}
            params["cursor"] = base64.urlsafe_b64encode(f"o={at}".encode()).decode()
            return f"{ROOT}/api/rest/v4/search/?{urlencode(params)}"

        envelope = {
            "count": len(found),
            "next": link(offset + PAGE_SIZE),
            "previous": link(offset - PAGE_SIZE) if offset else None,
            "results": [self._result(o, terms) for o in chunk],
        }
        return Resource(json.dumps(envelope, ensure_ascii=False).encode(), "application/json", self.modified)

    @staticmethod
    def _result(o: Opinion, terms: list[str]) -> dict[str, object]:
        text = o.text
        at = min((i for i in (text.lower().find(t.lower()) for t in terms) if i >= 0), default=0)
        start = 0 if at < 200 else at - 120
        snippet = ("…" if start else "") + escape(text[start : start + 300], quote=False)
        for term in terms:
            snippet = re.sub(f"({re.escape(escape(term, quote=False))})", r"<mark>\1</mark>", snippet, flags=re.I)
        return {
            "absolute_url": o.path,
            "caseName": o.case_name,
            "caseNameFull": o.case_name,
            "citation": [],
            "cluster_id": o.cluster_id,
            "court": COURTS.get(o.court_id, o.court_id),
            "court_citation_string": o.court_id.upper(),
            "court_id": o.court_id,
            "dateFiled": o.date_filed,
            "docketNumber": o.docket_number,
            "docket_id": o.cluster_id + 70_000_000,
            "judge": "",
            "status": o.status,
            "meta": {"timestamp": datetime.fromtimestamp(o.modified, UTC).isoformat(), "score": {"bm25": 1.0}},
            "opinions": [
                {
                    "id": o.cluster_id + 10_000_000,
                    "snippet": snippet,
                    "type": "010combined",
                    "download_url": o.download_url or None,
                    "local_path": None,
                    "sha1": "",
                    "author_id": None,
                    "per_curiam": False,
                }
            ],
        }

    def _atom(self, chosen: list[Opinion], self_path: str, title: str) -> Resource:
        modified = max((o.modified for o in chosen), default=self.modified)
        entries = []
        for o in chosen:
            url = ROOT + o.path
            enclosure = (
                f'<link href="{escape(o.download_url)}" rel="enclosure" length="0" type="application/pdf"/>\n'
                if o.download_url
                else ""
            )
            entries.append(
                f"<entry>\n<title>{escape(o.case_name)}</title>\n"
                f'<link href="{url}" rel="alternate"/>\n{enclosure}'
                f"<published>{o.date_filed}T00:00:00-07:00</published>\n"
                f"<updated>{datetime.fromtimestamp(o.modified, UTC).isoformat()}</updated>\n"
                f"<author><name>{escape(COURTS.get(o.court_id, o.court_id))}</name></author>\n"
                f'<id>{url}</id>\n<summary type="html">{escape(o.text[:500])}</summary>\n</entry>'
            )
        body = (
            '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-us">\n'
            f'<title>{escape(title)}</title>\n<link href="{ROOT}/" rel="alternate"/>\n'
            f'<link href="{escape(ROOT + self_path)}" rel="self"/>\n<id>{escape(ROOT + self_path)}</id>\n'
            f"<updated>{datetime.fromtimestamp(modified, UTC).isoformat()}</updated>\n"
            + "\n".join(entries)
            + "\n</feed>\n"
        )
        return Resource(body.encode(), "application/atom+xml", modified, xml=True)

    @staticmethod
    def _page(o: Opinion) -> bytes:
        court = COURTS.get(o.court_id, o.court_id)
        text = "\n".join(f"<p>{escape(p, quote=False)}</p>" for p in o.paragraphs)
        note = f'<p class="mirror-note"><em>{escape(o.note)}</em></p>' if o.note else ""
        main = (
            f'<header id="header"><a href="{ROOT}/">CourtListener</a></header>\n<div id="content">\n'
            f'<article id="opinion-content">\n<h2 class="case-name">{escape(o.case_name)}</h2>\n'
            f'<ul class="case-details"><li class="court">{escape(court)}</li>'
            f"<li>Date Filed: {o.date_filed}</li><li>Docket Number: {escape(o.docket_number)}</li>"
            f"<li>Status: {o.status}</li></ul>\n"
            f'<div id="opinion"><div class="plaintext">\n{text}\n</div></div>\n{note}\n</article>\n</div>\n'
            f'<footer><a href="{ROOT}/terms/">Terms</a> <a href="{ROOT}/faq/">FAQ</a></footer>'
        )
        return html_page(
            f"{o.case_name}, {o.docket_number} ({court}) – CourtListener.com",
            main,
            head=f'<link rel="canonical" href="{ROOT}{o.path}">\n',
        )


def _cursor_offset(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode() + b"==").decode()
        return max(int(text.removeprefix("o=")), 0)
    except (ValueError, UnicodeDecodeError):
        return 0
