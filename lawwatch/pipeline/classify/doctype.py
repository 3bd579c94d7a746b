"""Document type — letter, ruling, lawsuit, filing or other — from weighted cues.

The type is the event the document is, or reports: a court's decision (opinion, memorandum, order, judgment) is a
``ruling``; a complaint or petition that starts a case a ``lawsuit``; a brief, motion, application, notice, answer,
stipulation or a letter to the court a ``filing``; DOJ correspondence to jurisdictions a ``letter``; a news story
takes the type of the event it reports. Four sources of evidence, added up per type:

* the *form* the source gave (``opinion``, ``order``, ``complaint``, ``brief``, ``letter``...) — decisive;
* the *structure* of a court paper — strong: the caption heading, upper-case lines near the top ("MEMORANDUM
  OPINION", "ORDER", "COMPLAINT FOR DECLARATORY AND INJUNCTIVE RELIEF", "APPLICATION FOR A STAY", "ON APPLICATION
  FOR STAY" — the Court's order on one), or a line that is only "Opinion" / "Memorandum" under a caption; the
  first words of a docket entry ("Docket Text: ORDER granting [20] motion", "MOTION for Extension of Time");
* the *voice* — strong: the court's ("IT IS ORDERED", "the Court GRANTS", "Before the Court is", "For the reasons
  stated herein", "The opinion of the court was delivered by") or a filer's ("respectfully applies for",
  "respectfully submits", "moves this Court");
* cue phrases in the title, or the headline (a short first line), counted three times, and in the body ("sent
  letters to", "preliminary assessment", "is GRANTED", "enjoined", "filed suit"). Criminal-case news (indicted,
  pleaded guilty, sentenced) and settlements count for ``other``. When the structure says what the paper is, words
  that merely mention other events (a complaint citing a letter, an opinion reciting the suit) count half.

The type with the highest score wins when it reaches 2.0; otherwise the document is ``other``. ``signals`` holds the
scores and the cues that fired, so a wrong call can be traced to a rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import ahocorasick

from lawwatch.pipeline.classify.gazetteer import INERT, fold

TYPES = ("letter", "ruling", "lawsuit", "filing", "other")
THRESHOLD = 2.0
TITLE_WEIGHT = 3.0

_FORMS = {
    "letter": "letter",
    "opinion": "ruling",
    "order": "ruling",
    "judgment": "ruling",
    "ruling": "ruling",
    "complaint": "lawsuit",
    "petition": "lawsuit",
    "lawsuit": "lawsuit",
    "brief": "filing",
    "motion": "filing",
    "notice": "filing",
    "application": "filing",
    "filing": "filing",
}

_HEADINGS: tuple[tuple[str, str, float], ...] = (
    (
        r"\b(?:MEMORANDUM\s+)?OPINION\b|\bMEMORANDUM AND ORDER\b|\bORDER\b|\bJUDGMENT\b|\bINJUNCTION\b"
        r"|^MEMORANDUM$|\bON (?:APPLICATION|PETITION|MOTION) FOR\b",
        "ruling",
        6,
    ),
    (r"\bCOMPLAINT\b|\bPETITION FOR (?:A )?(?:WRIT|REVIEW|DECLARATORY)", "lawsuit", 7),
    (
        r"\bAPPLICATION FOR (?:A |AN )?(?:PARTIAL |EMERGENCY |IMMEDIATE |ADMINISTRATIVE )*STAY\b"
        r"|\bMOTION\b|\bBRIEF\b|\bNOTICE OF\b|\bRESPONSE\b|\bREPLY\b"
        r"|\bSTATEMENT OF INTEREST\b|\bPETITION FOR (?:A )?REHEARING|\bMEMORANDUM (?:OF LAW|IN SUPPORT)",
        "filing",
        8,
    ),
)

# A cue: (pattern, type, weight, anchors[, before]). The anchors are the literal lower-case words a match starts with;
# one Aho-Corasick pass over the lower-cased text finds them, and the pattern is only tried (``match``) where one
# occurs, at a word boundary, with ``before`` (if any) matching the text just ahead. A pattern with an upper-case
# keyword ("IT IS ORDERED", "COMPLAINT FOR") must match that case in the original text.
_Cue = tuple[str, str, float, tuple[str, ...]] | tuple[str, str, float, tuple[str, ...], str]
_CUES: tuple[_Cue, ...] = (
    # letters
    (r"sen(?:t|ds|ding) (?:\w+ ){0,3}letters?\b", "letter", 3, ("sent", "sends", "sending")),
    (r"letters? (?:to|were sent|went|dated)\b", "letter", 1.5, ("letter",)),
    (
        r"(?:received?|receiving|got|gets) (?:a |the )?(?:(?!no\b|not\b)\w+ ){0,3}letters?\b",
        "letter",
        3,
        ("receive", "receiving", "got", "gets"),
    ),
    (r"(?:a|the) letter\b", "letter", 1, ("a letter", "the letter")),
    (
        r"letters? from the (?:\w+ )?department\b|the (?:department's )?letter (?:said|says|cited|cites|asks|"
        r"asked|ask|demands?|demanded|warned|gave|questioned|concluded|found|singled)\b",
        "letter",
        2,
        ("letter", "the letter", "the department's letter"),
    ),
    (r"preliminary assessment", "letter", 3, ("preliminary assessment",)),
    (
        r"(?:certif\w+|documentation) (?:of )?compliance with (?:8 u\.s\.c\.|section|§)",
        "letter",
        1.5,
        ("certif", "documentation"),
    ),
    (
        r"(?:request(?:s|ed|ing)?|demand(?:s|ed|ing)?) (?:\w+ ){0,3}(?:documents|records|information)\b",
        "letter",
        1,
        ("request", "demand"),
    ),
    (r"dear\b", "letter", 2.5, ("dear",), r"(?:^|\n)\s*$"),
    (r"sincerely,", "letter", 2.5, ("sincerely,",)),
    (
        r"last chance\b|final warning\b|warn(?:s|ed|ing)? (?:\w+ ){0,3}jurisdictions\b",
        "letter",
        2,
        ("last chance", "final warning", "warn"),
    ),
    # rulings
    (r"IT IS (?:HEREBY |FURTHER )?ORDERED\b|SO ORDERED\b", "ruling", 5, ("it is", "so ordered")),
    (
        r"for the (?:foregoing |following )?reasons (?:stated |set forth |described |discussed )?"
        r"(?:herein|above|below|in this opinion)\b",
        "ruling",
        3,
        ("for the reasons", "for the foregoing", "for the following"),
    ),
    (r"(?:presently )?before the court (?:is|are)\b", "ruling", 3, ("before the court", "presently before")),
    (
        r"the opinion of the court was delivered|opinion by (?:chief )?(?:judge|justice)\b",
        "ruling",
        5,
        ("the opinion of", "opinion by"),
    ),
    (
        r"the application for (?:a )?stay (?:presented to|is granted|is denied)",
        "ruling",
        5,
        ("the application for",),
    ),
    (r"(?:granted|denied)\b", "ruling", 3, ("granted", "denied"), r"\b(?:is|are) (?:hereby )?$"),
    (
        r"Opinion and Order\b|ORDER (?:granting|denying)\b",
        "ruling",
        3,
        ("opinion and order", "order granting", "order denying"),
    ),
    (
        r"(?:preliminar(?:y|ily)|permanent(?:ly)?|nationwide) (?:injunction|enjoin\w*)\b",
        "ruling",
        1.5,
        ("preliminar", "permanent", "nationwide"),
    ),
    (
        r"enjoin(?:ed|s|ing)\b|block(?:ed|s)\b|struck down\b|upheld\b|affirm(?:ed|s)\b",
        "ruling",
        1.5,
        ("enjoin", "block", "struck down", "upheld", "affirm"),
    ),
    (
        # possessive (``++``): a word cut short or fewer spaces could never be followed by a space or a verb, so
        # giving them up only costs time (~6 µs a "court" in a long sentence)
        r"(?:judge|court|panel|justices?)\b(?:\s++[\w.,'-]++){0,5}?\s++"
        r"(?:ruled|rules|held|holds|found|finds|granted|grants|denied|denies|sided|sides|agreed|rejected|ordered"
        r"|orders|issued|blocked|blocks|upheld|upholds|struck)\b",
        "ruling",
        3,
        ("judge", "court", "panel", "justice"),
    ),
    (r"(?:ruling|decision|opinion)\b", "ruling", 1, ("ruling", "decision", "opinion")),
    (r"summary judgment\b", "ruling", 1, ("summary judgment",)),
    # lawsuits
    (r"COMPLAINT FOR\b", "lawsuit", 4, ("complaint for",)),
    (
        r"(?:filed|files|filing|brought|brings) (?:a |an |its |their )?(?:\w+ ){0,2}(?:suit|lawsuit|complaint)\b",
        "lawsuit",
        3,
        ("filed", "files", "filing", "brought", "brings"),
    ),
    (r"sue[sd]?\b|suing\b", "lawsuit", 2.5, ("sue", "suing")),
    (r"lawsuits?\b", "lawsuit", 1, ("lawsuit",)),
    (r"brings this action\b|plaintiffs? (?:allege|seek)", "lawsuit", 3, ("brings this action", "plaintiff")),
    (r"DEMAND FOR JURY TRIAL\b", "lawsuit", 3, ("demand for jury trial",)),
    # other court papers
    (r"APPLICATION FOR (?:A )?STAY\b", "filing", 4, ("application for",)),
    (
        r"respectfully (?:applies|submits|moves|requests|petitions)\b|(?:hereby )?moves? this (?:honorable )?court\b",
        "filing",
        4,
        ("respectfully", "moves this", "move this", "hereby moves", "hereby move"),
    ),
    (r"stay application\b|asked the supreme court to\b", "filing", 4, ("stay application", "asked the supreme")),
    (
        r"(?:filed|files|filing) (?:a |an |its )?(?:\w+ ){0,2}"
        r"(?:brief|motion|notice of appeal|statement of interest)\b",
        "filing",
        3,
        ("filed", "files", "filing"),
    ),
    (
        r"amicus\b|notice of appeal\b|petition for rehearing\b|memorandum (?:of law|in support)",
        "filing",
        2,
        ("amicus", "notice of appeal", "petition for rehearing", "memorandum"),
    ),
    # criminal cases, settlements, speeches: other
    (
        r"(?:indicted|pleaded guilty|pleads? guilty|sentenced|convicted|arrested|extradited|charged with)\b",
        "other",
        2,
        (
            "indicted",
            "pleaded guilty",
            "pleads guilty",
            "plead guilty",
            "sentenced",
            "convicted",
            "arrested",
            "extradited",
            "charged with",
        ),
    ),
    (
        r"(?:settle[sd]?|settlement|resolve[sd]?|agreed to pay|agrees to pay|consent decree|remarks)\b",
        "other",
        2,
        ("settle", "resolve", "agreed to pay", "agrees to pay", "consent decree", "remarks"),
    ),
    (r"criminal complaint\b", "other", 3, ("criminal complaint",)),
)


# Cues in the voice of the court or of a filer (their first anchors): they say what the paper is, so they keep their
# full weight when the structure is known; the others only mention events and then count half.
_VOICE = frozenset(
    (
        "it is",
        "for the reasons",
        "for the foregoing",
        "for the following",
        "before the court",
        "the opinion of",
        "the application for",
        "respectfully",
        "dear",
    )
)
MENTION_FACTOR = 0.5


@dataclass(frozen=True, slots=True)
class _Compiled:
    rx: re.Pattern[str]
    kind: str
    weight: float
    anchors: tuple[str, ...]
    case_sensitive: bool
    before: re.Pattern[str] | None
    voice: bool


def _compile(cue: _Cue) -> _Compiled:
    pattern, kind, weight, anchors = cue[:4]
    before = re.compile(cue[4]) if len(cue) > 4 else None
    case_sensitive = bool(re.search(r"[A-Z]{3}", pattern))
    return _Compiled(re.compile(pattern), kind, weight, anchors, case_sensitive, before, anchors[0] in _VOICE)


_COMPILED_CUES = [_compile(c) for c in _CUES]
_ANCHORS = ahocorasick.Automaton(ahocorasick.STORE_ANY)
for _anchor in {a for c in _COMPILED_CUES for a in c.anchors}:
    _ANCHORS.add_word(_anchor, _anchor)
_ANCHORS.make_automaton()
_BY_ANCHOR: dict[str, list[int]] = {}
for _i, _cue in enumerate(_COMPILED_CUES):
    for _anchor in _cue.anchors:
        _BY_ANCHOR.setdefault(_anchor, []).append(_i)
# The same anchors for the folded text (see :func:`pipeline.classify.gazetteer.fold`), each as " " + its folded form
# without trailing punctuation ("sincerely," -> " sincerely"): the leading space is the word boundary, and the
# automaton's root has one child, so this pass costs half the one above. A folded hit is checked against the
# lower-cased text, so the hits are exactly the anchors that start a word there.
_PADDED: dict[str, list[str]] = {}
for _anchor in sorted(_BY_ANCHOR):
    _PADDED.setdefault(" " + fold(_anchor).rstrip(), []).append(_anchor)
_PADDED_ANCHORS = ahocorasick.Automaton(ahocorasick.STORE_ANY)
for _key, _anchors in _PADDED.items():
    _PADDED_ANCHORS.add_word(_key, (len(_key), tuple(_anchors)))
_PADDED_ANCHORS.make_automaton()
# The same keys are also added to the gazetteer's automaton (:func:`pipeline.classify.gazetteer.build`), valued
# ``len(keys) + n`` for ``ANCHOR_KEYS[n]``, so that ``classify`` scans the folded text once for both (~40 µs a
# document): ``anchor_hits`` are then the (last offset, n) pairs of that scan, which are exactly this automaton's hits.
ANCHOR_KEYS: tuple[str, ...] = tuple(_PADDED)
_ANCHOR_VALUES = [(len(k), tuple(v)) for k, v in _PADDED.items()]


def _anchor_starts(
    lowered: str, folded: str | None, anchor_hits: list[tuple[int, int]] | None = None
) -> dict[str, list[int]]:
    """Anchor -> offsets where it starts a word of ``lowered``, in the order of a scan of ``lowered`` (by end offset,
    the longest first at the same end), which decides the first match reported for each cue. ``anchor_hits``
    (optional, with ``folded``): the (last offset, index in ``ANCHOR_KEYS``) hits of a scan of all of ``folded``."""
    positions: dict[str, list[int]] = {}
    if folded is None:
        for end, anchor in _ANCHORS.iter(lowered):
            start = end - len(anchor) + 1
            if start == 0 or not lowered[start - 1].isalnum():
                positions.setdefault(anchor, []).append(start)
        return positions
    hits = []
    limit = len(lowered)
    if anchor_hits is None:
        found = list(_PADDED_ANCHORS.iter(folded, 0, limit + 2))
    else:  # ``iter(folded, 0, limit + 2)`` reports the hits that end before ``limit + 2``: the same filter
        found = [(last, _ANCHOR_VALUES[n]) for last, n in anchor_hits if last < limit + 2]
    for last, (length, anchors) in found:
        start = last - length + 1  # folded is padded by one: the key's space is at ``start`` in ``lowered`` terms
        for anchor in anchors:
            if start + len(anchor) <= limit and lowered.startswith(anchor, start):
                hits.append((start + len(anchor), -len(anchor), start, anchor))
    for _, _, start, anchor in sorted(hits):
        positions.setdefault(anchor, []).append(start)
    return positions


def _cue_hits(
    source: str,
    lowered: str | None = None,
    folded: str | None = None,
    anchor_hits: list[tuple[int, int]] | None = None,
) -> list[tuple[_Compiled, int, str]]:
    """(cue, number of matches, first match) for every cue that fires in ``source``. ``folded`` (optional) is
    ``" " + fold(text) + " "`` of a text that ``source`` begins; ``anchor_hits`` (optional) the anchors' hits in it."""
    lowered = lowered if lowered is not None else source.lower()
    if len(lowered) != len(source):
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in source)
        folded = None
    positions = _anchor_starts(lowered, folded, anchor_hits if folded is not None else None)
    counts: dict[int, list[Any]] = {}
    for anchor, starts in positions.items():
        for i in _BY_ANCHOR[anchor]:
            cue = _COMPILED_CUES[i]
            hay = source if cue.case_sensitive else lowered
            for pos in starts:
                m = cue.rx.match(hay, pos)
                if m and (cue.before is None or cue.before.search(hay, max(0, pos - 20), pos)):
                    got = counts.setdefault(i, [0, m.group(0)])
                    got[0] += 1
    out = [(_COMPILED_CUES[i], n, first) for i, (n, first) in sorted(counts.items())]
    return out


