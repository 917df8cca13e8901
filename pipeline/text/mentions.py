"""Mentions of diagnoses/problems, procedures and findings/symptoms.

Candidates come from four sources, and overlapping ones resolve to the longest:

* the lexicon built from ICD-10-CM, WHO ICD-10 and ICD-10-PCS titles and inclusion terms plus
  letter wording (:mod:`clincoder.text.lexicon`), matched over normalised tokens (UK/US
  spelling, plurals, hyphens);
* abbreviations (:mod:`clincoder.text.abbreviations`): curated ones carry their label and
  expansion; letter-defined ones take the label of their long form;
* procedure words by their suffix (``-ectomy``, ``-otomy``, ``-plasty``, ``-scopy`` ...), with
  the approach words before them (``laparoscopic cholecystectomy``);
* a surgeon's own account: an operative participle after "I" or "we" ("I removed the left
  adrenal gland", "we then debrided the flap"), read with its object by the linker.

Writes ``doc.ents`` (labels DIAGNOSIS / PROCEDURE / FINDING, for ConText) and
``doc._.clin_mention_info``: ``{(start_char, end_char): (start, end, canonical, expansion)}`` with
the exact character offsets of each mention (``doc.ents`` are aligned to spaCy tokens).
"""

# no `from __future__ import annotations`: spaCy validates factory signatures at runtime
import re
from typing import Dict, List, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from clincoder.core.words import (APPOSITION_WORDS, COURSE_PHASES, NO_OBJECT_WORDS, NOT_DONE_AFTER, NOT_DONE_BEFORE,
                                  NOT_DONE_BEFORE_CLOSURE,
                                  NOT_OPERATED_REMOVALS, OPERATION_NOTE_SECTIONS, OPERATION_NOTE_STEPS, OPERATIVE_SUBJECTS,
                                  PROCEDURE_NOUNS, PROCEDURE_PARTICIPLES, clinician_named, norm)

from .lexicon import load_lexicon, norm_tokens, tokens

if not Doc.has_extension("clin_mention_info"):
    Doc.set_extension("clin_mention_info", default=None)

MENTION_LABELS = ("DIAGNOSIS", "PROCEDURE", "FINDING")

_PROC_SUFFIX = re.compile(r"^[a-z]{3,}(ectomy|ectomies|otomy|otomies|ostomy|ostomies|plasty|plasties|scopy|"
                          r"scopies|graphy|gram|grams|pexy|rrhaphy|centesis|desis|tripsy)$")
_NOT_PROC = {"program", "programme", "diagram", "kilogram", "milligram", "microgram", "nanogram", "telegram",
             "histogram", "nomogram", "instagram", "dichotomy", "photography", "geography", "biography",
             "bibliography", "pornography", "choreography", "demography", "cartography", "topography",
             "autonomy", "anatomy"}
_APPROACH = {"laparoscopic", "open", "total", "partial", "radical", "subtotal", "robotic", "diagnostic",
             "emergency", "elective", "flexible", "rigid", "upper", "lower", "anterior", "posterior",
             "percutaneous", "endoscopic", "hemi", "completion", "revision", "urgent", "coronary", "ct", "mri"}


ASIDE_WORDS = 3  # the most words in a parenthesis a phrase is read across

# the side a surgeon writes inside an operation's name ("open radical left nephrectomy", "total
# right hip replacement", "arrest of haemorrhage from R tonsillar fossa"): the operation is read
# without it, and its side is an attribute
_SIDES = frozenset({"left", "right", "r", "l", "rt", "lt"})
_SIDE_WORD = re.compile(r"\s*\b(?:left|right|[RL]|[RL]t)\b", re.I)


