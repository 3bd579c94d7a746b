"""Crawl benchmark: the full lawwatch crawl against a bare Scrapy spider, on a mirror of ≥ 5,000 release pages.

One run starts the offline mirror in its large synthetic mode (``MirrorServer(extra_releases=N)``), then, each in a
fresh subprocess (Scrapy's reactor cannot restart):

1. a bare Scrapy spider walks ``/news?page=N`` and fetches every release page, reading only ``<title>``;
2. the full lawwatch crawl (``doj_news``: listings → release pages → normalize → classify → store) of the same pages;
3. the same lawwatch crawl again over the unchanged mirror.

(1) and (2) run in turn ``--repeats`` times (default 3; each lawwatch crawl into a fresh archive), since the CPU
time of the same crawl moves by a fifth from one minute to the next on a shared machine: the pair whose CPU-per-page
ratio is the median is reported, and (3) re-crawls its archive; every pair's figures are in ``runs``, and the
throughput ratio is the median of the pairs'. A first, untimed pass of (1) warms the mirror's render cache. Both
crawls use the same concurrency with politeness off (no delay, no AutoThrottle, no robots.txt). Reported: pages/s of
(2) ÷ pages/s of (1) (goal ≥ 0.7) and HTTP requests of (3) ÷ requests of (2) (goal ≤ 0.02).

Both crawls are timed over the same window: from the first request reaching the downloader (Scrapy's
``request_reached_downloader`` signal) to the last item handled — for the bare spider its last ``item_scraped``, for
lawwatch the last batch stored by the ingest worker and counted on the crawler's stats (``ArchivePipeline._stored``).
Process start-up, imports, opening the archive and the crawl-run row are before the window on both sides; the
ingest worker (forked by the crawl's process before its reactor starts) loads the classifier with the first item,
inside lawwatch's window; its whole CPU time counts, fork included.
Beside pages/s, CPU seconds per page: the crawl process's CPU time (user + system) over the same window, plus for
lawwatch the whole CPU time of its ingest worker process (``resource.getrusage(RUSAGE_CHILDREN)`` once the worker is
shut down; it starts and does all its work inside the window).

Beside the ratio, where it sits against the work lawwatch must do that the bare spider does not: the items the timed
crawl stored are handed to a fresh process (as the ingest worker gets them), which measures, in CPU seconds, the
worker's imports (what a spawned worker would pay; the forked one has them from the crawl's process), the classifier's
loading (what the worker pays once per crawl) and then, over every item, each
part alone: normalizing the page's HTML to text, classifying it, and storing it with its crawl state (one transaction
per batch, the worker's batches, into a fresh archive). ``floor_ms_per_page`` = bare Scrapy's CPU per page + those
three parts: the CPU per page of a crawl that did nothing but that work, with no cost of its own for getting items
from the spider to the store; ``floor_ratio`` is it ÷ bare Scrapy's, the lowest ``cpu_per_page_ratio`` reachable
without making normalizing, classifying or storing cheaper; ``overhead_ms_per_page`` is what lawwatch spends beyond it
(the spider's own extraction, middlewares, handing batches to the worker, loading the classifier).
``work_floor_ms_per_page`` adds the rest of the work the bare spider does not do: reading each release page beyond its
title (the release pages the crawl downloaded, each parsed and read by the spider's ``parse_release_page`` into an
item, against ``response.css("title::text")`` on the same bytes, in the same fresh process) and loading the
classifier once; ``work_floor_ratio`` is the ratio of a crawl that spent nothing on Scrapy's handing of items, the
middlewares, the worker's batches or two processes sharing the machine, and ``work_overhead_ms_per_page`` is what
the crawl spends beyond that.

``--profile DIR`` also writes cProfile statistics, on the CPU clock, of the timed lawwatch crawl: ``DIR/crawl.prof``
(the crawl process, for the whole crawl) and ``DIR/worker.prof`` (the ingest worker once forked). Profiling
slows both several times: its figures are for finding where time goes, not for the ratios.

Example:
    .venv/bin/python bench/crawl_bench.py --releases 5000 --concurrency 16
    .venv/bin/python bench/crawl_bench.py --releases 2000 --profile /tmp/crawl-profile
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _settings_text(base: str, db_url: str, concurrency: int) -> str:
    return f"""
