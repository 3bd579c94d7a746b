"""Mutation testing of lawwatch's core with mutmut 3 (issue 16): run it, tally it, gate it.

    .venv/bin/python tools/mutation.py --quick        # CI's subset (the query syntax), a few minutes
    .venv/bin/python tools/mutation.py                # every core module (slow: see docs/mutation.md)
    .venv/bin/python tools/mutation.py store outbox   # some modules by name

Needs the ``mutation`` extra (``pip install -e '.[mutation]'``: mutmut 3.8.1). Each module runs in a work directory
of its own, ``var/mutation/<name>/`` (symlinks to ``lawwatch/`` and ``tests/`` and a pyproject.toml whose
``[tool.mutmut]`` names that one module and the test files that exercise it), so a module's run collects test
coverage over a few files instead of the whole suite, and its results are cached there: a rerun tests only the
mutants of functions that changed. ``--fresh`` deletes the work directories first.

The tally per module: *killed* (a test failed or timed out), *surviving* (no test failed, or no test ran the
code), *equivalent* (survivors listed in ``EQUIVALENT`` below: mutants that cannot change behaviour, each with
its reason; docs/mutation.md gives the same list). ``surviving %`` is surviving ÷ (mutants − equivalent). Exit
status 1 when any module's surviving share is above ``GOAL``, or a listed equivalent mutant was killed or no
longer exists (the list is stale), 2 when mutmut itself fails.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "mutation"
GOAL = 0.10  # the largest share of surviving (non-equivalent) mutants a module may have


@dataclass(frozen=True)
class Target:
    """One module under mutation and the test files that exercise it."""

    path: str
    tests: tuple[str, ...]
    # extra pytest arguments for every run of this module (e.g. leave out the PostgreSQL twins of SQLite tests)
    pytest_args: tuple[str, ...] = ()
    also_copy: tuple[str, ...] = ()
    only: tuple[str, ...] = ()  # mutant name patterns (`mutmut run` arguments): the rest of the module is left out

    @property
    def module(self) -> str:
        return self.path.removesuffix(".py").replace("/", ".")


# The PostgreSQL variants of the archive tests assert the same behaviour as their SQLite twins through the same
# Python code, at twice the cost; modules whose Python branches on the backend keep them.
SQLITE_ONLY = ("-m", "not postgres")

# mutmut's copies are compiled afresh, where the checkout's may come from __pycache__: a compile-time warning in a
# module being edited (an invalid escape in a docstring) would fail every import under filterwarnings = error.
TEMPORARY = ("-W", "ignore:invalid escape sequence:DeprecationWarning")
# no cache files in the work tree; the fastest tests first (tools/mutation_order.py)
PYTEST_ARGS = ("-p", "no:cacheprovider", "-p", "tools.mutation_order", *TEMPORARY)

TARGETS: dict[str, Target] = {
    "filters": Target(
        "lawwatch/pipeline/filters.py",
        (
            "tests/test_filters.py",
            "tests/test_within.py",
            "tests/test_cli_dates.py",
            "tests/test_mutants_filters.py",
        ),
        SQLITE_ONLY,
    ),
    "middlewares": Target(
        "lawwatch/crawler/middlewares.py",
        (
            "tests/test_crawler_safety.py",
            "tests/test_crawler_rebinding.py",
            "tests/test_crawler_guards.py",
            "tests/test_mutants_middlewares.py",
        ),
    ),
    "outbox": Target(
        "lawwatch/alerts/outbox.py",
        ("tests/test_alerts_delivery.py", "tests/test_mutants_outbox.py"),
    ),
    "dispatch": Target(
        "lawwatch/alerts/dispatch.py",
        ("tests/test_alerts_delivery.py", "tests/test_mutants_dispatch.py"),
    ),
    "textquery": Target(
        "lawwatch/pipeline/textquery.py",
        ("tests/test_search_injection.py", "tests/test_mutants_textquery.py"),
    ),
    "store": Target(
        "lawwatch/pipeline/store.py",
        (
            "tests/test_store.py",
            "tests/test_store_bulk.py",
            "tests/test_store_races.py",
            "tests/test_mutants_store.py",
        ),
    ),
    "bulk": Target(
        "lawwatch/pipeline/bulk.py",
        (
            "tests/test_store.py",
            "tests/test_store_bulk.py",
            "tests/test_store_races.py",
            "tests/test_mutants_bulk.py",
        ),
    ),
    "statutes": Target(
        "lawwatch/pipeline/classify/statutes.py",
        ("tests/test_classify_statutes.py", "tests/test_mutants_statutes.py"),
    ),
    "jurisdictions": Target(
        "lawwatch/pipeline/classify/jurisdictions.py",
        (
            "tests/test_classify_jurisdictions.py",
            "tests/test_classify_known_wrong.py",
            "tests/test_classify_prominence.py",
            "tests/test_classify_issue13.py",
            "tests/test_classify_fastpaths_more.py",
            "tests/test_classify_eval.py",
            "tests/test_classify_real_eval.py",
            "tests/test_mutants_jurisdictions.py",
        ),
    ),
}
# CI's subset (--quick): the query syntax against its fast unit tests alone (no archive), a few minutes here.
QUICK: dict[str, Target] = {
    "quick-textquery": Target(
        "lawwatch/pipeline/textquery.py",
        ("tests/test_mutants_textquery.py",),
        SQLITE_ONLY,
        # everything but the PostgreSQL rendering, whose tests need the server
        only=tuple(
            f"lawwatch.pipeline.textquery.{f}__mutmut_*"
            for f in ("x_parse_query", "x__group", "x__fts5_term", "x_to_fts5", "x__matcher", "x_text_matches")
        )
        + ("lawwatch.pipeline.textquery.xǁTermǁ*", "lawwatch.pipeline.textquery.xǁParsedQueryǁ*"),
    ),
}

# Surviving mutants that cannot change behaviour, each with why: tools/mutation_equivalent/<module>.json, one file per
# mutated module. Key: (module name, function, removed line, added line), stripped as `mutmut show` prints them: an
# entry outlives mutmut's renumbering.
EQUIVALENT: dict[tuple[str, str, str, str], str] = {
    (row["module"], row["function"], row["removed"], row["added"]): row["why"]
    for listing in sorted((ROOT / "tools" / "mutation_equivalent").glob("*.json"))
    for row in json.loads(listing.read_text(encoding="utf-8"))
}

KILLED = {"killed", "timeout", "caught by type check", "segfault"}
SURVIVED = {"survived", "no tests"}


@dataclass
class Tally:
    name: str
    mutants: int = 0
    killed: int = 0
    surviving: list[str] = field(default_factory=list)
    equivalent: list[str] = field(default_factory=list)
    other: dict[str, int] = field(default_factory=dict)  # not checked, suspicious, ...
    stale: list[str] = field(default_factory=list)  # listed equivalents that were killed or no longer exist
    seconds: float = 0.0

    @property
    def share(self) -> float:
        denominator = self.mutants - len(self.equivalent)
        return len(self.surviving) / denominator if denominator else 0.0

    def row(self) -> dict[str, object]:
        return {
            "module": self.name,
            "mutants": self.mutants,
            "killed": self.killed,
            "surviving": len(self.surviving),
            "equivalent": len(self.equivalent),
            "surviving %": round(100 * self.share, 1),
            "other": self.other,
            "seconds": round(self.seconds),
        }


def _pyproject(target: Target) -> str:
    """The project's pyproject.toml (its pytest settings) with a [tool.mutmut] for ``target`` alone."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[|\Z)", "", text)
    section = {
        "source_paths": ["lawwatch"],
        "only_mutate": [target.path],
        "pytest_add_cli_args_test_selection": [t for t in target.tests if (ROOT / t).exists()],
        "pytest_add_cli_args": [*PYTEST_ARGS, *target.pytest_args],
        "also_copy": ["tools", *target.also_copy],
    }
    lines = [f"{key} = {json.dumps(value)}" for key, value in section.items()]
    return text.rstrip("\n") + "\n\n[tool.mutmut]\n" + "\n".join(lines) + "\n"


