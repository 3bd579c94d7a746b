"""Options of the ``pacer_rss`` spider (``lawwatch/crawler/spiders/pacer_rss.py``)."""

from __future__ import annotations

from lawwatch.crawler.options import OptionSpec, SpiderOptions

OPTIONS = SpiderOptions(
    OptionSpec(
        "courts",
        list[str],
        ("paed", "ilnd", "cand"),
        'PACER court ids whose "Recent Entries" feed is read; `base_url` holds `{court}`',
    ),
    OptionSpec(
        "docket_numbers",
        list[str],
        (),
        "keep only entries of these cases (`court:number`, e.g. `paed:2:17-cv-03894`) …",
    ),
    OptionSpec("case_names", list[str], (), "… or whose case name holds every word of one of these groups"),
    OptionSpec("feed_path", str, None, "override the per-court feed path that juriscraper knows"),
)
