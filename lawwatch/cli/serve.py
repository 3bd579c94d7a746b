"""``lawwatch serve``: the archive as web pages, an Atom feed of any search and a JSON API (read-only)."""

from __future__ import annotations

import click

from lawwatch.cli._common import App, LawwatchCommand, pass_app


@click.command(cls=LawwatchCommand)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="address to listen on (loopback unless --allow-remote)"
)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="port to listen on")
@click.option(
    "--allow-remote",
    is_flag=True,
    help="allow a --host that is not a loopback address (prefer a reverse proxy in front of 127.0.0.1)",
)
@pass_app
def serve(app: App, host: str, port: int, allow_remote: bool) -> None:
    """Serve the archive read-only: search with facets, documents, jurisdiction timelines, Atom feeds and a JSON
    API (/api/v1/, documented at /api/docs).

    \b
    Example:
      lawwatch serve --port 8080
      lawwatch search "" --jurisdiction Philadelphia   # the same as http://127.0.0.1:8080/?jurisdiction=Philadelphia
    """
    from lawwatch.web.server import check_host
    from lawwatch.web.server import serve as run_server

    check_host(host, allow_remote)
    click.echo(f"lawwatch serve: http://{host if ':' not in host else f'[{host}]'}:{port}/ (Ctrl-C stops)", err=True)
    run_server(app.archive, host=host, port=port)