_CAPTION_HINTS = ("Court", "v.", "No.", "V.", "NO.", "COURT")  # the most frequent first: ``any`` stops there
_COMPILED_HEADINGS = [(re.compile(p), t, w) for p, t, w in _HEADINGS]
_CAPTION = re.compile(
    r"\bv\.|\bCase No\.|\bCivil Action No\.|\bNo\. \d{1,2}[-:]|\bUNITED STATES DISTRICT COURT\b", re.I
)
# ``_CAPTION`` with re.I costs ~0.15 ms over 3,000 characters; the same pattern in lower case, without re.I, over the
# lower-cased text finds the same matches (lower-casing keeps every character's offset, word-ness and digit-ness)
# unless the text holds one of the four non-ASCII letters that re.I equates with an ASCII letter, or that lower-case
# to one: "İ", "ı", "ſ" and the Kelvin sign. Then the re.I pattern runs as before. A test checks the four are all.
# In the lower-case pattern each "\b" before a first letter x is written x(?<!\wx) (the same test: x is a word
# character), so that every alternative starts with a letter and the regex engine skips ahead to "v", "c", "n", "u".
_CAPTION_LOWER = re.compile(
    r"v(?<!\wv)\.|c(?<!\wc)(?:ase|ivil action) no\.|n(?<!\wn)o\. \d{1,2}[-:]|u(?<!\wu)nited states district court\b"
)
CASE_TRAPS = "\u0130\u0131\u017f\u212a"
if any(ord(c) < 256 or c in INERT for c in CASE_TRAPS):  # pragma: no cover - ``plain`` texts must hold none of them
    raise ValueError("a case trap is Latin-1 or INERT")
