"""The jurisdiction recogniser's behaviour that the mutation run of ``pipeline/classify/jurisdictions.py`` found
untested (docs/mutation.md): short news and court sentences, and the tags and signals they give."""

from __future__ import annotations

from typing import Any

import pytest

from lawwatch.pipeline.classify import JurisdictionTag, classify, resolve_jurisdiction
from lawwatch.pipeline.classify import jurisdictions as jur
from lawwatch.pipeline.classify.jurisdictions import find_jurisdictions


def tags(text: str, title: str | None = None) -> list[tuple[str, str, int, int, str]]:
    """Every tag as (id, role, mentions, first, resolved_by)."""
    return [(t.id, t.role, t.mentions, t.first, t.resolved_by) for t in classify(text, title=title).jurisdictions]


def named(text: str) -> list[tuple[str, str]]:
    """The named tags as (id, resolved_by)."""
    return [(t.id, t.resolved_by) for t in classify(text).jurisdictions if t.role == "named"]


def signals(text: str) -> dict[str, Any]:
    found: dict[str, Any] = classify(text).signals["jurisdictions"]
    return found


def test_a_city_qualified_by_its_state_is_named_and_the_state_locates_it() -> None:
    assert tags("Police in Chicago, Illinois said.") == [
        ("fips:1714000", "named", 1, 10, "qualifier"),
        ("fips:17", "locator", 1, 19, "qualifier"),
    ]
    assert signals("Police in Chicago, Illinois said.") == {"state_context": ["IL"]}


def test_a_two_letter_code_without_a_comma_qualifies() -> None:
    assert tags("Police in Chicago IL said.") == [
        ("fips:1714000", "named", 1, 10, "qualifier"),
        ("fips:17", "locator", 1, 18, "qualifier"),
    ]


def test_a_state_on_the_next_line_is_no_qualifier() -> None:
    # an address block or a list, not "Springfield, IL": the name stays a bare homonym
    assert signals("Springfield\nIL officials met.") == {"dropped": {"ambiguous": ["Springfield"]}}


def test_an_abbreviation_longer_than_two_letters_needs_its_comma() -> None:
    assert signals("Albany N.Y. officials said.") == {"dropped": {"ambiguous": ["Albany"]}}


@pytest.mark.parametrize(
    ("text", "dropped"),
    [
        ("Officials in Springfield, Ariz. replied.", {"other_place_in_state": ["Springfield"]}),
        ("The Sherman Act applies.", {"name_of_institution": ["Sherman"]}),
        ("Franklin County sued.", {"ambiguous": ["Franklin County"]}),
        ("Judge Washington ruled.", {"person": ["Washington"]}),
        ("Gary Indiana said.", {"person": ["Gary"]}),
        ("Mobile police replied.", {"common_word": ["Mobile"]}),
        ("Washington was mentioned alone.", {"needs_state_context": ["Washington"]}),
        ("He fled to Paris.", {"foreign_namesake": ["Paris"]}),
        ("Officials in Springfield met.", {"ambiguous": ["Springfield"]}),
        ("Port Columbus International Airport said.", {"ambiguous": ["Columbus"]}),
    ],
)
def test_each_dropped_name_says_why(text: str, dropped: dict[str, list[str]]) -> None:
    assert signals(text)["dropped"] == dropped


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Oregon sued.", [("fips:41", "state")]),
        ("Franklin County sued; Ohio joined.", [("fips:39049", "explicit+state"), ("fips:39", "unique")]),
        ("Cook County sued.", [("fips:17031", "prominence")]),
        ("The Dallas Cowboys said.", [("fips:4819000", "prominence")]),
        ("The cities of New York and Albany sued.", [("fips:3651000", "place_cue")]),
        ("Sonoma burned.", [("fips:06097", "prominence")]),
        ("Seattle sued.", [("fips:5363000", "unique")]),
        ("Houston police said.", [("fips:4835000", "unique")]),
        ("Virginia Governor Glenn Youngkin said.", [("fips:51", "state")]),
        ("Officials in Washington, District of Columbia met.", [("fips:11", "qualifier")]),
        ("ICE's office in Arlington, Va. replied.", [("fips:51013", "county_of_place")]),
    ],
)
def test_each_tag_says_how_it_was_resolved(text: str, expected: list[tuple[str, str]]) -> None:
    assert named(text) == expected


