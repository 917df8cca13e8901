"""What the ranker reads of a letter (:func:`clincoder.text.prepare.prepare`)."""

from __future__ import annotations

import pytest

from clincoder.core.config import TextWeights
from clincoder.text.prepare import prepare, unwrapped


def _prepared(nlp, text, weights=TextWeights()):
    return prepare(nlp(text), weights)


def test_negated_and_family_sentences_are_ranked_apart_from_the_episode(nlp):
    text = "Chest pain on exertion.\nNo evidence of pulmonary embolism.\nMother had breast cancer.\n"
    p = _prepared(nlp, text)
    episode = [text[s.start:s.end].strip() for s in p.sentences if s.coded]
    assert "Chest pain on exertion." in episode
    assert not any("embolism" in k or "breast" in k for k in episode)
    assert "embolism" not in p.document and "breast cancer" not in p.document
    # kept as the evidence of their uncoded mentions, which are queries of their own
    apart = [s for s in p.sentences if not s.coded]
    assert {s.assertion for s in apart} == {"negated", "family"} and all(s.weight == 0.0 for s in apart)
    uncoded = [q for q in p.queries if not q.coded]
    assert any("embolism" in q.text for q in uncoded) and all(q.kind == "mention" for q in uncoded)
    assert all(not p.sentences[q.owner].coded for q in uncoded)
    # the rules stage still sees every mention, with its assertion
    assert {m.assertion for m in p.mentions if "embolism" in m.text} == {"negated"}


def test_negated_mention_is_blanked_inside_a_kept_sentence(nlp):
    text = "Admitted with chest pain, pulmonary embolism ruled out.\n"
    p = _prepared(nlp, text)
    assert len(p.sentences) == 1 and "chest pain" in p.queries[0].text
    assert "embolism" not in p.queries[0].text
    assert p.sentences[0].uncoded[0].text == "pulmonary embolism" and p.queries[-1].coded is False
    s = p.sentences[0]
    assert text[s.start:s.end].startswith("Admitted")  # offsets still point into the letter


def test_sections_weigh_sentences(nlp):
    text = "Diagnoses:\n- Community acquired pneumonia\nPast medical history:\n- Hypertension\n"
    p = _prepared(nlp, text)
    by_text = {text[s.start:s.end].strip(): s for s in p.sentences}
    assert by_text["- Community acquired pneumonia"].weight > by_text["- Hypertension"].weight
    assert by_text["- Hypertension"].section == "past_medical_history"


def test_queries_are_sentences_then_their_coded_mentions(nlp):
    text = "Diagnoses:\n- Left #NOF\n- Community acquired pneumonia\n"
    p = _prepared(nlp, text)
    n = len(p.sentences)
    assert [q.text for q in p.queries[:n]] == [s.query for s in p.sentences]
    inner = p.queries[n:]
    assert inner and all(0 <= q.owner < n for q in inner)
    assert [q.owner for q in inner] == sorted(q.owner for q in inner)
    assert any("left" in q.text.lower() and "femur" in q.text.lower() for q in inner)  # expansion + laterality


def test_configured_weights_reach_the_sentences(nlp):
    text = "Past medical history:\n- Hypertension\n"
    low = TextWeights(section_weights={"past_medical_history": 0.25})
    [s] = _prepared(nlp, text, low).sentences
    assert s.weight == 0.25
    assert [q.weight for q in _prepared(nlp, text, low).queries] == [0.25, 0.25]


def _stated(p, text, procedure):
    return {text[p.sentences[i].start:p.sentences[i].end].strip() for i in p.stated(procedure)}


def test_a_headed_letter_states_what_its_headings_list(nlp):
    text = ("Diagnoses:\n- Community acquired pneumonia\nPast medical history:\n- Hypertension\n"
            "Summary:\nShe had a chest drain inserted on the ward.\n")
    p = _prepared(nlp, text)
    assert _stated(p, text, False) == {"- Community acquired pneumonia"}
    # no procedure under a heading: the narrative sentence that names one states it
    assert "She had a chest drain inserted on the ward." in _stated(p, text, True)
    assert "- Community acquired pneumonia" not in _stated(p, text, True)


