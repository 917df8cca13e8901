"""Attributes of mentions from rules: laterality, body site, the words that change codes (acute,
chronic, acute on chronic, type 1/2, stage, open/closed), the section, and the assertion (from
ConText, by precedence family > negated > hypothetical > historical > uncertain > present, and
from the section: a family-history section makes it ``family``, a differential ``uncertain``, a
procedure in the plan or follow-up ``hypothetical``, one in the past history ``historical``).

Sets ``doc._.mentions``: the list of :class:`~clincoder.text.model.Mention` of the letter.
"""

# no `from __future__ import annotations`: spaCy validates factory signatures at runtime
import re
from dataclasses import replace
from typing import List, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc

from clincoder.core.config import HISTORY_SECTIONS, PLANNED_SECTIONS
from clincoder.core.words import ADJECTIVE_SITES, BODY_SITES, LIST_MARKER, adjective_site

from .model import Mention
from .sections import section_at

if not Doc.has_extension("mentions"):
    Doc.set_extension("mentions", default=None)

# a site named in the plural is the site ("the nasal bones", "both hips")
_SITE_RE = re.compile(r"\b(" + "|".join(re.escape(s) for s in sorted(BODY_SITES, key=len, reverse=True)) + r")(?:e?s)?\b")
_ADJ_RE = re.compile(r"\b(" + "|".join(sorted(ADJECTIVE_SITES, key=len, reverse=True)) + r")\b")
_LAT_RE = re.compile(r"\b(left|right|bilateral|bilaterally|both|lt|rt)\b(?:[\s-]*sided)?")
_LR_RE = re.compile(r"(?:^|\s)([LR])(?=\s+[A-Za-z#])")
_PREP = re.compile(r"^\s*[,]?\s*(of|in|on|to|at|involving|affecting)\s+(the\s+)?", re.I)
_SIDE_FIRST = re.compile(r"^\s*(?=(?:left|right|Left|Right|L|R|Lt|Rt)\s)")
# the numbers that pick out which of a row of bones or digits ("the left 6th to 9th ribs", "the 5th metatarsal")
_ORDINALS = re.compile(r"^(?:\d+(?:st|nd|rd|th)|first|second|third|fourth|fifth)"
                       r"(?:\s*(?:to|-|and|&)\s*(?:\d+(?:st|nd|rd|th)|second|third|fourth|fifth))?\s+")
# inside a site's name, the article and the end of a bone its part lies in ("neck of the
# femur", "surgical neck of the proximal humerus"): the site list names the part "of humerus"
_INNER_WORDS = re.compile(r"\bof (?:the |an? )?(?:(?:proximal|distal) )?")
_BONE_END = re.compile(r"^(?:proximal|distal) ")
_ORGAN_PART = re.compile(r"^(?:upper|lower|mid) ")  # "the lower left ureter" is the ureter
_LONG_BONES = frozenset({"humerus", "radius", "ulna", "femur", "tibia", "fibula", "clavicle", "metacarpal", "metatarsal"})
_LAT_NORM = {"left": "left", "lt": "left", "l": "left", "right": "right", "rt": "right", "r": "right",
             "bilateral": "bilateral", "bilaterally": "bilateral", "both": "bilateral"}

_AOC = re.compile(r"\bacute[\s-]+on[\s-]+chronic\b|\baoc\b|\bacute on ckd\b")
_ACUTE = re.compile(r"\b(acute|acutely)\b")
_CHRONIC = re.compile(r"\bchronic(ally)?\b")
_TYPE1 = re.compile(r"\btype[\s-]*(1|i|one)\b|\bt1dm?\b|\biddm\b|(?<!non-)(?<!non )\binsulin[\s-]dependent\b")
_TYPE2 = re.compile(r"\btype[\s-]*(2|ii|two)\b|\bt2dm?\b|\bniddm\b|\bnon[\s-]insulin[\s-]dependent\b")
_STAGE = re.compile(r"\bstage[\s-]*([0-5][ab]?|iv[ab]?|v|i{1,3}[ab]?)\b|\bckd[\s-]*(?:g)?([1-5][ab]?)\b")
_OPEN = re.compile(r"\b(open|compound)\b")
_CLOSED = re.compile(r"\bclosed\b")
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5"}