def test_a_homonym_in_one_context_state_of_two_is_that_one() -> None:
    # Dallas, Oregon: the documents names two states; a third makes it a list of places, where Dallas is Dallas, TX
    text = "Dallas police met officials from Salem, Oregon and Portland, Maine."
    assert named(text)[0] == ("fips:4117700", "state_context")
    text = "Dallas police met officials from Salem, Oregon, Portland, Maine and Burlington, Vermont."
    assert named(text)[0] == ("fips:4819000", "prominence")


def test_a_homonym_reaching_the_population_threshold_exactly_is_dominant(monkeypatch: pytest.MonkeyPatch) -> None:
    # "200,000+ people, ten times the next": both bounds are inclusive (Dallas, TX: 1,326,087; Dallas, OR: 15,277)
    monkeypatch.setattr(jur, "DOMINANT_POPULATION", 1_326_087)
    assert named("Dallas police said.") == [("fips:4819000", "prominence")]
    monkeypatch.setattr(jur, "DOMINANT_POPULATION", 200_000)
    monkeypatch.setattr(jur, "DOMINANCE", 1_326_087 / 15_277)
    assert named("Dallas police said.") == [("fips:4819000", "prominence")]


def test_an_explicit_form_with_candidates_in_two_context_states_is_ambiguous() -> None:
    # Cook County, GA and Cook County, MN are both in the document's states: no prominence for Cook County, IL
    text = "Cook County sued; Georgia and Minnesota joined."
    assert named(text) == [("fips:13", "unique"), ("fips:27", "unique")]
    assert signals(text)["dropped"] == {"ambiguous": ["Cook County"]}


def test_a_bare_name_beside_its_parish_named_explicitly_is_the_parish() -> None:
    assert tags("Lafayette Parish sued. Lafayette police said.") == [("fips:22055", "named", 2, 0, "explicit")]


def test_a_party_named_only_in_a_cited_case_still_decides_the_bare_name() -> None:
    text = "See County of Santa Clara v. Trump, 250 F. Supp. 3d 497 (N.D. Cal. 2017). Santa Clara sued again."
    assert tags(text) == [("fips:06085", "named", 1, 74, "party")]


def test_a_place_in_a_wyoming_document_is_not_taken_for_a_party() -> None:
    assert named("Wyoming officials said Jackson sued.") == [("fips:56", "state")]
    assert signals("Wyoming officials said Jackson sued.")["dropped"] == {"ambiguous": ["Jackson"]}


def test_a_tag_keeps_the_most_certain_way_its_counted_mentions_were_resolved() -> None:
    assert tags("Chicago, Illinois said. Chicago replied.")[0] == ("fips:1714000", "named", 2, 0, "qualifier")
    assert tags("Chicago sued. Chicago, Illinois replied.")[0] == ("fips:1714000", "named", 2, 0, "qualifier")
    # of two equally uncertain ways, the first
    text = "New Jersey officials said Middlesex County sued; Middlesex appealed."
    assert tags(text)[1] == ("fips:34023", "named", 2, 26, "explicit+state")


def test_a_mention_in_a_cited_case_neither_counts_nor_decides_how_the_tag_was_resolved() -> None:
    text = "See City of Chicago v. Sessions, 888 F.3d 272 (7th Cir. 2018). Later, Chicago said."
    assert tags(text) == [("fips:1714000", "named", 1, 70, "unique")]
    text = "New Jersey officials cited Middlesex County v. Smith, 100 F.3d 1 (3d Cir. 1999); Middlesex appealed."
    assert tags(text)[1] == ("fips:34023", "named", 1, 81, "state_context")


def test_a_place_seen_only_in_a_citation_or_an_address_is_low_signal() -> None:
    assert signals("See City of Chicago v. Sessions, 888 F.3d 272 (7th Cir. 2018).")["low_signal"] == {
        "fips:1714000": "citation"
    }
    assert signals("Write to the Department, Washington, DC 20530.")["low_signal"] == {"fips:11": "address"}


def test_a_dateline_after_a_line_break_is_low_signal() -> None:
    assert signals("Press release\nCHICAGO – Officials said.") == {
        "low_signal": {"fips:1714000": "dateline"},
        "state_context": ["IL"],
    }


