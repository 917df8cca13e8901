"""Coder gold sets and the NHS coder-audit figures."""

from __future__ import annotations

import pytest

from clincoder.core.gold import CoderGoldError, read_coder_gold
from clincoder.core.schema import CodeSuggestion, Evidence, LetterResult
from clincoder.eval.coder_gold import coder_audit

GOLD = """id: a
letter: a.txt
specialty: cardiology
setting: inpatient
split: {split}
diagnoses:
  - {{code: I21.4, alternatives: [I21.9]}}
  - {{code: I10}}
  - {{code: E11.9}}
procedures:
  - {{code: K75.1}}
  - {{code: Y79.5}}
must_not_code:
  - {{code: R07.4, reason: integral to the MI}}
"""


@pytest.fixture
def gold_dir(tmp_path):
    (tmp_path / "a.txt").write_text("NSTEMI. PCI.")
    (tmp_path / "a.yaml").write_text(GOLD.format(split="dev"))
    return tmp_path


def s(system, code, role="secondary", assertion="present"):
    return CodeSuggestion(system, code, "", 1, role, 0.9, (Evidence(0, 6, "NSTEMI", None, assertion),))


def test_audit_figures_as_an_auditor_counts_them(gold_dir):
    [g] = read_coder_gold(gold_dir)
    assert g.text == "NSTEMI. PCI." and g.split == "dev" and g.diagnoses[0].alternatives == ("I21.9",)
    rec = LetterResult("a", "uk", codes=(s("ICD-10", "I21.9", "primary"), s("ICD-10", "I10"), s("ICD-10", "R07.4"),
                                         s("ICD-10", "J18.9", assertion="negated"), s("OPCS-4", "K75.1", "primary")))
    audit = coder_audit([g], {"a": rec})
    assert audit["primary_diagnosis"] == {"percent_correct": 100.0, "correct": 1, "n": 1}  # an alternative counts
    sd = audit["secondary_diagnoses"]
    assert (sd["tp"], sd["fp"], sd["fn"]) == (1, 2, 1)  # I10 right; R07.4 and J18.9 wrong; E11.9 missed
    assert audit["main_procedure"]["correct"] == 1 and audit["secondary_procedures"]["fn"] == 1
    assert audit["must_not_coded"] == 1 and audit["negated_suggested"] == 1
    row = audit["per_letter"][0]
    assert row["missed"] == ["E11.9", "Y79.5"] and {"code": "R07.4", "kind": "diagnosis", "must_not_code": "integral to the MI"} in row["wrong"]
    assert audit["suggested_3"]["tp"] == audit["suggested_4"]["tp"] == 3


def test_a_letter_not_coded_counts_as_wrong_and_is_counted(gold_dir):
    from clincoder.eval.report import summary_line

    audit = coder_audit(read_coder_gold(gold_dir), {})
    assert audit["primary_diagnosis"]["correct"] == 0 and audit["per_letter"][0]["error"] == "not coded"
    assert audit["not_coded"] == 1
    failed = coder_audit(read_coder_gold(gold_dir), {"a": LetterResult.failed("a", "uk", "internal error")})
    assert failed["not_coded"] == 1
    line = summary_line({"coder_audit": failed, "map": 0.0, "per_system": {}, "micro": dict.fromkeys(("precision", "recall", "f1"), 0.0)})
    assert "letters not coded (error or missing records) 1" in line


def test_split_and_validation(gold_dir, tmp_path):
    assert read_coder_gold(gold_dir, "final") == []
    (gold_dir / "a.yaml").write_text(GOLD.format(split="test"))
    with pytest.raises(CoderGoldError, match="split must be one of"):
        read_coder_gold(gold_dir)
    with pytest.raises(CoderGoldError, match="no gold YAML"):
        read_coder_gold(tmp_path / "nothing")


def test_shipped_uk_gold_set_is_complete_and_valid(repo_root):
    letters = read_coder_gold(repo_root / "data" / "uk-gold" / "gold")
    assert len(letters) >= 40 and sum(g.split == "final" for g in letters) == len(letters) // 4
    assert len({g.specialty for g in letters}) >= 12
    assert all(g.diagnoses and all(c.evidence in g.text for c in g.diagnoses + g.procedures) for g in letters)


def test_every_uk_gold_code_is_selectable_in_the_shared_tables(repo_root, shared_data):
    """Gold codes, alternatives and must-not codes exist and are selectable in the development
    tables (ICD-10 as used in English hospitals, OPCS-4); a must-not reason starting "(OPCS-4)"
    names a procedure code."""
    from clincoder.core.codes import System
    from clincoder.core.tables import load_table

    icd = load_table(System.ICD10, shared_data / "icd10-uk" / "icd10_uk_codes.tsv")
    opcs = load_table(System.OPCS4, shared_data / "opcs4" / "opcs4_codes.tsv")
    bad = []
    for g in read_coder_gold(repo_root / "data" / "uk-gold" / "gold"):
        slots = [(icd, c) for c in g.diagnoses] + [(opcs, c) for c in g.procedures]
        codes = [(t, k) for t, c in slots for k in (c.code, *c.alternatives)]
        codes += [(opcs if reason.startswith("(OPCS-4)") else icd, code) for code, reason in g.must_not_code]
        bad += [f"{g.id}: {k}" for t, k in codes if not t.is_selectable(k)]
    assert not bad
