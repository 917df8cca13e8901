"""CodiEsp TSV files (``docid<TAB>code``, best first) and their scoring."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from .metrics import mean_average_precision


def read_codiesp_tsv(path: str | Path) -> dict[str, list[str]]:
    """``{doc_id: [codes in file order]}`` from a CodiEsp-style TSV (extra columns ignored)."""
    out: dict[str, list[str]] = defaultdict(list)
    with Path(path).open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                raise ValueError(f"{path}:{n}: expected docid<TAB>code")
            out[parts[0].strip()].append(parts[1].strip().lower())
    return dict(out)


def codiesp_map(gold_path: str | Path, pred_path: str | Path) -> float:
    gold = {d: set(c) for d, c in read_codiesp_tsv(gold_path).items()}
    return mean_average_precision(gold, read_codiesp_tsv(pred_path))
