"""Learned from coded history: a document-level classifier over the codes seen in training,
a sentence memory that proposes the codes of the most similar coded sentences, and a term
memory that proposes the codes of the phrases coders annotated.

All are small: the classifier keeps the strongest weights of each code (float16), the sentence
memory keeps TF-IDF vectors of aligned training sentences (no text) with their codes, the term
memory keeps short evidence phrases ("portal hypertension") with their codes.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from clincoder.models.tfidf import TfidfTerms, top_sparse_rows


def _fit_terms(texts: list[str], max_features: int) -> tuple[TfidfTerms, sparse.csr_matrix]:
    """Word 1-2 grams without English stop words, sublinear TF, in at least two texts: the
    vectorizer's terms (with the IDF as saved, float32) and the texts' TF-IDF rows."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # fitting only (see clincoder.models.tfidf)

    v = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, stop_words="english",
                        max_features=max_features, dtype=np.float32)
    rows = v.fit_transform(texts)
    return _terms(v.vocabulary_, v.idf_), rows


def _terms(vocabulary: dict[str, int], idf: np.ndarray) -> TfidfTerms:
    """The fitted vectorizer of :func:`_fit_terms`, from its vocabulary and IDF."""
    return TfidfTerms(dict(vocabulary), np.asarray(idf, dtype=np.float32).astype(np.float64))


def _save(stem: Path, terms: TfidfTerms, matrix: sparse.spmatrix, prefix: str, meta: dict, **arrays) -> list[Path]:
    """``stem.npz``: IDF weights and a float16 sparse matrix (keys ``{prefix}row/col/val``) plus
    ``arrays``; ``stem.json``: ``meta`` and the vocabulary."""
    v = {"vocabulary": sorted(terms.vocabulary, key=terms.vocabulary.get), "idf": terms.idf.astype(np.float32)}
    m = matrix.tocoo()
    npz, js = Path(f"{stem}.npz"), Path(f"{stem}.json")
    np.savez_compressed(npz, idf=v["idf"], shape=np.array(m.shape), **arrays,
                        **{f"{prefix}row": m.row.astype(np.int32), f"{prefix}col": m.col.astype(np.int32),
                           f"{prefix}val": m.data.astype(np.float16)})
    js.write_text(json.dumps({**meta, "vocabulary": v["vocabulary"]}))
    return [npz, js]


def _load(stem: Path, prefix: str):
    z = np.load(f"{stem}.npz")
    meta = json.loads(Path(f"{stem}.json").read_text())
    m = sparse.csr_matrix((z[f"{prefix}val"].astype(np.float32), (z[f"{prefix}row"], z[f"{prefix}col"])),
                          shape=tuple(z["shape"]))
    return _terms({t: i for i, t in enumerate(meta["vocabulary"])}, z["idf"]), m, meta, z


@dataclass
class DocClassifier:
    """One-vs-rest logistic regression over TF-IDF of the whole letter."""

    labels: list[str]
    vectorizer: TfidfTerms
    weights: sparse.csr_matrix  # features x labels
    bias: np.ndarray

    @classmethod
    def fit(cls, texts: list[str], label_lists: list[list[str]], C: float = 10.0, keep: int = 300,
            max_features: int = 30000, progress=None) -> "DocClassifier":
        from sklearn.linear_model import LogisticRegression

        labels = sorted({c for ls in label_lists for c in ls})
        vec, X = _fit_terms(texts, max_features)
        index = {c: j for j, c in enumerate(labels)}
        Y = np.zeros((len(texts), len(labels)), dtype=np.int8)
        for i, ls in enumerate(label_lists):
            for c in ls:
                Y[i, index[c]] = 1
        rows, cols, vals, bias = [], [], [], np.zeros(len(labels), dtype=np.float32)
        for j in (progress(range(len(labels))) if progress else range(len(labels))):
            y = Y[:, j]
            if y.all():
                bias[j] = 10.0
                continue
            m = LogisticRegression(C=C, max_iter=300, class_weight="balanced", solver="liblinear").fit(X, y)
            w = m.coef_[0]
            top = np.argsort(-np.abs(w))[:keep]
            top = top[w[top] != 0]
            rows.extend(top.tolist())
            cols.extend([j] * len(top))
            vals.extend(w[top].tolist())
            bias[j] = m.intercept_[0]
        # rounded to float16 now, so the saved model is exactly the one evaluated
        W = sparse.csr_matrix((np.asarray(vals, dtype=np.float16).astype(np.float32), (rows, cols)),
                              shape=(X.shape[1], len(labels)))
        return cls(labels, vec, W, bias)

    def decision(self, texts: list[str]) -> np.ndarray:
        return (self.vectorizer.transform(texts) @ self.weights).toarray() + self.bias

    def save(self, stem: Path) -> list[Path]:
        """Write ``stem.npz`` (weights) and ``stem.json`` (labels, vocabulary)."""
        return _save(stem, self.vectorizer, self.weights, "w_", {"labels": self.labels}, bias=self.bias)

    @classmethod
    def load(cls, stem: Path) -> "DocClassifier":
        vec, W, meta, z = _load(stem, "w_")
        return cls(meta["labels"], vec, W, z["bias"])


