"""Ranker pieces: save/load keeps exactly what was evaluated; the shipped artifact loads offline."""

from __future__ import annotations

import json

import numpy as np
import pytest

from clincoder.models.ranker import ARTIFACTS, FEATURES, Fusion
from clincoder.models.supervised import DocClassifier, SentenceMemory, TermMemory, term_tokens
from clincoder.models.trees import BoostingParams

TEXTS = ["fever and cough with pneumonia", "type 2 diabetes and hypertension", "pneumonia treated, fever settled",
         "hypertension on ramipril", "diabetes with neuropathy"]
LABELS = [["j18.9", "r50.9"], ["e11.9", "i10"], ["j18.9"], ["i10"], ["e11.40"]]


def test_classifier_round_trip_is_exact(tmp_path):
    clf = DocClassifier.fit(TEXTS, LABELS, keep=50, max_features=None)
    clf.save(tmp_path / "clf")
    again = DocClassifier.load(tmp_path / "clf")
    assert again.labels == clf.labels
    np.testing.assert_array_equal(clf.decision(["pneumonia and fever"]), again.decision(["pneumonia and fever"]))
    top = clf.labels[int(np.argmax(clf.decision(["pneumonia with fever"])[0]))]
    assert top in {"j18.9", "r50.9"}


def test_memory_proposes_codes_of_similar_sentences(tmp_path):
    mem = SentenceMemory.fit(TEXTS, LABELS, [f"d{i}" for i in range(len(TEXTS))])
    mem.save(tmp_path / "mem")
    again = SentenceMemory.load(tmp_path / "mem")
    hits = again.query(["she has hypertension"], min_sim=0.1)[0]
    assert "i10" in hits and hits == mem.query(["she has hypertension"], min_sim=0.1)[0]


def test_term_memory_scores_a_phrase_by_how_often_it_is_coded(tmp_path):
    texts = {"a": "Tropical spastic paraparesis. Back pain.", "b": "Known tropical spastic paraparesis.",
             "c": "Pain in the knee.", "d": "Chest pain on exertion."}
    gold = {"a": {"g04.1", "m54.9"}, "b": {"g04.1"}, "c": {"m25.569"}, "d": {"r07.9"}}
    terms = [("a", "tropical spastic paraparesis", "g04.1"), ("b", "Tropical spastic paraparesis", "g04.1"),
             ("a", "back pain", "m54.9"), ("c", "pain", "m25.569")]
    memory = TermMemory.fit(terms, texts, gold)
    again = TermMemory.load(memory.save(tmp_path / "terms.json"))
    [hits, none] = again.query(["She has TROPICAL SPASTIC PARAPARESIS and back pains.", "No such phrase here."])
    assert hits["g04.1"] == pytest.approx(2 / 3, abs=1e-3)  # in 2 letters, coded in both (smoothed)
    assert hits["m54.9"] == pytest.approx(1 / 2, abs=1e-3)
    assert hits["m25.569"] == pytest.approx(1 / 4, abs=1e-3)  # "pain" is in 3 letters, coded so in 1
    assert none == {} and again.query(["tropical spastic paraparesis"]) == memory.query(["tropical spastic paraparesis"])


def test_term_tokens_fold_case_accents_and_plurals():
    assert term_tokens("Crisis Epilépticas, LESIONS and glass") == ["crisis", "epileptica", "lesion", "and", "glass"]


