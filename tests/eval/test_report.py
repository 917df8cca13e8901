import json

import pytest

from clincoder.core.codiesp import codiesp_map
from clincoder.eval.report import chapter_of, evaluate

GOLD = ("id,system,code,role\n"
        "e1,ICD-10-CM,I21.4,primary\ne1,ICD-10-CM,E11.9,secondary\ne1,ICD-10-PCS,4A02X4Z,primary\n"
        "e2,ICD-10-CM,J18.9,primary\n"
        "e3,ICD-10-CM,K35.80,primary\n")
PRED = ("id,system,code,rank,role,score\n"
        "e1,ICD-10-CM,I21.4,1,primary,0.9\ne1,ICD-10-CM,E11.8,2,secondary,0.7\ne1,ICD-10-PCS,4A02X4Z,3,primary,0.6\n"
        "e1,ICD-10-CM,E11.9,4,candidate,0.3\n"
        "e2,ICD-10-CM,I10,1,primary,0.8\ne2,ICD-10-CM,J18.9,2,secondary,0.55\n")


@pytest.fixture
def toy(tmp_path):
    (tmp_path / "gold.csv").write_text(GOLD)
    (tmp_path / "pred.csv").write_text(PRED)
    return tmp_path


def test_report_values_and_files(toy):
    out = toy / "report"
    r = evaluate(toy / "gold.csv", toy / "pred.csv", out, n_boot=100)
    # predicted set (no candidates): e1 {I21.4, E11.8, 4A02X4Z}, e2 {I10, J18.9}, e3 {} -> tp 3, fp 2, fn 2
    assert r["micro"]["tp"] == 3 and r["micro"]["fp"] == 2 and r["micro"]["fn"] == 2
    assert r["micro"]["precision"] == pytest.approx(0.6) and r["micro"]["recall"] == pytest.approx(0.6)
    # overall ranking e1: I21.4, E11.8, 4A02X4Z, E11.9 -> (1 + 2/3 + 3/4) / 3; e2: (1/2) / 1; e3: 0
    assert r["map"] == pytest.approx(((1 + 2 / 3 + 3 / 4) / 3 + 0.5 + 0) / 3)
    cm = r["per_system"]["ICD-10-CM"]
    assert cm["map"] == pytest.approx(((1 + 2 / 3) / 2 + 0.5 + 0) / 3)
    assert cm["category"]["micro"]["tp"] == 3  # E11.8 matches E11.9 at category level
    assert r["per_system"]["ICD-10-PCS"]["micro"]["f1"] == 1.0
    assert r["p_at_k"]["1"] == pytest.approx((1 + 0 + 0) / 3)
    assert r["primary"]["diagnosis"] == {"accuracy": pytest.approx(1 / 3), "correct": 1, "n": 3}
    assert r["primary"]["procedure"]["accuracy"] == 1.0
    chapters = r["per_chapter"]["ICD-10-CM"]
    assert chapters["9 Diseases of the circulatory system"]["tp"] == 1
    assert set(r["per_chapter"]["ICD-10-PCS"]) == {"4 Measurement and Monitoring"}
    assert {"value", "lo", "hi"} <= set(r["ci"]["map"]) and "ICD-10-CM" in r["ci"]["per_system"]
    assert r["threshold_sweep"]["scores"] == "model"
    assert r["threshold_sweep"]["recommended"]["criterion"] == "max micro F1"
    codes = {row["code"]: row for row in r["per_code"]["ICD-10-CM"]}
    assert codes["e11.9"]["fn"] == 1 and codes["e11.9"]["title"].startswith("Type 2 diabetes")
    on_disk = json.loads((out / "report.json").read_text())
    for key in ("map", "micro", "macro", "per_system", "per_chapter", "ci"):
        assert key in on_disk
    assert set(on_disk["micro"]) >= {"precision", "recall", "f1"}
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "Worst codes" in html
    for png in ("per_chapter_f1.png", "precision_recall.png", "calibration.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tsv_predictions_use_pseudo_scores(tmp_path):
    (tmp_path / "gD.tsv").write_text("d1\ti21.4\nd2\tt81.4xx\n")
    (tmp_path / "pD.tsv").write_text("d1\ti10\nd1\ti21.4\nd2\tt81.4xx\nd2\tt81.4xx\n")
    r = evaluate(tmp_path / "gD.tsv", tmp_path / "pD.tsv", None, n_boot=0)
    assert r["threshold_sweep"]["scores"].startswith("pseudo")
    assert any("pseudo-scores" in n for n in r["notes"])
    assert r["per_system"]["ICD-10-CM"]["map"] == pytest.approx(codiesp_map(tmp_path / "gD.tsv", tmp_path / "pD.tsv"))
    assert r["per_system"]["ICD-10-CM"]["map"] == pytest.approx((0.5 + 1) / 2)
    assert r["primary"] is None


def test_chapter_labels():
    assert chapter_of("ICD-10-CM", "b10.01").startswith("1 ")  # a block that shares its category's name
    assert chapter_of("ICD-10-PCS", "bw03") == "B Imaging"
    assert chapter_of("ICD-10-CM", "t81.4xx").startswith("19 ")


def test_cli_eval(toy):
    from typer.testing import CliRunner

    from clincoder.cli import app

    res = CliRunner().invoke(app, ["eval", "--gold", str(toy / "gold.csv"), "--pred", str(toy / "pred.csv"),
                                   "--out", str(toy / "cli"), "--bootstrap", "50"])
    assert res.exit_code == 0, res.output
    assert "MAP" in res.output and (toy / "cli" / "report.html").exists()
    bad = CliRunner().invoke(app, ["eval", "--gold", str(toy / "nope"), "--pred", str(toy / "pred.csv"),
                                   "--out", str(toy / "cli2")])
    assert bad.exit_code == 2


def test_codiesp_dev_gold_against_itself_and_official_map(codiesp_dev, tmp_path):
    gold = [codiesp_dev / "devD.tsv", codiesp_dev / "devP.tsv"]
    perfect = evaluate(gold, gold, None, n_boot=0)
    assert perfect["map"] == pytest.approx(1.0) and perfect["micro"]["f1"] == pytest.approx(1.0)
    # a degraded prediction: each document's codes reversed, every third dropped
    lines = (codiesp_dev / "devD.tsv").read_text().splitlines()
    docs: dict[str, list[str]] = {}
    for ln in lines:
        d, c = ln.split("\t")[:2]
        docs.setdefault(d, []).append(c)
    pred = tmp_path / "predD.tsv"
    pred.write_text("".join(f"{d}\t{c}\n" for d, cs in docs.items() for n, c in enumerate(reversed(cs)) if n % 3))
    r = evaluate(codiesp_dev / "devD.tsv", pred, tmp_path / "rep", n_boot=100)
    assert r["per_system"]["ICD-10-CM"]["map"] == pytest.approx(codiesp_map(codiesp_dev / "devD.tsv", pred))
    assert 0 < r["micro"]["recall"] < 1 and r["micro"]["precision"] == pytest.approx(1.0)
    assert (tmp_path / "rep" / "per_chapter_f1.png").exists()
