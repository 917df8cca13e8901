"""Rules registered by id, grouped by the standard they implement."""

from __future__ import annotations

import pytest

from clincoder.rules import GROUPS, RULES, default_rules, describe_rules, rule


def test_every_packaged_rule_has_an_implementation_in_a_group():
    ids = [r.id for r in default_rules().rules]
    assert set(ids) <= set(RULES)
    assert {RULES[i].group for i in ids} == set(GROUPS)
    assert RULES["SEQ-001"].group == "sequencing" and RULES["DOC-004"].group == "currency"


def test_describe_rules_rows():
    rows = describe_rules()
    assert [r["id"] for r in rows] == [r.id for r in default_rules().rules]
    assert all(r["citation"] and r["applies_to"] and r["group"] in GROUPS for r in rows)


def test_registering_twice_or_in_an_unknown_group_is_an_error():
    with pytest.raises(ValueError, match="registered twice"):
        rule("SEQ-001", "sequencing")(lambda w, r: None)
    with pytest.raises(ValueError, match="unknown group"):
        rule("NEW-001", "misc")
