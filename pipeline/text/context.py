"""Assertion context of mentions: medspaCy's ConText with its default English rules plus rules for
letter phrasing (``resources/context_rules.yaml``: "?pneumonia", "query", "ruled out", "no evidence
of", "r/o", "likely", "h/o", "previous", "FH of", "mother had", "if ...").

Sets on each ``doc.ents`` span ``is_negated``, ``is_uncertain``, ``is_historical``,
``is_hypothetical``, ``is_family`` (medspaCy's default span attributes) and ``doc._.context_graph``.
"""

# no `from __future__ import annotations`: spaCy validates factory signatures at runtime
import datetime
import functools
import re
from importlib.resources import files
from typing import List, Optional

import yaml
from medspacy.context import ConText, ConTextRule
from spacy.language import Language

from .sections import announcement_phrases

CONTEXT_ATTRS = ("is_negated", "is_uncertain", "is_historical", "is_hypothetical", "is_family")


@functools.lru_cache(maxsize=None)
def letter_rules_data() -> tuple:
    data = yaml.safe_load((files("clincoder") / "resources" / "context_rules.yaml").read_text(encoding="utf-8"))
    return tuple(data["rules"])


def across_line_breaks(nlp: Language, literal: str) -> Optional[list]:
    """A token pattern for a phrase of plain words that also matches it wrapped over lines ("a UTI
    has\nbeen excluded": the line break is a token of its own); None for a one-token literal or
    one with punctuation (those match as literals). The phrase is cut into tokens as the letter
    will be ("cannot" is two)."""
    tokens = [t.lower_ for t in nlp.make_doc(literal)]
    if len(tokens) < 2 or not all(t.isalpha() for t in tokens):
        return None
    pattern: list = []
    for t in tokens:
        if pattern:
            pattern.append({"IS_SPACE": True, "OP": "*"})
        pattern.append({"LOWER": t})
    return pattern


CLAUSE_BREAK = "CLAUSE_BREAK"  # the category of rules that end the scope of forward-looking ones


def letter_rules() -> List[ConTextRule]:
    rules = []
    for r in letter_rules_data():
        rules.append(ConTextRule(literal=str(r["literal"]), category=r["category"], pattern=r.get("pattern"),
                                 direction=r.get("direction", "BIDIRECTIONAL"), max_scope=r.get("max_scope"),
                                 allowed_types=set(r["allowed_types"]) if r.get("allowed_types") else None))
    return rules


@Language.factory("clincoder_context", assigns=[f"span._.{a}" for a in CONTEXT_ATTRS] + ["doc._.context_graph"],
                  requires=["doc.ents", "token.is_sent_start"])
def make_context(nlp: Language, name: str, default_rules: bool = True, max_scope: Optional[int] = None) -> ConText:
    ctx = LetterConText(nlp, name=name, rules=None, max_scope=max_scope, span_attrs="default", input_span_type="ents")
    ours = letter_rules()
    rules = []
    if default_rules:  # medspaCy's defaults, less those our rules redefine ("ruled out" looks back in letters)
        redefined = {r.literal.lower() for r in ours}
        rules = [r for r in ConTextRule.from_json(ctx.DEFAULT_RULES_FILEPATH) if r.literal.lower() not in redefined]
    rules += ours
    # a conclusion starts afresh: "no virus was identified and we have classed this as acute
    # idiopathic pericarditis" does not negate the pericarditis
    rules += [ConTextRule(literal=p, category="TERMINATE", direction="TERMINATE") for p in announcement_phrases()]
    for r in rules:  # every phrase trigger also matches wrapped over lines
        r.pattern = r.pattern or across_line_breaks(nlp, r.literal)
        if r.direction.upper() == "FORWARD":
            r.terminated_by.add(CLAUSE_BREAK)
    ctx.add(rules)
    return ctx


def _within(modifier, target) -> bool:
    return target.start <= modifier.modifier_span[0] and modifier.modifier_span[1] <= target.end


