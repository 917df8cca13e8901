"""The typed records that cross stage boundaries: what a mention looks codes up with."""

from __future__ import annotations

import pytest

from clincoder.core.contracts import Mention, SentenceRecord, WeightedMention


@pytest.mark.parametrize("text, kwargs, query", [
    # a phrase read across a short aside is looked up without it
    ("intertrochanteric (extracapsular) fracture", {"laterality": "right"}, "right intertrochanteric fracture"),
    ("bone (spine, pelvis)\nmetastases", {}, "bone\nmetastases"),
    # an abbreviation is looked up by its expansion, with the code-changing words the span lacks
    ("NSTEMI", {"expansion": "non-ST elevation myocardial infarction", "modifiers": ("acute",)},
     "acute non-ST elevation myocardial infarction"),
    ("hemiarthroplasty", {"laterality": "left", "body_site": "hip"}, "left hip hemiarthroplasty"),
])
def test_a_mention_query(text, kwargs, query):
    assert Mention(0, len(text), text, "DIAGNOSIS", **kwargs).query == query


def _sentence(text: str, *mentions: tuple[str, str, str]) -> SentenceRecord:
    found = tuple(WeightedMention(Mention(text.index(w), text.index(w) + len(w), w, label, assertion=a), 1.0)
                  for w, label, a in mentions)
    return SentenceRecord(0, len(text), None, found[0].mention.assertion, 1.0, text, False, found)


def test_what_an_earlier_scan_showed_is_of_this_episode():
    s = _sentence("Transferred after a CT head at Kingsmere showed a chronic subdural haematoma.",
                  ("CT head", "PROCEDURE", "historical"), ("subdural haematoma", "DIAGNOSIS", "present"))
    assert (s.assertion_of(procedural=True), s.assertion_of(procedural=False)) == ("historical", "present")


def test_what_an_earlier_operation_treated_stays_history():
    s = _sentence("He had an open repair of a right inguinal hernia in 2011.",
                  ("open repair", "PROCEDURE", "historical"), ("inguinal hernia", "DIAGNOSIS", "present"))
    assert (s.assertion_of(procedural=True), s.assertion_of(procedural=False)) == ("historical", "historical")


@pytest.mark.parametrize("mentions, procedural", [
    # a sentence that opens on a present finding tells the earlier operation as history
    ((("scar", "DIAGNOSIS", "present"), ("inguinal hernia repair with mesh", "PROCEDURE", "historical")), "historical"),
    # one present procedure makes it this episode's, whatever else it tells
    ((("venogram", "PROCEDURE", "historical"), ("stent", "PROCEDURE", "present")), "present"),
    ((("scar", "DIAGNOSIS", "historical"),), "historical"),  # no procedure: the sentence's own
])
def test_a_procedure_code_takes_the_assertion_of_the_sentences_procedures(mentions, procedural):
    s = _sentence("The groin carries the scar of an inguinal hernia repair with mesh after a venogram and a stent "
                  "in 2016.", *mentions)
    assert s.assertion_of(procedural=True) == procedural