@Language.factory("clincoder_attributes", assigns=["doc._.mentions"],
                  requires=["doc.ents", "doc._.section_spans", "doc._.clin_mention_info"])
def make_attributes(nlp: Language, name: str, window_chars: int = 40) -> "MentionAttributes":
    return MentionAttributes(window_chars)


class MentionAttributes:
    def __init__(self, window_chars: int = 40):
        self.window = window_chars

    def __call__(self, doc: Doc) -> Doc:
        text = doc.text
        info = doc._.clin_mention_info or {}
        ents = list(doc.ents)
        bounds = [(info.get((e.start_char, e.end_char), (e.start_char, e.end_char))[:2]) for e in ents]
        has_sents = doc.has_annotation("SENT_START")
        number = {x.start: k for k, x in enumerate(doc.sents)} if has_sents else {}
        out: List[Mention] = []
        sentence_of: List[int] = []
        for k, ent in enumerate(ents):
            a, b = bounds[k]
            _, _, canon, expansion = info.get((ent.start_char, ent.end_char), (a, b, ent.text.lower(), None))
            sent = ent.sent if has_sents else doc[:]
            lo = max(sent.start_char, bounds[k - 1][1] if k else 0, a - self.window)
            limit = min(sent.end_char, bounds[k + 1][0] if k + 1 < len(ents) else len(text))
            before, inside, after = text[lo:a], text[a:b], text[b:min(limit, b + self.window)]
            # a site is read further: "of the surgical neck of the left proximal humerus"
            reach = text[b:min(limit, b + 2 * self.window)]
            section = section_at(doc._.section_spans, a)
            assertion = _assertion(ent, section)
            if assertion == "present" and in_a_negative_panel(text, a, b):
                assertion = "negated"
            out.append(Mention(
                start=a, end=b, text=text[a:b], label=ent.label_, section=section,
                assertion=assertion, laterality=laterality(before, inside, reach),
                body_site=body_site(inside, reach, before), modifiers=modifiers(before, inside, after, expansion),
                expansion=expansion, canonical=canon))
            sentence_of.append(number.get(sent.start, 0))
        doc._.mentions = settled(out, sentence_of, text)
        return doc


_NEGATIVE_PANEL = re.compile(r"\)\s*[:=-]?\s*(?:negative|neg|not detected)\b", re.I)


def in_a_negative_panel(text: str, a: int, b: int) -> bool:
    """Whether ``text[a:b]`` is named inside brackets that a result after them says were all
    negative ("Resp viral PCR (SARS-CoV-2, influenza A/B, RSV): negative"), not a condition before
    the brackets ("pneumonia (CURB-65 2) - blood cultures (x2): negative")."""
    opened, closed = text.rfind("(", 0, a), text.find(")", b)
    return (opened != -1 and closed != -1 and ")" not in text[opened:a] and "(" not in text[b:closed]
            and "\n" not in text[opened:closed] and _NEGATIVE_PANEL.match(text, closed) is not None)


