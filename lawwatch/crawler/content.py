"""Readers of downloaded content shared by the spiders: feeds (feedparser on bytes, never on a URL, which would
fetch outside Scrapy's politeness and safety rules) and an article page's main text (trafilatura)."""

from __future__ import annotations

from typing import Any
from xml.parsers import expat
from xml.sax import SAXParseException

import feedparser


class _Found(Exception):
    pass


class _RootReached(Exception):
    pass


def declares_entities(body: bytes) -> bool:
    """Whether the document declares XML entities. Entities can only be declared in the document type declaration,
    before the root element, so expat reads the prolog (however long: comments, whitespace) and stops at the root
    element. When expat cannot read the prolog (an encoding it does not know, broken markup), any ``<!ENTITY`` in the
    whole body counts."""
    parser = expat.ParserCreate()

    def found(*_args: Any) -> None:
        raise _Found

    def root(*_args: Any) -> None:
        raise _RootReached

    parser.EntityDeclHandler = found
    parser.UnparsedEntityDeclHandler = found
    parser.StartElementHandler = root
    try:
        parser.Parse(body, True)
    except _Found:
        return True
    except _RootReached:
        return False
    except (expat.ExpatError, ValueError, LookupError):
        return b"<!ENTITY" in body
    return False


def refuse_entity_declarations(body: bytes) -> None:
    """Feeds never need their own XML entities; a declaration is how an entity bomb starts, so it is refused."""
    if declares_entities(body):
        raise ValueError("declares XML entities (an entity bomb?); refused")


def read_feed(body: bytes, content_type: str | None = None) -> Any:
    """feedparser's result for a downloaded feed; CrawlError-worthy problems raise ValueError: an entity
    declaration, a feed that is not well-formed XML (truncated, garbage) or not a feed at all."""
    refuse_entity_declarations(body)
    headers = {"content-type": content_type} if content_type else None
    result = feedparser.parse(body, response_headers=headers)
    check_feed(result)
    return result


def check_feed(result: Any) -> None:
    """ValueError for a parsed feed that is not well-formed XML (truncated, an entity bomb) or not a feed at all."""
    error = result.get("bozo_exception")
    if isinstance(error, SAXParseException):
        where = f"line {error.getLineNumber()}, column {error.getColumnNumber()}"
        raise ValueError(f"malformed feed ({error.getMessage()} at {where}; truncated or not XML?)")
    if not result.entries and not result.feed.get("title"):
        raise ValueError("not an RSS/Atom feed")


def extract_main_text(html: str, url: str | None = None) -> str | None:
    """The page's main text (trafilatura), or None when it finds none."""
    import trafilatura

    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=True)
    return text.strip() if text and text.strip() else None
