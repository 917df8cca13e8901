"""Procedure phrases of UK letters, coded by the ``uk`` profile (NHS England, OPCS-4.10): each
phrase gets exactly the OPCS-4 codes an NHS clinical coder assigns, in order (the main code, then
the supplementary codes that qualify it: approach Y75, image control Y53, arterial approach Y79,
laterality Z94).

The phrase stands in a short discharge summary (a one-line diagnosis section and a
``Procedures:`` list), as in ``data/examples`` and ``data/uk-gold``. Codes follow the National
Clinical Coding Standards OPCS-4 and the conventions of ``data/uk-gold/README.md``: compound codes
(OGD with biopsy is one code), PYZ order (procedure, approach, laterality), laterality for paired
organs and limbs but not where the title says "bilateral" (F34.1, N17.1). Phrases the coder still
gets wrong are reported with the issue, not tested here.
"""

from __future__ import annotations

import pytest

from clincoder.coder import Coder
from clincoder.core.codes import System
from clincoder.core.config import Settings
from clincoder.core.tables import load_table

LETTER = "Discharge summary\n\nDiagnosis:\n{diagnosis}\n\nProcedures:\n- {phrase}\n"
DIAGNOSIS = "Admitted for the procedure below."
# an obstetric operation (Chapter R) is coded on the mother's record of a delivery (CON-020)
DELIVERY = "Labour at term with failure to progress. Single live birth."

