"""Word lists shared across the project: one place for each stop-word list, and the content
words of a title (what "shares words with" means wherever titles and text are compared)."""

from __future__ import annotations

import functools
import re
from typing import Sequence

# Function words and classification boilerplate in code titles ("Other and unspecified ...,
# not elsewhere classified"): matching two titles, or a title and a mention, ignores them.
TITLE_STOP_WORDS = frozenset({"and", "or", "of", "the", "with", "without", "other", "unspecified", "specified", "due",
                              "to", "in", "on", "for", "by", "not", "elsewhere", "classified", "nec", "nos", "a", "an"})

# For judging whether a letter supports a code (the audit): also the axes and boilerplate of
# ICD-10-CM/PCS titles that a letter rarely words the same way (site, side, approach, encounter).
SUPPORT_STOP_WORDS = TITLE_STOP_WORDS | {"site", "type", "part", "use", "left", "right", "approach", "open",
                                         "percutaneous", "external", "body", "encounter", "initial"}

# For the lexicon's head phrases: everything above plus words that say which kind of condition,
# where or how severe, but not which condition ("acute", "disease", "left", "lobe").
LEXICON_STOP_WORDS = frozenset({"a", "an", "the", "and", "or", "of", "in", "on", "to", "for", "by", "with", "without", "at", "from",
         "as", "due", "not", "other", "specified", "unspecified", "nos", "nec", "site", "sites", "part", "parts",
         "type", "left", "right", "bilateral", "unilateral", "acute", "chronic", "mild", "moderate", "severe",
         "stage", "encounter", "initial", "subsequent", "sequela", "disease", "diseases", "disorder", "disorders",
         "condition", "conditions", "syndrome", "injury", "injuries", "complication", "complications",
         "abnormality", "abnormalities", "abnormal", "finding", "findings", "status", "history", "personal",
         "family", "problem", "problems", "care", "examination", "use", "person", "patient", "contact",
         "elsewhere", "classified", "approach", "open", "closed", "percutaneous", "endoscopic", "external",
         "via", "natural", "artificial", "opening", "device", "no", "into", "using", "one", "two", "more",
         "multiple", "single", "region", "level", "body", "organ", "organs", "system", "tissue", "lesion",
         "lesions", "mass", "state", "states", "effect", "effects", "reaction", "failure", "change", "changes",
         "involvement", "manifestation", "manifestations", "form", "forms", "cause", "causes", "presence",
         "absence", "absent", "excision", "drainage", "insertion", "removal", "repair", "replacement", "revision",
         "release", "extraction", "extirpation", "destruction", "division", "inspection", "supplement",
         "restriction", "occlusion", "dilation", "bypass", "fusion", "reposition", "resection", "transfer",
         "alteration", "control", "creation", "detachment", "fragmentation", "map", "reattachment",
         "transplantation", "introduction", "irrigation", "measurement", "monitoring", "imaging", "plain",
         "radiography", "fluoroscopy", "new", "old", "high", "low", "normal", "positive", "negative", "day",
         "days", "week", "weeks", "year", "years", "age", "time", "month", "months", "life", "male", "female",
         "involving", "affecting", "following", "after", "during", "than", "less", "greater", "other",
         "specific", "general", "generalized", "localized", "primary", "secondary", "simple", "complex",
         "total", "partial", "complete", "incomplete", "substance", "substances", "agent", "agents", "drug",
         "drugs", "poisoning", "underdosing", "accidental", "intentional", "undetermined", "assault", "self",
         "harm", "adverse", "medicament", "medicaments", "biological", "biologicals", "blood", "fluid",
         "procedure", "surgery", "serum", "level", "levels", "count", "operation", "treatment", "therapy", "test", "result", "unit", "hospital",
         "admission", "discharge", "plan", "medication", "management", "observation", "evaluation", "screening",
         "upper", "lower", "anterior", "posterior", "lateral", "medial", "proximal", "distal", "superior",
         "inferior", "internal", "wall", "joint", "bone", "muscle", "tendon", "nerve", "vessel", "artery", "vein",
         "side", "area", "surface", "portion", "segment", "lobe", "duct", "gland", "cavity", "structure",
         # an attack of what the words around it name ("an attack of gout", "asthma attack"); alone, it
         # named a heart attack
         "attack", "attacks"})


