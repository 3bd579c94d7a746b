"""Prominence in the classifier, both sides: a bare homonym goes to its largest namesake only when that one has 10x
the people of every other (``jurisdictions.DOMINANCE``), an explicit form ("Cook County") likewise
(``gazetteer.PROMINENCE``). With no state in the text, "Portland" (OR 652,503 / ME 66,881: 9.8x), "Columbus" (OH /
GA: 4.4x) and "Kansas City" (MO / KS: 3.1x) name no one city, "Orange County" (CA / FL: 2.3x) no one county; "Cook
County" (IL / GA: 298x) and "Dallas" are taken. Populations are the shipped gazetteer's (Census estimates)."""

from __future__ import annotations

import pytest

from lawwatch.pipeline.classify import classify, gazetteer, jurisdictions

NO_STATE = {
    "Portland": "The city council of Portland voted on Tuesday to keep its sanctuary ordinance.",
    "Columbus": "Columbus police said on Monday that they would not honor immigration detainers.",
    "Kansas City": "Officials in Kansas City said the jail would hold no one for ICE without a warrant.",
}


def _tags(text: str) -> list[tuple[str, str, str]]:
    return [(j.id, j.role, j.resolved_by) for j in classify(text).jurisdictions]


@pytest.mark.parametrize("name", sorted(NO_STATE))
def test_a_bare_homonym_without_a_ten_times_larger_namesake_names_no_city(name: str) -> None:
    result = classify(NO_STATE[name])
    assert result.jurisdictions == ()
    assert result.signals["jurisdictions"]["dropped"] == {"ambiguous": [name]}


@pytest.mark.parametrize(
    ("name", "largest"), [("Portland", "fips:4159000"), ("Columbus", "fips:3918000"), ("Kansas City", "fips:2938000")]
)
def test_the_same_texts_reach_the_dominance_factor(monkeypatch: pytest.MonkeyPatch, name: str, largest: str) -> None:
    """The negative cases are dropped by the factor, not by some other rule: with a factor of 1 (the mutation the
    test above must catch) each goes to its largest namesake; Portland, OR already at 9 (9.8x Portland, ME)."""
    monkeypatch.setattr(jurisdictions, "DOMINANCE", 1)
    assert _tags(NO_STATE[name]) == [(largest, "named", "prominence")]
    if name == "Portland":
        monkeypatch.setattr(jurisdictions, "DOMINANCE", 9)
        assert _tags(NO_STATE[name]) == [(largest, "named", "prominence")]


def test_a_bare_homonym_with_a_ten_times_larger_namesake_is_that_one() -> None:
    assert _tags("Dallas officials said the jail would honor detainers.") == [("fips:4819000", "named", "prominence")]


def test_a_state_in_the_text_decides_a_homonym_without_prominence() -> None:
    assert _tags("Columbus, Georgia, said so on Monday. Columbus officials agreed.")[0] == (
        "fips:1319000",
        "named",
        "qualifier",
    )
    assert _tags("Kansas City officials said so; Missouri officials agreed.")[0] == (
        "fips:2938000",
        "named",
        "state_context",
    )


def test_cook_county_without_a_state_is_cook_county_illinois() -> None:
    text = "The sheriff of Cook County said the jail would not honor immigration detainers."
    assert _tags(text) == [("fips:17031", "named", "prominence")]


def test_an_explicit_form_without_a_ten_times_larger_namesake_names_no_county(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "Orange County officials said the jail would not honor immigration detainers."
    assert _tags(text) == []
    monkeypatch.setattr(gazetteer, "PROMINENCE", 1)  # the factor is what drops it
    assert _tags(text) == [("fips:06059", "named", "prominence")]
