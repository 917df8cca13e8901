"""Regression set of the text stage: phrase -> expected mention and attribute (UK and US phrasing).

Each case names the letter text, the mention (its text, case-insensitive) and the attribute
expected on it. Cases run through the one pipeline built from ``resources/pipeline.cfg``.
"""

from __future__ import annotations

import pytest


def find(doc, mention_text):
    ms = [m for m in doc._.mentions if m.text.lower() == mention_text.lower()]
    assert ms, f"no mention {mention_text!r} in {[m.text for m in doc._.mentions]}"
    return ms[0]


# ---- mentions and labels -------------------------------------------------------------------
LABELS = [
    # a phrase read across a short parenthesis that names nothing itself; one that names something keeps it
    ("1. Right intertrochanteric (extracapsular) fracture of the femur.", "intertrochanteric (extracapsular) fracture",
     "DIAGNOSIS"),
    ("Acute (NSTEMI) myocardial infarction.", "NSTEMI", "DIAGNOSIS"),
    # an infarct named by its artery's territory, the artery's abbreviation in brackets inside
    ("DIAGNOSIS: Acute L posterior cerebral artery (PCA) territory infarct - embolic.",
     "posterior cerebral artery (PCA) territory infarct", "DIAGNOSIS"),
    ("Acute (NSTEMI) myocardial infarction.", "myocardial infarction", "DIAGNOSIS"),
    ("Admitted with community acquired pneumonia.", "community acquired pneumonia", "DIAGNOSIS"),
    ("Dx: UPPER GI BLEED - bleeding DU with visible vessel.", "DU", "DIAGNOSIS"),  # a duodenal ulcer
    # an eponym's possessive is part of the condition's name: Ludwig's angina is no angina
    ("1. Ludwig's angina - left submandibular collection.", "Ludwig's angina", "DIAGNOSIS"),
    ("Right Dupuytren's contracture of the ring finger.", "Dupuytren's contracture", "DIAGNOSIS"),
    # a name the index also writes as one word is one condition: heat stroke (heatstroke) is no stroke
    ("1. Exertional heat stroke after a half-marathon.", "heat stroke", "DIAGNOSIS"),
    ("She has type 2 diabetes mellitus.", "type 2 diabetes mellitus", "DIAGNOSIS"),
    ("Known atrial fibrillation on apixaban.", "atrial fibrillation", "DIAGNOSIS"),
    ("Presented with chest pain.", "chest pain", "FINDING"),
    ("Complained of shortness of breath.", "shortness of breath", "FINDING"),
    ("He underwent laparoscopic cholecystectomy.", "laparoscopic cholecystectomy", "PROCEDURE"),
    ("Appendicectomy was performed.", "appendicectomy", "PROCEDURE"),
    ("An appendectomy was performed.", "appendectomy", "PROCEDURE"),
    ("Underwent total knee replacement.", "total knee replacement", "PROCEDURE"),
    ("Diagnosed with chronic obstructive pulmonary disease.", "chronic obstructive pulmonary disease", "DIAGNOSIS"),
    ("Urinary tract infection treated.", "urinary tract infection", "DIAGNOSIS"),
    ("Admitted with acute kidney injury.", "acute kidney injury", "DIAGNOSIS"),
    ("Developed peripheral oedema.", "peripheral oedema", "FINDING"),
    ("Developed peripheral edema.", "peripheral edema", "FINDING"),
    ("Iron deficiency anaemia noted.", "iron deficiency anaemia", "DIAGNOSIS"),
    ("Iron deficiency anemia noted.", "iron deficiency anemia", "DIAGNOSIS"),
    ("Colonoscopy showed diverticulosis.", "colonoscopy", "PROCEDURE"),
    ("Colonoscopy showed diverticulosis.", "diverticulosis", "DIAGNOSIS"),
    ("Treated for cellulitis.", "cellulitis", "DIAGNOSIS"),
    ("Episodes of haemoptysis.", "haemoptysis", "FINDING"),
    ("Episodes of hemoptysis.", "hemoptysis", "FINDING"),
    ("Had a haemorrhagic stroke.", "haemorrhagic stroke", "DIAGNOSIS"),
    ("He has hypertension.", "hypertension", "DIAGNOSIS"),
    ("Multiple gallstones were seen.", "gallstones", "DIAGNOSIS"),
    ("Coronary angiography was done.", "coronary angiography", "PROCEDURE"),
    ("Underwent a right hemicolectomy.", "hemicolectomy", "PROCEDURE"),
    ("Blood transfusion given.", "blood transfusion", "PROCEDURE"),
    ("Diagnosed with heart failure.", "heart failure", "DIAGNOSIS"),
    ("Episode of syncope.", "syncope", "FINDING"),
    ("Background of osteoporosis.", "osteoporosis", "DIAGNOSIS"),
    # UK index terms: written with an abbreviation, or one word naming a condition or an operation
    ("CT showed a left MCA territory infarct.", "MCA territory infarct", "DIAGNOSIS"),
    ("Known phaeochromocytoma.", "phaeochromocytoma", "DIAGNOSIS"),
    ("We performed a formal circumcision.", "circumcision", "PROCEDURE"),
    ("Fundoplication was uneventful.", "fundoplication", "PROCEDURE"),
    ("1. Adenocarcinoma of the caecum, pT3 pN1a M0", "Adenocarcinoma", "DIAGNOSIS"),
    ("A fish bone impacted in the upper oesophagus.", "fish bone", "DIAGNOSIS"),  # a swallowed foreign body
]


@pytest.mark.parametrize("text,mention,label", LABELS)
def test_mention_label(analyse, text, mention, label):
    m = find(analyse(text), mention)
    assert m.label == label
    assert analyse(text).text[m.start:m.end] == m.text


@pytest.mark.parametrize("text,words", [
    # ward care and words that name no procedure alone
    ("4. Category 2 pressure ulcer, sacrum - dressings and a dynamic mattress.", "dressings"),
    ("Wound checked; dressing changed daily by the district nurse.", "dressing"),
])
def test_no_procedure_mention(analyse, text, words):
    assert not [m for m in analyse(text)._.mentions if m.label == "PROCEDURE" and m.text.lower() == words]


