"""The coder end to end: phrase -> expected-code regression cases, and provenance."""

from __future__ import annotations

import pytest

from clincoder.coder import Coder
from clincoder.core.config import Settings


@pytest.mark.parametrize("phrase, category", [
    ("Type 2 diabetes mellitus", "E11"),
    ("Community acquired pneumonia", "J18"),
    ("Essential hypertension", "I10"),  # found by the term memory ("hypertension" coded I10 in coded history)
    ("Atrial fibrillation", "I48"),
    ("Urinary tract infection", "N39"),
    ("Acute kidney injury", "N17"),
    ("Infective exacerbation of COPD", "J44"),
    ("Iron deficiency anaemia", "D50"),
    ("Cellulitis of the left lower leg", "L03"),
    ("Acute appendicitis", "K35"),
    ("Fracture of neck of femur", "S72"),
    ("Acute subendocardial myocardial infarction", "I21"),
])
def test_phrase_to_expected_code(uk_coder, phrase, category):
    rec = uk_coder.code_text(f"Diagnoses:\n- {phrase}\n")
    assert rec.error is None
    diagnoses = [c for c in rec.ranked() if c.system == "ICD-10"]
    top = [c.code[:3] for c in diagnoses[:5]]
    assert category in top, f"{phrase!r}: expected {category} in the top 5, got {[c.code for c in diagnoses[:5]]}"
    hit = next(c for c in diagnoses if c.code.startswith(category))
    letter = f"Diagnoses:\n- {phrase}\n"
    assert hit.evidence and all(letter[e.start:e.end] == e.text for e in hit.evidence)


def test_a_wrapped_letter_is_read_as_one_line_and_quoted_as_written(uk_coder):
    letter = ("Diagnoses:\n- Community acquired pneumonia\n\nPast history: she had a right total knee\n"
              "replacement in 2019 for osteoarthritis.\n")
    rec = uk_coder.code_text(letter)
    quoted = [e for c in (*rec.codes, *rec.candidates) for e in c.evidence] + \
        [e for f in (*rec.flags, *rec.queries) for e in f.evidence]
    assert "Z96.6" in [c.code for c in rec.codes]  # the implant's statement read across the break
    assert quoted and all(letter[e.start:e.end] == e.text for e in quoted)
    assert any("knee\nreplacement" in e.text for e in quoted)


def test_codes_carry_section_and_assertion(uk_coder):
    letter = "Primary diagnosis:\n- Community acquired pneumonia\n"
    rec = uk_coder.code_text(letter)
    top = rec.ranked()[0]
    assert top.code.startswith("J18") and top.evidence[0].section == "primary_diagnosis"
    assert top.evidence[0].assertion == "present"
    assert [c.rank for c in rec.ranked()] == list(range(1, len(rec.ranked()) + 1))


def test_evidence_is_the_passages_that_support_the_code_well(uk_coder):
    letter = ("Primary diagnosis:\n- Infective exacerbation of COPD\n"
              "Secondary diagnoses:\n- Type 2 diabetes mellitus\n- Essential hypertension\n")
    rec = uk_coder.code_text(letter)
    for c in rec.ranked():
        supports = [e.support for e in c.evidence]
        assert all(s is not None and 0.0 <= s <= 1.0 for s in supports)
        if supports:
            assert min(supports) >= 0.5 * max(supports) - 1e-3, (c.code, supports)
    # the comorbidities are not evidenced by the primary statement, so COPD is primary
    primary = next(c for c in rec.codes if c.system == "ICD-10" and c.role == "primary")
    assert primary.code.startswith("J44"), [c.code for c in rec.codes]
    assert all(e.section != "primary_diagnosis" for c in rec.codes if c.code.startswith(("E11", "I10"))
               for e in c.evidence)


def test_every_record_carries_its_provenance(uk_coder):
    from clincoder.rules import default_rules

    rec = uk_coder.code_text("Diagnoses:\n- Community acquired pneumonia\n")
    model = rec.model
    assert model["name"] == "clincoder-ranker-us" and len(model["hash"]) == 16 and model["version"]
    assert model["rules"] == default_rules().version
    assert len(model["text_pipeline"]) == 16 and len(model["constants"]) == 16
    assert set(rec.editions) == {"ICD-10", "OPCS-4"}


def test_a_configuration_the_ranker_was_not_trained_with_is_warned_about(opcs4_fixture, caplog):
    from dataclasses import replace

    from clincoder.core.config import RankerConstants

    settings = replace(Settings.load("uk", opcs4_path=opcs4_fixture), ranker=RankerConstants(top_lex=25))
    with caplog.at_level("WARNING", logger="clincoder.coder"):
        coder = Coder(settings)
    assert "other ranker/text constants" in caplog.text
    from clincoder.core.config import constants_hash

    assert coder.model["constants"] == constants_hash(settings.scoring_constants())
    assert coder.model["constants"] != constants_hash(Settings().scoring_constants())


def test_a_negated_finding_is_ranked_with_its_assertion_and_never_suggested(uk_coder):
    rec = uk_coder.code_text("Presenting complaint:\nChest pain.\nCT pulmonary angiogram: no pulmonary embolism.\n")
    negated = [c for c in rec.ranked() if c.evidence and all(e.assertion == "negated" for e in c.evidence)]
    assert any(c.code.startswith("I26") for c in negated), [c.code for c in rec.ranked()[:20]]
    assert all(c.role == "candidate" for c in negated)
    assert not any(c.code.startswith("I26") for c in rec.codes)
