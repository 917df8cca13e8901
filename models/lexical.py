"""Lexical retrieval: TF-IDF matching of letter text against code titles and inclusion terms.

This is the foundation's first coder and, later, one of the candidate generators. One index per
code table (built once per process); a query returns the best codes for each text with a cosine
score in [0, 1].
"""

from __future__ import annotations

import functools
import re

import numpy as np

from clincoder.core.cache import cache_key, cached_pickle, source_of
from clincoder.core.codes import System, compact
from clincoder.core.tables import CodeTable
from clincoder.models.tfidf import TfidfTerms, english_stop_words, top_sparse_rows

_POSSESSIVE = re.compile(r"['’](?=s\b)")


def _norm(text: str) -> str:
    """Lower case, one space; a possessive written with or without its apostrophe is one word
    ("Dupuytren's disease", "dupuytrens disease")."""
    return re.sub(r"\s+", " ", _POSSESSIVE.sub("", text.lower()))


_WORD = re.compile(r"[a-z0-9]+")
_ONE_CHARACTER_PART = re.compile(r"\b([a-z0-9]{2,})-([a-z0-9])\b")  # "crt-p", "crt-d": one name, "crtp"


@functools.lru_cache(maxsize=1)
def _stemmer():
    from nltk.stem.snowball import EnglishStemmer  # pure Python, no data to download

    return functools.lru_cache(maxsize=200_000)(EnglishStemmer().stem)


def stemmed(text: str) -> str:
    """The words of a normalised text without English stop words, each as its stem: "variceal
    band ligation" and "varices ... banding" share "varic" and "band", "bilateral nephrostomies"
    and "nephrostomy" share "nephrostomi", "coiling" is "coil". A one-character part joined by a
    hyphen is part of the name ("CRT-P" is "crtp", not "crt": "CRT-D" is another device)."""
    stop, stem = english_stop_words(), _stemmer()
    return " ".join(stem(w) for w in _WORD.findall(_ONE_CHARACTER_PART.sub(r"\1\2", text)) if w not in stop)


BOILERPLATE = re.compile(
    r",?\s*\b(unspecified|not elsewhere classified|nec|nos|initial encounter|subsequent encounter|sequela|"
    r"of unspecified site|unspecified site|without complication|site not specified)\b", re.I)


def clean_title(title: str) -> str:
    """A title without classification boilerplate (``unspecified``, ``NOS``, encounter words)."""
    return re.sub(r"\s+", " ", BOILERPLATE.sub(" ", title)).strip(" ,") or title


class LexicalIndex:
    """TF-IDF (word 1-2 grams, sublinear tf) over the selectable codes of one table; with
    ``stem``, over the stems of the words (:func:`stemmed`), texts and queries alike."""

    def __init__(self, table: CodeTable, codes: list[str] | None = None,
                 synonyms: dict[str, set[str]] | None = None, stem: bool = False):
        self.table, self.stem = table, stem
        synonyms = synonyms or {}
        rows, owners = [], []
        wanted = set(codes) if codes is not None else None
        for e in table.entries():
            if (e.code not in wanted) if wanted is not None else not e.selectable:
                continue
            for text in (clean_title(e.title), *e.inclusion_terms, *sorted(synonyms.get(e.code, ()))):
                rows.append(self.prepared(text))
                owners.append(e.code)
        if not rows:
            raise ValueError(f"no codes to index in {table.edition}")
        self.codes = sorted(set(owners))
        col = {c: i for i, c in enumerate(self.codes)}
        self._owner = np.array([col[c] for c in owners])
        from sklearn.feature_extraction.text import TfidfVectorizer  # fitting only (see clincoder.models.tfidf)

        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words=None if stem else "english",
                                     token_pattern=r"(?u)\b(?:[a-z0-9][a-z0-9]+|[0-9])\b", dtype=np.float32)
        self.matrix = vectorizer.fit_transform(rows).tocsc().T.tocsr()  # rows: features
        self.terms = TfidfTerms.of(vectorizer)

    def __getstate__(self) -> dict:  # cached without its table (reattached by :func:`lexical_index`)
        return {k: v for k, v in self.__dict__.items() if k != "table"}

    def prepared(self, text: str) -> str:
        """A text as this index reads it: normalised, and stemmed where the index is."""
        return stemmed(_norm(text)) if self.stem else _norm(text)

    def similarity(self, texts: list[str], others: list[str]) -> np.ndarray:
        """Cosine similarity of each text (rows) with each other text (columns) in this index's
        TF-IDF space, the texts taken as written (stemmed where the index is)."""
        if self.stem:
            texts, others = [self.prepared(t) for t in texts], [self.prepared(t) for t in others]
        return (self.terms.transform(texts) @ self.terms.transform(others).T).toarray()

    def search(self, texts: list[str], top_k: int = 10, min_score: float = 0.0) -> list[list[tuple[str, float]]]:
        """Best ``top_k`` codes for each text, as ``(code, score)`` best first."""
        if not texts:
            return []
        sims = self.terms.transform([self.prepared(t) for t in texts]) @ self.matrix
        out = []
        for vals, idx in top_sparse_rows(sims, top_k * 4):  # rows to look at: a code may own several rows
            best: dict[str, float] = {}
            for score, i in zip(vals.tolist(), idx.tolist()):
                if score <= min_score or len(best) >= top_k:
                    break
                best.setdefault(self.codes[self._owner[i]], score)
            out.append(list(best.items()))
        return out


