"""The UK prior: how often English hospitals record each ICD-10 and OPCS-4 code (HES, one
financial year; built by :mod:`clincoder.training.hes`, shipped in ``artifacts/uk/``).

ICD-10 is counted at 4 characters: a UK 5th-character code (S72.00) takes the count of its
4-character parent (S72.0), a code with no count its category's share is not guessed (0).
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

from clincoder.core.codes import System, compact

from .paths import ARTIFACTS

PRIOR_FILE = ARTIFACTS / "uk" / "hes_usage.json"


class HesPrior:
    def __init__(self, data: dict):
        self.source = data.get("source", "")
        self.year = data.get("financial_year", "")
        icd = data.get(System.ICD10.value, {})
        opcs = data.get(System.OPCS4.value, {})
        self.counts = {System.ICD10: {compact(c): int(n) for c, n in icd.items()},
                       System.OPCS4: {compact(c): int(n) for c, n in opcs.items()}}
        self.top = {s: max(v.values(), default=1) for s, v in self.counts.items()}

    def count(self, system: System, code: str) -> int:
        counts = self.counts.get(system)
        if not counts:
            return 0
        c = compact(code)
        return counts.get(c) or counts.get(c[:4]) or 0

    def weight(self, system: System, code: str) -> float:
        """``log(1 + count) / log(1 + the system's largest count)``: 0 (never recorded) to 1."""
        n = self.count(system, code)
        return math.log1p(n) / math.log1p(self.top.get(system, 1)) if n else 0.0


@functools.lru_cache(maxsize=2)
def hes_prior(path: str | None = None) -> HesPrior:
    """The shipped prior (loaded once per process), or one built elsewhere."""
    p = Path(path) if path else PRIOR_FILE
    if not p.is_file():
        raise FileNotFoundError(f"no HES prior at {p}; build one with `clincoder train-uk --hes HES_USAGE_DIR`")
    return HesPrior(json.loads(p.read_text(encoding="utf-8")))