[archive]
url = "{db_url}"

[crawler]
user_agent = "lawwatch-bench/0.1 (contact: lawwatch@example.org)"
download_delay = 0.0
concurrent_requests = {concurrency}
concurrent_requests_per_domain = {concurrency}
autothrottle = false
obey_robots_txt = false

[[sources]]
id = "doj_news"
spider = "doj_news"
base_url = "{base}/www.justice.gov"
local = true
listings = ["/news"]
max_pages = 100000
"""


_WINDOW: dict[str, float] = {}  # (child) the timed window: first request -> last item handled, and CPU at both ends


def _cpu(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _first_request(*_args: Any, **_kwargs: Any) -> None:
    if "first" not in _WINDOW:
        _WINDOW["first"], _WINDOW["cpu_first"] = time.monotonic(), _cpu()


def _item_handled(*_args: Any, **_kwargs: Any) -> None:
    _WINDOW["last"], _WINDOW["cpu_last"] = time.monotonic(), _cpu()


def _window(pages: int, children_cpu: float) -> dict[str, Any]:
    if "first" not in _WINDOW or "last" not in _WINDOW:  # no item handled (the re-crawl of an unchanged mirror)
        return {"pages": pages, "seconds": None, "cpu_s": None, "worker_cpu_s": children_cpu}
    seconds = _WINDOW["last"] - _WINDOW["first"]
    cpu = _WINDOW["cpu_last"] - _WINDOW["cpu_first"] + children_cpu
    return {"pages": pages, "seconds": seconds, "cpu_s": cpu, "worker_cpu_s": children_cpu}


def _profiled_start(log: bool, out: str) -> None:
    """(ingest worker, with ``--profile``) The worker's own start, then cProfile on until the worker ends (its
    classifier's loading included)."""
    import cProfile
    import multiprocessing.util

    from lawwatch.crawler.worker import start

    start(log)
    profile = cProfile.Profile(time.process_time)
    profile.enable()

    def dump() -> None:
        profile.disable()
        profile.dump_stats(out)

    multiprocessing.util.Finalize(None, dump, exitpriority=100)  # before the worker's own end (lowest priority)


def _profile_worker(out: str) -> None:
    """(child) Fork the crawl's ingest worker with :func:`_profiled_start`."""
    from lawwatch.crawler import pipelines

    def start(log: bool = True) -> None:
        _profiled_start(log, out)

    pipelines.start = start


# ``--breakdown``: the lawwatch crawl with part of its work left out, each timed as the full crawl is (the window
# ends with the last release page read or item handed to the pipeline): what the crawl process spends at each step.
VARIANTS = {
    "title_only": "release pages read for their <title> only, as bare Scrapy reads them (no item)",
    "no_items": "release pages read by the spider into items, which are not yielded",
    "dropped": "items yielded through Scrapy to the archive pipeline, which drops them (no worker batches)",
}


def _variant(name: str) -> None:
    """(child) Leave part of the crawl's work out (:data:`VARIANTS`)."""
    from lawwatch.crawler import pipelines
    from lawwatch.crawler.spiders import doj_news

    parse_release = doj_news.DojNewsSpider.parse_release

    def title_only(self: Any, response: Any) -> Any:
        response.css("title::text").get()
        _item_handled()
        return iter(())

    def no_items(self: Any, response: Any) -> Any:
        for _item in parse_release(self, response):
            _item_handled()
        return iter(())

    def dropped(self: Any, item: Any) -> Any:
        _item_handled()
        return item

    if name == "title_only":
        doj_news.DojNewsSpider.parse_release = title_only  # type: ignore[method-assign]
    elif name == "no_items":
        doj_news.DojNewsSpider.parse_release = no_items  # type: ignore[method-assign]
    else:  # "dropped" (argparse took only the names of VARIANTS)
        pipelines.ArchivePipeline.process_item = dropped  # type: ignore[method-assign]


