"""Document-level code ranking: candidates from several generators, features per (letter, code),
and a learned fusion that turns them into one calibrated score.

Generators, per kind (diagnosis / procedure):

* **lexical** — TF-IDF of each sentence against every title and inclusion term of the whole
  classification (codes never seen in training included);
* **dense** — the fine-tuned MiniLM bi-encoder (:mod:`clincoder.models.encoder`), sentence
  against every code title with its parent titles, when the encoder is available;
* **classifier** — a document classifier over the codes of coded history;
* **memory** — codes of the most similar coded training sentences;
* **terms** — codes of the phrases coders annotated in coded history, found again in the letter.

Codes are identified by their *label form* (:func:`clincoder.core.codes.label_form`) so learned
components and gold sets agree. The fusion (gradient-boosted trees over the features, with the
letter as context) is learned from coded letters and the suggestion threshold tuned on dev;
both are saved with the model.
"""

from __future__ import annotations

import json
import math
import operator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from clincoder.core.codes import System, category, label_form
from clincoder.core.config import DEFAULT_RANKER, RankerConstants
from clincoder.core.contracts import PreparedLetter, RankedCode, RankerQuery
from clincoder.core.tables import CodeTable

from .paths import ARTIFACTS
from .trees import BoostingParams, Forest

GENERATORS = ("lex", "mem", "dense", "term", "neg")  # the sentence-level candidate generators (feature prefixes)
FEATURES = ("clf_prob", "clf_rr", "clf_known", "prior", "lex_max", "lex_n", "mem_max", "mem_n", "dense_max", "dense_n",
            "term_max", "term_n", "lex_x_known", "code_len",
            # the letter as context: how a code's support compares with the letter's other candidates
            "clf_letter_rr", "term_letter_rr", "dense_letter_rr", "category_n", "category_margin",
            # the letter's negated, family and hypothetical mentions that name the code
            "neg_max", "neg_n")


@dataclass
class Candidate:
    key: str
    feats: dict[str, float] = field(default_factory=dict)
    # sentence index -> best support: from the letter's own words (lexical, dense, term matches),
    # and from similar coded sentences (memory), which is weaker evidence for a reader
    sentences: dict[int, float] = field(default_factory=dict)
    similar: dict[int, float] = field(default_factory=dict)
    uncoded: dict[int, float] = field(default_factory=dict)  # from negated, family or hypothetical mentions

    @property
    def evidence(self) -> dict[int, float]:
        """The sentences that show the code: those whose words match it, else the similar ones,
        else those where the letter names it only to negate it (or as family history, a hypothesis)."""
        return self.sentences or self.similar or self.uncoded

    @property
    def uncoded_only(self) -> bool:
        return bool(self.uncoded) and not (self.sentences or self.similar)


def sigmoid(x):
    """Log-odds to probability (the fusion's score, and its Platt-scaled raw score in training)."""
    return 1.0 / (1.0 + np.exp(-x))


