"""The spider registry for settings: each spider's typed option specs, read without importing Scrapy.

A spider ``lawwatch/crawler/spiders/<id>.py`` (Scrapy, found by Scrapy's ``SPIDER_MODULES``) has its options
declared beside it in ``lawwatch/crawler/specs/<id>.py``, a module that imports nothing but this one::

    OPTIONS = SpiderOptions(
        OptionSpec("max_pages", int, 40, "most API pages walked per crawl"),
    )

and the spider module imports that ``OPTIONS``. The settings loader (``lawwatch config check``, ``lawwatch search``)
validates ``[[sources]]`` tables against these specs, so it never starts Scrapy or Twisted. Spider ids are the
public modules of ``lawwatch.crawler.specs``, listed with ``pkgutil`` (nothing imported);
``tests/test_spider_specs.py`` checks they are exactly the spiders Scrapy's ``SpiderLoader`` finds, and that each
spider module uses its spec. README's "Source options" table is generated from the specs (``cog``).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from lawwatch.config_schema import Secret

__all__ = ["SPECS_PACKAGE", "OptionSpec", "SpiderOptions", "spider_ids", "spider_options"]

SPECS_PACKAGE = "lawwatch.crawler.specs"
_TYPE_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "table"}


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One extra key of a spider's ``[[sources]]`` table.

    ``type`` is ``str``, ``int``, ``float``, ``bool``, ``list``, ``list[T]`` (T one of those), ``dict`` or
    ``Secret`` (an ``{ env = "NAME" }`` reference); ``default`` is what the spider does without the key, written as
    the loaded value would be (arrays as tuples), or None for "unset"; ``help`` is README's one-line description.
    """

    name: str
    type: Any
    default: Any
    help: str

    @property
    def type_name(self) -> str:
        """``integer``, ``boolean``, ``array of strings``, ``secret``..."""
        if self.type is Secret:
            return "secret"
        if typing.get_origin(self.type) is list:
            return f"array of {_TYPE_NAMES[typing.get_args(self.type)[0]]}s"
        return _TYPE_NAMES.get(self.type, getattr(self.type, "__name__", str(self.type)))

    @property
    def default_text(self) -> str:
        """The default as it would be written in settings.toml (``50``, ``true``, ``["/news"]``); "" when unset."""
        return "" if self.default is None else _toml(self.default)


class SpiderOptions(Mapping[str, OptionSpec]):
    """A spider's option specs by name, in declaration order (immutable)."""

    def __init__(self, *specs: OptionSpec) -> None:
        by_name: dict[str, OptionSpec] = {}
        for spec in specs:
            if spec.name in by_name:
                raise ValueError(f"option {spec.name!r} is declared twice")
            by_name[spec.name] = spec
        self._specs = MappingProxyType(by_name)

    def __getitem__(self, name: str) -> OptionSpec:
        return self._specs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def __repr__(self) -> str:
        return f"SpiderOptions{tuple(self._specs.values())!r}"

    def default(self, name: str) -> Any:
        return self._specs[name].default


def spider_ids() -> tuple[str, ...]:
    """Every spider id: the public modules of ``lawwatch.crawler.specs`` (listed, not imported)."""
    package = importlib.import_module(SPECS_PACKAGE)
    return tuple(sorted(m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")))


def spider_options(spider_id: str) -> SpiderOptions:
    """The ``OPTIONS`` of ``lawwatch.crawler.specs.<spider_id>``; ImportError with a one-line reason otherwise."""
    name = f"{SPECS_PACKAGE}.{spider_id}"
    try:
        module = importlib.import_module(name)
    except Exception as exc:
        raise ImportError(f"cannot import {name}: {exc}") from exc
    options = getattr(module, "OPTIONS", None)
    if not isinstance(options, SpiderOptions):
        raise ImportError(f"{name} declares no OPTIONS = SpiderOptions(...)")
    return options


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'" if '"' in value and "'" not in value else json.dumps(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return repr(value)
