"""Curated index terms: the words UK clinicians use in letters for the ICD-10 and OPCS-4 codes
English hospitals record most (``clincoder/resources/index_terms/``, written for the project;
codes chosen by HES usage, README beside the files). The lexical index of a table carries them
beside the classification's own titles, so that "lap chole" finds J18.3 and "PAF" I48.0."""

from __future__ import annotations

import functools
from importlib.resources import files

import yaml

from .codes import System, normalise

FILES = {System.ICD10: "icd10_uk.yaml", System.OPCS4: "opcs4.yaml"}


class IndexTermsError(ValueError):
    """An index-terms file that does not validate; the message names the file and the entry."""


def index_terms_source(system: System) -> bytes:
    """The raw bytes of ``system``'s index-terms file (empty without one): part of the cache key
    of the lexical index that carries the terms."""
    name = FILES.get(system)
    return (files("clincoder") / "resources" / "index_terms" / name).read_bytes() if name else b""


@functools.lru_cache(maxsize=4)
def index_terms(system: System) -> dict[str, tuple[str, ...]]:
    """``{code: terms}`` for ``system`` (empty for a system without curated terms)."""
    name = FILES.get(system)
    if name is None:
        return {}
    data = yaml.safe_load((files("clincoder") / "resources" / "index_terms" / name).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("system") != system.value or not isinstance(data.get("codes"), dict):
        raise IndexTermsError(f"{name}: expected system: {system.value} and a codes mapping")
    out = {}
    for code, terms in data["codes"].items():
        if not isinstance(terms, list) or not all(isinstance(t, str) and t.strip() for t in terms):
            raise IndexTermsError(f"{name}: {code}: terms must be a list of phrases")
        out[normalise(system, str(code))] = tuple(t.strip() for t in terms)
    return out
