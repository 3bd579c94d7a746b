"""A pytest plugin for mutation runs (tools/mutation.py passes ``-p tools.mutation_order``): run the fastest tests
first, so that ``pytest -x`` kills a mutant with its cheapest failing test instead of the first test in file order.

Durations are mutmut's, from its stats run (``mutmut-stats.json`` in the directory the tests run in); tests it has
not timed keep their place after the timed ones. Without that file (the stats run itself) the order is untouched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

STATS = Path("mutmut-stats.json")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    try:
        durations: dict[str, float] = json.loads(STATS.read_text(encoding="utf-8"))["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return
    unknown = float("inf")
    items.sort(key=lambda item: durations.get(item.nodeid, unknown))
