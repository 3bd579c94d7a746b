"""Private helpers for config.py: the value types ``Secret`` and ``Schedule`` (re-exported by config), a typed
reader over parsed TOML tables, and small validators.

``Table`` raises ``ConfigError`` (it knows the file and the key path); the plain validators raise
``ValueError`` with a user-facing message for the caller to wrap.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import socket
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import getaddresses
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import urlsplit

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from lawwatch.errors import ConfigError

MISSING: Any = object()
_INTERVAL = re.compile(r"(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ADDRESS = re.compile(r"[^@\s]+@[^@\s.][^@\s]*")
_CONTACT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|https?://[^\s);]+")
# What inet_aton reads as IPv4: one to four parts, each decimal, octal (leading 0) or hexadecimal (0x).
_LEGACY_IPV4 = re.compile(r"(?:0x[0-9a-f]*|\d+)(?:\.(?:0x[0-9a-f]*|\d+)){0,3}")
_SENSITIVE_WORDS = ("token", "secret", "password", "passwd")
MASK = "********"


def describe(value: Any) -> str:
    """How a TOML value reads in an error message: ``string "1"``, ``integer 1``, ``an array``..."""
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"float {value}"
    if isinstance(value, str):
        return f'string "{value}"'
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"{type(value).__name__} {value}"


class Table:
    """One TOML table being read: typed getters that raise ConfigError naming ``label: where.key``."""

    def __init__(self, data: Any, where: str, label: str, allowed: Iterable[str] | None = None) -> None:
        if not isinstance(data, dict):
            raise ConfigError(label, where, f"expected a table, got {describe(data)}")
        self.data: dict[str, Any] = data
        self.where = where
        self.label = label
        if allowed is not None:
            self.reject_unknown(allowed)

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def error(self, name: str, message: str) -> ConfigError:
        return ConfigError(self.label, self.key(name), message)

    def reject_unknown(self, allowed: Iterable[str]) -> None:
        allowed = sorted(allowed)
        for name in self.data:
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f'did you mean "{close[0]}"?' if close else "known keys: " + ", ".join(allowed)
                raise self.error(name, f"unknown key ({hint})")

    def _get(self, name: str, default: Any, check: Any, expected: str) -> Any:
        value = self.data.get(name, MISSING)
        if value is MISSING:
            return default
        if not check(value):
            raise self.error(name, f"expected {expected}, got {describe(value)}")
        return value

    def text(self, name: str, default: Any = MISSING, *, empty: bool = False) -> Any:
        value = self._get(name, default, lambda v: isinstance(v, str), "a string")
        if value is MISSING:
            raise self.error(name, "is required")
        if isinstance(value, str) and not empty and not value.strip():
            raise self.error(name, "must not be empty")
        return value

    def flag(self, name: str, default: bool) -> bool:
        return bool(self._get(name, default, lambda v: isinstance(v, bool), "true or false"))

    def integer(self, name: str, default: int, *, lo: int | None = None, hi: int | None = None) -> int:
        value = int(self._get(name, default, is_int, "an integer"))
        if lo is not None and value < lo:
            raise self.error(name, f"must be at least {lo}, got {value}")
        if hi is not None and value > hi:
            raise self.error(name, f"must be at most {hi}, got {value}")
        return value

    def number(self, name: str, default: Any, *, lo: float = 0.0, positive: bool = False) -> Any:
        value = self._get(name, default, is_number, "a number")
        if value is None:
            return None
        value = float(value)
        if value < lo or (positive and value <= 0):
            bound = "greater than" if positive else "at least"
            raise self.error(name, f"must be {bound} {lo:g}, got {value:g}")
        return value

    def strings(self, name: str) -> tuple[str, ...]:
        value = self._get(name, [], lambda v: isinstance(v, list), "an array of strings")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.error(f"{name}[{i}]", f"expected a string, got {describe(item)}")
        return tuple(value)

    def table(self, name: str, allowed: Iterable[str]) -> Table:
        return Table(self.data.get(name, {}), self.key(name), self.label, allowed)

    def tables(self, name: str) -> list[Table]:
        value = self.data.get(name, [])
        if not isinstance(value, list):
            expected = f"an array of tables ([[{self.key(name)}]])"
            raise self.error(name, f"expected {expected}, got {describe(value)}")
        return [Table(item, f"{self.key(name)}[{i}]", self.label) for i, item in enumerate(value)]

    def secret(self, name: str, environ: Mapping[str, str]) -> Secret | None:
        """Resolve ``{ env = "NAME", required = false }``; None when absent or the variable is unset/empty."""
        value = self.data.get(name, MISSING)
        if value is MISSING:
            return None
        example = "SLACK_BOT_TOKEN" if "token" in name else "LAWWATCH_SMTP_PASSWORD"
        if not isinstance(value, dict):
            raise self.error(name, f'secrets must be env references like {{ env = "{example}" }}')
        ref = Table(value, self.key(name), self.label, ("env", "required"))
        env = ref.text("env")
        if not _ENV_NAME.fullmatch(env):
            raise ref.error("env", f'"{env}" is not an environment variable name')
        resolved = environ.get(env) or None
        if resolved is None and ref.flag("required", False):
            raise self.error(name, f"environment variable {env} is not set (required = true)")
        return Secret(resolved, env) if resolved is not None else None


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_interval(text: str) -> int | None:
    """Seconds for "30s", "15m", "2h", "1d", "1h30m"; None when ``text`` is not shaped like an interval."""
    match = _INTERVAL.fullmatch(text.strip())
    if not match or not any(match.groups()):
        return None
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def check_http_url(url: str) -> str:
    """The URL's host, if ``url`` is an absolute http(s) URL; else ValueError."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f'"{url}" is not a valid URL ({exc})') from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(f'"{url}" is not an http(s) URL')
    return host