def settled(mentions: List[Mention], sentence_of: List[int], text: str = "") -> List[Mention]:
    """A query settled in the same sentence or within the next few is negated: in "?Pneumonia -
    no consolidation, so pneumonia not confirmed" the condition queried is the one ruled out, as
    is "aspiration pneumonia was raised as a possibility" just before "this was not an aspiration
    pneumonia" (``sentence_of``: the number of each mention's sentence); a denial further on ("her
    previous CTPA in 2020 showed no PE") settles nothing. So is a paragraph's label: "Asthma: his
    GP record carries a label of possible asthma ... Asthma is excluded." names the condition the
    paragraph rules out (:func:`is_label`)."""
    ruled_out = {(at, m.canonical) for m, at in zip(mentions, sentence_of) if m.assertion == "negated"}
    # a label is settled only by a verdict ("Asthma is excluded"), not by the condition gone at
    # discharge ("Hypokalaemia: K 2.9, replaced. No hypokalaemia on discharge bloods.")
    verdicts = {(at, m.canonical) for m, at in zip(mentions, sentence_of) if m.assertion == "negated"
                and _VERDICT.search(text, max(0, m.start - 60), m.end + 40)}
    return [replace(m, assertion="negated") if any(
        (at + k, m.canonical) in (ruled_out if m.assertion == "uncertain" else verdicts) for k in range(SETTLED_WITHIN + 1))
        and (m.assertion == "uncertain" or m.assertion == "present" and is_label(text, m.start, m.end)) else m
        for m, at in zip(mentions, sentence_of)]


_VERDICT = re.compile(r"\b(?:excluded|ruled out|not confirmed|no evidence of|not supported|disproved|refuted)\b", re.I)


_LINE_OPENING = re.compile(rf"[ \t]*{LIST_MARKER}?[ \t]*")
_LABEL_COLON = re.compile(r"[ \t]*:")


def is_label(text: str, a: int, b: int) -> bool:
    """Whether ``text[a:b]`` opens its line (after a bullet or a number) and a colon follows it:
    the label of what the line says of it ("Asthma: ...", "- Gout: ...")."""
    return _LINE_OPENING.fullmatch(text, text.rfind("\n", 0, a) + 1, a) is not None \
        and _LABEL_COLON.match(text, b) is not None


SETTLED_WITHIN = 4  # a query is settled by a denial at most this many sentences after it (a line break is one)


# a sentence that tells of a procedure done, under a plan heading ("A/P: ... underwent an appendicectomy")
_DONE = re.compile(r"\b(underwent|has had|had an?|was performed|were performed|was done|were done|was carried out)\b", re.I)


_THIS_EPISODE = re.compile(r"\b(?:this|current|present) (?:admission|episode|stay|attendance)\b|\btoday\b|"
                          r"\bduring (?:the|her|his) (?:admission|stay)\b", re.I)


def _assertion(ent, section: Optional[str]) -> str:
    x = ent._
    if x.is_family or section == "family_history":
        return "family"
    if x.is_negated or section == "excluded_diagnoses" and ent.label_ != "PROCEDURE":  # the test was done
        return "negated"
    if x.is_hypothetical or ent.label_ == "PROCEDURE" and section in PLANNED_SECTIONS and not _DONE.search(ent.sent.text):
        return "hypothetical"
    if x.is_historical or section == "allergies" and ent.label_ != "PROCEDURE":  # a reaction of an allergy
        return "historical"
    # an operation the past history lists was done in an earlier episode (NCCS OPCS-4: only the
    # episode's procedures are coded), unless its sentence places it in this one
    if ent.label_ == "PROCEDURE" and section in HISTORY_SECTIONS and not _THIS_EPISODE.search(ent.sent.text):
        return "historical"
    if x.is_uncertain or section == "differential_diagnosis":
        return "uncertain"
    return "present"


def _last_words(s: str, n: int) -> str:
    return " ".join(re.split(r"[,;:.()]", s)[-1].split()[-n:])


def laterality(before: str, inside: str, after: str) -> Optional[str]:
    for s in (inside.lower(), _last_words(before, 3).lower()):
        m = _LAT_RE.search(s)
        if m:
            return _LAT_NORM[m.group(1)]
    # "L tibial shaft #", "LE phaco + IOL" (the left eye)
    m = _LR_RE.search(inside) or re.search(r"(?:^|\s)([LR])E?\s*$", before)
    if m:
        return _LAT_NORM[m.group(1).lower()]
    p = _PREP.match(after)
    if p:
        # the side of the site the mention names: "of the left femur", "of the neck of the left femur"
        site = re.split(r"[,.;:()]| and | with | but | after ", after[p.end():].lower())[0]
        m = _LAT_RE.search(" ".join(site.split()[:6]))
        if m:
            return _LAT_NORM[m.group(1)]
    return None


