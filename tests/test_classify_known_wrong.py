"""The wrong tags left open by issue 13, each fixed by a general rule and pinned here: a county's name with its state
("Middlesex, New Jersey"), names listed after "the cities of", a county's bare name by prominence ("Sonoma"), a
state's name inside an organisation's ("Arkansas Federal Credit Union"), "the Oregon city of Portland", a surname the
document uses for a person; and the gazetteer's disk cache."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import pytest

from lawwatch.pipeline.classify import classify
from lawwatch.pipeline.classify import gazetteer as gz
from lawwatch.pipeline.places import resolve_place


def tags(text: str) -> list[tuple[str, str, str]]:
    """(id, role, resolved_by) of every tag, in text order."""
    return [(j.id, j.role, j.resolved_by) for j in classify(text).jurisdictions]


def named(text: str) -> set[str]:
    return {j.id for j in classify(text).jurisdictions if j.role == "named"}


# --- the five known wrong tags ------------------------------------------------------------------------------------


def test_middlesex_new_jersey_is_the_county() -> None:
    text = "The Department of Justice sent letters to Newark, New Jersey and Middlesex, New Jersey."
    assert ("fips:34023", "named", "qualifier") in tags(text)  # Middlesex County, NJ
    assert ("fips:34", "locator", "qualifier") in tags(text)  # New Jersey only locates them: not named
    assert "fips:34" not in named(text)


def test_the_cities_of_new_york_and_albany_are_both_cities() -> None:
    text = "Those receiving the letters include the cities of New York and Albany, N.Y.; Burlington, Vt."
    found = tags(text)
    assert ("fips:3651000", "named", "place_cue") in found  # New York City, not New York State
    assert ("fips:3601000", "named", "qualifier") in found  # Albany, NY
    assert "fips:36" not in named(text)


def test_new_york_outside_a_list_of_cities_stays_the_state() -> None:
    assert named("The governor of New York signed the bill.") == {"fips:36"}
    assert named("Officials from the cities of Chicago and New York met.") >= {"fips:1714000", "fips:3651000"}


@pytest.mark.parametrize(
    "text",
    [
        "Officials in Sonoma said the jail will not honor detainers.",
        "Sonoma officials said the jail will not honor detainers.",
    ],
)
def test_bare_sonoma_is_the_county_by_prominence(text: str) -> None:
    # Sonoma County, CA has 494,000 people; its namesake the city of Sonoma 11,000 (below the gazetteer's threshold)
    assert tags(text) == [("fips:06097", "named", "prominence")]


def test_sonoma_listed_with_the_word_counties_is_the_county() -> None:
    text = "Monterey, Sonoma and Sacramento counties, Calif, also received the letter."
    assert named(text) == {"fips:06053", "fips:06097", "fips:06067"}


def test_a_state_inside_an_organisation_name_is_no_tag() -> None:
    text = (
        "Docket Text: Motion for attorney fees filed by American Airlines Federal Credit Union, "
        "Arkansas Federal Credit Union, Redstone Federal Credit Union."
    )
    assert "fips:05" not in {j.id for j in classify(text).jurisdictions}
    assert named("The New York Civil Liberties Union sued the state.") == set()
    # a state's offices are the state
    assert named("The Arkansas Department of Correction denied the request.") == {"fips:05"}


@pytest.mark.parametrize(
    "text",
    [
        "Johnson v. Ozark Mountain Poultry, Inc.\nDocket Text: FINAL SCHEDULING ORDER. Jury Trial set.",
        "Walker v. Hartford Fire Insurance Company",
        "San Antonio Winery, Inc. v. Jiaxing Micarose Trade Co.",
        "Red Pocket Inc. v. The Hanover Insurance Group",
    ],
)
def test_a_place_name_opening_a_company_name_is_no_tag(text: str) -> None:
    result = classify(text)
    assert result.jurisdictions == ()
    assert "name_of_institution" in result.signals["jurisdictions"]["dropped"]


def test_a_place_before_other_capitalised_words_stays_a_place() -> None:
    assert named("The Chicago Police Department said the jail is full.") == {"fips:1714000"}
    assert named("The Texas Department of Public Safety said so.") == {"fips:48"}


def test_the_oregon_city_of_portland_is_portland_oregon() -> None:
    text = "The Oregon city of Portland adopted a sanctuary policy."
    assert tags(text) == [("fips:41", "locator", "qualifier"), ("fips:4159000", "named", "qualifier")]
    assert ("fips:4835000", "named", "qualifier") in tags("The Texas city of Houston sued.")  # not Texas City, TX
    assert named("the Oregon county of Multnomah") == {"fips:41051"}
    # the state before the name is no address qualifier: a ZIP code elsewhere does not make Portland an address
    assert named("97204 is its ZIP code. The Oregon city of Portland sued.") == {"fips:4159000"}


# --- the rules behind them, at their edges --------------------------------------------------------------------------


def test_a_middlesex_without_state_is_ambiguous() -> None:
    # MA 1.6 million, NJ 825,000: no candidate has ten times the next one's people
    result = classify("Prosecutors in Middlesex said the case was closed.")
    assert result.jurisdictions == ()
    assert result.signals["jurisdictions"]["dropped"] == {"ambiguous": ["Middlesex"]}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("He served at Kings Bay, Ga. for two years.", "part_of_name"),  # Kings County, NY by prominence otherwise
        ("The office is at 121 North La Salle Street in the Loop.", "part_of_name"),
        ("The Sacramento Kings won again.", "part_of_name"),
        ("Sen. Crowley voted no.", "person"),
    ],
)
def test_a_county_name_inside_a_longer_name_or_a_persons_is_no_county(text: str, why: str) -> None:
    result = classify(text)
    assert not any(j.kind == "county" for j in result.jurisdictions)
    assert why in result.signals["jurisdictions"]["dropped"]


def test_a_county_name_needs_one_state_in_the_document_or_prominence() -> None:
    # Humboldt, Tenn. is a town below the gazetteer's threshold; Humboldt County, CA has 135,000 people (< 200,000)
    text = "Veterans homes in Humboldt and Murfreesboro, Tennessee, and one in Los Angeles, California."
    assert not any(j.id == "fips:06023" for j in classify(text).jurisdictions)
    assert "fips:06023" in named("Humboldt said its jail will not hold people for ICE. California law agrees.")


def test_county_names_that_are_words_or_peoples_names_have_no_key() -> None:
    keys = {k.text: k for k in gz.load().keys}
    assert keys["sonoma"].candidates == ((gz.load().by_id["fips:06097"], gz.COUNTY_NAME),)
    for word in ("cook", "orange", "atlantic", "creek", "harris", "wayne"):
        assert word not in keys or all(form != gz.COUNTY_NAME for _, form in keys[word].candidates), word
    assert all(form == "bare" for _, form in keys["monterey"].candidates)  # a city's name stays the city's


def test_a_surname_used_for_a_person_is_a_person_throughout() -> None:
    text = (
        "Wilson v. Filtrex Service Group Inc\nCase 4:18-cv-00499 (oknd)\n"
        "Docket Text: JOINT STATUS REPORT by Christopher Boley, Scott Avery Wilson (Wiley, Joshua)"
    )
    result = classify(text)
    assert result.jurisdictions == ()
    assert result.signals["jurisdictions"]["dropped"]["person"] == ["Wilson"]
    # qualified, the place stays a place
    assert "fips:3774540" in named("Judge Wilson ruled in a case from Wilson, N.C. last week.")


def test_places_resolves_county_names_as_the_classifier_does() -> None:
    assert resolve_place("Sonoma").id == "fips:06097"
    assert resolve_place("Middlesex, NJ").id == "fips:34023"


# --- the gazetteer's disk cache -------------------------------------------------------------------------------------


def test_the_cached_gazetteer_equals_the_shipped_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    built = gz.load.__wrapped__()  # no cache yet: parsed from the file, then written
    files = list((tmp_path / "lawwatch").glob("gazetteer-*.pickle"))
    assert len(files) == 1
    again = gz.load.__wrapped__()  # read from the cache
    shipped = gz.loads(gz.GAZETTEER_FILE.read_text(encoding="utf-8"))
    for gaz in (built, again):
        assert (gaz.entries, gaz.keys, gaz.first_names, gaz.state_forms, gaz.by_id) == (
            shipped.entries,
            shipped.keys,
            shipped.first_names,
            shipped.state_forms,
            shipped.by_id,
        )
        assert list(gaz.state_forms) == list(shipped.state_forms)
        assert sorted(gaz.automaton.items()) == sorted(shipped.automaton.items())
        assert type(gaz.keys[0]) is gz.Key and type(gaz.entries[0]) is gz.Entry
    assert isinstance(pickle.loads(files[0].read_bytes()), tuple)


def test_the_gazetteer_cache_is_keyed_by_the_files_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    gz.load.__wrapped__()
    other = tmp_path / "gazetteer.json"
    shipped = gz.GAZETTEER_FILE.read_text(encoding="utf-8")
    other.write_text(shipped.replace('"Cook County"', '"Cook County X"', 1), encoding="utf-8")
    monkeypatch.setattr(gz, "GAZETTEER_FILE", other)
    changed = gz.load.__wrapped__()
    assert len(list((tmp_path / "lawwatch").glob("gazetteer-*.pickle"))) == 2
    assert any(e.name == "Cook County X" for e in changed.entries)


def test_a_new_cache_file_removes_its_kinds_files_nothing_has_read_for_a_month(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lawwatch.pipeline.classify import cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = tmp_path / "lawwatch"
    folder.mkdir()
    month_ago = time.time() - (cache.STALE_DAYS + 1) * 86400
    stale, recent, other_kind = (folder / n for n in ("table-old.pickle", "table-new.pickle", "courts-old.pickle"))
    for path in (stale, recent, other_kind):
        path.write_bytes(pickle.dumps("earlier version"))
    for path in (stale, other_kind):
        os.utime(path, (month_ago, month_ago))
    assert cache.cached("table-v2", lambda: [1, 2], kind="table") == [1, 2]  # built and written
    assert not stale.exists()  # the same kind, unread for a month
    assert recent.exists() and other_kind.exists()  # read lately (another install's), or another kind
    written = cache.cache_path("table-v2")
    os.utime(written, (month_ago, month_ago))
    assert cache.cached("table-v2", lambda: [3]) == [1, 2]  # read from the file, which reading touches
    assert written.stat().st_mtime > month_ago + 86400
