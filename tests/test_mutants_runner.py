"""The mutation-testing runner (tools/mutation.py, docs/mutation.md): its module list names real files, agrees with
pyproject's [tool.mutmut], and its pieces (the per-module configuration, the test order, the equivalence keys) do
what the gate relies on. Running mutmut itself is tools/mutation.py's job (minutes), not this test's."""

from __future__ import annotations

import importlib.util
import json
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


mutation = _load("mutation")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_target_names_a_module_and_test_files_that_exist() -> None:
    for name, target in mutation.TARGETS.items():
        assert (ROOT / target.path).is_file(), f"{name}: {target.path} does not exist"
        assert target.tests, name
        for test in target.tests:
            assert (ROOT / test).is_file(), f"{name}: {test} does not exist"
        assert target.module == target.path.removesuffix(".py").replace("/", ".")


def test_the_quick_subset_mutates_core_modules_with_existing_tests() -> None:
    core = {t.path for t in mutation.TARGETS.values()}
    assert mutation.QUICK
    for name, target in mutation.QUICK.items():
        assert target.path in core and name not in mutation.TARGETS  # its own work directory
        assert all((ROOT / test).is_file() for test in target.tests)


def test_pyproject_mutates_the_same_modules_with_the_same_tests() -> None:
    section = PYPROJECT["tool"]["mutmut"]
    assert section["only_mutate"] == [t.path for t in mutation.TARGETS.values()]
    union = {test for t in mutation.TARGETS.values() for test in t.tests}
    assert set(section["pytest_add_cli_args_test_selection"]) == union
    assert section["pytest_add_cli_args"] == ["-p", "no:cacheprovider", "-p", "tools.mutation_order"]
    assert PYPROJECT["project"]["optional-dependencies"]["mutation"] == ["mutmut==3.8.1"]


def test_a_work_directory_configuration_names_one_module_and_keeps_the_pytest_settings() -> None:
    target = mutation.TARGETS["filters"]
    text = mutation._pyproject(target)
    config = tomllib.loads(text)
    assert config["tool"]["mutmut"]["only_mutate"] == [target.path]
    assert config["tool"]["mutmut"]["pytest_add_cli_args_test_selection"] == list(target.tests)
    assert config["tool"]["mutmut"]["pytest_add_cli_args"][-2:] == list(target.pytest_args)
    assert config["tool"]["pytest"] == PYPROJECT["tool"]["pytest"]
    assert config["tool"]["ruff"] == PYPROJECT["tool"]["ruff"]
    assert text.count("[tool.mutmut]") == 1


def test_equivalence_keys_survive_renumbering() -> None:
    diff = "\n".join(
        [
            "--- lawwatch/pipeline/filters.py",
            "+++ lawwatch/pipeline/filters.py",
            "@@ -1,3 +1,3 @@",
            " def _either(items: list[str]) -> str:",
            "     if len(items) <= 1:",
            '-        return "".join(items)',
            '+        return "XXXX".join(items)',
        ]
    )
    module = "lawwatch.pipeline.filters"
    key = mutation.equivalence_key(module, f"{module}.x__either__mutmut_4", diff)
    assert key == (module, "x__either", 'return "".join(items)', 'return "XXXX".join(items)')
    assert mutation.equivalence_key(module, f"{module}.x__either__mutmut_9", diff) == key


def test_every_listed_equivalent_mutant_is_explained_in_the_docs() -> None:
    """docs/mutation.md carries the list as `tools/mutation.py --equivalent` prints it (regenerate it from there)."""
    docs = (ROOT / "docs" / "mutation.md").read_text(encoding="utf-8")
    assert all(why.strip() for why in mutation.EQUIVALENT.values())
    assert mutation.equivalent_markdown() in docs


def test_every_listed_equivalent_belongs_to_a_target() -> None:
    modules = {t.module for t in mutation.TARGETS.values()}
    assert {key[0] for key in mutation.EQUIVALENT} <= modules


@pytest.mark.parametrize("durations", [{"tests/a.py::slow": 9.0, "tests/a.py::fast": 0.1}])
def test_the_test_order_plugin_runs_the_fastest_first(
    durations: dict[str, float], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = _load("mutation_order")

    class Item:
        def __init__(self, nodeid: str) -> None:
            self.nodeid = nodeid

    items = [Item("tests/a.py::unknown"), Item("tests/a.py::slow"), Item("tests/a.py::fast")]
    monkeypatch.chdir(tmp_path)
    order.pytest_collection_modifyitems(items)  # no stats yet: untouched
    assert [i.nodeid for i in items] == ["tests/a.py::unknown", "tests/a.py::slow", "tests/a.py::fast"]
    (tmp_path / "mutmut-stats.json").write_text(json.dumps({"duration_by_test": durations}), encoding="utf-8")
    order.pytest_collection_modifyitems(items)
    assert [i.nodeid for i in items] == ["tests/a.py::fast", "tests/a.py::slow", "tests/a.py::unknown"]


def test_an_unknown_module_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        mutation.main(["nonesuch"])
    assert info.value.code == 2
    assert "unknown module nonesuch" in capsys.readouterr().err
