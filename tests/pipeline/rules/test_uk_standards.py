"""The UK standards as rules, each on a short realistic excerpt: comorbidity, history and status
codes (HIS-001, HIS-002), symptoms integral to a diagnosis (CON-006), dagger and asterisk
(CON-005), the main procedure (SEQ-004), supplementary codes (SUP-001), the primary diagnosis
(SEQ-001, SEQ-002, SEQ-003, SEQ-005), codes that need more characters or detail (CON-004,
DOC-001), uncertain diagnoses, conditions coded together and currency (DOC-004). Tables: WHO
ICD-10 2019 and the OPCS-4 fixture."""

from __future__ import annotations

import pytest

from clincoder.core.codes import System
from clincoder.core.contracts import Mention, SentenceRecord
from clincoder.core.schema import CodeSuggestion, Evidence, LetterResult
from clincoder.core.tables import load_table
from clincoder.rules import apply_rules, default_rules

WHO, OPCS = System.ICD10, System.OPCS4


def only(*ids):
    rs = default_rules()
    return rs.__class__(rs.version, rs.axes, tuple(r for r in rs.rules if r.id in ids))


class Excerpt:
    """Lines of a letter, each in a section; offsets and sentence records as the text stage gives them."""

    def __init__(self, *lines: tuple[str | None, str]):
        self.text, self.sentences, offset = "", [], 0
        for section, line in lines:
            self.sentences.append(SentenceRecord(offset, offset + len(line), section, "present", 1.0, line, False))
            self.text += line + "\n"
            offset += len(line) + 1

    def evidence(self, phrase: str, section: str | None = None, assertion: str = "present",
                 support: float | None = None) -> tuple[Evidence, ...]:
        a = self.text.index(phrase)
        return (Evidence(a, a + len(phrase), phrase, section, assertion, support),)

    def mention(self, phrase: str, section: str | None = None, **kw) -> Mention:
        a = self.text.index(phrase)
        return Mention(a, a + len(phrase), phrase, kw.pop("label", "DIAGNOSIS"), section, **kw)


@pytest.fixture(scope="module")
def tables(who_icd10_table, opcs4_fixture):
    return {WHO: who_icd10_table, OPCS: load_table(OPCS, opcs4_fixture)}


def code(tables, system, c, role="secondary", evidence=(), score=0.9):
    e = tables[system].get(c)
    return CodeSuggestion(system.value, e.code, e.title, 1, role, score, evidence)


def run(tables, excerpt, codes, *ids, mentions=(), candidates=()):
    result = LetterResult("t", "uk", codes=tuple(codes), candidates=tuple(candidates))
    return apply_rules(result, tables, list(mentions), excerpt.text, rules=only(*ids), sentences=excerpt.sentences)


def coded(out):
    return [(c.system, c.code) for c in out.codes]


MAIN = ("diagnoses", "1. Community acquired pneumonia")


