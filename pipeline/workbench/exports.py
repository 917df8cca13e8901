"""Accepted coding out of the workbench: CSV (one row per code, in sequence) and FHIR R4
``Condition`` / ``Procedure`` resources in a ``Bundle`` (built and validated with
``fhir.resources``; its R4B models, the R4 line, whose Condition and Procedure are R4's)."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Iterable

from clincoder.core.review import ReviewedLetter

CSV_FIELDS = ("letter_id", "kind", "sequence", "role", "system", "code", "title", "origin", "reviewer")

# Code system URIs written into FHIR codings.
FHIR_SYSTEMS = {
    "ICD-10": "http://hl7.org/fhir/sid/icd-10-uk",
    "OPCS-4": "http://fhir.nhs.uk/CodeSystem/OPCS-4",
    "ICD-10-CM": "http://hl7.org/fhir/sid/icd-10-cm",
    "ICD-10-PCS": "http://www.cms.gov/Medicare/Coding/ICD10",
}
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CLINICAL_STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


def coded_rows(letters: Iterable[ReviewedLetter]) -> Iterable[dict]:
    """One row per accepted code: diagnoses then procedures, each in the coder's sequence."""
    for letter in letters:
        for kind in ("diagnosis", "procedure"):
            for n, c in enumerate(letter.coded(kind), 1):
                role = ("primary" if kind == "diagnosis" else "main") if n == 1 else "secondary"
                yield {"letter_id": letter.id, "kind": kind, "sequence": n, "role": role, "system": c.system,
                       "code": c.code, "title": c.title, "origin": c.origin, "reviewer": letter.reviewer}


def to_csv(letters: Iterable[ReviewedLetter]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(coded_rows(letters))
    return out.getvalue()


def _coding(row: dict) -> dict:
    return {"coding": [{"system": FHIR_SYSTEMS.get(row["system"], row["system"]), "code": row["code"],
                        "display": row["title"]}], "text": row["title"]}


def _resource(row: dict) -> dict:
    ident = str(uuid.uuid5(uuid.NAMESPACE_URL, f"clincoder/{row['letter_id']}/{row['kind']}/{row['sequence']}"))
    identifier = [{"system": "urn:clincoder:letter", "value": f"{row['letter_id']}#{row['kind']}{row['sequence']}"}]
    subject = {"display": f"the patient of letter {row['letter_id']}"}
    note = [{"text": f"{row['role']} {row['kind']} ({row['sequence']}), coded with clincoder; {row['origin']}"}]
    if row["kind"] == "diagnosis":
        return {"resourceType": "Condition", "id": ident, "identifier": identifier, "subject": subject,
                "code": _coding(row), "note": note,
                "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "encounter-diagnosis"}]}],
                "clinicalStatus": {"coding": [{"system": CLINICAL_STATUS, "code": "active"}]},
                "verificationStatus": {"coding": [{"system": VERIFICATION_STATUS, "code": "confirmed"}]}}
    return {"resourceType": "Procedure", "id": ident, "identifier": identifier, "status": "completed",
            "subject": subject,
            "code": _coding(row), "note": note}


def to_fhir_bundle(letters: Iterable[ReviewedLetter]) -> dict:
    """A validated FHIR ``collection`` Bundle of the accepted coding."""
    from fhir.resources.R4B.bundle import Bundle

    entries = [{"fullUrl": f"urn:uuid:{res['id']}", "resource": res} for res in map(_resource, coded_rows(letters))]
    bundle = Bundle.model_validate({"resourceType": "Bundle", "type": "collection", "entry": entries})
    return bundle.model_dump(mode="json", exclude_none=True)
