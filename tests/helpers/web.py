"""The web tests' archive and server: a seeded § 1373 story, and ``lawwatch serve`` on a free loopback port.

``seed_story(archive)`` ingests, through the real ingest path (normalize → classify → store), the bundled mirror's
five DOJ § 1373 releases, its six court rulings (with their case names, as CourtListener gives them) and its ten
Courthouse-News-style articles; it edits one release after it was stored (so it has an earlier version) and adds
two hostile documents whose titles and bodies are markup (with the ORM: normalize would strip a title's tags).
``running_server(url, cwd)`` starts ``lawwatch serve`` in a subprocess and yields its base URL; ``client(app)`` is
the in-process ASGI client.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # starlette 1.x prefers the httpx2 package for its TestClient and warns, once, at import, when it finds httpx
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.importer import from_doj_api
from lawwatch.pipeline.ingest import ingest
from lawwatch.pipeline.models import Document
from lawwatch.pipeline.normalize import NormalizedDocument, content_hash, normalize_document
from tests.helpers.factories import add_document

MIRROR = Path(__file__).resolve().parents[2] / "lawwatch" / "crawler" / "mirror" / "data"
PHILADELPHIA = "fips:4260000"
CHICAGO = "fips:1714000"
HOSTILE_TITLES = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
HOSTILE_BODY = (
    'Philadelphia was sent a letter under 8 U.S.C. § 1373. <script>alert("body")</script> '
    "<img src=x onerror=alert(2)> </textarea><svg onload=alert(3)> \x02not a mark\x03 & done."
)
EDITED_TITLE = "Justice Department Sends Letters to Nine Jurisdictions Requiring Proof of Compliance with 8 U.S.C. 1373"
EDIT = "The Department of Justice today also announced a corrected deadline of July 7, 2017."


@dataclass(frozen=True)
class Story:
    """What the seeded archive holds, for the tests' expectations."""

    documents: int
    rulings: int
    letters: int


def story_documents() -> list[NormalizedDocument]:
    docs = [
        from_doj_api(json.loads(line), "doj_api")
        for line in (MIRROR / "doj_1373_releases.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    court = json.loads((MIRROR / "court_story.json").read_text(encoding="utf-8"))
    for r in court["rulings"]:
        docs.append(
            normalize_document(
                source="courtlistener",
                title=r["title"],
                text="\n\n".join(r["paragraphs"]),
                published=r["date_filed"],
                url=f"https://www.courtlistener.com/opinion/{r['cluster_id']}/",
                external_id=str(r["cluster_id"]),
                metadata={"case_name": r["case_name"], "docket_number": r["docket_number"], "court": r["court_id"]},
            )
        )
    for a in court["articles"]:
        docs.append(
            normalize_document(
                source="courthouse_news",
                title=a["title"],
                text="\n\n".join(a["paragraphs"]),
                published=a["date"],
                url=f"https://www.courthousenews.com/story/{a['id']}/",
                external_id=str(a["id"]),
            )
        )
    return docs


def seed_story(archive: Archive) -> Story:
    """Ingest the story (see the module docstring) and edit one release so that it has an earlier version."""
    docs = story_documents()
    ingest(archive, docs)
    first = next(d for d in docs if d.title == EDITED_TITLE)
    body = first.body_text + "\n\n" + EDIT
    edited = replace(first, body_text=body, content_hash=content_hash(first.title, body), classification=None)
    edited = replace(edited, fetched_at=datetime(2026, 2, 1, tzinfo=UTC))
    ingest(archive, [edited])
    with archive.session() as s:
        for n, title in enumerate(HOSTILE_TITLES):  # the ORM directly: normalize would strip the markup of a title
            add_document(
                s,
                title=title,
                body=HOSTILE_BODY,
                source="hostile",
                url=f'https://hostile.example/{n}?a=<b>&c="d"' if n == 0 else "javascript:alert(1)//",
                published_at=datetime(2018, 2, 1 + n, tzinfo=UTC),
                doc_type="letter",
                jurisdictions=[PHILADELPHIA],
                statutes=[("8", "1373")],
            )
    with archive.session() as s:
        counts = dict(s.execute(select(Document.doc_type, func.count()).group_by(Document.doc_type)).all())
    return Story(sum(counts.values()), counts.get("ruling", 0), counts.get("letter", 0))


def client(app: FastAPI) -> TestClient:
    """An in-process client of ``app`` whose server errors come back as responses (as a browser would see them)."""
    return TestClient(app, raise_server_exceptions=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(database_url: str, cwd: Path, *, timeout: float = 30.0) -> Iterator[str]:
    """``lawwatch serve`` over ``database_url`` on a free loopback port, run in ``cwd`` (no settings.toml there:
    the built-in defaults); yields ``http://127.0.0.1:PORT``."""
    port = free_port()
    env = {**os.environ, "LAWWATCH_DATABASE_URL": database_url}
    env.pop("LAWWATCH_CONFIG", None)
    log_path = cwd / "serve.log"
    log = log_path.open("w", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "lawwatch", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=cwd,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"lawwatch serve exited: {log_path.read_text(encoding='utf-8')}")
            try:
                if httpx.get(base + "/api/openapi.json", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("lawwatch serve did not answer in time")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
