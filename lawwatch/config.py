"""settings.toml → ``Config``: one frozen, typed object, validated at load and passed explicitly.

Path: the explicit ``path`` (``lawwatch --config``), else ``$LAWWATCH_CONFIG``, else ``./settings.toml``;
when that default file is absent the embedded defaults apply. ``$LAWWATCH_DATABASE_URL`` overrides
``[archive] url``. Secrets are written only as ``{ env = "NAME" }`` (optionally ``required = true``) and
resolved from ``environ``. Every mistake is one ``ConfigError`` line, e.g.
``settings.toml: sources[2].schedule: "every 5 minutes" is not an interval like "15m" or a cron expression``.

The extra keys a ``[[sources]]`` table may carry are its spider's typed option specs (``OPTIONS`` in
``crawler/specs/<spider>.py``, see :mod:`lawwatch.crawler.options`): ``str``, ``int``, ``float``, ``bool``,
``list``, ``list[str]`` (any of those item types), ``dict`` or ``Secret`` (an env reference). They land in
``SourceConfig.options`` (arrays as tuples). Loading settings never imports Scrapy: the specs are read, not the
spiders.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from lawwatch import config_schema as cs
from lawwatch.config_alerts import (
    AlertRule,
    AlertsConfig,
    EmailConfig,
    EmailTarget,
    SlackConfig,
    SlackTarget,
    WebhookTarget,
    parse_alerts,
)
from lawwatch.config_schema import Schedule, Secret
from lawwatch.crawler.options import spider_ids, spider_options
from lawwatch.errors import ConfigError

__all__ = [
    "AlertRule",
    "AlertsConfig",
    "ArchiveConfig",
    "Config",
    "ConfigError",
    "CrawlerConfig",
    "EmailConfig",
    "EmailTarget",
    "Schedule",
    "Secret",
    "ServiceConfig",
    "SlackConfig",
    "SlackTarget",
    "SourceConfig",
    "WebhookTarget",
    "default_config",
    "known_spiders",
    "load_config",
]

DEFAULT_DATABASE_URL = "sqlite:///var/lawwatch.db"
DEFAULT_USER_AGENT = "lawwatch/0.1 (+https://github.com/lawwatch/lawwatch; contact: lawwatch@example.org)"
DEFAULTS_LABEL = "<defaults>"
ALERTS_KEYS = (
    "slack",
    "email",
    "targets",
    "rules",
    "dispatch_interval",
    "max_attempts",
    "retry_base",
    "sending_timeout",
    "max_age",
    "pace_seconds",
    "ops_targets",
)
_ID = re.compile(r"[a-z][a-z0-9_]*")
_SOURCE_KEYS = (
    "id",
    "spider",
    "enabled",
    "schedule",
    "base_url",
    "local",
    "download_delay",
    "expect_every",
    "fail_after",
)
DEFAULT_FAIL_AFTER = 3
_DB_SCHEMES = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite+pysqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}


@dataclass(frozen=True, slots=True)
class ArchiveConfig:
    url: str = DEFAULT_DATABASE_URL
    echo: bool = False


@dataclass(frozen=True, slots=True)
class CrawlerConfig:
    user_agent: str = DEFAULT_USER_AGENT
    download_delay: float = 1.0
    concurrent_requests: int = 8
    concurrent_requests_per_domain: int = 2
    timeout: float = 30.0
    max_body_size: int = 16 * 1024 * 1024
    max_redirects: int = 5
    retry_times: int = 3
    autothrottle: bool = True
    obey_robots_txt: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceConfig:
    id: str
    spider: str
    base_url: str
    enabled: bool = True
    schedule: Schedule = Schedule("1h", "interval", seconds=3600)
    local: bool = False
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    download_delay: float | None = None
    expect_every: float | None = None  # seconds; the watchdog's "quiet" threshold (None: not checked)
    fail_after: int = DEFAULT_FAIL_AFTER  # consecutive failed runs before the watchdog calls it failing (0: never)


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """``[service]``: how ``lawwatch run`` behaves (durations in seconds)."""

    health_port: int | None = None
    health_host: str = "127.0.0.1"
    crawl_timeout: float = 1800.0
    stop_timeout: float = 30.0
    max_crawls: int = 2
    lock_stale_after: float = 60.0
    watchdog_interval: float = 60.0
    backlog_max_age: float = 600.0


@dataclass(frozen=True, slots=True)
class Config:
    path: Path | None = None
    archive: ArchiveConfig = ArchiveConfig()
    crawler: CrawlerConfig = CrawlerConfig()
    sources: tuple[SourceConfig, ...] = ()
    alerts: AlertsConfig = AlertsConfig()
    service: ServiceConfig = ServiceConfig()

    def source(self, source_id: str) -> SourceConfig:
        for source in self.sources:
            if source.id == source_id:
                return source
        known = ", ".join(s.id for s in self.sources) or "none"
        label = str(self.path) if self.path else DEFAULTS_LABEL
        raise ConfigError(label, "sources", f'no source with id "{source_id}" (configured: {known})')

    def masked(self) -> dict[str, Any]:
        """The effective config as JSON-able data in settings.toml's shape, secrets shown as ``********``."""
        data = _plain(self)
        del data["path"]
        data["archive"]["url"] = cs.mask_db_url(self.archive.url)
        return dict(data)