def sides_inside(text: str, ntoks: List[Tuple[int, int, str]],
                 lexicon) -> List[Tuple[int, int, str, str, Optional[str], int]]:
    """Procedure candidates the lexicon names once the side words inside them are left out,
    each with its name without the side (its expansion)."""
    sides = [(a, b) for a, b, t in ntoks if t in _SIDES]
    if not sides:
        return []
    bare = [t for t in ntoks if t[2] not in _SIDES]
    return [(a, b, label, canon, _SIDE_WORD.sub("", text[a:b]).strip(), 1) for a, b, label, canon in lexicon.match(bare)
            if label == "PROCEDURE" and any(a < x and y < b for x, y in sides)]


def without_asides(ntoks: List[Tuple[int, int, str]]) -> Tuple[List[Tuple[int, int, str]], List[Tuple[int, int]]]:
    """The tokens without short parenthesised asides, and the asides' character spans."""
    kept, asides, k = [], [], 0
    while k < len(ntoks):
        if ntoks[k][2] == "(":
            end = next((j for j in range(k + 1, min(len(ntoks), k + ASIDE_WORDS + 2)) if ntoks[j][2] == ")"), None)
            if end is not None and end > k + 1 and all(t[2] != "(" for t in ntoks[k + 1:end]):
                asides.append((ntoks[k][0], ntoks[end][1]))
                k = end + 1
                continue
        kept.append(ntoks[k])
        k += 1
    return kept, asides


def describes_another(canonical: str, text: str, a: int, b: int) -> bool:
    """A generic procedure noun that describes another word rather than naming an operation done
    ("resection margins clear", "mismatch repair proficient"; "incomplete eye closure")."""
    if canonical not in PROCEDURE_NOUNS:
        return False
    after = re.match(r"\s*([A-Za-z]+)", text[b:])
    before = re.search(r"([A-Za-z]+)\s*$", text[max(0, a - 30):a])
    not_done = NOT_DONE_BEFORE_CLOSURE if canonical == "closure" else NOT_DONE_BEFORE
    return bool(after and after.group(1).lower() in NOT_DONE_AFTER or before and before.group(1).lower() in not_done)


_JOINED_BEFORE = re.compile(r"[A-Za-z]-$")
_JOINED_AFTER = re.compile(r"^-[A-Za-z]")


# a word joined to a participle makes an adjective: "a ring-enhancing mass", "space-occupying"
_PARTICIPLE_AFTER = re.compile(r"^-[A-Za-z]+ing\b")


def inside_compound(text: str, a: int, b: int) -> bool:
    """A phrase joined by hyphens to words on both sides is part of a longer name and does not
    name itself ("Parkinson" in "Wolff-Parkinson-White"), nor does one joined to a participle that
    makes it an adjective (a "ring-enhancing" lesion names no ringing in the ears)."""
    return bool(_JOINED_BEFORE.search(text[max(0, a - 2):a]) and _JOINED_AFTER.match(text[b:b + 2])
                or _PARTICIPLE_AFTER.match(text[b:b + 30]))


# the imaging that guides an operation is its image control (a supplementary code), not an
# operation of its own: "Ultrasound-guided abdominal paracentesis", "under CT guidance"
_GUIDES = re.compile(r"^[\s-]*(?:guided|guidance)\b", re.I)


_OF_NEXT = re.compile(r"\s+of\s+(?:(?:his|her|their|the|a|an|known)\s+)?", re.I)


def phase_of_next(text: str, c: tuple, following: Optional[tuple]) -> bool:
    """Whether candidate ``c`` names only a phase of the diagnosis that follows it ("Acute
    exacerbation of idiopathic pulmonary fibrosis"): the next mention is the condition."""
    return (following is not None and c[2] == "DIAGNOSIS" and following[2] == "DIAGNOSIS"
            and c[3] in COURSE_PHASES and bool(_OF_NEXT.fullmatch(text[c[1]:following[0]])))


def guides_another(text: str, a: int, b: int) -> bool:
    """Whether the phrase at ``text[a:b]`` names the imaging that guided an operation."""
    return bool(_GUIDES.match(text[b:b + 12]))


# a participle of what came out with another operation's specimen ("Appendix removed within the
# specimen" of a right hemicolectomy) names no operation of its own: "specimen" within this many words
_SPECIMEN_WORDS = 4
_BETWEEN = re.compile(r"^(?:then|also|next|[a-z]+ly)$")  # "we then removed", "I carefully excised"


