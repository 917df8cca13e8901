"""What coders did with clincoder's suggestions, read from their submitted decisions
(:class:`clincoder.core.review.ReviewedLetter`): how often a suggestion is accepted as it stands,
edited to another code or rejected (and why), overall, per code, per rule and per source of the
code; the codes coders added that clincoder did not suggest; and the coder-audit figures of
clincoder's records with the submitted coding as the gold."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Iterable, Sequence

from clincoder.core.review import ReviewedCode, ReviewedLetter

from .coder_gold import coder_audit

DECISIONS = ("accepted", "edited", "rejected")


def _rates(codes: Iterable[ReviewedCode]) -> dict:
    counts = Counter(c.decision for c in codes)
    n = sum(counts[d] for d in DECISIONS)
    return {"n": n, **{d: counts[d] for d in DECISIONS},
            "acceptance": round(counts["accepted"] / n, 3) if n else None}


def _grouped(codes: Sequence[ReviewedCode], key, min_n: int) -> list[dict]:
    groups: dict[str, list[ReviewedCode]] = defaultdict(list)
    for c in codes:
        for k in key(c):
            groups[k].append(c)
    rows = [{"key": k, **_rates(v)} for k, v in groups.items()]
    return sorted((r for r in rows if r["n"] >= min_n), key=lambda r: (r["acceptance"] or 0.0, -r["n"], r["key"]))


def _added(letters: Sequence[ReviewedLetter]) -> list[dict]:
    """Codes coders assigned that clincoder did not suggest, with where (if anywhere) its ranked
    list had them: recall the suggestions missed."""
    seen: dict[tuple[str, str], dict] = {}
    for letter in letters:
        ranks = {(c.system, c.code): c.rank for c in letter.record.ranked()}
        for c in letter.codes:
            if c.state != "accepted" or c.decision not in ("added", "edited"):
                continue
            row = seen.setdefault((c.system, c.code), {"system": c.system, "code": c.code, "title": c.title,
                                                       "letters": 0, "ranked_at": []})
            row["letters"] += 1
            if (c.system, c.code) in ranks:
                row["ranked_at"].append(ranks[(c.system, c.code)])
    return sorted(seen.values(), key=lambda r: (-r["letters"], r["code"]))


def feedback_report(letters: Sequence[ReviewedLetter], min_n: int = 1) -> dict:
    """The acceptance figures and the coder audit of clincoder's records against the decisions."""
    suggested = [c for letter in letters for c in letter.codes if c.origin == "suggested"]
    reasons = Counter(c.reason for c in suggested if c.state == "rejected")
    return {
        "letters": len(letters),
        "reviewers": sorted({letter.reviewer for letter in letters if letter.reviewer}),
        "suggestions": _rates(suggested),
        "rejection_reasons": dict(reasons.most_common()),
        "per_system": _grouped(suggested, lambda c: [c.system], 1),
        "per_code": _grouped(suggested, lambda c: [c.suggested or c.code], min_n),
        "per_rule": _grouped(suggested, lambda c: list(c.rules) or ["(no rule)"], 1),
        "per_source": {origin: sum(1 for letter in letters for c in letter.codes
                                   if c.origin == origin and c.state == "accepted")
                       for origin in ("suggested", "candidate", "added")},
        "added_not_suggested": _added(letters),
        "audit": coder_audit([letter.to_gold() for letter in letters], {letter.id: letter.record for letter in letters}),
    }
