"""The ``[alerts]`` part of settings.toml: channels, targets and rules, validated at load (private to config.py).

A rule is a ``DocumentFilter`` (built and checked here: places resolved to one jurisdiction each or an error with
the candidates, statutes parsed, sources and targets known) plus where and when to send. Every mistake is one
``ConfigError`` naming the key path, like the rest of the settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from lawwatch import config_schema as cs
from lawwatch.config_schema import Schedule, Secret
from lawwatch.errors import ConfigError, QueryError
from lawwatch.pipeline.doctypes import DOC_TYPES

DEFAULT_SLACK_URL = "https://slack.com/api/"
DEFAULT_FROM_ADDR = "lawwatch@localhost"
ON_UPDATE = ("new-match", "any-change")
_RULE_KEYS = (
    "name",
    "jurisdictions",
    "statutes",
    "doc_types",
    "sources",
    "query",
    "within",
    "targets",
    "digest",
    "timezone",
    "on_update",
    "max_age",
)


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One ``[[alerts.rules]]`` table: what the user wrote, plus ``filter``, the ``DocumentFilter`` it means."""

    name: str
    jurisdictions: tuple[str, ...] = ()
    statutes: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    digest: str | None = None
    query: str = ""
    within: bool = False
    timezone: str = "UTC"
    on_update: Literal["new-match", "any-change"] = "new-match"
    max_age: float | None = None  # seconds; None: the [alerts] max_age
    filter: Any = field(default=None, compare=False, repr=False)  # lawwatch.pipeline.filters.DocumentFilter

    @property
    def digest_schedule(self) -> Schedule | None:
        return Schedule.parse(self.digest) if self.digest else None


@dataclass(frozen=True, slots=True)
class SlackTarget:
    """A Slack channel through the Web API (``channel``, with the bot token), or an incoming webhook
    (``webhook_url``, a secret)."""

    kind: ClassVar[str] = "slack"
    name: str
    channel: str | None = None
    webhook_url: Secret | None = None


@dataclass(frozen=True, slots=True)
class EmailTarget:
    kind: ClassVar[str] = "email"
    name: str
    to: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """A JSON POST of each alert to ``url``, signed with HMAC-SHA256 under ``secret``."""

    kind: ClassVar[str] = "webhook"
    name: str
    url: Secret | str
    secret: Secret


Target = SlackTarget | EmailTarget | WebhookTarget


@dataclass(frozen=True, slots=True)
class SlackConfig:
    token: Secret | None = None
    base_url: str = DEFAULT_SLACK_URL


@dataclass(frozen=True, slots=True)
class EmailConfig:
    host: str = "localhost"
    port: int = 25
    username: str | None = None
    password: Secret | None = None
    from_addr: str = DEFAULT_FROM_ADDR
    starttls: bool = False
    use_ssl: bool = False
    timeout: float = 30.0


@dataclass(frozen=True, slots=True)
class AlertsConfig:
    rules: tuple[AlertRule, ...] = ()
    slack: SlackConfig = SlackConfig()
    email: EmailConfig = EmailConfig()
    targets: tuple[Target, ...] = ()
    dispatch_interval: float = 1.0
    max_attempts: int = 8
    retry_base: float = 30.0
    sending_timeout: float = 120.0
    max_age: float | None = None
    pace_seconds: float = 1.0
    ops_targets: tuple[str, ...] = ()  # targets told by the watchdog when a source goes quiet, fails or recovers

    def target(self, name: str) -> Target:
        for target in self.targets:
            if target.name == name:
                return target
        raise KeyError(name)


def parse_alerts(t: cs.Table, source_ids: set[str], environ: Mapping[str, str]) -> AlertsConfig:
    s = t.table("slack", ("token", "base_url"))
    slack_url = s.text("base_url", DEFAULT_SLACK_URL)
    try:
        cs.check_http_url(slack_url)
    except ValueError as exc:
        raise s.error("base_url", str(exc)) from None
    slack = SlackConfig(token=s.secret("token", environ), base_url=slack_url.rstrip("/") + "/")
    e = t.table("email", [f.name for f in fields(EmailConfig)])
    email = EmailConfig(
        host=e.text("host", "localhost"),
        port=e.integer("port", 25, lo=1, hi=65535),
        username=e.text("username", None),
        password=e.secret("password", environ),
        from_addr=_address(e, "from_addr", e.text("from_addr", DEFAULT_FROM_ADDR)),
        starttls=e.flag("starttls", False),
        use_ssl=e.flag("use_ssl", False),
        timeout=e.number("timeout", 30.0, positive=True),
    )
    if email.starttls and email.use_ssl:
        raise e.error("use_ssl", "use either starttls or use_ssl, not both")
    targets = _targets(t.tables("targets"), environ)
    rules = _rules(t.tables("rules"), source_ids, {x.name for x in targets})
    ops_targets = _members(t, "ops_targets", {x.name for x in targets}, "target")
    return AlertsConfig(
        rules=rules,
        slack=slack,
        email=email,
        targets=targets,
        dispatch_interval=t.number("dispatch_interval", 1.0, positive=True),
        max_attempts=t.integer("max_attempts", 8, lo=1),
        retry_base=t.number("retry_base", 30.0, positive=True),
        sending_timeout=t.number("sending_timeout", 120.0, positive=True),
        max_age=_duration(t, "max_age"),
        pace_seconds=t.number("pace_seconds", 1.0),
        ops_targets=ops_targets,
    )


def _address(t: cs.Table, key: str, text: str) -> str:
    try:
        return cs.check_address(text)
    except ValueError as exc:
        raise ConfigError(t.label, t.key(key), str(exc)) from None


