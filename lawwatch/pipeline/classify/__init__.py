"""Classifier: jurisdictions (FIPS ids), statute and case citations, courts and document type of a document.

``classify(text)`` is pure: after a one-time load of the gazetteer (shipped built, see
:mod:`pipeline.classify.gazetteer`) and of the court and reporter tables (cached on disk, see
:mod:`pipeline.classify.cache`) it does no I/O. Other stages use the helpers ``jurisdiction_catalog``,
``resolve_jurisdiction`` and ``parse_statute``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from lawwatch.pipeline.classify.courts import CourtTag, find_courts
from lawwatch.pipeline.classify.doctype import classify_doctype
from lawwatch.pipeline.classify.gazetteer import fold, lower_fold
from lawwatch.pipeline.classify.jurisdictions import JurisdictionTag, catalog, find_jurisdictions, resolve, scan
from lawwatch.pipeline.classify.statutes import CaseCite, StatuteCite, find_cases, find_statutes
from lawwatch.pipeline.classify.statutes import parse_statute as _parse_statute

__all__ = [
    "CaseCite",
    "Classification",
    "CourtTag",
    "JurisdictionTag",
    "StatuteCite",
    "classify",
    "jurisdiction_catalog",
    "parse_statute",
    "resolve_jurisdiction",
]


@dataclass(frozen=True)
class Classification:
    doc_type: str
    statutes: tuple[StatuteCite, ...]
    jurisdictions: tuple[JurisdictionTag, ...]
    courts: tuple[CourtTag, ...]
    cases: tuple[CaseCite, ...]
    signals: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc_type": self.doc_type,
            "statutes": [s.to_dict() for s in self.statutes],
            "jurisdictions": [j.to_dict() for j in self.jurisdictions],
            "courts": [c.to_dict() for c in self.courts],
            "cases": [c.to_dict() for c in self.cases],
            "signals": self.signals,
        }


_ASCII = bytes(range(128))


def _lower(text: str) -> str:
    """``text.lower()``, faster on mostly-ASCII text with a few non-ASCII characters (typographic quotes, dashes).

    ``str.lower`` looks up every character of a non-ASCII string in the Unicode tables (~20 µs for 4,000 characters);
    ``bytes.lower`` on the UTF-8 encoding lower-cases the ASCII letters only and leaves every byte of a non-ASCII
    character alone. The two agree exactly when no non-ASCII character changes under ``str.lower`` — checked on those
    characters alone (the ASCII bytes deleted); a character lower-cased by context (only "Σ") or to two characters
    ("İ") changes, so it takes the plain path, as does a lone surrogate (not encodable)."""
    if text.isascii():
        return text.lower()
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        return text.lower()
    rest = raw.translate(None, _ASCII).decode("utf-8")
    if rest.lower() != rest:
        return text.lower()
    return raw.lower().decode("utf-8")


def classify(
    text: str,
    *,
    title: str | None = None,
    url: str | None = None,
    form: str | None = None,
    mentions: list[tuple[int, int, str, str]] | None = None,
) -> Classification:
    """Classify one document. Offsets (``start``, ``end``, ``first``) index ``text``; ``title`` is classified with
    the body (its places are tagged, and a jurisdiction named only there has ``first`` 0). Jurisdiction tags are
    ``"named"``, or ``"locator"`` for a state that only qualifies a place ("Berkeley, California"; see
    :mod:`~lawwatch.pipeline.classify.jurisdictions`), and say how they were resolved (``resolved_by``).
    ``mentions``, when given, receives ``(start, end, jurisdiction id, role)`` of every jurisdiction mention the tags
    count in ``text``."""
    text = text or ""
    # lower-cased and folded once for every recogniser; offsets must stay those of ``text``. The folded text (read by
    # the gazetteer scan and the case-citation precheck) is exact; the lowered one may read punctuation beyond
    # Latin-1 as "?" (see ``lower_fold``), which no recogniser of the lowered text tells apart.
    pair = lower_fold(text)
    if pair is None:
        lowered = _lower(text)
        if len(lowered) != len(text):
            lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        folded = f" {fold(text, lowered)} "
    else:
        lowered, folded = pair[0], f" {pair[1]} "
    courts, court_spans = find_courts(text, lowered)
    statutes = find_statutes(text, lowered)
    cases, extra, cited = find_cases(text, statutes, folded)
    statutes = sorted([*statutes, *extra], key=lambda s: s.start)
    hits, anchor_hits = scan(folded)  # one automaton pass for the gazetteer and the doctype cue anchors
    if title and title.strip():
        jurisdictions, jsignals = _with_title(title, text, court_spans, cited, hits, mentions)
    else:
        jurisdictions, jsignals = find_jurisdictions(text, court_spans, low_spans=cited, hits=hits, spans=mentions)
    doc_type, dsignals = classify_doctype(
        text,
        title=title,
        url=url,
        form=form,
        lowered=lowered,
        folded=folded,
        anchor_hits=anchor_hits,
        plain=pair is not None,
    )
    signals = {"doc_type": dsignals, "jurisdictions": jsignals}
    return Classification(doc_type, tuple(statutes), jurisdictions, courts, tuple(cases), signals)


def _with_title(
    title: str,
    text: str,
    court_spans: list[tuple[int, int]],
    cited: list[tuple[int, int]],
    hits: list[tuple[int, int, int]],
    mentions: list[tuple[int, int, str, str]] | None,
) -> tuple[tuple[JurisdictionTag, ...], dict[str, Any]]:
    """Jurisdictions of ``text + "\\n\\n" + title``: the title goes last, so that the body's hits, court spans and
    citations keep their offsets; only the title is scanned again. Its mentions count, and place nothing: a
    jurisdiction named only in the title has ``first`` 0, and ``mentions`` (the spans) are the body's alone."""
    shift = len(text) + 2
    title_hits, _ = scan(f" {fold(title)} ")
    if not title_hits:  # no place in the title: the body alone
        return find_jurisdictions(text, court_spans, low_spans=cited, hits=hits, spans=mentions)
    both = hits + [(start + shift, neg_end - shift, idx) for start, neg_end, idx in title_hits]
    spans: list[tuple[int, int, str, str]] | None = [] if mentions is not None else None
    tags, signals = find_jurisdictions(f"{text}\n\n{title}", court_spans, low_spans=cited, hits=both, spans=spans)
    if mentions is not None and spans is not None:
        mentions.extend(span for span in spans if span[0] < shift)
    if all(t.first < shift for t in tags):
        return tags, signals
    moved = [t if t.first < shift else replace(t, first=0) for t in tags]
    return tuple(sorted(moved, key=lambda t: t.first)), signals


def jurisdiction_catalog() -> list[dict[str, str]]:
    """Every gazetteer entry as {id, name, kind, state, fips}."""
    return catalog()


def resolve_jurisdiction(query: str) -> JurisdictionTag | None:
    """Resolve user input ("Cook County, IL", "Philadelphia", "fips:17031", "NYC") to one jurisdiction, or None."""
    return resolve(query)


def parse_statute(query: str) -> tuple[str | None, str, str | None]:
    """Parse user input ("8 U.S.C. 1373", "1373", "8 USC 1373(a)") to (title, section, subsection)."""
    return _parse_statute(query)
