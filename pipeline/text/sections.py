"""Sections of UK and US discharge letters: medspaCy's Sectionizer with letter rules
(``resources/sections.yaml``) and a header filter fitted to letters.

Sets ``doc._.sections`` (medspaCy's) and ``doc._.section_spans``: a list of :class:`SectionSpan`
with canonical names (``presenting_complaint``, ``hpc``, ``past_medical_history``,
``diagnoses`` ...) and character offsets.
"""

# no `from __future__ import annotations`: spaCy validates factory signatures at runtime
import functools
import re
from dataclasses import asdict, dataclass, replace
from importlib.resources import files
from typing import List, Optional, Tuple

import yaml
from medspacy.section_detection import SectionRule, Sectionizer
from spacy.language import Language
from spacy.tokens import Doc

from clincoder.core.config import HISTORY_SECTIONS, PLANNED_SECTIONS
from clincoder.core.words import LIST_MARKER

from .dates import DATE_TOKEN

# medspaCy registers a getter ``doc._.section_spans`` (a list of spaCy Spans, unused inside medspaCy);
# the clincoder pipeline replaces it with typed, serialisable SectionSpans (character offsets).
Doc.set_extension("section_spans", default=None, force=True)

_SEPARATORS = {":", "-", "–", "—"}
_POSSESSIVES = {"her", "his", "their", "the", "our", "my"}
_JOINERS = {"and", "&", "/", "+"}  # words that join two headers on one line
# words that make a line a sentence, not a heading ("Operation planned for next month ...:")
_TELLING = {"planned", "will", "arranged", "booked"}


@dataclass(frozen=True)
class SectionSpan:
    """One section: ``section`` is the canonical name (None before the first header); ``start``/
    ``end`` cover the header and the body; ``body_start`` is where the body begins."""

    section: Optional[str]
    start: int
    end: int
    body_start: int
    title: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@functools.lru_cache(maxsize=None)
def _sections_data() -> dict:
    return yaml.safe_load((files("clincoder") / "resources" / "sections.yaml").read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=None)
def section_rules() -> dict:
    """``{canonical name: [header phrases]}`` from ``resources/sections.yaml``, each header with its
    word variants; a variant written out under another section stays there."""
    data = _sections_data()
    written = {k: [str(p).lower() for p in v] for k, v in data["sections"].items()}
    owner = {p: k for k, phrases in written.items() for p in phrases}
    pairs = [(str(a).lower(), str(b).lower()) for a, b in data.get("word_variants", [])]
    return {k: list(dict.fromkeys(v for p in phrases for v in header_variants(p, pairs)
                                  if owner.get(v, k) == k))
            for k, phrases in written.items()}


def header_variants(phrase: str, pairs: List[Tuple[str, str]]) -> List[str]:
    """``phrase`` and every form reached by swapping whole words of ``pairs`` (both ways, repeatedly):
    ``diagnosis on discharge`` -> ``diagnoses on discharge``, ``diagnosis at discharge`` ..."""
    swaps = [(re.compile(rf"(?<![\w/]){re.escape(a)}(?![\w/])"), b) for x, y in pairs for a, b in ((x, y), (y, x))]
    found, todo = [phrase], [phrase]
    while todo:
        current = todo.pop()
        for pattern, replacement in swaps:
            variant = pattern.sub(replacement, current)
            if variant not in found:
                found.append(variant)
                todo.append(variant)
    return found


SECTION_NAMES = tuple(section_rules())
# where an announced diagnosis is not this episode's (see ``announces_diagnosis`` in sections.yaml)
_NOT_ANNOUNCED_IN = HISTORY_SECTIONS | PLANNED_SECTIONS | {"family_history", "differential_diagnosis",
                                                           "excluded_diagnoses"}


@functools.lru_cache(maxsize=None)
def _phrases(key: str) -> re.Pattern:
    phrases = sorted((str(p).lower() for p in _sections_data()[key]), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in phrases) + r")\b",
                      re.IGNORECASE)


