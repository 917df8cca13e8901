"""The text pipeline: spaCy components registered by factory name, built from one config
(``resources/pipeline.cfg``)."""

# no `from __future__ import annotations` here: spaCy validates factory signatures at runtime
import functools
from importlib.resources import files

import spacy
from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc
from spacy.util import load_model_from_config

DEFAULT_CONFIG = "pipeline.cfg"


@Language.factory("clincoder_sentences", assigns=["token.is_sent_start"])
def make_sentences(nlp: Language, name: str) -> "LetterSentences":
    return LetterSentences()


class LetterSentences:
    """Sentence boundaries for letters: spaCy's sentencizer, plus a break at every line end
    (lists, ``Diagnoses:`` blocks, headings without full stops are one item per line)."""

    def __init__(self):
        self._punct = Sentencizer()

    def __call__(self, doc: Doc) -> Doc:
        doc = self._punct(doc)
        for i, tok in enumerate(doc[:-1]):
            if "\n" in tok.text or "\n" in tok.whitespace_:
                doc[i + 1].is_sent_start = True
        return doc


@functools.lru_cache(maxsize=4)
def build_nlp(config_name: str = DEFAULT_CONFIG) -> Language:
    """Build (once per process) the pipeline described by a config in ``clincoder/resources``."""
    from thinc.api import Config

    text = (files("clincoder") / "resources" / config_name).read_text(encoding="utf-8")
    return load_model_from_config(Config().from_str(text), auto_fill=True)