@pytest.mark.parametrize("text,words", [
    # a generic procedure noun that describes another word
    ("Resection margins clear (R0).", "resection"),
    ("Mismatch repair proficient.", "repair"),
    ("Acute T-cell-mediated rejection.", "t-cell"),
    # a one-word index term that describes rather than names is no mention of its own
    ("Bipolar diathermy to the tonsil bed.", "bipolar"),
    ("Non-smoker, no alcohol.", "smoker"),
    ("Neutropenic regimen advised.", "neutropenic"),
    # a viral illness is one; "illness" alone is no condition
    ("He was unwell with an illness last week.", "illness"),
    # "absent" describes a finding; it names no acquired absence of an organ
    ("Mild loss of vibration sense with absent ankle jerks.", "absent"),
    # a drug's modified-release form is no mitral regurgitation
    ("Medications: Tacrolimus MR (Envarsus) 3 mg OD.", "mr"),
    # a phase of the course named before its condition: the condition is the mention
    ("Principal: Acute exacerbation of idiopathic pulmonary fibrosis", "acute exacerbation"),
    ("Infective exacerbation of his bronchiectasis.", "infective exacerbation"),
])
def test_no_mention(analyse, text, words):
    assert words not in [m.text.lower() for m in analyse(text)._.mentions]


@pytest.mark.parametrize("text, mentions", [
    ("Principal: Acute exacerbation of idiopathic pulmonary fibrosis", ["idiopathic pulmonary fibrosis"]),
    ("Acute exacerbation of COPD.", ["exacerbation of copd"]),
    ("Acute exacerbation, treated with nebulisers.", ["acute exacerbation"]),  # no condition after it: it stays
])
def test_a_course_phase_gives_way_to_the_condition_it_is_of(analyse, text, mentions):
    assert [m.text.lower() for m in analyse(text)._.mentions] == mentions


# ---- abbreviations ----------------------------------------------------------------------------
ABBREVIATIONS = [
    ("PMH: T2DM, HTN.", "T2DM", "type 2 diabetes mellitus", "DIAGNOSIS"),
    ("Admitted with NSTEMI.", "NSTEMI", "non-ST elevation myocardial infarction", "DIAGNOSIS"),
    ("Fast AF on admission.", "AF", "atrial fibrillation", "DIAGNOSIS"),
    ("CKD stage 4.", "CKD", "chronic kidney disease", "DIAGNOSIS"),
    ("Known COPD on inhalers.", "COPD", "chronic obstructive pulmonary disease", "DIAGNOSIS"),
    ("Treated for LRTI with amoxicillin.", "LRTI", "lower respiratory tract infection", "DIAGNOSIS"),
    ("Recurrent UTI.", "UTI", "urinary tract infection", "DIAGNOSIS"),
    ("AKI on admission, resolved with fluids.", "AKI", "acute kidney injury", "DIAGNOSIS"),
    ("Fall resulting in #NOF.", "#NOF", "fracture of neck of femur", "DIAGNOSIS"),
    ("Echo: moderate MR, LVEF 45%.", "MR", "mitral regurgitation", "DIAGNOSIS"),
    ("Previous CABG in 2010.", "CABG", "coronary artery bypass graft", "PROCEDURE"),
    ("Left TKR in 2015.", "TKR", "total knee replacement", "PROCEDURE"),
    ("Right THR.", "THR", "total hip replacement", "PROCEDURE"),
    ("OGD showed oesophagitis.", "OGD", "oesophagogastroduodenoscopy", "PROCEDURE"),
    ("EGD showed esophagitis.", "EGD", "esophagogastroduodenoscopy", "PROCEDURE"),
    ("ERCP and stent.", "ERCP", "endoscopic retrograde cholangiopancreatography", "PROCEDURE"),
    ("Primary PCI to the LAD.", "PCI", "percutaneous coronary intervention", "PROCEDURE"),
    ("Known GORD.", "GORD", "gastro-oesophageal reflux disease", "DIAGNOSIS"),
    ("Known GERD.", "GERD", "gastroesophageal reflux disease", "DIAGNOSIS"),
    ("Had a TIA last year.", "TIA", "transient ischaemic attack", "DIAGNOSIS"),
    ("Signs of DVT in the calf.", "DVT", "deep vein thrombosis", "DIAGNOSIS"),
    ("Patient with CHF exacerbation.", "CHF", "congestive heart failure", "DIAGNOSIS"),
    ("Underwent LSCS.", "LSCS", "lower segment caesarean section", "PROCEDURE"),
    ("Admitted in DKA.", "DKA", "diabetic ketoacidosis", "DIAGNOSIS"),
    ("SOB on exertion.", "SOB", "shortness of breath", "FINDING"),
    ("Known IHD.", "IHD", "ischaemic heart disease", "DIAGNOSIS"),
    ("Known CAD.", "CAD", "coronary artery disease", "DIAGNOSIS"),
    ("CXR clear.", "CXR", "chest x-ray", "PROCEDURE"),
    ("He has OSA on CPAP.", "OSA", "obstructive sleep apnoea", "DIAGNOSIS"),
    # defined in the letter (scispaCy), then used
    ("He has acute kidney injury (AKI). The AKI resolved.", "AKI", "acute kidney injury", "DIAGNOSIS"),
    ("Diagnosed with systemic sclerosis (SSc). SSc was stable.", "SSc", "systemic sclerosis", "DIAGNOSIS"),
    # ambiguous ones resolved by context
    ("MS diagnosed after optic neuritis and MRI brain lesions.", "MS", "multiple sclerosis", "DIAGNOSIS"),
    ("Echo showed severe MS with a diastolic murmur.", "MS", "mitral stenosis", "DIAGNOSIS"),
    ("CTPA confirmed PE; started apixaban.", "PE", "pulmonary embolism", "DIAGNOSIS"),
    ("Known RA on methotrexate with swollen joints.", "RA", "rheumatoid arthritis", "DIAGNOSIS"),
    ("Parkinson's: PD with tremor on levodopa.", "PD", "Parkinson's disease", "DIAGNOSIS"),
    ("ESRF on PD via Tenckhoff catheter, peritoneal dialysis exchange.", "PD", "peritoneal dialysis", "PROCEDURE"),
    ("Echo: severe AS with syncope; referred for TAVI.", "AS", "aortic stenosis", "DIAGNOSIS"),
    ("IVIg 2 g/kg over 5 days.", "IVIg", "intravenous immunoglobulin", "PROCEDURE"),
    ("NCS 05/11: demyelinating polyneuropathy.", "NCS", "nerve conduction studies", "PROCEDURE"),
    ("Staged with EBUS-TBNA of station 4R.", "EBUS-TBNA",
     "endobronchial ultrasound guided transbronchial needle aspiration", "PROCEDURE"),
    ("Left WLE and SLNB under GA.", "SLNB", "sentinel lymph node biopsy", "PROCEDURE"),
    ("Admitted at 41 weeks for IOL with Propess.", "IOL", "induction of labour", "PROCEDURE"),
    # a UK index term written as one abbreviation, matched as written
    ("Known POAG on latanoprost.", "POAG", "POAG", "DIAGNOSIS"),
    ("Core biopsy: DCIS, grade 2.", "DCIS", "DCIS", "DIAGNOSIS"),
    # the words around "OD" settle it: an overdose, where a dose's "OD" is once daily
    ("Dx: Deliberate OD of amitriptyline with QRS widening.", "OD", "overdose", "DIAGNOSIS"),
    ("Staggered paracetamol OD over two days.", "OD", "overdose", "DIAGNOSIS"),
    ("GBS after a Campylobacter diarrhoea: ascending weakness, areflexia; IVIg.", "GBS", "Guillain-Barre syndrome",
     "DIAGNOSIS"),
    ("1. GBS, three weeks after a chest infection. Treated with IVIg.", "GBS", "Guillain-Barre syndrome", "DIAGNOSIS"),
    ("She received a course of eight bilateral ECT treatments, twice weekly.", "ECT", "electroconvulsive therapy",
     "PROCEDURE"),
    # an eye letter's PVD is the vitreous, a vascular letter's the arteries
    ("- L: PVD, flat retina, no breaks on indented examination.", "PVD", "posterior vitreous detachment", "DIAGNOSIS"),
    ("PVD with claudication at 100 yards and absent foot pulses.", "PVD", "peripheral vascular disease", "DIAGNOSIS"),
    ("NG feeding started on day 2 after the SALT assessment.", "NG", "nasogastric tube", "PROCEDURE"),
]