def announcement_phrases() -> Tuple[str, ...]:
    """The phrases that announce the episode's diagnosis in prose (``announces_diagnosis``)."""
    return tuple(str(p).lower() for p in _sections_data()["announces_diagnosis"])


# a diagnosis the clinician says was not made announces nothing ("I have not made a diagnosis of")
_DENIED_BEFORE = re.compile(r"\b(?:not|never|n't)\s*$", re.I)
# nor one of another episode or person ("readmitted two days after his recent admission with
# pneumonia", "following her husband's admission with COVID")
_ANOTHER_BEFORE = re.compile(r"\b(?:after|following|since|before|previous|husband|wife|partner|son|daughter|mother|"
                             r"father|brother|sister)\b(?:\W+\w+)?\W*$", re.I)


def announcement_start(sentence: str, section: Optional[str]) -> Optional[int]:
    """Where in the sentence it announces the episode's diagnosis in prose ("Our diagnosis is
    acute gout"), outside the history, plan and follow-up, and not as the cause of another
    condition ("we think this was a viral infection that triggered the attack"); None where it
    announces none."""
    found = _phrases("announces_diagnosis").search(sentence) if section not in _NOT_ANNOUNCED_IN else None
    if found is None or _phrases("names_a_cause").search(sentence) is not None:
        return None
    if _DENIED_BEFORE.search(sentence[max(0, found.start() - 12):found.start()]) \
            or _ANOTHER_BEFORE.search(sentence[max(0, found.start() - 25):found.start()]):
        return None
    return found.start()


def announces_diagnosis(sentence: str, section: Optional[str]) -> bool:
    """Whether the sentence announces the episode's diagnosis (:func:`announcement_start`)."""
    return announcement_start(sentence, section) is not None


@Language.factory("clincoder_sections", assigns=["doc._.sections", "doc._.section_spans"],
                  requires=["token.is_sent_start"])
def make_sections(nlp: Language, name: str) -> "LetterSectionizer":
    return LetterSectionizer(nlp, name)


class LetterSectionizer(Sectionizer):
    """medspaCy's Sectionizer with the rules of ``sections.yaml`` and a letter-header filter."""

    def __init__(self, nlp: Language, name: str = "clincoder_sections"):
        super().__init__(nlp, name=name, rules=None, span_attrs=None, require_start_line=True,
                         apply_sentence_boundary=False)
        rules = []
        for category, phrases in section_rules().items():
            for phrase in phrases:
                rules.append(SectionRule(literal=phrase, category=category))
        self.add(rules)

    def filter_start_lines(self, doc: Doc, matches: List[Tuple[int, int, int]]) -> List[Tuple[int, int, int]]:
        """Keep a match that starts a line (after an optional bullet) and looks like a header: followed
        by ``:``/``-``, alone on its line, or in capitals; short headers (``PMH``) need the colon or
        their line to themselves in capitals.
        The separator becomes part of the header. Overlapping matches keep the longest."""
        text = doc.text
        out = []
        for m in matches:
            match_id, start, end = m[0], m[1], m[2]
            in_prose = not _starts_line(doc, start, text)
            if in_prose and not _opens_sentence(doc, start):
                continue
            title = doc[start:end]
            end, closed = _past_parenthesis(doc, end)  # "Operation (07/07/2025):" is the header "Operation:"
            if not closed:  # and so are "Procedure 14/06/2025:" and "Op 21/08/2025 (GA):"
                dated, closed = _past_date(doc, end)
                if not closed and dated > end:
                    dated, closed = _past_parenthesis(doc, dated)
                end = dated if closed else end
            if not closed:  # "Allergies and intolerances", "Secondary diagnoses / comorbidities"
                end, closed = _past_joined(doc, end)
            if not closed:  # "Operation (10/06/2025), under general anaesthetic:" heads what follows
                end, closed = _past_line_colon(doc, end)
            nxt = doc[end] if end < len(doc) else None
            colon = closed or nxt is not None and nxt.text in _SEPARATORS
            line_end = _ends_line(doc, end - 1)
            caps = title.text.isupper() and len(title.text) > 3
            # a short header needs its colon ("PMH:"), or its line to itself in capitals ("PMH")
            if len(title.text) <= 3 and not colon and not (line_end and title.text.isupper()):
                continue
            if not (colon or line_end or caps and nxt is not None and not nxt.text[:1].islower()):
                continue
            # in prose, a header is a sentence that ends its line with a colon ("Her problems this
            # admission were:" above a numbered list)
            stop = end + 1 if colon and not closed else end
            if in_prose and not (colon and _ends_line(doc, stop - 1)):
                continue
            out.append((match_id, start, stop))
        out.sort(key=lambda m: (m[1], -(m[2] - m[1])))
        kept: List[Tuple[int, int, int]] = []
        for m in out:
            if kept and m[1] < kept[-1][2]:
                continue
            kept.append(m)
        return kept

    def __call__(self, doc: Doc) -> Doc:
        doc = super().__call__(doc)
        raw = []
        for s in doc._.sections:
            a = doc[s.title_start].idx if s.title_start < len(doc) else len(doc.text)
            if s.body_end >= len(doc):
                b = len(doc.text)
            else:
                b = doc[s.body_end].idx
            body = doc[s.body_start].idx if s.body_start < len(doc) else b
            title = doc.text[a:body].strip() if s.category else ""
            raw.append(SectionSpan(s.category, a, b, body, title))
        spans = []
        for span, resumed in item_headers(doc.text, nested_headers(doc.text, raw)):
            spans += [span] if resumed else inline_paragraph(doc.text, span)
        doc._.section_spans = spans
        return doc


