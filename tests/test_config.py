"""settings.toml → Config: path resolution, env overrides, secrets, masking, and one test per class of mistake."""

from __future__ import annotations

import dataclasses
import importlib
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

import lawwatch.crawler.specs
from lawwatch.config import (
    ArchiveConfig,
    Config,
    CrawlerConfig,
    EmailTarget,
    Schedule,
    Secret,
    SlackTarget,
    default_config,
    known_spiders,
    load_config,
)
from lawwatch.errors import ConfigError

REPO_SETTINGS = Path(__file__).resolve().parent.parent / "settings.toml"
SOURCE = '[[sources]]\nid = "{id}"\nspider = "fake_api"\nbase_url = "https://www.justice.gov/"\n'
TARGETS = """
[[alerts.targets]]
name = "ops"
type = "slack"
channel = "#ops"
"""
FAKE_SPEC = """
from lawwatch.config import Secret
from lawwatch.crawler.options import OptionSpec, SpiderOptions
OPTIONS = SpiderOptions(*(OptionSpec(name, kind, None, name) for name, kind in {
    "pagesize": int, "components": list[str], "token": Secret, "auth": Secret, "api_key": str,
    "keywords": list[str], "ratio": float}.items()))
"""
NO_OPTIONS = "from lawwatch.crawler.options import SpiderOptions\nOPTIONS = SpiderOptions()\n"


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test runs in an empty directory, so ./settings.toml is whatever the test writes there."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def spiders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point crawler.specs at a temp directory holding the option specs of fake_api (options) and fake_rss (none)."""
    directory = tmp_path / "fake_specs"
    directory.mkdir()
    (directory / "fake_api.py").write_text(FAKE_SPEC)
    (directory / "fake_rss.py").write_text(NO_OPTIONS)
    (directory / "_base.py").write_text("")
    monkeypatch.setattr(lawwatch.crawler.specs, "__path__", [str(directory)])
    importlib.invalidate_caches()
    before = set(sys.modules)
    yield directory
    for name in set(sys.modules) - before:
        if name.startswith("lawwatch.crawler.specs."):
            del sys.modules[name]
            if hasattr(lawwatch.crawler.specs, name.rsplit(".", 1)[1]):
                delattr(lawwatch.crawler.specs, name.rsplit(".", 1)[1])


def write(text: str, name: str = "settings.toml") -> Path:
    path = Path(name)
    path.write_text(text, encoding="utf-8")
    return path


def load(text: str, environ: Mapping[str, str] | None = None) -> Config:
    write(text)
    return load_config("settings.toml", environ=environ or {})


