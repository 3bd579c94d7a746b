"""Jurisdiction recognition: the written forms of the issue and every trap, one at a time."""

from __future__ import annotations

import pytest

from lawwatch.pipeline.classify import JurisdictionTag, classify, jurisdiction_catalog, resolve_jurisdiction
from lawwatch.pipeline.classify import gazetteer as gz


def ids(text: str) -> list[str]:
    """The jurisdictions ``text`` names (role "named"), in order; the locators are tested on their own below."""
    return [j.id for j in classify(text).jurisdictions if j.role == "named"]


def roles(text: str, title: str | None = None) -> list[tuple[str, str, int, int]]:
    """Every tag as (id, role, mentions, first)."""
    return [(j.id, j.role, j.mentions, j.first) for j in classify(text, title=title).jurisdictions]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The City and County of San Francisco sued.", ["fips:0667000"]),
        ("The City and County of Denver replied.", ["fips:0820000"]),
        ("Louisville Metro responded.", ["fips:2148006"]),
        ("Miami-Dade County complied.", ["fips:12086"]),
        ("New York City was named.", ["fips:3651000"]),
        ("NYC was named.", ["fips:3651000"]),
        ("Officials in Washington, D.C. met.", ["fips:11"]),
        ("Officials of the District of Columbia met.", ["fips:11"]),
        ("Cook County, Ill. replied.", ["fips:17031"]),
        ("Chicago, IL replied.", ["fips:1714000"]),
        ("Fremont, Calif. replied.", ["fips:0626000"]),
        ("Albany, N.Y. replied.", ["fips:3601000"]),
        ("Erie, Pa. replied.", ["fips:4224000"]),
        ("THE CITY OF PHILADELPHIA v. SESSIONS", ["fips:4260000"]),
        ("STATE OF CALIFORNIA v. SESSIONS", ["fips:06"]),
        ("Orleans Parish answered.", ["fips:22071"]),
        ("St. Louis and Saint Paul replied.", ["fips:2965000", "fips:2758000"]),
    ],
)
def test_written_forms(text: str, expected: list[str]) -> None:
    assert ids(text) == expected


def test_city_followed_by_its_state_resolves_in_that_state() -> None:
    assert ids("Portland, Maine and Springfield, Mass.") == ["fips:2360545", "fips:2567000"]
    assert ids("Kansas City, Mo. replied.") == ["fips:2938000"]


def test_city_followed_by_a_state_without_such_a_place_gives_nothing() -> None:
    assert ids("Officials in Anytown, Va. replied.") == []
    assert ids("Officials in Springfield, Ariz. replied.") == []  # no Springfield in Arizona: not another one


def test_a_place_filling_its_county_is_the_county() -> None:
    # Arlington, Va. is a census-designated place coextensive with Arlington County: the county is the jurisdiction
    tags = classify("ICE's office in Arlington, Va. replied.").jurisdictions
    assert [(t.id, t.role, t.resolved_by) for t in tags] == [
        ("fips:51013", "named", "county_of_place"),
        ("fips:51", "locator", "qualifier"),
    ]
    assert ids("Arlington, Texas, police replied.") == ["fips:4804000"]  # a city of that name: the city


def test_new_york_state_unless_the_text_is_about_the_city() -> None:
    assert ids("New York lawmakers passed a bill.") == ["fips:36"]
    assert ids("New York told the NYPD to ignore detainers; New York will not yield.") == ["fips:3651000"]
    assert ids("The city of New York sued.") == ["fips:3651000"]
    assert ids("New York, N.Y. replied.") == ["fips:3651000"]
    assert ids("New York State and New York City sued.") == ["fips:36", "fips:3651000"]


def test_washington() -> None:
    assert ids("A panel at George Washington University met.") == []
    assert ids("President George Washington said.") == []
    assert ids("The Washington Post reported.") == []
    assert ids("Officials in Washington, DC met.") == ["fips:11"]
    assert ids("Washington was mentioned alone.") == []
    assert ids("Washington state sued. Washington said.") == ["fips:53"]
    assert ids("Seattle sued; Washington backed it.") == ["fips:5363000", "fips:53"]
    assert ids("Oregon, Washington and California sued.") == ["fips:41", "fips:53", "fips:06"]


def test_bare_ambiguous_names_need_a_state() -> None:
    assert ids("Officials in Springfield, Jackson and Columbia met.") == []
    assert ids("Illinois lawmakers met in Springfield.") == ["fips:17", "fips:1772000"]
    assert ids("Jackson, the capital of Mississippi, replied.") == ["fips:2836000", "fips:28"]


def test_a_much_larger_namesake_wins() -> None:
    assert ids("Officials in Dallas replied.") == ["fips:4819000"]


def test_foreign_namesakes_need_a_state() -> None:
    assert ids("He fled to Paris and then Lima.") == []
    assert ids("Paris, Texas police replied.") == ["fips:4855080"]


