"""Email channel: multipart/alternative (text + HTML from Jinja2 templates) sent with ``smtplib``.

What it guarantees:

* The message is ``multipart/alternative`` with a ``text/plain`` and a ``text/html`` part, both UTF-8, rendered from
  ``lawwatch/alerts/templates/`` (``*.html`` autoescaped; ``*.txt`` not, as plain text shows ``<`` as ``<``; every
  printed value loses its control characters). Links are made only from http(s) URLs. A digest lists every document.
* Headers: ``From`` (``[alerts.email] from_addr``), ``To`` (the target's addresses), ``Subject`` (from the title or
  the digest's rule; CR/LF and other control characters removed, at most 200 characters), ``Date``, ``Message-ID``
  (the alert's or digest's stable id, so a retry is recognisably the same message), ``List-Id: lawwatch alerts
  <lawwatch.alerts>``, ``Auto-Submitted: auto-generated`` (RFC 3834) and ``X-Lawwatch-Rule``.
* Transport per ``EmailConfig``: implicit TLS (``use_ssl``), STARTTLS (``starttls``) or plain; LOGIN only when both
  ``username`` and ``password`` are set; ``timeout`` per socket operation. One connection per message.
* Errors → ``DeliveryError``: connection refused/reset/timeout, TLS failure, a 4xx reply → retryable; a 5xx reply
  (bad recipient, authentication failed, message refused) or a missing server capability (STARTTLS, AUTH) →
  permanent. When only some recipients are refused the delivery succeeds and ``Delivery.detail`` names them.
* The provider id is the ``Message-ID``.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, ClassVar, Protocol

import jinja2
from markupsafe import Markup

from lawwatch.alerts.channels.base import ChannelOptions, Delivery, Item, utcnow
from lawwatch.alerts.errors import DeliveryError, TargetError
from lawwatch.alerts.escape import header, http_url, one_line, plain, truncate
from lawwatch.alerts.message import Digest, Notice
from lawwatch.config import AlertsConfig, EmailConfig

__all__ = ["KIND", "LIST_ID", "EmailChannel", "from_config", "template_environment"]

KIND = "email"
LIST_ID = "lawwatch alerts <lawwatch.alerts>"
SUBJECT_CHARS = 200


class EmailDestination(Protocol):
    """What the channel reads from a target (``lawwatch.config.EmailTarget`` fits)."""

    @property
    def name(self) -> str: ...

    @property
    def to(self) -> tuple[str, ...]: ...


def _finalize(value: Any) -> Any:
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return plain(value)


def template_environment() -> jinja2.Environment:
    """The Jinja2 environment for the email templates (package data under ``lawwatch/alerts/templates``)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lawwatch.alerts", "templates"),
        autoescape=lambda name: not (name or "").endswith(".txt"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.globals["safe_url"] = http_url
    env.filters["one_line"] = one_line
    return env


def subject(item: Item) -> str:
    """The header-safe Subject for an alert, a digest or an operator notice."""
    if isinstance(item, Notice):
        text = f"[lawwatch] {one_line(item.subject)}"
    elif isinstance(item, Digest):
        count = len(item.alerts)
        text = f"[lawwatch] {item.rule}: {count} document{'s' * (count != 1)} ({item.period})"
    else:
        label = "Changed: " if item.is_change else ""
        text = f"[lawwatch] {label}{one_line(item.document.title) or '(untitled)'}"
    return truncate(header(text), SUBJECT_CHARS)


class EmailChannel:
    """Sends alerts and digests by SMTP (see the module docstring for the guarantees)."""

    kind: ClassVar[str] = KIND

    def __init__(
        self,
        config: EmailConfig,
        *,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], Any] = utcnow,
        local_hostname: str | None = None,
    ) -> None:
        self.config = config
        self._ssl_context = ssl_context
        self._clock = clock
        self._local_hostname = local_hostname
        self._env = template_environment()

    def validate_target(self, target: EmailDestination) -> None:
        if not target.to:
            raise TargetError(target.name, "needs at least one address in to")
        for address in target.to:
            if header(address) != address or "@" not in address:
                raise TargetError(target.name, f"{address!r} is not a single email address")
        if bool(self.config.username) != (self.config.password is not None):
            raise TargetError(target.name, "[alerts.email] needs both username and password for LOGIN, or neither")

    def render(self, item: Item, target: EmailDestination) -> EmailMessage:
        name = "notice" if isinstance(item, Notice) else "digest" if isinstance(item, Digest) else "alert"
        context = {"item": item, "subject": subject(item)}
        text = self._env.get_template(f"{name}.txt").render(context)
        html = self._env.get_template(f"{name}.html").render(context)
        msg = EmailMessage()
        msg["From"] = header(self.config.from_addr)
        msg["To"] = ", ".join(header(a) for a in target.to)
        msg["Subject"] = subject(item)
        msg["Date"] = format_datetime(self._clock())
        msg["Message-ID"] = item.message_id
        msg["List-Id"] = LIST_ID
        msg["Auto-Submitted"] = "auto-generated"
        if isinstance(item, Notice):
            msg["X-Lawwatch-Notice"] = truncate(header(item.kind), 200)
        else:
            msg["X-Lawwatch-Rule"] = truncate(header(item.rule), 200)
        msg.set_content(text, charset="utf-8")
        msg.add_alternative(html, subtype="html", charset="utf-8")
        return msg

    def send(self, payload: EmailMessage, target: EmailDestination) -> Delivery:
        where = f"{self.config.host}:{self.config.port}"
        message_id = str(payload["Message-ID"])
        try:
            smtp = self._connect()
            with smtp:
                refused = smtp.send_message(payload, from_addr=self.config.from_addr, to_addrs=list(target.to))
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            permanent = bool(codes) and all(500 <= code < 600 for code in codes)
            raise DeliveryError(
                f"{where} refused every recipient: {_refusals(exc.recipients)}", permanent=permanent
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"{where}: {exc}", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            text = _decode(exc.smtp_error)
            raise DeliveryError(
                f"{where} answered {exc.smtp_code} {text}".strip(), permanent=500 <= exc.smtp_code < 600
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            reason = truncate(one_line(f"{type(exc).__name__}: {exc}"), 300)
            raise DeliveryError(f"cannot deliver via {where}: {reason}") from exc
        detail = f"refused: {_refusals(refused)}" if refused else ""
        return Delivery(message_id, detail)

    def _context(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        smtp: smtplib.SMTP
        if c.use_ssl:
            smtp = smtplib.SMTP_SSL(
                c.host, c.port, local_hostname=self._local_hostname, timeout=c.timeout, context=self._context()
            )
        else:
            smtp = smtplib.SMTP(c.host, c.port, local_hostname=self._local_hostname, timeout=c.timeout)
        try:
            if c.starttls and not c.use_ssl:
                smtp.starttls(context=self._context())
            if c.username and c.password is not None:
                smtp.login(c.username, c.password.reveal())
        except BaseException:
            smtp.close()
            raise
        return smtp


def _decode(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return truncate(one_line(text), 200)


def _refusals(recipients: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(f"{addr} ({code} {_decode(reply)})" for addr, (code, reply) in recipients.items())


def from_config(alerts: AlertsConfig, options: ChannelOptions) -> EmailChannel:
    """The registry's constructor: server, TLS mode, credentials and sender from ``[alerts.email]``."""
    return EmailChannel(alerts.email)
