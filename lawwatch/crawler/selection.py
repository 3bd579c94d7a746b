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
def mirror_config(config: Config, port: int = MIRROR_PORT) -> Iterator[Config]:
    """Serve the offline mirror on loopback ``port`` and yield settings that crawl it into ``config``'s archive.

    Raises ``OSError`` when the port cannot be bound."""
    import tempfile

    from lawwatch.config import load_config
    from lawwatch.crawler.mirror.server import MirrorServer

    server = MirrorServer(port=port)
    with server, tempfile.TemporaryDirectory(prefix="lawwatch-mirror-") as tmp:
        path = Path(tmp) / "mirror.toml"
        path.write_text(server.sources_toml(config.archive.url), encoding="utf-8")
        yield load_config(path)
