"""Golden files: every spider module × every example under tests/examples/<spider>/ → the expected JSON beside it.

Parametrised over ALL modules in crawler/spiders: a spider without examples fails, and an example without its
``.compare.json`` fails (a ``.compare.candidate.json`` is written for review; it never passes).
"""

from __future__ import annotations

import json

import pytest

from tests.helpers.spiders import Example, examples, run_example, spider_ids


def _cases() -> list[object]:
    cases: list[object] = []
    for spider_id in spider_ids():
        found = examples(spider_id)
        if not found:
            cases.append(pytest.param(spider_id, None, id=f"{spider_id}/<no examples>"))
        cases.extend(pytest.param(spider_id, ex, id=str(ex)) for ex in found)
    return cases


@pytest.mark.parametrize(("spider_id", "example"), _cases())
def test_golden(spider_id: str, example: Example | None) -> None:
    if example is None:
        pytest.fail(f"spider {spider_id} has no examples under tests/examples/{spider_id}/")
    actual = run_example(example)
    if not example.compare_path.exists():
        candidate = example.compare_path.with_name(example.path.name + ".compare.candidate.json")
        candidate.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", "utf-8")
        pytest.fail(f"{example.compare_path.name} is missing; wrote {candidate.name} for review (never passes)")
    expected = json.loads(example.compare_path.read_text("utf-8"))
    assert actual == expected


def test_every_spider_module_is_covered() -> None:
    """Every spider Scrapy can load (SPIDER_MODULES) and every spec'd spider has a module here, so each is
    parametrised above, and each has at least one example with its expected parse."""
    from scrapy.settings import Settings
    from scrapy.spiderloader import SpiderLoader

    from lawwatch.config import Config, SourceConfig, known_spiders
    from lawwatch.crawler.settings import scrapy_settings

    ids = spider_ids()
    settings = scrapy_settings(Config(), SourceConfig(id="doj_api", spider="doj_api", base_url="https://x.example"))
    loaded = set(SpiderLoader.from_settings(Settings(settings)).list())
    assert set(ids) == loaded == set(known_spiders())
    assert {"doj_api", "doj_news", "doj_rss", "courtlistener", "pacer_rss", "news_rss"} <= set(ids)
    for spider_id in ids:
        found = examples(spider_id)
        assert found, f"spider {spider_id} has no examples"
        assert all(ex.compare_path.exists() for ex in found), spider_id