class Featurizer:
    """Builds candidates and features for one kind (diagnosis or procedure) of one profile."""

    def __init__(self, system: System, table: CodeTable, lexical, classifier=None, memory=None, dense=None,
                 prior: dict[str, int] | None = None, label_map=None, terms=None,
                 constants: RankerConstants = RankerConstants()):
        self.system, self.table = system, table
        self.lexical, self.classifier, self.memory, self.dense = lexical, classifier, memory, dense
        self.terms = terms
        self.prior = prior or {}
        self.label_map = label_map or (lambda key: key)  # learned label -> key in this profile's system
        self.constants = constants
        # the classifier's labels as codes of this profile, and the labels of each code (built
        # here, before batch workers fork, not once per worker)
        self.label_keys = [self.label_map(label) for label in classifier.labels] if classifier is not None else []
        self.labels_of: dict[str, list[int]] = {}
        for j, key in enumerate(self.label_keys):
            if key is not None:
                self.labels_of.setdefault(key, []).append(j)

    def candidates(self, letter: PreparedLetter) -> dict[str, Candidate]:
        """Candidates for one letter. The classifier reads the letter's kept text; the
        sentence-level generators read its queries (sentences, and mentions within them), each
        with a weight (section and assertion of its mentions: 1.0 for a current, documented
        condition) and the sentence it belongs to, which becomes the evidence."""
        queries = list(letter.queries)
        if self.system.kind == "procedure" and self.classifier is None:
            # with nothing learned, procedure titles are matched only where a procedure is
            # mentioned (else "duodenal ulcer" in a diagnosis finds "operations on duodenal ulcer")
            # (a kept mention's sentence is kept too, so sentences still come first, one per owner)
            queries = [q for q in queries if q.procedural]
        hits = _Hits(queries)
        if queries:
            self._sentence_generators(queries, hits)
        if self.classifier is not None:
            self._classifier(letter.document, hits)
        for c in hits.cands.values():
            c.feats["prior"] = math.log1p(self.prior.get(c.key, 0))
            c.feats["lex_x_known"] = c.feats.get("lex_max", 0.0) * (1.0 if c.feats.get("clf_known") else 0.0)
            c.feats["code_len"] = len(c.key.replace(".", ""))
            for generator in GENERATORS:
                c.feats[f"{generator}_n"] = math.log1p(c.feats.get(f"{generator}_n", 0.0))
        letter_context(self.system, list(hits.cands.values()))
        return hits.cands

    def _sentence_generators(self, queries: list[RankerQuery], hits: "_Hits") -> None:
        coded = [i for i, q in enumerate(queries) if q.coded]
        sentences = [i for i in coded if queries[i].kind == "sentence"]
        mentions = [i for i in coded if queries[i].kind == "mention"]
        uncoded = [i for i, q in enumerate(queries) if not q.coded]
        # The encoder links mentions (short: cheap to embed, close to the inclusion terms it was
        # tuned on); a letter where the text stage found none gives its sentences. One search
        # for these and the uncoded mentions: a search streams the whole table from memory.
        linked = mentions or sentences
        dense = self._dense_hits(sorted({*linked, *uncoded}), queries)
        self._search("lex", coded, queries, hits, dense)
        self._search("dense", linked, queries, hits, dense)
        if self.memory is not None:
            for i, found in zip(coded, self.memory.query([queries[i].text for i in coded])):
                for label, sim in found.items():
                    hits.support(self.label_map(label), "mem", sim, i)
        if self.terms is not None:  # sentences only: a coded mention repeats its sentence's phrases
            for i, found in zip(sentences, self.terms.query([queries[i].text for i in sentences])):
                for label, p in found.items():
                    hits.support(self.label_map(label), "term", p, i)
        self._search("neg", uncoded, queries, hits, dense)

    def _dense_hits(self, ids: list[int], queries: list[RankerQuery]) -> dict[int, list[tuple[str, float]]]:
        if self.dense is None or not ids:
            return {}
        return dict(zip(ids, self.dense.search([queries[i].text for i in ids], self.constants.top_dense)))

    def _search(self, generator: str, ids: list[int], queries: list[RankerQuery], hits: "_Hits",
                dense: dict[int, list[tuple[str, float]]]) -> None:
        """Lexical hits (and, for uncoded mentions, dense hits, searched beforehand) of the
        queries ``ids``; ``generator`` names the features they feed (``lex``, ``dense`` or ``neg``)."""
        if not ids:
            return
        k = self.constants
        if generator in ("lex", "neg"):
            for i, found in zip(ids, self.lexical.search([queries[i].text for i in ids], k.top_lex, k.lex_floor)):
                for code, score in found:
                    hits.support(label_form(self.system, code), generator, score, i)
        if generator in ("dense", "neg"):
            for i in ids:
                for code, score in dense.get(i, ()):
                    if score >= k.dense_floor:
                        hits.support(label_form(self.system, code), generator, score, i)

    def _classifier(self, document: str, hits: "_Hits") -> None:
        """The document classifier's probability and rank for its ``top_clf`` labels and for every
        label whose code another generator already proposed."""
        scores = self.classifier.decision([document])[0]
        order = np.argsort(-scores, kind="stable")
        rank = np.empty(len(scores), dtype=np.int64)
        rank[order] = np.arange(1, len(scores) + 1)
        chosen = set(order[: self.constants.top_clf].tolist())
        chosen.update(j for key in hits.cands for j in self.labels_of.get(key, ()))
        probs = sigmoid(scores)
        for j in sorted(chosen):
            key = self.label_keys[j]
            if key is None:
                continue
            c = hits.get(key)
            c.feats["clf_prob"] = max(c.feats.get("clf_prob", 0.0), float(probs[j]))
            c.feats["clf_rr"] = max(c.feats.get("clf_rr", 0.0), 1.0 / rank[j])  # reciprocal rank
            c.feats["clf_known"] = 1.0