CASES = [
    # cardiology
    pytest.param("PCI to proximal LAD with one drug-eluting stent", ["K75.1"], id="pci-des"),
    pytest.param("PCI to right coronary artery with two drug-eluting stents via right radial artery",
                 ["K75.1", "Y79.5"], id="pci-radial"),
    pytest.param("Primary PCI to RCA with one drug-eluting stent via right femoral artery",
                 ["K75.1", "Y79.3"], id="ppci-femoral"),
    pytest.param("PCI with 3 drug-eluting stents to LAD", ["K75.2"], id="pci-3-des"),
    # the number of catheters is rarely written: coronary arteriography NEC
    pytest.param("Coronary angiography via the right radial artery", ["K63.6", "Y79.5"], id="angio-radial"),
    pytest.param("Diagnostic coronary angiogram", ["K63.6"], id="angio"),
    pytest.param("PCI to circumflex with one bare metal stent", ["K75.3"], id="pci-bms"),
    pytest.param("PPM insertion", ["K60.1"], id="ppm"),
    pytest.param("Dual chamber permanent pacemaker implantation", ["K60.6"], id="ppm-dual"),
    pytest.param("Single chamber pacemaker implantation", ["K60.5"], id="ppm-single"),
    pytest.param("CRT-P implantation", ["K60.7"], id="crt-p"),
    pytest.param("Single chamber ICD implantation", ["K59.1"], id="icd"),
    pytest.param("DC cardioversion", ["X50.1"], id="dccv"),
    pytest.param("Pulmonary vein isolation for paroxysmal AF", ["K62.1"], id="pvi"),
    pytest.param("Cavotricuspid isthmus (CTI) radiofrequency ablation for typical flutter", ["K62.2"], id="cti-ablation"),
    # orthopaedics
    pytest.param("Left cemented hemiarthroplasty of hip", ["W46.1", "Z94.3"], id="hemi-cemented"),
    pytest.param("Right uncemented hemiarthroplasty of hip", ["W47.1", "Z94.2"], id="hemi-uncemented"),
    pytest.param("Right cemented total hip replacement", ["W37.1", "Z94.2"], id="thr-cemented"),
    pytest.param("Left uncemented total hip replacement", ["W38.1", "Z94.3"], id="thr-uncemented"),
    pytest.param("Right hybrid total hip replacement", ["W94.1", "Z94.2"], id="thr-hybrid"),
    # the bone, then the side
    pytest.param("Right DHS for intertrochanteric fracture", ["W19.1", "Z76.3", "Z94.2"], id="dhs"),
    # a wire system fixing a fragment (W19.6), not other extramedullary fixation
    pytest.param("ORIF left patella with tension band wiring", ["W19.6", "Z78.7", "Z94.3"], id="patella-tbw"),
    pytest.param("Right below knee amputation", ["X09.5", "Z94.2"], id="bka"),
    pytest.param("Right knee arthroscopy and partial medial meniscectomy", ["W82.2", "Z94.2"], id="meniscectomy"),
    # general and breast surgery
    pytest.param("Laparoscopic cholecystectomy", ["J18.3", "Y75.2"], id="lap-chole"),
    pytest.param("Lap chole", ["J18.3", "Y75.2"], id="lap-chole-abbr"),
    pytest.param("Laparoscopic cholecystectomy and intraoperative cholangiogram",
                 ["J18.3", "Y75.2", "J37.2", "Y75.2"], id="lap-chole-ioc"),
    pytest.param("Emergency appendicectomy", ["H01.2"], id="appendicectomy"),
    pytest.param("Open right inguinal hernia repair with mesh", ["T20.2", "Z94.2"], id="inguinal-hernia"),
    pytest.param("Umbilical hernia repair with mesh", ["T24.2"], id="umbilical-mesh"),
    pytest.param("Sutured umbilical hernia repair", ["T24.3"], id="umbilical-sutured"),
    pytest.param("Open primary sutured repair of the paraumbilical hernia", ["T24.3"], id="paraumbilical-sutured-repair"),
    pytest.param("Open repair of right femoral hernia with polypropylene mesh plug", ["T22.2", "Z94.2"],
                 id="femoral-mesh-plug"),
    pytest.param("Incision and drainage of perianal abscess", ["H58.2"], id="perianal-abscess"),
    pytest.param("Incision and drainage of abscess", ["S47.2"], id="incision-drainage"),
    pytest.param("Diagnostic laparoscopy", ["T43.9"], id="diagnostic-laparoscopy"),
    pytest.param("Emergency laparoscopy, evacuation of haemoperitoneum and washout, right ovarian cystectomy",
                 ["Q43.2", "Y75.2", "Z94.2"], id="laparoscopy-as-approach"),
    pytest.param("CT-guided percutaneous core biopsy of the left lower lobe mass", ["E59.1", "Y53.3", "Z94.3"],
                 id="ct-guided-lung-biopsy"),
    pytest.param("Haemorrhoidectomy", ["H51.1"], id="haemorrhoidectomy"),
    pytest.param("Haemorrhoid banding", ["H52.4"], id="haemorrhoid-banding"),
    pytest.param("Right simple mastectomy", ["B27.4", "Z94.2"], id="mastectomy"),
    pytest.param("Left wide local excision of breast", ["B28.2", "Z94.3"], id="wide-local-excision"),
    pytest.param("Total thyroidectomy", ["B08.1"], id="thyroidectomy"),
    # GI endoscopy and hepatology
    pytest.param("OGD", ["G45.9"], id="ogd"),
    pytest.param("Gastroscopy", ["G45.9"], id="gastroscopy"),
    pytest.param("OGD with biopsies", ["G45.1"], id="ogd-biopsies"),
    pytest.param("PEG insertion", ["G44.5"], id="peg"),
    pytest.param("Colonoscopy", ["H22.9"], id="colonoscopy"),
    pytest.param("Colonoscopy with biopsies", ["H22.1"], id="colonoscopy-biopsies"),
    pytest.param("Colonoscopic polypectomy", ["H20.1"], id="polypectomy"),
    pytest.param("Flexible sigmoidoscopy", ["H25.9"], id="flexi-sig"),
    pytest.param("Flexible sigmoidoscopy and insertion of a self-expanding metal colonic stent", ["H24.4"],
                 id="flexi-sig-stent"),
    pytest.param("Diagnostic ascitic tap", ["T46.1"], id="ascitic-tap"),
    pytest.param("Large volume paracentesis, 8 L drained", ["T46.1"], id="paracentesis"),
    pytest.param("Ultrasound guided liver biopsy", ["J13.2", "Y53.2"], id="liver-biopsy"),
    pytest.param("EUS-guided cystgastrostomy with a lumen-apposing metal stent", ["J61.1"], id="cystgastrostomy"),
    # urology
    pytest.param("Left percutaneous nephrolithotomy (PCNL) with ultrasonic lithotripsy", ["M09.1", "Z94.3"],
                 id="pcnl-ultrasonic"),
    pytest.param("TURBT", ["M42.1"], id="turbt"),
    pytest.param("Monopolar TURP", ["M65.1"], id="turp-monopolar"),
    pytest.param("Flexible cystoscopy", ["M45.9"], id="flexi-cysto"),
    pytest.param("Flexible cystoscopy and bladder biopsy", ["M45.1"], id="cysto-biopsy"),
    pytest.param("Left JJ stent insertion", ["M29.2", "Z94.3"], id="jj-stent"),
    pytest.param("Right retrograde ureteric stent insertion", ["M29.2", "Z94.2"], id="ureteric-stent"),
    pytest.param("Removal of left JJ stent", ["M29.3", "Z94.3"], id="stent-removal"),
    pytest.param("Right ureteroscopy and laser lithotripsy", ["M27.1", "Z94.2"], id="urs-laser"),
    pytest.param("Urethral catheterisation", ["M47.9"], id="urethral-catheter"),
    pytest.param("Suprapubic catheter insertion", ["M38.2"], id="suprapubic-catheter"),
    pytest.param("Circumcision", ["N30.3"], id="circumcision"),
    pytest.param("Vasectomy", ["N17.1"], id="vasectomy"),
    # obstetrics and gynaecology
    pytest.param("Emergency LSCS", ["R18.2"], id="emergency-lscs"),
    pytest.param("LSCS", ["R18.2"], id="lscs"),
    pytest.param("Elective LSCS", ["R17.2"], id="elective-lscs"),
    pytest.param("Spontaneous vaginal delivery", ["R24.9"], id="svd"),
    pytest.param("Diagnostic hysteroscopy", ["Q18.9"], id="hysteroscopy"),
    pytest.param("ERPC", ["Q11.3"], id="erpc"),
    # ENT and ophthalmology
    pytest.param("Incision and curettage of left upper eyelid chalazion", ["C12.4", "Z94.3"], id="chalazion-ic"),
    pytest.param("Bilateral dissection tonsillectomy", ["F34.1"], id="tonsillectomy"),
    pytest.param("Coblation tonsillectomy", ["F34.7"], id="coblation-tonsillectomy"),
    pytest.param("Bilateral grommet insertion", ["D15.1", "Z94.1"], id="grommets"),
    pytest.param("Right myringotomy and grommet insertion", ["D15.1", "Z94.2"], id="grommet-right"),
    pytest.param("Suction diathermy adenoidectomy", ["E20.4"], id="adenoidectomy"),
    pytest.param("Septoplasty", ["E03.6"], id="septoplasty"),
    pytest.param("EUA of left ear", ["D28.2", "Z94.3"], id="eua-ear"),
    pytest.param("Left myringoplasty", ["D14.1", "Z94.3"], id="myringoplasty"),
    pytest.param("Percutaneous tracheostomy", ["E42.3"], id="tracheostomy"),
    pytest.param("Left trabeculectomy", ["C60.1", "Z94.3"], id="trabeculectomy"),
    pytest.param("Panretinal photocoagulation to right eye", ["C82.5", "Z94.2"], id="prp"),
    pytest.param("Right pars plana vitrectomy", ["C79.2", "Z94.2"], id="vitrectomy"),
    pytest.param("Intravitreal injection to left eye", ["C79.4", "Z94.3"], id="intravitreal"),
    pytest.param("Right YAG capsulotomy", ["C73.3", "Z94.2"], id="yag-capsulotomy"),
    # vascular, chest, lines, blood, ventilation, renal, neurology, haematology
    pytest.param("EVAR for infrarenal abdominal aortic aneurysm", ["L27.1"], id="evar"),
    pytest.param("Chest drain insertion", ["T12.4"], id="chest-drain"),
    pytest.param("Ultrasound-guided chest drain insertion", ["T12.4", "Y53.2"], id="chest-drain-us"),
    pytest.param("Pleural aspiration", ["T12.3"], id="pleural-aspiration"),
    pytest.param("Central line insertion", ["L91.2"], id="central-line"),
    pytest.param("Ultrasound-guided central line insertion", ["L91.2", "Y53.2"], id="central-line-us"),
    pytest.param("Hickman line insertion", ["L91.5"], id="hickman-line"),
    pytest.param("Blood transfusion", ["X33.2"], id="transfusion"),
    pytest.param("Red cell transfusion", ["X33.2"], id="red-cell-transfusion"),
    pytest.param("Non-invasive ventilation", ["E85.2"], id="niv"),
    pytest.param("CPAP", ["E85.6"], id="cpap"),
    pytest.param("Invasive ventilation", ["E85.1"], id="invasive-ventilation"),
    pytest.param("Lumbar puncture", ["A55.9"], id="lumbar-puncture"),
    pytest.param("Bronchoscopy", ["E49.9"], id="bronchoscopy"),
    pytest.param("Haemodialysis", ["X40.3"], id="haemodialysis"),
    # the participle names the operation ("debrided"), with the site of the skin and its side
    pytest.param("Bite wound of the left hand explored, washed out and debrided", ["S57.1", "Z50.2", "Z94.3"],
                 id="debrided"),
    pytest.param("Bone marrow aspirate and trephine", ["W36.5"], id="bone-marrow"),
    # a vena cava's stent with the vein's site code; an arterial stent with the number of stents
    pytest.param("SVC stent under fluoroscopic guidance", ["L79.3", "Y53.4", "Z39.1"], id="svc-stent"),
    pytest.param("Right SFA angioplasty and stent: one 6 x 120 mm nitinol stent", ["L63.5", "L76.1", "Z38.5", "Z94.2"],
                 id="sfa-stent"),
    # a sentinel node biopsy, with the nodes' site
    pytest.param("Left axillary sentinel lymph node biopsy", ["T91.1", "Z61.3", "Z94.3"], id="slnb"),
]


