"""Ranking and set metrics for coded documents.

Gold is ``{doc_id: set(codes)}``; predictions are ``{doc_id: [codes best first]}``. A code may
appear several times in a prediction list (several spans): only its first occurrence counts.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence


def dedupe(codes: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    return [c for c in codes if not (c in seen or seen.add(c))]


def average_precision(gold: set[str], ranked: Sequence[str]) -> float:
    """CodiEsp AP: sum of precision@k at each rank k holding a gold code, over |gold|."""
    if not gold:
        return 0.0
    hits, total = 0, 0.0
    for k, code in enumerate(dedupe(ranked), 1):
        if code in gold:
            hits += 1
            total += hits / k
    return total / len(gold)


def mean_average_precision(gold: Mapping[str, set[str]], pred: Mapping[str, Sequence[str]]) -> float:
    """MAP over the documents of ``gold`` (a document with no prediction scores 0)."""
    docs = [d for d, g in gold.items() if g]
    if not docs:
        return 0.0
    return sum(average_precision(gold[d], pred.get(d, ())) for d in docs) / len(docs)
