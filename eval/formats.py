"""Readers for coded sets (gold or predicted): CodiEsp TSV, clincoder JSONL, generic CSV.

All three become one :class:`CodedSet`: per document, the codes in rank order, each with its
system, rank, role (where known) and score (where known).

* **CodiEsp TSV** (``docid<TAB>code``, best first): a D/P pair or one file. ``--gold devD.tsv
  --gold devP.tsv`` or the prefix ``dev`` (reads ``devD.tsv`` and ``devP.tsv``). ``D`` files hold
  the profile's diagnosis system, ``P`` files its procedure system.
* **clincoder JSONL** (``clincoder code --format jsonl``): ``codes`` are the predicted set
  (roles primary/secondary), ``candidates`` extend the ranking (role candidate).
* **CSV** ``id,system,code[,rank][,role][,score]`` (extra columns ignored, so ``clincoder code
  --format csv`` output reads as is). A row with an empty code marks a document with no codes.

Codes are compared in a normalised form (:func:`code_key`): ``I21.4`` and ``i21.4`` match; when
either side is CodiEsp the CodiEsp conventions apply to both (ICD-10-CM 7th character dropped,
lower case), via :func:`clincoder.core.codiesp.codiesp_code`.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from clincoder.core.codes import InvalidCodeFormat, System, category, normalise
from clincoder.core.config import PROFILES
from clincoder.core.codiesp import CodiespFormatError, codiesp_code, read_codiesp_rows

FORMATS = ("codiesp", "jsonl", "csv")


@dataclass(frozen=True)
class Item:
    system: str  # a System value where it parses, else the string given
    code: str  # canonical display form where the code is well formed, else the raw string
    rank: int  # 1-based; for CodiEsp files the line order within the file
    role: str | None = None  # primary | secondary | candidate, where the source says
    score: float | None = None
    well_formed: bool = True

    @property
    def kind(self) -> str:
        try:
            return System.parse(self.system).kind
        except ValueError:
            return "diagnosis"


@dataclass
class CodedSet:
    """Coded documents: ``docs[id]`` lists the document's codes in rank order (may be empty)."""

    docs: dict[str, list[Item]]
    fmt: str
    sources: list[str]
    has_scores: bool = False
    has_roles: bool = False
    errors: dict[str, str] = field(default_factory=dict)  # JSONL records that failed

    @property
    def systems(self) -> list[str]:
        return sorted({i.system for items in self.docs.values() for i in items})

    def restrict(self, ids: Iterable[str]) -> "CodedSet":
        keep = set(ids)
        return CodedSet({d: v for d, v in self.docs.items() if d in keep}, self.fmt, self.sources, self.has_scores,
                        self.has_roles, {d: e for d, e in self.errors.items() if d in keep})


class FormatError(ValueError):
    """An input that is not one of the supported formats; the message says what was expected."""


def canonical(system: str, code: str) -> tuple[str, bool]:
    """``(display form, well_formed)``; a malformed code is kept as given (stripped)."""
    try:
        return normalise(System.parse(system), code), True
    except (InvalidCodeFormat, ValueError):
        return str(code).strip(), False


def code_key(system: str, code: str, codiesp: bool = False) -> str:
    """The form in which codes are compared: normalised, lower case; CodiEsp conventions if asked."""
    display, ok = canonical(system, code)
    if ok and codiesp:
        try:
            return codiesp_code(system, display)
        except ValueError:
            pass
    return display.lower()


def category_key(system: str, key: str) -> str:
    """The 3-character category (ICD, OPCS-4) or PCS table of a comparison key, lower case."""
    try:
        return category(System.parse(system), key).lower()
    except ValueError:
        return key[:3].lower()


# ---- format detection --------------------------------------------------------------------------

def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    if suffix == ".tsv":
        return "codiesp"
    with path.open(encoding="utf-8-sig", errors="replace") as fh:
        first = next((line for line in fh if line.strip()), "")
    if first.lstrip().startswith("{"):
        return "jsonl"
    if "\t" in first:
        return "codiesp"
    if "," in first and "code" in first.lower():
        return "csv"
    raise FormatError(f"cannot tell the format of {path}: expected CodiEsp TSV (docid<TAB>code), clincoder JSONL "
                      f"or CSV with id,system,code columns")


