"""``lawwatch mirror``: run the offline mirror of every source for people (demos, manual crawls)."""

from __future__ import annotations

import click

from lawwatch.cli._common import LawwatchGroup


@click.group(cls=LawwatchGroup)
def mirror() -> None:
    """The offline mirror: realistic local copies of justice.gov, CourtListener, PACER and Courthouse News.

    \b
    Example:
      lawwatch mirror serve --port 8800
    """


@mirror.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 = a free port")
@click.option("--host", default="127.0.0.1", show_default=True, help="loopback address to listen on")
@click.option("--extra-releases", type=click.IntRange(0), default=0, help="generated DOJ releases to add")
@click.option(
    "--db-url",
    default="sqlite:///var/mirror-crawl.db",
    show_default=True,
    help="archive URL written into the printed settings snippet",
)
def serve(port: int, host: str, extra_releases: int, db_url: str) -> None:
    """Serve the mirror until Ctrl-C; print its base URL and a settings.toml that crawls it.

    Control it over HTTP: POST /_mirror/publish {"site": "www.justice.gov", "count": 2} (add "kind": "letter"
    for generated § 1373 letters), POST /_mirror/edit,
    POST /_mirror/fault {"site": ..., "fault": "429", "params": {"retry_after": 2}}, POST /_mirror/reset,
    GET /_mirror/stats.

    \b
    Example:
      lawwatch mirror serve --port 8800 > mirror.log &
      sed -n '/^# Generated/,$p' mirror.log > mirror.toml
      lawwatch --config mirror.toml crawl --all
    """
    if host not in ("127.0.0.1", "localhost"):
        raise click.BadParameter("the mirror only listens on a loopback address", param_hint="--host")
    from lawwatch.crawler.mirror.server import MirrorServer

    server = MirrorServer(host=host, port=port, extra_releases=extra_releases)
    click.echo(f"lawwatch mirror at {server.base_url}  (Ctrl-C to stop)", err=True)
    click.echo(server.base_url)
    click.echo(server.sources_toml(db_url))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("mirror stopped", err=True)
