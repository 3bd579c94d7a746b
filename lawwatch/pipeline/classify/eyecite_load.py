"""eyecite, imported with its reporter tables read from the classifier's disk cache instead of rebuilt.

Importing eyecite costs more than half of the classifier's warm start-up, and most of that is module-level work that
gives the same result on every import: ``eyecite.tokenizers`` expands reporters-db's ~3,500 reporter, law and journal
templates into its citation extractors (``_populate_reporter_extractors()``, which fills ``EXTRACTORS`` and
``EDITIONS_LOOKUP``) and builds the default tokenizer's two prefilter automata over them; ``eyecite.helpers`` loads
courts-db's court list (``from courts_db import courts``, which renders the courts' regex templates). Those objects
hold no compiled regex (an extractor compiles its pattern at first use), so they pickle whole.

:func:`load` imports eyecite with ``eyecite.tokenizers``'s module body run without the call
``_populate_reporter_extractors()`` and with ``EXTRACTORS``, ``EDITIONS_LOOKUP`` and ``default_tokenizer`` then set to
the pickled ones (:func:`pipeline.classify.cache.cached`, keyed by the installed eyecite, reporters-db and courts-db);
on a cache miss the call runs and the default tokenizer is built as the module body builds it, and the result is
pickled. The court list is handed to courts-db the way its own lazy loader stores it (a module global). When eyecite
is already imported, or its tokenizer module no longer has that one top-level call, eyecite is imported as usual.
"""

from __future__ import annotations

import ast
import functools
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from lawwatch.pipeline.classify.cache import cached

_TOKENIZERS = "eyecite.tokenizers"
_POPULATE = "_populate_reporter_extractors"


def _without_populate(source: str, filename: str) -> Any | None:
    """The code of ``eyecite/tokenizers.py`` without its top-level statement ``_populate_reporter_extractors()``;
    None unless the module has exactly one such statement."""
    tree = ast.parse(source, filename)
    calls = [
        i
        for i, stmt in enumerate(tree.body)
        if isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Name)
        and stmt.value.func.id == _POPULATE
        and not stmt.value.args
        and not stmt.value.keywords
    ]
    if len(calls) != 1:
        return None
    del tree.body[calls[0]]
    return compile(tree, filename, "exec", dont_inherit=True)


def _build(module: ModuleType) -> tuple[list[Any], Any, Any]:
    """What the module body builds: the extractors, the editions lookup and the default tokenizer."""
    names = vars(module)
    names[_POPULATE]()
    names["default_tokenizer"] = names["AhocorasickTokenizer"]()
    return names["EXTRACTORS"], names["EDITIONS_LOOKUP"], names["default_tokenizer"]


class _Loader(importlib.abc.Loader):
    def __init__(self, spec: importlib.machinery.ModuleSpec, code: Any) -> None:
        self.spec, self.code = spec, code

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        # the body defines the classes and an empty default tokenizer (no extractors yet); the extractors come
        # from the cache (or are built, as the call would have built them) once the classes exist to unpickle into
        exec(self.code, module.__dict__)  # noqa: S102 - eyecite's own module code, one statement left out
        extractors, lookup, tokenizer = cached("eyecite-tokenizers", lambda: _build(module))
        names = vars(module)
        if extractors is not names["EXTRACTORS"]:
            names["EXTRACTORS"][:] = extractors
            names["EDITIONS_LOOKUP"].update(lookup)
            names["default_tokenizer"] = tokenizer


class _Finder(importlib.abc.MetaPathFinder):
    """Finds ``eyecite.tokenizers`` as the path finder does, with :class:`_Loader` to run it."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _TOKENIZERS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        loader = spec.loader if spec is not None else None
        if spec is None or spec.origin is None or not isinstance(loader, importlib.machinery.SourceFileLoader):
            return spec
        source = loader.get_source(fullname)
        code = _without_populate(source, spec.origin) if source is not None else None
        if code is None:
            return spec
        spec.loader = _Loader(spec, code)
        return spec


def _seed_courts() -> None:
    """courts-db's court list from the cache, stored where courts-db's lazy loader stores it."""
    import courts_db

    if "courts" not in vars(courts_db):
        courts_db.courts = cached("eyecite-courts", lambda: courts_db.courts)


@functools.cache
def load() -> ModuleType:
    """The ``eyecite`` package, imported (see the module's doc)."""
    if "eyecite" not in sys.modules:
        _seed_courts()
        finder = _Finder()
        sys.meta_path.insert(0, finder)
        try:
            import eyecite
        finally:
            sys.meta_path.remove(finder)
    import eyecite

    return eyecite
