"""Archive benchmark: store N synthetic-but-realistic documents, then time searches against a naive LIKE scan.

Documents are assembled from sentences of the 100 real DOJ releases in the shared corpus (titles from their titles),
with dates spread over 2009-2018, skewed sources and document types, and 0-3 jurisdictions and 0-2 statutes each.
They go through ``pipeline.store.store_documents`` in batches (one transaction per batch), and each batch of the first
``--floor-n`` also into two floors, interleaved batch by batch with the store: the same rows written the fastest
honest way (see :class:`Floor`: with their source and tag rows, the floor of the ratio; and the documents alone).
Then each search kind is timed (p50/p95 over repeated queries with several words, selective and heavy) together
with the same question asked as a ``LIKE '%word%'`` scan in the same run, timed the same way (a warm-up per query,
then the same repeats).

    .venv/bin/python -m bench.archive_bench                 # 100,000 documents on SQLite under var/bench/
    .venv/bin/python -m bench.archive_bench --n 1000000     # the big run
    .venv/bin/python -m bench.archive_bench --url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python -m bench.archive_bench --n 10000 --store-only   # store and floors only, no searches
    .venv/bin/python -m bench.archive_bench --quick         # CI-sized: 10,000 documents, fewer repeats and words

On PostgreSQL each run loads into its own schema (``--schema``, dropped and recreated first) and drops it when done,
with its floors' schemas; ``--keep`` leaves it for later runs with ``--reuse`` (a million documents take most of an
hour to load), and a run with ``--reuse`` leaves it too. A SQLite archive stays under var/bench/ for ``--reuse``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
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
from lawwatch.pipeline.store import _CHUNK, store_documents

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
        """A two-word phrase around each rare word, as written in its sentence: the word and the next, or where it
        ends the sentence the one before and the word."""
        found = []
        for word in words:
            for sentence in self.sentences:
                match = re.search(rf"\b({word})\s+([A-Za-z]{{3,}})\b", sentence, re.IGNORECASE) or re.search(
                    rf"\b([A-Za-z]{{3,}})\s+({word})\b", sentence, re.IGNORECASE
                )
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


def load(
    archive: Archive, pools: Pools, n: int, batch: int, seed: int, floors: Sequence[Floor] = (), floor_n: int = 0
) -> list[tuple[int, float, float]]:
    """Store ``n`` documents in batches; return (documents stored so far, seconds spent in store calls so far, CPU
    seconds of this process in them) after each batch, so that the rate over the first documents can be set beside
    a floor of that many. Each of the first batches that make ``floor_n`` documents is written by every floor right
    after (or before: the order turns every batch) it is stored, so that store and floors meet the same machine
    load over the same minutes."""
    stored = 0.0
    progress: list[tuple[int, float, float]] = []
    cpu = 0.0
    chunk: list[NormalizedDocument] = []
    started = time.perf_counter()
    for index, doc in enumerate(documents(pools, n, seed), 1):
        chunk.append(doc)
        if len(chunk) == batch or index == n:
            writers = [None, *(f for f in floors if index - len(chunk) < floor_n)]
            turn = len(progress) % len(writers)
            for writer in writers[turn:] + writers[:turn]:
                if writer is None:
                    wall, used = _store(archive, chunk)
                    stored, cpu = stored + wall, cpu + used
                else:
                    writer.write(chunk)
            progress.append((index, stored, cpu))
            chunk = []
        if index % 100_000 == 0:
            print(f"  stored {index:,} documents in {time.perf_counter() - started:.0f}s", flush=True)
    return progress


def _store(archive: Archive, chunk: list[NormalizedDocument]) -> tuple[float, float]:
    """Seconds of wall clock and of this process's CPU spent storing ``chunk`` in one transaction."""
    began, cpu = time.perf_counter(), time.process_time()
    with archive.session() as session:
        store_documents(session, chunk)
    return time.perf_counter() - began, time.process_time() - cpu


