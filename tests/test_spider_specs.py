"""The spider registry: the option specs config reads (lawwatch/crawler/specs/) are those of exactly the spiders Scrapy
finds through SPIDER_MODULES, each spider uses its spec, and every default is a valid value of its declared type."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from typing import Any

import pytest
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader

from lawwatch import config_schema as cs
from lawwatch.config import load_config
from lawwatch.crawler.base import LawwatchSpider
from lawwatch.crawler.options import OptionSpec, SpiderOptions, spider_ids, spider_options
from lawwatch.crawler.settings import scrapy_settings
from tests.helpers.spiders import make_spider

REPO_SETTINGS = Path(__file__).resolve().parent.parent / "settings.toml"
CONFIG = load_config(REPO_SETTINGS, environ={})
SPIDERS = spider_ids()


def _loader() -> SpiderLoader:
    modules = scrapy_settings(CONFIG, CONFIG.sources[0])["SPIDER_MODULES"]
    return SpiderLoader.from_settings(Settings({"SPIDER_MODULES": modules}))


def test_the_spec_modules_are_exactly_the_spiders_scrapy_discovers() -> None:
    assert len(SPIDERS) >= 6
    assert set(_loader().list()) == set(SPIDERS)


@pytest.mark.parametrize("spider_id", SPIDERS)
def test_each_spider_uses_its_spec(spider_id: str) -> None:
    cls = _loader().load(spider_id)
    assert issubclass(cls, LawwatchSpider) and cls.name == spider_id
    module = importlib.import_module(cls.__module__)
    assert module.__name__ == f"lawwatch.crawler.spiders.{spider_id}"
    assert module.OPTIONS is spider_options(spider_id)


def _toml(value: Any) -> Any:
    return [_toml(v) for v in value] if isinstance(value, tuple) else value


def _specs() -> list[tuple[str, OptionSpec]]:
    return [(sid, spec) for sid in SPIDERS for spec in spider_options(sid).values()]


@pytest.mark.parametrize(("spider_id", "spec"), _specs(), ids=[f"{s}.{o.name}" for s, o in _specs()])
def test_each_default_is_a_value_of_the_declared_type(spider_id: str, spec: OptionSpec) -> None:
    assert spec.help and not spec.help.endswith(".")
    if spec.default is None:
        return
    table = cs.Table({spec.name: _toml(spec.default)}, f"sources[{spider_id}]", "spec")
    assert cs.option_value(table, spec.name, spec.type, {}) == spec.default


def _first_requests(spider_id: str, options: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    source = next(s for s in CONFIG.sources if s.spider == spider_id)
    spider = make_spider(spider_id, {"source": {"base_url": source.base_url, "options": options}})
    requests = [(r.url, r.callback.__name__, r.meta, r.headers.to_unicode_dict()) for r in spider.first_requests()]
    # the spider's own state, without what carries the options themselves (the source, the base's context objects)
    ignored = {"source", "options", "crawler", "settings", "known"}
    state = {k: v for k, v in vars(spider).items() if k not in ignored and not dataclasses.is_dataclass(v)}
    return requests, state


@pytest.mark.parametrize("spider_id", SPIDERS)
def test_a_spider_without_options_behaves_as_with_its_spec_defaults(spider_id: str) -> None:
    """What the spider does when a key is absent is the spec's ``default`` (seen in its first requests and state)."""
    defaults = {n: _toml(s.default) for n, s in spider_options(spider_id).items() if s.default is not None}
    assert _first_requests(spider_id, {}) == _first_requests(spider_id, defaults)


def test_spider_options_reject_a_name_declared_twice() -> None:
    with pytest.raises(ValueError, match="'feeds' is declared twice"):
        SpiderOptions(OptionSpec("feeds", list[str], (), "a"), OptionSpec("feeds", str, None, "b"))


def test_type_names_and_default_texts_for_the_readme() -> None:
    specs = {f"{s}.{o.name}": o for s, o in _specs()}
    assert (specs["doj_api.pagesize"].type_name, specs["doj_api.pagesize"].default_text) == ("integer", "50")
    assert specs["doj_news.listings"].type_name == "array of strings"
    assert specs["doj_news.listings"].default_text == '["/news"]'
    assert specs["courtlistener.queries"].default_text == """['"1373" OR "sanctuary jurisdiction"']"""
    assert (specs["courtlistener.token"].type_name, specs["courtlistener.token"].default_text) == ("secret", "")
    assert (specs["news_rss.fetch_pages"].type_name, specs["news_rss.fetch_pages"].default_text) == ("boolean", "true")