def passive_object(toks: List[Tuple[int, int, str]], j: int, word: str) -> bool:
    """Whether ``toks[j]`` is a passive's auxiliary after what was operated on ("The appendix was
    removed", "the bleeding vessel was ligated"): not a device, dressing or specimen taken out
    ("the drain was removed"), not a word that stands for no object ("it was removed"), and not a
    step of an operation (:data:`OPERATION_NOTE_STEPS`: "the tendon was repaired with a core
    suture", "the wound was packed")."""
    if j < 1 or toks[j][2].lower() not in ("was", "were") or word != "removed" and word in OPERATION_NOTE_STEPS:
        return False
    head = toks[j - 1][2].lower()
    return head.isalpha() and head not in NO_OBJECT_WORDS and \
        not (word == "removed" and head in NOT_OPERATED_REMOVALS)


def operative_participles(toks: List[Tuple[int, int, str]], notes: List[Tuple[int, int]] = ()
                          ) -> List[Tuple[int, int, str, str, Optional[str], int]]:
    """Candidates for the operations a surgeon tells: a participle of :data:`PROCEDURE_PARTICIPLES`
    after :data:`OPERATIVE_SUBJECTS`, a clinician named by title or a passive's operated object
    (:func:`passive_object`; at most one adverb between), or anywhere in an operation note's body (``notes``: character ranges), which tells what was
    done without a subject (except the steps of :data:`OPERATION_NOTE_STEPS`)."""
    out = []
    for k, (a, b, t) in enumerate(toks):
        word = t.lower()
        pair = f"{word} {toks[k + 1][2].lower()}" if k + 1 < len(toks) else ""
        if pair in PROCEDURE_PARTICIPLES:  # a participle of two words ("laid open")
            word, b = pair, toks[k + 1][1]
        if word not in PROCEDURE_PARTICIPLES or k == 0:
            continue
        j = k - 1
        if j > 0 and _BETWEEN.match(toks[j][2]):
            j -= 1
        named = [t for _, _, t in toks[max(0, j - APPOSITION_WORDS - 3):j + 1]]
        told = toks[j][2] in OPERATIVE_SUBJECTS or clinician_named(named) or passive_object(toks, j, word)
        within = any(t.lower() == "specimen" for _, _, t in toks[k + 1:k + 1 + _SPECIMEN_WORDS])
        if not within and (told or word not in OPERATION_NOTE_STEPS and any(x <= a < y for x, y in notes)):
            out.append((a, b, "PROCEDURE", word, None, 0))
    return out


@Language.factory("clincoder_mentions", assigns=["doc.ents", "doc._.clin_mention_info"],
                  requires=["doc._.clin_abbreviations", "doc._.section_spans"])
def make_mentions(nlp: Language, name: str, procedure_suffixes: bool = True) -> "LetterMentions":
    return LetterMentions(procedure_suffixes)


