"""Web benchmark: p50/p95 of ``lawwatch serve``'s search page, document page and timeline page on a large archive,
against the same question asked the way ``lawwatch search --json`` (or ``show --json``) asks it, in the same run.

The archive is archive_bench's (the same generator and store path, ``bench.archive_bench.load``); its 400 made-up
place ids (``fips:10000``...) are renamed once to real gazetteer places, since the pages resolve a place as a person
would write it (``DocumentFilter.from_user``) and an id the gazetteer lacks is a 400; ANALYZE follows the renaming
(PostgreSQL's planner, left with statistics of the old ids, picks plans 5-10x slower). Pages are requested
in process through the ASGI test client (routing, the read-only session, the queries, Jinja2 rendering and the
security headers included; no network). The baseline is the command line's work without its process start-up:
``pipeline.search.search`` with the same filter, the hits as ``search --json`` dicts, ``json.dumps`` — for the
document page ``get_document`` + ``document_to_dict`` (``show --json``), for the timeline the search of the
jurisdiction's § 1373 letters, lawsuits, filings and rulings (``search "" --jurisdiction ID --statute 1373 --type
letter --type lawsuit --type filing --type ruling --order newest --limit 500 --json``).

    .venv/bin/python -m bench.web_bench                     # 100,000 documents, var/bench/archive-100000.db (fresh)
    .venv/bin/python -m bench.web_bench --reuse             # the same archive again, already loaded
    .venv/bin/python -m bench.web_bench --url postgresql+psycopg://postgres@127.0.0.1:5432/test  # lawwatch_bench

Goal (issue 14): p95 <= 100 ms for every page.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.archive_bench import CORPUS, Pools, load, open_bench_archive, percentile, selective_words
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.filters import DocumentFilter
from lawwatch.pipeline.query import document_to_dict, get_document
from lawwatch.pipeline.search import search
from lawwatch.web import create_app
from lawwatch.web.server import settle
from lawwatch.web.timeline import STATUTE, TYPES

GOAL_MS = 100.0


def cli_search(archive: Archive, flt: DocumentFilter, order: str = "relevance", limit: int = 20) -> str:
    """What ``lawwatch search --json`` computes for ``flt`` (without starting a process)."""
    with archive.session() as s:
        result = search(s, filter=flt, order=order, limit=limit)  # type: ignore[arg-type]
    return json.dumps(result.as_dict(flt.query, 0))


def cli_show(archive: Archive, doc_id: int) -> str:
    """What ``lawwatch show ID --json`` computes."""
    with archive.session() as s:
        doc = get_document(s, doc_id)
        assert doc is not None
        return json.dumps(document_to_dict(doc, versions=True))


def real_places(archive: Archive) -> None:
    """Rename archive_bench's made-up place ids to real cities and counties of the gazetteer (once)."""
    from lawwatch.pipeline.classify import jurisdiction_catalog
    from lawwatch.pipeline.places import resolve_place

    with archive.engine.begin() as conn:
        fake = list(conn.execute(sa.text("SELECT id FROM jurisdictions ORDER BY id")).scalars())
        unknown = []
        for jid in fake:
            try:
                resolve_place(jid)
            except Exception:
                unknown.append(jid)
        if not unknown:
            return
        catalog = [e for e in jurisdiction_catalog() if e["kind"] in ("city", "county") and e["id"] not in fake]
        for old, new in zip(unknown, catalog, strict=False):
            conn.execute(
                sa.text("INSERT INTO jurisdictions (id, name, kind, state) VALUES (:id, :name, :kind, :state)"),
                {"id": new["id"], "name": new["name"], "kind": new["kind"], "state": new["state"]},
            )
            conn.execute(
                sa.text("UPDATE document_jurisdictions SET jurisdiction_id = :new WHERE jurisdiction_id = :old"),
                {"new": new["id"], "old": old},
            )
            conn.execute(sa.text("DELETE FROM jurisdictions WHERE id = :old"), {"old": old})
        conn.execute(sa.text("ANALYZE"))  # the planner's statistics name the new ids, as autovacuum would see to
        print(f"renamed {len(unknown)} made-up place ids to gazetteer places")


def timed(calls: Sequence[Callable[[], object]], repeats: int) -> list[float]:
    """Milliseconds of each call, ``repeats`` times each after one warm-up."""
    samples = []
    for call in calls:
        call()
        for _ in range(repeats):
            began = time.perf_counter()
            call()
            samples.append((time.perf_counter() - began) * 1000)
    return samples


def row(name: str, page: list[float], base: list[float]) -> dict[str, Any]:
    p50, p95 = percentile(page, 0.5), percentile(page, 0.95)
    b50, b95 = percentile(base, 0.5), percentile(base, 0.95)
    return {"page": name, "p50": p50, "p95": p95, "base_p50": b50, "base_p95": b95, "ratio": p50 / b50}


