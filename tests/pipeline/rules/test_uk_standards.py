"""The UK standards as rules, each on a short realistic excerpt: comorbidity, history and status
codes (HIS-001, HIS-002), symptoms integral to a diagnosis (CON-006), dagger and asterisk
(CON-005), the main procedure (SEQ-004), supplementary codes (SUP-001), the primary diagnosis
(SEQ-001, SEQ-002, SEQ-003, SEQ-005), codes that need more characters or detail (CON-004,
DOC-001), uncertain diagnoses, conditions coded together, currency (DOC-004), pregnancy
(CON-016, SEQ-008), history found absent now (HIS-004) and codes combined with another
coded condition (CON-017), background comorbidities not primary (SEQ-009), external causes after
their injury (SEQ-010). Tables: WHO
ICD-10 2019 and the OPCS-4 fixture."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from clincoder.core.codes import System
from clincoder.core.contracts import Mention, SentenceRecord
from clincoder.core.schema import CodeSuggestion, Evidence, LetterResult
from clincoder.core.tables import load_table
from clincoder.rules import apply_rules, default_rules
from clincoder.rules.engine import Work

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


@pytest.fixture(scope="module")
def nhs_tables(who_icd10_table, shared_data):
    """WHO ICD-10 and the supplied OPCS-4 table, whole (read once for the module)."""
    return {WHO: who_icd10_table, OPCS: load_table(OPCS, shared_data / "opcs4" / "opcs4_codes.tsv")}


def code(tables, system, c, role="secondary", evidence=(), score=0.9):
    e = tables[system].get(c)
    return CodeSuggestion(system.value, e.code, e.title, 1, role, score, evidence)


def run(tables, excerpt, codes, *ids, mentions=(), candidates=()):
    result = LetterResult("t", "uk", codes=tuple(codes), candidates=tuple(candidates))
    return apply_rules(result, tables, list(mentions), excerpt.text, rules=only(*ids), sentences=excerpt.sentences)


def coded(out):
    return [(c.system, c.code) for c in out.codes]


MAIN = ("diagnoses", "1. Community acquired pneumonia")


@pytest.mark.parametrize("lines, coded", [
    # an allergy taken off the record after review is not coded, whatever suggested it
    ([("allergies", "Penicillin - rash (records)."),
      (None, "Rash age 19 on amoxicillin was glandular fever, not a penicillin allergy. Allergy label removed.")], []),
    ([("allergies", "Penicillin - rash."), (None, "Penicillin allergy label removed after a negative oral challenge.")], []),
    ([("allergies", "Important: this was not an allergy to co-amoxiclav, but please avoid co-amoxiclav.")], []),
    ([("allergies", "Penicillin - anaphylaxis."), ("allergies", "The rash was not an allergy to trimethoprim.")],
     ["Z88.0"]),
    # another substance's de-labelling leaves the allergy; so does "not allergic" to another drug
    ([("allergies", "Penicillin - anaphylaxis."), (None, "The rash on trimethoprim was viral, not a trimethoprim allergy.")],
     ["Z88.0"]),
    ([("allergies", "Penicillin - anaphylaxis."), (None, "She is not allergic to trimethoprim.")], ["Z88.0"]),
    # a plan, a conditional or a relative's de-labelling takes nothing off
    ([("allergies", "Penicillin - rash."), ("plan", "Oral challenge; penicillin allergy label removed if negative.")],
     ["Z88.0"]),
    ([("allergies", "Penicillin - rash."), (None, "If the challenge is negative, penicillin allergy label removed.")],
     ["Z88.0"]),
    # one substance of the entry taken off, another still recorded: the code stays
    ([("allergies", "Amoxicillin - anaphylaxis; flucloxacillin - rash."),
      (None, "The flucloxacillin rash was viral, not a flucloxacillin allergy.")], ["Z88.0"]),
])
def test_an_allergy_taken_off_the_record_is_not_coded(tables, lines, coded):
    x = Excerpt(("diagnoses", MAIN[1]), *lines)
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, "Z88.0", evidence=x.evidence(lines[0][1], lines[0][0]))], "HIS-001")
    assert [c.code for c in out.codes if c.code != "J18.9"] == coded
    assert [c.code for c in out.candidates if "HIS-001" in c.rules] == ([] if coded else ["Z88.0"])


@pytest.mark.parametrize("section, line, expected", [
    ("medications", "Apixaban 5 mg twice daily (continued)", "Z92.1"),
    ("medications", "Warfarin as per INR clinic", "Z92.1"),
    ("medications", "Rivaroxaban 20 mg once daily", "Z92.1"),
    ("medications", "Apixaban 5 mg twice daily (new)", None),  # started this admission: not long-term
    ("medications", "Edoxaban stopped on admission", None),
    ("allergies", "Penicillin - rash", "Z88.0"),
    ("allergies", "Co-amoxiclav (anaphylaxis)", "Z88.0"),
    ("allergies", "Trimethoprim - rash", "Z88.1"),
    ("allergies", "Codeine - vomiting", None),  # a side effect, not an allergy
    ("allergies", "Codeine (hallucinations)", "Z88.5"),
    ("allergies", "Co-trimoxazole", "Z88.2"),
    ("allergies", "Ibuprofen - bronchospasm", "Z88.6"),
    ("medications", "Flucloxacillin 1 g four times daily", None),  # a prescription, not an allergy
    ("social_history", "Current smoker, 20 cigarettes a day.", "F17.1"),
    ("social_history", "Smokes 10 a day.", "F17.1"),
    ("social_history", "Ex-smoker (30 pack-years, stopped 2015).", "Z86.4"),
    ("social_history", "Stopped smoking in 2010.", "Z86.4"),
    ("social_history", "Non-smoker, drinks 4 units a week.", None),
    ("social_history", "Smoker, 10/day.", "F17.1"),
    ("social_history", "Active smoker", "F17.1"),
    ("social_history", "30 pack-year history, still smoking", "F17.1"),
    ("social_history", "Non smoker", None),
    ("social_history", "Smoking: never", None),
    ("past_medical_history", "CABG x3 2015", "Z95.1"),
    ("past_surgical_history", "Coronary artery bypass grafting (2011)", "Z95.1"),
    ("past_medical_history", "Tissue AVR 2019", "Z95.2"),
    ("past_medical_history", "ICD in situ for VT", "Z95.0"),
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
    # a course of anticoagulation that is over is no long-term use
    ("past_medical_history", "L leg DVT 2019 (provoked) - 3/12 rivaroxaban, completed.", None),
    ("past_medical_history", "DVT 2019 - rivaroxaban, course completed", None),
    ("allergies", "NKDA", None),
    ("allergies", "Codeine - anaphylaxis", "Z88.5"),
    ("allergies", "Codeine makes her sick (intolerance)", None),  # an intolerance, not an allergy
    ("allergies", "Ibuprofen - side effect: GI upset", None),
    # a side effect, an interaction or a drug taken safely is no allergy; an allergic reaction is one
    ("allergies", "Codeine causes vomiting.", None),
    ("allergies", "Morphine makes her nauseated.", None),
    ("allergies", "Clarithromycin gives him diarrhoea.", None),
    ("allergies", "Trimethoprim: now contraindicated because of the interaction with methotrexate\n"
                  "(this is not an allergy).", None),
    ("allergies", "Penicillin (urticaria as a child) - he has had a cephalosporin safely before.", "Z88.0"),
    ("allergies", "Codeine - nausea; penicillin - rash", "Z88.0"),
    ("allergies", "Clarithromycin - vomiting and facial swelling", "Z88.1"),
    ("social_history", "Smokes roll-ups, lives alone, independent.", "F17.1"),
    ("social_history", "Nobody smokes at home.", None),  # no one in the household, the patient included
    ("social_history", "Mum smokes outside.", None),  # a relative's habit
    # a smoker of cannabis only is no tobacco user (F12, not F17)
    ("social_history", "Cannabis use - smokes most evenings, likely contributing", None),
    ("social_history", "Smokes cannabis and 10 cigarettes a day", "F17.1"),
    ("social_history", "Smoker, 20/day; occasional cannabis.", "F17.1"),
    ("social_history", "Current smoker (30 pack-years), also smokes cannabis.", "F17.1"),
    ("social_history", "Quit smoking 5 years ago.", "Z86.4"),
    ("past_medical_history", "COPD (ex-smoker, 40 pack-years)", "Z86.4"),
    ("past_medical_history", "Dual-chamber PPM 2019 for sick sinus syndrome", "Z95.0"),
    ("past_medical_history", "IHD - DES to LAD 2021", "Z95.5"),
    ("past_medical_history", "Anterior STEMI 2019 -> PPCI to LAD (1 x DES)", "Z95.5"),
    # an earlier episode's stent told in the diagnosis list or the story: in words, or by an earlier year
    ("diagnoses", "Old inferior myocardial infarction (2017) - drug-eluting stent to the\n   RCA.", "Z95.5"),
    (None, "He had a myocardial infarction in 2016 treated with a coronary stent (admitted 03/11/2025).", "Z95.5"),
    ("diagnoses", "NSTEMI treated with PCI to the LAD on 05/11/2025", None),  # this episode's stent
    ("past_surgical_history", "R THR 2012, L TKR 2018", "Z96.6"),  # one status code for both joints
    ("past_medical_history", "Pseudophakic both eyes", "Z96.1"),
    ("family_history", "Father: hip replacement, bowel cancer at 70", None),  # a relative's history
    # a drug allergy told in prose, not under an allergies heading
    (None, "He is allergic to penicillin (anaphylaxis as a child).", "Z88.0"),
    ("hpc", "He reports a severe allergy to co-trimoxazole (blistering rash).", "Z88.2"),
    (None, "No known drug allergies; she was given amoxicillin for the pneumonia.", None),
    (None, "Treated with co-amoxiclav for the pneumonia.", None),  # a drug given is no allergy
    # a drug given beside the allergy that made it the choice is no allergy itself
    (None, "Because of his penicillin allergy he was treated with IV teicoplanin and metronidazole.", "Z88.0"),
    ("hpc", "Seen by GP with a chest infection -> clarithromycin 500 mg BD (pen allergic).", None),
    ("allergies", "Penicillin - anaphylaxis (teicoplanin and gentamicin used for prophylaxis).", "Z88.0"),
    ("allergies", "Allergy: co-amoxiclav - facial swelling (2016). Prophylaxis was changed to teicoplanin and gentamicin.",
     "Z88.0"),
    ("allergies", "Morphine - vivid hallucinations (intolerance; tolerates oxycodone).", None),
    # the drug is read where the line first names it, not in the treatment the intolerance ruled out
    ("allergies", "- Codeine: severe constipation (intolerance), so no codeine-based analgesia was prescribed.", None),
    # allergies to other medicaments (contrast media) and to what is no drug (latex, foods)
    ("allergies", "Iodinated contrast media (urticaria and facial swelling, 2016)", "Z88.8"),
    ("allergies", "- Chlorhexidine - anaphylaxis at her 2011 operation (confirmed by allergy clinic)", "Z88.8"),
    ("allergies", "Latex - contact dermatitis.", "Z91.0"),
    ("allergies", "Elastoplast - skin irritation.", None),  # an irritant, not an allergy
    ("allergies", "Morphine - itching (intolerance, not an allergy).", None),  # said to be none
    # the clause labels the reaction an intolerance, whatever it names
    ("allergies", "Morphine - severe itching: intolerance (tolerates oxycodone).", None),
    ("allergies", "Morphine - severe itching and facial swelling.", "Z88.5"),
    ("allergies", "Penicillin - anaphylaxis (also lactose-intolerant).", "Z88.0"),  # a word's hyphen labels nothing
    ("allergies", "PEANUT (anaphylaxis)", "Z91.0"),
    (None, "Pre-medicated with chlorphenamine because of his contrast allergy.", "Z88.8"),
    (None, "CT with contrast showed a lobar pneumonia.", None),  # contrast given is no allergy
    # treatment not taken as prescribed
    ("hpc", "His mother told us that he has not been taking it regularly for the past two weeks.", "Z91.1"),
    ("hpc", "He admits he has not taken his preventer inhaler for about 4 months.", "Z91.1"),
    ("hpc", "He had not taken his tablets for 48 hours before the procedure, as instructed.", None),
    ("past_medical_history", "Hypertension, poorly controlled (he admits he often\nforgets his tablets)", "Z91.1"),
    ("hpc", "He takes his preventer every day; adherence is good.", None),
    ("hpc", "He had run out of levetiracetam while working away and had missed all doses for 3 days.", "Z91.1"),
    ("hpc", "Because she was not eating, she stopped both her basal and bolus insulin for about 36 hours.", "Z91.1"),
    ("diagnoses", "Diabetic ketoacidosis - precipitated by omission of insulin during a gastroenteritis illness.", "Z91.1"),
    ("hpc", "He had stopped his lithium about five months earlier without telling anyone.", "Z91.1"),
    ("hpc", "He admitted he had stopped taking amlodipine because he felt fine.", "Z91.1"),
    ("hpc", "He stopped attending for his depot in August.", "Z91.1"),
    ("past_medical_history", "Propranolol was started, but he stopped taking it himself in early 2025.", "Z91.1"),
    ("past_medical_history", "Varices on propranolol (stopped by the patient in 2025).", "Z91.1"),
    ("hpc", "Her propranolol was stopped by the cardiologist.", None),
    ("hpc", "Her propranolol was stopped by the patient's GP.", None),
    ("hpc", "She told us frankly that she had not collected her tablets since the spring.", "Z91.1"),
    ("hpc", "She had stopped her warfarin five days before the operation as instructed.", None),
    ("hpc", "The ward gave her doses of insulin on time.", None),
    # a smoker until a year is an ex-smoker; long-term anticoagulation listed with its condition;
    # an ACE inhibitor's angioedema listed as an allergy
    ("social_history", "She smoked until 2018.", "Z86.4"),
    ("social_history", "Smoker until 2018, 30 pack years.", "Z86.4"),  # not a current smoker too
    ("hpc", "He had stopped his aspirin 7 days before the procedure.", None),
    ("allergies", "Lisinopril - angioedema (2018)", "Z88.8"),
    ("allergies", "Intolerance: ramipril - dry cough (stopped 2022).", None),  # a side effect
    ("allergies", "Lisinopril - dry cough", None),
    # a vitamin D deficiency the letter finds; a level alone or a normal one is none
    (None, "His vitamin D was low at 19 nmol/L, and we have started colecalciferol replacement.", "E55.9"),
    ("investigations", "25-OH vitamin D 19 nmol/L (deficient).", "E55.9"),
    ("investigations", "Vitamin D 74 nmol/L (normal).", None),
    (None, "Started calcium and vitamin D (Adcal-D3) given the low-trauma fracture.", None),
    ("hpc", "Adherence checked with his wife: no missed doses.", None),
    # the clinician stopped the drug; a denial; a hospital's omission; advice; breath
    ("hpc", "Her GP stopped her ramipril tablets last month because of an AKI.", None),
    ("hpc", "He denies any missed doses.", None),
    ("hpc", "Two missed doses of enoxaparin on the ward while nil by mouth.", None),
    ("hpc", "Sick-day rules explained, including the risk of omission of insulin when unwell.", None),
    ("hpc", "She had run out of breath walking to the shop.", None),
    # a dressing that does not stick to the wound is no patient's non-adherence
    ("hpc", "Wounds left open with non-adherent dressings.", None),
    ("hpc", "Dressed with a non-adherent wound dressing.", None),
    ("hpc", "Covered with non-adherent, absorbent dressings and Mepitel (non-adherent).", None),
    ("hpc", "The stent was post-dilated with a 3.5 mm non-compliant balloon.", None),
    ("hpc", "Urodynamics showed a small, non-compliant bladder.", None),
    ("hpc", "Non-adherence to his antiretrovirals for three months.", "Z91.1"),
    # a medicine the patient stopped at a time the letter gives, or stopped himself
    ("hpc", "She had stopped her lithium in June and became unwell in August.", "Z91.1"),
    ("hpc", "He stopped his furosemide about two weeks ago as it made him go to the toilet.", "Z91.1"),
    ("past_medical_history", "- Stroke 2021: was on clopidogrel until he stopped it himself in 2023.", "Z91.1"),
    ("hpc", "She had missed most of her mealtime insulin over the weekend.", "Z91.1"),
    ("diagnoses", "Poor ICS adherence over winter contributing.", "Z91.1"),
    ("hpc", "She stopped her ramipril two weeks ago on her GP's advice.", None),
    ("hpc", "He stopped his apixaban two days ago before the procedure.", None),
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


@pytest.mark.parametrize("section, line, expected", [
    # a carrier of a resistant organism found on screening, with MRSA's resistance to methicillin
    ("secondary_diagnoses", "- MRSA colonisation (nose swab on admission screen)", ["Z22.3", "U82.1"]),
    (None, "MRSA: the admission nasal screen grew MRSA; none from the wound.", ["Z22.3", "U82.1"]),
    (None, "Known CPE carrier, nursed in a side room.", ["Z22.3"]),
    # a negative screen, or none carried
    (None, "MRSA screen negative on admission.", []),
    (None, "No MRSA carriage on the admission screen.", []),
])
def test_a_carrier_of_a_resistant_organism_is_coded(tables, section, line, expected):
    x = Excerpt(("diagnoses", MAIN[1]), (section, line))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses"))], "HIS-001")
    assert [c.code for c in out.codes if c.code != "J18.9"] == expected


@pytest.mark.parametrize("section, line, expected", [
    # an implant of an earlier year, told in the story or listed (a line the letter wraps reaches
    # the rules as one: test_prepare's test_a_sentence_wrapped_over_lines_reads_as_one_line)
    (None, "She had a right total knee replacement in 2019.", "Z96.6"),
    ("diagnoses", "6. Right total hip replacement 2018 for osteoarthritis", "Z96.6"),
    (None, "She had bilateral cataract surgery with lens implants in 2019 and 2020.", "Z96.1"),
    ("secondary_diagnoses", "- Bilateral cataract operations 2018 (lens implants).", "Z96.1"),
    # this episode's operation is no status
    ("diagnoses", "2. Right total hip replacement 12/10/2026", None),
])
def test_an_implant_of_an_earlier_year_is_coded_by_its_status(tables, section, line, expected):
    x = Excerpt((None, "Admitted: 10/10/2026    Discharged: 16/10/2026"), ("diagnoses", MAIN[1]), (section, line))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses"))], "HIS-001")
    assert [c.code for c in out.codes if c.code != "J18.9"] == ([expected] if expected else [])


def test_a_drug_allergy_read_as_another_class_is_that_classs(tables):
    # the ranker read "penicillin allergy" also as an allergy to other drugs (Z88.8)
    line = "5. Drug allergy / intolerance - PENICILLIN - urticarial rash as a child (allergy)."
    x = Excerpt(("diagnoses", MAIN[1]), ("diagnoses", line))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, "Z88.8", evidence=x.evidence(line, "diagnoses"))], "HIS-001")
    assert [c.code for c in out.codes] == ["J18.9", "Z88.0"]
    assert any(f.rule == "HIS-001" and "Z88.8" in f.message and "Z88.0" in f.message for f in out.flags)


@pytest.mark.parametrize("line, uncoded, assertion, expected", [
    # the service's name is a hypothetical mention; her smoking is told as a fact
    ("She smokes 10 a day; referred to the stop-smoking service.", "smoking", "hypothetical", "F17.1"),
    ("No penicillin allergy.", "penicillin allergy", "negated", None),  # inside the negated mention
    ("Her brother, a smoker, had lung cancer.", "lung cancer", "family", None),  # a relative's story
])
def test_a_status_told_beside_a_negated_or_hypothetical_mention(tables, line, uncoded, assertion, expected):
    x = Excerpt(("diagnoses", MAIN[1]), (None, line))
    m = x.mention(uncoded, None, assertion=assertion)
    s = x.sentences[1]
    x.sentences[1] = SentenceRecord(s.start, s.end, None, assertion, 0.0, line, False, (), (m,), False)
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses"))], "HIS-001",
              mentions=[m])
    assert [c.code for c in out.codes if c.code != "J18.9"] == ([expected] if expected else [])


def test_a_past_event_read_beside_this_episodes_words_is_still_past(tables):
    # the ranker read I21.4 in the heart failure line too; only the line that names the infarction dates it
    hf, mi = "2. Acute exacerbation of chronic heart failure", "Ischaemic cardiomyopathy; NSTEMI 2015 treated medically."
    x = Excerpt(("admission", "Admitted 14/01/2026."), MAIN, ("diagnoses", hf), ("diagnoses", mi))
    mentions = [x.mention("Acute exacerbation of chronic heart failure", "diagnoses"),
                x.mention("NSTEMI", "diagnoses", expansion="non-ST elevation myocardial infarction")]
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, "I21.4", evidence=x.evidence(hf, "diagnoses") + x.evidence(mi, "diagnoses"))],
              "HIS-002", mentions=mentions)
    assert coded(out) == [("ICD-10", "J18.9"), ("ICD-10", "I25.2")]


@pytest.mark.parametrize("line, dated", [
    # the year next to the infarction dates it, not this year's echo later in the sentence
    ("He had an anterior STEMI in 2021, treated with a stent, and his LVEF was 32% on echo in January 2026.", True),
    ("He was admitted in 2026 with an anterior STEMI, after a stent to the LAD in 2021.", False),
])
def test_a_sentence_that_tells_this_year_too_dates_a_condition_by_the_year_next_to_it(tables, line, dated):
    x = Excerpt(("admission", "Admitted 14/01/2026."), MAIN, (None, line))
    mentions = [x.mention("anterior STEMI", None, expansion="ST elevation myocardial infarction")]
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, "I21.0", evidence=x.evidence(line))], "HIS-002", mentions=mentions)
    assert coded(out) == [("ICD-10", "J18.9"), ("ICD-10", "I25.2" if dated else "I21.0")]


@pytest.mark.parametrize("line, acute, history", [
    ("- TIA 2019", "G45.9", "Z86.7"),
    ("- Stroke (2016), no residual weakness", "I64", "Z86.7"),
    ("- Myocardial infarction 2012", "I21.9", "I25.2"),
    ("- Pulmonary embolism 2020, completed anticoagulation", "I26.9", "Z86.7"),
    ("- NSTEMI 2019, PCI to LAD", "I21.4", "I25.2"),
    ("- Inferior STEMI (2008)", "I21.1", "I25.2"),
    ("- L MCA infarct 2017, fully recovered", "I63.5", "Z86.7"),
    ("- DVT right leg 2015, 6 months of rivaroxaban", "I80.2", "Z86.7"),
    ("- SAH 2005 (aneurysm clipped), no deficit", "I60.9", "Z86.7"),
    # a primary cancer treated in the past, with nothing current: personal history, by site
    ("- Right breast cancer 2015 (wide local excision and radiotherapy), no recurrence", "C50.9", "Z85.3"),
    ("- Prostate cancer treated with radical prostatectomy, PSA undetectable", "C61", "Z85.4"),
    ("- Sigmoid colon cancer, anterior resection 2018, discharged from follow-up", "C18.7", "Z85.0"),
    ("- Melanoma of the back excised 2012", "C43.5", "Z85.8"),
])
def test_a_past_event_is_coded_by_its_history_code(tables, line, acute, history):
    x = Excerpt(MAIN, ("past_medical_history", line))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, acute, evidence=x.evidence(line, "past_medical_history"))], "HIS-002")
    assert coded(out) == [("ICD-10", "J18.9"), ("ICD-10", history)]
    assert acute in [c.code for c in out.candidates]
    assert out.flags[0].rule == "HIS-002" and history in out.flags[0].message


@pytest.mark.parametrize("section, line, past", [
    # a poisoning or an injury of an earlier year is a past episode, not coded
    (None, "He took a paracetamol overdose in 2017 and has had no self-harm since.", True),
    ("past_medical_history", "- Fractured left wrist 2019", True),
    # an acute pancreatitis of the past history resolved
    ("past_medical_history", "- Gallstone pancreatitis 2016, laparoscopic cholecystectomy 2016 - no further problems", True),
    # this episode's overdose, and this episode's pancreatitis, stay
    (None, "He took a paracetamol overdose on the day of admission.", False),
    ("diagnoses", "2. Acute pancreatitis on day 3, managed conservatively", False),
    # a history line that tells it recent keeps it
    ("past_medical_history", "- Acute necrotising pancreatitis 3 weeks ago, readmitted with an infected collection", False),
])
def test_a_past_episode_that_resolves_is_not_coded(tables, section, line, past):
    x = Excerpt(("diagnoses", "1. Neuroleptic malignant syndrome"), (section, line),
                (None, "Admitted 03/03/2026, discharged 10/03/2026."))
    poisoning = "S62.8" if "wrist" in line else "K85.9" if "pancreatitis" in line else "T39.1"
    out = run(tables, x, [code(tables, WHO, "G21.0", "primary", x.evidence("Neuroleptic", "diagnoses")),
                          code(tables, WHO, poisoning, evidence=x.evidence(line, section))], "HIS-002")
    assert [c.code for c in out.codes] == (["G21.0"] if past else ["G21.0", poisoning])
    assert bool(out.flags) == past


def test_a_past_cancer_is_read_from_its_history_line_not_from_an_examination_of_its_organ(tables):
    """The ranker read the bladder scan of this episode beside the history line; the line tells
    the treatment after its first sentence."""
    first = "- Bladder cancer: TURBT 2015 for pTa G1 urothelial carcinoma."
    rest = " Cystoscopy surveillance 2015-2021, all clear; discharged from surveillance 2021."
    x = Excerpt(MAIN, ("examination", "Bladder scan 1,050 ml."), ("past_medical_history", first + rest))
    cancer = code(tables, WHO, "C67.9", evidence=x.evidence("Bladder scan 1,050 ml.", "examination")
                  + x.evidence(first, "past_medical_history"))
    mentions = [x.mention("Bladder scan", "examination", label="PROCEDURE"),
                x.mention("cancer", "past_medical_history", body_site="bladder")]
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")), cancer],
              "HIS-002", mentions=mentions)
    assert coded(out) == [("ICD-10", "J18.9"), ("ICD-10", "Z85.5")]


@pytest.mark.parametrize("line, story, kept", [
    # what the rest of a history line says is current keeps the cancer current
    ("- Breast cancer 2019. Mastectomy, now on letrozole under oncology follow-up.", None, "C50.9"),
    # a passage of this episode that names the cancer in other words
    ("- Left breast cancer 2015: wide local excision and radiotherapy.",
     "Core biopsy of the axillary node this admission confirmed recurrence of her carcinoma.", "C50.9"),
    ("- Left breast cancer 2015: wide local excision and radiotherapy. No recurrence.", None, "Z85.3"),
])
def test_a_past_cancer_that_a_line_or_this_episode_says_is_current_stays(tables, line, story, kept):
    first = line.split(". ")[0] + "." if line.count(". ") else line
    lines = [MAIN, ("past_medical_history", line)] + ([("hpc", story)] if story else [])
    x = Excerpt(*lines)
    ev = x.evidence(first, "past_medical_history") + (x.evidence(story, "hpc") if story else ())
    mentions = [x.mention("cancer", "past_medical_history", body_site="breast")]
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, "C50.9", evidence=ev)], "HIS-002", mentions=mentions)
    assert kept in [c.code for c in out.codes]


@pytest.mark.parametrize("section, line, history", [
    ("past_medical_history", "- Squamous cell carcinoma of the right hand excised in 2021, no recurrence.", True),
    ("secondary_diagnoses", "- Basal cell carcinoma of the right side of the nose, excised 2021 - no recurrence", True),
    ("past_medical_history", "- Superficial BCC of the left upper back, excised in 2023.", True),
    # not one in situ, one the line tells current, one of this episode, a relative's, another organ's
    ("past_medical_history", "- Melanoma in situ of the back excised 2019.", False),
    ("past_medical_history", "- BCC of the cheek excised 2026, incompletely excised, for re-excision.", False),
    ("secondary_diagnoses", "- Basal cell carcinoma of the right side of the nose, excised today.", False),
    ("family_history", "- Melanoma of the back excised 2019 (brother).", False),
    ("past_medical_history", "- Squamous cell carcinoma of the lung, lobectomy 2019, no recurrence.", False),
    ("past_medical_history", "- Malignant melanoma of the left calf excised in 2015, no recurrence.", True),
    ("past_medical_history", "- Melanoma (in situ) of the back excised 2019.", False),
    ("past_medical_history", "- Melanoma of the left calf, wide local excision 2022; in-transit recurrence 2026.", False),
    ("past_medical_history", "- BCC of the left cheek, referred to dermatology for excision.", False),
])
def test_a_past_skin_cancer_is_read_from_its_line_beside_this_episodes_skin_cancer(tables, section, line, history):
    """The ranker reads the past skin cancer's line into this episode's skin cancer code: its kind
    names it apart, and its line tells it treated and nothing current."""
    current = ("diagnoses", "1. Nodular basal cell carcinoma, left temple.")
    x = Excerpt(current, (section, line), (None, "Discharged 23/10/2026."))
    words = next(w for w in ("Squamous cell carcinoma", "Basal cell carcinoma", "BCC", "Malignant melanoma", "Melanoma")
                 if w in line)
    mentions = [x.mention("basal cell carcinoma", "diagnoses"), x.mention(words, section)]
    bcc = code(tables, WHO, "C44.3", "primary", x.evidence("Nodular basal cell carcinoma", "diagnoses") + x.evidence(line, section))
    out = run(tables, x, [bcc], "HIS-002", mentions=mentions)
    assert coded(out) == [("ICD-10", "C44.3")] + ([("ICD-10", "Z85.8")] if history else [])


@pytest.mark.parametrize("suggest, coded_history", [(0.24, True), (0.01, False)])
def test_a_past_event_left_among_the_candidates_still_gets_its_history_code(tables, suggest, coded_history):
    line = "- TIA 2020, no residual deficit"
    x = Excerpt(MAIN, ("past_medical_history", line))
    tia = replace(code(tables, WHO, "G45.9", "candidate", x.evidence(line, "past_medical_history")), suggest=suggest)
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses"))], "HIS-002",
              candidates=[tia])
    assert coded(out) == [("ICD-10", "J18.9")] + ([("ICD-10", "Z86.7")] if coded_history else [])
    assert "G45.9" in [c.code for c in out.candidates]  # the TIA itself is never suggested


@pytest.mark.parametrize("section, assertion, kept", [
    ("past_medical_history", "uncertain", False),  # "?OSA - awaiting sleep studies": never diagnosed
    ("past_medical_history", "present", True),  # a known comorbidity
    ("diagnoses", "uncertain", True),  # the episode's own query diagnosis is coded as if confirmed
])
def test_a_query_in_the_past_history_only_is_not_coded(tables, section, assertion, kept):
    line = "- ?OSA - STOP-BANG 5; GP has requested sleep studies, not yet done."
    x = Excerpt(MAIN, (section, line))
    osa = code(tables, WHO, "G47.3", evidence=(Evidence(x.text.index(line), x.text.index(line) + len(line), line,
                                                        section, assertion),))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")), osa], "HIS-005")
    assert ("G47.3" in [c.code for c in out.codes]) is kept
    if not kept:
        assert "a query in the past history only" in out.flags[0].message


def test_a_query_in_the_past_history_stays_a_query_beside_a_symptom_the_ranker_linked(tables):
    line, symptom = "- Query obstructive sleep apnoea - awaiting sleep study", "Increased drowsiness on admission."
    x = Excerpt(MAIN, ("presenting_complaint", symptom), ("past_medical_history", line))
    mentions = [x.mention("drowsiness", "presenting_complaint", label="FINDING"),
                x.mention("obstructive sleep apnoea", "past_medical_history", assertion="uncertain")]
    ev = x.evidence(symptom, "presenting_complaint") + x.evidence(line, "past_medical_history", "uncertain")
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, "G47.3", evidence=ev)], "HIS-005", mentions=mentions)
    assert "G47.3" not in [c.code for c in out.codes]


@pytest.mark.parametrize("line, episode", [
    ("- Pneumothorax in 1996, resolved", "J93.9"),
    ("- Quinsy in 2023", "J36"),
    ("- Bronchiolitis as a baby", "J21.9"),
    ("- Fractured left wrist 2010", "S62.8"),
    ("- LSCS in 2023 for breech presentation", "O32.1"),  # a condition of an earlier pregnancy
    ("- Lower urinary tract infection in her first pregnancy, fully treated.", "N39.0"),
])
def test_a_resolved_past_episode_is_not_coded(tables, line, episode):
    x = Excerpt(MAIN, ("past_medical_history", line))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, episode, evidence=x.evidence(line, "past_medical_history"))], "HIS-002")
    assert coded(out) == [("ICD-10", "J18.9")] and [c.code for c in out.candidates] == [episode]
    assert "past episode" in out.flags[0].message


@pytest.mark.parametrize("theatre, kept", [
    ("Return to theatre: arrest of haemorrhage from L tonsillar fossa.", False),  # an operation names no tonsillitis
    ("Now acute tonsillitis again, with pus on both tonsils.", True),  # this episode's own statement of it
])
def test_a_past_condition_is_not_kept_by_an_operation_read_beside_it(tables, theatre, kept):
    line = "- Tonsillectomy 2025 for recurrent tonsillitis"
    x = Excerpt(("diagnoses", "1. Secondary post-tonsillectomy haemorrhage"), ("past_medical_history", line),
                ("procedures", theatre))
    mentions = [x.mention("tonsillitis", "past_medical_history", assertion="historical"),
                x.mention("arrest of haemorrhage from L tonsillar fossa" if not kept else "acute tonsillitis",
                          "procedures", label="PROCEDURE" if not kept else "DIAGNOSIS")]
    ev = x.evidence(line, "past_medical_history", "historical") + x.evidence(theatre, "procedures")
    out = run(tables, x, [code(tables, WHO, "T81.0", "primary", x.evidence("haemorrhage", "diagnoses")),
                          code(tables, WHO, "J03.9", evidence=ev)], "HIS-002", mentions=mentions)
    assert ("J03.9" in [c.code for c in out.codes]) is kept


def test_a_short_title_is_named_by_one_word_of_a_past_mention(tables):
    line = "- Recurrent tonsillitis in 2024, treated with antibiotics."
    x = Excerpt(("diagnoses", "1. Left peritonsillar abscess"), ("past_medical_history", line))
    mentions = [x.mention("tonsillitis", "past_medical_history", assertion="historical"),
                x.mention("peritonsillar abscess", "diagnoses")]
    ev = x.evidence(line, "past_medical_history", "historical") + x.evidence("1. Left peritonsillar abscess", "diagnoses")
    out = run(tables, x, [code(tables, WHO, "J36", "primary", x.evidence("peritonsillar abscess", "diagnoses")),
                          code(tables, WHO, "J03.9", evidence=ev)], "HIS-002", mentions=mentions)
    assert [c.code for c in out.codes] == ["J36"]  # acute tonsillitis, named by its one word: a past episode


def test_a_long_title_is_not_named_by_one_shared_word(tables):
    x = Excerpt(("diagnoses", "1. Hypothyroidism in pregnancy"), ("past_medical_history", "- Previous pregnancy 2019"))
    mentions = [x.mention("Hypothyroidism", "diagnoses"),
                x.mention("pregnancy", "past_medical_history", assertion="historical")]
    ev = x.evidence("1. Hypothyroidism in pregnancy", "diagnoses") + x.evidence("- Previous pregnancy 2019",
                                                                             "past_medical_history", "historical")
    out = run(tables, x, [code(tables, WHO, "O99.2", "primary", ev)], "HIS-002", mentions=mentions)
    assert [c.code for c in out.codes] == ["O99.2"]  # "pregnancy" alone does not name it: its own line stays


@pytest.mark.parametrize("section, line, code_, kept", [
    ("past_medical_history", "- Asthma as a child; no inhalers since the age of 12.", "J45.9", False),
    ("past_medical_history", "- Eczema as a baby, which cleared by 18 months.", "L30.9", False),
    ("past_medical_history", "- Asthma since the age of 3, on a brown inhaler.", "J45.9", True),  # no word that it ended
    ("past_medical_history", "- Asthma - no inhalers needed during this admission.", "J45.9", True),
    # a past history line is in the past: treated and resolved, it has ended
    ("past_medical_history", "- Iron-deficiency anaemia 2022 (heavy periods), treated with oral iron and resolved",
     "D50.9", False),
    ("diagnoses", "2. Iron deficiency anaemia, treated with IV iron and resolved", "D50.9", True),  # this episode's
    (None, "She had erythema nodosum in 2018, which resolved.", "L52", False),  # dated in the story
    (None, "She had an acute kidney injury, which resolved with fluids.", "N17.9", True),  # this episode's
    (None, "She had Bell's palsy on the left in 2018 which recovered fully.", "G51.0", False),
    ("past_medical_history", "- Right ankle leg ulcer 2023 - healed, no recurrence.", "L97", False),
    ("past_medical_history", "- Right ankle leg ulcer 2023 - dressings twice weekly.", "L97", True),
    ("past_medical_history", "- Right leg ulcer 2023 - not yet healed, district nurse dressings.", "L97", True),
    ("past_medical_history", "- Depression 2017 - sertraline for one year, resolved; well throughout this pregnancy.",
     "F32.9", False),
    (None, "Childhood asthma, for which he has not needed an inhaler since the age of 12.", "J45.9", False),
    (None, "Her kidney injury, which recovered fully with fluids, was prerenal.", "N17.9", True),  # this episode's
    ("past_medical_history", "- Anxiety in 2022, treated with a course of CBT; no current symptoms or treatment.",
     "F41.9", False),
    ("past_medical_history", "- Benign prostatic hyperplasia, treated by TURP in 2018; no urinary symptoms since.",
     "N40", False),
    (None, "His left eye was amblyopic when he was three; the amblyopia has resolved and patching has stopped.",
     "H53.0", False),
    (None, "Her acute kidney injury has resolved with fluids.", "N17.9", True),  # this episode's, not past
    ("past_medical_history", "- Childhood asthma - resolved", "J45.9", False),  # a terse history line
    ("past_medical_history", "- Asthma in childhood - none since age 12, no inhalers.", "J45.9", False),
    ("past_medical_history", "- Epilepsy since childhood - none since 2019 on levetiracetam", "G40.9", True),  # treated
    ("past_medical_history", "- Asthma: Clenil two puffs twice daily; one admission at age 6, none since.", "J45.9", True),
    # a personal history code codes a past condition that ended
    ("past_medical_history", "- Left leg DVT in 2015 after a knee arthroscopy (6 months of warfarin, none since)", "Z86.7", True),
    ("past_medical_history", "- Kidney stone 2012 - passed spontaneously.", "N20.0", False),
    ("diagnoses", "2. Left ureteric stone - not passed, for ureteroscopy", "N20.1", True),
    ("diagnoses", "3. AKI - resolved", "N17.9", True),  # this episode's: no history line
    ("past_medical_history", "- Hypertension, gout 2019 (resolved)", "I10", True),  # the gout resolved, not all the line
    ("past_medical_history", "- Single post-operative AF episode 2019 - resolved (see above)", "I48.9", False),
    ("past_medical_history", "- Asthma 2019 - resolved (still uses salbutamol PRN)", "J45.9", True),
])
def test_a_past_condition_the_letter_says_has_ended_is_not_coded(tables, section, line, code_, kept):
    x = Excerpt(MAIN, (section, line))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, code_, evidence=x.evidence(line, section))], "HIS-007")
    assert (code_ in [c.code for c in out.codes]) is kept


@pytest.mark.parametrize("after, kept", [
    ("She has had no AF since, and none was seen on telemetry.", False),  # the next sentence says it ended
    ("She has had no chest pain since, and none on the ward.", True),  # it tells of another condition
    ("She has had no AF since starting amiodarone, which continues.", True),  # a drug controls it
])
def test_the_next_sentence_that_names_a_past_condition_again_can_say_it_ended(tables, after, kept):
    told = "The digoxin had been started for one episode of fast atrial fibrillation after her hip replacement in 2019."
    x = Excerpt(MAIN, (None, told), (None, after))
    mentions = [x.mention("atrial fibrillation")]
    if "AF" in after:
        at = x.text.index(" AF ") + 1
        mentions.append(Mention(at, at + 2, "AF", "DIAGNOSIS", assertion="negated", expansion="atrial fibrillation"))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, "I48.9", evidence=x.evidence(told))], "HIS-007", mentions=mentions)
    assert ("I48.9" in [c.code for c in out.codes]) is kept


@pytest.mark.parametrize("line, cancer", [
    ("- Breast cancer 2019, on letrozole", "C50.9"),  # still treated
    ("- Metastatic prostate cancer on bicalutamide", "C61"),
    ("- Bowel cancer", "C18.9"),  # nothing says it was treated: left to the coder
    ("- CLL, watch and wait", "C91.1"),  # a haematological malignancy is not a past event
    ("- Lung cancer 2021, palliative care", "C34.9"),
])
def test_a_current_or_untreated_cancer_in_the_history_stays(tables, line, cancer):
    x = Excerpt(MAIN, ("past_medical_history", line))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, cancer, evidence=x.evidence(line, "past_medical_history"))], "HIS-002")
    assert coded(out) == [("ICD-10", "J18.9"), ("ICD-10", cancer)] and not out.flags


@pytest.mark.parametrize("line, kept", [
    ("Right peritonsillar abscess (quinsy) in 2023, drained in ED.", False),  # before the letter's year
    ("Right peritonsillar abscess (quinsy) drained on 02/03/2025.", True),  # this episode
    ("Right peritonsillar abscess (quinsy) drained in ED.", True),  # undated
])
def test_an_episode_dated_before_the_letter_is_past(tables, line, kept):
    x = Excerpt(("admission", "Admitted 03/03/2025 for tonsillectomy."), MAIN, (None, line))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, "J36", evidence=x.evidence(line))], "HIS-002")
    assert ("ICD-10", "J36") in coded(out) if kept else coded(out) == [("ICD-10", "J18.9")]


def test_the_letter_year_is_that_of_its_episode_dates():
    from clincoder.rules.comorbidities import HistoryParams, letter_year

    dates = HistoryParams((), "", "", "", 0.5).dates
    assert letter_year("Admitted 24/02/2025, seen 3 March 2025; MI in 2019.", dates) == 2025
    assert letter_year("Stroke in 2019.", dates) is None  # a bare year dates no letter
    # a plan's date a year on, and a date of birth, do not date the letter
    assert letter_year("Born 09/08/1962. Admitted 19/10/2026, discharged 23/10/2026. Ticagrelor until 21/10/2027.",
                       dates) == 2026
    # ... nor do the history's, however many (and a stay over the New Year is the discharge's)
    assert letter_year("Admitted 03/02/2026, discharged 05/02/2026. PMH: NSTEMI 14/05/2024 with PCI 15/05/2024; "
                       "echo 20/06/2024.", dates) == 2026
    assert letter_year("Admitted: 28/12/2025\nDischarged: 02/01/2026\nBloods 29/12/2025, 30/12/2025", dates) == 2026
    # the abbreviated labels of a terse header label the episode's dates too
    assert letter_year("Adm: 21/11/2026 via ambulance (PPCI pathway)   D/C: 25/11/2026\n"
                       "- Ticagrelor 90 mg BD (12 months, to stop 21/11/2027)", dates) == 2026


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


def test_renal_colic_is_not_coded_beside_the_stone_stated_with_it(tables):
    """Renal colic (N23) is the pain of the ureteric stone: the stone takes its first place."""
    line = "Left renal colic - 7 mm calculus in the lower left ureter"
    x = Excerpt(("diagnoses", line))
    ev = x.evidence(line, "diagnoses")
    out = run(tables, x, [code(tables, WHO, "N23", "primary", ev), code(tables, WHO, "N20.1", evidence=ev)], "CON-030")
    assert coded(out) == [("ICD-10", "N20.1")]


@pytest.mark.parametrize("symptom", ["H02.4", "H53.2"])
def test_the_eye_signs_of_myasthenia_gravis_are_not_coded_beside_it(tables, symptom):
    line = "A three-week history of a drooping left eyelid and double vision, worse in the evenings."
    stated = "1. Generalised myasthenia gravis"
    x = Excerpt(("diagnoses", stated), ("hpc", line))
    out = run(tables, x, [code(tables, WHO, "G70.0", "primary", x.evidence(stated, "diagnoses")),
                          code(tables, WHO, symptom, evidence=x.evidence(line, "hpc"))], "CON-006")
    assert coded(out) == [("ICD-10", "G70.0")]


@pytest.mark.parametrize("stated, diagnosis, expected", [
    ("Postmenopausal bleeding secondary to an endometrial polyp", "N84.0", ["N84.0"]),
    # investigated and nothing found: the bleeding is the main condition
    ("Postmenopausal bleeding, endometrium thin, no cause found", None, ["N95.0"]),
])
def test_postmenopausal_bleeding_is_not_coded_beside_the_uterine_disease_that_explains_it(tables, stated, diagnosis, expected):
    line = "Three episodes of vaginal bleeding, eight years after her menopause."
    x = Excerpt(("diagnoses", stated), ("hpc", line))
    codes = [code(tables, WHO, "N95.0", "primary", x.evidence(stated, "diagnoses") + x.evidence(line, "hpc"))]
    if diagnosis:
        codes.append(code(tables, WHO, diagnosis, evidence=x.evidence(stated, "diagnoses")))
    out = run(tables, x, codes, "CON-006", "SEQ-001")
    assert [c for _, c in coded(out)] == expected


@pytest.mark.parametrize("stated, diagnosis, section, line, sign", [
    # redness over an abscess
    ("1. Right groin abscess", "L02.2", "examination", "6 x 5 cm tender fluctuant swelling R groin, surrounding erythema.",
     "L53.9"),
    # a watering eye from the blocked tear duct
    ("1. Left nasolacrimal duct obstruction", "H04.5", "hpc", "Two years of a watering left eye with recurrent sticky "
     "discharge.", "H04.2"),
    # the low blood pressure of a myxoedema coma; the itch of an acute pustular drug eruption
    ("1. Myxoedema coma", "E03.5", "examination", "Hypothermic at 32.1 and hypotensive at 84/50.", "I95.9"),
    ("1. Acute generalised exanthematous pustulosis", "L27.0", "hpc", "Intensely itchy rash for three days.", "L29.9"),
])
def test_a_sign_is_not_coded_beside_the_condition_that_shows_it(tables, stated, diagnosis, section, line, sign):
    x = Excerpt(("diagnoses", stated), (section, line))
    out = run(tables, x, [code(tables, WHO, diagnosis, "primary", x.evidence(stated, "diagnoses")),
                          code(tables, WHO, sign, evidence=x.evidence(line, section))], "CON-006")
    assert coded(out) == [("ICD-10", diagnosis)]


def test_nystagmus_is_a_sign_not_coded_beside_the_condition_it_shows(who_icd10_table):
    line = "Nystagmus on right gaze, right finger-nose ataxia and slurred speech."
    stated = "1. Right cerebellar haemorrhage"
    x = Excerpt(("diagnoses", stated), ("presenting_complaint", line))
    tables = {WHO: who_icd10_table}
    out = run(tables, x, [code(tables, WHO, "I61.4", "primary", x.evidence(stated, "diagnoses")),
                          code(tables, WHO, "H55", evidence=x.evidence(line, "presenting_complaint"))], "CON-006")
    assert coded(out) == [("ICD-10", "I61.4")]


def test_a_symptom_alone_is_coded(tables):
    x = Excerpt(("presenting_complaint", "Chest pain"))
    out = run(tables, x, [code(tables, WHO, "R07.4", "primary", x.evidence("Chest pain", "presenting_complaint"))],
              "CON-006")
    assert coded(out) == [("ICD-10", "R07.4")]


@pytest.mark.parametrize("dagger, asterisk", [
    ("G30.9", "F00.9"), ("G30.1", "F00.1"), ("E11.2", "N08.3"), ("E10.3", "H36.0"), ("E11.4", "G63.2"),
    ("E11.5", "I79.2"), ("G30.0", "F00.0"), ("E10.2", "N08.3"), ("A32.1", "G01"), ("B45.1", "G02.1"),
    ("B26.0", "N51.1"), ("B26.1", "G02.0"), ("B26.3", "K87.1"), ("M51.1", "G55.1"), ("M50.1", "G55.1"),
    ("M47.2", "G55.2"),
])
def test_a_dagger_code_brings_its_asterisk_directly_after_it(tables, dagger, asterisk):
    x = Excerpt(("diagnoses", "1. Condition"), ("diagnoses", "2. Hypertension"))
    ev = x.evidence("1. Condition", "diagnoses")
    out = run(tables, x, [code(tables, WHO, dagger, "primary", ev),
                          code(tables, WHO, "I10", evidence=x.evidence("2. Hypertension", "diagnoses"))], "CON-005")
    assert [c.code for c in out.codes] == [dagger, asterisk, "I10"]
    assert out.codes[1].evidence == ev and "CON-005" in out.codes[1].rules


@pytest.mark.parametrize("line, expected", [
    ("1. Type 2 diabetes with Charcot arthropathy of the right foot", ["E11.6", "M14.6", "I10"]),
    ("1. Hypoglycaemia due to gliclazide in type 2 diabetes", ["E11.6", "I10"]),  # another complication of E11.6
])
def test_a_dagger_of_several_complications_brings_the_asterisk_its_statement_names(tables, line, expected):
    x = Excerpt(("diagnoses", line), ("diagnoses", "2. Hypertension"))
    out = run(tables, x, [code(tables, WHO, "E11.6", "primary", x.evidence(line, "diagnoses")),
                          code(tables, WHO, "I10", evidence=x.evidence("2. Hypertension", "diagnoses"))], "CON-005")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("ids", [("CON-005",), ("CON-005", "CON-010")])
def test_an_asterisk_code_turns_the_code_of_its_daggers_category_into_the_dagger(tables, ids):
    x = Excerpt(("diagnoses", "1. Type 2 diabetes with peripheral neuropathy"), ("diagnoses", "2. Hypertension"))
    ev = x.evidence("1. Type 2 diabetes with peripheral neuropathy", "diagnoses")
    out = run(tables, x, [code(tables, WHO, "E11.9", "primary", ev), code(tables, WHO, "G63.2", evidence=ev),
                          code(tables, WHO, "I10", evidence=x.evidence("2. Hypertension", "diagnoses"))], *ids)
    # the dagger takes the place of the code it replaces, its asterisk directly after it; the
    # combination notes of ICD-10-CM (CON-010) do not fold the asterisk into the diabetes code
    assert [c.code for c in out.codes] == ["E11.4", "G63.2", "I10"]
    assert out.candidates[0].code == "E11.9" and out.flags[0].codes == ("E11.9", "E11.4", "G63.2")
    # a code of another complication stays; the dagger is coded after it, its asterisk after that
    out = run(tables, x, [code(tables, WHO, "E10.1", "primary", ev), code(tables, WHO, "G63.2", evidence=ev)], *ids)
    assert [c.code for c in out.codes] == ["E10.1", "E10.4", "G63.2"]


def test_an_asterisk_code_is_never_primary(tables):
    x = Excerpt(("diagnoses", "Dementia in Alzheimer's disease"))
    ev = x.evidence("Dementia in Alzheimer's disease", "diagnoses")
    out = run(tables, x, [code(tables, WHO, "F00.9", "primary", ev), code(tables, WHO, "I10"),
                          code(tables, WHO, "G30.9", evidence=ev)], "CON-005")
    assert [c.code for c in out.codes] == ["G30.9", "F00.9", "I10"]
    # an asterisk with one dagger gets it in its place; one with several (G63.2: E10.4-E14.4) is flagged
    alone = run(tables, x, [code(tables, WHO, "F00.9", "primary", ev)], "CON-005")
    assert [c.code for c in alone.codes] == ["G30.9", "F00.9"]
    alone = run(tables, x, [code(tables, WHO, "G63.2", "primary", ev)], "CON-005")
    assert "cannot be the primary diagnosis" in alone.flags[0].message


@pytest.mark.parametrize("other, expected", [
    # the indication for the operation, stated outside the list of other conditions, is the main one
    ((None, "Large left hydrocele for 3 years, now uncomfortable."), ["N43.3", "I48.0"]),
    # nothing else is stated elsewhere: the listed condition stays first
    (("secondary_diagnoses", "- Hydrocele, small, not treated."), ["I48.0", "N43.3"]),
])
def test_a_condition_listed_among_the_other_conditions_is_not_the_primary(tables, other, expected):
    listed = "- Paroxysmal atrial fibrillation: on apixaban 5 mg BD."
    x = Excerpt(other, ("secondary_diagnoses", listed))
    out = run(tables, x, [code(tables, WHO, "I48.0", "primary", x.evidence(listed, "secondary_diagnoses")),
                          code(tables, WHO, "N43.3", evidence=x.evidence(other[1], other[0]))], "SEQ-012")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("section, likely, expected", [
    # every coded condition is listed among the other problems: the story's condition, ranked, is coded first
    (None, 0.16, ["I26.9", "J45.9"]),
    ("discharge_summary", 0.16, ["I26.9", "J45.9"]),
    # too unlikely, or stated only in the history, the plan, an investigation or the examination
    # (an incidental finding), or under complications: the listed condition stays alone
    (None, 0.05, ["J45.9"]),
    ("past_medical_history", 0.16, ["J45.9"]),
    ("plan", 0.16, ["J45.9"]),
    ("investigations", 0.16, ["J45.9"]),
    ("examination", 0.16, ["J45.9"]),
    ("complications", 0.16, ["J45.9"]),
])
def test_the_story_names_the_main_condition_when_every_coded_one_is_listed_among_the_others(
        tables, section, likely, expected):
    story, listed = "Acute pulmonary emboli, provoked by the recent long-haul flight.", "- Asthma: well controlled."
    x = Excerpt((section, story), ("secondary_diagnoses", listed))
    emboli = replace(code(tables, WHO, "I26.9", evidence=x.evidence("Acute pulmonary emboli", section), score=0.15),
                     suggest=likely)
    asthma = code(tables, WHO, "J45.9", "primary", x.evidence("Asthma", "secondary_diagnoses"))
    out = run(tables, x, [asthma], "SEQ-012", candidates=[emboli])
    assert [c.code for c in out.codes] == expected
    assert any("which the story of the episode states" in f.message for f in out.flags) == (len(expected) == 2)
    # a status code beside the listed condition (an allergy read from its own heading) changes nothing
    allergy = code(tables, WHO, "Z88.0", evidence=x.evidence("Asthma", "secondary_diagnoses"))
    out = run(tables, x, [asthma, allergy], "SEQ-012", candidates=[emboli])
    assert [c.code for c in out.codes] == [*expected, "Z88.0"]
    # a symptom the story gives is not the main condition
    pain = replace(code(tables, WHO, "R07.4", evidence=x.evidence("Acute pulmonary emboli", section)), suggest=0.5)
    assert [c.code for c in run(tables, x, [asthma], "SEQ-012", candidates=[pain]).codes] == ["J45.9"]


@pytest.mark.parametrize("leak_section, expected", [
    # under its own heading of complications, the air leak gives way to the listed diagnosis
    ("complications", ["C34.1", "J93.8"]),
    # listed as a diagnosis too, it is the clinician's to sequence
    ("diagnoses", ["J93.8", "C34.1"]),
])
def test_a_complication_listed_under_its_own_heading_is_not_the_primary(tables, leak_section, expected):
    dx, leak = "Adenocarcinoma of the right upper lobe of the lung", "Prolonged postoperative air leak"
    x = Excerpt(("diagnoses", dx), (leak_section, leak))
    out = run(tables, x, [code(tables, WHO, "J93.8", "primary", x.evidence(leak, leak_section)),
                          code(tables, WHO, "C34.1", evidence=x.evidence(dx, "diagnoses"))], "SEQ-016")
    assert [c.code for c in out.codes] == expected
    assert any("complication of the episode" in f.message for f in out.flags) == (expected[0] == "C34.1")


@pytest.mark.parametrize("dx_section", [None, "past_medical_history"])
def test_a_complication_stays_first_where_no_diagnosis_is_listed(tables, dx_section):
    leak, dx = "Prolonged postoperative air leak", "Adenocarcinoma of the right upper lobe of the lung"
    x = Excerpt(("complications", leak), (dx_section, dx))
    out = run(tables, x, [code(tables, WHO, "J93.8", "primary", x.evidence(leak, "complications")),
                          code(tables, WHO, "C34.1", evidence=x.evidence(dx, dx_section))], "SEQ-016")
    assert [c.code for c in out.codes] == ["J93.8", "C34.1"]


@pytest.mark.parametrize("order, first", [
    (["D62", "R04.0", "I10"], "R04.0"),  # the epistaxis left the anaemia
    (["D62", "I10", "K26.0"], "K26.0"),  # a bleeding duodenal ulcer, wherever it is listed
    (["D62", "I10"], "D62"),  # nothing coded bled: the anaemia stays first
])
def test_the_anaemia_of_a_bleed_follows_what_bled(tables, order, first):
    x = Excerpt(("diagnoses", "Posterior epistaxis; acute blood loss anaemia"))
    out = run(tables, x, [code(tables, WHO, c, "primary" if n == 0 else "secondary") for n, c in enumerate(order)],
              "SEQ-017")
    assert out.codes[0].code == first and sorted(c.code for c in out.codes) == sorted(order)


@pytest.mark.parametrize("told, expected", [
    # told only as of an earlier year: the condition of this episode goes first
    ((None, "In 2018 she had an elective stent to her right coronary artery for stable angina."), ["I21.4", "I20.9"]),
    # a dated condition under the diagnosis heading is this episode's: it stays first
    (("diagnoses", "1. Stable angina (diagnosed 2018), worse on exertion"), ["I20.9", "I21.4"]),
    ((None, "She has had stable angina on exertion for years."), ["I20.9", "I21.4"]),  # no earlier year
])
def test_a_condition_told_only_as_of_an_earlier_year_is_not_the_primary(tables, told, expected):
    nstemi = "So she has had a non-ST-elevation myocardial infarction."
    x = Excerpt(told, (None, nstemi), (None, "Seen on 09/02/2026."))
    out = run(tables, x, [code(tables, WHO, "I20.9", "primary", x.evidence(told[1], told[0])),
                          code(tables, WHO, "I21.4", evidence=x.evidence(nstemi))], "SEQ-014")
    assert [c.code for c in out.codes] == expected
    assert bool(out.flags) is (expected[0] == "I21.4")


@pytest.mark.parametrize("line, first", [
    # the year dates the injection the sentence ends on, not the worsening osteoarthritis
    ("Several years of worsening right knee pain from primary osteoarthritis, with night pain and a fixed flexion "
     "deformity despite physiotherapy, weight loss and a steroid injection in 2025.", "M17.1"),
    ("Right knee osteoarthritis in 2019, treated with a steroid injection.", "J22"),  # dated just after it
    ("Right knee osteoarthritis with a fixed flexion deformity and night pain, first diagnosed in October 2019.",
     "J22"),  # the year it was diagnosed, further on
])
def test_a_year_dates_the_condition_only_near_its_mention(tables, line, first):
    x = Excerpt((None, line), (None, "She also had a chest infection."), (None, "Seen on 09/02/2026."))
    mentions = [x.mention("osteoarthritis", None), x.mention("chest infection", None)]
    out = run(tables, x, [code(tables, WHO, "M17.1", "primary", x.evidence(line)),
                          code(tables, WHO, "J22", evidence=x.evidence("She also had a chest infection."))],
              "SEQ-014", mentions=mentions)
    assert out.codes[0].code == first


@pytest.mark.parametrize("first, main", [
    ("Y75.2", "J18.3"),  # an approach code is never the main procedure
    ("Y75.2", "W46.1"),
    ("G45.1", "G43.6"),  # the OGD with biopsy is not the main procedure beside its injection therapy
    ("J37.2", "J18.3"),  # the operative cholangiogram is imaging at the cholecystectomy
    ("C90.4", "C79.2"),  # the peribulbar block is the anaesthetic of the vitrectomy
    ("X72.2", "M34.1"),  # chemotherapy's delivery, beside a cystoprostatectomy
])
def test_the_main_procedure_is_the_most_significant_operation(tables, first, main):
    x = Excerpt(("procedures", "Laparoscopic cholecystectomy"))
    out = run(tables, x, [code(tables, OPCS, first, "primary"), code(tables, OPCS, main)], "SEQ-004")
    assert [c.code for c in out.codes] == [main, first]
    assert out.codes[0].role == "primary" and out.flags[0].rule == "SEQ-004"
    alone = run(tables, x, [code(tables, OPCS, first, "primary")], "SEQ-004")
    assert [c.code for c in alone.codes] == [first] and not alone.flags



@pytest.mark.parametrize("first, main", [
    ("T46.3", "H01.2"),  # the peritoneal washout goes with the appendicectomy
    ("X48.1", "W26.2"),  # the plaster cast with the manipulation of the fracture
    ("M47.9", "M65.3"),  # the catheter with the TURP
    ("X28.1", "Q07.4"),  # the iron infusion before the hysterectomy: a drug's delivery
    ("X30.8", "W38.1"),  # an injection of a therapeutic substance beside the hip replacement
    ("G47.5", "L35.4"),  # the nasogastric tube beside the thrombectomy
    ("W90.1", "W85.2"),  # the aspiration of the knee beside its arthroscopic washout
    ("L99.7", "W36.5"),  # the PICC line beside the bone marrow biopsy
    ("L91.2", "X41.2"),  # the tunnelled line beside the removal of the dialysis catheter
    ("X40.2", "X41.2"),  # dialysis beside that operation
    ("A84.3", "X96.1"),  # the nerve conduction studies beside the immunoglobulin
    ("A52.3", "R24.9"),  # the epidural blood patch after the delivery: an epidural injection
    ("W36.5", "X32.3"),  # the marrow biopsy (diagnostic) beside the plasma exchanges (a treatment)
    ("X83.3", "L35.4"),  # the thrombolytic drug (a high-cost drug) beside the thrombectomy
])
def test_what_goes_with_an_operation_is_not_the_main_procedure(nhs_tables, first, main):
    tables = nhs_tables
    x = Excerpt(("procedures", "Laparoscopic appendicectomy and peritoneal washout"))
    out = run(tables, x, [code(tables, OPCS, first, "primary"), code(tables, OPCS, main)], "SEQ-004")
    assert [c.code for c in out.codes] == [main, first]

@pytest.mark.parametrize("codes, expected", [
    (["W36.5", "L91.5"], ["L91.5", "W36.5"]),  # the Hickman line before the marrow biopsy
    (["A55.9", "G47.5"], ["G47.5", "A55.9"]),  # the nasogastric tube before the diagnostic lumbar puncture
    (["M45.9", "M47.1"], ["M47.1", "M45.9"]),  # the catheter of a clot retention before the cystoscopy
    (["X72.1", "W36.5", "L91.5"], ["L91.5", "X72.1", "W36.5"]),  # the line, not the chemotherapy
    (["W36.5", "X73.1"], ["W36.5", "X73.1"]),  # a drug given: the biopsy stays first
    (["X65.4", "M47.9"], ["X65.4", "M47.9"]),  # no operation: radiotherapy and a catheter in the letter's order
    (["X40.3", "L91.2"], ["X40.3", "L91.2"]),  # dialysis and its line
    (["X40.3", "L91.5"], ["L91.5", "X40.3"]),  # a tunnelled line comes before the dialysis it serves
    (["L91.5", "M42.1"], ["M42.1", "L91.5"]),  # ... and after a therapeutic operation
    (["T12.4", "E54.5"], ["E54.5", "T12.4"]),  # the bullectomy before the chest drain of the same spell
    (["T12.4", "T12.3"], ["T12.4", "T12.3"]),  # a drain and an aspiration: the letter's order
    (["T12.4", "T13.2"], ["T12.4", "T13.2"]),  # the drain before the pleurodesis through it
    (["L91.5", "M45.9", "M42.1"], ["M42.1", "L91.5", "M45.9"]),  # a therapeutic operation before them all
])
def test_a_line_tube_or_catheter_placed_comes_before_a_diagnostic_operation(nhs_tables, codes, expected):
    x = Excerpt(("procedures", "Procedures as listed"))
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, c, "primary" if n == 0 else "secondary")
                              for n, c in enumerate(codes)], "SEQ-004")
    assert [c.code for c in out.codes] == expected
    assert bool(out.flags) == (expected != codes)


@pytest.mark.parametrize("procedures, kept", [
    (["W46.1", "X33.2"], ["W46.1"]),  # the transfusion after the hemiarthroplasty
    (["X28.1", "Q07.4"], ["Q07.4"]),  # the iron infusion before the hysterectomy
    (["X33.2"], ["X33.2"]),  # a day-case transfusion alone is coded
    (["X33.2", "U21.2"], ["X33.2", "U21.2"]),  # diagnostic imaging (left to CON-007) does not take it out
    (["X32.3", "L91.2"], ["X32.3", "L91.2"]),  # plasma exchange is a treatment of its own, beside its line
    (["X33.2", "X90.7"], ["X33.2", "X90.7"]),  # a high-cost drug code records the drug, not a procedure
])
def test_a_transfusion_or_drug_infusion_is_coded_only_alone(nhs_tables, procedures, kept):
    tables = nhs_tables
    x = Excerpt(("procedures", "Procedures as listed"))
    out = run(tables, x, [code(tables, OPCS, c, "primary" if i == 0 else "secondary") for i, c in enumerate(procedures)],
              "CON-023")
    assert [c.code for c in out.codes] == kept
    assert all("CON-023" in c.rules for c in out.candidates)


@pytest.mark.parametrize("codes, same, kept", [
    (["K57.2", "K58.2"], True, ["K57.2"]),  # the EP study the ablation includes
    (["K57.2", "K58.2"], False, ["K57.2", "K58.2"]),  # told apart: each its own statement
    (["X32.3", "W36.5"], True, ["X32.3", "W36.5"]),  # another chapter: the plasma exchange includes no biopsy
    (["M29.2", "M30.1"], True, ["M29.2"]),  # the retrograde pyelogram at the ureteric stent
    (["M27.1", "M45.9"], True, ["M27.1"]),  # the cystoscopy on the way to a ureteroscopic lithotripsy
    (["Q16.5", "Q18.9"], True, ["Q16.5", "Q18.9"]),  # the hysteroscopy approaches an ablation of another route
    (["H24.3", "H25.1"], True, ["H24.3", "H25.1"]),  # biopsies at the colonic stent are coded beside it
])
def test_a_diagnostic_operation_told_with_a_therapeutic_one_is_included_in_it(nhs_tables, codes, same, kept):
    lines = ["Electrophysiology study and radiofrequency ablation", "EP study: dual AV nodal physiology"]
    x = Excerpt(("procedures", lines[0]), ("procedures", lines[1]))
    told = [x.evidence(lines[0], "procedures"), x.evidence(lines[0 if same else 1], "procedures")]
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, c, "primary" if n == 0 else "secondary", told[n])
                              for n, c in enumerate(codes)], "CON-049")
    assert [c.code for c in out.codes] == kept
    assert bool(out.flags) == (len(kept) == 1)


def test_beside_a_minor_procedure_a_therapeutic_one_comes_before_a_diagnostic_one(nhs_tables):
    # the apheresis line first, then the marrow biopsy (diagnostic) and the plasma exchanges
    x = Excerpt(("procedures", "Procedures as listed"))
    codes = [code(nhs_tables, OPCS, c, "primary" if n == 0 else "secondary")
             for n, c in enumerate(["L91.2", "W36.5", "X32.3"])]
    out = run(nhs_tables, x, codes, "SEQ-004")
    assert [c.code for c in out.codes] == ["X32.3", "L91.2", "W36.5"]


@pytest.mark.parametrize("line, proc, expected", [
    ("Left cemented hemiarthroplasty of hip", "W46.1", ["W46.1", "Z94.3"]),
    ("Right hemiarthroplasty (cemented)", "W46.1", ["W46.1", "Z94.2"]),
    ("Bilateral cemented hemiarthroplasty", "W46.1", ["W46.1", "Z94.1"]),
    ("Laparoscopic cholecystectomy", "J18.3", ["J18.3", "Y75.2"]),
    ("Lap chole", "J18.3", ["J18.3", "Y75.2"]),
    ("Open cholecystectomy", "J18.3", ["J18.3"]),
    ("PCI to LAD via the right radial artery, one DES", "K75.1", ["K75.1", "Y79.5"]),  # no laterality for the heart
    ("Ultrasound-guided cholecystectomy drain", "J18.3", ["J18.3", "Y53.2"]),
    ("Right cemented hemiarthroplasty for intracapsular NOF #", "W46.1", ["W46.1", "Z94.2"]),
    ("Hemiarthroplasty, left-sided, cemented", "W46.1", ["W46.1", "Z94.3"]),
    ("Cemented hemiarthroplasty of both hips", "W46.1", ["W46.1", "Z94.1"]),
    # "both" of what is not a paired part names no second side
    ("Right cemented hemiarthroplasty; both wound edges closed with clips", "W46.1", ["W46.1", "Z94.2"]),
    ("Open cholecystectomy via right subcostal incision", "J18.3", ["J18.3"]),  # the gall bladder is not paired
    ("Right radial access; 3 x DES to proximal LAD", "K75.2", ["K75.2", "Y79.5"]),
    ("Rt cemented hemiarthroplasty", "W46.1", ["W46.1", "Z94.2"]),
    ("Lt hemiarthroplasty", "W46.1", ["W46.1", "Z94.3"]),
    # terse letters write the side as a capital before the site; a volume is no side
    ("L cemented hemiarthroplasty of hip", "W46.1", ["W46.1", "Z94.3"]),
    ("1. L cemented hemiarthroplasty of hip", "W46.1", ["W46.1", "Z94.3"]),  # a numbered line's side
    ("R THR revised to a cemented hemiarthroplasty", "W46.1", ["W46.1", "Z94.2"]),
    ("Cemented hemiarthroplasty; on 2 L oxygen afterwards", "W46.1", ["W46.1"]),
    ("Cemented hemiarthroplasty; 1.5 L blood loss replaced", "W46.1", ["W46.1"]),
    # the femoral vein is no arterial approach
    ("PCI to LAD with one DES; temporary wire via right femoral venous access", "K75.1", ["K75.1"]),
])
def test_supplementary_codes_follow_the_code_they_qualify(tables, line, proc, expected):
    x = Excerpt(("procedures", line))
    out = run(tables, x, [code(tables, OPCS, proc, "primary", x.evidence(line, "procedures"))], "SUP-001")
    assert [c.code for c in out.codes] == expected
    assert out.codes[0].role == "primary" and all(c.role == "secondary" for c in out.codes[1:])


@pytest.mark.parametrize("line, proc, expected", [
    ("Right-sided chest drain inserted under ultrasound guidance", "T12.4", ["T12.4", "Y53.2", "Z94.2"]),
    ("Left nephrostomy placed under fluoroscopic control", "M13.6", ["M13.6", "Y53.4", "Z94.3"]),
    ("Incision and drainage of left peritonsillar abscess", "F36.3", ["F36.3", "Z94.3"]),
    ("Left superficial parotidectomy", "F44.2", ["F44.2", "Z94.3"]),
    ("Right palmar fasciectomy for Dupuytren's", "T52.1", ["T52.1", "Z94.2"]),
    ("Left hydrocele repair (Jaboulay)", "N11.3", ["N11.3", "Z94.3"]),
    ("Right great saphenous vein ablation", "L88.1", ["L88.1", "Z94.2"]),
    ("Anterior resection, left iliac fossa drain", "H33.3", ["H33.3"]),  # the rectum is not paired
    # the femoral artery treated is no femoral approach; the access through it is
    ("Right superficial femoral artery angioplasty", "L63.1", ["L63.1", "Z38.5", "Z94.2"]),
    ("Coronary angiography via the right femoral artery", "K63.4", ["K63.4", "Y79.3"]),
    # a laparoscopic operation on any organ carries its approach (kidney, adrenal, vaginal vault)
    ("Left laparoscopic radical nephrectomy", "M02.1", ["M02.1", "Y75.2", "Z94.3"]),
    ("Laparoscopic left adrenalectomy", "B22.3", ["B22.3", "Y75.2", "Z94.3"]),
    ("Laparoscopic sacrocolpopexy with mesh", "P24.2", ["P24.2", "Y75.2"]),
    # a valve implanted through the femoral artery (TAVI) has its arterial approach too
    ("Transfemoral TAVI, right common femoral artery access, under local anaesthetic", "K26.2", ["K26.2", "Y79.3"]),
    # ultrasonic control however the letter words it
    ("Right 14F Seldinger chest drain, 5th ICS MAL, USS-guided (real-time)", "T12.4", ["T12.4", "Y53.2", "Z94.2"]),
    ("Pericardiocentesis by the subxiphoid route under echocardiographic guidance", "K68.2", ["K68.2", "Y53.2"]),
    # the glands, spaces and vessels of one side operated on openly; an arteriovenous fistula is made
    # on the radial artery, not through it
    ("Left superficial temporal artery biopsy under local anaesthetic", "L67.1", ["L67.1", "O12.1", "Z94.3"]),
    ("Marsupialisation of left Bartholin's gland", "P03.2", ["P03.2", "Z94.3"]),
    ("Two left-sided burr holes for chronic subdural haematoma", "A41.1", ["A41.1", "Z94.3"]),
    ("Focused right inferior parathyroidectomy", "B14.4", ["B14.4", "Z94.2"]),
    ("L radiocephalic AV fistula at wrist (Brescia-Cimino)", "L74.2", ["L74.2", "Z94.3"]),
    # the side the patient lay on is no side of the operation
    ("Laparoscopic left adrenalectomy (transperitoneal, right lateral decubitus)", "B22.3", ["B22.3", "Y75.2", "Z94.3"]),
    ("Right adrenalectomy, open, in the left lateral position", "B22.3", ["B22.3", "Z94.2"]),
    ("Open adrenalectomy in the left lateral position", "B22.3", ["B22.3"]),
    # a central line is not coded with a side
    ("PICC inserted in the right basilic vein under ultrasound guidance", "L99.7", ["L99.7", "Y53.2"]),
    ("Right femoral Vascath inserted under ultrasound guidance", "L91.2", ["L91.2", "Y53.2"]),
    # the image control of the line placed for an exchange or a dialysis is the line's
    ("Plasma exchange through a femoral Vascath inserted under ultrasound guidance", "X32.3", ["X32.3"]),
    ("Haemodialysis via a right internal jugular line placed under ultrasound guidance", "X40.3", ["X40.3"]),
])
def test_laterality_follows_operations_on_every_paired_part(nhs_tables, line, proc, expected):
    tables = nhs_tables
    x = Excerpt(("procedures", line))
    out = run(tables, x, [code(tables, OPCS, proc, "primary", x.evidence(line, "procedures"))], "SUP-001")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("line, expected", [
    # the cardiopulmonary bypass once, after the first operation it served
    ("Coronary artery bypass grafting x2 on cardiopulmonary bypass: LIMA to LAD, vein graft to OM1.",
     ["K45.3", "Y73.1", "K40.1"]),
    # none off pump
    ("Off-pump coronary artery bypass grafting x2: LIMA to LAD, vein graft to OM1.", ["K45.3", "K40.1"]),
])
def test_the_cardiopulmonary_bypass_follows_the_first_heart_operation(nhs_tables, line, expected):
    x = Excerpt(("procedures", line))
    ev = x.evidence(line, "procedures")
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, "K45.3", "primary", ev), code(nhs_tables, OPCS, "K40.1", evidence=ev)],
              "SUP-001")
    assert [c.code for c in out.codes] == expected


def test_a_side_is_read_from_this_episode_not_the_history(tables):
    # the right hip replaced in 2015 says nothing of today's left hemiarthroplasty
    today, before = "Cemented hemiarthroplasty, left", "Right hip replacement in 2015"
    x = Excerpt(("procedures", today), ("past_medical_history", before))
    evidence = x.evidence(before, "past_medical_history", "historical") + x.evidence(today, "procedures")
    out = run(tables, x, [code(tables, OPCS, "W46.1", "primary", evidence)], "SUP-001")
    assert [c.code for c in out.codes] == ["W46.1", "Z94.3"]


def test_each_operation_gets_its_own_laterality(tables):
    x = Excerpt(("procedures", "Left cemented hemiarthroplasty"), ("procedures", "Left total cholecystectomy"))
    out = run(tables, x, [code(tables, OPCS, "W46.1", "primary", x.evidence("Left cemented hemiarthroplasty")),
                          code(tables, OPCS, "J18.3", evidence=x.evidence("Left total cholecystectomy"))], "SUP-001")
    assert [c.code for c in out.codes] == ["W46.1", "Z94.3", "J18.3"]  # the gall bladder is not a paired organ


@pytest.mark.parametrize("policy_code", ["Y80.9", "C90.4", "X56.2", "L91.6"])
def test_anaesthetics_are_not_coded_under_the_profile_policy(tables, policy_code):
    x = Excerpt(("procedures", "Right cataract operation under general anaesthetic"))
    out = run(tables, x, [code(tables, OPCS, "C75.1", "primary"), _opcs(policy_code, "Policy code")], "CON-007")
    assert [c.code for c in out.codes] == ["C75.1"] and policy_code in [c.code for c in out.candidates]
    assert "not coded under this profile's policy" in out.flags[0].message


@pytest.mark.parametrize("line, drug_code, coded", [
    ("Back-to-back nebulised salbutamol and ipratropium", "E89.3", False),
    ("Intravenous co-amoxiclav and fluids for 48 hours", "X29.2", False),
    ("Cycle 1 of intravenous FOLFOX given", "X35.2", True),  # chemotherapy stays codable
    ("Filgrastim (G-CSF) subcutaneously for 4 days", "X38.7", False),  # a growth factor: a drug by its route
])
def test_drug_treatment_by_its_route_is_not_coded(tables, line, drug_code, coded):
    x = Excerpt(("procedures", "Flexible cystoscopy and bladder biopsy"), ("procedures", line))
    drug = code(tables, OPCS, drug_code, evidence=x.evidence(line))
    out = run(tables, x, [code(tables, OPCS, "M45.1", "primary"), drug], "CON-033")
    assert [c.code for c in out.codes] == (["M45.1", drug_code] if coded else ["M45.1"])
    assert drug_code in [c.code for c in out.codes + out.candidates]
    assert coded or "drug treatment by its route is not a procedure" in out.flags[0].message


def test_a_procedure_done_without_a_suggested_code_gets_the_code_its_mention_names(tables):
    """Of the candidates behind present procedure mentions, the one whose title a mention names
    stands for the operation: the cholecystectomy, not a catheter read more likely from another
    sentence's tube."""
    op, tube = "Laparoscopic cholecystectomy on 19/09.", "A urinary catheter was passed on the ward."
    x = Excerpt(("procedures", op), (None, tube))
    mentions = [x.mention("Laparoscopic cholecystectomy", "procedures", label="PROCEDURE"),
                x.mention("urinary catheter", label="PROCEDURE")]
    candidates = [replace(code(tables, OPCS, "J18.3", "candidate", x.evidence(op, "procedures"), score=0.05), suggest=0.06),
                  replace(code(tables, OPCS, "X56.2", "candidate", x.evidence(tube), score=0.0), suggest=0.07)]
    out = run(tables, x, [], "SEQ-007", mentions=mentions, candidates=candidates)
    assert [c.code for c in out.codes] == ["J18.3"]


@pytest.mark.parametrize("history, expected", [
    (False, ["R22.2"]),  # the ventouse of this delivery, a candidate, is coded
    (True, []),  # an earlier delivery is another episode's
])
def test_a_delivery_record_carries_its_method_of_delivery(nhs_tables, history, expected):
    tables = nhs_tables
    line = "The baby was delivered with a Kiwi vacuum cup (low-cavity)."
    x = Excerpt(("diagnoses", "Postpartum haemorrhage 900 ml"), ("past_medical_history" if history else None, line))
    ventouse = code(tables, OPCS, "R22.2", "candidate", x.evidence(line, "past_medical_history" if history else None))
    out = run(tables, x, [code(tables, WHO, "O72.1", "primary")], "CON-028", candidates=[ventouse])
    assert [c.code for c in out.codes if c.system == "OPCS-4"] == expected
    if expected:
        assert "method of delivery" in out.flags[0].message and out.codes[-1].rules == ("CON-028",)
    # no delivery on the record: nothing is added
    none = run(tables, x, [code(tables, WHO, "I10", "primary")], "CON-028", candidates=[ventouse])
    assert [c.code for c in none.codes] == ["I10"]


@pytest.mark.parametrize("lines, phrase, tear, expected", [
    ([(None, "Second-degree perineal tear, sutured in the delivery room.")], "Second-degree perineal tear", "O70.1",
     ["R32.3"]),
    # the repair told in the next sentence of the section
    ([(None, "Perineum: second-degree perineal tear."), (None, "PR examination before and after the repair: intact.")],
     "second-degree perineal tear", "O70.1", ["R32.3"]),
    ([(None, "Third-degree tear (3a), repaired in theatre under spinal.")], "Third-degree tear", "O70.2", ["R32.2"]),
    # left to heal: nothing to code
    ([(None, "Perineum: first-degree tear, not sutured, with her agreement.")], "first-degree tear", "O70.0", []),
    # a repair in another section is not the tear's
    ([(None, "Perineum: second-degree perineal tear."), ("plan", "Hernia repair next year.")],
     "second-degree perineal tear", "O70.1", []),
    # nor one the next sentence tells of another condition, nor an operation named otherwise
    ([(None, "Perineum: second-degree perineal tear."), (None, "Cervical tear sutured.")],
     "second-degree perineal tear", "O70.1", []),
    ([(None, "Second-degree perineal tear; inguinal hernia repair in 2019.")], "Second-degree perineal tear",
     "O70.1", []),
    ([(None, "Perineum: second-degree perineal tear, no need for suturing.")], "second-degree perineal tear",
     "O70.1", []),
])
def test_an_obstetric_laceration_repaired_carries_its_repair(nhs_tables, lines, phrase, tear, expected):
    x = Excerpt(*lines)
    s = code(nhs_tables, WHO, tear, evidence=x.evidence(phrase))
    mentions = [x.mention(phrase)] + [x.mention(t) for t in ("Cervical tear",) if t in x.text] + \
        [x.mention(t, label="PROCEDURE") for t in ("inguinal hernia repair", "Hernia repair") if t in x.text]
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, "R24.9", "primary"), s], "CON-062", mentions=mentions)
    assert [c.code for c in out.codes if c.system == "OPCS-4"] == ["R24.9", *expected]
    assert bool(out.flags) == bool(expected)


@pytest.mark.parametrize("line, coded, expected", [
    # the source the sepsis statement names, by its index term with the mention's modifiers
    ("E. coli sepsis secondary to acute right pyelonephritis.", [], ["A41.5", "N10"]),
    ("Urosepsis from a left pyelonephritis.", [], ["A41.5", "N12"]),
    # coded already from the same statement: nothing is added
    ("E. coli sepsis secondary to acute right pyelonephritis.", ["N12"], ["A41.5", "N12"]),
    # no cause words after the sepsis: the statement names no source
    ("Sepsis. Acute right pyelonephritis was considered.", [], ["A41.5"]),
    ("Sepsis; from day 3 acute right pyelonephritis was treated.", [], ["A41.5"]),  # not directly after it
    ("Septic arthritis secondary to acute right pyelonephritis.", [], ["A41.5"]),  # no sepsis named
])
def test_the_source_of_sepsis_is_coded_after_it(tables, line, coded, expected):
    x = Excerpt(("diagnoses", line))
    source = "pyelonephritis"
    mentions = [x.mention(re.search(r"(?i)(uro)?sepsis|septic arthritis", line).group(), "diagnoses"),
                x.mention(source, "diagnoses", modifiers=("acute",) if "acute" in line else ())]
    candidates = [code(tables, WHO, c, "candidate", x.evidence(line, "diagnoses"), score=0.05) for c in ("N10", "N12")
                  if c not in coded]
    codes = [code(tables, WHO, "A41.5", "primary", x.evidence(line, "diagnoses"))] + \
        [code(tables, WHO, c, evidence=x.evidence(line, "diagnoses")) for c in coded]
    out = run(tables, x, codes, "CON-063", mentions=mentions, candidates=candidates)
    assert [c.code for c in out.codes] == expected
    assert bool(out.flags) == (len(expected) > 1 + len(coded))


@pytest.mark.parametrize("section, assertion", [("past_medical_history", "present"), ("diagnoses", "negated")])
def test_a_past_or_negated_sepsis_names_no_source(tables, section, assertion):
    line = "Sepsis secondary to acute right pyelonephritis"
    x = Excerpt((section, line))
    mentions = [x.mention("Sepsis", section, assertion=assertion),
                x.mention("pyelonephritis", section, modifiers=("acute",))]
    n10 = code(tables, WHO, "N10", "candidate", x.evidence(line, section), score=0.05)
    out = run(tables, x, [code(tables, WHO, "A41.5", "primary")], "CON-063", mentions=mentions, candidates=[n10])
    assert [c.code for c in out.codes] == ["A41.5"] and not out.flags


@pytest.mark.parametrize("lines, expected", [
    # a seizure the letter does not call epilepsy
    ([("diagnoses", "First generalised tonic-clonic seizure, provoked by alcohol and lack of sleep.")], "R56.8"),
    ([("diagnoses", "Simple febrile convulsion.")], "R56.0"),
    ([("diagnoses", "First non-febrile generalised seizure.")], "R56.8"),  # "non-febrile" says it was not
    # a febrile convulsion of the past does not make this seizure febrile
    ([("diagnoses", "First generalised seizure."), (None, "Two febrile convulsions at 18 months of age.")], "R56.8"),
    # the letter names the patient's epilepsy: it stays
    ([("diagnoses", "Breakthrough seizure in known epilepsy.")], "G40.9"),
    # a service, a relative's or a denied epilepsy names none
    ([("diagnoses", "First seizure."), (None, "Seen by the epilepsy nurse.")], "R56.8"),
])
def test_a_seizure_not_called_epilepsy_is_no_epilepsy(tables, lines, expected):
    x = Excerpt(*lines)
    mentions = [x.mention(w, sec, assertion="present", label="DIAGNOSIS")
                for sec, line in lines for w in ("seizure", "convulsion", "epilepsy") if w in line]
    g40 = code(tables, WHO, "G40.9", "primary", x.evidence(lines[0][1], lines[0][0]))
    out = run(tables, x, [g40], "CON-064", mentions=mentions)
    assert [c.code for c in out.codes] == [expected]
    assert bool(out.flags) == (expected != "G40.9")


@pytest.mark.parametrize("cause, first", [
    # the seizure's sentences are its evidence: the one that names its cause puts the cause first
    ("We explained that this was a seizure provoked by the meningioma.", "D32.9"),
    # a background comorbidity stated with it explains no seizure
    ("She had a seizure at home on a background of hypertension.", "R56.8"),
    # a cause told elsewhere is not stated with the seizure: the seizure stays the main condition
    ("Her MRI showed a meningioma.", "R56.8"),
])
def test_a_seizure_coded_for_its_epilepsy_code_is_explained_by_the_cause_stated_with_it(tables, cause, first):
    x = Excerpt((None, "Her husband saw her have a seizure at home."), (None, cause))
    mentions = [x.mention("seizure", assertion="present")] + \
        ([x.mention("seizure provoked", assertion="present")] if "provoked" in cause else []) + \
        ([x.mention("seizure at home on", assertion="present")] if "background" in cause else [])
    g40 = code(tables, WHO, "G40.8", "primary", x.evidence("Her husband saw her have a seizure at home."))
    other = "I10" if "hypertension" in cause else "D32.9"
    d32 = code(tables, WHO, other, evidence=x.evidence(cause))
    out = run(tables, x, [g40, d32], "CON-064", "SEQ-002", "SEQ-009", mentions=mentions)
    assert [c.code for c in out.codes] == [first] + (["R56.8"] if first == "D32.9" else [other])


@pytest.mark.parametrize("neoplasm, suggested, likely, expected", [
    ("D35.2", True, None, ["D35.2", "E22.0"]),  # the pituitary adenoma before its acromegaly
    ("D35.2", False, 0.27, ["D35.2", "E22.0"]),  # a ranked one stated with it, likely enough
    ("D35.2", False, 0.1, ["E22.0"]),  # too unlikely: left to the coder
    ("D35.0", True, None, ["E22.0", "D35.0"]),  # another gland's neoplasm causes none of it
])
def test_a_neoplasm_goes_before_the_overactivity_it_causes(tables, neoplasm, suggested, likely, expected):
    line = "Acromegaly caused by a growth hormone-secreting adenoma."
    x = Excerpt(("diagnoses", line))
    e22 = code(tables, WHO, "E22.0", "primary", x.evidence(line, "diagnoses"))
    tumour = code(tables, WHO, neoplasm, "secondary" if suggested else "candidate", x.evidence(line, "diagnoses"))
    tumour = replace(tumour, suggest=likely)
    out = run(tables, x, [e22] + ([tumour] if suggested else []), "SEQ-019", candidates=[] if suggested else [tumour])
    assert [c.code for c in out.codes] == expected
    assert [c.code for c in out.codes if c.role == "primary"] == [expected[0]]
    assert bool(out.flags) == (expected[0] != "E22.0")


def test_a_neoplasm_told_apart_from_the_overactivity_is_left_where_it_is(tables):
    x = Excerpt(("diagnoses", "Acromegaly."), (None, "Incidental pituitary microadenoma on MRI."))
    e22 = code(tables, WHO, "E22.0", "primary", x.evidence("Acromegaly.", "diagnoses"))
    d35 = code(tables, WHO, "D35.2", evidence=x.evidence("Incidental pituitary microadenoma on MRI."))
    out = run(tables, x, [e22, d35], "SEQ-019")
    assert [c.code for c in out.codes] == ["E22.0", "D35.2"] and not out.flags


@pytest.mark.parametrize("symptom, first", [
    ("R56.0", "R56.0"),  # a febrile convulsion is the reason for the admission, not the otitis media's symptom
    ("R50.9", "H66.9"),  # the fever is the otitis media's
])
def test_a_febrile_convulsion_stays_primary_before_the_infection_of_its_fever(tables, symptom, first):
    line = "Simple febrile convulsion with fever secondary to acute otitis media."
    x = Excerpt(("diagnoses", line))
    codes = [code(tables, WHO, symptom, "primary", x.evidence(line, "diagnoses")),
             code(tables, WHO, "H66.9", evidence=x.evidence(line, "diagnoses"))]
    out = run(tables, x, codes, "SEQ-002")
    assert out.codes[0].code == first


def test_a_caesarean_section_makes_a_delivery_record_that_carries_its_outcome(nhs_tables):
    """An elective caesarean section for a breech presentation (O32.1, not a delivery code): the
    suggested method of delivery makes the record a delivery's, so its outcome (Z37) is coded."""
    tables = nhs_tables
    x = Excerpt(("diagnoses", "Persistent breech presentation"),
                ("procedures", "Elective lower segment caesarean section"),
                (None, "Delivery outcome: Single live birth."))
    outcome = code(tables, WHO, "Z37.0", "candidate", x.evidence("Delivery outcome: Single live birth."))
    lscs = code(tables, OPCS, "R17.2", evidence=x.evidence("Elective lower segment caesarean section", "procedures"))
    out = run(tables, x, [code(tables, WHO, "O32.1", "primary"), lscs], "CON-028", candidates=[outcome])
    assert "Z37.0" in [c.code for c in out.codes] and "outcome of delivery" in out.flags[0].message
    without = run(tables, x, [code(tables, WHO, "O32.1", "primary")], "CON-028", candidates=[outcome])
    assert "Z37.0" not in [c.code for c in without.codes]  # a breech presentation alone is no delivery


def test_the_removal_of_a_urethral_catheter_is_ward_care_not_coded(nhs_tables):
    tables = nhs_tables
    x = Excerpt((None, "Urethral catheter removed after 4 hours and he voided well."))
    out = run(tables, x, [code(tables, OPCS, "M42.1", "primary"), code(tables, OPCS, "M47.3")], "CON-007")
    assert [c.code for c in out.codes] == ["M42.1"] and "ward care" in out.flags[0].message


@pytest.mark.parametrize("story, expected", [
    ("Head delivered 17:22 with turtling; McRoberts, then the baby was delivered.", ["R24.9"]),  # a normal delivery
    ("The baby was delivered by ventouse.", []),  # an instrument it names needs its own code
])
def test_a_told_delivery_without_a_method_candidate_is_a_normal_delivery(nhs_tables, story, expected):
    tables = nhs_tables
    x = Excerpt(("diagnoses", "Shoulder dystocia"), (None, story))
    out = run(tables, x, [code(tables, WHO, "O66.0", "primary")], "CON-028")
    assert [c.code for c in out.codes if c.system == "OPCS-4"] == expected


@pytest.mark.parametrize("story, expected", [
    ("- 17/06/2026 21:14: spontaneous vertex delivery, occipito-anterior.", ["R24.9"]),
    ("Plan: delivery by 41+5 weeks if she does not labour before.", []),  # a plan tells no delivery
    # a delivery dated before this episode is another episode's record
    ("She is eight weeks after the birth of her second baby by spontaneous vaginal delivery.", []),
])
def test_a_delivery_the_letter_tells_makes_a_delivery_record_without_a_delivery_code(nhs_tables,
                                                                                      story, expected):
    """Induced for prolonged pregnancy (O48), then a spontaneous vertex delivery: O80 is not coded
    beside O48, and the record is still a delivery's, with its method of delivery."""
    tables = nhs_tables
    x = Excerpt(("diagnoses", "Prolonged pregnancy"), (None, story))
    told = code(tables, WHO, "O80.0", "candidate", x.evidence(story))
    out = run(tables, x, [code(tables, WHO, "O48", "primary")], "CON-028", candidates=[told])
    assert [c.code for c in out.codes if c.system == "OPCS-4"] == expected


def test_obstetric_scans_are_imaging_not_coded_under_the_profile_policy(nhs_tables):
    tables = nhs_tables
    x = Excerpt(("investigations", "Growth scan: fetal biometry on the 95th centile"))
    out = run(tables, x, [code(tables, OPCS, "R37.3", "primary"), code(tables, OPCS, "R24.9")], "CON-007")
    assert [c.code for c in out.codes] == ["R24.9"] and "R37.3" in [c.code for c in out.candidates]


@pytest.mark.parametrize("second, expected", [
    ("2. Operative cholangiogram - normal", ["J18.3", "Y75.2", "J37.2", "Y75.2"]),  # one laparoscopic session
    ("2. Open operative cholangiogram", ["J18.3", "Y75.2", "J37.2"]),  # its own words say otherwise
    # an operation whose title names its own route: the laparoscopy is not its approach
    ("2. Urethral catheterisation for retention", ["J18.3", "Y75.2", "M47.9"]),
])
def test_the_approach_of_an_operation_is_the_sessions(tables, second, expected):
    first = "1. Laparoscopic cholecystectomy"
    x = Excerpt(("procedures", first), ("procedures", second))
    other = "M47.9" if "catheter" in second else "J37.2"
    out = run(tables, x, [code(tables, OPCS, "J18.3", "primary", x.evidence(first, "procedures")),
                          code(tables, OPCS, other, evidence=x.evidence(second, "procedures"))], "SUP-001")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("line, proc, expected", [
    # the laparoscopy that opens a list of operations is their approach, unless it was converted
    ("Emergency laparoscopy, evacuation of haemoperitoneum and washout, right ovarian cystectomy", "Q43.2",
     ["Q43.2", "Y75.2", "Z94.2"]),
    ("Laparoscopy converted to open; right ovarian cystectomy", "Q43.2", ["Q43.2", "Z94.2"]),
    # the lungs are paired organs
    ("CT-guided percutaneous core biopsy of the left lower lobe mass", "E59.1", ["E59.1", "Y53.3", "Z94.3"]),
    # a robotic operation on the kidney
    ("Robotic-assisted laparoscopic left partial nephrectomy", "M03.9", ["M03.9", "Y75.3", "Z94.3"]),
])
def test_supplementary_codes_of_the_whole_classification(nhs_tables, line, proc, expected):
    x = Excerpt(("procedures", line))
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, proc, "primary", x.evidence(line, "procedures"))], "SUP-001")
    assert [c.code for c in out.codes] == expected


def _after_the_condition(nhs_tables, diagnosis, dx, told, proc):
    """The OPCS-4 codes SUP-001 leaves for operation ``proc`` told in ``told``, the primary
    diagnosis ``dx`` stated as ``diagnosis``."""
    tables = nhs_tables
    x = Excerpt(("diagnoses", diagnosis), (None, told))
    out = run(tables, x, [code(tables, WHO, dx, "primary", x.evidence(diagnosis, "diagnoses")),
                          code(tables, OPCS, proc, "primary", x.evidence(told))], "SUP-001")
    return [c.code for c in out.codes if c.system == "OPCS-4"]


@pytest.mark.parametrize("diagnosis, expected", [
    # an operation whose words name no bone and no side takes those of the condition it treats
    ("Closed, dorsally angulated fracture of the left distal radius.", ["W26.2", "Z70.5", "Z94.3"]),
    ("Left olecranon fracture.", ["W26.2", "Z71.1", "Z94.3"]),
    ("Fractures of the left distal radius and the right clavicle.", ["W26.2", "Z70.5"]),  # which side is not told
    ("Closed fracture of the distal radius.", ["W26.2", "Z70.5"]),
    ("Fracture of the left forearm.", ["W26.2", "Z94.3"]),  # which bone is not told
])
def test_an_operation_on_a_fracture_takes_the_bone_and_side_of_the_condition_it_treats(nhs_tables,
                                                                                        diagnosis, expected):
    told = "Because of the angulation the fracture was manipulated under general anaesthetic."
    assert _after_the_condition(nhs_tables, diagnosis, "S52.5", told, "W26.2") == expected


@pytest.mark.parametrize("diagnosis, told, expected", [
    # the site of a skin operation, from its own words or else the condition's, before the side
    ("Scald of the left lower leg.", "Meshed split skin graft to the shin.", ["S35.2", "Z50.4", "Z94.3"]),
    ("Scald of the left lower leg.", "Meshed split skin graft applied.", ["S35.2", "Z50.4", "Z94.3"]),
    ("Scald of the right foot.", "Meshed split skin graft to the heel.", ["S35.2", "Z50.5", "Z94.2"]),
    ("Scald.", "Meshed split skin graft applied.", ["S35.2"]),  # no site told
])
def test_an_operation_on_the_skin_carries_its_site(nhs_tables, diagnosis, told, expected):
    assert _after_the_condition(nhs_tables, diagnosis, "T24.2", told, "S35.2") == expected


@pytest.mark.parametrize("proc, expected", [
    ("S36.1", ["S36.1", "Z47.3", "Z94.3"]),  # to head or neck: the cheek, not the hand named after it
    ("S36.2", ["S36.2", "Z50.2", "Z94.3"]),  # NEC: the hand, the most specific part named first
])
def test_an_operation_on_the_head_or_neck_takes_no_site_off_the_head_and_neck(nhs_tables, proc, expected):
    told = "Full thickness skin graft to the left cheek; the keratosis on the back of her hand is for cryotherapy."
    assert _after_the_condition(nhs_tables, "Melanoma of the left cheek.", "C43.3", told, proc) == expected


@pytest.mark.parametrize("diagnosis, told, proc, expected", [
    # the site of the lesion an endoscopic operation on the digestive tract treats or samples
    ("Bleeding duodenal ulcer.", "OGD: adrenaline injected and clips applied.", "G43.6", ["G43.6", "Z27.4"]),
    ("Oesophageal varices.", "OGD: four bands applied to grade 3 varices.", "G43.7", ["G43.7", "Z27.1"]),
    ("Iron deficiency anaemia.", "OGD: gastric antral erosions biopsied.", "G45.1", ["G45.1", "Z27.2"]),
    ("Iron deficiency anaemia.", "OGD: normal; duodenal biopsies taken.", "G45.1", ["G45.1", "Z27.4"]),
    ("Ischaemic colitis.", "Flexible sigmoidoscopy: descending and sigmoid colitis, biopsied.", "H25.1",
     ["H25.1", "Z28.6"]),  # a sigmoidoscope's lesion in the sigmoid
    ("Descending colon adenoma.", "Colonoscopy: EMR of the 25 mm adenoma.", "H20.7", ["H20.7", "Z28.5"]),
    # the caecum a colonoscopy reached is its extent, not the site of a lesion
    ("Collagenous colitis.", "Colonoscopy complete to caecum; random biopsies.", "H22.1", ["H22.1"]),
    ("Anaemia.", "OGD and biopsies.", "G45.1", ["G45.1"]),  # no site told
    # a CLO test's biopsy is the stomach's, not the site of the duodenal ulcer
    ("Bleeding duodenal ulcer.", "Helicobacter pylori infection - CLO test positive.", "G45.1", ["G45.1", "Z27.2"]),
    # the joint of an operation on a joint whose code names none; a knee's own code takes none
    ("Septic arthritis of the right knee.", "Aspirated in ED: turbid fluid.", "W90.1", ["W90.1", "Z84.6", "Z94.2"]),
    ("Gout of the left ankle.", "The joint was aspirated.", "W90.1", ["W90.1", "Z85.6", "Z94.3"]),
    # (an endoscopic operation's title names its approach: no arthroscopic approach code)
    ("Torn medial meniscus of the right knee.", "Arthroscopic partial meniscectomy.", "W82.2", ["W82.2", "Z94.2"]),
    ("ACL rupture of the left knee.", "Arthroscopic hamstring ACL reconstruction.", "W74.2",
     ["W74.2", "Y76.7", "Z84.6", "Z94.3"]),
    # the artery of a biopsy of an artery NEC: a temporal artery biopsy's superficial temporal artery
    ("Giant cell arteritis.", "Right temporal artery biopsy under local anaesthetic.", "L67.1",
     ["L67.1", "O12.1", "Z94.2"]),
    ("Vasculitis.", "Biopsy of the right radial artery.", "L67.1", ["L67.1", "Y79.5", "Z94.2"]),  # no temporal artery
])
def test_an_operation_on_the_digestive_tract_or_a_joint_carries_its_site(nhs_tables, diagnosis,
                                                                        told, proc, expected):
    assert _after_the_condition(nhs_tables, diagnosis, "K26.0", told, proc) == expected


@pytest.mark.parametrize("told, proc, expected", [
    # the therapy or biopsy at a diagnostic endoscopic examination is coded, not the examination
    ("OGD: Mallory-Weiss tear treated with adrenaline 1:10,000 (6 ml injected) and two endoclips.", "G45.9", "G43.6"),
    ("OGD: grade 3 oesophageal varices, four bands applied.", "G45.9", "G43.7"),
    ("OGD: small varices, no red signs; banding not required.", "G45.9", "G45.9"),  # not done
    ("OGD: peptic stricture dilated to 15 mm with a CRE balloon.", "G45.9", "G44.3"),
    ("Rigid oesophagoscopy under GA: button battery impacted below cricopharyngeus, removed intact.", "G19.9", "G18.1"),
    ("OGD: impacted food bolus removed with a Roth net; biopsies taken.", "G45.9", "G44.2"),  # therapy first
    ("OGD: normal mucosa; duodenal biopsies taken for coeliac serology.", "G45.9", "G45.1"),
    ("OGD: Dieulafoy lesion, two haemoclips applied.", "G45.9", "G43.8"),
    ("Colonoscopy: 12 mm sigmoid polyp removed by hot snare.", "H22.9", "H20.1"),
    ("Flexible sigmoidoscopy and flatus tube decompression of the sigmoid volvulus.", "H25.9", "H24.5"),
    ("Flexible bronchoscopy: dental crown removed from the right lower lobe bronchus (foreign body).", "E49.9",
     "E48.5"),
    ("Colonoscopy complete to the caecum: normal.", "H22.9", "H22.9"),
    # an ERCP's sphincterotomy with the stones then removed, with a stent placed, or alone
    ("ERCP: biliary sphincterotomy, then balloon trawl - both stones and sludge removed.", "J43.9", "J38.1"),
    ("ERCP: sphincterotomy and a 10 Fr plastic stent placed across the stricture.", "J43.9", "J38.2"),
    ("ERCP: sphincterotomy; balloon trawl brought out sludge only, no stones.", "J43.9", "J38.9"),
    ("ERCP: sphincterotomy; duct clear, no stent needed.", "J38.9", "J38.9"),
    ("ERCP, biliary sphincterotomy and balloon stone extraction.", "J38.9", "J38.1"),
    ("ERCP: sphincterotomy; the large stone could not be extracted and a plastic stent was placed.", "J43.9", "J38.2"),
    ("ERCP: sphincterotomy performed; no stones seen, duct cleared of sludge.", "J43.9", "J38.9"),
    ("ERCP: previous sphincterotomy noted; two stones removed with a balloon.", "J43.9", "J43.9"),
    ("ERCP: sphincterotomy; the existing biliary stent was removed.", "J38.9", "J38.9"),
    ("ERCP: sphincterotomy and balloon trawl; did not require a stent.", "J38.9", "J38.9"),
])
def test_a_therapy_at_a_diagnostic_examination_is_coded_for_it(nhs_tables, told, proc, expected):
    tables = nhs_tables
    x = Excerpt(("procedures", told))
    out = run(tables, x, [code(tables, OPCS, proc, "primary", x.evidence(told, "procedures"))], "CON-035")
    assert [c.code for c in out.codes] == [expected]
    assert expected == proc or proc in [c.code for c in out.candidates]


@pytest.mark.parametrize("operation, site", [("W28.3", "Z70.5"), ("A73.3", "Z09.4"), ("T70.2", "Z58.1")])
def test_a_site_code_on_the_operations_own_statement_stays(opcs4_uk, operation, site):
    x = Excerpt(("procedures", "Removal of the plate from the left distal radius"))
    ev = x.evidence("Removal of the plate from the left distal radius", "procedures")
    out = run(opcs4_uk, x, [code(opcs4_uk, OPCS, operation, "primary", ev), code(opcs4_uk, OPCS, site, evidence=ev)],
              "SUP-005")
    assert [c.code for c in out.codes] == [operation, site] and not out.candidates


@pytest.mark.parametrize("told, coded, expected", [
    ("Emergency open repair of ruptured infrarenal AAA: 20 mm Dacron tube graft", "L19.4", "L18.4"),
    ("Open repair of a leaking infrarenal AAA with a tube graft", "L19.4", "L18.4"),
    ("Elective open repair of infrarenal AAA with a tube graft", "L18.4", "L19.4"),
    # nothing said either way, a rupture denied or the emergency department: the suggester's choice stands
    ("Open repair of infrarenal AAA with a tube graft", "L19.4", "L19.4"),
    ("Right femoral to popliteal bypass with reversed vein", "L59.3", "L59.3"),
    ("Open repair of a non-ruptured 6.2 cm infrarenal AAA with a tube graft", "L19.4", "L19.4"),
    ("Seen in the emergency department; open repair of infrarenal AAA with a tube graft", "L19.4", "L19.4"),
])
def test_an_operation_divided_by_urgency_is_coded_as_its_statement_says(nhs_tables, told, coded, expected):
    tables = nhs_tables
    x = Excerpt(("procedures", told))
    out = run(tables, x, [code(tables, OPCS, coded, "primary", x.evidence(told, "procedures"))], "CON-074")
    assert [c.code for c in out.codes] == [expected]
    assert bool(out.flags) is (coded != expected)


@pytest.mark.parametrize("diagnosis, offered, expected", [
    # the ruptured aneurysm the operation repaired makes it an emergency; one the suggester offered
    # in both categories is coded once, in the emergency one
    ("1. Ruptured infrarenal abdominal aortic aneurysm", ["L19.4"], ["L18.4"]),
    ("1. Ruptured infrarenal abdominal aortic aneurysm", ["L19.4", "L18.4"], ["L18.4"]),
    ("1. Infrarenal abdominal aortic aneurysm, 6.1 cm", ["L19.4"], ["L19.4"]),
])
def test_the_repair_of_a_ruptured_aneurysm_is_an_emergency(nhs_tables, diagnosis, offered, expected):
    told = "Open repair of infrarenal AAA with a tube graft"
    x = Excerpt(("diagnoses", diagnosis), ("procedures", told))
    dx = code(nhs_tables, WHO, "I71.3" if "Ruptured" in diagnosis else "I71.4", "primary",
              x.evidence(diagnosis, "diagnoses"))
    ops = [code(nhs_tables, OPCS, c, "primary" if i == 0 else "secondary", x.evidence(told, "procedures"))
           for i, c in enumerate(offered)]
    out = run(nhs_tables, x, [dx, *ops], "CON-074")
    assert [c.code for c in out.codes if c.system == OPCS.value] == expected


def test_a_site_code_the_operations_own_title_names_goes(opcs4_uk):
    told = "Fish bone removed from the upper oesophagus at rigid oesophagoscopy"
    x = Excerpt(("procedures", told))
    ev = x.evidence(told, "procedures")
    out = run(opcs4_uk, x, [code(opcs4_uk, OPCS, "G18.1", "primary", ev), code(opcs4_uk, OPCS, "Z27.1", evidence=ev)],
              "SUP-005")
    assert [c.code for c in out.codes] == ["G18.1"] and [c.code for c in out.candidates] == ["Z27.1"]


@pytest.mark.parametrize("told, coded, expected", [
    # each therapy at one OGD is coded, in the order told: the injection, then the clips
    ("OGD: duodenal ulcer with a visible vessel; adrenaline 10 ml injected, followed by two haemostatic clips.",
     ["G43.8"], ["G43.6", "G43.8"]),
    ("OGD: two clips to the vessel, then adrenaline injected around it.", ["G43.8"], ["G43.8", "G43.6"]),
    ("OGD: grade 3 varices, four bands applied; the bleeding ulcer injected with adrenaline.", ["G43.7"],
     ["G43.7", "G43.6"]),
    ("OGD: ulcer treated with adrenaline injection; no clips needed.", ["G43.6"], ["G43.6"]),  # not done
    ("OGD: ulcer injected with adrenaline; antral biopsies taken for CLO.", ["G43.6"], ["G43.6"]),  # no therapy
    ("OGD: clean-based ulcer, adrenaline and clips.", ["G45.1"], ["G45.1"]),  # a biopsy code is no therapy's
    # the clips coded already as the other therapeutic operation NEC: not twice
    ("OGD: adrenaline injected, followed by two haemostatic clips.", ["G44.8"], ["G43.6", "G44.8"]),
    ("OGD: ulcer injected with adrenaline; heater probe applied.", ["G44.1"], ["G44.1", "G43.6", "G43.3"]),
    # no therapy of this examination
    ("OGD: ulcer injected with adrenaline; varices too small to band.", ["G43.6"], ["G43.6"]),
    ("OGD: ulcer injected with adrenaline. Repeat OGD in 6 weeks for banding.", ["G43.6"], ["G43.6"]),
    ("OGD: ulcer injected with adrenaline; surgical clips from the fundoplication seen.", ["G43.6"], ["G43.6"]),
    ("OGD: ulcer injected with adrenaline; the dilated oesophagus held food residue.", ["G43.6"], ["G43.6"]),
])
def test_each_therapy_at_one_endoscopy_is_coded(nhs_tables, told, coded, expected):
    x = Excerpt(("procedures", told))
    codes = [code(nhs_tables, OPCS, c, "primary" if i == 0 else "secondary", x.evidence(told, "procedures"))
             for i, c in enumerate(coded)]
    out = run(nhs_tables, x, codes, "CON-035", "CON-065")
    assert [c.code for c in out.codes] == expected
    assert all("CON-065" in c.rules for c in out.codes if c.code not in coded)


@pytest.mark.parametrize("told, then, proc, expected", [
    # the rest of the examination's paragraph tells what was done at it
    ("OGD 07/03/2026: 2 cm linear tear above the gastro-oesophageal junction, oozing.",
     "Treated with adrenaline 1:10,000 (6 ml injected) and two endoclips.", "G45.9", "G43.6"),
    ("Flexible bronchoscopy under sedation. The crown was sitting in the bronchus intermedius.",
     "It was grasped with a retrieval basket and removed in one piece.", "E49.9", "E48.5"),
    ("Microlaryngoscopy: exophytic lesion of the left false cord.", "Multiple biopsies taken for histology.",
     "E36.9", "E36.1"),
    ("Cystoscopy: a 1 cm papillary lesion at the dome.", "Cold-cup biopsies taken.", "M45.9", "M45.1"),
    # another operation by another route is not the examination's account
    ("OGD: normal mucosa to the second part of the duodenum.", "CT-guided liver biopsy was taken the next day.",
     "G45.9", "G45.9"),
])
def test_the_examinations_account_goes_on_in_its_paragraph(nhs_tables, told, then, proc, expected):
    tables = nhs_tables
    x = Excerpt(("procedures", told), ("procedures", then))
    out = run(tables, x, [code(tables, OPCS, proc, "primary", x.evidence(told, "procedures"))], "CON-035")
    assert [c.code for c in out.codes] == [expected]


@pytest.mark.parametrize("line, operation, condition, c, kept", [
    # the condition an earlier operation removed is history, not a condition of the episode
    ("Right total hip replacement 2017 for osteoarthritis.", "total hip replacement", "osteoarthritis", "M19.9", False),
    ("R TKR 2018 (OA)", "TKR", "OA", "M17.9", False),
    # a short aside between the operation and its reason
    ("Right total hip replacement (cemented) 2019 for osteoarthritis.", "total hip replacement", "osteoarthritis",
     "M16.9", False),
    ("Laparoscopic cholecystectomy in 2015 for gallstones.", "Laparoscopic cholecystectomy", "gallstones", "K80.2",
     False),
    # no earlier operation took it away
    ("Osteoarthritis of both knees; total knee replacement planned.", "total knee replacement", "Osteoarthritis",
     "M17.0", True),
])
def test_a_condition_an_earlier_operation_removed_is_not_coded(tables, line, operation, condition, c, kept):
    x = Excerpt(MAIN, ("past_medical_history", line))
    mentions = [x.mention(operation, "past_medical_history", label="PROCEDURE",
                          assertion="historical" if kept is False else "hypothetical"),
                x.mention(condition, "past_medical_history", assertion="historical")]
    codes = [code(tables, WHO, "J18.9", "primary", x.evidence(MAIN[1], "diagnoses")),
             code(tables, WHO, c, evidence=x.evidence(line, "past_medical_history"))]
    out = run(tables, x, codes, "CON-036", mentions=mentions)
    assert [s.code for s in out.codes] == (["J18.9", c] if kept else ["J18.9"])
    assert kept or [f.rule for f in out.flags] == ["CON-036"]


def test_what_the_reason_line_denies_does_not_keep_the_removed_condition(tables):
    line = "She had a left total hip replacement in 2019 for osteoarthritis, which remains pain-free."
    x = Excerpt(MAIN, ("past_medical_history", line))
    mentions = [x.mention("total hip replacement", "past_medical_history", label="PROCEDURE", assertion="historical"),
                x.mention("osteoarthritis", "past_medical_history", assertion="historical"),
                x.mention("pain", "past_medical_history", label="FINDING", assertion="negated")]
    codes = [code(tables, WHO, "J18.9", "primary", x.evidence(MAIN[1], "diagnoses")),
             code(tables, WHO, "M16.9", evidence=x.evidence(line, "past_medical_history"))]
    out = run(tables, x, codes, "CON-036", mentions=mentions)
    assert [s.code for s in out.codes] == ["J18.9"]


@pytest.mark.parametrize("told, proc, expected", [
    # a code whose title names its side takes no laterality code
    ("Total abdominal hysterectomy and bilateral salpingo-oophorectomy.", "Q22.1", ["Q22.1"]),
    ("Bilateral oophorectomy for BRCA2.", "Q22.3", ["Q22.3"]),
    ("Left salpingectomy for ectopic pregnancy.", "Q24.2", ["Q24.2", "Z94.3"]),
    ("Left unilateral salpingo-oophorectomy.", "Q23.1", ["Q23.1", "Z94.3"]),  # unilateral: which side?
])
def test_a_code_whose_title_names_its_side_takes_no_laterality_code(nhs_tables, told, proc,
                                                                  expected):
    tables = nhs_tables
    x = Excerpt(("procedures", told))
    out = run(tables, x, [code(tables, OPCS, proc, "primary", x.evidence(told, "procedures"))], "SUP-001")
    assert [c.code for c in out.codes] == expected


def test_a_skin_operation_whose_title_names_its_site_takes_no_site_code(nhs_tables):
    told = "Radical excision of the sweat-gland-bearing skin of the left axilla; grafts harvested from the thigh."
    assert _after_the_condition(nhs_tables, "Hidradenitis suppurativa.", "L73.2", told,
                                "S04.1") == ["S04.1", "Z94.3"]


@pytest.mark.parametrize("heading, expected", [
    # the heading names the session's approach and side: functional endoscopic sinus (Y76.1) and nasal (Y76.2) surgery
    ("Procedure (GA) - bilateral FESS:", ["E14.2", "Y76.1", "Z94.1", "E08.1", "Y76.2"]),
    ("Procedure (GA):", ["E14.2", "E08.1"]),
])
def test_the_procedures_heading_tells_the_sessions_approach(nhs_tables, heading, expected):
    tables = nhs_tables
    lines = ["1. Anterior and posterior ethmoidectomy.", "2. Nasal polypectomy (microdebrider)."]
    x = Excerpt(("procedures", heading), *(("procedures", line) for line in lines))
    codes = [code(tables, OPCS, "E14.2", "primary", x.evidence(lines[0], "procedures")),
             code(tables, OPCS, "E08.1", evidence=x.evidence(lines[1], "procedures"))]
    assert [c.code for c in run(tables, x, codes, "SUP-001").codes] == expected


@pytest.mark.parametrize("line, expected", [
    ("Endoscopic endonasal transsphenoidal resection of pituitary macroadenoma", ["B04.1", "Y76.6"]),
    ("Microscopic trans-sphenoidal excision of pituitary adenoma", ["B04.1", "Y46.1"]),
    ("Excision of pituitary adenoma", ["B04.1"]),
])
def test_pituitary_surgery_through_the_nose_takes_its_approach(nhs_tables, line, expected):
    x = Excerpt(("procedures", line))
    codes = [code(nhs_tables, OPCS, "B04.1", "primary", x.evidence(line, "procedures"))]
    assert [c.code for c in run(nhs_tables, x, codes, "SUP-001").codes] == expected


def test_the_header_of_the_procedures_gives_its_image_control_to_each_operation(nhs_tables):
    """A header the text stage reads as the section's title (not a sentence of it) still tells the
    session: "Procedure (under general anaesthetic, with fluoroscopic control):"."""
    tables = nhs_tables
    line = "1. Holmium laser lithotripsy of the left ureteric stone."
    x = Excerpt((None, "Procedure (under general anaesthetic, with fluoroscopic control):"), ("procedures", line))
    x.sentences = x.sentences[1:]  # the header is the section's title
    out = run(tables, x, [code(tables, OPCS, "M27.1", "primary", x.evidence(line, "procedures"))], "SUP-001")
    assert [c.code for c in out.codes] == ["M27.1", "Y53.4", "Z94.3"]


@pytest.mark.parametrize("lines, expected", [
    # the list names one side: the lens implant after the left vitrectomy is on the left eye
    (["1. Left pars plana vitrectomy", "2. Lens implant in the bag"], ["C79.2", "Z94.3", "C75.1", "Z94.3"]),
    # two sides named: an operation whose own words name none gets none
    (["1. Left pars plana vitrectomy", "2. Right cemented hemiarthroplasty", "3. Lens implant in the bag"],
     ["C79.2", "Z94.3", "W46.1", "Z94.2", "C75.1"]),
])
def test_the_side_of_an_operation_is_the_sessions_where_it_names_one(tables, lines, expected):
    x = Excerpt(*(("procedures", line) for line in lines))
    found = {"vitrectomy": "C79.2", "hemiarthroplasty": "W46.1", "implant": "C75.1"}
    codes = [code(tables, OPCS, next(c for w, c in found.items() if w in line), "primary" if i == 0 else "secondary",
                  x.evidence(line, "procedures")) for i, line in enumerate(lines)]
    out = run(tables, x, codes, "SUP-001")
    assert [c.code for c in out.codes] == expected


def test_diagnostic_imaging_is_not_coded_for_admitted_patients(tables):
    x = Excerpt(("investigations", "CT head: no acute intracranial abnormality"), ("procedures", "Lap chole"))
    out = run(tables, x, [code(tables, OPCS, "U21.2", "primary"), code(tables, OPCS, "J18.3")], "CON-007")
    assert [c.code for c in out.codes] == ["J18.3"] and "U21.2" in [c.code for c in out.candidates]


@pytest.mark.parametrize("first, definitive", [
    ("Z92.1", "I26.9"),  # a status code never heads the diagnoses when a condition is coded
    ("W19", "S72.0"),  # nor an external cause
    ("Z86.7", "I10"),
    ("Z88.0", "J18.9"),  # penicillin allergy status after the pneumonia it bears on
    ("Z95.0", "I48.9"),
    ("W01", "S72.1"),  # the fall after the fracture it caused
    ("Y83.1", "T84.5"),  # the complication, then the procedure that caused it
])
def test_history_status_and_external_cause_codes_are_not_primary(tables, first, definitive):
    x = Excerpt(("diagnoses", "Line"))
    out = run(tables, x, [code(tables, WHO, first, "primary", score=0.95), code(tables, WHO, definitive, score=0.5)],
              "SEQ-005")
    assert [c.code for c in out.codes] == [definitive, first] and out.codes[0].role == "primary"


def test_an_asterisk_code_never_takes_the_place_of_an_external_cause_at_the_head(tables):
    """W19 heads the list; the asterisk G63.2 (scored high, as a code a rule added is) does not
    take its place: the injury does (SEQ-005 reads CON-005's asterisks)."""
    x = Excerpt((None, "Fall at home"), (None, "Distal radius fracture"))
    codes = [code(tables, WHO, "W19", "primary", score=0.9), code(tables, WHO, "G63.2", score=1.0),
             code(tables, WHO, "S52.5", score=0.5)]
    out = run(tables, x, codes, "CON-005", "SEQ-005")
    assert out.codes[0].code == "S52.5"


@pytest.mark.parametrize("line, section, coded", [
    ("Echo: mild mitral regurgitation, LVEF 55%", "investigations", False),  # a finding no line takes up
    ("K 3.1 - hypokalaemia, replaced IV", "investigations", True),  # a result taken up where it is given
    ("2. Mild mitral regurgitation", "diagnoses", True),
])
def test_a_finding_only_in_the_results_is_not_coded(tables, line, section, coded):
    x = Excerpt(("diagnoses", "1. Community acquired pneumonia"), (section, line))
    finding = "I34.0" if "mitral" in line else "E87.6"
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("1. Community acquired pneumonia", "diagnoses")),
                          code(tables, WHO, finding, evidence=x.evidence(line, section))], "CON-019")
    assert [c.code for c in out.codes] == (["J18.9", finding] if coded else ["J18.9"])


def test_one_code_per_statement(tables):
    x = Excerpt(("diagnoses", "4. Paroxysmal atrial fibrillation"), ("diagnoses", "5. Hypertension"))
    af = x.evidence("4. Paroxysmal atrial fibrillation", "diagnoses")
    codes = [code(tables, WHO, "I48.9", evidence=af, score=0.9), code(tables, WHO, "I10", "primary",
                                                                      x.evidence("5. Hypertension", "diagnoses"))]

    codes.append(replace(code(tables, WHO, "I48.0", evidence=af, score=0.6), suggest=0.8))
    codes[0] = replace(codes[0], suggest=0.4)
    out = run(tables, x, codes, "CON-008")
    assert [c.code for c in out.codes] == ["I10", "I48.0"]
    assert out.flags[0].codes == ("I48.9", "I48.0")


def test_one_statement_may_name_two_siblings(tables):
    # magnesium and calcium: two conditions of E83 in one sentence, both coded
    line = "The low calcium and low potassium were secondary to the magnesium deficiency."
    x = Excerpt(("discharge_summary", line))
    ev = x.evidence(line, "discharge_summary")
    codes = [replace(code(tables, WHO, "E83.5", "primary", ev), suggest=0.7),
             replace(code(tables, WHO, "E83.4", evidence=ev), suggest=0.4)]
    out = run(tables, x, codes, "CON-008")
    assert [c.code for c in out.codes] == ["E83.5", "E83.4"]


@pytest.mark.parametrize("own, kept", [
    ("1. Common bile duct stones with obstructive jaundice", ["K80.2", "K80.5"]),  # its own statement names it
    ("1. Stones, as above", ["K80.2"]),  # its other statement names nothing of its own
])
def test_a_sibling_its_own_statement_names_stays(tables, own, kept):
    x = Excerpt(("diagnoses", own), ("diagnoses", "3. Gallbladder stones (cholelithiasis), no cholecystitis"))
    gb = x.evidence("3. Gallbladder stones (cholelithiasis), no cholecystitis", "diagnoses", support=0.8)
    codes = [replace(code(tables, WHO, "K80.2", "primary", gb), suggest=0.83),
             replace(code(tables, WHO, "K80.5", evidence=x.evidence(own, "diagnoses", support=0.67) + gb), suggest=0.78)]
    out = run(tables, x, codes, "CON-008")
    assert [c.code for c in out.codes] == kept


@pytest.mark.parametrize("other_line, kept", [
    (None, ["D50.9"]),  # one statement that names nothing "other": the unspecified sibling
    ("2. Iron deficiency from poor dietary intake", ["D50.8", "D50.9"]),  # a statement of its own: not one statement
])
def test_an_other_subdivision_gives_way_to_its_sibling_on_one_statement(tables, other_line, kept):
    line = "1. Iron deficiency anaemia on routine bloods: Hb 101, ferritin 7."
    x = Excerpt(("diagnoses", line), *([("diagnoses", other_line)] if other_line else []))
    ev = x.evidence(line, "diagnoses")
    codes = [replace(code(tables, WHO, "D50.8", "primary", x.evidence(other_line, "diagnoses") if other_line else ev),
                     suggest=0.84),
             replace(code(tables, WHO, "D50.9", evidence=ev), suggest=0.5)]
    out = run(tables, x, codes, "CON-008")
    assert [c.code for c in out.codes] == kept and out.codes[0].role == "primary"


@pytest.mark.parametrize("first, ids, kept", [
    ("E16.2", ("CON-017", "CON-008"), ["E11.6", "E11.2"]),  # the combination CON-017 made stays beside its sibling
    ("E16.2", ("CON-008",), ["E16.2", "E11.2"]),
    ("E11.6", ("CON-008",), ["E11.6"]),  # suggested by the ranker, not made: one code per statement
])
def test_a_code_a_combination_rule_made_stays_beside_its_sibling(tables, first, ids, kept):
    line = "1. Recurrent hypoglycaemia due to gliclazide in type 2 diabetes with nephropathy, CKD stage 4."
    x = Excerpt(("diagnoses", line))
    ev = x.evidence(line, "diagnoses")
    codes = [replace(code(tables, WHO, first, "primary", ev), suggest=0.75),
             replace(code(tables, WHO, "E11.2", evidence=ev), suggest=0.5)]
    candidates = [replace(code(tables, WHO, "E11.6", evidence=ev, score=0.2), role="candidate")]
    out = run(tables, x, codes, *ids, candidates=candidates)
    assert [c.code for c in out.codes] == kept and out.codes[0].role == "primary"


def test_one_operation_per_statement_prefers_the_specified_sibling(tables):
    x = Excerpt(("procedures", "Procedure: OGD, biopsies"), ("diagnoses", "1. Oesophagitis"))
    ogd = x.evidence("Procedure: OGD, biopsies", "procedures")
    codes = [replace(code(tables, OPCS, "G45.9", "primary", ogd), suggest=0.7),
             replace(code(tables, OPCS, "G45.1", evidence=ogd), suggest=0.6)]
    out = run(tables, x, codes, "CON-008")
    assert [c.code for c in out.codes] == ["G45.1"]


def test_a_suggested_allergy_code_on_a_side_effect_is_not_coded(tables):
    x = Excerpt(MAIN, ("allergies", "Clarithromycin gives him diarrhoea."))
    codes = [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
             code(tables, WHO, "Z88.1", evidence=x.evidence("Clarithromycin gives him diarrhoea.", "allergies"))]
    out = run(tables, x, codes, "HIS-001")
    assert [c.code for c in out.codes] == ["J18.9"]
    assert any(f.rule == "HIS-001" and "diarrhoea" in f.message for f in out.flags)


def test_short_prophylaxis_is_not_long_term_anticoagulation(tables):
    x = Excerpt(MAIN, ("medications", "Rivaroxaban 10 mg OD for 14 days (VTE prophylaxis)"))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses"))], "HIS-001")
    assert [c.code for c in out.codes] == ["J18.9"]


@pytest.mark.parametrize("section, line, expected", [
    ("past_medical_history", "- Smoker, 8 cigarettes/day.", ["J18.9", "F17.1"]),
    ("diagnoses", "5. Tobacco smoker (20/day) - NRT patches on the ward", ["J18.9", "F17.1"]),
    (None, "He had a right total hip replacement in 2015, which has served him well.", ["J18.9", "Z96.6"]),
    (None, "A right total hip replacement is planned for the spring.", ["J18.9"]),  # no year before the letter's
])
def test_tobacco_use_and_joint_implants_are_coded_where_the_letter_tells_them(tables, section, line, expected):
    x = Excerpt(MAIN, (section, line), ("plan", "Review on 12/03/2026."))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses"))], "HIS-001")
    assert [c.code for c in out.codes] == expected


@pytest.fixture(scope="module")
def who_icd10_uk(shared_data, opcs4_fixture):
    """The UK ICD-10 5th Edition table (its fifth characters for place and activity) and the OPCS-4 fixture."""
    return {WHO: load_table(WHO, shared_data / "icd10-uk" / "icd10_uk_codes.tsv"), OPCS: load_table(OPCS, opcs4_fixture)}


@pytest.mark.parametrize("story, expected", [
    ("She tripped over the edge of a rug in her living room at home.", "W01.09"),
    ("Slipped on ice on the pavement this morning while on her delivery round.", "W00.42"),
    ("He fell approx 2.5 m from a ladder while clearing the gutters at home.", "W11.03"),
    ("Cycling along the main road when a van pulled out and struck his front wheel.", "V13.49"),
    ("PC: cyclist v car at roundabout, knocked off bike, landed on R knee.", "V13.49"),
    ("He came off his bicycle on the road after hitting a pothole.", "V18.49"),
    ("MOI: Motorcyclist (rider) on way to work, collided with a car pulling out of a side road.", "V23.4"),
    ("He came off his motorbike on a wet bend on the road home.", "V28.49"),
    ("Motor bike rider, collided with a car at a junction.", "V23.4"),  # not a pedal cyclist's
    # a mobility scooter is a pedestrian conveyance, not a motorcycle
    ("She came off her mobility scooter in the supermarket car park.", None),
    ("Thrown from her horse at a canter while out hacking for pleasure.", "V80.01"),
    ("Mechanical fall at home onto her left side.", "W19.09"),
    # a public park is an other specified place; walking the dog, leisure
    ("Walking her dog in the public park, she tripped over the lead - mechanical fall.", "W01.81"),
    # carrying the laundry down the stairs is household work
    ("Fell down the stairs at home while carrying a laundry basket downstairs.", "W10.03"),
    # a foot caught is a trip; getting up for the toilet is a vital activity
    ("At home at 02:00 she got up to use the toilet, caught her slipper on the mat and fell backwards.", "W01.04"),
    ("Her haemoglobin fell to 85 after the operation.", None),  # a number that fell is no fall
])
def test_an_injury_is_followed_by_the_external_cause_the_letter_tells(who_icd10_uk, story, expected):
    x = Excerpt(("diagnoses", "1. Closed fracture of the neck of femur"), (None, story))
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, "S72.00", "primary", x.evidence("Closed fracture", "diagnoses"))],
              "CON-029")
    assert [c.code for c in out.codes] == ["S72.00"] + ([expected] if expected else [])
    if expected:
        assert out.codes[1].rules == ("CON-029",) and out.codes[1].evidence[0].text == story


def test_the_place_of_a_told_mechanism_may_come_from_the_injury_statement(who_icd10_uk):
    # the story tells the trip but not where; the injury's own line says "at home"
    x = Excerpt(("diagnoses", "Laceration to scalp following a fall at home"),
                ("hpc", "She got up to use the toilet, caught her slipper on the mat and fell backwards."))
    ev = x.evidence("Laceration to scalp following a fall at home", "diagnoses")
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, "S01.0", "primary", ev)], "CON-029")
    assert [c.code for c in out.codes] == ["S01.0", "W01.04"]


def test_a_told_mechanism_replaces_an_unspecified_fall(who_icd10_uk):
    x = Excerpt(("diagnoses", "1. Distal radius fracture after a fall at home"),
                (None, "She tripped over the edge of her hallway rug."))
    ev = x.evidence("1. Distal radius fracture after a fall at home", "diagnoses")
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, "S52.50", "primary", ev), code(who_icd10_uk, WHO, "W19.09", evidence=ev)],
              "CON-029")
    assert [c.code for c in out.codes] == ["S52.50", "W01.09"] and "W19.09" in [c.code for c in out.candidates]


@pytest.mark.parametrize("other, kept", [
    ("I70.2", ["I70.2"]),  # atherosclerosis of the arteries of the limbs says what the disease is
    ("E11.5", ["E11.5"]),  # so does diabetes with peripheral circulatory complications
    ("I10", ["I10", "I73.9"]),
])
def test_unspecified_peripheral_vascular_disease_gives_way_to_what_it_is(tables, other, kept):
    x = Excerpt(("diagnoses", "1. Critical limb ischaemia with rest pain due to atherosclerosis"), (None, "PVD."))
    out = run(tables, x, [code(tables, WHO, other, "primary"), code(tables, WHO, "I73.9")], "CON-030")
    assert [c.code for c in out.codes] == kept


@pytest.mark.parametrize("codes, kept", [
    (["D50.9", "D64.9"], ["D50.9"]),  # "iron deficiency anaemia" read also as "anaemia"
    (["N10", "N39.0"], ["N10"]),  # the infection's site is coded
    (["N39.0", "R10.4", "N10"], ["N10", "R10.4"]),  # in the place of the code it replaces
    (["N39.0", "D64.9"], ["N39.0", "D64.9"]),
    (["J02.9", "B27.0"], ["B27.0"]),  # the sore throat of glandular fever is the glandular fever's
    (["L02.2", "N61"], ["N61"]),  # a breast abscess is the breast's, not the trunk's skin
    (["N99.3", "N81.4"], ["N99.3"]),  # a vault prolapse after hysterectomy is no uterovaginal prolapse
    (["G41.0", "G40.3"], ["G41.0"]),  # status epilepticus in known epilepsy: G40 excludes G41
    (["F01.9", "F03"], ["F01.9"]),  # "vascular dementia" read also as "dementia"
    (["F32.3", "F99"], ["F32.3"]),  # "his first episode of mental illness" beside the depression
    (["N28.1", "Q61.2"], ["Q61.2"]),  # the cysts of polycystic kidney disease are no acquired cyst
    (["K40.4", "K56.6"], ["K40.4"]),  # the obstruction of a strangulated hernia is the hernia's
    (["K40.9", "K56.6"], ["K40.9", "K56.6"]),  # a hernia without obstruction explains none
    (["K70.3", "K74.6"], ["K70.3"]),  # alcoholic cirrhosis is not also unspecified cirrhosis
    (["K50.0", "K52.9"], ["K50.0"]),  # the colitis of Crohn's disease is the Crohn's disease
    (["I15.2", "I10"], ["I15.2"]),  # hypertension secondary to a phaeochromocytoma is not also essential
    (["J44.1", "J43.9"], ["J44.1"]),  # the emphysema of COPD is the COPD (J43 excludes it)
    (["J43.9", "I10"], ["J43.9", "I10"]),  # emphysema without COPD stays
    (["I20.9", "I21.4"], ["I21.4"]),  # the angina of an NSTEMI is the infarction's
    (["M47.1", "G99.2", "G95.2"], ["M47.1", "G99.2"]),  # the cord compression of spondylotic myelopathy
    (["M50.0", "M25.7"], ["M50.0"]),  # the osteophyte of a cervical disc disorder is the disorder's
    (["I50.0", "J90"], ["I50.0"]),  # the pleural effusions of heart failure are the heart failure's
    (["C92.1", "D72.8"], ["C92.1"]),  # the leucocytosis of chronic myeloid leukaemia is the leukaemia
    (["J18.9", "D72.8"], ["J18.9", "D72.8"]),  # beside a pneumonia it is coded if the clinician does
    (["I83.1", "L30.9"], ["I83.1"]),  # varicose eczema is varicose veins with inflammation
    (["M34.1", "I73.0"], ["M34.1"]),  # the Raynaud's of CREST
    (["I30.9", "I31.3"], ["I30.9"]),  # the effusion of an acute pericarditis is inflammatory
    (["E88.3", "E87.5", "E79.0"], ["E88.3"]),  # the hyperkalaemia and hyperuricaemia of tumour lysis
    (["D61.9", "D70"], ["D61.9"]),  # the neutropenia of an aplastic anaemia
    (["P36.4", "B96.2"], ["P36.4"]),  # the code names the organism
    (["E11.9", "R73.9"], ["E11.9"]),  # R73 excludes diabetes
    (["R73.9", "J18.9"], ["R73.9", "J18.9"]),  # steroid hyperglycaemia without diabetes stays
    (["E05.2", "E04.2"], ["E05.2"]),  # a toxic multinodular goitre is not also non-toxic
    (["D34", "E04.1"], ["D34"]),  # the nodule histology shows is an adenoma
    (["H04.5", "H04.2"], ["H04.5"]),  # the watering of a blocked tear duct
    (["E51.2", "H49.2"], ["E51.2"]),  # the ophthalmoplegia of Wernicke's encephalopathy
    (["T85.0", "H47.1"], ["T85.0"]),  # the papilloedema of a blocked shunt
    (["E26.0", "E87.6"], ["E26.0"]),  # the hypokalaemia of Conn's syndrome
    (["C45.0", "J90"], ["C45.0"]),  # the effusion of a pleural mesothelioma
    (["C78.2", "J90"], ["C78.2"]),  # a malignant pleural effusion
    (["J86.9", "J90"], ["J86.9"]),  # the effusion of an empyema is its pus
    (["J21.0", "J00"], ["J21.0"]),  # the coryzal prodrome of a bronchiolitis
    (["J45.9", "J00"], ["J45.9", "J00"]),  # a cold that set off an asthma attack is coded
    (["C34.1", "J90"], ["C34.1", "J90"]),  # an effusion beside a lung cancer is not said to be malignant
    (["J18.1", "J69.0"], ["J69.0"]),  # an aspiration pneumonia is coded as one (J18 excludes it)
    (["K82.9", "K85.1", "K80.1"], ["K80.1", "K85.1"]),  # the gallstones say what the gallbladder disease is
    (["N73.9", "A56.1"], ["A56.1"]),  # a chlamydial pelvic inflammatory disease is coded as one
    (["I48.9", "F10.1", "Z72.1"], ["I48.9", "F10.1"]),  # the alcohol use of a harmful use of alcohol
    (["H40.1", "H53.1"], ["H40.1", "H53.1"]),  # beside glaucoma the distortion stays
    (["L40.5", "M13.9"], ["L40.5"]),  # the arthritis of a flare of psoriatic arthritis
    (["M13.1", "M10.0"], ["M10.0"]),  # the monoarthritis is gout
    (["M13.9", "L40.0"], ["M13.9", "L40.0"]),  # plaque psoriasis says nothing of the arthritis
])
def test_an_unspecified_code_gives_way_to_the_stated_kind_of_its_condition(tables, codes, kept):
    x = Excerpt(("diagnoses", "1. Iron deficiency anaemia. 2. Pyelonephritis."))
    out = run(tables, x, [code(tables, WHO, c, "primary" if n == 0 else "secondary") for n, c in enumerate(codes)],
              "CON-030")
    assert [c.code for c in out.codes] == kept


def test_an_organism_code_is_never_the_primary_diagnosis(tables):
    line = "1. Urosepsis secondary to E. coli urinary tract infection (pyelonephritis)"
    x = Excerpt(("primary_diagnosis", line))
    ev = x.evidence(line, "primary_diagnosis")
    out = run(tables, x, [code(tables, WHO, "B96.2", "primary", ev), code(tables, WHO, "N10", evidence=ev)], "SEQ-005")
    assert [c.code for c in out.codes] == ["N10", "B96.2"]


@pytest.mark.parametrize("code_, operation, kept", [
    ("K40.9", "open mesh repair", False),  # the hernia was repaired
    ("K40.9", None, True),  # a hernia in the history, nothing said of its repair
    ("K50.9", "right hemicolectomy", True),  # Crohn's disease outlasts its resection
])
def test_a_past_condition_an_earlier_operation_resolved_is_not_coded(tables, code_, operation, kept):
    line = f"He had an {operation or 'uncomplicated'} of a right inguinal hernia in 2019."
    x = Excerpt(MAIN, ("past_medical_history", line))
    mentions = [x.mention(operation, "past_medical_history", label="PROCEDURE")] if operation else []
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, code_, evidence=x.evidence(line, "past_medical_history"))], "HIS-006",
              mentions=mentions)
    assert (code_ in [c.code for c in out.codes]) is kept


@pytest.mark.parametrize("lines, deficits, expected", [
    # the deficits the letter lists with the stroke are coded after it
    (("- Expressive dysphasia", "- Oropharyngeal dysphagia, NG fed 04/12 - 13/12"), ("dysphasia", "dysphagia"),
     ["I63.9", "R47.0", "R13"]),
    (("- Right homonymous hemianopia",), ("homonymous hemianopia",), ["I63.9", "H53.4"]),
    # a swallow screen passed names no dysphagia; a deficit denied is not coded
    (("- Swallow screen passed; normal diet",), ("Swallow screen",), ["I63.9"]),
    (("- No dysphasia or dysphagia",), ("dysphasia", "dysphagia"), ["I63.9"]),
    # words that share a title's word but name no deficit of the stroke
    (("- Aphasia-friendly information leaflet given",), ("Aphasia",), ["I63.9"]),
    (("- Visual hallucinations at night with delirium",), ("Visual hallucinations",), ["I63.9"]),
    # a deficit of another cause, an earlier one, or resolved
    (("- Dysphagia secondary to a benign oesophageal stricture",), ("Dysphagia",), ["I63.9"]),
    (("- Dysphagia secondary to the stroke, PEG planned",), ("Dysphagia",), ["I63.9", "R13"]),
    (("- Alcohol-related cerebellar ataxia (long-standing)",), ("cerebellar ataxia",), ["I63.9"]),
    (("- Transient expressive dysphasia, fully resolved before arrival",), ("expressive dysphasia",), ["I63.9"]),
])
def test_the_deficits_a_letter_states_of_a_stroke_are_coded_with_it(tables, lines, deficits, expected):
    x = Excerpt(("diagnoses", "1. Left MCA territory ischaemic stroke"), *(("diagnoses", line) for line in lines))
    negated = lines[0].startswith("- No")
    mentions = [x.mention(d, "diagnoses", label="FINDING", assertion="negated" if negated else "present")
                for d in deficits]
    ev = tuple(e for line in lines for e in x.evidence(line, "diagnoses"))
    candidates = [code(tables, WHO, c, "candidate", ev, score=0.5) for c in ("R47.0", "R13", "H53.4", "R27.0", "R47.1")]
    out = run(tables, x, [code(tables, WHO, "I63.9", "primary", x.evidence("ischaemic stroke", "diagnoses"))],
              "CON-056", mentions=mentions, candidates=candidates)
    assert [c.code for c in out.codes] == expected
    assert all("CON-056" in c.rules for c in out.codes[1:])


@pytest.mark.parametrize("section, line, mention, assertion, expected", [
    # retention of this episode, named anywhere in the letter (not in the ranker's evidence for R33)
    ("diagnoses", "1. AUR 2o to BPH - constipation contributing", "AUR", "present", ["N40", "R33"]),
    ("diagnoses", "2. Clot retention: three-way catheter and washout", "Clot retention", "present", ["N40", "R33"]),
    # one the letter only warns of, one denied, one of an earlier episode
    (None, "Check for urinary retention before considering other causes.", "urinary retention", "hypothetical",
     ["N40"]),
    (None, "No urinary retention: bladder scan 40 ml.", "urinary retention", "negated", ["N40"]),
    ("past_medical_history", "- Urinary retention 2019, catheterised", "Urinary retention", "present", ["N40"]),
    (None, "He had an episode of urinary retention last year requiring a catheter.", "urinary retention", "present",
     ["N40"]),
    (None, "Marked fluid retention with leg oedema, treated with furosemide.", "fluid retention", "present", ["N40"]),
    (None, "He had acute urinary retention in 2019, catheterised then.", "acute urinary retention", "present",
     ["N40"]),
])
def test_urinary_retention_of_this_episode_is_coded_beside_its_cause(tables, section, line, mention, assertion,
                                                                     expected):
    x = Excerpt(("diagnoses", "Benign prostatic hyperplasia"), (section, line), (None, "Urine dip: blood +."))
    retention = code(tables, WHO, "R33", "candidate", x.evidence("Urine dip: blood +."), score=0.4)
    out = run(tables, x, [code(tables, WHO, "N40", "primary", x.evidence("Benign prostatic hyperplasia", "diagnoses"))],
              "CON-059", mentions=[x.mention(mention, section, label="FINDING", assertion=assertion)],
              candidates=[retention])
    assert [c.code for c in out.codes] == expected
    if "R33" in expected:  # its evidence is the sentence that names it
        assert out.codes[1].evidence[0].text == line and out.codes[1].rules == ("CON-059",)


@pytest.mark.parametrize("line, mention, assertion, expected", [
    ("- Dehydration: IV Hartmann's 3 L over the first 24 h.", "Dehydration", "present", ["A08.4", "E86"]),
    ("Her potassium was 2.9; hypokalaemia was replaced orally.", "hypokalaemia", "present", ["A08.4", "E87.6"]),
    ("She was miserable but well perfused and not dehydrated.", "dehydrated", "negated", ["A08.4"]),
    # the anaemia of an acute loss of blood, named so; an anaemia of another kind is not it
    ("3. Acute blood loss anaemia - Hb nadir 71 g/L, transfused.", "anaemia", "present", ["A08.4", "D62"]),
    ("3. Iron deficiency anaemia - Hb 98 g/L; estimated blood loss nil.", "anaemia", "present", ["A08.4"]),
])
def test_dehydration_hypokalaemia_and_blood_loss_anaemia_of_this_episode_are_coded(tables, line, mention, assertion,
                                                                                   expected):
    x = Excerpt(("diagnoses", "Viral gastroenteritis"), (None, line), (None, "Stool culture negative."))
    ev = x.evidence("Stool culture negative.")
    candidates = [code(tables, WHO, c, "candidate", ev, score=0.3) for c in ("E86", "E87.6", "D62")]
    out = run(tables, x, [code(tables, WHO, "A08.4", "primary", x.evidence("Viral gastroenteritis", "diagnoses"))],
              "CON-059", mentions=[x.mention(mention, label="FINDING", assertion=assertion)], candidates=candidates)
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("line, expected", [
    # the past history's chronic condition, coded last (a background condition)
    ("- Osteoarthritis of both knees", ["J18.9", "I10", "M17.0"]),
    ("- Bilateral knee osteoarthritis, awaiting review", ["J18.9", "I10", "M17.0"]),
    ("- Osteoarthritis of the right knee", ["J18.9", "I10"]),  # one knee: not the bilateral code
    ("- Osteoarthritis of both knees, the right replaced in 2019", ["J18.9", "I10"]),
    ("- Osteoarthritis of both hips", ["J18.9", "I10"]),
    ("- Osteoarthritis of both knees - right TKR 2019", ["J18.9", "I10"]),
    ("- Generalised osteoarthritis affecting both knees and hands", ["J18.9", "I10"]),
    ("- Bilateral OA knees", ["J18.9", "I10", "M17.0"]),
    ("- Pain in both knees, no injury", ["J18.9", "I10"]),  # their pain, no osteoarthritis named
    # a replacement still to come leaves both knees' osteoarthritis
    ("- Osteoarthritis of both knees - on the waiting list for a right total knee replacement",
     ["J18.9", "I10", "M17.0"]),
])
def test_osteoarthritis_of_both_knees_is_coded(tables, line, expected):
    x = Excerpt(("diagnoses", "Community-acquired pneumonia"), ("past_medical_history", line))
    gonarthrosis = code(tables, WHO, "M17.0", "candidate", x.evidence("Community-acquired pneumonia"), score=0.0)
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("Community-acquired pneumonia", "diagnoses")),
                          code(tables, WHO, "I10")],
              "CON-061", mentions=[x.mention(next(m for m in ("Osteoarthritis", "osteoarthritis", "OA knees",
                                                             "Pain in both knees") if m in line),
                                             "past_medical_history")], candidates=[gonarthrosis])
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("cause, section, line, deficit, coded, expected", [
    # a deficit of an earlier stroke, told in the past history, is not this episode's
    ("Left MCA territory ischaemic stroke", "past_medical_history", "- Previous stroke 2015 with dysphasia",
     "dysphasia", (), ["I63.9"]),
    # no stroke coded: no deficit of one (dysphagia in myasthenia gravis)
    ("Myasthenia gravis", "diagnoses", "- Dysphagia, NG fed", "Dysphagia", (), ["G70.0"]),
    # a code of the deficit's category is coded already (R47.8 beside R47.0)
    ("Left MCA territory ischaemic stroke", "diagnoses", "- Expressive dysphasia", "dysphasia", ("R47.8",),
     ["I63.9", "R47.8"]),
])
def test_a_deficit_is_added_only_beside_this_episodes_stroke_once(tables, cause, section, line, deficit, coded,
                                                                  expected):
    x = Excerpt(("diagnoses", f"1. {cause}"), (section, line))
    ev = x.evidence(line, section)
    first = "I63.9" if "stroke" in cause else "G70.0"
    out = run(tables, x, [code(tables, WHO, first, "primary", x.evidence(cause, "diagnoses"))]
              + [code(tables, WHO, c, evidence=ev) for c in coded], "CON-056",
              mentions=[x.mention(deficit, section, label="FINDING")],
              candidates=[code(tables, WHO, "R13" if deficit == "Dysphagia" else "R47.0", "candidate", ev, score=0.5)])
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("assertion, kept", [("historical", False), ("hypothetical", True), ("uncertain", True)])
def test_an_operation_only_planned_has_not_resolved_the_condition(tables, assertion, kept):
    line = "Right inguinal hernia - awaiting open mesh repair." if kept else "Right inguinal hernia - open mesh repair 2019."
    x = Excerpt(MAIN, ("past_medical_history", line))
    mentions = [x.mention("open mesh repair", "past_medical_history", label="PROCEDURE", assertion=assertion)]
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, "K40.9", evidence=x.evidence(line, "past_medical_history"))], "HIS-006",
              mentions=mentions)
    assert ("K40.9" in [c.code for c in out.codes]) is kept


@pytest.mark.parametrize("now, kept", [
    ("CXR: no pneumothorax, no effusion.", False),  # denied now: still only history
    ("CXR: small left apical pneumothorax.", True),  # found again in this episode
])
def test_a_past_pneumothorax_a_drain_ended_is_history_whatever_else_names_it(tables, now, kept):
    line = "- Right pneumothorax 1996 treated with a chest drain"
    x = Excerpt(MAIN, ("investigations", now), ("past_medical_history", line))
    at_now = x.text.index(now)
    found = x.mention("pneumothorax", "investigations", assertion="present" if kept else "negated")
    found = replace(found, start=x.text.index("pneumothorax", at_now), end=x.text.index("pneumothorax", at_now) + 12)
    mentions = [found, x.mention("Right pneumothorax", "past_medical_history"),
                x.mention("chest drain", "past_medical_history", label="PROCEDURE", assertion="historical")]
    ev = x.evidence(now, "investigations") + x.evidence(line, "past_medical_history")
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, "J93.9", evidence=ev)], "HIS-006", mentions=mentions)
    assert ("J93.9" in [c.code for c in out.codes]) is kept


def test_a_sentence_that_only_negates_adds_no_status_code(tables):

    x = Excerpt(MAIN, ("medications", "Apixaban: not indicated, no AF on monitoring"))
    x.sentences[1] = replace(x.sentences[1], assertion="negated", weight=0.0, coded=False)
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary")], "HIS-001")
    assert [c.code for c in out.codes] == ["J18.9"]


@pytest.mark.parametrize("lines, expected", [
    (("Penicillin, trimethoprim",), ["Z88.0", "Z88.1"]),
    (("1. Co-amoxiclav - rash", "2. Codeine - wheeze"), ["Z88.0", "Z88.5"]),
    (("1. Co-amoxiclav - rash", "2. Codeine - vomiting"), ["Z88.0"]),  # a side effect is no allergy
    (("Amoxicillin - rash", "Flucloxacillin - rash"), ["Z88.0"]),  # one status code per class of drug
    (("Septrin (SJS)", "Tramadol - confusion", "Naproxen - GI upset"), ["Z88.2", "Z88.5"]),  # GI upset: a side effect
    # an itch the sentence calls no allergy, and a drug of the class taken without a problem
    (("Penicillin - rash.", "She also reports that morphine makes her itch, which is an intolerance rather than an "
      "allergy; she had oxycodone after surgery without any problem."), ["Z88.0"]),
    (("Morphine - urticaria; oxycodone - rash.",), ["Z88.5"]),
    # the denial after another class's substance is that one's
    (("She is allergic to penicillin (urticaria and lip swelling in 2004); codeine makes her badly constipated, "
      "which is an intolerance rather than an allergy.",), ["Z88.0"]),
    # a denial shared by the drugs it names; a drug had as a child with hives is an allergy
    (("Morphine and ibuprofen - itching, not true allergies.",), []),
    (("Had amoxicillin as a child and came out in hives.",), ["Z88.0"]),
    (("He is allergic to latex (anaphylaxis), and he reports nausea with codeine, which he regards as an "
      "intolerance rather than an allergy.",), ["Z91.0"]),
])
def test_each_drug_allergy_class_is_coded_once(tables, lines, expected):
    x = Excerpt(MAIN, *(("allergies", line) for line in lines))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses"))], "HIS-001")
    assert out.codes[0].code == "J18.9"
    assert sorted(c.code for c in out.codes[1:]) == expected


@pytest.mark.parametrize("letter, expected", [
    ((("medications", "1. Apixaban 5 mg BD"), ("medications", "2. Bisoprolol 2.5 mg OD"),
      ("allergies", "Penicillin (anaphylaxis)"), ("social_history", "Ex-smoker, stopped 2012. Lives with wife."),
      ("past_medical_history", "AF, HTN, PPM 2018")), ["Z92.1", "Z88.0", "Z86.4", "Z95.0"]),
    ((("past_medical_history", "T2DM, IHD - stents to RCA 2016"), ("past_surgical_history", "Left TKR 2015"),
      ("allergies", "NKDA"), ("social_history", "Current smoker, 20/day.")), ["F17.1", "Z95.5", "Z96.6"]),
    ((("medications", "Edoxaban - stopped on admission (Hb 62)"), ("allergies", "Nil known"),
      ("social_history", "Never smoked. Independent with ADLs.")), []),
])
def test_the_status_codes_of_a_whole_letter(tables, letter, expected):
    x = Excerpt(MAIN, *letter)
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses"))], "HIS-001")
    assert out.codes[0].code == "J18.9"
    assert sorted(c.code for c in out.codes[1:]) == sorted(expected)
    assert all(c.rules == ("HIS-001",) and c.evidence for c in out.codes[1:])


def test_a_status_code_rests_on_the_line_it_is_read_from(tables):
    """The ranker's own candidate for the allergy code rested on a negated line ("no reaction to
    penicillin since"); promoted by HIS-001, it carries the allergy line it was read from."""
    line, other = "Penicillin - rash", "No reaction to penicillin since."
    x = Excerpt(("diagnoses", MAIN[1]), ("allergies", line), ("hpc", other))
    negated = x.evidence(other, "hpc", "negated")
    candidate = replace(code(tables, WHO, "Z88.0", "candidate", negated, score=0.2), suggest=0.1)
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses"))], "HIS-001",
              candidates=[candidate])
    added = next(c for c in out.codes if c.code == "Z88.0")
    assert [e.text for e in added.evidence] == [line] and added.evidence[0].assertion == "present"


def test_a_past_event_told_in_the_history_of_presenting_complaint(tables):
    x = Excerpt(("diagnoses", "1. Urosepsis"), ("hpc", "She had a TIA in 2019 and has been well since."))
    ev = x.evidence("She had a TIA in 2019", "hpc", "historical")
    out = run(tables, x, [code(tables, WHO, "N39.0", "primary", x.evidence("1. Urosepsis", "diagnoses")),
                          code(tables, WHO, "G45.9", evidence=ev)], "HIS-002")
    assert coded(out) == [("ICD-10", "N39.0"), ("ICD-10", "Z86.7")]
    assert "G45.9" in [c.code for c in out.candidates]


@pytest.mark.parametrize("condition, explained", [
    ("E83.5", True),  # hypercalcaemia: the confusion of a metabolic disturbance
    ("E87.1", True),  # hyponatraemia
    ("J45.9", False),  # asthma explains no confusion: the confusion stays the main condition
])
def test_confusion_of_a_metabolic_disturbance_is_not_the_primary_diagnosis(tables, condition, explained):
    confusion, cause = "He was admitted from clinic with confusion and vomiting.", "So he had a metabolic disorder."
    x = Excerpt((None, confusion), (None, cause))
    out = run(tables, x, [code(tables, WHO, "R41.0", "primary", x.evidence(confusion)),
                          code(tables, WHO, condition, evidence=x.evidence(cause))], "SEQ-002")
    assert [c.code for c in out.codes] == ([condition, "R41.0"] if explained else ["R41.0", condition])


@pytest.mark.parametrize("diagnosis, definitive, where, line, symptom", [
    ("1. Acute appendicitis", "K35.8", "presenting_complaint", "RIF pain for 2 days", "R10.3"),
    ("1. Community acquired pneumonia (CURB-65 2)", "J18.9", "hpc", "3 days of productive cough and SOB", "R06.0"),
    ("1. Acute calculous cholecystitis", "K81.0", "presenting_complaint", "RUQ pain, vomiting", "R10.1"),
    ("1. Urinary tract infection", "N39.0", "examination", "Temp 38.4, HR 104", "R50.9"),
    # a joint symptom of Chapter XIII is integral to the joint disease
    ("1. Acute gout of the right knee", "M10.9", "examination", "Large knee effusion", "M25.4"),
    # so is back pain (dorsalgia)
    ("1. Pyelonephritis", "N10", "presenting_complaint", "Loin and back pain with rigors", "M54.9"),
    # a collapse that a low blood pressure explains
    ("1. Orthostatic hypotension", "I95.1", "presenting_complaint", "Collapse on standing", "R55"),
])
def test_a_symptom_the_diagnosis_explains_is_not_coded(tables, diagnosis, definitive, where, line, symptom):
    x = Excerpt(("diagnoses", diagnosis), (where, line))
    out = run(tables, x, [code(tables, WHO, definitive, "primary", x.evidence(diagnosis, "diagnoses")),
                          code(tables, WHO, symptom, evidence=x.evidence(line, where))], "CON-006")
    assert coded(out) == [("ICD-10", definitive)]
    assert [c.code for c in out.candidates] == [symptom] and out.flags[0].codes == (symptom, definitive)


def test_a_primary_symptom_gives_way_to_the_diagnosis_stated_with_it(tables):
    # prose: "this was probably a severe attack of migraine" states the headache and its cause;
    # the asthma of another sentence is a comorbidity, not what explains the headache
    x = Excerpt((None, "This was a severe attack of migraine headache."), (None, "She also has asthma."))
    headache = x.evidence("This was a severe attack of migraine headache.")
    out = run(tables, x, [code(tables, WHO, "R51", "primary", headache),
                          code(tables, WHO, "J45.9", evidence=x.evidence("She also has asthma.")),
                          code(tables, WHO, "G43.9", evidence=headache)], "CON-006", "SEQ-001")
    assert coded(out) == [("ICD-10", "G43.9"), ("ICD-10", "J45.9")]
    assert out.flags[0].codes == ("R51", "G43.9")


@pytest.mark.parametrize("symptom, other", [
    ("R55", "Z92.1"),  # collapse, cause not found, on long-term anticoagulation
    ("R55", "W19"),  # collapse after a fall: an external cause is no diagnosis
])
def test_a_symptom_beside_status_or_external_cause_codes_only_is_coded(tables, symptom, other):
    x = Excerpt(("diagnoses", "1. Collapse ?cause"), ("hpc", "Found on the floor"))
    out = run(tables, x, [code(tables, WHO, symptom, "primary", x.evidence("Found on the floor", "hpc")),
                          code(tables, WHO, other)], "CON-006")
    assert [c.code for c in out.codes] == [symptom, other] and not out.flags


@pytest.mark.parametrize("codes, expected", [
    (["G30.9", "I10", "F00.9"], ["G30.9", "F00.9", "I10"]),  # the asterisk moves up to its dagger
    (["I10", "F00.9", "G30.9"], ["I10", "G30.9", "F00.9"]),  # the dagger takes the asterisk's place
    (["E11.2", "N08.3", "I10"], ["E11.2", "N08.3", "I10"]),
    (["E11.9", "I10"], ["E11.9", "I10"]),  # no complication: no asterisk code
])
def test_dagger_and_asterisk_codes_stay_together(tables, codes, expected):
    x = Excerpt(("diagnoses", "1. Alzheimer's dementia"), ("diagnoses", "2. Hypertension"))
    out = run(tables, x, [code(tables, WHO, c, "primary" if i == 0 else "secondary") for i, c in enumerate(codes)],
              "CON-005")
    assert [c.code for c in out.codes] == expected
    assert not [f for f in out.flags if "cannot be the primary" in f.message]


@pytest.mark.parametrize("suggested, expected", [
    (["U21.2", "J18.3"], ["J18.3", "Y75.2", "U21.2"]),  # the operation, its approach, then the imaging
    (["U21.2"], ["U21.2"]),  # imaging alone is the main procedure
    (["Y53.2", "Z94.3"], ["Y53.2", "Z94.3"]),  # supplementary codes alone are left in place
])
def test_the_main_procedure_then_its_supplementary_codes(tables, suggested, expected):
    x = Excerpt(("investigations", "CT abdomen: thick-walled gall bladder"),
                ("procedures", "Laparoscopic cholecystectomy"))
    ev = {"U21.2": x.evidence("CT abdomen", "investigations")}
    codes = [code(tables, OPCS, c, "primary" if i == 0 else "secondary",
                  ev.get(c, x.evidence("Laparoscopic cholecystectomy", "procedures"))) for i, c in enumerate(suggested)]
    out = run(tables, x, codes, "SEQ-004", "SUP-001")
    assert [c.code for c in out.codes] == expected and out.codes[0].role == "primary"


@pytest.mark.parametrize("line, suggested, expected", [
    # the method of fixation the statement names: the wire system, not the plate "ORIF" is read as
    ("ORIF L patella - tension band wiring.", ["W20.1"], ["W19.6"]),
    ("1. L displaced transverse patella # (closed) - ORIF, TBW", ["W20.1"], ["W19.6"]),
    ("ORIF L patella - tension band wiring.", ["W20.1", "W19.6"], ["W19.6"]),  # suggested too: it moves up
    ("ORIF right distal radius with a volar locking plate.", ["W20.1"], ["W20.1"]),  # a plate: it stays
])
def test_a_fracture_fixation_is_coded_by_the_method_its_statement_names(nhs_tables, line, suggested, expected):
    x = Excerpt(("procedures", line))
    codes = [code(nhs_tables, OPCS, c, "primary" if i == 0 else "secondary", x.evidence(line, "procedures"))
             for i, c in enumerate(suggested)]
    out = run(nhs_tables, x, codes, "CON-069")
    assert [c.code for c in out.codes] == expected
    assert ("W20.1" in [c.code for c in out.candidates]) is (expected != ["W20.1"])


@pytest.mark.parametrize("line, read, expected", [
    ("Full thickness skin graft to the left cheek defect.", "S36.2", "S36.1"),  # the head or neck
    ("Split skin graft from the right thigh to the left forearm wound.", "S35.1", "S35.2"),  # the donor left aside
    ("Repaired with a full-thickness skin graft harvested from the left supraclavicular fossa.", "S36.2", "S36.2"),
    ("Re-excision of margins, scar on the left temple.", "S06.7", "S06.6"),
    ("Excision of lesion of skin, left nasal ala.", "S06.5", "S06.5"),  # a category with no NEC twin keeps it
    ("Split skin graft to the scalp and the back of the right hand.", "S35.2", "S35.2"),  # both: as read
])
def test_a_skin_operation_is_coded_by_the_region_its_statement_names(nhs_tables, line, read, expected):
    x = Excerpt(("procedures", line))
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, read, "primary", x.evidence(line, "procedures"))], "CON-070")
    assert [c.code for c in out.codes] == [expected]
    assert bool(out.flags) is (read != expected)


@pytest.mark.parametrize("statement, first, stated, candidate", [
    ("Primary diagnosis: NSTEMI", "I10", "I21.4", False),
    ("Principal diagnosis: Community acquired pneumonia (CURB-65 1)", "E11.9", "J18.9", False),
    ("Primary diagnosis: Left intracapsular #NOF", "M81.0", "S72.0", True),  # named plainly: coded from the candidates
])
def test_the_primary_diagnosis_the_clinician_states_comes_first(tables, statement, first, stated, candidate):
    x = Excerpt(("primary_diagnosis", statement), ("past_medical_history", "HTN, T2DM, osteoporosis"))
    named = code(tables, WHO, stated, "candidate" if candidate else "secondary",
                 x.evidence(statement, "primary_diagnosis", support=1.0 if candidate else None), score=0.3)
    history = x.evidence("HTN, T2DM, osteoporosis", "past_medical_history")
    out = run(tables, x, [code(tables, WHO, first, "primary", history)] + ([] if candidate else [named]),
              "SEQ-001", "SEQ-003", candidates=[named] if candidate else [])
    assert coded(out) == [("ICD-10", stated), ("ICD-10", first)]
    assert out.codes[0].role == "primary" and out.flags[0].rule == "SEQ-003"


@pytest.mark.parametrize("support, first", [(0.8, "I50.0"), (0.5, "I48.9")])
def test_the_condition_a_primary_statement_names_first_is_primary(tables, support, first):
    """'Heart failure, precipitated by fast AF': of the codes the statement matches well, the one
    it names first; a code it matches weakly does not compete on position."""
    line = "Decompensated congestive cardiac failure, precipitated by fast AF."
    x = Excerpt(("primary_diagnosis", line))
    failure = code(tables, WHO, "I50.0", evidence=x.evidence(line, "primary_diagnosis", support=support), score=0.3)
    af = code(tables, WHO, "I48.9", "primary", x.evidence(line, "primary_diagnosis", support=0.9), score=0.8)
    mentions = [x.mention("congestive cardiac failure", "primary_diagnosis"),
                x.mention("AF", "primary_diagnosis", expansion="atrial fibrillation")]
    out = run(tables, x, [af, failure], "SEQ-001", "SEQ-003", mentions=mentions)
    assert coded(out)[0] == ("ICD-10", first)


@pytest.mark.parametrize("primary, other, matched, first", [
    ("E11.0", "N17.9", 0.5, "E11.0"),  # primary, and named first: it stays, however weakly matched
    ("N17.9", "E11.0", 0.8, "E11.0"),  # matched well and named first: it takes the primary's place
    ("N17.9", "E11.0", 0.5, "N17.9"),  # matched weakly: it does not compete on position
])
def test_a_primary_the_statement_names_first_stays_however_weakly_matched(tables, primary, other, matched, first):
    """The hyperosmolar state the statement names first stays primary, though the ranker matched it
    there less well than the kidney injury it names after it."""
    line = "Hyperosmolar hyperglycaemic state with coma, complicated by an acute kidney injury."
    x = Excerpt(("primary_diagnosis", line))
    support = {"E11.0": matched, "N17.9": 1.0}
    codes = [code(tables, WHO, c, role, x.evidence(line, "primary_diagnosis", support=support[c]), score=0.5)
             for c, role in ((primary, "primary"), (other, "secondary"))]
    mentions = [x.mention("Hyperosmolar hyperglycaemic state with coma", "primary_diagnosis"),
                x.mention("acute kidney injury", "primary_diagnosis")]
    out = run(tables, x, codes, "SEQ-001", "SEQ-003", mentions=mentions)
    assert coded(out)[0] == ("ICD-10", first)


def test_a_candidate_an_excludes_note_sends_to_a_suggested_code_is_not_brought_back(tables):
    line = "Vitamin B12 deficiency due to pernicious anaemia."
    x = Excerpt(("primary_diagnosis", line))
    anaemia = code(tables, WHO, "D51.0", "primary", x.evidence(line, "primary_diagnosis", support=0.8), score=0.6)
    deficiency = code(tables, WHO, "E53.8", "candidate", x.evidence(line, "primary_diagnosis", support=1.0), score=0.3)
    out = run(tables, x, [anaemia], "SEQ-001", "CON-042", "SEQ-003", candidates=[deficiency])
    assert coded(out) == [("ICD-10", "D51.0")]


@pytest.mark.parametrize("announces", [True, False])
def test_the_diagnosis_a_prose_sentence_announces_comes_first(tables, announces):
    line = "Our diagnosis is bilateral pulmonary emboli, provoked by the pill."
    x = Excerpt((None, "She has migraine with aura."), (None, line))
    x.sentences[1] = replace(x.sentences[1], announced_from=x.sentences[1].start if announces else None)
    migraine = code(tables, WHO, "G43.1", "primary", x.evidence("She has migraine with aura."))
    emboli = code(tables, WHO, "I26.9", evidence=x.evidence(line), score=0.3)
    out = run(tables, x, [migraine, emboli], "SEQ-001", "SEQ-003")
    assert coded(out)[0] == ("ICD-10", "I26.9" if announces else "G43.1")


def test_what_an_announcing_sentence_names_before_its_announcement_is_not_announced(tables):
    line = "A viral illness is a common trigger, but we have classed this as acute pericarditis."
    x = Excerpt((None, "He was admitted with chest pain."), (None, line))
    x.sentences[1] = replace(x.sentences[1], announced_from=x.text.index("classed"))
    viral = code(tables, WHO, "B34.9", "primary", x.evidence(line, support=0.9), score=0.6)
    pericarditis = code(tables, WHO, "I30.0", evidence=x.evidence(line, support=0.9), score=0.5)
    mentions = [x.mention("viral illness"), x.mention("acute pericarditis")]
    out = run(tables, x, [viral, pericarditis], "SEQ-001", "SEQ-003", mentions=mentions)
    assert coded(out)[0] == ("ICD-10", "I30.0")


@pytest.mark.parametrize("symptom, definitive", [
    ("R10.3", "K35.8"),  # RIF pain, then appendicitis found at operation
    ("R06.0", "J44.1"),  # breathlessness from an exacerbation of COPD
    ("R50.9", "N39.0"),
])
def test_a_symptom_gives_way_to_the_diagnosis_that_explains_it(tables, symptom, definitive):
    x = Excerpt(("presenting_complaint", "Presenting symptom"), ("diagnoses", "1. Diagnosis"))
    presenting = x.evidence("Presenting symptom", "presenting_complaint")
    out = run(tables, x, [code(tables, WHO, symptom, "primary", presenting),
                          code(tables, WHO, definitive, evidence=x.evidence("1. Diagnosis", "diagnoses"), score=0.6)],
              "SEQ-002")
    assert [(c.code, c.role) for c in out.codes] == [(definitive, "primary"), (symptom, "secondary")]
    assert out.flags[0].codes == (symptom, definitive)


@pytest.mark.parametrize("code_, kept", [("N18.2", False), ("N18.3", True)])
def test_a_ckd_stage_is_the_one_the_letter_gives_the_ckd(tables, code_, kept):
    line = "2. Acute kidney injury (AKI) stage 2 on CKD stage 3a"
    x = Excerpt(("diagnoses", line))
    out = run(tables, x, [code(tables, WHO, "N17.9", "primary", x.evidence(line, "diagnoses")),
                          code(tables, WHO, code_, evidence=x.evidence(line, "diagnoses"))], "CON-013")
    assert (code_ in [c.code for c in out.codes]) is kept


@pytest.mark.parametrize("code_, words, kept", [
    ("T81.2", "Incidental durotomy (5 mm dural tear), repaired primarily.", True),
    ("T81.2", "Dog bite: a 2 cm ragged puncture-laceration over the dorsum of the left hand.", False),
    ("T81.0", "Secondary post-tonsillectomy haemorrhage, day 7.", True),
    ("T81.0", "Right radial access-site haematoma, managed with compression.", True),
    ("T81.0", "Large flap laceration over the left shin after a fall, bleeding controlled.", False),
    ("T81.0", "Spontaneous left rectus sheath haematoma on warfarin.", False),
    ("J90", "Bilateral pleural effusions, right larger than left - transudates", True),
    ("J90", "Simple parapneumonic effusion, right - exudate, pH 7.35.", True),
    ("J90", "No consolidation but a small left pleural effusion, aspirated.", True),  # a denial of another finding
    ("J90", "Psoriatic arthritis - flare, right knee monoarthritis with a large effusion", False),
    ("J90", "Moderate circumferential pericardial effusion (maximum 14 mm), no tamponade", False),
    # MRSA carried in the nose is no staphylococcal infection
    ("A49.0", "- MRSA colonisation (nose swab on admission screen)", False),
    ("A49.0", "MRSA infection of the central line exit site, treated with vancomycin", True),
])
def test_a_code_whose_own_statement_must_say_what_it_is(tables, code_, words, kept):
    x = Excerpt(("diagnoses", words))
    out = run(tables, x, [code(tables, WHO, code_, "primary", x.evidence(words, "diagnoses"))], "CON-013")
    assert (coded(out) == [("ICD-10", code_)]) is kept


@pytest.mark.parametrize("words, kept", [
    ("Admitted 10 days post-partum with fever.", True),
    ("LSCS at 39 weeks; wound infection.", True),
    ("Neutropenic sepsis on day 10 of chemotherapy.", False),  # O85 in a patient who is not pregnant
])
def test_a_pregnancy_code_needs_a_pregnancy_in_the_letter(tables, words, kept):
    x = Excerpt(("diagnoses", words))
    out = run(tables, x, [code(tables, WHO, "O85", "primary", x.evidence(words, "diagnoses"))], "CON-013")
    assert (coded(out) == [("ICD-10", "O85")]) is kept
    if not kept:
        assert out.flags[0].message == ("O85 (Puerperal sepsis) is not suggested: the letter does not document "
                                        "a pregnancy, delivery or puerperium.")


@pytest.mark.parametrize("line, kept", [
    ("Neutropenia secondary to chemotherapy - day 10 of cycle 2 of epirubicin and cyclophosphamide.", False),
    ("High-grade serous ovarian carcinoma, on neoadjuvant chemotherapy.", False),
    ("Induction chemotherapy started: DA 3+7.", True),
    ("Cycle 3 of FOLFOX given on the day unit.", True),
    # a clause that denies it gives none
    ("Chemotherapy: no chemotherapy was given this admission.", False),
    ("Chemotherapy: cycle 3 given on day 2, no dose reduction.", True),
    ("No dose reduction was needed and cycle 3 of FOLFOX was given on day 1.", True),  # another clause's denial
])
def test_a_chemotherapy_delivery_is_coded_where_it_was_given(nhs_tables, line, kept):
    tables = nhs_tables
    x = Excerpt(("procedures", line))
    out = run(tables, x, [code(tables, OPCS, "X72.9", "primary", x.evidence(line, "procedures"))], "CON-037")
    assert ([c.code for c in out.codes] == ["X72.9"]) is kept


@pytest.mark.parametrize("line, chemotherapy, offered", [
    ("Impression: febrile neutropenia due to docetaxel chemotherapy.", "X73.1", False),  # given before admission
    ("Impression: febrile neutropenia due to docetaxel chemotherapy.", "X38.4", False),  # by its route too
    ("Cycle 1 of docetaxel chemotherapy given on the ward.", "X73.1", True),
    ("Cycle 1 of azacitidine chemotherapy given subcutaneously on the ward.", "X38.4", True),
])
def test_a_chemotherapy_delivery_not_told_given_is_not_offered_as_the_main_procedure(nhs_tables, line, chemotherapy,
                                                                                     offered):
    tables = nhs_tables
    x = Excerpt((None, line))
    mentions = [x.mention("chemotherapy", label="PROCEDURE")]
    candidates = [replace(code(tables, OPCS, chemotherapy, "candidate", x.evidence(line), score=0.1), suggest=0.15)]
    out = run(tables, x, [], "CON-037", "SEQ-007", mentions=mentions, candidates=candidates)
    assert [c.code for c in out.codes] == ([chemotherapy] if offered else [])


@pytest.mark.parametrize("code_, words, kept", [
    ("M54.9", "Chronic limb-threatening ischaemia of the right leg with rest pain", False),  # a limb's pain
    ("M54.9", "Unstable angina (crescendo pattern, rest pain).", False),
    ("M54.9", "Mechanical low back pain, no red flags.", True),
    ("M54.9", "Neck pain after the fall; CT cervical spine normal.", True),
    # the membranes rupture in every labour: premature rupture is before labour
    ("O42.9", "Spontaneous rupture of membranes at 05:10 with clear liquor.", False),
    ("O42.9", "Preterm prelabour rupture of membranes at 33+2 weeks' gestation.", True),
    ("O42.9", "PROM at term; labour induced with oxytocin after 24 hours.", True),
    # preterm labour is before 37 weeks: a spontaneous labour at term is not
    ("O60.1", "Spontaneous labour at 39+4; normal delivery.", False),
    ("O60.1", "Spontaneous preterm labour at 35+2 weeks.", True),
    ("O60.1", "Delivered at 34 weeks after spontaneous labour.", True),
    # an exacerbation is of what the letter names
    ("J44.1", "Infective pulmonary exacerbation of cystic fibrosis.", False),
    ("J44.1", "Infective exacerbation of COPD.", True),
    ("J44.1", "IECOPD, on home oxygen.", True),
    ("E84.0", "Infective exacerbation of bronchiectasis - Pseudomonas aeruginosa.", False),
    ("E84.0", "Infective pulmonary exacerbation of CF.", True),
    # the staphylococcal scalded skin syndrome is named: a scald by hot water is a burn
    ("L00", "Scald to the left forearm from a kettle, partial thickness.", False),
    ("L00", "Staphylococcal scalded skin syndrome in a 3-year-old.", True),
    # a recurrent dislocation is one the letter says recurs: a first traumatic one is S-chapter
    ("M24.4", "Anterior dislocation of the left shoulder (first dislocation) after a fall.", False),
    ("M24.4", "Recurrent anterior dislocation of the right shoulder.", True),
    ("M24.4", "Dislocated the left shoulder again, his third dislocation.", True),
    # a history of chemotherapy is one the letter tells
    ("Z92.6", "Outcome: benign; patient removed from the cancer pathway.", False),
    ("Z92.6", "Breast cancer 2019, treated with surgery and FEC-T chemotherapy.", True),
    # a neoplasm code needs a neoplasm the letter names
    ("C15.3", "1. Button battery lodged in the upper oesophagus - swallowed at home", False),
    ("C15.3", "1. Squamous cell carcinoma of the upper third of the oesophagus", True),
    ("C61", "- Ca prostate 2019, radical radiotherapy", True),
    ("D46.9", "1. MDS with transfusion-dependent anaemia", True),
    # an injury of an unspecified region is one its statement tells
    ("T14.8", "Ultrasound confirmed infantile hypertrophic pyloric stenosis.", False),
    ("T14.8", "Multiple superficial injuries after the assault.", True),
    ("T14.8", "Pyloric stenosis; he remained haemodynamically stable.", False),
    ("T14.8", "Polytrauma following a high-speed RTC.", True),
    ("T14.8", "Ultrasound and CT showed a haematoma of 15 x 9 cm.", True),
])
def test_a_code_needs_the_words_of_its_condition(tables, code_, words, kept):
    x = Excerpt(("diagnoses", words))
    out = run(tables, x, [code(tables, WHO, code_, "primary", x.evidence(words, "diagnoses"))], "CON-013")
    assert (coded(out) == [("ICD-10", code_)]) is kept
    if not kept and code_ == "M54.9":
        assert out.flags[0].message == ("M54.9 (Dorsalgia, unspecified) is not suggested: the letter does not document "
                                        "pain of the back, spine or neck.")


@pytest.mark.parametrize("words, kept", [
    ("Ex-smoker (30 pack-years, stopped 2015).", True),
    ("He gave up smoking in 2016.", True),
    ("Lansoprazole stopped.", False),  # a medicine stopped
    ("Non-smoker.", False),
])
def test_a_history_of_tobacco_use_needs_the_use_to_have_ended(tables, words, kept):
    x = Excerpt(MAIN, ("social_history", words))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, "Z86.4", evidence=x.evidence(words, "social_history"))], "CON-013")
    assert ("Z86.4" in [c.code for c in out.codes]) is kept


@pytest.mark.parametrize("rules", [("CON-005", "SEQ-001"), ("CON-005", "SEQ-001", "SEQ-003", "SEQ-012")])
def test_an_asterisk_the_heading_states_goes_after_its_dagger_listed_as_a_secondary(tables, rules):
    # "Acute Charcot neuroarthropathy" (M14.6*) heads the letter; its dagger (E11.6) comes from
    # the type 2 diabetes of the secondary diagnoses: the dagger goes first all the same (CON-005),
    # the heading does not put the asterisk back (SEQ-003), nor does the list the dagger is in (SEQ-012)
    x = Excerpt(("primary_diagnosis", "Acute Charcot neuroarthropathy of the right midfoot"),
                ("secondary_diagnoses", "- Type 2 diabetes mellitus, insulin-treated"))
    codes = [code(tables, WHO, "M14.6", "primary", x.evidence("Acute Charcot", "primary_diagnosis", support=1.0)),
             code(tables, WHO, "E11.9", evidence=x.evidence("- Type 2 diabetes", "secondary_diagnoses", support=0.9))]
    out = run(tables, x, codes, *rules)
    assert [(c.code, c.role) for c in out.codes] == [("E11.6", "primary"), ("M14.6", "secondary")]


@pytest.mark.parametrize("first, second, kept", [
    (("1. SIADH secondary to sertraline", "E22.2"), ("Sodium 118: hyponatraemia.", "E87.1"), ["E22.2"]),
    (("1. Hyponatraemia", "E87.1"), ("Cause: SIADH from sertraline.", "E22.2"), ["E22.2"]),  # it takes the primary's place
    (("1. Iron deficiency anaemia", "D50.9"), ("Ferritin 6: iron deficiency.", "E61.1"), ["D50.9"]),
    (("1. Vitamin B12 deficiency", "E53.8"), ("Cause: pernicious anaemia.", "D51.0"), ["D51.0"]),  # it takes the primary's place
    (("1. Vitamin B12 deficiency - no anaemia", "E53.8"), ("Iron deficiency anaemia.", "D50.9"), ["E53.8", "D50.9"]),
    (("1. Type 2 diabetes with background diabetic retinopathy", "H36.0"), ("Background retinopathy.", "H35.0"), ["H36.0"]),
    (("1. Type 2 diabetes", "E11.9"), ("Hyperglycaemia on steroids.", "R73.9"), ["E11.9"]),
    (("1. Decompensated liver disease", "K76.8"), ("Alcohol-related cirrhosis.", "K70.3"), ["K70.3"]),
    (("1. Alcohol-related cirrhosis", "K70.3"), ("Portal hypertension.", "K76.6"), ["K70.3", "K76.6"]),
    (("1. Steroid-induced hyperglycaemia", "R73.9"), ("Hyponatraemia.", "E87.1"), ["R73.9", "E87.1"]),  # nothing excludes
    (("1. Mumps with left orchitis", "B26.0"), ("Bilateral parotid swelling.", "K11.2"), ["B26.0"]),
    (("1. Recurrent depressive disorder, current episode severe", "F33.2"), ("Third episode of depression.", "F32.9"),
     ["F33.2"]),
    (("1. Bile duct stones with cholangitis", "K80.3"), ("Acute cholangitis.", "K83.0"), ["K80.3"]),
    (("1. Acute cholangitis", "K83.0"), ("Ultrasound: gallbladder stones.", "K80.2"), ["K83.0", "K80.2"]),  # not duct stones
    (("1. Obstructing ureteric stone with hydronephrosis", "N13.2"), ("6 mm distal ureteric stone.", "N20.1"), ["N13.2"]),
    (("1. Obstructing ureteric stone with hydronephrosis", "N13.2"), ("Left renal stone, 4 mm.", "N20.0"), ["N13.2", "N20.0"]),
    # the peritonitis of perforated diverticular disease or appendicitis is in its code
    (("1. Perforated sigmoid diverticulitis", "K57.2"), ("Generalised faecal peritonitis.", "K65.0"), ["K57.2"]),
    (("1. Perforated appendicitis", "K35.2"), ("Purulent peritonitis.", "K65.0"), ["K35.2"]),
    (("1. Perforated duodenal ulcer", "K26.5"), ("Generalised peritonitis.", "K65.0"), ["K26.5", "K65.0"]),
    # diverticulosis without perforation leaves a peritonitis of another cause
    (("1. Spontaneous bacterial peritonitis", "K65.0"), ("Incidental sigmoid diverticulosis on CT.", "K57.3"),
     ["K65.0", "K57.3"]),
    # a manic or depressive episode of a bipolar disorder is its current episode
    (("1. Bipolar affective disorder, current episode manic with psychotic symptoms", "F31.2"),
     ("This is his third manic episode.", "F30.9"), ["F31.2"]),
    (("1. Bipolar affective disorder, current episode manic", "F31.1"),
     ("He has had two depressive episodes, in 2015 and 2019.", "F32.9"), ["F31.1"]),
    (("1. Manic episode with psychotic symptoms", "F30.2"), ("Hypothyroidism.", "E03.9"), ["F30.2", "E03.9"]),
])
def test_a_code_a_who_excludes_note_sends_elsewhere_is_not_coded_beside_it(tables, first, second, kept):
    x = Excerpt(("diagnoses", first[0]), (None, second[0]))
    codes = [code(tables, WHO, first[1], "primary", x.evidence(first[0], "diagnoses")),
             code(tables, WHO, second[1], evidence=x.evidence(second[0]))]
    out = run(tables, x, codes, "CON-042")
    assert [c.code for c in out.codes] == kept
    if len(kept) == 1:
        dropped = ({first[1], second[1]} - set(kept)).pop()
        assert out.candidates[0].code == dropped and out.flags[0].rule == "CON-042"
        assert re.search(r"(Excludes|Note): .*\(", out.flags[0].message)  # the note that sends it there


def test_a_symptom_the_title_of_a_coded_diagnosis_holds_is_not_coded(tables):
    # "with coma": the classification combines the coma with the diabetes, even where the
    # statement of the diagnosis names the coma (CON-006), or would make it the primary (SEQ-003)
    line = "The diagnosis was a hyperosmolar hyperglycaemic state with coma, complicated by an acute kidney injury."
    x = Excerpt(("diagnoses", line))
    ev = x.evidence(line, "diagnoses")
    out = run(tables, x, [code(tables, WHO, "E11.0", "primary", ev), code(tables, WHO, "R40.2", evidence=ev),
                          code(tables, WHO, "N17.9", evidence=ev)], "CON-006")
    assert [c.code for c in out.codes] == ["E11.0", "N17.9"] and out.flags[0].codes == ("R40.2", "E11.0")
    x = Excerpt((None, line))  # a prose sentence that announces the diagnosis
    x.sentences[0] = replace(x.sentences[0], announced_from=x.sentences[0].start)
    out = run(tables, x, [code(tables, WHO, "E11.0", "primary", x.evidence(line, support=0.6), score=0.1)],
              "SEQ-003", candidates=[code(tables, WHO, "R40.2", "candidate", x.evidence(line, support=1.0), score=0.3)])
    assert [c.code for c in out.codes] == ["E11.0"]


def test_a_symptom_the_diagnosis_heading_states_alone_stays_primary(tables):
    x = Excerpt(("diagnoses", "Dx: R anterior epistaxis - packing + cautery"), ("presenting_complaint", "On apixaban for AF."))
    out = run(tables, x, [code(tables, WHO, "R04.0", "primary", x.evidence("Dx: R anterior epistaxis", "diagnoses")),
                          code(tables, WHO, "I48.9", evidence=x.evidence("On apixaban for AF.", "presenting_complaint"))],
              "SEQ-002")
    assert coded(out) == [("ICD-10", "R04.0"), ("ICD-10", "I48.9")] and not out.flags


@pytest.mark.parametrize("line, expected", [
    # invasive: the malignant code of the site, not the in situ one
    ("1. Squamous cell carcinoma of the cervix, FIGO stage IB1", "C53.9"),
    ("1. CIN3 of the cervix, completely excised", "D06.9"),
])
def test_a_carcinoma_in_situ_is_one_its_own_statement_calls_in_situ(tables, line, expected):
    x = Excerpt(("diagnoses", line), ("past_medical_history", "LLETZ found invasive carcinoma on a background of CIN3."))
    out = run(tables, x, [code(tables, WHO, "D06.9", "primary", x.evidence(line, "diagnoses"))], "CON-013",
              mentions=[x.mention("CIN3", "past_medical_history")])
    assert coded(out) == [("ICD-10", expected)] and out.codes[0].role == "primary"


@pytest.mark.parametrize("line, mentions, kept", [
    ("Sputum MC&S: Pseudomonas aeruginosa.", (), False),  # an organism grown is not sepsis
    ("Urosepsis - E. coli bacteraemia.", (), True),
    ("Gram-negative septicaemia.", (), True),
    ("Blood cultures: Klebsiella.", ("Sepsis",), True),  # sepsis stated elsewhere in the letter
    ("Blood cultures: Klebsiella.", ("Septic shock",), True),
])
def test_sepsis_is_coded_only_where_the_letter_documents_it(tables, line, mentions, kept):
    x = Excerpt(("investigations", line), ("diagnoses", "1. Sepsis / Septic shock"))
    said = [x.mention(m, "diagnoses") for m in mentions]
    out = run(tables, x, [code(tables, WHO, "A41.5", "primary", x.evidence(line, "investigations"))],
              "CON-013", mentions=said)
    assert (coded(out) == [("ICD-10", "A41.5")]) is kept
    if not kept:
        assert out.candidates[0].code == "A41.5" and out.candidates[0].rules == ("CON-013",)
        assert out.flags[0].message == "A41.5 (Sepsis due to other Gram-negative organisms) is not suggested: the letter does not document sepsis."


@pytest.mark.parametrize("suggested, expected", [
    ([(WHO, "I10", "secondary"), (WHO, "J18.9", "primary"), (WHO, "I48.9", "primary")],
     [("J18.9", "primary"), ("I10", "secondary"), ("I48.9", "secondary")]),  # the first one marked primary
    ([(WHO, "I10", "secondary"), (WHO, "S72.0", "primary"), (OPCS, "W46.1", "secondary"), (OPCS, "Z94.3", "secondary")],
     [("S72.0", "primary"), ("I10", "secondary"), ("W46.1", "primary"), ("Z94.3", "secondary")]),
])
def test_one_primary_diagnosis_and_one_main_procedure(tables, suggested, expected):
    x = Excerpt(("diagnoses", "1. Left #NOF"), ("procedures", "Left cemented hemiarthroplasty"))
    out = run(tables, x, [code(tables, system, c, role) for system, c, role in suggested], "SEQ-001")
    assert [(c.code, c.role) for c in out.codes] == expected


@pytest.mark.parametrize("category, modifiers, consider", [
    ("I21", (), None),  # "MI": the type of infarction is needed for a fourth character
    ("J44", (), None),
    ("N18", ("stage 4",), "N18.4"),
    ("K81", ("acute",), "K81.0"),
])
def test_a_category_that_needs_a_fourth_character_is_not_valid(tables, category, modifiers, consider):
    x = Excerpt(("diagnoses", "1. Condition as written"))
    m = x.mention("Condition as written", "diagnoses", modifiers=modifiers)
    out = run(tables, x, [code(tables, WHO, category, "primary", x.evidence("1. Condition as written", "diagnoses"))],
              "CON-004", mentions=[m])
    (flag,) = out.flags
    assert flag.severity == "error" and "not valid for submission" in flag.message
    if consider:  # the documented value names the code: the clinician is not asked for it
        assert consider in flag.message
        assert not any("stage of chronic" in q.question or "acute, chronic" in q.question for q in out.queries)
    else:
        assert f"{category} needs a further character" in out.queries[0].question


@pytest.mark.parametrize("c", ["I10", "F03", "I21.4"])
def test_a_complete_code_is_valid(tables, c):
    x = Excerpt(("diagnoses", "1. Condition"))
    assert not run(tables, x, [code(tables, WHO, c, "primary")], "CON-004").flags


@pytest.mark.parametrize("line, unspecified, modifiers, better", [
    ("Acute cholecystitis", "K81.9", ("acute",), "K81.0"),
    ("CKD stage 4 (eGFR 22)", "N18.9", ("stage 4",), "N18.4"),
    ("T2DM with diabetic nephropathy", "E14.2", ("type 2",), "E11.2"),
    ("Cholecystitis", "K81.9", (), None),  # not documented: the clinician is asked
])
def test_an_unspecified_code_where_the_letter_documents_the_detail(tables, line, unspecified, modifiers, better):
    x = Excerpt(("diagnoses", f"1. {line}"))
    m = x.mention(line, "diagnoses", modifiers=modifiers)
    out = run(tables, x, [code(tables, WHO, unspecified, "primary", x.evidence(f"1. {line}", "diagnoses"))],
              "DOC-001", mentions=[m])
    assert out.codes[0].rules == ("DOC-001",)
    if better:
        assert better in out.flags[0].message and out.flags[0].evidence == (m.evidence(),) and not out.queries
    else:
        assert not out.flags and "acute, chronic or acute on chronic" in out.queries[0].question


@pytest.mark.parametrize("line, c", [
    ("?UTI - completed nitrofurantoin", "N39.0"),
    ("Probable viral gastroenteritis", "A08.4"),
])
def test_an_uncertain_final_diagnosis_is_coded_as_if_confirmed(tables, line, c):
    x = Excerpt(("diagnoses", line))
    m = x.mention(line, "diagnoses", assertion="uncertain")
    out = run(tables, x, [code(tables, WHO, c, "primary", x.evidence(line, "diagnoses", "uncertain"))], "QRY-002",
              mentions=[m])
    assert coded(out) == [("ICD-10", c)] and not out.queries and not out.flags


@pytest.mark.parametrize("first, second", [
    ("J44.0", "J18.9"),  # COPD with a lower respiratory infection, and the pneumonia itself
    ("I63.9", "I10"),
])
def test_conditions_the_standards_code_together_are_both_kept(tables, first, second):
    x = Excerpt(("diagnoses", "1. First"), ("diagnoses", "2. Second"))
    out = run(tables, x, [code(tables, WHO, first, "primary"), code(tables, WHO, second, score=0.6)], "CON-001")
    assert [c.code for c in out.codes] == [first, second] and not out.flags


def test_a_retired_code_beside_the_current_code_of_its_statement_is_not_suggested(who_icd10_uk):
    x = Excerpt(("diagnoses", "1. Symptomatic grade 3 internal haemorrhoids"))
    ev = x.evidence("grade 3 internal haemorrhoids", "diagnoses")
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, "I84.2", "primary", ev), code(who_icd10_uk, WHO, "K64.2", evidence=ev)],
              "DOC-004")
    assert [c.code for c in out.codes] == ["K64.2"] and [c.code for c in out.candidates] == ["I84.2"]
    assert "K64.2" in out.flags[0].message and "not current" in out.flags[0].message


def test_the_current_code_of_a_retired_primary_takes_its_place(who_icd10_uk):
    x = Excerpt(("diagnoses", "1. Grade 3 internal haemorrhoids"), ("diagnoses", "2. Urinary retention after the operation"))
    ev = x.evidence("Grade 3 internal haemorrhoids", "diagnoses")
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, "I84.2", "primary", ev),
                                code(who_icd10_uk, WHO, "R33", evidence=x.evidence("Urinary retention", "diagnoses")),
                                code(who_icd10_uk, WHO, "K64.2", evidence=ev)], "DOC-004")
    assert [(c.code, c.role) for c in out.codes] == [("K64.2", "primary"), ("R33", "secondary")]


@pytest.mark.parametrize("c, flagged", [("K75.9", True), ("K75.1", False), ("W46.1", False)])
def test_a_procedure_code_not_in_current_use_is_flagged(tables, c, flagged):
    x = Excerpt(("procedures", "PCI to LAD"))
    out = run(tables, x, [code(tables, OPCS, c, "primary")], "DOC-004")
    assert bool(out.flags) is flagged and [c.code for c in out.codes] == [c]
    if flagged:
        assert out.flags[0].codes == (c,) and "not current" in out.flags[0].message


@pytest.mark.parametrize("line", ["- NSTEMI 2 weeks ago, medically managed", "- Inferior MI 10 days ago",
                                  "- Anterior STEMI last week, primary PCI"])
def test_a_myocardial_infarction_of_28_days_or_less_stays_acute(tables, line):
    # WHO ICD-10 I21: acute, or 4 weeks (28 days) or less from onset, even when listed as history
    x = Excerpt(MAIN, ("past_medical_history", line))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, "I21.4", evidence=x.evidence(line, "past_medical_history"))], "HIS-002")
    assert coded(out) == [("ICD-10", "J18.9"), ("ICD-10", "I21.4")] and not out.flags


@pytest.mark.parametrize("order", [("K63.1", "K75.1"), ("K63.1", "K75.2")])
def test_diagnostic_angiography_gives_way_to_the_intervention(tables, order):
    x = Excerpt(("procedures", "Coronary angiogram then PCI with drug-eluting stents to LAD"))
    out = run(tables, x, [code(tables, OPCS, order[0], "primary"), code(tables, OPCS, order[1])], "SEQ-004")
    assert [c.code for c in out.codes] == [order[1], order[0]] and out.flags[0].rule == "SEQ-004"


def test_a_supplementary_code_the_ranker_suggested_is_moved_not_repeated(tables):
    line = "Left cemented hemiarthroplasty"
    x = Excerpt(("procedures", line))
    ev = x.evidence(line, "procedures")
    out = run(tables, x, [code(tables, OPCS, "W46.1", "primary", ev), code(tables, OPCS, "J18.3"),
                          code(tables, OPCS, "Z94.3", evidence=ev)], "SUP-001")
    assert [c.code for c in out.codes] == ["W46.1", "Z94.3", "J18.3"]



@pytest.mark.parametrize("symptom, line", [
    ("R47.0", "Expressive dysphasia"),
    ("R13", "Failed swallow screen, dysphagia on water swallow"),
])
def test_the_deficits_of_a_stroke_are_coded_with_it(tables, symptom, line):
    # Chapter IX: the neurological deficits of a stroke are not always present, so they are coded too
    x = Excerpt(("diagnoses", "1. Left MCA infarct"), ("examination", line))
    out = run(tables, x, [code(tables, WHO, "I63.5", "primary", x.evidence("Left MCA infarct", "diagnoses")),
                          code(tables, WHO, symptom, evidence=x.evidence(line, "examination"))], "CON-006")
    assert coded(out) == [("ICD-10", "I63.5"), ("ICD-10", symptom)]
    pneumonia = Excerpt(MAIN, ("examination", line))  # beside another diagnosis the rule still applies
    out = run(tables, pneumonia, [code(tables, WHO, "J18.9", "primary", pneumonia.evidence("pneumonia", "diagnoses")),
                                  code(tables, WHO, symptom, evidence=pneumonia.evidence(line, "examination"))],
              "CON-006")
    assert coded(out) == [("ICD-10", "J18.9")]


@pytest.mark.parametrize("z, kept_primary", [("Z51.1", True), ("Z51.0", True), ("Z92.1", False)])
def test_an_admission_for_chemotherapy_keeps_its_z_code_primary(tables, z, kept_primary):
    x = Excerpt(("diagnoses", "Admitted for cycle 3 of FEC chemotherapy. Ca breast."))
    out = run(tables, x, [code(tables, WHO, z, "primary", score=0.95), code(tables, WHO, "C50.9", score=0.9)],
              "SEQ-005")
    assert coded(out)[0] == ("ICD-10", z if kept_primary else "C50.9")


@pytest.mark.parametrize("section, line, kept", [
    ("past_surgical_history", "Caesarean section x2 (2008, 2012)", False),  # previous
    ("past_medical_history", "Laparoscopic cholecystectomy 2015", False),
    ("plan", "Elective laparoscopic cholecystectomy in 6 weeks", False),  # planned
    ("procedures", "Laparoscopic cholecystectomy (22/04/2025)", True),  # this episode
])
def test_only_procedures_of_this_episode_are_coded(tables, section, line, kept):
    x = Excerpt(MAIN, (section, line))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, OPCS, "J18.3", "primary", x.evidence(line, section))], "HIS-003")
    assert (("OPCS-4", "J18.3") in coded(out)) is kept
    assert bool(out.flags) is not kept


@pytest.mark.parametrize("assertion, kept", [("historical", False), ("present", True)])
def test_a_procedure_its_statement_gives_as_the_patients_own_treatment_is_not_coded(tables, assertion, kept):
    line = "3. Obstructive sleep apnoea on laparoscopic cholecystectomy"  # a present diagnosis beside it
    x = Excerpt(MAIN, ("diagnoses", line))
    mentions = [x.mention("laparoscopic cholecystectomy", "diagnoses", label="PROCEDURE", assertion=assertion)]
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, OPCS, "J18.3", "primary", x.evidence(line, "diagnoses"))], "HIS-003",
              mentions=mentions)
    assert (("OPCS-4", "J18.3") in coded(out)) is kept


@pytest.mark.parametrize("named, elsewhere, kept", [
    # an MRCP of an earlier year and a CT name no cholecystectomy
    (("MRCP", "CT"), None, False),
    # a mention that shares the operation's words names it, in its statement or elsewhere
    (("MRCP", "laparoscopic cholecystectomy"), None, True),
    (("MRCP", "CT"), "Cholecystectomy on day 2.", True),
    # an operation named by its ending may be named in words its title lacks
    (("MRCP", "hemicolectomy"), None, True),
    # a statement that names one procedure is read as that procedure's
    (("MRCP",), None, True),
])
def test_an_operation_no_procedure_of_the_letter_names_is_not_coded(tables, named, elsewhere, kept):
    line = "1. Gallstones (seen at MRCP 2022). CT: gall bladder wall thin; laparoscopic cholecystectomy; hemicolectomy"
    x = Excerpt(MAIN, ("diagnoses", line), ("procedures", elsewhere or "None."))
    mentions = [x.mention(word, "diagnoses", label="PROCEDURE") for word in named]
    if elsewhere:
        mentions.append(x.mention("Cholecystectomy", "procedures", label="PROCEDURE"))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, OPCS, "J18.3", "primary", x.evidence(line, "diagnoses"))], "CON-073",
              mentions=mentions)
    assert (("OPCS-4", "J18.3") in coded(out)) is kept
    assert bool(out.flags) is not kept


def test_a_supplementary_code_no_procedure_names_is_left_to_sup_002(tables):
    line = "Laparoscopic approach. MRCP 2022; CT."
    x = Excerpt(MAIN, ("procedures", line))
    mentions = [x.mention(word, "procedures", label="PROCEDURE") for word in ("MRCP", "CT")]
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, OPCS, "Y75.2", "primary", x.evidence(line, "procedures"))], "CON-073",
              mentions=mentions)
    assert ("OPCS-4", "Y75.2") in coded(out) and not out.flags


def _opcs(c, title, role="secondary", score=0.8):
    return CodeSuggestion(OPCS.value, c, title, 1, role, score, ())


@pytest.mark.parametrize("therapeutic, diagnostic, kept", [
    # OGD: injection of a bleeding ulcer; the look is not coded, the biopsy at it is
    (("G43.6", "Fibreoptic endoscopic injection therapy to lesion of upper gastrointestinal tract"),
     [("G45.9", "Unspecified diagnostic fibreoptic endoscopic examination of upper gastrointestinal tract"),
      ("G45.1", "Fibreoptic endoscopic examination of upper gastrointestinal tract and biopsy of lesion of upper "
                "gastrointestinal tract")], ["G43.6", "G45.1"]),
    # TURBT: the rigid cystoscopy of the same session is not coded
    (("M42.1", "Endoscopic resection of lesion of bladder"),
     [("M45.5", "Diagnostic endoscopic examination of bladder using rigid cystoscope")], ["M42.1"]),
    # hysteroscopic polypectomy with a biopsy of the endometrium
    (("Q17.1", "Endoscopic resection of lesion of uterus"),
     [("Q18.1", "Diagnostic endoscopic examination of uterus and biopsy of lesion of uterus")], ["Q17.1", "Q18.1"]),
    # knee arthroscopy and partial meniscectomy: the look is part of the operation
    (("W82.2", "Endoscopic resection of semilunar cartilage NEC"),
     [("W87.9", "Unspecified diagnostic endoscopic examination of knee joint")], ["W82.2"]),
    # ureteroscopic laser lithotripsy: the cystoscope's look at the bladder on the way is not coded
    (("M27.1", "Ureteroscopic laser fragmentation of calculus of ureter"),
     [("M45.9", "Unspecified diagnostic endoscopic examination of bladder"),
      ("M30.9", "Unspecified diagnostic endoscopic examination of ureter")], ["M27.1"]),
    # haemorrhoidal artery ligation: the proctoscope it is done through is not coded
    (("H53.8", "Other specified other operations on haemorrhoid"), [("H62.6", "Proctoscopy")], ["H53.8"]),
    # the venography that guided a stent into the superior vena cava is part of it
    (("L79.3", "Insertion of stent into vena cava NEC"), [("L95.1", "Venography")], ["L79.3"]),
])
def test_a_diagnostic_endoscopy_is_not_coded_beside_a_therapeutic_one(tables, therapeutic, diagnostic, kept):
    x = Excerpt(("procedures", "Endoscopy"))
    codes = [_opcs(*therapeutic, role="primary"), *(_opcs(c, t) for c, t in diagnostic)]
    out = run(tables, x, codes, "CON-009")
    assert [c.code for c in out.codes] == kept
    dropped = {c for c, _ in diagnostic} - set(kept)
    assert dropped <= {c.code for c in out.candidates}
    assert all("CON-009" in c.rules for c in out.candidates if c.code in dropped)


@pytest.mark.parametrize("lines, drain, kept", [
    # left at the end of the lobectomy, in its note: part of the operation
    ([("procedures", "VATS right upper lobectomy"), ("procedures", "- Bronchial stump tested: no leak."),
      ("procedures", "- Single 28 Fr chest drain to a digital drainage system."), (None, ""),
      (None, "The drain bubbled for 6 days and was removed on day 7.")],
     "- Single 28 Fr chest drain to a digital drainage system.", False),
    # put in before the operation, in a paragraph of its own
    ([("procedures", "ED: left chest drain inserted under ultrasound guidance."), ("procedures", ""),
      ("procedures", "Theatre: VATS right upper lobectomy")], "ED: left chest drain inserted under ultrasound guidance.",
     True),
    # a numbered list of procedures: the transfusion is no operation, and the drain is an item of its own
    ([("procedures", "1. VATS right upper lobectomy"), ("procedures", "2. Chest drain insertion for a pneumothorax")],
     "2. Chest drain insertion for a pneumothorax", True),
    # the note leaves one, and the story tells another put in on the ward
    ([("procedures", "VATS right upper lobectomy"), ("procedures", "- Single chest drain left."), (None, ""),
      (None, "On day 3 a second chest drain was inserted for a pneumothorax.")], "- Single chest drain left.", True),
])
def test_a_drain_left_at_the_end_of_an_operation_is_part_of_it(tables, lines, drain, kept):
    x = Excerpt(*lines)
    told = [x.evidence(drain, "procedures")[0]] + [e for line in lines[1:] if "drain" in line[1] and line[1] != drain
                                                   for e in x.evidence(line[1], line[0])]
    host = next(line for line in lines if "lobectomy" in line[1])
    lobectomy = CodeSuggestion(OPCS.value, "E54.3", "Lobectomy of lung", 1, "primary", 0.9, x.evidence(host[1], "procedures"))
    drained = CodeSuggestion(OPCS.value, "T12.4", "Insertion of tube drain into pleural cavity", 1, "secondary", 0.8, tuple(told))
    out = run(tables, x, [lobectomy, drained], "CON-051")
    assert ("T12.4" in [c.code for c in out.codes]) == kept
    assert kept or "CON-051" in next(c for c in out.candidates if c.code == "T12.4").rules


def test_a_dated_entry_after_an_operation_is_a_procedure_of_its_own(tables):
    repair, catheter = "09/02/2026: Laparoscopic repair of incisional hernia", "09/02/2026 (evening, ward): Urethral catheterisation for retention"
    x = Excerpt(("procedures", repair), ("procedures", catheter))
    out = run(tables, x, [CodeSuggestion(OPCS.value, "T25.1", "Primary repair of incisional hernia using insert of natural material",
                                         1, "primary", 0.9, x.evidence(repair, "procedures")),
                          CodeSuggestion(OPCS.value, "M47.9", "Unspecified urethral catheterisation of bladder", 1,
                                         "secondary", 0.8, x.evidence(catheter, "procedures"))], "CON-051")
    assert [c.code for c in out.codes] == ["T25.1", "M47.9"]


@pytest.mark.parametrize("line, kept", [
    # an ovarian cystectomy at a laparoscopy: the laparoscopy is its approach
    ("Emergency laparoscopy, washout, right ovarian cystectomy", ["Q43.2"]),
    # an open operation says nothing of a laparoscopy: the coder judges whether it was the same session
    ("Open right ovarian cystectomy through a Pfannenstiel incision", ["Q43.2", "T43.9"]),
])
def test_a_diagnostic_laparoscopy_is_the_approach_of_the_operation_done_through_it(tables, line, kept):
    x = Excerpt(("procedures", line))
    cystectomy = CodeSuggestion(OPCS.value, "Q43.2", "Excision of lesion of ovary", 1, "primary", 0.9,
                                x.evidence(line, "procedures"))
    out = run(tables, x, [cystectomy, _opcs("T43.9", "Unspecified diagnostic endoscopic examination of peritoneum")],
              "CON-009")
    assert [c.code for c in out.codes] == kept


@pytest.mark.parametrize("line, operation, title, kept", [
    # a skin cancer's wide local excision in a letter that names no breast is no breast operation
    ("1. Wide local excision of SCC of the vertex with 6 mm peripheral margins", "B28.2", "Partial excision of breast NEC",
     False),
    ("Left wide local excision of breast and sentinel node biopsy", "B28.2", "Partial excision of breast NEC", True),
    # the fixation of a hip fracture is no fixation of the mandible
    ("Right dynamic hip screw (DHS) fixation - 135 degree, 4-hole plate.", "V17.4", "Removal of fixation from mandible",
     False),
    ("Removal of the arch bars from the mandible under GA.", "V17.4", "Removal of fixation from mandible", True),
    # an EUA of the nose is no examination of the eye under anaesthetic
    ("EUA nose with rigid 0-degree Hopkins rod endoscope.", "C86.6", "Examination of eye under anaesthetic", False),
    ("EUA of the left eye and removal of a corneal foreign body.", "C86.6", "Examination of eye under anaesthetic",
     True),
    # the bladder's catheter is no central venous catheter
    ("- Catheter on free drainage -> leg bag, catheter care taught", "L91.3", "Attention to central venous catheter NEC",
     False),
    ("Right IJ tunnelled dialysis line flushed and redressed.", "L91.3", "Attention to central venous catheter NEC", True),
])
def test_an_operation_on_an_organ_the_letter_never_names_is_not_coded(tables, line, operation, title, kept):
    x = Excerpt(("procedures", line))
    op = CodeSuggestion(OPCS.value, operation, title, 1, "primary", 0.9, x.evidence(line, "procedures"))
    out = run(tables, x, [op], "CON-052")
    assert [c.code for c in out.codes] == ([operation] if kept else [])
    assert kept or "CON-052" in out.candidates[0].rules


def test_a_diagnostic_endoscopy_gives_way_to_the_therapeutic_one_the_letter_states_done(nhs_tables):
    """SEQ-007 offers the ureteroscopy the letter states done (the ranker had suggested only the
    cystoscopy); CON-009, which runs after it, then leaves the cystoscopy out."""
    tables = nhs_tables
    line = "Left ureteroscopy and laser fragmentation of the stone; cystoscopy normal."
    x = Excerpt(("procedures", line))
    ev = x.evidence(line, "procedures")
    mentions = [x.mention("ureteroscopy", "procedures", label="PROCEDURE"),
                x.mention("laser fragmentation of the stone", "procedures", label="PROCEDURE"),
                x.mention("cystoscopy", "procedures", label="PROCEDURE")]
    cysto = replace(code(tables, OPCS, "M45.9", "primary", ev), suggest=0.6)
    laser = replace(code(tables, OPCS, "M27.1", "candidate", ev, score=0.5), suggest=0.3)
    out = run(tables, x, [cysto], *[r.id for r in default_rules().rules], mentions=mentions, candidates=[laser])
    assert [c.code for c in out.codes if c.system == "OPCS-4"][:1] == ["M27.1"]
    assert "M45.9" not in [c.code for c in out.codes]


@pytest.mark.parametrize("operation, expected", [
    (("H01.1", "Emergency excision of abnormal appendix and drainage HFQ"), ["H01.1"]),  # part of it
    (None, ["T46.3"]),  # a laparoscopic washout of peritonitis alone is the operation
])
def test_a_peritoneal_washout_is_part_of_the_abdominal_operation(tables, operation, expected):
    line = "Laparoscopic appendicectomy, peritoneal washout and pelvic drain"
    x = Excerpt(("procedures", line), ("procedures", "Day 6: return to theatre, laparoscopic washout"))
    told = x.evidence(line, "procedures")
    washout = replace(_opcs("T46.3", "Irrigation of peritoneal cavity"), evidence=told)
    codes = ([replace(_opcs(*operation, "primary"), evidence=told)] if operation else []) + [washout]
    out = run(tables, x, codes, "CON-058")
    assert [c.code for c in out.codes] == expected
    if operation:  # a washout at a return to theatre is an operation of its own
        again = replace(washout, evidence=x.evidence("Day 6: return to theatre, laparoscopic washout",
                                                                  "procedures"))
        out = run(tables, x, [codes[0], again], "CON-058")
        assert [c.code for c in out.codes] == ["H01.1", "T46.3"]


def test_a_diagnostic_endoscopy_alone_is_coded(tables):
    x = Excerpt(("procedures", "OGD: normal"))
    out = run(tables, x, [_opcs("G45.9", "Unspecified diagnostic fibreoptic endoscopic examination of upper "
                                         "gastrointestinal tract", "primary"),
                          _opcs("M42.1", "Endoscopic resection of lesion of bladder")], "CON-009")
    assert [c.code for c in out.codes] == ["G45.9", "M42.1"]  # another route's therapeutic endoscopy


@pytest.mark.parametrize("alone, combined", [
    ("K81.0", "K80.0"),  # acute calculous cholecystitis: K80.0, not acute cholecystitis beside it
    ("J81", "I50.1"),  # pulmonary oedema with left ventricular failure
    ("K56.6", "K41.3"),  # obstruction with a femoral hernia: the hernia "with obstruction" (a WHO note)
    ("E87.2", "E11.1"),  # diabetic acidosis: "see categories E08-E10, E11, E13 with ketoacidosis"
    ("G62.9", "G63.2"),  # polyneuropathy in diabetes (a WHO note of G62)
])
def test_a_condition_the_classification_combines_is_not_coded_alone_beside_the_combination(tables, alone, combined):
    x = Excerpt(("diagnoses", "Acute calculous cholecystitis"))
    out = run(tables, x, [code(tables, WHO, alone, "primary", score=0.95), code(tables, WHO, combined, score=0.8)],
              "CON-010")
    assert [c.code for c in out.codes] == [combined]
    assert any(c.code == alone and "CON-010" in c.rules for c in out.candidates)


@pytest.mark.parametrize("without, within", [
    ("K25.7", "K25.4"),  # chronic without haemorrhage or perforation -> chronic or unspecified with haemorrhage
    ("K26.9", "K26.4"),  # unspecified as acute or chronic, without haemorrhage -> with haemorrhage
])
def test_a_combination_said_without_the_condition_is_its_sibling_with_it(tables, without, within):
    x = Excerpt(("diagnoses", "1. Upper GI bleed: bleeding peptic ulcer"))
    out = run(tables, x, [code(tables, WHO, "K92.2", "primary", score=0.9), code(tables, WHO, without, score=0.5)],
              "CON-010")
    assert [(c.code, c.role) for c in out.codes] == [(within, "primary")]  # the one code holds the primary
    assert {c.code for c in out.candidates} >= {"K92.2", without}


def test_gallstones_said_without_cholecystitis_beside_acute_cholecystitis_are_the_acute_calculous_one(tables):
    # K80.2 (calculus of gallbladder without cholecystitis): its sibling with acute cholecystitis,
    # K80.0, not K80.1 (with other cholecystitis)
    x = Excerpt(("diagnoses", "Acute cholecystitis; gallstones"))
    out = run(tables, x, [code(tables, WHO, "K81.0", "primary"), code(tables, WHO, "K80.2")], "CON-010")
    assert [(c.code, c.role) for c in out.codes] == [("K80.0", "primary")]
    # "no active bleeding" at endoscopy denies no haemorrhage: the ulcer with it
    x = Excerpt(("diagnoses", "1. Upper GI bleed: chronic gastric ulcer"), (None, "OGD: no active bleeding."))
    out = run(tables, x, [code(tables, WHO, "K92.2", "primary"), code(tables, WHO, "K25.7")], "CON-010",
              mentions=[x.mention("active bleeding", assertion="negated")])
    assert [c.code for c in out.codes] == ["K25.4"]
    # where the letter denies the cholecystitis, the gallstones stay without it
    x = Excerpt(("diagnoses", "Symptomatic gallstones."), (None, "There has never been any cholecystitis."))
    out = run(tables, x, [code(tables, WHO, "K80.2", "primary"), code(tables, WHO, "K81.9")], "CON-010",
              mentions=[x.mention("cholecystitis", assertion="negated")])
    assert [c.code for c in out.codes] == ["K80.2"]
    # a hernia "without obstruction" beside an obstruction is no combination the notes name: both stay
    x = Excerpt(("diagnoses", "1. Adhesional small bowel obstruction. 2. Incidental left inguinal hernia."))
    out = run(tables, x, [code(tables, WHO, "K56.5", "primary"), code(tables, WHO, "K40.9")], "CON-010")
    assert [c.code for c in out.codes] == ["K56.5", "K40.9"]


@pytest.mark.parametrize("codes, expected", [
    (["I25.9", "I25.2"], ["I25.2"]),  # the old infarction documents the chronic ischaemic heart disease
    (["I25.9", "I10"], ["I25.9", "I10"]),  # nothing more specific of its category
    (["J45.9", "J45.0"], ["J45.0"]),  # asthma, unspecified beside predominantly allergic asthma
    (["R10.4", "R10.1"], ["R10.4", "R10.1"]),  # "other and unspecified" abdominal pain is no .9 code
    (["I70.9", "I70.2"], ["I70.9", "I70.2"]),  # "generalized and unspecified": specified in part
])
def test_an_unspecified_code_is_not_coded_beside_a_specified_one_of_its_category(tables, codes, expected):
    line = "Ischaemic heart disease: myocardial infarction 2015, treated with CABG"
    x = Excerpt(("diagnoses", line))
    ev = x.evidence(line, "diagnoses")
    out = run(tables, x, [code(tables, WHO, c, "primary" if not i else "secondary", ev) for i, c in enumerate(codes)],
              "CON-060")
    assert [c.code for c in out.codes] == expected
    # two statements, two conditions of one category: both stay
    other = Excerpt(("diagnoses", line), ("diagnoses", "Old MI 2010"))
    out = run(tables, other, [code(tables, WHO, codes[0], "primary", other.evidence(line, "diagnoses")),
                              code(tables, WHO, codes[1], evidence=other.evidence("Old MI 2010", "diagnoses"))],
              "CON-060")
    assert [c.code for c in out.codes] == codes


def test_an_acidosis_beside_diabetes_with_another_complication_is_coded(tables):
    # the note sends diabetic acidosis to the "with ketoacidosis" subdivisions only: metformin-associated
    # lactic acidosis beside type 2 diabetes with renal complications is both codes
    x = Excerpt(("diagnoses", "1. Metformin-associated lactic acidosis. 2. Type 2 diabetes with nephropathy."))
    out = run(tables, x, [code(tables, WHO, "E87.2", "primary"), code(tables, WHO, "E11.2")], "CON-010")
    assert [c.code for c in out.codes] == ["E87.2", "E11.2"]


def test_an_obstruction_beside_a_hernia_without_obstruction_is_coded(tables):
    x = Excerpt(("diagnoses", "1. Adhesional small bowel obstruction. 2. Incidental left inguinal hernia."))
    out = run(tables, x, [code(tables, WHO, "K56.5", "primary"), code(tables, WHO, "K40.9")], "CON-010")
    assert [c.code for c in out.codes] == ["K56.5", "K40.9"]


def test_conditions_the_classification_keeps_apart_are_both_coded(tables):
    x = Excerpt(("diagnoses", "Hypertension; type 2 diabetes"))
    out = run(tables, x, [code(tables, WHO, "I10", "primary"), code(tables, WHO, "E11.9")], "CON-010")
    assert [c.code for c in out.codes] == ["I10", "E11.9"]


@pytest.mark.parametrize("section, line, kept", [
    ("past_medical_history", "Left leg DVT in 2015 after a knee arthroscopy (6 months of warfarin).", False),
    ("diagnoses", "New paroxysmal AF: apixaban started after discussion.", False),
    (None, "She was treated with full-dose dalteparin for ten days and then changed to apixaban 5 mg twice daily, "
           "which she should take for at least six months.", False),  # begun in this spell
    ("medications", "Apixaban 5 mg BD (long-term, for AF)", True),
])
def test_a_status_code_the_letter_rules_out_is_not_coded(tables, section, line, kept):
    x = Excerpt(("diagnoses", MAIN[1]), (section, line))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, "Z92.1", evidence=x.evidence(line, section))], "HIS-001")
    assert ("Z92.1" in [c.code for c in out.codes]) is kept
    if not kept:
        assert any(c.code == "Z92.1" and c.rules == ("HIS-001",) for c in out.candidates)
        assert "not a long-term or current status" in out.flags[0].message


@pytest.mark.parametrize("line, operated, kept", [
    # the stent this episode put in: no status code in the spell the implant goes in
    ("Coronary angiography and PCI 21/10/2026, right radial artery access:", True, False),
    # a statement no operation of this episode rests on ("5 days after ... with intraocular lens")
    ("Coronary angiography and PCI 21/10/2026, right radial artery access:", False, True),
    # one put in before
    ("5. Old inferior MI (2019), treated with a drug-eluting stent to the RCA", True, True),
])
def test_the_implant_this_episode_put_in_takes_no_status_code(nhs_tables, line, operated, kept):
    tables = nhs_tables
    x = Excerpt(("diagnoses", MAIN[1]), ("diagnoses", line), (None, "Admitted 20/10/2026, discharged 23/10/2026."))
    ev = x.evidence(line, "diagnoses")
    codes = [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")), code(tables, WHO, "Z95.5", evidence=ev)]
    out = run(tables, x, codes + ([code(tables, OPCS, "K75.1", "primary", ev)] if operated else []), "HIS-001")
    assert ("Z95.5" in [c.code for c in out.codes]) is kept


@pytest.mark.parametrize("line, condition, expected", [
    ("1. Severe hyponatraemia - thiazide-induced (bendroflumethiazide)", "E87.1", ["E87.1", "Y54.3"]),
    ("2. Neutropenia secondary to chemotherapy (neutrophils 0.2)", "D70", ["D70", "Y43.3"]),
    ("3. Oxaliplatin-related peripheral sensory neuropathy", "G62.0", ["G62.0", "Y43.3"]),
    ("1. Bilateral pulmonary emboli, provoked by the combined oral contraceptive pill", "I26.9", ["I26.9", "Y42.4"]),
    ("4. Obesity (BMI 33), likely antipsychotic-related", "E66.9", ["E66.9", "Y49.5"]),
    ("Dx: Euglycaemic DKA, SGLT2i (dapagliflozin) associated", "E11.1", ["E11.1", "Y42.3"]),
    ("1. Methotrexate toxicity with pancytopenia; taken at the correct weekly dose", "D61.1", ["D61.1", "Y43.1"]),
    ("1. LITHIUM TOXICITY -> toxic encephalopathy", "G92", ["G92", "Y49.5"]),
    ("2. Hyponatraemia, likely secondary to sertraline", "E87.1", ["E87.1", "Y49.2"]),
    ("Histology: benign endometrial polyp, in keeping with a tamoxifen-associated polyp", "N84.0", ["N84.0", "Y42.6"]),
    ("- Orthostatic hypotension attributed to doxazosin - doxazosin stopped", "I95.1", ["I95.1", "Y51.6"]),
    ("Our diagnosis is acute gout of the right knee, likely precipitated by bendroflumethiazide.", "M10.9",
     ["M10.9", "Y54.3"]),
    # a drug given for the condition is no cause of it; a poisoning takes its own codes
    ("1. Community acquired pneumonia treated with co-amoxiclav", "J18.9", ["J18.9"]),
    ("1. Hyponatraemia, improved after the thiazide was stopped", "E87.1", ["E87.1"]),
    ("1. Overdose of morphine due to a dosing error", "T40.2", ["T40.2"]),
    # a drug not taken caused nothing as a drug
    ("1. Diabetic ketoacidosis in type 1 diabetes - precipitated by omission of insulin during a gastroenteritis",
     "E10.1", ["E10.1"]),
    ("1. Hypoglycaemia secondary to missed meals on gliclazide", "E16.0", ["E16.0", "Y42.3"]),
    # the NSAIDs by class: a propionic acid derivative, another NSAID
    ("1. Bleeding duodenal ulcer secondary to ibuprofen", "K26.4", ["K26.4", "Y45.2"]),
    ("1. Bleeding duodenal ulcer secondary to diclofenac", "K26.4", ["K26.4", "Y45.3"]),
    # the cause words name another cause; the drug is the treatment
    ("1. Chemical meningitis due to ruptured dermoid cyst, treatment with dexamethasone", "G03.8", ["G03.8"]),
    # more drugs by the drug table's classes, and "an adverse effect of"
    ("1. Stevens-Johnson syndrome due to allopurinol", "L51.1", ["L51.1", "Y54.8"]),
    ("1. Stevens-Johnson syndrome secondary to lamotrigine", "L51.1", ["L51.1", "Y46.6"]),
    ("Severe hypomagnesaemia, an adverse effect of long-term proton pump inhibitor use", "E83.4", ["E83.4", "Y53.1"]),
    ("2. Statin-induced myopathy (atorvastatin)", "G72.0", ["G72.0", "Y52.6"]),
    ("1. Acute kidney injury, contrast-induced after the CT angiogram", "N17.9", ["N17.9", "Y57.5"]),
    ("1. Heparin-induced thrombocytopenia", "D69.5", ["D69.5", "Y44.2"]),
    ("1. Ankle oedema, a side effect of amlodipine", "R60.0", ["R60.0", "Y52.1"]),
    ("1. Acute kidney injury, in contrast to her baseline creatinine", "N17.9", ["N17.9"]),  # no drug
])
def test_an_adverse_effect_in_therapeutic_use_is_followed_by_its_drug(tables, line, condition, expected):
    x = Excerpt(("diagnoses", line))
    out = run(tables, x, [code(tables, WHO, condition, "primary", x.evidence(line, "diagnoses"))], "CON-022")
    assert [c.code for c in out.codes] == expected
    if len(expected) > 1:
        assert out.codes[1].rules == ("CON-022",) and "adverse effect in therapeutic use" in out.flags[0].message
        assert out.codes[1].score == out.codes[0].score  # ranked where the condition it explains ranks


@pytest.mark.parametrize("line, mention, condition, expected", [
    # a condition with a drug-induced code is coded by it (I95.2 hypotension due to drugs, G25.1
    # drug-induced tremor), where the drug is tied to the condition's own words
    ("- Orthostatic hypotension attributed to doxazosin - doxazosin stopped", "Orthostatic hypotension", "I95.1",
     ["I95.2", "Y51.6"]),
    ("1. Coarse tremor caused by lithium", "Coarse tremor", "R25.1", ["G25.1", "Y49.5"]),
    ("1. Hypothyroidism secondary to amiodarone", "Hypothyroidism", "E03.9", ["E03.2", "Y52.2"]),
    ("Right steroid-induced posterior subcapsular cataract", "posterior subcapsular cataract", "H25.0",
     ["H26.3", "Y42.0"]),
    ("Diagnosis: right posterior subcapsular cataract, steroid-induced", "posterior subcapsular cataract", "H25.0",
     ["H26.3", "Y42.0"]),
    # the drug caused another condition of the statement: the condition keeps its code
    ("1. Hypothyroidism with visual hallucinations secondary to amiodarone", "Hypothyroidism", "E03.9",
     ["E03.9", "Y52.2"]),
    ("1. Hypotension secondary to sepsis; AKI due to ramipril", "Hypotension", "I95.9", ["I95.9", "Y52.4"]),
    # Parkinson's disease is no drug-induced parkinsonism
    ("1. Parkinson's disease, deterioration precipitated by haloperidol", "Parkinson's disease", "G20",
     ["G20", "Y49.5"]),
])
def test_a_drug_induced_condition_is_coded_by_its_drug_induced_code(tables, line, mention, condition, expected):
    x = Excerpt(("diagnoses", line))
    out = run(tables, x, [code(tables, WHO, condition, "primary", x.evidence(line, "diagnoses"))], "CON-022",
              mentions=[x.mention(mention, "diagnoses")])
    assert [c.code for c in out.codes] == expected
    assert out.codes[0].role == "primary" and out.codes[0].score == 0.9
    if expected[0] != condition:  # the condition's own code stays ranked, with the rule that moved it
        assert [(c.code, c.rules) for c in out.candidates] == [(condition, ("CON-022",))]


def test_a_drug_named_as_the_cause_of_one_condition_is_not_the_cause_of_its_precipitant(tables):
    line = "Dx: Euglycaemic DKA, SGLT2i (dapagliflozin) associated, precipitated by gastroenteritis"
    x = Excerpt(("diagnoses", line))
    ev = x.evidence(line, "diagnoses")
    mentions = [x.mention("Euglycaemic DKA", "diagnoses"), x.mention("gastroenteritis", "diagnoses")]
    codes = [code(tables, WHO, "E11.1", "primary", ev), code(tables, WHO, "A09.9", evidence=ev)]
    out = run(tables, x, codes, "CON-022", mentions=mentions)
    assert [c.code for c in out.codes] == ["E11.1", "Y42.3", "A09.9"]
    line = "1. LITHIUM TOXICITY -> toxic encephalopathy (confusion, coarse tremor)"
    x = Excerpt(("diagnoses", line))
    out = run(tables, x, [code(tables, WHO, "G92", "primary", x.evidence(line, "diagnoses"))], "CON-022",
              mentions=[x.mention("toxic encephalopathy", "diagnoses")])
    assert [c.code for c in out.codes] == ["G92", "Y49.5"]  # the drug's toxicity just before the condition


@pytest.mark.parametrize("score, expected", [(0.98, ["I85.0"]), (0.3, ["K92.2"])])
def test_a_bleed_from_a_named_source_is_coded_to_the_source_that_bled(tables, score, expected):
    line = "1. Acute upper GI bleed from oesophageal varices (large, with stigmata of recent haemorrhage)"
    x = Excerpt(("diagnoses", line))
    ev = x.evidence(line, "diagnoses")
    varices = code(tables, WHO, "I85.0", "candidate", ev, score=score)
    named = [x.mention("oesophageal varices", "diagnoses")]
    out = run(tables, x, [code(tables, WHO, "K92.2", "primary", ev)], "CON-024", candidates=[varices], mentions=named)
    assert [c.code for c in out.codes] == expected
    assert out.codes[0].role == "primary"
    # the haemorrhage coded from another statement, the source from the diagnosis list
    other = Excerpt((None, "Melaena and haematemesis overnight."), ("diagnoses", line))
    melaena = code(tables, WHO, "K92.2", "primary", other.evidence("Melaena and haematemesis overnight."))
    source = code(tables, WHO, "I85.0", "candidate", other.evidence(line, "diagnoses"), score=score)
    out = run(tables, other, [melaena], "CON-024", candidates=[source],
              mentions=[other.mention("oesophageal varices", "diagnoses")])
    assert [c.code for c in out.codes] == expected


def test_the_varices_a_bleed_brings_in_liver_disease_are_its_asterisk_code(tables):
    # CON-024 brings the bleeding varices in the bleed's place before CON-017 pairs them with the
    # alcoholic cirrhosis (I98.3) and CON-005 puts the liver disease first
    line, liver = "1. Acute upper GI bleed from oesophageal varices, banded", "2. Alcohol-related cirrhosis"
    x = Excerpt(("diagnoses", line), ("diagnoses", liver))
    ev = x.evidence(line, "diagnoses")
    out = run(tables, x, [code(tables, WHO, "K92.2", "primary", ev),
                          code(tables, WHO, "K70.3", evidence=x.evidence(liver, "diagnoses"), score=0.6)],
              "CON-024", "CON-017", "CON-005", "SEQ-001", candidates=[code(tables, WHO, "I85.0", "candidate", ev, score=0.98)],
              mentions=[x.mention("oesophageal varices", "diagnoses"), x.mention("Alcohol-related cirrhosis", "diagnoses")])
    assert [c.code for c in out.codes] == ["K70.3", "I98.3"]


@pytest.mark.parametrize("line, mention, source, expected", [
    ("1. Haematemesis secondary to a Mallory-Weiss tear", "Mallory-Weiss tear", "K22.6", "K22.6"),
    ("1. Upper GI bleed: variceal bleed, banded", "variceal bleed", "I85.0", "I85.0"),
])
def test_a_bleed_takes_the_source_its_index_terms_name(tables, line, mention, source, expected):
    x = Excerpt(("diagnoses", line))
    ev = x.evidence(line, "diagnoses")
    out = run(tables, x, [code(tables, WHO, "K92.2", "primary", ev)], "CON-024",
              candidates=[code(tables, WHO, source, "candidate", ev, score=0.9)], mentions=[x.mention(mention, "diagnoses")])
    assert [c.code for c in out.codes] == [expected]


@pytest.mark.parametrize("ranked, expected", [
    # the ulcer the bleed's statement names, ranked without haemorrhage: its form with haemorrhage
    ([("K26.9", 0.97), ("K26.4", 0.05), ("K26.5", 0.04)], ["K26.4"]),
    # no form with haemorrhage among the candidates: the bleed stays
    ([("K26.9", 0.97)], ["K92.2"]),
    # a form with perforation too says more than the statement: the one with haemorrhage alone
    ([("K26.9", 0.97), ("K26.6", 0.2), ("K26.4", 0.05)], ["K26.4"]),
    # the ulcer ranked low: the bleed stays
    ([("K26.9", 0.3), ("K26.4", 0.05)], ["K92.2"]),
])
def test_a_bleed_from_a_named_ulcer_is_the_ulcer_with_haemorrhage(tables, ranked, expected):
    line = "1. Acute upper GI bleed from a duodenal ulcer - treated endoscopically"
    x = Excerpt(("diagnoses", line))
    ev = x.evidence(line, "diagnoses")
    candidates = [code(tables, WHO, c, "candidate", ev, score=score) for c, score in ranked]
    out = run(tables, x, [code(tables, WHO, "K92.2", "primary", ev)], "CON-024", candidates=candidates,
              mentions=[x.mention("Acute upper GI bleed", "diagnoses"), x.mention("duodenal ulcer", "diagnoses")])
    assert [c.code for c in out.codes] == expected


def test_a_bleed_takes_no_source_its_statement_does_not_name(tables):
    # the ranker's varices "with bleeding" for a bleeding gastric ulcer: they share only the bleeding
    line = "1. Upper GI bleed presenting with melaena: bleeding gastric ulcer on the lesser curve"
    x = Excerpt(("diagnoses", line))
    ev = x.evidence(line, "diagnoses")
    varices = code(tables, WHO, "I85.0", "candidate", ev, score=0.98)
    out = run(tables, x, [code(tables, WHO, "K92.2", "primary", ev)], "CON-024", candidates=[varices],
              mentions=[x.mention("Upper GI bleed", "diagnoses"), x.mention("bleeding gastric ulcer", "diagnoses")])
    assert [c.code for c in out.codes] == ["K92.2"]


@pytest.mark.parametrize("line, mentioned, suggest, expected", [
    ("3. Steroid-induced hyperglycaemia (prednisolone)", "hyperglycaemia", 0.15, ["I10", "R73.9", "Y42.0"]),
    # the suggester all but ruled it out
    ("3. Steroid-induced hyperglycaemia (prednisolone)", "hyperglycaemia", 0.05, ["I10"]),
    ("3. Hyperglycaemia, settled without treatment", "Hyperglycaemia", 0.15, ["I10"]),  # no drug caused it: a finding
])
def test_a_finding_a_drug_caused_is_coded_as_the_adverse_effect(tables, line, mentioned, suggest, expected):
    x = Excerpt(("diagnoses", "1. Hypertension"), ("diagnoses", line))
    finding = replace(code(tables, WHO, "R73.9", "candidate", x.evidence(line, "diagnoses"), score=0.5), suggest=suggest)
    out = run(tables, x, [code(tables, WHO, "I10", "primary", x.evidence("1. Hypertension", "diagnoses"))], "CON-022",
              mentions=[x.mention(mentioned, "diagnoses")], candidates=[finding])
    assert [c.code for c in out.codes] == expected


def test_a_condition_two_drugs_caused_gets_both_drug_codes_in_the_order_told(tables):
    line = "1. Severe hyperkalaemia with ECG changes - due to spironolactone + ramipril, precipitated by AKI."
    x = Excerpt(("diagnoses", line))
    mentions = [x.mention("hyperkalaemia", "diagnoses"), x.mention("AKI", "diagnoses", expansion="acute kidney injury")]
    out = run(tables, x, [code(tables, WHO, "E87.5", "primary", x.evidence(line, "diagnoses")),
                          code(tables, WHO, "N17.9", evidence=x.evidence(line, "diagnoses"))], "CON-022",
              mentions=mentions)
    # the AKI that precipitated it follows the drugs in the statement: they are not its cause
    assert [c.code for c in out.codes] == ["E87.5", "Y54.1", "Y52.4", "N17.9"]


def test_each_adverse_effect_gets_its_drug_code(tables):
    lines = ["1. Neutropenia secondary to chemotherapy", "2. Grade 2 oral mucositis secondary to chemotherapy"]
    x = Excerpt(*(("diagnoses", line) for line in lines))
    out = run(tables, x, [code(tables, WHO, "D70", "primary", x.evidence(lines[0], "diagnoses")),
                          code(tables, WHO, "K12.1", evidence=x.evidence(lines[1], "diagnoses"))], "CON-022")
    assert [c.code for c in out.codes] == ["D70", "Y43.3", "K12.1", "Y43.3"]


@pytest.mark.parametrize("condition, title_word, expected", [
    # "the ulcer" is the coded duodenal ulcer told again: its drug follows it, nothing else is coded
    ("K26.4", "ulcer", ["K26.4", "Y45.2"]),
    # a condition the coded one's title does not name is the candidate's own
    ("I10", "ulcer", ["I10", "L97", "Y45.2"]),
])
def test_a_drug_told_as_the_cause_of_a_coded_condition_follows_it(tables, condition, title_word, expected):
    first, line = "1. Acute upper GI bleed from a duodenal ulcer", "We think the ulcer is likely naproxen-related."
    x = Excerpt(("diagnoses", first), (None, line))
    ulcer = replace(code(tables, WHO, "L97", "candidate", x.evidence(line), score=0.2), suggest=0.13)
    at = x.text.index(line) + line.index(title_word)
    out = run(tables, x, [code(tables, WHO, condition, "primary", x.evidence(first, "diagnoses"))], "CON-022",
              mentions=[Mention(at, at + len(title_word), title_word, "DIAGNOSIS", None)], candidates=[ulcer])
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("drugs, expected", [
    ("Naproxen 500 mg BD, stopped.", "Y45.2"),  # the one NSAID the letter names
    ("Naproxen 500 mg BD and aspirin 75 mg OD.", "Y45.3"),  # two classes named: the NSAID unnamed
    ("Paracetamol 1 g QDS.", "Y45.3"),
])
def test_an_nsaid_unnamed_is_the_one_the_letter_names(tables, drugs, expected):
    line = "1. Duodenal ulcer, NSAID-related"
    x = Excerpt(("diagnoses", line), ("medications", drugs))
    out = run(tables, x, [code(tables, WHO, "K26.9", "primary", x.evidence(line, "diagnoses"))], "CON-022")
    assert [c.code for c in out.codes] == ["K26.9", expected]


def test_a_named_nsaid_is_its_own_class_whatever_else_the_letter_names(tables):
    line = "1. Duodenal ulcer, diclofenac-induced"
    x = Excerpt(("diagnoses", line), ("medications", "Ibuprofen stopped last year."))
    out = run(tables, x, [code(tables, WHO, "K26.9", "primary", x.evidence(line, "diagnoses"))], "CON-022")
    assert [c.code for c in out.codes] == ["K26.9", "Y45.3"]


@pytest.mark.parametrize("lines, infection, expected", [
    # the organism in the infection's own statement, or in a culture result of this episode
    ([("diagnoses", "1. Hyperactive delirium secondary to E. coli urinary tract infection")], "N39.0", ["N39.0", "B96.2"]),
    ([("diagnoses", "1. Right empyema"), ("investigations", "Culture: Streptococcus anginosus (milleri group).")],
     "J86.9", ["J86.9", "B95.4"]),
    ([("diagnoses", "1. Left peritonsillar abscess"), (None, "Pus grew group A streptococcus.")], "J36", ["J36", "B95.0"]),
    ([("diagnoses", "1. Cellulitis of the left leg"), (None, "Blood cultures grew MSSA.")], "L03.1", ["L03.1", "B95.6"]),
    ([("diagnoses", "1. Acute right pyelonephritis in pregnancy"), (None, "MSU grew Escherichia coli.")], "O23.0",
     ["O23.0", "B96.2"]),
    # no organism of this episode: the history's is another episode's; an organism-named code needs none
    ([("diagnoses", "1. Urinary tract infection"), ("past_medical_history", "E. coli UTI in 2019")], "N39.0", ["N39.0"]),
    ([("diagnoses", "1. Pneumococcal pneumonia"), (None, "Streptococcus pneumoniae in the sputum.")], "J13", ["J13"]),
    # an infection of the male genital organs (Fournier's gangrene of the scrotum) names no organism
    ([("diagnoses", "1. Fournier's gangrene of the scrotum"), (None, "Tissue cultures: E. coli.")], "N49.2",
     ["N49.2", "B96.2"]),
    ([("diagnoses", "1. Left frontal brain abscess"), (None, "Aspirated pus grew Streptococcus anginosus.")], "G06.0",
     ["G06.0", "B95.4"]),
    ([("diagnoses", "1. Right orbital cellulitis"), (None, "Blood cultures grew MSSA.")], "H05.0", ["H05.0", "B95.6"]),
])
def test_an_infection_is_followed_by_the_organism_the_letter_names(tables, lines, infection, expected):
    x = Excerpt(*lines)
    out = run(tables, x, [code(tables, WHO, infection, "primary", x.evidence(lines[0][1], "diagnoses"))], "CON-027")
    assert [c.code for c in out.codes] == expected
    if len(expected) > 1:
        assert out.codes[1].rules == ("CON-027",) and "names the organism" in out.flags[0].message


@pytest.mark.parametrize("lines, infection, expected", [
    # pneumonia or septicaemia without its organism becomes the code that names it
    ([("diagnoses", "1. Right lower lobe pneumonia"), (None, "Sputum culture grew Haemophilus influenzae.")],
     "J18.1", ["J14"]),
    ([("diagnoses", "1. Sepsis due to group A streptococcus from necrotising fasciitis")], "A41.9", ["A40.0"]),
    ([("diagnoses", "1. Urosepsis secondary to E. coli urinary tract infection")], "A41.9", ["A41.5"]),
    # an organism with no B95-B96 code has its own sepsis code
    ([("diagnoses", "1. Salmonella Enteritidis gastroenteritis with bacteraemia and sepsis")], "A41.9", ["A02.1"]),
    ([("diagnoses", "1. Sepsis"), (None, "Blood cultures grew Listeria monocytogenes.")], "A41.9", ["A32.7"]),
    ([("diagnoses", "1. Sepsis"), (None, "Blood cultures grew Salmonella Typhi.")], "A41.9", ["A41.9"]),  # typhoid: A01
    # an organism a test did not find, or one grown from another site, names nothing
    ([("diagnoses", "1. Community-acquired pneumonia"), (None, "Pneumococcal and Legionella urinary antigens negative.")],
     "J18.9", ["J18.9"]),
    ([("diagnoses", "1. Community-acquired pneumonia"), (None, "Urine culture grew E. coli.")], "J18.9", ["J18.9"]),
    # a viral infection of unstated virus: the code of the virus its swab or CSF names
    ([("diagnoses", "1. Bronchiolitis"), (None, "Nasopharyngeal swab PCR: RSV detected.")], "J21.9", ["J21.0"]),
    ([("diagnoses", "1. Viral meningitis"), (None, "CSF enterovirus PCR positive.")], "A87.9", ["A87.0"]),
    ([("diagnoses", "1. Viral meningitis"), (None, "CSF enterovirus PCR negative.")], "A87.9", ["A87.9"]),
    ([("diagnoses", "1. Right lower lobe pneumonia"), (None, "Throat swab PCR: adenovirus.")], "J18.1", ["J12.0"]),
    # a test only sent names nothing; a virus named first leaves the bacterium the cultures grew
    ([("diagnoses", "1. Bronchiolitis"), (None, "Nasopharyngeal aspirate sent for RSV PCR; result awaited.")],
     "J21.9", ["J21.9"]),
    ([("diagnoses", "1. Right lower lobe pneumonia"), (None, "BAL viral PCR detected RSV."),
      (None, "Sputum culture grew Haemophilus influenzae.")], "J18.1", ["J14"]),
])
def test_an_infection_with_a_combination_code_for_its_organism_takes_it(tables, lines, infection, expected):
    x = Excerpt(*lines)
    out = run(tables, x, [code(tables, WHO, infection, "primary", x.evidence(lines[0][1], "diagnoses"))], "CON-027")
    assert [c.code for c in out.codes] == expected
    if expected != [infection]:
        assert out.codes[0].role == "primary" and "names the organism" in out.flags[0].message


def test_the_organism_code_goes_once_a_combination_code_names_it(tables):
    lines = ["1. Right lower lobe pneumonia", "Sputum culture grew Haemophilus influenzae."]
    x = Excerpt(("diagnoses", lines[0]), (None, lines[1]))
    out = run(tables, x, [code(tables, WHO, "J18.1", "primary", x.evidence(lines[0], "diagnoses")),
                          code(tables, WHO, "B96.3", evidence=x.evidence(lines[1], None))], "CON-027")
    assert [c.code for c in out.codes] == ["J14"]
    assert {c.code for c in out.candidates} >= {"J18.1", "B96.3"}


@pytest.mark.parametrize("lines, coded, expected", [
    # the organism code goes beside a code whose title names the organism
    (["1. RSV bronchiolitis", "PCR detected respiratory syncytial virus."], ["J21.0", "B97.4"], ["J21.0"]),
    (["1. Sepsis due to Staphylococcus aureus", "Blood cultures grew MSSA."], ["A41.0", "B95.6"], ["A41.0"]),
    # ... unless an infection whose code names no organism needs it
    (["1. Sepsis due to Staphylococcus aureus from left leg cellulitis", "Blood cultures grew MSSA."],
     ["A41.0", "L03.1", "B95.6"], ["A41.0", "L03.1", "B95.6"]),
    # a title naming another organism leaves it
    (["1. Pneumococcal pneumonia", "Urine grew E. coli."], ["J13", "B96.2"], ["J13", "B96.2"]),
])
def test_an_organism_code_is_not_coded_beside_a_code_that_names_the_organism(tables, lines, coded, expected):
    x = Excerpt(("diagnoses", lines[0]), (None, lines[1]))
    codes = [code(tables, WHO, c, "primary" if i == 0 else "secondary",
                  x.evidence(lines[1] if c.startswith("B9") else lines[0], None if c.startswith("B9") else "diagnoses"))
             for i, c in enumerate(coded)]
    out = run(tables, x, codes, "CON-027")
    assert [c.code for c in out.codes] == expected
    assert all("CON-027" in c.rules for c in out.candidates)


def test_an_organism_with_no_organism_code_is_never_added_after_an_infection(tables):
    x = Excerpt(("diagnoses", "1. Urinary tract infection"), (None, "Urine culture grew Salmonella."))
    out = run(tables, x, [code(tables, WHO, "N39.0", "primary", x.evidence("1. Urinary tract infection", "diagnoses"))],
              "CON-027")
    assert [c.code for c in out.codes] == ["N39.0"] and not out.flags


def test_an_organism_code_already_suggested_is_kept(tables):
    # the ranker's organism rests on its own culture; the E. coli of the diagnosis line adds nothing
    x = Excerpt(("diagnoses", "1. E. coli urinary tract infection"), ("investigations", "Urine culture: Klebsiella pneumoniae."))
    ev = x.evidence("1. E. coli urinary tract infection", "diagnoses")
    out = run(tables, x, [code(tables, WHO, "N39.0", "primary", ev),
                          code(tables, WHO, "B96.1", evidence=x.evidence("Klebsiella pneumoniae", "investigations"))], "CON-027")
    assert [c.code for c in out.codes] == ["N39.0", "B96.1"] and not out.flags


def test_an_opcs4_site_code_is_no_pregnancy(tables):
    # OPCS-4 has Z32-Z39 site codes and an O chapter: only the diagnoses say it is a delivery record
    x = Excerpt(("procedures", "Procedure as stated"))
    out = run(tables, x, [code(tables, WHO, "R55", "primary"), _opcs("R24.9", "All normal delivery", role="primary"),
                          _opcs("Z35.4", "Middle cerebral artery")], "CON-020")
    assert [c.code for c in out.codes] == ["R55", "Z35.4"]


@pytest.mark.parametrize("history, kept", [
    ("Z88.0", ["Z88.0"]),  # "clarithromycin (pen allergy)": the known allergy, no reaction of unknown cause
    ("Z91.0", ["Z91.0"]),
    (None, ["T78.4"]),  # an allergic reaction with no allergy recorded stays
])
def test_a_recorded_allergy_is_its_history_code_not_an_allergy_nos(tables, history, kept):
    x = Excerpt(("diagnoses", "Wound infection treated with clarithromycin (pen allergy)"))
    codes = [code(tables, WHO, "T78.4", "primary"), *([code(tables, WHO, history)] if history else [])]
    out = run(tables, x, codes, "CON-021")
    assert [c.code for c in out.codes] == kept
    if history:
        assert any(c.code == "T78.4" and "CON-021" in c.rules for c in out.candidates)


@pytest.mark.parametrize("condition, kept", [
    ("K26.4", ["K26.4"]),  # a bleeding duodenal ulcer: the melaena is in its code
    ("K57.3", ["K57.3", "K92.1"]),  # diverticular disease has no bleeding axis: the haemorrhage is coded
])
def test_gi_bleeding_is_not_coded_beside_a_condition_whose_code_says_it_bled(tables, condition, kept):
    x = Excerpt(("diagnoses", "Bleeding duodenal ulcer with melaena"))
    out = run(tables, x, [code(tables, WHO, condition, "primary"), code(tables, WHO, "K92.1")], "CON-024")
    assert [c.code for c in out.codes] == kept


@pytest.mark.parametrize("others, kept", [
    (["S82.2"], ["S82.2"]),  # "L tibial shaft #": the fracture read alone is the same fracture
    (["J18.9"], ["J18.9", "T14.2"]),  # no injury of a documented region: the unspecified one stands
    (["T22.2"], ["T22.2"]),  # a burn of a documented region: T14 excludes burns
])
def test_an_injury_of_unspecified_region_gives_way_to_one_whose_region_is_given(tables, others, kept):
    x = Excerpt(("diagnoses", "Closed L tibial shaft # (oblique)"))
    codes = [code(tables, WHO, c, "primary" if i == 0 else "secondary") for i, c in enumerate(others)]
    out = run(tables, x, [*codes, code(tables, WHO, "T14.2")], "CON-025")
    assert [c.code for c in out.codes] == kept


@pytest.mark.parametrize("line, site_code, kept", [
    ("R epididymo-orchitis with R scrotal abscess", "N45.0", ["N45.0"]),  # the abscess is in N45.0
    ("Left Bartholin's abscess", "N75.1", ["N75.1"]),
    ("Right lower lobe lung abscess after aspiration", "J85.2", ["J85.2"]),  # an organ's abscess
    ("Sigmoid diverticulitis with a 6 cm pericolic abscess", "K57.2", ["K57.2"]),
    ("Lactational right breast abscess", "O91.1", ["O91.1"]),
    ("Community-acquired pneumonia; abscess of the back", "J18.9", ["J18.9", "L02.2"]),  # no abscess of a site
])
def test_a_cutaneous_abscess_gives_way_to_the_abscess_of_its_site(tables, line, site_code, kept):
    x = Excerpt(("diagnoses", line))
    out = run(tables, x, [code(tables, WHO, site_code, "primary"), code(tables, WHO, "L02.2")], "CON-034")
    assert [c.code for c in out.codes] == kept


def test_a_combination_only_icd10cm_has_is_not_applied(tables):
    # ICD-10-CM's I20 note sends angina with coronary atherosclerosis to I25.11-; WHO's I25.1 names
    # no angina (nor do ICD-10-CM's I25.1 inclusion terms): unstable angina is coded beside it
    x = Excerpt(("diagnoses", "1. Unstable angina. 2. Two-vessel coronary artery disease."))
    out = run(tables, x, [code(tables, WHO, "I20.0", "primary", score=0.9), code(tables, WHO, "I25.1", score=0.8)],
              "CON-010")
    assert [c.code for c in out.codes] == ["I20.0", "I25.1"]
    assert not out.flags


@pytest.mark.parametrize("diagnoses, procedure, kept", [
    # a normal ECG is not an all normal delivery; a hysterectomy letter is not a caesarean
    (["R55"], ("R24.9", "All normal delivery"), []),
    (["N80.0"], ("R18.2", "Lower uterine segment caesarean delivery NEC"), []),
    # on the mother's delivery record the delivery is coded
    (["O68.0", "Z37.0"], ("R18.2", "Lower uterine segment caesarean delivery NEC"), ["R18.2"]),
    (["O14.0"], ("R15.1", "Induction of labour by artificial rupture of membranes"), ["R15.1"]),
])
def test_an_obstetric_operation_needs_a_pregnancy_episode(tables, diagnoses, procedure, kept):
    x = Excerpt(("procedures", "Procedure as stated"))
    codes = [code(tables, WHO, c, "primary" if i == 0 else "secondary") for i, c in enumerate(diagnoses)]
    out = run(tables, x, [*codes, _opcs(*procedure, role="primary")], "CON-020")
    assert [c.code for c in out.codes if c.system == OPCS.value] == kept
    if not kept:
        assert any(c.code == procedure[0] and "CON-020" in c.rules for c in out.candidates)
        assert "needs a pregnancy" in out.flags[0].message


@pytest.mark.parametrize("line, mention, coded_as, expected", [
    # the statement names what sets a subdivision apart: coded to it, in the same place
    ("1. RSV bronchiolitis (nasopharyngeal aspirate RSV PCR positive)",
     {"phrase": "RSV bronchiolitis", "expansion": "respiratory syncytial virus bronchiolitis"}, "J21.9", "J21.0"),
    ("1. Age-related nuclear cataract, left eye", None, "H25.9", "H25.1"),
    # the statement says what the code excludes ("without haemorrhage"): the subdivision with it
    ("1. Bleeding duodenal ulcer (Forrest IIa)", None, "K26.7", "K26.4"),
    # what follows "without" is not said: the sibling "with psychotic symptoms" is not documented
    ("1. Recurrent depressive disorder, current episode severe without psychotic symptoms", None, "F33.3", "F33.2"),
    ("1. Recurrent depressive disorder, current episode severe without psychotic symptoms", None, "F33.2", "F33.2"),
    # "both" is the titles' "bilateral"; of two documented, the one that says all the other says
    ("1. Primary osteoarthritis of both knees", None, "M17.9", "M17.0"),
    # "due to" is the titles' "secondary to"; words in parentheses are supplementary
    ("1. Iron deficiency anaemia due to chronic GI blood loss", None, "D50.9", "D50.0"),
    ("1. Iron deficiency anaemia due to poor diet", None, "D50.9", "D50.9"),
    # a body region as the site subdivisions name it ("other parts of face", "limb, including hip")
    ("1. Nodular basal cell carcinoma, left temple", None, "C44.9", "C44.3"),
    ("1. Basal cell carcinoma of the back", None, "C44.9", "C44.5"),
    ("1. Cellulitis of the left lower leg", None, "L03.9", "L03.1"),
    # a part of the bowel as the intestine subdivisions name it
    ("1. Sigmoid diverticular disease", None, "K57.9", "K57.3"),
    # an organ's adjective as the titles name the organ, and Scadding's stage II (nodes with lung)
    ("The diagnosis is pulmonary sarcoidosis with mediastinal and hilar lymphadenopathy.", None, "D86.0", "D86.2"),
    ("The diagnosis is pulmonary sarcoidosis, stage II, with hypercalcaemia.", None, "D86.0", "D86.2"),
    ("The diagnosis is pulmonary sarcoidosis.", None, "D86.9", "D86.0"),
    # "gangrenous" is the titles' "gangrene" (and the "without gangrene" code excludes it)
    ("1. Strangulated right inguinal hernia with a gangrenous loop of ileum", None, "K40.3", "K40.4"),
    # a diabetic complication as the diabetes subdivisions name it
    ("1. Type 2 diabetes with diabetic nephropathy, CKD stage 3b", None, "E11.9", "E11.2"),
    ("1. Type 1 diabetes with diabetic peripheral neuropathy", None, "E10.9", "E10.4"),
    # a glomerular disease's histological type as the N00-N08 subdivisions name it
    ("1. Nephrotic syndrome from primary membranous nephropathy (anti-PLA2R positive)", None, "N04.9", "N04.2"),
    ("1. Nephrotic syndrome due to minimal change disease", None, "N04.9", "N04.0"),
    ("1. Nephrotic syndrome, FSGS on biopsy", None, "N04.9", "N04.1"),
    ("1. Nephrotic syndrome, biopsy awaited", None, "N04.9", "N04.9"),
    # the eczema of varicose veins is their inflammation (the index's Eczema, varicose I83.1)
    ("4. Varicose eczema of both lower legs, with varicose veins - flare", None, "I83.9", "I83.1"),
    ("4. Varicose veins of both legs; atopic eczema of the hands", None, "I83.9", "I83.9"),
    # already as specific as the statement: kept
    ("1. Acute bronchiolitis", None, "J21.9", "J21.9"),
    ("1. Duodenal ulcer, no bleeding", None, "K26.9", "K26.9"),
    # what the statement says the condition is without is not documented; the code without it is
    ("1. Severe attack of migraine without aura", None, "G43.1", "G43.0"),
    ("1. Migraine with aura", None, "G43.9", "G43.1"),
    # "non-" denies what it joins ("non-obstructive" is not I42.1) and leaves the code that does not say it
    ("1. Hypertrophic cardiomyopathy, non-obstructive", None, "I42.1", "I42.2"),
    # "no ..." says there is none, as "without" does
    ("1. Perianal abscess confined to the perianal space; no ischiorectal extension", None, "K61.0", "K61.0"),
    ("1. Ischiorectal abscess, drained; no fistula", None, "K61.0", "K61.3"),
    # so do "not" and "never": varices that have not bled are those without bleeding
    ("4. Grade 2 oesophageal varices - not bled - band ligation", None, "I85.0", "I85.9"),
    ("4. Oesophageal varices, bled on day 2 - band ligation", None, "I85.9", "I85.0"),
    # the denial ends at "but", "with" and " - "
    ("1. Duodenal ulcer, not perforated but actively bleeding", None, "K26.4", "K26.4"),
    ("1. Inguinal hernia - could not be reduced - with obstruction", None, "K40.3", "K40.3"),
    # what the statement states elsewhere it does not deny: the localised peritonitis stands
    ("1. Acute appendicitis with localised peritonitis; no generalised peritonitis", None, "K35.8", "K35.3"),
    ("1. Non-insulin-dependent diabetes with diabetic nephropathy", None, "E11.9", "E11.2"),
    # a documented code gives way to one that says all it says and more ("state" is boilerplate)
    ("1. Alcohol withdrawal with delirium (delirium tremens)", None, "F10.3", "F10.4"),
    # a curated index term stated in full documents a code ("glue ear" is H65.3); its numbers count
    ("Examination after delivery showed a third-degree perineal tear, graded 3b", None, "O70.0", "O70.2"),
    # a curated index term stated in full documents a code ("glue ear" is H65.3)
    ("1. Bilateral chronic otitis media with effusion (glue ear)", None, "H65.3", "H65.3"),
    # two subdivisions equally documented: left to the coder
    ("1. Age-related cataract, incipient and nuclear", None, "H25.9", "H25.9"),
    ("1. Basal cell carcinomas of the left temple and the right hand", None, "C44.9", "C44.9"),
])
def test_a_condition_is_coded_to_the_subdivision_its_statement_documents(tables, line, mention, coded_as, expected):

    x = Excerpt(("diagnoses", line), ("diagnoses", "2. Hypertension"))
    if "no bleeding" in line:  # the text stage blanks a negated word in what the ranker reads
        x.sentences[0] = replace(x.sentences[0], query=line.replace("bleeding", "       "))
    mentions = [x.mention(mention["phrase"], "diagnoses", expansion=mention["expansion"])] if mention else []
    first = code(tables, WHO, coded_as, "primary", x.evidence(line, "diagnoses"))
    out = run(tables, x, [first, code(tables, WHO, "I10", evidence=x.evidence("2. Hypertension", "diagnoses"))],
              "CON-011", mentions=mentions)
    assert [c.code for c in out.codes] == [expected, "I10"]
    if expected != coded_as:
        assert [c.code for c in out.candidates] == [coded_as] and out.codes[0].rules == ("CON-011",)
        assert out.flags[0].codes == (coded_as, expected)


@pytest.mark.parametrize("line, coded_as, expected", [
    # an operation's method as the OPCS-4 titles name it ("HFQ" is title boilerplate)
    ("Excision of pilonidal sinus with primary midline closure", "H59.9", "H59.4"),
    ("Open repair of recurrent incisional hernia with mesh", "T26.9", "T26.2"),
    ("Sutured repair of recurrent incisional hernia", "T26.9", "T26.3"),
    ("Repair of recurrent incisional hernia", "T26.9", "T26.9"),  # no method told
])
def test_a_residual_operation_is_coded_to_the_method_its_statement_documents(nhs_tables, line, coded_as, expected):
    x = Excerpt(("procedures", line))
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, coded_as, "primary", x.evidence(line, "procedures"))], "CON-011")
    assert [c.code for c in out.codes] == [expected]


@pytest.mark.parametrize("line, expected", [
    ("DIAGNOSIS: Small bowel obstruction secondary to incarcerated umbilical hernia - segment of non-viable ileum.",
     "K42.1"),
    ("Strangulated paraumbilical hernia with infarcted omentum", "K42.1"),
    ("Incarcerated umbilical hernia with obstruction; the bowel was viable after release.", "K42.0"),
])
def test_a_hernia_with_bowel_that_did_not_recover_is_the_hernia_with_gangrene(tables, line, expected):
    x = Excerpt(("diagnoses", line))
    out = run(tables, x, [code(tables, WHO, "K42.0", "primary", x.evidence(line, "diagnoses"))], "CON-011")
    assert [c.code for c in out.codes] == [expected]


def test_a_past_history_statement_does_not_make_the_subdivision_ambiguous(tables):
    line, old = "1. Nodular basal cell carcinoma, left temple", "- Squamous cell carcinoma of the right hand, excised 2021"
    x = Excerpt(("diagnoses", line), ("past_medical_history", old))
    first = code(tables, WHO, "C44.9", "primary", x.evidence(line, "diagnoses") + x.evidence(old, "past_medical_history"))
    assert [c.code for c in run(tables, x, [first], "CON-011").codes] == ["C44.3"]


@pytest.mark.parametrize("first_line, expected", [
    ("1. Nodular basal cell carcinoma, left cheek", "C44.3"),  # the statement the code rests on most decides
    ("1. Nodular basal cell carcinoma", "C44.9"),  # it names no site: two sites elsewhere are left to the coder
])
def test_statements_that_document_different_subdivisions_leave_it_to_the_first(tables, first_line, expected):
    plan = "Skin cancer follow-up in clinic, which will also treat a keratosis on the back of her right hand."
    x = Excerpt(("diagnoses", first_line), ("plan", plan))
    first = code(tables, WHO, "C44.9", "primary", x.evidence(first_line, "diagnoses") + x.evidence(plan, "plan"))
    assert [c.code for c in run(tables, x, [first], "CON-011").codes] == [expected]


def test_a_past_history_statement_documents_what_the_others_leave_unsaid(tables):
    """The plan names the migraine only; the history says which: G43.0, not the G43.1 the ranker
    read ("aura")."""
    old, plan = "She has migraine without aura, on propranolol.", "As she has migraine, we advised against the pill."
    x = Excerpt(("past_medical_history", old), ("plan", plan))
    first = code(tables, WHO, "G43.1", "primary", x.evidence(old, "past_medical_history") + x.evidence(plan, "plan"))
    assert [c.code for c in run(tables, x, [first], "CON-011").codes] == ["G43.0"]


def test_a_dated_history_statement_tells_another_episodes_subdivision(tables):
    line, old = "1. Community acquired pneumonia", "- Lobar pneumonia 2019 requiring ITU admission"
    x = Excerpt(("diagnoses", line), ("past_medical_history", old))
    first = code(tables, WHO, "J18.9", "primary", x.evidence(line, "diagnoses") + x.evidence(old, "past_medical_history"))
    assert [c.code for c in run(tables, x, [first], "CON-011").codes] == ["J18.9"]


@pytest.mark.parametrize("first, assertion, expected", [
    # "the abscess pus" tells no site; where the letter named the abscess first tells it
    ("1. Cellulitis of the left lower leg, with a small abscess over the medial left calf", "present", "L02.4"),
    # a first naming that is negated documents nothing
    ("1. Cellulitis of the left lower leg, no abscess over the calf", "negated", "L02.2"),
    # another condition's site documents nothing of the abscess
    ("1. Cellulitis of the left lower leg", None, "L02.2"),
])
def test_a_statement_that_tells_no_site_reads_where_the_letter_named_the_condition(tables, first, assertion, expected):
    line = "2. Group A Streptococcus grown from the abscess pus"
    x = Excerpt(("diagnoses", first), ("diagnoses", line))
    starts = [i for i in range(len(x.text)) if x.text.startswith("abscess", i)]
    mentions = [Mention(a, a + len("abscess"), "abscess", "DIAGNOSIS", "diagnoses",
                        assertion=assertion if a < len(first) else "present") for a in starts]
    suggested = code(tables, WHO, "L02.2", "secondary", x.evidence(line, "diagnoses"))
    assert [c.code for c in run(tables, x, [suggested], "CON-011", mentions=mentions).codes] == [expected]


@pytest.mark.parametrize("codes, kept", [
    (["J93.8", "J93.1"], ["J93.1"]),  # other pneumothorax beside other spontaneous pneumothorax
    (["J93.1", "J93.8"], ["J93.1"]),
])
def test_of_two_residual_subdivisions_the_one_that_says_more_is_coded(tables, codes, kept):
    lines = ["1. Recurrent right primary spontaneous pneumothorax", "CXR: large R PTX"]
    x = Excerpt(("diagnoses", lines[0]), ("investigations", lines[1]))
    evidence = {"J93.1": x.evidence(lines[0], "diagnoses"), "J93.8": x.evidence(lines[1], "investigations")}
    out = run(tables, x, [code(tables, WHO, c, "primary" if n == 0 else "secondary", evidence[c])
                          for n, c in enumerate(codes)], "CON-012")
    assert [c.code for c in out.codes] == kept and out.codes[0].role == "primary"


def test_a_code_whose_title_the_table_joins_to_an_other_category_is_no_residual(who_icd10_uk):
    """The UK table writes E87.5 "Other disorders of fluid, electrolyte and acid-base balance,
    hyperkalaemia": its own title, "Hyperkalaemia", says what it is beside fluid overload."""
    tables = who_icd10_uk
    x = Excerpt(("diagnoses", "2. Hyperkalaemia"), ("diagnoses", "3. Fluid overload"))
    codes = [code(tables, WHO, "E87.7", "primary", x.evidence("3. Fluid overload", "diagnoses")),
             code(tables, WHO, "E87.5", evidence=x.evidence("2. Hyperkalaemia", "diagnoses"))]
    out = run(tables, x, codes, "CON-012")
    assert [c.code for c in out.codes] == ["E87.7", "E87.5"] and not out.flags


@pytest.mark.parametrize("line, codes, kept", [
    ("She has migraine without aura.", ["G43.9", "G43.0"], ["G43.0"]),
    # a code of its own words (with haemorrhage, with obstruction) is never the one given up
    ("1. Bleeding gastric ulcer - adrenaline injection and clips at OGD", ["K25.4", "K25.9"], ["K25.4"]),
    ("1. Obstructed right inguinal hernia", ["K40.3", "K40.9"], ["K40.3"]),
])
def test_a_subdivision_that_says_only_what_the_condition_is_without_beats_an_unspecified_one(tables, line, codes, kept):
    x = Excerpt(("past_medical_history", line))
    ev = x.evidence(line, "past_medical_history")
    out = run(tables, x, [code(tables, WHO, c, "primary" if n == 0 else "secondary", ev) for n, c in enumerate(codes)],
              "CON-012")
    assert [c.code for c in out.codes] == kept


@pytest.mark.parametrize("mention, kept", [
    ("Pituitary apoplexy", ["E23.0", "E23.6"]),  # the index sends the apoplexy to "Other disorders"
    ("Pituitary disorder", ["E23.0"]),  # a residual code that names nothing of its own gives way
])
def test_an_other_code_the_index_names_stays_beside_its_sibling(tables, mention, kept):
    line = f"1. {mention} with hypopituitarism, on hydrocortisone"
    x = Excerpt(("diagnoses", line))
    ev = x.evidence(line, "diagnoses")
    out = run(tables, x, [code(tables, WHO, "E23.0", "primary", ev), code(tables, WHO, "E23.6", evidence=ev)],
              "CON-012", mentions=[x.mention(mention, "diagnoses"), x.mention("hypopituitarism", "diagnoses")])
    assert [c.code for c in out.codes] == kept


def test_a_documented_subdivision_suggested_lower_down_takes_the_place_of_the_code_it_replaces(tables):
    line = "1. Nodular basal cell carcinoma, left temple"
    x = Excerpt(("diagnoses", line), ("diagnoses", "2. Hypertension"))
    codes = [code(tables, WHO, "C44.9", "primary", x.evidence(line, "diagnoses")),
             code(tables, WHO, "I10", evidence=x.evidence("2. Hypertension", "diagnoses")),
             code(tables, WHO, "C44.3", evidence=x.evidence(line, "diagnoses"))]
    out = run(tables, x, codes, "CON-011")
    assert [c.code for c in out.codes] == ["C44.3", "I10"] and out.candidates[0].code == "C44.9"


@pytest.mark.parametrize("history, expected", [
    ("- Atopic eczema - emollients, hydrocortisone 1% for flares", "L20.9"),
    # the history names no more of it: the residual code stays
    ("- Eczema since infancy - emollients", "L30.9"),
])
def test_the_past_history_names_in_full_what_the_examination_finds(tables, history, expected):
    found = "Dry flexural eczema both elbows, not infected."
    x = Excerpt(("diagnoses", "1. Rotavirus gastroenteritis"), ("examination", found), ("past_medical_history", history))
    ev = x.evidence(found, "examination") + x.evidence(history, "past_medical_history")
    out = run(tables, x, [code(tables, WHO, "A08.0", "primary", x.evidence("1. Rotavirus gastroenteritis", "diagnoses")),
                          code(tables, WHO, "L30.9", evidence=ev)], "CON-014")
    assert [c.code for c in out.codes] == ["A08.0", expected]


@pytest.mark.parametrize("told, expected", [
    # this episode's statement names one knee: the history's "both knees" was before the other's replacement
    ("Primary osteoarthritis of the right knee", "M17.1"),
    ("Primary osteoarthritis of the knee", "M17.0"),
])
def test_the_history_names_no_bilateral_condition_this_episode_tells_of_one_side(tables, told, expected):
    history = "- Primary osteoarthritis of both knees; left total knee replacement in 2022."
    x = Excerpt(("primary_diagnosis", told), ("past_medical_history", history))
    ev = x.evidence(told, "primary_diagnosis") + x.evidence(history, "past_medical_history")
    out = run(tables, x, [code(tables, WHO, "M17.1", "primary", ev)], "CON-014")
    assert [c.code for c in out.codes] == [expected]


def test_a_past_episode_in_the_history_names_nothing_of_this_one(tables):
    line, history = "1. Community acquired pneumonia", "- Pneumococcal pneumonia 2019 (ITU admission)"
    x = Excerpt(("diagnoses", line), ("past_medical_history", history))
    ev = x.evidence(line, "diagnoses") + x.evidence(history, "past_medical_history")
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", ev)], "CON-014")
    assert [c.code for c in out.codes] == ["J18.9"]


@pytest.mark.parametrize("line, coded_as, expected", [
    # a residual code gives way to the code of its block that the statement names in full
    ("Oliver, aged 6, was admitted with acute severe asthma.", "J45.9", "J46"),  # index term
    ("Diagnosis: age-related (nuclear sclerotic) cataract, left eye.", "H26.9", "H25.1"),
    ("1. R lower lobe community-acquired pneumonia - Streptococcus pneumoniae", "J15.9", "J13"),  # title
    ("1. Anaemia secondary to acute blood loss, transfused 2 units", "D64.9", "D62"),
    ("- Dementia of Alzheimer's type, mild", "F03", "F00.9"),  # a residual code named more fully
    # a specific code gives way to its category's code whose name holds its own and more, all stated
    # (the index's sub-entry: hyperemesis gravidarum, with metabolic disturbance)
    ("1. Hyperemesis gravidarum with ketosis, dehydration and hypokalaemia", "O21.0", "O21.1"),
    ("1. Hyperemesis gravidarum, settled with antiemetics", "O21.0", "O21.0"),
    # a specific code stays; so does a residual one where nothing is named in full, or only far apart
    ("1. Senile nuclear cataract", "H25.1", "H25.1"),
    ("1. Asthma, well controlled on inhalers", "J45.9", "J45.9"),
    ("1. Asthma since childhood, severe eczema, and an acute chest infection", "J45.9", "J45.9"),
    # the specific code names what the residual one's statement names: the ketoacidosis of E14.1
    # goes with it (E10.1), not to "type 1 diabetes" without complications (E10.9)
    ("1. Diabetic ketoacidosis - new presentation of type 1 diabetes", "E14.1", "E10.1"),
    ("1. Ketoacidosis after three days of vomiting and poor oral intake in type 1 diabetes", "E14.1", "E14.1"),
    # a list item's number is no stage
    ("5. Chronic kidney disease stage 4 (diabetic nephropathy)", "N18.9", "N18.4"),
    # an exacerbation of COPD the letter calls infective is COPD with acute lower respiratory infection
    ("1. Infective exacerbation of chronic obstructive pulmonary disease, type 2 respiratory failure", "J44.1", "J44.0"),
    ("1. Acute exacerbation of chronic obstructive pulmonary disease (pollen), CXR clear", "J44.1", "J44.1"),
    ("1. Non-infective exacerbation of chronic obstructive pulmonary disease", "J44.1", "J44.1"),
    ("1. Exacerbation of chronic obstructive pulmonary disease secondary to a urinary tract infection", "J44.1", "J44.1"),
])
def test_a_residual_code_gives_way_to_the_code_its_statement_names_in_full(tables, line, coded_as, expected):
    x = Excerpt(("diagnoses", line), ("diagnoses", "2. Hypertension"))
    first = code(tables, WHO, coded_as, "primary", x.evidence(line, "diagnoses"))
    out = run(tables, x, [first, code(tables, WHO, "I10", evidence=x.evidence("2. Hypertension", "diagnoses"))],
              "CON-014")
    assert [c.code for c in out.codes] == [expected, "I10"] and out.codes[0].role == "primary"
    if expected != coded_as:
        assert [c.code for c in out.candidates] == [coded_as] and out.candidates[0].rules == ("CON-014",)
        assert out.flags[0].codes == (coded_as, expected) and "names it in full" in out.flags[0].message


def test_a_code_that_replaces_another_keeps_the_statement_that_documents_it(tables):
    # the specific code was a candidate read only from the blood cultures: once it takes the place
    # of the diagnosis list's sepsis, that statement is its evidence, so it is no mere finding
    line = "Principal: Sepsis with E. coli bacteraemia secondary to an infected obstructed kidney"
    result = "Blood cultures (2 of 2 sets) grew Escherichia coli."
    x = Excerpt(("diagnoses", line), ("investigations", result))
    sepsis = code(tables, WHO, "A41.9", "primary", x.evidence(line, "diagnoses"))
    e_coli = replace(code(tables, WHO, "A41.5", "candidate", x.evidence(result, "investigations"), score=0.1))
    out = run(tables, x, [sepsis], "CON-014", "CON-019", candidates=[e_coli])
    assert [c.code for c in out.codes] == ["A41.5"] and out.codes[0].role == "primary"
    assert [e.section for e in out.codes[0].evidence] == ["diagnoses", "investigations"]


@pytest.mark.parametrize("line, expected", [
    ("Diagnosis: Left L4/5 disc prolapse with left L5 radiculopathy and foot drop", "M51.16"),  # a lumbar level
    ("Diagnosis: Left disc prolapse with left L5 radiculopathy and foot drop", "M51.16"),
    ("Diagnosis: Left disc prolapse and foot drop", "M51.2"),  # no radiculopathy told
])
def test_a_lumbar_level_names_the_lumbar_region(who_icd10_uk, line, expected):
    x = Excerpt(("diagnoses", line))
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, "M51.2", "primary", x.evidence(line, "diagnoses"))], "CON-014")
    assert [c.code for c in out.codes] == [expected]


@pytest.mark.parametrize("line, expected", [
    ("She has had several years of worsening right knee pain from primary osteoarthritis.", "M17.1"),
    ("Osteoarthritis of the left hip.", "M16.9"),
    ("Painful osteoarthritis at the base of her thumb.", "M18.9"),
    ("Osteoarthritis of her knees and hips.", "M19.9"),  # two joints: left as it is
    ("Osteoarthritis of the right ankle.", "M19.9"),  # a joint M19 codes
])
def test_osteoarthritis_of_a_joint_with_a_category_of_its_own_is_coded_there(tables, line, expected):
    x = Excerpt(("diagnoses", line))
    out = run(tables, x, [code(tables, WHO, "M19.9", "primary", x.evidence(line, "diagnoses"))], "CON-068", "CON-011")
    assert [c.code for c in out.codes] == [expected]


@pytest.mark.parametrize("line, coded_as, expected", [
    ("1. Closed left intertrochanteric fracture of the femur (extracapsular)", "S72.2", "S72.1"),
    ("1. Subtrochanteric fracture of the left femur", "S72.2", "S72.2"),  # it names its own subdivision
    ("1. Fracture of the femur", "S72.2", "S72.2"),  # names no subdivision: left to the ranker
    # two subdivisions named: left to the coder
    ("1. Intertrochanteric fracture extending into the shaft: fracture of shaft of femur", "S72.2", "S72.2"),
    ("1. Intertrochanteric fracture of the femur", "S72.9", "S72.9"),  # a residual code: CON-011 and CON-014 read it
])
def test_a_diagnosis_whose_statement_names_a_sibling_is_coded_as_that_sibling(tables, line, coded_as, expected):
    x = Excerpt(("diagnoses", line))
    out = run(tables, x, [code(tables, WHO, coded_as, "primary", x.evidence(line, "diagnoses"))], "CON-067")
    assert [(c.code, c.role) for c in out.codes] == [(expected, "primary")]
    if expected != coded_as:
        assert out.candidates[0].code == coded_as and out.flags[0].codes == (coded_as, expected)


def test_a_sibling_named_keeps_the_uk_fifth_character(who_icd10_uk):
    line = "1. Closed left intertrochanteric fracture of the femur (extracapsular, stable pattern)"
    x = Excerpt(("diagnoses", line))
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, "S72.20", "primary", x.evidence(line, "diagnoses"))], "CON-067")
    assert [c.code for c in out.codes] == ["S72.10"]


@pytest.mark.parametrize("assertion, expected", [
    ("present", ["J44.0", "J18.9"]),
    ("historical", ["J44.9", "J18.9"]),  # "Pneumonia 2023 - resolved": no infection of this episode
])
def test_a_companion_told_only_as_past_combines_nothing(tables, assertion, expected):
    x = Excerpt(("diagnoses", "1. COPD"), ("past_medical_history", "- Pneumonia 2023 - resolved"))
    codes = [code(tables, WHO, "J44.9", "primary", x.evidence("1. COPD", "diagnoses")),
             code(tables, WHO, "J18.9", evidence=x.evidence("- Pneumonia 2023 - resolved", "past_medical_history", assertion))]
    out = run(tables, x, codes, "CON-017")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("first, second, kept", [
    # the unspecified one was primary: the specific one takes its place
    (("1. Bronchiolitis", "J21.9"), ("RSV (respiratory syncytial virus) bronchiolitis on PCR.", "J21.0"), ["J21.0"]),
    (("1. Acute calculous cholecystitis", "K80.0"), ("Gallstones on ultrasound.", "K80.2"), ["K80.0"]),
    # a residual "Other ..." one beside a specific one
    (("1. Chronic otitis media with effusion", "H65.4"), ("Glue ear on tympanometry.", "H65.3"), ["H65.3"]),
    # diabetes "without complications" beside one of its complications
    (("1. Euglycaemic DKA in type 2 diabetes", "E11.1"), ("PMH: T2DM dx 2016.", "E11.9"), ["E11.1"]),
    # two specified subdivisions of one parent are two conditions: both stay
    (("1. Senile nuclear cataract", "H25.1"), ("Incipient cataract, right eye.", "H25.0"), ["H25.1", "H25.0"]),
    # what sets the specific one apart is worded otherwise ("leg" for "limb"): it is still kept
    (("1. Cellulitis", "L03.9"), ("Cellulitis of the left lower leg.", "L03.1"), ["L03.1"]),
    # influenza with the virus not identified is the residual of influenza due to an identified virus
    (("1. Influenza-like illness with cough", "J11.1"), ("Influenza A on nasopharyngeal PCR.", "J10.1"), ["J10.1"]),
    # gastroenteritis of unspecified origin is the residual of the enteritis of a named organism
    (("1. Salmonella enteritis", "A02.0"), ("Gastroenteritis with AKI.", "A09.9"), ["A02.0"]),
    # one code names the two siblings together: it is kept, in the first place either had
    (("1. Adenotonsillar hypertrophy", "J35.3"), ("Large adenoids on nasendoscopy.", "J35.2"), ["J35.3"]),
    (("1. Left renal calculus", "N20.0"), ("Stones in the left kidney and ureter on CT KUB.", "N20.2"), ["N20.2"]),
    # two siblings alone: no combination code is made up from them here
    (("1. Tonsillar hypertrophy", "J35.1"), ("Large adenoids on nasendoscopy.", "J35.2"), ["J35.1", "J35.2"]),
])
def test_a_condition_is_coded_once_at_its_most_specific(tables, first, second, kept):
    x = Excerpt(("diagnoses", first[0]), (None, second[0]))
    codes = [code(tables, WHO, first[1], "primary", x.evidence(first[0], "diagnoses")),
             code(tables, WHO, second[1], evidence=x.evidence(second[0]))]
    out = run(tables, x, codes, "CON-012")
    assert [c.code for c in out.codes] == kept and out.codes[0].role == "primary"
    if len(kept) == 1:
        dropped = ({first[1], second[1]} - set(kept)).pop()
        assert out.candidates[0].code == dropped and "CON-012" in out.candidates[0].rules
        assert out.flags[0].codes == (dropped, kept[0])


@pytest.mark.parametrize("rule_id, first", [("SEQ-005", "W19"), ("SEQ-002", "R07.4")])
def test_the_condition_listed_first_replaces_a_symptom_or_cause_as_primary(tables, rule_id, first):
    x = Excerpt((None, "She fell at home."), ("diagnoses", "1. Sickle cell crisis"), ("diagnoses", "2. Asthma"))
    codes = [code(tables, WHO, first, "primary", x.evidence("She fell at home."), score=0.95),
             code(tables, WHO, "J45.9", evidence=x.evidence("2. Asthma", "diagnoses"), score=0.9),
             code(tables, WHO, "D57.0", evidence=x.evidence("1. Sickle cell crisis", "diagnoses"), score=0.2)]
    out = run(tables, x, codes, rule_id)
    assert [c.code for c in out.codes][:2] == ["D57.0", first]


def test_the_stated_primary_never_brings_back_a_code_a_convention_took_out(tables):
    # "COPD with LRTI" is coded J44.0; J44.9 (unspecified) on the same statement is taken out by
    # CON-012 and must stay out, although the primary statement names it as well
    statement = "Primary diagnosis: Infective exacerbation of COPD with LRTI"
    x = Excerpt(("primary_diagnosis", statement), ("past_medical_history", "Hypertension"))
    ev = x.evidence(statement, "primary_diagnosis", support=0.9)
    codes = [code(tables, WHO, "J44.9", "primary", ev, score=0.8), code(tables, WHO, "J44.0", evidence=ev, score=0.2),
             code(tables, WHO, "I10", evidence=x.evidence("Hypertension", "past_medical_history"), score=0.9)]
    out = run(tables, x, codes, "CON-012", "SEQ-001", "SEQ-003")
    assert [c.code for c in out.codes] == ["J44.0", "I10"] and out.codes[0].role == "primary"
    assert [c.code for c in out.candidates] == ["J44.9"]


def test_the_stated_primary_never_brings_in_a_sibling_of_a_suggested_code(tables):
    # J44.0 is suggested for "COPD with LRTI"; the candidate J44.1 (acute exacerbation) that the
    # same statement names is not added beside it
    statement = "Primary diagnosis: Infective exacerbation of COPD with LRTI"
    x = Excerpt(("primary_diagnosis", statement), ("past_medical_history", "Hypertension"))
    ev = x.evidence(statement, "primary_diagnosis", support=0.9)
    sibling = code(tables, WHO, "J44.1", "candidate", x.evidence(statement, "primary_diagnosis", support=1.0), score=0.3)
    codes = [code(tables, WHO, "I10", "primary", x.evidence("Hypertension", "past_medical_history"), score=0.9),
             code(tables, WHO, "J44.0", evidence=ev, score=0.2)]
    out = run(tables, x, codes, "SEQ-001", "SEQ-003", candidates=[sibling])
    assert [c.code for c in out.codes] == ["J44.0", "I10"] and [c.code for c in out.candidates] == ["J44.1"]


@pytest.mark.parametrize("source, sepsis, moved", [
    ("N39.0", "A41.9", True),  # urosepsis from a urinary tract infection
    ("J18.9", "A41.9", True),  # sepsis from a pneumonia
    ("L03.1", "A41.9", True),  # sepsis from cellulitis of the leg
    ("A02.0", "A02.1", True),  # Salmonella sepsis from Salmonella enteritis
    ("D70", "A41.9", True),  # neutropenic sepsis: the sepsis first, then the neutropenia
    ("I21.4", "A41.9", False),  # a myocardial infarction is no source of sepsis: left as the clinician listed it
])
def test_sepsis_is_sequenced_before_its_source(tables, source, sepsis, moved):
    x = Excerpt(("diagnoses", "1. Infection"), ("diagnoses", "2. Sepsis"))
    codes = [code(tables, WHO, source, "primary", x.evidence("1. Infection", "diagnoses"), score=0.9),
             code(tables, WHO, sepsis, evidence=x.evidence("2. Sepsis", "diagnoses"), score=0.5)]
    out = run(tables, x, codes, "SEQ-006")
    assert coded(out) == ([("ICD-10", sepsis), ("ICD-10", source)] if moved else [("ICD-10", source), ("ICD-10", sepsis)])
    assert out.codes[0].role == "primary" and bool(out.flags) is moved


@pytest.mark.parametrize("suggested, kept", [
    (["Z94.2"], []),  # a side read from the heading, with no operation: nothing to qualify
    (["Y53.2", "Z94.3"], []),
    (["J18.3", "Y75.2"], ["J18.3", "Y75.2"]),  # an approach after its operation stays
])
def test_supplementary_codes_are_never_coded_alone(tables, suggested, kept):
    x = Excerpt((None, "Respiratory Medicine - Discharge Summary"), ("procedures", "Laparoscopic cholecystectomy"))
    codes = [code(tables, OPCS, c, "primary" if i == 0 else "secondary",
                  x.evidence("Laparoscopic cholecystectomy", "procedures")) for i, c in enumerate(suggested)]
    out = run(tables, x, codes, "SUP-002")
    assert [c.code for c in out.codes] == kept
    assert sorted(c.code for c in out.candidates) == sorted(set(suggested) - set(kept))
    assert all("SUP-002" in c.rules for c in out.candidates)


@pytest.mark.parametrize("statement, diagnosis, expected", [
    # the SVT the statement names explains its tachycardia: R00.0 is not brought back beside it
    ("Atrioventricular nodal re-entrant tachycardia", "I47.1", ["I47.1", "I10"]),
    # the statement names the symptom alone ("Dx: epistaxis"): it is the main condition
    ("Epistaxis", None, ["R04.0", "I10"]),
])
def test_the_stated_primary_never_brings_back_a_symptom_its_diagnosis_explains(tables, statement, diagnosis, expected):
    x = Excerpt(("primary_diagnosis", statement), ("past_medical_history", "Hypertension"))
    symptom = "R00.0" if diagnosis else "R04.0"
    candidate = code(tables, WHO, symptom, "candidate", x.evidence(statement, "primary_diagnosis", support=1.0), score=0.3)
    codes = [code(tables, WHO, "I10", "primary", x.evidence("Hypertension", "past_medical_history"), score=0.9)]
    if diagnosis:
        codes.append(code(tables, WHO, diagnosis, evidence=x.evidence(statement, "primary_diagnosis", support=0.9)))
    out = run(tables, x, codes, "SEQ-001", "SEQ-003", candidates=[candidate])
    assert [c.code for c in out.codes] == expected


def test_the_stated_primary_diagnosis_never_picks_the_main_procedure(tables):
    # the primary diagnosis statement also supports a side code; the procedures keep their order
    statement = "Primary diagnosis: right-sided pyelonephritis"
    x = Excerpt(("primary_diagnosis", statement), ("procedures", "Laparoscopic cholecystectomy"))
    op = x.evidence("Laparoscopic cholecystectomy", "procedures")
    codes = [code(tables, OPCS, "J18.3", "primary", op, score=0.4),
             code(tables, OPCS, "Z94.2", evidence=x.evidence(statement, "primary_diagnosis", support=0.9), score=0.2)]
    out = run(tables, x, codes, "SEQ-003")
    assert [c.code for c in out.codes] == ["J18.3", "Z94.2"] and not out.flags


@pytest.mark.parametrize("sentence, assertion, expected", [
    ("CT head was normal and a cholecystectomy was performed.", "present", ["J18.3"]),  # not the CT (policy)
    ("She has been listed for a cholecystectomy.", "hypothetical", []),  # not done this episode
    ("Previous cholecystectomy.", "present", []),  # told in the past history: another episode's
    # a test that showed the condition states no operation on it
    ("CT abdomen showed acute cholecystitis.", "present", []),
    ("Her examination and blood tests gave no reason to look further.", "present", []),
])
def test_a_procedure_done_without_a_suggested_code_gets_its_likeliest_one(tables, sentence, assertion, expected):
    x = Excerpt(("past_medical_history" if sentence.startswith("Previous") else None, sentence))
    ev = x.evidence(sentence)
    told = next(m for m in ("cholecystectomy", "CT abdomen", "blood tests") if m in sentence)
    mentions = [x.mention(told, x.sentences[0].section, label="PROCEDURE", assertion=assertion)]
    if "CT head" in sentence:
        mentions.append(x.mention("CT head", label="PROCEDURE"))
    candidates = [replace(code(tables, OPCS, "U21.2", "candidate", ev, score=0.4), suggest=0.5),
                  replace(code(tables, OPCS, "J18.3", "candidate", ev, score=0.1), suggest=0.12),
                  replace(code(tables, OPCS, "Y75.2", "candidate", ev, score=0.3), suggest=0.3)]
    out = run(tables, x, [], "CON-007", "SEQ-007", mentions=mentions, candidates=candidates)
    assert [c.code for c in out.codes] == expected
    assert [f.rule for f in out.flags] == (["SEQ-007"] if expected else [])
    if "CT head" in sentence:  # where local policy codes imaging (CON-007 disabled), its code may be offered
        rules = only("CON-007", "SEQ-007")
        rules = replace(rules, rules=tuple(replace(r, enabled=r.id != "CON-007") for r in rules.rules))
        out = apply_rules(LetterResult("t", "uk", candidates=tuple(candidates)), tables, mentions, x.text,
                          rules=rules, sentences=x.sentences)
        # the operation a mention names (the cholecystectomy) before the likelier scan
        assert [c.code for c in out.codes] == ["J18.3"]
        imaging = tuple(c for c in candidates if c.code != "J18.3")
        out = apply_rules(LetterResult("t", "uk", candidates=imaging), tables, mentions, x.text,
                          rules=rules, sentences=x.sentences)
        assert [c.code for c in out.codes] == ["U21.2"]


def test_drug_treatment_left_out_by_the_policy_is_not_offered_as_the_main_procedure(tables):
    line = "Variable-rate intravenous insulin infusion for 36 hours."
    x = Excerpt(("diagnoses", line))
    ev = x.evidence(line, "diagnoses")
    mentions = [x.mention("intravenous insulin infusion", "diagnoses", label="PROCEDURE")]
    candidates = [replace(code(tables, OPCS, "X29.2", "candidate", ev, score=0.4), suggest=0.5)]
    out = run(tables, x, [code(tables, OPCS, "X29.2", "primary", ev)], "CON-033", "SEQ-007", mentions=mentions,
              candidates=candidates)
    assert out.codes == () and [f.rule for f in out.flags] == ["CON-033"]


@pytest.mark.parametrize("status, kept", [
    ("Z90.4", False),  # "previous appendicectomy scar noted": the absence of an organ is not coded
    ("Z82.3", False),  # the father's stroke: family history
    ("Z87.0", False),  # a resolved non-malignant condition
    ("Z86.4", True),  # an ex-smoker: a history status the policy codes
])
def test_family_history_and_the_absence_of_an_organ_are_not_coded_under_the_policy(tables, status, kept):
    x = Excerpt(MAIN, ("past_medical_history", "Appendicectomy aged 12; father had a stroke; ex-smoker."))
    ev = x.evidence("Appendicectomy aged 12; father had a stroke; ex-smoker.", "past_medical_history")
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, status, evidence=ev)], "CON-057")
    assert (status in [c.code for c in out.codes]) is kept


@pytest.mark.parametrize("words, policy_read, expected", [
    # the B12 injection is the intramuscular injection the policy leaves uncoded: nothing in its place
    ("hydroxocobalamin injection", True, []),
    ("anti-D injection", False, ["X30.1"]),  # no likelier reading: the injection of immunoglobulin is offered
])
def test_a_mention_the_policy_reads_offers_no_other_code_in_its_place(nhs_tables, words, policy_read, expected):
    tables = nhs_tables
    line = f"Her {words} was given on the ward."
    x = Excerpt((None, line))
    ev = x.evidence(line)
    mentions = [x.mention(words, label="PROCEDURE")]
    candidates = [replace(code(tables, OPCS, "X30.1", "candidate", ev, score=0.1), suggest=0.08)]
    if policy_read:
        candidates.append(replace(code(tables, OPCS, "X37.8", "candidate", ev, score=0.1), suggest=0.57))
    out = run(tables, x, [], "CON-033", "SEQ-007", mentions=mentions, candidates=candidates)
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("other, suggest, expected", [
    ("Z94.2", 0.30, ["W90.1"]),  # a side code reads no operation: the weak aspiration is still offered
    ("X37.8", 0.30, ["W90.1"]),  # the policy's code, but it reads another mention
    (None, 0.12, ["W90.1"]),
])
def test_only_the_policys_code_for_the_same_mention_stops_a_weak_offer(nhs_tables, other, suggest, expected):
    tables = nhs_tables
    line = "Aspiration of the right knee on the ward; IM hydroxocobalamin given."
    x = Excerpt((None, line))
    ev = x.evidence("Aspiration of the right knee on the ward")
    mentions = [x.mention("Aspiration", label="PROCEDURE"), x.mention("IM hydroxocobalamin", label="PROCEDURE")]
    candidates = [replace(code(tables, OPCS, "W90.1", "candidate", ev, score=0.1), suggest=0.07)]
    if other:
        at = ev if other.startswith("Z") else x.evidence("IM hydroxocobalamin given.")
        candidates.append(replace(code(tables, OPCS, other, "candidate", at, score=0.1), suggest=suggest))
    out = run(tables, x, [], "CON-033", "SEQ-007", mentions=mentions, candidates=candidates)
    assert [c.code for c in out.codes] == expected


def test_a_supplementary_code_alone_does_not_stand_for_the_procedure(tables):
    """Only an approach code suggested: the operation still gets its likeliest code (SUP-002 then
    takes out a supplementary code left alone)."""
    sentence = "A laparoscopic cholecystectomy was performed."
    x = Excerpt((None, sentence))
    ev = x.evidence(sentence)
    mentions = [x.mention("laparoscopic cholecystectomy", label="PROCEDURE")]
    candidates = [replace(code(tables, OPCS, "J18.3", "candidate", ev, score=0.1), suggest=0.12)]
    out = run(tables, x, [code(tables, OPCS, "Y75.2", "primary", ev)], "SEQ-007", mentions=mentions,
              candidates=candidates)
    assert [c.code for c in out.codes] == ["Y75.2", "J18.3"] and out.flags[0].rule == "SEQ-007"


@pytest.mark.parametrize("sentence, assertion, suggest, expected", [
    ("The polyp was resected with a hysteroscopic morcellator.", "present", 0.15, ["Q17.1", "Q18.9"]),
    ("The polyp was resected with a hysteroscopic morcellator.", "present", 0.05, ["Q18.9"]),  # too unlikely
    ("She is listed for resection of the polyp.", "hypothetical", 0.15, ["Q18.9"]),  # not done this episode
])
def test_an_operation_done_beside_a_diagnostic_look_is_offered_as_the_main_procedure(tables, sentence, assertion,
                                                                                     suggest, expected):
    """Only the diagnostic hysteroscopy suggested (main only when nothing else was done): the
    operation the letter states done, the likeliest by the ranker, is offered and goes first."""
    look = "Hysteroscopy: 1.5 cm endometrial polyp."
    x = Excerpt(("procedures", look), ("procedures", sentence))
    ev = x.evidence(sentence, "procedures")
    mentions = [x.mention("resected" if "resected" in sentence else "resection", label="PROCEDURE",
                          assertion=assertion)]
    candidates = [replace(code(tables, OPCS, "Q17.1", "candidate", ev, score=0.4), suggest=suggest),
                  replace(code(tables, OPCS, "C79.5", "candidate", ev, score=0.1), suggest=suggest + 0.04)]
    out = run(tables, x, [code(tables, OPCS, "Q18.9", "primary", x.evidence(look, "procedures"))], "SEQ-007",
              "SEQ-004", mentions=mentions, candidates=candidates)
    assert [c.code for c in out.codes] == expected
    if len(expected) > 1:
        assert out.codes[0].rules == ("SEQ-007", "SEQ-004") and "only Q18.9" in out.flags[0].message


@pytest.mark.parametrize("lines, expected", [
    # the biopsy told in the next sentence of the same list item: one code
    ([("procedures", "- Colonoscopy: ulcers in the caecum."), ("procedures", "Six biopsies taken from the caecum.")],
     ["H22.1"]),
    # the biopsy of another list item (or one only planned) is no part of this examination
    ([("procedures", "- Colonoscopy: ulcers in the caecum."), ("procedures", "- CT-guided biopsies of the liver.")],
     ["H22.9"]),
    ([("procedures", "- Colonoscopy: ulcers in the caecum. Biopsies at the next list.")], ["H22.9"]),
])
def test_a_biopsy_taken_at_a_diagnostic_endoscopy_is_the_examination_and_biopsy_code(tables, lines, expected):
    x = Excerpt(*lines)
    ev = x.evidence("- Colonoscopy: ulcers in the caecum.", "procedures")
    where = "Biopsies" if "next list" in x.text else "biopsies"
    biopsy = x.mention(where, label="PROCEDURE", assertion="hypothetical" if "next list" in x.text else "present")
    out = run(tables, x, [code(tables, OPCS, "H22.9", "primary", ev)], "CON-026", mentions=[biopsy])
    assert [c.code for c in out.codes] == expected and out.codes[0].role == "primary"


def test_the_looks_own_biopsy_is_no_operation_beside_it(tables):
    """Cystoscopy and bladder biopsy is M45.1 alone: its biopsy, read as a prostate biopsy, is the
    look's own words, not another operation to offer beside it (SEQ-007)."""
    line = "Flexible cystoscopy and bladder biopsy."
    x = Excerpt(("procedures", line))
    ev = x.evidence(line, "procedures")
    mentions = [x.mention("Flexible cystoscopy", label="PROCEDURE"), x.mention("bladder biopsy", label="PROCEDURE")]
    candidates = [replace(code(tables, OPCS, "M70.2", "candidate", ev, score=0.4), suggest=0.2)]
    out = run(tables, x, [code(tables, OPCS, "M45.1", "primary", ev)], "SEQ-007", "SEQ-004", mentions=mentions,
              candidates=candidates)
    assert [c.code for c in out.codes] == ["M45.1"]


def test_an_anaesthetic_block_the_policy_leaves_out_leaves_the_operation_as_the_main_procedure(tables):
    """The block is taken out first (CON-007); the operation stated done is then the letter's only
    procedure (SEQ-007)."""
    block, op = "Right eye, under peribulbar block by the anaesthetist.", "Pars plana vitrectomy performed."
    x = Excerpt(("procedures", block), ("procedures", op))
    candidates = [replace(code(tables, OPCS, "C79.2", "candidate", x.evidence(op, "procedures"), score=0.4),
                          suggest=0.15)]
    out = run(tables, x, [code(tables, OPCS, "C90.4", "primary", x.evidence(block, "procedures"))], "CON-007",
              "SEQ-007", "SEQ-004", mentions=[x.mention("vitrectomy", label="PROCEDURE")], candidates=candidates)
    assert [c.code for c in out.codes] == ["C79.2"]


@pytest.mark.parametrize("codes, kept", [
    (["O70.1", "Z37.0", "Z38.0", "Z34.0"], ["O70.1", "Z37.0"]),  # the mother's delivery record
    (["O14.9", "Z35.9"], ["O14.9"]),  # a pregnancy condition: not supervision of a pregnancy
    (["Z38.0", "P59.9"], ["Z38.0", "P59.9"]),  # the baby's own record keeps its code
    (["Z34.0"], ["Z34.0"]),  # an antenatal supervision episode
])
def test_the_mothers_record_carries_no_baby_or_antenatal_supervision_codes(tables, codes, kept):
    x = Excerpt(("diagnoses", "Spontaneous vaginal delivery of a live baby with a second-degree tear"))
    out = run(tables, x, [code(tables, WHO, c) for c in codes], "CON-018")
    assert [c.code for c in out.codes] == kept
    assert [f.rule for f in out.flags] == ["CON-018"] * (len(codes) - len(kept))


@pytest.mark.parametrize("others, kept", [
    (["O70.2", "Z37.0"], ["O70.2", "Z37.0"]),  # a delivery condition: the delivery code goes
    (["Z37.0"], ["O80.0", "Z37.0"]),  # a normal delivery and nothing else: it stays
])
def test_a_delivery_code_stands_only_where_no_other_pregnancy_condition_is_coded(tables, others, kept):
    x = Excerpt(("diagnoses", "1. Spontaneous vertex delivery"), ("diagnoses", "2. Third-degree perineal tear"))
    codes = [code(tables, WHO, "O80.0", "primary", x.evidence("1. Spontaneous vertex delivery", "diagnoses"))]
    codes += [code(tables, WHO, c, evidence=x.evidence("2. Third-degree perineal tear", "diagnoses")) for c in others]
    out = run(tables, x, codes, "CON-015")
    assert [c.code for c in out.codes] == kept
    if "O80.0" not in kept:
        assert out.candidates[0].code == "O80.0" and out.flags[0].codes == ("O80.0", "O70.2")


OBSTETRIC = ("diagnoses", "1. Postpartum haemorrhage (uterine atony). 2. Obesity (BMI 34). 3. Gestational diabetes.")


@pytest.mark.parametrize("other, chapter_xv", [
    ("E66.9", "O99.2"),  # obesity
    ("J45.9", "O99.5"),  # asthma
    ("D50.9", "O99.0"),  # iron deficiency anaemia
    ("F32.9", "O99.3"),
    ("E11.9", None),  # pre-existing diabetes has its own category (O24)
    ("I10", None),  # hypertension too (O10)
])
def test_a_condition_in_a_pregnancy_episode_is_classified_to_chapter_xv_first(tables, other, chapter_xv):
    x = Excerpt(OBSTETRIC)
    ev = x.evidence("Postpartum haemorrhage", "diagnoses")
    out = run(tables, x, [code(tables, WHO, "O72.1", "primary", ev), code(tables, WHO, other, evidence=ev)], "CON-016")
    want = [("ICD-10", "O72.1")] + ([("ICD-10", chapter_xv)] if chapter_xv else []) + [("ICD-10", other)]
    assert coded(out) == want
    assert bool(out.flags) == bool(chapter_xv)


@pytest.mark.parametrize("section, heading, denied, kept", [
    # the answer given first, in the words of the query, in the list of diagnoses
    ("diagnoses", "4. Suspected cow's milk protein allergy - not supported", "cow's milk protein allergy", False),
    ("diagnoses", "4. Suspected cow's milk protein allergy - possible", None, True),
    # another condition of the same head word denied first ("no intracranial metastases")
    ("diagnoses", "4. No peanut allergy", "peanut allergy", True),
    # a past history's denial answers no query of this episode ("No previous stroke" before "Probable stroke")
    ("past_medical_history", "- No cow's milk protein allergy as a baby", "cow's milk protein allergy", True),
])
def test_a_query_a_heading_ruled_out_before_the_story_is_not_coded(tables, section, heading, denied, kept):
    story = "Her GP had queried cow's milk protein allergy last week because of possetting."
    x = Excerpt((section, heading), ("diagnoses", story))
    at = len(heading) + 1 + story.index("cow's milk protein allergy")
    mentions = [Mention(at, at + len("cow's milk protein allergy"), "cow's milk protein allergy", "DIAGNOSIS",
                        "diagnoses", assertion="uncertain")]
    if denied:
        mentions.append(x.mention(denied, section, assertion="negated"))
    out = run(tables, x, [code(tables, WHO, "Z91.0", "primary", x.evidence(story, "diagnoses"))], "DOC-005",
              mentions=mentions)
    assert bool(out.codes) is kept


@pytest.mark.parametrize("later, kept", [
    ("MRI brain showed no infarct, so a stroke was excluded.", False),  # the query answered
    ("MRI brain showed no haemorrhage.", True),  # another condition ruled out
])
def test_a_query_ruled_out_later_is_not_coded(tables, later, kept):
    first = "Sent in with a query of brainstem stroke."
    x = Excerpt((None, first), (None, later))
    ruled_out = "stroke" if "stroke" in later else "haemorrhage"
    at = len(first) + 1 + later.index(ruled_out)
    mentions = [x.mention("brainstem stroke", assertion="uncertain"),
                Mention(at, at + len(ruled_out), ruled_out, "DIAGNOSIS", assertion="negated")]
    out = run(tables, x, [code(tables, WHO, "I63.9", "primary", x.evidence(first))], "DOC-005", mentions=mentions)
    assert ("I63.9" in [c.code for c in out.codes]) is kept
    if not kept:
        assert "queried it and ruled it out" in out.flags[0].message


@pytest.mark.parametrize("first, named, kept", [
    # read from words that do not name it, and denied by name: not coded
    ("- Acute viral-induced wheeze (episodic)", "wheeze", False),
    # its own statement names it: the letter documents it, whatever else it denies
    ("- Acute exacerbation of asthma", "asthma", True),
])
def test_a_condition_the_letter_denies_by_name_is_not_read_from_other_words(tables, first, named, kept):
    later = "At this age we have not diagnosed asthma."
    x = Excerpt(("diagnoses", first), (None, later))
    at = len(first) + 1 + later.index("asthma")
    mentions = [x.mention(named, "diagnoses", label="FINDING" if named == "wheeze" else "DIAGNOSIS"),
                Mention(at, at + len("asthma"), "asthma", "DIAGNOSIS", assertion="negated")]
    out = run(tables, x, [code(tables, WHO, "J45.1", "primary", x.evidence(first, "diagnoses"))], "DOC-006",
              mentions=mentions)
    assert ("J45.1" in [c.code for c in out.codes]) is kept
    if not kept:
        assert "denies it by name" in out.flags[0].message


def test_a_denial_whose_head_is_another_condition_denies_nothing(tables):
    # "no heart murmur" denies a murmur, not the heart failure read from "fluid overload"
    first, later = "1. Fluid overload", "Examination: no heart murmur."
    x = Excerpt(("diagnoses", first), (None, later))
    at = len(first) + 1 + later.index("heart murmur")
    mentions = [x.mention("Fluid overload", "diagnoses", label="FINDING"),
                Mention(at, at + len("heart murmur"), "heart murmur", "FINDING", assertion="negated")]
    out = run(tables, x, [code(tables, WHO, "I50.9", "primary", x.evidence(first, "diagnoses"))], "DOC-006",
              mentions=mentions)
    assert [c.code for c in out.codes] == ["I50.9"]


def test_an_ulcer_code_that_does_not_say_it_did_not_bleed_has_no_bleeding_form(tables):
    line = "1. Upper GI bleed from an oesophageal ulcer"
    x = Excerpt(("diagnoses", line))
    ev = x.evidence(line, "diagnoses")
    candidates = [code(tables, WHO, c, "candidate", ev, score=s) for c, s in (("K22.1", 0.9), ("K22.6", 0.05))]
    out = run(tables, x, [code(tables, WHO, "K92.2", "primary", ev)], "CON-024", candidates=candidates,
              mentions=[x.mention("Upper GI bleed", "diagnoses"), x.mention("oesophageal ulcer", "diagnoses")])
    assert [c.code for c in out.codes] == ["K92.2"]


def test_the_babys_conditions_are_not_on_the_mothers_record(tables):
    x = Excerpt(("diagnoses", "1. Spontaneous preterm labour at 35 weeks"),
                (None, "To transitional care for preterm feeding support."))
    out = run(tables, x, [code(tables, WHO, "O60.1", "primary", x.evidence("preterm labour", "diagnoses")),
                          code(tables, WHO, "P07.3")], "CON-016")
    assert coded(out) == [("ICD-10", "O60.1")] and [c.code for c in out.candidates] == ["P07.3"]
    assert "baby's record" in out.flags[0].message


def test_outside_a_pregnancy_episode_nothing_is_added(tables):
    x = Excerpt(MAIN)
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, "E66.9")], "CON-016")
    assert coded(out) == [("ICD-10", "J18.9"), ("ICD-10", "E66.9")]


@pytest.mark.parametrize("section, chapter_xv", [
    ("past_medical_history", False),  # a pregnancy of years ago makes no pregnancy episode
    ("diagnoses", True),  # gestational diabetes of this pregnancy does
])
def test_a_pregnancy_told_only_in_the_history_is_no_pregnancy_episode(tables, section, chapter_xv):
    x = Excerpt(("diagnoses", "1. Morbid obesity, BMI 46"), (section, "- Gestational diabetes in her 2012 pregnancy"))
    out = run(tables, x, [code(tables, WHO, "E66.8", "primary", x.evidence("Morbid obesity", "diagnoses")),
                          code(tables, WHO, "O24.4", evidence=x.evidence("Gestational diabetes", section))], "CON-016")
    assert ("O99.2" in [c.code for c in out.codes]) is chapter_xv


@pytest.mark.parametrize("order, first", [
    (["E66.9", "Z37.0", "O72.1", "O24.4"], "O72.1"),  # another chapter's code heads the list
    (["O99.2", "E66.9", "O24.4"], "O24.4"),  # a code standing for another chapter's condition
    (["O99.2", "E66.9"], "O99.2"),  # the only Chapter XV code
    (["O72.1", "E66.9"], "O72.1"),
    (["J18.9", "E66.9"], "J18.9"),  # no pregnancy
])
def test_chapter_xv_takes_precedence_in_a_pregnancy_episode(tables, order, first):
    out = _obstetric(tables, order, "SEQ-008")
    assert out.codes[0].code == first and sorted(c.code for c in out.codes) == sorted(order)


def _obstetric(tables, order, rule_id):
    """The obstetric excerpt's codes in ``order`` (the first primary), after ``rule_id``."""
    x = Excerpt(OBSTETRIC)
    ev = x.evidence("Postpartum haemorrhage", "diagnoses")
    return run(tables, x, [code(tables, WHO, c, "primary" if n == 0 else "secondary", ev) for n, c in enumerate(order)],
               rule_id)


@pytest.mark.parametrize("order, first", [
    (["O70.0", "O60.1", "Z37.0"], "O60.1"),  # preterm labour led to the delivery; the tear is its outcome
    (["O72.1", "O68.0", "O24.4"], "O68.0"),  # the first condition that led to it, in suggested order
    (["O70.2", "O99.2", "E66.9"], "O70.2"),  # nothing led to the delivery: the tear stays primary
    (["O24.4", "O72.1"], "O24.4"),
])
def test_a_delivery_outcome_yields_to_the_condition_that_led_to_the_delivery(tables, order, first):
    out = _obstetric(tables, order, "SEQ-013")
    assert out.codes[0].code == first and sorted(c.code for c in out.codes) == sorted(order)
    assert any("outcome of the delivery" in f.message for f in out.flags) == (first != order[0])


@pytest.mark.parametrize("history, now, kept", [
    ("- Haemorrhoids - rubber band ligation 2020, no problems since", "No haemorrhoids.", False),
    ("- Haemorrhoids - rubber band ligation 2020, no problems since", "Small haemorrhoids seen.", True),
    ("- Haemorrhoids and diverticular disease", "No haemorrhoids.", True),  # the line names another condition
])
def test_a_history_condition_this_episode_finds_absent_is_not_coded(tables, history, now, kept):
    x = Excerpt(MAIN, ("examination", now), ("past_medical_history", history))
    at_now, at_history = x.text.index(now), x.text.index(history)

    def named(at, phrase, section, assertion="present"):
        a = x.text.lower().index(phrase, at)
        return Mention(a, a + len(phrase), x.text[a:a + len(phrase)], "DIAGNOSIS", section, assertion, canonical=phrase)

    mentions = [named(at_history, "haemorrhoids", "past_medical_history"),
                named(at_now, "haemorrhoids", "examination", "negated" if now.startswith("No") else "present")]
    if "diverticular" in history:
        mentions.append(named(at_history, "diverticular disease", "past_medical_history"))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, "K64.9", evidence=x.evidence(history, "past_medical_history"))],
              "HIS-004", mentions=mentions)
    assert (("ICD-10", "K64.9") in coded(out)) == kept
    assert bool(out.flags) != kept


@pytest.mark.parametrize("codes, expected", [
    (["F05.9", "N39.0", "G30.1", "F00.1"], ["F05.1", "N39.0", "G30.1", "F00.1"]),  # delirium on dementia
    (["F05.9", "N39.0"], ["F05.9", "N39.0"]),  # no dementia coded
    (["J44.1", "J18.9", "I10"], ["J44.0", "J18.9", "I10"]),  # COPD with a lower respiratory infection
    (["K57.3", "K65.0"], ["K57.2", "K65.0"]),  # diverticular disease with an abscess
    (["J44.9", "J45.9"], ["J44.9", "J45.9"]),
    (["K70.3", "I85.9"], ["K70.3", "I98.2"]),  # varices in alcoholic cirrhosis: the asterisk code
    (["K70.3", "K72.9"], ["K70.3", "K70.4"]),  # hepatic encephalopathy in alcoholic liver disease
    (["K72.0", "K70.0", "T39.1"], ["K72.0", "K70.0", "T39.1"]),  # a paracetamol liver failure beside a fatty liver
    (["H25.8", "E14.3", "E11.9"], ["H25.8", "E11.3", "E11.9"]),  # the type stated elsewhere
    (["R02", "E11.9"], ["E11.5", "E11.9"]),  # gangrene in diabetes
    (["R02", "I10"], ["R02", "I10"]),
    (["E16.0", "E11.9", "Y42.3"], ["E11.6", "E11.9", "Y42.3"]),  # hypoglycaemia from gliclazide in type 2 diabetes
    (["E10.9", "E16.2"], ["E10.9", "E10.6"]),
    (["E16.2", "A08.0"], ["E16.2", "A08.0"]),  # no diabetes: hypoglycaemia unspecified
    (["J12.9", "U07.1", "E11.9"], ["J12.8", "U07.1", "E11.9"]),  # pneumonia due to COVID-19
    (["J12.9", "I10"], ["J12.9", "I10"]),
    # HIV disease with the opportunistic disease it results in; the oral thrush gives way to the graver one
    (["B24", "B45.1", "B37.0"], ["B20.5", "B45.1", "B37.0"]),
    (["B48.5", "B24"], ["B48.5", "B20.6"]),
    (["B24", "B37.0"], ["B20.4", "B37.0"]),
    (["B24", "I10"], ["B24", "I10"]),
    (["K83.0", "K80.5"], ["K83.0", "K80.3"]),  # a bile duct stone with cholangitis (CON-042 then leaves out K83.0)
    (["N13.3", "N20.1"], ["N13.2", "N20.1"]),  # hydronephrosis with a ureteric stone (CON-042 then leaves out N20.1)
    (["N13.3", "N21.0"], ["N13.3", "N21.0"]),  # a bladder stone obstructs no ureter
    (["N13.6", "N13.3", "N20.1"], ["N13.6", "N13.3", "N20.1"]),  # an infected obstructed kidney: N13.6 says it
])
def test_a_code_the_classification_combines_with_another_coded_condition(tables, codes, expected):
    x = Excerpt(("diagnoses", "1. Delirium. 2. UTI. 3. Alzheimer's dementia. 4. COPD with pneumonia."))
    ev = x.evidence("Delirium", "diagnoses")
    out = run(tables, x, [code(tables, WHO, c, "primary" if n == 0 else "secondary", ev) for n, c in enumerate(codes)],
              "CON-017")
    assert [c for _, c in coded(out)] == expected
    assert bool(out.flags) == (codes != expected)


@pytest.mark.parametrize("codes, expected", [
    (["I85.0", "K74.6", "I10"], ["K74.6", "I98.3", "I10"]),  # bleeding varices in cirrhosis: the liver disease first
    (["I85.0", "I10", "K70.3"], ["K70.3", "I98.3", "I10"]),  # the liver disease, wherever it is listed
    (["I98.3", "I10"], ["I10", "I98.3"]),  # no underlying condition coded: the next diagnosis, and a flag
    (["I98.3", "I98.2"], ["I98.3", "I98.2"]),  # nothing but asterisk codes: nothing to put first
])
def test_an_asterisk_code_made_in_the_primary_place_gives_way_to_a_condition(tables, codes, expected):
    x = Excerpt(("diagnoses", "1. Variceal bleed. 2. NASH cirrhosis. 3. Hypertension."))
    ev = x.evidence("Variceal bleed", "diagnoses")
    out = run(tables, x, [code(tables, WHO, c, "primary" if n == 0 else "secondary", ev) for n, c in enumerate(codes)],
              "CON-017", "CON-005", "SEQ-001")
    assert [c for _, c in coded(out)] == expected
    assert [c.code for c in out.codes if c.role == "primary"] == [expected[0]]


@pytest.mark.parametrize("order, first", [
    (["E11.9", "W19", "S52.5", "I10"], "S52.5"),  # the next condition, not the external cause
    (["G81.9", "I61.9", "I10"], "I61.9"),  # the stroke before its deficit
    (["I10", "E11.9"], "I10"),  # nothing but background conditions: left as it is
    (["J18.9", "E11.9"], "J18.9"),
    (["N18.3", "J18.9", "I10"], "J18.9"),  # chronic kidney disease of stage 3: a comorbidity
    (["I25.2", "N18.3", "J18.9"], "J18.9"),  # an old myocardial infarction: history, not the episode's
    (["H52.0", "H40.2"], "H40.2"),  # a refractive error is the background of an angle-closure glaucoma
    (["I89.0", "L03.1"], "L03.1"),  # so is lymphoedema of a cellulitis
])
def test_a_background_comorbidity_or_a_deficit_is_not_the_primary(tables, order, first):
    x = Excerpt(("past_medical_history", "- Type 2 diabetes with peripheral neuropathy. - Hypertension."),
                (None, "She fell and fractured her wrist; right hemiparesis from a haemorrhage."))
    ev = x.evidence("Type 2 diabetes with peripheral neuropathy", "past_medical_history")
    out = run(tables, x, [code(tables, WHO, c, "primary" if n == 0 else "secondary", ev) for n, c in enumerate(order)],
              "SEQ-009")
    assert out.codes[0].code == first and sorted(c.code for c in out.codes) == sorted(order)


@pytest.mark.parametrize("order, expected", [
    (["S52.5", "E11.9", "W19", "I10"], ["S52.5", "W19", "E11.9", "I10"]),  # after the injury it explains
    (["S52.5", "W19", "I10"], ["S52.5", "W19", "I10"]),  # already there
    (["J18.9", "W19", "I10"], ["J18.9", "W19", "I10"]),  # no injury coded: left where it is
])
def test_an_external_cause_follows_the_injury_it_explains(tables, order, expected):
    x = Excerpt(("diagnoses", "1. Fall at home: fractured left wrist"), ("past_medical_history", "T2DM, HTN"))
    fall, history = x.evidence("1. Fall at home: fractured left wrist", "diagnoses"), x.evidence("T2DM, HTN")
    codes = [code(tables, WHO, c, "primary" if n == 0 else "secondary", fall if c[0] in "SWJ" else history)
             for n, c in enumerate(order)]
    out = run(tables, x, codes, "SEQ-010")
    assert [c.code for c in out.codes] == expected
    assert bool(out.flags) == (order != expected)


@pytest.mark.parametrize("lines, expected", [
    # region and the deepest degree told; the extent documented follows; listed first, it is the primary
    ([("diagnoses", "1. Scald of the left lower leg (anterior shin), 3% TBSA."),
      ("diagnoses", "2. Type 2 diabetes mellitus with diabetic peripheral neuropathy."),
      (None, "On assessment the burn was deep dermal, with a central area of full-thickness loss.")],
     ["T24.3", "T31.0", "E11.4"]),
    ([("diagnoses", "1. Right foot scald, 12% TBSA."), ("diagnoses", "2. Type 2 diabetes mellitus with diabetic peripheral neuropathy."),
      (None, "The burn blistered over the dorsum; a split-thickness skin graft was taken from the thigh.")],
     ["T25.2", "T31.1", "E11.4"]),
    # a hand before the arm it belongs to; no degree told; a full-thickness skin graft is no degree
    ([("diagnoses", "1. Type 2 diabetes mellitus with diabetic peripheral neuropathy."),
      (None, "He burnt his right hand on the oven door; a full-thickness skin graft may be needed.")],
     ["E11.4", "T23.0"]),
    # the region told first after the burn's words: the forearm, then the hand; the back of a hand is the hand
    ([("diagnoses", "Scald to the left forearm and dorsum of the left hand, partial thickness, about 3% TBSA."),
      ("diagnoses", "Type 2 diabetes mellitus with diabetic peripheral neuropathy.")],
     ["T22.2", "T31.0", "E11.4"]),
    ([("diagnoses", "1. Type 2 diabetes mellitus with diabetic peripheral neuropathy."),
      (None, "A superficial burn to the back of his left hand from the oven.")],
     ["E11.4", "T23.0"]),
    # no region told, and heartburn is no burn
    ([("diagnoses", "1. Type 2 diabetes mellitus with diabetic peripheral neuropathy."),
      (None, "Minor burns were dressed by the practice nurse."), (None, "Heartburn and chest pain after meals.")],
     ["E11.4"]),
])
def test_a_burn_is_coded_by_its_region_and_deepest_degree(who_icd10_uk, lines, expected):
    x = Excerpt(*lines)
    dm = "Type 2 diabetes mellitus with diabetic peripheral neuropathy."
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, "E11.4", "primary", x.evidence(dm, "diagnoses"))], "CON-031")
    assert [c.code for c in out.codes] == expected
    assert all("CON-031" in c.rules for c in out.codes if c.code != "E11.4")


@pytest.mark.parametrize("said, misread", [("Scald", True), ("gout", False)])
def test_a_code_read_from_a_burns_statement_on_its_burn_alone_gives_it_its_place(who_icd10_uk, said, misread):
    """"1. Scald of the left lower leg" read as gout of the lower leg: the burn codes that statement;
    gout the statement names stays."""
    line = f"1. Scald of the left lower leg (anterior shin), 3% TBSA; {said} noted."
    dm = "2. Type 2 diabetes mellitus with diabetic peripheral neuropathy."
    x = Excerpt(("diagnoses", line), ("diagnoses", dm))
    gout = code(who_icd10_uk, WHO, "M10.96", "primary", x.evidence(line, "diagnoses"))
    out = run(who_icd10_uk, x, [gout, code(who_icd10_uk, WHO, "E11.4", evidence=x.evidence(dm, "diagnoses"))],
              "CON-031", mentions=[x.mention(said, "diagnoses")])
    kept = ["T24.0", "T31.0", "E11.4"] if misread else ["M10.96", "E11.4", "T24.0", "T31.0"]
    assert [c.code for c in out.codes] == kept
    assert ("M10.96" in [c.code for c in out.candidates]) is misread


def test_a_suggested_extent_code_follows_the_burn_of_its_region(who_icd10_uk):
    x = Excerpt(("diagnoses", "1. Scald of the right forearm, partial thickness, 4% TBSA."))
    ev = x.evidence("1. Scald of the right forearm, partial thickness, 4% TBSA.", "diagnoses")
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, "T31.0", "primary", ev)], "CON-031")
    assert [c.code for c in out.codes] == ["T22.2", "T31.0"]


@pytest.mark.parametrize("story, expected", [
    ("He stepped into a bath run from the hot tap at home.", "X11.0"),
    ("She spilt a cup of tea over her thigh at home.", "X10.0"),
    ("He tripped at home while carrying a pan of boiling water.", "X12.0"),  # the scald's cause, not the trip
])
def test_a_burn_is_followed_by_the_hot_fluid_that_scalded(who_icd10_uk, story, expected):
    x = Excerpt(("diagnoses", "1. Scald of the left thigh"), (None, story))
    ev = x.evidence("1. Scald of the left thigh", "diagnoses")
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, "T24.2", "primary", ev)], "CON-029")
    assert [c.code for c in out.codes] == ["T24.2", expected]


def test_a_hot_drink_is_no_cause_of_a_fracture(who_icd10_uk):
    x = Excerpt(("diagnoses", "1. Closed fracture of the neck of femur"), (None, "She tripped at home carrying a cup of tea."))
    ev = x.evidence("1. Closed fracture of the neck of femur", "diagnoses")
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, "S72.00", "primary", ev)], "CON-029")
    assert [c.code for c in out.codes] == ["S72.00", "W01.09"]


def test_sarcoidosis_of_lung_and_of_lymph_nodes_is_one_code(tables):
    x = Excerpt(("diagnoses", "1. Sarcoidosis with hilar lymph node and pulmonary involvement"))
    ev = x.evidence("1. Sarcoidosis with hilar lymph node and pulmonary involvement", "diagnoses")
    out = run(tables, x, [code(tables, WHO, "D86.1", "primary", ev), code(tables, WHO, "E83.5"), code(tables, WHO, "D86.0", evidence=ev)],
              "CON-017", "CON-030")
    assert [c.code for c in out.codes] == ["D86.2", "E83.5"]


@pytest.fixture(scope="module")
def opcs4_uk(nhs_tables):
    """The supplied OPCS-4 table, whole."""
    return {OPCS: nhs_tables[OPCS]}


@pytest.mark.parametrize("statement, first, second, main", [
    ("Laparoscopic Heller cardiomyotomy with Dor fundoplication.", "cardiomyotomy", "fundoplication", "G09.1"),
    ("Left cortical mastoidectomy; left myringotomy and grommet.", "cortical mastoidectomy", "myringotomy", "D10.3"),
    # an examination under anaesthetic named first only looked
    ("EUA + incision and drainage of perianal abscess.", "EUA", "drainage of perianal abscess", "H58.2"),
])
def test_of_two_operations_in_one_statement_the_one_named_first_is_main(opcs4_uk, statement, first, second, main):
    codes = {"G09.1": "cardiomyotomy", "G24.3": "fundoplication", "D10.3": "cortical mastoidectomy",
             "D15.1": "myringotomy", "C86.6": "EUA", "H58.2": "drainage of perianal abscess"}
    x = Excerpt(("procedures", statement))
    ev = x.evidence(statement, "procedures")
    named = [c for c, words in codes.items() if words in (first, second)]
    # the suggesters put the one named second first
    order = sorted(named, key=lambda c: codes[c] != second)
    out = run(opcs4_uk, x, [code(opcs4_uk, OPCS, c, "primary" if n == 0 else "secondary", ev) for n, c in enumerate(order)],
              "SEQ-011", mentions=[x.mention(first, "procedures", label="PROCEDURE"), x.mention(second, "procedures", label="PROCEDURE")])
    assert out.codes[0].code == main


@pytest.mark.parametrize("statement, first, second, codes, expected", [
    # "Laparoscopic" reads a laparoscopic fundoplication too, but "cardiomyotomy" is G09.1's own
    ("Laparoscopic Heller cardiomyotomy with Dor (anterior 180 degree) fundoplication.",
     "Laparoscopic Heller cardiomyotomy", "fundoplication", ["G24.3", "G09.1"], ["G09.1", "G24.3"]),
    # a chest drain named first stays after the operation
    ("Right intercostal chest drain insertion followed by VATS stapled bullectomy.",
     "chest drain insertion", "VATS stapled bullectomy", ["E54.5", "T12.4"], ["E54.5", "T12.4"]),
])
def test_which_operation_a_statement_names_first(nhs_tables, statement, first, second, codes, expected):
    x = Excerpt(("procedures", statement))
    ev = x.evidence(statement, "procedures")
    mentions = [x.mention(m, "procedures", label="PROCEDURE") for m in (first, second)]
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, c, "primary" if n == 0 else "secondary", ev) for n, c in enumerate(codes)],
              "SEQ-011", mentions=mentions)
    assert [c.code for c in out.codes] == expected
    assert bool(out.flags) == (expected != codes)


def test_the_endoscopy_both_operations_go_through_does_not_order_them(nhs_tables):
    """The ureteroscopy is the route of the lithotripsy and of the stent: the lithotripsy, named
    before the stent, is the main procedure (its index terms name "laser lithotripsy")."""
    statement = ("Rigid cystoscopy, left semi-rigid ureteroscopy, holmium laser lithotripsy of left lower ureteric "
                 "stone, insertion of left JJ stent")
    x = Excerpt(("procedures", statement))
    ev = x.evidence(statement, "procedures")
    mentions = [x.mention(m, "procedures", label="PROCEDURE")
                for m in ("Rigid cystoscopy", "semi-rigid ureteroscopy", "lithotripsy", "insertion of left JJ stent")]
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, "M29.2", "primary", ev), code(nhs_tables, OPCS, "M27.1", evidence=ev)],
              "SEQ-011", mentions=mentions)
    assert [c.code for c in out.codes] == ["M27.1", "M29.2"]


@pytest.mark.parametrize("second_date, expected", [
    # two sessions listed in one line, each dated: the cholecystectomy, coded first, stays main
    (" (16/04/2026)", ["J18.3", "J38.1"]),
    # one date only: the statement tells one session, the operation named first is main
    ("", ["J38.1", "J18.3"]),
    (" (review in 6/52)", ["J38.1", "J18.3"]),  # weeks, not a date
])
def test_operations_a_statement_dates_apart_keep_their_order(opcs4_uk, second_date, expected):
    statement = ("Procedures: ERCP, biliary sphincterotomy and balloon stone extraction (14/04/2026); "
                 f"laparoscopic cholecystectomy{second_date}.")
    x = Excerpt(("procedures", statement))
    ev = x.evidence(statement, "procedures")
    out = run(opcs4_uk, x, [code(opcs4_uk, OPCS, "J18.3", "primary", ev), code(opcs4_uk, OPCS, "J38.1", evidence=ev)],
              "SEQ-011", mentions=[x.mention("biliary sphincterotomy", "procedures", label="PROCEDURE"),
                                   x.mention("laparoscopic cholecystectomy", "procedures", label="PROCEDURE")])
    assert [c.code for c in out.codes] == expected


def test_operations_told_apart_keep_their_order(opcs4_uk):
    x = Excerpt(("procedures", "Dor fundoplication."), ("procedures", "Heller cardiomyotomy."))
    out = run(opcs4_uk, x, [code(opcs4_uk, OPCS, "G24.3", "primary", x.evidence("Dor fundoplication.", "procedures")),
                            code(opcs4_uk, OPCS, "G09.1", evidence=x.evidence("Heller cardiomyotomy.", "procedures"))],
              "SEQ-011", mentions=[x.mention("fundoplication", "procedures", label="PROCEDURE"),
                                   x.mention("cardiomyotomy", "procedures", label="PROCEDURE")])
    assert [c.code for c in out.codes] == ["G24.3", "G09.1"]


@pytest.mark.parametrize("others, kept", [
    (["H25.1"], ["H25.1"]),  # the sigmoidoscopy and biopsy names the organ
    ([], ["X55.1"]),  # a biopsy of an organ the letter does not name stays
])
def test_an_operation_on_an_unspecified_organ_gives_way_to_one_on_a_named_organ(opcs4_uk, others, kept):
    x = Excerpt(("procedures", "Flexible sigmoidoscopy; biopsies were taken."))
    out = run(opcs4_uk, x, [code(opcs4_uk, OPCS, c, "primary" if n == 0 else "secondary") for n, c in enumerate(["X55.1", *others])],
              "CON-032")
    assert [c.code for c in out.codes] == kept


def test_a_transvaginal_ultrasound_is_imaging_not_coded_under_the_profile_policy(opcs4_uk):
    x = Excerpt((None, "Transvaginal ultrasound showed a 6 cm complex mass in the right adnexa."))
    out = run(opcs4_uk, x, [code(opcs4_uk, OPCS, "Q55.5", "primary"), code(opcs4_uk, OPCS, "T34.2")], "CON-007")
    assert [c.code for c in out.codes] == ["T34.2"]


@pytest.mark.parametrize("proc, expected", [
    ("E63.4", ["E63.4"]),  # "Endoscopic ultrasound examination ...": the title names the imaging
    ("T87.4", ["T87.4", "Y53.2"]),
])
def test_image_control_follows_only_an_operation_whose_title_does_not_name_its_imaging(opcs4_uk, proc, expected):
    line = "EBUS-guided transbronchial needle aspiration, under ultrasound guidance, of stations 7 and 11R."
    x = Excerpt(("procedures", line))
    out = run(opcs4_uk, x, [code(opcs4_uk, OPCS, proc, "primary", x.evidence(line, "procedures"))], "SUP-001")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("operation, sides, kept", [
    ("K75.1", ["Z94.2"], []),  # the heart is no paired organ: the radial artery's side is no laterality
    ("C79.2", ["Z94.3", "Z94.2"], ["Z94.3"]),  # one side per operation: the first, read from its words
    ("C79.2", ["Z94.1"], ["Z94.1"]),
    ("K75.1", ["Y53.2"], ["Y53.2"]),  # only sides
])
def test_a_side_follows_an_operation_on_a_paired_organ_once(tables, operation, sides, kept):
    x = Excerpt(("procedures", "Procedure through the right radial artery, left eye"))
    out = run(tables, x, [code(tables, OPCS, operation, "primary"), *(code(tables, OPCS, z) for z in sides)], "SUP-003")
    assert [c.code for c in out.codes] == [operation, *kept]
    assert {c.code for c in out.candidates} == set(sides) - set(kept)


@pytest.mark.parametrize("told, section, expected", [
    # the reason given for the caesarean is coded and is the main condition
    ("Category 2 emergency caesarean section for failure to progress in the first stage.", None, ["O63.0", "O24.4"]),
    ("Indication: breech presentation.", None, ["O32.1", "O24.4"]),
    # the reason is the first its clause names, not a condition of the next sentence
    ("Category 1 caesarean section for breech presentation. Postpartum haemorrhage of 1.2 litres.", None,
     ["O32.1", "O24.4"]),
    # no reason given; a caesarean planned, or of an earlier pregnancy
    ("Category 2 emergency caesarean section at 02:14.", None, ["O24.4"]),
    ("Elective caesarean section at 39 weeks for breech presentation.", "plan", ["O24.4"]),
    ("Emergency caesarean section for breech presentation in 2019.", "past_medical_history", ["O24.4"]),
    # a clause that names a caesarean and goes on to tell something else gives no reason
    ("After her previous caesarean, the scan team looked for breech presentation at 36 weeks.", None, ["O24.4"]),
])
def test_the_reason_for_a_caesarean_is_the_main_condition(tables, told, section, expected):
    x = Excerpt(("diagnoses", "1. Gestational diabetes, diet controlled"), (section, told), (None, "Outcome: live birth"))
    reason = {"O63.0": "failure to progress", "O32.1": "breech presentation", "O72.1": "Postpartum haemorrhage"}
    mentions = [x.mention(words) for words in reason.values() if words in told]
    candidates = [code(tables, WHO, c, "candidate", x.evidence(words, section), score=0.9 if c == "O72.1" else 0.2)
                  for c, words in reason.items() if words in told]
    coded = [code(tables, WHO, "O24.4", "primary", x.evidence("1. Gestational diabetes", "diagnoses")),
             code(tables, WHO, "Z37.0", evidence=x.evidence("Outcome: live birth"))]
    out = run(tables, x, coded, "SEQ-018", candidates=candidates, mentions=mentions)
    assert [c.code for c in out.codes] == [*expected, "Z37.0"]
    assert all("SEQ-018" in c.rules for c in out.codes if c.code not in ("O24.4", "Z37.0"))


def test_a_baby_letter_telling_its_mothers_caesarean_has_no_delivery_reason(tables):
    x = Excerpt(("diagnoses", "1. RSV bronchiolitis"), (None, "Born by caesarean section for breech presentation."))
    out = run(tables, x, [code(tables, WHO, "J21.0", "primary", x.evidence("1. RSV bronchiolitis", "diagnoses"))],
              "SEQ-018", candidates=[code(tables, WHO, "O32.1", "candidate", x.evidence("Born by caesarean", None))])
    assert [c.code for c in out.codes] == ["J21.0"]


@pytest.mark.parametrize("section, line, expected", [
    # a urethral catheterisation the episode tells done, in its own words
    (None, "On the first evening he went into retention and a urethral catheter was passed on the ward.", ["M47.9"]),
    ("investigations", "14Fr Foley urethral catheter inserted in ED, residual 1,100 ml.", ["M47.9"]),
    ("diagnoses", "2. Post-operative urinary retention - catheterised, successful TWOC day 2", ["M47.9"]),
    (None, "Catheter removed and a new 14 Ch Foley catheter inserted on admission.", ["M47.2"]),  # a change
    # no insertion told, self-catheterisation, a denial, a plan, the history
    (None, "The urethral catheter was removed at the end of the case.", []),
    (None, "He manages his neurogenic bladder with intermittent self-catheterisation.", []),
    (None, "He has never had a urethral catheter or any other urethral instrumentation.", []),
    (None, "She did not require catheterisation.", []),
    (None, "He was catheterised for retention in 2024 and again in 2025.", []),
    # another catheter: a drain, an artery, the heart, a dialysis line
    (None, "An 8 Fr pigtail drainage catheter was inserted into the collection.", []),
    (None, "A 5 Fr catheter was placed via the right femoral artery.", []),
    (None, "He underwent cardiac catheterisation.", []),
    (None, "His tunnelled haemodialysis catheter was exchanged.", []),
    ("plan", "If he goes back into retention he will need to be catheterised.", []),
    ("past_medical_history", "Catheterised for retention in 2024.", []),
    # a nasogastric tube passed; one that could not be
    (None, "He was too breathless to feed, so a nasogastric tube was passed on 06/02.", ["G47.5"]),
    (None, "An NG tube could not be passed and a PEG was discussed.", []),
    # a dose of an intravenous cytokine inhibitor given; one considered, planned or at the day unit
    (None, "   - Infliximab 5 mg/kg (310 mg) IV on 17/04/2026.", ["X92.1"]),
    (None, "She was given intravenous tocilizumab on day 3.", ["X92.1"]),
    (None, "- Infliximab was considered but was not needed.", []),
    (None, "If she relapses we will consider tocilizumab.", []),
    (None, "- Infliximab 5 mg/kg IV at weeks 2 and 6 at the IBD day unit.", []),
    (None, "Infliximab 5.0 mg/kg IV given on 05/02/2026.", ["X92.1"]),
    (None, "She previously had infliximab in 2021 but lost response.", []),
    (None, "She is to be given IV infliximab at weeks 2 and 6.", []),
    (None, "Infliximab 5 mg/kg IV on 01/05/2026 (week 2 dose, booked).", []),
])
def test_a_catheterisation_or_a_tube_told_done_is_coded(nhs_tables, section, line, expected):
    x = Excerpt(("diagnoses", MAIN[1]), (section, line))
    out = run(nhs_tables, x, [code(nhs_tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses"))], "CON-066")
    added = [c for c in out.codes if c.system == "OPCS-4"]
    assert [c.code for c in added] == expected
    assert all(c.rules == ("CON-066",) and c.evidence[0].text == line for c in added)


@pytest.mark.parametrize("operation, supplementary, kept", [
    ("N06.6", ["Z94.3", "Z43.2"], ["Z94.3"]),  # a radical orchidectomy names the testis: no site code
    ("T20.2", ["Z94.3", "Z29.9"], ["Z94.3"]),  # an inguinal hernia repair: the bowel seen on CT is no site
    ("A65.1", ["Z92.4"], []),
    ("S42.2", ["Z90.4"], []),  # an operation on the skin takes the skin's site codes only
    ("S42.2", ["Z50.4", "Z94.2"], ["Z50.4", "Z94.2"]),
    ("H22.1", ["Z28.6"], ["Z28.6"]),  # a colonoscopic biopsy takes the site of the lesion
    ("H24.5", ["Z28.6"], ["Z28.6"]),
    ("T96.2", ["Z49.4", "Z43.2"], ["Z49.4"]),  # a lesion of soft tissue takes its region's site code
    ("W24.1", ["Z70.5", "Z94.2"], ["Z70.5", "Z94.2"]),  # the bone of a fracture operation
    ("H07.3", ["Y75.2", "Z27.6"], ["Y75.2"]),  # an approach code is no site code
])
def test_a_site_code_follows_only_an_operation_that_takes_one(opcs4_uk, operation, supplementary, kept):
    x = Excerpt(("procedures", "Operation on the right side"), ("investigations", "Scan of the region"))
    scan = x.evidence("Scan of the region", "investigations")
    codes = [code(opcs4_uk, OPCS, operation, "primary", x.evidence("Operation on the right side", "procedures")),
             *(code(opcs4_uk, OPCS, z, evidence=scan) for z in supplementary)]
    out = run(opcs4_uk, x, codes, "SUP-005")
    assert [c.code for c in out.codes] == [operation, *kept]
    assert {c.code for c in out.candidates} == set(supplementary) - set(kept)
    assert all(c.rules == ("SUP-005",) for c in out.candidates)


@pytest.mark.parametrize("line, coded, expected", [
    ("2. Type 1 respiratory failure", "J96.90", "J96.00"),  # the episode's blood gases: acute, same type
    ("2. Type 2 respiratory failure", "J96.91", "J96.01"),
    ("2. Acute on chronic type 2 respiratory failure", "J96.91", "J96.91"),  # chronic named: left as coded
    ("2. Type 2 respiratory failure on home NIV", "J96.91", "J96.91"),
    ("2. Chronic kidney disease stage 3", "N18.3", "N18.3"),
])
def test_respiratory_failure_the_episode_defines_is_acute(who_icd10_uk, line, coded, expected):
    x = Excerpt(("diagnoses", "1. Community acquired pneumonia"), ("diagnoses", line))
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                                code(who_icd10_uk, WHO, coded, evidence=x.evidence(line, "diagnoses"))], "CON-038")
    assert [c.code for c in out.codes] == ["J18.9", expected]
    assert bool(out.flags) == (coded != expected)


def test_a_code_whose_every_passage_is_negated_is_never_suggested_whatever_put_it_there(tables):
    # a history code made from "No previous history of stroke or TIA" stays ranked, not suggested
    x = Excerpt(("diagnoses", "1. NSTEMI"), ("past_medical_history", "- No previous history of stroke or TIA"))
    history = code(tables, WHO, "Z86.7", evidence=x.evidence("No previous history", "past_medical_history", "negated"))
    out = run(tables, x, [code(tables, WHO, "I21.4", "primary", x.evidence("1. NSTEMI", "diagnoses")), history], "SEQ-001")
    assert [c.code for c in out.codes] == ["I21.4"]
    assert [(c.code, c.role, c.evidence[0].assertion) for c in out.candidates] == [("Z86.7", "candidate", "negated")]


@pytest.mark.parametrize("lines, system, code_, kept", [
    # "hyperplasia" on a woman's thyroid histology is no hyperplasia of the prostate
    ((("admission", "Name: Mrs Margaret Field"), ("diagnoses", "Histology: multinodular hyperplasia.")), WHO, "N40", False),
    ((("admission", "Name: Mr John Field"), ("diagnoses", "Benign prostatic hyperplasia.")), WHO, "N40", True),
    # a sex the letter states, and one its words tell
    ((("admission", "Sex: F"), ("procedures", "Bladder outlet operation.")), OPCS, "M70.2", False),
    ((("admission", "He was admitted; his wife and he were told; he agreed."),
      ("procedures", "Hysteroscopic polypectomy.")), OPCS, "Q17.1", False),
    # a letter that tells neither keeps the code (a relative's words are no patient's)
    ((("admission", "Seen with her husband; his view was noted."), ("procedures", "Hysteroscopic polypectomy.")),
     OPCS, "Q17.1", True),
])
def test_a_code_for_one_sex_is_not_coded_for_the_other(tables, lines, system, code_, kept):
    x = Excerpt(*lines)
    line = lines[-1][1]
    out = run(tables, x, [code(tables, system, code_, "primary", x.evidence(line, lines[-1][0]))], "CON-039")
    assert (code_ in [c.code for c in out.codes]) is kept
    if not kept:
        assert out.candidates[0].rules == ("CON-039",) and "for one sex only" in out.flags[0].message


_SITES = ("Multiple sites", "Shoulder region", "Upper arm", "Forearm", "Hand", "Pelvic region and thigh",
          "Lower leg", "Ankle and foot", "Other", "Site unspecified")


@pytest.fixture(scope="module")
def gout_sites(tmp_path_factory, opcs4_fixture):
    """A hand-built UK-style table: gout, unspecified, with the Chapter XIII site fifth characters."""
    rows = ["code\ttitle\tkind\tparent\tselectable\tin_latest_hes",
            "M10\tGout\tcategory\tBlock M05-M14\tN\tY", "M10.9\tGout, unspecified\tsubcategory\tM10\tN\tY",
            *(f"M10.9{i}\tGout, unspecified ({site})\tsubcategory\tM10.9\tY\tY" for i, site in enumerate(_SITES))]
    path = tmp_path_factory.mktemp("uk") / "icd10_uk_sites.tsv"
    path.write_text("\n".join(rows) + "\n")
    return {WHO: load_table(WHO, path), OPCS: load_table(OPCS, opcs4_fixture)}


@pytest.mark.parametrize("line, phrase, site, coded, expected", [
    ("- Gout - allopurinol, no flare for 2 yrs", "Gout", None, "M10.98", "M10.99"),  # no site named: unspecified
    ("Our diagnosis is acute gout of the right knee, likely thiazide-induced", "acute gout", None, "M10.99", "M10.96"),
    ("Acute gout, right knee", "Acute gout", "knee", "M10.99", "M10.96"),  # the mention's own site
    ("His gout has affected both big toes in the past", "gout", None, "M10.98", "M10.97"),
    ("Gout of the left wrist and the right first MTPJ", "Gout", None, "M10.99", "M10.90"),  # two regions
    ("Gout (on allopurinol since her hip replacement)", "Gout", None, "M10.95", "M10.99"),  # an aside names no site
    ("Acute gout of the right knee", "Acute gout", None, "M10.96", "M10.96"),  # already its site
    # the statement names no site: the words before it in its line do
    ("Infected ulcer of the right fourth toe with acute gout of the phalanges", "acute gout", None, "M10.99", "M10.97"),
    ("Right knee replaced in 2019; gout of the phalanges", "gout", None, "M10.96", "M10.99"),  # another clause's
    ("Right hip replacement, gout of the phalanges", "gout", None, "M10.95", "M10.99"),  # a list's other item
    ("Right wrist fracture and acute gout of the phalanges", "acute gout", None, "M10.93", "M10.99"),  # not "with"
])
def test_a_musculoskeletal_code_takes_the_site_its_statement_names(gout_sites, line, phrase, site, coded, expected):
    x = Excerpt(("diagnoses", line))
    out = run(gout_sites, x, [code(gout_sites, WHO, coded, "primary", x.evidence(line, "diagnoses"))], "CON-040",
              mentions=[x.mention(phrase, "diagnoses", body_site=site)])
    assert [c.code for c in out.codes] == [expected]
    assert [c.code for c in out.candidates] == ([coded] if coded != expected else [])
    assert bool(out.flags) == (coded != expected)


def test_the_site_is_read_from_the_mentions_behind_the_code_only(gout_sites):
    # the ankle is the fracture's; the gout line names no site
    x = Excerpt(("diagnoses", "1. Fracture of the left ankle"), ("past_medical_history", "- Gout - allopurinol"))
    out = run(gout_sites, x, [code(gout_sites, WHO, "M10.97", "secondary", x.evidence("- Gout - allopurinol", "past_medical_history"))],
              "CON-040", mentions=[x.mention("Fracture", "diagnoses", body_site="ankle"), x.mention("Gout", "past_medical_history")])
    assert [c.code for c in out.codes] == ["M10.99"] and out.codes[0].rules == ("CON-040",)


@pytest.fixture(scope="module")
def fracture_kinds(tmp_path_factory, opcs4_fixture):
    """A hand-built UK-style table: fractures of the mandible and clavicle, closed and open."""
    rows = ["code\ttitle\tkind\tparent\tselectable\tin_latest_hes",
            "S02\tFracture of skull and facial bones\tcategory\tBlock S00-S09\tN\tY",
            "S02.6\tFracture of mandible\tsubcategory\tS02\tN\tY",
            "S02.60\tFracture of mandible (closed)\tsubcategory\tS02.6\tY\tY",
            "S02.61\tFracture of mandible (open)\tsubcategory\tS02.6\tY\tY",
            "S42\tFracture of shoulder and upper arm\tcategory\tBlock S40-S49\tN\tY",
            "S42.0\tFracture of clavicle\tsubcategory\tS42\tN\tY",
            "S42.00\tFracture of clavicle (closed)\tsubcategory\tS42.0\tY\tY",
            "S42.01\tFracture of clavicle (open)\tsubcategory\tS42.0\tY\tY"]
    path = tmp_path_factory.mktemp("uk") / "icd10_uk_fractures.tsv"
    path.write_text("\n".join(rows) + "\n")
    return {WHO: load_table(WHO, path), OPCS: load_table(OPCS, opcs4_fixture)}


@pytest.mark.parametrize("line, phrase, modifiers, coded, expected", [
    ("1. Compound # L angle of mandible - intraoral mucosal tear", "#", ("open",), "S02.60", "S02.61"),
    ("Fracture of the left mandible, open, through the LL8 socket", "Fracture", (), "S02.60", "S02.61"),
    ("Fracture of the right clavicle", "Fracture", (), "S42.01", "S42.00"),  # not stated open: closed
    ("Fracture of the right clavicle - open reduction and plate fixation", "Fracture", (), "S42.01", "S42.00"),
    ("Closed fracture of the right clavicle", "fracture", ("closed",), "S42.00", "S42.00"),
    ("Open fracture of the right clavicle", "fracture", ("open",), "S42.01", "S42.01"),
])
def test_a_fracture_is_closed_unless_its_statement_says_open(fracture_kinds, line, phrase, modifiers, coded, expected):
    x = Excerpt(("diagnoses", line))
    out = run(fracture_kinds, x, [code(fracture_kinds, WHO, coded, "primary", x.evidence(line, "diagnoses"))], "CON-041",
              mentions=[x.mention(phrase, "diagnoses", modifiers=modifiers)])
    assert [c.code for c in out.codes] == [expected]
    assert bool(out.flags) == (coded != expected)
    assert out.codes[0].rules == (("CON-041",) if coded != expected else ())


def test_an_abbreviation_is_read_as_its_expansion_where_it_stands(who_icd10_uk):
    # "Deliberate OD of amitriptyline": "overdose" stands beside "amitriptyline", which names T43.0
    # in full (tricyclic antidepressants: the category's "not elsewhere classified" makes no
    # residual code of it)
    line = "Dx: Deliberate OD of amitriptyline with TCA cardiotoxicity - QRS widening"
    x = Excerpt(("diagnoses", line))
    od = replace(x.mention("OD", "diagnoses"), expansion="overdose")
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, "T50.9", "primary", x.evidence(line, "diagnoses"))],
              "CON-014", mentions=[od])
    assert [c.code for c in out.codes] == ["T43.0"] and out.candidates[0].code == "T50.9"


@pytest.mark.parametrize("line, poisoning, expected", [
    ("Dx: Deliberate overdose of amitriptyline, 560 mg", "T43.0", "X61.99"),  # psychotropic drugs
    ("1. Intentional paracetamol overdose, staggered", "T39.1", "X60.99"),  # non-opioid analgesics
    ("1. Overdose of 20 x codeine 30 mg, deliberate", "T40.2", "X62.9"),  # narcotics (no fifth character in the table)
    ("1. Deliberate overdose of ramipril", "T46.4", "X64.99"),  # other drugs
    ("1. Accidental double dose of amitriptyline", "T43.0", None),  # no intent told
    # the intent told after what was taken, and the place with it
    ("He took 40 paracetamol 500 mg tablets at home at about 23:30, all within 30 minutes, intending to end his life.",
     "T39.1", "X60.09"),
    # a denial of intent, or another purpose, is no self-harm
    ("She took 16 paracetamol 500 mg tablets at home to help her sleep and was not intending to end her life.",
     "T39.1", None),
    ("He took an extra 4 co-codamol tablets at home with intent to relieve his back pain.", "T39.1", None),
])
def test_a_poisoning_the_letter_says_was_intended_is_followed_by_its_self_harm_code(who_icd10_uk, line, poisoning, expected):
    x = Excerpt(("diagnoses", line))
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, poisoning, "primary", x.evidence(line, "diagnoses"))], "CON-029")
    assert [c.code for c in out.codes] == [poisoning] + ([expected] if expected else [])


@pytest.mark.parametrize("line, injury, story, expected", [
    # a snake's bite on a walk in the countryside: other specified place (X20.8)
    ("Adder bite to the left hand with local envenoming", "T63.0",
     "Bitten on the hand by an adder on a walk on heathland.", "X20.8"),
    # a foreign body left in a natural orifice at home (W44.0)
    ("Toxic shock syndrome secondary to a retained tampon", "T19.2",
     "She had inserted a tampon at home three days earlier and forgotten it.", "W44.0"),
])
def test_a_bite_or_a_foreign_body_is_followed_by_its_external_cause(who_icd10_uk, line, injury, story, expected):
    x = Excerpt(("diagnoses", line), ("hpc", story))
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, injury, "primary", x.evidence(line, "diagnoses"))], "CON-029")
    assert [c.code for c in out.codes] == [injury, expected]


@pytest.mark.parametrize("told, proc, expected", [
    ("Anterior cervical discectomy and fusion (ACDF) C5-C6 with a PEEK cage.", "V29.4", ["V29.4", "V55.1"]),
    ("L4/5 laminectomy and discectomy.", "V25.4", ["V25.4", "V55.1"]),
    ("Posterior instrumented fusion T4 to T12 with pedicle screws.", "V38.1", ["V38.1", "V55.3"]),
    ("ACDF at C4-C5 and C5-C6.", "V29.4", ["V29.4", "V55.2"]),
    ("Anterior cervical discectomy and fusion.", "V29.4", ["V29.4"]),  # no level named: the coder adds it
])
def test_an_operation_on_the_spine_is_followed_by_its_number_of_levels(nhs_tables, told, proc, expected):
    x = Excerpt(("procedures", told))
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, proc, "primary", x.evidence(told, "procedures"))], "SUP-004")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("text, levels", [
    ("C5-C6", 1), ("L4/5", 1), ("L5-S1", 1), ("T12-L1", 1), ("T4 to T12", 8), ("C4-C5 and C5-C6", 2),
    ("L4 laminectomy with decompression of the L4/5 level", 1), ("T2 signal change in the cord", 0), ("C9", 0),
])
def test_spinal_levels_are_counted_from_the_vertebrae_named(text, levels):
    from clincoder.rules.procedures import spinal_levels
    assert spinal_levels(text) == levels


def test_spondylosis_with_myelopathy_is_coded_with_its_asterisk(tables):
    x = Excerpt(("diagnoses", "Degenerative cervical myelopathy secondary to C5-C6 cervical spondylosis"))
    out = run(tables, x, [code(tables, WHO, "M47.1", "primary", x.evidence("cervical spondylosis", "diagnoses"))], "CON-005")
    assert [c.code for c in out.codes] == ["M47.1", "G99.2"]


@pytest.mark.parametrize("suggested, expected", [
    ("B95.1", "B95.0"),  # "Group A Strep" read as group B: the organism named
    ("B95.0", "B95.0"),
    ("B95.5", "B95.5"),  # a streptococcus, unspecified, is still what the letter says
])
def test_an_organism_code_read_as_another_organism_is_the_one_named(tables, suggested, expected):
    line = "Dx: Retropharyngeal abscess (L) - Group A Strep"
    x = Excerpt(("diagnoses", line))
    ev = x.evidence(line, "diagnoses")
    out = run(tables, x, [code(tables, WHO, "J39.0", "primary", ev), code(tables, WHO, suggested, evidence=ev)], "CON-027")
    assert [c.code for c in out.codes] == ["J39.0", expected]


@pytest.mark.parametrize("told, less, more", [
    ("He had an ultrasound-guided percutaneous liver biopsy of the right lobe.", "J14.1", "J13.2"),
    # a word that ends a compound of the other title: the salpingo-oophorectomy holds the oophorectomy
    ("Total laparoscopic hysterectomy and bilateral salpingo-oophorectomy (TLH + BSO)", "Q22.3", "Q22.1"),
])
def test_of_two_operations_on_one_statement_the_one_that_says_more_is_coded(nhs_tables, told, less, more):
    x = Excerpt(("procedures", told))
    ev = x.evidence(told, "procedures")
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, less, "primary", ev), code(nhs_tables, OPCS, more, evidence=ev)],
              "CON-008")
    assert [c.code for c in out.codes] == [more] and out.codes[0].role == "primary"


@pytest.mark.parametrize("told, first, second, kept", [
    # neither holds the other, and the statement names both
    ("Bilateral salpingectomy and bilateral oophorectomy", "Q22.2", "Q22.3", ["Q22.2", "Q22.3"]),
    # a prefix that makes another operation, or another finding, holds nothing
    ("Laparoscopic appendicectomy - normal appendix", "H01.3", "H01.2", ["H01.3"]),
    ("MUA of left distal radius fracture", "W26.2", "W26.4", ["W26.2"]),
])
def test_an_operation_that_another_title_does_not_hold_stays(nhs_tables, told, first, second, kept):
    x = Excerpt(("procedures", told))
    ev = x.evidence(told, "procedures")
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, first, "primary", ev), code(nhs_tables, OPCS, second, evidence=ev)],
              "CON-008")
    assert [c.code for c in out.codes] == kept


@pytest.mark.parametrize("line, coded, expected", [
    ("Hypertension secondary to lupus nephritis.", "I10", "I15.1"),
    ("Secondary hypertension due to the phaeochromocytoma.", "I15.9", "I15.2"),
    ("This confirms that his hypertension was secondary to an aldosterone-producing adenoma.", "I10", "I15.2"),
    ("Her diabetes and hypertension are both likely to be secondary to the cortisol excess.", "I10", "I15.2"),
    ("The picture was classical for scleroderma renal crisis, causing AKI with accelerated hypertension.", "I10", "I15.1"),
    ("Hypertension secondary to renal artery stenosis.", "I10", "I15.0"),
    ("CF-related diabetes - basal-bolus insulin.", "E14.9", "E13.9"),
    ("She had developed iron deficiency anaemia from her menstrual loss.", "D50.9", "D50.0"),
    ("IDA secondary to chronic blood loss from the tumour.", "D50.8", "D50.0"),
    ("Iron deficiency anaemia, secondary to malabsorption.", "D50.9", "D50.9"),
    ("Haemophagocytic lymphohistiocytosis (HLH) secondary to primary Epstein-Barr virus infection.", "D76.1", "D76.2"),
    ("Familial haemophagocytic lymphohistiocytosis, PRF1 mutation.", "D76.1", "D76.1"),
    # the cause belongs to the nearer condition; a cause the list does not name leaves the code
    ("Hypertension and CKD secondary to diabetic nephropathy.", "I10", "I10"),
    ("Hypertension, probably due to pain.", "I10", "I10"),
    ("Portal hypertension secondary to alcohol-related cirrhosis.", "I10", "I10"),
])
def test_a_condition_stated_secondary_to_another_is_its_secondary_form(tables, line, coded, expected):
    x = Excerpt(MAIN, ("diagnoses", line))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, coded, evidence=x.evidence(line, "diagnoses"))], "CON-043")
    assert [c.code for c in out.codes] == ["J18.9", expected]
    assert bool(out.flags) == (coded != expected)


@pytest.mark.parametrize("told, line, coded, expected", [
    # the complication's own statement names the procedure
    ("Procedure: return to theatre for control of bleeding.", "Secondary post-tonsillectomy haemorrhage, day 7", "T81.0", "Y83.6"),
    ("Procedure: PD catheter removal.", "PD peritonitis with exit-site and tunnel infection", "T85.7", "Y84.1"),
    ("Procedure: catheter changed.", "Catheter-associated urinary tract infection (CAUTI)", "T83.5", "Y84.6"),
    # its code does: a device; a post-LP headache
    ("Procedure: revision of the shunt.", "Shunt blocked at the ventricular end", "T85.0", "Y83.1"),
    ("Procedure: lumbar puncture on day 2.", "Headache after the puncture, settled", "G97.1", "Y84.4"),
    # the operation the letter tells nearest to it
    ("Operation: I carried out a total thyroidectomy on 03/10/2026.", "This is post-operative hypoparathyroidism", "E89.2", "Y83.6"),
    ("Operation: small bowel resection with primary anastomosis.", "Prolonged post-operative ileus", "K91.3", "Y83.2"),
    ("Operation: aortic valve replacement.", "Post-operative paroxysmal atrial fibrillation (day 2)", "I48.0", None),
    ("Operation: laparotomy.", "New paroxysmal AF on post-operative day 3", "I48.0", None),
    ("Operation: open primary sutured repair of the paraumbilical hernia.", "Superficial surgical site infection", "T81.4", "Y83.8"),
    # a condition whose statement calls it post-operative; not one that does not
    ("Operation: focused left inferior parathyroidectomy.", "Transient post-operative hypocalcaemia", "E83.5", "Y83.6"),
    ("Operation: focused left inferior parathyroidectomy.", "Transient hypocalcaemia", "E83.5", None),
    # retention of urine: only where its statement gives the operation as its cause, and never the
    # catheter that treated it
    ("Operation: total laparoscopic hysterectomy.", "Post-operative urinary retention, a recognised complication of the hysterectomy - re-catheterised", "R33", "Y83.6"),
    ("Operation: open mesh repair of incisional hernia.", "Urethral catheter passed for retention related to the anaesthetic", "R33", "Y83.8"),
    ("Operation: total knee replacement.", "Post-operative urinary retention on day 1 - urethral catheter", "R33", None),
    ("Operation: lumbar microdiscectomy.", "Urinary retention due to cauda equina, resolved after the microdiscectomy", "R33", None),
    ("Operation: decompression.", "Acute urinary retention secondary to spinal cord compression", "R33", None),
])
def test_a_complication_of_care_is_followed_by_the_procedure_that_caused_it(tables, told, line, coded, expected):
    x = Excerpt(("procedures", told), ("diagnoses", line))
    x.sentences[0] = replace(x.sentences[0], procedural=True)
    out = run(tables, x, [code(tables, WHO, coded, "primary", x.evidence(line, "diagnoses"))], "CON-044")
    assert [c.code for c in out.codes] == [coded] + ([expected] if expected else [])


def test_each_complication_gets_its_cause_and_one_already_followed_by_it_none(tables):
    x = Excerpt(("procedures", "Total thyroidectomy in July."), ("diagnoses", "Post-surgical hypothyroidism"),
                ("diagnoses", "Post-surgical hypoparathyroidism"))
    x.sentences[0] = replace(x.sentences[0], procedural=True)
    out = run(tables, x, [code(tables, WHO, "E89.0", "primary", x.evidence("Post-surgical hypothyroidism", "diagnoses")),
                          code(tables, WHO, "Y83.6", evidence=x.evidence("Total thyroidectomy", "procedures")),
                          code(tables, WHO, "E89.2", evidence=x.evidence("Post-surgical hypoparathyroidism", "diagnoses"))],
              "CON-044")
    assert [c.code for c in out.codes] == ["E89.0", "Y83.6", "E89.2", "Y83.6"]


@pytest.mark.parametrize("line, coded, expected", [
    ("Post-surgical hypothyroidism - levothyroxine", "E03.9", "E89.0"),
    ("We have diagnosed post-operative adrenal insufficiency", "E27.4", "E89.6"),
    ("Prolonged post-operative ileus, day 3 to day 8", "K56.7", "K91.3"),
    ("Primary hypothyroidism - levothyroxine", "E03.9", "E03.9"),
])
def test_a_condition_stated_post_operative_is_its_postprocedural_form(tables, line, coded, expected):
    x = Excerpt(MAIN, ("diagnoses", line))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, coded, evidence=x.evidence(line, "diagnoses"))], "CON-045")
    assert [c.code for c in out.codes] == ["J18.9", expected]


def test_a_condition_and_another_the_operation_caused_are_coded_apart(tables):
    # the adhesions that obstructed the bowel, and the ileus after the adhesiolysis: two conditions
    lines = ["Dx: ADHESIONAL SMALL BOWEL OBSTRUCTION", "Open laparotomy and division of adhesions.",
             "Post-op: postoperative paralytic ileus - NG output to day 5."]
    x = Excerpt(("diagnoses", lines[0]), ("procedures", lines[1]), ("discharge_summary", lines[2]))
    evidence = x.evidence(lines[0], "diagnoses") + x.evidence(lines[1], "procedures") + x.evidence(lines[2], "discharge_summary")
    out = run(tables, x, [code(tables, WHO, "K56.5", "primary", evidence)], "CON-045")
    assert [c.code for c in out.codes] == ["K56.5", "K91.3"]
    assert [e.text for e in out.codes[0].evidence] == lines[:2] and [e.text for e in out.codes[1].evidence] == lines[2:]
    # one condition told twice, once as post-operative: its postprocedural form
    lines = ["Prolonged post-operative ileus", "The ileus settled with NG decompression by day 6."]
    x = Excerpt(("diagnoses", lines[0]), ("discharge_summary", lines[1]))
    evidence = x.evidence(lines[0], "diagnoses") + x.evidence(lines[1], "discharge_summary")
    assert [c.code for c in run(tables, x, [code(tables, WHO, "K56.7", "primary", evidence)], "CON-045").codes] == ["K91.3"]



@pytest.mark.parametrize("lines, coded, expected", [
    # a word's forms are one word: the same condition, told twice, is its postprocedural form
    (["Post-operative adhesional SBO", "Adhesions divided at relaparotomy on day 6."], "K56.5", "K91.3"),
    (["Post-surgical hypothyroid state", "Hypothyroidism on levothyroxine"], "E03.9", "E89.0"),
])
def test_a_condition_told_in_other_word_forms_is_not_split(tables, lines, coded, expected):
    x = Excerpt(("diagnoses", lines[0]), ("discharge_summary", lines[1]))
    evidence = x.evidence(lines[0], "diagnoses") + x.evidence(lines[1], "discharge_summary")
    out = run(tables, x, [code(tables, WHO, coded, "primary", evidence)], "CON-045")
    assert [c.code for c in out.codes] == [expected]


def test_the_procedure_that_caused_a_complication_is_not_one_of_the_history(tables):
    lines = ["Perforated diverticulitis 2019 - Hartmann's procedure, colostomy reversed 2020.",
             "Open laparotomy and division of adhesions.", "Prolonged post-operative ileus"]
    x = Excerpt(("past_medical_history", lines[0]), ("procedures", lines[1]), ("diagnoses", lines[2]))
    x.sentences[0] = replace(x.sentences[0], procedural=True)
    x.sentences[1] = replace(x.sentences[1], procedural=True)
    out = run(tables, x, [code(tables, WHO, "K91.3", "primary", x.evidence(lines[2], "diagnoses"))], "CON-044")
    assert [c.code for c in out.codes] == ["K91.3", "Y83.8"]


def test_a_condition_whose_postprocedural_form_is_coded_already_is_that_condition(tables):
    x = Excerpt(MAIN, ("diagnoses", "Post-surgical hypoparathyroidism"), ("diagnoses", "Permanent post-surgical hypoparathyroidism"))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")),
                          code(tables, WHO, "E89.2", evidence=x.evidence("Permanent post-surgical hypoparathyroidism", "diagnoses")),
                          code(tables, WHO, "E20.9", evidence=x.evidence("Post-surgical hypoparathyroidism", "diagnoses"))],
              "CON-045")
    assert [c.code for c in out.codes] == ["J18.9", "E89.2"]
    assert [c.code for c in out.candidates] == ["E20.9"]


def test_septic_arthritis_takes_the_code_of_its_organism_and_keeps_its_site(who_icd10_uk):
    lines = ["1. Right knee septic arthritis", "Synovial fluid culture grew MSSA (Staphylococcus aureus)."]
    x = Excerpt(("diagnoses", lines[0]), (None, lines[1]))
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, "M00.96", "primary", x.evidence(lines[0], "diagnoses"))],
              "CON-027")
    assert [c.code for c in out.codes] == ["M00.06"]


def test_a_pleural_effusion_drained_in_its_own_right_stays_beside_heart_failure(tables):
    x = Excerpt(("diagnoses", "1. Decompensated heart failure. 2. Bilateral pleural effusions, right drained."))
    out = run(tables, x, [code(tables, WHO, "I50.0", "primary"), code(tables, WHO, "J90"),
                          code(tables, OPCS, "T12.4", "primary")], "CON-030")
    assert [c.code for c in out.codes] == ["I50.0", "J90", "T12.4"]


@pytest.mark.parametrize("note, expected", [
    ("Implantation of a dual-chamber permanent pacemaker. Leads positioned under fluoroscopic guidance.",
     ["K60.6", "Y53.4"]),
    # another paragraph, or another operation's statement, tells of other imaging
    ("Implantation of a dual-chamber permanent pacemaker.\n\nCT chest later under fluoroscopic guidance.", ["K60.6"]),
    # a statement whose span holds the blank line that ends its list: the next paragraph is another's
    ("Implantation of a dual-chamber permanent pacemaker.\n\nHer hip was aspirated under fluoroscopic guidance.",
     ["K60.6"]),
])
def test_image_control_told_in_the_operations_paragraph_is_its_own(nhs_tables, note, expected):
    text = note
    x = Excerpt(("procedures", text))
    a = x.text.index("Implantation")
    stated = "Implantation of a dual-chamber permanent pacemaker." + ("\n\n" if "aspirated" in note else "")
    ev = (Evidence(a, a + len(stated), stated, "procedures", "present"),)
    other = "CT chest" if "CT chest" in note else "aspirated" if "aspirated" in note else None
    told = [x.mention(other, "procedures", label="PROCEDURE")] if other else []
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, "K60.6", "primary", ev)], "SUP-001", mentions=told)
    assert [c.code for c in out.codes] == expected


def test_a_genus_named_with_the_infection_gives_way_to_the_species_the_cultures_name(tables):
    lines = ["1. Staphylococcal toxic shock syndrome", "High vaginal swab: heavy growth Staphylococcus aureus (MSSA)."]
    x = Excerpt(("diagnoses", lines[0]), (None, lines[1]))
    out = run(tables, x, [code(tables, WHO, "A48.3", "primary", x.evidence(lines[0], "diagnoses"))], "CON-027")
    assert [c.code for c in out.codes] == ["A48.3", "B95.6"]


@pytest.mark.parametrize("codes, expected", [
    (["E27.1", "E27.2"], ["E27.2", "E27.1"]),  # the Addisonian crisis before the Addison's disease
    (["J96.11", "J96.01"], ["J96.01", "J96.11"]),
    (["N18.4", "N17.9"], ["N17.9", "N18.4"]),
    (["N18.4", "K85.9"], ["N18.4", "K85.9"]),  # an acute condition of another kind stays where it was
    (["J96.01", "J96.11"], ["J96.01", "J96.11"]),
])
def test_the_acute_form_of_a_condition_goes_before_its_chronic_form(who_icd10_uk, codes, expected):
    x = Excerpt(("diagnoses", "1. Addisonian crisis. 2. Addison's disease."))
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, c, "primary" if n == 0 else "secondary")
                                for n, c in enumerate(codes)], "SEQ-015")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("line, coded, expected", [
    ("Acute postoperative endophthalmitis, left eye", "H44.0", ["T81.4", "H44.0"]),
    ("E. coli sepsis after transrectal prostate biopsy", "A41.5", ["T81.4", "A41.5"]),
    ("Urinary tract infection following a TURP", "N39.0", ["T81.4", "N39.0"]),
    # a date after an operation makes no complication; nor does an infection told alone
    ("Pneumonia on post-operative day 3", "J18.9", ["J18.9"]),
    ("Community-acquired pneumonia", "J18.9", ["J18.9"]),
    # a pneumonia a stay in hospital brought, after an operation on another site
    ("Hospital-acquired pneumonia (right base) - day 4 after surgery", "J18.9", ["J18.9"]),
])
def test_an_infection_that_follows_a_procedure_is_coded_as_such_before_the_infection(tables, line, coded, expected):
    x = Excerpt(("diagnoses", line))
    out = run(tables, x, [code(tables, WHO, coded, "primary", x.evidence(line, "diagnoses"))], "CON-047", "SEQ-001")
    assert [c.code for c in out.codes] == expected and out.codes[0].role == "primary"
    assert bool(out.flags) == (len(expected) > 1)


def test_an_infection_after_a_procedure_with_its_complication_coded_already_takes_nothing(tables):
    line = "Early periprosthetic infection of the right TKR after the operation, with sepsis"
    x = Excerpt(("diagnoses", line))
    ev = x.evidence(line, "diagnoses")
    out = run(tables, x, [code(tables, WHO, "T84.5", "primary", ev), code(tables, WHO, "A41.9", evidence=ev)], "CON-047")
    assert [c.code for c in out.codes] == ["T84.5", "A41.9"]


@pytest.mark.parametrize("told, coded, expected", [
    ("Listeria monocytogenes meningitis", "G03.9", "A32.1"),
    ("Cryptococcal meningitis; CSF cryptococcal antigen positive", "G03.9", "B45.1"),
    ("Bacterial meningitis - CSF culture grew Streptococcus pneumoniae", "G00.9", "G00.1"),
    ("Meningitis, organism not found", "G03.9", "G03.9"),
])
def test_meningitis_takes_the_code_of_the_organism_the_letter_names(tables, told, coded, expected):
    x = Excerpt(("diagnoses", told))
    out = run(tables, x, [code(tables, WHO, coded, "primary", x.evidence(told, "diagnoses"))], "CON-027")
    assert [c.code for c in out.codes][0] == expected


def _one_operation(nhs_tables, x, statement, *others):
    ev = x.evidence(statement, "diagnoses")
    return run(nhs_tables, x, [code(nhs_tables, OPCS, "M14.1", "primary", ev),
                               *(code(nhs_tables, OPCS, c, evidence=ev) for c in others)], "SUP-001")


@pytest.mark.parametrize("others, expected", [
    ((), ["M14.1", "Y53.4"]),
    # with two operations in the episode, the section's imaging may be the other's
    (("M27.1",), ["M14.1", "M27.1"]),
])
def test_image_control_told_under_the_procedure_heading_of_one_operation_is_its_own(nhs_tables, others, expected):
    x = Excerpt(("diagnoses", "Proc: ESWL to renal pelvic stone - session 1"),
                ("procedures", "- Electromagnetic lithotripter, stone localised and targeted with fluoroscopy throughout."))
    out = _one_operation(nhs_tables, x, "Proc: ESWL to renal pelvic stone - session 1", *others)
    assert [c.code for c in out.codes] == expected


def test_image_control_told_in_the_paragraph_that_tells_the_operation_is_its_own(nhs_tables):
    statement = "He underwent a proximal shunt revision on 20/10/2026."
    x = Excerpt((None, statement), (None, ""),
                (None, "At operation, a new ventricular catheter was passed under intraoperative ultrasound guidance."))
    ev = x.evidence(statement)
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, "A13.1", "primary", ev)], "SUP-001")
    assert [c.code for c in out.codes] == ["A13.1", "Y53.2"]


@pytest.mark.parametrize("age_days, expected", [
    (30, ["P77", "A41.5"]),  # the baby's record: the preterm labour was the mother's
    (365 * 30, ["O60.1", "P77", "A41.5"]),
    (None, ["O60.1", "P77", "A41.5"]),  # no date of birth: left alone
])
def test_a_code_kept_for_another_age_is_not_coded(tables, age_days, expected):
    x = Excerpt(("diagnoses", "1. Necrotising enterocolitis. 2. E. coli sepsis. Born at 28 weeks after preterm labour."))
    codes = [code(tables, WHO, c, "primary" if n == 0 else "secondary") for n, c in enumerate(["O60.1", "P77", "A41.5"])]
    result = LetterResult("t", "uk", codes=tuple(codes))
    out = apply_rules(result, tables, [], x.text, rules=only("CON-048"), sentences=x.sentences, age_days=age_days)
    assert [c.code for c in out.codes] == expected
    assert bool(out.flags) == (len(expected) == 2)


def test_a_code_placed_after_another_is_placed_after_that_one_not_an_equal_one(tables):
    """Two equal site codes (one statement, one site) stand after two operations: what goes after
    the second goes after the second."""
    line = "Excision of lesion and full-thickness graft of skin of the left leg."
    x = Excerpt(("procedures", line))
    ev = x.evidence(line, "procedures")
    codes = [code(tables, OPCS, c, "primary" if n == 0 else "secondary", ev)
             for n, c in enumerate(["S35.9", "Z50.4", "S36.2", "Z50.4"])]
    w = Work(LetterResult("t", "uk", codes=tuple(codes)), tables, [], x.text, only("SUP-006"), x.sentences)
    rule = only("SUP-006").rules[0]
    w.add(rule, OPCS, "Y58.8", ev, after=w.codes[3], repeat=True)
    assert [c.code for c in w.codes] == ["S35.9", "Z50.4", "S36.2", "Z50.4", "Y58.8"]
    w.move_before(w.codes[4], w.codes[3])
    assert [c.code for c in w.codes] == ["S35.9", "Z50.4", "S36.2", "Y58.8", "Z50.4"]


@pytest.mark.parametrize("line, graft, expected", [
    ("Full-thickness skin graft harvested from the left postauricular skin.", "S36.2", ["S36.2", "Y58.1", "Z94.3"]),
    ("Full-thickness skin graft harvested from the right inner thigh with a scalpel.", "S36.2",
     ["S36.2", "Y58.8", "Z50.4", "Z94.2"]),
    # a split-thickness graft's donor site heals by itself: no harvest code
    ("Split-thickness skin graft harvested from the right anterolateral thigh with an air dermatome.", "S35.9",
     ["S35.9"]),
    ("Full-thickness skin graft harvested from the left supraclavicular fossa (good colour match).", "S36.2",
     ["S36.2", "Y58.8", "Z48.2", "Z94.3"]),
    ("Full-thickness skin graft to the defect.", "S36.2", ["S36.2"]),  # no donor site told: no harvest code
    ("Full-thickness skin graft harvested from behind the left ear.", "S36.2", ["S36.2", "Y58.1", "Z94.3"]),
])
def test_a_skin_graft_is_followed_by_the_harvest_of_its_donor_skin(tables, line, graft, expected):
    x = Excerpt(("procedures", line))
    out = run(tables, x, [code(tables, OPCS, graft, "primary", x.evidence(line, "procedures"))], "SUP-006", "SUP-003")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("section, expected", [
    ("diagnoses", ["T39.1", "F33.1"]),  # the overdose the admission treated, before the depression behind it
    ("past_medical_history", ["F33.1", "T39.1"]),  # an overdose of an earlier year is no condition treated now
])
def test_a_poisoning_is_the_primary_diagnosis_before_the_disorder_behind_it(tables, section, expected):
    x = Excerpt(("diagnoses", "Our diagnosis is recurrent depressive disorder, current episode moderate."),
                (section, "Intentional paracetamol overdose."))
    codes = [code(tables, WHO, "F33.1", "primary", x.evidence("recurrent depressive disorder", "diagnoses")),
             code(tables, WHO, "T39.1", evidence=x.evidence("Intentional paracetamol overdose.", section))]
    out = run(tables, x, codes, "SEQ-021")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("method, expected", [
    ("R24.9", ["O75.7", "Z37.0"]),  # a vaginal birth after a caesarean: O34.2 excludes it
    ("R18.2", ["O34.2", "Z37.0"]),  # a trial of labour that ended in a caesarean keeps the scar's care
    ("R25.1", ["O34.2", "Z37.0"]),  # a caesarean hysterectomy is no vaginal birth
])
def test_a_vaginal_birth_after_a_caesarean_is_o75_7(tables, method, expected):
    x = Excerpt(("diagnoses", "1. SVD at 39+2 - successful VBAC (one previous LSCS)"))
    ev = x.evidence("SVD at 39+2 - successful VBAC (one previous LSCS)", "diagnoses")
    codes = [code(tables, WHO, "O34.2", "primary", ev), code(tables, WHO, "Z37.0", evidence=ev),
             code(tables, OPCS, method, "primary", ev)]
    out = run(tables, x, codes, "CON-084")
    assert [c.code for c in out.codes if c.system == "ICD-10"] == expected
    assert out.codes[0].role == "primary"


@pytest.mark.parametrize("age_days, expected", [
    (34, ["Q40.0", "E87.3"]),  # a baby's pyloric stenosis is the infantile one
    (365 * 60, ["K31.1", "E87.3"]),
])
def test_a_code_kept_for_another_age_gives_way_to_the_code_of_this_age(tables, age_days, expected):
    x = Excerpt(("diagnoses", "1. Hypertrophic pyloric stenosis. 2. Hypochloraemic alkalosis."))
    codes = (code(tables, WHO, "K31.1", "primary", x.evidence("Hypertrophic pyloric stenosis", "diagnoses")),
             code(tables, WHO, "E87.3", evidence=x.evidence("Hypochloraemic alkalosis", "diagnoses")))
    out = apply_rules(LetterResult("t", "uk", codes=codes), tables, [], x.text, rules=only("CON-048"),
                      sentences=x.sentences, age_days=age_days)
    assert [c.code for c in out.codes] == expected
    assert out.codes[0].role == "primary"


@pytest.mark.parametrize("age_days, expected", [
    (120, ["F03.1"]),  # a baby's cleft lip repair: the caesarean it was born by was its mother's operation
    (365 * 30, ["F03.1", "R18.2"]),
])
def test_an_obstetric_operation_is_not_coded_for_a_child(nhs_tables, age_days, expected):
    x = Excerpt(("procedures", "Primary repair of left cleft lip. Born by emergency caesarean section at 39 weeks."))
    result = LetterResult("t", "uk", codes=(code(nhs_tables, OPCS, "F03.1", "primary"), code(nhs_tables, OPCS, "R18.2")))
    out = apply_rules(result, nhs_tables, [], x.text, rules=only("CON-048"), sentences=x.sentences, age_days=age_days)
    assert [c.code for c in out.codes] == expected


def test_a_code_an_age_edit_takes_out_is_not_added_back(nhs_tables):
    # "born at 39 weeks by normal delivery" in a baby's letter: CON-048 takes the delivery out,
    # and CON-028 (a delivery record carries its method of delivery) does not bring it back
    born = "He was born at 39 weeks by normal delivery."
    x = Excerpt(("procedures", "Primary repair of left cleft lip."), (None, born))
    normal = code(nhs_tables, OPCS, "R24.9", evidence=x.evidence(born))
    result = LetterResult("t", "uk", codes=(code(nhs_tables, OPCS, "F03.1", "primary"), normal))
    w = Work(result, nhs_tables, [], x.text, only("CON-048"), x.sentences, age_days=120)
    w.rule_out(normal)
    rule = only("CON-048").rules[0]
    assert w.add(rule, System.OPCS4, "R24.9", normal.evidence) is None
    assert [c.code for c in w.codes] == ["F03.1"] and w.add(rule, System.OPCS4, "Z94.2", ()) is not None


def test_a_marrow_sample_from_the_iliac_crest_takes_the_site_of_the_bone(nhs_tables):
    told = "Bone marrow aspirate and trephine biopsy, posterior iliac crest, under local anaesthetic."
    x = Excerpt(("procedures", told))
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, "W36.5", "primary", x.evidence(told, "procedures"))], "SUP-001")
    assert [c.code for c in out.codes] == ["W36.5", "Z75.3"]


def test_the_organism_follows_the_procedure_that_caused_the_infection(tables):
    lines = ["1. Acute postoperative endophthalmitis, left eye", "Vitreous culture: Staphylococcus epidermidis."]
    x = Excerpt(("diagnoses", lines[0]), (None, lines[1]))
    ev = x.evidence(lines[0], "diagnoses")
    out = run(tables, x, [code(tables, WHO, "T81.4", "primary", ev), code(tables, WHO, "Y83.1", evidence=ev),
                          code(tables, WHO, "H44.0", evidence=ev)], "CON-027")
    assert [c.code for c in out.codes] == ["T81.4", "Y83.1", "B95.7", "H44.0"]


@pytest.mark.parametrize("lines, expected", [
    # the drug begun in this episode is no long-term anticoagulation, whatever another line says of it
    ([("hpc", "She had dalteparin in ED and then started apixaban 10 mg twice daily."),
      (None, "Her periods may be heavier on apixaban.")], []),
    ([("diagnoses", "Prophylactic anticoagulation (albumin <20, membranous): apixaban")], []),
    # another drug of the clause was the new one; a start in an earlier year is long-term use
    ([(None, "She was started on IV co-amoxiclav, and apixaban was withheld for a day."),
      ("medications", "Apixaban 5 mg BD, bisoprolol 2.5 mg OD")], ["Z92.1"]),
    ([("hpc", "Apixaban (started 2021 for AF) was continued."), ("medications", "Apixaban 5 mg BD"),
      ("plan", "Review on 12/03/2026.")], ["Z92.1"]),
    ([("hpc", "Apixaban was restarted on day 2, so extended LMWH prophylaxis was not needed."),
      ("medications", "Apixaban 5 mg BD")], ["Z92.1"]),
    # stroke prophylaxis is long-term use; LMWH prophylaxis beside the drug withheld begins nothing;
    # a start placed earlier, or a plan, is no start in this episode
    ([("past_medical_history", "Paroxysmal AF - on apixaban for stroke prophylaxis"), ("medications", "Apixaban 5 mg BD")],
     ["Z92.1"]),
    ([("hpc", "Dalteparin prophylaxis was given while apixaban was withheld."), ("medications", "Apixaban 5 mg BD")],
     ["Z92.1"]),
    ([("hpc", "Known AF, started on apixaban by her GP 3 years ago."), ("medications", "Apixaban 5 mg BD")], ["Z92.1"]),
    ([("plan", "If she develops AF, apixaban should be started."), ("medications", "Apixaban 5 mg BD")], ["Z92.1"]),
])
def test_an_anticoagulant_begun_in_this_episode_is_no_long_term_use(tables, lines, expected):
    x = Excerpt(MAIN, *lines)
    primary = code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses"))
    out = run(tables, x, [primary], "HIS-001")
    assert [c.code for c in out.codes[1:]] == expected


def test_a_suggested_long_term_anticoagulant_begun_in_this_episode_is_not_coded(tables):
    x = Excerpt(MAIN, ("hpc", "She then started apixaban 10 mg twice daily."), (None, "Her periods may be heavier on apixaban."))
    ranked = code(tables, WHO, "Z92.1", "secondary", x.evidence("Her periods may be heavier on apixaban.", None))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses")), ranked], "HIS-001")
    assert [c.code for c in out.codes] == ["J18.9"]
    assert "HIS-001" in next(c for c in out.candidates if c.code == "Z92.1").rules


def test_a_loop_diuretic_that_caused_a_condition_follows_it(tables):
    line = "Acute kidney injury on day 5, attributed to diuresis with IV furosemide."
    x = Excerpt(("diagnoses", line))
    out = run(tables, x, [code(tables, WHO, "N17.9", "primary", x.evidence(line, "diagnoses"))], "CON-022")
    assert [c.code for c in out.codes] == ["N17.9", "Y54.4"]


@pytest.mark.parametrize("line, expected", [
    ("1. Acute gastroenteritis due to norovirus", "A08.1"),
    ("Gastroenteritis - stool PCR positive for rotavirus", "A08.0"),
    ("Gastroenteritis: Campylobacter jejuni in the stool culture", "A04.5"),
    ("Gastroenteritis: stool culture grew Salmonella Enteritidis", "A02.0"),
    ("Gastroenteritis; stool PCR negative for norovirus", "A09.9"),  # a virus the test did not find
    # a list of organisms the stool culture did not find
    ("Gastroenteritis - stool culture: no Salmonella, Shigella or Campylobacter isolated", "A09.9"),
    ("Gastroenteritis - stool MC&S: Salmonella, Shigella, Campylobacter and E. coli O157 not isolated", "A09.9"),
])
def test_gastroenteritis_is_coded_to_the_organism_its_stool_tests_name(tables, line, expected):
    x = Excerpt(("diagnoses", line))
    out = run(tables, x, [code(tables, WHO, "A09.9", "primary", x.evidence(line, "diagnoses"))], "CON-027")
    assert [c.code for c in out.codes] == [expected]


def test_of_the_places_a_story_names_the_first_told_is_the_place_of_occurrence(who_icd10_uk):
    # the street (then the activity, at work), not her house: W00.42
    story = "She slipped on ice on the pavement outside her house while on her postal round."
    x = Excerpt(("diagnoses", "1. Closed fracture of the left distal radius"), (None, story))
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, "S52.50", "primary", x.evidence("Closed fracture", "diagnoses"))],
              "CON-029")
    assert [c.code for c in out.codes] == ["S52.50", "W00.42"]


@pytest.mark.parametrize("residual, specific", [
    ("J81", "I50.1"),  # pulmonary oedema in heart failure (J81 excludes it)
    ("N12", "N10"),  # pyelonephritis of unstated acuity beside the acute one
    ("K63.5", "D12.5"),  # a polyp of the colon that histology calls an adenoma
    ("B01.9", "B02.9"),  # the varicella zoster virus of a shingles
    ("M25.7", "M17.1"),  # the osteophytes of an osteoarthritic knee
    ("F29", "F33.3"),  # the psychotic symptoms of a severe depressive episode
    ("F29", "F31.2"),  # of a manic episode in bipolar disorder
    ("I64", "I63.9"),  # a stroke whose kind is coded
    ("J22", "J18.9"),  # the chest infection that is the pneumonia
    ("H33.3", "H33.0"),  # the retinal break of a rhegmatogenous detachment
    ("I70.2", "E11.5"),  # the atherosclerosis of the legs the letter calls diabetic
])
def test_an_unspecified_code_beside_the_code_that_says_what_it_is(tables, residual, specific):
    x = Excerpt(("diagnoses", "1. Acute illness"))
    ev = x.evidence("Acute illness", "diagnoses")
    out = run(tables, x, [code(tables, WHO, specific, "primary", ev), code(tables, WHO, residual, "secondary", ev)], "CON-030")
    assert [c.code for c in out.codes] == [specific]


@pytest.mark.parametrize("line, condition, acute, expected", [
    ("2. Acute on chronic type 1 respiratory failure (LTOT 2 L/min)", "respiratory failure", "J96.00", ["J96.00", "J96.10"]),
    ("2. Acute-on-chronic type 2 respiratory failure", "respiratory failure", "J96.01", ["J96.01", "J96.11"]),
    ("Acute on chronic pancreatitis", "pancreatitis", "K85.9", ["K85.9", "K86.1"]),
    ("Acute on chronic alcohol-induced pancreatitis", "pancreatitis", "K85.2", ["K85.2", "K86.0"]),
    ("Histology: acute on chronic cholecystitis with cholelithiasis.", "cholecystitis", "K80.0", ["K80.0", "K80.1"]),
    ("2. Acute type 1 respiratory failure", "respiratory failure", "J96.00", ["J96.00"]),  # acute alone
    # the heart failure is acute on chronic, not the respiratory failure named with it
    ("1. Acute on chronic heart failure with type 1 respiratory failure", "respiratory failure", "J96.00", ["J96.00"]),
])
def test_a_condition_acute_on_chronic_is_coded_as_both_forms(who_icd10_uk, line, condition, acute, expected):
    x = Excerpt(("diagnoses", line))
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, acute, "primary", x.evidence(line, "diagnoses"))], "CON-053",
              mentions=[x.mention(condition, "diagnoses")])
    assert [c.code for c in out.codes] == expected
    assert len(expected) == 1 or "CON-053" in out.codes[0].rules


@pytest.mark.parametrize("others, expected", [
    ((), ["J44.0", "J22"]),  # an infective exacerbation: the infection, unspecified, after it
    (("J18.9",), ["J44.0", "J18.9"]),  # a pneumonia says which infection: nothing added
    (("J20.9",), ["J44.0", "J20.9"]),
    (("A48.1",), ["J44.0", "A48.1"]),  # Legionnaires' disease, a pneumonia another chapter classifies
])
def test_copd_with_an_infection_is_followed_by_the_infections_code(tables, others, expected):
    line = "1. Infective exacerbation of COPD"
    x = Excerpt(("diagnoses", line))
    ev = x.evidence(line, "diagnoses")
    out = run(tables, x, [code(tables, WHO, "J44.0", "primary", ev)] + [code(tables, WHO, c, evidence=ev) for c in others],
              "CON-055")
    assert [c.code for c in out.codes] == expected
    assert ("CON-055" in out.codes[1].rules) == (not others)


def test_a_chronic_form_coded_already_is_not_added_again(who_icd10_uk):
    line = "Acute on chronic alcohol-induced pancreatitis"
    x = Excerpt(("diagnoses", line))
    ev = x.evidence(line, "diagnoses")
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, "K85.2", "primary", ev), code(who_icd10_uk, WHO, "K86.0", evidence=ev)],
              "CON-053", mentions=[x.mention("pancreatitis", "diagnoses")])
    assert [c.code for c in out.codes] == ["K85.2", "K86.0"]


def test_a_type_named_in_a_statement_is_not_read_from_its_list_number(who_icd10_uk):
    """CON-014 reads "type 1" as one word: the list number "2." and a dose of 2 L/min name no type II."""
    line = "2. Acute on chronic type 1 respiratory failure (LTOT 2 L/min)"
    x = Excerpt(("diagnoses", line))
    out = run(who_icd10_uk, x, [code(who_icd10_uk, WHO, "J96.09", "primary", x.evidence(line, "diagnoses"))], "CON-014")
    assert [c.code for c in out.codes] == ["J96.00"]


@pytest.mark.parametrize("line, condition, kept", [
    ("1. Infective exacerbation of COPD - H. influenzae in sputum.", "J10.1", False),
    ("1. Influenza A (PCR positive) with a lower respiratory tract infection.", "J10.1", True),
    # the scar an operation went through is no scar condition of the skin; a keloid is
    ("At operation, through her previous Pfannenstiel caesarean scar, the uterus was opened.", "L90.5", False),
    ("2. Keloid scar of the left earlobe, excised.", "L90.5", True),
    # the physiotherapy of an acute admission is no episode of rehabilitation care
    ("Mobilising with her frame on the ward with physiotherapy.", "Z50.1", False),
    ("Transferred to the rehabilitation unit for physiotherapy after the stroke.", "Z50.1", True),
    # the type of a respiratory failure is no diabetes
    ("2. Acute respiratory failure. NOT type 2 - pCO2 normal throughout.", "E11.9", False),
    ("3. Type 2 diabetes mellitus - metformin.", "E11.9", True),
    ("His other medical history is type 2 diabetes on metformin.", "E11.9", True),  # past history names it
    ("Dx: Euglycaemic DKA, SGLT2i (dapagliflozin) associated.", "E10.1", False),  # no type 1 named
    ("1. DKA in known type 1 diabetes.", "E10.1", True),
    ("His sodium fell from the stress response to surgery.", "Z73.3", False),
    ("He has been under a lot of stress at work.", "Z73.3", True),
    ("3. T2D on metformin and gliclazide.", "E11.9", True),
    ("2. Psychosocial stressors - recent bereavement.", "Z73.3", True),
    ("Hypertrophic burn scar of the right forearm.", "L90.5", True),
    # an organism alone is no pneumonia
    ("1. Pneumococcal meningitis (Streptococcus pneumoniae on CSF culture)", "J13", False),
    ("2. Right lower lobe pneumonia - Streptococcus pneumoniae in the sputum.", "J13", True),
    ("1. Community acquired pneumonia. Pneumococcal urinary antigen positive.", "J13", True),
])
def test_a_condition_is_coded_only_where_a_statement_names_it(tables, line, condition, kept):
    x = Excerpt(("diagnoses", line))
    told = "historical" if "history" in line else "present"
    out = run(tables, x, [code(tables, WHO, condition, "secondary", x.evidence(line, "diagnoses", told))], "CON-054")
    assert [c.code for c in out.codes] == ([condition] if kept else [])


@pytest.mark.parametrize("trigger", ["Trigger: viral upper respiratory tract infection.",
                                     "- Trigger: viral upper respiratory tract infection."])
def test_a_trigger_under_the_primary_heading_is_not_the_primary(tables, trigger):
    asthma = "Acute severe asthma - no life-threatening features."
    x = Excerpt(("primary_diagnosis", asthma), ("primary_diagnosis", trigger))
    cold = code(tables, WHO, "J00", "primary", x.evidence(trigger, "primary_diagnosis", support=0.68), score=0.7)
    severe = code(tables, WHO, "J46", "secondary", x.evidence(asthma, "primary_diagnosis", support=0.72), score=0.06)
    out = run(tables, x, [cold, severe], "SEQ-003")
    assert [c.code for c in out.codes] == ["J46", "J00"]


@pytest.mark.parametrize("lines, operation, expected", [
    # the access told in the rest of the operation's paragraph
    (["Coronary angiography + PCI to RCA.", "Access: R radial 6F, heparin 70 u/kg."], "K75.1", ["K75.1", "Y79.5"]),
    # the access the operation's own statement names, not another artery used beside it
    (["Transfemoral TAVI, right common femoral artery access.", "The left radial artery was used for the pigtail catheter."],
     "K26.2", ["K26.2", "Y79.3"]),
    # no approach through the femoral artery for an operation on the femoral artery itself
    (["Right superficial femoral artery angioplasty.", "Antegrade right common femoral artery puncture, 6 Fr sheath."],
     "L63.1", ["L63.1"]),
])
def test_the_arterial_access_of_a_transluminal_operation(nhs_tables, lines, operation, expected):
    x = Excerpt(*(("procedures", line) for line in lines))
    op = code(nhs_tables, OPCS, operation, "primary", x.evidence(lines[0], "procedures"))
    out = run(nhs_tables, x, [op], "SUP-001")
    assert [c.code for c in out.codes if c.code[0] in "KLY"] == expected


@pytest.mark.parametrize("then, expected", [
    ("Drain sited under ultrasound guidance; 1.2 litres drained.", ["T12.4", "Y53.2", "L91.2"]),
    # the rest of the paragraph tells another operation's guidance: it is not this one's
    ("Right internal jugular central line under US guidance. 1.2 litres drained.", ["T12.4", "L91.2"]),
])
def test_the_account_ends_at_a_procedure_that_is_another_operations(nhs_tables, then, expected):
    told, line = "Chest drain inserted for the effusion.", "Central line inserted."
    x = Excerpt((None, told), (None, then), ("procedures", ""), ("procedures", line))
    drain = code(nhs_tables, OPCS, "T12.4", "primary", x.evidence(told))
    central = code(nhs_tables, OPCS, "L91.2", evidence=x.evidence(line, "procedures"))
    mentions = [x.mention(m, label="PROCEDURE") for m in ("Chest drain", "central line") if m in told + then]
    out = run(nhs_tables, x, [drain, central], "SUP-001", mentions=mentions)
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("listed, named, expected", [
    # the line the suggester read from the story is the one the procedures list names, with its guidance
    ("07/04 - Right internal jugular tunnelled cuffed haemodialysis catheter under ultrasound guidance.",
     "tunnelled cuffed haemodialysis catheter", ["L91.5", "Y53.2", "X40.3"]),
    # a procedures line that names the dialysis, not the line, is not the line's
    ("07/04 - Haemodialysis started under ultrasound guidance.", "Haemodialysis", ["L91.5", "X40.3"]),
])
def test_an_operation_read_from_the_story_takes_the_guidance_its_procedures_line_tells(nhs_tables, listed, named,
                                                                                        expected):
    story = "A tunnelled line was chosen over a temporary line."
    x = Excerpt(("hpc", story), ("procedures", listed))
    line = code(nhs_tables, OPCS, "L91.5", "primary", x.evidence(story, "hpc"))
    dialysis = code(nhs_tables, OPCS, "X40.3", evidence=x.evidence(listed, "procedures"))
    mentions = [x.mention("tunnelled line", label="PROCEDURE"), x.mention(named, label="PROCEDURE")]
    out = run(nhs_tables, x, [line, dialysis], "SUP-001", mentions=mentions)
    assert [c.code for c in out.codes] == expected


def test_the_access_line_of_a_procedures_list_is_the_access_of_each_operation(nhs_tables):
    access, pci = "- Access: right radial artery, 6F. Unfractionated heparin.", "- PCI to RCA: two drug-eluting stents."
    x = Excerpt(("procedures", access), ("procedures", pci))
    op = code(nhs_tables, OPCS, "K75.1", "primary", x.evidence(pci, "procedures"))
    out = run(nhs_tables, x, [op], "SUP-001")
    assert [c.code for c in out.codes] == ["K75.1", "Y79.5"]


@pytest.mark.parametrize("access, operation, line, expected", [
    ("- Access: right femoral artery, 6F.", "K75.1", "- PCI to RCA: two drug-eluting stents.", ["K75.1", "Y79.3"]),
    ("Access: right femoral vein, three sheaths.", "K62.1", "- Cryoballoon pulmonary vein isolation.", ["K62.1"]),
    # an operation done through a vein takes no arterial access
    ("- Access: right radial artery, 6F.", "K60.6", "- Dual chamber pacemaker implanted via the left cephalic vein.",
     ["K60.6"]),
])
def test_the_access_line_reaches_only_operations_done_through_an_artery(nhs_tables, access, operation, line, expected):
    x = Excerpt(("procedures", access), ("procedures", line))
    op = code(nhs_tables, OPCS, operation, "primary", x.evidence(line, "procedures"))
    out = run(nhs_tables, x, [op], "SUP-001")
    assert [c.code for c in out.codes if c.code[0] in "KLY"] == expected


def test_a_condition_named_only_in_negated_words_is_not_coded(tables):
    """The text stage blanks negated words in what the ranker reads: "negative for influenza" names
    no influenza of the patient."""
    line = "1. Infective exacerbation of COPD - H. influenzae in sputum, viral PCR negative for influenza."
    x = Excerpt(("diagnoses", line))
    x.sentences[0] = replace(x.sentences[0], query=line.replace("for influenza", "for          "))
    out = run(tables, x, [code(tables, WHO, "J10.1", "secondary", x.evidence(line, "diagnoses"))], "CON-054")
    assert [c.code for c in out.codes] == []


def test_type_1_diabetes_named_anywhere_in_the_letter_keeps_its_ketoacidosis(tables):
    x = Excerpt(("diagnoses", "1. Diabetic ketoacidosis"), ("past_medical_history", "Type 1 diabetes since age 12."))
    out = run(tables, x, [code(tables, WHO, "E10.1", "primary", x.evidence("1. Diabetic ketoacidosis", "diagnoses"))],
              "CON-054")
    assert [c.code for c in out.codes] == ["E10.1"]


@pytest.mark.parametrize("likely, coded_codes", [
    # the fall is coded with the injury it caused, which the scan found
    (0.24, ["S06.5", "W19", "G20"]),
    # too unlikely to be the injury: the fall without an injury is not coded
    (0.05, ["G20"]),
])
def test_an_external_cause_is_coded_with_the_injury_it_explains(tables, likely, coded_codes):
    fall = "She lost her balance and fell backwards in the hallway, striking the back of her head."
    scan = "A CT head showed a 7 mm acute left frontoparietal subdural haematoma."
    x = Excerpt((None, fall), (None, scan), ("past_medical_history", "Parkinson's disease, on co-careldopa."))
    cause = code(tables, WHO, "W19", "primary", x.evidence("fell", None))
    parkinson = code(tables, WHO, "G20", evidence=x.evidence("Parkinson's disease", "past_medical_history"))
    bleed = replace(code(tables, WHO, "S06.5", "candidate", x.evidence("acute left frontoparietal subdural haematoma"),
                         score=0.0), suggest=likely)
    out = run(tables, x, [cause, parkinson], "SEQ-020", candidates=[bleed])
    assert [c.code for c in out.codes] == coded_codes
    touched = [c.code for c in out.codes + out.candidates if "SEQ-020" in c.rules]
    assert sorted(touched) == sorted(c for c in ("S06.5", "W19") if c in coded_codes or c == "W19")


def test_a_fall_stays_beside_an_injury_or_a_condition_it_may_explain(tables):
    x = Excerpt((None, "She fell at home and has an osteoporotic compression fracture of L1."))
    cause = code(tables, WHO, "W19", evidence=x.evidence("fell", None))
    for condition in ("M80.0", "S32.0"):
        coded_first = code(tables, WHO, condition, "primary", x.evidence("compression fracture of L1", None))
        out = run(tables, x, [coded_first, cause], "SEQ-020")
        assert [c.code for c in out.codes] == [condition, "W19"]


@pytest.mark.parametrize("codes, kept", [
    (["H15.2", "H33.1"], ["H33.1"]),  # the end colostomy of an abdominoperineal excision of rectum
    (["H33.1", "H15.2"], ["H33.1"]),
    (["H33.4", "H15.2"], ["H33.4", "H15.2"]),  # an anterior resection's title names no colostomy
    (["H33.1", "Y75.2"], ["H33.1", "Y75.2"]),  # a supplementary code is never an operation a title holds
    # a title names an operation in words of its own: a Hartmann's procedure's "exteriorisation of
    # bowel" is its end colostomy, its rectosigmoidectomy the sigmoid colectomy
    (["H33.5", "H15.2"], ["H33.5"]),
    (["H15.2", "H33.5"], ["H33.5"]),
    (["H33.5", "H10.2"], ["H33.5"]),
    (["H33.4", "G74.3"], ["H33.4", "G74.3"]),  # an anterior resection and anastomosis makes no stoma
])
def test_an_operation_another_code_names_in_its_title_is_part_of_it(nhs_tables, codes, kept):
    line = "Laparoscopic abdominoperineal excision of rectum with end colostomy"
    x = Excerpt(("procedures", line))
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, c, "primary" if n == 0 else "secondary", x.evidence(line, "procedures"))
                              for n, c in enumerate(codes)], "CON-071")
    assert [c.code for c in out.codes] == kept
    assert [f.rule for f in out.flags] == (["CON-071"] if kept != codes else [])


@pytest.mark.parametrize("section, line, phrase, coded, expected", [
    # an operation named in full by one of its curated index terms: coded from the candidates
    ("procedures", "2. R VATS stapled apical bullectomy + mechanical pleural abrasion", "bullectomy", [], ["E54.5"]),
    ("procedures", "Stapled bullectomy of RUL apex (2 x endostapler loads).", "Stapled bullectomy", [], ["E54.5"]),
    # the same words in a plan or the story, or a mention a suggested operation already rests on: not
    ("plan", "Stapled bullectomy of RUL apex if it recurs.", "Stapled bullectomy", [], []),
    ("hpc", "His brother had a stapled bullectomy of the RUL apex.", "stapled bullectomy", [], []),
    ("procedures", "Stapled bullectomy of RUL apex (2 x endostapler loads).", "Stapled bullectomy",
     [("E54.4", "Excision of segment of lung")], ["E54.4"]),
    # a word of the term inside a longer word names nothing
    ("procedures", "Stapled bullectomyx of RUL apex.", "Stapled bullectomyx", [], []),
    # a one-word term counts where its mention says no more than the code does
    ("procedures", "Bullectomy of RUL apex.", "Bullectomy", [], ["E54.5"]),
    ("procedures", "Robotic bullectomy of RUL apex.", "Robotic bullectomy", [], []),
    # an operation only sought, offered or judged not needed
    ("procedures", "Thoracic surgical opinion (stapled bullectomy) was sought on 05/01 but not needed.",
     "stapled bullectomy", [], []),
    # ... what another clause says not needed leaves it
    ("procedures", "Stapled bullectomy of RUL apex; pleurodesis not needed.", "Stapled bullectomy", [], ["E54.5"]),
])
def test_an_operation_named_in_full_by_an_index_term_is_coded(nhs_tables, section, line, phrase, coded, expected):
    plan = "Bullectomy if it recurs."
    x = Excerpt((section, line), ("plan", plan))
    mentions = [x.mention(phrase, section, label="PROCEDURE")]
    codes = [CodeSuggestion(OPCS.value, c, title, 1, "primary", 0.8, x.evidence(line, section)) for c, title in coded]
    # the ranker read the candidate in the plan: the statement that names it done is its evidence
    candidate = replace(code(nhs_tables, OPCS, "E54.5", "candidate", x.evidence(plan, "plan"), score=0.01), suggest=0.15)
    out = run(nhs_tables, x, codes, "CON-072", mentions=mentions, candidates=[candidate])
    assert [c.code for c in out.codes] == expected
    if "E54.5" in expected:
        assert out.codes[-1].rules == ("CON-072",) and "names the operation in full" in out.flags[0].message
        assert [e.text for e in out.codes[-1].evidence] == [line]


@pytest.mark.parametrize("lines, offered, expected", [
    # the operation note's gangrenous bowel makes the strangulated hernia the hernia with gangrene
    ([("diagnoses", "1. Strangulated right femoral hernia with small bowel obstruction"),
      ("procedures", "The loop remained black and non-viable, so 18 cm of gangrenous ileum was resected.")],
     "K41.3", "K41.4"),
    ([("diagnoses", "1. Incarcerated umbilical hernia"),
      ("procedures", "The omentum in the sac was infarcted and was excised.")], "K42.0", "K42.1"),
    # bowel that recovered, or gangrene told of something else, changes nothing
    ([("diagnoses", "1. Strangulated right femoral hernia with small bowel obstruction"),
      ("procedures", "After the ring was divided the ileum pinked up and was viable.")], "K41.3", "K41.3"),
    ([("diagnoses", "1. Strangulated right femoral hernia with small bowel obstruction"),
      ("diagnoses", "2. Dry gangrene of the left fifth toe")], "K41.3", "K41.3"),
    # a hernia not told obstructed is left to the coder: the gangrenous bowel may be another hernia's
    ([("diagnoses", "1. Right inguinal hernia"),
      ("procedures", "Small bowel resection for gangrenous ileum in the sac.")], "K40.9", "K40.9"),
    # gangrene or an infarction told of something else, or in the history, changes nothing
    ([("diagnoses", "1. Strangulated right femoral hernia with small bowel obstruction"),
      ("diagnoses", "2. Type 2 myocardial infarction on day 2 after the hernia repair")], "K41.3", "K41.3"),
    ([("diagnoses", "1. Left hydronephrosis from a 9 mm ureteric calculus"),
      ("diagnoses", "2. Urine microscopy: pus cells >100; kidney function stable.")], "N13.2", "N13.2"),
    ([("diagnoses", "1. Left hydronephrosis from a 9 mm ureteric calculus"),
      ("past_medical_history", "Infected obstructed kidney in 2019, stented.")], "N13.2", "N13.2"),
    # an obstructed kidney told infected, or drained of pus, is pyonephrosis
    ([("diagnoses", "1. Sepsis from an infected, obstructed left kidney"),
      ("diagnoses", "2. Left hydronephrosis from a 9 mm ureteric calculus")], "N13.2", "N13.6"),
    ([("diagnoses", "1. Left hydronephrosis from a 9 mm ureteric calculus"),
      ("procedures", "Left nephrostomy: frank pus aspirated from the kidney.")], "N13.2", "N13.6"),
    ([("diagnoses", "1. Left hydronephrosis from a 9 mm ureteric calculus"),
      ("procedures", "Left nephrostomy: clear urine drained.")], "N13.2", "N13.2"),
])
def test_a_feature_told_in_another_sentence_gives_its_code(nhs_tables, lines, offered, expected):
    x = Excerpt(*lines)
    out = run(nhs_tables, x, [code(nhs_tables, WHO, offered, "primary", x.evidence(lines[0][1], lines[0][0]))],
              "CON-075")
    assert [c.code for c in out.codes] == [expected]
    assert bool(out.flags) is (offered != expected)


@pytest.mark.parametrize("query, assertion", [
    # the words the text stage blanked as negated ("not gangrenous") in a sentence that names a present finding
    ("The ileum was not            , and the loop was dusky.", "present"),
    # a sentence whose every mention is negated
    ("The ileum was not gangrenous.", "negated"),
])
def test_a_feature_denied_in_another_sentence_gives_no_code(nhs_tables, query, assertion):
    x = Excerpt(("diagnoses", "1. Strangulated right femoral hernia with small bowel obstruction"),
                ("procedures", "The ileum was not gangrenous, and the loop was dusky." if assertion == "present"
                 else "The ileum was not gangrenous."))
    x.sentences[1] = replace(x.sentences[1], query=query, assertion=assertion)
    out = run(nhs_tables, x, [code(nhs_tables, WHO, "K41.3", "primary", x.evidence(x.sentences[0].query, "diagnoses"))],
              "CON-075")
    assert [c.code for c in out.codes] == ["K41.3"]


@pytest.mark.parametrize("told, offered, expected", [
    # N20's title names both of its sites ("Calculus of kidney and ureter"): the statement's site decides
    ("2. Obstructing 9 mm left proximal ureteric calculus", "N20.0", "N20.1"),
    ("2. 12 mm right renal pelvis calculus, kidney stone", "N20.9", "N20.0"),
    # the kidney a ureteric stone obstructs names no stone of the kidney (N20.2 is left to the coder)
    ("2. Obstructing 6 mm left ureteric calculus with an obstructed left kidney", "N20.1", "N20.1"),
    # a perianal abscess found on rectal examination is the anal one
    ("Perianal abscess, fluctuant on rectal examination", "K61.0", "K61.0"),
])
def test_subdivisions_whose_parent_names_them_are_told_apart(who_icd10_table, told, offered, expected):
    tables = {WHO: who_icd10_table}
    x = Excerpt(("diagnoses", told))
    out = run(tables, x, [code(tables, WHO, offered, "secondary", x.evidence(told, "diagnoses"))], "CON-011")
    assert [c.code for c in out.codes] == [expected]


@pytest.mark.parametrize("told, expected", [
    ("Complete heart block; it persisted 72 hours after her last dose, so we do not think it was caused by the "
     "bisoprolol.", ["I44.2"]),
    ("Complete heart block, not related to the bisoprolol.", ["I44.2"]),
    ("Complete heart block caused by bisoprolol.", ["I44.2", "Y51.7"]),
    ("Complete heart block; we don't think it was caused by the bisoprolol.", ["I44.2"]),
    ("Complete heart block, not bisoprolol-induced (it persisted off the drug).", ["I44.2"]),
    # a "not" further off denies nothing of the cause
    ("Complete heart block, not requiring a temporary wire, due to bisoprolol.", ["I44.2", "Y51.7"]),
])
def test_a_drug_denied_as_the_cause_is_no_adverse_effect(nhs_tables, told, expected):
    x = Excerpt(("diagnoses", told))
    mention = x.mention("Complete heart block", "diagnoses")
    out = run(nhs_tables, x, [code(nhs_tables, WHO, "I44.2", "primary", x.evidence(told, "diagnoses"))], "CON-022",
              mentions=[mention])
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("told, offered, expected", [
    ("Histology: psoriasiform epidermal hyperplasia with parakeratosis.", "N40", []),
    ("Benign prostatic hyperplasia on tamsulosin.", "N40", ["N40"]),
    # a coronary status code needs the heart: not a leg's bypass or stent
    ("Femoral-popliteal bypass was discussed and not needed.", "Z95.1", []),
    ("2. Right SFA angioplasty and stent - 14/07/2026", "Z95.5", []),
    ("Inferior MI in 2017, treated with a drug-eluting stent to the RCA.", "Z95.5", ["Z95.5"]),
    ("CABG x3 in 2015.", "Z95.1", ["Z95.1"]),
])
def test_a_condition_needs_its_organ_named(nhs_tables, told, offered, expected):
    x = Excerpt(("diagnoses", told))
    out = run(nhs_tables, x, [code(nhs_tables, WHO, offered, "secondary", x.evidence(told, "diagnoses"))], "CON-054")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("lines, operation, expected", [
    # the vena cava of a stent placed in it
    (["Stent placed across the SVC stenosis via the right femoral vein under fluoroscopic guidance."], "L79.3",
     ["L79.3", "Y53.4", "Z39.1"]),
    # the number of stents of an arterial stent operation, read from its paragraph, and the femoral artery's part
    (["Right SFA angioplasty and stent.", "Treated with one 6 x 120 mm self-expanding nitinol stent."], "L63.5",
     ["L63.5", "L76.1", "Z38.5", "Z94.2"]),
    (["Left common iliac artery stenting.", "Two 8 x 40 mm balloon-expandable stents were placed."], "L54.4",
     ["L54.4", "L76.3", "Z94.3"]),
    # the nodes of a sentinel node biopsy
    (["Left sentinel lymph node biopsy: three hot and blue nodes removed from the axilla."], "T91.1",
     ["T91.1", "Z61.3", "Z94.3"]),
    # the knee of a knee replacement; the skin of the back of a punch biopsy
    (["Right cemented TKR under spinal anaesthetic."], "W40.1", ["W40.1", "Z84.6", "Z94.2"]),
    (["4 mm punch biopsy from the upper back under local anaesthetic."], "S13.2", ["S13.2", "Z49.4"]),
    # a stent's size is no count, and a drug-eluting stent is no bare metal one (L89, left to the coder)
    (["Left common iliac artery stenting: kissing 8 x 39 mm stents."], "L54.4", ["L54.4", "Z94.3"]),
    (["Right SFA stent: one 6 x 120 mm drug-eluting stent."], "L63.5", ["L63.5", "Z38.5", "Z94.2"]),
    # the nodes of a sentinel node biopsy for a cancer of the cervix are no cervical nodes
    (["Laparoscopic pelvic sentinel lymph node biopsy for stage IB1 cervical cancer."], "T91.1", ["T91.1", "Y75.2"]),
])
def test_the_sites_and_stents_of_an_operation_follow_it(nhs_tables, lines, operation, expected):
    x = Excerpt(*(("procedures", line) for line in lines))
    op = code(nhs_tables, OPCS, operation, "primary", x.evidence(lines[0], "procedures"))
    out = run(nhs_tables, x, [op], "SUP-001")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("told, offered, expected", [
    ("Right SFA angioplasty and stent under fluoroscopic guidance.", "L63.1", "L63.5"),
    ("Left common iliac angioplasty; a covered stent was placed for a dissection.", "L54.1", "L54.4"),
    ("Right SFA plain balloon angioplasty; no flow-limiting dissection, so a stent was not required.", "L63.1", "L63.1"),
    ("Right SFA angioplasty; a stent was required for a flow-limiting dissection.", "L63.1", "L63.5"),
    # a stent already there is none placed
    ("Plain balloon angioplasty of left SFA in-stent restenosis.", "L63.1", "L63.1"),
    ("Angioplasty of the previously stented right SFA.", "L63.1", "L63.1"),
])
def test_an_angioplasty_with_a_stent_is_the_stent_insertion(nhs_tables, told, offered, expected):
    x = Excerpt(("procedures", told))
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, offered, "primary", x.evidence(told, "procedures"))], "CON-035")
    assert [c.code for c in out.codes] == [expected]


def test_the_fullest_index_term_names_the_operation(nhs_tables):
    told = "Left sentinel lymph node biopsy using isotope and blue dye."
    x = Excerpt(("procedures", told))
    m = x.mention("sentinel lymph node biopsy", "procedures", label="PROCEDURE")
    offered = [replace(code(nhs_tables, OPCS, c, "candidate", x.evidence(told, "procedures"), score=s), rank=i)
               for i, (c, s) in enumerate([("T87.8", 0.6), ("T91.1", 0.3)], 1)]
    out = run(nhs_tables, x, [], "CON-072", mentions=[m], candidates=offered)
    assert [c.code for c in out.codes] == ["T91.1"]


@pytest.mark.parametrize("lines, operation, expected", [
    # the operation's own statement names the nose
    ([("procedures", "Excision of the left nasal alar BCC with 3 mm clinical margins")], "S06.5", "E09.1"),
    ([("procedures", "Full-thickness skin graft to the nasal tip defect")], "S36.1", "E09.7"),
    ([("procedures", "Shave excision of an intradermal naevus of the nasal tip")], "S06.3", "E09.4"),
    # a statement that names no site, where the primary diagnosis places the skin lesion on the nose
    ([("diagnoses", "Nodular basal cell carcinoma, right nasal sidewall"),
      ("procedures", "I excised the lesion with 4 mm peripheral margins")], "S06.5", "E09.1"),
    # another site named, or a lesion elsewhere: chapter S stays
    ([("diagnoses", "Nodular basal cell carcinoma, right nasal sidewall"),
      ("procedures", "Cryotherapy to two actinic keratoses on the scalp")], "S10.2", "S10.2"),
    ([("procedures", "Excision of the 9 mm nodular BCC of the left temple")], "S06.5", "S06.5"),
    # the nasolabial fold is the face's skin; ALA is the photosensitiser of photodynamic therapy
    ([("procedures", "Excision of BCC, left nasolabial fold")], "S06.5", "S06.5"),
    ([("diagnoses", "Nodular basal cell carcinoma, right nasal sidewall"),
      ("procedures", "Topical 5-ALA photodynamic therapy to actinic keratoses")], "S07.1", "S07.1"),
    ([("diagnoses", "Nodular basal cell carcinoma, right nasal sidewall"),
      ("procedures", "Shave excision of a seborrhoeic keratosis, right shoulder")], "S06.4", "S06.4"),
])
def test_an_operation_on_the_skin_of_the_nose_is_the_external_noses(nhs_tables, lines, operation, expected):
    x = Excerpt(*lines)
    codes = [code(nhs_tables, OPCS, operation, "primary", x.evidence(lines[-1][1], "procedures"))]
    if lines[0][0] == "diagnoses":
        codes.insert(0, code(nhs_tables, WHO, "C44.3", "primary", x.evidence(lines[0][1], "diagnoses")))
    out = run(nhs_tables, x, codes, "CON-076")
    assert [c.code for c in out.codes if c.system == OPCS.value] == [expected]


@pytest.mark.parametrize("told, offered, expected", [
    ("Excision of the 9 mm nodular BCC of the left temple with 4 mm clinical margins", "S06.6", "S06.5"),
    ("Re-excision of the margins of the left cheek BCC (incompletely excised)", "S06.6", "S06.6"),
    ("Wide local excision of the left upper back biopsy scar with 2 cm margins", "S06.7", "S06.7"),
    ("Excision of a naevus of the left thigh with 2 mm margins", "S06.7", "S06.8"),
    # a wide local excision after an excision biopsy, and an incompletely excised lesion, are re-excisions
    ("Wide local excision of the left calf melanoma with 1 cm margins", "S06.7", "S06.7"),
    ("Excision of incompletely excised BCC, left temple, 4 mm margins", "S06.6", "S06.6"),
])
def test_the_margins_of_a_first_excision_are_no_re_excision(nhs_tables, told, offered, expected):
    x = Excerpt(("procedures", told))
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, offered, "primary", x.evidence(told, "procedures"))], "CON-077")
    assert [c.code for c in out.codes] == [expected]


@pytest.mark.parametrize("offered, expected", [
    # the stent placed at a ureteroscopic laser fragmentation is the ureteroscope's, after it
    (["M29.2", "M27.1"], ["M27.1", "M27.4"]),
    (["M29.2", "M27.4", "M27.1"], ["M27.1", "M27.4"]),
    # a stent without a ureteroscopy (beside a pyeloplasty) stays the cystoscope's
    (["M05.1", "M29.2"], ["M05.1", "M29.2"]),
])
def test_the_stent_of_a_ureteroscopy_is_the_ureteroscopes(nhs_tables, offered, expected):
    told = "Left ureteroscopy, holmium laser lithotripsy and JJ stent"
    x = Excerpt(("procedures", told))
    codes = [code(nhs_tables, OPCS, c, "primary" if i == 0 else "secondary", x.evidence(told, "procedures"))
             for i, c in enumerate(offered)]
    out = run(nhs_tables, x, codes, "CON-078")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("line, expected", [
    # the side and segment of the cerebral artery, not the side of the femoral access
    ("Mechanical thrombectomy of the left M1 segment. Right common femoral artery access under fluoroscopic guidance.",
     ["L35.4", "Y79.3", "Y53.4", "Z35.4", "Z94.3"]),
    ("Thrombectomy: R common femoral access, stent retriever x2, L M1 recanalised.",
     ["L35.4", "Y79.3", "Z35.4", "Z94.3"]),
    ("Aspiration thrombectomy of the right middle cerebral artery via the left femoral artery.",
     ["L35.4", "Y79.3", "Z35.4", "Z94.2"]),
    # an artery named without its side: the site only
    ("Mechanical thrombectomy of a basilar tip occlusion via right femoral access.", ["L35.4", "Y79.3"]),
])
def test_a_cerebral_thrombectomy_takes_the_arterys_site_and_side(nhs_tables, line, expected):
    x = Excerpt(("procedures", line))
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, "L35.4", "primary", x.evidence(line, "procedures"))],
              "SUP-001", "SUP-003")
    assert [c.code for c in out.codes] == expected


def test_the_coiling_of_a_communicating_artery_aneurysm_takes_its_site(nhs_tables):
    line = "Endovascular coiling of the left posterior communicating artery aneurysm via the right common femoral artery"
    x = Excerpt(("procedures", line))
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, "O01.2", "primary", x.evidence(line, "procedures"))],
              "SUP-001", "SUP-003")
    assert [c.code for c in out.codes] == ["O01.2", "Y79.3", "Z35.6", "Z94.3"]


@pytest.mark.parametrize("header, expected", [
    # the header line that opens the procedures section states the session's side and approach
    ("Procedure: R shoulder arthroscopy, beach chair", ["T79.1", "Y76.7", "Z94.2"]),
    ("Operation (GA): left shoulder, arthroscopic", ["T79.1", "Y76.7", "Z94.3"]),
    # a header line with no label is not the session's statement
    ("Findings: R shoulder arthroscopy, beach chair", ["T79.1", "Y76.7"]),
])
def test_a_procedures_header_line_is_the_sessions(nhs_tables, header, expected):
    step = "2. Arthroscopic supraspinatus repair - single row, two suture anchors."
    x = Excerpt(("procedures", header), ("procedures", step))
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, "T79.1", "primary", x.evidence(step, "procedures"))], "SUP-001")
    assert [c.code for c in out.codes] == expected


def test_an_operation_told_in_the_story_of_a_letter_without_a_procedures_section(nhs_tables):
    summary = "Acute L MCA territory ischaemic stroke - IV thrombolysis then mechanical thrombectomy."
    story = "- Mechanical thrombectomy 10:02-10:48, conscious sedation."
    access = "R common femoral artery access, fluoroscopic guidance."
    history = "- Mechanical thrombectomy of the right M2 in 2019 via the left radial artery."
    before = "In 2019 he had a mechanical thrombectomy of the right M2 via the left radial artery."
    x = Excerpt(("diagnoses", summary), ("hpc", story), ("hpc", access), ("past_medical_history", history),
                ("hpc", before))
    mentions = [x.mention("Mechanical thrombectomy", "diagnoses", label="PROCEDURE"),
                x.mention("- Mechanical thrombectomy 10:02", "hpc", label="PROCEDURE"),
                x.mention("mechanical thrombectomy of the right M2 via", "hpc", label="PROCEDURE")]
    mentions = [replace(m, text="Mechanical thrombectomy") for m in mentions]
    stroke = code(nhs_tables, WHO, "I63.9", "primary", x.evidence(summary, "diagnoses"))
    out = run(nhs_tables, x, [stroke, code(nhs_tables, OPCS, "L35.4", evidence=x.evidence(summary, "diagnoses"))],
              "SUP-001", mentions=mentions)
    assert [c.code for c in out.codes] == ["I63.9", "L35.4", "Y79.3", "Y53.4", "Z35.4", "Z94.3"]


@pytest.mark.parametrize("line, expected", [
    ("Postpartum anaemia secondary to acute blood loss (Hb 68 g/L on day 1)", ["O99.0", "D62"]),
    ("Iron deficiency anaemia in pregnancy: Hb 94 g/L, ferritin 8", ["O99.0", "D50.9"]),
    ("Anaemia of pregnancy, Hb 98 g/L", ["O99.0", "D64.9"]),
    # what the statement denies names no anaemia
    ("Anaemia of pregnancy, no bleeding, Hb 98 g/L", ["O99.0", "D64.9"]),
    ("Anaemia of pregnancy, not iron deficient (ferritin 80)", ["O99.0", "D64.9"]),
])
def test_an_anaemia_complicating_pregnancy_takes_the_anaemia_its_statement_names(tables, line, expected):
    x = Excerpt(("diagnoses", line))
    out = run(tables, x, [code(tables, WHO, "O99.0", "primary", x.evidence(line, "diagnoses"))], "CON-055")
    assert [c.code for c in out.codes] == expected


def test_an_anaemia_code_suggested_already_is_not_added_again(tables):
    line = "Postpartum anaemia secondary to acute blood loss"
    x = Excerpt(("diagnoses", line))
    ev = x.evidence(line, "diagnoses")
    out = run(tables, x, [code(tables, WHO, "O99.0", "primary", ev), code(tables, WHO, "D50.9", evidence=ev)], "CON-055")
    assert [c.code for c in out.codes] == ["O99.0", "D50.9"]


@pytest.mark.parametrize("section, line, expected", [
    ("discharge_summary", "She is mildly frail (Clinical Frailty Scale 5).", ["R54"]),
    ("diagnoses", "6. Frailty: Clinical Frailty Scale 6 (moderately frail), dependent for bathing.", ["R54"]),
    ("diagnoses", "- Frailty - Clinical Frailty Scale 7", ["R54"]),
    # a score alone, the frailty unit, or a relative's frailty: none
    ("discharge_summary", "Given her age, Clinical Frailty Scale of 6 and cardiac history, surgery was not offered.", []),
    ("discharge_summary", "She was admitted to our frailty unit after a fall.", []),
    ("social_history", "Lives with her husband, who is frail.", []),
    ("discharge_summary", "She is the main carer for her husband, who is very frail.", []),
    ("diagnoses", "Frailty: Clinical Frailty Scale 2 (well).", []),
    ("discharge_summary", "She is not frail (CFS 3) and walks unaided.", []),
])
def test_frailty_the_letter_states_of_the_patient_is_coded(tables, section, line, expected):
    x = Excerpt(("diagnoses", MAIN[1]), (section, line))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses"))], "HIS-001")
    assert [c.code for c in out.codes if c.code != "J18.9"] == expected


def test_an_index_term_is_named_with_a_side_between_its_words(nhs_tables):
    line = "03/05 - Incision and drainage of right quinsy under local anaesthetic"
    x = Excerpt(("procedures", line))
    m = x.mention("drainage of right quinsy", "procedures", label="PROCEDURE")
    offered = [code(nhs_tables, OPCS, "F36.3", "candidate", x.evidence(line, "procedures"), score=0.2)]
    out = run(nhs_tables, x, [], "CON-072", mentions=[m], candidates=offered)
    assert [c.code for c in out.codes] == ["F36.3"]


def test_a_procedures_header_line_gives_no_image_control_to_another_operation(nhs_tables):
    header, fistula = ("Procedure: Right IJ tunnelled dialysis catheter under ultrasound guidance.",
                       "- Left radiocephalic AV fistula (regional block).")
    x = Excerpt(("procedures", header), ("procedures", fistula))
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, "L74.2", "primary", x.evidence(fistula, "procedures")),
                              code(nhs_tables, OPCS, "L91.5", evidence=x.evidence(header, "procedures"))], "SUP-001")
    assert [c.code for c in out.codes] == ["L74.2", "Z94.3", "L91.5", "Y53.2"]


@pytest.mark.parametrize("line, expected", [
    # a graft of vein is no route: the session's radial access holds
    ("- PCI to the saphenous vein graft to OM1, one drug-eluting stent.", ["K49.4", "Y79.5"]),
    # an operation done through a vein takes no arterial access
    ("- Temporary pacing wire inserted via the right femoral vein.", ["K49.4"]),
])
def test_the_sessions_arterial_access_and_an_operation_through_a_vein(nhs_tables, line, expected):
    angio = "- Coronary angiography via the right radial artery."
    x = Excerpt(("procedures", angio), ("procedures", line))
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, "K63.6", "primary", x.evidence(angio, "procedures")),
                              code(nhs_tables, OPCS, "K49.4", evidence=x.evidence(line, "procedures"))], "SUP-001")
    assert [c.code for c in out.codes if c.code != "K63.6" and out.codes.index(c) > 1] == expected


@pytest.mark.parametrize("story, expected", [
    ("The base could not be secured through the laparoscope, so the operation was converted to open through a Lanz incision.",
     ["H01.2", "Y71.4", "Y75.2"]),
    # a denied conversion is none: the laparoscopy stays as the suggester read it
    ("The appendix was removed laparoscopically, with no conversion to open surgery.", ["T43.9", "H01.2"]),
    ("It was completed laparoscopically, without conversion to open.", ["T43.9", "H01.2"]),
])
def test_a_laparoscopic_operation_converted_to_open(nhs_tables, story, expected):
    removed = "The appendix was removed and the base was closed with a purse-string suture."
    x = Excerpt((None, "At laparoscopy she had a perforated appendix."), (None, story), (None, removed))
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, "T43.9", "primary", x.evidence("At laparoscopy")),
                              code(nhs_tables, OPCS, "H01.2", evidence=x.evidence(removed))], "CON-079")
    assert [c.code for c in out.codes] == expected
    assert ("T43.9" in [c.code for c in out.candidates]) is ("Y71.4" in expected)


@pytest.mark.parametrize("beside, expected", [
    ("H07.2", ["H07.2"]),  # a right hemicolectomy takes the appendix with the caecum
    ("J18.3", ["J18.3", "H01.2"]),  # an appendicectomy at a cholecystectomy is an operation of its own
])
def test_the_appendix_of_a_right_hemicolectomy(nhs_tables, beside, expected):
    op, appendix = "Laparoscopic operation.", "Appendix removed within the specimen."
    x = Excerpt(("procedures", op), ("procedures", appendix))
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, beside, "primary", x.evidence(op, "procedures")),
                              code(nhs_tables, OPCS, "H01.2", evidence=x.evidence(appendix, "procedures"))], "CON-080")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("condition, line, query, expected", [
    ("K70.3", "5. Moderate ascites.", None, ["K70.3", "R18"]),
    # a denied sign (the text stage blanks it in the sentence's query), or none beside a liver disease
    ("K70.3", "Ultrasound showed no ascites.", "Ultrasound showed no .", ["K70.3"]),
    ("N98.1", "5. Moderate ascites.", None, ["N98.1"]),
])
def test_ascites_beside_a_disease_of_the_liver_is_coded(tables, condition, line, query, expected):
    x = Excerpt(("diagnoses", "1. Liver disease"), ("diagnoses", line))
    if query is not None:
        x.sentences[1] = replace(x.sentences[1], query=query)
    out = run(tables, x, [code(tables, WHO, condition, "primary", x.evidence("Liver disease", "diagnoses"))], "CON-081")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("line, expected", [
    ("He was admitted nine days after cycle 3 of palliative FOLFOX chemotherapy.", ["A41.9", "D70", "Y43.3", "I10"]),
    # a neutropenia of a patient the episode tells on no chemotherapy is not the drug's
    ("He was admitted with a fever after a week of a sore throat.", ["A41.9", "D70", "I10"]),
    ("Conjunctival chemosis from her thyroid eye disease.", ["A41.9", "D70", "I10"]),  # no chemotherapy
])
def test_the_neutropenia_of_a_patient_on_chemotherapy_is_the_drugs(tables, line, expected):
    x = Excerpt(("diagnoses", "1. Neutropenic sepsis"), ("diagnoses", "2. Hypertension"), (None, line))
    codes = [code(tables, WHO, "A41.9", "primary", x.evidence("Neutropenic sepsis", "diagnoses")),
             code(tables, WHO, "D70", evidence=x.evidence("Neutropenic sepsis", "diagnoses")),
             code(tables, WHO, "I10", evidence=x.evidence("Hypertension", "diagnoses"))]
    out = run(tables, x, codes, "CON-081")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("condition, expected", [
    ("K70.3", ["K70.3", "K70.4"]),  # alcoholic hepatic failure, not K72.9 beside it
    ("K74.6", ["K74.6", "K72.9"]),  # another cirrhosis: its hepatic failure is K72's
])
def test_hepatic_encephalopathy_in_alcohol_related_liver_disease_is_k70_4(tables, condition, expected):
    line = "4. Grade 2 hepatic encephalopathy from day 2, precipitated by the bleed."
    x = Excerpt(("diagnoses", "1. Cirrhosis"), ("diagnoses", line))
    out = run(tables, x, [code(tables, WHO, condition, "primary", x.evidence("Cirrhosis", "diagnoses")),
                          code(tables, WHO, "K72.9", evidence=x.evidence(line, "diagnoses"))], "CON-081")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("line, expected", [
    ("Ruptured right tubal ectopic pregnancy with a haemoperitoneum of about 900 ml of blood and clot",
     ["O00.1", "O08.1"]),
    # an unruptured ectopic that did not bleed has no complication to add
    ("Unruptured right tubal ectopic pregnancy, no haemoperitoneum", ["O00.1"]),
    ("Unruptured right tubal ectopic pregnancy without haemoperitoneum", ["O00.1"]),
])
def test_an_ectopic_pregnancy_that_bled_takes_its_complication(tables, line, expected):
    x = Excerpt(("diagnoses", line))
    out = run(tables, x, [code(tables, WHO, "O00.1", "primary", x.evidence(line, "diagnoses"))], "CON-055")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("pregnancy, expected", [
    ("O00.1", ["O00.1", "F32.9"]),  # a pregnancy with abortive outcome: the depression keeps its own code
    ("O26.8", ["O26.8", "O99.3", "F32.9"]),
])
def test_a_condition_beside_an_ectopic_pregnancy_keeps_its_own_code(tables, pregnancy, expected):
    x = Excerpt(("diagnoses", "1. Pregnancy"), ("diagnoses", "2. Depression on sertraline"))
    out = run(tables, x, [code(tables, WHO, pregnancy, "primary", x.evidence("Pregnancy", "diagnoses")),
                          code(tables, WHO, "F32.9", evidence=x.evidence("Depression", "diagnoses"))], "CON-016")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("line, operation, assertion, coded", [
    ("We have asked the vascular team to consider treatment of the right varicose veins, possibly endovenous laser ablation.",
     "endovenous laser ablation", "uncertain", False),
    # the sentence is uncertain of the diagnosis it opens with, not of the operation done
    ("Suspected appendicitis - laparoscopic appendicectomy on 03/04.", "laparoscopic appendicectomy", "present", True),
])
def test_a_procedure_told_only_as_a_possibility_is_not_coded(nhs_tables, line, operation, assertion, coded):
    x = Excerpt((None, line))
    m = x.mention(operation, None, label="PROCEDURE", assertion=assertion)
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, "L88.1", "primary", x.evidence(line, None, "uncertain"))], "HIS-003",
              mentions=[m])
    assert ([c.code for c in out.codes] == ["L88.1"]) is coded


def test_the_operation_the_letter_calls_diagnostic_goes_after_a_therapeutic_one(nhs_tables):
    tap, ogd = "Ultrasound-guided diagnostic paracentesis: SBP excluded.", "OGD: band ligation of oesophageal varices."
    x = Excerpt(("diagnoses", tap), ("diagnoses", ogd))
    mentions = [x.mention("diagnostic paracentesis", "diagnoses", label="PROCEDURE"),
                x.mention("band ligation", "diagnoses", label="PROCEDURE")]
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, "T46.1", "primary", x.evidence(tap, "diagnoses")),
                              code(nhs_tables, OPCS, "G43.7", evidence=x.evidence(ogd, "diagnoses"))], "SEQ-004",
              mentions=mentions)
    assert [c.code for c in out.codes] == ["G43.7", "T46.1"]


@pytest.mark.parametrize("line, expected", [
    ("Procedure: Right cemented total knee replacement, 09/11/2026", []),  # a first replacement
    ("Procedure: Revision of the left total knee replacement for aseptic loosening", ["W40.3"]),
])
def test_a_revision_code_needs_a_revision_told(nhs_tables, line, expected):
    x = Excerpt(("procedures", line), ("past_medical_history", "Previous left total knee replacement (2022)."))
    ev = x.evidence(line, "procedures") + x.evidence("Previous left total knee replacement (2022).", "past_medical_history")
    out = run(nhs_tables, x, [code(nhs_tables, OPCS, "W40.3", "primary", ev)], "CON-037")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("line, expected", [
    ("She has no known drug allergies; erythromycin upsets her stomach, which she has always called an allergy, "
     "but it is an intolerance.", []),
    ("Allergic reaction to the contrast: an urticarial rash over the trunk, settled with chlorphenamine.", ["T78.4"]),
])
def test_an_allergy_unspecified_is_a_reaction_its_statement_tells(tables, line, expected):
    x = Excerpt((None, line))
    out = run(tables, x, [code(tables, WHO, "T78.4", "secondary", x.evidence(line))], "CON-013")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("line, expected", [
    ("Group B streptococcus carrier (GBS on low vaginal swab at 35 weeks) - intrapartum antibiotic prophylaxis",
     ["O80.0", "O99.8", "Z22.3"]),
    ("GBS swab at 35 weeks negative.", ["O80.0"]),
    ("GBS status unknown; IV benzylpenicillin in labour.", ["O80.0"]),
    ("GBS status: positive on a swab at 36 weeks.", ["O80.0", "O99.8", "Z22.3"]),
    ("GBS isolated from blood cultures; treated for sepsis.", ["O80.0"]),  # an infection, not a carrier
])
def test_a_group_b_streptococcus_carrier_in_pregnancy(tables, line, expected):
    x = Excerpt(("diagnoses", "1. Spontaneous vaginal delivery"), ("diagnoses", line))
    out = run(tables, x, [code(tables, WHO, "O80.0", "primary", x.evidence("Spontaneous vaginal delivery", "diagnoses"))],
              "HIS-001", "CON-081")
    assert [c.code for c in out.codes] == expected


@pytest.mark.parametrize("line, expected", [
    ("On day 3 his potassium fell to 3.0 mmol/L and it was corrected with intravenous potassium chloride.", ["E87.6"]),
    ("Potassium 3.1, replaced orally.", ["E87.6"]),
    # a result alone, or a normal one replaced, is no hypokalaemia
    ("Potassium 3.3 on admission, 4.1 the next day.", []),
    ("Potassium 3.9 (normal); magnesium replaced.", []),
    ("K+ 2.95 on day 2, replaced orally.", ["E87.6"]),
    # the saline the potassium is given in, and another result corrected, tell no low potassium
    ("Given potassium chloride 20 mmol in 0.9% saline over 8 hours.", []),
    ("Potassium 3.4, corrected calcium 2.65 mmol/L.", []),
])
def test_a_low_potassium_told_treated_is_hypokalaemia(tables, line, expected):
    x = Excerpt(("diagnoses", MAIN[1]), (None, line))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses"))], "CON-081")
    assert [c.code for c in out.codes if c.code != "J18.9"] == expected


@pytest.mark.parametrize("line, expected", [
    # a graft of an earlier episode told, with its year, in the diagnosis list
    ("4. Coronary artery disease - CABG x3 in 2017, no angina since.", ["Z95.1"]),
    # the valve this episode puts in, named in a dated line of another operation, is no status
    ("3. Coronary artery disease - grafts patent on pre-TAVI angiography (10/2025).", []),
    ("3. Three-vessel coronary artery disease - unsuitable for CABG (MDT 2025).", []),
    ("3. Ischaemic heart disease, post-CABG 2015.", ["Z95.1"]),
])
def test_a_dated_graft_in_the_diagnosis_list_is_a_status(tables, line, expected):
    x = Excerpt((None, "Admitted 03/11/2026, discharged 09/11/2026."), ("diagnoses", MAIN[1]), ("diagnoses", line))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses"))], "HIS-001")
    assert [c.code for c in out.codes if c.code != "J18.9"] == expected


@pytest.mark.parametrize("section, line, expected", [
    (None, "She was seen by the hospital specialist palliative care team on 25/11/2026.", ["Z51.5"]),
    ("procedures", "Palliative care: seen by hospital specialist palliative care team (Sr L. Pascoe) 10/03.", ["Z51.5"]),
    ("plan", "Referral made to the community palliative care team for ongoing support after discharge.", []),
    (None, "She will be seen by the palliative care team at home next week.", []),
])
def test_specialist_palliative_care_in_the_episode_is_coded(tables, section, line, expected):
    x = Excerpt(("diagnoses", MAIN[1]), (section, line))
    out = run(tables, x, [code(tables, WHO, "J18.9", "primary", x.evidence("pneumonia", "diagnoses"))], "HIS-001")
    assert [c.code for c in out.codes if c.code != "J18.9"] == expected
