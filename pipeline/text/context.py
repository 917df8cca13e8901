"""Assertion context of mentions: medspaCy's ConText with its default English rules plus rules for
letter phrasing (``resources/context_rules.yaml``: "?pneumonia", "query", "ruled out", "no evidence
of", "r/o", "likely", "h/o", "previous", "FH of", "mother had", "if ...").

Sets on each ``doc.ents`` span ``is_negated``, ``is_uncertain``, ``is_historical``,
``is_hypothetical``, ``is_family`` (medspaCy's default span attributes) and ``doc._.context_graph``.
"""

# no `from __future__ import annotations`: spaCy validates factory signatures at runtime
import functools
import re
from importlib.resources import files
from typing import Dict, List, Optional, Set

import yaml
from medspacy.common.util import prune_overlapping_matches
from medspacy.context import ConText, ConTextRule
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from .dates import admission_date, birth_date, date_of
from .sections import announcement_phrases

CONTEXT_ATTRS = ("is_negated", "is_uncertain", "is_historical", "is_hypothetical", "is_family")


@functools.lru_cache(maxsize=None)
def letter_rules_data() -> tuple:
    data = yaml.safe_load((files("clincoder") / "resources" / "context_rules.yaml").read_text(encoding="utf-8"))
    return tuple(data["rules"])


def plain_words(phrase: Doc) -> bool:
    """Whether a trigger phrase, cut into tokens as the letter will be ("cannot" is two), is two or
    more plain words: such a phrase also matches wrapped over lines."""
    return len(phrase) >= 2 and all(t.is_alpha for t in phrase)


MAX_PHRASES = 500  # a token pattern with more alternative phrases than this stays a pattern


def pattern_phrases(pattern: list) -> Optional[List[List[str]]]:
    """The word sequences a token pattern matches, when it only names lower-cased words ({"LOWER":
    "x"}, {"LOWER": {"IN": [...]}}, caseless punctuation by ORTH) each once or optionally
    ("OP": "?"); None for any other pattern. ``[{"LOWER": {"IN": ["was", "is"]}}, {"LOWER":
    "negative"}]`` is ``[["was", "negative"], ["is", "negative"]]``."""
    phrases: List[List[str]] = [[]]
    for token in pattern:
        words = token_words(token)
        if words is None:
            return None
        optional = token.get("OP") == "?"
        phrases = [p + [w] for p in phrases for w in words] + (phrases if optional else [])
        if len(phrases) > MAX_PHRASES:
            return None
    return [p for p in phrases if p] if all(phrases) else None


def token_words(token: dict) -> Optional[List[str]]:
    """The words one pattern token matches by their lower-case form, or None."""
    if not set(token) <= {"LOWER", "ORTH", "OP"} or token.get("OP", "?") != "?" or len(set(token) - {"OP"}) != 1:
        return None
    if "ORTH" in token:  # the same as LOWER only where the text has no case
        value = token["ORTH"]
        return [value] if isinstance(value, str) and value.lower() == value.upper() else None
    value = token["LOWER"]
    words = [value] if isinstance(value, str) else \
        value.get("IN") if isinstance(value, dict) and len(value) == 1 else None
    # a capital in a LOWER value never matches; a phrase would match its lower case
    return list(words) if words and all(isinstance(w, str) and w == w.lower() for w in words) else None


