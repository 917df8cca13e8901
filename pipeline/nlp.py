"""The text pipeline: spaCy components registered by factory name (in :mod:`clincoder.text`),
built from one config (``resources/pipeline.cfg``)."""

import functools
from importlib.resources import files

from spacy.language import Language
from spacy.util import load_model_from_config

import clincoder.text  # noqa: F401  (importing it registers the components' factories)

DEFAULT_CONFIG = "pipeline.cfg"


@functools.lru_cache(maxsize=4)
def build_nlp(config_name: str = DEFAULT_CONFIG) -> Language:
    """Build (once per process) the pipeline described by a config in ``clincoder/resources``."""
    from thinc.api import Config

    text = (files("clincoder") / "resources" / config_name).read_text(encoding="utf-8")
    return load_model_from_config(Config().from_str(text), auto_fill=True)