@pytest.mark.parametrize("section, line, expected", [
    ("medications", "Apixaban 5 mg twice daily (continued)", "Z92.1"),
    ("medications", "Warfarin as per INR clinic", "Z92.1"),
    ("medications", "Rivaroxaban 20 mg once daily", "Z92.1"),
    ("medications", "Apixaban 5 mg twice daily (new)", None),  # started this admission: not long-term
    ("medications", "Edoxaban stopped on admission", None),
    ("allergies", "Penicillin - rash", "Z88.0"),
    ("allergies", "Co-amoxiclav (anaphylaxis)", "Z88.0"),
    ("allergies", "Trimethoprim - rash", "Z88.1"),
    ("allergies", "Codeine - vomiting", "Z88.5"),
    ("allergies", "Co-trimoxazole", "Z88.2"),
    ("allergies", "Ibuprofen - bronchospasm", "Z88.6"),
    ("medications", "Flucloxacillin 1 g four times daily", None),  # a prescription, not an allergy
    ("social_history", "Current smoker, 20 cigarettes a day.", "F17.1"),
    ("social_history", "Smokes 10 a day.", "F17.1"),
    ("social_history", "Ex-smoker (30 pack-years, stopped 2015).", "Z86.4"),
    ("social_history", "Stopped smoking in 2010.", "Z86.4"),
    ("social_history", "Non-smoker, drinks 4 units a week.", None),
    ("social_history", "Never smoked.", None),
    ("past_medical_history", "PCI to RCA 2018", "Z95.5"),
    ("past_medical_history", "Permanent pacemaker 2020 for complete heart block", "Z95.0"),
    ("past_surgical_history", "Right total hip replacement 2014", "Z96.6"),
    ("past_medical_history", "Left TKR 2019", "Z96.6"),
    ("past_surgical_history", "Bilateral cataract surgery", "Z96.1"),
    ("plan", "Consider hip replacement in future", None),  # planned, not in the history
    ("medications", "Dabigatran 150 mg BD", "Z92.1"),
    ("past_medical_history", "Paroxysmal AF - on warfarin, INR 2-3", "Z92.1"),
    ("medications", "Apixaban 2.5 mg BD - withheld 48 h pre-op, restart day 2", "Z92.1"),  # long-term, only paused
    ("medications", "Warfarin commenced this admission for new AF", None),
    ("medications", "Enoxaparin 40 mg SC OD while an inpatient", None),  # inpatient prophylaxis
    ("allergies", "Clarithromycin - diarrhoea", "Z88.1"),
    ("allergies", "Morphine (hallucinations)", "Z88.5"),
    ("allergies", "NKDA", None),
    ("social_history", "Smokes roll-ups, lives alone, independent.", "F17.1"),
    ("social_history", "Quit smoking 5 years ago.", "Z86.4"),
    ("past_medical_history", "COPD (ex-smoker, 40 pack-years)", "Z86.4"),
    ("past_medical_history", "Dual-chamber PPM 2019 for sick sinus syndrome", "Z95.0"),
    ("past_medical_history", "IHD - DES to LAD 2021", "Z95.5"),
    ("past_surgical_history", "R THR 2012, L TKR 2018", "Z96.6"),  # one status code for both joints
    ("past_medical_history", "Pseudophakic both eyes", "Z96.1"),
    ("family_history", "Father: hip replacement, bowel cancer at 70", None),  # a relative's history
])
def test_history_and_status_codes_from_the_letter(tables, section, line, expected):
    x = Excerpt(("diagnoses", MAIN[1]), (section, line))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses"))], "HIS-001")
    added = [c for c in out.codes if c.code != "J18.9"]
    assert [c.code for c in added] == ([expected] if expected else [])
    if expected:
        assert added[0].rules == ("HIS-001",) and added[0].evidence[0].text == line
        assert out.codes[0].code == "J18.9"  # the primary stays first
        assert any(f.rule == "HIS-001" and expected in f.message for f in out.flags)


@pytest.mark.parametrize("line, acute, history", [
    ("- TIA 2019", "G45.9", "Z86.7"),
    ("- Stroke (2016), no residual weakness", "I64", "Z86.7"),
    ("- Myocardial infarction 2012", "I21.9", "I25.2"),
    ("- Pulmonary embolism 2020, completed anticoagulation", "I26.9", "Z86.7"),
])
def test_a_past_event_is_coded_by_its_history_code(tables, line, acute, history):
    x = Excerpt(MAIN, ("past_medical_history", line))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, acute, evidence=x.evidence(line, "past_medical_history"))], "HIS-002")
    assert coded(out) == [("ICD-10", "J18.9"), ("ICD-10", history)]
    assert acute in [c.code for c in out.candidates]
    assert out.flags[0].rule == "HIS-002" and history in out.flags[0].message


def test_a_current_event_also_in_the_history_stays(tables):
    x = Excerpt(("primary_diagnosis", "TIA"), ("past_medical_history", "- TIA 2019"))
    ev = x.evidence("TIA", "primary_diagnosis") + x.evidence("- TIA 2019", "past_medical_history")
    out = run(tables, x, [code(tables, WHO, "G45.9", "primary", ev)], "HIS-002")
    assert coded(out) == [("ICD-10", "G45.9")] and not out.flags


