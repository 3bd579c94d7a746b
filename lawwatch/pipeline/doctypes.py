"""The document types lawwatch assigns: one enum, used by the classifier, the settings, filters and the CLI.

Importing this module is free (no third-party imports), so the settings loader and the command line can use it.
"""

from __future__ import annotations

from enum import StrEnum


class DocType(StrEnum):
    """What event a document is or reports (README: "Document types")."""

    LETTER = "letter"
    RULING = "ruling"
    LAWSUIT = "lawsuit"
    FILING = "filing"
    OTHER = "other"


DOC_TYPES: tuple[str, ...] = tuple(t.value for t in DocType)