def test_fusion_round_trip_and_feature_check(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.random((200, len(FEATURES))).astype(np.float32)
    y = (X[:, 0] + X[:, 3] > 1).astype(int)
    fusion = Fusion.fit(X, y)
    fusion.threshold = 0.4
    again = Fusion.load(fusion.save(tmp_path / "f.json"))
    np.testing.assert_array_equal(fusion.score(X), again.score(X))
    assert again.threshold == 0.4
    assert np.mean((fusion.score(X) > 0.5) == y) > 0.8  # it learned the rule
    d = fusion.to_dict()
    d["features"] = d["features"][:-1]
    with pytest.raises(ValueError, match="retrain"):
        Fusion.from_dict(d)


def test_fusion_trees_score_as_the_fitted_gradient_boosting_model():
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(1)
    X = rng.random((600, len(FEATURES))).astype(np.float32)
    y = (X[:, 1] * X[:, 2] + 0.2 * rng.standard_normal(600) > 0.3).astype(int)
    params = BoostingParams(trees=30, min_samples_leaf=10)
    fusion = Fusion.fit(X, y, params)
    model = HistGradientBoostingClassifier(max_iter=30, learning_rate=params.learning_rate, max_leaf_nodes=params.max_leaf_nodes,
                                           min_samples_leaf=10, early_stopping=False, random_state=params.seed)
    expected = model.fit(X.astype(np.float64), y).predict_proba(X.astype(np.float64))[:, 1]
    # the same leaves (splits compared in float64); ONNX Runtime sums the leaf values into float32
    np.testing.assert_allclose(fusion.score(X), expected, rtol=0, atol=1e-6)
    assert len(fusion.forest.roots) == 30 and fusion.score(X[:0]).shape == (0,)


def test_a_lambdarank_forest_scores_as_lightgbm_and_folds_its_calibration_into_the_leaves():
    import lightgbm

    rng = np.random.default_rng(2)
    X = rng.random((900, len(FEATURES)))
    X[:, 3] = np.round(X[:, 3], 1)  # ties on a split value go left, as LightGBM sends them
    y = (X[:, 0] + 0.5 * X[:, 3] + 0.2 * rng.standard_normal(900) > 0.9).astype(int)
    groups = [90] * 10  # ten letters of 90 candidates
    params = BoostingParams(trees=25, max_leaf_nodes=7, min_samples_leaf=10, objective="lambdarank")
    fusion = Fusion.fit(X, y, params, groups=groups)
    booster = lightgbm.train({"objective": "lambdarank", "learning_rate": params.learning_rate, "num_leaves": 7,
                              "min_data_in_leaf": 10, "seed": params.seed, "deterministic": True, "force_row_wise": True,
                              "verbose": -1, "lambdarank_truncation_level": params.rank_depth},
                             lightgbm.Dataset(X, y, group=groups), num_boost_round=25)
    np.testing.assert_allclose(fusion.raw(X), booster.predict(X), rtol=0, atol=1e-5)
    calibrated = fusion.calibrated(0.5, -1.0)
    np.testing.assert_allclose(calibrated.raw(X), 0.5 * fusion.raw(X) - 1.0, rtol=0, atol=1e-5)
    assert np.all((calibrated.score(X) > 0) & (calibrated.score(X) < 1))
    with pytest.raises(ValueError, match="groups"):
        Fusion.fit(X, y, params)
    with pytest.raises(ValueError, match="objective"):
        BoostingParams(objective="pairwise")


def test_shipped_artifact_has_provenance():
    card = json.loads((ARTIFACTS / "ranker-us" / "model_card.json").read_text())
    assert card["profile"] == "us" and card["hash"] and card["config"]["seed"] is not None
    assert set(card["editions"]) == {"ICD-10-CM", "ICD-10-PCS"}
    assert card["metrics_dev"]["D"]["map"] > 0.3
    # every constant that changes a score is recorded, and they are the ones a default run uses
    from clincoder.core.config import Settings

    assert card["constants"] == Settings().scoring_constants()
    total = sum(p.stat().st_size for p in (ARTIFACTS / "ranker-us").rglob("*") if p.is_file())
    assert total < 25 * 2**20
    if (ARTIFACTS / "ranker-us" / "encoder").exists():
        enc = json.loads((ARTIFACTS / "ranker-us" / "encoder" / "encoder_card.json").read_text())
        assert enc["hash"] and enc["trained_layers"]


def test_shipped_encoder_loads_without_network(monkeypatch):
    delta = ARTIFACTS / "ranker-us" / "encoder"
    if not delta.exists():
        pytest.skip("the shipped ranker has no encoder delta")
    from clincoder.models.encoder import Encoder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    enc = Encoder(delta)
    v = enc.embed(["acute myocardial infarction", "heart attack", "fractured neck of femur"])
    assert v.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2]
    np.testing.assert_array_equal(v, enc.embed(["acute myocardial infarction", "heart attack", "fractured neck of femur"]))


def test_icd10_tables_borrow_icd10cm_wording(who_icd10_table):
    from clincoder.models.lexical import icd10cm_synonyms

    words = icd10cm_synonyms(who_icd10_table)
    assert any("nstemi" in t.lower() for t in words["I21.4"])  # WHO title: acute subendocardial MI
    assert all(who_icd10_table.is_selectable(code) for code in list(words)[:500])


