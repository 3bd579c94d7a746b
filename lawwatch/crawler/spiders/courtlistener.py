"""CourtListener: the v4 search API and the Atom feeds, one document per opinion cluster.

Queries (default ``"1373" OR "sanctuary jurisdiction"``) go to ``/api/rest/v4/search/?q=...&type=o&order_by=dateFiled
desc`` (cursor paging through ``next``, newest first; the walk stops at the first page whose clusters are all known
once past where the last finished walk began, ``LawwatchSpider.next_page``) or, with ``use_api = false``, to the
Atom search feed ``/feed/search/?q=...``. Court feeds ``/feed/court/<id>/`` are read for the configured courts. A
new or changed cluster's page (``absolute_url``) is fetched for the opinion text (trafilatura); without it the search
snippet / feed summary is the document. The API token (the ``token`` secret) is sent as ``Authorization: Token ...``
only when set, and never logged.

Options: ``queries``, ``use_api``, ``courts``, ``token``, ``max_pages``, ``fetch_pages``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from lawwatch.config_schema import Secret
from lawwatch.crawler.base import LawwatchSpider, Listed
from lawwatch.crawler.content import extract_main_text
from lawwatch.crawler.identity import first_listing
from lawwatch.crawler.items import DocumentItem
from lawwatch.crawler.middlewares import record_for
from lawwatch.crawler.specs.courtlistener import OPTIONS
from lawwatch.errors import CrawlError
from lawwatch.pipeline.normalize import read_date

DEFAULT_QUERIES = OPTIONS.default("queries")
SEARCH_PATH = "/api/rest/v4/search/"
_CLUSTER = re.compile(r"/opinion/(\d+)/")
_ORDER_START = re.compile(r"^\W*(?:(?:memorandum|opinion) (?:and|&) )?order\b", re.I)
_TAGS = re.compile(r"<[^>]+>")


def search_url(base: str, query: str) -> str:
    return f"{base}{SEARCH_PATH}?" + urlencode({"q": query, "type": "o", "order_by": "dateFiled desc"})


def opinion_form(snippet: str, download_url: str = "") -> str:
    """order when the text opens as an order (or the file is named one), else opinion."""
    plain = _TAGS.sub("", snippet or "").strip()
    name = download_url.rsplit("/", 1)[-1].lower()
    if _ORDER_START.search(plain) or re.search(r"(?:^|[_\-.])order(?:[_\-.]|$)", name):
        return "order"
    return "opinion"


def cluster_id_of(url: str) -> str | None:
    m = _CLUSTER.search(url or "")
    return m.group(1) if m else None


def signature(date_filed: str | None, case_name: str) -> str:
    """What API and feed both say about a cluster's version: date filed and case name."""
    return f"{(date_filed or '')[:10]}|{' '.join(case_name.split())}"


def _text(value: Any) -> str:
    """A string field of an API result: strings as they are, numbers as text, anything else (a list, an object)
    as nothing."""
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else ""


def filed_date(value: str | None) -> datetime | None:
    """The UTC midnight of a cluster's date filed (``2018-04-19``), or None when it is missing, unreadable or not a
    plausible date (``0000-00-00``, ``9999-12-31``): such a date never orders or stops a walk."""
    if not value:
        return None
    when, _problem = read_date(value[:10])
    return when


