"""Issue 9: settings.toml says what is true now: no notes about work still to come, and its description of the source
keys names every key a source may have."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from lawwatch.config import SourceConfig, load_config

SETTINGS = Path(__file__).resolve().parent.parent / "settings.toml"
TEXT = SETTINGS.read_text(encoding="utf-8")


def test_no_notes_about_work_still_to_come() -> None:
    stale = re.compile(r"\bissue\b|arrive with|\bTODO\b|\bnot yet\b|coming soon", re.I)
    assert [line for line in TEXT.splitlines() if stale.search(line)] == []


def test_the_source_keys_note_names_every_key() -> None:
    note = TEXT.split("# Sources: one [[sources]] table per source.", 1)[1].split("\n\n", 1)[0]
    keys = [f.name for f in dataclasses.fields(SourceConfig) if f.name != "options"]
    assert [k for k in keys if not re.search(rf"\b{k}\b", note)] == []


def test_every_spider_has_a_source_and_the_file_loads() -> None:
    from lawwatch.config import known_spiders

    config = load_config(SETTINGS, environ={})
    assert {s.spider for s in config.sources} == set(known_spiders())
    assert all(s.enabled for s in config.sources)