def test_a_name_in_lower_case_or_split_by_a_lost_apostrophe_is_no_place() -> None:
    assert classify("New york style pizza was served.").jurisdictions == ()
    assert classify("The caps lock typed oHIO here.").jurisdictions == ()
    assert classify("Police in Prince George s County said.").jurisdictions == ()


def test_a_qualified_place_before_a_list_of_counties_stays_that_place() -> None:
    assert named("Fires hit Salinas, Calif., Sonoma and Napa counties.") == [
        ("fips:0664224", "qualifier"),
        ("fips:06097", "county_of_place"),
        ("fips:06055", "county_of_place"),
    ]


def test_a_place_followed_by_of_is_still_that_place() -> None:
    assert named("The Chicago of Al Capone is gone.") == [("fips:1714000", "unique")]


def test_the_oregon_city_of_portland_at_the_start_locates_portland() -> None:
    spans: list[tuple[int, int, str, str]] = []
    text = "Oregon city of Portland officials met Berkeley, California police."
    found = classify(text, mentions=spans).jurisdictions
    assert [(t.id, t.role, t.first) for t in found] == [
        ("fips:41", "locator", 0),
        ("fips:4159000", "named", 7),
        ("fips:0606000", "named", 38),
        ("fips:06", "locator", 48),
    ]
    assert spans == [
        (0, 6, "fips:41", "locator"),
        (7, 23, "fips:4159000", "named"),
        (38, 46, "fips:0606000", "named"),
        (48, 58, "fips:06", "locator"),
    ]


def test_the_highlighted_spans_skip_cited_cases() -> None:
    spans: list[tuple[int, int, str, str]] = []
    classify("See City of Chicago v. Sessions, 888 F.3d 272 (7th Cir. 2018). Chicago, Illinois sued.", mentions=spans)
    assert spans == [(63, 70, "fips:1714000", "named"), (72, 80, "fips:17", "locator")]


def test_a_name_right_after_a_qualifier_without_a_space_is_still_read() -> None:
    # text extraction that lost the space after "Ill."
    assert named("Police near Chicago, Ill.Springfield, Mo. said.") == [
        ("fips:1714000", "unique"),
        ("fips:2970000", "qualifier"),
    ]


def test_a_city_before_a_longer_name_at_the_end_is_not_qualified_by_it() -> None:
    assert named("Police from New Orleans, New York City met.") == [
        ("fips:2255000", "unique"),
        ("fips:3651000", "unique"),
    ]


def test_only_states_side_by_side_make_a_list_of_states() -> None:
    assert signals("Officials in Springfield and Washington met.")["dropped"] == {
        "ambiguous": ["Springfield"],
        "needs_state_context": ["Washington"],
    }
    assert named("Oregon,  and Washington sued.") == [("fips:41", "state"), ("fips:53", "state")]
    # eight characters apart: no list
    assert named("Oregon,  and  Washington sued.") == [("fips:41", "state")]


def test_a_text_cut_mid_word_before_the_cities_of_still_reads_the_cities_of() -> None:
    text = "ities of New York and Albany, said the brief. The cities of New York and Albany sued."
    assert named(text) == [("fips:36", "state"), ("fips:3651000", "place_cue")]


def test_court_spans_exclude_only_what_they_cover() -> None:
    text = "The court in Chicago ruled."
    assert [t.id for t in find_jurisdictions(text, [(0, 13)])[0]] == ["fips:1714000"]
    assert [t.id for t in find_jurisdictions(text, [(20, 27)])[0]] == ["fips:1714000"]
    assert find_jurisdictions(text, [(13, 20)])[0] == ()
    assert [t.id for t in find_jurisdictions(text, low_spans=[(20, 27)])[0]] == ["fips:1714000"]


def test_a_title_is_not_read_as_the_end_of_the_bodys_last_sentence() -> None:
    # "Washington" + "D.C." across the body's end and the title would be the capital
    found = classify("The grant went to Washington", title="D.C. and Maryland police sue").jurisdictions
    assert [(t.id, t.first) for t in found] == [("fips:24", 0)]