@pytest.mark.parametrize("symptom, where, kept", [
    ("R07.4", "presenting_complaint", False),  # chest pain explained by the MI
    ("R11", "hpc", False),
    ("R50.9", "examination", False),
    ("R18", "diagnoses", True),  # stated by the clinician in the diagnosis list
])
def test_symptoms_integral_to_a_coded_diagnosis_are_not_coded(tables, symptom, where, kept):
    x = Excerpt(("diagnoses", "1. NSTEMI"), ("diagnoses", "2. Ascites"), (where, "Symptom line"))
    ev = x.evidence("Symptom line", where) if where != "diagnoses" else x.evidence("2. Ascites", "diagnoses")
    out = run(tables, x, [code(tables, WHO, "I21.4", "primary", x.evidence("1. NSTEMI", "diagnoses")),
                          code(tables, WHO, symptom, evidence=ev)], "CON-006")
    assert (symptom in [c.code for c in out.codes]) is kept
    assert coded(out)[0] == ("ICD-10", "I21.4")


def test_a_symptom_alone_is_coded(tables):
    x = Excerpt(("presenting_complaint", "Chest pain"))
    out = run(tables, x, [code(tables, WHO, "R07.4", "primary", x.evidence("Chest pain", "presenting_complaint"))],
              "CON-006")
    assert coded(out) == [("ICD-10", "R07.4")]


@pytest.mark.parametrize("dagger, asterisk", [
    ("G30.9", "F00.9"), ("G30.1", "F00.1"), ("E11.2", "N08.3"), ("E10.3", "H36.0"), ("E11.4", "G63.2"),
    ("E11.5", "I79.2"),
])
def test_a_dagger_code_brings_its_asterisk_directly_after_it(tables, dagger, asterisk):
    x = Excerpt(("diagnoses", "1. Condition"), ("diagnoses", "2. Hypertension"))
    ev = x.evidence("1. Condition", "diagnoses")
    out = run(tables, x, [code(tables, WHO, dagger, "primary", ev),
                          code(tables, WHO, "I10", evidence=x.evidence("2. Hypertension", "diagnoses"))], "CON-005")
    assert [c.code for c in out.codes] == [dagger, asterisk, "I10"]
    assert out.codes[1].evidence == ev and "CON-005" in out.codes[1].rules


def test_an_asterisk_code_is_never_primary(tables):
    x = Excerpt(("diagnoses", "Dementia in Alzheimer's disease"))
    ev = x.evidence("Dementia in Alzheimer's disease", "diagnoses")
    out = run(tables, x, [code(tables, WHO, "F00.9", "primary", ev), code(tables, WHO, "I10"),
                          code(tables, WHO, "G30.9", evidence=ev)], "CON-005")
    assert [c.code for c in out.codes] == ["G30.9", "F00.9", "I10"]
    alone = run(tables, x, [code(tables, WHO, "F00.9", "primary", ev)], "CON-005")
    assert "cannot be the primary diagnosis" in alone.flags[0].message


@pytest.mark.parametrize("first, main", [
    ("Y75.2", "J18.3"),  # an approach code is never the main procedure
    ("Y75.2", "W46.1"),
])
def test_the_main_procedure_is_the_most_significant_operation(tables, first, main):
    x = Excerpt(("procedures", "Laparoscopic cholecystectomy"))
    out = run(tables, x, [code(tables, OPCS, first, "primary"), code(tables, OPCS, main)], "SEQ-004")
    assert [c.code for c in out.codes] == [main, first]
    assert out.codes[0].role == "primary" and out.flags[0].rule == "SEQ-004"
    alone = run(tables, x, [code(tables, OPCS, first, "primary")], "SEQ-004")
    assert [c.code for c in alone.codes] == [first] and not alone.flags