@pytest.mark.parametrize("text", ["Blood cultures NG at 48 hours.", "Urine culture: NG.", "Cultures NG. CRP falling."])
def test_a_cultures_ng_is_no_growth_and_no_tube(analyse, text):
    doc = analyse(text)
    assert [a.expansion for a in doc._.clin_abbreviations if a.text == "NG"] == ["no growth"]
    assert not [m for m in doc._.mentions if m.text == "NG"]


@pytest.mark.parametrize("text,abbr,expansion,label", ABBREVIATIONS)
def test_abbreviation_mention(analyse, text, abbr, expansion, label):
    """The abbreviation is a mention, or is expanded inside the longer one that holds it ("Fast
    AF", "severe AS", "ERCP and stent")."""
    doc = analyse(text)
    ms = [m for m in doc._.mentions if abbr in m.text.split()]
    assert ms, [m.text for m in doc._.mentions]
    m = ms[-1]
    assert expansion.lower() in m.expansion.lower()
    assert m.label == label


AMBIGUOUS_NOT_MENTIONS = [
    ("Vertex direct OA, station +1, no caput.", "OA"),  # the fetal head's position, not osteoarthritis
    ("PE: chest clear, abdomen soft and non tender, findings unremarkable.", "PE"),
    # a school subject, in a letter whose stroke was embolic
    ("Social history: secondary school PE teacher; embolic stroke from a PFO.", "PE"),
    ("Sats 95% on RA.", "RA"),
    ("Echo: dilated RA and RV.", "RA"),
    ("Right phaco and IOL for cataract, uneventful.", "IOL"),  # the lens, not induction of labour
    ("Managed conservatively: TR band re-inflated for a further hour, arm elevated.", "TR"),  # the radial band
    ("Sertraline 100 mg OD, amitriptyline stopped after the overdose.", "OD"),  # once daily
    # the group B streptococcus of a pregnancy, not Guillain-Barre syndrome
    ("IV benzylpenicillin from the start of established labour as GBS prophylaxis.", "GBS"),
    ("- Group B streptococcus carrier: GBS grown from a high vaginal swab taken at 31 weeks.", "GBS"),
    # a squint's size in prism dioptres, not Parkinson's disease or peritoneal dialysis
    ("Dx: LEFT consecutive exotropia, constant, 35 PD near and distance.", "PD"),
    ("Residual XT 8 PD after adjustment.", "PD"),
]


@pytest.mark.parametrize("text,abbr", AMBIGUOUS_NOT_MENTIONS)
def test_ambiguous_abbreviation_other_sense(analyse, text, abbr):
    doc = analyse(text)
    assert abbr not in [m.text for m in doc._.mentions]
    assert any(a.text == abbr and a.label == "OTHER" for a in doc._.clin_abbreviations)


