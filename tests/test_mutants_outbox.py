"""The alert outbox written by ingest (alerts/outbox.py): which rows an ingest writes, with which revision, due time and
"what changed". Written to kill the mutants that survived tests/test_alerts_delivery.py (issue 16, docs/mutation.md).
Every test goes through the one ingest service, as a crawl does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from lawwatch.alerts.outbox import Stored, cutoff, edit_size, enqueue
from lawwatch.alerts.rules import resolve_rules
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.filters import FilterableDocument
from lawwatch.pipeline.models import Document
from lawwatch.pipeline.normalize import NormalizedDocument, normalize_document
from tests.helpers.alerts import alert_settings, letter, outbox, run_ingest

ANY_CHANGE = """
[[alerts.rules]]
name = "every-edit"
statutes = ["1373"]
on_update = "any-change"
targets = [{targets}]
"""
URL = "https://www.justice.gov/opa/pr/edited"


def _url(archive: Archive) -> str:
    return archive.engine.url.render_as_string(hide_password=False)


def test_a_title_edit_says_before_and_after(archive: Archive, tmp_path: Path) -> None:
    config = alert_settings(tmp_path, _url(archive), rules=ANY_CHANGE)
    run_ingest(archive, config, [letter(1, url=URL)])
    run_ingest(archive, config, [letter(1, url=URL, title="Corrected letter")])
    changes = outbox(archive)[1]["why"]["changes"]
    assert changes == [
        {
            "field": "title",
            "before": "Justice Department letter number 1 on sanctuary policies",
            "after": "Corrected letter",
        }
    ]


def test_a_body_edit_says_how_much_was_added_and_removed(archive: Archive, tmp_path: Path) -> None:
    config = alert_settings(tmp_path, _url(archive), rules=ANY_CHANGE)
    first = letter(1, url=URL, extra="Old closing words.")
    run_ingest(archive, config, [first])
    run_ingest(archive, config, [letter(1, url=URL, extra="New closing words here.")])
    rows = outbox(archive)
    assert [r["revision"] for r in rows] == [0, 1]
    (change,) = rows[1]["why"]["changes"]
    assert change["field"] == "body"
    assert change["before"] == f"{len(first.body_text)} characters"
    added, removed = (int(n) for n in change["after"].replace(",", "").split() if n.isdigit())
    assert change["after"] == f"{added} characters added, {removed} removed"
    assert added > removed > 0  # "Old" out, "New" and " here" in


def test_a_pure_addition_to_the_body_removes_nothing(archive: Archive, tmp_path: Path) -> None:
    config = alert_settings(tmp_path, _url(archive), rules=ANY_CHANGE)
    run_ingest(archive, config, [letter(1, url=URL)])
    run_ingest(archive, config, [letter(1, url=URL, extra="Twelve chars")])
    (change,) = outbox(archive)[1]["why"]["changes"]
    assert change["after"] == "13 characters added, 0 removed"  # the space and the twelve characters


def test_title_and_body_edited_together_are_both_listed(archive: Archive, tmp_path: Path) -> None:
    config = alert_settings(tmp_path, _url(archive), rules=ANY_CHANGE)
    run_ingest(archive, config, [letter(1, url=URL)])
    run_ingest(archive, config, [letter(1, url=URL, title="New title", extra="More.")])
    assert [c["field"] for c in outbox(archive)[1]["why"]["changes"]] == ["title", "body"]


def test_each_edit_is_one_revision_more_per_target(archive: Archive, tmp_path: Path) -> None:
    config = alert_settings(tmp_path, _url(archive), rules=ANY_CHANGE, targets=("slack", "email"))
    run_ingest(archive, config, [letter(1, url=URL)])
    run_ingest(archive, config, [letter(1, url=URL, title="Second")])
    run_ingest(archive, config, [letter(1, url=URL, title="Third")])
    rows = outbox(archive)
    assert sorted((r["target"], r["revision"]) for r in rows) == [
        ("email", 0),
        ("email", 1),
        ("email", 2),
        ("slack", 0),
        ("slack", 1),
        ("slack", 2),
    ]
    assert {r["channel"] for r in rows if r["target"] == "email"} == {"email"}


def test_an_edit_under_new_match_writes_nothing(archive: Archive, tmp_path: Path) -> None:
    config = alert_settings(tmp_path, _url(archive))
    run_ingest(archive, config, [letter(1, url=URL)])
    run_ingest(archive, config, [letter(1, url=URL, title="Corrected letter on sanctuary policies")])
    assert [(r["revision"], r["why"].get("changes")) for r in outbox(archive)] == [(0, None)]


def test_a_row_is_pending_due_now_with_no_attempts(archive: Archive, tmp_path: Path) -> None:
    config = alert_settings(tmp_path, _url(archive))
    before = datetime.now(UTC)
    run_ingest(archive, config, [letter(1)])
    (row,) = outbox(archive)
    assert (row["status"], row["attempts"], row["digest"], row["revision"]) == ("pending", 0, None, 0)
    assert (row["rule"], row["target"], row["channel"]) == ("chicago-1373", "slack", "slack")
    assert before <= row["next_attempt_at"] == row["created_at"] <= datetime.now(UTC)
    assert row["why"]["statutes"] == ["8 U.S.C. § 1373"]


def test_a_digest_row_is_due_at_the_digest_time(sqlite_archive: Archive, tmp_path: Path) -> None:
    rules = """
