"""Webhook channel: the alert as JSON, POSTed to a URL and signed with HMAC-SHA256.

What a receiver gets (one request per alert or digest):

* Body: compact JSON (sorted keys, ASCII-only): ``{"event": "alert", "alert": {...}}`` or
  ``{"event": "digest", "digest": {...}}`` (or ``{"event": "notice", "notice": {"id", "kind", "target",
  "subject", "lines", "source", "state"}}`` for an operator notice of the watchdog) — an alert holds ``id`` (the
  stable message id), ``outbox_id``, ``rule``, ``target``, ``revision``, ``document`` (``id``, ``title``, ``url``,
  ``source``, ``doc_type``, ``published_at`` ISO 8601 UTC, ``jurisdictions``, ``statutes``, ``snippet``,
  ``matched`` words), ``why`` (``jurisdictions``, ``statutes``, ``words``) and ``changes`` (``field``, ``before``,
  ``after``). Text is the scraped text as is: JSON needs no other escaping, and the receiver must escape it for
  wherever it shows it.
* Headers: ``Content-Type: application/json``, ``X-Lawwatch-Event`` (``alert``/``digest``),
  ``X-Lawwatch-Delivery`` (the stable message id — the same on every retry, for de-duplication),
  ``X-Lawwatch-Timestamp`` (Unix seconds at sending) and
  ``X-Lawwatch-Signature: sha256=<hex>`` = HMAC-SHA256(secret, ``<timestamp>`` + ``"."`` + the exact body bytes).
  Receivers check it with ``verify_signature`` (constant-time, rejects timestamps older than 5 minutes).

Sending: ``urllib.request`` with a timeout; redirects are not followed (a 3xx is a permanent error, since following
it would turn the POST into a GET and lose the body). 2xx → ``Delivery("webhook:<status>")``; 408, 429 and 5xx →
retryable ``DeliveryError`` (``retry_after`` from ``Retry-After``); other 4xx and 3xx → permanent; connection
errors and timeouts → retryable. Neither the URL nor the secret appears in an error message.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any, ClassVar
from urllib.error import HTTPError, URLError

from lawwatch.alerts.channels.base import ChannelOptions, Delivery, Item, parse_retry_after
from lawwatch.alerts.errors import DeliveryError, TargetError
from lawwatch.alerts.escape import http_url, json_text, one_line, truncate
from lawwatch.alerts.message import Alert, AlertDocument, Digest, Notice, as_utc
from lawwatch.config import AlertsConfig, Secret

__all__ = [
    "KIND",
    "WebhookChannel",
    "WebhookPayload",
    "WebhookTarget",
    "from_config",
    "payload_data",
    "sign",
    "verify_signature",
]

KIND = "webhook"
SIGNATURE_HEADER = "X-Lawwatch-Signature"
TIMESTAMP_HEADER = "X-Lawwatch-Timestamp"
DELIVERY_HEADER = "X-Lawwatch-Delivery"
EVENT_HEADER = "X-Lawwatch-Event"
USER_AGENT = "lawwatch-webhook/0.1"
MAX_RESPONSE_BYTES = 64 * 1024
RETRYABLE_STATUS = frozenset({408, 425, 429})


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """A webhook receiver: ``url`` (a ``Secret`` when it embeds a token) and the HMAC ``secret``."""

    kind: ClassVar[str] = KIND
    name: str
    url: Secret | str
    secret: Secret


@dataclass(frozen=True, slots=True)
class WebhookPayload:
    """The exact body bytes to sign and send, the event name and the delivery id (``X-Lawwatch-Delivery``)."""

    body: bytes
    event: str
    delivery_id: str


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 with ``secret`` over ``timestamp + "." + body``."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: float = 300.0, now: float | None = None
) -> bool:
    """True when ``signature`` is ``sign(secret, timestamp, body)`` and ``timestamp`` is within ``tolerance`` s."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def _document(doc: AlertDocument) -> dict[str, Any]:
    return {
        "id": doc.id,
        "title": doc.title,
        "url": doc.url,
        "source": doc.source,
        "doc_type": doc.doc_type,
        "published_at": as_utc(doc.published_at).isoformat() if doc.published_at else None,
        "jurisdictions": list(doc.jurisdictions),
        "statutes": list(doc.statutes),
        "snippet": doc.snippet_text,
        "matched": [p.text for p in doc.snippet if p.match],
    }


