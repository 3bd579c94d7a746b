"""Options of the ``doj_api`` spider (``lawwatch/crawler/spiders/doj_api.py``)."""

from __future__ import annotations

from lawwatch.crawler.options import OptionSpec, SpiderOptions

OPTIONS = SpiderOptions(
    OptionSpec("pagesize", int, 50, "releases per API page (the API caps it at 50)"),
    OptionSpec(
        "max_pages", int, 40, "most API pages walked per crawl (a crawl stops earlier at the first all-known page)"
    ),
)