def _leading(line: str) -> int:
    """The width of a line's leading spaces and tabs (a tab is four)."""
    line = line.expandtabs(4)
    return len(line) - len(line.lstrip())


def _indent(text: str, char: int) -> Tuple[int, bool]:
    """How far the line holding ``char`` is indented, and whether ``char`` starts that line (only
    spaces and tabs before it)."""
    before = text[text.rfind("\n", 0, char) + 1:char]
    return _leading(before), not before.strip()


def _outdent(text: str, start: int, end: int, indent: int) -> Optional[int]:
    """Where the first non-blank line in ``text[start:end]`` indented less than ``indent`` begins."""
    pos = text.find("\n", start, end)
    while pos != -1:
        line_end = text.find("\n", pos + 1, end)
        line = text[pos + 1:line_end if line_end != -1 else end]
        if line.strip() and _leading(line) < indent:
            return pos + 1
        pos = line_end
    return None


def nested_headers(text: str, spans: List[SectionSpan]) -> List[Tuple[SectionSpan, bool]]:
    """A header indented under an item of a less indented section ("   Treatment: IV
    methylprednisolone ..." inside problem 1 of a numbered problem list) heads its indented lines
    only: at the next line indented less, the enclosing section resumes. Each span comes with
    True where it is such a resumption (its first line is no header)."""
    out: List[Tuple[SectionSpan, bool]] = []
    enclosing: List[Tuple[int, SectionSpan]] = []  # (indent of the header's line, span), innermost last
    for span in spans:
        indent, starts_line = _indent(text, span.start)
        while enclosing and enclosing[-1][0] >= indent:
            enclosing.pop()
        outer = enclosing[-1][1] if enclosing and starts_line and span.section else None
        back = _outdent(text, span.body_start, span.end, indent) if outer is not None else None
        if back is None:
            out.append((span, False))
            enclosing += [(indent, span)] if span.section else []
            continue
        out.append((replace(span, end=back), False))
        out.append((SectionSpan(outer.section, back, span.end, back, outer.title), True))
    return out


BLANK_LINE = re.compile(r"\n[ \t]*\n")
_LISTS_GO_ON = frozenset({"family_history", "plan", "follow_up", "medications", "allergies"})
_NONE = re.compile(r"\s*(?:none|nil|nkda|no known|not known)\b", re.I)
_BULLET = re.compile(rf"[ \t]*{LIST_MARKER}[ \t]+")
_NEXT_ITEM = re.compile(rf"\n([ \t]*){LIST_MARKER}[ \t]+")