def expand_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Files named, or the D/P pair of a CodiEsp prefix (``out/dev_`` -> ``out/dev_D.tsv``, ``out/dev_P.tsv``)."""
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_file():
            out.append(path)
            continue
        pair = [Path(f"{p}{x}.tsv") for x in "DP"]
        found = [q for q in pair if q.is_file()]
        if not found:
            raise FormatError(f"{p} is neither a file nor a CodiEsp prefix (no {pair[0]} or {pair[1]})")
        out.extend(found)
    return out


def _codiesp_system(path: Path, codes: list[str], profile: str) -> str:
    prof = PROFILES[profile]
    stem = path.stem
    if stem.endswith(("D", "d")) and not stem.endswith(("P", "p")):
        return prof.diagnosis.value
    if stem.endswith(("P", "p")):
        return prof.procedure.value
    # no D/P suffix: ICD codes carry a dot or are letter-digit-digit; PCS codes are not
    icd = sum(bool(re.match(r"^[a-z]\d[0-9a-z](\.|$)", c.lower())) for c in codes)
    return prof.diagnosis.value if icd >= len(codes) / 2 else prof.procedure.value


# ---- readers ------------------------------------------------------------------------------------

def _read_codiesp(path: Path, profile: str, docs: dict[str, list[Item]]) -> None:
    try:
        rows = read_codiesp_rows(path)
    except CodiespFormatError as exc:
        raise FormatError(str(exc)) from None
    system = _codiesp_system(path, [c for _, c in rows], profile)
    ranks: dict[str, int] = {}
    for doc, code in rows:
        ranks[doc] = ranks.get(doc, 0) + 1
        display, ok = canonical(system, code)
        docs.setdefault(doc, []).append(Item(system, display, ranks[doc], well_formed=ok))


def _read_jsonl(path: Path, docs: dict[str, list[Item]], errors: dict[str, str]) -> None:
    from clincoder.core.schema import LetterResult

    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = LetterResult.from_dict(json.loads(line))
            except (ValueError, TypeError) as exc:
                raise FormatError(f"{path}:{n}: not a clincoder record ({exc})") from exc
            items = docs.setdefault(rec.id, [])
            if rec.error:
                errors[rec.id] = rec.error
            # ranked by confidence, as the CodiEsp files clincoder writes (the record's own order is
            # the coding sequence, which the rules stage may change)
            for rank, c in enumerate(sorted(rec.ranked(), key=lambda c: (-c.score, c.rank)), 1):
                display, ok = canonical(c.system, c.code)
                items.append(Item(System.parse(c.system).value, display, rank, c.role, float(c.score), ok))


def _read_csv(path: Path, docs: dict[str, list[Item]]) -> tuple[bool, bool]:
    csv.field_size_limit(sys.maxsize)
    has_rank = has_role = has_score = False
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        cols = {c.strip().lower() for c in reader.fieldnames or ()}
        if not {"id", "system", "code"} <= cols:
            raise FormatError(f"{path}: CSV needs id,system,code columns (optional rank, role, score); "
                              f"found {reader.fieldnames}")
        has_rank, has_role, has_score = "rank" in cols, "role" in cols, "score" in cols
        order: dict[str, int] = {}
        for n, raw in enumerate(reader, 2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
            doc = row["id"]
            items = docs.setdefault(doc, [])
            if not row["code"]:
                continue
            order[doc] = order.get(doc, 0) + 1
            try:
                system = System.parse(row["system"]).value
            except ValueError:
                raise FormatError(f"{path}:{n}: unknown code system {row['system']!r}") from None
            try:
                rank = int(float(row["rank"])) if has_rank and row.get("rank") else order[doc]
                score = float(row["score"]) if has_score and row.get("score") else None
            except ValueError:
                raise FormatError(f"{path}:{n}: rank and score must be numbers") from None
            role = (row.get("role") or "").lower() or None
            if role and role not in ("primary", "secondary", "candidate"):
                raise FormatError(f"{path}:{n}: role must be primary, secondary or candidate, not {role!r}")
            display, ok = canonical(system, row["code"])
            items.append(Item(system, display, rank, role, score, ok))
    return has_role, has_score


def read_coded(paths: Sequence[str | Path] | str | Path, profile: str = "us") -> CodedSet:
    """Read one coded set from one or more files of one format (see the module docstring)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = expand_paths(paths)
    fmts = {detect_format(p) for p in files}
    if len(fmts) > 1:
        raise FormatError(f"mixed formats in one set: {sorted(fmts)} ({[str(p) for p in files]})")
    fmt = fmts.pop()
    docs: dict[str, list[Item]] = {}
    errors: dict[str, str] = {}
    has_roles = has_scores = False
    for p in files:
        if fmt == "codiesp":
            _read_codiesp(p, profile, docs)
        elif fmt == "jsonl":
            _read_jsonl(p, docs, errors)
            has_roles = has_scores = True
        else:
            r, s = _read_csv(p, docs)
            has_roles, has_scores = has_roles or r, has_scores or s
    for items in docs.values():
        items.sort(key=lambda i: i.rank)
    if has_roles:
        has_roles = any(i.role for items in docs.values() for i in items)
    return CodedSet(docs, fmt, [str(p) for p in files], has_scores, has_roles, errors)