def _alert(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.message_id,
        "outbox_id": alert.outbox_id,
        "rule": alert.rule,
        "target": alert.target,
        "revision": alert.revision,
        "document": _document(alert.document),
        "why": {
            "jurisdictions": list(alert.why.jurisdictions),
            "statutes": list(alert.why.statutes),
            "words": list(alert.why.words),
        },
        "changes": [{"field": c.field, "before": c.before, "after": c.after} for c in alert.changes],
    }


def payload_data(item: Item) -> dict[str, Any]:
    """The JSON-able body for an alert, a digest or an operator notice (see the module docstring)."""
    if isinstance(item, Notice):
        return {
            "event": "notice",
            "notice": {
                "id": item.message_id,
                "kind": item.kind,
                "target": item.target,
                "subject": item.subject,
                "lines": list(item.lines),
                "source": item.source,
                "state": item.state,
            },
        }
    if isinstance(item, Digest):
        return {
            "event": "digest",
            "digest": {
                "id": item.message_id,
                "rule": item.rule,
                "target": item.target,
                "period_start": as_utc(item.period_start).isoformat(),
                "period_end": as_utc(item.period_end).isoformat(),
                "alerts": [_alert(a) for a in item.alerts],
            },
        }
    return {"event": "alert", "alert": _alert(item)}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None


def _reveal(value: Secret | str) -> str:
    return value.reveal() if isinstance(value, Secret) else str(value)


class WebhookChannel:
    """POSTs signed JSON (see the module docstring for the guarantees)."""

    kind: ClassVar[str] = KIND

    def __init__(self, *, timeout: float = 30.0, clock: Callable[[], float] = time.time) -> None:
        self.timeout = timeout
        self._clock = clock
        self._opener = urllib.request.build_opener(_NoRedirect)

    def validate_target(self, target: WebhookTarget) -> None:
        if http_url(_reveal(target.url)) is None:
            raise TargetError(target.name, "url is not an http(s) URL")
        if not isinstance(target.secret, Secret) or not target.secret.reveal():
            raise TargetError(target.name, "needs a non-empty secret to sign requests")

    def render(self, item: Item, target: WebhookTarget) -> WebhookPayload:
        data = payload_data(item)
        return WebhookPayload(json_text(data).encode("ascii"), str(data["event"]), item.message_id)

    def send(self, payload: WebhookPayload, target: WebhookTarget) -> Delivery:
        url = http_url(_reveal(target.url))
        if url is None:
            raise DeliveryError(f'webhook target "{target.name}": url is not an http(s) URL', permanent=True)
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            EVENT_HEADER: payload.event,
            DELIVERY_HEADER: payload.delivery_id,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(target.secret.reveal(), timestamp, payload.body),
        }
        request = urllib.request.Request(url, data=payload.body, headers=headers, method="POST")
        where = f'webhook target "{target.name}"'
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status = int(response.status)
                response.read(MAX_RESPONSE_BYTES)
        except HTTPError as exc:
            raise _http_error(where, exc) from None
        except (URLError, OSError, HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise DeliveryError(
                truncate(f"cannot reach {where}: {type(exc).__name__}: {one_line(str(reason))}", 300)
            ) from None
        return Delivery(f"webhook:{status}")


def _http_error(where: str, exc: HTTPError) -> DeliveryError:
    status = exc.code
    try:
        body = exc.read(MAX_RESPONSE_BYTES).decode("utf-8", "replace")
    except (OSError, HTTPException):
        body = ""
    finally:
        exc.close()
    text = truncate(one_line(body), 200) or "no body"
    retryable = status in RETRYABLE_STATUS or 500 <= status < 600
    retry_after = parse_retry_after(exc.headers.get("Retry-After")) if retryable and exc.headers else None
    return DeliveryError(f"{where} answered HTTP {status}: {text}", retry_after, permanent=not retryable)


def from_config(alerts: AlertsConfig, options: ChannelOptions) -> WebhookChannel:
    """The registry's constructor (webhook targets carry their own URL and secret)."""
    return WebhookChannel(timeout=options.timeout)
