"""What the review page shows: the letter cut into segments with the codes each passage supports,
and each code with its evidence, score and the rules (with citations) that touched it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from clincoder.core.schema import CodeSuggestion, Evidence, LetterResult

from .store import CodeRow


@dataclass(frozen=True)
class Segment:
    text: str
    codes: tuple[int, ...] = ()  # ids of the codes this passage is evidence for


@dataclass(frozen=True)
class RuleNote:
    id: str
    kind: str
    citation: str


@dataclass(frozen=True)
class CodeView:
    row: CodeRow
    evidence: tuple[Evidence, ...]
    rules: tuple[RuleNote, ...]
    suggest: float | None

    @property
    def active(self) -> bool:
        return self.row.state != "rejected"


def _suggestions(record: LetterResult) -> dict[tuple[str, str], CodeSuggestion]:
    out: dict[tuple[str, str], CodeSuggestion] = {}
    for c in record.ranked():
        out.setdefault((c.system, c.code), c)
    return out


def code_views(rows: list[CodeRow], record: LetterResult, catalogue: dict[str, RuleNote]) -> list[CodeView]:
    """Each stored code with what clincoder knew of it (evidence, rules, suggester probability)."""
    known = _suggestions(record)
    views = []
    for row in rows:
        found = known.get((row.system, row.code))
        rule_ids = json.loads(row.rules) or (list(found.rules) if found else [])
        notes = tuple(catalogue.get(r, RuleNote(r, "", "")) for r in rule_ids)
        views.append(CodeView(row, found.evidence if found else (), notes, found.suggest if found else None))
    return views


def segments(text: str, views: list[CodeView]) -> list[Segment]:
    """The letter as consecutive segments; a segment inside an active code's evidence carries the
    ids of every active code that passage supports."""
    spans = [(e.start, e.end, v.row.id) for v in views if v.active for e in v.evidence
             if 0 <= e.start < e.end <= len(text)]
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        ids = tuple(sorted({i for s, e, i in spans if s <= a and b <= e}))
        out.append(Segment(text[a:b], ids))
    return out
