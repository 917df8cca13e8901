"""The figures an NHS clinical coding audit reports, for coded records against a coder gold set
(:mod:`clincoder.core.gold`).

:func:`coder_audit` compares coded records (``clincoder code`` JSONL) with the gold as an
auditor would: primary diagnosis correct, secondary diagnoses precision and recall, main procedure
correct, secondary procedures precision and recall (codes compared at 4 characters), all
suggested codes at 4 and at 3 characters, codes coded that the gold says must not be, codes
suggested on negated, family or hypothetical evidence only, and the wrong codes per letter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from clincoder.core.config import PROFILES
from clincoder.core.gold import GoldCode, GoldLetter, code_at
from clincoder.core.metrics import prf
from clincoder.core.schema import CodeSuggestion, LetterResult, not_coded_only

from .formats import CodedSet, Item


def as_coded_set(letters: Sequence[GoldLetter], profile: str = "uk") -> CodedSet:
    """The gold codes as a coded set (roles primary and secondary, in sequence), for the
    standard metrics; diagnoses in the profile's diagnosis system, procedures in its procedure system."""
    prof = PROFILES[profile]
    docs = {}
    for g in letters:
        items = []
        for system, codes in ((prof.diagnosis.value, g.diagnoses), (prof.procedure.value, g.procedures)):
            items += [Item(system, c.code, len(items) + n, "primary" if n == 1 else "secondary")
                      for n, c in enumerate(codes, 1)]
        docs[g.id] = items
    return CodedSet(docs, "coder-gold", sorted({str(Path(g.source).parent) for g in letters}), False, True)


# ---- the audit ------------------------------------------------------------------------------------

def _match(pred: Sequence[str], slots: Sequence[GoldCode], level: int) -> tuple[int, list[str], list[GoldCode]]:
    """Pair predicted codes with gold slots (a slot takes its code or an alternative; each side
    pairs once): ``(pairs, unmatched predictions, unmatched slots)``."""
    left = list(slots)
    wrong = []
    for code in pred:
        hit = next((s for s in left if code_at(code, level) in s.keys(level)), None)
        if hit is None:
            wrong.append(code)
        else:
            left.remove(hit)
    return len(pred) - len(wrong), wrong, left


def _counts(pred, slots, level) -> tuple[int, int, int]:
    tp, wrong, missed = _match(pred, slots, level)
    return tp, len(wrong), len(missed)


@dataclass
class _Tally:
    counts: dict = field(default_factory=dict)

    def add(self, name: str, tp: int, fp: int, fn: int) -> None:
        c = self.counts.setdefault(name, [0, 0, 0])
        c[0], c[1], c[2] = c[0] + tp, c[1] + fp, c[2] + fn

    def figures(self) -> dict:
        return {name: {**prf(*c), "tp": c[0], "fp": c[1], "fn": c[2]} for name, c in self.counts.items()}


def _letter_audit(g: GoldLetter, rec: LetterResult | None, tally: _Tally) -> dict:
    codes = list(rec.codes) if rec is not None and not rec.error else []
    dx = [s.code for s in codes if s.kind == "diagnosis"]
    px = [s.code for s in codes if s.kind == "procedure"]
    row = {"id": g.id, "split": g.split, "specialty": g.specialty, "error": rec.error if rec else "not coded"}
    row["primary_diagnosis"] = {"gold": g.diagnoses[0].code if g.diagnoses else None, "coded": dx[0] if dx else None,
                                "correct": bool(g.diagnoses and dx and code_at(dx[0], 4) in g.diagnoses[0].keys())}
    row["main_procedure"] = {"gold": g.procedures[0].code if g.procedures else None, "coded": px[0] if px else None,
                             "correct": bool(g.procedures and px and code_at(px[0], 4) in g.procedures[0].keys())}
    tally.add("secondary_diagnoses", *_counts(dx[1:], g.diagnoses[1:], 4))
    tally.add("secondary_procedures", *_counts(px[1:], g.procedures[1:], 4))
    tally.add("procedures", *_counts(px, g.procedures, 4))
    for level in (4, 3):
        tally.add(f"suggested_{level}", *_counts(dx + px, g.diagnoses + g.procedures, level))
    _, wrong, missed = _match(dx + px, g.diagnoses + g.procedures, 4)
    # a must-not entry is a procedure code when its reason says "(OPCS-4)", else a diagnosis code
    must_not = {("procedure" if reason.startswith("(OPCS-4)") else "diagnosis", code_at(c, 4)): reason
                for c, reason in g.must_not_code}
    kinds = {c: "procedure" for c in px} | {c: "diagnosis" for c in dx}
    row["wrong"] = [{"code": c, "kind": kinds[c], "must_not_code": must_not.get((kinds[c], code_at(c, 4)))}
                    for c in wrong]
    row["missed"] = [s.code for s in missed]
    row["must_not_coded"] = [c for c in dx + px if (kinds[c], code_at(c, 4)) in must_not]
    row["negated_suggested"] = [s.code for s in codes if not_coded_only(s.evidence)]
    return row


def _share(rows: Iterable[dict], key: str) -> dict:
    judged = [r[key] for r in rows if r[key]["gold"] is not None]
    correct = sum(j["correct"] for j in judged)
    return {"percent_correct": round(100 * correct / len(judged), 1) if judged else None, "correct": correct,
            "n": len(judged)}


def coder_audit(gold: Sequence[GoldLetter], records: Mapping[str, LetterResult]) -> dict:
    """The audit figures of ``records`` (by letter id) against ``gold``."""
    tally = _Tally()
    rows = [_letter_audit(g, records.get(g.id), tally) for g in gold]
    figures = tally.figures()
    return {
        "letters": len(gold),
        "splits": sorted({g.split for g in gold}),
        "primary_diagnosis": _share(rows, "primary_diagnosis"),
        "secondary_diagnoses": figures["secondary_diagnoses"],
        "main_procedure": _share(rows, "main_procedure"),
        "secondary_procedures": figures["secondary_procedures"],
        "procedures": figures["procedures"],
        "suggested_4": figures["suggested_4"],
        "suggested_3": figures["suggested_3"],
        "must_not_coded": sum(len(r["must_not_coded"]) for r in rows),
        "negated_suggested": sum(len(r["negated_suggested"]) for r in rows),
        "not_coded": sum(1 for r in rows if r["error"]),  # error records or missing: scored as coding nothing
        "per_letter": rows,
    }