class LetterMatcher:
    """Finds ConText's triggers, as medspaCy's matcher does (the same rule ids, rule map and
    pruning to the longest of overlapping matches), at a fraction of its cost:

    - a trigger phrase of plain words also matches wrapped over lines ("a UTI has\nbeen
      excluded": the line break is a token of its own), by one phrase matcher over the letter's
      words without its whitespace tokens;
    - a token pattern that only lists words (medspaCy's "was|is|are|were negative") is matched as
      the phrases it stands for: spaCy's Matcher calls a Python predicate for every token and
      every such pattern, which made it most of ConText's time.

    Of matches over the same tokens, the one medspaCy's matcher kept is kept: a token pattern's or
    a phrase of plain words (which it matched as token patterns) before any other phrase, then the
    rule added first.
    """

    def __init__(self, nlp: Language, prune: bool):
        self.make_doc = nlp.make_doc
        self.vocab = nlp.vocab
        self.prune = prune
        self.phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.wrapped = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.patterns = Matcher(nlp.vocab)
        self.rule_map: Dict[str, ConTextRule] = {}
        self.labels: Set[str] = set()
        self.precedence: Dict[int, tuple] = {}  # by match id: which of matches over the same tokens is kept

    @property
    def rules(self) -> List[ConTextRule]:
        return list(self.rule_map.values())

    def add(self, rules) -> None:
        for rule in rules:
            rule_id = f"{rule.category}_{len(self.rule_map)}"  # medspaCy's ids
            rule._rule_id = rule_id  # medspaCy's rules carry their id
            self.rule_map[rule_id] = rule
            self.labels.add(rule.category)
            self.add_rule(rule_id, rule)

    def add_rule(self, rule_id: str, rule: ConTextRule) -> None:
        if isinstance(rule.pattern, str):
            raise ValueError(f"ConText rule {rule.literal!r}: regular-expression patterns are not supported; "
                             "write the pattern as spaCy Matcher tokens")
        if rule.pattern is None:
            phrase = self.make_doc(rule.literal.lower())
            plain = plain_words(phrase)
            self.phrases.add(rule_id, [phrase], on_match=rule.on_match)
            if plain:
                self.wrapped.add(rule_id, [phrase], on_match=rule.on_match)
            self.precedence[self.vocab.strings.add(rule_id)] = (not plain, len(self.precedence))
            return
        self.precedence[self.vocab.strings.add(rule_id)] = (False, len(self.precedence))
        phrases = pattern_phrases(rule.pattern)
        if phrases is None:
            self.patterns.add(rule_id, [rule.pattern], on_match=rule.on_match)
        else:
            self.phrases.add(rule_id, [Doc(self.vocab, words=p) for p in phrases], on_match=rule.on_match)

    def __call__(self, doc: Doc) -> list:
        matches = [m for found in (self.patterns, self.phrases) if len(found) for m in found(doc)]
        matches += self.wrapped_matches(doc)
        matches.sort(key=lambda m: (m[1], m[2], self.precedence[m[0]]))
        return prune_overlapping_matches(matches) if self.prune else matches

    def wrapped_matches(self, doc: Doc) -> list:
        """The plain-word phrases that match with whitespace tokens between their words."""
        words = [t.i for t in doc if not t.is_space]
        if len(words) == len(doc) or not words or not len(self.wrapped):
            return []
        compact = Doc(doc.vocab, words=[doc[i].text for i in words])
        return [(m, words[s], words[e - 1] + 1) for m, s, e in self.wrapped(compact)
                if words[e - 1] - words[s] != e - 1 - s]


CLAUSE_BREAK = "CLAUSE_BREAK"  # the category of rules that end the scope of forward-looking ones


def letter_rules() -> List[ConTextRule]:
    rules = []
    for r in letter_rules_data():
        rules.append(ConTextRule(literal=str(r["literal"]), category=r["category"], pattern=r.get("pattern"),
                                 direction=r.get("direction", "BIDIRECTIONAL"), max_scope=r.get("max_scope"),
                                 allowed_types=set(r["allowed_types"]) if r.get("allowed_types") else None,
                                 terminated_by=set(r.get("terminated_by", ()))))
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
    for r in rules:
        if r.direction.upper() == "FORWARD":
            r.terminated_by.add(CLAUSE_BREAK)
    ctx.add(rules)
    return ctx


def _title_spans(doc) -> List[tuple]:
    """The token spans (start, end) of the section headings the sections stage found ("Hx:")."""
    return [s.title_span for s in doc._.sections if s.title_span is not None and s.title_span[1] > s.title_span[0]]


def _within(modifier, target) -> bool:
    return target.start <= modifier.modifier_span[0] and modifier.modifier_span[1] <= target.end


