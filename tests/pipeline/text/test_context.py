"""ConText's trigger matcher: token patterns that only list words are matched as the phrases they
stand for, plain-word phrases also match wrapped over lines, and of matches over the same tokens
the one medspaCy's own matcher kept is kept."""

from __future__ import annotations

import pytest
from medspacy.context import ConTextRule

from clincoder.text.context import LetterMatcher, pattern_phrases


@pytest.mark.parametrize("pattern, phrases", [
    ([{"LOWER": {"IN": ["was", "is"]}}, {"LOWER": "negative"}], [["was", "negative"], ["is", "negative"]]),
    ([{"LOWER": "secondary"}, {"LOWER": "to", "OP": "?"}], [["secondary", "to"], ["secondary"]]),
    ([{"ORTH": ")"}, {"LOWER": "negative"}], [[")", "negative"]]),
    # what a phrase cannot say stays a token pattern
    ([{"TEXT": {"REGEX": "^(19|20)[0-9][0-9]$"}}], None),
    ([{"LOWER": "in"}, {"IS_SPACE": True, "OP": "*"}], None),
    ([{"LOWER": {"IN": ["a", "b"]}, "OP": "{0,3}"}], None),
    ([{"ORTH": "No"}], None),  # a cased ORTH is not its lower case
    ([{"LOWER": {"IN": ["Was"]}}], None),  # a capital in LOWER never matches
    ([{"LOWER": "x", "OP": "?"}], None),  # nothing but optional tokens
])
def test_pattern_phrases(pattern, phrases):
    assert pattern_phrases(pattern) == phrases


def _matched(nlp, rules, text):
    matcher = LetterMatcher(nlp, prune=True)
    matcher.add(rules)
    doc = nlp.make_doc(text)
    return [(matcher.rule_map[nlp.vocab[m].text].literal, doc[s:e].text) for m, s, e in matcher(doc)]


def test_a_phrase_of_plain_words_matches_wrapped_over_lines(nlp):
    rules = [ConTextRule("has been excluded", "NEGATED_EXISTENCE", direction="BACKWARD")]
    assert _matched(nlp, rules, "a UTI has\n  been excluded today") == [("has been excluded", "has\n  been excluded")]
    assert _matched(nlp, rules, "a UTI has been excluded") == [("has been excluded", "has been excluded")]


def test_a_pattern_of_listed_words_matches_as_its_phrases(nlp):
    rules = [ConTextRule("was negative", "NEGATED_EXISTENCE", direction="BACKWARD",
                         pattern=[{"LOWER": {"IN": ["was", "were"]}}, {"LOWER": "negative"}])]
    assert _matched(nlp, rules, "Cultures were negative.") == [("was negative", "were negative")]
    assert _matched(nlp, rules, "Cultures were\nnegative.") == []  # a token pattern never spanned line breaks


def test_matches_over_the_same_tokens_keep_the_pattern_then_the_first_rule(nlp):
    rules = [ConTextRule("mother", "FAMILY", direction="BIDIRECTIONAL"),
             ConTextRule("family", "FAMILY", direction="FORWARD", pattern=[{"LOWER": {"IN": ["mother", "father"]}}]),
             ConTextRule("no cause of", "NEGATED_EXISTENCE", pattern=[{"LOWER": "no"}, {"LOWER": {"IN": ["cause", "signs"]}},
                                                                       {"LOWER": "of"}]),
             ConTextRule("no signs of", "NEGATED_EXISTENCE")]
    assert _matched(nlp, rules, "His mother had no signs of it") == [("family", "mother"), ("no cause of", "no signs of")]


def test_longer_matches_win(nlp):
    rules = [ConTextRule("secondary", "TERMINATE", direction="TERMINATE"),
             ConTextRule("secondary to", "NEGATED_EXISTENCE", direction="TERMINATE")]
    assert _matched(nlp, rules, "anaemia secondary to bleeding") == [("secondary to", "secondary to")]


def test_a_regular_expression_pattern_is_refused(nlp):
    with pytest.raises(ValueError, match="token"):
        _matched(nlp, [ConTextRule("x", "NEGATED_EXISTENCE", pattern="x+")], "x")
