"""Document factory for tests: rows written with the ORM directly, tags included.

``add_document(session, title=..., body=...)`` inserts one document (with jurisdiction and statute tags when given)
and returns it flushed, so ``doc.id`` is set. Every field has a unique or sensible default.
``normalized_document(...)`` builds the same kind of document as a tagged ``NormalizedDocument`` for
``store_documents`` (the ingest path).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from lawwatch.pipeline.models import Document, DocumentJurisdiction, DocumentStatute, Jurisdiction
from lawwatch.pipeline.normalize import NormalizedDocument, content_hash

_counter = itertools.count(1)

JURISDICTIONS: dict[str, tuple[str, str, str | None]] = {
    "fips:17031": ("Cook County, Illinois", "county", "IL"),
    "fips:1714000": ("Chicago, Illinois", "city", "IL"),
    "fips:06": ("California", "state", "CA"),
    "fips:06075": ("San Francisco County, California", "county", "CA"),
    "fips:48": ("Texas", "state", "TX"),
    "fips:36061": ("New York County, New York", "county", "NY"),
}


def ensure_jurisdiction(session: Session, jurisdiction_id: str) -> Jurisdiction:
    found = session.get(Jurisdiction, jurisdiction_id)
    if found is not None:
        return found
    name, kind, state = JURISDICTIONS.get(jurisdiction_id, (jurisdiction_id, "other", None))
    place = Jurisdiction(id=jurisdiction_id, name=name, kind=kind, state=state)
    session.add(place)
    session.flush()
    return place


def add_document(
    session: Session,
    *,
    title: str = "Untitled",
    body: str = "",
    source: str = "doj",
    published_at: datetime | None = datetime(2017, 1, 1, tzinfo=UTC),
    doc_type: str = "press_release",
    url: str | None = None,
    jurisdictions: Sequence[str] = (),
    statutes: Sequence[tuple[str | None, str]] = (),
    meta: dict[str, Any] | None = None,
) -> Document:
    """Insert one document with its tags and flush it."""
    n = next(_counter)
    doc = Document(
        source=source,
        url=url or f"https://example.test/{source}/{n}",
        external_id=f"{source}-{n}",
        title=title,
        published_at=published_at,
        body_text=body,
        content_hash=hashlib.sha256(f"{title}\n{body}".encode()).hexdigest(),
        doc_type=doc_type,
        meta=meta or {},
    )
    session.add(doc)
    session.flush()
    for jurisdiction_id in jurisdictions:
        ensure_jurisdiction(session, jurisdiction_id)
        session.add(DocumentJurisdiction(document_id=doc.id, jurisdiction_id=jurisdiction_id))
    for index, (title_no, section) in enumerate(statutes):
        cite = f"{title_no or ''} U.S.C. § {section}".strip()
        session.add(
            DocumentStatute(
                document_id=doc.id,
                title=title_no,
                section=section,
                subsection=None,
                text=cite,
                start=index * 10,
                end=index * 10 + len(cite),
            )
        )
    session.flush()
    return doc


def normalized_document(
    *,
    title: str = "Untitled",
    body: str = "",
    source: str = "doj",
    published_at: datetime | None = datetime(2017, 1, 1, tzinfo=UTC),
    fetched_at: datetime = datetime(2026, 1, 1, tzinfo=UTC),
    doc_type: str = "other",
    jurisdictions: Sequence[str] = (),
    statutes: Sequence[tuple[str | None, str]] = (),
) -> NormalizedDocument:
    """A document as the ingest path hands it to ``store_documents``: normalized, with a ``Classification``."""
    from lawwatch.pipeline.classify import Classification, JurisdictionTag, StatuteCite

    n = next(_counter)
    places = []
    for index, jurisdiction_id in enumerate(jurisdictions):
        name, kind, state = JURISDICTIONS.get(jurisdiction_id, (jurisdiction_id, "other", None))
        places.append(JurisdictionTag(jurisdiction_id, name, kind, state or "", 1, index * 10))
    cites = []
    for index, (title_no, section) in enumerate(statutes):
        cite = f"{title_no or ''} U.S.C. § {section}".strip()
        cites.append(StatuteCite(title_no, section, None, cite, index * 10, index * 10 + len(cite)))
    return NormalizedDocument(
        source=source,
        url=f"https://example.test/{source}/n{n}",
        external_id=f"{source}-n{n}",
        title=title,
        published_at=published_at,
        body_text=body,
        content_hash=content_hash(title, body),
        fetched_at=fetched_at,
        classification=Classification(doc_type, tuple(cites), tuple(places), (), ()),
    )