def run_full(
    settings: str, profile: str | None = None, items: str | None = None, variant: str | None = None
) -> dict[str, Any]:
    """(child) One lawwatch crawl of ``doj_news`` with politeness off: its SourceResult as JSON, and the window;
    with ``profile`` (a directory), cProfile statistics of both processes written there; with ``items`` (a file),
    every batch the pipeline handed to the worker pickled there after the crawl, for :func:`run_parts`; with
    ``variant``, part of the work left out (:data:`VARIANTS`)."""
    from scrapy import signals

    from lawwatch.config import load_config
    from lawwatch.crawler import pipelines, runner
    from lawwatch.crawler.runner import run_crawl

    if variant is not None:
        _variant(variant)

    crawl_init = runner.SourceCrawl.__init__
    stored = pipelines.ArchivePipeline._stored
    flush = pipelines.ArchivePipeline.flush
    batches: list[list[Any]] = []
    pages: list[tuple[str, bytes]] = []  # each release page's URL and body, as the spider read it

    def kept(self: Any) -> None:
        batches.append(list(self.batch))  # a list of references: the items are the ones the worker is sent
        flush(self)

    if items is not None:
        from lawwatch.crawler.spiders import doj_news

        parse_release = doj_news.DojNewsSpider.parse_release

        def read_release(self: Any, response: Any) -> Any:
            pages.append((response.url, response.body))
            return parse_release(self, response)

        pipelines.ArchivePipeline.flush = kept  # type: ignore[method-assign]
        doj_news.DojNewsSpider.parse_release = read_release  # type: ignore[method-assign]

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        crawl_init(self, *args, **kwargs)
        self.crawler.signals.connect(_first_request, signal=signals.request_reached_downloader)

    def counted(self: Any, report: Any) -> None:
        stored(self, report)
        _item_handled()

    runner.SourceCrawl.__init__ = init  # type: ignore[method-assign]
    pipelines.ArchivePipeline._stored = counted  # type: ignore[method-assign]
    config = load_config(settings)
    children = _cpu(resource.RUSAGE_CHILDREN)
    if profile is None:
        result = run_crawl(config, list(config.sources), politeness=False, log_level="ERROR")[0]
    else:
        import cProfile

        _profile_worker(str(Path(profile) / "worker.prof"))
        with cProfile.Profile(time.process_time) as crawl_profile:
            result = run_crawl(config, list(config.sources), politeness=False, log_level="ERROR")[0]
        crawl_profile.dump_stats(str(Path(profile) / "crawl.prof"))
    worker = _cpu(resource.RUSAGE_CHILDREN) - children  # the ingest worker, shut down when the spider closed
    if items is not None:
        with open(items, "wb") as out:
            pickle.dump(([b for b in batches if b], pages), out)
    return {**result.as_dict(), "open_close_seconds": result.seconds, **_window(result.pages, worker)}


def run_parts(items: str) -> dict[str, Any]:
    """(child, a fresh process) CPU seconds of a spawned worker's imports and of the classifier's loading, then of
    each part of its work alone over the crawl's items in the crawl's batches: normalize, classify, store (documents
    and crawl state, one transaction per batch, into a fresh archive)."""
    start = _cpu()
    from lawwatch import heap
    from lawwatch.crawler.worker import load_classifier
    from lawwatch.pipeline.db import open_archive
    from lawwatch.pipeline.ingest import IngestSettings, _Prepared, _store_prepared, classify_document

    imported = _cpu() - start
    with heap.loading_for_good():  # as the worker loads it
        load_classifier()
    loaded = _cpu() - start - imported
    with open(items, "rb") as source:
        batches, pages = pickle.load(source)
    extract = _extract(pages)
    t = _cpu()
    normalized = [[item.normalize()[0] for item in batch] for batch in batches]
    normalize = _cpu() - t
    t = _cpu()
    classified = [[classify_document(doc) for doc in batch] for batch in normalized]
    classify = _cpu() - t
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/parts.db"
        archive, settings = open_archive(url), IngestSettings(url)
        t = _cpu()
        for batch, docs in zip(batches, classified, strict=True):
            with archive.session() as session:  # what the worker runs after classifying a batch, in its transaction
                prepared = [_Prepared(i, doc, item) for i, (item, doc) in enumerate(zip(batch, docs, strict=True))]
                _store_prepared(session, prepared, settings)
        store = _cpu() - t
        archive.dispose()
    pages = sum(len(batch) for batch in batches)
    return {
        "items": pages,
        "imports_s": imported,
        "classifier_s": loaded,
        "extract_s": extract,
        "normalize_s": normalize,
        "classify_s": classify,
        "store_s": store,
    }