# Each alternative of ``_CAPTION_LOWER`` holds one of three literals at a fixed offset from its start: "v." at 0;
# "no." at 0, 5 ("case no.") or 13 ("civil action no."); "district court" at 14 ("united states district court").
# So a ``match`` at those offsets from each occurrence (``str.find``, memchr-fast) finds a match exactly when a
# ``search`` does; the search tries the pattern at every "v", "c", "n" and "u" of the head (~20 µs a document).
_CAPTION_AT = (("v.", (0,)), ("no.", (0, 5, 13)), ("district court", (14,)))


def _caption_lower(low_head: str) -> bool:
    """``_CAPTION_LOWER.search(low_head) is not None``, from the literals' occurrences."""
    for literal, backs in _CAPTION_AT:
        pos = low_head.find(literal)
        while pos >= 0:
            for back in backs:
                if pos >= back and _CAPTION_LOWER.match(low_head, pos - back):
                    return True
            pos = low_head.find(literal, pos + 1)
    return False


def _has_caption(head: str, low_head: str | None, plain: bool = False) -> bool:
    """``_CAPTION.search(head) is not None``. ``plain``: ``head`` holds no character beyond Latin-1 but ``INERT``
    punctuation (none of ``CASE_TRAPS``), so the search for those is skipped."""
    if low_head is None or len(low_head) != len(head) or not plain and any(c in head for c in CASE_TRAPS):
        return _CAPTION.search(head) is not None
    return _caption_lower(low_head)