def test_person_names_and_words_are_not_places() -> None:
    text = (
        "Attorney General Jeff Sessions spoke at the Justice Department. Mayor Kenney and Judge Jackson listened. "
        "Mobile phones were banned on Independence Day. Benton J. Campbell and Roy Conn attended."
    )
    assert ids(text) == []


def test_common_word_place_needs_its_state() -> None:
    assert ids("Mobile, Alabama police replied.") == ["fips:0150000"]
    assert ids("The City of Mobile replied.") == ["fips:0150000"]
    assert ids("Mobile police replied.") == []


def test_names_of_laws_and_schools_are_not_places() -> None:
    assert ids("The Sherman Act and the Lacey Act apply; Georgetown University hosted.") == []


def test_courts_are_not_jurisdictions() -> None:
    result = classify("The Eastern District of Pennsylvania and the Northern District of Illinois ruled.")
    assert result.jurisdictions == ()
    assert [c.id for c in result.courts] == ["paed", "ilnd"]


def test_addresses_and_datelines_are_low_signal() -> None:
    result = classify("WASHINGTON – The Department wrote from Washington, DC 20530 to Chicago.")
    assert [j.id for j in result.jurisdictions] == ["fips:1714000"]
    assert set(result.signals["jurisdictions"]["low_signal"]) == {"fips:11"}


def test_cited_case_names_are_low_signal() -> None:
    result = classify("See City of Chicago v. Sessions, 888 F.3d 272 (7th Cir. 2018). Philadelphia sued.")
    assert [j.id for j in result.jurisdictions] == ["fips:4260000"]


def test_mentions_and_first_offset() -> None:
    text = "Philadelphia sued. The City of Philadelphia won. Philadelphia, Pa. celebrated."
    tag, locator = classify(text).jurisdictions
    assert (tag.id, tag.name, tag.kind, tag.state, tag.mentions, tag.first, tag.role) == (
        "fips:4260000",
        "Philadelphia",
        "city",
        "PA",
        3,
        0,
        "named",
    )
    assert (locator.id, locator.name, locator.role, locator.mentions, locator.first) == (
        "fips:42",
        "Pennsylvania",
        "locator",
        1,
        text.index("Pa."),
    )


# --- roles: a state that only qualifies a place is a locator ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Berkeley, California passed an ordinance.", [("fips:0606000", "named"), ("fips:06", "locator")]),
        ("Chicago, Ill. replied.", [("fips:1714000", "named"), ("fips:17", "locator")]),
        ("Cook County, Ill. replied.", [("fips:17031", "named"), ("fips:17", "locator")]),
        ("Cook County, IL replied.", [("fips:17031", "named"), ("fips:17", "locator")]),
        ("New York, N.Y. replied.", [("fips:3651000", "named"), ("fips:36", "locator")]),
        ("Paris, Texas police replied.", [("fips:4855080", "named"), ("fips:48", "locator")]),
        ("Mobile, Alabama police replied.", [("fips:0150000", "named"), ("fips:01", "locator")]),
    ],
)
def test_a_state_that_only_qualifies_a_place_is_a_locator(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(j.id, j.role) for j in classify(text).jurisdictions] == expected


def test_locator_only_state_counts_its_qualifier_uses() -> None:
    text = "Berkeley, California passed an ordinance; Berkeley, Calif. officials spoke."
    assert roles(text) == [
        ("fips:0606000", "named", 2, 0),
        ("fips:06", "locator", 2, text.index("California")),
    ]


def test_cook_county_ill_gives_an_illinois_locator() -> None:
    (county, state) = classify("The Department wrote to Cook County, Ill. on Monday.").jurisdictions
    assert (county.id, county.role, county.mentions) == ("fips:17031", "named", 1)
    assert (state.id, state.name, state.kind, state.state) == ("fips:17", "Illinois", "state", "IL")
    assert (state.role, state.mentions, state.first) == ("locator", 1, 37)


def test_a_state_named_and_used_as_qualifier_is_one_named_tag() -> None:
    text = "California sued. Berkeley, California and Oakland, Calif. joined."
    assert roles(text) == [
        ("fips:06", "named", 1, 0),  # the named use only, as before roles: the qualifiers do not count
        ("fips:0606000", "named", 1, text.index("Berkeley")),
        ("fips:0653000", "named", 1, text.index("Oakland")),
    ]
    later = "Berkeley, California joined; California sued."  # named after its qualifier use: first is the named use
    assert roles(later) == [("fips:0606000", "named", 1, 0), ("fips:06", "named", 1, later.index("California sued"))]