_FEATURE_KEYS = {g: (f"{g}_max", f"{g}_n") for g in GENERATORS}  # built once


class _Hits:
    """The candidates of one letter while the generators add their hits."""

    def __init__(self, queries: list[RankerQuery]):
        self.queries = queries
        self.cands: dict[str, Candidate] = {}

    def get(self, key: str) -> Candidate:
        c = self.cands.get(key)
        if c is None:
            c = self.cands[key] = Candidate(key)
        return c

    def support(self, key: str | None, generator: str, score: float, query: int) -> None:
        """One generator's hit for ``key`` from query ``query``: best score, hit count, evidence."""
        if key is None:
            return
        q = self.queries[query]
        # features stay in the range the fusion was fitted on; an uncoded mention counts as it matches
        weighted = min(1.0, score * q.weight) if q.coded else min(1.0, score)
        c = self.cands.get(key) or self.get(key)  # (called for every hit: the common case inline)
        feats = c.feats
        best, n = _FEATURE_KEYS[generator]
        held = feats.get(best, 0.0)
        feats[best] = weighted if weighted > held else held
        feats[n] = feats.get(n, 0.0) + 1
        # evidence keeps the match itself (the sentence's section and assertion travel with it)
        where = c.similar if generator == "mem" else c.uncoded if generator == "neg" else c.sentences
        held, matched = where.get(q.owner, 0.0), min(1.0, score)
        where[q.owner] = matched if matched > held else held


def letter_context(system: System, cands: list[Candidate]) -> None:
    """Features of a candidate relative to the others of its letter: its reciprocal rank among
    them by classifier probability, term and dense support (0 without support); how many other
    candidates share its 3-character category; and by how much its classifier plus term support
    exceeds the best of those siblings (a letter about one kind of fracture has many fracture
    candidates, and the best supported one is the likely code)."""
    if not cands:
        return
    n = len(cands)

    def column(name: str) -> np.ndarray:
        return np.fromiter((c.feats.get(name, 0.0) for c in cands), dtype=np.float64, count=n)

    def put(name: str, values: np.ndarray) -> None:
        for c, v in zip(cands, values.tolist()):
            c.feats[name] = v

    for feat, name in (("clf_prob", "clf_letter_rr"), ("term_max", "term_letter_rr"), ("dense_max", "dense_letter_rr")):
        values = column(feat)
        rank = np.empty(n)
        rank[np.argsort(-values, kind="stable")] = np.arange(1, n + 1)
        put(name, np.where(values > 0, 1.0 / rank, 0.0))
    _, group = np.unique([category(system, c.key) for c in cands], return_inverse=True)
    support = column("clf_prob") + column("term_max")
    ranked = np.lexsort((-support, group))  # by category, best supported first
    first = np.flatnonzero(np.r_[True, np.diff(group[ranked]) != 0])
    size = np.diff(np.r_[first, n])
    back = np.argsort(ranked)

    def per_candidate(values: np.ndarray) -> np.ndarray:  # its category's value for each candidate
        return np.repeat(values, size)[back]

    best, second = per_candidate(support[ranked][first]), per_candidate(support[ranked][np.minimum(first + 1, n - 1)])
    siblings = per_candidate(size - 1)
    put("category_n", np.log1p(siblings.astype(np.float64)))
    # against the best other sibling: the runner-up for the best, the best for the rest
    put("category_margin", np.where(siblings == 0, support, support - np.where(support == best, second, best)))


_NO_FEATURES = dict.fromkeys(FEATURES, 0.0)
_IN_ORDER = operator.itemgetter(*FEATURES)


def feature_matrix(cands: list[Candidate]) -> np.ndarray:
    """One row of :data:`FEATURES` per candidate (0 for a feature it lacks)."""
    return np.array([_IN_ORDER({**_NO_FEATURES, **c.feats}) for c in cands], dtype=np.float32).reshape(-1, len(FEATURES))