def content_words(text: str) -> set[str]:
    """The words of ``text`` that carry meaning (lower case, plural -s dropped, stop words and
    words of one or two letters out)."""
    return set(content_sequence(text))


# the titles' -ize where letters write -ise ("localised peritonitis" is the "localized" of K35.3); the
# lexicon's UK -> US spelling (_SPELLING) reads it the same way
_ISE = re.compile(r"(?<=[a-z]{3})is(ation|ed|ing|e)$")


def content_sequence(text: str, numbers: bool = False) -> list[str]:
    """:func:`content_words` in the order the text has them (repeats kept); ``numbers``: words
    with digits are kept too ("type 2", "1st degree"), whatever their length. UK -ise is read as
    the titles' -ize."""
    if not numbers:
        return [_ISE.sub(r"iz\1", w).rstrip("s") for w in re.findall(r"[a-z]+", text.lower())
                if len(w) > 2 and w not in TITLE_STOP_WORDS]
    return [w if w[:1].isdigit() else _ISE.sub(r"iz\1", w).rstrip("s") for w in re.findall(r"[a-z0-9]+", text.lower())
            if (len(w) > 2 and w not in TITLE_STOP_WORDS) or any(ch.isdigit() for ch in w)]


def within(words: frozenset[str] | set[str], sequence: Sequence[str], slack: int) -> bool:
    """Whether all of ``words`` occur in ``sequence`` within a run of ``len(words) + slack``
    words ("age-related (nuclear sclerotic) cataract" names "nuclear cataract"; "platelet count
    ... pre-transfusion" does not name a platelet transfusion)."""
    span = len(words) + slack
    hits = [(i, w) for i, w in enumerate(sequence) if w in words]
    for k, (start, _) in enumerate(hits):
        if {w for i, w in hits[k:] if i < start + span} >= set(words):
            return True
    return False


# An imaging test, whose date is not that of what it shows: "transferred after a CT head at the
# district hospital showed a chronic subdural haematoma" (the CT is history, the haematoma is not)
IMAGING_TEST = re.compile(r"\b(ct|ctpa|cta|computed tomography|mri|mra|magnetic resonance|x-?rays?|radiographs?|"
                          r"ultrasound|uss|echo|echocardiogram|echocardiography|scan|pet|angiogram|angiography|"
                          r"doppler|imaging)\b", re.I)

# Units of a size, volume or dose written in letters ("a 6 cm abscess", "a 16 Fr catheter")
UNITS = ("mm", "cm", "ml", "kg", "mg", "mcg", "mmol", "fr")

# Words that end the description written in front of a condition ("admitted with | acute severe
# asthma", "strongly suggests | juvenile myoclonic epilepsy"): function words and the verbs and
# hedges of a statement, which describe the statement, not the condition, and units ("a 6 cm |
# pericolic abscess").
LEAD_STOP_WORDS = frozenset("""a an and are as at be been but by due for from had has have he her his in into is it
its known not of on or she that the their there this to under was were which while who with without suggests
suggest suggestive likely probable probably possible possibly strongly clinically diagnosed confirmed treated
presented admitted developed having consistent keeping""".split()) | frozenset(UNITS)

# A word that names an operation on its own, by its ending ("bullectomy", "pyeloplasty",
# "oophorectomy", "dialysis": "haemodialysis" is a fuller dialysis), and the prefixes that make
# such a word another operation, not a fuller one ("parathyroidectomy" is no fuller
# thyroidectomy, "hemilaminectomy" no fuller laminectomy); the endings match content words too,
# which drop a final "s" ("dialysi")
OPERATION_WORD = r"(?:ectomy|otomy|plasty|pexy|rrhaphy|desis?|tripsy|lysis?)$"
OPERATION_PREFIX = r"^(?:para|sub|re|hemi|bi|un|ab|intra|extra|supra|infra|peri|trans|epi|hypo|hyper|non|de|dis|pan|semi)$"

