"""The typed configuration tree: defaults in code, one YAML file, clear errors."""

from __future__ import annotations

import pytest

from clincoder.core.config import (ASSERTION_WEIGHTS, ConfigError, RankerConstants, Settings, TextWeights,
                                   constants_hash)


def _write(tmp_path, text):
    path = tmp_path / "clincoder.yaml"
    path.write_text(text)
    return path


def test_defaults_in_code():
    s = Settings.load("us")
    assert s.profile.name == "us" and s.max_bytes == 1_000_000
    assert s.ranker == RankerConstants() and s.coder.max_candidates == 200
    assert s.text.mention("primary_diagnosis", "present") == 1.5
    assert s.text.mention(None, "present") == s.text.mention("no_such_section", "present") == 1.0
    assert s.text.mention("diagnoses", "negated") == 0.0


def test_one_yaml_sets_every_part(tmp_path):
    path = _write(tmp_path, "max_bytes: 5000\ncoder: {max_evidence: 2}\nranker: {top_lex: 20, dense_floor: 0.25}\n"
                            "text:\n  section_weights: {plan: 0.1}\n  assertion_weights: {historical: 0.5}\n")
    s = Settings.load("uk", path)
    assert s.max_bytes == 5000 and s.coder.max_evidence == 2 and s.coder.max_candidates == 200
    assert s.ranker.top_lex == 20 and s.ranker.dense_floor == 0.25 and s.ranker.top_dense == 10
    assert s.text.section("plan") == 0.1 and s.text.section("diagnoses") == 1.3  # merged over the defaults
    assert s.text.assertion_weights["historical"] == 0.5 and ASSERTION_WEIGHTS["historical"] == 1.0


@pytest.mark.parametrize("text, message", [
    ("ranker: {top_lexx: 3}\n", "unknown keys in ranker: \\['top_lexx'\\]"),
    ("ranker: {top_lex: many}\n", "ranker.top_lex must be an integer"),
    ("coder: {evidence_ratio: yes}\n", "coder.evidence_ratio must be a number"),
    ("text: {section_weights: {plann: 0.1}}\n", "unknown keys in text.section_weights"),
    ("text: {assertion_weights: {negated: high}}\n", "text.assertion_weights must map names to numbers"),
    ("ranker: [1, 2]\n", "ranker must be a mapping"),
    ("colour: blue\n", "unknown keys"),
    ("tables: {opcs5: /x}\n", "unknown tables"),
])
def test_bad_config_is_a_specific_error(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        Settings.load("uk", _write(tmp_path, text))


def test_scoring_constants_and_their_hash():
    base = Settings.load("us").scoring_constants()
    assert set(base) == {"coder", "ranker", "text"} and "ranker" not in base["coder"]
    assert base["text"]["section_weights"]["family_history"] == 0.0
    changed = Settings(text=TextWeights(section_weights={"plan": 0.9})).scoring_constants()
    assert constants_hash(base) == constants_hash(Settings().scoring_constants()) != constants_hash(changed)