def _next_item(text: str, span: SectionSpan) -> Optional[int]:
    """Where the next item of the list begins, for a header written in a list item with its
    statement on the same line ("- Allergies: none known."); None for any other header, or where
    the list ends first (a blank line) or the next item is another header."""
    line_start = text.rfind("\n", 0, span.start) + 1
    bullet = _BULLET.match(text, line_start)
    line_end = text.find("\n", span.body_start, span.end)
    if bullet is None or bullet.end() != span.start or line_end == -1 or not text[span.body_start:line_end].strip():
        return None
    item = _NEXT_ITEM.search(text, line_end, span.end)
    if item is None or BLANK_LINE.search(text, line_end, item.end()) or not text[item.end():span.end].strip() \
            or _leading(item.group(1)) != _leading(text[line_start:bullet.end()]):
        return None
    # a list a heading goes on with ("- Family history: mother had breast cancer / - sister with
    # ovarian cancer"; "- Allergies: penicillin (rash) / - Co-amoxiclav"), unless its statement says
    # there is none ("- Allergies: none known."); an item in lower case goes on with it too
    goes_on = span.section in _LISTS_GO_ON and not _NONE.match(text, span.body_start, line_end)
    if goes_on or not text[item.end():item.end() + 1].isupper():
        return None
    return item.start() + 1


def item_headers(text: str, spans: List[Tuple[SectionSpan, bool]]) -> List[Tuple[SectionSpan, bool]]:
    """A header written in a list item with its statement on the same line ("- Allergies: none
    known." among the items under "Other history") heads that item only: the list's next item is
    the enclosing section's again ("- Smokes 10 cigarettes a day" is history, not an allergy).
    Each span comes with True where it is such a resumption, as :func:`nested_headers` gives them."""
    out: List[Tuple[SectionSpan, bool]] = []
    for span, resumed in spans:
        outer = out[-1][0] if out else None
        back = None if resumed or outer is None or not outer.section or not span.section else _next_item(text, span)
        if back is None:
            out.append((span, resumed))
            continue
        out.append((replace(span, end=back), False))
        out.append((SectionSpan(outer.section, back, span.end, back, outer.title), True))
    return out


def inline_paragraph(text: str, span: SectionSpan) -> List[SectionSpan]:
    """A header written with its statement on the same line ("Diagnosis: left carotid TIAs due
    to ...", "Allergies: none known.") heads that paragraph only: the prose after the next blank
    line is the letter's story, not more of the section (a header alone on its line heads
    everything to the next header, lists with blank lines included)."""
    line_end = text.find("\n", span.body_start, span.end)
    if span.section is None or line_end == -1 or not text[span.body_start:line_end].strip():
        return [span]
    blank = BLANK_LINE.search(text, span.body_start, span.end)
    rest = text[blank.end():span.end] if blank else ""
    # a paragraph under a heading line these rules do not know ("PPCI 17/06/2025 (R radial
    # access):", "Mx:") is more of the letter's structure, not prose: it stays
    if not rest.strip() or rest.split("\n", 1)[0].rstrip().endswith(":"):
        return [span]
    return [replace(span, end=blank.end()), SectionSpan(None, blank.end(), span.end, blank.end())]


def _past_parenthesis(doc: Doc, end: int, most: int = 16) -> tuple[int, bool]:
    """A header followed on its line by a short parenthesis and a separator, or by the line's
    end ("Operation (07/07/2025):", "Diagnosis (on discharge) -", "Operation (10/02/2026)" alone
    on its line): where it ends, past the separator, and True; else ``end`` and False."""
    if end >= len(doc) or doc[end].text != "(":
        return end, False
    for j in range(end + 1, min(end + most, len(doc))):
        if "\n" in doc[j].text or "\n" in doc[j - 1].whitespace_:
            break
        if doc[j].text[1:] in _SEPARATORS and doc[j].text[0] == ")":  # tokenised together: "):"
            return j + 1, True
        if doc[j].text == ")":
            if j + 1 < len(doc) and doc[j + 1].text in _SEPARATORS:
                return j + 2, True
            if _ends_line(doc, j):
                return j + 1, True
            break
    return end, False


