"""Options of the ``news_rss`` spider (``lawwatch/crawler/spiders/news_rss.py``)."""

from __future__ import annotations

from lawwatch.crawler.options import OptionSpec, SpiderOptions

OPTIONS = SpiderOptions(
    OptionSpec("feeds", list[str], ("/feed/",), "feed paths on `base_url` or absolute feed URLs"),
    OptionSpec(
        "fetch_pages",
        bool,
        True,
        "fetch each article page and extract its main text with trafilatura (else `content:encoded`)",
    ),
)
