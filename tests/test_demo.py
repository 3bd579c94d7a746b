"""`lawwatch demo`: the whole pipeline offline — mirror, real spiders, classifier, archive, outbox, dispatcher, the
real slack-sdk and smtplib channels against a local Slack-compatible server and aiosmtpd — and `--live`."""

from __future__ import annotations

import email
import json
import os
import signal
import subprocess
import sys
import threading
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest

from lawwatch.cli.demo import clean
from lawwatch.crawler.mirror.server import MirrorServer
from lawwatch.demo.session import MARKER, DemoSession, alerts_toml, prepare_dir
from lawwatch.errors import UsageError
from lawwatch.pipeline.classify import classify
from lawwatch.pipeline.normalize import html_to_text

SOURCES = {"doj_api", "doj_news", "doj_rss", "courtlistener", "pacer_rss", "news_rss"}


def _demo(tmp_path: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``lawwatch demo`` in a folder whose settings.toml names an archive the demo must not touch."""
    (tmp_path / "settings.toml").write_text(
        f'[archive]\nurl = "sqlite:///{tmp_path / "configured.db"}"\n', encoding="utf-8"
    )
    env = {**os.environ, "COLUMNS": "80", "TERM": "dumb"}
    env.pop("LAWWATCH_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "lawwatch", "demo", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def demo_json(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("demo-json")
    done = _demo(tmp, "--json", "--data-dir", "out")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    return tmp, json.loads(done.stdout)


def test_demo_crawls_every_source_into_its_own_archive(demo_json: tuple[Path, dict[str, Any]]) -> None:
    tmp, report = demo_json
    assert report["ok"] is True
    assert set(report["sources"]) == SOURCES
    for source, figures in report["sources"].items():
        assert figures["status"] == "ok", source
        assert figures["errors"] == 0, source
        assert {"pages", "new", "updated", "unchanged"} <= set(figures)
    new = sum(s["new"] for s in report["sources"].values())
    assert report["documents"] == new > 100
    assert report["data_dir"] == str(tmp / "out")
    assert (tmp / "out" / "lawwatch.db").is_file() and (tmp / "out" / MARKER).is_file()
    assert not (tmp / "configured.db").exists()  # the configured archive is never touched
    assert not (tmp / "var").exists()


def test_demo_delivers_the_alerts_through_real_channels(demo_json: tuple[Path, dict[str, Any]]) -> None:
    tmp, report = demo_json
    counts, delivered = report["alerts"], report["delivered"]
    assert counts["undelivered"] == 0 and report["undelivered"] == []
    # 8 § 1373 letters and 12 rulings in the mirror; the Chicago/Cook County mailbox gets its share
    assert counts["slack"] >= 20 and counts["email"] >= 5
    assert counts["slack"] + counts["email"] == len(delivered)
    slack_files = sorted((tmp / "out" / "slack").glob("*.json"))
    mail_files = sorted((tmp / "out" / "mail").glob("*.eml"))
    assert [str(p) for p in slack_files] == report["slack_files"] and len(slack_files) == counts["slack"]
    assert [str(p) for p in mail_files] == report["mail_files"] and len(mail_files) == counts["email"]

    payloads = [json.loads(p.read_text(encoding="utf-8")) for p in slack_files]
    assert {p["channel"] for p in payloads} == {"#sanctuary-1373", "#philadelphia"}
    assert all(p["ts"] and (p.get("text") or p.get("blocks")) for p in payloads)
    titles = {a["title"] for a in delivered if a["channel"] == "slack"}
    assert any("1373" in json.dumps(p) for p in payloads)
    assert all(any(t in json.dumps(p, ensure_ascii=False) for t in titles) for p in payloads)

    for path in mail_files:
        message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
        assert message["To"] == "city-attorney@chicago.example"
        assert message["Subject"].strip().startswith("[lawwatch] ")  # folded after "Subject:" when long
        assert message["Message-ID"].endswith("@lawwatch>")
    for alert in delivered:
        if alert["rule"] == "chicago-cook-county-1373":
            assert alert["channel"] == "email"
            assert {"Chicago, IL", "Cook County, IL"} & set(alert["jurisdictions"]), alert
            assert "names" in alert["why"] and "cites 8 U.S.C. § 1373" in alert["why"]
        if alert["rule"] == "1373-letters-and-rulings":
            assert alert["doc_type"] in ("letter", "ruling") and "8 U.S.C. § 1373" in alert["statutes"]
    # exactly once: one delivery per (rule, document)
    keys = [(a["rule"], a["document_id"]) for a in delivered]
    assert len(keys) == len(set(keys))


def test_demo_example_searches_run_again_from_their_commands(demo_json: tuple[Path, dict[str, Any]]) -> None:
    tmp, report = demo_json
    assert len(report["searches"]) == 3
    for example in report["searches"]:
        assert example["total"] > 0 and example["hits"]
        args = example["command"].split(" ", 1)[1]
        done = subprocess.run(
            [sys.executable, "-m", "lawwatch", *__import__("shlex").split(args), "--json"],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        again = json.loads(done.stdout)
        assert again["total"] == example["total"]
        assert [h["id"] for h in again["hits"][:3]] == [h[0] for h in example["hits"]]


def test_demo_report_fits_80_columns_and_runs_again_fresh(tmp_path: Path) -> None:
    first = _demo(tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Traceback" not in first.stdout + first.stderr
    lines = first.stdout.splitlines()
    too_wide = [line for line in lines if len(line) > 80 and not line.lstrip().startswith("$ ")]
    assert too_wide == []
    text = first.stdout
    for part in ("1. Crawl", "2. Alerts delivered", "3. Search the demo archive", "demo/slack/*.json"):
        assert part in text
    assert "→ slack #sanctuary-1373" in text and "→ email city-attorney@chicago.example" in text
    assert "why: " in text and "$ lawwatch search 1373 --jurisdiction 'Cook County, IL'" in text
    assert "export LAWWATCH_CONFIG=demo/settings.toml" in text
    slack_first = len(list((tmp_path / "demo" / "slack").glob("*.json")))

    second = _demo(tmp_path)  # the folder is an earlier demo's: emptied, so the same alerts arrive again
    assert second.returncode == 0, second.stderr[-3000:]
    assert len(list((tmp_path / "demo" / "slack").glob("*.json"))) == slack_first
    assert not (tmp_path / "configured.db").exists()


def test_demo_refuses_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me", encoding="utf-8")
    done = _demo(tmp_path, "--data-dir", "mine", timeout=60)
    assert done.returncode == 2
    assert "not made by lawwatch demo" in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text(encoding="utf-8") == "keep me"
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="not a folder"):
        prepare_dir(tmp_path / "file")
    done = _demo(tmp_path, "--json", "--live", timeout=60)
    assert done.returncode == 2 and "--json" in done.stderr


def test_demo_settings_load_and_resolve_the_demo_rules(tmp_path: Path) -> None:
    from lawwatch.config import load_config

    path = tmp_path / "s.toml"
    path.write_text(alerts_toml("http://127.0.0.1:9/api/", 2525), encoding="utf-8")
    config = load_config(path, environ={"LAWWATCH_DEMO_SLACK_TOKEN": "xoxb-x"})
    assert {r.name for r in config.alerts.rules} == {
        "1373-letters-and-rulings",
        "chicago-cook-county-1373",
        "philadelphia-news",
    }
    assert config.alerts.max_age is None  # the mirror's 2017-2018 documents must alert
    assert config.alerts.email.port == 2525 and config.alerts.slack.base_url == "http://127.0.0.1:9/api/"


def test_the_mirror_publishes_letters_the_classifier_tags() -> None:
    with MirrorServer() as mirror:
        urls = mirror.publish("www.justice.gov", 2, "letter")
        assert len(urls) == 2 and all(u.startswith(mirror.base_url) for u in urls)
        newest = mirror.justice.releases[0]
        assert newest.url.endswith("-2") and "Letter to" in newest.title
        result = classify(html_to_text(newest.body), title=newest.title)
        assert result.doc_type == "letter"
        assert any(c.section == "1373" for c in result.statutes)
        named = [j for j in result.jurisdictions if j.role == "named"]
        assert named and named[0].name == "Berkeley" and named[0].state == "CA"
        assert "generated by the lawwatch offline mirror" in newest.body
        with pytest.raises(ValueError, match="only published on www.justice.gov"):
            mirror.publish("www.courthousenews.com", 1, "letter")
        with pytest.raises(ValueError, match="kind must be one of"):
            mirror.publish("www.justice.gov", 1, "memo")


def test_scraped_text_is_made_safe_for_the_terminal() -> None:
    assert clean("[bold red]x[/] \x1b[2J\x1b]8;;http://evil\x07y\u202e") == "\\[bold red]x\\[/] [2J ]8;;http://evil y"
    assert "\x1b" not in clean("\x1b[31mred")


def test_demo_live_delivers_newly_published_letters_and_stops_cleanly(tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text("", encoding="utf-8")
    env = {**os.environ, "COLUMNS": "80", "TERM": "dumb", "PYTHONUNBUFFERED": "1"}
    lines: list[str] = []
    seen = threading.Event()
    with subprocess.Popen(
        [sys.executable, "-m", "lawwatch", "demo", "--live", "--publish-every", "3"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if "Slack" in line and "Sends Letter to" in line:
                    seen.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            assert seen.wait(150), "".join(lines)[-3000:]
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                code = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
        reader.join(timeout=5)
        stderr = proc.stderr.read() if proc.stderr else ""
    assert code == 0, stderr[-3000:]
    assert "Traceback" not in stderr
    text = "".join(lines)
    assert "DOJ    Justice Department Sends Letter to" in text and text.rstrip().endswith("stopped.")
    letters = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((tmp_path / "demo" / "slack").glob("*.json"))
        if "Sends Letter to" in p.read_text(encoding="utf-8")
    ]
    assert letters and all(p["channel"] == "#sanctuary-1373" for p in letters)
    titles = [json.dumps(p, ensure_ascii=False) for p in letters]
    assert len(titles) == len(set(titles))  # each published letter once


def test_demo_session_restores_the_token_variable(tmp_path: Path) -> None:
    before = os.environ.get("LAWWATCH_DEMO_SLACK_TOKEN")
    with DemoSession(tmp_path / "d") as session:
        assert os.environ["LAWWATCH_DEMO_SLACK_TOKEN"] == session.token
        config = session.write_settings()
        assert config.archive.url == session.db_url and str(tmp_path / "d") in session.db_url
        assert "xoxb-demo-" not in session.settings_path.read_text(encoding="utf-8")  # secrets stay in env
    assert os.environ.get("LAWWATCH_DEMO_SLACK_TOKEN") == before
