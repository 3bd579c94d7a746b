"""The offline mirror of every lawwatch source (see docs/crawler-contract.md): ``MirrorServer``."""

from __future__ import annotations

from lawwatch.crawler.mirror.server import MirrorServer

__all__ = ["MirrorServer"]
