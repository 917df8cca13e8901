"""Metrics against hand-computed values on toy sets."""

import math

import pytest

from clincoder.eval import metrics as M

# d1: duplicate prediction of "a" (several spans); d3: no predictions; d4: no gold codes.
GOLD = {"d1": {"a", "b", "c"}, "d2": {"x"}, "d3": {"y", "z"}, "d4": set()}
RANKED = {"d1": ["a", "q", "b", "a", "c"], "d2": ["q", "r"], "d4": ["k"]}


def test_average_precision_with_duplicates():
    # deduped ranking a,q,b,c: hits at 1, 3, 4 -> (1/1 + 2/3 + 3/4) / 3
    assert M.average_precision(GOLD["d1"], RANKED["d1"]) == pytest.approx((1 + 2 / 3 + 3 / 4) / 3)


def test_map_counts_missing_documents_as_zero_and_skips_empty_gold():
    ap1 = (1 + 2 / 3 + 3 / 4) / 3
    assert M.mean_average_precision(GOLD, RANKED) == pytest.approx(ap1 / 3)  # d1, d2 (0), d3 (0); not d4


def test_map_codiesp_example():
    # gold {A,B}; ranking B, X, A: (1/1 + 2/3) / 2
    assert M.mean_average_precision({"d": {"A", "B"}}, {"d": ["B", "X", "A"]}) == pytest.approx(5 / 6)


def test_micro():
    m = M.micro_prf(GOLD, RANKED)
    assert (m["tp"], m["fp"], m["fn"]) == (3, 4, 3)  # d4's "k" is a false positive
    assert m["precision"] == pytest.approx(3 / 7)
    assert m["recall"] == pytest.approx(0.5)
    assert m["f1"] == pytest.approx(6 / 13)


def test_macro_over_gold_and_predicted_labels():
    m = M.macro_prf(GOLD, RANKED)
    # labels a b c (F1 1) and q r x y z k (F1 0)
    assert m["labels"] == 9
    assert m["f1"] == pytest.approx(3 / 9)
    assert m["precision"] == pytest.approx(3 / 9)
    assert m["recall"] == pytest.approx(3 / 9)


def test_precision_recall_at_k():
    assert M.precision_at_k(GOLD, RANKED, 1) == pytest.approx(1 / 3)
    assert M.precision_at_k(GOLD, RANKED, 2) == pytest.approx((1 / 2) / 3)
    assert M.recall_at_k(GOLD, RANKED, 2) == pytest.approx((1 / 3) / 3)
    assert M.recall_at_k(GOLD, RANKED, 5) == pytest.approx(1 / 3)  # duplicates do not use up ranks


def test_category_level():
    gold = {"d": {"i21.4", "i21.9", "e11.9"}}
    pred = {"d": ["i21.0", "e11.9", "e11.8"]}
    cat = lambda c: c[:3]  # noqa: E731
    g = {d: set(v) for d, v in M.map_level(gold, cat).items()}
    p = M.map_level(pred, cat)
    assert p == {"d": ["i21", "e11"]}
    assert M.micro_prf(g, p)["f1"] == 1.0
    assert M.micro_prf(gold, pred)["tp"] == 1


def test_per_code_table_and_worst():
    rows = {r["code"]: r for r in M.per_code_table(GOLD, RANKED)}
    assert rows["a"] == {"code": "a", "support": 1, "predicted": 1, "tp": 1, "fp": 0, "fn": 0,
                         "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert rows["q"]["predicted"] == 2 and rows["q"]["support"] == 0
    worst = M.worst_codes(list(rows.values()), n=3, min_support=1)
    assert [r["f1"] for r in worst] == [0.0, 0.0, 0.0]
    assert all(r["support"] >= 1 for r in worst)


def test_primary_accuracy():
    assert M.primary_accuracy({"d1": "a", "d2": "x", "d3": None}, {"d1": "a", "d2": "q"}) == \
        {"accuracy": 0.5, "correct": 1, "n": 2}


def test_threshold_sweep_and_recommendation():
    gold = {"d1": {"a", "b"}}
    scored = {"d1": [("a", 0.9), ("c", 0.6), ("b", 0.4), ("a", 0.1)]}
    sweep = M.threshold_sweep(gold, scored, [0.95, 0.5, 0.3])
    by_t = {p["threshold"]: p for p in sweep}
    assert by_t[0.95]["predicted"] == 0 and by_t[0.95]["f1"] == 0
    assert (by_t[0.5]["precision"], by_t[0.5]["recall"]) == (0.5, 0.5)
    assert by_t[0.3]["precision"] == pytest.approx(2 / 3) and by_t[0.3]["recall"] == 1.0
    rec = M.recommend_threshold(sweep)
    assert rec["threshold"] == 0.3 and rec["f1"] == pytest.approx(0.8)
    assert M.recommend_threshold(sweep, min_precision=0.6)["threshold"] == 0.3
    assert M.recommend_threshold(sweep, min_precision=0.99) is None


def test_calibration():
    gold = {"d1": {"a", "b"}}
    cal = M.calibration(gold, {"d1": [("a", 0.9), ("c", 0.6), ("b", 0.4), ("a", 0.2)]}, bins=2)
    lo, hi = cal["bins"]
    assert (lo["n"], lo["accuracy"], lo["mean_score"]) == (1, 1.0, pytest.approx(0.4))
    assert (hi["n"], hi["accuracy"], hi["mean_score"]) == (2, 0.5, pytest.approx(0.75))
    assert cal["ece"] == pytest.approx(1 / 3 * 0.6 + 2 / 3 * 0.25)


def test_bootstrap_ci_shape_and_determinism():
    arr = M.per_doc_arrays(GOLD, RANKED)
    assert math.isnan(arr["ap"][3])  # d4 has no gold: not part of MAP
    ci = M.bootstrap_ci(arr, n=200, seed=1)
    assert set(ci) == {"map", "precision", "recall", "f1"}
    assert ci["map"]["value"] == pytest.approx(M.mean_average_precision(GOLD, RANKED))
    assert ci["f1"]["value"] == pytest.approx(6 / 13)
    for v in ci.values():
        assert v["lo"] <= v["value"] <= v["hi"] or v["lo"] <= v["hi"]
        assert 0 <= v["lo"] <= v["hi"] <= 1
    assert M.bootstrap_ci(arr, n=200, seed=1) == ci
    flat = M.bootstrap_ci(arr, n=0)
    assert flat["map"]["lo"] == flat["map"]["hi"] == flat["map"]["value"]


def test_empty_inputs():
    assert M.mean_average_precision({}, {}) == 0.0
    assert M.micro_prf({"d": set()}, {})["f1"] == 0.0
    assert M.macro_prf({}, {})["labels"] == 0
    assert M.precision_at_k({"d": set()}, {}, 5) == 0.0
