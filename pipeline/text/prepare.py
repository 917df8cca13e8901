"""What the ranker reads of a letter: the text stage's Doc turned into a
:class:`~clincoder.core.contracts.PreparedLetter`."""

from __future__ import annotations

import re
from dataclasses import replace

from clincoder.core.config import TextWeights
from clincoder.core.contracts import PreparedLetter, SentenceRecord, WeightedMention

from . import mentions_of
from .dates import DATE, admission_date, as_date, birth_date
from .sections import BLANK_LINE, announcement_start

# a line that introduces what follows, a heading ("Past history:") or not ("Op 17/05/2026 (GA) -
# Mr Wren (ST6), Ms Reid present:"): without a mention of its own it states nothing
_INTRODUCES = re.compile(r":\s*$")
_SALUTATION = re.compile(r"^[ \t]*Dear\b", re.M)
_GREETING = re.compile(r"[ \t]*Dear\b[^,\n]*,?")
_IDENTIFIERS = re.compile(r"\b(?:DOB|D\.O\.B|date of birth|NHS (?:no|number)|hospital (?:no|number)|MRN)\b", re.I)
LETTERHEAD_CHARS = 2000  # a letterhead ends within this many characters of the letter's start
# a person named with a title ("Dear Dr Whitlow", "my colleague Dr Kwabena Mensah", "Mrs Irene
# CALLAGHAN"): a name is no clinical word, whatever it spells
_PERSON = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Professor|Sister)\b\.?[ \t]+(?:[A-Z]\.[ \t]*){0,3}"
                     r"[A-Z][A-Za-z'-]+(?:[ \t]+[A-Z][A-Za-z'-]+)?")
# a line of the letter's administrative block ("Consultant: Dr Helen Marchbank, Infectious Diseases",
# "Ward: 9 (Stroke Unit)", "Specialty: Trauma and Orthopaedics"): who and where, not what the patient has
_ADMIN_LINE = re.compile(r"^[ \t]*(?:(?:named|responsible|discharging|admitting|referring)[ \t]+)?"
                         r"(?:consultants?|cons|surgeons?|anaesthetists?|ward|speciality|specialty|department|dept|"
                         r"team|clinic|unit|hospital|gp|referrer|referred by|author|to|cc)(?:[ \t]+name)?[ \t]*:[^\n]*",
                         re.I | re.M)
# a clinician's post named in the text ("under Dr Imogen Tate, Consultant in Infectious Diseases",
# "Registrar in Stroke Medicine", or a trainee's grade before it: "ST4 Infectious Diseases"): the
# specialty, in capitals, is a team's name, not a condition
_POST = re.compile(r"(?:\b(?i:consultant|registrar|specialty doctor|specialist nurse|nurse specialist|clinical fellow)"
                   r"(?:[ \t]+(?i:physician|surgeon))?[ \t]+(?:in|of)|\b(?:(?:ST|CT|FY)\d|StR|SpR)\b(?:[ \t]+(?:in|of))?)"
                   r"[ \t]+[A-Z][A-Za-z'-]*(?:[ \t]+(?:(?:and|&)[ \t]+)?[A-Z][A-Za-z'-]*)*")
_VALEDICTION = re.compile(r"^[ \t]*(?:yours (?:sincerely|faithfully|truly)|(?:kind|best|warm|with best) (?:regards|wishes))\b",
                          re.I | re.M)


def signature_start(text: str, after: int = 0) -> int:
    """Where the sign-off begins ("Yours sincerely," then the author's name and post, "Registrar
    in Stroke Medicine"): nothing after it describes the patient; the letter's end if it has none."""
    found = _VALEDICTION.search(text, after)
    return found.start() if found else len(text)


def person_spans(text: str) -> list[tuple[int, int]]:
    """Where the letter names a person by title and name (:data:`_PERSON`)."""
    return [m.span() for m in _PERSON.finditer(text)]


def admin_spans(text: str) -> list[tuple[int, int]]:
    """The lines of the letter's administrative block (:data:`_ADMIN_LINE`): the consultant, ward,
    specialty or department of the episode; and a clinician's post the text names (:data:`_POST`).
    "Infectious Diseases" there is the team's name."""
    return sorted([m.span() for m in _ADMIN_LINE.finditer(text)] + [m.span() for m in _POST.finditer(text)])


def identity_spans(text: str) -> list[tuple[int, int]]:
    """The lines that identify the patient (:data:`_IDENTIFIERS`: "Re: Amelia (Millie) HARTSHORNE,
    DOB 22/11/2013, NHS No 999 517 3046"), wherever they stand (after the salutation too): a
    patient's name is no clinical word, whatever it spells (Amelia is no absence of limbs)."""
    spans = []
    for m in _IDENTIFIERS.finditer(text):
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.end())
        spans.append((start, len(text) if end < 0 else end))
    return sorted(set(spans))