def test_a_diagnosis_line_states_a_procedure_only_where_it_names_one(nlp):
    text = ("Diagnoses:\n- Right carpal tunnel syndrome\n- NSTEMI treated with coronary angioplasty\n"
            "Operation:\n- Right carpal tunnel release\n")
    p = _prepared(nlp, text)
    assert _stated(p, text, True) == {"- NSTEMI treated with coronary angioplasty", "- Right carpal tunnel release"}
    assert "- Right carpal tunnel syndrome" in _stated(p, text, False)
    # the operation list is read first, then the procedure the diagnosis list names
    first, second = (text[p.sentences[i].start:p.sentences[i].end].strip() for i in p.stated_order(True))
    assert (first, second) == ("- Right carpal tunnel release", "- NSTEMI treated with coronary angioplasty")


def test_a_procedure_listed_with_the_results_is_stated(nlp):
    text = ("Investigations:\n- Lumbar puncture on the ward: opening pressure 22 cm, CSF clear.\n"
            "- CT head: normal.\nDiagnosis:\n- Viral encephalitis\n")
    p = _prepared(nlp, text)
    assert any("Lumbar puncture" in s for s in _stated(p, text, True))
    assert not any("Lumbar puncture" in s for s in _stated(p, text, False))


def test_a_prose_letter_states_in_its_narrative(nlp):
    text = ("Mrs Smith was admitted with a lower GI bleed from diverticular disease.\n"
            "A colonoscopy on 14/07/2025 showed sigmoid diverticula.\n"
            "Other medical history:\n- Hypertension\n")
    p = _prepared(nlp, text)
    assert _stated(p, text, False) >= {"Mrs Smith was admitted with a lower GI bleed from diverticular disease."}
    assert "- Hypertension" not in _stated(p, text, False)  # the history is not the episode's statement
    assert _stated(p, text, True) == {"A colonoscopy on 14/07/2025 showed sigmoid diverticula."}


def test_an_operation_note_naming_the_condition_leaves_the_diagnoses_to_the_narrative(nlp):
    text = ("She attended for surgical management of a missed miscarriage.\n"
            "Operation:\n- Surgical management of miscarriage by vacuum aspiration\n")
    p = _prepared(nlp, text)
    assert "She attended for surgical management of a missed miscarriage." in _stated(p, text, False)
    assert _stated(p, text, True) == {"- Surgical management of miscarriage by vacuum aspiration"}


def test_a_prose_sentence_that_announces_the_diagnosis_is_marked(nlp):
    text = ("Mr Dowells was admitted with a hot swollen knee.\n"
            "Our diagnosis is acute gout of the right knee.\n"
            "Past medical history:\n- The diagnosis was hypertension in 2010.\n")
    p = _prepared(nlp, text)
    announced = {text[s.start:s.end].strip() for s in p.sentences if s.announces}
    assert announced == {"Our diagnosis is acute gout of the right knee."}


def test_a_sentence_that_names_the_cause_of_the_condition_announces_nothing():
    from clincoder.text.sections import announces_diagnosis

    assert not announces_diagnosis("We think this was a viral upper respiratory tract infection that triggered "
                                   "the attack.", None)
    assert announces_diagnosis("We think this was a viral upper respiratory tract infection.", None)
    # the conclusion a prose letter draws after the tests
    assert announces_diagnosis("With the biopsy, this confirms giant cell arteritis.", None)
    assert announces_diagnosis("We have classed this as acute idiopathic pericarditis.", None)
    assert announces_diagnosis("Putting all of this together, she has had an acute vestibular neuritis.", None)
    assert announces_diagnosis("On day two the blood cultures grew Salmonella Typhi, confirming typhoid fever.", None)
    assert announces_diagnosis("These findings confirm a diagnosis of JAK2 V617F-positive polycythaemia vera.", None)
    assert not announces_diagnosis("This is her third depressive episode.", None)
    assert not announces_diagnosis("With the biopsy, this confirms giant cell arteritis.", "past_medical_history")
    # the opening of a prose letter names what the patient came in with; an admission told in
    # passing does not
    assert announces_diagnosis("I am writing to let you know about Chloe's recent admission with diabetic "
                               "ketoacidosis.", None)
    assert announces_diagnosis("I am writing to you about Mr Fairweather's admission with a lower GI bleed.", None)
    assert not announces_diagnosis("CBGs 12-19 on admission with infection.", None)
    assert not announces_diagnosis("She was admitted with DKA once before, in 2019.", None)
    assert not announces_diagnosis("He was readmitted two days after his recent admission with pneumonia.", None)
    assert not announces_diagnosis("Following her husband's admission with COVID she was admitted with a fall.", None)