@pytest.mark.parametrize("cache", ["_STATES", "_QUALIFIER", "_SHIFTS", "_ANCHORED"])
def test_the_per_gazetteer_tables_are_built_on_first_use(monkeypatch: pytest.MonkeyPatch, cache: str) -> None:
    monkeypatch.setattr(jur, cache, [None, None])  # as in a fresh process
    assert tags("Police in Chicago, Illinois said.") == [
        ("fips:1714000", "named", 1, 10, "qualifier"),
        ("fips:17", "locator", 1, 19, "qualifier"),
    ]
    assert classify("The Department sent letters to Chicago. Sincerely,").doc_type == "letter"


def test_an_automaton_with_other_extra_keys_has_no_anchors() -> None:
    import ahocorasick

    from lawwatch.pipeline.classify.doctype import ANCHOR_KEYS
    from lawwatch.pipeline.classify.gazetteer import Gazetteer, Key, load

    gaz = load()
    automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    automaton.add_word(" chicago ", 0)
    for n in range(len(ANCHOR_KEYS)):  # as many extra keys as the anchors, but other ones
        automaton.add_word(f" other{n} ", 1 + n)
    automaton.make_automaton()
    keys = [Key("chicago", ((gaz.by_id["fips:1714000"], "bare"),), 0)]
    other = Gazetteer(gaz.entries, keys, automaton, gaz.first_names, gaz.state_forms, gaz.by_id)
    hits, anchor_hits = jur.scan(" the department sent letters to chicago other0 ", other)
    assert hits == [(31, -38, 0)]
    assert anchor_hits is None


def test_a_list_of_counties_is_in_the_state_that_follows_it() -> None:
    nj = [("fips:34023", "county_list"), ("fips:34013", "county_list"), ("fips:34017", "county_list")]
    assert named("Middlesex, Essex and Hudson counties, N.J., sued.") == nj
    # no state after it: New Jersey is the one state with a county of each name (Hudson County is its only one)
    assert named("Middlesex, Essex and Hudson counties sued.") == nj
    # no state after it and several states with both: Middlesex has counties in four states
    assert signals("Middlesex and Essex counties sued.")["dropped"] == {"ambiguous": ["Middlesex"]}
    # a list with a name that is no county's ("Salinas"): each county's name is read in the state after the list
    assert named("Fires hit Salinas, Calif., Orange and Napa counties, Calif.") == [
        ("fips:0664224", "qualifier"),
        ("fips:06059", "county_of_place"),
        ("fips:06055", "county_of_place"),
    ]
    assert signals("Fires hit Salinas, Calif., Orange and Napa counties.")["dropped"] == {"common_word": ["Orange"]}


def test_the_counties_of_a_list_are_counties_of_its_state_and_no_namesake_places() -> None:
    bergen, essex, hudson = ("fips:34003", "county_list"), ("fips:34013", "county_list"), ("fips:34017", "county_list")
    # "Hudson" alone is Hudson, Ohio, the gazetteer's one place of that name: in the list it is Hudson County, NJ
    assert named("The counties of Bergen, Essex and Hudson sued the state of New Jersey.") == [
        bergen,
        essex,
        hudson,
        ("fips:34", "explicit"),
    ]
    assert named("The counties of Bergen, Essex and Hudson, N.J., sued.") == [bergen, essex, hudson]
    assert named("The counties of Bergen, Essex and Hudson, New Jersey, sued.") == [bergen, essex, hudson]
    # the state written after the list wins over the one the names alone would give, when it has them all
    assert named("The counties of Essex and Orange, N.Y., sued.") == [
        ("fips:36031", "county_list"),
        ("fips:36071", "county_list"),
    ]
    # a capitalised word that starts the sentence is no part of the first name
    assert named("In Bergen and Hudson counties, police said.") == [bergen, hudson]
    # a state written after the list that has not every county: the list is left to the other rules
    assert named("The counties of Bergen and Hudson, Ohio, sued.") == [("fips:3936651", "qualifier")]
    # a name of the list that is no county's: the list is left to the other rules (Hudson, Ohio stays)
    assert named("The counties of Bergen, Gotham and Hudson sued.") == [("fips:3936651", "unique")]