def _workdir(name: str, target: Target) -> Path:
    work = WORK / name
    work.mkdir(parents=True, exist_ok=True)
    for link in ("lawwatch", "tests", "tools"):
        if not (work / link).is_symlink():
            (work / link).symlink_to(ROOT / link, target_is_directory=True)
    # mutmut copies tests/ and the package's data files only when missing: drop the copies so that this run sees
    # the tests and data of now (its own records, *.meta and *.spans beside the mutated module, stay)
    shutil.rmtree(work / "mutants" / "tests", ignore_errors=True)
    for copied in (work / "mutants" / "lawwatch").rglob("*"):
        if copied.is_file() and copied.suffix not in (".py", ".meta", ".spans", ".pyc"):
            copied.unlink()
    config = _pyproject(target)
    if not (work / "pyproject.toml").exists() or (work / "pyproject.toml").read_text(encoding="utf-8") != config:
        (work / "pyproject.toml").write_text(config, encoding="utf-8")
    return work


def _mutmut(work: Path, *args: str, quiet: bool = False) -> str:
    command = [str(Path(sys.executable).parent / "mutmut"), *args]
    done = subprocess.run(command, cwd=work, capture_output=quiet, text=True)
    if done.returncode != 0:
        if quiet:
            sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"mutmut {' '.join(args)} failed in {work} (exit {done.returncode})")
    return done.stdout or ""


_DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.utils.file_utils import walk_mutatable_files
(path,) = walk_mutatable_files()
print(json.dumps({name: get_diff_for_mutant(name, path=path) for name in sys.argv[1:]}))
"""


def _diffs(work: Path, mutants: list[str]) -> dict[str, str]:
    """``mutmut show``'s diff of each mutant, read in one process."""
    if not mutants:
        return {}
    done = subprocess.run(
        [sys.executable, "-c", _DIFFS, *mutants], cwd=work, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"cannot read the mutants' diffs in {work}")
    diffs: dict[str, str] = json.loads(done.stdout)
    return diffs


def _function(module: str, mutant: str) -> str:
    """The mangled function of a mutant: ``x_parse_query``, ``xǁDocumentFilterǁmatches``."""
    return mutant.removeprefix(module + ".").rsplit("__mutmut_", 1)[0]


def equivalence_key(module: str, mutant: str, diff: str) -> tuple[str, str, str, str]:
    """``(module, function, removed line, added line)`` of one mutant from its ``mutmut show`` diff."""
    function = _function(module, mutant)
    removed = [line[1:].strip() for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:].strip() for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    return module, function, " / ".join(removed), " / ".join(added)


def _statuses(work: Path, target: Target) -> dict[str, str]:
    """``mutant name → status`` as mutmut recorded them (empty before the first run)."""
    if not (work / "mutants").is_dir():
        return {}
    found = {}
    for line in _mutmut(work, "results", "--all", "true", quiet=True).splitlines():
        mutant, _, status = line.strip().rpartition(": ")
        if mutant.startswith(target.module + ".") and (
            not target.only or any(fnmatch.fnmatch(mutant, p) for p in target.only)
        ):
            found[mutant] = status
    return found


