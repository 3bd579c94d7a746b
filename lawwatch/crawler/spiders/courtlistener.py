"""CourtListener: the v4 search API and the Atom feeds, one document per opinion cluster.

Queries (default ``"1373" OR "sanctuary jurisdiction"``) go to ``/api/rest/v4/search/?q=...&type=o&order_by=dateFiled
desc`` (cursor paging through ``next``, newest first; the walk stops at the first page whose clusters are all known)
or, with ``use_api = false``, to the Atom search feed ``/feed/search/?q=...``. Court feeds ``/feed/court/<id>/`` are
read for the configured courts. A new or changed cluster's page (``absolute_url``) is fetched for the opinion text
(trafilatura); without it the search snippet / feed summary is the document. The API token (the ``token`` secret) is
sent as ``Authorization: Token ...`` only when set, and never logged.

Options: ``queries``, ``use_api``, ``courts``, ``token``, ``max_pages``, ``fetch_pages``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from lawwatch.config_schema import Secret
from lawwatch.crawler.base import LawwatchSpider
from lawwatch.crawler.content import extract_main_text
from lawwatch.crawler.items import DocumentItem
from lawwatch.crawler.specs.courtlistener import OPTIONS
from lawwatch.errors import CrawlError

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


def search_results(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """API search results → cluster dicts (JSON-able; they travel in request meta)."""
    for r in data.get("results") or []:
        opinions = r.get("opinions") or []
        snippet = next((o.get("snippet") for o in opinions if o.get("snippet")), None) or r.get("snippet") or ""
        download = next((o.get("download_url") for o in opinions if o.get("download_url")), None) or ""
        cluster = str(r.get("cluster_id") or cluster_id_of(r.get("absolute_url", "")) or "")
        case_name = " ".join((r.get("caseName") or r.get("caseNameFull") or "").split())
        yield {
            "path": r.get("absolute_url") or "",
            "cluster_id": cluster,
            "case_name": case_name,
            "court": r.get("court_id") or None,
            "court_name": r.get("court") or None,
            "docket_number": r.get("docketNumber") or None,
            "date_filed": r.get("dateFiled") or None,
            "snippet": snippet,
            "download_url": download or None,
            "form": opinion_form(snippet, download),
            "signature": signature(r.get("dateFiled"), case_name),
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

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self._token}"} if self._token else {}

    def first_requests(self) -> list[scrapy.Request]:
        requests = []
        for query in self.options.get("queries") or DEFAULT_QUERIES:
            if self.options.get("use_api", True):
                requests.append(scrapy.Request(
                    search_url(self.base_url, query), callback=self.parse_search, headers=self.headers(),
                    meta={"query": query, "page": 1},
                ))
            else:
                url = self.url("/feed/search/?" + urlencode({"q": query}))
                requests.append(scrapy.Request(url, callback=self.parse_feed, meta={"conditional": True}))
        for court in self.options.get("courts") or ():
            url = self.url(f"/feed/court/{court}/")
            requests.append(scrapy.Request(url, callback=self.parse_feed, meta={"court": court, "conditional": True}))
        return requests


    def parse_search(self, response: Response, **kwargs: Any) -> Iterable[DocumentItem | scrapy.Request]:
        """One page of API results; the next page while this one had something new."""
        try:
            data = response.json()
        except ValueError as exc:
            raise CrawlError(self.source.id, f"{response.url}: not JSON ({exc})") from exc
        if not isinstance(data, dict) or "results" not in data:
            raise CrawlError(self.source.id, f"{response.url}: no results in the API response")
        clusters = list(search_results(data))
        if data.get("count"):
            self.sanity_check(len(clusters), f"search page {response.url}")
        all_known = True
        for cluster in clusters:
            if self.is_known(url=self.url(cluster["path"]), external_id=self._external_id(cluster),
                             signature=cluster["signature"]):
                continue
            all_known = False
            yield from self._follow(cluster)
        page = int(response.meta.get("page", 1))
        next_url = data.get("next")
        oldest = min((c["date_filed"] for c in clusters if c["date_filed"]), default=None)
        oldest_dt = datetime.fromisoformat(oldest[:10]).replace(tzinfo=UTC) if oldest else None
        if next_url and page < self.max_pages and self.keep_walking(all_known=all_known, oldest=oldest_dt):
            yield scrapy.Request(
                self.url(next_url) if next_url.startswith("/") else next_url, callback=self.parse_search,
                headers=self.headers(), meta={"query": response.meta.get("query"), "page": page + 1},
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
            if not self.is_known(url=self.url(cluster["path"]), external_id=self._external_id(cluster),
                                 signature=cluster["signature"]):
                yield from self._follow(cluster)

    def _follow(self, cluster: dict[str, Any]) -> Iterator[DocumentItem | scrapy.Request]:
        url = self.url(cluster["path"])
        host = (urlsplit(url).hostname or "").lower()
        if self.options.get("fetch_pages", True) and any(host == d or host.endswith("." + d)
                                                         for d in self.allowed_domains):
            yield scrapy.Request(url, callback=self.parse_opinion, errback=self.opinion_failed,
                                 meta={"cluster": cluster})
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
        return self.make_item(
            url=self.url(cluster["path"]), external_id=self._external_id(cluster), title=cluster["case_name"],
            published=datetime.fromisoformat(filed).replace(tzinfo=UTC) if filed else None,
            form="order" if cluster["form"] == "order" or (page_text and opinion_form(page_text[:400]) == "order")
            else "opinion",
            metadata={
                "court": cluster["court"], "court_name": cluster["court_name"],
                "docket_number": cluster["docket_number"], "case_name": cluster["case_name"],
                "cluster_id": cluster["cluster_id"], "download_url": cluster["download_url"],
                "date_filed": filed, "body_from": "page" if page_text else "listing",
            },
            listing_signature=cluster["signature"], **body,
        )
