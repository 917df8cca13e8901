"""The typed records that cross stage boundaries: what a mention looks codes up with."""

from __future__ import annotations

import pytest

from clincoder.core.contracts import Mention


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
