"""Code tables (clincoder.core.tables): user-supplied TSVs on tiny fixtures, the PyPI tables once."""

from __future__ import annotations

import pytest

from clincoder.core.codes import System
from clincoder.core.tables import CodeTable, TableNotAvailable, compose_title, load_table, load_tsv_table


@pytest.fixture(scope="module")
def opcs(opcs4_fixture) -> CodeTable:
    return load_tsv_table(opcs4_fixture, System.OPCS4, "OPCS-4 test", "CLINCODER_OPCS4")


@pytest.fixture(scope="module")
def uk(icd10_uk_fixture) -> CodeTable:
    return load_tsv_table(icd10_uk_fixture, System.ICD10, "ICD-10 UK test", "CLINCODER_ICD10_UK")


# ---- 6-column layout (OPCS-4 fixture) ----------------------------------------------------------

def test_six_column_table_reads_every_row(opcs, opcs4_fixture):
    rows = len(opcs4_fixture.read_text(encoding="utf-8").splitlines()) - 1  # less the header
    assert len(opcs) == rows > 40
    assert opcs.system is System.OPCS4 and opcs.edition == "OPCS-4 test"
    assert opcs.describe() == {"system": "OPCS-4", "edition": "OPCS-4 test", "source": opcs.source, "codes": rows}


def test_six_column_hierarchy(opcs):
    assert opcs.parent("K75.1").code == "K75"
    assert opcs.parent("K75").code == "Chapter K"
    assert [a.code for a in opcs.ancestors("K75.1")] == ["K75", "Chapter K"]
    assert opcs.chapter("K75.1").title == "Chapter K - Heart"
    assert [c.code for c in opcs.children("K75")] == ["K75.1", "K75.2", "K75.9"]
    assert {d.code for d in opcs.descendants("Chapter K")} == {"K75", "K75.1", "K75.2", "K75.9", "K63", "K63.1"}
    assert opcs.get("Chapter K").kind == "chapter" and opcs.get("Chapter K").parent is None


def test_six_column_selectable_and_validity(opcs):
    assert opcs.is_selectable("K75.1") and opcs.is_selectable("W46.1")
    assert not opcs.is_selectable("K75")  # a category needs its 4th character
    assert opcs.is_valid("K75") and opcs.is_valid("K75.1")
    assert not opcs.is_valid("Chapter K")  # a hierarchy node, not a code
    assert not opcs.is_valid("K75.3") and "K75.3" not in opcs
    selectable = {e.code for e in opcs.entries(selectable_only=True)}
    assert "K75.1" in selectable and "K75" not in selectable and "Chapter K" not in selectable
    assert {e.code for e in opcs.entries()} >= {"K75", "K75.1"}
    assert "Chapter K" not in {e.code for e in opcs.entries()}


def test_six_column_in_latest_hes_becomes_current(opcs):
    assert opcs.get("K75.1").current is True
    assert opcs.get("K75.9").current is False


@pytest.mark.parametrize("query", ["K75.1", "k751", "K751", " k75.1 "])
def test_lookup_accepts_any_spelling_of_a_code(opcs, query):
    assert opcs.get(query).code == "K75.1"
    assert opcs.title(query).startswith("Percutaneous transluminal balloon angioplasty")


def test_fragment_titles_are_composed_from_the_parent(opcs):
    k759 = opcs.get("K75.9")
    assert k759.source_title == "Unspecified"
    assert k759.title == ("Percutaneous transluminal balloon angioplasty and insertion of stent into coronary "
                          "artery unspecified")
    w468 = opcs.get("W46.8")
    assert w468.source_title == "Other specified"
    assert w468.title.startswith("Prosthetic replacement of head of femur using cement")
    assert w468.title.endswith("other specified")
    # full titles stay as they are
    assert opcs.title("W46.1") == "Primary prosthetic replacement of head of femur using cement"
    assert opcs.title("J18.9") == "Unspecified excision of gall bladder"


def test_title_of_unknown_code_is_none(opcs):
    assert opcs.title("Z99.9") is None and opcs.get("Z99.9") is None and opcs.parent("Z99.9") is None


