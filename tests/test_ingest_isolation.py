"""One bad document never costs its batch (issue 8, items 2 and 3): what a server sends is made storable (NULs, lone
surrogates, NaN, sizes capped), absurd dates become "no date" with a note, and a document the archive still refuses
is dropped alone, named, with the database's reason and never its SQL. The archive parts run on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from lawwatch.crawler.items import DocumentItem
from lawwatch.errors import ArchiveError
from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.ingest import IngestSettings, describe_error, ingest, ingest_isolated
from lawwatch.pipeline.models import Document, SourceState
from lawwatch.pipeline.normalize import (
    BODY_MAX,
    EXTERNAL_ID_MAX,
    TITLE_MAX,
    URL_MAX,
    normalize_document,
    normalize_noted,
    plausible_date,
    read_date,
    to_utc,
)

BODY = "<p>The Department wrote to Philadelphia, Pennsylvania about 8 U.S.C. 1373.</p>"


def _item(n: int, **changes: Any) -> DocumentItem:
    fields: dict[str, Any] = dict(
        source="doj_api",
        url=f"https://www.justice.gov/opa/pr/iso-{n}",
        title=f"Isolation {n}",
        form="press_release",
        external_id=f"iso-{n}",
        html=BODY,
        published="2017-10-12T11:30:00-04:00",
        listing_signature=f"sig-{n}",
    )
    fields.update(changes)
    return DocumentItem(**fields)


# --- dates ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-05:00",  # past year 9999 in UTC
        "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
        "Mon, 01 Jan 0000 00:00:00 GMT",  # dateutil would read 2000-01-01
        "Sat, 01 Jan 0001 00:00:00 +1400",  # and 2001 here
        "99999999999999",  # epoch seconds far past year 9999
        10**20,
    ],
)
def test_out_of_range_dates_are_value_errors_never_overflow(value: Any) -> None:
    with pytest.raises(ValueError, match="not a date"):
        to_utc(value)
    assert read_date(value)[0] is None and "unreadable date" in (read_date(value)[1] or "")


def test_plausible_dates_run_from_1789_to_tomorrow() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert plausible_date(datetime(1789, 1, 1, tzinfo=UTC), now) and plausible_date(now + timedelta(hours=23), now)
    assert not plausible_date(datetime(1788, 12, 31, tzinfo=UTC), now)
    assert not plausible_date(now + timedelta(days=2), now)
    assert read_date("1700-01-01")[1] == "implausible date '1700-01-01' (outside 1789 to tomorrow)"
    assert read_date("2017-10-12T11:30:00-04:00") == (datetime(2017, 10, 12, 15, 30, tzinfo=UTC), None)
    assert read_date("Mon, 06 Feb 2023 09:05:12 MST")[0] == datetime(2023, 2, 6, 16, 5, 12, tzinfo=UTC)
    assert read_date(None) == (None, None)


def test_an_absurd_date_is_no_date_with_a_note_on_the_item_and_an_error_for_an_import() -> None:
    doc, note = _item(1, published="9999-12-31T23:59:59-05:00").normalize()
    assert doc.published_at is None
    assert note == (
        "https://www.justice.gov/opa/pr/iso-1: unreadable date '9999-12-31T23:59:59-05:00'; stored without one"
    )
    with pytest.raises(ValueError, match="implausible date '1700-01-01'"):
        normalize_document(source="s", title="t", text="x", published="1700-01-01")


# --- what every backend can store --------------------------------------------------------------------------------


def test_nul_surrogates_nan_and_sizes_are_made_storable() -> None:
    doc, notes = normalize_noted(
        source="doj_api",
        url="https://www.justice.gov/opa/pr/x\x00y",
        external_id="u" * 300,
        title="Title\x00 with NUL and a lone \ud800surrogate " + "word " * 1000,
        html="<p>Body\x00 with NUL\x01 and controls</p>" + "<p>" + "text " * (BODY_MAX // 4) + "</p>",
        metadata={"number": float("nan"), "teaser": "T\x00" * 5000, "nested": {"k\x00": ["a\x00"]}},
    )
    assert "\x00" not in doc.title + doc.body_text + (doc.url or "") + (doc.external_id or "")
    assert "\ud800" not in doc.title and doc.title.startswith("Title with NUL and a lone surrogate")
    assert doc.body_text.startswith("Body with NUL and controls")
    assert len(doc.title) <= TITLE_MAX and len(doc.body_text) <= BODY_MAX
    assert doc.external_id is not None and len(doc.external_id) == EXTERNAL_ID_MAX
    assert doc.external_id == normalize_noted(source="s", title="t", text="x", external_id="u" * 300)[0].external_id
    assert dict(doc.metadata) == {"number": None, "teaser": "T" * 2000, "nested": {"k": ["a"]}}
    assert [n.split(" ", 2)[:2] for n in notes] == [["title", "cut"], ["text", "cut"], ["external", "id"]]
    with pytest.raises(ValueError, match="URL has 3,0"):
        normalize_noted(source="s", title="t", text="x", url="https://example.org/" + "a" * 3000)
    assert URL_MAX == 2048


# --- the archive refuses one document ----------------------------------------------------------------------------


@pytest.fixture
def refusing(archive: Archive) -> Iterator[Archive]:
    """The archive with a trigger that refuses any document whose title contains REFUSE (as a database refuses a
    row for a reason the code did not foresee)."""
    with archive.session() as session:
        session.execute(text("DELETE FROM source_state"))
        if archive.dialect == "sqlite":
            session.execute(
                text(
                    "CREATE TRIGGER refuse_docs BEFORE INSERT ON documents WHEN NEW.title LIKE '%REFUSE%' "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"
                )
            )
        else:
            session.execute(
                text(
                    "CREATE FUNCTION refuse_docs() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "IF NEW.title LIKE '%REFUSE%' THEN RAISE EXCEPTION 'refused by the test trigger'; END IF; "
                    "RETURN NEW; END $$"
                )
            )
            session.execute(
                text(
                    "CREATE TRIGGER refuse_docs BEFORE INSERT ON documents FOR EACH ROW EXECUTE FUNCTION refuse_docs()"
                )
            )
    try:
        yield archive
    finally:
        with archive.session() as session:
            session.execute(
                text("DROP TRIGGER IF EXISTS refuse_docs" + (" ON documents" if archive.dialect != "sqlite" else ""))
            )
            if archive.dialect != "sqlite":
                session.execute(text("DROP FUNCTION IF EXISTS refuse_docs()"))


def _settings(archive: Archive) -> IngestSettings:
    return IngestSettings(archive.engine.url.render_as_string(hide_password=False))


def test_a_refused_document_is_dropped_alone_and_named_without_sql(refusing: Archive) -> None:
    items = [_item(1), _item(2, title="REFUSE me"), _item(3, published="0001-01-01T00:00:00+14:00")]
    result = ingest_isolated(refusing, items, _settings(refusing))
    assert [i.document.url for i in result.stored] == [items[0].url, items[2].url]
    assert [(p.index, p.dropped) for p in result.problems] == [(1, True), (2, False)]
    message = result.problems[0].message
    assert message.startswith("dropped https://www.justice.gov/opa/pr/iso-2: the archive refused it (")
    assert "refused by the test trigger" in message and "INSERT" not in message and "[SQL" not in message
    with refusing.session() as session:
        titles = session.scalars(select(Document.title).order_by(Document.title)).all()
        keys = session.scalars(select(SourceState.key).order_by(SourceState.key)).all()
    assert titles == ["Isolation 1", "Isolation 3"]
    assert [k.rsplit("-", 1)[1] for k in keys] == ["1", "3"]  # the refused one stays unknown: fetched again later

    counts = ingest(refusing, [_item(4, title="REFUSE too").normalize()[0], _item(5).normalize()[0]])
    assert counts.new == 1 and len(counts.problems) == 1 and "iso-4: the archive refused it" in counts.problems[0]


def test_when_the_archive_refuses_every_document_the_batch_fails_in_one_line(refusing: Archive) -> None:
    items = [_item(6, title="REFUSE a"), _item(7, title="REFUSE b")]
    with pytest.raises(ArchiveError) as info:
        ingest_isolated(refusing, items, _settings(refusing))
    assert str(info.value).startswith("storing 2 documents failed: ")
    assert "refused by the test trigger" in str(info.value) and "INSERT" not in str(info.value)


def test_describe_error_keeps_the_reason_and_drops_the_statement() -> None:
    from sqlalchemy.exc import IntegrityError

    error = IntegrityError("INSERT INTO documents (url) VALUES (?)", {"url": "x"}, Exception("UNIQUE failed: url\nx"))
    assert describe_error(error) == "Exception: UNIQUE failed: url"
    assert describe_error(KeyError("title")) == "an internal error (KeyError)"
