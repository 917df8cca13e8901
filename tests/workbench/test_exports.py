"""Accepted coding as CSV (one row per code, in sequence) and as a validated FHIR R4 Bundle."""

from __future__ import annotations

import csv
import io

from clincoder.core.review import ReviewedCode, ReviewedLetter
from clincoder.core.schema import LetterResult
from clincoder.workbench.exports import FHIR_SYSTEMS, to_csv, to_fhir_bundle


def _letter() -> ReviewedLetter:
    codes = (ReviewedCode("ICD-10", "I10", "Essential (primary) hypertension", "suggested", "accepted", 2, suggested="I10"),
             ReviewedCode("ICD-10", "I21.4", "Acute subendocardial myocardial infarction", "suggested", "accepted", 1,
                          suggested="I21.4"),
             ReviewedCode("ICD-10", "R07.4", "Chest pain, unspecified", "suggested", "rejected", 3,
                          "symptom of a coded diagnosis", suggested="R07.4"),
             ReviewedCode("OPCS-4", "K75.1", "PTCA and insertion of 1-2 drug-eluting stents", "added", "accepted", 1),
             ReviewedCode("OPCS-4", "Y79.5", "Transluminal approach through radial artery", "added", "accepted", 2))
    return ReviewedLetter("01_nstemi", "text", LetterResult(id="01_nstemi", profile="uk"), codes, "ann")


def test_csv_has_one_row_per_accepted_code_in_sequence():
    rows = list(csv.DictReader(io.StringIO(to_csv([_letter()]))))
    assert [(r["kind"], r["sequence"], r["role"], r["code"]) for r in rows] == [
        ("diagnosis", "1", "primary", "I21.4"), ("diagnosis", "2", "secondary", "I10"),
        ("procedure", "1", "main", "K75.1"), ("procedure", "2", "secondary", "Y79.5")]
    assert {r["reviewer"] for r in rows} == {"ann"}


def test_fhir_bundle_validates_and_keeps_the_sequence():
    from fhir.resources.R4B.bundle import Bundle

    bundle = to_fhir_bundle([_letter()])
    Bundle.model_validate(bundle)  # round-trips through the FHIR models
    resources = [e["resource"] for e in bundle["entry"]]
    assert [r["resourceType"] for r in resources] == ["Condition", "Condition", "Procedure", "Procedure"]
    assert [r["code"]["coding"][0]["code"] for r in resources] == ["I21.4", "I10", "K75.1", "Y79.5"]
    assert resources[0]["code"]["coding"][0]["system"] == FHIR_SYSTEMS["ICD-10"]
    assert resources[0]["identifier"][0]["value"] == "01_nstemi#diagnosis1"
    assert all(e["fullUrl"] == f"urn:uuid:{e['resource']['id']}" for e in bundle["entry"])
    assert "R07.4" not in str(bundle)