# ---- assertion (ConText + letter rules) -------------------------------------------------------
ASSERTIONS = [
    ("No history of interest except type 2 diabetes.", "type 2 diabetes", "present"),
    ("Examination showed signs of thrombosis.", "thrombosis", "present"),
    ("No past medical history apart from hypertension.", "hypertension", "present"),
    ("No evidence of pneumothorax.", "pneumothorax", "negated"),
    ("Pulmonary embolism was ruled out.", "pulmonary embolism", "negated"),
    ("PE ruled out on CTPA.", "PE", "negated"),
    # a verdict after the condition: "considered - no evidence found"; before it, "no evidence found of"
    ("4. Crohn's disease considered - no evidence found", "Crohn's disease", "negated"),
    ("Crohn's disease considered, not found.", "Crohn's disease", "negated"),
    ("Diabetes. No evidence found of retinopathy.", "retinopathy", "negated"),
    ("Diabetes. No evidence found of retinopathy.", "Diabetes", "present"),
    ("THROMBOLYSIS: not given - wake-up stroke.", "THROMBOLYSIS", "negated"),
    ("Urine culture and blood cultures were clear, and we found no source of sepsis.", "sepsis", "negated"),
    ("Cellulitis as the source of sepsis.", "sepsis", "present"),
    ("Hepatitis B and C serology, the autoimmune liver screen and alpha-1 antitrypsin level were all normal.",
     "Hepatitis B", "negated"),
    ("Amylase was 64, excluding pancreatitis.", "pancreatitis", "negated"),
    ("A colonoscopy is not needed now, but we will consider one in about three months.", "colonoscopy", "negated"),
    # the condition weighed, then the subject left out of the clause that excludes it
    ("Lymphoma was considered because of the high IgG, and was excluded for now: no lymphadenopathy.",
     "Lymphoma", "negated"),
    # "decline" as a noun refuses nothing
    ("In view of the speed of the renal decline, plasma exchange was started on 06/10.", "plasma exchange", "present"),
    # the tests that showed a cause "not found" were done
    ("An organic cause was looked for and not found: CT and MRI head were normal, a lumbar puncture "
     "showed normal CSF.", "lumbar puncture", "present"),
    ("Respiratory viral PCR negative for influenza, RSV and SARS-CoV-2.", "influenza", "negated"),
    ("Sputum was negative for TB but she has pneumonia.", "pneumonia", "present"),
    ("Denies chest pain.", "chest pain", "negated"),
    ("No signs of infection.", "infection", "negated"),
    ("Fracture excluded on x-ray.", "fracture", "negated"),
    ("Nil haematuria.", "haematuria", "negated"),
    ("Negative for malignancy.", "malignancy", "negated"),
    ("HIV Ag/Ab neg.", "HIV", "negated"),  # an abbreviated result
    ("HBsAg neg, HBV immune (vaccinated).", "HBV", "negated"),  # immunity is no infection
    ("No biopsies; CLO test not taken.", "CLO test", "negated"),
    ("Urine osmolality 412 mOsm/kg, on no diuretic, cortisol 486 nmol/L. This fits SIADH.", "SIADH", "present"),
    ("He did not have pneumonia.", "pneumonia", "negated"),
    ("There was no deep vein thrombosis.", "deep vein thrombosis", "negated"),
    ("?pneumonia", "pneumonia", "uncertain"),
    ("Chest x-ray: ? pneumonia right base.", "pneumonia", "uncertain"),
    ("Query sepsis on arrival.", "sepsis", "uncertain"),
    ("Possible pulmonary embolism.", "pulmonary embolism", "uncertain"),
    ("Likely cellulitis.", "cellulitis", "uncertain"),
    ("Suspected appendicitis.", "appendicitis", "uncertain"),
    ("Probable urinary tract infection.", "urinary tract infection", "uncertain"),
    ("Presumed viral gastroenteritis.", "viral gastroenteritis", "uncertain"),
    ("Rule out myocardial infarction.", "myocardial infarction", "uncertain"),
    ("r/o pneumonia", "pneumonia", "uncertain"),
    ("Cannot exclude pulmonary embolism.", "pulmonary embolism", "uncertain"),
    ("History of stroke.", "stroke", "historical"),
    ("h/o DVT", "DVT", "historical"),
    ("Previous myocardial infarction.", "myocardial infarction", "historical"),
    ("Prior cholecystectomy.", "cholecystectomy", "historical"),
    ("Background of asthma.", "asthma", "historical"),
    ("s/p appendectomy", "appendectomy", "historical"),
    ("Status post hysterectomy.", "hysterectomy", "historical"),
    ("Family history of breast cancer.", "breast cancer", "family"),
    ("FH of ischaemic heart disease.", "ischaemic heart disease", "family"),
    ("Mother had bowel cancer.", "bowel cancer", "family"),
    ("His father died of a myocardial infarction.", "myocardial infarction", "family"),
    ("Brother has epilepsy.", "epilepsy", "family"),
    ("- Father - prostate cancer.", "prostate cancer", "family"),  # a relative labels the condition after a dash
    ("Return if chest pain recurs.", "chest pain", "hypothetical"),
    ("If fever develops, seek advice.", "fever", "hypothetical"),
    ("Advised to return should haematemesis recur.", "haematemesis", "hypothetical"),
    ("Risk of deep vein thrombosis discussed.", "deep vein thrombosis", "hypothetical"),
    ("We have arranged a single fraction of palliative radiotherapy.", "palliative radiotherapy", "hypothetical"),
    ("An outpatient colonoscopy has been arranged.", "colonoscopy", "hypothetical"),
    ("We arranged an abdominal ultrasound, which showed thickening.", "abdominal ultrasound", "present"),
    ("NIV not indicated at present.", "NIV", "negated"),
    ("Admitted with pneumonia.", "pneumonia", "present"),
    ("Diagnosed with asthma.", "asthma", "present"),
    ("Chest pain, no fever.", "chest pain", "present"),
    ("Chest pain, no fever.", "fever", "negated"),
    ("No fever but persistent cough.", "persistent cough", "present"),
    ("No family history of diabetes.", "diabetes", "family"),
    # "<investigation>: no <finding>": the result is negated, the investigation was done
    ("CT pulmonary angiogram: no pulmonary embolism.", "pulmonary embolism", "negated"),
    ("CT pulmonary angiogram: no pulmonary embolism.", "CT pulmonary angiogram", "present"),
    ("Doppler ultrasound: no DVT.", "DVT", "negated"),
    ("Chest X-ray: no consolidation, no pneumothorax.", "pneumothorax", "negated"),
    ("CTPA: no PE. Right lower lobe pneumonia.", "pneumonia", "present"),
    ("Oesophageal varices - none seen at OGD.", "Oesophageal varices", "negated"),
    ("Oesophageal varices - none seen at OGD.", "OGD", "present"),
    ("Sepsis was considered but ruled out.", "Sepsis", "negated"),
    # a title's own "without" does not negate it; what follows a "without" outside it is negated
    ("Our diagnosis is recurrent depressive disorder, current episode severe without psychotic symptoms.",
     "recurrent depressive disorder, current episode severe without psychotic symptoms", "present"),
    ("Duodenal ulcer without haemorrhage or perforation.", "haemorrhage or perforation", "negated"),
    ("A two-month decline in mood with early morning waking and weight loss.", "weight loss", "present"),
    # a test's result after the list of what it tested for
    ("HIV, hepatitis B and hepatitis C serology were negative.", "HIV", "negated"),
    ("HIV positive, hepatitis B and C serology negative.", "HIV", "present"),  # a result ends the reach back
    # a service named after what it treats says nothing of the patient
    ("Thank you for referring him to the lymphoma clinic.", "lymphoma", "hypothetical"),
    ("Seen by the heart failure nurse specialist.", "heart failure", "hypothetical"),
    ("I saw him on the stroke unit this week.", "stroke", "hypothetical"),
    ("Consultant Stroke Physician", "Stroke", "hypothetical"),
    ("Acute stroke, admitted to the stroke unit.", "stroke", "present"),  # the patient's, first
    ("She has heart failure and was seen by the heart failure nurse.", "heart failure", "present"),
    # a procedure in the plan or follow-up is planned, not done this episode
    ("Plan:\n3. Colonoscopy one year after the resection.", "Colonoscopy", "hypothetical"),
    ("Follow up:\nRepeat OGD in 6 weeks.", "OGD", "hypothetical"),
    ("Procedures:\nColonoscopy with polypectomy.", "Colonoscopy", "present"),
    ("A/P:\nShe underwent a laparoscopic appendicectomy.", "laparoscopic appendicectomy", "present"),
    # a drug list names the drugs to take, not a procedure done ("on the day of chemotherapy")
    ("Medications on discharge:\n- Dexamethasone 4 mg BD on the day of chemotherapy", "chemotherapy", "hypothetical"),
    # a repair named by what was repaired
    ("Op:\nOpen primary sutured repair of the paraumbilical hernia.", "sutured repair", "present"),
    # what was done, as a participle ("the fracture was manipulated", "the ureter was stented")
    ("The fracture was manipulated under general anaesthetic.", "manipulated", "present"),
    ("The left ureter was stented at the end of the procedure.", "stented", "present"),
    # what the team first feared, then excluded; what a result argues against
    ("We were initially concerned about a cavitating lung cancer, and a CT scan was done.", "lung cancer",
     "hypothetical"),
    ("Her CK was normal, which argues against an inflammatory myositis.", "myositis", "negated"),
    ("This was typical of active tuberculosis rather than a tumour.", "tumour", "negated"),
    ("This was typical of active tuberculosis rather than a tumour.", "active tuberculosis", "present"),
    ("The history strongly suggests juvenile myoclonic epilepsy.", "juvenile myoclonic epilepsy", "present"),
    ("Viral PCR (SARS-CoV-2, influenza A/B, RSV) negative.", "influenza", "negated"),
    # a conclusion starts afresh after a negation
    ("No virus was identified and we have classed this as acute idiopathic pericarditis.", "pericarditis", "present"),
    # "was negative" reaches back to what the test looked for, not across the sentence
    ("A lumbar puncture was performed to exclude infection, and the viral PCR was negative.", "lumbar puncture",
     "present"),
    ("Stroke risk factors were reviewed.", "stroke", "hypothetical"),
    ("He had a TURP in\n2018.", "TURP", "historical"),  # the year wrapped to the next line
    # "free" negates what stands just before it, not the operation ("dissected free" says how)
    ("I excised the diseased fascia, with both neurovascular bundles dissected free and protected.", "excised",
     "present"),
    ("She has been seizure free for two years.", "seizure", "negated"),
    ("She was worried that the lump might be a tumour; the ultrasound showed no mass.", "tumour", "hypothetical"),
    # what was done ends the scope of what was feared
    ("Pernicious anaemia carries a risk of gastric cancer, so colleagues performed a gastroscopy.", "gastroscopy",
     "present"),
    ("Pernicious anaemia carries a risk of gastric cancer, so colleagues performed a gastroscopy.", "gastric cancer",
     "hypothetical"),
    # a heading names its section, it tells of no past: "Hx:" is the story of this admission
    ("Hx: 3/7 cloudy bags, diffuse abdominal pain and peritonitis.", "peritonitis", "present"),
    ("History: Screen-detected right breast cancer.", "breast cancer", "present"),
    ("PMH: history of asthma.", "asthma", "historical"),  # the words of a sentence still tell it
    # an operation someone waits for is to come; one done on an admission from the list was done
    ("Osteoarthritis of both knees - on the orthopaedic waiting list for a right total knee replacement.",
     "total knee replacement", "hypothetical"),
    ("He is on the urology waiting list (Mr Achebe) for a TURP.", "TURP", "hypothetical"),
    ("She was admitted from the waiting list for a laparoscopic cholecystectomy.", "laparoscopic cholecystectomy",
     "present"),
    ("Elective admission from waiting list for right total knee replacement.", "total knee replacement", "present"),
    ("Admitted electively (waiting list) for laparoscopic cholecystectomy.", "laparoscopic cholecystectomy",
     "present"),
    ("I have put her on the waiting list for an elective bilateral tonsillectomy.", "tonsillectomy", "hypothetical"),
    ("There has never been any doubt about her COPD.", "COPD", "present"),
    ("There has never been any cholecystitis.", "cholecystitis", "negated"),
    ("There have never been any seizures.", "seizures", "negated"),
    # the reasons after "<condition> excluded:" argue against it where they name it again
    ("- Glaucoma excluded: referred by her optometrist as a glaucoma suspect in 2025. Healthy optic discs.",
     "glaucoma suspect", "negated"),
    ("- Sepsis excluded: blood cultures negative; the pneumonia was treated with amoxicillin.", "pneumonia",
     "present"),
    # a condition sharing a word with the excluded one is another condition
    ("- Hip fracture excluded: CT showed a left superior pubic ramus fracture.", "fracture", "present"),
    ("- Bacterial meningitis excluded: CSF consistent with viral meningitis.", "viral meningitis", "present"),
    # a diagnosis another record carries as a label, which the letter disputes
    ('A note on spirometry: his GP record carries a "?COPD" label from 2023.', "COPD", "negated"),
    ("Please remove the COPD label.", "COPD", "negated"),
    ("Her COPD label was confirmed on spirometry.", "COPD", "present"),  # a label that records it
    # criteria not met deny the diagnosis
    ("He does not meet the criteria for a diagnosis of epilepsy at this stage.", "epilepsy", "negated"),
    ("He meets the criteria for a diagnosis of epilepsy.", "epilepsy", "present"),
    ("She has not met the criteria for a diagnosis of asthma.", "asthma", "negated"),
    # consent for an operation that might be needed is no operation done
    ("He was consented on admission for emergency cystoscopy and right JJ stent, or ureteroscopy, in case of fever.",
     "ureteroscopy", "hypothetical"),
    ("Consented for laparotomy in case of failure to settle - not needed.", "laparotomy", "hypothetical"),
    ("She was consented for and underwent a laparoscopic appendicectomy.", "laparoscopic appendicectomy", "present"),
    ("Rituximab for myasthenia gravis (off-label).", "myasthenia gravis", "present"),  # a drug's licence
    ("Rituximab for myasthenia gravis, off label.", "myasthenia gravis", "present"),
    # a word that in a letter names the patient, or who saw or cares for her, is no relative's condition
    ("She was admitted to our children's ward after a simple febrile convulsion.", "simple febrile convulsion",
     "present"),
    ("Her husband saw her have a seizure at home.", "seizure", "present"),
    ("Her brother has epilepsy.", "epilepsy", "family"),
    ("His mother brought him in with two days of fever and vomiting.", "vomiting", "present"),
    ("Because of his age the family agreed to a containment osteotomy.", "osteotomy", "present"),
    ("Mum reports that his sister has epilepsy.", "epilepsy", "family"),
    ("Her parents both had bowel cancer.", "bowel cancer", "family"),
    ("Her husband had a myocardial infarction last year.", "myocardial infarction", "family"),
    ("Both her children have asthma.", "asthma", "family"),
    # what came next, or a time after a comma, starts a new clause for a negation before it
    ("The TOE showed no thrombus in the left atrial appendage, and then, under the same sedation, a synchronised "
     "DC cardioversion.", "DC cardioversion", "present"),
    ("He had not been anticoagulated, on 05/03/2026 he had a transoesophageal echocardiogram.",
     "transoesophageal echocardiogram", "present"),
    ("He had not been anticoagulated, so he had no cardioversion.", "cardioversion", "negated"),
    ("No chest pain, on 2.5 mg bisoprolol, or palpitations.", "palpitations", "negated"),  # a dose is no date
    # the options discussed are not done; the option chosen is
    ("After discussion of the options (including uterine artery embolisation and a GnRH analogue, which she did not "
     "want) she chose myomectomy.", "uterine artery embolisation", "hypothetical"),
    ("After discussion of the options (including uterine artery embolisation and a GnRH analogue, which she did not "
     "want) she chose myomectomy.", "myomectomy", "present"),
    ("We discussed alternatives such as a stent and he had a coronary artery bypass graft.",
     "coronary artery bypass graft", "present"),
    ("Options including amputation were discussed, a below knee amputation was performed.", "below knee amputation",
     "present"),
    # the condition an advice sheet is about is what to watch for
    ("He has the neutropenic sepsis advice sheet.", "sepsis", "hypothetical"),
    ("Written febrile convulsion leaflet given.", "febrile convulsion", "hypothetical"),
    ("Penicillin allergy card given.", "allergy", "present"),
    # a return to theatre is an operation done, not advice to come back
    ("Return to theatre: arrest of haemorrhage from R tonsillar fossa.", "arrest of haemorrhage from R tonsillar fossa",
     "present"),
    ("Return if the bleeding recurs.", "bleeding", "hypothetical"),
    ("- EBL 150 ml. NG not needed.", "NG", "negated"),
]


