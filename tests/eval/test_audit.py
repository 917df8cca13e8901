import collections

import pytest

from clincoder.eval.audit import audit, check_code, found, perturb_gold
from clincoder.eval.formats import CodedSet, read_coded

LETTER = ("Admitted with chest pain; troponin rise: non-ST elevation myocardial infarction (NSTEMI). "
          "Known type 2 diabetes mellitus without complications, on insulin long term. Essential hypertension.")
REFERENCE = ("id,system,code,role\n"
             "e1,ICD-10-CM,I21.4,primary\ne1,ICD-10-CM,I10,secondary\ne1,ICD-10-CM,E11.9,secondary\n"
             "e1,ICD-10-CM,Z79.4,secondary\n"
             "e2,ICD-10-CM,I10,primary\n")
CODED = ("id,system,code,role\n"
         "e1,ICD-10-CM,I10,primary\n"  # sequencing: the reference's primary I21.4 is coded second
         "e1,ICD-10-CM,I21.4,secondary\n"
         "e1,ICD-10-CM,E11.8,secondary\n"  # specificity: sibling of E11.9
         "e1,ICD-10-CM,J45.909,secondary\n"  # unsupported: asthma, nowhere in the letter
         "e1,ICD-10-CM,I21.4!,secondary\n"  # invalid: malformed
         "e1,ICD-10-CM,E11.99,secondary\n"  # retired (or invalid extension): E11 exists, E11.99 does not
         "e2,ICD-10-CM,I10,primary\n")  # Z79.4 of e1 is uncoded; e2 is correct


@pytest.fixture
def fixture(tmp_path):
    (tmp_path / "ref.csv").write_text(REFERENCE)
    (tmp_path / "coded.csv").write_text(CODED)
    return tmp_path


def test_check_code():
    assert check_code("ICD-10-CM", "I21.4") is None
    assert check_code("ICD-10-CM", "I21.4!")[0] == "invalid"
    assert check_code("ICD-10-CM", "U9Z.9")[0] == "invalid"
    assert check_code("ICD-10-CM", "E11.99")[0] == "retired"
    assert check_code("ICD-10-CM", "T81.4")[0] == "invalid"  # incomplete: needs more characters
    assert check_code("ICD-10-CM", "T81.4", codiesp=True) is None  # CodiEsp partial codes are accepted
    assert check_code("ICD-10-PCS", "BW03", codiesp=True) is None


def test_hand_built_audit_finds_each_kind(fixture):
    res = audit(fixture / "coded.csv", {"e1": LETTER, "e2": "Hypertension."}, fixture / "out",
                reference=fixture / "ref.csv")
    got = {(f["kind"], f["code"]) for e in res["episodes"] for f in e["findings"]}
    assert got == {("sequencing", "I21.4"), ("specificity", "E11.8"), ("unsupported", "J45.909"),
                   ("invalid", "I21.4!"), ("retired", "E11.99"), ("uncoded", "Z79.4")}
    spec = next(f for e in res["episodes"] for f in e["findings"] if f["kind"] == "specificity")
    assert spec["expected"] == "E11.9"
    s = res["summary"]
    assert s["primary_diagnosis"] == {"percent_correct": 50.0, "correct": 1, "n": 2}
    # reference secondaries of e1: I10, E11.9, Z79.4; coded secondaries: I21.4, E11.8, ... -> none right
    assert s["secondary_diagnoses"] == {"percent_correct": 0.0, "correct": 0, "n": 3}
    assert s["primary_procedure"]["n"] == 0 and s["primary_procedure"]["percent_correct"] is None
    assert res["reference"].startswith("reference gold set")
    for name in ("audit.json", "audit.csv", "audit.md"):
        assert (fixture / "out" / name).exists()
    assert "% correct" in (fixture / "out" / "audit.md").read_text()
    assert (fixture / "out" / "audit.csv").read_text().count("\n") == 1 + 6


def test_audit_against_suggestions(fixture, tmp_path):
    from clincoder.core.schema import CodeSuggestion, LetterResult

    rec = LetterResult(id="e1", profile="us", codes=(
        CodeSuggestion("ICD-10-CM", "I21.4", "NSTEMI", 1, "primary", 0.9),
        CodeSuggestion("ICD-10-CM", "E11.9", "T2DM", 2, "secondary", 0.8)),
        candidates=(CodeSuggestion("ICD-10-CM", "J45.909", "Asthma", 3, "candidate", 0.2),))
    sugg = tmp_path / "s.jsonl"
    sugg.write_text(rec.to_json() + "\n")
    res = audit(fixture / "coded.csv", {"e1": LETTER}, None, suggestions=sugg)
    got = {(f["kind"], f["code"]) for e in res["episodes"] for f in e["findings"]}
    assert ("sequencing", "I21.4") in got and ("specificity", "E11.8") in got
    assert ("unsupported", "J45.909") not in got  # a candidate in that category supports it
    assert "not a gold standard" in res["reference"]


def test_sampling(fixture):
    res = audit(fixture / "coded.csv", None, None, reference=fixture / "ref.csv", sample=1, seed=3)
    assert res["sample"]["size"] == 1 and len(res["episodes"]) == 1


def test_cli_audit(fixture):
    from typer.testing import CliRunner

    from clincoder.cli import app

    res = CliRunner().invoke(app, ["audit", "--coded", str(fixture / "coded.csv"), "--reference",
                                   str(fixture / "ref.csv"), "--out", str(fixture / "cli")])
    assert res.exit_code == 0, res.output
    assert "2 episodes audited" in res.output and (fixture / "cli" / "audit.md").exists()


def test_perturbed_codiesp_dev_finds_every_perturbation(codiesp_dev):
    from clincoder.io import iter_letters

    gold = read_coded([codiesp_dev / "devD.tsv", codiesp_dev / "devP.tsv"])
    letters = {lt.id: lt.text for lt in iter_letters([codiesp_dev / "text_files_en"]) if lt.text}
    coded, truth = perturb_gold(gold, n_per_kind=10, seed=0, letters=letters)
    kinds = collections.Counter(p.kind for p in truth)
    assert kinds == {"dropped": 10, "added": 10, "swapped": 10, "invalid": 10, "resequenced": 10}
    assert len({p.episode for p in truth}) == 50
    res = audit(coded, letters, None, reference=gold, sample=0)
    result = found(res, truth)
    assert result["missed"] == [], result["missed"]
    # unperturbed episodes: only problems of the gold codes themselves (codes retired since CodiEsp's edition)
    perturbed = {p.episode for p in truth}
    other = collections.Counter(f["kind"] for e in res["episodes"] if e["id"] not in perturbed for f in e["findings"])
    assert set(other) <= {"invalid", "retired"}
    again, truth2 = perturb_gold(gold, n_per_kind=10, seed=0, letters=letters)
    assert truth2 == truth and isinstance(again, CodedSet)