def _unique(t: cs.Table, seen: dict[str, str], what: str) -> str:
    name = str(t.text("name"))
    if name in seen:
        raise t.error("name", f'duplicate {what} name "{name}" (first used by {seen[name]})')
    seen[name] = t.where
    return name


def _duration(t: cs.Table, key: str) -> float | None:
    text = t.text(key, None)
    if text is None:
        return None
    seconds = cs.parse_interval(text)
    if not seconds:
        raise t.error(key, f'"{text}" is not a duration like "30d", "12h" or "90m"')
    return float(seconds)


def _targets(tables: list[cs.Table], environ: Mapping[str, str]) -> tuple[Target, ...]:
    seen: dict[str, str] = {}
    result: list[Target] = []
    for t in tables:
        name, kind = _unique(t, seen, "target"), t.text("type")
        if kind == "slack":
            t.reject_unknown(("name", "type", "channel", "webhook_url"))
            channel, hook = t.text("channel", None), t.secret("webhook_url", environ)
            if channel is None and "webhook_url" not in t.data:
                raise t.error("channel", "a Slack target needs a channel (or an incoming webhook_url)")
            result.append(SlackTarget(name, channel, hook))
        elif kind == "email":
            t.reject_unknown(("name", "type", "to"))
            to = t.strings("to")
            if not to:
                raise t.error("to", "needs at least one address")
            result.append(EmailTarget(name, tuple(_address(t, f"to[{i}]", a) for i, a in enumerate(to))))
        elif kind == "webhook":
            t.reject_unknown(("name", "type", "url", "secret"))
            raw = t.data.get("url")
            url: Secret | str | None = t.secret("url", environ) if isinstance(raw, dict) else t.text("url")
            if isinstance(url, str):
                try:
                    cs.check_http_url(url)
                except ValueError as exc:
                    raise t.error("url", str(exc)) from None
            secret = t.secret("secret", environ)
            if url is None or secret is None:
                missing = "url" if url is None else "secret"
                raise t.error(missing, f'a webhook target needs {missing} (secret as {{ env = "NAME" }})')
            result.append(WebhookTarget(name, url, secret))
        else:
            raise t.error("type", f'unknown target type "{kind}" (slack, email or webhook)')
    return tuple(result)


def _members(t: cs.Table, name: str, allowed: Any, what: str) -> tuple[str, ...]:
    values = t.strings(name)
    for i, value in enumerate(values):
        if value not in allowed:
            raise ConfigError(
                t.label,
                f"{t.key(name)}[{i}]",
                f'unknown {what} "{value}" (known: {", ".join(sorted(allowed)) or "none configured"})',
            )
    return values


def _rules(tables: list[cs.Table], source_ids: set[str], target_names: set[str]) -> tuple[AlertRule, ...]:
    seen: dict[str, str] = {}
    result = []
    for t in tables:
        t.reject_unknown(_RULE_KEYS)
        name = _unique(t, seen, "rule")
        doc_types = _members(t, "doc_types", DOC_TYPES, "document type")
        sources = _members(t, "sources", source_ids, "source")
        targets = _members(t, "targets", target_names, "target")
        if not targets:
            raise t.error("targets", "a rule needs at least one target")
        digest = _schedule(t)
        zone = t.text("timezone", "UTC")
        if zone not in available_timezones():
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise t.error("timezone", f'unknown time zone "{zone}" (an IANA name like "America/Chicago")') from None
        on_update = t.text("on_update", "new-match")
        if on_update not in ON_UPDATE:
            raise t.error("on_update", f'"{on_update}" is not one of {", ".join(ON_UPDATE)}')
        rule = AlertRule(
            name=name,
            jurisdictions=t.strings("jurisdictions"),
            statutes=t.strings("statutes"),
            doc_types=doc_types,
            sources=sources,
            targets=targets,
            digest=digest.text if digest else None,
            query=t.text("query", "", empty=True),
            within=t.flag("within", False),
            timezone=zone,
            on_update=on_update,
            max_age=_duration(t, "max_age"),
        )
        object.__setattr__(rule, "filter", _filter(t, rule))
        result.append(rule)
    return tuple(result)


def _schedule(t: cs.Table) -> Schedule | None:
    text = t.text("digest", None)
    if text is None:
        return None
    try:
        return Schedule.parse(text)
    except ValueError as exc:
        raise t.error("digest", str(exc)) from None


def _filter(t: cs.Table, rule: AlertRule) -> Any:
    """The rule's DocumentFilter; each place must name exactly one jurisdiction."""
    from lawwatch.pipeline.filters import DocumentFilter
    from lawwatch.pipeline.places import resolve_place

    ids = []
    for i, place in enumerate(rule.jurisdictions):
        try:
            ids.append(resolve_place(place).id)
        except QueryError as exc:
            raise ConfigError(t.label, f"{t.key('jurisdictions')}[{i}]", str(exc)) from None
    for i, cite in enumerate(rule.statutes):
        try:
            DocumentFilter.from_user(statutes=[cite])
        except QueryError as exc:
            raise ConfigError(t.label, f"{t.key('statutes')}[{i}]", str(exc)) from None
    try:
        flt = DocumentFilter.from_user(
            statutes=rule.statutes,
            doc_types=rule.doc_types,
            sources=rule.sources,
            query=rule.query,
            within=rule.within,
        )
    except QueryError as exc:
        raise t.error("query", str(exc)) from None
    return DocumentFilter(**{**_filter_fields(flt), "jurisdictions": tuple(ids)})


def _filter_fields(flt: Any) -> dict[str, Any]:
    return {f.name: getattr(flt, f.name) for f in fields(flt)}
