"""The service's settings: ``[service]``, ``sources[].expect_every`` / ``fail_after`` and ``alerts.ops_targets``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lawwatch.cli import cli
from lawwatch.config import Config, ServiceConfig, default_config, load_config
from lawwatch.errors import ConfigError

SOURCE = """
[[sources]]
id = "doj_api"
spider = "doj_api"
base_url = "https://www.justice.gov"
download_delay = 2.0
"""
OPS = """
[[alerts.targets]]
name = "ops"
type = "slack"
channel = "#ops"
"""


def load(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(str(path), environ={})


def test_defaults() -> None:
    config = default_config()
    assert config.service == ServiceConfig()
    assert config.service.health_port is None and config.service.health_host == "127.0.0.1"
    assert config.alerts.ops_targets == ()


def test_service_table_and_source_watchdog_keys(tmp_path: Path) -> None:
    text = (
        SOURCE
        + 'expect_every = "2d"\nfail_after = 5\n'
        + "[service]\nhealth_port = 8081\ncrawl_timeout = 600\nstop_timeout = 20\nmax_crawls = 3\n"
        + "lock_stale_after = 30\nwatchdog_interval = 15\nbacklog_max_age = 120\n"
        + '[alerts]\nops_targets = ["ops"]\n'
        + OPS
    )
    config = load(tmp_path, text)
    (source,) = config.sources
    assert source.expect_every == 2 * 86400 and source.fail_after == 5
    assert config.service == ServiceConfig(
        health_port=8081,
        crawl_timeout=600.0,
        stop_timeout=20.0,
        max_crawls=3,
        lock_stale_after=30.0,
        watchdog_interval=15.0,
        backlog_max_age=120.0,
    )
    assert config.alerts.ops_targets == ("ops",)
    shown = config.masked()
    assert shown["service"]["health_port"] == 8081 and shown["alerts"]["ops_targets"] == ["ops"]
    assert shown["sources"][0]["expect_every"] == 172800.0 and shown["sources"][0]["fail_after"] == 5


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        (SOURCE + 'expect_every = "every other day"\n', "sources[0].expect_every", "is not a duration"),
        (SOURCE + "fail_after = -1\n", "sources[0].fail_after", "must be at least 0"),
        ("[service]\nhealth_port = 70000\n", "service.health_port", "expected a port number"),
        ('[service]\nhealth_port = "8080"\n', "service.health_port", "expected a port number"),
        ("[service]\nlock_stale_after = 1\n", "service.lock_stale_after", "must be at least 2"),
        ("[service]\nmax_crawls = 0\n", "service.max_crawls", "must be at least 1"),
        ("[service]\nhealth_prot = 1\n", "service.health_prot", 'did you mean "health_port"'),
        ('[alerts]\nops_targets = ["pager"]\n' + OPS, "alerts.ops_targets[0]", 'unknown target "pager"'),
    ],
)
def test_mistakes_name_the_key(tmp_path: Path, text: str, key: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert caught.value.key == key and message in caught.value.message


def test_repo_settings_load_with_the_service_keys() -> None:
    config = load_config(str(Path(__file__).resolve().parent.parent / "settings.toml"), environ={})
    assert config.service.health_port is None
    assert all(s.fail_after == 3 for s in config.sources)
    assert config.alerts.ops_targets and all(config.alerts.target(n) for n in config.alerts.ops_targets)


def test_run_refuses_bad_settings_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("[service]\nmax_crawls = 0\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(path), "run"])
    assert result.exit_code == 2 and "service.max_crawls" in result.output


def test_config_show_lists_the_service(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("[service]\nhealth_port = 9100\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(path), "config", "show"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["service"]["health_port"] == 9100
