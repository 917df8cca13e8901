"""The curated UK index terms, and the lexical index that carries them."""

from __future__ import annotations

import pytest

from clincoder.core.codes import System
from clincoder.core.index_terms import index_terms


@pytest.mark.parametrize("system, code, term", [
    (System.ICD10, "I21.4", "NSTEMI"),
    (System.OPCS4, "J18.3", "lap chole"),
    (System.OPCS4, "K75.1", "PCI with drug-eluting stent"),
])
def test_index_terms_name_the_codes_english_hospitals_record(system, code, term):
    terms = index_terms(system)
    assert len(terms) > 500 and any(t.lower() == term.lower() for t in terms[code])


def test_systems_without_curated_terms_have_none():
    assert index_terms(System.ICD10CM) == {} and index_terms(System.ICD10PCS) == {}


def test_terms_reach_the_lexical_index(opcs4_fixture):
    from clincoder.core.tables import load_table
    from clincoder.models.lexical import LexicalIndex, curated_synonyms

    table = load_table(System.OPCS4, opcs4_fixture)
    index = LexicalIndex(table, None, curated_synonyms(table))
    assert index.search(["lap chole"], 1)[0][0][0] == "J18.3"