# A denial and the clause it runs over ("no chemotherapy was given", "varices - not bled", "no
# ischiorectal or supralevator extension"): the clause ends at a sentence or list mark, a
# parenthesis, " - ", or a word that turns to another statement ("not perforated but actively
# bleeding", "no dose reduction was needed and cycle 3 was given", "no fever with rigors")
DENIAL_CLAUSE = (r"\b(?:no|not|never|nil|without)\b"
                 r"(?:(?!\b(?:but|and|so|although|while|with)\b|\s[-\u2013\u2014]\s)[^.;:,()])*")

# A list item's bullet or number at the start of a line ("- ", "• ", "2. ", "3) "): where a
# letter's lists open their items (a year, "2026.", is no item number)
LIST_MARKER = r"(?:[-*\u2022]|\d{1,2}[.)])"

# A measurement in an operation's context ("the 9 mm nodular BCC", "a 16 Fr catheter", "8.2 L"):
# how big, not what was done to what. A bare "l" or "g" is no unit ("L" is also left); after a
# number it is ("8.2L").
MEASURE = re.compile(r"^\(?(\d+([.,/x]\d+)*(" + "|".join(("l", "g", *UNITS)) + r")?|x|" + "|".join(UNITS)
                     + r")[).,;:]?$", re.I)


# Procedures written as what was done, the object before and the instrument after ("Bleeding point
# cauterised with silver nitrate", "polyp ... completely resected with a hysteroscopic tissue
# removal system"): each participle with the noun that code titles and index terms use.
PROCEDURE_PARTICIPLES = {
    "excised": "excision", "resected": "resection", "biopsied": "biopsy", "aspirated": "aspiration",
    "cauterised": "cauterisation", "cauterized": "cauterisation", "drained": "drainage", "repaired": "repair",
    "removed": "removal", "inserted": "insertion", "debrided": "debridement", "amputated": "amputation",
    "packed": "packing", "sutured": "suture", "ligated": "ligation", "dilated": "dilation",
    "manipulated": "manipulation", "stented": "stent insertion", "lasered": "laser fragmentation",
    "fragmented": "fragmentation", "ablated": "ablation", "embolised": "embolisation", "embolized": "embolisation",
    "catheterised": "catheterisation", "catheterized": "catheterisation", "evacuated": "evacuation",
    "laid open": "laying open",  # "the low fistula was laid open over a probe"
    "fused": "fusion", "washed out": "washout", "fixed": "fixation",
}
# The titles before a clinician's name: "Mr Balogun, the orthopaedic registrar, aspirated the
# right hip" tells an operation as "I aspirated" does.
CLINICIAN_TITLES = frozenset({"Mr", "Mrs", "Ms", "Miss", "Dr", "Professor", "Prof"})
APPOSITION_WORDS = 8  # the most words of an aside after a clinician's name ("Mr Balogun, the registrar,")
# A phase of a condition's course, named before the condition "of" which it is ("Acute
# exacerbation of idiopathic pulmonary fibrosis"): the condition is the mention, not its phase.
COURSE_PHASES = frozenset({"exacerbation", "acute exacerbation", "infective exacerbation", "flare", "acute flare"})


def clinician_named(words: list[str]) -> bool:
    """Whether ``words`` end with a clinician named by title, with or without an aside set off by
    commas after the name ("Mr Balogun", "Dr. Lindqvist, the consultant,")."""
    ws = [w for word in words for w in re.findall(r"[^\s,.]+|,", word)]
    if ws and ws[-1] == ",":
        start = max(-1, len(ws) - APPOSITION_WORDS - 3)
        comma = next((i for i in range(len(ws) - 2, start, -1) if ws[i] == ","), None)
        ws = ws[:comma] if comma is not None else []
    return len(ws) >= 2 and ws[-1][:1].isupper() and ws[-2] in CLINICIAN_TITLES
