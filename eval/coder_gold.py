"""Coder gold sets and the figures an NHS clinical coding audit reports.

A coder gold set is a folder of YAML files, one per letter (format in ``data/uk-gold/README.md``)::

    id: 07_urology_turp                         # the letter's id (= its file stem)
    letter: ../letters/07_urology_turp.txt      # relative to the YAML file
    specialty: urology
    setting: inpatient                          # inpatient | day_case | outpatient
    split: dev                                  # dev | final (kept for final figures only)
    diagnoses:                                  # in sequence, primary first
      - {code: N40, alternatives: [], evidence: "Benign prostatic hyperplasia", rationale: "..."}
    procedures:                                 # in sequence, main first, supplementary codes after the code they qualify
      - {code: M65.3, alternatives: [M65.1], evidence: "TURP", rationale: "..."}
    must_not_code:                              # codes a coder must not assign, and why
      - {code: R39.1, reason: "integral to the BPH"}
    queries:                                    # what a coder would ask the clinician
      - {axis: diabetes_type, text: "..."}

:func:`coder_audit` compares coded records (``clincoder code`` JSONL) with such a set, as an
auditor would: primary diagnosis correct, secondary diagnoses precision and recall, main procedure
correct, secondary procedures precision and recall (codes compared at 4 characters), all
suggested codes at 4 and at 3 characters, codes coded that the gold says must not be, codes
suggested on negated, family or hypothetical evidence only, and the wrong codes per letter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import yaml

from clincoder.core.codes import System, compact
from clincoder.core.contracts import NOT_CODED
from clincoder.core.metrics import prf
from clincoder.core.config import PROFILES
from clincoder.core.schema import CodeSuggestion, LetterResult

from .formats import CodedSet, Item

SETTINGS = ("inpatient", "day_case", "outpatient")
SPLITS = ("dev", "final")


class CoderGoldError(ValueError):
    """A coder gold file that does not validate; the message names the file and the field."""


@dataclass(frozen=True)
class GoldCode:
    code: str
    alternatives: tuple[str, ...] = ()
    evidence: str = ""
    rationale: str = ""

    def keys(self, level: int = 4) -> set[str]:
        return {code_at(c, level) for c in (self.code, *self.alternatives)}


@dataclass(frozen=True)
class GoldLetter:
    id: str
    text: str
    specialty: str
    setting: str
    split: str
    diagnoses: tuple[GoldCode, ...]
    procedures: tuple[GoldCode, ...]
    must_not_code: tuple[tuple[str, str], ...] = ()  # (code, reason)
    queries: tuple[dict, ...] = ()
    source: str = field(default="", compare=False)


def code_at(code: str, level: int) -> str:
    """A code cut to ``level`` characters (``S72.00`` -> ``S720`` at 4, ``S72`` at 3)."""
    return compact(code)[:level]


def _codes(raw, where: str) -> tuple[GoldCode, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise CoderGoldError(f"{where} must be a list of {{code, alternatives, evidence, rationale}}")
    out = []
    for n, item in enumerate(raw, 1):
        if not isinstance(item, dict) or not isinstance(item.get("code"), str) or not item["code"].strip():
            raise CoderGoldError(f"{where} #{n}: needs a code")
        alts = item.get("alternatives") or []
        if not isinstance(alts, list) or not all(isinstance(a, str) for a in alts):
            raise CoderGoldError(f"{where} #{n}: alternatives must be a list of codes")
        out.append(GoldCode(item["code"].strip(), tuple(a.strip() for a in alts), str(item.get("evidence") or ""),
                            str(item.get("rationale") or "")))
    return tuple(out)


def read_gold_letter(path: Path) -> GoldLetter:
    """One gold YAML file, validated, with its letter's text."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CoderGoldError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or "id" not in data or "letter" not in data:
        raise CoderGoldError(f"{path}: expected a mapping with id, letter, diagnoses, procedures")
    for key, allowed in (("setting", SETTINGS), ("split", SPLITS)):
        if data.get(key) not in allowed:
            raise CoderGoldError(f"{path}: {key} must be one of {allowed}, not {data.get(key)!r}")
    letter = (path.parent / str(data["letter"])).resolve()
    if not letter.is_file():
        raise CoderGoldError(f"{path}: letter {data['letter']} not found (it is read relative to the YAML file)")
    must = tuple((str(m["code"]), str(m.get("reason", ""))) for m in data.get("must_not_code") or ())
    return GoldLetter(str(data["id"]), letter.read_text(encoding="utf-8"), str(data.get("specialty", "")),
                      data["setting"], data["split"], _codes(data.get("diagnoses"), f"{path}: diagnoses"),
                      _codes(data.get("procedures"), f"{path}: procedures"), must,
                      tuple(data.get("queries") or ()), str(path))


def is_coder_gold(path: str | Path) -> bool:
    p = Path(path)
    return p.is_dir() and any(p.glob("*.yaml"))


def read_coder_gold(folder: str | Path, split: str | None = None) -> list[GoldLetter]:
    """Every letter of a coder gold folder (``split``: only ``dev`` or only ``final``)."""
    files = sorted(Path(folder).glob("*.yaml"))
    if not files:
        raise CoderGoldError(f"{folder}: no gold YAML files")
    letters = [read_gold_letter(p) for p in files]
    ids = [g.id for g in letters]
    if len(set(ids)) != len(ids):
        raise CoderGoldError(f"{folder}: duplicate ids {sorted({i for i in ids if ids.count(i) > 1})}")
    return [g for g in letters if split in (None, "all") or g.split == split]


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

def _kind(s: CodeSuggestion) -> str:
    return System.parse(s.system).kind


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


def _negated_only(s: CodeSuggestion) -> bool:
    return bool(s.evidence) and all(e.assertion in NOT_CODED for e in s.evidence)


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
    dx = [s.code for s in codes if _kind(s) == "diagnosis"]
    px = [s.code for s in codes if _kind(s) == "procedure"]
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
    must_not = {code_at(c, 4): reason for c, reason in g.must_not_code}
    row["wrong"] = [{"code": c, "must_not_code": must_not.get(code_at(c, 4))} for c in wrong]
    row["missed"] = [s.code for s in missed]
    row["must_not_coded"] = [c for c in dx + px if code_at(c, 4) in must_not]
    row["negated_suggested"] = [s.code for s in codes if _negated_only(s)]
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
        "per_letter": rows,
    }