def _extract(pages: list[tuple[str, bytes]]) -> float:
    """CPU seconds the spider's reading of the release pages costs beyond bare Scrapy's reading of their title: each
    page parsed and read by both (``parse_release_page`` and the item made of it; ``response.css("title::text")``),
    each from a response of its own (a response keeps its parsed tree)."""
    from scrapy.http import HtmlResponse

    from lawwatch.crawler.items import DocumentItem
    from lawwatch.crawler.spiders.doj_news import parse_release_page

    def responses() -> list[HtmlResponse]:
        return [HtmlResponse(url, body=body, encoding="utf-8") for url, body in pages]

    bare, full = responses(), responses()
    t = _cpu()
    for response in bare:
        response.css("title::text").get()
    title = _cpu() - t
    t = _cpu()
    for response in full:
        release = parse_release_page(response)
        if release is not None:
            DocumentItem(
                source="doj_news",
                url=response.url,
                title=release.title,
                form="press_release",
                published=release.published,
                html=release.body_html,
                metadata=release.metadata(),
            )
    return _cpu() - t - title


def run_bare(start_url: str, concurrency: int) -> dict[str, Any]:
    """(child) A bare Scrapy spider over the same listing and release pages, reading only the title."""
    import scrapy
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from lawwatch.crawler.settings import CONCURRENT_ITEMS

    class TitleSpider(scrapy.Spider):
        name = "titles"
        start_urls = [start_url]

        def parse(self, response: Any) -> Any:
            for href in response.css("h2.news-title a::attr(href)").getall():
                yield response.follow(href, callback=self.parse_release)
            next_page = response.css("a[aria-label='Next page']::attr(href)").get()
            if next_page:
                yield response.follow(next_page, callback=self.parse)

        def parse_release(self, response: Any) -> Any:
            yield {"title": response.css("title::text").get()}

    process = CrawlerProcess(
        {
            "LOG_LEVEL": "ERROR",
            "TELNETCONSOLE_ENABLED": False,
            "REMOTE_CONTROL_ENABLED": False,
            "CONCURRENT_REQUESTS": concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
            "ROBOTSTXT_OBEY": False,
            "COOKIES_ENABLED": False,
            # the same item concurrency as lawwatch's crawler settings, so neither side pays Scrapy's default of 100
            # asyncio workers per callback output and the ratio measures lawwatch's own work
            "CONCURRENT_ITEMS": CONCURRENT_ITEMS,
        }
    )
    crawler = process.create_crawler(TitleSpider)
    crawler.signals.connect(_first_request, signal=signals.request_reached_downloader)
    crawler.signals.connect(_item_handled, signal=signals.item_scraped)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    return {
        **_window(stats.get("response_received_count", 0), 0.0),
        "open_close_seconds": stats.get("elapsed_time_seconds", 0.0),
    }