def test_multiple_qualifiers_of_several_states() -> None:
    text = "Letters went to Chicago, Ill., Cook County, IL, Gary, Ind. and Springfield, Illinois."
    assert roles(text) == [
        ("fips:1714000", "named", 1, text.index("Chicago")),
        ("fips:17", "locator", 3, text.index("Ill.")),
        ("fips:17031", "named", 1, text.index("Cook")),
        ("fips:1827000", "named", 1, text.index("Gary")),
        ("fips:18", "locator", 1, text.index("Ind.")),
        ("fips:1772000", "named", 1, text.index("Springfield")),
    ]


def test_the_title_is_classified_with_the_body() -> None:
    # a state only qualifying a place in the body is a locator; named in the title, it is named (first 0)
    body = "The Department sued Berkeley, California over its ordinance."
    assert roles(body) == [
        ("fips:0606000", "named", 1, body.index("Berkeley")),
        ("fips:06", "locator", 1, body.index("California")),
    ]
    assert roles(body, title="California city sued") == [
        ("fips:06", "named", 1, 0),
        ("fips:0606000", "named", 1, body.index("Berkeley")),
    ]
    # places named only in the title are tagged; the title gives state context to the body
    assert [t for t, *_ in roles("The Department filed a brief.", title="Philadelphia sues")] == ["fips:4260000"]
    assert roles("Springfield replied.", title="Springfield, Ill., gets a letter") == [
        ("fips:1772000", "named", 2, 0),
        ("fips:17", "locator", 1, 0),
    ]
    spans: list[tuple[int, int, str, str]] = []
    classify("Springfield replied.", title="Springfield, Ill., gets a letter", mentions=spans)
    assert spans == [(0, 11, "fips:1772000", "named")]  # the web page highlights the body's mentions only


def test_no_locator_without_a_reported_place() -> None:
    assert roles("The office at 219 S. Dearborn St., Chicago, IL 60604 wrote.") == []  # an address: low signal
    assert roles("ICE's office in Anytown, Va. replied.") == []  # no such place in the gazetteer
    assert roles("Officials in Washington, D.C. met.") == [("fips:11", "named", 1, 13)]  # DC locates itself


def test_role_and_resolved_by_are_the_last_fields_with_defaults() -> None:
    tag = JurisdictionTag("fips:17", "Illinois", "state", "IL", 1, 0)
    assert (tag.role, tag.resolved_by) == ("named", "")
    assert list(tag.to_dict()) == ["id", "name", "kind", "state", "mentions", "first", "role", "resolved_by"]
    assert classify("Gary, Ind.").to_dict()["jurisdictions"][1] == {
        "id": "fips:18",
        "name": "Indiana",
        "kind": "state",
        "state": "IN",
        "mentions": 1,
        "first": 6,
        "role": "locator",
        "resolved_by": "qualifier",
    }


def test_resolve_gives_the_place_not_its_locator() -> None:
    tag = resolve_jurisdiction("Berkeley, California")
    assert tag is not None and (tag.id, tag.role) == ("fips:0606000", "named")


def test_lower_case_text_is_not_a_place() -> None:
    assert ids("the new york style pizza in chicago") == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Cook County, IL", "fips:17031"),
        ("cook county, il", "fips:17031"),
        ("Philadelphia", "fips:4260000"),
        ("fips:17031", "fips:17031"),
        ("NYC", "fips:3651000"),
        ("new york city", "fips:3651000"),
        ("Illinois", "fips:17"),
        ("Louisville Metro", "fips:2148006"),
    ],
)
def test_resolve_jurisdiction(query: str, expected: str) -> None:
    tag = resolve_jurisdiction(query)
    assert tag is not None and tag.id == expected


def test_resolve_jurisdiction_unknown() -> None:
    assert resolve_jurisdiction("Atlantis") is None
    assert resolve_jurisdiction("fips:99999") is None


def test_catalog_covers_states_counties_and_places() -> None:
    catalog = jurisdiction_catalog()
    kinds = {e["kind"] for e in catalog}
    assert {"state", "county", "city", "consolidated", "territory"} <= kinds
    by_id = {e["id"]: e for e in catalog}
    assert by_id["fips:17031"] == {
        "id": "fips:17031",
        "name": "Cook County",
        "kind": "county",
        "state": "IL",
        "fips": "17031",
    }
    assert sum(e["kind"] == "county" for e in catalog) > 3000
    assert sum(e["kind"] in ("city", "consolidated") for e in catalog) > 2000
    assert len(by_id) == len(catalog)


def test_ambiguity_flags_come_from_word_lists() -> None:
    gaz = gz.load()
    flags = {k.text: k.flags for k in gaz.keys}
    assert flags["mobile"] & gz.COMMON_WORD
    assert flags["independence"] & gz.COMMON_WORD
    assert not flags["boston"] & gz.COMMON_WORD
    assert flags["jackson"] & gz.PERSON and flags["jackson"] & gz.HOMONYM
    assert flags["washington"] & gz.SURNAME
    assert flags["springfield"] & gz.HOMONYM
    assert flags["paris"] & gz.FOREIGN
    assert flags["chicago"] == 0