def test_letter_context_compares_a_candidate_with_its_letter_and_its_siblings():
    from clincoder.core.codes import System
    from clincoder.models.ranker import Candidate, letter_context

    cands = [Candidate("s72.001", {"clf_prob": 0.9, "term_max": 0.6}), Candidate("s72.009", {"clf_prob": 0.5}),
             Candidate("i10", {"clf_prob": 0.7, "dense_max": 0.8}), Candidate("r52", {})]
    letter_context(System.ICD10CM, cands)
    f = {c.key: c.feats for c in cands}
    assert [f[k]["clf_letter_rr"] for k in ("s72.001", "i10", "s72.009", "r52")] == [1.0, 0.5, 1 / 3, 0.0]
    assert f["s72.001"]["term_letter_rr"] == 1.0 and f["i10"]["term_letter_rr"] == 0.0
    assert f["i10"]["dense_letter_rr"] == 1.0
    # two S72 siblings: the best leads the runner-up by 1.0, the other trails the best by 1.0
    assert f["s72.001"]["category_margin"] == pytest.approx(1.0) and f["s72.009"]["category_margin"] == pytest.approx(-1.0)
    assert f["s72.001"]["category_n"] == pytest.approx(np.log(2)) and f["i10"]["category_n"] == 0.0
    assert f["i10"]["category_margin"] == pytest.approx(0.7)  # alone in its category: its own support


def test_a_lexical_index_is_read_back_from_the_cache_folder(tmp_path, monkeypatch):
    from clincoder.core.codes import System
    from clincoder.core.tables import CodeEntry, CodeTable
    from clincoder.models.lexical import lexical_index

    monkeypatch.setenv("CLINCODER_CACHE_DIR", str(tmp_path))
    entries = [CodeEntry(code=c, title=t, kind="category", parent=None, selectable=True)
               for c, t in (("K80", "Cholelithiasis"), ("K81", "Cholecystitis"), ("K85", "Acute pancreatitis"))]
    table = CodeTable(System.ICD10CM, "test", entries, source="test")
    built = lexical_index(table).search(["acute cholecystitis"], 2)
    (saved,) = tmp_path.glob("lexical-ICD10CM-*.pickle")
    lexical_index.cache_clear()  # as a new process would
    again = lexical_index(table)
    assert again.table is table and again.search(["acute cholecystitis"], 2) == built
    assert built[0][0][0] == "K81" and list(tmp_path.glob("lexical-ICD10CM-*.pickle")) == [saved]


@pytest.mark.parametrize("query", ["Dupuytren's disease", "Dupuytren’s disease", "dupuytrens disease"])
def test_a_possessive_matches_with_or_without_its_apostrophe(query):
    from clincoder.core.codes import System
    from clincoder.core.tables import CodeEntry, CodeTable
    from clincoder.models.lexical import LexicalIndex

    entries = [CodeEntry(code=c, title=t, kind="category", parent=None, selectable=True)
               for c, t in (("M72.0", "Dupuytrens disease"), ("M72.2", "Plantar fascial fibromatosis"))]
    index = LexicalIndex(CodeTable(System.ICD10, "test", entries, source="test"))
    assert index.search([query], 1) == [[("M72.0", pytest.approx(1.0))]]


@pytest.mark.parametrize("query, code", [
    ("bilateral nephrostomies", "M13.6"),  # a plural
    ("variceal banding", "G43.7"),  # an adjective and a verbal noun of the title's words
    ("endovascular coiling", "O01.9"),
])
def test_the_linkers_index_matches_words_by_their_stems(query, code):
    from clincoder.core.codes import System
    from clincoder.core.tables import CodeEntry, CodeTable
    from clincoder.models.lexical import LexicalIndex, stemmed

    entries = [CodeEntry(code=c, title=t, kind="subcategory", parent=None, selectable=True) for c, t in (
        ("M13.6", "Percutaneous insertion of nephrostomy tube"),
        ("G43.7", "Fibreoptic endoscopic rubber band ligation of upper gastrointestinal tract varices"),
        ("O01.9", "Unspecified transluminal coil embolisation of aneurysm of artery"),
        ("G45.9", "Unspecified diagnostic fibreoptic endoscopic examination of upper gastrointestinal tract"))]
    table = CodeTable(System.OPCS4, "test", entries, source="test")
    assert LexicalIndex(table, stem=True).search([query], 1)[0][0][0] == code
    assert LexicalIndex(table).search([query], 1, 0.05) == [[]]  # word for word, nothing matches
    assert stemmed("the variceal bands") == stemmed("varices band")
    assert stemmed("crt-p implantation") == "crtp implant" != stemmed("crt-d implant")  # one character names the device
