"""Currency: codes the supplied table marks as not in use (retired, or not valid in the edition in
use). A retired code whose category holds a current code of the same title (the edition changed
a spelling or a number) is coded as that code; one beside the current code its statement gives
("grade 3 internal haemorrhoids": K64.2, not the retired I84.2) is not suggested, and that code
takes its place; any other is flagged (citations in ``rules.yaml``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from clincoder.core.codes import System
from clincoder.core.schema import CodeSuggestion
from clincoder.core.tables import CodeEntry, CodeTable
from clincoder.core.words import norm

from .engine import Work
from .registry import rule
from .schema import Rule


@dataclass(frozen=True)
class CurrencyParams:
    message: str  # a code not current, with no current twin
    replaced: str  # a code not current, coded as its current twin
    beside: str = ""  # a code not current, beside a current code suggested from the same statement


def _words(title: str) -> frozenset[str]:
    """A title's words in their normal form: "generalised" and "generalized" alike."""
    return frozenset(norm(w) for w in re.findall(r"[A-Za-z0-9]+", title))


def _current_twin(table: CodeTable, entry: CodeEntry) -> CodeEntry | None:
    """The one current code of the same category whose title says the same as ``entry``'s
    ("generalised" and "generalized" alike); None where there is none or more than one."""
    if entry.parent is None:
        return None
    words = _words(entry.title)
    twins = [e for e in table.children(entry.parent)
             if e.code != entry.code and e.current and e.is_code and _words(e.title) == words]
    return twins[0] if len(twins) == 1 else None


@rule("DOC-004", "currency", CurrencyParams)
def not_current(w: Work, r: Rule) -> None:
    """A code the table marks as not current is coded as its current twin, or gives way to the
    current code its statement gives (which takes its place), or is flagged."""
    p: CurrencyParams = r.params
    for s in list(w.scope(r)):
        table, entry = w.entry(s)
        if entry is None or entry.current is not False:
            continue
        twin = _current_twin(table, entry)
        if twin is not None and w.suggested(System.parse(s.system), twin.code) is None:
            w.replace(r, s, System.parse(s.system), twin.code)
            w.flag(r, p.replaced, s, codes=(s.code, twin.code), other=twin.code)
            continue
        w.tag(r, s)
        other = _coded_beside(w, s, table) if p.beside else None
        if other is not None:  # the current code takes the retired one's place (the primary's too)
            w.replace(r, s, System.parse(s.system), other.code)
            w.flag(r, p.beside, s, codes=(s.code, other.code), other=f"{other.code} ({other.title})")
            continue
        w.flag(r, p.message, s)


def _coded_beside(w: Work, s: CodeSuggestion, table: CodeTable) -> CodeSuggestion | None:
    """A current code of the same classification suggested from a statement of ``s`` ("grade 3
    internal haemorrhoids": K64.2 of the 5th Edition beside the retired I84.2)."""
    spans = {(ev.start, ev.end) for ev in s.evidence}
    return next((o for o in w.codes if o is not s and o.system == s.system
                 and (entry := table.get(o.code)) is not None and entry.current is not False
                 and any((ev.start, ev.end) in spans for ev in o.evidence)), None)
