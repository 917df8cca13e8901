"""What the ranker reads of a letter: the text stage's Doc turned into a
:class:`~clincoder.core.contracts.PreparedLetter`."""

from __future__ import annotations

import re

from clincoder.core.config import TextWeights
from clincoder.core.contracts import PreparedLetter, SentenceRecord, WeightedMention

from . import mentions_of
from .sections import announces_diagnosis

_HEADING = re.compile(r"^\s*[A-Za-z][\w /&()-]{0,40}:\s*$")


def prepare(doc, weights: TextWeights = TextWeights()) -> PreparedLetter:
    """The sentences of a Doc from :func:`clincoder.text.pipeline.build_nlp` that may support a
    code, each weighted by the section and assertion of its mentions.

    A bare heading ("Diagnoses:") is dropped. In the other sentences the words of negated, family
    and hypothetical mentions are blanked out, and those mentions are kept apart (``uncoded``) to
    be ranked with their assertion; a sentence holding only such mentions is kept as their
    evidence (``coded=False``) and read by no generator but for them."""
    text = doc.text
    mentions = mentions_of(doc)
    sections = list(doc._.section_spans or [])
    kept: list[SentenceRecord] = []
    m_i = 0
    for sent in doc.sents:
        a, b = sent.start_char, sent.end_char
        if not text[a:b].strip():
            continue
        while m_i < len(mentions) and mentions[m_i].end <= a:
            m_i += 1
        inside = [m for m in mentions[m_i:] if m.start >= a and m.end <= b]
        coded = [m for m in inside if m.coded]
        if not inside and _HEADING.match(text[a:b]):
            continue
        section = next((s.section for s in reversed(sections) if s.start <= a < s.end), None)
        chars = list(text[a:b])
        for m in inside:
            if not m.coded:
                chars[m.start - a: m.end - a] = " " * (m.end - m.start)
        weighted = tuple(WeightedMention(m, weights.mention(m.section, m.assertion)) for m in coded)
        uncoded = tuple(m for m in inside if not m.coded)
        episode = bool(coded) or not inside
        kept.append(SentenceRecord(a, b, section, (coded or uncoded)[0].assertion if inside else "present",
                                   max((w.weight for w in weighted), default=weights.section(section)) if episode
                                   else 0.0, "".join(chars), any(m.procedural for m in coded), weighted, uncoded,
                                   episode, announces_diagnosis(text[a:b], section)))
    return PreparedLetter(tuple(kept), tuple(mentions))