def _heading_lines(text: str) -> list[str]:
    head = text[:2500]
    lines = []
    for line in head.splitlines():
        if line.isascii() and not line.isupper():
            continue  # in ASCII every letter is cased: a line of upper-case letters only is ``isupper()``
        letters = [c for c in line if c.isalpha()]
        if len(letters) >= 4 and all(c.isupper() for c in letters):
            lines.append(line.strip())
    return lines


_COURT_IN_LINE = re.compile(r"(?:UNITED STATES )?(?:DISTRICT COURT|COURT OF APPEALS|SUPREME COURT)\b")
_LONE_HEADING = re.compile(r"(?m)^[ \t]*(Opinion|Memorandum(?: Opinion)?(?: and Order)?|Opinion and Order)[ \t]*$")


def _heading(text: str) -> tuple[str, float, str] | None:
    """The first caption heading: on its line, the type whose keyword comes first wins. A line that is only
    "Opinion" or "Memorandum" (the way published opinions head the court's text) is a ruling's heading too."""
    maybe = text.find("pinion", 0, 2500) >= 0 or text.find("emorandum", 0, 2500) >= 0
    lone = _LONE_HEADING.search(text, 0, 2500) if maybe else None
    if lone:
        return "ruling", 5, lone.group(1)
    for line in _heading_lines(text):
        court = _COURT_IN_LINE.search(line)
        if court:  # "IN THE UNITED STATES DISTRICT COURT": no heading; "APPLICATION FOR A STAY ... DISTRICT COURT"
            line = line[: court.start()]
        line = line.strip()
        if not line or line.startswith(("IN THE ", "FOR THE ")):
            continue
        found = [(m.start(), kind, w) for rx, kind, w in _COMPILED_HEADINGS if (m := rx.search(line))]
        if found:
            _, kind, weight = min(found)
            return kind, weight, line
    return None


