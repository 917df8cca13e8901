"""Training runs end to end on a tiny hand-built corpus, and what it writes loads and scores."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from clincoder.core.codes import System
from clincoder.core.contracts import PreparedLetter
from clincoder.core.tables import CodeTable

D_CODES = ["E11.9", "I10", "R50.9", "J18.9", "N39.0", "R52"]
P_CODES = ["BW03ZZZ", "0DTJ4ZZ", "BW40ZZZ"]

TRAIN = [
    ("t1", "Patient with type 2 diabetes and hypertension.\nChest X-ray was normal.", ["e11.9", "i10"], ["bw03zzz"]),
    ("t2", "He presented with fever and pneumonia.\nChest radiograph showed consolidation.", ["r50.9", "j18.9"], ["bw03zzz"]),
    ("t3", "Urinary tract infection with fever.\nAbdominal ultrasound was unremarkable.", ["n39.0", "r50.9"], ["bw40zzz"]),
    ("t4", "Abdominal pain; laparoscopic appendectomy was performed.", ["r52"], ["0dtj4zz"]),
    ("t5", "Known hypertension. Pneumonia treated with antibiotics.", ["i10", "j18.9"], []),
    ("t6", "Diabetes mellitus type 2 on metformin; pain in the abdomen.", ["e11.9", "r52"], ["bw40zzz"]),
]
# Spanish originals and evidence spans (CodiEsp's *X.tsv) for some training letters: where the
# term memory learns its phrases
SPANISH = {
    "t2": ("Se presentó con fiebre y neumonía.\nLa radiografía de tórax mostró consolidación.",
           [("DIAGNOSTICO", "r50.9", "fiebre"), ("DIAGNOSTICO", "j18.9", "neumonía"),
            ("PROCEDIMIENTO", "bw03zzz", "radiografía de tórax")]),
    "t3": ("Infección del tracto urinario con fiebre.\nEcografía abdominal sin alteraciones.",
           [("DIAGNOSTICO", "n39.0", "Infección del tracto urinario"), ("DIAGNOSTICO", "r50.9", "fiebre")]),
}
DEV = [
    ("d1", "Fever and community acquired pneumonia.\nChest X-ray: right lower lobe consolidation.", ["r50.9", "j18.9"], ["bw03zzz"]),
    ("d2", "Type 2 diabetes, hypertension.\nUltrasound of the abdomen.", ["e11.9", "i10"], ["bw40zzz"]),
    ("d3", "Urinary tract infection. Appendectomy by laparoscopy.", ["n39.0"], ["0dtj4zz"]),
    ("d4", "Pain and fever.", ["r52", "r50.9"], []),
]


def _subset(table, codes):
    keep = {}
    for c in codes:
        e = table.get(c)
        keep[e.code] = e
        for a in table.ancestors(c):
            keep[a.code] = a
    return CodeTable(table.system, f"{table.edition} (test subset)", keep.values(), "fixture")


@pytest.fixture
def tiny_corpus(tmp_path):
    root = tmp_path / "codiesp"
    for split, docs in (("train", TRAIN), ("dev", DEV)):
        (root / split / "text_files_en").mkdir(parents=True)
        for doc_id, text, _, _ in docs:
            (root / split / "text_files_en" / f"{doc_id}.txt").write_text(text, encoding="utf-8")
        for kind, col in (("D", 2), ("P", 3)):
            (root / split / f"{split}{kind}.tsv").write_text(
                "".join(f"{d[0]}\t{c}\n" for d in docs for c in d[col]), encoding="utf-8")
    (root / "train" / "text_files").mkdir()
    spans = []
    for doc_id, (spanish, evidence) in SPANISH.items():
        (root / "train" / "text_files" / f"{doc_id}.txt").write_text(spanish, encoding="utf-8")
        for label, code, phrase in evidence:
            start = spanish.index(phrase)
            spans.append(f"{doc_id}\t{label}\t{code}\t{phrase}\t{start} {start + len(phrase)}\n")
    (root / "train" / "trainX.tsv").write_text("".join(spans), encoding="utf-8")
    return root


@pytest.fixture
def tiny_tables(icd10cm_table, icd10pcs_table):
    return {"D": _subset(icd10cm_table, D_CODES), "P": _subset(icd10pcs_table, P_CODES)}


@pytest.mark.slow
def test_train_end_to_end_writes_a_loadable_deterministic_model(tmp_path, tiny_corpus, tiny_tables, monkeypatch):
    from clincoder.models.ranker import CodingModel
    from clincoder.training.train import train

    monkeypatch.setenv("CLINCODER_CACHE_DIR", str(tmp_path / "cache"))
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump({"version": 1, "encoder": {"steps": 3, "batch_size": 4, "max_classification_pairs": 20},
                                      "ranker": {"seed": 1}}))
    out = tmp_path / "model"
    card = train(config, out, codiesp=tiny_corpus, progress=False, tables=tiny_tables)

    assert set(card["metrics_dev"]) == {"D", "P"}
    assert 0.0 <= card["metrics_dev"]["D"]["map"] <= 1.0 and card["hash"]
    # the fusion also learned from every train letter, featurised by components that did not see it
    assert card["metrics_dev"]["D"]["fusion_rows"] == {"dev_letters": len(DEV), "stacked_train_letters": len(TRAIN)}
    # the classifier, memories and prior learned from dev letters too (learn_from_dev, the default)
    assert json.loads((out / "prior_D.json").read_text())["r50.9"] == 4  # t2, t3, d1, d4
    assert "train and dev" in card["training_data"]
    assert (out / "encoder" / "delta.safetensors").stat().st_size < 25 * 2**20
    enc_card = json.loads((out / "encoder" / "encoder_card.json").read_text())
    assert enc_card["trained_layers"] == ["encoder.layer.4.", "encoder.layer.5."] and enc_card["config"]["steps"] == 3
    assert json.loads((out / "model_card.json").read_text())["hash"] == card["hash"]
    # the term memory learned the English phrases of the Spanish evidence
    terms = json.loads((out / "terms_D.json").read_text())["phrases"]
    # 3 of the 3 letters with it (t2, t5 and dev d1), smoothed
    assert terms["pneumonia"] == {"j18.9": pytest.approx(3 / 4, abs=1e-3)}
    assert card["metrics_dev"]["D"]["term_phrases"] >= 2

    tables = {System.ICD10CM: tiny_tables["D"], System.ICD10PCS: tiny_tables["P"]}
    model = CodingModel(out, tables)
    sentences = ["Fever with pneumonia.", "Chest X-ray done."]
    letter = PreparedLetter.from_sentences(sentences)
    first = model.rank(letter)
    again = model.rank(letter)
    assert first == again  # scoring is deterministic
    diag = [r.key for r in first[System.ICD10CM]]
    assert set(diag[:3]) & {"r50.9", "j18.9"}
    scores = [r.score for r in first[System.ICD10CM]]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)


@pytest.mark.parametrize("text, message", [
    ("encoder: {stepz: 3}\n", "stepz"),
    # dev letters can only be learned from with stacking folds that featurise them out of sample
    ("ranker: {folds: 0, learn_from_dev: true}\n", "folds >= 2"),
    ("ranker: {fusion_objective: pairwise}\n", "lambdarank"),
    ("ranker: {fusion_objective: {P: lambdarank}}\n", "one for each kind"),
])
def test_bad_training_config_is_a_clear_error(tmp_path, text, message):
    from clincoder.training.train import TrainingConfigError, read_config

    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(TrainingConfigError, match=message):
        read_config(bad)


def test_a_fusion_setting_may_differ_by_kind(tmp_path):
    from clincoder.training.train import read_config

    good = tmp_path / "good.yaml"
    good.write_text("ranker: {fusion_objective: {D: binary, P: lambdarank}, fusion_trees: {D: 200, P: 300}}\n")
    ranker = read_config(good)[1]
    assert [(p.objective, p.trees) for p in map(ranker.fusion_params, "DP")] == [("binary", 200), ("lambdarank", 300)]
    assert ranker.fusion_params("P", titles=True).objective == "binary"


@pytest.mark.parametrize("name", ["us.yaml", "us-train-only.yaml", "us-lambdarank.yaml"])
def test_the_bundled_training_configs_load(name):
    from clincoder.training.train import default_config, read_config

    _, ranker = read_config(default_config().parent / name)
    objectives = [ranker.fusion_params(kind).objective for kind in "DP"]
    assert objectives == (["binary", "lambdarank"] if name == "us-lambdarank.yaml" else ["binary", "binary"])


def test_a_ranking_fusion_is_calibrated_on_the_cross_fitted_dev_scores(tmp_path, tiny_corpus, tiny_tables):
    from clincoder.models.ranker import CodingModel
    from clincoder.training.train import train

    config = tmp_path / "rank.yaml"
    config.write_text(yaml.safe_dump({"version": 1, "ranker": {"seed": 1, "use_encoder": False, "fusion_min_leaf": 2,
                                                               "fusion_trees": 20, "fusion_objective": "lambdarank"}}))
    out = tmp_path / "model"
    card = train(config, out, codiesp=tiny_corpus, progress=False, tables=tiny_tables)
    assert card["config"]["fusion_objective"] == "lambdarank"
    assert set(card["metrics_dev"]["D"]["calibration"]) == {"scale", "shift"}
    assert "calibration" not in card["metrics_dev"]["D"]["titles_only"]  # the titles-only fusion stays log-loss
    model = CodingModel(out, {System.ICD10CM: tiny_tables["D"], System.ICD10PCS: tiny_tables["P"]})
    ranked = model.rank(PreparedLetter.from_sentences(["Fever with pneumonia.", "Chest X-ray done."]))[System.ICD10CM]
    scores = [r.score for r in ranked]
    assert scores == sorted(scores, reverse=True) and all(0.0 < s < 1.0 for s in scores)
    assert {"r50.9", "j18.9"} & {r.key for r in ranked[:3]}


def test_one_kind_is_retrained_keeping_the_others_parts(tmp_path, tiny_corpus, tiny_tables):
    from clincoder.training.train import train

    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    first.write_text(yaml.safe_dump({"version": 1, "ranker": {"seed": 1, "use_encoder": False, "fusion_trees": 10}}))
    second.write_text(yaml.safe_dump({"version": 1, "ranker": {"seed": 1, "use_encoder": False, "fusion_trees": 20,
                                                                "fusion_min_leaf": 2}}))
    out = tmp_path / "model"
    with pytest.raises(FileNotFoundError, match="copy a trained ranker there first"):
        train(second, out, codiesp=tiny_corpus, progress=False, tables=tiny_tables, kinds=("P",))
    before = train(first, out, codiesp=tiny_corpus, progress=False, tables=tiny_tables)
    kept = {p.name: p.read_bytes() for p in out.iterdir() if p.name.endswith(("_D.json", "_D.npz", "_P_titles.json"))}
    card = train(second, out, codiesp=tiny_corpus, progress=False, tables=tiny_tables, kinds=("P",), keep_titles=True)
    assert {name: (out / name).read_bytes() for name in kept} == kept  # the diagnoses and the titles-only fusion
    assert card["metrics_dev"]["D"] == before["metrics_dev"]["D"]
    assert card["metrics_dev"]["P"]["titles_only"] == before["metrics_dev"]["P"]["titles_only"]
    assert card["kept"]["parts"] == ["D", "P titles-only fusion"] and card["kept"]["from"] == before["hash"]
    assert card["kept"]["config"]["fusion_trees"] == 10 and card["config"]["fusion_trees"] == 20
    assert card["hash"] != before["hash"]
    with pytest.raises(ValueError, match="kinds must be among"):
        train(second, out, codiesp=tiny_corpus, progress=False, tables=tiny_tables, kinds=("X",))


def test_alignment_puts_codes_on_the_sentence_that_carries_them():
    from clincoder.training.codiesp import Document, sentence_lines, align

    text = "The patient is well.\nShe had a urinary tract infection last year.\nNo fever."
    doc = Document("x", text, sentence_lines(text), ["n39.0"], [], [("D", "n39.0", 30, 60, "infección urinaria")],
                   spanish="x" * 80)
    titles = {"n39.0": "Urinary tract infection, site not specified"}
    [(kind, code, i)] = align(doc, lambda k, c: titles[c])
    assert (kind, code) == ("D", "n39.0") and "urinary tract infection" in doc.sentence_text(i)


def test_an_explicit_corpus_path_that_does_not_exist_is_an_error(tmp_path):
    from clincoder.training.codiesp import CorpusNotFound, codiesp_dir

    with pytest.raises(CorpusNotFound, match="not found at"):
        codiesp_dir(tmp_path / "missing")
    assert codiesp_dir(tmp_path) == tmp_path


@pytest.mark.parametrize("spanish, english, code, title, expected", [
    ("paraparesia espástica tropical", "He was diagnosed with tropical spastic paraparesis and treated.", "g04.1",
     "Tropical spastic paraplegia", "tropical spastic paraparesis"),
    ("hipertensión portal", "History of liver cirrhosis, portal hypertension and varices.", "k76.6",
     "Portal hypertension", "portal hypertension"),
    ("debilidad", "She reported weakness of the lower limbs.", "r53.1", "Weakness", "weakness"),
    ("tomografía computada de abdomen", "An abdominal computed tomography was requested.", "bw20",
     "Computerized Tomography (CT Scan) of Abdomen", "abdominal computed tomography"),
    # not a cognate: the title, without its boilerplate ("unspecified"), names the English words
    ("dolor", "She complained of pain after meals.", "r52", "Pain, unspecified", "pain"),
])
def test_evidence_phrases_find_the_english_counterpart(spanish, english, code, title, expected):
    from clincoder.training.codiesp import Document, sentence_lines, evidence_phrases

    text = f"Admitted for review.\n{english}\nDischarged home."
    es = f"Ingresa para estudio. El paciente presenta {spanish}. Alta a domicilio."
    start = es.index(spanish)
    doc = Document("x", text, sentence_lines(text), [code], [], [("D", code, start, start + len(spanish), spanish)], spanish=es)
    assert evidence_phrases(doc, lambda k, c: title) == [("D", code, expected)]


def test_a_discontinuous_evidence_span_is_read_from_its_fragments(tiny_corpus):
    """CodiEsp marks "masa ... retroperitoneal" as two fragments; the words between are not evidence."""
    from clincoder.training.codiesp import evidence_phrases, load_split

    es = "Se palpa una masa dura y dolorosa de localización retroperitoneal. Alta."
    en = "A hard, painful retroperitoneal mass was palpated.\nDischarged."
    (tiny_corpus / "train" / "text_files_en" / "t7.txt").write_text(en, encoding="utf-8")
    (tiny_corpus / "train" / "text_files" / "t7.txt").write_text(es, encoding="utf-8")
    a, b = es.index("masa"), es.index("retroperitoneal")
    with (tiny_corpus / "train" / "trainX.tsv").open("a", encoding="utf-8") as f:
        f.write(f"t7\tDIAGNOSTICO\tr19.00\tmasa retroperitoneal\t{a} {a + 4};{b} {b + 15}\n")
    [doc] = [d for d in load_split("train", tiny_corpus) if d.id == "t7"]
    assert doc.spans == [("D", "r19.00", a, b + 15, "masa retroperitoneal")]
    title = "Intra-abdominal and pelvic swelling, mass and lump, unspecified site"
    assert evidence_phrases(doc, lambda k, c: title) == [("D", "r19.00", "retroperitoneal mass")]


def test_evidence_phrases_skip_spans_with_no_counterpart():
    from clincoder.training.codiesp import Document, sentence_lines, evidence_phrases

    text = "Admitted for review.\nThe scan was normal.\nDischarged home."
    es = "Ingresa para estudio. Presenta bocio multinodular. Alta a domicilio."
    start = es.index("bocio")
    doc = Document("x", text, sentence_lines(text), ["e04.2"], [], [("D", "e04.2", start, start + 18, es[start:start + 18])],
                   spanish=es)
    assert evidence_phrases(doc, lambda k, c: "Nontoxic multinodular goiter") == []