# The subjects of a surgeon's own account ("I removed the left adrenal gland", "we then debrided
# the wound"): after one of them, any participle above names the operation done.
OPERATIVE_SUBJECTS = frozenset({"I", "we", "We"})
# The sections of an operation note, where a participle needs no subject: the note tells what was
# done ("Posterior low fistula laid open over a probe", "loose seton inserted").
OPERATION_NOTE_SECTIONS = frozenset({"procedures"})
# Participles that in an operation note without a subject tell a step of the operation rather than
# one (access: "cervix dilated to Hegar 10", "tract balloon-dilated to 30 Fr"; closing: "capsule and
# short external rotators repaired"; aftercare: "drain removed on day 2").
OPERATION_NOTE_STEPS = frozenset({"dilated", "removed", "repaired", "sutured", "packed"})
# Those participles that name an operation on their own in a letter (a mention of the text stage:
# "repaired", "removed" are too common in other senses to be one).
PARTICIPLE_MENTIONS = ("cauterised", "cauterized", "excised", "resected", "biopsied", "drained", "manipulated", "debrided",
                       "stented", "lasered", "fragmented", "ablated", "embolised", "embolized", "catheterised",
                       "catheterized")
# Generic nouns that name an operation only with their object, read with the words around them
# ("sutured repair of the paraumbilical hernia", "percutaneous biopsy of the transplant kidney",
# "CRE balloon dilatation"), each a mention of the text stage, with the noun the titles use.
PROCEDURE_NOUNS = {
    "repair": "repair", "sutured repair": "sutured repair", "mesh repair": "mesh repair", "primary repair": "primary repair",
    "dilatation": "dilation", "balloon dilatation": "balloon dilation", "dilation": "dilation",
    "balloon dilation": "balloon dilation", "ablation": "ablation", "embolisation": "embolisation",
    "embolization": "embolisation", "band ligation": "band ligation",
    "biopsies": "biopsy", "biopsy": "biopsy", "excision": "excision", "resection": "resection",
    # "incision and drainage of L peritonsillar abscess", "needle aspiration of the left knee"
    "incision and drainage": "incision and drainage", "drainage": "drainage", "aspiration": "aspiration",
    "needle aspiration": "needle aspiration",
    # "manipulation of the nasal bones under general anaesthetic"
    "manipulation": "manipulation",
    # "irrigation and closure of the 4 cm left parietal scalp laceration"
    "closure": "closure",
    # "insertion of an uncovered self-expanding metal colonic stent"
    "insertion": "insertion",
    # "incision and curettage of a left upper eyelid chalazion"
    "incision and curettage": "incision and curettage", "curettage": "curettage",
    # "endoscopic bipolar electrocautery of the L Little's area vessel"
    "cautery": "cauterisation", "electrocautery": "cauterisation", "cauterisation": "cauterisation",
    "electrocauterisation": "cauterisation",
}

# Words that name a kind of condition but not where or which ("fracture", "obstruction",
# "abscess"): read with the words written before them, never alone, where there are such words.
GENERIC_HEADS = frozenset("""fracture fractures obstruction abscess collection ulcer ulcers infection stenosis
haemorrhage hemorrhage bleed bleeding cyst lesion lesions mass tumour tumor effusion thrombosis embolism infarct
infarction aneurysm hernia fistula laceration dislocation injury failure insufficiency polyp polyps nodule
carcinoma cancer neoplasm malignancy metastasis metastases perforation rupture occlusion ischaemia ischemia
inflammation wound burn pain prolapse adenocarcinoma adenoma neuritis neuronitis neuropathy palsy""".split())

# Words next to a generic procedure noun that make it describe something else, not an
# operation done: "resection margins clear", "the repair site", "mismatch repair proficient".
NOT_DONE_AFTER = frozenset({"margin", "margins", "specimen", "specimens", "site", "proficient", "deficient", "status",
                            "bed", "cavity", "line"})