LETTER = ("Sir Edmund Carver Cancer Day Unit\nTrauma & Orthopaedics\n\n"
          "Patient: Mr A. Test    DOB: 01/01/1960    NHS No: 999 000 0000\n"
          "Consultant: Dr B. Example, Consultant in Stroke Medicine\n\n"
          "{body}"
          "Yours sincerely,\n\nDr P. Koroma, Specialty Registrar in Stroke Medicine\n")


@pytest.mark.parametrize("body", ["Dear Dr Lennox,\n\nShe was admitted with pneumonia.\n\n",
                                  "PC: cough and fever.\n\nShe was admitted with pneumonia.\n\n",
                                  "She was admitted with pneumonia.\n\n"])
def test_letterhead_and_sign_off_are_not_read(nlp, body):
    text = LETTER.format(body=body)
    kept = " ".join(text[s.start:s.end] for s in _prepared(nlp, text).sentences)
    assert "pneumonia" in kept
    assert "Cancer" not in kept and "Orthopaedics" not in kept and "Stroke" not in kept


def test_headings_above_the_salutation_are_read(nlp):
    body = ("Diagnosis: Left Bartholin's abscess (recurrent)\nOperation: Marsupialisation of left Bartholin's gland\n\n"
            "Dear Dr Lennox,\n\nShe went home the same afternoon.\n\n")
    text = LETTER.format(body=body)
    p = _prepared(nlp, text)
    sections = {s.section for s in p.sentences if "Bartholin" in text[s.start:s.end]}
    assert sections == {"diagnoses", "procedures"}
    assert "Cancer" not in p.document and "Orthopaedics" not in p.document and "Lennox" not in p.document


@pytest.mark.parametrize("line", ["Consultant: Dr Helen Marchbank, Infectious Diseases",
                                  "Cons: Mr O. Stanbridge (Trauma & Orthopaedics)", "Ward: 9, Respiratory Unit",
                                  "Specialty: Diabetes and Endocrinology"])
def test_administrative_lines_after_the_salutation_are_not_read(nlp, line):
    text = f"Dear Dr Lennox,\n\nRe: Mr A. Test\n{line}\n\nHe was treated for falciparum malaria.\nGP actions: check his blood count.\n"
    p = _prepared(nlp, text)
    assert line.split(":")[1].split()[-1] not in p.document
    assert "malaria" in p.document and "blood count" in p.document


@pytest.mark.parametrize("line, name, kept", [
    ("Re: Amelia (Millie) HARTSHORNE   DOB 22/11/2013 (12 years)   NHS No 999 517 3046", "Amelia", False),
    ("Patient: Angelina Iris PARKER, NHS number 999 123 4567", "Iris", False),
    ("Re: Amelia (Millie) HARTSHORNE", "Amelia", True),  # no identifier: the line is read as it stands
])
def test_the_line_that_identifies_the_patient_is_not_read(nlp, line, name, kept):
    """A patient's name is no clinical word, whatever it spells (amelia: absence of limbs, Q73.0)."""
    p = _prepared(nlp, f"Dear Dr Lennox,\n\n{line}\n\nShe had a slipped upper femoral epiphysis pinned.\n")
    assert (name in p.document) is kept and "slipped upper femoral epiphysis" in p.document


@pytest.mark.parametrize("sentence, team, kept", [
    ("She was under Dr Imogen Tate, Consultant in Infectious Diseases, for dengue fever.", "Infectious", "dengue"),
    ("Seen by the Registrar in Stroke Medicine, who confirmed a lacunar infarct.", "Stroke", "lacunar"),
    ("Reviewed by the consultant in Diabetes and Endocrinology for her thyrotoxicosis.", "Endocrinology", "thyrotoxicosis"),
    # a trainee's grade before the specialty, signing off without a valediction
    ("Treated for leptospirosis.\n\nDr Tom Ellery, ST4 Infectious Diseases, for Dr P Venkataraman", "Infectious", "leptospirosis"),
])
def test_a_clinicians_post_named_in_the_text_is_not_read(nlp, sentence, team, kept):
    p = _prepared(nlp, f"Dear Dr Lennox,\n\n{sentence}\n")
    assert team not in p.document and kept in p.document