def letterhead_end(text: str, sections) -> int:
    """Where the letterhead ends: the hospital, unit and patient-identifier lines before the
    salutation ("Dear Dr ..."), or without one the paragraphs up to the one that identifies the
    patient (DOB, NHS number); never past the first heading (a "Diagnosis:" or "Operation:" line
    above the salutation states the episode); 0 where the letter has neither. The unit's name
    ("Cancer Day Unit", "Trauma & Orthopaedics") names no condition of the patient."""
    first = next((s.start for s in sections if s.section is not None), len(text))
    dear = _SALUTATION.search(text, 0, LETTERHEAD_CHARS)
    if dear:  # with the salutation ("Dear Dr Whitlow,")
        return min(_GREETING.match(text, dear.start()).end(), first)
    ids = _IDENTIFIERS.search(text, 0, LETTERHEAD_CHARS)
    if ids is None:
        return 0
    blank = BLANK_LINE.search(text, ids.end())
    return min(blank.end() if blank else len(text), first)


def _is_header(sections, a: int, b: int) -> bool:
    """Whether characters ``a``-``b`` are only a section's header ("Diagnoses", "Operation
    (10/02/2026)"): a heading states nothing."""
    return any(s.section and s.start <= a and b <= s.body_start for s in sections)


def age_in_episode(text: str) -> int | None:
    """The patient's age in this episode in days: from the date of birth to the admission date,
    else to the last full date the letter gives ("Admitted to NSU: 14/10/2026" names no admission
    date the way :func:`admission_date` reads it; the discharge and letter dates are later);
    None where the letter gives no date of birth, or no such date after it."""
    born = birth_date(text)
    if born is None:
        return None
    admitted = admission_date(text) or max((d for d in map(as_date, DATE.finditer(text)) if d is not None),
                                           default=None)
    return (admitted - born).days if admitted is not None and admitted >= born else None


def prepare(doc, weights: TextWeights = TextWeights()) -> PreparedLetter:
    """The sentences of a Doc from :func:`clincoder.text.pipeline.build_nlp` that may support a
    code, each weighted by the section and assertion of its mentions.

    A bare heading ("Diagnoses:"), the letterhead (:func:`letterhead_end`) and the sign-off
    (:func:`signature_start`) are dropped, and people named by title (:func:`person_spans`),
    the administrative lines (:func:`admin_spans`) and the lines that identify the patient
    (:func:`identity_spans`) are blanked out with their mentions. In the other sentences the words of negated, family
    and hypothetical mentions are blanked out, and those mentions are kept apart (``uncoded``) to
    be ranked with their assertion; a sentence holding only such mentions is kept as their
    evidence (``coded=False``) and read by no generator but for them."""
    text = doc.text
    names = sorted(person_spans(text) + admin_spans(text) + identity_spans(text))
    mentions = [m for m in mentions_of(doc) if not any(a < m.end and m.start < b for a, b in names)]
    sections = list(doc._.section_spans or [])
    kept: list[SentenceRecord] = []
    m_i, head = 0, letterhead_end(text, sections)
    tail = signature_start(text, head)
    for sent in doc.sents:
        a, b = sent.start_char, sent.end_char
        if not text[a:b].strip() or b <= head or a >= tail:
            continue
        while m_i < len(mentions) and mentions[m_i].end <= a:
            m_i += 1
        inside = [m for m in mentions[m_i:] if m.start >= a and m.end <= b]
        coded = [m for m in inside if m.coded]
        if not inside and (_INTRODUCES.search(text[a:b]) or _is_header(sections, a, a + len(text[a:b].rstrip()))):
            continue
        section = next((s.section for s in reversed(sections) if s.start <= a < s.end), None)
        chars = list(text[a:b])
        for m in inside:
            if not m.coded:
                chars[m.start - a: m.end - a] = " " * (m.end - m.start)
        for x, y in names:
            if x < b and a < y:
                chars[max(x, a) - a: min(y, b) - a] = " " * (min(y, b) - max(x, a))
        weighted = tuple(WeightedMention(m, weights.mention(m.section, m.assertion)) for m in coded)
        uncoded = tuple(m for m in inside if not m.coded)
        episode = bool(coded) or not inside
        announced = announcement_start(text[a:b], section)
        kept.append(SentenceRecord(a, b, section, (coded or uncoded)[0].assertion if inside else "present",
                                   max((w.weight for w in weighted), default=weights.section(section)) if episode
                                   else 0.0, "".join(chars), any(m.procedural for m in coded), weighted, uncoded,
                                   episode, None if announced is None else a + announced))
    return PreparedLetter(tuple(kept), tuple(mentions), age_in_episode(text))


def unwrapped(text: str, sentences) -> str:
    """``text`` with the line breaks inside each kept sentence read as spaces (the same length, so
    every offset stands): a letter wrapped at a fixed width breaks its sentences anywhere ("She
    had a right total knee\nreplacement in 2019."), and what reads the words of a statement reads
    them as written on one line."""
    chars = list(text)
    for s in sentences:
        end = len(text[s.start:s.end].rstrip())
        for k in range(s.start, s.start + end):
            if chars[k] == "\n":
                chars[k] = " "
    return "".join(chars)


def as_written(evidence, text: str) -> tuple:
    """``evidence`` quoting ``text`` as written: the passages :func:`unwrapped` read as one line keep
    their line breaks in the output (same offsets)."""
    return tuple(replace(e, text=text[e.start:e.end]) for e in evidence)