class Floor:
    """The floor for storing: the fastest honest way to write the rows ``store_documents`` writes for the same
    documents, on the same backend, into a fresh archive of the same schema (so the same FTS upkeep: the FTS5
    triggers on SQLite, the generated tsvector and its GIN index on PostgreSQL), growing from empty like the store's
    archive, in one transaction per batch of documents the store gets (:func:`load` hands each batch to both).

    What it writes: each document's ``documents`` row and, with ``dependents`` (the floor the ratio is taken
    against), the rows store must write beside it: its ``document_sources`` row, its ``document_jurisdictions`` and
    ``document_statutes`` tag rows and each ``jurisdictions`` row the first time a place appears. How: straight
    through the database driver, no SQLAlchemy, no lookups, no ``ON CONFLICT``, no savepoints (nothing can be there
    already). PostgreSQL: ids taken from the documents' sequence in one statement, then one ``COPY`` per table
    (measured 1.4x multi-row INSERTs). SQLite: multi-row ``INSERT … RETURNING id, url`` of ``_CHUNK`` documents
    (the ids the tag rows need, without assuming there is no other writer; measured faster than executemany, whose
    FTS5 upkeep costs more per statement), then one executemany per dependent table (the C loop of ``sqlite3``).
    ``spent``: seconds in writes and commits (``cpu``: this process's CPU seconds in them); the archive is deleted
    (its schema dropped) on ``close``."""

    def __init__(self, url: str | None, schema: str, name: str, *, dependents: bool) -> None:
        self.url, self.dependents, self.spent, self.cpu, self.written = url, dependents, 0.0, 0.0, 0
        self.postgres = url is not None and not url.startswith("sqlite")
        self.known: set[str] = set()
        if self.postgres:
            assert url is not None
            self.schema = _fresh_schema(url, f"{schema}_{name}")
            self.archive = open_archive(url, schema=self.schema)
        else:
            self.path = Path(f"var/bench/{name}.db")
            for leftover in self.path.parent.glob(f"{name}.db*"):
                leftover.unlink()
            self.archive = open_archive(f"sqlite:///{self.path}")
        self.connection = self.archive.engine.raw_connection()

    def write(self, docs: list[NormalizedDocument]) -> None:
        began, cpu = time.perf_counter(), time.process_time()
        (_floor_batch_postgres if self.postgres else _floor_batch_sqlite)(
            self.connection, docs, self.known, self.dependents
        )
        self.connection.commit()
        self.spent += time.perf_counter() - began
        self.cpu += time.process_time() - cpu
        self.written += len(docs)

    def rate(self) -> float:
        return self.written / self.spent

    def close(self) -> None:
        self.connection.close()
        self.archive.dispose()
        if self.postgres:
            assert self.url is not None
            _drop_schema(self.url, self.schema)
        else:
            for leftover in self.path.parent.glob(f"{self.path.name}*"):
                leftover.unlink()


_DOC_COLUMNS = tuple(
    "source url external_id title published_at fetched_at updated_at body_text "
    "content_hash doc_type form metadata".split()
)


def _dependent_rows(
    docs: list[NormalizedDocument], ids: list[int], known: set[str], dialect_time: Any
) -> dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
    """The rows store writes beside the documents (by table: columns, rows), values as the driver takes them."""
    places: list[tuple[Any, ...]] = []
    links: list[tuple[Any, ...]] = []
    cites: list[tuple[Any, ...]] = []
    sources: list[tuple[Any, ...]] = []
    for doc_id, doc in zip(ids, docs, strict=True):
        seen = dialect_time(doc.fetched_at)
        sources.append((doc_id, doc.source, doc.external_id, doc.url, seen, seen))
        tags = doc.classification
        assert tags is not None
        for j in tags.jurisdictions:
            if j.id not in known:
                known.add(j.id)
                places.append((j.id, j.name, j.kind, j.state))
            links.append((doc_id, j.id, j.mentions, j.first, getattr(j, "role", "named")))
        for s in tags.statutes:
            cites.append((doc_id, s.title, s.section, s.subsection, s.text, s.start, s.end))
    return {
        "jurisdictions": (("id", "name", "kind", "state"), places),
        "document_sources": (("document_id", "source", "external_id", "url", "first_seen_at", "last_seen_at"), sources),
        "document_jurisdictions": (("document_id", "jurisdiction_id", "mentions", "first_offset", "role"), links),
        "document_statutes": (("document_id", "title", "section", "subsection", "text", "start", "end"), cites),
    }


@functools.lru_cache(maxsize=4096)  # a batch repeats its fetched and seen times: each converted once, as store does
def _naive_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None)


@functools.lru_cache(maxsize=4096)
def _sqlite_time(value: datetime | None) -> str | None:  # the text SQLAlchemy stores for a datetime on SQLite
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _document_values(doc: NormalizedDocument, to_time: Any) -> tuple[Any, ...]:
    """``document_row(doc, doc.fetched_at)`` in the order of ``_DOC_COLUMNS``, as the driver takes it."""
    fetched = to_time(doc.fetched_at)
    return (
        *(doc.source, doc.url, doc.external_id, doc.title, to_time(doc.published_at), fetched, fetched, doc.body_text),
        *(doc.content_hash, doc.doc_type, doc.form, json.dumps(dict(doc.metadata))),
    )


