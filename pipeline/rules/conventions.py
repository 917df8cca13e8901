"""Classification conventions: Excludes1 pairs, code-first and use-additional notes, codes that
need more characters (citations in ``rules.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass

from clincoder.core.codes import compact
from clincoder.core.schema import CodeSuggestion
from clincoder.core.tables import CodeEntry, CodeTable

from .engine import Work, axis_gaps, evidence, mention_text, notes_of, specific
from .refs import code_refs, in_refs
from .registry import rule
from .schema import MessageParams, Rule


@dataclass(frozen=True)
class CodeFirstParams:
    missing: str
    reordered: str


@dataclass(frozen=True)
class AxesParams:
    axes: tuple[str, ...]
    message: str
    question: str = ""


@rule("CON-001", "conventions", MessageParams)
def excludes1(w: Work, r: Rule) -> None:
    kept: list[tuple[CodeSuggestion, CodeTable, CodeEntry]] = []
    for s in sorted(w.scope(r), key=lambda s: -s.score):
        table, entry = w.entry(s)
        if entry is None:
            continue
        clash = None
        for k, kt, ke in kept:
            if k.system != s.system or compact(k.code) == compact(s.code):
                continue
            note = next((n for n in notes_of(kt, ke, "excludes1") if in_refs(s.code, code_refs(n))), None) \
                or next((n for n in notes_of(table, entry, "excludes1") if in_refs(k.code, code_refs(n))), None)
            if note:
                clash = (k, note)
                break
        if clash is None:
            kept.append((s, table, entry))
            continue
        k, note = clash
        w.demote(s)
        w.tag(r, s, k)
        w.flag(r, r.params.message, s, codes=(s.code, k.code), other=k.code, notes=note)


@rule("CON-002", "conventions", CodeFirstParams)
def code_first(w: Work, r: Rule) -> None:
    for s in w.scope(r):
        table, entry = w.entry(s)
        notes = notes_of(table, entry, "code_first") if entry else []
        refs = tuple(ref for n in notes for ref in code_refs(n))
        if not refs:
            continue
        hit = next((o for o in w.codes if o is not s and o.system == s.system and in_refs(o.code, refs)), None)
        if hit is None:
            w.tag(r, s)
            w.flag(r, r.params.missing, s, notes="; ".join(n.strip(" ,:") for n in notes))
        elif w.codes.index(hit) > w.codes.index(s):
            w.move_before(hit, s)
            w.tag(r, s, hit)
            w.flag(r, r.params.reordered, s, codes=(hit.code, s.code), other=hit.code)


@rule("CON-003", "conventions", MessageParams)
def use_additional(w: Work, r: Rule) -> None:
    for s in w.scope(r):
        table, entry = w.entry(s)
        if entry is None:
            continue
        wanted = [n for n in notes_of(table, entry, "use_additional")
                  if code_refs(n) and not any(in_refs(o.code, code_refs(n)) for o in w.codes if o.system == s.system)]
        if wanted:
            w.tag(r, s)
            w.flag(r, r.params.message, s, notes="; ".join(dict.fromkeys(wanted)))


@rule("CON-004", "conventions", AxesParams)
def not_selectable(w: Work, r: Rule) -> None:
    p: AxesParams = r.params
    axes = [w.ruleset.axes[a] for a in p.axes]
    for s in w.scope(r):
        table, entry = w.entry(s)
        if entry is None or table.is_selectable(s.code):
            continue
        support = w.support(s)
        details, asked = [], False
        for _, by_value, found in axis_gaps(w, r, s, entry, table.children(entry.code), axes, support):
            if found:
                better = specific(table, entry, by_value.get(found[0]) or [entry])
                details.append(f" The letter documents {found[0]}: consider {better.code}.")
            else:
                asked = True
        if not asked:
            w.query(r, p.question, s, evidence=evidence(support), condition=mention_text(support))
        w.tag(r, s)
        w.flag(r, p.message, s, details="".join(details))