# ---- 2-column layout (UK ICD-10 fixture) -------------------------------------------------------

def test_two_column_infers_hierarchy_from_the_code(uk):
    assert len(uk) == 14
    assert uk.parent("E11.9").code == "E11"
    assert uk.get("E11").parent is None
    assert uk.get("E11").kind == "category" and uk.get("E11.9").kind == "subcategory"
    assert sorted(c.code for c in uk.children("E11")) == ["E11.2", "E11.9"]


def test_two_column_selectable_means_leaf(uk):
    assert uk.is_selectable("E11.9") and uk.is_selectable("I21.4")
    assert not uk.is_selectable("E11") and not uk.is_selectable("I21")
    assert uk.is_selectable("I48")  # a category without subdivisions in the file is a code itself
    assert uk.is_valid("E11")


def test_two_column_fragment_titles(uk):
    assert uk.title("E11.9") == "Non-insulin-dependent diabetes mellitus without complications"
    assert uk.get("E11.9").source_title == "Without complications"
    assert uk.title("E11.2") == "Non-insulin-dependent diabetes mellitus with renal complications"
    assert uk.title("J44.1") == "Other chronic obstructive pulmonary disease with acute exacerbation, unspecified"
    assert uk.title("N17.9") == "Acute renal failure, unspecified"  # already a full title
    assert uk.title("J44.0") == "Chronic obstructive pulmonary disease with acute lower respiratory infection"


def test_two_column_uk_fifth_character_links_to_nearest_listed_ancestor(uk):
    """X59.09 is listed without X59.0: it hangs off X59, which is then not selectable."""
    assert uk.parent("X59.09").code == "X59"
    assert uk.is_selectable("X59.09")
    assert not uk.is_selectable("X59")


def test_the_uk_filler_x_codes_belong_to_their_category(tmp_path):
    """The NHS file lists M45.X0-M45.X9 under the block and marks M45 selectable: M45 needs its
    fifth character."""
    p = tmp_path / "icd.tsv"
    p.write_text("code\ttitle\tkind\tparent\tselectable\tin_latest_hes\n"
                 "M45\tAnkylosing spondylitis\tcategory\tBlock M45-M49\tY\tY\n"
                 "M45.X0\tAnkylosing spondylitis (Multiple sites in spine)\tsubcategory\tBlock M45-M49\tY\tY\n"
                 "M45.X9\tAnkylosing spondylitis (Site unspecified)\tsubcategory\tBlock M45-M49\tY\tY\n"
                 "M46\tOther inflammatory spondylopathies\tcategory\tBlock M45-M49\tN\tY\n", encoding="utf-8")
    t = load_tsv_table(p, System.ICD10, "x", "CLINCODER_ICD10_UK")
    assert t.parent("M45.X9").code == "M45" and t.is_selectable("M45.X0")
    assert not t.is_selectable("M45")


def test_two_column_with_header_row(tmp_path):
    p = tmp_path / "icd.tsv"
    p.write_text("code\ttitle\nI10\tEssential (primary) hypertension\n", encoding="utf-8")
    t = load_tsv_table(p, System.ICD10, "x", "CLINCODER_ICD10_UK")
    assert len(t) == 1 and t.title("I10") == "Essential (primary) hypertension"


def test_two_column_bad_code_names_file_and_line(tmp_path):
    p = tmp_path / "opcs.tsv"
    p.write_text("W37\tTotal prosthetic replacement of hip joint using cement\nnot-a-code\tOops\n", encoding="utf-8")
    with pytest.raises(TableNotAvailable, match=r"opcs\.tsv:2: 'not-a-code'"):
        load_tsv_table(p, System.OPCS4, "x", "CLINCODER_OPCS4")


@pytest.mark.parametrize("parent,title,expected", [
    ("Non-insulin-dependent diabetes mellitus", "Without complications",
     "Non-insulin-dependent diabetes mellitus without complications"),
    ("Acute renal failure", "Acute renal failure, unspecified", "Acute renal failure, unspecified"),
    ("Exposure to unspecified factor", "Home", "Exposure to unspecified factor, home"),
    ("Anything", "", "Anything"),
    ("", "Hemiarthroplasty", "Hemiarthroplasty"),
])
def test_compose_title(parent, title, expected):
    assert compose_title(parent, title) == expected


