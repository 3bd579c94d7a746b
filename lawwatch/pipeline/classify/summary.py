"""A short human-readable summary of a :class:`~lawwatch.pipeline.classify.Classification` (``classify --format
text``): the document type with its scores and top signals, the statutes, and each jurisdiction with how it was
resolved. Pure: text in, text out."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lawwatch.pipeline.classify import Classification

TOP_SIGNALS = 4


def _statute(title: str | None, section: str, subsection: str | None) -> str:
    sub = f"({subsection})" if subsection else ""
    return f"{title} U.S.C. § {section}{sub}" if title else f"§ {section}{sub} (title not given)"


def summary(result: Classification, name: str = "-") -> str:
    """Lines like::

    order.txt: ruling (ruling 11.0, filing 1.5)
      signals: heading:MEMORANDUM OPINION AND ORDER; text:ruling:IT IS ORDERED
      statutes: 8 U.S.C. § 1373
      jurisdictions: Philadelphia, PA (fips:4260000, 3 mentions, unique); Cook County, IL (fips:17031,
        1 mention, prominence)
    """
    signals = result.signals.get("doc_type", {})
    scores = sorted(signals.get("scores", {}).items(), key=lambda kv: -kv[1])
    shown = ", ".join(f"{kind} {score:g}" for kind, score in scores) or "no cue"
    lines = [f"{name}: {result.doc_type} ({shown})"]
    cues = list(signals.get("cues", []))[:TOP_SIGNALS]
    lines.append("  signals: " + ("; ".join(cues) if cues else "none"))
    statutes = list(dict.fromkeys(_statute(s.title, s.section, s.subsection) for s in result.statutes))
    lines.append("  statutes: " + ("; ".join(statutes) if statutes else "none"))
    places = []
    for j in result.jurisdictions:
        where = j.name if j.kind in ("state", "territory") else f"{j.name}, {j.state}"
        mentions = f"{j.mentions} mention{'s' if j.mentions != 1 else ''}"
        how = j.resolved_by or "given"
        role = ", only locates a place" if j.role == "locator" else ""
        places.append(f"{where} ({j.id}, {mentions}, {how}{role})")
    lines.append("  jurisdictions: " + ("; ".join(places) if places else "none"))
    dropped = result.signals.get("jurisdictions", {}).get("dropped", {})
    if dropped:
        names = "; ".join(f"{why}: {', '.join(found)}" for why, found in sorted(dropped.items()))
        lines.append(f"  not tagged: {names}")
    if result.courts:
        lines.append("  courts: " + "; ".join(c.name for c in result.courts))
    return "\n".join(lines)
