"""The web app: routes from ``pages.py`` and ``api.py``, static files, security headers, read-only sessions and
errors that never show a traceback.

Errors: a filter lawwatch cannot understand (an unknown or ambiguous place, a bad date, a malformed query) is 400
with the message and, for places, the candidates; an unknown document or jurisdiction is 404; anything unexpected
is 500 with one sentence (the traceback goes to the server's log only). Under ``/api/`` and ``/feeds/`` the body is
JSON, ``{"error": {"status", "message", "candidates"}}``; elsewhere it is a page.

Every response carries a Content-Security-Policy without ``unsafe-inline``: scripts and styles come only from this
server's ``/static/`` (package data), nothing from a CDN.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from lawwatch.errors import LawwatchError, QueryError
from lawwatch.pipeline.db import Archive
from lawwatch.web.side import read_session, side_queries

logger = logging.getLogger(__name__)

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
_MACHINE_PREFIXES = ("/api/", "/feeds/")


class NotFound(LawwatchError):
    """No document or jurisdiction with the id in the URL (404)."""


def templates() -> Environment:
    env = Environment(
        loader=PackageLoader("lawwatch.web", "templates"),
        autoescape=select_autoescape(["html", "xml", "atom"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["day"] = lambda value: value.date().isoformat() if value is not None else "—"
    env.filters["number"] = lambda value: f"{value:,}"
    env.filters["web_url"] = web_url
    return env


def web_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) address, else None: a scraped ``javascript:`` or ``data:`` URL never becomes
    a link (the CSP would block it too)."""
    if not url or urlsplit(url.strip()).scheme.lower() not in ("http", "https"):
        return None
    return url


def create_app(archive: Archive, *, read_only: bool = True) -> FastAPI:
    """The app over ``archive``. ``read_only``: every request's transaction is read-only (PostgreSQL ``SET
    TRANSACTION READ ONLY``, SQLite ``PRAGMA query_only``) on top of the routes being GET-only."""
    from lawwatch.web import api, pages

    app = FastAPI(
        title="lawwatch",
        summary="DOJ letters and court rulings about 8 U.S.C. § 1373: search, documents, jurisdiction timelines",
        version="1",
        docs_url=None,  # Swagger UI comes from a CDN with inline scripts: /api/docs is our own page instead
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.archive = archive
    app.state.read_only = read_only
    app.state.side = side_queries(app, archive, read_only)
    app.router.add_event_handler("shutdown", app.state.side.close)
    app.state.templates = templates()
    app.include_router(pages.router)
    app.include_router(api.router)
    app.mount("/static", StaticFiles(packages=[("lawwatch.web", "static")]), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    app.add_exception_handler(LawwatchError, _lawwatch_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
    return app


def session(request: Request) -> Iterator[Session]:
    """A FastAPI dependency: one session per request, its transaction read-only unless the app says otherwise."""
    with read_session(request.app.state.archive, request.app.state.read_only) as s:
        yield s


def error_response(request: Request, status: int, message: str, candidates: tuple[str, ...] = ()) -> Response:
    """The error as JSON (API and feeds) or as a page."""
    if request.url.path.startswith(_MACHINE_PREFIXES):
        body: dict[str, Any] = {"status": status, "message": message}
        if candidates:
            body["candidates"] = list(candidates)
        return JSONResponse({"error": body}, status_code=status)
    page = request.app.state.templates.get_template("error.html")
    html = page.render(status=status, message=message, candidates=candidates, request=request)
    return HTMLResponse(html, status_code=status)


async def _lawwatch_error(request: Request, exc: LawwatchError) -> Response:
    if isinstance(exc, NotFound):
        return error_response(request, 404, str(exc))
    if isinstance(exc, QueryError):
        return error_response(request, 400, str(exc), tuple(getattr(exc, "candidates", ()) or ()))
    logger.error("request %s failed: %s", request.url.path, exc)
    return error_response(request, 500, f"the archive could not answer: {exc}")


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    return error_response(request, 400, "bad parameter: " + "; ".join(problems))


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    message = {404: "no such page", 405: "method not allowed: this server is read-only"}.get(
        exc.status_code, str(exc.detail)
    )
    response = error_response(request, exc.status_code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("request %s failed", request.url.path)
    return error_response(request, 500, "internal error: the server's log has the details")