def default_config() -> Config:
    """The embedded defaults (no file, no environment)."""
    return _build({}, DEFAULTS_LABEL, None, {})


def load_config(path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] = os.environ) -> Config:
    """Read and validate the settings file (see the module docstring for how it is found)."""
    origin = ""
    if path is None and environ.get("LAWWATCH_CONFIG"):
        path, origin = environ["LAWWATCH_CONFIG"], " (from LAWWATCH_CONFIG)"
    if path is None:
        if not Path("settings.toml").exists():
            return _build({}, DEFAULTS_LABEL, None, environ)
        path = "settings.toml"
    label, file = os.fspath(path), Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(label, "", f"no such file{origin}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(label, "", f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(label, "", f"cannot read: {exc.strerror or exc}{origin}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(label, "", f"invalid TOML: {exc}") from None
    return _build(data, label, file.resolve(), environ)


def known_spiders() -> tuple[str, ...]:
    """Spider ids: one option spec module per spider in ``crawler/specs/`` (see :mod:`lawwatch.crawler.options`)."""
    return spider_ids()


def _build(data: dict[str, Any], label: str, path: Path | None, environ: Mapping[str, str]) -> Config:
    root = cs.Table(data, "", label, ("archive", "crawler", "sources", "alerts", "service"))
    archive = _archive(root.table("archive", ("url", "echo")), environ)
    crawler = _crawler(root.table("crawler", [f.name for f in fields(CrawlerConfig)]))
    sources = _sources(root.tables("sources"), crawler, environ)
    alerts = parse_alerts(root.table("alerts", ALERTS_KEYS), {s.id for s in sources}, environ)
    service = _service(root.table("service", [f.name for f in fields(ServiceConfig)]))
    return Config(path=path, archive=archive, crawler=crawler, sources=tuple(sources), alerts=alerts, service=service)


def _service(t: cs.Table) -> ServiceConfig:
    port = t.data.get("health_port")
    if port is not None and not (cs.is_int(port) and 0 <= port <= 65535):  # 0: any free port (logged at start)
        raise t.error("health_port", f"expected a port number 1-65535 (or 0: any free port), got {cs.describe(port)}")
    stale = t.number("lock_stale_after", 60.0, lo=2.0)
    return ServiceConfig(
        health_port=port,
        health_host=t.text("health_host", "127.0.0.1"),
        crawl_timeout=t.number("crawl_timeout", 1800.0, positive=True),
        stop_timeout=t.number("stop_timeout", 30.0, positive=True),
        max_crawls=t.integer("max_crawls", 2, lo=1),
        lock_stale_after=stale,
        watchdog_interval=t.number("watchdog_interval", 60.0, positive=True),
        backlog_max_age=t.number("backlog_max_age", 600.0, positive=True),
    )


def _duration(t: cs.Table, name: str) -> float | None:
    text = t.text(name, None)
    if text is None:
        return None
    seconds = cs.parse_interval(text)
    if not seconds:
        raise t.error(name, f'"{text}" is not a duration like "2d", "12h" or "90m"')
    return float(seconds)


def _archive(t: cs.Table, environ: Mapping[str, str]) -> ArchiveConfig:
    url, where = t.text("url", DEFAULT_DATABASE_URL), (t.label, t.key("url"))
    if environ.get("LAWWATCH_DATABASE_URL"):
        url, where = environ["LAWWATCH_DATABASE_URL"], ("$LAWWATCH_DATABASE_URL", "")
    scheme, sep, rest = url.partition("://")
    if not sep:
        example = DEFAULT_DATABASE_URL
        raise ConfigError(*where, f'"{cs.mask_db_url(url)}" is not a database URL like "{example}"')
    if scheme not in _DB_SCHEMES:
        raise ConfigError(*where, f'unsupported database "{scheme}://" (use sqlite:/// or postgresql+psycopg://)')
    return ArchiveConfig(url=f"{_DB_SCHEMES[scheme]}://{rest}", echo=t.flag("echo", False))


def _crawler(t: cs.Table) -> CrawlerConfig:
    user_agent = t.text("user_agent", DEFAULT_USER_AGENT)
    if not cs.has_contact(user_agent):
        raise t.error("user_agent", "must include a contact (an email address or an http(s) URL)")
    return CrawlerConfig(
        user_agent=user_agent,
        download_delay=t.number("download_delay", 1.0),
        concurrent_requests=t.integer("concurrent_requests", 8, lo=1),
        concurrent_requests_per_domain=t.integer("concurrent_requests_per_domain", 2, lo=1),
        timeout=t.number("timeout", 30.0, positive=True),
        max_body_size=t.integer("max_body_size", 16 * 1024 * 1024, lo=1),
        max_redirects=t.integer("max_redirects", 5, lo=0),
        retry_times=t.integer("retry_times", 3, lo=0),
        autothrottle=t.flag("autothrottle", True),
        obey_robots_txt=t.flag("obey_robots_txt", True),
    )


def _schedule(t: cs.Table, name: str, default: str | None) -> Schedule | None:
    text = t.text(name, default)
    try:
        return Schedule.parse(text) if text is not None else None
    except ValueError as exc:
        raise t.error(name, str(exc)) from None


def _sources(tables: list[cs.Table], crawler: CrawlerConfig, environ: Mapping[str, str]) -> list[SourceConfig]:
    known = known_spiders() if tables else ()
    seen: dict[str, str] = {}
    result = []
    for t in tables:
        sid = t.text("id")
        if not _ID.fullmatch(sid):
            raise t.error("id", f'"{sid}" must start with a lowercase letter and use only a-z, 0-9 and _')
        if sid in seen:
            raise t.error("id", f'duplicate source id "{sid}" (first used by {seen[sid]})')
        seen[sid] = t.where
        spider = t.text("spider")
        if spider not in known:
            known_text = ", ".join(known) or "none installed"
            raise t.error("spider", f'unknown spider "{spider}" (known: {known_text})')
        enabled, schedule = t.flag("enabled", True), _schedule(t, "schedule", "1h")
        assert schedule is not None
        local = t.flag("local", False)
        base_url = t.text("base_url")
        try:
            host = cs.check_http_url(base_url)
        except ValueError as exc:
            raise t.error("base_url", str(exc)) from None
        if local and not cs.is_loopback(host):
            raise t.error("local", f"local = true is only for a mirror on a loopback host, not {host}")
        if not local and cs.is_private(host):
            raise t.error("base_url", f"{host} is a loopback/private address; only a local source may use it")
        delay = t.number("download_delay", None)
        if not local:
            _check_polite(t, sid, crawler, delay)
        options = _options(t, spider, environ)
        if not local:
            _check_option_hosts(t, options)
        expect_every = _duration(t, "expect_every")
        fail_after = t.integer("fail_after", DEFAULT_FAIL_AFTER, lo=0)
        result.append(
            SourceConfig(
                id=sid,
                spider=spider,
                base_url=base_url,
                enabled=enabled,
                schedule=schedule,
                local=local,
                options=options,
                download_delay=delay,
                expect_every=expect_every,
                fail_after=fail_after,
            )
        )
    return result


def _check_polite(t: cs.Table, sid: str, crawler: CrawlerConfig, delay: float | None) -> None:
    why = f'(source "{sid}" is not local)'
    if delay is not None and delay < 1:
        raise t.error("download_delay", f"{delay:g} s is below the 1 s minimum for a real host {why}")
    if delay is None and crawler.download_delay < 1:
        message = f"{crawler.download_delay:g} s is below the 1 s minimum for a real host {why}"
        raise ConfigError(t.label, "crawler.download_delay", message)
    if crawler.concurrent_requests_per_domain > 2:
        message = f"{crawler.concurrent_requests_per_domain} is above 2, the limit for a real host {why}"
        raise ConfigError(t.label, "crawler.concurrent_requests_per_domain", message)


def _check_option_hosts(t: cs.Table, options: Mapping[str, Any]) -> None:
    """An absolute URL in a non-local source's options (a feed on another host) may not name a loopback or private
    address either, in any of its spellings (``127.1``, ``2130706433``, ``0x7f000001``...)."""
    for name, value in options.items():
        for text in value if isinstance(value, tuple) else (value,):
            if not isinstance(text, str) or not text.lower().startswith(("http://", "https://")):
                continue
            try:
                host = cs.check_http_url(text)
            except ValueError as exc:
                raise t.error(name, str(exc)) from None
            why = cs.special_address(host)
            if why:
                raise t.error(name, f"{host} is {why} (in {text}); only a local source may use it")


def _options(t: cs.Table, spider: str, environ: Mapping[str, str]) -> Mapping[str, Any]:
    try:
        declared = spider_options(spider)
    except ImportError as exc:
        raise t.error("spider", str(exc)) from exc
    t.reject_unknown([*_SOURCE_KEYS, *declared])
    extra = [k for k in t.data if k not in _SOURCE_KEYS]
    return MappingProxyType({name: cs.option_value(t, name, declared[name].type, environ) for name in extra})


def _fields(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def _plain(value: Any) -> Any:
    """Config objects → JSON-able data shaped like settings.toml; secrets and sensitive keys masked."""
    if isinstance(value, Secret):
        return cs.MASK
    if isinstance(value, Schedule):
        return value.text
    if isinstance(value, Path):
        return str(value)
    if is_dataclass(value):
        items = _fields(value)
        if isinstance(value, SourceConfig):
            items.update(items.pop("options"))
        if isinstance(value, AlertRule):
            del items["filter"]
        if isinstance(value, SlackTarget | EmailTarget | WebhookTarget):
            items = {"name": value.name, "type": value.kind, **items}
        value = items
    if isinstance(value, Mapping):
        return {k: cs.MASK if v is not None and cs.is_sensitive(k) else _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