@pytest.mark.parametrize("text,mention,assertion", ASSERTIONS)
def test_assertion(analyse, text, mention, assertion):
    assert find(analyse(text), mention).assertion == assertion


# ---- laterality, body site --------------------------------------------------------------------
LATERALITY = [
    ("Left total hip replacement.", "total hip replacement", "left"),
    ("Right inguinal hernia repair.", "inguinal hernia repair", "right"),
    ("Bilateral pleural effusions.", "pleural effusions", "bilateral"),
    ("Pain in the right knee.", "pain", "right"),
    ("Fracture of the left neck of femur.", "fracture", "left"),
    ("Fracture of the neck of the left femur.", "fracture", "left"),  # the side inside the site's name
    ("X-rays showed a fracture of the surgical neck of the left proximal humerus.", "fracture", "left"),
    ("Left-sided weakness.", "weakness", "left"),
    ("L TKR", "TKR", "left"),
    ("R THR", "THR", "right"),
    ("Cellulitis of both legs.", "cellulitis", "bilateral"),
    ("Right hemicolectomy.", "hemicolectomy", "right"),
    ("Cataract extraction, left eye.", "cataract extraction", None),
    ("Procedure: LE phaco + IOL", "phaco + IOL", "left"),  # the left eye
    ("Pneumonia.", "pneumonia", None),
]


