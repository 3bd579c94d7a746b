"""Options of the ``doj_news`` spider (``lawwatch/crawler/spiders/doj_news.py``)."""

from __future__ import annotations

from lawwatch.crawler.options import OptionSpec, SpiderOptions

OPTIONS = SpiderOptions(
    OptionSpec(
        "listings",
        list[str],
        ("/news",),
        "listing paths walked newest first with `?page=N` (`/news`, `/opa/pr`, `/usao-edpa/pr`, …)",
    ),
    OptionSpec("max_pages", int, 50, "most pages walked per listing per crawl"),
)