class LetterConText(ConText):
    """medspaCy's ConText, where a trigger inside a mention never modifies that mention: a title's own
    words ("recurrent depressive disorder, current episode severe without psychotic symptoms")
    do not negate it. medspaCy means to skip a modifier that overlaps its target, but its overlap
    test misses one lying strictly inside the target."""

    def __call__(self, doc, targets: Optional[str] = None):
        doc = super().__call__(doc, targets)
        done_before_admission(doc)
        set_aside(doc)
        graph = doc._.context_graph
        touched = {(t.start, t.end) for t, m in graph.edges if _within(m, t)}
        if not touched:
            return doc
        graph.edges = [(t, m) for t, m in graph.edges if not _within(m, t)]
        for t in graph.targets:
            if (t.start, t.end) in touched:
                t._.modifiers = tuple(m for m in t._.modifiers if not _within(m, t))
                for attr in CONTEXT_ATTRS:
                    setattr(t._, attr, False)
        self.set_context_attributes([(t, m) for t, m in graph.edges if (t.start, t.end) in touched])
        return doc


# the day the episode began, as letters write it ("Admitted: 06/05/2025", "Attendance: 04/09/2025 (day case)")
_ADMITTED = re.compile(r"\b(?:admitted|adm|date of admission|admission date|attendance|date of attendance|"
                       r"attended)\b\s*(?:on\b)?\s*:?\s*(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})\b", re.I)
_DAY = re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})\b")
_MONTH = re.compile(r"(?<![/.\d])(\d{1,2})/(\d{4})\b")  # "core biopsy (09/2025)"


def _date(day: str, month: str, year: str) -> Optional[datetime.date]:
    y = int(year) + (2000 if len(year) == 2 else 0)
    try:
        return datetime.date(y, int(month), int(day))  # UK order: day/month/year
    except ValueError:
        return None


def admission_date(text: str) -> Optional[datetime.date]:
    """The episode's first day as the letter's header gives it, or None."""
    found = _ADMITTED.search(text)
    return _date(*found.groups()) if found else None


def dated_before(sentence: str, admitted: datetime.date) -> bool:
    """Whether ``sentence`` gives dates (day/month/year or month/year) and all are before ``admitted``."""
    days = [d for d in (_date(*m.groups()) for m in _DAY.finditer(sentence)) if d is not None]
    months = [(int(y), int(m)) for m, y in _MONTH.findall(sentence) if 1 <= int(m) <= 12]
    return bool(days or months) and all(d < admitted for d in days) and \
        all(m < (admitted.year, admitted.month) for m in months)


_WEIGHED = frozenset({"considered", "suspected", "queried"})
_WEIGHED_WITHIN = 3  # at most this many words between "considered" and the condition ("first", "a", "possible")


def set_aside(doc) -> None:
    """A condition the letter says it considered and then answers with a "but" ("We first
    considered scarlet fever, but the throat swab grew no group A streptococcus") was set aside:
    negated. A ConText trigger cannot say it, since the condition lies inside the words that say it."""
    for ent in doc.ents:
        if ent.label_ == "PROCEDURE" or ent._.is_negated:
            continue
        before = doc[max(ent.sent.start, ent.start - _WEIGHED_WITHIN - 1):ent.start]
        after = [t.lower_ for t in doc[ent.end:min(ent.sent.end, ent.end + 2)]]
        weighed = next((t for t in reversed(before) if t.lower_ in _WEIGHED), None)
        if weighed is not None and not any(t.is_punct for t in doc[weighed.i:ent.start]) and \
                (after[:1] == ["but"] or after[:2] == [",", "but"]):
            ent._.is_negated = True


def done_before_admission(doc) -> None:
    """A procedure its sentence dates before this episode began ("Laparoscopic sigmoid colectomy
    on 12/05/2025" in a letter of an attendance on 04/09/2025; "core biopsy (09/2025)" before an
    operation in October) was done in an earlier episode: historical, not coded for this one."""
    admitted = admission_date(doc.text)
    if admitted is None:
        return
    for ent in doc.ents:
        if ent.label_ == "PROCEDURE" and not (ent._.is_historical or ent._.is_negated or ent._.is_hypothetical) \
                and dated_before(ent.sent.text, admitted):
            ent._.is_historical = True