# A docket entry: "Docket Text: ORDER granting [20] motion" (an NEF), "09/15/2017 78 MEMORANDUM Opinion and Order"
# (a docket row). Its first words say what was filed; the first of these keywords within them decides.
_DOCKET = re.compile(r"(?m)Docket Text:\s*|^\d{1,2}/\d{1,2}/\d{4}\s+\d+\s+")
_ENTRY_KINDS = (
    (r"ORDER|JUDGMENT|OPINION|MEMORANDUM OPINION|MEMORANDUM AND ORDER|FINDINGS OF FACT|DECISION", "ruling"),
    (r"COMPLAINT|PETITION FOR (?:A )?WRIT|CLASS ACTION COMPLAINT|NOTICE OF REMOVAL", "lawsuit"),
    (
        r"MOTION|BRIEF|NOTICE|RESPONSE|REPLY|ANSWER|LETTER|STIPULATION|STATUS REPORT|DECLARATION|AFFIDAVIT"
        r"|MEMORANDUM|APPLICATION|OBJECTION|STATEMENT|CERTIFICATE|REQUEST|PROPOSED|EXHIBIT|TRANSCRIPT|SUMMONS"
        r"|SEALED DOCUMENT|REDACTED",
        "filing",
    ),
)
_ENTRY = re.compile(
    r"(?:(?!re\b)[\w.,'()\[\]-]+\s+){0,7}?\b("
    + "|".join(f"(?P<{kind}>{pattern})" for pattern, kind in _ENTRY_KINDS)
    + r")\b",
    re.I,
)
ENTRY_WEIGHT = 8.0


