"""Fast TF-IDF rows (clincoder.models.tfidf): the same vectors as scikit-learn's transform, and
each row's best columns from a sparse product."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from clincoder.models.tfidf import top_sparse_rows, transform

TITLES = ["acute myocardial infarction", "fracture of neck of femur", "type 2 diabetes mellitus with nephropathy",
          "chronic kidney disease stage 4", "laparoscopic cholecystectomy", "acute kidney injury"]
QUERIES = ["Acute MI with chest pain", "", "the of and", "fracture fracture of the left femur neck 2", "CKD stage 4"]


@pytest.mark.parametrize("kw", [dict(ngram_range=(1, 2), sublinear_tf=True, stop_words="english"),
                                dict(sublinear_tf=False), dict(ngram_range=(1, 2), dtype=np.float64)])
def test_transform_equals_scikit_learn(kw):
    vectorizer = TfidfVectorizer(**kw).fit(TITLES)
    ours, theirs = transform(vectorizer, QUERIES), vectorizer.transform(QUERIES)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    assert abs(ours - theirs).max() < 1e-6
    assert ours[1].nnz == 0  # an empty text is an empty row, not NaN


def test_transform_of_a_fixed_vocabulary_vectorizer():
    fitted = TfidfVectorizer().fit(TITLES)
    loaded = TfidfVectorizer(vocabulary=fitted.vocabulary_)
    loaded.idf_ = fitted.idf_
    assert abs(transform(loaded, QUERIES) - fitted.transform(QUERIES)).max() < 1e-6


def test_transform_refuses_what_it_does_not_compute():
    with pytest.raises(ValueError, match="L2 norm"):
        transform(TfidfVectorizer(norm="l1").fit(TITLES), QUERIES)


def test_top_sparse_rows_best_first_ties_in_column_order():
    m = sparse.csr_matrix(np.array([[0.0, 0.5, 0.9, 0.5, 0.1], [0.0, 0.0, 0.0, 0.0, 0.0], [0.3, 0.0, 0.0, 0.0, 0.0]]))
    rows = top_sparse_rows(m, 3)
    assert rows[0][0].tolist() == [0.9, 0.5, 0.5] and rows[0][1].tolist() == [2, 1, 3]
    assert rows[1][0].size == 0
    assert rows[2][1].tolist() == [0]