@dataclass
class SentenceMemory:
    """TF-IDF vectors of coded training sentences; a query sentence proposes the codes of its
    nearest neighbours (cosine), each code scored by its best neighbour."""

    vectorizer: TfidfTerms
    vectors: sparse.csr_matrix  # sentences x features (L2-normalised)
    codes: list[list[str]]  # codes of each memory sentence
    doc_ids: list[str]

    @classmethod
    def fit(cls, sentences: list[str], codes: list[list[str]], doc_ids: list[str]) -> "SentenceMemory":
        vec, X = _fit_terms(sentences, 50000)
        X = X.tocsr()
        X.data = X.data.astype(np.float16).astype(np.float32)  # as saved
        return cls(vec, X, codes, doc_ids)

    def query(self, sentences: list[str], k: int = 10, min_sim: float = 0.2) -> list[dict[str, float]]:
        """For each sentence, ``{code: best neighbour similarity}`` over its ``k`` nearest neighbours."""
        if not sentences:
            return []
        sims = (self.vectorizer.transform(sentences) @ self.vectors.T).tocsr()
        out = []
        for values, rows in top_sparse_rows(sims, k):
            best: dict[str, float] = {}
            for sim, i in zip(values.tolist(), rows.tolist()):
                if sim < min_sim:
                    break
                for c in self.codes[i]:
                    best[c] = max(best.get(c, 0.0), sim)
            out.append(best)
        return out

    def save(self, stem: Path) -> list[Path]:
        """Write ``stem.npz`` (vectors) and ``stem.json`` (codes, doc ids, vocabulary)."""
        return _save(stem, self.vectorizer, self.vectors, "", {"codes": self.codes, "doc_ids": self.doc_ids})

    @classmethod
    def load(cls, stem: Path) -> "SentenceMemory":
        vec, X, meta, _ = _load(stem, "")
        return cls(vec, X, meta["codes"], meta["doc_ids"])


TERM_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")  # a word of folded text


def fold(text: str) -> str:
    """Lower case with accents removed ("Epilépticas" -> "epilepticas")."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def term_tokens(text: str) -> list[str]:
    """Tokens as the term memory compares them: lowercase, accents folded, a plural ``s`` dropped
    (not from ``-ss``, ``-is``, ``-us``: abscess, paresis, virus)."""
    return [w[:-1] if len(w) > 4 and w.endswith("s") and not w.endswith(("ss", "is", "us")) else w
            for w in TERM_TOKEN.findall(fold(text))]


@dataclass
class TermMemory:
    """Phrases coders annotated in coded history, each with the codes it was given.

    ``phrases`` maps a phrase (space-joined :func:`term_tokens`) to ``{code: p}``, where ``p`` is
    the share of training letters containing the phrase that were given the code (smoothed by
    one letter), so a phrase that is almost always coded ("tropical spastic paraparesis") scores
    near 1 and one that is only sometimes coded ("pain") stays low.
    """

    phrases: dict[str, dict[str, float]]
    max_len: int = 8
    # the phrases' proper beginnings: a run of words that begins none is extended no further
    beginnings: frozenset = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        words = (k.split() for k in self.phrases)
        self.beginnings = frozenset(" ".join(w[:n]) for w in words for n in range(1, len(w)))

    @classmethod
    def fit(cls, terms: list[tuple[str, str, str]], texts: dict[str, str], gold: dict[str, set[str]],
            min_p: float = 0.05) -> "TermMemory":
        """``terms``: ``(doc id, phrase, code)`` found in training letters ``texts`` (doc id ->
        text) whose gold codes are ``gold`` (doc id -> codes)."""
        by_phrase: dict[str, set[str]] = {}
        for _doc, phrase, code in terms:
            key = " ".join(term_tokens(phrase))
            if key:
                by_phrase.setdefault(key, set()).add(code)
        max_len = max((len(k.split()) for k in by_phrase), default=1)
        seen_in: dict[str, set[str]] = {k: set() for k in by_phrase}
        for doc_id, text in texts.items():
            for key in _ngrams(term_tokens(text), max_len):
                if key in seen_in:
                    seen_in[key].add(doc_id)
        phrases = {}
        for key, codes in by_phrase.items():
            docs = seen_in[key]
            scored = {c: round(sum(1 for d in docs if c in gold.get(d, ())) / (len(docs) + 1), 4) for c in codes}
            scored = {c: p for c, p in scored.items() if p >= min_p}
            if scored:
                phrases[key] = scored
        return cls(phrases, max_len)

    def query(self, sentences: list[str]) -> list[dict[str, float]]:
        """For each sentence, ``{code: best p}`` over the phrases it contains."""
        out = []
        for s in sentences:
            best: dict[str, float] = {}
            for key in self._phrases_in(term_tokens(s)):
                for c, p in self.phrases[key].items():
                    if p > best.get(c, 0.0):
                        best[c] = p
            out.append(best)
        return out

    def _phrases_in(self, tokens: list[str]):
        """The known phrases among the runs of ``tokens`` (as :func:`_ngrams` lists them, without
        extending a run that begins no phrase)."""
        for start in range(len(tokens)):
            key = ""
            for token in tokens[start:start + self.max_len]:
                key = f"{key} {token}" if key else token
                if key in self.phrases:
                    yield key
                if key not in self.beginnings:
                    break

    def save(self, path: Path) -> Path:
        path.write_text(json.dumps({"max_len": self.max_len, "phrases": self.phrases}, sort_keys=True))
        return path

    @classmethod
    def load(cls, path: Path) -> "TermMemory":
        d = json.loads(Path(path).read_text())
        return cls(d["phrases"], d["max_len"])


def _ngrams(tokens: list[str], max_len: int):
    for s in range(len(tokens)):
        for e in range(s + 1, min(len(tokens), s + max_len) + 1):
            yield " ".join(tokens[s:e])