def ip_of(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address ``host`` names literally, or None for a name. Besides the standard forms this reads every form
    the C resolver reads as an IPv4 address (``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1``), and an
    IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) as its IPv4 address: each reaches the same machine."""
    text = host.strip().strip("[]").rstrip(".").lower()
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(text)
    except ValueError:
        if not _LEGACY_IPV4.fullmatch(text):
            return None
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_loopback(host: str) -> bool:
    host = host.strip().rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = ip_of(host)
    return address is not None and address.is_loopback


def special_address(host: str) -> str | None:
    """Why ``host`` (a name or an address in any form) is not a public address, or None: "a loopback address", "a
    link-local address" or "a private address" (private, reserved, unspecified or multicast)."""
    if is_loopback(host):
        return "a loopback address"
    address = ip_of(host)
    if address is None:
        return None
    if address.is_link_local:
        return "a link-local address"
    if address.is_private or address.is_reserved or address.is_unspecified or address.is_multicast:
        return "a private address"
    return None


def is_private(host: str) -> bool:
    """Loopback, private, link-local or otherwise not public (what a non-local source must never point at)."""
    return special_address(host) is not None


def check_address(text: str) -> str:
    pairs = getaddresses([text])
    if len(pairs) != 1 or not _ADDRESS.fullmatch(pairs[0][1]):
        raise ValueError(f'"{text}" is not an email address')
    return text


def has_contact(user_agent: str) -> bool:
    return bool(_CONTACT.search(user_agent))


def freeze(value: Any) -> Any:
    """TOML value → immutable equivalent: arrays become tuples, tables MappingProxyType."""
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    return value


def is_sensitive(key: str) -> bool:
    """Keys whose values ``config show`` masks: containing token/secret/password, or with a word "key"."""
    lowered = key.lower()
    words = set(re.split(r"[_\-.]", lowered))
    return any(w in lowered for w in _SENSITIVE_WORDS) or bool({"key", "apikey"} & words)


def mask_db_url(url: str) -> str:
    return re.sub(r"^([\w+]+://[^:/@]*:)[^@/]*@", rf"\g<1>{MASK}@", url)


_OPTION_TYPES: dict[Any, tuple[str, Callable[[Any], bool]]] = {
    str: ("a string", lambda v: isinstance(v, str)),
    int: ("an integer", is_int),
    float: ("a number", is_number),
    bool: ("true or false", lambda v: isinstance(v, bool)),
    list: ("an array", lambda v: isinstance(v, list)),
    dict: ("a table", lambda v: isinstance(v, dict)),
}


@dataclass(frozen=True, slots=True, repr=False)
class Secret:
    """A resolved secret; shows as ``********`` everywhere except ``reveal()``."""

    _value: str
    env_name: str = ""

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__

    def reveal(self) -> str:
        return self._value


@dataclass(frozen=True, slots=True)
class Schedule:
    """An interval ("30s", "15m", "2h", "1d", "1h30m") or a 5-field cron expression, in UTC."""

    text: str
    kind: Literal["interval", "cron"]
    seconds: int | None = None
    cron: str | None = None

    @classmethod
    def parse(cls, text: str) -> Schedule:
        """Parse ``text``; ValueError with a user-facing message when it is neither form."""
        seconds = parse_interval(text)
        if seconds == 0:
            raise ValueError(f'"{text}" is an empty interval; use at least "1s"')
        if seconds is not None:
            return cls(text, "interval", seconds=seconds)
        expr = " ".join(text.split())
        if len(expr.split(" ")) == 5:
            try:
                CronTrigger.from_crontab(expr, timezone="UTC")
            except ValueError as exc:
                raise ValueError(f'"{text}" is not a valid cron expression ({exc})') from None
            return cls(text, "cron", cron=expr)
        raise ValueError(f'"{text}" is not an interval like "15m" or a cron expression')

    def trigger(self) -> IntervalTrigger | CronTrigger:
        if self.kind == "interval":
            return IntervalTrigger(seconds=self.seconds or 0, timezone="UTC")
        return CronTrigger.from_crontab(self.cron or "", timezone="UTC")


def option_value(t: Table, name: str, kind: Any, environ: Mapping[str, str]) -> Any:
    if kind is Secret:
        return t.secret(name, environ)
    value, item_kind = t.data[name], None
    if typing.get_origin(kind) is list:
        kind, item_kind = list, typing.get_args(kind)[0]
    fallback = (f"a {getattr(kind, '__name__', kind)}", lambda v: isinstance(v, kind))
    expected, check = _OPTION_TYPES.get(kind, fallback)
    if not check(value):
        raise t.error(name, f"expected {expected}, got {describe(value)}")
    if item_kind is not None:
        expected, check = _OPTION_TYPES[item_kind]
        for i, item in enumerate(value):
            if not check(item):
                raise t.error(f"{name}[{i}]", f"expected {expected}, got {describe(item)}")
    return float(value) if kind is float else freeze(value)
