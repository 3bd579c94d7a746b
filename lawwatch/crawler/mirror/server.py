"""The offline mirror: one threaded HTTP server on 127.0.0.1 serving every source under its real host name.

>>> with MirrorServer() as mirror:                                    # doctest: +SKIP
...     api = mirror.site_url("www.justice.gov") + "/api/v1/press_releases.json?pagesize=50&page=0"
...     mirror.publish("www.justice.gov", 2); mirror.edit("www.justice.gov", which=0)
...     mirror.set_fault("www.courthousenews.com", "429", retry_after=2)
...     mirror.requests("/www.justice.gov/opa/pr/")

Layout (docs/crawler-contract.md): ``/www.justice.gov``, ``/www.courtlistener.com``, ``/ecf.<court>.uscourts.gov``,
``/www.courthousenews.com``, ``/robots.txt`` and the JSON control API under ``/_mirror/``. Every absolute
``https://<mirrored host>`` link in served content is rewritten to ``<base_url>/<host>``. Every content response
carries an ETag (a hash of the body) and Last-Modified; a matching If-None-Match (or, without it, a not-older
If-Modified-Since) gets 304. Rendered responses are cached until the next publish/edit/reset.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from lawwatch.crawler.mirror.faults import ENTITY_BOMB, HUGE_SIZE, Fault, FaultTable
from lawwatch.crawler.mirror.responses import etag_of, not_modified, send, send_huge, send_json
from lawwatch.crawler.mirror.sites.base import Resource, Site
from lawwatch.crawler.mirror.sites.courthousenews import CourthouseNews
from lawwatch.crawler.mirror.sites.courtlistener import CourtListener
from lawwatch.crawler.mirror.sites.justice import Justice
from lawwatch.crawler.mirror.sites.pacer import pacer_sites
from lawwatch.crawler.mirror.sources import sources_toml

ROBOTS = b"User-agent: *\nDisallow: /_mirror/\n"
ROBOTS_MODIFIED = 1_514_764_800  # 2018-01-01
_HOSTS = rb"https://(www\.justice\.gov|www\.courtlistener\.com|www\.courthousenews\.com|ecf\.[a-z0-9]+\.uscourts\.gov)"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    mirror: MirrorServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stalls
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self.server.mirror._serve(self, head=False)

    def do_HEAD(self) -> None:
        self.server.mirror._serve(self, head=True)

    def do_POST(self) -> None:
        self.server.mirror._control_post(self)


class _DecoyHandler(BaseHTTPRequestHandler):
    """The target of the ``redirect_port`` fault: answers 200 and counts, so a test sees whether it was reached."""

    protocol_version = "HTTP/1.1"
    hits = 0

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        type(self).hits += 1
        body = b"decoy: this port is not the mirror\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class MirrorServer:
    """Serve the mirror on ``host:port`` (port 0 = a free one) in a background thread; a context manager."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, extra_releases: int = 0, api_order: str = "newest"
    ) -> None:
        self.extra_releases = extra_releases
        self._initial_order = api_order
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.mirror = self
        self.host = host
        self.port = int(self._httpd.server_address[1])
        self.base_url = f"http://{host}:{self.port}"
        self._rewrite = re.compile(_HOSTS)
        self._replacement = self.base_url.encode() + rb"/\1"
        self._lock = threading.RLock()
        self._counts: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self.faults = FaultTable()
        self._thread: threading.Thread | None = None
        self._decoy: ThreadingHTTPServer | None = None
        self._build(api_order)

    def _build(self, api_order: str) -> None:
        self.justice = Justice(self.extra_releases, api_order)
        sites: list[Site] = [self.justice, CourtListener(), CourthouseNews(), *pacer_sites()]
        self.sites = {host: site for site in sites for host in site.hosts}
        self._cache: dict[str, tuple[Resource, str]] = {}

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> MirrorServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="lawwatch-mirror", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._httpd.server_close()
        if self._decoy is not None:
            self._decoy.shutdown()
            self._decoy.server_close()
            self._decoy = None

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (``lawwatch mirror serve``)."""
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def __enter__(self) -> MirrorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ the Python API
    def site_url(self, host: str) -> str:
        return f"{self.base_url}/{host.strip('/')}"

    def url(self, real_url: str) -> str:
        """A real ``https://<host>/...`` URL as served by this mirror."""
        return self._rewrite.sub(self._replacement, real_url.encode()).decode()

    @property
    def api_order(self) -> str:
        return self.justice.api_order

    @api_order.setter
    def api_order(self, order: str) -> None:
        if order not in ("newest", "oldest"):
            raise ValueError(f"api_order must be 'newest' or 'oldest', not {order!r}")
        with self._lock:
            self.justice.api_order = order
            self._cache.clear()

    def publish(self, site: str, count: int = 1, kind: str = "release") -> list[str]:
        """Add ``count`` new items at the top of ``site``'s listings/feeds/API; returns their mirror URLs.

        ``kind="letter"`` (www.justice.gov only): a generated § 1373 compliance letter instead of a filler release."""
        with self._lock:
            target = self._site(site)
            if kind != "release" and target is not self.justice:
                raise ValueError(f"kind {kind!r} is only published on www.justice.gov")
            urls = self.justice.publish(count, kind) if target is self.justice else target.publish(count)
            self._cache.clear()
        return [self.url(u) for u in urls]

    def edit(self, site: str, which: int = 0) -> str:
        """Change the text of item ``which`` (0 = newest) of ``site``; returns its mirror URL."""
        with self._lock:
            url = self._site(site).edit(which)
            self._cache.clear()
        return self.url(url)

    def set_fault(self, site_prefix: str, fault: str, **params: Any) -> None:
        if fault == "redirect_port" and "port" not in params:
            params["port"] = self._decoy_port()
        self.faults.set(site_prefix, fault, **params)

    def clear_faults(self) -> None:
        self.faults.clear()

    def requests(self, path_prefix: str = "") -> int:
        """Requests served (control API excluded) whose path starts with ``path_prefix``."""
        prefix = "/" + path_prefix.lstrip("/") if path_prefix else ""
        with self._count_lock:
            return sum(n for path, n in self._counts.items() if path.startswith(prefix))

    def request_counts(self) -> dict[str, int]:
        with self._count_lock:
            return dict(self._counts)

    @property
    def decoy_hits(self) -> int:
        return _DecoyHandler.hits

    def reset(self) -> None:
        """Back to the initial content; counters and faults cleared."""
        with self._lock:
            self._build(self._initial_order)
        with self._count_lock:
            self._counts.clear()
        self.faults.clear()

    def sources_toml(self, db_url: str) -> str:
        return sources_toml(self.base_url, db_url)

    def _site(self, name: str) -> Site:
        site = self.sites.get(name.strip("/"))
        if site is None:
            raise KeyError(f"unknown site {name!r} (known: {', '.join(sorted(self.sites))})")
        return site

    def _decoy_port(self) -> int:
        if self._decoy is None:
            self._decoy = ThreadingHTTPServer((self.host, 0), _DecoyHandler)
            self._decoy.daemon_threads = True
            threading.Thread(target=self._decoy.serve_forever, name="lawwatch-mirror-decoy", daemon=True).start()
        return int(self._decoy.server_address[1])

    # ------------------------------------------------------------------ serving
    def _render(self, raw_path: str, path: str, query: dict[str, list[str]]) -> tuple[Resource, str] | None:
        cached = self._cache.get(raw_path)
        if cached is not None:
            return cached
        host, _, rest = path.lstrip("/").partition("/")
        with self._lock:
            site = self.sites.get(host)
            resource = site.get("/" + rest, query) if site is not None else None
            if resource is None:
                return None
            body = self._rewrite.sub(self._replacement, resource.body)
            resource = Resource(
                body, resource.content_type, resource.last_modified, resource.status, resource.xml, resource.charset
            )
            entry = (resource, etag_of(body))
            self._cache[raw_path] = entry
        return entry

    def _serve(self, h: _Handler, head: bool) -> None:
        split = urlsplit(h.path)
        path = unquote(split.path)
        if path.startswith("/_mirror/"):
            self._control_get(h, path)
            return
        with self._count_lock:
            self._counts[path] += 1
        if path == "/robots.txt":
            send(h, 200, ROBOTS, "text/plain; charset=utf-8", head=head, etag=etag_of(ROBOTS), modified=ROBOTS_MODIFIED)
            return
        fault = self.faults.take(path)
        if fault is not None and self._early_fault(h, fault, head):
            return
        entry = self._render(h.path, path, parse_qs(split.query))
        if entry is None:
            send(h, 404, b"<html><body><h1>Page not found</h1></body></html>", "text/html; charset=utf-8", head=head)
            return
        resource, etag = entry
        body, charset = resource.body, resource.charset
        if fault is not None and fault.kind == "entity_bomb" and resource.xml:
            body, etag = ENTITY_BOMB, etag_of(ENTITY_BOMB)
        if fault is not None and fault.kind == "charset":
            charset = fault.params.get("charset") or ("utf-8" if charset.lower() != "utf-8" else "ISO-8859-1")
        if not_modified(h, etag, resource.last_modified):
            send(h, 304, b"", "", head=True, etag=etag, modified=resource.last_modified)
            return
        ctype = f"{resource.content_type}; charset={charset}"
        truncate = fault is not None and fault.kind == "truncate"
        send(h, resource.status, body, ctype, head=head, etag=etag, modified=resource.last_modified, truncate=truncate)

    def _early_fault(self, h: _Handler, fault: Fault, head: bool) -> bool:
        """Faults that answer instead of the content; True when the request has been answered."""
        kind, params = fault.kind, fault.params
        if kind == "slow":
            time.sleep(float(params.get("seconds", 2)))
            return False
        if kind == "500":
            send(
                h,
                500,
                b"<html><body><h1>Internal Server Error</h1></body></html>",
                "text/html; charset=utf-8",
                head=head,
            )
        elif kind == "429":
            send(
                h,
                429,
                b"Too Many Requests\n",
                "text/plain; charset=utf-8",
                head=head,
                extra={"Retry-After": str(params.get("retry_after", 1))},
            )
        elif kind == "redirect_port":
            location = f"http://{self.host}:{params.get('port')}{h.path}"
            send(h, 302, b"", "text/html; charset=utf-8", head=head, extra={"Location": location})
        elif kind == "redirect_file":
            send(
                h,
                302,
                b"",
                "text/html; charset=utf-8",
                head=head,
                extra={"Location": str(params.get("location", "file:///etc/passwd"))},
            )
        elif kind == "huge":
            send_huge(h, int(params.get("size", HUGE_SIZE)), bool(params.get("declare_length", False)), head)
        else:
            return False
        return True

    # ------------------------------------------------------------------ control API
    def _control_get(self, h: _Handler, path: str) -> None:
        if path.rstrip("/") == "/_mirror/stats":
            data = {
                "total": self.requests(),
                "paths": self.request_counts(),
                "faults": self.faults.active(),
                "api_order": self.api_order,
                "base_url": self.base_url,
            }
            send_json(h, 200, data)
        else:
            send_json(h, 404, {"error": f"unknown control path {path} (GET /_mirror/stats)"})

    def _control_post(self, h: _Handler) -> None:
        path = urlsplit(h.path).path.rstrip("/")
        try:
            length = int(h.headers.get("Content-Length") or 0)
            data = json.loads(h.rfile.read(length) or b"{}") if length else {}
            if not isinstance(data, dict):
                raise ValueError("the request body must be a JSON object")
            result = self._control(path, data)
        except (KeyError, ValueError, TypeError) as exc:
            send_json(h, 400, {"error": str(exc).strip("'\"")})
            return
        if result is None:
            send_json(h, 404, {"error": f"unknown control path {path}"})
        else:
            send_json(h, 200, result)

    def _control(self, path: str, data: dict[str, Any]) -> dict[str, Any] | None:
        if path == "/_mirror/publish":
            kind = str(data.get("kind", "release"))
            return {"urls": self.publish(str(data["site"]), int(data.get("count", 1)), kind)}
        if path == "/_mirror/edit":
            return {"url": self.edit(str(data["site"]), int(data.get("which", 0)))}
        if path == "/_mirror/fault":
            if data.get("clear"):
                self.faults.clear(data.get("site"))
            else:
                self.set_fault(str(data["site"]), str(data["fault"]), **dict(data.get("params") or {}))
            return {"faults": self.faults.active()}
        if path == "/_mirror/order":
            self.api_order = str(data["api_order"])
            return {"api_order": self.api_order}
        if path == "/_mirror/reset":
            self.reset()
            return {"reset": True}
        return None
