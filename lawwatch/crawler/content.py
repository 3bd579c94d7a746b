"""Readers of downloaded content shared by the spiders: feeds (feedparser on bytes, never on a URL, which would
fetch outside Scrapy's politeness and safety rules) and an article page's main text (trafilatura)."""

from __future__ import annotations

from typing import Any
from xml.sax import SAXParseException

import feedparser

ENTITY_SCAN_BYTES = 65536


def refuse_entity_declarations(body: bytes) -> None:
    """Feeds never need their own XML entities; a declaration is how an entity bomb starts, so it is refused."""
    if b"<!ENTITY" in body[:ENTITY_SCAN_BYTES]:
        raise ValueError("declares XML entities (an entity bomb?); refused")


def read_feed(body: bytes, content_type: str | None = None) -> Any:
    """feedparser's result for a downloaded feed; CrawlError-worthy problems raise ValueError."""
    refuse_entity_declarations(body)
    headers = {"content-type": content_type} if content_type else None
    result = feedparser.parse(body, response_headers=headers)
    error = result.get("bozo_exception")
    if isinstance(error, SAXParseException):
        raise ValueError(f"malformed feed ({error.getMessage()})")
    if not result.entries and not result.feed.get("title"):
        raise ValueError("not an RSS/Atom feed")
    return result


def extract_main_text(html: str, url: str | None = None) -> str | None:
    """The page's main text (trafilatura), or None when it finds none."""
    import trafilatura

    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=True)
    return text.strip() if text and text.strip() else None
