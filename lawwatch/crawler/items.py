"""The one item every spider yields: a :class:`DocumentItem` (a dataclass; Scrapy supports dataclass items).

The item pipeline (``crawler/pipelines.py``) hands batches of items to the ingest service
(``pipeline.ingest.ingest_batch``), which normalizes each with :meth:`DocumentItem.normalize`, classifies and stores
it. ``listing_signature`` is what the listing said about the document's version (the API's ``changed``, an RSS
``updated``/``pubDate``, a listing date); it is recorded in the ``source_state`` table for the item's source and
compared on later crawls so an unchanged document is not downloaded again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from lawwatch.pipeline.normalize import NormalizedDocument, normalize_noted

FORMS = (
    "press_release",
    "opinion",
    "order",
    "docket_entry",
    "news_article",
    "complaint",
    "letter",
    "statement",
    "other",
)


@dataclass(kw_only=True)
class DocumentItem:
    """A document as a spider found it. Exactly one of ``html`` (a page or fragment) or ``text`` carries the body.

    ``published`` may be raw (epoch string, ``<time datetime=...>`` markup, any date text) or an aware datetime;
    normalization turns it into aware UTC. ``metadata`` holds source facts: ``release_number``, ``components``,
    ``topics``, ``court``, ``docket_number``, ``case_name``, ...
    """

    source: str
    url: str
    title: str
    form: str
    external_id: str | None = None
    published: Any = None
    html: str | None = None
    text: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    listing_signature: str | None = None

    def __post_init__(self) -> None:
        if (self.html is None) == (self.text is None):
            raise ValueError(f"{self.url}: give exactly one of html or text")

    def normalize(self) -> tuple[NormalizedDocument, str | None]:
        """The normalized document, and a note naming the item when something had to be changed or left out (an
        unreadable or implausible date: stored without one; a title, text or id over its size limit); raises
        ValueError when the item is unusable (no title and no text, an overlong URL)."""
        doc, notes = normalize_noted(
            source=self.source,
            title=self.title,
            url=self.url,
            external_id=self.external_id,
            html=self.html,
            text=self.text,
            published=self.published,
            form=self.form,
            metadata=self.metadata,
        )
        return doc, (f"{self.url}: " + "; ".join(notes)) if notes else None

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes as ISO 8601), used by golden tests and `--json` debugging."""
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