@dataclass
class Fusion:
    """Gradient-boosted decision trees over the candidate features (:class:`clincoder.models.trees.Forest`:
    scikit-learn's histogram GBDT, kept as flat node arrays and scored by ONNX Runtime), plus the
    suggestion threshold tuned on dev. Trees let the fusion weigh one generator by another (a
    term-memory hit means more for a code the classifier knows) without hand-made interactions."""

    forest: Forest
    threshold: float = 0.5

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, params: BoostingParams = BoostingParams(),
            groups: list[int] | None = None) -> "Fusion":
        """Fitted on candidate rows ``X`` (labels ``y``); a ``lambdarank`` fusion needs ``groups``,
        the number of consecutive rows of each letter, and a :meth:`calibrated` copy to score."""
        if params.objective == "lambdarank":
            if groups is None:
                raise ValueError("a lambdarank fusion needs the rows of each letter (groups)")
            return cls(Forest.fit_ranking(X, y, groups, params))
        return cls(Forest.fit(X, y, params))

    def calibrated(self, scale: float, shift: float) -> "Fusion":
        """This fusion with its raw score mapped to log-odds as ``scale * raw + shift`` (Platt scaling)."""
        return Fusion(self.forest.scaled(scale, shift), self.threshold)

    def raw(self, X: np.ndarray) -> np.ndarray:
        """The log-odds of each row."""
        return self.forest.raw(X)

    def score(self, X: np.ndarray) -> np.ndarray:
        if len(X) == 0:
            return np.zeros(0)
        return sigmoid(self.raw(X))

    def to_dict(self) -> dict:
        return {"features": list(FEATURES), "kind": "gbdt", **self.forest.to_dict(), "threshold": self.threshold}

    @classmethod
    def from_dict(cls, d: dict) -> "Fusion":
        if d.get("features") != list(FEATURES) or d.get("kind") != "gbdt":
            raise ValueError("fusion weights were trained with other features; retrain the ranker")
        return cls(Forest.from_dict(d), float(d["threshold"]))

    def save(self, path: Path) -> Path:
        path.write_text(json.dumps(self.to_dict()))
        return path

    @classmethod
    def load(cls, path: Path) -> "Fusion":
        return cls.from_dict(json.loads(path.read_text()))




def model_summary(directory: str | Path | None = None) -> dict:
    """What a coding manager needs to know about a trained ranker, from its model card (nothing
    else is loaded): identity, code-table editions, what it learned from, and its dev figures.

    The dev figures are 2-fold cross-fitted: each half of dev is scored by a fusion that did not
    see it. The shipped fusion was fitted on all of dev, so coding dev with it (``make
    eval-dev``) reads higher than a new letter should expect.
    """
    directory = Path(directory) if directory else ARTIFACTS / DEFAULT_RANKER
    card_path = directory / "model_card.json"
    if not card_path.exists():
        raise FileNotFoundError(f"no trained ranker at {directory} (model_card.json missing); "
                                f"train one with `clincoder train`")
    card = json.loads(card_path.read_text())
    dev = {}
    for kind, m in card.get("metrics_dev", {}).items():
        dev[kind] = {k: round(m[k], 4) for k in ("map", "recall_at_50", "precision", "recall", "f1", "threshold")
                     if isinstance(m.get(k), float)}
        dev[kind]["fusion_rows"] = m.get("fusion_rows")
    return {"name": card.get("name"), "hash": card.get("hash"), "profile": card.get("profile"),
            "editions": card.get("editions"), "training_data": card.get("training_data"),
            "dev_cross_fitted": dev, "kept_from_an_earlier_training": (card.get("kept") or {}).get("parts", []),
            "directory": str(directory)}


