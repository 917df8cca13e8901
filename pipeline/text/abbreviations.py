"""Abbreviations: those the letter defines (scispaCy's AbbreviationDetector, Schwartz & Hearst),
plus a curated, versioned list of clinical abbreviations with UK and US usage
(``resources/abbreviations.yaml``) and the abbreviations among the UK index terms
(``resources/index_terms``). Ambiguous ones (MS, PE, RA, PD, AS ...) are resolved from cue
words in their sentence and the letter.

Sets ``doc._.clin_abbreviations``: a list of :class:`Abbreviation` (character offsets).
"""

# no `from __future__ import annotations`: spaCy validates factory signatures at runtime
import functools
import re
from dataclasses import asdict, dataclass
from importlib.resources import files
from typing import Dict, List, Optional, Tuple

import yaml
from scispacy.abbreviation import AbbreviationDetector
from spacy.language import Language
from spacy.tokens import Doc

from clincoder.core.codes import System
from clincoder.core.index_terms import index_terms

from .lexicon import code_label, tokens

if not Doc.has_extension("clin_abbreviations"):
    Doc.set_extension("clin_abbreviations", default=None)

LABELS = ("DIAGNOSIS", "PROCEDURE", "FINDING", "OTHER")


@dataclass(frozen=True)
class Sense:
    expansion: str
    label: str
    cues: Tuple[str, ...] = ()
    # words around the abbreviation that settle its sense whatever the cues ("deliberate OD": an
    # overdose, where "100 mg OD" is once daily)
    around: Optional["re.Pattern[str]"] = None


@dataclass(frozen=True)
class Abbreviation:
    """One abbreviation in the letter: ``text == letter[start:end]``; ``source`` is ``letter``
    (defined in the letter) or ``curated``; ``label`` is None for letter-defined ones."""

    start: int
    end: int
    text: str
    expansion: str
    label: Optional[str]
    source: str

    def to_dict(self) -> dict:
        return asdict(self)


@functools.lru_cache(maxsize=None)
def curated() -> Tuple[str, Dict[Tuple[str, ...], Tuple[Sense, ...]]]:
    """``(version, {token tuple: senses})`` from ``resources/abbreviations.yaml``."""
    data = yaml.safe_load((files("clincoder") / "resources" / "abbreviations.yaml").read_text(encoding="utf-8"))
    table: Dict[Tuple[str, ...], Tuple[Sense, ...]] = {}
    for key, value in data["abbreviations"].items():
        if value and isinstance(value[0], str):
            senses = (Sense(value[0], value[1]),)
        else:
            senses = tuple(Sense(v[0], v[1], tuple(str(c).lower() for c in (v[2] if len(v) > 2 else ())),
                                 re.compile(v[3]) if len(v) > 3 else None) for v in value)
        for s in senses:
            if s.label not in LABELS:
                raise ValueError(f"abbreviations.yaml: {key}: unknown label {s.label}")
        table[tuple(t for _, _, t in tokens(str(key)))] = senses
    for key, sense in index_term_abbreviations().items():
        table.setdefault(key, (sense,))
    return str(data.get("version", "")), table


def _abbreviation(term: str) -> bool:
    """A term written as one abbreviation: no space, three characters or more, and a capital after
    its first letter ("POAG", "HbSS", "DaTscan", "CRT-D"; not "Addison's")."""
    return " " not in term and len(term) >= 3 and any(ch.isupper() for ch in term[1:]) and "'" not in term


def index_term_abbreviations() -> Dict[Tuple[str, ...], Sense]:
    """The UK ICD-10 index terms written as one abbreviation ("POAG", "DCIS", "AIHA"), each its
    own expansion (the linker finds the term itself), matched as written, case and all. Those of
    procedures are left to the curated list, which knows their other senses: "SLT" is speech and
    language therapy more often than a laser trabeculoplasty, "UDS" a urine drug screen."""
    out: Dict[Tuple[str, ...], Sense] = {}
    for code, terms in index_terms(System.ICD10).items():
        label = code_label("dx", code)
        for term in terms if label else ():
            if _abbreviation(term):
                out.setdefault(tuple(t for _, _, t in tokens(term)), Sense(term, label))
    return out


def resolve_sense(senses: Tuple[Sense, ...], sentence: str, letter_words: frozenset,
                  around: Tuple[str, int, int] = ("", 0, 0)) -> Sense:
    """The sense whose pattern of surrounding words matches across the abbreviation itself
    (``around``: the text from a few words before it to a few after, and the abbreviation's
    offsets in it); else the one whose cues occur most: sentence hits count twice, letter hits
    once; ties -> first."""
    if len(senses) == 1:
        return senses[0]
    window, a, b = around
    settled = next((s for s in senses if s.around is not None
                    and any(m.start() <= a and b <= m.end() for m in s.around.finditer(window))), None)
    if settled is not None:
        return settled
    sent_words = set(re.findall(r"[a-z0-9%]+", sentence.lower()))
    best, best_score = senses[0], 0
    for s in senses:
        score = 0
        for cue in s.cues:
            if " " in cue:
                score += 2 * (cue in sentence.lower())
                continue
            score += 2 * any(w.startswith(cue) for w in sent_words) + any(w.startswith(cue) for w in letter_words)
        if score > best_score:
            best, best_score = s, score
    return best