def _breakdown(
    pairs: list[tuple[dict[str, Any], dict[str, Any], int, Path]], steps: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """The crawl process's CPU per page (median over the repeats) of bare Scrapy, each variant and the full crawl,
    each beside the one before it (the full crawl's worker apart)."""

    def crawl_ms(run: dict[str, Any]) -> float:
        return 1000 * (run["cpu_s"] - run["worker_cpu_s"]) / run["pages"]

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    rows = [("bare Scrapy, reading each page's <title>", [b for b, _, _, _ in pairs])]
    rows += [(what, steps[name]) for name, what in VARIANTS.items()]
    rows.append(("the full crawl: batches handed to the ingest worker", [f for _, f, _, _ in pairs]))
    out: list[dict[str, Any]] = []
    for what, runs in rows:
        ms = median([crawl_ms(r) for r in runs])
        step = {"step": what, "crawl_process_cpu_ms_per_page": round(ms, 3)}
        if out:
            step["added_ms_per_page"] = round(ms - out[-1]["crawl_process_cpu_ms_per_page"], 3)
        out.append(step)
    full = [f for _, f, _, _ in pairs]
    out[-1]["worker_cpu_ms_per_page"] = round(median([1000 * f["worker_cpu_s"] / f["pages"] for f in full]), 3)
    return out


def _cpu_ratio(bare: dict[str, Any], full: dict[str, Any]) -> float:
    return float((full["cpu_s"] / full["pages"]) / (bare["cpu_s"] / bare["pages"]))


def _child(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, *args], cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"benchmark child {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--releases", type=int, default=5000, help="synthetic releases added to the mirror")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (both crawls)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="bare/lawwatch pairs, in turn; the median pair is reported"
    )
    parser.add_argument("--json", action="store_true", help="print only the report, as one JSON object on one line")
    parser.add_argument("--profile", metavar="DIR", help="write cProfile statistics of the timed lawwatch crawl here")
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also run, with each pair, the lawwatch crawl with part of its work left out (crawl-process CPU per step)",
    )
    parser.add_argument("--child", choices=["full", "bare", "parts"], help=argparse.SUPPRESS)
    parser.add_argument("--variant", choices=list(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--arg", help=argparse.SUPPRESS)
    parser.add_argument("--items", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "full":
        print(json.dumps(run_full(args.arg, args.profile, args.items, args.variant)))
        return
    if args.child == "parts":
        print(json.dumps(run_parts(args.arg)))
        return
    if args.child == "bare":
        print(json.dumps(run_bare(args.arg, args.concurrency)))
        return

    from lawwatch.crawler.mirror.server import MirrorServer

    with MirrorServer(extra_releases=args.releases) as mirror, tempfile.TemporaryDirectory() as tmp:
        releases = len(mirror.justice.releases)
        settings = Path(tmp) / "settings.toml"
        settings.write_text(_settings_text(mirror.base_url, f"sqlite:///{tmp}/bench.db", args.concurrency))
        start_url = mirror.site_url("www.justice.gov") + "/news?page=0"

        # The mirror caches what it renders: a first untimed pass warms it, so neither timed crawl pays for rendering.
        _child("--child", "bare", "--arg", start_url, "--concurrency", str(args.concurrency))
        profile = ["--profile", str(Path(args.profile).resolve())] if args.profile else []
        if args.profile:
            Path(args.profile).mkdir(parents=True, exist_ok=True)
        items = str(Path(tmp) / "items.pickle")
        # bare and lawwatch in turn, each lawwatch crawl into a fresh archive: a machine's noise moves both of a pair
        pairs: list[tuple[dict[str, Any], dict[str, Any], int, Path]] = []
        steps: dict[str, list[dict[str, Any]]] = {}  # --breakdown: each variant's crawls
        for run in range(args.repeats):
            bare = _child("--child", "bare", "--arg", start_url, "--concurrency", str(args.concurrency))
            settings = Path(tmp) / f"settings-{run}.toml"
            settings.write_text(_settings_text(mirror.base_url, f"sqlite:///{tmp}/bench-{run}.db", args.concurrency))
            served = mirror.requests()
            first = _child("--child", "full", "--arg", str(settings), "--items", items, *(profile if run == 0 else []))
            pairs.append((bare, first, mirror.requests() - served, settings))
            for variant in VARIANTS if args.breakdown else ():
                left_out = Path(tmp) / f"settings-{run}-{variant}.toml"
                url = f"sqlite:///{tmp}/bench-{run}-{variant}.db"
                left_out.write_text(_settings_text(mirror.base_url, url, args.concurrency))
                crawl = _child("--child", "full", "--arg", str(left_out), "--variant", variant)
                steps.setdefault(variant, []).append(crawl)
        # the pair whose CPU ratio is the median is reported; its archive is crawled again over the unchanged mirror
        pairs.sort(key=lambda pair: _cpu_ratio(pair[0], pair[1]))
        bare, first, first_requests, settings = pairs[len(pairs) // 2]
        served = mirror.requests()
        second = _child("--child", "full", "--arg", str(settings))
        second_requests = mirror.requests() - served
        parts = _child("--child", "parts", "--arg", items)

    bare_rate = bare["pages"] / bare["seconds"]
    full_rate = first["pages"] / first["seconds"]
    bare_cpu, full_cpu = bare["cpu_s"] / bare["pages"], first["cpu_s"] / first["pages"]
    runs = [
        {
            "bare_cpu_ms_per_page": round(1000 * b["cpu_s"] / b["pages"], 2),
            "lawwatch_cpu_ms_per_page": round(1000 * f["cpu_s"] / f["pages"], 2),
            "cpu_per_page_ratio": round(_cpu_ratio(b, f), 2),
            "throughput_ratio": round((f["pages"] / f["seconds"]) / (b["pages"] / b["seconds"]), 3),
        }
        for b, f, _, _ in pairs
    ]
    # the parts' CPU spread over every page the crawl fetched (listing pages too), as lawwatch's own CPU per page is
    floor = bare_cpu + sum(parts[f"{part}_s"] for part in ("normalize", "classify", "store")) / first["pages"]
    # the work itself: also reading each release page beyond its title, and loading the classifier once
    work_floor = floor + (parts["extract_s"] + parts["classifier_s"]) / first["pages"]
    report = {
        "release_pages": releases,
        "concurrency": args.concurrency,
        "window": "first request reaching the downloader -> last item handled (lawwatch: last batch stored)",
        "bare": {
            "pages": bare["pages"],
            "seconds": round(bare["seconds"], 2),
            "open_close_seconds": round(bare["open_close_seconds"], 2),
            "pages_per_s": round(bare_rate, 1),
            "cpu_s": round(bare["cpu_s"], 2),
            "cpu_ms_per_page": round(1000 * bare_cpu, 2),
        },
        "lawwatch": {
            "pages": first["pages"],
            "seconds": round(first["seconds"], 2),
            "open_close_seconds": round(first["open_close_seconds"], 2),
            "pages_per_s": round(full_rate, 1),
            "cpu_s": round(first["cpu_s"], 2),
            "worker_cpu_s": round(first["worker_cpu_s"], 2),
            "cpu_ms_per_page": round(1000 * full_cpu, 2),
            "crawl_process_cpu_ms_per_page": round(1000 * (first["cpu_s"] - first["worker_cpu_s"]) / first["pages"], 2),
            "worker_cpu_ms_per_page": round(1000 * first["worker_cpu_s"] / first["pages"], 2),
            "new": first["new"],
            "status": first["status"],
        },
        "parts": {
            "items": parts["items"],
            "worker_imports_cpu_s": round(parts["imports_s"], 2),
            "classifier_load_cpu_s": round(parts["classifier_s"], 2),
            **{
                f"{part}_ms_per_item": round(1000 * parts[f"{part}_s"] / parts["items"], 3)
                for part in ("extract", "normalize", "classify", "store")
            },
        },
        "floor_ms_per_page": round(1000 * floor, 2),
        "floor_ratio": round(floor / bare_cpu, 2),
        "overhead_ms_per_page": round(1000 * (full_cpu - floor), 2),
        "work_floor_ms_per_page": round(1000 * work_floor, 2),
        "work_floor_ratio": round(work_floor / bare_cpu, 2),
        "work_overhead_ms_per_page": round(1000 * (full_cpu - work_floor), 2),
        "throughput_ratio": sorted(r["throughput_ratio"] for r in runs)[len(runs) // 2],
        "runs": runs,
        "cpu_per_page_ratio": round(full_cpu / bare_cpu, 2),
        "first_crawl_requests": first_requests,
        "second_crawl_requests": second_requests,
        "second_status": second["status"],
        "request_ratio": round(second_requests / first_requests, 4),
    }
    if steps:
        report["breakdown"] = _breakdown(pairs, steps)
    if args.json:
        print(json.dumps(report))
        return
    print(json.dumps(report, indent=2))
    print(
        f"throughput ratio {report['throughput_ratio']} (goal >= 0.7, same window on both sides); "
        f"CPU per page {report['lawwatch']['cpu_ms_per_page']} ms vs {report['bare']['cpu_ms_per_page']} ms "
        f"(x{report['cpu_per_page_ratio']}; bare + normalize + classify + store: "
        f"{report['floor_ms_per_page']} ms, x{report['floor_ratio']}; with the release pages read and the classifier "
        f"loaded: {report['work_floor_ms_per_page']} ms, x{report['work_floor_ratio']}); "
        f"second/first requests {report['request_ratio']} (goal <= 0.02)"
    )
    for step in report.get("breakdown", []):
        added = f" (+{step['added_ms_per_page']:.3f})" if "added_ms_per_page" in step else ""
        print(f"  crawl process {step['crawl_process_cpu_ms_per_page']:.3f} ms/page{added}: {step['step']}")


if __name__ == "__main__":
    main()