class CodingModel:
    """A trained ranker (classifier, sentence and term memories, fusion per kind) applied to one profile's tables.

    Trained on ICD-10-CM / ICD-10-PCS; on the ``uk`` profile its diagnosis labels are mapped to
    the ICD-10 table (same code, else its 3-character category), and procedures are ranked from
    the classification's own titles (no OPCS-4 coded history ships with the project).
    """

    def __init__(self, directory: Path, tables: dict[System, CodeTable], constants: RankerConstants = RankerConstants(),
                 encoder_backend: str = "torch"):
        from clincoder.models.encoder import load_encoder
        from clincoder.models.lexical import lexical_index
        from clincoder.models.supervised import DocClassifier, SentenceMemory, TermMemory

        self.directory = Path(directory)
        card_path = self.directory / "model_card.json"
        if not card_path.exists():
            raise FileNotFoundError(f"no trained ranker at {self.directory} (model_card.json missing); "
                                    f"train one with `clincoder train`")
        self.card = json.loads(card_path.read_text())
        encoder = (load_encoder(self.directory / "encoder", encoder_backend)
                   if (self.directory / "encoder").is_dir() else None)
        self.featurizers: dict[System, Featurizer] = {}
        self.fusions: dict[System, Fusion] = {}
        trained = {System.ICD10CM: "D", System.ICD10PCS: "P"}
        for system, table in tables.items():
            kind = "D" if system.kind == "diagnosis" else "P"
            same = trained.get(system) == kind
            label_map = None if same else (self._label_mapper(system, table) if kind == "D" else None)
            use_learned = same or label_map is not None
            stem = self.directory
            self.featurizers[system] = Featurizer(
                system, table, lexical_index(table),
                classifier=DocClassifier.load(stem / f"classifier_{kind}") if use_learned else None,
                memory=SentenceMemory.load(stem / f"memory_{kind}") if use_learned else None,
                dense=encoder.index(table) if encoder is not None else None,
                prior=json.loads((stem / f"prior_{kind}.json").read_text()) if same else {},
                label_map=label_map,
                terms=TermMemory.load(stem / f"terms_{kind}.json") if use_learned else None, constants=constants)
            # with nothing learned for this system, the fusion trained without learned features
            self.fusions[system] = Fusion.load(stem / (f"fusion_{kind}.json" if use_learned else f"fusion_{kind}_titles.json"))

    @staticmethod
    def _label_mapper(system: System, table: CodeTable):
        cache: dict[str, str | None] = {}

        def mapped(label: str) -> str | None:
            if label not in cache:
                raw = label.replace(".", "").rstrip("x")
                hit = None
                for n in (len(raw), 4, 3):
                    e = table.get(raw[:n]) if len(raw) >= n else None
                    if e is not None and e.is_code:
                        hit = label_form(system, e.code)
                        break
                cache[label] = hit
            return cache[label]

        return mapped

    def describe(self) -> dict:
        return {"name": self.card["name"], "hash": self.card["hash"]}

    def linker(self, system: System, prior):
        """A statement linker over this model's indexes of ``system`` (:mod:`clincoder.models.linker`)."""
        from clincoder.models.lexical import lexical_index
        from clincoder.models.linker import Linker

        feat = self.featurizers[system]
        return Linker(system, lexical_index(feat.table, curated=True), feat.dense, prior)

    def threshold(self, system: System) -> float:
        """The score at or above which a code of ``system`` is suggested (tuned on dev)."""
        return self.fusions[system].threshold

    def sentence_support(self, system: System, titles: list[str], sentences: list[str]) -> list[dict[int, float]]:
        """For each title, the two sentences sharing most words with it, by the lexical index of
        ``system`` (evidence for codes found from the letter as a whole)."""
        sims = self.featurizers[system].lexical.similarity(sentences, titles)  # sentences x titles
        best = np.argsort(sims, axis=0, kind="stable")[::-1][:2]  # per title; a tie: the later sentence
        values = np.take_along_axis(sims, best, axis=0)
        return [{i: v for i, v in zip(rows, vals) if v > 0} for rows, vals in zip(best.T.tolist(), values.T.tolist())]

    def rank(self, letter: PreparedLetter) -> dict[System, list[RankedCode]]:
        """Per system, every candidate code of the letter, best first."""
        out = {}
        for system, feat in self.featurizers.items():
            cands = feat.candidates(letter)
            keys = list(cands)
            scores = self.fusions[system].score(feature_matrix([cands[k] for k in keys]))
            order = np.argsort(-scores, kind="stable")
            out[system] = [RankedCode(keys[i], float(scores[i]), cands[keys[i]].evidence, cands[keys[i]].uncoded_only)
                           for i in order]
        return out