def test_a_common_word_is_no_party_and_a_borough_is_no_party() -> None:
    assert signals("Anchorage police said.") == {"dropped": {"common_word": ["Anchorage"]}}
    # the Municipality of Anchorage is a county, but not "the County of Anchorage": its bare name is no party
    text = "The Municipality of Anchorage sued. Anchorage police said."
    assert tags(text) == [("fips:02020", "named", 1, 4, "explicit")]
    assert signals(text)["dropped"] == {"common_word": ["Anchorage"]}


def test_a_surname_used_for_a_caption_party_is_a_person_in_its_other_mentions() -> None:
    text = "Wilson v. Filtrex Service Group was heard in North Carolina. Wilson said."
    assert signals(text) == {"dropped": {"person": ["Wilson"]}, "state_context": ["NC"]}


def test_lenient_resolution_takes_the_largest_namesake() -> None:
    found, _ = find_jurisdictions("Officials in Springfield met.", lenient=True)
    assert [(t.id, t.resolved_by) for t in found] == [("fips:2970000", "largest")]
    found, _ = find_jurisdictions("He fled to Paris.", lenient=True)
    assert [(t.id, t.resolved_by) for t in found] == [("fips:4855080", "largest")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("fips:17031", ("fips:17031", "Cook County", "county", "IL")),
        ("fips: 06", ("fips:06", "California", "state", "CA")),
        ("springfield, il", ("fips:1772000", "Springfield", "city", "IL")),
        ("springfield, Il", ("fips:1772000", "Springfield", "city", "IL")),
        ("pasadena, cal.", ("fips:0656000", "Pasadena", "city", "CA")),
        ("springfield, illinois", ("fips:1772000", "Springfield", "city", "IL")),
        ("portland, me", ("fips:2360545", "Portland", "city", "ME")),
        ("portland, maine", ("fips:2360545", "Portland", "city", "ME")),
        ("PORTLAND, MAINE", ("fips:2360545", "Portland", "city", "ME")),
        ("Springfield", ("fips:2970000", "Springfield", "city", "MO")),
        ("Paris", ("fips:4855080", "Paris", "city", "TX")),
        ("Middlesex", ("fips:25017", "Middlesex County", "county", "MA")),
    ],
)
def test_resolve_gives_the_whole_tag(query: str, expected: tuple[str, str, str, str]) -> None:
    assert resolve_jurisdiction(query) == JurisdictionTag(*expected, 0, 0)


# --- bugs the mutation run led to -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Carson City officials said.", [("fips:3209700", "unique")]),  # Nevada's capital, not Carson, CA
        ("Boulder City council said.", [("fips:3206500", "unique")]),  # Boulder City, NV, not Boulder, CO
        ("Oregon City officials said.", [("fips:4155200", "unique")]),  # Oregon City, OR, not Oregon, OH
        ("Elizabeth City police said.", [("fips:3720580", "unique")]),  # Elizabeth City, NC, not Elizabeth, NJ
        ("Mason City police said.", [("fips:1950160", "unique")]),
        ("Temple City officials said.", [("fips:0678148", "unique")]),
        ("Officials in Union City, Calif. said.", [("fips:0681204", "qualifier")]),
        ("The City of Carson sued.", [("fips:0611530", "explicit")]),  # the explicit form still names Carson
    ],
)
def test_a_place_called_x_city_is_that_place_not_the_city_of_x(text: str, expected: list[tuple[str, str]]) -> None:
    assert named(text) == expected


def test_union_city_alone_is_ambiguous_not_union_new_jersey() -> None:
    assert signals("Union City police said.") == {"dropped": {"ambiguous": ["Union City"]}}


def test_every_name_of_a_long_list_of_counties_is_a_county() -> None:
    text = (
        "Alameda, Contra Costa, Marin, Napa, San Francisco, San Mateo, Santa Clara, Solano and Sonoma counties "
        "issued the order."
    )
    assert [t.id for t in classify(text).jurisdictions] == [
        "fips:06001",
        "fips:06013",
        "fips:06041",
        "fips:06055",
        "fips:06075",
        "fips:06081",
        "fips:06085",
        "fips:06095",  # Solano: a county's name only (no key of its own), read as one by the list's rule
        "fips:06097",
    ]
    assert {t.resolved_by for t in classify(text).jurisdictions} == {"county_list"}
