"""TF-IDF vectors of a few texts at a time, from a fitted scikit-learn ``TfidfVectorizer``.

scikit-learn's ``transform`` validates its input and builds a count matrix through several
general-purpose steps; for the handful of sentences of one letter that overhead is most of its
cost (about 1 ms a call, eleven calls a letter). :func:`transform` computes the same vectors
(the vectorizer's own analyzer, vocabulary and IDF; sublinear TF; L2 norm) directly, and
:func:`top_sparse_rows` takes each row's best columns from a sparse product without making it
dense first.
"""

from __future__ import annotations

import weakref
from collections import Counter

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer


class _Transform:
    """What :func:`transform` needs of one fitted vectorizer, taken once."""

    def __init__(self, vectorizer: TfidfVectorizer):
        if vectorizer.norm != "l2" or vectorizer.binary or not vectorizer.use_idf:
            raise ValueError("transform() supports TF-IDF vectorizers with an L2 norm, counts and IDF weights")
        self.analyze = vectorizer.build_analyzer()
        self.vocabulary = getattr(vectorizer, "vocabulary_", None) or vectorizer.vocabulary
        self.idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        self.sublinear = vectorizer.sublinear_tf
        self.dtype = vectorizer.dtype

    def __call__(self, texts: list[str]) -> sparse.csr_matrix:
        indptr, indices, counts = [0], [], []
        for text in texts:
            found = Counter(j for j in map(self.vocabulary.get, self.analyze(text)) if j is not None)
            columns = sorted(found)
            indices.extend(columns)
            counts.extend(found[j] for j in columns)
            indptr.append(len(indices))
        indices = np.asarray(indices, dtype=np.int32)
        tf = np.asarray(counts, dtype=np.float64)
        values = (np.log(tf) + 1.0 if self.sublinear else tf) * self.idf[indices]
        rows = np.repeat(np.arange(len(texts)), np.diff(indptr))
        norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=len(texts)))
        values /= np.where(norms > 0, norms, 1.0)[rows]
        return sparse.csr_matrix((values.astype(self.dtype), indices, np.asarray(indptr, dtype=np.int32)),
                                 shape=(len(texts), len(self.idf)))


_TRANSFORMS: "weakref.WeakKeyDictionary[TfidfVectorizer, _Transform]" = weakref.WeakKeyDictionary()


def transform(vectorizer: TfidfVectorizer, texts: list[str]) -> sparse.csr_matrix:
    """The TF-IDF rows of ``texts``, as ``vectorizer.transform(texts)`` gives them (to float
    rounding)."""
    fast = _TRANSFORMS.get(vectorizer)
    if fast is None:
        fast = _TRANSFORMS[vectorizer] = _Transform(vectorizer)
    return fast(texts)


def top_sparse_rows(matrix: sparse.csr_matrix, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each row of a sparse matrix, its (at most) ``k`` largest stored values and their
    columns, best first; equal values in column order."""
    matrix = matrix.tocsr()
    out = []
    for r in range(matrix.shape[0]):
        lo, hi = matrix.indptr[r], matrix.indptr[r + 1]
        values, columns = matrix.data[lo:hi], matrix.indices[lo:hi]
        if len(values) > k:
            keep = np.argpartition(-values, k - 1)[:k]
            values, columns = values[keep], columns[keep]
        order = np.lexsort((columns, -values))
        out.append((values[order], columns[order]))
    return out
