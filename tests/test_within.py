"""Locator tags end to end: classified documents stored on both backends, then selected by a state filter with and
without ``within`` through every rendering of ``DocumentFilter`` (SQL conditions, search, ``matches``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from lawwatch.pipeline.db import Archive
from lawwatch.pipeline.filters import DocumentFilter, FilterableDocument
from lawwatch.pipeline.ingest import classify_document
from lawwatch.pipeline.normalize import NormalizedDocument
from lawwatch.pipeline.query import document_to_dict, iter_documents
from lawwatch.pipeline.search import search
from lawwatch.pipeline.store import store_documents
from tests.helpers.factories import normalized_document

CALIFORNIA = "fips:06"
BODIES = {
    # name: (body, the tags the classifier gives it as (id, role))
    "berkeley": (
        "The Department wrote to Berkeley, California about its ordinance.",
        [("fips:0606000", "named"), (CALIFORNIA, "locator")],
    ),
    "state": ("The State of California sued the Department.", [(CALIFORNIA, "named")]),
    "inside": (
        "Los Angeles County officials met in Sacramento.",
        [("fips:06037", "named"), ("fips:0664000", "named")],
    ),
    "chicago": ("Chicago, Illinois officials met.", [("fips:1714000", "named"), ("fips:17", "locator")]),
}


@dataclass
class Stored:
    archive: Archive
    ids: dict[str, int]  # name -> document id
    docs: dict[str, NormalizedDocument]  # name -> the classified document as stored

    def names(self, ids: list[int]) -> set[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return {by_id[i] for i in ids}


@pytest.fixture
def stored(archive: Archive) -> Iterator[Stored]:
    docs = {
        name: classify_document(normalized_document(title=f"Notice {name}", body=body))
        for name, (body, _) in BODIES.items()
    }
    for name, (_, tags) in BODIES.items():  # what the classifier says, before anything is stored
        assert docs[name].classification is not None
        assert [(j.id, j.role) for j in docs[name].classification.jurisdictions] == tags, name
    with archive.session() as session:
        results = store_documents(session, list(docs.values()))
    yield Stored(archive, {name: r.document_id for name, r in zip(docs, results, strict=True)}, docs)


def _three_ways(stored: Stored, flt: DocumentFilter) -> tuple[set[str], set[str], set[str], set[str]]:
    """The documents ``flt`` selects by SQL conditions, by search, by ``matches`` on stored rows and on the
    classified documents."""
    with stored.archive.session() as session:
        by_sql = stored.names([d.id for d in iter_documents(session, flt)])
        by_search = stored.names([h.document_id for h in search(session, "", filter=flt, limit=100).hits])
        by_rows = stored.names([d.id for d in iter_documents(session) if flt.matches(FilterableDocument.from_row(d))])
    by_normalized = {n for n, doc in stored.docs.items() if flt.matches(FilterableDocument.from_normalized(doc))}
    return by_sql, by_search, by_rows, by_normalized


def test_roles_are_stored(stored: Stored) -> None:
    with stored.archive.session() as session:
        rows = session.execute(
            sa.text(
                "SELECT jurisdiction_id, role, mentions, first_offset FROM document_jurisdictions "
                "WHERE document_id = :d ORDER BY first_offset"
            ),
            {"d": stored.ids["berkeley"]},
        ).all()
        body = BODIES["berkeley"][0]
        assert [tuple(r) for r in rows] == [
            ("fips:0606000", "named", 1, body.index("Berkeley")),
            (CALIFORNIA, "locator", 1, body.index("California")),
        ]
        (doc,) = [d for d in iter_documents(session) if d.id == stored.ids["berkeley"]]
        exported = document_to_dict(doc, body=False)["jurisdictions"]
        assert [(j["id"], j["role"]) for j in exported] == [("fips:0606000", "named"), (CALIFORNIA, "locator")]


def test_a_state_filter_does_not_match_a_state_that_only_locates_a_place(stored: Stored) -> None:
    for found in _three_ways(stored, DocumentFilter(jurisdictions=(CALIFORNIA,))):
        assert found == {"state"}


def test_within_matches_locators_and_places_inside_the_state(stored: Stored) -> None:
    for found in _three_ways(stored, DocumentFilter(jurisdictions=(CALIFORNIA,), within=True)):
        assert found == {"state", "berkeley", "inside"}  # "inside" names a county and a city of California only


def test_a_place_filter_is_unaffected_by_roles(stored: Stored) -> None:
    for within in (False, True):
        for found in _three_ways(stored, DocumentFilter(jurisdictions=("fips:0606000",), within=within)):
            assert found == {"berkeley"}
        for found in _three_ways(stored, DocumentFilter(jurisdictions=("fips:17",), within=within)):
            assert found == ({"chicago"} if within else set())