def test_a_letter_without_letterhead_is_read_from_its_start(nlp):
    from clincoder.text.prepare import letterhead_end, signature_start

    text = "A 64-year-old man with a history of hypertension presented with chest pain.\n"
    assert letterhead_end(text, []) == 0 and signature_start(text) == len(text)
    assert _prepared(nlp, text).sentences[0].start == 0


@pytest.mark.parametrize("text, name", [
    ("Dear Dr Whitlow,\n\nShe was admitted with pericarditis.\n", "Whitlow"),
    ("On 22 May my colleague Dr Kwabena Mensah performed a pericardiocentesis.\n", "Mensah"),
    ("Seen by Mr O. Stanbridge, who reduced the fracture.\n", "Stanbridge"),
    ("Reviewed by Prof. Gout on the ward round; knee pain settled.\n", "Gout"),
])
def test_people_named_by_title_are_not_read(nlp, text, name):
    p = _prepared(nlp, text)
    assert p.sentences and name not in p.document
    assert not any(name in m.text for m in p.mentions)


def test_a_salutation_with_the_story_on_its_line_keeps_the_story(nlp):
    text = "Dear Dr Lennox, I saw Mrs Test today with pneumonia.\n"
    p = _prepared(nlp, text)
    assert "pneumonia" in p.document and "Lennox" not in p.document


def test_an_announcing_sentence_records_where_the_announcement_begins(nlp):
    text = "A viral illness is a common trigger, but we have classed this as acute idiopathic pericarditis.\n"
    s = _prepared(nlp, text).sentences[0]
    assert s.announces and s.announced_from == text.index("classed this as")


def test_a_heading_states_nothing(nlp):
    text = "Diagnoses\n1. Community acquired pneumonia\n\nOperation (10/02/2026)\nBronchoscopy and lavage.\n"
    letter = prepare(nlp(text), TextWeights())
    assert [s.query.strip() for s in letter.sentences] == ["1. Community acquired pneumonia", "Bronchoscopy and lavage."]
    assert [s.section for s in letter.sentences] == ["diagnoses", "procedures"]


def test_a_line_introducing_what_follows_states_nothing(nlp):
    text = ("Op 17/05/2026 (GA) - Mr Tobias Wren (ST6), Ms Okonjo-Reid present:\n"
            "Closed reduction under image intensifier, stabilised with K-wires.\n")
    kept = [text[s.start:s.end].strip() for s in _prepared(nlp, text).sentences]
    assert not any(k.startswith("Op 17/05") for k in kept) and any(k.startswith("Closed reduction") for k in kept)


@pytest.mark.parametrize("text, days", [
    ("DOB: 14/09/2026\nAdmitted: 14/10/2026\n", 30),
    # no admission date the way letters label it: the last date the letter gives
    ("DOB: 14/09/2026\nAdmitted to NSU: 14/10/2026\nDischarged: 18/11/2026\n", 65),
    ("Admitted: 14/10/2026\n", None),  # no date of birth
    ("DOB: 14/09/2026\nAdmitted: 14/10/2025\n", None),  # a date before the birth is a mistake
])
def test_the_patients_age_in_the_episode(text, days):
    from clincoder.text.prepare import age_in_episode
    assert age_in_episode(text) == days


def test_a_sentence_wrapped_over_lines_reads_as_one_line(nlp):
    text = "Diagnoses:\n1. Pneumonia\n\nShe had a right total knee\nreplacement in 2019.\nNo allergies.\n"
    flat = unwrapped(text, _prepared(nlp, text).sentences)
    assert len(flat) == len(text)  # every offset stands
    assert "total knee replacement in 2019." in flat
    assert "Diagnoses:\n1. Pneumonia\n\n" in flat and "2019.\nNo allergies." in flat  # breaks between sentences stay

