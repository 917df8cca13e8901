"""TF-IDF vectors of a few texts at a time, as a fitted scikit-learn ``TfidfVectorizer`` gives
them, without scikit-learn at run time.

scikit-learn's ``transform`` validates its input and builds a count matrix through several
general-purpose steps; for the handful of sentences of one letter that overhead is most of its
cost (about 1 ms a call, eleven calls a letter). :class:`TfidfTerms` keeps what a fitted
vectorizer knows (analyzer settings, vocabulary, IDF) and computes the same vectors (sublinear
TF, L2 norm) directly; :func:`top_sparse_rows` takes each row's best columns from a sparse
product without making it dense first. Importing scikit-learn costs each process about 170 MB
(it brings SciPy's statistics and pandas), so only fitting imports it.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from dataclasses import dataclass
from importlib.resources import files

import numpy as np
from scipy import sparse

SKLEARN_TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # scikit-learn's default token pattern


@functools.lru_cache(maxsize=1)
def english_stop_words() -> frozenset[str]:
    """scikit-learn's ``stop_words="english"`` list (a copy in the resources; a test checks that
    it is scikit-learn's)."""
    return frozenset(json.loads(files("clincoder").joinpath("resources/english_stop_words.json").read_text())["words"])


@dataclass(frozen=True, eq=False)
class TfidfTerms:
    """A fitted word-level TF-IDF vectorizer: lower-cased tokens of ``token_pattern``, English
    stop words removed where ``stop_words``, n-grams of ``ngram_range`` joined by a space, then
    (sublinear) term counts times ``idf`` with an L2 norm, exactly as scikit-learn computes them."""

    vocabulary: dict[str, int]
    idf: np.ndarray  # float64, one weight per vocabulary column
    token_pattern: str = SKLEARN_TOKEN_PATTERN
    ngram_range: tuple[int, int] = (1, 2)
    stop_words: bool = True
    sublinear: bool = True
    dtype: type = np.float32

    @classmethod
    def of(cls, vectorizer) -> "TfidfTerms":
        """What a fitted (or vocabulary-given, IDF-set) ``TfidfVectorizer`` computes."""
        v = vectorizer
        if v.norm != "l2" or v.binary or not v.use_idf:
            raise ValueError("TfidfTerms supports TF-IDF vectorizers with an L2 norm, counts and IDF weights")
        if v.analyzer != "word" or v.tokenizer or v.preprocessor or v.strip_accents or not v.lowercase \
                or v.stop_words not in (None, "english"):
            raise ValueError("TfidfTerms supports word analyzers with the default preprocessing and English stop words")
        vocabulary = getattr(v, "vocabulary_", None) or v.vocabulary
        return cls(dict(vocabulary), np.asarray(v.idf_, dtype=np.float64), v.token_pattern, tuple(v.ngram_range),
                   v.stop_words == "english", v.sublinear_tf, v.dtype)

    @functools.cached_property
    def _tokens(self) -> re.Pattern:
        return re.compile(self.token_pattern)

    def analyze(self, text: str) -> list[str]:
        """The terms of ``text``: its tokens without stop words, then their n-grams."""
        words = self._tokens.findall(text.lower())
        if self.stop_words:
            stop = english_stop_words()
            words = [w for w in words if w not in stop]
        low, high = self.ngram_range
        terms = list(words) if low == 1 else []
        for n in range(max(low, 2), high + 1):
            terms += [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]
        return terms

    def transform(self, texts: list[str]) -> sparse.csr_matrix:
        """The TF-IDF rows of ``texts``, as the vectorizer's ``transform(texts)`` gives them (to
        float rounding)."""
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