class LetterMentions:
    def __init__(self, procedure_suffixes: bool = True):
        self.lexicon = load_lexicon()
        self.procedure_suffixes = procedure_suffixes

    def candidates(self, doc: Doc) -> List[Tuple[int, int, str, str, Optional[str], int]]:
        """``(start, end, label, canonical, expansion, priority)`` before overlap resolution."""
        text = doc.text
        toks = tokens(text)
        ntoks = norm_tokens(toks)
        out = [(a, b, label, canon, None, 1) for a, b, label, canon in self.lexicon.match(ntoks)
               if not describes_another(canon, text, a, b) and not inside_compound(text, a, b)]
        for ab in doc._.clin_abbreviations or ():
            label = ab.label
            if ab.source == "letter":
                if text[:ab.start].rstrip().endswith("(") and text[ab.end:].lstrip().startswith(")"):
                    continue  # the definition "(RA)" itself: its long form is the mention
                label = self._label_of(ab.expansion)
                if label is None:
                    continue
            if label in MENTION_LABELS:
                out.append((ab.start, ab.end, label, ab.expansion.lower(), ab.expansion, 2))
        if self.procedure_suffixes:
            for k, (a, b, t) in enumerate(toks):
                low = t.lower()
                if _PROC_SUFFIX.match(low) and norm(low) not in _NOT_PROC:  # "micrograms" too
                    s = k
                    while s > 0 and toks[s - 1][2].lower() in _APPROACH and toks[s][0] - toks[s - 1][1] <= 1:
                        s -= 1
                    out.append((toks[s][0], b, "PROCEDURE", text[toks[s][0]:b].lower(), None, 0))
        out += sides_inside(text, ntoks, self.lexicon)
        notes = [(s.body_start, s.end) for s in doc._.section_spans or () if s.section in OPERATION_NOTE_SECTIONS]
        out += operative_participles(toks, notes)
        # "right intertrochanteric (extracapsular) fracture": a phrase read across a short aside
        # that names nothing itself ("acute (NSTEMI) myocardial infarction" keeps its NSTEMI)
        kept, asides = without_asides(ntoks)
        asides = [(x, y) for x, y in asides if not any(x <= c[0] and c[1] <= y for c in out)]
        if asides:
            out += [(a, b, label, canon, None, 1) for a, b, label, canon in self.lexicon.match(kept)
                    if any(a < x and y < b for x, y in asides)]
        return out

    def _label_of(self, phrase: str) -> Optional[str]:
        hits = self.lexicon.match(norm_tokens(tokens(phrase)))
        if not hits:
            return None
        a, b, label, _ = max(hits, key=lambda h: h[1] - h[0])
        return label

    def __call__(self, doc: Doc) -> Doc:
        cands = [c for c in self.candidates(doc) if not (c[2] == "PROCEDURE" and guides_another(doc.text, c[0], c[1]))]
        headers = [(s.start, s.body_start) for s in doc._.section_spans or () if s.section]
        if headers:  # a section header ("Procedures:") is not a mention
            cands = [c for c in cands if not any(c[0] < y and x < c[1] for x, y in headers)]
        cands.sort(key=lambda c: (-(c[1] - c[0]), -c[5], c[0]))
        taken: List[Tuple[int, int]] = []
        chosen = []
        for c in cands:
            a, b = c[0], c[1]
            if any(a < y and x < b for x, y in taken):
                continue
            taken.append((a, b))
            chosen.append(c)
        chosen.sort(key=lambda c: c[0])
        chosen = [c for c, after in zip(chosen, chosen[1:] + [None]) if not phase_of_next(doc.text, c, after)]
        # "exacerbation of COPD", "RSV bronchiolitis": expand the abbreviations inside a longer
        # mention (OTHER ones too: never mentions themselves, they say what the mention is)
        abbrs = list(doc._.clin_abbreviations or ())
        if abbrs:
            text = doc.text
            for k, c in enumerate(chosen):
                inner = [x for x in abbrs if c[0] <= x.start and x.end <= c[1] and (x.start, x.end) != (c[0], c[1])]
                if inner and c[4] is None:
                    parts, pos = [], c[0]
                    for x in inner:
                        parts += [text[pos:x.start], x.expansion]
                        pos = x.end
                    parts.append(text[pos:c[1]])
                    chosen[k] = (*c[:4], "".join(parts), c[5])
        spans: List[Span] = []
        info: Dict[Tuple[int, int], Tuple[int, int, str, Optional[str]]] = {}
        for a, b, label, canon, expansion, _ in chosen:
            if label not in MENTION_LABELS:  # a phrase that holds others' words and names nothing
                continue
            span = doc.char_span(a, b, label=label, alignment_mode="expand")
            if span is None or len(span) == 0:
                continue
            spans.append(span)
            info.setdefault((span.start_char, span.end_char), (a, b, canon, expansion))
        spans = filter_spans(spans)
        doc.ents = spans
        doc._.clin_mention_info = info
        return doc