NOT_DONE_BEFORE = frozenset({"mismatch", "dna"})
# ... and those before a closure that no operation made, or that is a step of one ("incomplete eye
# closure", "spontaneous closure of the ductus", "skin closure with clips")
NOT_DONE_BEFORE_CLOSURE = frozenset({"eye", "eyes", "eyelid", "eyelids", "lid", "lids", "mouth", "jaw", "incomplete",
                                     "poor", "weak", "valve", "glottic", "spontaneous", "fontanelle", "ductal", "duct",
                                     "skin", "port", "site", "mass", "layered", "fascial", "direct"})

# One side of the body as letters write it; not "bilateral", which changes codes in every
# classification (Q22 bilateral, Q23 unilateral excision of adnexa; K40.2 bilateral inguinal hernia).
SIDE_WORDS = frozenset({"left", "right", "l", "r", "lt", "rt"})
# Where the side names a different organ, not the side of a paired one: OPCS-4 codes the right and
# the left colon (H07, H09) and the right and left heart apart; a paired organ's side is Z94's.
SIDED_ORGANS = frozenset({"colon", "hemicolon", "hemicolectomy", "heart", "atrium", "atrial", "ventricle",
                          "ventricular", "hemihepatectomy"})


def side_names_organ(words: Sequence[str]) -> bool:
    """Whether a side written before ``words`` names an organ of its own (:data:`SIDED_ORGANS`)."""
    return any(w.lower().strip(",;:.") in SIDED_ORGANS for w in words)

# Words that end the clause a generic procedure noun stands in: its object lies between them
# ("so proceeded at same sitting to | incision and drainage of L peritonsillar abscess"; "aspiration
# of the right knee | was performed on the ward").
CLAUSE_WORDS = frozenset("""was were is are be been being has have had performed done carried undertaken showed
shows revealed confirmed proceeded then which who because so but after before by under""".split())
# the auxiliary of a passive ("the fracture was manipulated"): the operation's object stands before it
PASSIVE_AUXILIARIES = frozenset("was were is are been being".split())
# What a passive says was taken out that is no operation: a device or dressing put in earlier, the
# specimen of the operation itself ("the drain was removed", "sutures were removed", "the specimen
# was removed"); the words that stand for no object ("it was removed", "soft and was excised").
NOT_OPERATED_REMOVALS = frozenset("""drain drains catheter catheters tube tubes line lines cannula cannulae
picc vascath sutures suture stitches clips staples pack packs packing bolster band pump specimen balloon dressing
dressings plaster cast splint wire wires seton frame""".split())
NO_OBJECT_WORDS = frozenset("it they none which that this these those and or but nothing".split())


# ---- the normal form of a clinical word (lexicon matching, comparing titles) ----------------

_SPELLING = [  # UK -> US, applied to lower-case tokens (both sides of a match see the same form)
    (re.compile(r"^haem"), "hem"), (re.compile(r"aem"), "em"), (re.compile(r"^oesoph"), "esoph"),
    (re.compile(r"^oe"), "e"), (re.compile(r"(?<=[a-z])oe(?=[a-z])"), "e"), (re.compile(r"paed"), "ped"),
    (re.compile(r"^faec"), "fec"), (re.compile(r"^caec"), "cec"), (re.compile(r"^foet"), "fet"),
    (re.compile(r"our$"), "or"), (_ISE, r"iz\1"),
    (re.compile(r"^appendicectom"), "appendectom"), (re.compile(r"tre$"), "ter"),
]
_NO_PLURAL = ("ss", "us", "is", "ous", "ics", "sis", "xis", "itis")
# Latin and Greek plurals of clinical nouns ("pulmonary emboli", "CBD calculi", "vertebrae",
# "diverticula", "metastases"): -i -> -us and -ae -> -a by rule, the irregular ones listed
_CLASSICAL_PLURAL = {"diverticula": "diverticulum", "bacteria": "bacterium", "ganglia": "ganglion",
                     "septa": "septum", "ova": "ovum", "foramina": "foramen", "metastases": "metastasis",
                     "stenoses": "stenosis", "anastomoses": "anastomosis", "prostheses": "prosthesis",
                     "thromboses": "thrombosis", "diagnoses": "diagnosis", "psychoses": "psychosis",
                     # an embolus is what the titles call an embolism: letters write both
                     "embolism": "embolus", "embolisms": "embolus"}