# ---- missing / unusable user tables ------------------------------------------------------------

@pytest.mark.parametrize("content", [None, "", "\n\n  \n", "W37 only one column\n"])
def test_missing_or_empty_table_raises_naming_the_env_var(tmp_path, content):
    p = tmp_path / "opcs4.tsv"
    if content is not None:
        p.write_text(content, encoding="utf-8")
    with pytest.raises(TableNotAvailable) as exc:
        load_tsv_table(p, System.OPCS4, "x", "CLINCODER_OPCS4")
    assert "CLINCODER_OPCS4" in str(exc.value) and str(p) in str(exc.value)
    with pytest.raises(TableNotAvailable, match="CLINCODER_OPCS4"):
        load_table(System.OPCS4, p)


def test_undecodable_table_raises(tmp_path):
    p = tmp_path / "icd.tsv"
    p.write_bytes(b"I10\tEssential \x93primary\x94 hypertension\n")
    with pytest.raises(TableNotAvailable, match="CLINCODER_ICD10_UK"):
        load_table(System.ICD10, p)


@pytest.mark.parametrize("system,env", [(System.OPCS4, "CLINCODER_OPCS4")])
def test_unconfigured_user_table_names_the_env_var(system, env):
    with pytest.raises(TableNotAvailable, match=env):
        load_table(system)


# ---- tables from PyPI packages -----------------------------------------------------------------

def test_without_a_uk_path_icd10_is_who_2019(who_icd10_table):
    t = who_icd10_table
    assert t.system is System.ICD10 and t.edition == "WHO ICD-10 2019"
    assert t.title("I21.4") == "Acute subendocardial myocardial infarction"
    assert t.is_selectable("I21.4") and not t.is_selectable("I21")
    assert t.parent("I21").code == "Block I20-I25"
    assert t.chapter("I21.4").title == "Diseases of the circulatory system"
    assert len(t) > 10_000


def test_icd10cm_notes(icd10cm_table):
    cm = icd10cm_table
    assert cm.edition.startswith("ICD-10-CM")
    e11 = cm.get("E11")
    assert e11.title == "Type 2 diabetes mellitus" and not e11.selectable
    assert any("Z79.4" in u for u in e11.use_additional)  # use additional code for insulin use
    assert any("type 1 diabetes" in x.lower() for x in e11.excludes1)
    e119 = cm.get("E11.9")
    assert e119.selectable and e119.title == "Type 2 diabetes mellitus without complications"
    assert cm.parent("E11.9").use_additional == e11.use_additional  # the note lives on the category
    assert "Decompensated COPD" in cm.get("J44.1").inclusion_terms
    assert cm.chapter("E11.9").code == "Chapter 4"


def test_icd10cm_seventh_character_codes(icd10cm_table):
    cm = icd10cm_table
    assert cm.is_selectable("T81.40XA")
    assert cm.get("T81.40XA").parent == "T81.40"
    assert not cm.is_selectable("T81.4")


def test_icd10pcs_prefix_titles(icd10pcs_table):
    pcs = icd10pcs_table
    assert pcs.title("0DTJ") == "Resection of Appendix"
    assert pcs.title("BW03") == "Plain Radiography of Chest"
    assert pcs.title("0DTJ4ZZ") == "Resection of Appendix, Percutaneous Endoscopic Approach"
    assert pcs.is_selectable("0DTJ4ZZ") and not pcs.is_selectable("0DTJ")
    assert pcs.is_valid("0dtj")  # a 4-character prefix is a valid partial code (CodiEsp gold uses them)
    assert [a.code for a in pcs.ancestors("0DTJ4ZZ")] == ["0DTJ", "0DT", "Section 0"]
    assert pcs.chapter("0DTJ4ZZ").title == "Medical and Surgical"
    assert pcs.chapter("BW03ZZZ").title == "Imaging"
    assert len(list(pcs.entries(selectable_only=True))) > 70_000


