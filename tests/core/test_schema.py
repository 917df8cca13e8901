"""The output record (clincoder.core.schema): round trips and validation."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from clincoder.core.schema import (ASSERTIONS, ROLES, SCHEMA_VERSION, CodeSuggestion, Evidence, Flag, LetterResult,
                              Query)

LETTER = "Primary diagnosis: NSTEMI.\nNo evidence of PE.\nMother had breast cancer.\n"


def _ev(fragment: str, **kw) -> Evidence:
    start = LETTER.index(fragment)
    return Evidence(start, start + len(fragment), fragment, **kw)


@pytest.fixture
def full_record() -> LetterResult:
    nstemi = _ev("NSTEMI", section="diagnoses")
    return LetterResult(
        id="letter-001",
        profile="uk",
        editions={"ICD-10": "WHO ICD-10 2019", "OPCS-4": "OPCS-4 (user supplied): opcs4.tsv"},
        model={"name": "lexical-tfidf", "version": "0.1.0", "hash": "abc123def456"},
        codes=(
            CodeSuggestion("ICD-10", "I21.4", "Acute subendocardial myocardial infarction", 1, "primary", 0.91,
                           evidence=(nstemi,), rules=("R-primary",)),
            CodeSuggestion("OPCS-4", "K75.1", "PTCA and 1-2 drug-eluting stents", 2, "primary", 0.8),
        ),
        candidates=(
            CodeSuggestion("ICD-10", "I26.9", "Pulmonary embolism without mention of acute cor pulmonale", 3,
                           "candidate", 0.2, evidence=(_ev("PE", assertion="negated"),)),
            CodeSuggestion("ICD-10", "C50.9", "Malignant neoplasm of breast, unspecified", 4, "candidate", 0.1,
                           evidence=(_ev("breast cancer", assertion="family"),)),
        ),
        flags=(Flag("F-vague", "diabetes type not stated", severity="info", codes=("E14.9",), evidence=(nstemi,)),),
        queries=(Query("Q-stent", "How many stents were inserted?", codes=("K75.1", "K75.2"), evidence=(nstemi,)),),
        warnings=("ICD-10 UK 5th Edition not supplied",),
        error=None,
    )


def test_json_round_trip_with_everything(full_record):
    line = full_record.to_json()
    assert "\n" not in line
    back = LetterResult.from_json(line)
    assert back == full_record
    assert back.codes[0].evidence[0].text == "NSTEMI"
    assert back.candidates[0].evidence[0].assertion == "negated"
    assert back.flags[0].codes == ("E14.9",) and isinstance(back.flags[0].codes, tuple)
    assert back.queries[0].question == "How many stents were inserted?"
    assert back.schema_version == SCHEMA_VERSION


def test_evidence_offsets_point_into_the_letter(full_record):
    for c in full_record.ranked():
        for e in c.evidence:
            assert LETTER[e.start:e.end] == e.text


def test_to_dict_is_plain_json(full_record):
    d = full_record.to_dict()
    assert json.loads(json.dumps(d)) == json.loads(full_record.to_json())
    assert d["codes"][0]["system"] == "ICD-10" and d["codes"][0]["evidence"][0]["start"] == LETTER.index("NSTEMI")
    assert set(d) == {"id", "profile", "editions", "model", "codes", "candidates", "flags", "queries", "warnings",
                      "error", "schema_version"}


def test_to_dict_equals_asdict_and_rejects_what_json_cannot_hold(full_record):
    assert full_record.to_dict() == dataclasses.asdict(full_record)
    scored = dataclasses.replace(full_record.codes[0], score=np.float64(0.5))  # a float subclass: JSON holds it
    assert json.loads(LetterResult("x", "uk", codes=(scored,)).to_json())["codes"][0]["score"] == 0.5
    with pytest.raises(TypeError, match="cannot serialise a set"):
        dataclasses.replace(full_record, warnings={"a"}).to_dict()
    with pytest.raises(TypeError, match="cannot serialise a int64"):
        LetterResult("x", "uk", codes=(dataclasses.replace(full_record.codes[0], rank=np.int64(3)),)).to_dict()


def test_to_json_is_the_json_modules_document(full_record):
    """orjson writes the record; the bytes are those json.dumps writes from to_dict."""
    plain_json = json.dumps(full_record.to_dict(), ensure_ascii=False, separators=(",", ":"))
    assert full_record.to_json() == plain_json
    unicode = dataclasses.replace(full_record, warnings=("Ménière's disease — café",))
    assert unicode.to_json() == json.dumps(unicode.to_dict(), ensure_ascii=False, separators=(",", ":"))


def test_to_json_falls_back_to_json_for_what_orjson_refuses(full_record):
    lone = dataclasses.replace(full_record, warnings=("bad byte \udc80 kept",))  # a lone surrogate
    assert json.loads(lone.to_json())["warnings"] == ["bad byte \udc80 kept"]
    with pytest.raises(TypeError, match="cannot serialise a set"):
        dataclasses.replace(full_record, warnings={"a"}).to_json()


def test_error_record_round_trip():
    rec = LetterResult.failed("bad-1", "us", "binary file, not text", warnings=("w",))
    back = LetterResult.from_json(rec.to_json())
    assert back == rec
    assert back.error == "binary file, not text" and back.codes == () and back.profile == "us"


def test_ranked_and_with_(full_record):
    assert [c.rank for c in full_record.ranked()] == [1, 2, 3, 4]
    changed = full_record.with_(error="boom")
    assert changed.error == "boom" and full_record.error is None and changed.codes == full_record.codes


def test_records_are_immutable(full_record):
    with pytest.raises(AttributeError):
        full_record.id = "other"  # type: ignore[misc]


def test_minimal_record_fills_defaults():
    rec = LetterResult.from_dict({"id": "x", "profile": "uk"})
    assert rec.codes == () and rec.flags == () and rec.error is None and rec.schema_version == SCHEMA_VERSION


@pytest.mark.parametrize("role", ROLES)
def test_every_role_is_accepted(role):
    assert CodeSuggestion("ICD-10", "I10", "t", 1, role, 0.5).role == role


@pytest.mark.parametrize("suggest, likelihood", [(0.2, 0.2), (0.0, 0.0), (None, 0.5)])
def test_a_code_is_as_likely_as_its_suggester_says_else_its_ranker_score(suggest, likelihood):
    assert CodeSuggestion("ICD-10", "I10", "t", 1, "secondary", 0.5, suggest=suggest).likelihood == likelihood


@pytest.mark.parametrize("assertion", ASSERTIONS)
def test_every_assertion_is_accepted(assertion):
    assert Evidence(0, 1, "x", assertion=assertion).assertion == assertion


def test_bad_role_is_rejected():
    with pytest.raises(ValueError, match="unknown role 'tertiary'"):
        CodeSuggestion("ICD-10", "I10", "Essential (primary) hypertension", 1, "tertiary", 0.5)


def test_bad_assertion_is_rejected():
    with pytest.raises(ValueError, match="unknown assertion 'maybe'"):
        Evidence(0, 3, "HTN", assertion="maybe")


@pytest.mark.parametrize("start,end", [(-1, 3), (5, 2)])
def test_bad_offsets_are_rejected(start, end):
    with pytest.raises(ValueError, match="bad evidence offsets"):
        Evidence(start, end, "x")


def test_empty_span_is_allowed():
    assert Evidence(4, 4, "").end == 4


def test_validation_applies_when_reading_json(full_record):
    d = full_record.to_dict()
    d["codes"][0]["role"] = "main"
    with pytest.raises(ValueError, match="unknown role"):
        LetterResult.from_dict(d)
    d = full_record.to_dict()
    d["candidates"][0]["evidence"][0]["assertion"] = "denied"
    with pytest.raises(ValueError, match="unknown assertion"):
        LetterResult.from_dict(d)
    d = full_record.to_dict()
    d["codes"][0]["evidence"][0]["start"] = 99
    with pytest.raises(ValueError, match="bad evidence offsets"):
        LetterResult.from_dict(d)


def test_unknown_top_level_fields_are_rejected(full_record):
    d = full_record.to_dict()
    d["confidence"] = 0.9
    with pytest.raises(ValueError, match=r"unknown fields in record 'letter-001': \['confidence'\]"):
        LetterResult.from_dict(d)


def test_unknown_nested_fields_are_rejected(full_record):
    d = full_record.to_dict()
    d["codes"][0]["colour"] = "red"
    with pytest.raises(TypeError, match="colour"):
        LetterResult.from_dict(d)
    d = full_record.to_dict()
    d["codes"][0]["evidence"][0]["page"] = 2
    with pytest.raises(TypeError, match="page"):
        LetterResult.from_dict(d)


def test_malformed_json_line_is_rejected():
    with pytest.raises(json.JSONDecodeError):
        LetterResult.from_json('{"id": "x", "profile": ')


@pytest.mark.parametrize("assertions, expected", [
    (("negated",), True), (("negated", "family", "hypothetical"), True),
    (("negated", "present"), False), (("historical",), False), ((), False),
])
def test_a_code_whose_every_passage_is_not_coded_is_never_suggested(assertions, expected):
    from clincoder.core.schema import not_coded_only

    evidence = tuple(Evidence(0, 3, "abc", assertion=a) for a in assertions)
    assert not_coded_only(evidence) is expected
