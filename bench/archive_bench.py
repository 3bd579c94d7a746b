"""Archive benchmark: store N synthetic-but-realistic documents, then time searches against a naive LIKE scan.

Documents are assembled from sentences of the 100 real DOJ releases in the shared corpus (titles from their titles),
with dates spread over 2009-2018, skewed sources and document types, and 0-3 jurisdictions and 0-2 statutes each.
They go through ``pipeline.store.store_documents`` in batches (one transaction per batch), beside the floor: the same
rows written the fastest honest way (see :func:`raw_insert_rate`). Then each search kind is timed (p50/p95 over
repeated queries with several words, selective and heavy) together with the same question asked as a
``LIKE '%word%'`` scan in the same run, timed the same way (a warm-up per query, then the same repeats).

    .venv/bin/python -m bench.archive_bench                 # 100,000 documents on SQLite under var/bench/
    .venv/bin/python -m bench.archive_bench --n 1000000     # the big run
    .venv/bin/python -m bench.archive_bench --url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import lxml.html
import sqlalchemy as sa

from lawwatch.pipeline.classify import JurisdictionTag, StatuteCite
from lawwatch.pipeline.db import Archive, open_archive
from lawwatch.pipeline.filters import DocumentFilter
from lawwatch.pipeline.normalize import NormalizedDocument
from lawwatch.pipeline.search import search
from lawwatch.pipeline.store import _CHUNK, DOCUMENTS, document_row, store_documents

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "doj_press_release_etl" / "doj_press_100.jsonl"
SOURCES = {"doj": 55, "usao": 30, "courtlistener": 8, "ojp": 4, "dhs": 3}
DOC_TYPES = {"press_release": 80, "opinion": 8, "statement": 6, "report": 4, "letter": 2}
STATUTES = [
    ("8", "1373"),
    ("8", "1324"),
    ("18", "1546"),
    ("18", "1028"),
    ("21", "841"),
    ("18", "922"),
    ("34", "10153"),
    ("8", "1326"),
    ("18", "1343"),
    ("18", "371"),
    (None, "1373"),
    ("26", "7201"),
]
START, END = datetime(2009, 1, 1, tzinfo=UTC), datetime(2019, 1, 1, tzinfo=UTC)
JURISDICTION_COUNT = 400


# --- corpus and generation ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tags:  # duck-types pipeline.classify.Classification for store_documents
    doc_type: str
    jurisdictions: list[JurisdictionTag] = field(default_factory=list)
    statutes: list[StatuteCite] = field(default_factory=list)


@dataclass
class Pools:
    titles: list[str]
    sentences: list[str]

    @classmethod
    def load(cls, path: Path) -> Pools:
        titles, sentences = [], []
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            titles.append(" ".join(record["title"].split()))
            text = " ".join(lxml.html.fromstring(record["body"]).text_content().split())
            sentences += [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", text) if 30 <= len(s) <= 400]
        return cls(titles, sentences)

    def rare_words(self, count: int, rng: random.Random) -> list[str]:
        """Words that occur in exactly one sentence of the pool: each matches roughly 0.3% of the documents."""
        freq: Counter[str] = Counter()
        for sentence in self.sentences:
            freq.update({w.lower() for w in re.findall(r"[A-Za-z]{7,}", sentence)})
        rare = sorted(w for w, n in freq.items() if n == 1)
        return rng.sample(rare, count)

    def phrases(self, words: list[str]) -> list[str]:
        """A two-word phrase around each rare word, as written in its sentence."""
        found = []
        for word in words:
            for sentence in self.sentences:
                match = re.search(rf"\b({word})\s+([A-Za-z]{{3,}})\b", sentence, re.IGNORECASE)
                if match:
                    found.append(f"{match.group(1)} {match.group(2)}")
                    break
        return found


def documents(pools: Pools, n: int, seed: int) -> Iterator[NormalizedDocument]:
    rng = random.Random(seed)
    places = [
        JurisdictionTag(
            f"fips:{10000 + i}", f"County {i}", "county" if i % 5 else "city", "TX" if i % 7 == 0 else "CA", 1, 0
        )
        for i in range(JURISDICTION_COUNT)
    ]
    place_weights = [1 / (rank + 1) for rank in range(JURISDICTION_COUNT)]  # Zipf: a few places dominate
    sources, source_w = list(SOURCES), list(SOURCES.values())
    kinds, kind_w = list(DOC_TYPES), list(DOC_TYPES.values())
    span = (END - START).total_seconds()
    fetched = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(n):
        sentences = rng.choices(pools.sentences, k=rng.randint(6, 22))
        body = "\n\n".join(" ".join(sentences[j : j + 3]) for j in range(0, len(sentences), 3))
        title = rng.choice(pools.titles)
        source = rng.choices(sources, source_w)[0]
        chosen = {p.id: p for p in rng.choices(places, place_weights, k=rng.choice((0, 1, 1, 2, 2, 3)))}
        cites = [
            StatuteCite(t, s, None, f"{t or ''} U.S.C. § {s}".strip(), k * 40, k * 40 + 16)
            for k, (t, s) in enumerate(rng.sample(STATUTES, rng.choice((0, 0, 1, 1, 2))))
        ]
        yield NormalizedDocument(
            source=source,
            url=f"https://www.justice.gov/bench/{source}/{i}",
            external_id=f"bench-{i}",
            title=title,
            published_at=START + timedelta(seconds=span * rng.random() ** 0.8),
            body_text=body,
            content_hash=hashlib.sha256(f"{title}\n{body}".encode()).hexdigest(),
            fetched_at=fetched,
            classification=Tags(rng.choices(kinds, kind_w)[0], list(chosen.values()), cites),  # type: ignore[arg-type]
        )


def load(archive: Archive, pools: Pools, n: int, batch: int, seed: int) -> list[tuple[int, float]]:
    """Store ``n`` documents in batches; return (documents stored so far, seconds spent in store calls so far) after
    each batch, so that the rate over the first documents can be set beside a floor of that many."""
    stored = 0.0
    progress: list[tuple[int, float]] = []
    chunk: list[NormalizedDocument] = []
    started = time.perf_counter()
    for index, doc in enumerate(documents(pools, n, seed), 1):
        chunk.append(doc)
        if len(chunk) == batch or index == n:
            stored += _store(archive, chunk)
            progress.append((index, stored))
            chunk = []
        if index % 100_000 == 0:
            print(f"  stored {index:,} documents in {time.perf_counter() - started:.0f}s", flush=True)
    return progress


def _store(archive: Archive, chunk: list[NormalizedDocument]) -> float:
    began = time.perf_counter()
    with archive.session() as session:
        store_documents(session, chunk)
    return time.perf_counter() - began


def raw_insert_rate(pools: Pools, n: int, batch: int, seed: int, url: str | None, schema: str) -> float:
    """The floor for storing: the fastest honest way to write the same ``documents`` rows. The same first ``n``
    generated documents, on the same backend, into a fresh archive of the same schema (so the same FTS upkeep: the
    FTS5 triggers on SQLite, the generated tsvector and its GIN index on PostgreSQL), growing from empty like the
    store's archive over its first ``n``; one transaction per ``batch`` documents, each written with the same
    multi-row ``INSERT … RETURNING id`` statements of ``_CHUNK`` rows that ``store_documents`` uses (SQLAlchemy's
    insertmanyvalues, not a driver executemany), with none of its dedup lookups, versions, tags or source rows.
    Returns documents per second."""
    if url is None or url.startswith("sqlite"):
        path = Path("var/bench/floor.db")
        for leftover in path.parent.glob("floor.db*"):
            leftover.unlink()
        archive = open_archive(f"sqlite:///{path}")
    else:
        floor_schema = f"{schema}_floor"
        admin = sa.create_engine(url)
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{floor_schema}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{floor_schema}"'))
        admin.dispose()
        archive = open_archive(url, schema=floor_schema)
    table = DOCUMENTS
    statement = sa.insert(table).returning(table.c.id)
    spent = 0.0
    rows: list[dict[str, Any]] = []
    for index, doc in enumerate(documents(pools, n, seed), 1):
        rows.append(document_row(doc, doc.fetched_at))
        if len(rows) == batch or index == n:
            began = time.perf_counter()
            with archive.engine.begin() as conn:
                for start in range(0, len(rows), _CHUNK):
                    conn.execute(statement, rows[start : start + _CHUNK]).all()
            spent += time.perf_counter() - began
            rows = []
    archive.dispose()
    return n / spent


# --- timing ------------------------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    queries: list[str]
    kwargs: dict[str, Any] = field(default_factory=dict)
    like_where: str = ""  # extra SQL conditions for the LIKE baseline
    like_params: dict[str, Any] = field(default_factory=dict)


def like_sql(case: Case, query: str) -> tuple[list[str], dict[str, Any]]:
    """The naive equivalent of a search: a substring scan over title and body for the newest 20 and the total."""
    where = f"WHERE (lower(d.title) LIKE :p OR lower(d.body_text) LIKE :p) {case.like_where}"
    page = f"SELECT d.id, d.title FROM documents d {where} ORDER BY d.published_at DESC LIMIT 20"
    return [page, f"SELECT count(*) FROM documents d {where}"], {
        "p": "%" + query.strip('"').lower() + "%",
        **case.like_params,
    }


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _like(archive: Archive, case: Case, query: str) -> None:
    statements, params = like_sql(case, query)
    with archive.engine.connect() as conn:
        for sql in statements:
            conn.execute(sa.text(sql), params).all()


def time_case(archive: Archive, case: Case, repeats: int, like_queries: int | None) -> dict[str, Any]:
    """Both sides timed the same way: per query one warm-up, then ``repeats`` timed runs, each on a fresh session
    (search) or connection (LIKE). The LIKE side runs the first ``like_queries`` queries (all by default); the ratio
    sets its p50 beside the search's p50 over those same queries."""
    fts: list[list[float]] = []
    totals: list[int] = []
    for query in case.queries:
        with archive.session() as s:
            totals.append(search(s, query, **case.kwargs).total)
        fts.append([])
        for _ in range(repeats):
            began = time.perf_counter()
            with archive.session() as s:
                search(s, query, **case.kwargs)
            fts[-1].append(time.perf_counter() - began)
    like: list[float] = []
    compared = case.queries[:like_queries] if like_queries is not None else case.queries
    for query in compared:
        _like(archive, case, query)
        for _ in range(repeats):
            began = time.perf_counter()
            _like(archive, case, query)
            like.append(time.perf_counter() - began)
    every = [t for samples in fts for t in samples]
    same = [t for samples in fts[: len(compared)] for t in samples]
    p50, like_p50 = percentile(every, 0.5) * 1000, percentile(like, 0.5) * 1000
    return {
        "case": case.name,
        "hits": int(statistics.median(totals)),
        "p50": p50,
        "p95": percentile(every, 0.95) * 1000,
        "like": like_p50,
        "like_p95": percentile(like, 0.95) * 1000,
        "like_queries": len(compared),
        "ratio": like_p50 / (percentile(same, 0.5) * 1000),
    }


