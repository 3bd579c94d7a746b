"""A hostile HTTP server for crawl tests: fixed routes that misbehave on purpose, and a log of what was asked.

``with HostileServer(routes) as server:`` serves ``routes`` (path → :class:`Reply`, matched on the path without its
query; a callable gets the request and returns a Reply) on a free port of 127.0.0.1 from a thread; ``server.url(path)``
is the absolute URL, ``server.requests`` every ``(path, headers)`` received. A Reply can declare a Content-Length it
never sends (``declared_length``), stream a generated body (``chunks``), or redirect (``location``); any other path is
a 404. Only the standard library: the server must not share code with what it tests.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    location: str | None = None  # a redirect (status 302 unless given)
    declared_length: int | None = None  # Content-Length to announce (the body sent may be shorter)
    chunks: Callable[[], Iterable[bytes]] | None = None  # a streamed body, sent after the headers


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]


Route = Reply | Callable[[Seen], Reply]


def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes, gzip-compressed (a few KiB per MiB)."""
    return gzip.compress(b"\0" * size, compresslevel=9)


class HostileServer:
    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                server._answer(self)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="hostile-server", daemon=True)

    def url(self, path: str) -> str:
        return self.base_url + path

    def paths(self, prefix: str = "") -> list[str]:
        with self._lock:
            return [seen.path for seen in self.requests if seen.path.startswith(prefix)]

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        seen = Seen(handler.path, {k.lower(): v for k, v in handler.headers.items()})
        with self._lock:
            self.requests.append(seen)
        route = self.routes.get(urlsplit(handler.path).path)
        reply = route(seen) if callable(route) else route
        if reply is None:
            reply = Reply(404, b"<html><body>not found</body></html>")
        try:
            self._send(handler, reply)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up on purpose (size limits)
            pass
        handler.close_connection = True

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        status = reply.status if reply.location is None or reply.status != 200 else 302
        handler.send_response(status)
        handler.send_header("Content-Type", reply.content_type)
        if reply.location is not None:
            handler.send_header("Location", reply.location)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        if reply.chunks is None:
            length = reply.declared_length if reply.declared_length is not None else len(reply.body)
            handler.send_header("Content-Length", str(length))
        elif reply.declared_length is not None:
            handler.send_header("Content-Length", str(reply.declared_length))
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(reply.body)
        if reply.chunks is not None:
            for chunk in reply.chunks():
                handler.wfile.write(chunk)
        handler.wfile.flush()


def zero_chunks(total: int, size: int = 64 * 1024) -> Callable[[], Iterator[bytes]]:
    """A streamed body of ``total`` bytes (spaces inside one HTML page), never held in memory at once."""

    def produce() -> Iterator[bytes]:
        sent = 0
        while sent < total:
            piece = b" " * min(size, total - sent)
            sent += len(piece)
            yield piece

    return produce
