"""Evaluation metrics beyond the shared ranking and set metrics of :mod:`clincoder.core.metrics`
(which this module re-exports): per-code tables, P@k/R@k, primary accuracy, calibration,
bootstrap confidence intervals.

Gold is ``{doc_id: set(codes)}``; predictions are ``{doc_id: [codes best first]}``.
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping, Sequence

from clincoder.core.metrics import (average_precision, dedupe, doc_counts, mean_average_precision,  # noqa: F401
                                    micro_prf, prf, recommend_threshold, threshold_sweep)


def per_code_counts(gold: Mapping[str, set[str]], pred: Mapping[str, Iterable[str]]) -> dict[str, list[int]]:
    """``{code: [tp, fp, fn]}`` over every code in gold or predictions."""
    out: dict[str, list[int]] = {}
    for d, g in gold.items():
        pset = set(pred.get(d, ()))
        for c in g | pset:
            t = out.setdefault(c, [0, 0, 0])
            if c in g and c in pset:
                t[0] += 1
            elif c in pset:
                t[1] += 1
            else:
                t[2] += 1
    return out


def macro_prf(gold: Mapping[str, set[str]], pred: Mapping[str, Iterable[str]]) -> dict[str, float]:
    """Macro average over codes (labels) seen in gold or predictions: each code's P, R and F1
    (0 where undefined, as scikit-learn's ``zero_division=0``), averaged with equal weight."""
    counts = per_code_counts(gold, pred)
    if not counts:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0, "labels": 0}
    scores = [prf(*t) for t in counts.values()]
    n = len(scores)
    return {k: sum(s[k] for s in scores) / n for k in ("precision", "recall", "f1")} | {"labels": n}


def precision_at_k(gold: Mapping[str, set[str]], ranked: Mapping[str, Sequence[str]], k: int) -> float:
    """Mean over documents with gold codes of |top-k ∩ gold| / k (duplicates count once)."""
    docs = [d for d, g in gold.items() if g]
    if not docs:
        return 0.0
    return sum(len(set(dedupe(ranked.get(d, ()))[:k]) & gold[d]) / k for d in docs) / len(docs)


def recall_at_k(gold: Mapping[str, set[str]], ranked: Mapping[str, Sequence[str]], k: int) -> float:
    """Mean over documents with gold codes of |top-k ∩ gold| / |gold|."""
    docs = [d for d, g in gold.items() if g]
    if not docs:
        return 0.0
    return sum(len(set(dedupe(ranked.get(d, ()))[:k]) & gold[d]) / len(gold[d]) for d in docs) / len(docs)


def map_level(codes: Mapping[str, Iterable[str]], fn: Callable[[str], str]) -> dict[str, list[str]]:
    """Codes mapped to another level (e.g. 3-character category), order kept, duplicates dropped."""
    return {d: dedupe(fn(c) for c in cs) for d, cs in codes.items()}


def per_code_table(gold: Mapping[str, set[str]], pred: Mapping[str, Iterable[str]]) -> list[dict]:
    """One row per code: support (gold documents), predicted, tp, fp, fn, precision, recall, f1;
    most frequent gold codes first."""
    rows = [{"code": c, "support": tp + fn, "predicted": tp + fp, "tp": tp, "fp": fp, "fn": fn, **prf(tp, fp, fn)}
            for c, (tp, fp, fn) in per_code_counts(gold, pred).items()]
    return sorted(rows, key=lambda r: (-r["support"], -r["predicted"], r["code"]))


def worst_codes(table: Sequence[dict], n: int = 20, min_support: int = 2) -> list[dict]:
    """The ``n`` codes with the lowest F1 among those with at least ``min_support`` gold documents
    (ties: the more frequent first)."""
    rows = [r for r in table if r["support"] >= min_support]
    return sorted(rows, key=lambda r: (r["f1"], -r["support"], r["code"]))[:n]