[[alerts.rules]]
name = "hourly"
statutes = ["1373"]
digest = "1h"
targets = [{targets}]
"""
    config = alert_settings(tmp_path, _url(sqlite_archive), rules=rules)
    run_ingest(sqlite_archive, config, [letter(1)])
    (row,) = outbox(sqlite_archive)
    assert row["digest"] == "1h"
    assert row["next_attempt_at"] > row["created_at"]


def test_documents_without_rules_or_unchanged_write_nothing(sqlite_archive: Archive, tmp_path: Path) -> None:
    config = alert_settings(tmp_path, _url(sqlite_archive), rules="")
    run_ingest(sqlite_archive, config, [letter(1)])
    assert outbox(sqlite_archive) == []
    config = alert_settings(tmp_path, _url(sqlite_archive), rules=ANY_CHANGE)
    run_ingest(sqlite_archive, config, [letter(1)])  # unchanged: no alert, even for a rule that came later
    assert outbox(sqlite_archive) == []


def test_enqueue_counts_the_rows_it_added_across_insert_batches(sqlite_archive: Archive, tmp_path: Path) -> None:
    """410 rows (two insert batches): all written and counted; the same documents again add none."""
    run_ingest(
        sqlite_archive, alert_settings(tmp_path, _url(sqlite_archive), rules=""), [letter(n) for n in range(1, 206)]
    )
    config = alert_settings(tmp_path, _url(sqlite_archive), targets=("slack", "email"))
    rules = resolve_rules(config)
    with sqlite_archive.session() as session:
        rows = session.scalars(sa.select(Document)).all()
        stored = [Stored(row.id, "new", FilterableDocument.from_row(row)) for row in rows]
    now = datetime.now(UTC)
    with sqlite_archive.session() as session:
        assert enqueue(session, stored, rules, now) == 410
    with sqlite_archive.session() as session:
        assert enqueue(session, stored, rules, now) == 0
        assert enqueue(session, stored, [], now) == 0
        assert enqueue(session, [Stored(s.document_id, "unchanged", s.now) for s in stored], rules, now) == 0
    assert len(outbox(sqlite_archive)) == 410


def test_cutoff_is_the_oldest_publication_that_still_alerts() -> None:
    now = datetime(2026, 1, 2, tzinfo=UTC)
    assert cutoff(None, now) is None
    assert cutoff(86400.0, now) == now - timedelta(days=1)
    assert cutoff(0.0, now) == now


@pytest.mark.parametrize("published_days_ago", [29, 31])
def test_max_age_is_measured_from_now(sqlite_archive: Archive, tmp_path: Path, published_days_ago: int) -> None:
    config = alert_settings(tmp_path, _url(sqlite_archive), extra='max_age = "30d"')
    run_ingest(sqlite_archive, config, [letter(1, published=datetime.now(UTC) - timedelta(days=published_days_ago))])
    assert len(outbox(sqlite_archive)) == (1 if published_days_ago < 30 else 0)


def test_an_edit_that_first_matches_an_any_change_rule_is_revision_zero(archive: Archive, tmp_path: Path) -> None:
    config = alert_settings(tmp_path, _url(archive), rules=ANY_CHANGE)
    run_ingest(archive, config, [letter(1, url=URL, statute="federal immigration law")])
    assert outbox(archive) == []
    run_ingest(archive, config, [letter(1, url=URL)])  # the edit adds § 1373
    assert [r["revision"] for r in outbox(archive)] == [0]


def test_revisions_are_counted_per_document_rule_and_target(sqlite_archive: Archive, tmp_path: Path) -> None:
    url = _url(sqlite_archive)
    config = alert_settings(tmp_path, url, rules=ANY_CHANGE)
    other = "https://www.justice.gov/opa/pr/other"
    run_ingest(sqlite_archive, config, [letter(1, url=URL), letter(2, url=other)])
    for title in ("Second", "Third"):
        run_ingest(sqlite_archive, config, [letter(1, url=URL, title=title)])
    two_rules = ANY_CHANGE + ANY_CHANGE.replace("every-edit", "later-rule")
    config = alert_settings(tmp_path, url, rules=two_rules, targets=("slack", "email"))
    run_ingest(sqlite_archive, config, [letter(2, url=other, title="Other, edited")])
    run_ingest(sqlite_archive, config, [letter(1, url=URL, title="Fourth")])
    rows = [(r["document_id"], r["rule"], r["target"], r["revision"]) for r in outbox(sqlite_archive)]
    assert sorted(rows) == [
        (1, "every-edit", "email", 0),  # a target added later starts at 0
        (1, "every-edit", "slack", 0),
        (1, "every-edit", "slack", 1),
        (1, "every-edit", "slack", 2),
        (1, "every-edit", "slack", 3),
        (1, "later-rule", "email", 0),
        (1, "later-rule", "slack", 0),  # a rule added later starts at 0
        (2, "every-edit", "email", 0),
        (2, "every-edit", "slack", 0),
        (2, "every-edit", "slack", 1),  # the other document has its own count
        (2, "later-rule", "email", 0),
        (2, "later-rule", "slack", 0),
    ]


EVERYTHING = """
[[alerts.rules]]
name = "everything"
on_update = "any-change"
targets = [{targets}]
"""


def _page(body: str, title: str = "A page") -> NormalizedDocument:
    return normalize_document(
        source="doj_api",
        title=title,
        url="https://www.justice.gov/opa/pr/page",
        text=body,
        published=datetime.now(UTC) - timedelta(hours=1),
    )


def test_a_body_written_where_there_was_none_is_all_added(sqlite_archive: Archive, tmp_path: Path) -> None:
    config = alert_settings(tmp_path, _url(sqlite_archive), rules=EVERYTHING)
    run_ingest(sqlite_archive, config, [_page("")])
    run_ingest(sqlite_archive, config, [_page("Nine char")])
    run_ingest(sqlite_archive, config, [_page("")])
    changes = [r["why"].get("changes") for r in outbox(sqlite_archive)]
    assert changes == [
        None,
        [{"field": "body", "before": "0 characters", "after": "9 characters added, 0 removed"}],
        [{"field": "body", "before": "9 characters", "after": "0 characters added, 9 removed"}],
    ]


def test_a_pure_deletion_from_the_body_adds_nothing(sqlite_archive: Archive, tmp_path: Path) -> None:
    config = alert_settings(tmp_path, _url(sqlite_archive), rules=ANY_CHANGE)
    run_ingest(sqlite_archive, config, [letter(1, url=URL, extra="Twelve chars")])
    run_ingest(sqlite_archive, config, [letter(1, url=URL)])
    (change,) = outbox(sqlite_archive)[1]["why"]["changes"]
    assert change["after"] == "0 characters added, 13 removed"


def test_a_short_replacement_in_a_long_body_is_counted_as_what_changed(sqlite_archive: Archive, tmp_path: Path) -> None:
    config = alert_settings(tmp_path, _url(sqlite_archive), rules=EVERYTHING)
    body = letter(1).body_text
    assert "federal statute" in body and len(body) > 200
    run_ingest(sqlite_archive, config, [_page(body)])
    run_ingest(sqlite_archive, config, [_page(body.replace("federal statute", "law of the United States"))])
    (change,) = outbox(sqlite_archive)[1]["why"]["changes"]
    assert change["after"] == "16 characters added, 7 removed"


def test_edit_sizes_count_what_changed_in_short_and_long_texts() -> None:
    assert edit_size("same", "same") == (0, 0)
    assert edit_size("", "new text") == (8, 0) and edit_size("old", "") == (0, 3)
    assert edit_size("a federal statute here", "a law of the United States here") == (16, 7)
    # both middles long: compared word by word, each word counted by its characters
    words = [f"word{i:05d}" for i in range(3000)]
    before, after = " ".join(words), " ".join(words[:1000] + ["inserted"] + words[1000:2000] + words[2001:])
    assert edit_size(before, after) == (len("inserted "), len("word02000 "))
    rewritten = " ".join(w.upper() for w in words)
    assert edit_size(before, rewritten) == (len(rewritten), len(before))


def test_an_empty_title_or_body_that_stays_empty_is_no_change(sqlite_archive: Archive, tmp_path: Path) -> None:
    config = alert_settings(tmp_path, _url(sqlite_archive), rules=EVERYTHING)
    run_ingest(sqlite_archive, config, [_page("", title="First")])
    run_ingest(sqlite_archive, config, [_page("", title="Second")])  # the title changes, the body stays empty
    run_ingest(sqlite_archive, config, [_page("Some body", title="")])
    run_ingest(sqlite_archive, config, [_page("Other body", title="")])  # the body changes, the title stays empty
    fields = [[c["field"] for c in r["why"].get("changes", [])] for r in outbox(sqlite_archive)]
    assert fields == [[], ["title"], ["title", "body"], ["body"]]


def test_an_unchanged_document_does_not_hide_the_new_ones_after_it(sqlite_archive: Archive, tmp_path: Path) -> None:
    config = alert_settings(tmp_path, _url(sqlite_archive))
    run_ingest(sqlite_archive, config, [letter(1)])
    run_ingest(sqlite_archive, config, [letter(1), letter(2)])  # the first is unchanged, the second new
    assert len(outbox(sqlite_archive)) == 2
