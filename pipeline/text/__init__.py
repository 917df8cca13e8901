"""Clinical text understanding for letters: sentences, sections, abbreviations, mentions and their
context, as registered spaCy components built from one config (``resources/pipeline.cfg``,
:func:`clincoder.text.pipeline.build_nlp`), and what the ranker reads of a letter
(:func:`clincoder.text.prepare.prepare`).

Importing this package registers the factories ``clincoder_sentences``, ``clincoder_sections``,
``clincoder_abbreviations``, ``clincoder_mentions``, ``clincoder_context`` and
``clincoder_attributes``. Results: ``doc._.mentions`` (list of :class:`Mention`),
``doc._.section_spans`` (list of :class:`SectionSpan`), ``doc._.clin_abbreviations``.
"""

from __future__ import annotations

from .medspacy_loader import load_medspacy

load_medspacy()  # before the stages import from it

from . import abbreviations, attributes, context, mentions, sections, sentences  # noqa: F401  (registers factories)
from .abbreviations import Abbreviation
from .model import ASSERTION_PRECEDENCE, NOT_CODED, Mention
from .sections import SectionSpan

__all__ = ["Mention", "SectionSpan", "Abbreviation", "mentions_of", "ASSERTION_PRECEDENCE", "NOT_CODED"]


def mentions_of(doc) -> list[Mention]:
    """The mentions of a Doc processed by :func:`clincoder.text.pipeline.build_nlp` (a list of
    frozen, serialisable :class:`Mention`, in letter order)."""
    found = doc._.mentions
    if found is None:
        raise ValueError("this Doc was not processed by the clincoder text pipeline (no doc._.mentions)")
    return list(found)