@pytest.mark.parametrize("text,mention,side", LATERALITY)
def test_laterality(analyse, text, mention, side):
    assert find(analyse(text), mention).laterality == side


BODY_SITE = [
    ("Fracture of the left neck of femur.", "fracture", "neck of femur"),
    ("Pain in the right knee.", "pain", "knee"),
    ("Knee pain for weeks.", "pain", "knee"),
    ("Total hip replacement.", "total hip replacement", "hip"),
    ("Cellulitis of the left leg.", "cellulitis", "leg"),
    ("Abscess of the right breast.", "abscess", "breast"),
    ("Renal colic.", "renal colic", "kidney"),
    ("Laceration to the scalp.", "laceration", "scalp"),
    ("Scald to the left forearm and dorsum of the left hand.", "Scald", "forearm"),  # a scald is a burn's mention
    ("Ulcer on the heel.", "ulcer", "heel"),
    ("Chest pain.", "chest pain", "chest"),
    ("Biopsy showed a grade 1 endometrioid adenocarcinoma of the endometrium.", "adenocarcinoma", "endometrium"),
    ("Fractures of the left 6th to 9th ribs (closed, undisplaced).", "Fractures", "ribs"),  # which ribs
    ("Fracture of the 5th metatarsal.", "Fracture", "metatarsal"),
    ("Compound # L angle of mandible - intraoral tear.", "#", "angle of mandible"),  # the site straight after its side
    ("Cellulitis right lower leg, improving.", "Cellulitis", "lower leg"),
    ("Left renal colic - 7 mm calculus in the lower left ureter.", "calculus", "ureter"),  # a part of the organ
    # sides and articles inside the site's name; the end of a long bone is its own site
    ("Fracture of the neck of the left femur.", "fracture", "neck of femur"),
    ("X-rays showed a closed, displaced two-part fracture of the surgical neck of the left proximal humerus.",
     "fracture", "surgical neck of humerus"),
    ("Fracture of the left proximal humerus.", "Fracture", "proximal humerus"),
    ("Benign peptic stricture of the distal oesophagus.", "peptic stricture", "oesophagus"),
    ("Pneumonia.", "pneumonia", None),
]