@pytest.mark.parametrize("line, proc, expected", [
    ("Left cemented hemiarthroplasty of hip", "W46.1", ["W46.1", "Z94.3"]),
    ("Right hemiarthroplasty (cemented)", "W46.1", ["W46.1", "Z94.2"]),
    ("Bilateral cemented hemiarthroplasty", "W46.1", ["W46.1", "Z94.1"]),
    ("Laparoscopic cholecystectomy", "J18.3", ["J18.3", "Y75.2"]),
    ("Lap chole", "J18.3", ["J18.3", "Y75.2"]),
    ("Open cholecystectomy", "J18.3", ["J18.3"]),
    ("PCI to LAD via the right radial artery, one DES", "K75.1", ["K75.1", "Y79.5"]),  # no laterality for the heart
    ("Ultrasound-guided cholecystectomy drain", "J18.3", ["J18.3", "Y53.2"]),
])
def test_supplementary_codes_follow_the_code_they_qualify(tables, line, proc, expected):
    x = Excerpt(("procedures", line))
    out = run(tables, x, [code(tables, OPCS, proc, "primary", x.evidence(line, "procedures"))], "SUP-001")
    assert [c.code for c in out.codes] == expected
    assert out.codes[0].role == "primary" and all(c.role == "secondary" for c in out.codes[1:])


def test_each_operation_gets_its_own_laterality(tables):
    x = Excerpt(("procedures", "Left cemented hemiarthroplasty"), ("procedures", "Left total cholecystectomy"))
    out = run(tables, x, [code(tables, OPCS, "W46.1", "primary", x.evidence("Left cemented hemiarthroplasty")),
                          code(tables, OPCS, "J18.3", evidence=x.evidence("Left total cholecystectomy"))], "SUP-001")
    assert [c.code for c in out.codes] == ["W46.1", "Z94.3", "J18.3"]  # the gall bladder is not a paired organ


def test_diagnostic_imaging_is_not_coded_for_admitted_patients(tables):
    x = Excerpt(("investigations", "CT head: no acute intracranial abnormality"), ("procedures", "Lap chole"))
    out = run(tables, x, [code(tables, OPCS, "U21.2", "primary"), code(tables, OPCS, "J18.3")], "CON-007")
    assert [c.code for c in out.codes] == ["J18.3"] and "U21.2" in [c.code for c in out.candidates]


@pytest.mark.parametrize("first, definitive", [
    ("Z92.1", "I26.9"),  # a status code never heads the diagnoses when a condition is coded
    ("W19", "S72.0"),  # nor an external cause
    ("Z86.7", "I10"),
])
def test_history_status_and_external_cause_codes_are_not_primary(tables, first, definitive):
    x = Excerpt(("diagnoses", "Line"))
    out = run(tables, x, [code(tables, WHO, first, "primary", score=0.95), code(tables, WHO, definitive, score=0.5)],
              "SEQ-005")
    assert [c.code for c in out.codes] == [definitive, first] and out.codes[0].role == "primary"


def test_one_code_per_statement(tables):
    x = Excerpt(("diagnoses", "4. Paroxysmal atrial fibrillation"), ("diagnoses", "5. Hypertension"))
    af = x.evidence("4. Paroxysmal atrial fibrillation", "diagnoses")
    codes = [code(tables, WHO, "I48.9", evidence=af, score=0.9), code(tables, WHO, "I10", "primary",
                                                                      x.evidence("5. Hypertension", "diagnoses"))]
    from dataclasses import replace

    codes.append(replace(code(tables, WHO, "I48.0", evidence=af, score=0.6), suggest=0.8))
    codes[0] = replace(codes[0], suggest=0.4)
    out = run(tables, x, codes, "CON-008")
    assert [c.code for c in out.codes] == ["I10", "I48.0"]
    assert out.flags[0].codes == ("I48.9", "I48.0")


def test_short_prophylaxis_is_not_long_term_anticoagulation(tables):
    x = Excerpt(MAIN, ("medications", "Rivaroxaban 10 mg OD for 14 days (VTE prophylaxis)"))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses"))], "HIS-001")
    assert [c.code for c in out.codes] == ["J18.9"]


def test_a_sentence_that_only_negates_adds_no_status_code(tables):
    from dataclasses import replace

    x = Excerpt(MAIN, ("medications", "Apixaban: not indicated, no AF on monitoring"))
    x.sentences[1] = replace(x.sentences[1], assertion="negated", weight=0.0, coded=False)
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary")], "HIS-001")
    assert [c.code for c in out.codes] == ["J18.9"]