def error(text: str, environ: Mapping[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load(text, environ)
    return str(info.value)


# --- where the file comes from --------------------------------------------------------------------------------


def test_defaults_when_no_file() -> None:
    config = load_config(environ={})
    assert config.path is None
    assert config == default_config()
    assert config.archive.url == "sqlite:///var/lawwatch.db"
    assert config.crawler.download_delay == 1.0 and config.crawler.concurrent_requests_per_domain == 2
    assert config.sources == () and config.alerts.rules == () and config.alerts.slack.token is None


def test_default_settings_toml_in_working_directory(workdir: Path) -> None:
    write("[crawler]\nretry_times = 7\n")
    config = load_config(environ={})
    assert config.crawler.retry_times == 7
    assert config.path == workdir / "settings.toml"


def test_lawwatch_config_variable_and_explicit_path_win_in_order(workdir: Path) -> None:
    write("[crawler]\nretry_times = 1\n")
    write("[crawler]\nretry_times = 2\n", "from-env.toml")
    write("[crawler]\nretry_times = 3\n", "explicit.toml")
    environ = {"LAWWATCH_CONFIG": str(workdir / "from-env.toml")}
    assert load_config(environ=environ).crawler.retry_times == 2
    assert load_config(environ=environ).path == workdir / "from-env.toml"
    assert load_config(Path("explicit.toml"), environ=environ).crawler.retry_times == 3


def test_missing_explicit_or_env_file_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"^nope\.toml: no such file$"):
        load_config("nope.toml", environ={})
    with pytest.raises(ConfigError, match=r"^gone\.toml: no such file \(from LAWWATCH_CONFIG\)$"):
        load_config(environ={"LAWWATCH_CONFIG": "gone.toml"})


def test_unreadable_files(workdir: Path) -> None:
    (workdir / "latin1.toml").write_bytes(b'[crawler]\nuser_agent = "caf\xe9 lawwatch@example.org"\n')
    with pytest.raises(ConfigError, match=r"^latin1\.toml: not UTF-8 text \(byte 27\)$"):
        load_config("latin1.toml", environ={})
    (workdir / "adir").mkdir()
    with pytest.raises(ConfigError, match=r"^adir: cannot read: Is a directory$"):
        load_config("adir", environ={})


def test_toml_syntax_error_names_line_and_column() -> None:
    assert error("[crawler]\nretry_times = 3\ntimeout = \n") == (
        "settings.toml: invalid TOML: Invalid value (at line 3, column 11)"
    )


# --- database URL ----------------------------------------------------------------------------------------------


def test_database_url_env_override_and_normalisation() -> None:
    config = load('[archive]\nurl = "sqlite:///other.db"\n', {"LAWWATCH_DATABASE_URL": "postgres://lw:pw@db/lw"})
    assert config.archive.url == "postgresql+psycopg://lw:pw@db/lw"
    assert load('[archive]\nurl = "postgresql://h/lw"\n').archive.url == "postgresql+psycopg://h/lw"
    assert load('[archive]\nurl = "sqlite:///other.db"\n').archive.url == "sqlite:///other.db"
    assert load("", {"LAWWATCH_DATABASE_URL": ""}).archive.url == "sqlite:///var/lawwatch.db"


def test_bad_database_urls() -> None:
    assert error('[archive]\nurl = "mysql://u:p@h/db"\n') == (
        'settings.toml: archive.url: unsupported database "mysql://" (use sqlite:/// or postgresql+psycopg://)'
    )
    assert error("", {"LAWWATCH_DATABASE_URL": "var/lawwatch.db"}) == (
        '$LAWWATCH_DATABASE_URL: "var/lawwatch.db" is not a database URL like "sqlite:///var/lawwatch.db"'
    )


def test_database_password_is_masked() -> None:
    config = load("", {"LAWWATCH_DATABASE_URL": "postgresql+psycopg://lw:s3cret@db:5432/lw"})
    assert config.masked()["archive"]["url"] == "postgresql+psycopg://lw:********@db:5432/lw"
    assert config.archive.url.endswith("lw:s3cret@db:5432/lw")


# --- secrets ---------------------------------------------------------------------------------------------------

SECRETS = """
[alerts.slack]
token = { env = "SLACK_BOT_TOKEN" }
[alerts.email]
username = "lw"
password = { env = "SMTP_PW" }
"""


def test_secrets_resolve_from_the_given_environ_and_never_show() -> None:
    config = load(SECRETS, {"SLACK_BOT_TOKEN": "xoxb-real-token", "SMTP_PW": "hunter2"})
    token, password = config.alerts.slack.token, config.alerts.email.password
    assert token is not None and password is not None
    assert (token.reveal(), token.env_name) == ("xoxb-real-token", "SLACK_BOT_TOKEN")
    assert password.reveal() == "hunter2"
    assert repr(token) == str(token) == f"{token}" == "********"
    shown = json.dumps(config.masked()) + repr(config) + str(config)
    assert "xoxb-real-token" not in shown and "hunter2" not in shown
    assert config.masked()["alerts"]["slack"]["token"] == "********"
    assert config.masked()["alerts"]["email"]["password"] == "********"


def test_unset_secret_is_none_unless_required() -> None:
    config = load(SECRETS, {"SLACK_BOT_TOKEN": ""})
    assert config.alerts.slack.token is None and config.alerts.email.password is None
    assert config.masked()["alerts"]["slack"]["token"] is None
    required = '[alerts.slack]\ntoken = { env = "SLACK_BOT_TOKEN", required = true }\n'
    assert error(required) == (
        "settings.toml: alerts.slack.token: environment variable SLACK_BOT_TOKEN is not set (required = true)"
    )
    assert load(required, {"SLACK_BOT_TOKEN": "x"}).alerts.slack.token == Secret("x", "SLACK_BOT_TOKEN")


# --- one test per class of mistake -----------------------------------------------------------------------------

MISTAKES = {
    "unknown top-level key": (
        'title = "x"\n',
        "settings.toml: title: unknown key (known keys: alerts, archive, crawler, service, sources)",
    ),
    "unknown nested key, with a suggestion": (
        '[crawler]\nuser_agnet = "x"\n',
        'settings.toml: crawler.user_agnet: unknown key (did you mean "user_agent"?)',
    ),
    "int where bool": ("[archive]\necho = 1\n", "settings.toml: archive.echo: expected true or false, got integer 1"),
    "string where number": (
        '[crawler]\ndownload_delay = "2"\n',
        'settings.toml: crawler.download_delay: expected a number, got string "2"',
    ),
    "float where int": (
        "[crawler]\nretry_times = 2.5\n",
        "settings.toml: crawler.retry_times: expected an integer, got float 2.5",
    ),
    "out of range": (
        "[alerts.email]\nport = 70000\n",
        "settings.toml: alerts.email.port: must be at most 65535, got 70000",
    ),
    "table where a section must be": ("crawler = 3\n", "settings.toml: crawler: expected a table, got integer 3"),
    "literal secret": (
        '[alerts.slack]\ntoken = "xoxb-1"\n',
        'settings.toml: alerts.slack.token: secrets must be env references like { env = "SLACK_BOT_TOKEN" }',
    ),
    "unknown key in a secret reference": (
        '[alerts.slack]\ntoken = { env = "T", default = "x" }\n',
        "settings.toml: alerts.slack.token.default: unknown key (known keys: env, required)",
    ),
    "user agent without contact": (
        '[crawler]\nuser_agent = "lawwatch/0.1"\n',
        "settings.toml: crawler.user_agent: must include a contact (an email address or an http(s) URL)",
    ),
    "sources as a table": (
        '[sources]\nid = "x"\n',
        "settings.toml: sources: expected an array of tables ([[sources]]), got a table",
    ),
    "bad slack URL": (
        '[alerts.slack]\nbase_url = "slack.com/api"\n',
        'settings.toml: alerts.slack.base_url: "slack.com/api" is not an http(s) URL',
    ),
    "starttls with use_ssl": (
        "[alerts.email]\nstarttls = true\nuse_ssl = true\n",
        "settings.toml: alerts.email.use_ssl: use either starttls or use_ssl, not both",
    ),
    "bad from address": (
        '[alerts.email]\nfrom_addr = "lawwatch at example"\n',
        'settings.toml: alerts.email.from_addr: "lawwatch at example" is not an email address',
    ),
    "duplicate target": (
        TARGETS + TARGETS,
        'settings.toml: alerts.targets[1].name: duplicate target name "ops" (first used by alerts.targets[0])',
    ),
    "unknown target type": (
        '[[alerts.targets]]\nname = "x"\ntype = "sms"\n',
        'settings.toml: alerts.targets[0].type: unknown target type "sms" (slack, email or webhook)',
    ),
    "bad recipient": (
        '[[alerts.targets]]\nname = "x"\ntype = "email"\nto = ["a@example.org", "a@b, c@d"]\n',
        'settings.toml: alerts.targets[0].to[1]: "a@b, c@d" is not an email address',
    ),
    "slack target with email keys": (
        '[[alerts.targets]]\nname = "x"\ntype = "slack"\nchannel = "#c"\nto = ["a@b.org"]\n',
        "settings.toml: alerts.targets[0].to: unknown key (known keys: channel, name, type, webhook_url)",
    ),
    "rule naming an unknown target": (
        TARGETS + '[[alerts.rules]]\nname = "r"\ntargets = ["ops", "legal"]\n',
        'settings.toml: alerts.rules[0].targets[1]: unknown target "legal" (known: ops)',
    ),
    "rule without targets": (
        '[[alerts.rules]]\nname = "r"\n',
        "settings.toml: alerts.rules[0].targets: a rule needs at least one target",
    ),
    "rule with an unknown document type": (
        TARGETS + '[[alerts.rules]]\nname = "r"\ntargets = ["ops"]\ndoc_types = ["memo"]\n',
        'settings.toml: alerts.rules[0].doc_types[0]: unknown document type "memo" '
        "(known: filing, lawsuit, letter, other, ruling)",
    ),
    "rule naming an unconfigured source": (
        TARGETS + '[[alerts.rules]]\nname = "r"\ntargets = ["ops"]\nsources = ["fake_api"]\n',
        'settings.toml: alerts.rules[0].sources[0]: unknown source "fake_api" (known: none configured)',
    ),
    "rule with a bad digest": (
        TARGETS + '[[alerts.rules]]\nname = "r"\ntargets = ["ops"]\ndigest = "daily"\n',
        'settings.toml: alerts.rules[0].digest: "daily" is not an interval like "15m" or a cron expression',
    ),
    "non-string in a string list": (
        TARGETS + '[[alerts.rules]]\nname = "r"\ntargets = ["ops"]\nstatutes = [1373]\n',
        "settings.toml: alerts.rules[0].statutes[0]: expected a string, got integer 1373",
    ),
    "duplicate rule": (
        TARGETS + '[[alerts.rules]]\nname = "r"\ntargets = ["ops"]\n' * 2,
        'settings.toml: alerts.rules[1].name: duplicate rule name "r" (first used by alerts.rules[0])',
    ),
}


@pytest.mark.parametrize(("text", "message"), MISTAKES.values(), ids=MISTAKES.keys())
def test_mistake_is_one_clear_line(text: str, message: str) -> None:
    assert error(text) == message


SOURCE_MISTAKES = {
    "bad schedule (the README example)": (
        SOURCE.format(id="a") + SOURCE.format(id="b") + SOURCE.format(id="c") + 'schedule = "every 5 minutes"\n',
        'settings.toml: sources[2].schedule: "every 5 minutes" is not an interval like "15m" or a cron expression',
    ),
    "unknown spider": (
        SOURCE.format(id="a").replace('"fake_api"', '"fake_ap"'),
        'settings.toml: sources[0].spider: unknown spider "fake_ap" (known: fake_api, fake_rss)',
    ),
    "duplicate id": (
        SOURCE.format(id="a") * 2,
        'settings.toml: sources[1].id: duplicate source id "a" (first used by sources[0])',
    ),
    "bad id": (
        SOURCE.format(id="DOJ-api"),
        'settings.toml: sources[0].id: "DOJ-api" must start with a lowercase letter and use only a-z, 0-9 and _',
    ),
    "missing base_url": (
        '[[sources]]\nid = "a"\nspider = "fake_api"\n',
        "settings.toml: sources[0].base_url: is required",
    ),
    "non-http base_url": (
        SOURCE.format(id="a").replace("https://www.justice.gov/", "ftp://www.justice.gov/"),
        'settings.toml: sources[0].base_url: "ftp://www.justice.gov/" is not an http(s) URL',
    ),
    "fast source delay": (
        SOURCE.format(id="a") + "download_delay = 0.5\n",
        "settings.toml: sources[0].download_delay: 0.5 s is below the 1 s minimum for a real host "
        '(source "a" is not local)',
    ),
    "fast crawler delay": (
        "[crawler]\ndownload_delay = 0\n" + SOURCE.format(id="a"),
        'settings.toml: crawler.download_delay: 0 s is below the 1 s minimum for a real host (source "a" is not local)',
    ),
    "too many requests per domain": (
        "[crawler]\nconcurrent_requests_per_domain = 4\n" + SOURCE.format(id="a"),
        "settings.toml: crawler.concurrent_requests_per_domain: 4 is above 2, the limit for a real host "
        '(source "a" is not local)',
    ),
    "local flag on a real host": (
        SOURCE.format(id="a") + "local = true\n",
        "settings.toml: sources[0].local: local = true is only for a mirror on a loopback host, not www.justice.gov",
    ),
    "loopback host without local": (
        SOURCE.format(id="a").replace("https://www.justice.gov/", "http://127.0.0.1:8080/"),
        "settings.toml: sources[0].base_url: 127.0.0.1 is a loopback/private address; only a local source may use it",
    ),
    "loopback host written as 127.1": (
        SOURCE.format(id="a").replace("https://www.justice.gov/", "http://127.1:8080/"),
        "settings.toml: sources[0].base_url: 127.1 is a loopback/private address; only a local source may use it",
    ),
    "loopback host written as one number": (
        SOURCE.format(id="a").replace("https://www.justice.gov/", "http://2130706433/"),
        "settings.toml: sources[0].base_url: 2130706433 is a loopback/private address; only a local source may use it",
    ),
    "loopback host written in hexadecimal": (
        SOURCE.format(id="a").replace("https://www.justice.gov/", "http://0x7f000001/"),
        "settings.toml: sources[0].base_url: 0x7f000001 is a loopback/private address; only a local source may use it",
    ),
    "private address in an option URL": (
        SOURCE.format(id="a") + 'keywords = ["sanctuary", "http://0xa000001/feed"]\n',
        "settings.toml: sources[0].keywords: 0xa000001 is a private address (in http://0xa000001/feed); only a local "
        "source may use it",
    ),
    "unknown source key": (
        SOURCE.format(id="a").replace("fake_api", "fake_rss", 1).replace('"fake_api"', '"fake_rss"') + "pagesize = 5\n",
        "settings.toml: sources[0].pagesize: unknown key (known keys: base_url, download_delay, enabled, expect_every, "
        "fail_after, id, local, schedule, spider)",
    ),
    "option of the wrong type": (
        SOURCE.format(id="a") + 'pagesize = "50"\n',
        'settings.toml: sources[0].pagesize: expected an integer, got string "50"',
    ),
    "option list item of the wrong type": (
        SOURCE.format(id="a") + 'components = ["opa", 3]\n',
        "settings.toml: sources[0].components[1]: expected a string, got integer 3",
    ),
    "option secret written literally": (
        SOURCE.format(id="a") + 'token = "abc"\n',
        'settings.toml: sources[0].token: secrets must be env references like { env = "SLACK_BOT_TOKEN" }',
    ),
}


@pytest.mark.parametrize(("text", "message"), SOURCE_MISTAKES.values(), ids=SOURCE_MISTAKES.keys())
def test_source_mistake_is_one_clear_line(spiders: Path, text: str, message: str) -> None:
    assert error(text) == message


# --- sources and spiders ---------------------------------------------------------------------------------------


def test_spider_ids_are_the_modules_of_the_crawler_specs_package_listed_not_imported(spiders: Path) -> None:
    assert known_spiders() == ("fake_api", "fake_rss")
    (spiders / "pacer_rss.py").write_text("raise RuntimeError('imported')\n")
    importlib.invalidate_caches()
    assert known_spiders() == ("fake_api", "fake_rss", "pacer_rss")
    assert "lawwatch.crawler.specs.fake_api" not in sys.modules


def test_loading_settings_never_imports_scrapy() -> None:
    """The repository's settings.toml (every spider, with options) loads in a fresh process without Scrapy/Twisted."""
    code = (
        "import sys\n"
        "from lawwatch.config import load_config\n"
        f"config = load_config({str(REPO_SETTINGS)!r}, environ={{}})\n"
        "assert len({s.spider for s in config.sources}) == 6, config.sources\n"
        "print(sorted(m for m in sys.modules if m.partition('.')[0] in ('scrapy', 'twisted')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_source_with_options(spiders: Path) -> None:
    text = SOURCE.format(id="doj") + (
        'schedule = "*/15 * * * *"\nenabled = false\npagesize = 50\ncomponents = ["opa", "usao-edpa"]\n'
        'token = { env = "DOJ_TOKEN" }\nauth = { env = "DOJ_AUTH" }\n'
        'api_key = "k-123"\nkeywords = ["1373"]\nratio = 1\n'
    )
    config = load(text, {"DOJ_TOKEN": "doj-tok-9f8e", "DOJ_AUTH": "auth-77c1"})
    source = config.source("doj")
    assert (source.spider, source.enabled, source.local) == ("fake_api", False, False)
    assert source.schedule.cron == "*/15 * * * *"
    assert dict(source.options) == {
        "pagesize": 50,
        "components": ("opa", "usao-edpa"),
        "token": Secret("doj-tok-9f8e", "DOJ_TOKEN"),
        "auth": Secret("auth-77c1", "DOJ_AUTH"),
        "api_key": "k-123",
        "keywords": ("1373",),
        "ratio": 1.0,
    }
    with pytest.raises(TypeError):
        source.options["pagesize"] = 10  # type: ignore[index]
    shown = config.masked()["sources"][0]
    assert shown["token"] == shown["auth"] == shown["api_key"] == "********" and shown["keywords"] == ["1373"]
    assert shown["schedule"] == "*/15 * * * *" and "auth-77c1" not in json.dumps(config.masked())


def test_local_mirror_source_may_be_fast(spiders: Path) -> None:
    text = (
        "[crawler]\ndownload_delay = 0\nconcurrent_requests_per_domain = 8\n"
        + SOURCE.format(id="mirror").replace("https://www.justice.gov/", "http://127.0.0.1:8080/")
        + "local = true\n"
    )
    source = load(text).sources[0]
    assert source.local and source.download_delay is None and source.schedule.seconds == 3600


def test_spec_module_that_cannot_be_read_is_a_clear_error(spiders: Path) -> None:
    (spiders / "broken.py").write_text("raise RuntimeError('boom')\n")
    (spiders / "bare.py").write_text("PAGESIZE = 5\n")
    importlib.invalidate_caches()
    text = SOURCE.format(id="a").replace('"fake_api"', '"broken"')
    assert error(text) == "settings.toml: sources[0].spider: cannot import lawwatch.crawler.specs.broken: boom"
    assert error(text.replace('"broken"', '"bare"')) == (
        "settings.toml: sources[0].spider: lawwatch.crawler.specs.bare declares no OPTIONS = SpiderOptions(...)"
    )


def test_unknown_source_lookup(spiders: Path, workdir: Path) -> None:
    config = load(SOURCE.format(id="doj"))
    assert config.source("doj").base_url == "https://www.justice.gov/"
    with pytest.raises(ConfigError) as info:
        config.source("pacer")
    assert str(info.value) == f'{workdir / "settings.toml"}: sources: no source with id "pacer" (configured: doj)'


def test_config_is_frozen() -> None:
    config = default_config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.crawler.download_delay = 0  # type: ignore[misc]


# --- schedules -------------------------------------------------------------------------------------------------

GOOD_SCHEDULES = [
    ("30s", "interval", 30, None),
    ("15m", "interval", 900, None),
    ("2h", "interval", 7200, None),
    ("1d", "interval", 86400, None),
    ("1h30m", "interval", 5400, None),
    ("1d 2h", "interval", 93600, None),
    ("0 8 * * *", "cron", None, "0 8 * * *"),
    ("*/15  *  * * mon-fri", "cron", None, "*/15 * * * mon-fri"),
]


@pytest.mark.parametrize(("text", "kind", "seconds", "cron"), GOOD_SCHEDULES)
def test_good_schedules(text: str, kind: str, seconds: int | None, cron: str | None) -> None:
    schedule = Schedule.parse(text)
    assert (schedule.text, schedule.kind, schedule.seconds, schedule.cron) == (text, kind, seconds, cron)
    trigger = schedule.trigger()
    assert isinstance(trigger, IntervalTrigger if kind == "interval" else CronTrigger)
    assert str(trigger.timezone) == "UTC"
    if seconds:
        assert trigger.interval.total_seconds() == seconds


BAD_SCHEDULES = [
    ("every 5 minutes", '"every 5 minutes" is not an interval like "15m" or a cron expression'),
    ("", '"" is not an interval like "15m" or a cron expression'),
    ("15", '"15" is not an interval like "15m" or a cron expression'),
    ("15x", '"15x" is not an interval like "15m" or a cron expression'),
    ("30m1h", '"30m1h" is not an interval like "15m" or a cron expression'),
    ("0m", '"0m" is an empty interval; use at least "1s"'),
    ("* * * * * *", '"* * * * * *" is not an interval like "15m" or a cron expression'),
    (
        "61 * * * *",
        "\"61 * * * *\" is not a valid cron expression (Error validating expression '61': "
        "the last value (61) is higher than the maximum value (59))",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_SCHEDULES)
def test_bad_schedules(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        Schedule.parse(text)
    assert str(info.value) == message


# --- the repository's settings.toml ----------------------------------------------------------------------------


def test_repo_settings_validate() -> None:
    config = load_config(REPO_SETTINGS, environ={"SLACK_BOT_TOKEN": "xoxb-1"})
    assert config.path == REPO_SETTINGS
    assert config.alerts.slack.token == Secret("xoxb-1", "SLACK_BOT_TOKEN")
    assert config.alerts.email.password is None
    assert [rule.name for rule in config.alerts.rules] == ["1373-letters-philadelphia", "1373-rulings-daily-digest"]
    assert config.alerts.rules[0].jurisdictions == ("Philadelphia, PA", "Cook County, IL", "Chicago, IL")
    assert {type(t) for t in config.alerts.targets} == {SlackTarget, EmailTarget}
    digest = config.alerts.rules[1].digest_schedule
    assert digest is not None and digest.cron == "0 8 * * *"


def test_repo_settings_spell_out_the_real_defaults() -> None:
    data = tomllib.loads(REPO_SETTINGS.read_text(encoding="utf-8"))
    assert set(data["crawler"]) == {f.name for f in dataclasses.fields(CrawlerConfig)}
    assert set(data["archive"]) == {f.name for f in dataclasses.fields(ArchiveConfig)}
    config = load_config(REPO_SETTINGS, environ={})
    assert config.crawler == CrawlerConfig() and config.archive == ArchiveConfig()


def test_every_key_in_repo_settings_has_a_comment() -> None:
    previous = ""
    for number, line in enumerate(REPO_SETTINGS.read_text(encoding="utf-8").splitlines(), 1):
        if re.match(r"[a-z_]+\s*=", line):
            assert previous.startswith("#"), f"settings.toml line {number}: {line!r} has no comment above it"
        if line.strip():
            previous = line.strip()