@pytest.mark.parametrize("text,mention,site", BODY_SITE)
def test_body_site(analyse, text, mention, site):
    assert find(analyse(text), mention).body_site == site


# ---- code-changing words ----------------------------------------------------------------------
MODIFIERS = [
    ("Acute kidney injury.", "acute kidney injury", "acute"),
    ("Chronic kidney disease.", "chronic kidney disease", "chronic"),
    ("Acute on chronic kidney injury.", "acute on chronic kidney injury", "acute on chronic"),
    ("Acute-on-chronic renal failure.", "acute-on-chronic renal failure", "acute on chronic"),
    ("Acute pancreatitis.", "acute pancreatitis", "acute"),
    ("Chronic pancreatitis.", "chronic pancreatitis", "chronic"),
    ("Type 2 diabetes mellitus.", "type 2 diabetes mellitus", "type 2"),
    ("Type 1 diabetes mellitus.", "type 1 diabetes mellitus", "type 1"),
    ("Type II diabetes.", "diabetes", "type 2"),
    ("T2DM", "T2DM", "type 2"),
    ("T1DM", "T1DM", "type 1"),
    ("IDDM", "IDDM", "type 1"),
    ("NIDDM", "NIDDM", "type 2"),
    ("Type 2 respiratory failure.", "type 2 respiratory failure", "type 2"),
    ("CKD stage 3a.", "CKD stage 3a", "stage 3a"),
    ("CKD 4", "CKD 4", "stage 4"),
    ("Chronic kidney disease stage 5.", "chronic kidney disease", "stage 5"),
    ("Stage IV breast cancer.", "breast cancer", "stage 4"),
    ("Open fracture of the tibia.", "fracture", "open"),
    ("Closed fracture of the radius.", "fracture", "closed"),
    ("Compound fracture of the tibia.", "fracture", "open"),
    ("Chronic obstructive pulmonary disease.", "chronic obstructive pulmonary disease", "chronic"),
    ("Acute myocardial infarction.", "acute myocardial infarction", "acute"),
]


@pytest.mark.parametrize("text,mention,modifier", MODIFIERS)
def test_modifier(analyse, text, mention, modifier):
    assert modifier in find(analyse(text), mention).modifiers


def test_abbreviation_inside_a_longer_mention_is_expanded(analyse):
    m = find(analyse("Infective exacerbation of COPD."), "exacerbation of COPD")
    assert m.expansion == "exacerbation of chronic obstructive pulmonary disease"
    assert m.query.endswith("exacerbation of chronic obstructive pulmonary disease")


def test_acute_on_chronic_is_not_acute_and_chronic(analyse):
    m = find(analyse("Acute on chronic kidney injury."), "acute on chronic kidney injury")
    assert "acute" not in m.modifiers and "chronic" not in m.modifiers


# ---- sections ---------------------------------------------------------------------------------
SECTIONS = [
    ("Presenting complaint: chest pain", "presenting_complaint"),
    # a header with its date, alone on its line
    ("Operation (10/02/2026)\nLaparoscopic right hemicolectomy.", "procedures"),
    ("Procedure 12/03/2026\nOGD.", "procedures"),
    ("PC: chest pain", "presenting_complaint"),
    ("Chief complaint: chest pain", "presenting_complaint"),
    ("Reason for admission:\nchest pain", "presenting_complaint"),
    ("History of presenting complaint: chest pain for 2 days", "hpc"),
    ("HPC: chest pain for 2 days", "hpc"),
    ("History of present illness: chest pain for 2 days", "hpc"),
    ("HPI: chest pain for 2 days", "hpc"),
    ("Past medical history:\n- asthma", "past_medical_history"),
    ("PMH: asthma", "past_medical_history"),
    ("PMHx: asthma", "past_medical_history"),
    ("Past surgical history: appendicectomy", "past_surgical_history"),
    ("Diagnoses:\n1. asthma", "diagnoses"),
    ("Final diagnosis: asthma", "diagnoses"),
    ("Discharge diagnosis: asthma", "diagnoses"),
    ("Primary diagnosis: asthma", "primary_diagnosis"),
    ("Secondary diagnoses: asthma", "secondary_diagnoses"),
    ("Working diagnosis: asthma", "working_diagnosis"),
    ("Differential diagnosis: asthma", "differential_diagnosis"),
    ("Impression: asthma", "diagnoses"),
    ("Imp: ?appendicitis", "diagnoses"),
    ("Op (19/04/2026, GA, onset-to-theatre 3.5 h):\nScrotal exploration", "procedures"),
    ("Problems this admission:\n1. Neutropenic sepsis", "diagnoses"),
    ("Issues during admission:\n1. asthma", "diagnoses"),
    ("Procedures: appendicectomy", "procedures"),
    ("Operations/procedures: appendicectomy", "procedures"),
    ("Operation performed: appendicectomy", "procedures"),
    ("Operation (07/07/2025):\nLeft cemented total knee replacement", "procedures"),
    ("Operation (10/06/2025), under general anaesthetic:\nLaparoscopic right ovarian cystectomy.", "procedures"),
    ("Procedure 21/11/2026 (Dr Mehra), local anaesthetic, R radial 6F:\n- PPCI to proximal LAD.", "procedures"),
    ("Investigations: CT scan", "investigations"),
    ("Results: CT scan", "investigations"),
    ("Medications on discharge: aspirin for angina", "medications"),
    ("Discharge medications: aspirin for angina", "medications"),
    ("Allergies: penicillin rash", "allergies"),
    ("Plan: treat pneumonia", "plan"),
    ("Follow up: review of asthma in clinic", "follow_up"),
    ("Follow-up: review of asthma in clinic", "follow_up"),
    ("Other background:\n- Left total knee replacement 2012", "past_medical_history"),
    # a possessive may open the header's line
    ("Seen in clinic.\n\nHis other medical history:\n- Hypertension on ramipril", "past_medical_history"),
    ("Family history: asthma", "family_history"),
    ("FH: asthma", "family_history"),
    ("Social history: smoker with asthma", "social_history"),
    ("SH: smoker with asthma", "social_history"),
    ("On examination: wheeze", "examination"),
    ("O/E: wheeze", "examination"),
    ("Physical exam: wheeze", "examination"),
    ("Hospital course: asthma improved", "discharge_summary"),
    ("DISCHARGE SUMMARY\nasthma", "discharge_summary"),
]