def _ends_line(doc: Doc, i: int) -> bool:
    """Token ``i`` is the last of its line."""
    return i + 1 >= len(doc) or "\n" in doc[i].whitespace_ or (doc[i + 1].is_space and "\n" in doc[i + 1].text)


def _past_date(doc: Doc, end: int) -> tuple[int, bool]:
    """A header followed on its line by a date and a separator or the line's end ("Procedure
    14/06/2025:", "Operation on 3/7/25 -"): where it ends, past the separator, and True; past the
    date alone and False where something else follows it on the line; else ``end`` and False."""
    j = end + 1 if end < len(doc) and doc[end].lower_ in ("on", "dated") else end
    if j + 1 < len(doc) and DATE_TOKEN.match(doc[j].text) and "\n" not in doc[j - 1].whitespace_:
        if doc[j + 1].text in _SEPARATORS:
            return j + 2, True
        if _ends_line(doc, j):  # "Operation 10/02/2026" alone on its line
            return j + 1, True
        return j + 1, False  # past the date only: a parenthesis may follow ("Op 21/08/2025 (GA):")
    return end, False


def _past_joined(doc: Doc, end: int, most: int = 2) -> tuple[int, bool]:
    """A header joined by "and" or "/" to a word or two that end its line, or end with a
    separator ("Allergies and intolerances", "Secondary diagnoses / comorbidities:"): the first
    header names the section; where it ends, past the line's words, and True; else ``end`` and
    False."""
    if end >= len(doc) or doc[end].lower_ not in _JOINERS or "\n" in doc[end - 1].whitespace_:
        return end, False
    for j in range(end + 1, min(end + 1 + most, len(doc))):
        if not doc[j].is_alpha or "\n" in doc[j - 1].whitespace_:
            break
        if j + 1 < len(doc) and doc[j + 1].text in _SEPARATORS:
            return j + 2, True
        if _ends_line(doc, j):
            return j + 1, True
    return end, False


def _past_line_colon(doc: Doc, end: int, most: int = 14) -> tuple[int, bool]:
    """A header whose line goes on for a few words and ends with a colon ("Operation (10/06/2025),
    under general anaesthetic:", "Procedure 21/11/2026 (Dr Mehra), local anaesthetic, R radial
    6F:"): where it ends, past the colon, and True; else ``end`` and False."""
    for j in range(end, min(end + most, len(doc))):
        if "\n" in doc[j].text or j > end and "\n" in doc[j - 1].whitespace_ or doc[j].lower_ in _TELLING:
            break
        if doc[j].text.endswith(":") and _ends_line(doc, j):
            return (j + 1, True) if j > end else (end, False)
    return end, False


def _opens_sentence(doc: Doc, i: int) -> bool:
    """Token ``i`` begins a sentence, or follows the possessive that does ("Her problems ...",
    "His other medical history:" on a line of its own), the text's first included."""
    j = i - 1
    if j >= 0 and doc[j].lower_ in _POSSESSIVES:
        j -= 1
    if j < 0:
        return True
    prev = doc[j]
    return prev.text in (".", "!", "?") and prev.whitespace_ != "" or "\n" in prev.whitespace_ or \
        prev.is_space and "\n" in prev.text


def _starts_line(doc: Doc, i: int, text: str) -> bool:
    """Token ``i`` is the first word of a line, possibly after a bullet or list number."""
    j, steps = i - 1, 0
    while j >= 0 and steps < 3 and not doc[j].is_space and (
            doc[j].text in ("-", "*", "•", "·", ".", ")", "#") or (doc[j].text.isdigit() and len(doc[j].text) <= 2)):
        j, steps = j - 1, steps + 1
    if j < 0:
        return True
    prev = doc[j]
    return "\n" in prev.whitespace_ or (prev.is_space and "\n" in prev.text)


def section_at(spans, char: int) -> Optional[str]:
    """The canonical section holding character ``char`` (None before the first header)."""
    for s in spans or ():
        if s.start <= char < s.end:
            return s.section
    return None