def _docket_entry(text: str) -> tuple[str, str] | None:
    """(type, first words) of a docket entry: what its first keyword says was filed or decided."""
    d = _DOCKET.search(text, 0, 3000)
    if d is None:
        return None
    m = _ENTRY.match(text, d.end())
    if m is None:
        return None
    kind = next(k for _, k in _ENTRY_KINDS if m.group(k))
    return kind, text[d.end() : m.end()][:60]


_HEADLINE = re.compile(r"[ \t]*([^\n]{12,200}?)[ \t]*\n[ \t]*\n")


def _headline(text: str) -> str | None:
    """The first line of a story when it is a headline: short, followed by a blank line, no final period."""
    m = _HEADLINE.match(text)
    if m is None or m.group(1).endswith((".", ":", ";", ",")) or m.group(1).isupper():
        return None
    return m.group(1)


def classify_doctype(
    text: str,
    *,
    title: str | None = None,
    url: str | None = None,
    form: str | None = None,
    lowered: str | None = None,
    folded: str | None = None,
    anchor_hits: list[tuple[int, int]] | None = None,
    plain: bool = False,
) -> tuple[str, dict[str, Any]]:
    """(doc_type, signals). ``lowered`` (``text.lower()``) and ``folded`` (``" " + fold(text) + " "``) are optional:
    the caller's copies, so that the text is not lower-cased or scanned again; ``anchor_hits`` (optional, with both)
    the cue anchors' hits in ``folded`` (see ``ANCHOR_KEYS``), so that it is not scanned again either. ``plain``:
    ``lowered`` is that of :func:`~pipeline.classify.gazetteer.lower_fold` (``text`` holds no character beyond
    Latin-1 but ``INERT`` punctuation)."""
    scores = dict.fromkeys(TYPES, 0.0)
    cues: list[str] = []
    if form:
        kind = _FORMS.get(form.strip().lower())
        if kind:
            scores[kind] += 10
            cues.append(f"form:{form}")
    if url and re.search(r"/opinions?/", url):
        scores["ruling"] += 3
        cues.append("url:opinion")
    head = text[:3000]
    structure = False
    low_head = lowered[:3000] if lowered is not None else None
    # both tests, the cheaper first: with ``lowered``, the caption (4% of news releases) before the hints (half)
    if (
        _has_caption(head, low_head, plain) and any(c in head for c in _CAPTION_HINTS)
        if low_head is not None
        else any(c in head for c in _CAPTION_HINTS) and _has_caption(head, None)
    ):
        heading = _heading(text)
        if heading:
            kind, weight, line = heading
            scores[kind] += weight
            cues.append(f"heading:{line[:60]}")
            structure = True
    entry = _docket_entry(head) if "Docket Text" in head or head[:1].isdigit() else None
    if entry:
        scores[entry[0]] += ENTRY_WEIGHT
        cues.append(f"docket:{entry[1]}")
        structure = True
    body = text[:20000]
    low_body = lowered[:20000] if lowered is not None else None
    headline = _headline(text) if not title and not structure else None
    sources = (
        (title or headline or "", None, None, None, TITLE_WEIGHT),
        (body, low_body, folded, anchor_hits, 1.0),
    )
    for source, low, fold_, hits, factor in sources:
        if not source:
            continue
        where = "text" if factor == 1 else "title" if title else "headline"
        for cue, count, first in _cue_hits(source, low, fold_ if low is not None else None, hits):
            mention = MENTION_FACTOR if structure and not cue.voice and factor == 1 else 1.0
            scores[cue.kind] += cue.weight * factor * mention * min(count, 3) ** 0.5
            cues.append(f"{where}:{cue.kind}:{first}")
    best = max(TYPES, key=lambda t: scores[t])
    doc_type = best if scores[best] >= THRESHOLD else "other"
    return doc_type, {"scores": {k: round(v, 2) for k, v in scores.items() if v}, "cues": cues[:20]}
