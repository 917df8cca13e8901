"""Sentence boundaries for discharge letters: spaCy's rule sentencizer plus line rules.

Letters are not prose: bullet and numbered lists, ``Diagnoses:`` blocks, headings without full
stops, and text wrapped at a fixed width. The rules, in order:

* a blank line always ends a sentence;
* a line break ends a sentence unless the line is *wrapped*: the line does not end with
  sentence punctuation or a colon, and the next line starts with a lower-case word, or the line
  ends with a comma, a word that needs what follows ("and", "of", "with") or inside an open
  parenthesis ("(EGFR and ALK negative,\nPD-L1 70%)"), or, in a letter wrapped at a fixed width,
  the line is full (the next line's first word would not have fitted on it: "On 14\nJanuary");
* a list marker (``-``, ``*``, ``•``, ``1.``, ``2)``, ``(a)``) at the start of a line starts an
  item, and the ``.``/``)`` of a numbered marker never ends a sentence;
* an inline numbered list (``Diagnoses: 1. AKI 2. CKD``) splits before each number after a colon,
  semicolon or the previous item's number;
* a heading ending in ``:`` on its own line is its own sentence.
"""

# no `from __future__ import annotations`: spaCy validates factory signatures at runtime
import re

from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc

from .dates import DATE_TOKEN

_BULLETS = {"-", "*", "•", "·", "–", "—", "+", ">", "o", "▪", "‣", "◦"}
_FINAL = {".", "!", "?", ":", ";"}
_UNIT_STOPS = frozenset({"L.", "l.", "dL.", "dl.", "mL.", "ml."})  # the last part of a unit ("mmol/L.", "g/dL.")
_NUM = re.compile(r"^(\d{1,2}|[a-hA-H]|[ivxIVX]{1,4})$")
# words a line cannot end a sentence on: what they join or govern is on the next line
_CONTINUING = frozenset({"and", "or", "of", "with", "without", "the", "a", "an", "to", "for", "in", "on", "by", "from",
                         "at", "as", "than", "but", "that", "which", "who", "his", "her", "their"})


@Language.factory("clincoder_sentences", assigns=["token.is_sent_start"])
def make_sentences(nlp: Language, name: str) -> "LetterSentences":
    return LetterSentences()


class LetterSentences:
    """spaCy's sentencizer plus the line and list rules above (see the module docstring)."""

    def __init__(self):
        self._punct = Sentencizer()

    def __call__(self, doc: Doc) -> Doc:
        doc = self._punct(doc)
        n = len(doc)
        if n < 2:
            return doc
        text = doc.text
        width = wrap_width(text)
        line_start = [False] * n  # first non-space token of a line
        prev_real = None  # index of the previous non-space token
        for i, tok in enumerate(doc):
            if tok.is_space:
                continue
            if prev_real is None:
                line_start[i] = True
            else:
                p = doc[prev_real]
                gap = text[p.idx + len(p.text): tok.idx]
                if "\n" in gap:
                    line_start[i] = True
                    self._line_break(doc, i, prev_real, gap.count("\n") >= 2 or gap.strip() != "", width)
            prev_real = i
        self._stops_inside_tokens(doc)
        # list markers
        last_num = None
        for i, tok in enumerate(doc):
            if tok.is_space:
                continue
            nxt = doc[i + 1] if i + 1 < n else None
            if line_start[i]:
                if tok.text in _BULLETS and nxt is not None and not nxt.is_space:
                    tok.is_sent_start = True if i else tok.is_sent_start
                    nxt.is_sent_start = False
                    continue
                if _is_numbered(doc, i, line_start=True):
                    self._numbered(doc, i)
                    last_num = tok.text
                    continue
                if tok.text == "(" and i + 2 < n and _NUM.match(doc[i + 1].text) and doc[i + 2].text == ")":
                    if i:
                        tok.is_sent_start = True
                    for j in (i + 1, i + 2, i + 3):
                        if j < n:
                            doc[j].is_sent_start = False
                    continue
            elif _is_numbered(doc, i) and tok.text.isdigit() and i > 0:
                prev = doc[i - 1]
                expected = last_num is not None and last_num.isdigit() and int(tok.text) == int(last_num) + 1
                if prev.text in (":", ";") or (expected and prev.text not in ("of", "to", "and", "x")) \
                        or (tok.text == "1" and prev.text in (":", ";", ".")):
                    self._numbered(doc, i)
                    last_num = tok.text
        return doc

    @staticmethod
    def _stops_inside_tokens(doc: Doc) -> None:
        """Full stops and query marks the tokenizer reads otherwise: a unit's "L." (one token, like
        an initial) ends a sentence ("114 mmol/L. This fits SIADH"); a query mark glued to the next
        word does not ("?pneumonia", "CXR: ? pneumonia")."""
        for i, tok in enumerate(doc[1:-1], 1):
            if tok.text in _UNIT_STOPS and doc[i - 1].text == "/" and doc[i + 1].text[:1].isupper():
                doc[i + 1].is_sent_start = True
        for i, tok in enumerate(doc[:-1]):
            if tok.text in ("?", "??") and doc[i + 1].text[:1].isalnum() and (
                    not tok.whitespace_ or i == 0 or doc[i - 1].whitespace_ or doc[i - 1].is_space
                    or doc[i - 1].text in (":", "-", "(")):
                doc[i + 1].is_sent_start = False

    @staticmethod
    def _line_break(doc: Doc, i: int, prev_real: int | None, blank: bool, width: int | None = None) -> None:
        tok = doc[i]
        if prev_real is None:
            return
        if blank:
            tok.is_sent_start = True
            return
        prev = doc[prev_real]
        wrapped = (prev.text not in _FINAL and tok.text not in _BULLETS and not _is_numbered(doc, i)
                   and (tok.text[:1].islower() or prev.text == "," or prev.lower_ in _CONTINUING
                        or _in_parenthesis(doc.text, prev.idx) or _full(doc.text, prev, tok, width)))
        if wrapped:
            tok.is_sent_start = False
            # the space token between the lines must not start one either
            for j in range(prev_real + 1, i):
                doc[j].is_sent_start = False
        else:
            tok.is_sent_start = True

    @staticmethod
    def _numbered(doc: Doc, i: int) -> None:
        if i:
            doc[i].is_sent_start = True
        for j in (i + 1, i + 2):
            if j < len(doc) and not doc[j].is_space:
                doc[j].is_sent_start = False