def primary_accuracy(gold: Mapping[str, str | None], pred: Mapping[str, str | None]) -> dict[str, float]:
    """Share of documents with a gold primary code whose predicted primary is the same code."""
    docs = [d for d, g in gold.items() if g]
    hits = sum(pred.get(d) == gold[d] for d in docs)
    return {"accuracy": hits / len(docs) if docs else 0.0, "correct": hits, "n": len(docs)}


def calibration(gold: Mapping[str, set[str]], scored: Mapping[str, Sequence[tuple[str, float]]],
                bins: int = 10) -> dict:
    """Reliability of scores: per score bin, the mean score and the share of those codes in gold;
    ``ece`` is the expected calibration error (bin-size weighted |accuracy - confidence|)."""
    rows = [{"lo": i / bins, "hi": (i + 1) / bins, "n": 0, "sum_score": 0.0, "correct": 0} for i in range(bins)]
    total = 0
    for d, g in gold.items():
        seen: set[str] = set()
        for c, s in scored.get(d, ()):
            if c in seen:
                continue
            seen.add(c)
            i = min(bins - 1, max(0, int(s * bins)))
            rows[i]["n"] += 1
            rows[i]["sum_score"] += s
            rows[i]["correct"] += c in g
            total += 1
    ece = 0.0
    for r in rows:
        r["mean_score"] = r.pop("sum_score") / r["n"] if r["n"] else None
        r["accuracy"] = r["correct"] / r["n"] if r["n"] else None
        if r["n"]:
            ece += r["n"] / total * abs(r["accuracy"] - r["mean_score"])
    return {"bins": rows, "ece": ece, "n": total}


# ---- bootstrap confidence intervals ----------------------------------------------------------------

def per_doc_arrays(gold: Mapping[str, set[str]], pred: Mapping[str, Iterable[str]],
                   ranked: Mapping[str, Sequence[str]] | None = None, docs: Sequence[str] | None = None):
    """Per-document ``tp, fp, fn, ap`` (``ap`` NaN where the document has no gold codes), aligned
    on ``docs`` (default: gold's documents), as numpy arrays for :func:`bootstrap_ci`."""
    import numpy as np

    docs = list(gold) if docs is None else list(docs)
    ranked = pred if ranked is None else ranked
    rows = []
    for d in docs:
        g = gold.get(d, set())
        tp, fp, fn = doc_counts(g, pred.get(d, ()))
        ap = average_precision(g, ranked.get(d, ())) if g else float("nan")
        rows.append((tp, fp, fn, ap))
    arr = np.array(rows, dtype=float).reshape(-1, 4)
    return {"tp": arr[:, 0], "fp": arr[:, 1], "fn": arr[:, 2], "ap": arr[:, 3]}


def _stats(tp, fp, fn, ap_sum, ap_n):
    import numpy as np

    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        r = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
        m = np.where(ap_n > 0, ap_sum / np.maximum(ap_n, 1), 0.0)
    return {"map": m, "precision": p, "recall": r, "f1": f}


def bootstrap_ci(arrays: Mapping[str, "object"], n: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """Percentile bootstrap over documents: ``{stat: {"value", "lo", "hi"}}`` for MAP and micro
    precision, recall and F1, from :func:`per_doc_arrays`. Same ``seed``, same intervals."""
    import numpy as np

    tp, fp, fn, ap = (np.asarray(arrays[k], dtype=float) for k in ("tp", "fp", "fn", "ap"))
    has = ~np.isnan(ap)
    apz = np.where(has, ap, 0.0)
    point = _stats(tp.sum(), fp.sum(), fn.sum(), apz.sum(), has.sum())
    out = {k: {"value": float(v)} for k, v in point.items()}
    if len(tp) == 0 or n <= 0:
        for v in out.values():
            v.update(lo=v["value"], hi=v["value"])
        return out
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(tp), size=(n, len(tp)))
    boot = _stats(tp[idx].sum(1), fp[idx].sum(1), fn[idx].sum(1), apz[idx].sum(1), has[idx].sum(1))
    a = (1 - level) / 2
    for k, v in boot.items():
        out[k]["lo"], out[k]["hi"] = (float(x) for x in np.quantile(v, [a, 1 - a]))
    return out
