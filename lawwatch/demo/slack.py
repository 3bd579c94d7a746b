"""Local HTTP servers that stand in for Slack and for webhook receivers (stdlib ``http.server`` in a thread).

Used by ``lawwatch demo`` (which writes every accepted message to ``spool``/NNN.json so it can be opened) and by
the tests (which also inject faults).

``SlackServer`` speaks enough of the Slack Web API for slack-sdk's ``WebClient``: ``POST /api/chat.postMessage``
(JSON or form body) checks ``Authorization: Bearer <token>`` and answers ``{"ok": true, "channel", "ts"}`` like
Slack (``invalid_auth``/``not_authed``/``channel_not_found``/``no_text`` as ``{"ok": false}`` with HTTP 200). It
also serves an incoming webhook at ``webhook_url`` (answers ``ok``, or 400 ``invalid_payload`` / 404
``no_service``). ``WebhookReceiver`` accepts any POST and answers ``ok``.

Both bind a free port on 127.0.0.1, are context managers, record every request (``requests``: arrival time on
``time.monotonic()``, headers, raw body, parsed payload, the status answered; 0 = dropped) and can be told to answer
the next requests with a ``Fault``: ``rate_limited(retry_after)`` (429 + ``Retry-After``), ``server_error()``
(500), ``api_error("channel_not_found")``, ``http_status(400, "bad")``, ``DROP`` (read the request, close the
connection without answering) or a ``delay``. Every wait here is bounded.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

__all__ = [
    "DROP",
    "Fault",
    "Recorded",
    "SlackServer",
    "WebhookReceiver",
    "api_error",
    "http_status",
    "rate_limited",
    "server_error",
]

TOKEN = "xoxb-test-token"
WEBHOOK_PATH = "/services/T000/B000/XXXXXXXX"


@dataclass(frozen=True)
class Fault:
    """How to answer one request instead of the normal answer."""

    status: int = 200
    body: str | None = None  # raw body; default: {"ok": false, "error": error} for the Web API
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    delay: float = 0.0  # seconds to wait first; alone (no status/error/body) it delays the normal answer


DROP = Fault(drop=True)


def rate_limited(retry_after: float | str = 1) -> Fault:
    return Fault(status=429, error="ratelimited", headers={"Retry-After": str(retry_after)})


def server_error(status: int = 500) -> Fault:
    return Fault(status=status, body="Internal Server Error")


def api_error(code: str) -> Fault:
    return Fault(status=200, error=code)


def http_status(status: int, body: str = "", headers: dict[str, str] | None = None) -> Fault:
    return Fault(status=status, body=body, headers=headers or {})


@dataclass
class Recorded:
    at: float
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    payload: Any
    status: int = 0


Answer = tuple[int, dict[str, str], bytes]


class LocalHTTPServer:
    """Thread + free port + recording + fault queue; subclasses implement ``answer``."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle -------------------------------------------------------------------------------------------
    def start(self) -> LocalHTTPServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                owner._serve(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> LocalHTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # -- behaviour ---------------------------------------------------------------------------------------------
    def fail_next(self, *faults: Fault, times: int = 1) -> None:
        """Answer the next requests with ``faults`` (in order), the whole sequence ``times`` times."""
        with self._lock:
            self._faults.extend(list(faults) * times)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Recorded]:
        """The recorded requests once there are at least ``count`` (or whatever arrived within ``timeout``)."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.requests)

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k: v for k, v in handler.headers.items()}
        record = Recorded(time.monotonic(), "POST", handler.path, headers, body, _parse(headers, body))
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
            self.requests.append(record)
        if fault is not None and fault.delay:
            time.sleep(min(fault.delay, 30.0))
        if fault is not None and fault.drop:
            handler.close_connection = True
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        answers = fault is not None and (fault.status != 200 or fault.error is not None or fault.body is not None)
        status, out_headers, out = self._fault_answer(fault) if fault and answers else self.answer(record)
        record.status = status
        try:
            handler.send_response(status)
            for name, value in out_headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(out)))
            handler.end_headers()
            handler.wfile.write(out)
        except OSError:  # the client gave up (timeout test)
            pass

    def _fault_answer(self, fault: Fault) -> Answer:
        if fault.body is not None:
            return fault.status, {"Content-Type": "text/plain", **fault.headers}, fault.body.encode()
        data = json.dumps({"ok": False, "error": fault.error or "fault"}).encode()
        return fault.status, {"Content-Type": "application/json; charset=utf-8", **fault.headers}, data

    def answer(self, record: Recorded) -> Answer:
        raise NotImplementedError(f"{type(self).__name__} must say how it answers")


def _parse(headers: dict[str, str], body: bytes) -> Any:
    kind = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if "json" in kind:
        try:
            return json.loads(body)
        except ValueError:
            return None
    if "x-www-form-urlencoded" in kind:
        form: dict[str, Any] = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        for key in ("blocks", "attachments"):
            if isinstance(form.get(key), str):
                form[key] = json.loads(form[key])
        return form
    return None


def _json(status: int, data: dict[str, Any]) -> Answer:
    return status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(data).encode()


def _text(status: int, text: str) -> Answer:
    return status, {"Content-Type": "text/html"}, text.encode()


class SlackServer(LocalHTTPServer):
    """The Slack Web API's ``chat.postMessage`` and an incoming webhook (see the module docstring)."""

    def __init__(
        self,
        token: str = TOKEN,
        channels: set[str] | None = None,
        *,
        spool: Path | None = None,
        on_message: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        super().__init__()
        self.token = token
        self.channels = channels
        self.spool = spool  # each accepted message is also written to spool/NNNN.json
        self.on_message = on_message  # called with each accepted message (after it is recorded)
        self.messages: list[dict[str, Any]] = []  # accepted chat.postMessage payloads, with "ts" added
        self.webhook_messages: list[dict[str, Any]] = []  # accepted incoming-webhook payloads
        self._counter = 0

    def __enter__(self) -> SlackServer:
        self.start()
        return self

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}{WEBHOOK_PATH}"

    def answer(self, record: Recorded) -> Answer:
        if record.path == WEBHOOK_PATH:
            if not isinstance(record.payload, dict) or not (record.payload.get("text") or record.payload.get("blocks")):
                return _text(400, "invalid_payload")
            self.webhook_messages.append(record.payload)
            return _text(200, "ok")
        if record.path.startswith("/services/"):
            return _text(404, "no_service")
        if record.path.split("?")[0] != "/api/chat.postMessage":
            return _json(404, {"ok": False, "error": "unknown_method"})
        auth = next((v for k, v in record.headers.items() if k.lower() == "authorization"), "")
        if not auth:
            return _json(200, {"ok": False, "error": "not_authed"})
        if auth != f"Bearer {self.token}":
            return _json(200, {"ok": False, "error": "invalid_auth"})
        payload = record.payload if isinstance(record.payload, dict) else {}
        channel = str(payload.get("channel", ""))
        if not channel or (self.channels is not None and channel not in self.channels):
            return _json(200, {"ok": False, "error": "channel_not_found"})
        if not (payload.get("text") or payload.get("blocks")):
            return _json(200, {"ok": False, "error": "no_text"})
        with self._lock:
            self._counter += 1
            ts = f"{1_700_000_000 + self._counter}.{self._counter:06d}"
            message = {**payload, "ts": ts}
            self.messages.append(message)
            number = self._counter
        self._accepted(message, number)
        return _json(200, {"ok": True, "channel": channel, "ts": ts, "message": {"text": payload.get("text")}})

    def _accepted(self, message: dict[str, Any], number: int) -> None:
        if self.spool is not None:
            self.spool.mkdir(parents=True, exist_ok=True)
            path = self.spool / f"{number:04d}.json"
            path.write_text(json.dumps(message, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if self.on_message is not None:
            self.on_message(message)


class WebhookReceiver(LocalHTTPServer):
    """Accepts any POST (recording the exact body bytes and headers) and answers ``200 ok``."""

    def __enter__(self) -> WebhookReceiver:
        self.start()
        return self

    def answer(self, record: Recorded) -> Answer:
        return _text(200, "ok")
