"""A real SMTP server: aiosmtpd's ``Controller`` on 127.0.0.1, on a free port, storing what it receives.

Used by ``lawwatch demo`` (each accepted message also written to ``spool``/NNNN.eml) and by the tests.

``SMTPServer`` is a context manager; ``stop()`` then ``start()`` brings it back on the *same* port (to test "SMTP is
down, then up again"). It can require STARTTLS (``tls_context``) or speak implicit TLS (``implicit_tls``), demand
AUTH LOGIN/PLAIN with given credentials (``credentials``), answer the next DATA commands with an error reply
(``fail_next("451 4.3.0 try again")``) and refuse chosen recipients (``refuse``).
"""

from __future__ import annotations

import email
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

__all__ = ["ReceivedMail", "SMTPServer"]


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    at: float = field(default_factory=time.monotonic)

    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed


class _Handler:
    def __init__(self, owner: SMTPServer) -> None:
        self.owner = owner

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        reply = self.owner.refuse.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.owner._lock:
            fault = self.owner._faults.popleft() if self.owner._faults else None
        if fault:
            return fault
        content = envelope.original_content or envelope.content or b""
        self.owner._accept(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), bytes(content)))
        return "250 Message accepted for delivery"


class SMTPServer:
    """See the module docstring."""

    def __init__(
        self,
        *,
        tls_context: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
        credentials: tuple[str, str] | None = None,
        spool: Path | None = None,
        on_message: Callable[[ReceivedMail], None] | None = None,
    ) -> None:
        self.spool = spool  # each accepted message is also written to spool/NNNN.eml
        self.on_message = on_message
        self.messages: list[ReceivedMail] = []
        self.refuse: dict[str, str] = {}
        self.logins: list[str] = []
        self._faults: deque[str] = deque()
        self._lock = threading.Lock()
        self._tls_context = tls_context
        self._implicit_tls = implicit_tls
        self._credentials = credentials
        self._controller: Controller | None = None
        self.host = "127.0.0.1"
        self.port = _free_port()

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword) and self._credentials is not None:
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if (login, password) == self._credentials:
                self.logins.append(login)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def start(self) -> SMTPServer:
        assert self._controller is None, "already running"
        options: dict[str, Any] = {"server_hostname": "lawwatch.test", "ready_timeout": 5.0}
        if self._tls_context is not None:
            options.update(tls_context=self._tls_context, require_starttls=True)
        if self._implicit_tls is not None:
            options["ssl_context"] = self._implicit_tls
        if self._credentials is not None:
            options.update(
                authenticator=self._authenticate,
                auth_required=True,
                auth_require_tls=self._tls_context is not None or self._implicit_tls is not None,
            )
        controller = Controller(_Handler(self), hostname=self.host, port=self.port, **options)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SMTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(self, reply: str = "451 4.3.0 Try again later", times: int = 1) -> None:
        """Answer the next ``times`` DATA commands with ``reply`` instead of accepting the message."""
        with self._lock:
            self._faults.extend([reply] * times)

    def _accept(self, mail: ReceivedMail) -> None:
        with self._lock:
            self.messages.append(mail)
            number = len(self.messages)
        if self.spool is not None:
            self.spool.mkdir(parents=True, exist_ok=True)
            (self.spool / f"{number:04d}.eml").write_bytes(mail.data)
        if self.on_message is not None:
            self.on_message(mail)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.messages)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
