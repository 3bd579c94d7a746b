"""Slack channel: ``chat.postMessage`` through slack-sdk's ``WebClient``, or an incoming webhook (``WebhookClient``).

What it guarantees:

* The message is Block Kit from ``slack_blocks`` (all scraped text inert) with a plain fallback ``text``, posted
  with ``unfurl_links=False, unfurl_media=False``.
* Pacing: sends to one Slack channel (or one webhook target) are serialised, and each starts at least
  ``pace_seconds`` after the previous one *finished* — at most one message per second per channel by default.
  ``pace_seconds=0`` turns pacing off.
* In-request retries are bounded: a 429 is retried after exactly its ``Retry-After`` when that is at most
  ``max_retry_wait`` seconds, a 500/503 after a short backoff, at most ``max_retries`` retries in all. A longer
  ``Retry-After`` is not slept on: it surfaces as a retryable ``DeliveryError`` carrying it.
* A dropped connection or a timeout is NOT retried inside the call (Slack may already have posted the message, and
  ``chat.postMessage`` has no idempotency key): it becomes a retryable ``DeliveryError`` and the dispatcher decides.
* Errors map to ``DeliveryError``: HTTP 429 and ``ratelimited`` → retryable with ``retry_after``; HTTP 5xx and
  Slack's transient errors (``internal_error``, ``fatal_error``, ``service_unavailable``, ``request_timeout``) →
  retryable; any other ``{"ok": false, "error": ...}`` (``channel_not_found``, ``not_in_channel``,
  ``is_archived``, ``invalid_auth``, ``msg_too_long`` ...) and other 4xx → permanent. Messages never contain the
  token or a webhook URL.
* The provider id is the message ``ts`` for the Web API and ``webhook:200`` for an incoming webhook.

Targets: ``SlackTarget(name, channel)`` from the settings. A target that also has ``webhook_url`` (a ``Secret`` or
``str``; proposed as ``SlackTarget.webhook_url: Secret | None = None``) is posted to that incoming webhook instead,
and needs no bot token.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any, ClassVar, Protocol

from slack_sdk import WebClient, WebhookClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry import BackoffRetryIntervalCalculator, Jitter, RetryHandler
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from lawwatch.alerts.channels.base import ChannelOptions, Delivery, Item, first_header, parse_retry_after
from lawwatch.alerts.channels.slack_blocks import alert_blocks, digest_blocks, fallback_text, notice_blocks
from lawwatch.alerts.errors import DeliveryError, TargetError
from lawwatch.alerts.escape import http_url, one_line, truncate
from lawwatch.alerts.message import Digest, Notice
from lawwatch.config import AlertsConfig, Secret, SlackConfig

__all__ = ["KIND", "BoundedRateLimitRetryHandler", "Pacer", "SlackChannel", "SlackPayload", "from_config"]

KIND = "slack"
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})


class SlackDestination(Protocol):
    """What the channel reads from a target (``lawwatch.config.SlackTarget`` fits; ``webhook_url`` is optional)."""

    @property
    def name(self) -> str: ...

    @property
    def channel(self) -> str: ...


@dataclass(frozen=True, slots=True)
class SlackPayload:
    """``text`` is the escaped fallback, ``blocks`` the Block Kit message; the same for the Web API and webhooks."""

    text: str
    blocks: tuple[dict[str, Any], ...]


class Pacer:
    """At most one send per ``interval`` seconds per key; thread-safe; ``interval <= 0`` turns it off.

    ``with pacer.slot(key):`` waits (at most ``interval`` seconds) until ``interval`` has passed since the previous
    slot for ``key`` ended, and holds the key while the body runs, so sends to one key never overlap.
    """

    def __init__(
        self,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = max(float(interval), 0.0)
        self._clock, self._sleep = clock, sleep
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._ready: dict[str, float] = {}

    @contextmanager
    def slot(self, key: str) -> Iterator[None]:
        if self.interval <= 0:
            yield
            return
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            wait = self._ready.get(key, 0.0) - self._clock()
            if wait > 0:
                self._sleep(min(wait, self.interval))
            try:
                yield
            finally:
                self._ready[key] = self._clock() + self.interval


class BoundedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack-sdk's 429 handler, bounded: retries only when ``Retry-After`` ≤ ``max_wait`` and then sleeps exactly
    that long (the stock handler sleeps any ``Retry-After`` plus up to 1 s, and fails on a non-integer value)."""

    def __init__(
        self, max_retry_count: int = 2, max_wait: float = 30.0, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait
        self._sleep = sleep

    @staticmethod
    def _wait(response: HttpResponse | None) -> float:
        value = parse_retry_after(first_header(response.headers, "Retry-After")) if response is not None else None
        return 1.0 if value is None else value

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code == 429 and self._wait(response) <= self.max_wait

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        self._sleep(self._wait(response))
        state.increment_current_attempt()


class _SmallJitter(Jitter):
    """Up to 10 % extra, instead of slack-sdk's default of up to a whole extra second."""

    def recalculate(self, duration: float) -> float:
        return duration * (1 + random.random() / 10)


def retry_handlers(max_retries: int = 2, max_retry_wait: float = 30.0, backoff: float = 0.5) -> list[RetryHandler]:
    """429 (bounded, honours ``Retry-After``) and 500/503 (``backoff``·2ⁿ s) — never connection errors."""
    server = ServerErrorRetryHandler(
        max_retry_count=max_retries,
        interval_calculator=BackoffRetryIntervalCalculator(backoff_factor=backoff, jitter=_SmallJitter()),
    )
    return [BoundedRateLimitRetryHandler(max_retries, max_retry_wait), server]


class SlackChannel:
    """Posts alerts and digests to Slack (see the module docstring for the guarantees)."""

    kind: ClassVar[str] = KIND

    def __init__(
        self,
        config: SlackConfig,
        *,
        pace_seconds: float = 1.0,
        timeout: float = 30.0,
        max_retries: int = 2,
        max_retry_wait: float = 30.0,
        server_error_backoff: float = 0.5,
    ) -> None:
        self.config = config
        self.pacer = Pacer(pace_seconds)
        self.timeout = max(1, math.ceil(timeout))
        self._handlers = retry_handlers(max_retries, max_retry_wait, server_error_backoff)
        self._client: WebClient | None = None
        if config.token is not None:
            self._client = WebClient(
                token=config.token.reveal(),
                base_url=config.base_url,
                timeout=self.timeout,
                retry_handlers=self._handlers,
            )

    def validate_target(self, target: SlackDestination) -> None:
        hook = getattr(target, "webhook_url", None)
        if hook is not None:
            if http_url(_reveal(hook)) is None:
                raise TargetError(target.name, "webhook_url is not an http(s) URL")
            return
        if not target.channel:
            raise TargetError(target.name, "needs a channel (or a webhook_url)")
        if self._client is None:
            message = f'[alerts.slack] token is not set; it is needed to post to "{target.channel}"'
            raise TargetError(target.name, message)

    def render(self, item: Item, target: SlackDestination) -> SlackPayload:
        if isinstance(item, Notice):
            blocks = notice_blocks(item)
        else:
            blocks = digest_blocks(item) if isinstance(item, Digest) else alert_blocks(item)
        return SlackPayload(text=fallback_text(item), blocks=tuple(blocks))

    def send(self, payload: SlackPayload, target: SlackDestination) -> Delivery:
        hook = getattr(target, "webhook_url", None)
        if hook is not None:
            return self._send_webhook(payload, target, _reveal(hook))
        if self._client is None or not target.channel:
            raise DeliveryError(f'target "{target.name}": needs [alerts.slack] token and a channel', permanent=True)
        try:
            with self.pacer.slot(f"channel:{target.channel}"):
                response = self._client.chat_postMessage(
                    channel=target.channel,
                    text=payload.text,
                    blocks=list(payload.blocks),
                    unfurl_links=False,
                    unfurl_media=False,
                )
        except SlackApiError as exc:
            raise _api_error(exc) from exc
        except SlackRequestError as exc:
            raise DeliveryError(f"Slack request refused: {exc}", permanent=True) from exc
        except (OSError, HTTPException) as exc:
            raise DeliveryError(f"cannot reach Slack: {_reason(exc)}") from exc
        except ValueError as exc:  # a 200 whose body starts like JSON but is not (a proxy's page)
            raise DeliveryError(f"unreadable answer from Slack: {_reason(exc)}") from exc
        return Delivery(str(response.get("ts", "")))

    def _send_webhook(self, payload: SlackPayload, target: SlackDestination, url: str) -> Delivery:
        if http_url(url) is None:
            raise DeliveryError(f'target "{target.name}": webhook_url is not an http(s) URL', permanent=True)
        client = WebhookClient(url, timeout=self.timeout, retry_handlers=self._handlers)
        try:
            with self.pacer.slot(f"webhook:{target.name}"):
                response = client.send(
                    text=payload.text, blocks=list(payload.blocks), unfurl_links=False, unfurl_media=False
                )
        except SlackRequestError as exc:
            raise DeliveryError(f"Slack webhook request refused: {type(exc).__name__}", permanent=True) from None
        except (OSError, HTTPException) as exc:
            raise DeliveryError(f"cannot reach the Slack webhook: {_reason(exc)}") from None
        status, body = response.status_code, truncate(one_line(str(response.body or "")), 200)
        if status == 200:
            return Delivery("webhook:200")
        if status == 429:
            retry_after = parse_retry_after(first_header(response.headers, "Retry-After"))
            raise DeliveryError(f"Slack webhook rate-limited (HTTP 429) {body}".strip(), retry_after)
        message = f"Slack webhook answered HTTP {status}: {body or 'no body'}"
        raise DeliveryError(message, permanent=not 500 <= status < 600)


def _reveal(value: Secret | str) -> str:
    return value.reveal() if isinstance(value, Secret) else str(value)


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return truncate(one_line(f"{type(exc).__name__}: {reason}"), 300)


def _api_error(exc: SlackApiError) -> DeliveryError:
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = getattr(response, "data", None)
    error = str(data.get("error", "")) if isinstance(data, dict) else ""
    if status == 429 or error == "ratelimited":
        retry_after = parse_retry_after(first_header(getattr(response, "headers", {}), "Retry-After"))
        return DeliveryError(f"Slack rate-limited the request (HTTP {status}, {error or 'no error code'})", retry_after)
    if status >= 500:
        return DeliveryError(f"Slack answered HTTP {status} ({truncate(error, 100) or 'no error code'})")
    if status != 200:
        return DeliveryError(
            f"Slack answered HTTP {status} ({truncate(error, 100) or 'no error code'})", permanent=True
        )
    code = truncate(one_line(error), 100) or "unknown"
    return DeliveryError(f'Slack API error "{code}"', permanent=error not in TRANSIENT_ERRORS)


def from_config(alerts: AlertsConfig, options: ChannelOptions) -> SlackChannel:
    """The registry's constructor: bot token and base URL from ``[alerts.slack]``."""
    return SlackChannel(alerts.slack, pace_seconds=options.pace_seconds, timeout=options.timeout)
