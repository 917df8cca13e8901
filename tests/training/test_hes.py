"""The UK prior built from HES code-usage files."""

from __future__ import annotations

import json

import pytest

from clincoder.training.hes import HesNotFound, build_prior

ICD = ("start_date\tend_date\ticd10_code\tdescription\tusage\n"
       "2022-04-01\t2023-03-31\tI10X\tEssential (primary) hypertension\t5\n"
       "2023-04-01\t2024-03-31\tI10X\tEssential (primary) hypertension\t100\n"
       "2023-04-01\t2024-03-31\tS720\tFracture of neck of femur\t40\n"
       "2023-04-01\t2024-03-31\tBAD!\tnot a code\t1\n")
OPCS = ("start_date\tend_date\topcs4_code\tdescription\tusage\n"
        "2023-04-01\t2024-03-31\tK751\tPercutaneous transluminal balloon angioplasty\t7\n")


def test_latest_year_codes_dotted_descriptions_for_opcs(tmp_path):
    (tmp_path / "icd10_usage.tsv").write_text(ICD)
    (tmp_path / "opcs4_usage.tsv").write_text(OPCS)
    data = build_prior(tmp_path, tmp_path / "out" / "hes.json", table_folder=tmp_path / "out")
    assert data["financial_year"] == "2023-24"
    assert data["ICD-10"] == {"I10": 100, "S72.0": 40}
    assert data["OPCS-4"] == {"K75.1": 7}
    table = (tmp_path / "out" / "opcs4_hes_2023-24.tsv").read_text().splitlines()
    assert table == ["code\ttitle", "K75.1\tPercutaneous transluminal balloon angioplasty"]
    assert json.loads((tmp_path / "out" / "hes.json").read_text()) == data
    assert "Open Government Licence" in data["source"]


def test_a_missing_file_says_what_to_pass(tmp_path):
    (tmp_path / "icd10_usage.tsv").write_text(ICD)
    with pytest.raises(HesNotFound, match="opcs4_usage.tsv not found: pass --hes"):
        build_prior(tmp_path, tmp_path / "hes.json")
