"""Offline spider helpers: build a spider for a source and a Scrapy response from an example file.

Golden examples live in ``tests/examples/<spider_id>/<callback>__<name>.<ext>`` with the expected output beside them
(``<same>.compare.json``) and optional ``<same>.meta.json``::

    {"url": "...", "headers": {...}, "encoding": "utf-8", "status": 200,
     "meta": {...},                                   # the request meta the callback sees
     "source": {"base_url": "...", "options": {...}, "local": false},
     "known": [{"url": "...", "external_id": "...", "signature": "..."}],
     "walks": {"<listing>": ["<url>", ...]},           # where the listing's last finished walk began
     "since": "2017-01-01"}
"""

from __future__ import annotations

import inspect
import json
import pkgutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

import lawwatch.crawler.spiders as spiders_package
from lawwatch.config import SourceConfig
from lawwatch.crawler.base import LawwatchSpider
from lawwatch.crawler.context import CrawlContext, KnownIndex, Listed, WalkBoundary
from lawwatch.crawler.items import DocumentItem
from lawwatch.errors import CrawlError
from lawwatch.pipeline.normalize import to_utc

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SUFFIXES = (".compare.json", ".meta.json", ".compare.candidate.json")
RESPONSE_TYPES: dict[str, type[Response]] = {
    ".html": HtmlResponse,
    ".htm": HtmlResponse,
    ".xml": XmlResponse,
    ".rss": XmlResponse,
    ".atom": XmlResponse,
}
# Meta keys Scrapy itself adds; never part of a golden comparison.
SCRAPY_META = {
    "depth",
    "download_slot",
    "download_latency",
    "download_timeout",
    "retry_times",
    "redirect_times",
    "redirect_ttl",
    "redirect_urls",
    "redirect_reasons",
    "_scheme_proxy",
}


def spider_ids() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(spiders_package.__path__) if not m.name.startswith("_"))


def spider_class(spider_id: str) -> type[LawwatchSpider]:
    module = __import__(f"lawwatch.crawler.spiders.{spider_id}", fromlist=["_"])
    found = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, LawwatchSpider) and getattr(obj, "name", None) == spider_id
    ]
    assert found, f"crawler/spiders/{spider_id}.py defines no LawwatchSpider named {spider_id!r}"
    return found[0]


@dataclass(frozen=True)
class Example:
    spider_id: str
    path: Path

    @property
    def callback(self) -> str:
        return self.path.name.split("__", 1)[0]

    @property
    def compare_path(self) -> Path:
        return self.path.with_name(self.path.name + ".compare.json")

    @property
    def meta(self) -> dict[str, Any]:
        meta_path = self.path.with_name(self.path.name + ".meta.json")
        return json.loads(meta_path.read_text("utf-8")) if meta_path.exists() else {}

    def __str__(self) -> str:
        return f"{self.spider_id}/{self.path.name}"


def examples(spider_id: str) -> list[Example]:
    folder = EXAMPLES / spider_id
    if not folder.is_dir():
        return []
    return [
        Example(spider_id, p)
        for p in sorted(folder.iterdir())
        if p.is_file() and "__" in p.name and not p.name.endswith(SUFFIXES)
    ]


def make_spider(spider_id: str, meta: dict[str, Any] | None = None, url: str = "") -> LawwatchSpider:
    meta = meta or {}
    src = meta.get("source") or {}
    parts = urlsplit(url)
    base_url = src.get("base_url") or (f"{parts.scheme}://{parts.netloc}" if parts.netloc else "https://example.org")
    source = SourceConfig(
        id=spider_id,
        spider=spider_id,
        base_url=base_url,
        local=bool(src.get("local", False)),
        options=MappingProxyType({k: _freeze(v) for k, v in (src.get("options") or {}).items()}),
    )
    known = KnownIndex(source=spider_id)
    for entry in meta.get("known") or []:
        known.add(url=entry.get("url"), external_id=entry.get("external_id"), signature=entry.get("signature"))
    for listing, urls in (meta.get("walks") or {}).items():
        known.walks[listing] = WalkBoundary.of([Listed(url, None, True) for url in urls], None)
    since = to_utc(meta["since"]) if meta.get("since") else None
    cls = spider_class(spider_id)
    crawler = get_crawler(cls)
    spider = cls.from_crawler(crawler, context=CrawlContext(source=source, known=known, since=since))
    crawler.spider = spider
    return spider


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def make_response(path: Path, meta: dict[str, Any] | None = None) -> Response:
    meta = meta or {}
    url = meta.get("url") or f"https://example.org/{path.name}"
    cls = RESPONSE_TYPES.get(path.suffix.lower(), TextResponse)
    request = Request(url, meta=dict(meta.get("meta") or {}))
    kwargs: dict[str, Any] = {
        "url": url,
        "body": path.read_bytes(),
        "request": request,
        "headers": meta.get("headers") or {},
        "status": int(meta.get("status", 200)),
    }
    if meta.get("encoding"):
        kwargs["encoding"] = meta["encoding"]
    elif cls is TextResponse and path.suffix.lower() == ".json":
        kwargs["encoding"] = "utf-8"
    return cls(**kwargs)


def serialise(outputs: Iterable[Any]) -> dict[str, Any]:
    items: list[Any] = []
    requests: list[dict[str, Any]] = []
    for out in outputs:
        if isinstance(out, Request):
            callback = getattr(out.callback, "__name__", None)
            meta = {k: v for k, v in out.meta.items() if k not in SCRAPY_META}
            requests.append(
                {
                    "url": out.url,
                    "callback": callback,
                    "method": out.method,
                    "meta": json.loads(json.dumps(meta, default=str)),
                }
            )
        elif isinstance(out, DocumentItem):
            items.append(out.as_json())
        else:
            items.append(json.loads(json.dumps(dict(out), default=str)))
    return {"items": items, "requests": requests}


def run_example(example: Example) -> dict[str, Any]:
    """The callback's output on the example: items and requests, or the CrawlError it raised."""
    meta = example.meta
    response = make_response(example.path, meta)
    spider = make_spider(example.spider_id, meta, response.url)
    callback = getattr(spider, example.callback)
    try:
        return serialise(list(callback(response) or []))
    except CrawlError as exc:
        return {"error": f"CrawlError: {exc.message}"}
