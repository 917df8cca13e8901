"""The text pipeline is built from the one config, every component declares what it assigns,
mentions are typed and serialisable, and the lexicon cache lives outside the repository."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest
from spacy.language import Language

from clincoder.text import Mention, SectionSpan, mentions_of
from clincoder.core.config import SECTION_WEIGHTS, TextWeights
from clincoder.text.model import ASSERTION_PRECEDENCE
from clincoder.text.lexicon import condition_phrase

COMPONENTS = ["clincoder_sentences", "clincoder_abbreviations", "clincoder_sections", "clincoder_mentions",
              "clincoder_context", "clincoder_attributes"]


def test_pipeline_is_built_from_the_config(nlp):
    from thinc.api import Config

    cfg = Config().from_str((files("clincoder") / "resources" / "pipeline.cfg").read_text(encoding="utf-8"))
    assert nlp.pipe_names == cfg["nlp"]["pipeline"] == COMPONENTS
    for name in COMPONENTS:
        assert nlp.get_pipe_meta(name).factory == cfg["components"][name]["factory"]


@pytest.mark.parametrize("name", COMPONENTS)
def test_component_declares_what_it_assigns(nlp, name):
    meta = Language.get_factory_meta(nlp.get_pipe_meta(name).factory)
    assert meta.assigns, f"{name} declares nothing"


def test_pipeline_analysis_has_no_missing_requirements(nlp):
    problems = nlp.analyze_pipes()["problems"]
    assert not any(problems.values()), problems


def test_mentions_are_typed_serialisable_and_offset_exact(analyse):
    text = "Diagnoses:\n1. NSTEMI\n2. Left #NOF\nFH: mother had breast cancer."
    doc = analyse(text)
    ms = mentions_of(doc)
    assert all(isinstance(m, Mention) for m in ms)
    for m in ms:
        assert text[m.start:m.end] == m.text
        assert Mention.from_dict(json.loads(json.dumps(m.to_dict()))) == m
        assert m.evidence().assertion == m.assertion
    assert all(isinstance(s, SectionSpan) for s in doc._.section_spans)
    nof = [m for m in ms if m.text == "#NOF"][0]
    assert nof.laterality == "left" and nof.section == "diagnoses" and nof.coded
    cancer = [m for m in ms if "cancer" in m.text][0]
    assert cancer.assertion == "family" and not cancer.coded
    assert TextWeights().mention(cancer.section, cancer.assertion) == 0.0


@pytest.mark.parametrize("text, fracture", [
    ("Dx: Closed L tibial shaft # (oblique)", True),
    ("Diagnosis: R wrist #.", True),
    ("1. # L neck of femur", True),
    ("Seen in bed # 4 on the ward", False),
    ("Problem #2: anaemia", False),
])
def test_hash_reads_as_fracture_before_or_after_a_word(analyse, text, fracture):
    doc = analyse(text)
    assert any(a.expansion == "fracture" for a in doc._.clin_abbreviations) == fracture


def test_mentions_of_rejects_foreign_docs():
    import spacy

    with pytest.raises(ValueError):
        mentions_of(spacy.blank("en")("text"))


def test_assertion_precedence_and_weights():
    assert ASSERTION_PRECEDENCE[0] == "family" and ASSERTION_PRECEDENCE[-1] == "present"
    assert SECTION_WEIGHTS["diagnoses"] > SECTION_WEIGHTS["differential_diagnosis"]
    assert SECTION_WEIGHTS["diagnoses"] > SECTION_WEIGHTS["past_medical_history"]


def test_differential_section_makes_mentions_uncertain(analyse):
    doc = analyse("Differential diagnosis:\n- pulmonary embolism\n- pneumonia")
    assert {m.assertion for m in doc._.mentions} == {"uncertain"}


def test_lexicon_is_large_and_cached_outside_the_repo(nlp, repo_root):
    from clincoder.core.config import cache_dir

    lex = nlp.get_pipe("clincoder_mentions").lexicon
    assert len(lex) > 50_000  # titles, inclusion terms and letter wording, not a short hand list
    assert repo_root not in cache_dir().resolve().parents
    assert list(cache_dir().glob(f"lexicon-{lex.key}.pkl"))


def test_benchmark_text_reports_rate_and_memory(tmp_path):
    from clincoder.text.benchmark import benchmark_text

    p = tmp_path / "a.txt"
    p.write_text("Diagnoses:\n1. NSTEMI\n2. AKI on CKD stage 3\nPlan: return if chest pain.", encoding="utf-8")
    res = benchmark_text([p], repeat=2)
    assert res["n_letters"] == 1 and res["letters_per_s"] > 0 and res["peak_rss_mb"] > 0
    assert res["mentions_per_letter"] >= 3


@pytest.mark.parametrize("text, mention, assertion", [
    # a negation phrase wrapped over two lines, as letters exported at a fixed width are
    ("Urine culture negative, so a UTI has\nbeen excluded.", "UTI", "negated"),
    ("There was no evidence\nof pneumonia on the chest X-ray.", "pneumonia", "negated"),
    ("The chest X-ray showed a lack\nof consolidation.", "consolidation", "negated"),  # a medspaCy default rule
    # a list before a backward negation is its subject, unless a singular verb says otherwise
    ("Lung cancer and lymphoma have been excluded on the EBUS samples.", "Lung cancer", "negated"),
    ("Pneumonia, PE and ACS were ruled out.", "Pneumonia", "negated"),
    ("Nikolsky sign negative - Stevens-Johnson syndrome / toxic epidermal necrolysis excluded.",
     "Stevens-Johnson syndrome", "negated"),  # a slash joins alternatives as "or" does
    ("Alcohol withdrawal was considered and excluded (drinks 6 units a week).", "Alcohol withdrawal", "negated"),
    ("PE was considered and ruled out.", "PE", "negated"),
    ("High-flow nasal oxygen and NIV were considered and not needed.", "NIV", "negated"),
    ("NIV was started on the ward and was needed for two days.", "NIV", "present"),
    # an operation weighed and not done, or decided against; a heading naming the decision
    ("6. Gastrostomy considered and not placed (best interests decision 17/11/2026)", "Gastrostomy", "negated"),
    ("A PEG was discussed and not pursued.", "PEG", "negated"),
    ("It was agreed that a gastrostomy would not be placed.", "gastrostomy", "negated"),
    ("6. Gastrostomy decision", "Gastrostomy", "hypothetical"),
    ("She would not be discharged before her cholecystectomy.", "cholecystectomy", "present"),
    ("Laparotomy and adhesiolysis discussed as the next step had the contrast not reached the colon.",
     "adhesiolysis", "hypothetical"),
    ("Laparoscopic cholecystectomy was performed as the next step.", "Laparoscopic cholecystectomy", "present"),
    # the reaction that makes a drug an allergy is the allergy's; a reaction of this episode is not
    ("He is allergic to clarithromycin (urticaria and lip swelling in 2020).", "urticaria", "historical"),
    ("She developed an allergic reaction to co-amoxiclav with urticaria on day 2.", "urticaria", "present"),
    # a condition of an earlier decade of life, or none for years
    ("Migraine in her twenties, none for years.", "Migraine", "historical"),
    ("In his thirties he had gout; none since.", "gout", "historical"),
    ("She has had migraine for years, worse this week.", "migraine", "present"),
    # a condition considered and not found; a problem list's verdict after a dash
    ("Marfan syndrome was considered and not found.", "Marfan syndrome", "negated"),
    ("- Sepsis considered on admission - excluded", "Sepsis", "negated"),
    ("3. ?Neutropenic sepsis day 6 - excluded", "sepsis", "negated"),
    ("- Community-acquired pneumonia (CURB-65 2) - PE excluded on CTPA", "Community-acquired pneumonia", "present"),
    # a reaction listed under the allergies is the allergy's, not a condition of this episode
    ("Allergies: aspirin - angioedema (2022).", "angioedema", "historical"),
    ("Anaemia and hypertension, and PE was excluded.", "hypertension", "present"),
    ("Lung cancer and lymphoma, the main concerns on the CT, have been excluded.", "Lung cancer", "negated"),
    ("Admitted with pneumonia, and PE and ACS were ruled out.", "pneumonia", "present"),
    # a test named after the organisms it looked for
    ("- COVID-19 and influenza PCR negative.", "COVID-19", "negated"),
    ("COVID-19 PCR positive; influenza PCR negative.", "COVID-19", "present"),
    ("MRCP showed no CBD stones.", "CBD stones", "negated"),
    ("Sepsis screen: did not meet sepsis criteria (no organ dysfunction).", "sepsis", "negated"),
    ("Sepsis screen: did not meet sepsis criteria (no organ dysfunction).", "Sepsis", "hypothetical"),
    ("- COVID-19 and influenza screen negative.", "COVID-19", "negated"),
    # a hepatitis serology over the antigens and antibodies it lists; not a test that qualifies a disease
    ("- Hepatitis B surface antigen and core antibody negative; HIV negative.", "Hepatitis B", "negated"),
    ("Hepatitis B surface antigen negative.", "Hepatitis B", "negated"),
    ("Hepatitis B surface antigen positive, hepatitis B e antibody negative.", "Hepatitis B", "present"),
    ("Community-acquired pneumonia, Legionella and pneumococcal urinary antigen negative.",
     "Community-acquired pneumonia", "present"),
    ("Seronegative myasthenia gravis (AChR antibody negative).", "myasthenia gravis", "present"),
    ("She does not meet the criteria for sepsis.", "sepsis", "negated"),
    ("His lactate was normal and he never met the criteria for sepsis.", "sepsis", "negated"),
    ("She did not fulfil the criteria for Kawasaki disease.", "Kawasaki disease", "negated"),
    ("CXR showed no consolidation, so pneumonia not confirmed.", "pneumonia", "negated"),
    ("The normal CSF also excludes meningitis.", "meningitis", "negated"),
    ("Emotionally unstable personality disorder was considered and not supported on assessment.",
     "Emotionally unstable personality disorder", "negated"),
    # a treatment the patient has at home is no procedure of this episode; one started here is
    ("- Obstructive sleep apnoea, uses CPAP at night", "CPAP", "historical"),
    ("- Obstructive sleep apnoea on CPAP (brought his machine for recovery).", "CPAP", "historical"),
    ("His obstructive sleep apnoea is well controlled on CPAP.", "CPAP", "historical"),
    ("He was started on CPAP on the ward for type 2 respiratory failure.", "CPAP", "present"),
    # what was considered and answered with a "but" was set aside
    ("We first considered scarlet fever, but the throat swab grew no group A streptococcus.", "scarlet fever", "negated"),
    ("Measles was also considered, but he is fully immunised.", "Measles", "negated"),
    ("We considered pneumonia and treated it with amoxicillin.", "pneumonia", "present"),
    # ... or named again later in the sentence to be denied
    ("We considered bronchiolitis because of his age, so we do not think this was bronchiolitis.", "bronchiolitis",
     "negated"),
    ("We also thought about an inhaled foreign body: his chest was clear, so a foreign body was not suspected.",
     "foreign body", "negated"),
    ("We thought about pneumonia and treated it with amoxicillin.", "pneumonia", "present"),
    # ... or denied by a pronoun
    ("We did consider late-onset rheumatoid arthritis as a cause of her girdle symptoms, but her rheumatoid factor "
     "is negative and there was no synovitis, so we have ruled this out.", "rheumatoid arthritis", "negated"),
    ("Ulcerative colitis was on the differential at referral, but the distribution and histology do not support it.",
     "Ulcerative colitis", "negated"),
    ("Ulcerative colitis was on the differential and the histology confirmed it.", "Ulcerative colitis", "present"),
    ("On day two there was a brief worry about cellulitis, which settled without antibiotics.", "cellulitis",
     "hypothetical"),
    ("The working diagnosis of immune thrombocytopenia (ITP) was revised to TTP once the film showed fragments.",
     "thrombocytopenia", "negated"),
    ("- HbA1c at 13 weeks postpartum, then annual screening for type 2 diabetes (GP please)", "type 2 diabetes",
     "hypothetical"),
    # the verdict after "but" reaches back over the clause to what was considered
    ("Sepsis was considered because of the lactate of 3.4 and tachycardia, but was ruled out.", "Sepsis", "negated"),
    ("Personality disorder was considered by the admitting team but was not supported on assessment.",
     "Personality disorder", "negated"),
    ("Pneumonia was considered but he has a UTI.", "Pneumonia", "negated"),  # set aside for what he has
    # the diagnosis weighed against the one made; who excluded it, said before it
    ("The main alternative we considered was generalised pustular psoriasis.", "generalised pustular psoriasis",
     "hypothetical"),
    ("CT showed a normal appendix; the surgeons excluded appendicitis and she did not need an operation.",
     "appendicitis", "negated"),
    ("We ruled out PE with a CTPA.", "PE", "negated"),
    ("Settled with fluids and caffeine; an epidural blood patch was discussed but was not needed.",
     "epidural blood patch", "negated"),
    # a dash between spaces starts a new clause; a hyphen in a word does not
    ("- No wheeze - asthma stable, steroids not needed.", "asthma", "present"),
    ("- No wheeze - asthma stable, steroids not needed.", "wheeze", "negated"),
    ("No T-cell lymphoma seen.", "lymphoma", "negated"),
    # a query settled in its own sentence
    ("- ?Pneumonia - CXR showed no consolidation, so pneumonia not confirmed", "Pneumonia", "negated"),
    ("- ?Pneumonia - CXR booked", "Pneumonia", "uncertain"),
    # ... or settled by the next sentence, which opens with the verdict on the query
    ("2. ?ACE-inhibitor angioedema - considered on arrival. EXCLUDED: clear trigger, raised tryptase.",
     "angioedema", "negated"),
    ("?PE on admission. Ruled out on CTPA.", "PE", "negated"),
    ("Pulmonary embolism on CTPA. Excluded: pneumothorax.", "Pulmonary embolism", "present"),  # stated, not queried
    ("?PE on admission. Excluded a pneumothorax on the film.", "PE", "uncertain"),
    # a new subject after ", and" starts a new clause
    ("Her chest was clear, with no sign of aspiration pneumonia, and her asthma was stable.", "asthma", "present"),
    ("No rash, cough or fever.", "fever", "negated"),
    # "without" denies the effect, not the condition it would have on
    ("She has taken ibuprofen before without any effect on her asthma.", "asthma", "present"),
    # advice against a procedure tells none done
    ("Please avoid prescribing NSAIDs or intramuscular injections.", "intramuscular injections", "negated"),
    # a diagnosis the clinician declines to make
    ("I have not made a diagnosis of Korsakoff syndrome; we will repeat testing.", "Korsakoff syndrome", "negated"),
    # a test for a condition is not a diagnosis of it; an operation "taken for" is still done
    ("Duodenal biopsies taken for coeliac disease.", "coeliac disease", "hypothetical"),
    ("She was tested for HIV.", "HIV", "hypothetical"),
    ("We also looked for infection.", "infection", "hypothetical"),
    ("An HIV test, which he was happy to have, was negative.", "HIV", "hypothetical"),
    # advice about what may happen is not what the patient has
    ("Counselled about agranulocytosis (sore throat and fever: stop carbimazole).", "agranulocytosis", "hypothetical"),
    ("She was warned about the risk of bleeding on apixaban.", "bleeding", "hypothetical"),
    ("He was taken for laparotomy.", "laparotomy", "present"),
    # a list under a "Ruled out:" heading: its conditions are negated, the tests done are not
    ("Ruled out:\n- Choledocholithiasis - MRCP showed no CBD stones\n", "Choledocholithiasis", "negated"),
    ("Ruled out:\n- Choledocholithiasis - MRCP showed no CBD stones\n", "MRCP", "present"),
    ("Excluded: PE (CTPA normal).\nPlan: anticoagulation stopped.", "PE", "negated"),
    ("Considered and excluded: thrombotic thrombocytopenic purpura (TTP); sepsis (cultures negative).\nPlan: review.",
     "sepsis", "negated"),
    # an operation given with its year is a previous one; a diagnosis with its year may be current
    ("- Left total knee replacement 2017", "total knee replacement", "historical"),
    ("He had a TURP in 2018.", "TURP", "historical"),
    ("He had an inguinal hernia repaired in 2012.", "inguinal hernia repaired", "historical"),
    ("Type 2 diabetes (diagnosed 2015)", "Type 2 diabetes", "present"),
    ("Laparoscopic cholecystectomy on 03/04/2025.", "Laparoscopic cholecystectomy", "present"),
    # the conclusion drawn from what was not found is affirmed; the alternative it sets aside is not
    ("No evidence of uveitis, so this is primary acute angle-closure glaucoma rather than a secondary glaucoma.",
     "acute angle-closure glaucoma", "present"),
    ("No evidence of uveitis, so this is primary acute angle-closure glaucoma rather than a secondary glaucoma.",
     "uveitis", "negated"),
    ("This is a viral illness rather than a bacterial pneumonia.", "bacterial pneumonia", "negated"),
    # "secondary" names a kind of what is negated; only "secondary to" ends the negation
    ("The swabs grew only skin commensals, so there was no secondary bacterial infection.", "bacterial infection",
     "negated"),
    ("No chest pain secondary to exertion; angina on the stairs.", "angina", "present"),
    # what a test went on to show ends the negation before it
    ("No fetal heart activity, and the repeat scan confirmed a missed miscarriage.", "miscarriage", "present"),
    # tests and operations arranged for later are not this episode's
    ("A sleep-deprived EEG has been requested as an outpatient.", "sleep-deprived EEG", "hypothetical"),
    # what happened in childhood is history
    ("She had a tonsillectomy\nas a child.", "tonsillectomy", "historical"),
    ("He had febrile convulsions as a toddler and none since.", "febrile convulsions", "historical"),
    ("She will have a colonoscopy in six weeks.", "colonoscopy", "hypothetical"),
    ("The vascular surgeons have listed him for a left carotid endarterectomy.", "carotid endarterectomy", "hypothetical"),
    ("The transition team is planning his routine urodynamic studies for the spring.", "urodynamic studies",
     "hypothetical"),
    ("We have advised a planned caesarean section in any future pregnancy.", "pregnancy", "hypothetical"),
    # the patient's own care at home is no operation of the episode
    ("He has a neurogenic bladder, which he manages with clean intermittent self-catheterisation.",
     "catheterisation", "historical"),
    ("- Palliative chemotherapy: cycle 3 deferred by one week.", "chemotherapy", "hypothetical"),
    # an operation offered or declined is not done; a condition a test looks for is not found by it
    ("Vertebroplasty was offered at the spinal MDT; she declined and prefers conservative care.",
     "Vertebroplasty", "hypothetical"),
    ("She declined a hip replacement.", "hip replacement", "negated"),
    ("Thrombophilia testing has been deferred.", "Thrombophilia", "hypothetical"),
    # a history heading the lexicon knows in more ways
    ("Other medical history:\n- Hypertension\n", "Hypertension", "present"),
    # a condition looked for and not found
    ("I looked carefully for endometriosis: there was none in the pelvis.", "endometriosis", "hypothetical"),
    ("She has a latex allergy (urticaria after dental treatment in 2019), so a latex-free theatre was used.",
     "urticaria", "historical"),
    ("The radiologist raised the possibility of adenomyosis.", "adenomyosis", "uncertain"),
    ("The MRI showed nothing to suggest MS.", "MS", "negated"),
    # with a short aside between; "nothing but" is no denial
    ("There was nothing before or during surgery to suggest prostate cancer.", "prostate cancer", "negated"),
    ("Nothing but the CT was done to suggest a stroke.", "stroke", "present"),
    ("There was nothing other than a raised CRP to suggest infection.", "infection", "present"),
    ("Nothing besides the raised troponin to suggest an acute coronary syndrome.", "acute coronary syndrome", "present"),
    ("Urine protein:creatinine ratio 18, so pre-eclampsia was not suspected.", "pre-eclampsia", "negated"),
    # what treatment in this episode resolved is this episode's
    ("2. Complete heart block complicating the inferior STEMI - resolved on reperfusion.", "inferior STEMI", "present"),
    # a label before a list of conditions ruled out
    ("Excluded this admission: spontaneous bacterial peritonitis, hepatocellular carcinoma, portal vein thrombosis",
     "portal vein thrombosis", "negated"),
    ("She coughed once and aspiration pneumonia was raised as a possibility.", "aspiration pneumonia", "uncertain"),
    ("With the hallucinations, Lewy body dementia was raised by the junior team.", "Lewy body dementia", "uncertain"),
    ("With the hallucinations, Lewy body dementia was raised by the junior team.", "hallucinations", "present"),
    # a query settled just after it is ruled out; a denial of another time settles nothing
    ("Aspiration pneumonia was raised as a possibility. SALT found a safe swallow. This was not an aspiration "
     "pneumonia.", "Aspiration pneumonia", "negated"),
    ("Admitted with ?pulmonary embolism.\nShe was anticoagulated.\nHer chest was clear.\nHer sats improved.\nHer "
     "previous CTPA in 2020 showed no PE.", "pulmonary embolism", "uncertain"),
    # positive results, and a bracket that is not the panel, stay the patient's
    ("Biopsies taken from the antrum were positive for Helicobacter pylori.", "Helicobacter pylori", "present"),
    ("1. Community acquired pneumonia (CURB-65 2) - blood cultures (x2): negative.", "Community acquired pneumonia",
     "present"),
    ("Mycoplasma serology strongly positive despite normal white cell count.", "Mycoplasma", "present"),
    ("He had a right hemicolectomy, which has been complicated by an anastomotic leak.", "hemicolectomy", "present"),
    # samples taken to look for a condition, with where they came from between
    ("Four biopsies from D2 and one from the bulb for coeliac disease.", "coeliac disease", "hypothetical"),
    # a serology found negative, its details in brackets; a panel in brackets, all negative
    ("Coeliac serology (tTG IgA) was negative with a normal total IgA.", "Coeliac", "negated"),
    ("Resp viral PCR (SARS-CoV-2, influenza A/B, RSV): negative.", "influenza", "negated"),
    ("Lupus anticoagulant and anticardiolipin antibodies were negative.", "Lupus anticoagulant", "negated"),
    # a diagnosis put forward, then ruled out in other words for the same condition
    ("Alcohol-related hepatitis was considered because of the bilirubin, but the picture is of established "
     "cirrhosis rather than alcoholic hepatitis.", "Alcohol-related hepatitis", "negated"),
    ("Sepsis was considered on arrival.", "Sepsis", "uncertain"),
    ("The rash was considered to be eczema.", "eczema", "present"),
    ("The fall was considered mechanical.", "fall", "present"),
    ("Following her NSTEMI she was considered for angiography.", "NSTEMI", "present"),
    # what the patient was taught to do is no operation of the episode
    ("Catheter on free drainage to a leg bag, catheter care taught, DN referral done.", "catheter care", "hypothetical"),
    # a paragraph's label takes the verdict the paragraph gives of it
    ("Asthma: a GP label of possible asthma from age 14. Spirometry was normal. Asthma is excluded.", "Asthma",
     "negated"),
    ("Asthma: well controlled on inhalers. No wheeze this admission.", "Asthma", "present"),
    ("Hypokalaemia: K 2.9 on admission, replaced. No hypokalaemia on discharge bloods.", "Hypokalaemia", "present"),
    # a diabetic's "hypos", told present or denied
    ("Glargine increased from 14 to 18 units. No hypos. Back to 16 units at discharge.", "hypos", "negated"),
    ("He has had two hypos this week, both at night.", "hypos", "present"),
    # a new subject after ", and" starts the clause a negation before it does not reach
    ("Osmolalities were not typical of SIADH, and we put this down to post-operative hyponatraemia.",
     "hyponatraemia", "present"),
    # the reason for an operation of an earlier episode belongs to that episode
    ("Her caesarean section in September 2025 was for a breech presentation.", "breech presentation", "historical"),
    ("She had a cholecystectomy in 2019 for gallstones and now has pancreatitis.", "pancreatitis", "present"),
    ("We performed a laparoscopic cholecystectomy for gallstones.", "gallstones", "present"),
    ("She had finished a course of co-amoxiclav for acute sinusitis three weeks before.", "acute sinusitis",
     "historical"),
    ("She was started on a course of co-amoxiclav for pneumonia.", "pneumonia", "present"),
    # a treatment the condition came after was done before
    ("Urothelial carcinoma of the bladder, after neoadjuvant chemotherapy.", "chemotherapy", "historical"),
    # a test done at an outpatient visit before this spell is that attendance's
    ("Ultrasound-guided fine needle aspiration in clinic gave Thy3f cytology.", "needle aspiration", "historical"),
    ("Her vocal cords were mobile on flexible nasendoscopy at her pre-operative clinic visit.",
     "flexible nasendoscopy", "historical"),
    # a scar the examination finds well healed is no condition; the operation that left it is earlier
    ("R hip: full painless ROM, scar well healed, no effusion.", "scar", "negated"),
    ("There is a well-healed midline laparotomy scar.", "laparotomy", "historical"),
    ("Midline laparotomy and right iliac fossa scars intact, with no incisional hernia.", "laparotomy", "historical"),
    # an operation to be weighed later, or a test that could not be done, is not this episode's
    ("We will see him in clinic, when tonsillectomy will be considered and discussed with him.", "tonsillectomy",
     "hypothetical"),
    # a surveillance the patient needs from now on; a toxin test and a screen that found nothing
    ("She needs yearly surveillance colonoscopy under the hepatology clinic.", "surveillance colonoscopy",
     "hypothetical"),
    ("Stool: Clostridioides difficile GDH and toxin negative.", "Clostridioides difficile", "negated"),
    ("Infliximab was given after a negative screen (QuantiFERON, hepatitis B and C, HIV).", "hepatitis B", "negated"),
    # ... not past the screen's list, nor a toxin test's word back to the infection it types
    ("Negative screen for HIV and hepatitis; she was treated for community acquired pneumonia.",
     "community acquired pneumonia", "present"),
    ("Clostridioides difficile infection (GDH positive, toxin negative, PCR positive), treated with vancomycin.",
     "Clostridioides difficile", "present"),
    ("If the arrhythmia recurs we may consider a repeat ablation.", "ablation", "hypothetical"),
    ("Nerve conduction studies could not be done during the admission.", "Nerve conduction studies", "negated"),
    # a judgement of an operation done; this episode's wounds
    ("The cardioversion can be considered successful.", "cardioversion", "present"),
    ("The hemiarthroplasty would be considered the standard of care and went ahead on 12/03.", "hemiarthroplasty",
     "present"),
    ("Post-op: laparoscopic cholecystectomy, port site scars clean and dry on day 1.", "laparoscopic cholecystectomy",
     "present"),
    ("Nerve conduction studies were done during the admission.", "Nerve conduction studies", "present"),
    # a new subject after a comma, or what followed, ends a negation before it
    ("In AF for over 48 hours without anticoagulation, he had a transoesophageal echo.", "transoesophageal echo",
     "present"),
    ("The TOE showed no left atrial appendage thrombus, followed straight away by DC cardioversion.",
     "DC cardioversion", "present"),
    ("Without anticoagulation, a transoesophageal echo was not safe.", "transoesophageal echo", "negated"),
    # how long a condition has gone on tells of a current one; a history of one is past
    ("Jacob has a four-year history of anorexia nervosa, with a marked deterioration.", "anorexia nervosa",
     "present"),
    ("He has a 10 year history of ulcerative colitis, now flaring.", "ulcerative colitis", "present"),
    ("She gave a long-standing history of depression, treated by her GP.", "depression", "present"),
    ("She has a history of depression.", "depression", "historical"),
    # how the patient was ("no better") denies nothing; a negation after "so" opens its own scope
    ("After 48 hours she was no better, so on 26 March I took her to theatre for a laparoscopy.", "laparoscopy",
     "present"),
    ("The pregnancy test was negative, so an ectopic pregnancy was excluded.", "ectopic pregnancy", "negated"),
    ("He had no urinary symptoms, so this was not treated as a urinary tract infection.",
     "urinary tract infection", "negated"),
    ("Her neck was supple, so meningitis and encephalitis were not thought likely.", "encephalitis", "negated"),
    ("Bicarbonate 21, so this was not diabetic ketoacidosis.", "diabetic ketoacidosis", "negated"),
    ("The sore throat was no worse but the trismus was new.", "sore throat", "present"),
    # a test that did not find its targets, a condition said to be absent, an infection eradicated
    ("SARS-CoV-2 / influenza / RSV PCR not detected.", "influenza", "negated"),
    ("Influenza A detected on PCR.", "Influenza", "present"),
    ("4. COPD - NOT present. He smokes.", "COPD", "negated"),
    ("H. pylori gastritis 2019 - eradicated, breath test negative afterwards.", "gastritis", "historical"),
    # what was done because of what failed is a new clause; a negation after "so" opens its own
    ("He could not complete his meal plan, so a nasogastric tube was inserted.", "nasogastric tube", "present"),
    ("He could not tolerate a nasogastric tube, so far.", "nasogastric tube", "negated"),
    ("Cultures showed no growth, so no UTI was treated.", "UTI", "negated"),
    # what the patient never needed was not done; what was needed was
    ("She never needed high-flow or CPAP.", "CPAP", "negated"),
    ("She needed CPAP overnight and never needed intubation.", "CPAP", "present"),
    # an operation joined to "post-" dates what followed it; a transfusion or a test so joined does not
    ("Dx: Secondary post-tonsillectomy haemorrhage, R tonsillar fossa, day 7.", "tonsillectomy", "historical"),
    ("Two units transfused; post-transfusion Hb 81.", "transfusion", "present"),
    # consent for an operation, whoever gave it, is no account of the operation done
    ("Consented (mum + Callum) for scrotal exploration, detorsion +/- orchidectomy.", "orchidectomy",
     "hypothetical"),
    ("Scrotal exploration (under GA): detorsion, testis viable, no orchidectomy.", "Scrotal exploration",
     "present"),
    # what a condition only resembles is not it
    ("Wheezes only with colds, asthma-like attacks but no interval symptoms.", "asthma", "hypothetical"),
    ("Known asthma, well controlled.", "asthma", "present"),
    ("Exacerbation of COPD - like her previous admissions.", "Exacerbation of COPD", "present"),
    # a suspicion told after the condition, and a question the findings raised or did not bear out
    ("Glaucoma was suspected by his optometrist in 2025 because of large cups.", "Glaucoma", "uncertain"),
    ("Fever raised the question of osteomyelitis.", "osteomyelitis", "uncertain"),
    ("A DVT was suspected and confirmed on Doppler.", "DVT", "present"),
    ("The chest X-ray was clear, so the question of an aspiration pneumonia raised in ED was not supported.",
     "aspiration pneumonia", "negated"),
    # a condition expected later, a test a later review will use, a breathing exercise
    ("Cataract in the right eye is likely to develop after vitrectomy.", "Cataract", "hypothetical"),
    ("He developed a cataract.", "cataract", "present"),
    ("Not diagnosed as asthma yet; likely to be reassessed at 5 years with spirometry.", "spirometry", "hypothetical"),
    ("Spirometry showed an FEV1 of 60% predicted.", "Spirometry", "present"),
    ("Nasal oxygen, incentive spirometry and chest physiotherapy.", "spirometry", "hypothetical"),
])
def test_letter_negation_phrasing(analyse, text, mention, assertion):
    found = {m.text: m.assertion for m in mentions_of(analyse(text))}
    assert found[mention] == assertion, found


@pytest.mark.parametrize("letter_word, title_word", [
    ("emboli", "embolism"), ("embolus", "embolism"), ("calculi", "calculus"), ("bronchi", "bronchus"),
    ("staphylococci", "staphylococcus"), ("vertebrae", "vertebra"), ("diverticula", "diverticulum"),
    ("metastases", "metastasis"), ("haemorrhages", "hemorrhage"), ("polyps", "polyp"),
])
def test_letter_plurals_meet_the_title_words(letter_word, title_word):
    from clincoder.core.words import norm

    assert norm(letter_word) == norm(title_word)


@pytest.mark.parametrize("word", ["sepsis", "mini", "crisis", "abscess", "kiwi"])
def test_normalisation_leaves_other_words_alone(word):
    from clincoder.core.words import norm

    assert norm(word) == word


def test_latin_plural_in_a_letter_is_a_diagnosis_mention(analyse):
    ms = mentions_of(analyse("Our diagnosis is bilateral pulmonary emboli, provoked by the pill."))
    assert [(m.text, m.label) for m in ms if "emboli" in m.text] == [("pulmonary emboli", "DIAGNOSIS")]


def test_curated_index_terms_of_two_words_or_more_are_mentions(analyse):
    ms = mentions_of(analyse("OGD with endoscopic haemostasis: adrenaline injection and two haemostatic clips."))
    assert {(m.text, m.label) for m in ms} >= {("adrenaline injection", "PROCEDURE"), ("haemostatic clips", "PROCEDURE"),
                                              ("endoscopic haemostasis", "PROCEDURE")}


@pytest.mark.parametrize("text, mention", [
    ("2. Acute alcohol intoxication on arrival", "alcohol intoxication"),
    ("Decompensated alcohol related cirrhosis with ascites.", "alcohol related cirrhosis"),
    ("Opioid induced constipation, on laxatives.", "Opioid induced constipation"),
    ("On a background of diabetic peripheral arterial disease.", "diabetic peripheral arterial disease"),
])
def test_the_cause_of_a_condition_is_part_of_its_name(analyse, text, mention):
    """An index term whose extra word is the cause names its own code ("alcohol intoxication" F10.0,
    not an intoxication; "diabetic peripheral arterial disease" E1x.5)."""
    assert mention in {m.text for m in mentions_of(analyse(text))}


@pytest.mark.parametrize("text, mention", [
    ("R pelviureteric junction (PUJ) obstruction - intrinsic narrowing", "pelviureteric junction (PUJ) obstruction"),
    ("Left PUJ obstruction for pyeloplasty.", "PUJ obstruction"),
    ("Lentigo maligna melanoma, left cheek, pT1a.", "Lentigo maligna melanoma"),
    ("Lentigo maligna (melanoma in situ) completely excised.", "Lentigo maligna"),
])
def test_a_condition_named_by_its_site_or_its_morphology_is_one_mention(analyse, text, mention):
    """Letter wording whose words would each be a mention of their own ("obstruction", "lentigo",
    "melanoma") names one condition (N13.0; C43, a melanoma, not a lentigo L81.4)."""
    assert mention in {m.text for m in mentions_of(analyse(text))}


def test_alcohol_related_reads_as_the_classifications_alcoholic(analyse):
    found = {m.text: m.canonical for m in mentions_of(analyse("2. Alcohol-related cirrhosis, Child-Pugh B."))}
    assert found["Alcohol-related cirrhosis"] == "alcoholic cirrhosis"


@pytest.mark.parametrize("text, mention", [
    ("The ECG showed a delta wave, confirming a Wolff-Parkinson-White pattern.", "Wolff-Parkinson-White pattern"),
    ("An ECG showed Wolff-Parkinson-White-type pre-excitation.", None),
])
def test_a_name_inside_a_hyphenated_name_is_not_a_mention(analyse, text, mention):
    texts = {m.text for m in mentions_of(analyse(text))}
    assert not any(t.lower() == "parkinson" for t in texts)
    assert mention is None or mention in texts


@pytest.mark.parametrize("text, mention, label", [
    ("Renal ultrasound: mild right pelvicalyceal dilatation in keeping with pregnancy.", "pelvicalyceal dilatation", "FINDING"),
    ("CT: small bowel dilatation with a transition point.", "small bowel dilatation", "FINDING"),
    ("OGD and balloon dilatation of the oesophageal stricture.", "OGD and balloon dilatation", "PROCEDURE"),
])
def test_a_dilatation_seen_on_imaging_is_a_finding_not_the_operation(analyse, text, mention, label):
    assert (mention, label) in {(m.text, m.label) for m in mentions_of(analyse(text))}


@pytest.mark.parametrize("text, mention, label", [
    ("1. Holmium laser cystolitholapaxy", "cystolitholapaxy", "PROCEDURE"),  # a one-word operation (-lapaxy)
    ("Irrigation and closure of the 4 cm left parietal scalp laceration with sutures.", "closure", "PROCEDURE"),
    ("Left upper lid biopsy under local anaesthetic.", "biopsy", "PROCEDURE"),  # a lid's: not only a closure's words
    ("Endoscopic bipolar electrocautery of the L Little's area vessel.", "electrocautery", "PROCEDURE"),
    ("She was thrombolysed with alteplase.", "thrombolysed", "PROCEDURE"),
    ("IV alteplase 0.9 mg/kg at 11:51.", "IV alteplase", "PROCEDURE"),
])
def test_operations_written_in_one_word_or_by_their_drug_are_mentions(analyse, text, mention, label):
    assert (mention, label) in {(m.text, m.label) for m in mentions_of(analyse(text))}


@pytest.mark.parametrize("text, word", [("Renal dietitian review: low potassium diet sheet.", "potassium"),
                                        ("Advised a low-salt diet.", "salt"),
                                        # the eyes' fixation is no fixation of a bone
                                        ("Left-beating nystagmus, suppressed by fixation.", "fixation"),
                                        # the table a fracture is reduced on is no traction of the spine
                                        ("Closed reduction on the traction table and fixation with a dynamic hip screw.", "traction"),
                                        # a closure a body part makes is no operation
                                        ("Exposure keratopathy from the incomplete eye closure.", "closure"),
                                        ("Spontaneous closure of the ductus arteriosus on day 4.", "closure")])
def test_a_phrase_that_names_nothing_takes_its_words(analyse, text, word):
    """"a low potassium diet" is advice, not hypokalaemia: the phrase takes the words and names nothing."""
    assert not any(word in m.text.lower() for m in mentions_of(analyse(text)))


def test_low_potassium_stated_alone_is_still_a_condition(analyse):
    assert any("potassium" in m.text.lower() for m in mentions_of(analyse("Low potassium on admission, replaced.")))


def test_an_ecg_finding_is_not_a_mood_disorder(analyse):
    ms = mentions_of(analyse("ECG showed ST depression in V4-V6 and a raised troponin."))
    assert ("ST depression", "FINDING") in {(m.text, m.label) for m in ms}
    assert not any(m.text.lower() == "depression" for m in ms)


@pytest.mark.parametrize("heading", ["Other medical history", "Obstetric history", "Gynaecological history",
                                     "Past medical and obstetric history"])
def test_history_headings(analyse, heading):
    found = {m.text: m.section for m in mentions_of(analyse(f"{heading}:\n- Hypertension\n"))}
    assert found["Hypertension"] == "past_medical_history"


@pytest.mark.parametrize("heading, section", [("Diagnoses on discharge", "diagnoses"), ("Diagnosis at discharge", "diagnoses"),
                                              ("Problems this admission", "diagnoses"), ("Meds on D/C", "medications"),
                                              ("Ward course", "discharge_summary"),
                                              # what was done in hospital, not what is planned
                                              ("Treatment", "discharge_summary"), ("Management", "discharge_summary"),
                                              ("Management plan", "plan"), ("Post-operative plan", "plan"),
                                              ("Post-op plan", "plan"), ("Post-operative course", "discharge_summary"),
                                              # the team's conclusion after the story
                                              ("Assessment", "diagnoses"), ("Conclusion", "diagnoses"),
                                              ("Assessment and plan", "plan"), ("Assessment & plan", "plan"),
                                              # how the episode ended; how an injury happened; what was found on arrival
                                              ("Outcome", "discharge_summary"), ("Recovery", "discharge_summary"),
                                              ("Mechanism", "hpc"), ("On arrival", "examination"),
                                              ("Medicines on discharge", "medications")])
def test_heading_word_variants(analyse, heading, section):
    found = {m.text: m.section for m in mentions_of(analyse(f"{heading}:\n- Hypertension\n"))}
    assert found["Hypertension"] == section


def test_a_variant_written_under_another_section_stays_there():
    from clincoder.text.sections import header_variants, section_rules

    assert "diagnoses on d/c" in header_variants("diagnosis on discharge", [("diagnosis", "diagnoses"), ("discharge", "d/c")])
    assert "differential diagnoses" not in section_rules()["diagnoses"]


@pytest.mark.parametrize("heading", ["Procedure 14/06/2025:", "Operation on 3/7/25 -", "Procedure (14/06/2025):",
                                     "Op 21/08/2025 (GA):", "Op 16/01/2025:"])
def test_a_dated_heading_is_still_a_heading(analyse, heading):
    found = {m.text: m.section for m in mentions_of(analyse(f"{heading}\nLaparoscopic cholecystectomy\n"))}
    assert found["Laparoscopic cholecystectomy"] == "procedures"


@pytest.mark.parametrize("text, word", [("Respiratory rate 22, saturations 95% on air.", "Respiratory"),
                                        ("CT: a 4 cm fluid collection in the pelvis.", "collection"),
                                        ("MRI: metastatic cord compression at T10.", "compression"),
                                        ("Stereotactic radiosurgery to the metastasis.", "Stereotactic"),
                                        ("Tamsulosin 400 micrograms OD.", "micrograms")])
def test_a_word_from_a_procedure_title_is_no_procedure_alone(analyse, text, word):
    assert not any(m.label == "PROCEDURE" and m.text == word for m in mentions_of(analyse(text)))


def test_procedure_phrases_keep_procedure_nouns():
    from clincoder.text.lexicon import procedure_phrase

    assert procedure_phrase(("transfusion",), set()) and procedure_phrase(("respiratory", "ventilation"), set())
    assert not procedure_phrase(("respiratory",), set()) and not procedure_phrase(("liner",), {("liner",)})


def test_an_inline_heading_heads_its_paragraph_only(analyse):
    text = ("Diagnosis: left carotid territory TIAs due to carotid stenosis.\n\n"
            "We admitted him because of the crescendo pattern. His other conditions are hypertension.\n\n"
            "Allergies: none known.\n\nHe has been told not to drive.\n")
    found = {m.text: m.section for m in mentions_of(analyse(text))}
    assert found["stenosis"] == "diagnoses"
    assert found["hypertension"] is None  # the story after the statement's paragraph


@pytest.mark.parametrize("text, mention, section", [
    # a heading alone on its line heads everything to the next heading, blank lines included
    ("Diagnoses:\n1. Pneumonia\n\n2. Hypertension\n", "Hypertension", "diagnoses"),
    # a paragraph under a heading line the rules do not know is more of the letter's structure
    ("Dx: Inferior STEMI\n\nPPCI 17/06/2025 (R radial access):\n- Hypertension noted\n", "Hypertension", "diagnoses"),
    # two headings joined on one line: the first names the section
    ("Primary diagnosis\nDorsal ganglion of the left wrist\n\nSecondary diagnoses / comorbidities\n- Asthma\n",
     "Asthma", "secondary_diagnoses"),
    ("Allergies and intolerances\n- Latex - urticaria\n", "urticaria", "allergies"),
    # a document's title is no heading ("Operation Note and Day Case Discharge Summary")
    ("Operation Note and Day Case Discharge Summary\nAsthma\n", "Asthma", None),
    # the recovery after an operation ends the allergies that come before it
    ("ALLERGIES AND INTOLERANCES\n- Tramadol: hallucinations\n\nPOST-OPERATIVE COURSE\nPain controlled with oral "
     "morphine.\n", "Pain", "discharge_summary"),
    # a heading indented under a problem of a numbered list heads its indented lines only: the
    # list goes on at the next problem
    ("She was admitted with a cough. Her problems this admission were:\n\n1. Pneumonia.\n   Treatment: IV co-amoxiclav for 5 days.\n\n"
     "2. Steroid-induced hyperglycaemia.\n\n3. Hypothyroidism.\n", "hyperglycaemia", "diagnoses"),
    ("She was admitted with a cough. Her problems this admission were:\n\n1. Pneumonia.\n   Treatment: IV co-amoxiclav for 5 days.\n\n"
     "2. Steroid-induced hyperglycaemia.\n\n3. Hypothyroidism.\n", "Hypothyroidism", "diagnoses"),
    # a heading written in a list item with its statement heads that item only: the next item is
    # the list's section again
    ("Other history\n- Asthma, well controlled.\n- Allergies: none known.\n- Smokes 10 cigarettes a day.\n",
     "Smokes 10 cigarettes a day", "past_medical_history"),
    ("Other history\n- Asthma, well controlled.\n- Allergies: penicillin (rash).\n", "rash", "allergies"),
    # a heading alone on its item's line heads the items after it
    ("Other history\n- Allergies:\n- Penicillin (rash).\n", "rash", "allergies"),
    # a list the heading goes on with; an item in lower case goes on with it
    ("Background\n- Asthma.\n- Family history: mother had breast cancer\n- Sister with ovarian cancer\n",
     "cancer", "family_history"),
    ("Background\n- Asthma.\n- Allergies: penicillin (rash)\n- Co-amoxiclav (urticaria)\n", "urticaria", "allergies"),
    ("Background\n- Asthma.\n- Hypertension: amlodipine\n- ramipril stopped (cough)\n", "cough", "past_medical_history"),
])
def test_what_stays_under_a_heading(analyse, text, mention, section):
    found = {m.text: m.section for m in mentions_of(analyse(text))}
    assert found[mention] == section


@pytest.mark.parametrize("sentence, assertion", [
    ("Laparoscopic sigmoid colectomy on 12/05/2025.", "historical"),  # before this attendance
    ("Core biopsy (08/2025) confirmed the diagnosis.", "historical"),
    ("Laparoscopic sigmoid colectomy on 04/09/2025.", "present"),  # this episode
    ("Laparoscopic sigmoid colectomy today.", "present"),
])
@pytest.mark.parametrize("header", ["Attendance: 04/09/2025 (day case)", "Adm/Disch: 04/09/2025 (day case)"])
def test_a_procedure_dated_before_the_admission_is_history(analyse, sentence, assertion, header):
    text = f"{header}\n\nDiagnosis: colon cancer.\n{sentence}\n"
    found = {m.text.lower(): m.assertion for m in mentions_of(analyse(text)) if m.label == "PROCEDURE"}
    assert assertion in found.values() and set(found.values()) == {assertion}, found


@pytest.mark.parametrize("text, word, kept", [
    ("Our diagnosis is acute gout of the right knee.", "diagnosis", False),
    ("She had drunk about four units of alcohol the evening before.", "alcohol", False),
    ("Surgical management by vacuum aspiration.", "aspiration", False),
    ("Admitted with alcohol withdrawal.", "alcohol withdrawal", True),  # a phrase holding the word
    ("Aspiration pneumonia, treated with antibiotics.", "Aspiration pneumonia", True),
])
def test_a_word_from_a_diagnosis_title_is_no_condition_alone(analyse, text, word, kept):
    found = {m.text for m in mentions_of(analyse(text)) if m.label in ("DIAGNOSIS", "FINDING")}
    assert (word in found) is kept, found


def test_cataract_surgery_is_an_operation_not_a_cataract(analyse):
    # ICD-10-CM titles ("... following cataract surgery") had made the phrase a diagnosis
    found = {m.text: m.label for m in mentions_of(analyse("Past medical history:\n- Cataract surgery, both eyes\n"))}
    assert found == {"Cataract surgery": "PROCEDURE"}


@pytest.mark.parametrize("text, word, label", [
    ("Aspiration of the right knee was performed on the ward.", "Aspiration", "PROCEDURE"),
    ("Bleeding point cauterised with silver nitrate.", "cauterised", "PROCEDURE"),
    ("The polyp was completely resected.", "resected", "PROCEDURE"),
    ("Aspiration pneumonia, treated with antibiotics.", "Aspiration pneumonia", "DIAGNOSIS"),
    ("On 08/04 she performed a left burr hole drainage under general anaesthetic.", "burr hole drainage", "PROCEDURE"),
    ("Two left-sided burr holes were made and the collection washed out.", "burr holes", "PROCEDURE"),
])
def test_an_operation_written_as_what_was_done_is_a_procedure(analyse, text, word, label):
    assert {m.text: m.label for m in mentions_of(analyse(text))}.get(word) == label


@pytest.mark.parametrize("text, word, named", [
    ("Under general anaesthetic I removed the left adrenal gland laparoscopically.", "removed", True),
    ("We then repaired the defect with a polypropylene mesh.", "repaired", True),
    ("Under spinal anaesthetic we evacuated the haematoma.", "evacuated", True),
    ("I fused the right first metatarsophalangeal joint with a plate.", "fused", True),
    # a clinician named by title tells it too, with or without an aside after the name
    ("Mr Balogun, the orthopaedic registrar, aspirated the right hip.", "aspirated", True),
    ("Dr. Okafor washed out the left knee arthroscopically.", "washed out", True),
    ("The fracture was fixed with a plate, and the wound was closed.", "fixed", True),  # a passive's object
    ("The drain was removed on day 2.", "removed", False),  # a device taken out is no operation
    ("Her sutures were removed by the practice nurse.", "removed", False),
    # a passive tells what was operated on before its auxiliary
    ("The appendix was removed and the base was closed with a purse-string suture.", "removed", True),
    ("The bleeding vessel was then ligated.", "ligated", True),
    ("When the tube blocked it was removed.", "removed", False),  # a word that stands for no object
    ("The FDP tendon was repaired with a four-strand core suture.", "repaired", False),  # a step of the operation
])
def test_a_surgeons_own_account_names_the_operation(analyse, text, word, named):
    found = {m.text: m.label for m in mentions_of(analyse(text))}
    assert (found.get(word) == "PROCEDURE") is named, found


@pytest.mark.parametrize("text, word, named", [
    ("Procedure:\n1. Posterior low fistula laid open over a probe.", "laid open", True),
    ("Procedure:\n2. A loose silastic seton inserted and tied loosely.", "inserted", True),
    # the steps of an operation, not operations: access, closure, aftercare
    ("Procedure:\nCervix dilated to Hegar 10.", "dilated", False),
    ("Procedure:\nPosterior capsule and short external rotators repaired.", "repaired", False),
    ("Procedure:\nCorrugated drain removed on day 2.", "removed", False),
    # what came out with another operation's specimen
    ("Procedure:\nAppendix removed within the specimen.", "removed", False),
    # outside an operation note a participle needs the surgeon as its subject
    ("He went home with the seton inserted.", "inserted", False),
])
def test_an_operation_note_tells_what_was_done_without_a_subject(analyse, text, word, named):
    found = {m.text: m.label for m in mentions_of(analyse(text))}
    assert (found.get(word) == "PROCEDURE") is named, found


@pytest.mark.parametrize("text, phrase", [
    ("Secondary post-tonsillectomy haemorrhage - returned to theatre for arrest of haemorrhage under GA.",
     "arrest of haemorrhage"),
    ("Return to theatre for arrest of bleeding from the right tonsillar fossa.", "arrest of bleeding"),
])
def test_the_arrest_of_a_haemorrhage_is_an_operation_done(analyse, text, phrase):
    found = {m.text: (m.label, m.assertion) for m in mentions_of(analyse(text))}
    assert found.get(phrase) == ("PROCEDURE", "present"), found


@pytest.mark.parametrize("text, word, assertion", [
    ("A lumbar puncture was not needed.", "lumbar puncture", "negated"),
    ("Invasive coronary angiography: unobstructed coronary arteries. LV gram not performed.", "LV gram", "negated"),
    ("Burr-hole drainage was not needed at this stage.", "Burr-hole drainage", "negated"),
    ("A bone marrow biopsy was not felt necessary to make the diagnosis and was not performed.", "bone marrow biopsy",
     "negated"),
    ("We used potent topical steroid and avoided debridement because of the risk of pathergy.", "debridement", "negated"),
    ("Renal biopsy not thought safe or helpful.", "Renal biopsy", "negated"),
    ("OGD was not considered necessary.", "OGD", "negated"),
    ("A repeat colonoscopy was not deemed appropriate.", "colonoscopy", "negated"),
    # judged useful, or the patient or the line not yet safe to go home or to use: done
    ("An MRI was thought helpful and showed a disc prolapse.", "MRI", "present"),
    ("Renal biopsy was considered safe and was performed on day 3.", "Renal biopsy", "present"),
    ("Laparoscopic cholecystectomy, not felt safe to discharge same day.", "Laparoscopic cholecystectomy", "present"),
    ("Hickman line placed but was not deemed safe to use until day 3.", "Hickman line", "present"),
])
def test_an_operation_judged_unneeded_is_negated_one_done_is_not(analyse, text, word, assertion):
    found = {m.text: m.assertion for m in mentions_of(analyse(text))}
    assert found.get(word) == assertion, found


def test_a_node_biopsied_in_clinic_before_the_admission_is_an_earlier_episodes(analyse):
    text = ("Admission: 14/04/2026\n\nA 19 mm right axillary node was biopsied under ultrasound guidance in clinic "
            "on 17/03/2026 and showed metastatic lobular carcinoma.")
    found = {m.text: (m.label, m.assertion) for m in mentions_of(analyse(text))}
    assert found["biopsied"] == ("PROCEDURE", "historical")


@pytest.mark.parametrize("key, kept", [
    (("radical", "prostatectomy"), False),  # cut from "Erectile dysfunction following radical prostatectomy"
    (("mastoidectomy",), False),
    (("prolapse", "of", "vaginal", "vault", "after", "hysterectomy"), True),  # a condition named by its cause
    (("complication", "of", "colostomy"), True),
    (("acute", "appendicitis"), True),
])
def test_a_condition_phrase_is_not_the_name_of_an_operation(key, kept):
    assert condition_phrase(key) is kept


@pytest.mark.parametrize("text, sentences", [
    # a line that ends with a comma, a joining word or inside a parenthesis goes on to the next
    ("She has adenocarcinoma of the right upper lobe (EGFR and ALK negative,\nPD-L1 70%), diagnosed in 2025.", 1),
    ("She has adenocarcinoma of the right upper lobe (EGFR and ALK\nnegative), diagnosed in 2025.", 1),
    ("He was treated for pneumonia and\nCOPD with antibiotics.", 1),
    ("Reviewed by the team of\nDr Smith on the ward.", 1),
    # a list and headings stay apart
    ("Diagnoses:\nPneumonia\nCOPD", 3),
    ("1. Pneumonia (CURB-65 2)\n2. COPD", 2),
])
def test_a_wrapped_line_goes_on(analyse, text, sentences):
    assert len(list(analyse(text).sents)) == sentences


def test_a_name_joined_to_a_number_is_no_abbreviation(analyse):
    doc = analyse("Adenocarcinoma of the lung, PD-L1 70%, on pembrolizumab.")
    assert "PD" not in [m.text for m in doc._.mentions]
    assert "PD" not in [a.text for a in doc._.clin_abbreviations]


@pytest.mark.parametrize("text, mention, assertion", [
    ("Keep wound dry for 5 days.", "wound", "hypothetical"),  # aftercare: the operation's wound
    ("Keep the wound clean and dry.", "wound", "hypothetical"),
])
def test_aftercare_instructions_name_no_injury(analyse, text, mention, assertion):
    found = {m.text: m.assertion for m in mentions_of(analyse(text))}
    assert found[mention] == assertion, found


WRAPPED = ("Mrs Jones was admitted after a fall at home and was found to have an undisplaced fracture\n"
           "of the left femoral neck. Because she was independent beforehand we offered fixation. On 14\n"
           "January, under spinal anaesthesia, the orthopaedic registrar performed a cannulated screw\n"
           "fixation through a small lateral incision, and she mobilised with the physiotherapists on\n"
           "the next day.\n"
           "Hypertension\n"
           "COPD\n")


def test_a_full_line_of_a_letter_wrapped_at_a_fixed_width_goes_on(analyse):
    from clincoder.text.sentences import wrap_width

    assert wrap_width(WRAPPED) == 91 and wrap_width("Hypertension\nCOPD\n") is None
    sentences = [s.text for s in analyse(WRAPPED).sents]
    assert any(s.startswith("On 14\nJanuary, under spinal anaesthesia") for s in sentences), sentences
    assert sentences[-2:] == ["Hypertension\n", "COPD\n"]  # short lines are items


@pytest.mark.parametrize("text, site", [
    ("1. Fracture of the left mandibular angle, compound into the mouth", "mandibular angle"),
    ("Displaced mandibular fracture after a punch", "mandible"),
    # a part named with its organ's adjective is the organ's part, not the body's head
    ("This is a locally advanced, unresectable pancreatic head adenocarcinoma.", "pancreatic head"),
    ("Primary diagnosis\nAdenocarcinoma of the gastric antrum (distal stomach), moderately differentiated.",
     "gastric antrum"),
    ("Diagnosis\nSquamous cell carcinoma of the anal canal, staged T2 N1 M0.", "anal canal"),
    ("Squamous cell carcinoma of the glottis with cartilage invasion.", "glottis"),
])
def test_a_fracture_or_tumour_has_its_site(analyse, text, site):
    assert {m.body_site for m in mentions_of(analyse(text)) if m.label == "DIAGNOSIS"} == {site}


@pytest.mark.parametrize("text, operation", [
    ("24/10/2026 - Ultrasound-guided abdominal paracentesis with an 8 Fr pigtail catheter.", "paracentesis"),
    ("Insertion of a Hickman line under ultrasound guidance.", "Hickman line"),
    ("CT-guided drainage of the pelvic collection.", "drainage"),
])
def test_the_imaging_that_guides_an_operation_is_no_operation_of_its_own(analyse, text, operation):
    found = {m.text.lower(): m.label for m in mentions_of(analyse(text))}
    assert found.get(operation.lower()) == "PROCEDURE" and not {"ultrasound", "ct"} & set(found), found


@pytest.mark.parametrize("text, operation, named", [
    ("20/10/2026 - Open radical left nephrectomy with lymph node sampling.", "radical left nephrectomy",
     "open radical nephrectomy"),
    ("Total right hip replacement under spinal anaesthesia.", "Total right hip replacement", "Total hip replacement"),
    ("Return to theatre: arrest of haemorrhage from R tonsillar fossa.", "arrest of haemorrhage from R tonsillar fossa",
     "arrest of haemorrhage from tonsillar fossa"),
])
def test_an_operation_is_read_across_the_side_written_inside_its_name(analyse, text, operation, named):
    found = {m.text: m for m in mentions_of(analyse(text))}
    assert operation in found, found
    m = found[operation]
    assert m.label == "PROCEDURE" and m.lookup(False) == named and m.laterality in ("left", "right")


def test_a_site_named_in_the_plural_is_the_site(analyse):
    found = mentions_of(analyse("Procedure today: manipulation of the nasal bones under general anaesthetic."))
    assert {m.text: m.body_site for m in found}.get("manipulation") == "nasal bone", found


@pytest.mark.parametrize("text, operation", [
    ("She underwent incision and curettage of a left upper eyelid chalazion under general anaesthetic.",
     "incision and curettage"),
    ("Biopsies were taken and insertion of an uncovered self-expanding metal colonic stent followed.", "insertion"),
])
def test_an_operation_named_by_a_generic_noun_is_a_procedure_mention(analyse, text, operation):
    found = {m.text: m.label for m in mentions_of(analyse(text))}
    assert found.get(operation) == "PROCEDURE", found


def test_a_word_joined_to_a_participle_is_an_adjective_not_a_mention(analyse):
    text = "MRI showed a ring-enhancing mass in the right frontal lobe. Right frontal craniotomy and debulking of the tumour."
    found = {m.text.lower(): m.label for m in mentions_of(analyse(text))}
    assert "ring" not in found, found
    assert found.get("frontal craniotomy") == "PROCEDURE" and found.get("debulking") == "PROCEDURE", found


@pytest.mark.parametrize("text, mention, assertion", [
    # an operation the past history lists was an earlier episode's
    ("Background:\n- PMH: avulsion of L great toenail for ingrowing nail (no recurrence).\n", "avulsion", "historical"),
    ("Past medical history\n- Tonsillectomy as a child.\n- Appendicectomy during this admission.\n",
     "Appendicectomy", "present"),
    # planned for later
    ("The gastroenterology team will arrange outpatient OGD and colonoscopy.", "colonoscopy", "hypothetical"),
    # an organism judged a coloniser
    ("Admitted 18/07/2025.\n\nA surface swab grew Staphylococcus aureus, which we regarded as colonisation rather "
     "than infection.", "Staphylococcus aureus", "negated"),
    # a question the team asked, and the story of this episode called its history
    ("The stroke team saw her with a working question of a posterior circulation TIA or stroke.", "stroke",
     "uncertain"),
    ("With this classic history and full recovery within 24 hours, the diagnosis is transient global amnesia.",
     "transient global amnesia", "present"),
    # a first impression the letter revises, and a treatment still to be offered
    ("In the emergency department he was initially thought to have had a stroke, but a CT head showed a mass.",
     "stroke", "hypothetical"),
    ("He is expected to be offered radiotherapy with concomitant temozolomide.", "radiotherapy", "hypothetical"),
    # a receptor's status is not the tumour's, and the stoma an earlier operation left is that operation's
    ("OGD showed an ulcerated lesion of the antrum; biopsies confirmed adenocarcinoma (HER2 negative).",
     "adenocarcinoma", "present"),
    ("He had an emergency Hartmann's procedure in March 2019 for perforated diverticulitis, leaving him with an "
     "end colostomy.", "end colostomy", "historical"),
    # a condition not yet diagnosed, and a child's birth history (the mother's pregnancy)
    ("Osteoporosis has not been diagnosed; a DEXA scan has been requested.", "Osteoporosis", "negated"),
    ("Ramipril for secondary prevention; she has never been diagnosed with high blood pressure.",
     "high blood pressure", "negated"),
    # safety-netting advice names what has not happened
    ("She knows to attend eye casualty the same day with any visual disturbance.", "visual disturbance",
     "hypothetical"),
    ("He presented with chest pain and was treated with aspirin.", "chest pain", "present"),
    ("He is an otherwise healthy 18-month-old boy, born at term after an uncomplicated pregnancy.", "pregnancy",
     "family"),
    # a problem list's verdict after a dash, and criteria for a diagnosis not met
    ("Problems:\n3. Crohn's disease - not suspected\n", "Crohn's disease", "negated"),
    ("1. Aspiration pneumonia - treated.\n- Sepsis criteria not met (lactate 1.2, BP maintained).", "Sepsis",
     "negated"),
    ("- Hypoglycaemia was not the cause: capillary glucose was 7.8 and 8.4 during two episodes.", "Hypoglycaemia",
     "negated"),
])
def test_what_the_letter_says_of_a_mention_sets_its_assertion(analyse, text, mention, assertion):
    found = {m.text: m.assertion for m in mentions_of(analyse(text))}
    assert found[mention] == assertion, found


def test_a_word_of_its_own_long_form_is_no_abbreviation(analyse):
    text = ("Procedure: R hallux - lateral wedge excision of nail (partial nail avulsion of lateral 1/4) and "
            "phenolisation of the lateral nail matrix.\nO/E: lat nail edge embedded in nail fold.")
    found = mentions_of(analyse(text))
    assert not [m for m in found if m.text == "nail" and m.expansion], found  # "nail" stands for nothing
    assert {m.text: m.label for m in found}.get("phenolisation") == "PROCEDURE"


def test_an_ordinary_word_before_a_parenthesis_is_no_abbreviation(analyse):
    text = "3. Parkinson's disease (diagnosed 2011, Hoehn and Yahr stage 4) - time-critical medication."
    found = mentions_of(analyse(text))
    disease = next(m for m in found if m.text.lower().startswith("parkinson"))
    assert disease.expansion is None and "diagnosed" not in disease.lookup(False), disease


@pytest.mark.parametrize("text, mention, site", [
    # "cervical" is the spine's before a word of the spine, the neck's before a node, else the cervix's
    ("Degenerative cervical myelopathy.", "myelopathy", "cervical spine"),
    ("Cervical spondylosis at C5-C6.", "spondylosis", "cervical spine"),
    ("Cervical polyp seen at colposcopy.", "polyp", "cervix"),
])
def test_an_adjective_names_its_site_by_the_word_after_it(analyse, text, mention, site):
    found = {m.text.lower(): m.body_site for m in mentions_of(analyse(text))}
    assert found[mention.lower()] == site


@pytest.mark.parametrize("text, mention", [
    ("Post-splenectomy care - vaccines (MenACWY, MenB, pneumococcal, Hib/MenC and influenza) given on day 7.", "influenza"),
    ("He was given a tetanus booster in the emergency department.", "tetanus"),
])
def test_a_vaccine_names_the_infection_it_prevents_not_one_the_patient_has(analyse, text, mention):
    found = {m.text.lower(): m.assertion for m in mentions_of(analyse(text)) if m.label == "DIAGNOSIS"}
    assert found[mention] == "hypothetical"


def test_a_saturation_on_room_air_is_no_rheumatoid_arthritis(analyse):
    text = ("Bitten on the hand; rapid painful swelling of the hand and forearm, stiffness of the fingers.\n"
            "- HR 104, BP 118/72, SpO2 98% RA, T 37.2\n")
    assert "rheumatoid arthritis" not in {(m.expansion or m.text).lower() for m in mentions_of(analyse(text))}


def test_a_condition_named_with_its_kind_is_one_mention(analyse):
    found = [m.text.lower() for m in mentions_of(analyse("She has hereditary angioedema and a retained tampon."))]
    assert "hereditary angioedema" in found and "retained tampon" in found
