"""www.justice.gov: the press-release API, HTML listings and release pages (current and 2018 layouts), RSS.

Paths (below ``/www.justice.gov``):

- ``/api/v1/press_releases.json?pagesize=N&page=P`` — envelope ``metadata.resultset.count/pagesize/page`` and
  ``results[]``; ``page`` from 0, ``pagesize`` capped at 50 (default 20); newest-first unless ``api_order`` is
  ``"oldest"``. Every 7th release wraps its ``date`` as ``<time datetime="...">EPOCH</time>``, as seen in the wild.
- ``/news?page=N`` (all releases) and ``/<component>/pr?page=N`` (``opa``, ``usao-edpa``, ``nsd``,
  ``interpol-washington``): current listing layout, 20 per page, ``a[aria-label='Next page']``.
- ``/<component>/pr/<slug>``: release pages. ``usao-edpa`` releases dated before 2019 use the 2018 layout
  (``h1#node-title``, ``div.field--name-field-pr-body``, ``span.date-display-single[content]``, ...); all others
  the current layout (``h1.page-title``, ``article time[datetime]``, body in ``div.field_body``). The body region's
  inner HTML is exactly the API ``body``; the title text is exactly the API ``title``.
- ``/feeds/opa/justice-news.xml`` (alias ``/news/rss``): RSS 2.0, the 50 newest releases, full body as description.

``publish(count, kind="letter")`` adds generated § 1373 compliance letters, each naming one of the jurisdictions
DOJ wrote to in 2017-2018 (in turn), worded like the real releases and saying in its last paragraph that the mirror
generated it (``lawwatch demo --live``). ``kind="release"`` adds sentence-bank filler releases.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import cast
from urllib.parse import urlsplit

from lawwatch.crawler.mirror.sites.base import (
    Resource,
    SentenceBank,
    Site,
    day_epoch,
    html_page,
    iso,
    next_stamp,
    read_jsonl,
    rfc822,
    slugify,
)

HOST = "www.justice.gov"
ROOT = f"https://{HOST}"
PER_PAGE = 20
API_MAX = 50
RSS_ITEMS = 50
COMPONENT_NAMES = {
    "opa": "Office of Public Affairs",
    "usao-edpa": "USAO - Pennsylvania, Eastern",
    "nsd": "National Security Division (NSD)",
    "interpol-washington": "INTERPOL Washington",
}
CITY = {"usao-edpa": "PHILADELPHIA"}
PUBLISH_KINDS = ("release", "letter")
# (name as DOJ's letters write it, short name): jurisdictions named in the 2017-2018 § 1373 letters, in turn.
LETTER_PLACES = (
    ("the City of Albuquerque, New Mexico", "Albuquerque"),
    ("Bernalillo County, New Mexico", "Bernalillo County"),
    ("the City of Berkeley, California", "Berkeley"),
    ("the City of Burlington, Vermont", "Burlington"),
    ("Sonoma County, California", "Sonoma County"),
    ("the City of Watsonville, California", "Watsonville"),
    ("Jackson County, Oregon", "Jackson County"),
    ("the City of West Palm Beach, Florida", "West Palm Beach"),
    ("Monterey County, California", "Monterey County"),
    ("the City of Fremont, California", "Fremont"),
    ("Sacramento County, California", "Sacramento County"),
    ("the City of Seattle, Washington", "Seattle"),
)


@dataclass(slots=True)
class Release:
    uuid: str
    title: str
    body: str
    url: str
    date: int
    changed: int
    teaser: str = ""
    number: str = ""
    components: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    layout: str = "current"
    edits: int = 0

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def component(self) -> str:
        return self.path.split("/")[1]

    def api(self) -> dict[str, object]:
        date: str = str(self.date)
        if int(self.uuid[:8], 16) % 7 == 0:
            date = f'<time datetime="{_local_iso(self.date)}">{self.date}</time>'
        return {
            "uuid": self.uuid,
            "title": self.title,
            "body": self.body,
            "teaser": self.teaser,
            "url": self.url,
            "date": date,
            "created": str(self.date),
            "changed": str(self.changed),
            "number": self.number,
            "component": [{"name": name} for name in self.components],
            "topic": [{"name": name} for name in self.topics],
            "attachment": [],
            "langcode": "en",
        }


def _local_iso(epoch: int) -> str:
    """An Eastern-time ISO stamp (fixed -05:00 offset, as seen in the wrapped API dates)."""
    return datetime.fromtimestamp(epoch - 5 * 3600, UTC).strftime("%Y-%m-%dT%H:%M:%S-05:00")


def _long_date(epoch: int) -> str:
    day = datetime.fromtimestamp(epoch, UTC)
    return f"{day:%A, %B} {day.day}, {day.year}"


def _teaser_of(release: Release) -> str:
    if release.teaser:
        return release.teaser
    text = " ".join(SentenceBank._TAG.sub(" ", release.body).split())
    return text if len(text) <= 200 else text[:197].rsplit(" ", 1)[0] + "..."


class Justice(Site):
    host = HOST
    hosts = (HOST,)

    def __init__(self, extra_releases: int = 0, api_order: str = "newest") -> None:
        background = read_jsonl("doj_corpus_100.jsonl")
        self.bank = SentenceBank([row["body"] for row in background])
        self.api_order = api_order
        releases = [self._from_corpus(row) for row in background]
        releases += [self._from_api(row) for row in read_jsonl("doj_1373_releases.jsonl")]
        releases += self._edpa()
        start, end = day_epoch("2009-01-02"), day_epoch("2016-12-30")
        step = (end - start) // max(extra_releases, 1)
        releases += [self._synthetic(10_000 + n, "opa", start + n * step) for n in range(extra_releases)]
        self.releases = releases
        self._published = 0
        self._reindex()

    # ------------------------------------------------------------------ content
    @staticmethod
    def _from_corpus(row: dict[str, object]) -> Release:
        url, date = str(row["url"]), int(str(row["date"]))
        component = urlsplit(url).path.split("/")[1]
        names = [COMPONENT_NAMES[component]] if component in COMPONENT_NAMES and component != "opa" else []
        return Release(
            uuid=str(uuid.uuid5(uuid.NAMESPACE_URL, url)),
            title=str(row["title"]),
            body=str(row["body"]),
            url=url,
            date=date,
            changed=date,
            components=names,
        )

    @staticmethod
    def _from_api(row: dict[str, object]) -> Release:
        def names(key: str) -> list[str]:
            items = cast("list[dict[str, object]]", row.get(key) or [])
            return [str(item["name"]) for item in items]

        return Release(
            uuid=str(row["uuid"]),
            title=str(row["title"]),
            body=str(row["body"]),
            url=str(row["url"]),
            date=int(str(row["date"])),
            changed=int(str(row["changed"])),
            teaser=str(row["teaser"]),
            number=str(row.get("number") or ""),
            components=names("component"),
            topics=names("topic"),
        )

    def _synthetic(self, seed: int, component: str, date: int) -> Release:
        title = self.bank.title(seed)
        city = CITY.get(component, "WASHINGTON")
        paragraphs = self.bank.paragraphs(seed)
        paragraphs[0] = f"{city} – {paragraphs[0]}"
        body = "\n".join(f"<p>{escape(p, quote=False)}</p>" for p in paragraphs)
        url = f"{ROOT}/{component}/pr/{slugify(title, 60)}-{seed}"
        year = datetime.fromtimestamp(date, UTC).year % 100
        layout = "2018" if component == "usao-edpa" and year < 19 else "current"
        components = [COMPONENT_NAMES[component]] if component != "opa" else []
        return Release(
            uuid=str(uuid.uuid5(uuid.NAMESPACE_URL, url)),
            title=title,
            body=body,
            url=url,
            date=date,
            changed=date,
            number=f"{year:02d}-{seed % 1000:03d}",
            components=components,
            topics=[],
            layout=layout,
        )

    def _edpa(self) -> list[Release]:
        """16 generated usao-edpa releases: 12 from 2017-2018 (2018 layout), 4 from 2019-2020 (current layout)."""
        days = [f"{2017 + n // 6}-{1 + (n % 6) * 2:02d}-{10 + n:02d}" for n in range(12)]
        days += ["2019-03-14", "2019-09-05", "2020-02-11", "2020-07-22"]
        return [self._synthetic(500 + n, "usao-edpa", day_epoch(day, 15)) for n, day in enumerate(days)]

    def _reindex(self) -> None:
        self.releases.sort(key=lambda r: (r.date, r.url), reverse=True)
        self.by_path = {r.path: r for r in self.releases}
        self.max_changed = max(r.changed for r in self.releases)

    def _letter(self, seed: int, date: int) -> Release:
        place, short = LETTER_PLACES[seed % len(LETTER_PLACES)]
        title = f"Justice Department Sends Letter to {short} Regarding Compliance with 8 U.S.C. 1373"
        due = datetime.fromtimestamp(date + 30 * 86_400, UTC)
        paragraphs = [
            f"WASHINGTON – The Department of Justice today sent a letter to {place}, stating that it appears to have "
            "laws, policies or practices that may violate 8 U.S.C. § 1373, which prohibits restricting the sharing "
            "of information regarding citizenship or immigration status with federal immigration authorities.",
            f"The letter asks {short} to provide, by {due:%B} {due.day}, {due.year}, documents showing whether its "
            "employees are restricted from sharing such information, and a legal opinion that it complies with "
            "Section 1373. Jurisdictions that do not comply may lose Edward Byrne Memorial Justice Assistance Grant "
            "funds.",
            f"This release was generated by the lawwatch offline mirror (demo letter {seed}); it is not a release "
            "of the Department of Justice.",
        ]
        body = "\n".join(f"<p>{escape(p, quote=False)}</p>" for p in paragraphs)
        url = f"{ROOT}/opa/pr/{slugify(title, 60)}-{seed}"
        return Release(
            uuid=str(uuid.uuid5(uuid.NAMESPACE_URL, url)),
            title=title,
            body=body,
            url=url,
            date=date,
            changed=date,
            number=f"{datetime.fromtimestamp(date, UTC).year % 100:02d}-{seed % 1000:03d}",
            components=[],
            topics=["Immigration"],
        )

    def publish(self, count: int, kind: str = "release") -> list[str]:
        if kind not in PUBLISH_KINDS:
            raise ValueError(f"kind must be one of {', '.join(PUBLISH_KINDS)}, not {kind!r}")
        urls = []
        for _ in range(count):
            self._published += 1
            stamp = next_stamp(self.max_changed)
            if kind == "letter":
                release = self._letter(self._published, stamp)
            else:
                release = self._synthetic(90_000 + self._published, "opa", stamp)
            self.releases.append(release)
            self.max_changed = stamp
            urls.append(release.url)
        self._reindex()
        return urls

    def edit(self, which: int = 0) -> str:
        release = self.releases[which]
        release.edits += 1
        release.changed = next_stamp(self.max_changed)
        note = f"<p><em>Updated: this release was corrected (revision {release.edits}).</em></p>\n"
        release.body = note + release.body.split("</em></p>\n", 1)[-1] if release.edits > 1 else note + release.body
        release.teaser = f"(Updated, revision {release.edits}) {_teaser_of(release)}"[:240]
        self._reindex()
        return release.url

    # ------------------------------------------------------------------ routing
    def get(self, path: str, query: dict[str, list[str]]) -> Resource | None:
        page = _int(query, "page", 0)
        if path == "/api/v1/press_releases.json":
            return self._api(min(max(_int(query, "pagesize", 20), 1), API_MAX), page)
        if path in ("/feeds/opa/justice-news.xml", "/news/rss"):
            return self._rss()
        if path == "/news":
            return self._listing(self.releases, page, "/news", "News")
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[1] == "pr" and parts[0] in COMPONENT_NAMES:
            items = [r for r in self.releases if r.component == parts[0]]
            return self._listing(items, page, path, f"{COMPONENT_NAMES[parts[0]]}: Press Releases")
        release = self.by_path.get(path)
        if release is None:
            return None
        return Resource(self._page(release), "text/html", release.changed)

    def _api(self, pagesize: int, page: int) -> Resource:
        ordered = self.releases if self.api_order != "oldest" else self.releases[::-1]
        chunk = ordered[page * pagesize : (page + 1) * pagesize]
        envelope = {
            "metadata": {
                "responseInfo": {"status": 200, "developerMessage": "OK"},
                "resultset": {"count": len(ordered), "pagesize": pagesize, "page": page},
                "executionTime": 0.01,
            },
            "results": [r.api() for r in chunk],
        }
        body = json.dumps(envelope, ensure_ascii=False).encode()
        return Resource(body, "application/json", self.max_changed)

    def _listing(self, items: list[Release], page: int, path: str, heading: str) -> Resource:
        chunk = items[page * PER_PAGE : (page + 1) * PER_PAGE]
        rows = "\n".join(
            '<div class="views-row">\n<article class="news-content-listing node node--type-press-release">\n'
            f'<h2 class="news-title"><a href="{escape(r.url)}" hreflang="en">{escape(r.title)}</a></h2>\n'
            f'<div class="node-date"><time datetime="{iso(r.date)}">{_long_date(r.date)}</time></div>\n'
            f'<div class="field-formatter--smart-trim"><p>{escape(_teaser_of(r))}</p></div>\n'
            "</article>\n</div>"
            for r in chunk
        )
        pager = ""
        if (page + 1) * PER_PAGE < len(items):
            pager = (
                f'<nav class="pager" role="navigation"><ul class="pager__items"><li class="pager__item--next">'
                f'<a href="{ROOT}{path}?page={page + 1}" title="Go to next page" rel="next" '
                f'aria-label="Next page">Next</a></li></ul></nav>'
            )
        main = (
            f'<main id="main-content"><h1 class="page-title">{escape(heading)}</h1>\n'
            f'<div class="view-content">\n{rows}\n</div>\n{pager}</main>'
        )
        return Resource(
            html_page(f"{heading} | United States Department of Justice", _chrome(main)), "text/html", self.max_changed
        )

    def _page(self, r: Release) -> bytes:
        canonical = f'<link rel="canonical" href="{escape(r.url)}">\n'
        title = f"{r.title} | United States Department of Justice"
        if r.layout == "2018":
            topics = "".join(f'<div class="field__item">{escape(t)}</div>' for t in r.topics)
            comps = "".join(f'<a href="{ROOT}/{r.component}">{escape(c)}</a>' for c in r.components)
            main = (
                f'<div id="content"><h1 id="node-title">{escape(r.title)}</h1>\n'
                f'<div class="node node-press-release">\n<div class="field--name-field-pr-date">'
                f'<span class="date-display-single" property="dc:date" datatype="xsd:dateTime" '
                f'content="{_local_iso(r.date)}">{_long_date(r.date)}</span></div>\n'
                f'<div class="field--name-field-pr-subtitle">{escape(r.teaser)}</div>\n'
                f'<div class="field field--name-field-pr-body field--type-text-with-summary">{r.body}</div>\n'
                f'<div class="field field--name-field-pr-topic"><div class="field__label">Topic(s):</div>'
                f'<div class="field__items">{topics}</div></div>\n'
                f'<div class="field field--name-field-pr-component"><div class="field__label">Component(s):</div>'
                f"{comps}</div>\n"
                f'<div class="field field--name-field-pr-number"><div class="field__label">Press Release Number:'
                f'</div><div class="field__items"><div class="field__item">{escape(r.number)}</div></div></div>\n'
                "</div></div>"
            )
        else:
            topics = "".join(f'<div class="field__item">{escape(t)}</div>' for t in r.topics)
            comps = "".join(f'<a href="{ROOT}/{r.component}">{escape(c)}</a>' for c in r.components)
            updated = ""
            if r.changed != r.date:
                updated = (
                    f'<div class="node-updated-date">Updated <time class="updated" '
                    f'datetime="{iso(r.changed)}">{_long_date(r.changed)}</time></div>\n'
                )
            main = (
                f'<main id="main-content"><h1 class="page-title">{escape(r.title)}</h1>\n'
                f'<article class="node node--type-press-release node--view-mode-full">\n'
                f'<div class="node-subtitle">{escape(r.teaser)}</div>\n'
                f'<div class="node-date"><time datetime="{iso(r.date)}">{_long_date(r.date)}</time></div>\n'
                f"{updated}"
                f'<div class="field_body text-formatted">{r.body}</div>\n'
                f'<div class="node-topics"><div class="field__label">Topic</div>{topics}</div>\n'
                f'<div class="node-component"><div class="field__label">Component</div>{comps}</div>\n'
                f'<div class="field_press_release_number"><div class="field__label">Press Release Number:</div>'
                f'<div class="field__item">{escape(r.number)}</div></div>\n'
                "</article></main>"
            )
        return html_page(title, _chrome(main), head=canonical)

    def _rss(self) -> Resource:
        items = "\n".join(
            f"<item>\n<title>{escape(r.title)}</title>\n<link>{escape(r.url)}</link>\n"
            f"<description>{escape(r.body)}</description>\n<pubDate>{rfc822(r.date)}</pubDate>\n"
            f"<dc:creator>{escape(', '.join(r.components) or 'Office of Public Affairs')}</dc:creator>\n"
            f'<guid isPermaLink="false">{r.uuid}</guid>\n</item>'
            for r in self.releases[:RSS_ITEMS]
        )
        body = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n<title>Justice News</title>\n'
            f"<link>{ROOT}/news</link>\n<description>Justice News from the Department of Justice</description>\n"
            f'<language>en</language>\n<atom:link href="{ROOT}/feeds/opa/justice-news.xml" rel="self" '
            f'type="application/rss+xml"/>\n<lastBuildDate>{rfc822(self.max_changed)}</lastBuildDate>\n'
            f"{items}\n</channel>\n</rss>\n"
        )
        return Resource(body.encode(), "application/rss+xml", self.max_changed, xml=True)


def _chrome(main: str) -> str:
    return (
        f'<header class="usa-header"><a class="usa-logo" href="{ROOT}/">Justice Department</a>'
        f'<nav><a href="{ROOT}/news">News</a> <a href="{ROOT}/opa/pr">Press Releases</a></nav></header>\n'
        f"{main}\n"
        f'<footer class="usa-footer"><a href="{ROOT}/accessibility">Accessibility</a> '
        f'<a href="{ROOT}/privacy-policy">Privacy Policy</a></footer>'
    )


def _int(query: dict[str, list[str]], name: str, default: int) -> int:
    try:
        return max(int(query.get(name, [str(default)])[0]), 0)
    except ValueError:
        return default