@pytest.mark.parametrize("text,section", SECTIONS)
def test_section(analyse, text, section):
    doc = analyse(text)
    assert doc._.mentions, "no mention to carry the section"
    assert doc._.mentions[-1].section == section


def test_header_mid_sentence_is_not_a_section(analyse):
    doc = analyse("The plan was discussed. Patient has asthma.")
    assert all(m.section is None for m in doc._.mentions)


@pytest.mark.parametrize("text, sections", [
    # a sentence of a prose letter that ends its line with a colon heads the list below it
    ("She was admitted with a rising creatinine. Her problems this admission were:\n1. Granulomatosis with polyangiitis",
     ["diagnoses"]),
    ("He was admitted with sepsis. Diagnoses:\n1. Pneumonia", [None, "diagnoses"]),
    ("She was admitted with a rising creatinine. The problems this admission were:\n1. Gout", ["diagnoses"]),
    # not where the sentence goes on after its colon, or the words are not its start
    ("She was admitted with asthma. Her problems this admission were: asthma and gout", [None, None, None]),
    ("We reviewed the problems this admission were:\n1. Gout", [None]),
])
def test_a_prose_sentence_ending_its_line_with_a_colon_is_a_header(analyse, text, sections):
    assert [m.section for m in analyse(text)._.mentions] == sections


def test_sections_switch_and_carry(analyse):
    doc = analyse("PMH:\n- previous MI\nDiagnoses:\n1. NSTEMI\n2. AKI\nPlan:\nrepeat U&E")
    got = {m.text: m.section for m in doc._.mentions}
    assert got["MI"] == "past_medical_history"
    assert got["NSTEMI"] == "diagnoses" and got["AKI"] == "diagnoses"
    assert [s.section for s in doc._.section_spans] == ["past_medical_history", "diagnoses", "plan"]


# ---- sentences --------------------------------------------------------------------------------
SENTENCES = [
    ("Diagnoses:\n1. NSTEMI\n2. AKI\n3. T2DM", ["Diagnoses:", "1. NSTEMI", "2. AKI", "3. T2DM"]),
    ("Problems:\n- asthma\n- COPD\n* gout", ["Problems:", "- asthma", "- COPD", "* gout"]),
    ("Diagnoses: 1. NSTEMI 2. AKI 3. T2DM", ["Diagnoses:", "1. NSTEMI", "2. AKI", "3. T2DM"]),
    ("He was admitted with chest pain and\nshortness of breath.", ["He was admitted with chest pain and\nshortness of breath."]),
    ("PAST MEDICAL HISTORY\nAsthma", ["PAST MEDICAL HISTORY", "Asthma"]),
    ("Plan\nRepeat bloods", ["Plan", "Repeat bloods"]),
    ("Seen in clinic.\n\nplan to discharge", ["Seen in clinic.", "plan to discharge"]),
    ("a) asthma\nb) COPD", ["a) asthma", "b) COPD"]),
    ("Dr. Smith reviewed him. He went home.", ["Dr. Smith reviewed him.", "He went home."]),
    ("?pneumonia on CXR", ["?pneumonia on CXR"]),
    ("Hb was 7.5 today. Given transfusion.", ["Hb was 7.5 today.", "Given transfusion."]),
    # a numbered item that starts with its date
    ("Procedures:\n1. 09/02/2026 - Flexible sigmoidoscopy.\n2. 16/02/2026 - Sigmoid colectomy.",
     ["Procedures:", "1. 09/02/2026 - Flexible sigmoidoscopy.", "2. 16/02/2026 - Sigmoid colectomy."]),
]


@pytest.mark.parametrize("text,expected", SENTENCES)
def test_sentences(nlp, text, expected):
    doc = nlp(text)
    assert [s.text.strip() for s in doc.sents if s.text.strip()] == expected


@pytest.mark.parametrize("text, asides", [
    ("intertrochanteric (extracapsular) fracture", ["(extracapsular)"]),
    ("a (b) c (d e) f", ["(b)", "(d e)"]),
    ("()", []),  # empty: no aside
    ("fracture (", []),  # unclosed at the end
    ("a (b (c) d) e", ["(c)"]),  # nested: only the inner one
    ("a (one two three four five) b", []),  # longer than ASIDE_WORDS
    ("a ) b", []),  # a stray closing bracket
])
def test_short_parenthesised_asides(text, asides):
    from clincoder.text.lexicon import norm_tokens, tokens
    from clincoder.text.mentions import without_asides

    ntoks = norm_tokens(tokens(text))
    kept, found = without_asides(ntoks)
    assert [text[a:b] for a, b in found] == asides
    assert len(kept) + sum(len(norm_tokens(tokens(text[a:b]))) for a, b in found) == len(ntoks)


def test_the_words_that_settle_a_sense_are_those_around_that_abbreviation(analyse):
    # the overdose named just after does not make the dose's "OD" an overdose
    doc = analyse("Sertraline 100 mg OD. Previous OD of sertraline in 2019.")
    senses = [(a.text, a.expansion) for a in doc._.clin_abbreviations if a.text == "OD"]
    assert senses == [("OD", "once daily"), ("OD", "overdose")]