WRAP_WIDTHS = (50, 130)  # the widths a letter is wrapped at, when it is
WRAP_LINES = 3  # lines that end within WRAP_SLACK of the widest before a letter reads as wrapped
WRAP_SLACK = 12


def wrap_width(text: str) -> int | None:
    """The width a letter's lines were wrapped at (its widest line, where at least
    :data:`WRAP_LINES` lines end near it), or None for a letter not wrapped at a fixed width."""
    lengths = [len(line.rstrip()) for line in text.split("\n")]
    if max(lengths, default=0) > WRAP_WIDTHS[1]:
        return None  # paragraphs written as one line each
    width = max(lengths, default=0)
    near = sum(1 for n in lengths if n >= width - WRAP_SLACK)
    return width if width >= WRAP_WIDTHS[0] and near >= WRAP_LINES else None


def _full(text: str, prev, tok, width: int | None) -> bool:
    """Whether the line ending with ``prev`` was full: ``tok``, the next line's first word, would
    not have fitted on it (a hard wrap, not a new item)."""
    if width is None:
        return False
    line_end = prev.idx + len(prev.text)
    line = text[text.rfind("\n", 0, prev.idx) + 1:line_end]
    word = re.match(r"\S+", text[tok.idx:])
    return len(line) + 1 + len(word.group() if word else tok.text) > width


def _in_parenthesis(text: str, at: int) -> bool:
    """Whether a parenthesis opened earlier on the line of ``at`` is still open there."""
    line = text[text.rfind("\n", 0, at) + 1:at + 1]
    return line.rfind("(") > line.rfind(")")


def _is_numbered(doc: Doc, i: int, line_start: bool = False) -> bool:
    """``1.``/``2)``/``a)`` followed by a word on the same line (at the start of a line, also by
    a date: ``1. 09/02/2026 - Flexible sigmoidoscopy``)."""
    if i + 2 >= len(doc):
        return False
    tok, mark, nxt = doc[i], doc[i + 1], doc[i + 2]
    if not _NUM.match(tok.text) or mark.text not in (".", ")") or tok.whitespace_ or nxt.is_space:
        return False
    if not tok.text.isdigit() and mark.text == ".":
        return False  # "e." / "i." are too often initials or abbreviations
    return nxt.text[:1].isalpha() or nxt.text[:1] in "#?(" or (line_start and DATE_TOKEN.match(nxt.text) is not None)