def _quoted(columns: tuple[str, ...]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _floor_batch_sqlite(connection: Any, docs: list[NormalizedDocument], known: set[str], dependents: bool) -> None:
    cursor = connection.cursor()
    if not connection.driver_connection.in_transaction:
        cursor.execute("BEGIN")
    by_url: dict[str, int] = {}
    one = "(" + ", ".join("?" * len(_DOC_COLUMNS)) + ")"
    for start in range(0, len(docs), _CHUNK):
        chunk = docs[start : start + _CHUNK]
        sql = (
            f"INSERT INTO documents ({_quoted(_DOC_COLUMNS)}) VALUES {', '.join([one] * len(chunk))} RETURNING id, url"
        )
        values = [v for doc in chunk for v in _document_values(doc, _sqlite_time)]
        by_url.update((url, doc_id) for doc_id, url in cursor.execute(sql, values).fetchall())
    if dependents:
        ids = [by_url[doc.url or ""] for doc in docs]
        for table, (columns, rows) in _dependent_rows(docs, ids, known, _sqlite_time).items():
            if rows:
                marks = ", ".join("?" * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({_quoted(columns)}) VALUES ({marks})", rows)
    cursor.close()


def _floor_batch_postgres(connection: Any, docs: list[NormalizedDocument], known: set[str], dependents: bool) -> None:
    cursor = connection.cursor()
    numbers = cursor.execute(
        "SELECT nextval(pg_get_serial_sequence('documents', 'id')) FROM generate_series(1, %s)", (len(docs),)
    ).fetchall()
    ids = [number for (number,) in numbers]
    with cursor.copy(f"COPY documents (id, {_quoted(_DOC_COLUMNS)}) FROM STDIN") as copy:
        for doc_id, doc in zip(ids, docs, strict=True):
            copy.write_row((doc_id, *_document_values(doc, _naive_utc)))
    if dependents:
        for table, (columns, rows) in _dependent_rows(docs, ids, known, _naive_utc).items():
            if rows:
                with cursor.copy(f"COPY {table} ({_quoted(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
    cursor.close()


def _fresh_schema(url: str, schema: str) -> str:
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return schema


def _drop_schema(url: str, schema: str) -> None:
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


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


def time_case(
    archive: Archive, case: Case, repeats: int, like_queries: int | None, like_repeats: int | None = None
) -> dict[str, Any]:
    """Both sides timed the same way: per query one warm-up, then ``repeats`` timed runs, each on a fresh session
    (search) or connection (LIKE). The LIKE side runs the first ``like_queries`` queries (all by default),
    ``like_repeats`` times each (default ``repeats``: at a million documents one LIKE scan takes seconds); the ratio
    sets its p50 beside the search's p50 over those same queries."""
    fts: list[list[float]] = []
    totals: list[int] = []
    estimated: list[bool] = []
    ranked_among: list[int] = []
    for query in case.queries:
        with archive.session() as s:
            result = search(s, query, **case.kwargs)
        totals.append(result.total)
        estimated.append(result.total_is_estimate)
        if result.ranked_among is not None:
            ranked_among.append(result.ranked_among)
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
        for _ in range(repeats if like_repeats is None else like_repeats):
            began = time.perf_counter()
            _like(archive, case, query)
            like.append(time.perf_counter() - began)
    every = [t for samples in fts for t in samples]
    same = [t for samples in fts[: len(compared)] for t in samples]
    p50, like_p50 = percentile(every, 0.5) * 1000, percentile(like, 0.5) * 1000
    return {
        "case": case.name,
        "hits": int(statistics.median(totals)),
        "total_is_estimate": any(estimated),  # a common word's total is estimated (search says "about")
        "ranked_among": max(ranked_among) if ranked_among else None,  # relevance ranked only the newest this many
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


QUICK_N = 10_000  # documents of a --quick run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, help="documents to generate (default 100000; 10000 with --quick)")
    parser.add_argument("--url", help="archive URL (default: a fresh SQLite file var/bench/archive-N.db)")
    parser.add_argument("--schema", default="lawwatch_bench", help="PostgreSQL schema, dropped and recreated")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="JSON lines of DOJ releases (doj-api shape)")
    parser.add_argument("--batch", type=int, default=1000, help="documents per store_documents call")
    parser.add_argument("--repeats", type=int, help="timed runs per query (default 10; 5 with --quick)")
    parser.add_argument("--words", type=int, help="distinct rare words per search kind (default 8; 4 with --quick)")
    parser.add_argument(
        "--like-queries",
        type=int,
        help="queries per kind timed with the LIKE baseline (default: all, as the search; 2 with --quick)",
    )
    parser.add_argument(
        "--like-repeats", type=int, help="timed runs per LIKE query (default: --repeats; fewer at a million documents)"
    )
    parser.add_argument("--reuse", action="store_true", help="keep an existing archive with N documents")
    parser.add_argument("--keep", action="store_true", help="PostgreSQL: leave the schema for --reuse (else dropped)")
    parser.add_argument(
        "--quick", action="store_true", help="CI-sized: --n 10000 --floor-n N --repeats 5 --words 4 --like-queries 2"
    )
    parser.add_argument("--seed", type=int, default=1373)
    parser.add_argument(
        "--floor-n",
        type=int,
        help="documents for the raw INSERT floor (default: N); store is compared over its own first FLOOR_N",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout (the rest to stderr)")
    parser.add_argument("--store-only", action="store_true", help="measure store and floor only, no searches")
    args = parser.parse_args(argv)
    quick = {"n": QUICK_N, "repeats": 5, "words": 4, "like_queries": 2} if args.quick else {}
    for name, default in {"n": 100_000, "repeats": 10, "words": 8}.items():
        if getattr(args, name) is None:
            setattr(args, name, quick.get(name, default))
    if args.quick:
        args.floor_n = args.floor_n or args.n  # the floor over as many documents as the store: tables of one size
        args.like_queries = args.like_queries if args.like_queries is not None else quick["like_queries"]
    try:
        if args.json:
            with contextlib.redirect_stdout(sys.stderr):
                report = measure(args)
            print(json.dumps(report))
        else:
            measure(args)
    finally:
        if args.url and args.url.startswith("postgresql") and not (args.keep or args.reuse):
            _drop_schema(args.url, args.schema)  # a run's schema lives as long as the run (its floors' too)


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
        floor_n = min(args.n, args.floor_n or args.n)
        floors = [
            Floor(args.url, args.schema, "floor", dependents=True),
            Floor(args.url, args.schema, "floor_documents", dependents=False),
        ]
        try:
            progress = load(archive, pools, args.n, args.batch, args.seed, floors, floor_n)
        finally:
            for each in floors:
                each.close()
        seconds = progress[-1][1]
        rate = args.n / seconds
        print(f"stored {args.n:,} documents in {seconds:.1f}s of store calls: {rate:,.0f} documents/s")
        # store over its first floor_n documents (whole batches): the same rows into a table of the same size
        done, spent, cpu = next((k, t, c) for k, t, c in progress if k >= floor_n)
        floor_n = done
        store_same = done / spent
        floor, bare = floors[0].rate(), floors[1].rate()
        sqlite = archive.dialect == "sqlite"
        print(
            f"raw INSERT floor ({floor_n:,} documents, same batches and FTS upkeep, through the driver: "
            f"{'COPY' if archive.dialect == 'postgresql' else 'multi-row INSERT … RETURNING + executemany'}; "
            f"no lookups): {floor:,.0f} documents/s with their source and tag rows, {bare:,.0f} documents/s "
            f"documents alone; store over the same {floor_n:,}: {store_same:,.0f} documents/s; "
            f"store ÷ floor = {store_same / floor:.2f} (÷ documents-alone floor {store_same / bare:.2f})"
        )
        report |= {
            "store_docs_per_s": round(rate, 1),
            "floor_documents": floor_n,
            "floor_docs_per_s": round(floor, 1),
            "store_same_docs_per_s": round(store_same, 1),
            "store_floor_ratio": round(store_same / floor, 3),
            "floor_documents_alone_docs_per_s": round(bare, 1),
            "store_documents_alone_floor_ratio": round(store_same / bare, 3),
            # SQLite does all of its work in this process: the ratio of CPU seconds does not swing with the load of
            # a shared machine. (PostgreSQL's work is in its server: not counted here, so not given.)
            "store_floor_cpu_ratio": round(floors[0].cpu / floors[0].written / (cpu / done), 3) if sqlite else None,
        }
        if sqlite:
            print(
                "in CPU seconds of this process (all of SQLite's work): "
                f"store ÷ floor = {report['store_floor_cpu_ratio']:.2f}"
            )
        with archive.engine.begin() as conn:  # what a maintenance job would do after a bulk import
            conn.execute(sa.text("ANALYZE"))
    if args.store_only:
        archive.dispose()
        return report
    rows = [
        time_case(archive, c, args.repeats, args.like_queries, args.like_repeats)
        for c in cases(pools, archive, args.seed, args.words)
    ]
    print_table(rows, f"{args.n:,} documents on {archive.dialect}; search() incl. total and snippets")
    archive.dispose()
    report["searches"] = [
        {
            "shape": r["case"],
            "hits": r["hits"],
            "total_is_estimate": r["total_is_estimate"],
            "ranked_among": r["ranked_among"],
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