def measure(args: argparse.Namespace) -> list[dict[str, Any]]:
    pools = Pools.load(args.corpus)
    archive, needs_loading = open_bench_archive(args.url, args.n, args.schema, args.reuse)
    print(f"archive: {archive.engine.url.render_as_string(hide_password=True)} ({archive.dialect})")
    if needs_loading:
        progress = load(archive, pools, args.n, args.batch, args.seed)  # (stored so far, seconds so far) per batch
        seconds = progress[-1][1]
        print(f"stored {args.n:,} documents in {seconds:.1f}s of store calls ({args.n / seconds:,.0f}/s)")
        with archive.engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
    real_places(archive)
    rng = random.Random(args.seed)
    words = selective_words(pools, archive, args.words, rng)
    with archive.engine.connect() as conn:
        places = list(
            conn.execute(
                sa.text(
                    "SELECT jurisdiction_id FROM document_jurisdictions GROUP BY jurisdiction_id "
                    "ORDER BY count(*) DESC LIMIT :n"
                ),
                {"n": args.places},
            ).scalars()
        )
        top = places[0]
        count = conn.execute(sa.text("SELECT max(id) FROM documents")).scalar_one()
    doc_ids = [rng.randint(1, count) for _ in range(args.documents)]
    with warnings.catch_warnings():  # starlette's TestClient prefers the httpx2 package (see tests/helpers/web.py)
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    client = TestClient(create_app(archive))
    settle()  # as ``lawwatch serve`` readies its process

    def page(url: str) -> Callable[[], object]:
        def get() -> object:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code, response.text[:300])
            return response

        return get

    searches: list[tuple[str, list[str], list[DocumentFilter], str]] = [
        ("search: no query (the landing page)", ["/"], [DocumentFilter()], "relevance"),
        (
            "search: a selective word",
            [f"/?q={w}" for w in words],
            [DocumentFilter(query=w) for w in words],
            "relevance",
        ),
        (
            f"search: no query, {top}",
            [f"/?jurisdiction={top}"],
            [DocumentFilter(jurisdictions=(top,))],
            "relevance",
        ),
        (
            "search: word + jurisdiction, newest",
            [f"/?q={w}&jurisdiction={top}&order=newest" for w in words],
            [DocumentFilter(query=w, jurisdictions=(top,)) for w in words],
            "newest",
        ),
        ("search: common word 'immigration'", ["/?q=immigration"], [DocumentFilter(query="immigration")], "relevance"),
        (
            "search: common word, newest",
            ["/?q=immigration&order=newest"],
            [DocumentFilter(query="immigration")],
            "newest",
        ),
        (
            "search: common word + jurisdiction",
            [f"/?q=immigration&jurisdiction={top}"],
            [DocumentFilter(query="immigration", jurisdictions=(top,))],
            "relevance",
        ),
    ]
    rows = []
    for name, urls, filters, order in searches:
        baseline = [lambda f=f, o=order: cli_search(archive, f, o) for f in filters]  # type: ignore[misc]
        rows.append(row(name, timed([page(u) for u in urls], args.repeats), timed(baseline, args.repeats)))
    rows.append(
        row(
            "document page",
            timed([page(f"/documents/{i}") for i in doc_ids], args.repeats),
            timed([lambda i=i: cli_show(archive, i) for i in doc_ids], args.repeats),  # type: ignore[misc]
        )
    )
    story = [
        DocumentFilter(jurisdictions=(p,), statutes=(STATUTE,), doc_types=TYPES)  # the timeline's own filter
        for p in places
    ]
    rows.append(
        row(
            "timeline page",
            timed([page(f"/jurisdictions/{p}") for p in places], args.repeats),
            timed([lambda f=f: cli_search(archive, f, "newest", 500) for f in story], args.repeats),  # type: ignore[misc]
        )
    )
    client.close()
    archive.dispose()
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="documents (default 100000)")
    parser.add_argument("--url", help="archive URL (default: SQLite var/bench/archive-N.db)")
    parser.add_argument("--schema", default="lawwatch_bench", help="PostgreSQL schema, dropped and recreated")
    parser.add_argument("--reuse", action="store_true", help="keep an existing archive with N documents")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="JSON lines of DOJ releases (doj-api shape)")
    parser.add_argument("--batch", type=int, default=1000, help="documents per store call when loading")
    parser.add_argument("--seed", type=int, default=1373)
    parser.add_argument("--repeats", type=int, default=10, help="timed requests per URL")
    parser.add_argument("--words", type=int, default=5, help="selective words searched")
    parser.add_argument("--documents", type=int, default=10, help="document pages requested")
    parser.add_argument("--places", type=int, default=5, help="timelines requested (the most named places)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout (the rest to stderr)")
    args = parser.parse_args(argv)
    if args.json:
        with contextlib.redirect_stdout(sys.stderr):  # the progress lines
            rows = measure(args)
        backend = "postgresql" if args.url and args.url.startswith("postgresql") else "sqlite"
        print(json.dumps({"backend": backend, "documents": args.n, "goal_p95_ms": GOAL_MS, "pages": rows}))
        return
    rows = measure(args)
    header = f"{'page':<42} {'p50 ms':>8} {'p95 ms':>8} {'CLI p50':>8} {'CLI p95':>8} {'p50/CLI':>8}  goal"
    print("\n" + header + "\n" + "-" * len(header))
    for r in rows:
        ok = "ok" if r["p95"] <= GOAL_MS else f"p95 > {GOAL_MS:.0f} ms"
        print(
            f"{r['page']:<42} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['base_p50']:>8.1f} {r['base_p95']:>8.1f} "
            f"{r['ratio']:>7.1f}x  {ok}"
        )


if __name__ == "__main__":
    main()
