"""`lawwatch crawl --mirror`: the quick start's main job — every source crawled from the bundled offline mirror."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from tests.helpers.crawl import ROOT, rows, scalar

SOURCES = {"doj_api", "doj_news", "doj_rss", "courtlistener", "pacer_rss", "news_rss"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _crawl_mirror(settings: Path, port: int, db_url: str) -> dict[str, dict[str, object]]:
    args = [
        sys.executable,
        "-m",
        "lawwatch",
        "--config",
        str(settings),
        "crawl",
        "--mirror",
        "--mirror-port",
        str(port),
        "--mirror-archive",
        db_url,
        "--json",
    ]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return {s["source"]: s for s in json.loads(done.stdout.strip().splitlines()[-1])["sources"]}


def test_crawl_mirror_fills_its_own_archive_and_is_incremental(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'mirror' / 'archive.db'}"
    configured = tmp_path / "configured.db"
    settings = tmp_path / "settings.toml"
    settings.write_text(f'[archive]\nurl = "sqlite:///{configured}"\n', encoding="utf-8")
    port = _free_port()

    first = _crawl_mirror(settings, port, db_url)
    assert not configured.exists()  # the mirror's 127.0.0.1 documents never enter the configured archive
    assert (tmp_path / "mirror" / "mirror.toml").is_file()  # beside its archive: --config it to search
    assert set(first) == SOURCES
    assert {s["status"] for s in first.values()} == {"ok"}
    assert all(first[s]["new"] for s in ("doj_api", "courtlistener", "pacer_rss", "news_rss"))
    stored = scalar(db_url, "SELECT count(*) FROM documents")
    assert stored == sum(int(s["new"]) for s in first.values())  # type: ignore[call-overload]
    letters = rows(
        db_url,
        "SELECT count(*) FROM documents d JOIN document_statutes s ON s.document_id = d.id "
        "WHERE d.doc_type = 'letter' AND s.section = '1373'",
    )
    assert letters[0][0] > 0
    urls = [u for (u,) in rows(db_url, "SELECT url FROM documents")]
    assert all(u.startswith(f"http://127.0.0.1:{port}/") for u in urls)

    second = _crawl_mirror(settings, port, db_url)
    assert {s["status"] for s in second.values()} == {"ok"}
    assert sum(int(s["new"]) + int(s["updated"]) for s in second.values()) == 0  # type: ignore[call-overload]
    assert scalar(db_url, "SELECT count(*) FROM documents") == stored


def test_crawl_mirror_refuses_the_configured_archive(tmp_path: Path) -> None:
    configured = tmp_path / "configured.db"
    settings = tmp_path / "settings.toml"
    settings.write_text(f'[archive]\nurl = "sqlite:///{configured}"\n', encoding="utf-8")
    args = ["--config", str(settings), "crawl", "--mirror", "--mirror-archive", f"sqlite:///{tmp_path}/./configured.db"]
    done = subprocess.run(
        [sys.executable, "-m", "lawwatch", *args], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "archive of their own" in done.stderr and "Traceback" not in done.stderr
    assert not configured.exists()
