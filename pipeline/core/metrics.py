"""Ranking and set metrics shared by training (threshold tuning, dev figures) and evaluation.

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


# ---- set metrics --------------------------------------------------------------------------------
#
# Every function below takes gold as ``{doc_id: set(codes)}`` over the documents evaluated (a
# document with no gold codes is present with an empty set) and predictions as
# ``{doc_id: codes}`` (any iterable; duplicates count once; a missing document predicts nothing).
# Predictions for documents absent from gold are ignored.


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    """Precision, recall and F1 from counts (0 where undefined)."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f}


def doc_counts(gold: set[str], pred: Iterable[str]) -> tuple[int, int, int]:
    """``(tp, fp, fn)`` of one document."""
    pset = set(pred)
    tp = len(gold & pset)
    return tp, len(pset) - tp, len(gold) - tp


def micro_prf(gold: Mapping[str, set[str]], pred: Mapping[str, Iterable[str]]) -> dict[str, float]:
    """Micro-averaged P/R/F1: counts pooled over all documents, plus the counts themselves."""
    tp = fp = fn = 0
    for d, g in gold.items():
        a, b, c = doc_counts(g, pred.get(d, ()))
        tp, fp, fn = tp + a, fp + b, fn + c
    return {**prf(tp, fp, fn), "tp": tp, "fp": fp, "fn": fn}


# ---- scores: threshold sweep and calibration -------------------------------------------------------

def threshold_sweep(gold: Mapping[str, set[str]], scored: Mapping[str, Sequence[tuple[str, float]]],
                    thresholds: Sequence[float] | None = None) -> list[dict]:
    """Micro P/R/F1 when the codes scored at or above each threshold are predicted.

    ``scored[doc]`` is ``[(code, score), ...]``; a code listed twice keeps its highest score.
    """
    if thresholds is None:
        thresholds = [round(t / 20, 2) for t in range(0, 21)]
    best: dict[str, dict[str, float]] = {}
    for d in gold:
        b: dict[str, float] = {}
        for c, s in scored.get(d, ()):
            b[c] = max(s, b.get(c, float("-inf")))
        best[d] = b
    out = []
    for t in thresholds:
        pred = {d: [c for c, s in b.items() if s >= t] for d, b in best.items()}
        m = micro_prf(gold, pred)
        out.append({"threshold": float(t), **m, "predicted": m["tp"] + m["fp"]})
    return out


def recommend_threshold(sweep: Sequence[dict], min_precision: float | None = None) -> dict | None:
    """The operating point: the threshold of highest micro F1 (ties: the higher threshold), or, with
    ``min_precision``, the lowest threshold reaching that precision (highest recall at that precision)."""
    if not sweep:
        return None
    if min_precision is not None:
        ok = [p for p in sweep if p["precision"] >= min_precision and p["predicted"] > 0]
        if ok:
            return {**min(ok, key=lambda p: p["threshold"]), "criterion": f"precision >= {min_precision}"}
        return None
    return {**max(sweep, key=lambda p: (p["f1"], p["threshold"])), "criterion": "max micro F1"}