def top_rows(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best scores of each row and their columns, best first (torch's top-k: about
    15x faster than a per-row ``argpartition`` over a whole classification)."""
    import torch

    values, indices = torch.topk(torch.from_numpy(np.ascontiguousarray(scores, dtype=np.float32)),
                                 min(k, scores.shape[1]), dim=1)
    return values.numpy(), indices.numpy()


@functools.lru_cache(maxsize=8)
def default_codes(table: CodeTable) -> tuple[str, ...]:
    """What a table's indexes cover: its selectable codes, with ICD-10-CM 7th-character variants
    folded into the code they extend (``S72.001A/B/C...`` -> ``S72.001``: the encounter character
    is not in a letter's words), plus ICD-10-PCS 4-character prefixes (used when the approach or
    device is not documented). Kept in the cache folder: folding ICD-10-CM takes about a second."""
    return cached_pickle(f"codes-{table.system.name}", cache_key(table.fingerprint, source_of(__file__)),
                         lambda: _default_codes(table))


def _default_codes(table: CodeTable) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for e in table.entries():
        if table.system is System.ICD10PCS and len(e.code) == 4:
            out[e.code] = None
        elif e.selectable:
            if table.system is System.ICD10CM and len(compact(e.code)) == 7:
                base = table.resolve(compact(e.code)[:-1])
                out[base.code if base is not None else e.code] = None
            else:
                out[e.code] = None
    return tuple(out)


def wording_key() -> str:
    """A hash of the source that chooses a table's codes and cleans their titles: part of the
    cache key of anything built from them (the dense index), so that a change re-embeds."""
    import inspect

    return cache_key(BOILERPLATE.pattern, *(inspect.getsource(f) for f in (clean_title, default_codes, _default_codes)))


def icd10cm_synonyms(table: CodeTable) -> dict[str, set[str]]:
    """Wording for an ICD-10 (WHO or UK) table from ICD-10-CM, whose titles and inclusion terms
    use today's clinical words (``Non-ST elevation (NSTEMI) myocardial infarction`` for I21.4):
    each CM code lends its texts to the same ICD-10 code, else to its 4-character code, where that
    is selectable in the ICD-10 table."""
    from clincoder.core.tables import load_table

    out: dict[str, set[str]] = {}
    for e in load_table(System.ICD10CM).entries():
        raw = compact(e.code)
        for n in (len(raw), 4):
            target = table.get(raw[:n]) if len(raw) >= n else None
            if target is not None and target.selectable:
                out.setdefault(target.code, set()).update(clean_title(t) for t in (e.title, *e.inclusion_terms))
                break
    return out


def curated_synonyms(table: CodeTable) -> dict[str, set[str]]:
    """The curated UK index terms of the table's system (:mod:`clincoder.core.index_terms`), for
    the codes the table has."""
    from clincoder.core.index_terms import index_terms

    return {code: set(terms) for code, terms in index_terms(table.system).items() if table.is_selectable(code)}


@functools.lru_cache(maxsize=8)
def lexical_index(table: CodeTable, curated: bool = False) -> LexicalIndex:
    """The index of a table, once per process and through the cache folder: ICD-10 tables borrow
    ICD-10-CM wording; with ``curated``, ICD-10 and OPCS-4 also carry the curated UK index terms
    and words are matched by their stems ("nephrostomies", "nephrostomy"): the statement linker
    reads that index; the ranker reads the index its fusion was trained on."""
    from importlib.metadata import version

    from clincoder.core.index_terms import index_terms_source
    from clincoder.core.tables import packaged_key
    from clincoder.models import tfidf

    parts = [table.fingerprint, f"curated={curated}", f"scikit-learn={version('scikit-learn')}",
             source_of(__file__, tfidf.__file__)]
    if table.system is System.ICD10:
        parts.append(packaged_key(System.ICD10CM))
    if curated:
        parts.append(index_terms_source(table.system))

    def build() -> LexicalIndex:
        synonyms = icd10cm_synonyms(table) if table.system is System.ICD10 else {}
        for code, terms in (curated_synonyms(table) if curated else {}).items():
            synonyms.setdefault(code, set()).update(terms)
        return LexicalIndex(table, list(default_codes(table)), synonyms or None, stem=curated)

    index = cached_pickle(f"lexical-{table.system.name}", cache_key(*parts), build)
    index.table = table
    return index
