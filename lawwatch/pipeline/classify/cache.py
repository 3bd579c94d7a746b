"""A per-user disk cache for tables the classifier derives from installed packages at first use.

The court table (courts-db, us), the reporter automaton (reporters-db) and eyecite's reporter tables (see
:mod:`pipeline.classify.eyecite_load`) are pickled under
``$XDG_CACHE_HOME/lawwatch`` (or ``~/.cache/lawwatch``), keyed by the versions of those packages and by this
package's code; so are the gazetteer's tables and automaton, built from the shipped ``data/gazetteer.json`` and
keyed by its content too. When the directory is unwritable they are simply rebuilt in memory. A file is touched each
time it is read; writing a new one removes the files of the same kind that no process has read for
``STALE_DAYS`` days (left by earlier versions), so the directory does not grow with every upgrade while two installs
of different versions on one machine keep their own.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import importlib.util
import os
import pickle
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar, cast

T = TypeVar("T")

SCHEMA = 1
STALE_DAYS = 30
_FINGERPRINTED = ("us", "courts_db", "reporters_db", "ahocorasick", "eyecite")


@functools.cache
def fingerprint() -> str:
    """Identity of the inputs: the installed source packages (size and mtime of their top module, which change on
    every upgrade) and this package's code."""
    h = hashlib.sha256(f"schema={SCHEMA};py={sys.version_info[:2]}".encode())
    for mod in _FINGERPRINTED:
        spec = importlib.util.find_spec(mod)
        try:
            st = os.stat(spec.origin if spec and spec.origin else "")
            h.update(f"{mod}:{st.st_size}:{st.st_mtime_ns};".encode())
        except OSError:
            h.update(f"{mod}:?;".encode())
    for f in sorted(Path(__file__).parent.glob("*.py")):
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lawwatch"


def cache_path(name: str) -> Path:
    return cache_dir() / f"{name}-{fingerprint()}.pickle"


def cached(name: str, builder: Callable[[], T], kind: str | None = None) -> T:
    """``builder()``'s result, pickled under the cache dir; rebuilt in memory when the dir is unwritable. ``kind``
    (default ``name``): the files ``{kind}-*.pickle`` are this cache's earlier versions."""
    path = cache_path(name)
    try:
        with path.open("rb") as fh, _no_gc():
            value = cast(T, pickle.load(fh))  # noqa: S301 - our own cache file
        with contextlib.suppress(OSError):
            os.utime(path)
        return value
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
        pass
    value = builder()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    except OSError:
        pass
    else:
        _prune(path, kind or name)
    return value


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """The cyclic garbage collector paused (if it ran): unpickling the gazetteer's tens of thousands of tuples, which
    hold no cycles, would otherwise start collections that traverse every object (~17 million instructions)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _prune(keep: Path, kind: str) -> None:
    """Remove the ``kind`` cache files other than ``keep`` that nothing has read for ``STALE_DAYS`` days."""
    oldest = time.time() - STALE_DAYS * 86400
    for other in keep.parent.glob(f"{kind}-*.pickle"):
        with contextlib.suppress(OSError):
            if other != keep and other.stat().st_mtime < oldest:
                other.unlink()
