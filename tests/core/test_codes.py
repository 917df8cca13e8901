"""Code systems and normalisation (clincoder.core.codes)."""

from __future__ import annotations

import pytest

from clincoder.core.codes import InvalidCodeFormat, System, category, compact, normalise, opcs4_supplementary


@pytest.mark.parametrize("raw", ["I21.4", "i214", "I214", "I21.4 ", " i21.4", "I21.4-", "I 21 4"])
def test_icd10_normalises_to_dotted_upper(raw):
    assert normalise(System.ICD10, raw) == "I21.4"


@pytest.mark.parametrize("raw", ["W37.1", "W371", "w37.1", "w371", " W37.1\t"])
def test_opcs4_normalises_to_dotted_upper(raw):
    assert normalise(System.OPCS4, raw) == "W37.1"


@pytest.mark.parametrize("raw,expected", [("0dtj4zz", "0DTJ4ZZ"), ("0DTJ4ZZ", "0DTJ4ZZ"), ("0dtj", "0DTJ"),
                                          ("bw03", "BW03"), (" 0DT ", "0DT")])
def test_pcs_normalises_to_upper_without_dots(raw, expected):
    assert normalise(System.ICD10PCS, raw) == expected


@pytest.mark.parametrize("raw,expected", [("t81.4xxa", "T81.4XXA"), ("E119", "E11.9"), ("e11", "E11"),
                                          ("S72.001A", "S72.001A")])
def test_icd10cm_keeps_placeholder_x_and_7th_character(raw, expected):
    assert normalise(System.ICD10CM, raw) == expected


def test_three_character_category_has_no_dot():
    assert normalise(System.ICD10, "i21") == "I21"
    assert normalise(System.OPCS4, "k75") == "K75"


def test_normalise_accepts_system_names_as_strings():
    assert normalise("ICD-10", "i214") == "I21.4"
    assert normalise("opcs", "w371") == "W37.1"
    assert normalise("pcs", "0dtj4zz") == "0DTJ4ZZ"


@pytest.mark.parametrize("system,raw", [
    (System.ICD10, ""),
    (System.ICD10, "   "),
    (System.ICD10, "21.4"),  # no leading letter
    (System.ICD10, "I2"),  # too short
    (System.ICD10, "I21.4ABCD"),  # too long
    (System.ICD10, "I21/4"),
    (System.OPCS4, "W37.12"),  # OPCS-4 codes stop at the 4th character
    (System.OPCS4, "W3A.1"),  # OPCS-4 categories are a letter and two digits
    (System.OPCS4, "37.1"),
    (System.ICD10PCS, "0DTI4ZZ"),  # PCS never uses I or O
    (System.ICD10PCS, "0DTJ4ZZZ"),  # 8 characters
    (System.ICD10PCS, "0D"),
    (System.ICD10CM, "not a code"),
])
def test_bad_codes_raise_invalid_code_format(system, raw):
    with pytest.raises(InvalidCodeFormat):
        normalise(system, raw)


def test_invalid_code_format_is_a_value_error_and_names_the_code():
    with pytest.raises(ValueError, match="W37.12"):
        normalise(System.OPCS4, "W37.12")


@pytest.mark.parametrize("alias,expected", [
    ("ICD-10", System.ICD10), ("icd10", System.ICD10), ("ICD10-UK", System.ICD10), ("icd10who", System.ICD10),
    ("OPCS-4", System.OPCS4), ("opcs4", System.OPCS4), ("OPCS", System.OPCS4), ("OPCS-4.10", System.OPCS4),
    ("ICD-10-CM", System.ICD10CM), ("icd10cm", System.ICD10CM), ("cm", System.ICD10CM),
    ("ICD-10-PCS", System.ICD10PCS), ("icd_10_pcs", System.ICD10PCS), ("PCS", System.ICD10PCS),
    (System.OPCS4, System.OPCS4),
])
def test_system_parse_aliases(alias, expected):
    assert System.parse(alias) is expected


@pytest.mark.parametrize("bad", ["snomed", "icd9", "", "read-v2"])
def test_system_parse_rejects_unknown_systems(bad):
    with pytest.raises(ValueError, match="unknown code system"):
        System.parse(bad)


def test_system_kind_splits_diagnoses_and_procedures():
    assert [s.kind for s in System] == ["diagnosis", "procedure", "diagnosis", "procedure"]
    assert System.OPCS4.value == "OPCS-4" and System.ICD10PCS.value == "ICD-10-PCS"


def test_compact_and_category():
    assert compact(" i21.4 ") == "I214"
    assert category(System.ICD10, "I21.4") == "I21"
    assert category(System.OPCS4, "W37.1") == "W37"
    assert category(System.ICD10PCS, "0DTJ4ZZ") == "0DT"


def test_k75_1_is_two_different_codes_depending_on_system(who_icd10_table, opcs4_fixture):
    """``K75.1`` is portal-vein phlebitis in ICD-10 and a coronary stent in OPCS-4: same string,
    different codes, so a code is only ever looked up together with its system."""
    from clincoder.core.tables import load_table

    opcs = load_table(System.OPCS4, opcs4_fixture)
    assert normalise(System.ICD10, "k751") == normalise(System.OPCS4, "k751") == "K75.1"
    assert (System.ICD10, "K75.1") != (System.OPCS4, "K75.1")
    assert System.ICD10.kind != System.OPCS4.kind
    assert "portal vein" in who_icd10_table.title("K75.1").lower()
    assert "drug-eluting stents" in opcs.title("K75.1")
    # the systems' formats differ too: a 5th character is ICD-10 (UK extension) only
    assert normalise(System.ICD10, "X59.09") == "X59.09"
    with pytest.raises(InvalidCodeFormat):
        normalise(System.OPCS4, "K75.11")


@pytest.mark.parametrize("code, supplementary", [
    ("Z94.2", True),  # right sided operation
    ("Y53.2", True),  # approach under ultrasonic control
    ("O16.1", True),  # chapter O's overflow site code: pelvis NEC
    ("O11.1", True),
    ("O01.1", False),  # chapter O's overflow operation: coil embolisation of aneurysm
    ("O17.1", False),
    ("W37.1", False),
    ("L76.1", True),  # one metallic stent: the number of stents of a transluminal stent operation
    ("L89.5", True),  # one drug-eluting stent
    ("O20.3", True),  # one stent graft
    ("L63.5", False),
])
def test_supplementary_opcs4_codes_only_qualify_another(code, supplementary):
    assert opcs4_supplementary(code) is supplementary