def site_after(text: str) -> Optional[str]:
    """The site a mention's following words name ("the L olecranon", "the neck of the left femur",
    "the surgical neck of the left proximal humerus", "the lower left ureter"), or None: sides,
    articles, the end of a bone a part lies in and the part of an organ ("lower", "mid") are left
    out inside it; a leading end of a long bone ("proximal humerus") is kept."""
    rest = " ".join(_LAT_RE.sub(" ", _LR_RE.sub(" ", text)).lower().split())
    rest = _ORDINALS.sub("", _INNER_WORDS.sub("of ", rest))
    part = _ORGAN_PART.match(rest)
    m = _SITE_RE.match(rest) or (_SITE_RE.match(rest[part.end():]) if part else None)
    if m:
        return m.group(1)
    end = _BONE_END.match(rest)
    m = _SITE_RE.match(rest[end.end():]) if end else None
    if not m:
        return None
    # the end of a long bone is a site of its own (S42.2 upper end of humerus); "the distal
    # oesophagus" is the oesophagus
    return end.group(0) + m.group(1) if m.group(1) in _LONG_BONES else m.group(1)


def body_site(inside: str, after: str, before: str = "") -> Optional[str]:
    low = inside.lower()
    # "fracture of the left neck of femur", "# L angle of mandible": the stated site after the
    # mention (after a preposition, or straight after its side) is the most specific
    p = _PREP.match(after) or _SIDE_FIRST.match(after)
    site = site_after(after[p.end():]) if p else None
    if site:
        return site
    m = _SITE_RE.search(low)
    if m:
        return m.group(1)
    m = _ADJ_RE.search(low)
    if m:
        return adjective_site(m.group(1), low[m.end():])
    prev = _LAT_RE.sub(" ", _last_words(before, 3).lower()).strip()  # "breast cancer", "left knee pain"
    m = _SITE_RE.search(prev) if prev else None
    if m and prev.endswith(m.group(1)):
        # a part named with its organ's adjective is that organ's part ("pancreatic head
        # adenocarcinoma": the head of the pancreas, not the head)
        words = prev[:m.start()].split()
        adjective = _ADJ_RE.fullmatch(words[-1]) if words else None
        return f"{adjective.group(1)} {m.group(1)}" if adjective else m.group(1)
    m = _ADJ_RE.search(prev) if prev else None
    if m and prev.endswith(m.group(1)):
        return adjective_site(m.group(1), low)
    return None


def modifiers(before: str, inside: str, after: str, expansion: Optional[str] = None) -> Tuple[str, ...]:
    near = " ".join([_last_words(before, 3), inside, expansion or ""]).lower()
    tail = re.split(r"[.;()]", after)[0].lower()
    ctx = near + " " + " ".join(tail.split()[:4])
    out: List[str] = []
    if _AOC.search(ctx):
        out.append("acute on chronic")
    else:
        if _ACUTE.search(near):
            out.append("acute")
        if _CHRONIC.search(near):
            out.append("chronic")
    if _TYPE2.search(ctx):
        out.append("type 2")
    elif _TYPE1.search(ctx):
        out.append("type 1")
    m = _STAGE.search(ctx) or _STAGE.search((inside + " " + " ".join(tail.split()[:3])).lower())
    if m:
        v = (m.group(1) or m.group(2)).lower()
        roman = re.match(r"^(i{1,3}|iv|v)([ab]?)$", v)
        if roman:
            v = _ROMAN[roman.group(1)] + roman.group(2)
        out.append(f"stage {v}")
    if _OPEN.search(ctx):
        out.append("open")
    elif _CLOSED.search(ctx):
        out.append("closed")
    return tuple(out)