@Language.factory("clincoder_abbreviations", assigns=["doc._.clin_abbreviations", "doc._.abbreviations"],
                  requires=["token.is_sent_start"])
def make_abbreviations(nlp: Language, name: str, letter_defined: bool = True) -> "LetterAbbreviations":
    return LetterAbbreviations(nlp, name, letter_defined)


class LetterAbbreviations:
    """scispaCy's detector for letter-defined abbreviations, then the curated list."""

    def __init__(self, nlp: Language, name: str = "clincoder_abbreviations", letter_defined: bool = True):
        self.detector = AbbreviationDetector(nlp, name=f"{name}_scispacy") if letter_defined else None
        self.version, self.table = curated()
        self.prefixes = {k[:i] for k in self.table for i in range(1, len(k) + 1)}
        self.max_len = max(len(k) for k in self.table)

    def __call__(self, doc: Doc) -> Doc:
        found: Dict[Tuple[int, int], Abbreviation] = {}
        text = doc.text
        if self.detector is not None and "(" in text:
            doc = self.detector(doc)
            for short in doc._.abbreviations:
                lf = short._.long_form
                if lf is None or _own_word(short.text, lf.text) or _ordinary_word(short.text):
                    continue
                found[(short.start_char, short.end_char)] = Abbreviation(
                    short.start_char, short.end_char, short.text, lf.text, None, "letter")
        toks = tokens(text)
        n = len(toks)
        letter_words = None
        i = 0
        while i < n:
            best = None
            for j in range(i + 1, min(n, i + self.max_len) + 1):
                key = tuple(t for _, _, t in toks[i:j])
                if key not in self.prefixes:
                    break
                if key in self.table and _whole(toks, i, j, text):
                    best = (j, self.table[key])
            if best is None:
                i += 1
                continue
            j, senses = best
            a, b = toks[i][0], toks[j - 1][1]
            if (a, b) not in found and not _inside_word(text, a, b):
                if len(senses) > 1 and letter_words is None:
                    letter_words = frozenset(re.findall(r"[a-z0-9%]+", text.lower()))
                lo = max(0, a - _AROUND)
                sense = resolve_sense(senses, _sentence(doc, a, b), letter_words or frozenset(),
                                      (text[lo:b + _AROUND], a - lo, b - lo))
                found[(a, b)] = Abbreviation(a, b, text[a:b], sense.expansion, sense.label, "curated")
            i = j
        doc._.clin_abbreviations = sorted(found.values(), key=lambda x: (x.start, x.end))
        return doc


_AROUND = 40  # characters either side of an abbreviation that may settle its sense


def _own_word(short: str, long: str) -> bool:
    """A "short form" that is a whole word of its long form abbreviates nothing: in "wedge
    excision of nail (partial nail avulsion of lateral 1/4)" the parenthesis restates the
    operation; "nail" does not stand for it."""
    return short.lower() in re.findall(r"[a-z0-9]+", long.lower())


def _ordinary_word(short: str) -> bool:
    """A "short form" written as an ordinary lower-case word abbreviates nothing: in "Parkinson's
    disease (diagnosed 2011, Hoehn and Yahr stage 4)" the parenthesis dates the disease; "disease"
    does not stand for its letters."""
    return short.isalpha() and short.islower() and len(short) > 4


def _whole(toks, i: int, j: int, text: str) -> bool:
    """Multi-token keys must be written as one unit (``#NOF``, ``h/o``, ``lap chole``); a lone ``#``
    must precede a word (``# L wrist``, ``#NOF``) or follow one, where no number comes next (``L tibial
    shaft # (oblique)``, not ``bed # 4``)."""
    if j - i == 1 and toks[i][2] == "#":
        after = toks[i + 1][2] if i + 1 < len(toks) else ""
        return after[:1].isalpha() or (i > 0 and toks[i - 1][2][:1].isalpha() and not after[:1].isdigit())
    for k in range(i + 1, j):
        gap = text[toks[k - 1][1]:toks[k][0]]
        if gap not in ("", " "):
            return False
    return True


# a name joined by a hyphen to a number ("PD-L1", "PD-1", "IL-6", "HER-2"): a molecule, not the abbreviation
_NAMED_PART = re.compile(r"-[A-Za-z]{0,2}\d")


def _inside_word(text: str, a: int, b: int) -> bool:
    """Whether ``a``-``b`` is part of a longer word or of a name joined by a hyphen to a number."""
    return (a > 0 and text[a - 1].isalnum()) or (b < len(text) and text[b].isalnum()) \
        or _NAMED_PART.match(text, b) is not None


def _sentence(doc: Doc, a: int, b: int) -> str:
    span = doc.char_span(a, b, alignment_mode="expand")
    if span is None or not doc.has_annotation("SENT_START"):
        return doc.text[max(0, a - 200): b + 200]
    return span[0].sent.text
