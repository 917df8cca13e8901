"""The text pipeline: spaCy components registered by factory name (in :mod:`clincoder.text`),
built from one config (``resources/pipeline.cfg``), once per process."""

from __future__ import annotations

import functools
import hashlib
from importlib.resources import files

from spacy.language import Language
from spacy.util import load_model_from_config

from . import mentions_of
from .model import Mention

DEFAULT_CONFIG = "pipeline.cfg"


def _config_text(config_name: str) -> str:
    return (files("clincoder") / "resources" / config_name).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=4)
def build_nlp(config_name: str = DEFAULT_CONFIG) -> Language:
    """Build (once per process) the pipeline described by a config in ``clincoder/resources``."""
    from thinc.api import Config

    return load_model_from_config(Config().from_str(_config_text(config_name)), auto_fill=True)


def config_hash(config_name: str = DEFAULT_CONFIG) -> str:
    """A short hash of the text pipeline's config and the resources its components read (for
    provenance: two runs with the same hash read letters the same way)."""
    digest = hashlib.sha256(_config_text(config_name).encode())
    for item in sorted((files("clincoder") / "resources").iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yaml"):
            digest.update(item.name.encode() + item.read_bytes())
    return digest.hexdigest()[:16]


def analyse(text: str) -> list[Mention]:
    """Mentions of a letter's text, with the default pipeline."""
    return mentions_of(build_nlp()(text))
