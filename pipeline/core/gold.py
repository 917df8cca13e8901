"""Coder gold sets: a folder of YAML files, one per coded letter, as an NHS clinical coder codes
it (format in ``data/uk-gold/README.md``)::

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

Training reads them to tune what the ``uk`` profile suggests (on the ``dev`` split only);
``clincoder eval`` reads them to report coder-audit figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .codes import compact

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
