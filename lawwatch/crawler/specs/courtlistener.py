"""Options of the ``courtlistener`` spider (``lawwatch/crawler/spiders/courtlistener.py``)."""

from __future__ import annotations

from lawwatch.config_schema import Secret
from lawwatch.crawler.options import OptionSpec, SpiderOptions

OPTIONS = SpiderOptions(
    OptionSpec("queries", list[str], ('"1373" OR "sanctuary jurisdiction"',), "search queries in CourtListener syntax"),
    OptionSpec("use_api", bool, True, "use the v4 search API (cursor paging) rather than the Atom search feeds"),
    OptionSpec("courts", list[str], (), "court ids whose Atom feed `/feed/court/<id>/` is read"),
    OptionSpec(
        "token",
        Secret,
        None,
        'API token as an env reference, `{ env = "COURTLISTENER_TOKEN" }`; sent as `Authorization: Token …` only '
        "when set",
    ),
    OptionSpec("max_pages", int, 5, "most API result pages per query per crawl"),
    OptionSpec("fetch_pages", bool, True, "fetch each new opinion's page for its text (else keep the snippet)"),
)
