"""Document type rules and courts."""

from __future__ import annotations

import pytest

from lawwatch.pipeline.classify import Classification, classify
from lawwatch.pipeline.classify.courts import find_courts
from lawwatch.pipeline.classify.doctype import classify_doctype


@pytest.mark.parametrize(
    ("text", "title", "expected"),
    [
        ("The Department today sent letters to nine jurisdictions.", None, "letter"),
        ("The county received a letter stating the department's preliminary assessment.", None, "letter"),
        (
            "CITY OF CHICAGO v. SESSIONS\nCase No. 17-cv-5720\n\nMEMORANDUM OPINION AND ORDER\nThe motion is GRANTED.",
            None,
            "ruling",
        ),
        ("A federal judge on Friday blocked the conditions and granted a preliminary injunction.", None, "ruling"),
        (
            "CITY OF PHILADELPHIA v. SESSIONS\nCivil Action No. 17-3894\n\nCOMPLAINT FOR DECLARATORY RELIEF\n",
            None,
            "lawsuit",
        ),
        ("The state filed suit on Monday.", "California sues over grant conditions", "lawsuit"),
        ("SESSIONS v. CITY OF CHICAGO\nNo. 18A-1\n\nAPPLICATION FOR A STAY OF THE INJUNCTION\n", None, "filing"),
        ("CITY OF PHILADELPHIA v. SESSIONS\nNo. 17-3894\n\nMOTION FOR PRELIMINARY INJUNCTION\n", None, "filing"),
        ("A man pleaded guilty today and will be sentenced in May.", "Man Pleads Guilty to Fraud", "other"),
        ("The Attorney General spoke about crime.", None, "other"),
        ("The city had received no letter.", None, "other"),
    ],
)
def test_doctype(text: str, title: str | None, expected: str) -> None:
    doc_type, signals = classify_doctype(text, title=title)
    assert doc_type == expected, signals


def test_form_decides() -> None:
    assert classify_doctype("City of Philadelphia v. Attorney General", form="opinion")[0] == "ruling"
    assert classify_doctype("anything", form="complaint")[0] == "lawsuit"


def test_signals_explain_the_choice() -> None:
    _, signals = classify_doctype("The Department today sent letters to nine jurisdictions.")
    assert signals["scores"]["letter"] >= 2
    assert any(c.startswith("text:letter") for c in signals["cues"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Eastern District of Pennsylvania", [("paed", "Eastern District of Pennsylvania", "PA")]),
        ("(E.D. Pa. 2017)", [("paed", "Eastern District of Pennsylvania", "PA")]),
        ("(N.D. Ill. 2017)", [("ilnd", "Northern District of Illinois", "IL")]),
        ("the Ninth Circuit and the 7th Cir.", [("ca9", "Ninth Circuit", None), ("ca7", "Seventh Circuit", None)]),
        (
            "S.D.N.Y. and the D.C. Circuit",
            [("nysd", "Southern District of New York", "NY"), ("cadc", "D.C. Circuit", "DC")],
        ),
        ("the U.S. District Court for the District of Columbia", [("dcd", "District of Columbia", "DC")]),
        ("the District of Columbia council", []),
        ("the Oregon Supreme Court", []),
    ],
)
def test_courts(text: str, expected: list[tuple]) -> None:
    tags, _ = find_courts(text)
    assert [(t.id, t.name, t.state) for t in tags] == expected


def test_to_dict_shape() -> None:
    result = classify(
        "THE CITY OF PHILADELPHIA v. SESSIONS, E.D. Pa. MEMORANDUM. Philadelphia must certify compliance with "
        "8 U.S.C. § 1373(a). See 888 F.3d 272."
    )
    assert isinstance(result, Classification)
    d = result.to_dict()
    text = result.statutes[0].text
    assert list(d) == ["doc_type", "statutes", "jurisdictions", "courts", "cases", "signals"]
    assert d["statutes"][0] == {
        "title": "8",
        "section": "1373",
        "subsection": "a",
        "text": "8 U.S.C. § 1373(a)",
        "start": 101,
        "end": 119,
    }
    assert text == "8 U.S.C. § 1373(a)"
    assert d["jurisdictions"][0]["id"] == "fips:4260000"
    assert set(d["jurisdictions"][0]) == {"id", "name", "kind", "state", "mentions", "first", "role", "resolved_by"}
    assert d["courts"] == [{"id": "paed", "name": "Eastern District of Pennsylvania", "state": "PA"}]
    assert d["cases"] == [{"text": "888 F.3d 272"}]
    with pytest.raises(AttributeError):
        result.doc_type = "x"  # type: ignore[misc]


def test_empty_text() -> None:
    result = classify("")
    assert (result.doc_type, result.statutes, result.jurisdictions) == ("other", (), ())