@pytest.fixture(scope="module")
def nhs_tables(shared_data):
    return {"opcs4_path": shared_data / "opcs4" / "opcs4_codes.tsv",
            "icd10_uk_path": shared_data / "icd10-uk" / "icd10_uk_codes.tsv"}


@pytest.fixture(scope="module")
def uk_coder(nhs_tables):
    return Coder(Settings.load("uk", **nhs_tables))


def opcs4_codes(coder: Coder, phrase: str, diagnosis: str = DIAGNOSIS) -> list[str]:
    """The OPCS-4 codes the coder suggests for a letter whose procedure is ``phrase``, in order."""
    result = coder.code_text(LETTER.format(phrase=phrase, diagnosis=diagnosis))
    assert result.error is None, result.error
    return [c.code for c in result.codes if c.system == System.OPCS4.value]


@pytest.mark.shared_data
def test_expected_codes_are_selectable_in_the_nhs_table(nhs_tables):
    table = load_table(System.OPCS4, nhs_tables["opcs4_path"])
    expected = {code for case in CASES for code in case.values[1]}
    assert not {code for code in expected if not table.is_selectable(code)}
    assert len(CASES) >= 50 and len({case.id for case in CASES}) == len(CASES)


@pytest.mark.shared_data
@pytest.mark.parametrize("phrase, expected", CASES)
def test_procedure_phrase_gets_exact_opcs4_codes_in_order(uk_coder, phrase, expected):
    obstetric = bool(expected) and expected[0].startswith("R")
    assert opcs4_codes(uk_coder, phrase, DELIVERY if obstetric else DIAGNOSIS) == expected
