"""The CodiEsp file conventions, in one place: ``docid<TAB>code`` TSV files (one reader, one
writer), the form codes take there, and their MAP.

CodiEsp gold writes codes in lower case with dots, an ICD-10-CM 7th character dropped
(``t81.4xx``) and ICD-10-PCS undotted (often a 4-character prefix such as ``bw03``).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Iterable

from .codes import System, label_form
from .metrics import mean_average_precision
from .schema import LetterResult


class CodiespFormatError(ValueError):
    """A line that is not ``docid<TAB>code``; the message gives the file and line."""


def codiesp_code(system: str, code: str) -> str:
    """A code in CodiEsp's gold conventions (see :func:`clincoder.core.codes.label_form`)."""
    return label_form(system, code)


def read_codiesp_rows(path: str | Path) -> list[tuple[str, str]]:
    """``(docid, code)`` per line, in file order, as written (stripped; extra columns ignored)."""
    rows: list[tuple[str, str]] = []
    with Path(path).open(encoding="utf-8-sig") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                raise CodiespFormatError(f"{path}:{n}: expected docid<TAB>code")
            rows.append((parts[0].strip(), parts[1].strip()))
    return rows


def read_codiesp_tsv(path: str | Path) -> dict[str, list[str]]:
    """``{doc_id: [codes in file order]}``, codes in lower case."""
    out: dict[str, list[str]] = defaultdict(list)
    for doc, code in read_codiesp_rows(path):
        out[doc].append(code.lower())
    return dict(out)


def write_codiesp(records: Iterable[LetterResult], prefix: str | Path) -> tuple[Path, Path]:
    """``PREFIXD.tsv`` and ``PREFIXP.tsv``: ``docid<TAB>code``, each document's codes best first
    (highest score first; ties keep the record's order)."""
    prefix = str(prefix)
    d_path, p_path = Path(prefix + "D.tsv"), Path(prefix + "P.tsv")
    d_path.parent.mkdir(parents=True, exist_ok=True)
    with d_path.open("w", encoding="utf-8") as fd, p_path.open("w", encoding="utf-8") as fp:
        for rec in records:
            seen: set[tuple[str, str]] = set()
            # best first = by confidence: the CodiEsp ranking, not the coding sequence (which the
            # rules stage sets, e.g. a symptom code after the definitive diagnosis)
            for c in sorted(rec.ranked(), key=lambda c: -c.score):
                kind = System.parse(c.system).kind
                cc = codiesp_code(c.system, c.code)
                if (kind, cc) in seen:
                    continue
                seen.add((kind, cc))
                (fd if kind == "diagnosis" else fp).write(f"{rec.id}\t{cc}\n")
    return d_path, p_path


def codiesp_map(gold_path: str | Path, pred_path: str | Path) -> float:
    """CodiEsp MAP of a prediction file against a gold file."""
    gold = {d: set(c) for d, c in read_codiesp_tsv(gold_path).items()}
    return mean_average_precision(gold, read_codiesp_tsv(pred_path))