class LetterConText(ConText):
    """medspaCy's ConText, where a trigger inside a mention never modifies that mention: a title's own
    words ("recurrent depressive disorder, current episode severe without psychotic symptoms")
    do not negate it. medspaCy means to skip a modifier that overlaps its target, but its overlap
    test misses one lying strictly inside the target. Its triggers are found by
    :class:`LetterMatcher`."""

    def __init__(self, nlp: Language, **kwargs):
        super().__init__(nlp, **kwargs)
        # medspaCy builds its matcher in __init__ with no way to pass another: set in its place
        # (the name-mangled attribute ConText reads), before any rule is added
        self._ConText__matcher = LetterMatcher(nlp, prune=self.prune_on_modifier_overlap)

    def __call__(self, doc, targets: Optional[str] = None):
        doc = super().__call__(doc, targets)
        self.drop_triggers(doc, _within)
        titles = _title_spans(doc)
        if titles:  # "Hx: 3/7 cloudy bags": the heading names its section, it tells of no past
            self.drop_triggers(doc, lambda m, t: any(s <= m.modifier_span[0] and m.modifier_span[1] <= e
                                                     for s, e in titles))
        # the readings ConText's triggers cannot give, on what the triggers gave
        done_before_admission(doc)
        indication_of_a_past_procedure(doc)
        set_aside(doc)
        excluded_next(doc)
        excluded_with_reasons(doc)
        coordinated_negation(doc)
        tests_after_a_colon(doc)
        return doc

    def drop_triggers(self, doc, void) -> None:
        """Take out each trigger that ``void(modifier, target)`` says does not modify its target (one
        lying inside the mention, a section's heading) and read the target again."""
        graph = doc._.context_graph
        touched = {(t.start, t.end) for t, m in graph.edges if void(m, t)}
        if not touched:
            return
        graph.edges = [(t, m) for t, m in graph.edges if not void(m, t)]
        for t in graph.targets:
            if (t.start, t.end) in touched:
                t._.modifiers = tuple(m for m in t._.modifiers if not void(m, t))
                for attr in CONTEXT_ATTRS:
                    setattr(t._, attr, False)
        self.set_context_attributes([(t, m) for t, m in graph.edges if (t.start, t.end) in touched])


_WEIGHED = frozenset({"consider", "considered", "suspected", "queried"})
_WEIGHED_VERBS = frozenset({"thought", "wondered"})  # ... followed by one of _WEIGHED_OF: "we also thought about"
_WEIGHED_OF = frozenset({"about", "of"})
_WEIGHED_WITHIN = 3  # at most this many words between "considered" and the condition ("first", "a", "possible")


def _weighed(tokens):
    """The last word in ``tokens`` that says a condition was weighed ("considered", "thought about")."""
    return next((t for t in reversed(tokens) if t.lower_ in _WEIGHED or
                 t.lower_ in _WEIGHED_OF and t.i > 0 and t.nbor(-1).lower_ in _WEIGHED_VERBS), None)


# a later verdict on what was weighed, by a pronoun: "so we have ruled this out", "but the
# distribution and histology do not support it"
_DENIED_BY_PRONOUN = re.compile(r"\b(?:ruled|rule)\s+(?:this|it|that)\s+out\b|\bexcluded\s+(?:this|it)\b|"
                                r"\b(?:this|it)\s+(?:was|has\s+been)\s+(?:excluded|ruled\s+out)\b|"
                                r"\bn(?:o|')t\s+support\s+(?:it|this)\b|"
                                # the condition itself the subject, left out: "Lymphoma was considered
                                # because of the high IgG, and was excluded for now"
                                r"\b(?:and|but)\s+(?:was|were|has\s+been|have\s+been)\s+"
                                r"(?:excluded|ruled\s+out)\b", re.I)
# what says a condition was weighed when it follows the condition ("Ulcerative colitis was on the differential")
_WEIGHED_AFTER = re.compile(r"^\s*(?:was|were)\s+(?:on\s+the\s+differential|a\s+possibility|considered)\b", re.I)


def _denied_later(ent) -> bool:
    """Whether the sentence names the condition again, later, and negates it there ("We
    considered bronchiolitis ..., so we do not think this was bronchiolitis"), or denies it by a
    pronoun ("..., so we have ruled this out")."""
    name = ent.text.lower()
    rest = ent.doc.text[ent.end_char:ent.sent.end_char]
    return _DENIED_BY_PRONOUN.search(rest) is not None or any(
        e._.is_negated and e.label_ == ent.label_ and e.start >= ent.end and
        (e.text.lower() in name or name in e.text.lower()) for e in ent.sent.ents)