def search_results(data: dict[str, Any], problems: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """API search results → cluster dicts (JSON-able; they travel in request meta). A result that is not an object,
    or has no cluster page, is skipped and named in ``problems``."""
    results = data.get("results") or []
    for index, r in enumerate(results if isinstance(results, list) else []):
        if not isinstance(r, dict) or not _text(r.get("absolute_url")):
            if problems is not None:
                what = f"cluster {_text(r.get('cluster_id'))!r}" if isinstance(r, dict) else f"a {type(r).__name__}"
                problems.append(f"search result {index + 1} ({what}) has no cluster page; skipped")
            continue
        raw_opinions = r.get("opinions")
        opinions = [o for o in raw_opinions if isinstance(o, dict)] if isinstance(raw_opinions, list) else []
        snippet = next((_text(o.get("snippet")) for o in opinions if _text(o.get("snippet"))), "")
        snippet = snippet or _text(r.get("snippet"))
        download = next((_text(o.get("download_url")) for o in opinions if _text(o.get("download_url"))), "")
        path = _text(r.get("absolute_url"))
        cluster = _text(r.get("cluster_id")) or cluster_id_of(path) or ""
        case_name = " ".join((_text(r.get("caseName")) or _text(r.get("caseNameFull"))).split())
        date_filed = _text(r.get("dateFiled"))
        yield {
            "path": path,
            "cluster_id": cluster,
            "case_name": case_name,
            "court": _text(r.get("court_id")) or None,
            "court_name": _text(r.get("court")) or None,
            "docket_number": _text(r.get("docketNumber")) or None,
            "date_filed": date_filed or None,
            "snippet": snippet,
            "download_url": download or None,
            "form": opinion_form(snippet, download),
            "signature": signature(date_filed, case_name),
        }


def feed_clusters(result: Any, court: str | None) -> Iterator[dict[str, Any]]:
    """Atom feed entries → cluster dicts shaped like :func:`search_results`'."""
    for e in result.entries:
        link = next((x.get("href") for x in e.get("links", []) if x.get("rel") == "alternate"), e.get("link"))
        if not link:
            continue
        enclosure = next((x.get("href") for x in e.get("links", []) if x.get("rel") == "enclosure"), None) or ""
        raw = dict.get(e, "published") or dict.get(e, "updated") or ""
        # the date as the court filed it (the feed's local date), not shifted to UTC
        filed = raw[:10] if re.match(r"\d{4}-\d\d-\d\d", raw) else None
        parsed = dict.get(e, "published_parsed") or dict.get(e, "updated_parsed")
        if filed is None and parsed:
            filed = date(*parsed[:3]).isoformat()
        case_name = " ".join((e.get("title") or "").split())
        summary = e.get("summary") or ""
        yield {
            "path": link,
            "cluster_id": cluster_id_of(link) or "",
            "case_name": case_name,
            "court": court,
            "court_name": e.get("author") or None,
            "docket_number": None,
            "date_filed": filed,
            "snippet": summary,
            "download_url": enclosure or None,
            "form": opinion_form(summary, enclosure),
            "signature": signature(filed, case_name),
        }


class CourtlistenerSpider(LawwatchSpider):
    name = "courtlistener"
    form = "opinion"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        token = self.options.get("token")
        self._token = token.reveal() if isinstance(token, Secret) and token.reveal() else None
        self.max_pages = int(self.options.get("max_pages") or 5)

    def headers(self, url: str | None = None) -> dict[str, str]:
        """The API token header, only for an https URL on the configured host and port (``url`` None: the
        configured API itself); never for http, another host, or a ``next`` URL that points elsewhere."""
        if not self._token:
            return {}
        target = urlsplit(url or self.base_url)
        base = urlsplit(self.base_url)
        same_host = (target.hostname or "").lower() == (base.hostname or "").lower() and target.port == base.port
        if target.scheme != "https" or base.scheme != "https" or not same_host:
            return {}
        return {"Authorization": f"Token {self._token}"}

    def first_requests(self) -> list[scrapy.Request]:
        requests = []
        for query in self.options.get("queries") or DEFAULT_QUERIES:
            if self.options.get("use_api", True):
                requests.append(
                    scrapy.Request(
                        search_url(self.base_url, query),
                        callback=self.parse_search,
                        headers=self.headers(),
                        meta={"query": query, "page": 1},
                    )
                )
            else:
                url = self.url("/feed/search/?" + urlencode({"q": query}))
                requests.append(scrapy.Request(url, callback=self.parse_feed, meta={"conditional": True}))
        for court in self.options.get("courts") or ():
            url = self.url(f"/feed/court/{court}/")
            requests.append(scrapy.Request(url, callback=self.parse_feed, meta={"court": court, "conditional": True}))
        return requests

    def parse_search(self, response: Response, **kwargs: Any) -> Iterable[DocumentItem | scrapy.Request]:
        """One page of API results; the next page while this one had something new."""
        if not isinstance(response, TextResponse):  # a binary body (Scrapy picked no text class): no .json()
            kind = (response.headers.get(b"Content-Type") or b"no Content-Type").decode("latin-1")
            raise CrawlError(self.source.id, f"{response.url}: not JSON ({kind})")
        try:
            data = response.json()
        except ValueError as exc:
            raise CrawlError(self.source.id, f"{response.url}: not JSON ({exc})") from exc
        if not isinstance(data, dict) or "results" not in data:
            raise CrawlError(self.source.id, f"{response.url}: no results in the API response")
        problems: list[str] = []
        clusters = list(search_results(data, problems))
        for problem in problems:
            record_for(self, f"{response.url}: {problem}")
        if data.get("count"):
            self.sanity_check(len(clusters), f"search page {response.url}")
        entries: list[Listed] = []
        for cluster in clusters:
            url, external_id = self.url(cluster["path"]), self._external_id(cluster)
            known = self.is_known(url=url, external_id=external_id, signature=cluster["signature"])
            entries.append(Listed(url, external_id, known, filed_date(cluster["date_filed"])))
            if first_listing(self, url, external_id) and not known:  # known ones claim their identity too
                yield from self._follow(cluster)
        page = int(response.meta.get("page", 1))
        next_url = data.get("next")
        oldest_dt = min((d for d in (filed_date(c["date_filed"]) for c in clusters) if d is not None), default=None)
        if next_url is not None and not isinstance(next_url, str):
            record_for(self, f"{response.url}: next is a {type(next_url).__name__}, not a URL; the walk stops here")
            next_url = None
        walk = f"search:{response.meta.get('query')}"
        go_on = self.next_page(
            walk, entries, oldest=oldest_dt, more=bool(next_url), max_pages=self.max_pages, position=page
        )
        if go_on and next_url:
            next_url = self.url(next_url) if next_url.startswith("/") else next_url
            yield scrapy.Request(
                next_url,
                callback=self.parse_search,
                headers=self.headers(next_url),
                meta={"query": response.meta.get("query"), "page": page + 1},
            )

    def parse_feed(self, response: Response, **kwargs: Any) -> Iterable[DocumentItem | scrapy.Request]:
        """An Atom feed (search or court): 20 newest clusters."""
        result = self.read_feed(response)
        if result is None:
            return
        court = response.meta.get("court")
        clusters = list(feed_clusters(result, court))
        if court:
            self.sanity_check(len(clusters), f"court feed {response.url}")
        for cluster in clusters:
            url, external_id = self.url(cluster["path"]), self._external_id(cluster)
            if not first_listing(self, url, external_id):  # the API or another feed listed it already
                continue
            if not self.is_known(url=url, external_id=external_id, signature=cluster["signature"]):
                yield from self._follow(cluster)

    def _follow(self, cluster: dict[str, Any]) -> Iterator[DocumentItem | scrapy.Request]:
        url = self.url(cluster["path"])
        host = (urlsplit(url).hostname or "").lower()
        if self.options.get("fetch_pages", True) and any(
            host == d or host.endswith("." + d) for d in self.allowed_domains
        ):
            yield scrapy.Request(
                url, callback=self.parse_opinion, errback=self.opinion_failed, meta={"cluster": cluster}
            )
        else:
            yield self.cluster_item(cluster, None)

    def parse_opinion(self, response: Response, **kwargs: Any) -> Iterable[DocumentItem]:
        """A cluster page: its opinion text (trafilatura); the snippet when the page has none."""
        cluster = response.meta["cluster"]
        text = extract_main_text(response.text, response.url) if hasattr(response, "text") else None
        yield self.cluster_item(cluster, text)

    def opinion_failed(self, failure: Failure) -> Iterable[DocumentItem]:
        request = getattr(failure, "request", None)
        if request is not None and "cluster" in request.meta:
            self.logger.warning("%s: page failed (%s); keeping the snippet", request.url, failure.getErrorMessage())
            yield self.cluster_item(request.meta["cluster"], None)

    def _external_id(self, cluster: dict[str, Any]) -> str | None:
        return f"cluster:{cluster['cluster_id']}" if cluster["cluster_id"] else None

    def cluster_item(self, cluster: dict[str, Any], page_text: str | None) -> DocumentItem:
        body = {"text": page_text} if page_text else {"html": cluster["snippet"] or cluster["case_name"]}
        filed = cluster["date_filed"]
        when = filed_date(filed)
        return self.make_item(
            url=self.url(cluster["path"]),
            external_id=self._external_id(cluster),
            title=cluster["case_name"],
            # an unreadable or implausible date goes on as written: stored without a date, with a warning
            published=when if when is not None or not filed else filed,
            form="order"
            if cluster["form"] == "order" or (page_text and opinion_form(page_text[:400]) == "order")
            else "opinion",
            metadata={
                "court": cluster["court"],
                "court_name": cluster["court_name"],
                "docket_number": cluster["docket_number"],
                "case_name": cluster["case_name"],
                "cluster_id": cluster["cluster_id"],
                "download_url": cluster["download_url"],
                "date_filed": filed,
                "body_from": "page" if page_text else "listing",
            },
            listing_signature=cluster["signature"],
            **body,
        )