def test_load_table_is_cached(icd10cm_table, icd10pcs_table, who_icd10_table, opcs4_fixture):
    assert load_table(System.ICD10CM) is icd10cm_table
    assert load_table("ICD-10-CM") is icd10cm_table
    assert load_table(System.ICD10PCS) is icd10pcs_table
    assert load_table(System.ICD10) is who_icd10_table
    first = load_table(System.OPCS4, opcs4_fixture)
    assert load_table("opcs", str(opcs4_fixture)) is first
    assert first.edition == "OPCS-4 (user supplied): opcs4_mini.tsv"


# ---- the shared development copies -------------------------------------------------------------

@pytest.mark.shared_data
def test_shared_opcs4_and_uk_icd10_tables(shared_data):
    opcs = load_table(System.OPCS4, shared_data / "opcs4" / "opcs4_codes.tsv")
    assert len(opcs) > 10_000
    assert opcs.title("W37.1") == "Primary total prosthetic replacement of hip joint using cement"
    assert "drug-eluting" in opcs.title("K75.1")
    assert opcs.chapter("K75.1").code == "Chapter K"
    uk = load_table(System.ICD10, shared_data / "icd10-uk" / "icd10_uk_codes.tsv")
    assert uk.title("E11.9") == "Non-insulin-dependent diabetes mellitus without complications"
    assert uk.is_selectable("X59.09") and uk.parent("X59.09").code == "X59.0"


def test_icd10cm_blocks_named_like_their_category_have_a_proper_hierarchy(icd10cm_table):
    # simple-icd-10-cm lists B10 twice (block and category) and gives each as its own parent
    assert icd10cm_table.get("B10").kind == "category"
    assert icd10cm_table.get("B10").parent == "Block B10"
    assert [a.code for a in icd10cm_table.ancestors("B10.01")][-2:] == ["Block B10", "Chapter 1"]
    assert icd10cm_table.chapter("C50.911").code == "Chapter 2"


def test_without_an_opcs4_release_the_uk_profile_uses_the_codes_in_use(no_table_env):
    from clincoder.core.config import Settings
    from clincoder.core.tables import resolve_tables

    tables = resolve_tables(Settings.load("uk"))
    opcs = tables.by_system[System.OPCS4]
    assert "codes recorded in English hospitals" in opcs.edition and "not the full classification" in opcs.edition
    assert opcs.is_selectable("K75.1") and opcs.title("W46.1").startswith("Primary prosthetic replacement")
    assert any("CLINCODER_OPCS4" in w and "HES" in w for w in tables.warnings)



def test_packaged_tables_are_kept_parsed_in_the_cache_folder(tmp_path, monkeypatch, caplog):
    from clincoder.core import tables as tables_module

    monkeypatch.setenv("CLINCODER_CACHE_DIR", str(tmp_path))
    built = tables_module.PACKAGED[System.ICD10][1]()
    first = tables_module.packaged_table(System.ICD10)
    (cached,) = tmp_path.glob("table-ICD10-*.pickle")
    again = tables_module.packaged_table(System.ICD10)  # read back from the file
    assert len(first) == len(again) == len(built) and again.get("I21.4").title == built.get("I21.4").title
    cached.write_bytes(b"not a pickle")
    with caplog.at_level("WARNING"):
        rebuilt = tables_module.packaged_table(System.ICD10)
    assert len(rebuilt) == len(built) and "rebuilding the cached ICD-10 table" in caplog.text


def test_a_diagnostic_operation_is_read_from_its_category_title(opcs):
    from clincoder.core.codes import DIAGNOSTIC_CATEGORY

    assert opcs.parent_titled("G45.1", DIAGNOSTIC_CATEGORY)  # G45 Diagnostic fibreoptic endoscopic examination ...
    assert not opcs.parent_titled("K75.1", DIAGNOSTIC_CATEGORY)
    assert not opcs.parent_titled("X99.9", DIAGNOSTIC_CATEGORY)  # not in the table
