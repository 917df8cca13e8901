"""Coders' decisions read as a gold set: acceptance overall, per code, per rule and per source,
the codes coders added, and the audit of clincoder's records against the submitted coding."""

from __future__ import annotations

import json

import pytest

from clincoder.core.review import ReviewedCode, ReviewedLetter
from clincoder.core.schema import CodeSuggestion, LetterResult
from clincoder.eval.feedback import feedback_report
from clincoder.eval.report import write_feedback


def _letter(letter_id: str, suggested: list[tuple[str, str]], decisions: list[ReviewedCode]) -> ReviewedLetter:
    codes = tuple(CodeSuggestion("ICD-10", code, code, n, "primary" if n == 1 else "secondary", 0.9, rules=rules)
                  for n, (code, rules) in enumerate(((c, tuple(r.split())) for c, r in suggested), 1))
    candidates = (CodeSuggestion("ICD-10", "E66.9", "Obesity", 9, "candidate", 0.1),)
    record = LetterResult(id=letter_id, profile="uk", codes=codes, candidates=candidates)
    return ReviewedLetter(letter_id, "text", record, tuple(decisions), "ann")


def _code(code, origin, state, position, suggested=None, reason="", rules=()):
    return ReviewedCode("ICD-10", code, code, origin, state, position, reason, rules, None, suggested)


@pytest.fixture
def letters() -> list[ReviewedLetter]:
    a = _letter("a", [("I21.4", "SEQ-001"), ("R07.4", "CON-001")], [
        _code("I21.4", "suggested", "accepted", 1, "I21.4", rules=("SEQ-001",)),
        _code("R07.4", "suggested", "rejected", 2, "R07.4", "symptom of a coded diagnosis", ("CON-001",)),
        _code("E66.9", "candidate", "accepted", 2)])
    b = _letter("b", [("I10", ""), ("I48.9", "")], [
        _code("I48.0", "suggested", "accepted", 1, "I48.9"),  # edited to the paroxysmal code, moved to primary
        _code("I10", "suggested", "accepted", 2, "I10"),
        _code("E11.9", "added", "accepted", 3)])
    return [a, b]


def test_acceptance_counts_what_coders_kept_edited_and_rejected(letters):
    report = feedback_report(letters)
    assert report["suggestions"] == {"n": 4, "accepted": 2, "edited": 1, "rejected": 1, "acceptance": 0.5}
    assert report["rejection_reasons"] == {"symptom of a coded diagnosis": 1}
    assert {r["key"]: r["acceptance"] for r in report["per_code"]} == {"I21.4": 1.0, "R07.4": 0.0, "I48.9": 0.0,
                                                                      "I10": 1.0}
    assert {r["key"]: r["n"] for r in report["per_rule"]} == {"SEQ-001": 1, "CON-001": 1, "(no rule)": 2}
    assert report["per_source"] == {"suggested": 3, "candidate": 1, "added": 1}


def test_codes_added_say_whether_the_ranked_list_had_them(letters):
    added = {r["code"]: r["ranked_at"] for r in feedback_report(letters)["added_not_suggested"]}
    assert added == {"E11.9": [], "I48.0": [], "E66.9": [9]}  # E66.9: picked from the ranked list (rank 9)


def test_the_audit_reads_the_submitted_coding_as_gold(letters):
    audit = feedback_report(letters)["audit"]
    assert audit["letters"] == 2
    assert audit["primary_diagnosis"]["correct"] == 1  # a: I21.4 agreed; b: the coder made I48.0 primary


def test_the_report_is_written_as_json_and_html(letters, tmp_path):
    paths = write_feedback(feedback_report(letters), tmp_path)
    assert json.loads(paths["json"].read_text())["letters"] == 2
    html = paths["html"].read_text()
    assert "symptom of a coded diagnosis" in html and "E11.9" in html and "<script" not in html