@functools.lru_cache(maxsize=200_000)
def norm(token: str) -> str:
    """Normal form of one token: lower case, US spelling, singular (Latin and Greek plurals too)."""
    t = token.lower()
    if not t.isalpha() or len(t) < 4:
        return t
    if t in _CLASSICAL_PLURAL:
        return _CLASSICAL_PLURAL[t]
    for pat, rep in _SPELLING:
        t = pat.sub(rep, t)
    if t.endswith("i") and t[-2] not in "aeiou" and len(t) > 4:  # emboli, calculi, bronchi, cocci
        return t[:-1] + "us"
    if t.endswith("ae") and len(t) > 5:  # vertebrae, fistulae
        return t[:-1]
    if t.endswith("ies") and len(t) > 5:
        return t[:-3] + "y"
    if t.endswith("s") and not t.endswith(_NO_PLURAL) and len(t) > 4:
        return t[:-1]
    return t


# Body sites as letters name them (a mention's site), and the adjectives that name one: the text
# stage reads them, and the lexicon leaves out a phrase made of them alone.
BODY_SITES = (
    "head", "neck", "face", "scalp", "eye", "eyes", "ear", "ears", "nose", "mouth", "jaw", "throat", "tongue",
    "chest", "thorax", "breast", "lung", "lungs", "heart", "abdomen", "stomach", "liver", "gallbladder",
    "gall bladder", "pancreas", "spleen", "kidney", "kidneys", "bladder", "ureter", "urethra", "prostate",
    "uterus", "endometrium", "ovary", "cervix", "vagina", "vulva", "testis", "testicle", "bowel", "small bowel", "large bowel", "colon",
    "sigmoid colon", "ascending colon", "transverse colon", "descending colon", "hepatic flexure", "splenic flexure",
    "rectosigmoid", "rectum", "anus", "appendix", "duodenum", "oesophagus", "esophagus", "caecum", "cecum",
    "brain", "spine", "cervical spine", "thoracic spine", "lumbar spine", "back", "lower back", "shoulder", "arm",
    "upper arm", "elbow", "forearm", "wrist", "hand", "finger", "thumb", "hip", "pelvis", "thigh", "femur",
    "neck of femur", "femoral neck", "knee", "leg", "lower leg", "lower limb", "upper limb", "tibia", "fibula",
    "ankle", "foot", "feet", "toe", "great toe", "heel", "humerus", "radius", "distal radius", "ulna", "clavicle",
    "scapula", "rib", "ribs", "sternum", "skull", "vertebra", "sacrum", "coccyx", "patella", "calcaneus",
    "metatarsal", "metacarpal", "skin", "groin", "buttock", "perineum", "carotid artery", "coronary artery",
    "aorta", "femoral artery", "iliac artery", "thyroid", "adrenal", "lymph node", "lymph nodes", "axilla",
    "orbit", "retina", "sinus", "larynx", "pharynx", "trachea", "bronchus", "pleura", "diaphragm", "peritoneum",
    "mitral valve", "aortic valve", "tricuspid valve", "pulmonary valve", "ventricle", "atrium", "renal pelvis",
    "biliary tree", "common bile duct", "bile duct", "ileum", "jejunum", "umbilicus", "scrotum", "penis",
    "fallopian tube", "shin", "calf", "achilles tendon", "rotator cuff", "acetabulum", "ankle joint", "hip joint",
    "knee joint", "shoulder joint",
    # the bones and parts of bones that fractures are named by ("fracture of the L olecranon")
    "olecranon", "scaphoid", "radial head", "humeral head", "neck of humerus", "surgical neck of humerus",
    "tibial plateau", "tibial shaft", "malleolus", "lateral malleolus", "medial malleolus", "talus", "navicular",
    "pubic ramus", "pubic rami", "mandible", "mandibular angle", "angle of mandible", "angle of the mandible",
    "zygoma", "maxilla", "nasal bone", "odontoid peg",
    # the parts of the stomach a tumour or ulcer is named by ("adenocarcinoma of the gastric antrum")
    "gastric antrum", "antrum", "pylorus", "gastric cardia", "cardia", "gastric fundus",
    # the lobes of the brain ("a mass in the right frontal lobe")
    "frontal lobe", "temporal lobe", "parietal lobe", "occipital lobe",
    # the lobes of a lung ("adenocarcinoma of the right upper lobe")
    "upper lobe", "middle lobe", "lower lobe", "lingula",
    # the parts of the gut and larynx that tumours are named by ("squamous cell carcinoma of the
    # anal canal", "adenocarcinoma of the gastro-oesophageal junction", "carcinoma of the glottis")
    "anal canal", "anal margin", "anal verge", "gastro-oesophageal junction", "oesophagogastric junction",
    "glottis", "supraglottis", "subglottis",
)
ADJECTIVE_SITES = {
    "renal": "kidney", "pulmonary": "lung", "hepatic": "liver", "cardiac": "heart", "cerebral": "brain",
    "femoral": "femur", "gastric": "stomach", "colonic": "colon", "rectal": "rectum", "pancreatic": "pancreas",
    "splenic": "spleen", "vesical": "bladder", "prostatic": "prostate", "ovarian": "ovary", "uterine": "uterus", "endometrial": "endometrium",
    "cervical": "cervix", "oesophageal": "oesophagus", "esophageal": "esophagus", "duodenal": "duodenum",
    "tibial": "tibia", "humeral": "humerus", "thoracic": "thorax", "lumbar": "lumbar spine", "ocular": "eye",
    "cutaneous": "skin", "abdominal": "abdomen", "pelvic": "pelvis", "cranial": "skull", "intracranial": "brain",
    "laryngeal": "larynx", "thyroid": "thyroid", "biliary": "biliary tree", "ileal": "ileum",
    "mandibular": "mandible", "zygomatic": "zygoma",
}
# an adjective whose site depends on the word after it (word beginnings): "cervical myelopathy"
# is the cervical spine's, "cervical lymphadenopathy" the neck's and "cervical polyp" the
# cervix's (its site in ADJECTIVE_SITES); "thoracic spondylosis" is the thoracic spine's
_SPINE_WORDS = ("spin", "vertebra", "cord", "myelopath", "spondyl", "radiculopath", "disc", "collar", "canal",
                "facet", "kyphos")
ADJECTIVE_SENSES = {
    "cervical": {"cervical spine": _SPINE_WORDS, "neck": ("node", "lymph", "rib")},
    "thoracic": {"thoracic spine": _SPINE_WORDS},
}


def adjective_site(adjective: str, following: str = "") -> str:
    """The site an adjective of ADJECTIVE_SITES names, read by the word after it (``following``
    starts with it) where ADJECTIVE_SENSES says the sense depends on that word."""
    adjective = adjective.lower()
    words = following.lower().split()
    word = words[0].strip(",.;:()") if words else ""
    for site, beginnings in ADJECTIVE_SENSES.get(adjective, {}).items():
        if word and word.startswith(beginnings):
            return site
    return ADJECTIVE_SITES[adjective]


def names_site(adjective: str, site: str | None) -> bool:
    """The adjective can name ``site`` in one of its senses ("cervical": the cervix, the cervical
    spine or the neck)."""
    adjective = adjective.lower()
    return site is not None and (ADJECTIVE_SITES.get(adjective) == site or site in ADJECTIVE_SENSES.get(adjective, {}))
