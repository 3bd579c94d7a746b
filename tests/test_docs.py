"""README.md documents every command and every setting, and CI runs the README's test command."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from lawwatch import config as config_module
from lawwatch.cli import cli
from lawwatch.crawler.options import spider_options

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found.extend(_commands(command, path + " "))
        else:
            found.append((path, command))
    return found


COMMANDS = _commands(cli)


def test_there_are_commands() -> None:
    names = {name for name, _ in COMMANDS}
    assert {"import", "search", "show", "export", "status", "classify", "db upgrade", "config show"} <= names


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_is_documented_with_an_example(name: str, command: click.Command) -> None:
    assert f"`lawwatch {name}" in README, f"README.md does not document `lawwatch {name}`"
    assert "Example:" in (command.help or ""), f"`lawwatch {name}` --help has no Example: block"


def _setting_keys() -> list[str]:
    def walk(cls: type, prefix: str) -> list[str]:
        keys = []
        for f in dataclasses.fields(cls):
            if f.name == "path":
                continue
            kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
            nested = getattr(config_module, kind, None)
            if f.name == "sources":
                keys += [
                    f"{prefix}sources[].{g.name}"
                    for g in dataclasses.fields(config_module.SourceConfig)
                    if g.name != "options"
                ]
            elif f.name == "rules":
                rule_fields = dataclasses.fields(config_module.AlertRule)
                keys += [f"{prefix}rules[].{g.name}" for g in rule_fields if g.name != "filter"]
            elif f.name == "targets":
                names = {
                    g.name
                    for t in (config_module.SlackTarget, config_module.EmailTarget, config_module.WebhookTarget)
                    for g in dataclasses.fields(t)
                }
                keys += [f"{prefix}targets[].{n}" for n in sorted(names | {"type"})]
            elif isinstance(nested, type) and dataclasses.is_dataclass(nested):
                keys += walk(nested, f"{prefix}{f.name}.")
            else:
                keys.append(prefix + f.name)
        return keys

    return walk(config_module.Config, "")


SETTINGS = _setting_keys()


def test_settings_walk_finds_the_sections() -> None:
    assert "archive.url" in SETTINGS and "crawler.user_agent" in SETTINGS
    assert "alerts.email.password" in SETTINGS and "alerts.rules[].digest" in SETTINGS
    assert "sources[].schedule" in SETTINGS and "alerts.targets[].channel" in SETTINGS


@pytest.mark.parametrize("key", SETTINGS)
def test_every_setting_is_documented(key: str) -> None:
    assert f"`{key}`" in README, f"README.md's configuration reference lacks `{key}`"


def _quick_start() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the quick start has no ```sh block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_quick_start_is_two_commands_and_ci_runs_the_test_command() -> None:
    commands = _quick_start()
    assert len(commands) == 2
    test_command = commands[1].split("&&")[-1].strip()
    assert "pytest" in test_command
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci.splitlines(), ".ci/run must run exactly the README's test command"
    assert "set -euo pipefail" in ci


SPIDER_OPTIONS = [(spider, option) for spider in config_module.known_spiders() for option in spider_options(spider)]


def test_every_spider_declares_options() -> None:
    assert {spider for spider, _ in SPIDER_OPTIONS} == set(config_module.known_spiders())


@pytest.mark.parametrize(("spider", "option"), SPIDER_OPTIONS, ids=[f"{s}.{o}" for s, o in SPIDER_OPTIONS])
def test_every_source_option_is_documented(spider: str, option: str) -> None:
    assert f"| `{spider}` | `{option}` |" in README, f"README.md's source options lack {spider}.{option}"


def test_readme_generated_sections_are_current() -> None:
    """README's source option table is generated from the option specs with cog; `cog -r README.md` regenerates it."""
    done = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", "--diff", "README.md"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, f"README.md is out of date; run `cog -r README.md`:\n{done.stdout}{done.stderr}"
