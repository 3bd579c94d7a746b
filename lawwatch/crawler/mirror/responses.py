"""Writing responses: ETag, conditional requests (304), plain/JSON/huge/truncated bodies."""

from __future__ import annotations

import hashlib
import json
import time
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from lawwatch.crawler.mirror.faults import huge_chunks
from lawwatch.crawler.mirror.sites.base import rfc822


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def not_modified(h: BaseHTTPRequestHandler, etag: str, modified: float) -> bool:
    tags = h.headers.get("If-None-Match")
    if tags is not None:
        wanted = {t.strip().removeprefix("W/") for t in tags.split(",")}
        return "*" in wanted or etag in wanted
    since = h.headers.get("If-Modified-Since")
    if since:
        try:
            return int(modified) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError, IndexError):
            return False
    return False


def send(
    h: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str,
    *,
    head: bool = False,
    etag: str | None = None,
    modified: float | None = None,
    extra: dict[str, str] | None = None,
    truncate: bool = False,
) -> None:
    h.send_response(status)
    if content_type:
        h.send_header("Content-Type", content_type)
    if status != 304:
        h.send_header("Content-Length", str(len(body)))
    if etag:
        h.send_header("ETag", etag)
    if modified is not None:
        h.send_header("Last-Modified", rfc822(modified))
    for name, value in (extra or {}).items():
        h.send_header(name, value)
    if truncate:
        h.send_header("Connection", "close")
        h.close_connection = True
    h.end_headers()
    if head or status == 304:
        return
    try:
        h.wfile.write(body[: len(body) // 2] if truncate else body)
    except (BrokenPipeError, ConnectionResetError):
        h.close_connection = True


def send_huge(h: BaseHTTPRequestHandler, size: int, declare_length: bool, head: bool) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("ETag", f'"huge-{size}"')
    h.send_header("Last-Modified", rfc822(time.time()))
    if declare_length:
        h.send_header("Content-Length", str(size))
    h.send_header("Connection", "close")
    h.close_connection = True
    h.end_headers()
    if head:
        return
    try:
        for chunk in huge_chunks(size):
            h.wfile.write(chunk)
    except (BrokenPipeError, ConnectionResetError):
        return


def send_json(h: BaseHTTPRequestHandler, status: int, data: Any) -> None:
    body = json.dumps(data, indent=1, sort_keys=True).encode()
    send(h, status, body, "application/json")
