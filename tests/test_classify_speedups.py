"""eyecite imported with its reporter tables from the classifier's cache (pipeline.classify.eyecite_load) has the same
extractors, editions, default tokenizer and court list as a plain ``import eyecite``, and finds the same citations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# prints a digest of eyecite's module-level tables and the citations of a sample text, after importing eyecite
# plainly ("plain") or through eyecite_load ("load"), and which loader ran eyecite.tokenizers
_CHILD = """
import hashlib, json, sys
if sys.argv[1] == "load":
    from lawwatch.pipeline.classify.eyecite_load import load
    load()
import courts_db
import eyecite
import eyecite.tokenizers as t

tok = t.default_tokenizer
state = [
    [repr(e) for e in t.EXTRACTORS],
    sorted((k, repr(v)) for k, v in t.EDITIONS_LOOKUP.items()),
    [repr(e) for e in tok.extractors],
    [all(a is b for a, b in zip(tok.extractors, t.EXTRACTORS))],
    sorted(repr(e) for e in tok.unfiltered_extractors),
    [sorted((k, [repr(e) for e in v]) for k, v in f.items()) for f in (tok.case_sensitive_filter,
                                                                      tok.case_insensitive_filter)],
    repr(courts_db.courts),
]
text = ("See City of Chicago v. Sessions, 888 F.3d 272, 280 (7th Cir. 2018); Id. at 281; 8 U.S.C. § 1373(a); "
        "People v. Smith, 123 Ill. 2d 456 (1990); Sessions, supra, at 290; 585 U.S. 1 (2018); 42 U.S.C. 1983.")
cites = [(type(c).__name__, c.span(), c.full_span() if hasattr(c, "full_span") else None, repr(c.groups),
          c.corrected_reporter() if hasattr(c, "corrected_reporter") else None)
         for c in eyecite.get_citations(text)]
print(json.dumps({
    "state": hashlib.sha256(repr(state).encode()).hexdigest(),
    "extractors": len(t.EXTRACTORS),
    "cites": repr(cites),
    "loader": type(t.__loader__).__name__,
}))
"""


def _run(mode: str, cache: Path) -> dict[str, object]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, mode], env=env, capture_output=True, text=True, check=True, timeout=300
    )
    return dict(json.loads(done.stdout))


def test_eyecite_from_cache_is_eyecite(tmp_path: Path) -> None:
    plain = _run("plain", tmp_path)
    cold = _run("load", tmp_path)  # builds the tables and writes the cache
    assert sorted(p.name.rsplit("-", 1)[0] for p in (tmp_path / "lawwatch").glob("eyecite-*.pickle")) == [
        "eyecite-courts",
        "eyecite-tokenizers",
    ]
    warm = _run("load", tmp_path)  # reads them
    assert plain["loader"] == "SourceFileLoader"
    assert cold["loader"] == warm["loader"] == "_Loader"  # the module body ran without the build, both times
    assert isinstance(plain["extractors"], int) and plain["extractors"] > 1000
    assert "FullCaseCitation" in str(plain["cites"]) and "FullLawCitation" in str(plain["cites"])
    for other in (cold, warm):
        assert other["extractors"] == plain["extractors"]
        assert other["state"] == plain["state"]
        assert other["cites"] == plain["cites"]
