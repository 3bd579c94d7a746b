"""Options of the ``doj_rss`` spider (``lawwatch/crawler/spiders/doj_rss.py``)."""

from __future__ import annotations

from lawwatch.crawler.options import OptionSpec, SpiderOptions

OPTIONS = SpiderOptions(
    OptionSpec(
        "feeds",
        list[str],
        ("/feeds/opa/justice-news.xml",),
        "feed paths or absolute URLs on the source's host (conditional GET)",
    ),
    OptionSpec(
        "fetch_pages",
        bool,
        True,
        "follow each new item to its release page for the full text (else keep the feed's description)",
    ),
)