def run_target(name: str, target: Target, max_children: int, verbose: bool) -> Tally:
    work = _workdir(name, target)
    started = time.monotonic()
    # mutmut keeps a result until the function's code changes; a survivor may since have been killed by a new test,
    # so the survivors of an earlier run are run again by name (mutmut reruns the mutants it is given)
    earlier = [m for m, status in _statuses(work, target).items() if status in SURVIVED]
    _mutmut(work, "run", "--max-children", str(max_children), *target.only, quiet=not verbose)
    now = _statuses(work, target)
    again = [m for m in earlier if now.get(m) in SURVIVED]
    if again:
        _mutmut(work, "run", "--max-children", str(max_children), *again, quiet=not verbose)
    tally = Tally(name, seconds=time.monotonic() - started)

    listed = {key: reason for key, reason in EQUIVALENT.items() if key[0] == target.module}
    functions = {key[1] for key in listed}
    statuses = _statuses(work, target)
    # the diffs of the survivors, and of killed mutants where an equivalent one is listed (a listed one killed is stale)
    asked = [
        m
        for m, status in statuses.items()
        if status in SURVIVED or (status in KILLED and _function(target.module, m) in functions)
    ]
    diffs = _diffs(work, asked)
    seen: set[tuple[str, str, str, str]] = set()
    for mutant, status in statuses.items():
        tally.mutants += 1
        key = equivalence_key(target.module, mutant, diffs[mutant]) if mutant in diffs else None
        if status in KILLED:
            tally.killed += 1
            if key in listed:
                tally.stale.append(f"{mutant} is listed as equivalent but was killed")
                seen.add(key)
        elif status in SURVIVED:
            if key in listed:
                tally.equivalent.append(mutant)
                seen.add(key)
            else:
                tally.surviving.append(mutant)
        else:
            tally.other[status] = tally.other.get(status, 0) + 1
    tally.stale += [f"listed equivalent {key} matches no mutant" for key in listed if key not in seen]
    return tally


def equivalent_markdown() -> str:
    """``EQUIVALENT`` as the Markdown list docs/mutation.md carries."""
    lines = []
    for (module, function, removed, added), why in EQUIVALENT.items():
        name = function.removeprefix("xǁ").replace("ǁ", ".") if "ǁ" in function else function.removeprefix("x_")
        lines.append(f"- `{module}` {name}: `{removed}` → `{added}`: {why}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help=f"modules to test (default: all): {', '.join(TARGETS)}")
    parser.add_argument("--quick", action="store_true", help="only the subset CI runs (QUICK)")
    parser.add_argument("--max-children", type=int, default=2, help="parallel mutant runs (default 2)")
    parser.add_argument("--fresh", action="store_true", help="delete the work directories first")
    parser.add_argument("--json", action="store_true", help="print the table as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="show mutmut's output")
    parser.add_argument("--equivalent", action="store_true", help="print the equivalent mutants as Markdown and exit")
    args = parser.parse_args(argv)
    if args.equivalent:
        print(equivalent_markdown())
        return 0
    targets = QUICK if args.quick else TARGETS
    names = list(targets) if args.quick or not args.modules else args.modules
    unknown = [name for name in names if name not in targets]
    if unknown:
        parser.error(f"unknown module {', '.join(unknown)}: choose from {', '.join(targets)}")
    if shutil.which("mutmut", path=str(Path(sys.executable).parent)) is None:
        print("mutmut is not installed: pip install -e '.[mutation]'", file=sys.stderr)
        return 2
    tallies = []
    for name in names:
        if args.fresh:
            shutil.rmtree(WORK / name, ignore_errors=True)
        print(f"== {name}: {targets[name].path}", file=sys.stderr, flush=True)
        tallies.append(run_target(name, targets[name], args.max_children, args.verbose))
    rows = [t.row() for t in tallies]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print("| module | mutants | killed | surviving | equivalent | surviving % |")
        print("|---|---:|---:|---:|---:|---:|")
        for t in tallies:
            print(
                f"| {targets[t.name].path} | {t.mutants} | {t.killed} | {len(t.surviving)} | {len(t.equivalent)} "
                f"| {100 * t.share:.1f} |"
            )
    failed = False
    for t in tallies:
        for mutant in t.surviving:
            print(f"surviving: {mutant}  (var/mutation/{t.name}: mutmut show {mutant})", file=sys.stderr)
        for problem in t.stale:
            print(f"stale: {problem}", file=sys.stderr)
        if t.other:
            print(f"{t.name}: also {t.other}", file=sys.stderr)
        failed |= t.share > GOAL or bool(t.stale) or not t.mutants
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