def selective_words(pools: Pools, archive: Archive, count: int, rng: random.Random) -> list[str]:
    """``count`` words that each occur in one pool sentence AND match about as many documents as the others.

    Stemming merges a word with its variants ("shipment", "shipments", "shipped" ...), so a word of one sentence can
    still match several times as many documents; such outliers would be common words, not selective ones."""
    candidates = pools.rare_words(count * 3, rng)
    with archive.session() as session:
        totals = {word: search(session, word, limit=1).total for word in candidates}
    median = statistics.median(totals.values())
    return [w for w in candidates if totals[w] <= 1.5 * median][:count]


STOP_WORDS = frozenset("about after their there these those which would could other under being where while".split())


def common_words(pools: Pools, count: int) -> list[str]:
    """The heavy queries: the ``count`` words (5+ letters, not function words) found in the most pool sentences, so
    each matches a large share of the documents (ranking and counting many matches is the expensive case)."""
    freq: Counter[str] = Counter()
    for sentence in pools.sentences:
        freq.update({w.lower() for w in re.findall(r"[A-Za-z]{5,}", sentence)} - STOP_WORDS)
    return [w for w, _ in freq.most_common(count)]


def cases(pools: Pools, archive: Archive, seed: int, words: int) -> list[Case]:
    rng = random.Random(seed + 1)
    rare = selective_words(pools, archive, words, rng)
    heavy = common_words(pools, words)
    phrases = [f'"{p}"' for p in pools.phrases(rare)]
    with archive.engine.connect() as conn:
        top_place = conn.execute(
            sa.text(
                "SELECT jurisdiction_id FROM document_jurisdictions GROUP BY jurisdiction_id "
                "ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
    since, until = datetime(2015, 1, 1, tzinfo=UTC), datetime(2017, 1, 1, tzinfo=UTC)
    bounds: dict[str, Any] = {"since": since.replace(tzinfo=None), "until": until.replace(tzinfo=None)}
    if archive.dialect == "sqlite":  # the archive stores naive UTC as text there
        bounds = {k: v.strftime("%Y-%m-%d %H:%M:%S.%f") for k, v in bounds.items()}
    return [
        Case("selective word", rare),
        Case("phrase", phrases),
        Case(
            f"word + jurisdiction {top_place}",
            rare,
            {"filter": DocumentFilter(jurisdictions=(top_place,))},
            "AND d.id IN (SELECT document_id FROM document_jurisdictions WHERE jurisdiction_id = :j)",
            {"j": top_place},
        ),
        Case(
            "word + date range (2 years)",
            rare,
            {"filter": DocumentFilter(published_since=since, published_until=until)},
            "AND d.published_at >= :since AND d.published_at < :until",
            bounds,
        ),
        Case("word, newest first", rare, {"order": "newest"}),
        Case(
            f"no words, {top_place}, newest",
            [""],
            {"filter": DocumentFilter(jurisdictions=(top_place,))},
            "AND d.id IN (SELECT document_id FROM document_jurisdictions WHERE jurisdiction_id = :j)",
            {"j": top_place},
        ),
        Case("common word 'immigration'", ["immigration"]),
        Case("heavy: common words", heavy),
        Case(
            "heavy: common word + date range",
            heavy,
            {"filter": DocumentFilter(published_since=since, published_until=until)},
            "AND d.published_at >= :since AND d.published_at < :until",
            bounds,
        ),
        Case("heavy: common word, newest first", heavy, {"order": "newest"}),
    ]


def print_table(rows: list[dict[str, Any]], header: str) -> None:
    print(f"\n{header}")
    line = f"{'search':<36} {'hits':>8} {'p50 ms':>9} {'p95 ms':>9} {'LIKE p50':>10} {'LIKE p95':>10} {'LIKE/p50':>9}"
    print(line)
    print("-" * len(line))
    for r in rows:
        print(
            f"{r['case']:<36} {r['hits']:>8,} {r['p50']:>9.1f} {r['p95']:>9.1f} {r['like']:>10.1f} "
            f"{r['like_p95']:>10.1f} {r['ratio']:>8.1f}x"
        )


def open_bench_archive(url: str | None, n: int, schema: str, reuse: bool) -> tuple[Archive, bool]:
    """The archive to bench; returns (archive, needs_loading). SQLite files live under var/bench/."""
    if url is None:
        path = Path("var/bench") / f"archive-{n}.db"
        if path.exists() and not reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    elif url.startswith("postgresql") and not reuse:
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
    archive = open_archive(url, schema=schema if url.startswith("postgresql") else None)
    with archive.engine.connect() as conn:
        present = conn.execute(sa.text("SELECT count(*) FROM documents")).scalar_one()
    return archive, present < n


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="documents to generate (default 100000)")
    parser.add_argument("--url", help="archive URL (default: a fresh SQLite file var/bench/archive-N.db)")
    parser.add_argument("--schema", default="lawwatch_bench", help="PostgreSQL schema, dropped and recreated")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="JSON lines of DOJ releases (doj-api shape)")
    parser.add_argument("--batch", type=int, default=1000, help="documents per store_documents call")
    parser.add_argument("--repeats", type=int, default=10, help="timed runs per query")
    parser.add_argument("--words", type=int, default=8, help="distinct rare words per search kind")
    parser.add_argument(
        "--like-queries", type=int, help="queries per kind timed with the LIKE baseline (default: all, as the search)"
    )
    parser.add_argument("--reuse", action="store_true", help="keep an existing archive with N documents")
    parser.add_argument("--seed", type=int, default=1373)
    parser.add_argument(
        "--floor-n",
        type=int,
        help="documents for the raw INSERT floor (default: N); store is compared over its own first FLOOR_N",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout (the rest to stderr)")
    args = parser.parse_args(argv)
    if args.json:
        with contextlib.redirect_stdout(sys.stderr):
            report = measure(args)
        print(json.dumps(report))
    else:
        measure(args)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """The benchmark proper: prints as it goes and returns the figures (the ``--json`` object)."""
    pools = Pools.load(args.corpus)
    print(f"corpus: {len(pools.titles)} releases, {len(pools.sentences):,} sentences")
    archive, needs_loading = open_bench_archive(args.url, args.n, args.schema, args.reuse)
    print(f"archive: {archive.engine.url.render_as_string(hide_password=True)} ({archive.dialect})")
    report: dict[str, Any] = {
        "backend": archive.dialect,
        "documents": args.n,
        "store_docs_per_s": None,  # None when an archive already loaded was reused
        "floor_documents": None,
        "floor_docs_per_s": None,
        "store_floor_ratio": None,
    }
    if needs_loading:
        progress = load(archive, pools, args.n, args.batch, args.seed)
        seconds = progress[-1][1]
        rate = args.n / seconds
        print(f"stored {args.n:,} documents in {seconds:.1f}s of store calls: {rate:,.0f} documents/s")
        floor_n = min(args.n, args.floor_n or args.n)
        # store over its first floor_n documents (whole batches): the same rows into a table of the same size
        done, spent = next((k, t) for k, t in progress if k >= floor_n)
        floor_n = done
        store_same = done / spent
        floor = raw_insert_rate(pools, floor_n, args.batch, args.seed, args.url, args.schema)
        print(
            f"raw INSERT floor ({floor_n:,} documents, same batches and multi-row INSERT … RETURNING, same FTS upkeep, "
            f"no lookups or tags): {floor:,.0f} documents/s; store over the same {floor_n:,}: {store_same:,.0f} "
            f"documents/s; store ÷ floor = {store_same / floor:.2f}"
        )
        report |= {
            "store_docs_per_s": round(rate, 1),
            "floor_documents": floor_n,
            "floor_docs_per_s": round(floor, 1),
            "store_same_docs_per_s": round(store_same, 1),
            "store_floor_ratio": round(store_same / floor, 3),
        }
        with archive.engine.begin() as conn:  # what a maintenance job would do after a bulk import
            conn.execute(sa.text("ANALYZE"))
    rows = [
        time_case(archive, c, args.repeats, args.like_queries) for c in cases(pools, archive, args.seed, args.words)
    ]
    print_table(rows, f"{args.n:,} documents on {archive.dialect}; search() incl. total and snippets")
    archive.dispose()
    report["searches"] = [
        {
            "shape": r["case"],
            "hits": r["hits"],
            "p50_ms": round(r["p50"], 2),
            "p95_ms": round(r["p95"], 2),
            "like_ms": round(r["like"], 2),
            "like_p95_ms": round(r["like_p95"], 2),
            "like_queries": r["like_queries"],
            "like_p50_ratio": round(r["ratio"], 1),
        }
        for r in rows
    ]
    return report


if __name__ == "__main__":
    main()
