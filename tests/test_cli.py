"""The `lawwatch` command end to end through click's CliRunner, on a real archive."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lawwatch.cli import cli
from tests.helpers.cli import SAMPLE, Lawwatch


@pytest.fixture
def lawwatch(tmp_path: Path) -> Lawwatch:
    return Lawwatch(tmp_path, f"sqlite:///{tmp_path / 'archive.db'}")


@pytest.fixture
def loaded(lawwatch: Lawwatch) -> Lawwatch:
    lawwatch("import", str(SAMPLE))
    return lawwatch


def test_import_reports_bad_lines_and_imports_the_rest(lawwatch: Lawwatch) -> None:
    result = lawwatch("import", str(SAMPLE), "--json")
    summary = json.loads(result.stdout)
    assert summary == {"file": str(SAMPLE), "format": "doj-api", "new": 8, "updated": 0, "unchanged": 0, "errors": 4}
    for line in (9, 10, 11, 13):
        assert f"line {line}: " in result.stderr
    again = json.loads(lawwatch("import", str(SAMPLE), "--json").stdout)
    assert (again["new"], again["unchanged"]) == (0, 8)


def test_import_of_nothing_but_bad_lines_fails(lawwatch: Lawwatch, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("nope\n{}\n", encoding="utf-8")
    result = lawwatch("import", str(bad), "--format", "doj-api", code=1)  # without: "cannot tell the format"
    assert "no line could be imported (2 bad lines)" in result.stderr
    assert "Traceback" not in result.output


def test_search_json_filters_and_csv(loaded: Lawwatch) -> None:
    data = loaded.json("search", "1373", "--jurisdiction", "Cook County, IL", "--statute", "8 U.S.C. 1373")
    assert isinstance(data, dict) and set(data) == {
        "query",
        "total",
        "total_exact",
        "total_is_estimate",
        "ranked_among",
        "offset",
        "hits",
    }
    assert data["total_exact"] is True and data["total_is_estimate"] is False
    titles = [h["title"] for h in data["hits"]]
    assert data["total"] == 3 and len(titles) == 3
    assert all("1373" in t for t in titles)
    assert all("[" in h["snippet"] and "]" in h["snippet"] for h in data["hits"])
    assert set(data["hits"][0]) == {"id", "published_at", "source", "doc_type", "title", "url", "score", "snippet"}

    newest = loaded.json("search", "", "--type", "letter", "--order", "newest")
    dates = [h["published_at"] for h in newest["hits"]]
    assert dates == sorted(dates, reverse=True) and len(dates) >= 3

    window = loaded.json("search", "", "--since", "2017-10-12", "--until", "2017-10-12")
    assert [h["published_at"][:10] for h in window["hits"]] == ["2017-10-12"]

    rows = list(csv.DictReader(io.StringIO(loaded("search", "letters", "--csv").stdout)))
    assert rows and set(rows[0]) == {"id", "published_at", "source", "doc_type", "title", "url", "score", "snippet"}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["search", '"unbalanced'], 1, "unbalanced"),
        (["search", "x", "--jurisdiction", "Atlantis"], 1, "unknown jurisdiction 'Atlantis'"),
        (["search", "x", "--since", "someday"], 2, "is not a date"),
        (["search", "x", "--since", "Oct 12"], 2, "(it needs a year)"),  # "2017" is the year (tests/test_cli_dates.py)
        (["search", "x", "--jurisdiction", "Springfield"], 1, "'Springfield' is ambiguous: did you mean"),
        (["export", "--jurisdiction", "Columbus"], 1, "'Columbus' is ambiguous: did you mean Columbus, OH / GA"),
        (["reclassify", "--since", "someday"], 2, "is not a date"),
        (["search", "x", "--json", "--csv"], 2, "choose one of --json and --csv"),
        (["show", "999999"], 1, "no document with id 999999"),
        (["reclassify"], 2, "say which documents"),
    ],
)
def test_errors_are_one_line(loaded: Lawwatch, args: list[str], code: int, message: str) -> None:
    result = loaded(*args, code=code)
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_show_includes_tags_and_versions(loaded: Lawwatch) -> None:
    hit = loaded.json("search", '"29 jurisdictions"')["hits"][0]  # type: ignore[index]
    doc = loaded.json("show", str(hit["id"]))
    assert isinstance(doc, dict)
    assert doc["doc_type"] == "letter"
    ids = {j["id"] for j in doc["jurisdictions"]}
    assert {"fips:0820000", "fips:06", "fips:17", "fips:41", "fips:50"} <= ids  # Denver and four states
    assert any(s["section"] == "1373" and s["title"] == "8" for s in doc["statutes"])
    assert doc["versions"] == []
    assert "Louisville Metro" in loaded("show", str(hit["id"])).stdout


def test_export_import_round_trip(loaded: Lawwatch, tmp_path: Path) -> None:
    exported = tmp_path / "all.jsonl"
    loaded("export", "-o", str(exported))
    copy_dir = tmp_path / "copy"
    copy_dir.mkdir()
    other = Lawwatch(copy_dir, f"sqlite:///{copy_dir / 'archive.db'}")
    summary = json.loads(other("import", str(exported), "--format", "lawwatch", "--json").stdout)
    assert (summary["new"], summary["errors"]) == (8, 0)
    again = copy_dir / "again.jsonl"
    other("export", "-o", str(again))

    def stable(path: Path) -> list[dict[str, object]]:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for row in rows:
            for volatile in ("id", "updated_at"):
                row.pop(volatile)
        return sorted(rows, key=lambda r: str(r["url"]))

    assert stable(exported) == stable(again)


def test_export_csv_with_filter(loaded: Lawwatch) -> None:
    rows = list(csv.DictReader(io.StringIO(loaded("export", "--format", "csv", "--jurisdiction", "Chicago").stdout)))
    assert len(rows) >= 2
    assert all("Chicago, IL (fips:1714000)" in r["jurisdictions"].split("; ") for r in rows)  # names and ids


def test_within_widens_a_state_in_search_and_export(loaded: Lawwatch) -> None:
    def found(*args: str) -> tuple[set[int], set[int]]:
        searched = loaded.json("search", "", "--jurisdiction", "Illinois", *args)
        exported = loaded("export", "--jurisdiction", "Illinois", *args).stdout.splitlines()
        assert isinstance(searched, dict)
        return {h["id"] for h in searched["hits"]}, {json.loads(line)["id"] for line in exported}

    named, named_export = found()
    within, within_export = found("--within")
    assert named == named_export and within == within_export
    assert named and named < within  # Chicago, Cook County and "…, Illinois" mentions count with --within


def test_status_shows_import_runs(loaded: Lawwatch) -> None:
    report = loaded.json("status")
    assert isinstance(report, dict) and report["documents"] == 8
    (source,) = report["sources"]
    assert source["source"] == "doj_api" and source["documents"] == 8
    run = source["last_run"]
    assert run["status"] == "partial" and run["new"] == 8 and run["errors"] == 4
    assert run["error_messages"][0].startswith("line 9: ")
    assert "doj_api" in loaded("status").stdout


def test_config_check_show_and_bad_config(lawwatch: Lawwatch, tmp_path: Path) -> None:
    assert "OK (0 sources, 0 alert rules)" in lawwatch("config", "check").stdout
    shown = json.loads(lawwatch("config", "show").stdout)
    assert shown["archive"]["url"].startswith("sqlite:///")
    lawwatch.config.write_text('[archive]\nurl = "sqlite:///x.db"\nnope = 1\n', encoding="utf-8")
    result = lawwatch("config", "check", code=2)
    assert result.stderr.strip() == f"Error: {lawwatch.config}: archive.nope: unknown key (known keys: echo, url)"


def test_repo_settings_mask_secrets(tmp_path: Path) -> None:
    settings = Path(__file__).resolve().parent.parent / "settings.toml"
    result = CliRunner(env={"SLACK_BOT_TOKEN": "xoxb-not-a-real-token-123"}).invoke(
        cli, ["--config", str(settings), "config", "show"]
    )
    assert result.exit_code == 0, result.output
    assert "xoxb-not-a-real-token-123" not in result.output
    assert json.loads(result.stdout)["alerts"]["slack"]["token"] == "********"


def test_db_upgrade_and_reclassify(loaded: Lawwatch) -> None:
    assert "archive at revision" in loaded("db", "upgrade").stdout
    summary = loaded.json("reclassify", "--all")
    assert summary == {"documents": 8, "changed": 0}


@pytest.mark.postgres
def test_round_trip_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    pg = Lawwatch(tmp_path, postgres_url)
    pg("import", str(SAMPLE))
    data = pg.json("search", "1373", "--jurisdiction", "Cook County, IL")
    assert isinstance(data, dict) and data["total"] == 3
    exported = tmp_path / "pg.jsonl"
    pg("export", "-o", str(exported))
    assert len(exported.read_text(encoding="utf-8").splitlines()) == 8


def test_import_records_each_sources_own_counts(lawwatch: Lawwatch, tmp_path: Path) -> None:
    lines = [
        {"source": "pacer_rss", "url": "https://ecf.paed.uscourts.gov/doc1/1", "title": "ORDER", "body_text": "Order."},
        {"source": "pacer_rss", "url": "https://ecf.paed.uscourts.gov/doc1/2", "title": "MEMO", "body_text": "Memo."},
        {
            "source": "courtlistener",
            "url": "https://www.courtlistener.com/opinion/1/",
            "title": "Op",
            "body_text": "Op",
        },
    ]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    lawwatch("import", str(mixed), "--format", "lawwatch")
    report = lawwatch.json("status")
    assert isinstance(report, dict)
    runs = {s["source"]: s["last_run"]["new"] for s in report["sources"]}
    assert runs == {"courtlistener": 1, "pacer_rss": 2}


def test_import_formats_come_from_the_importer(lawwatch: Lawwatch) -> None:
    from lawwatch.pipeline.importer import FORMATS

    assert f"[{'|'.join(FORMATS)}]" in lawwatch("import", "--help").stdout
    result = lawwatch("import", str(SAMPLE), "--format", "nope", code=2)
    assert "'nope' is not one of " + ", ".join(repr(f) for f in FORMATS) in result.stderr


def test_crawl_usage_errors_keep_the_commands_usage_line(lawwatch: Lawwatch) -> None:
    result = lawwatch("crawl", "nope", code=2)
    assert result.stderr.startswith("Error: unknown source nope (configured: none configured) (usage: ")
    assert result.stderr.endswith(" crawl [OPTIONS] [SOURCE ...])\n") and len(result.stderr.splitlines()) == 1


def test_a_busy_archive_is_one_line(lawwatch: Lawwatch, monkeypatch: pytest.MonkeyPatch) -> None:
    from lawwatch.errors import ArchiveError
    from lawwatch.pipeline import db

    def busy(*args: object, **kwargs: object) -> None:
        raise ArchiveError("the archive is busy: no database connection came free in time")

    monkeypatch.setattr(db, "open_archive", busy)
    result = lawwatch("status", code=1)
    assert result.stderr == "Error: the archive is busy: no database connection came free in time\n"