def set_aside(doc) -> None:
    """A condition the letter says it considered and then answers with a "but" ("We first
    considered scarlet fever, but the throat swab grew no group A streptococcus"), or names again
    later in the sentence to deny it ("We also thought about an inhaled foreign body: ..., so a
    foreign body was not suspected"), or denies by a pronoun ("we did consider late-onset
    rheumatoid arthritis ..., so we have ruled this out"; "Ulcerative colitis was on the
    differential at referral, but the histology does not support it"), was set aside: negated. A
    ConText trigger cannot say it, since the condition lies inside the words that say it."""
    for ent in doc.ents:
        if ent.label_ == "PROCEDURE" or ent._.is_negated:
            continue
        before = doc[max(ent.sent.start, ent.start - _WEIGHED_WITHIN - 1):ent.start]
        after = [t.lower_ for t in doc[ent.end:min(ent.sent.end, ent.end + 2)]]
        weighed = _weighed(before)
        if weighed is not None and not any(t.is_punct and t.text != "-" for t in doc[weighed.i:ent.start]) and \
                (after[:1] == ["but"] or after[:2] == [",", "but"] or _denied_later(ent)):
            ent._.is_negated = True
        elif _WEIGHED_AFTER.match(doc.text[ent.end_char:ent.sent.end_char]) and _denied_later(ent):
            ent._.is_negated = True


# a sentence that opens with its verdict on the query before it: "EXCLUDED: ...", "Ruled out on CTPA."
_VERDICT_WORDS = r"(?:excluded|ruled\s+out|not\s+confirmed)"  # the verdict words on a condition weighed
_VERDICT_OPENS = re.compile(rf"^\W*(?:{_VERDICT_WORDS}|disproved)\b(?!\s+(?:a|an|the|any)\b)", re.I)


def excluded_next(doc) -> None:
    """A condition the letter queried ("2. ?ACE-inhibitor angioedema - considered on arrival given
    lip swelling.") whose next sentence opens with the verdict ("EXCLUDED: clear temporal
    trigger ...") was excluded: negated. Only a queried or weighed condition, the last sentence's:
    the verdict answers the query, not what the letter states."""
    sents = list(doc.sents)
    for before, sent in zip(sents, sents[1:]):
        if not _VERDICT_OPENS.match(sent.text):
            continue
        for ent in before.ents:
            if ent.label_ != "PROCEDURE" and not ent._.is_negated and (
                    ent._.is_uncertain or _weighed(doc[before.start:ent.start]) is not None
                    or _weighed(doc[ent.end:before.end]) is not None
                    or _WEIGHED_AFTER.match(doc.text[ent.end_char:before.end_char])):
                ent._.is_negated = True


# the verdict on a condition just named, then a colon: its reasons follow ("Glaucoma excluded: ...")
_VERDICT_THEN_REASONS = re.compile(rf"\s*(?:was\s+|has\s+been\s+)?{_VERDICT_WORDS}\s*:", re.I)


def excluded_with_reasons(doc) -> None:
    """A condition excluded at the head of its line ("- Glaucoma excluded: referred by her
    optometrist as a glaucoma suspect in 2025 ... Discharged from glaucoma surveillance") is
    what the rest of the line argues against: a mention there that names it again, all its words
    ("glaucoma suspect"), is negated too. Other conditions on the line keep their own reading,
    those that share only a word ("Hip fracture excluded: ... a pubic ramus fracture")."""
    for ent in doc.ents:
        if ent.label_ == "PROCEDURE" or not ent._.is_negated:
            continue
        verdict = _VERDICT_THEN_REASONS.match(doc.text, ent.end_char)
        if verdict is None:
            continue
        start = verdict.end()
        end = doc.text.find("\n", start)
        end = len(doc.text) if end < 0 else end
        named = {t.lower_ for t in ent if t.is_alpha}
        for other in doc.ents:
            if other.label_ != "PROCEDURE" and start <= other.start_char and other.end_char <= end \
                    and named <= {t.lower_ for t in other}:
                other._.is_negated = True


def tests_after_a_colon(doc) -> None:
    """A procedure listed after a colon that follows a negation is one of the tests that showed it
    ("An organic cause was looked for and not found: CT and MRI head were normal, a lumbar
    puncture showed normal CSF"): done, not negated, unless a trigger of its own negates it."""
    for ent in doc.ents:
        if ent.label_ != "PROCEDURE" or not ent._.is_negated:
            continue
        negations = [m for m in ent._.modifiers if m.category == "NEGATED_EXISTENCE"]
        if negations and all(m.direction == "FORWARD" and m.modifier_span[1] <= ent.start
                             and any(t.text == ":" for t in doc[m.modifier_span[1]:ent.start]) for m in negations):
            ent._.is_negated = False


_CONJUNCTIONS = {"and", "or", "nor"}
_COORDINATING = {",", "/"} | _CONJUNCTIONS
_SINGULAR = {"has", "was", "is"}  # "diabetes and PE has been excluded": the verb has one subject


