"""The text pipeline: spaCy components registered by factory name (in :mod:`clincoder.text`),
built from one config (``resources/pipeline.cfg``)."""

# no `from __future__ import annotations` here: spaCy validates factory signatures at runtime
import functools
from importlib.resources import files

import spacy
from spacy.language import Language
from spacy.util import load_model_from_config

DEFAULT_CONFIG = "pipeline.cfg"


# The components live in clincoder.text; importing it registers their factories.
from clincoder.text.sentences import LetterSentences, make_sentences  # noqa: E402,F401
import clincoder.text  # noqa: E402,F401


@functools.lru_cache(maxsize=4)
def build_nlp(config_name: str = DEFAULT_CONFIG) -> Language:
    """Build (once per process) the pipeline described by a config in ``clincoder/resources``."""
    from thinc.api import Config

    text = (files("clincoder") / "resources" / config_name).read_text(encoding="utf-8")
    return load_model_from_config(Config().from_str(text), auto_fill=True)
