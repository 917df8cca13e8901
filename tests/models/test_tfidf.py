"""TF-IDF without scikit-learn at run time (clincoder.models.tfidf): the same vectors as
scikit-learn's transform, and each row's best columns from a sparse product."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from clincoder.models.tfidf import TfidfTerms, english_stop_words, top_sparse_rows

TITLES = ["acute myocardial infarction", "fracture of neck of femur", "type 2 diabetes mellitus with nephropathy",
          "chronic kidney disease stage 4", "laparoscopic cholecystectomy", "acute kidney injury",
          "pain in the chest", "pain in chest wall"]
QUERIES = ["Acute MI with chest pain", "", "the of and", "fracture fracture of the left femur neck 2", "CKD stage 4",
           "Pain in the chest"]


@pytest.mark.parametrize("kw", [dict(ngram_range=(1, 2), sublinear_tf=True, stop_words="english"),
                                dict(sublinear_tf=False), dict(ngram_range=(1, 2), dtype=np.float64),
                                dict(ngram_range=(1, 2), stop_words="english",
                                     token_pattern=r"(?u)\b(?:[a-z0-9][a-z0-9]+|[0-9])\b")])
def test_transform_equals_scikit_learn(kw):
    vectorizer = TfidfVectorizer(**kw).fit(TITLES)
    ours, theirs = TfidfTerms.of(vectorizer).transform(QUERIES), vectorizer.transform(QUERIES)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    assert abs(ours - theirs).max() < 1e-6
    assert ours[1].nnz == 0  # an empty text is an empty row, not NaN


def test_terms_are_scikit_learns_analyzer():
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), stop_words="english").fit(TITLES)
    terms = TfidfTerms.of(vectorizer)
    for text in QUERIES:
        assert sorted(terms.analyze(text)) == sorted(vectorizer.build_analyzer()(text))
    assert "pain chest" in terms.analyze("Pain in the chest")  # bigrams span removed stop words


def test_the_stop_words_are_scikit_learns():
    assert english_stop_words() == ENGLISH_STOP_WORDS


def test_a_fixed_vocabulary_vectorizer_and_a_pickled_one():
    fitted = TfidfVectorizer().fit(TITLES)
    loaded = TfidfVectorizer(vocabulary=fitted.vocabulary_)
    loaded.idf_ = fitted.idf_
    terms = pickle.loads(pickle.dumps(TfidfTerms.of(loaded)))
    assert abs(terms.transform(QUERIES) - fitted.transform(QUERIES)).max() < 1e-6


@pytest.mark.parametrize("kw, message", [(dict(norm="l1"), "L2 norm"), (dict(analyzer="char"), "word analyzers"),
                                         (dict(strip_accents="unicode"), "default preprocessing")])
def test_refuses_what_it_does_not_compute(kw, message):
    with pytest.raises(ValueError, match=message):
        TfidfTerms.of(TfidfVectorizer(**kw).fit(TITLES))


def test_top_sparse_rows_best_first_ties_in_column_order():
    m = sparse.csr_matrix(np.array([[0.0, 0.5, 0.9, 0.5, 0.1], [0.0, 0.0, 0.0, 0.0, 0.0], [0.3, 0.0, 0.0, 0.0, 0.0]]))
    rows = top_sparse_rows(m, 3)
    assert rows[0][0].tolist() == [0.9, 0.5, 0.5] and rows[0][1].tolist() == [2, 1, 3]
    assert rows[1][0].size == 0
    assert rows[2][1].tolist() == [0]