def coordinated_negation(doc) -> None:
    """A condition coordinated with one that a trigger after them negates is negated too ("Lung
    cancer and lymphoma have been excluded"): a backward trigger's scope is a few words, and a
    list before it is one subject, unless a singular verb says otherwise."""
    ents = [e for e in doc.ents if e.label_ != "PROCEDURE"]
    listed = set()  # negated as part of a list
    for n in range(len(ents) - 1, 0, -1):
        ent, before = ents[n], ents[n - 1]
        backward = n in listed or ent._.is_negated and any(
            m.category == "NEGATED_EXISTENCE" and m.direction == "BACKWARD"
            and not any(t.lower_ in _SINGULAR for t in doc[ent.end:m.modifier_span[1]]) for m in ent._.modifiers)
        joined = [t.lower_ for t in doc[before.end:ent.start]]
        # "A, B and C were excluded", "SJS / TEN excluded": the last of the list follows a
        # conjunction or a slash alone ("chest pain, pulmonary embolism ruled out" is no list;
        # ", and" begins another clause)
        if backward and not before._.is_negated and before.sent == ent.sent and joined \
                and all(t in _COORDINATING for t in joined) \
                and (n in listed or len(joined) == 1 and joined[0] in _CONJUNCTIONS | {"/"}):
            before._.is_negated = True
            listed.add(n - 1)


def done_before_admission(doc) -> None:
    """A procedure its sentence dates before this episode began ("Laparoscopic sigmoid colectomy
    on 12/05/2025" in a letter of an attendance on 04/09/2025; "core biopsy (09/2025)" before an
    operation in October; "a right hip replacement in 2014"; "tonsillectomy aged 7") was done in
    an earlier episode: historical, not coded for this one (the date nearest its words:
    :func:`clincoder.text.dates.date_of`)."""
    admitted = admission_date(doc.text)
    if admitted is None:
        return
    born = birth_date(doc.text)
    for ent in doc.ents:
        if ent.label_ == "PROCEDURE" and not (ent._.is_historical or ent._.is_negated or ent._.is_hypothetical):
            done = date_of(doc.text, ent.start_char, ent.end_char, ent.sent.start_char, ent.sent.end_char,
                           admitted.year, born)
            if done is not None and done < admitted:
                ent._.is_historical = True


_INDICATION_WITHIN = 4  # at most this many words between "for" and the condition
_CLAUSE_WORDS = frozenset({"and", "but", "or", "now", "then", "which", "who", "has", "have", "had", "is", "was", "were",
                           "are", "since", "until", "after", "before", "when"})  # another clause begins


def indication_of_a_past_procedure(doc) -> None:
    """A condition the letter gives as the reason for an operation of an earlier episode ("Her
    caesarean section in September 2025 was for a breech presentation", "hysterectomy in 2010
    for fibroids"), or for a course of treatment the sentence says is over ("She had finished a
    course of co-amoxiclav for acute sinusitis three weeks before"), belongs to that episode:
    historical."""
    past = [e for e in doc.ents if e.label_ == "PROCEDURE" and e._.is_historical]
    course: Dict[int, bool] = {}  # sentence start -> whether it tells a course of treatment that is over
    for ent in doc.ents:
        if ent.label_ == "PROCEDURE" or ent._.is_negated or ent._.is_historical:
            continue
        sent = ent.sent
        before = next((p for p in past if p.sent == sent and p.end <= ent.start), None)
        if before is None and course.setdefault(sent.start, bool(_PAST_COURSE.search(sent.text))):
            before = sent[0:0]
        if before is None:
            continue
        between = doc[before.end:ent.start]
        reason = next((t for t in reversed(between) if t.lower_ == "for"), None)
        if reason is not None and ent.start - reason.i <= _INDICATION_WITHIN and \
                not any(t.is_punct or t.lower_ in _CLAUSE_WORDS for t in doc[reason.i + 1:ent.start]):
            ent._.is_historical = True


# a course of treatment the sentence says is over: "had finished a course of ...", "two courses of
# antibiotics last year", "three weeks before admission"
_PAST_COURSE = re.compile(r"\b(courses? of|treated with|antibiotics)\b.*\b(finished|completed|last (year|month)|"
                          r"(\w+) (weeks|months|years) (ago|before|earlier))\b|\b(finished|completed) (a|the|two|three)\b"
                          r"[^.;]{0,40}\bcourses? of\b", re.I)
