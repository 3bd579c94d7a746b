"""Which sources a crawl runs: the ids the user named (or every enabled one), and the offline mirror's settings.

Plain functions over ``Config``, usable without the command line; a request that cannot be met is a
``UsageError`` (``UnknownSourceError`` for ids the settings do not configure).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from lawwatch.errors import UnknownSourceError, UsageError

if TYPE_CHECKING:
    from lawwatch.config import Config, SourceConfig

MIRROR_PORT = 8737  # fixed, so the mirror's document URLs stay the same from run to run
MIRROR_ARCHIVE = "sqlite:///var/mirror.db"  # crawl --mirror's own archive: never the configured one


def pick_sources(config: Config, ids: Sequence[str], everything: bool) -> list[SourceConfig]:
    """The sources named by ``ids`` (in that order, once each), or every enabled one with ``everything``."""
    if everything and ids:
        raise UsageError("give source ids or --all, not both")
    if everything:
        chosen = [s for s in config.sources if s.enabled]
        if not chosen:
            raise UsageError("no enabled [[sources]] in the settings")
        return chosen
    if not ids:
        raise UsageError("say which sources to crawl: SOURCE ... or --all")
    by_id = {s.id: s for s in config.sources}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise UnknownSourceError(unknown, list(by_id))
    return [by_id[i] for i in dict.fromkeys(ids)]


@contextmanager
def mirror_config(config: Config, port: int = MIRROR_PORT, archive_url: str = MIRROR_ARCHIVE) -> Iterator[Config]:
    """Serve the offline mirror on loopback ``port`` and yield settings that crawl it into ``archive_url``, an
    archive of its own: the mirror's 127.0.0.1 documents never enter the configured archive (``UsageError`` when
    ``archive_url`` is the configured one). The settings are written to ``mirror.toml`` beside a SQLite archive
    (``lawwatch --config var/mirror.toml search ...`` then searches it; the yielded config's ``path``), or to a
    temporary file for PostgreSQL.

    Raises ``OSError`` when the port cannot be bound."""
    if _same_archive(archive_url, config.archive.url):
        raise UsageError(
            f"the mirror's documents go to an archive of their own, not the configured one ({archive_url}); "
            "give another --mirror-archive"
        )
    import tempfile

    from lawwatch.config import load_config
    from lawwatch.crawler.mirror.server import MirrorServer

    folder = _sqlite_folder(archive_url)
    server = MirrorServer(port=port)
    with server, tempfile.TemporaryDirectory(prefix="lawwatch-mirror-") as tmp:
        if folder is not None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UsageError(f"cannot create {folder} for the mirror's archive: {exc.strerror}") from None
        path = (folder or Path(tmp)) / "mirror.toml"
        path.write_text(server.sources_toml(archive_url), encoding="utf-8")
        yield load_config(path)


def _sqlite_folder(url: str) -> Path | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser().parent


def _same_archive(a: str, b: str) -> bool:
    """Whether two archive URLs name the same database (SQLite: the same file, however the path is written)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        ua, ub = make_url(a), make_url(b)
    except ArgumentError:
        return a == b
    if ua.get_backend_name() == ub.get_backend_name() == "sqlite" and ua.database and ub.database:
        return Path(ua.database).expanduser().resolve() == Path(ub.database).expanduser().resolve()
    return ua.render_as_string(hide_password=False) == ub.render_as_string(hide_password=False)
