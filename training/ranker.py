"""Train the document-level ranker on CodiEsp train and dev, save it with provenance.

Steps (all seeded): align gold codes to English sentences and find their evidence phrases; fit
the document classifier, the sentence memory and the term memory on every coded letter (train and
dev; ``learn_from_dev: false`` keeps them to train); build candidate features for every letter
from components fitted on the other folds (stacking), so each letter is featurised as a new
letter would be; fit the fusion on those features, with dev 2-fold cross-fitted for honest
figures; tune the suggestion threshold (micro F1) on those cross-fitted dev scores; write the
artifact and its model card.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from clincoder.core.codes import System
from clincoder.core.config import DEFAULT_RANKER, CoderConfig, RankerConstants, Settings
from clincoder.core.metrics import mean_average_precision, recommend_threshold, threshold_sweep
from clincoder.core.tables import load_table
from clincoder.models.lexical import lexical_index
from clincoder.models.ranker import FEATURES, Featurizer, Fusion, feature_matrix, sigmoid
from clincoder.models.supervised import DocClassifier, SentenceMemory, TermMemory
from clincoder.models.trees import BoostingParams
from clincoder.training.codiesp import align, evidence_phrases, load_split

log = logging.getLogger(__name__)
KINDS = {"D": System.ICD10CM, "P": System.ICD10PCS}


@dataclass(frozen=True)
class RankerConfig:
    seed: int = 13
    clf_C: float = 10.0
    folds: int = 5  # train folds for the stacked fusion features (0: fusion learns from dev only)
    # the learned fusion's settings (see BoostingParams): each one value for both kinds, or one
    # per kind ({D: 200, P: 300})
    fusion_trees: int | dict = BoostingParams.trees
    fusion_learning_rate: float = BoostingParams.learning_rate
    fusion_leaves: int | dict = BoostingParams.max_leaf_nodes
    fusion_min_leaf: int | dict = BoostingParams.min_samples_leaf
    # binary: rows scored one by one (log-loss); lambdarank: each letter's candidates ordered for
    # average precision (LightGBM), the score then Platt-scaled on the cross-fitted dev scores
    fusion_objective: str | dict = BoostingParams.objective
    # the titles-only fusion (nothing learned from coded letters: the uk profile ranks OPCS-4 with
    # it), with its own settings: on the UK dev letters LambdaRank there lost OPCS-4 MAP (0.316 -> 0.290)
    titles_objective: str = BoostingParams.objective
    titles_trees: int = BoostingParams.trees
    titles_leaves: int = BoostingParams.max_leaf_nodes
    titles_min_leaf: int = BoostingParams.min_samples_leaf
    use_encoder: bool = True
    term_min_score: float = 0.35  # spelling match an English evidence phrase needs (see evidence_phrases)
    # classifier, memories and prior learn from dev as well as train; dev figures stay out of sample
    # (each dev letter's features come from components fitted on the folds without it)
    learn_from_dev: bool = True

    def fusion_params(self, kind: str, titles: bool = False) -> BoostingParams:
        """The settings of ``kind``'s learned fusion (D or P), or of its titles-only one."""
        if titles:
            return BoostingParams(self.titles_trees, self.fusion_learning_rate, self.titles_leaves, self.titles_min_leaf,
                                  self.seed, self.titles_objective)

        def of(value):
            return value[kind] if isinstance(value, dict) else value

        return BoostingParams(of(self.fusion_trees), self.fusion_learning_rate, of(self.fusion_leaves),
                              of(self.fusion_min_leaf), self.seed, of(self.fusion_objective))

    def __post_init__(self):
        for name in ("fusion_trees", "fusion_leaves", "fusion_min_leaf", "fusion_objective"):
            value = getattr(self, name)
            if isinstance(value, dict) and set(value) != set(KINDS):
                raise ValueError(f"{name}: give one value, or one for each kind ({', '.join(KINDS)}), not {sorted(value)}")
        for kind in KINDS:  # checks the objectives' names
            self.fusion_params(kind)
        self.fusion_params("D", titles=True)
        if self.learn_from_dev and self.folds < 2:
            raise ValueError("learn_from_dev needs folds >= 2: dev letters are featurised by components "
                             "fitted on the other folds; set folds: 5, or learn_from_dev: false")


def _gold(doc, kind):
    return doc.diagnoses if kind == "D" else doc.procedures


def _title_of(tables):
    def title_of(kind, code):
        e = tables[kind].resolve(code)
        return e.title if e else ""
    return title_of


def build_memory(docs, kind, tables) -> SentenceMemory:
    by_sentence: dict[tuple[str, int], list[str]] = {}
    for d in docs:
        for k, code, i in align(d, _title_of(tables)):
            if k == kind:
                by_sentence.setdefault((d.id, i), []).append(code)
    keys = sorted(by_sentence)
    docs_by_id = {d.id: d for d in docs}
    return SentenceMemory.fit([docs_by_id[i].sentence_text(s) for i, s in keys],
                              [by_sentence[k] for k in keys], [i for i, _ in keys])


def build_terms(docs, kind, tables, min_score: float) -> TermMemory:
    """The phrases that carried ``kind`` codes in ``docs`` (found from the Spanish evidence spans)."""
    title_of = _title_of(tables)
    terms = [(d.id, phrase, code) for d in docs for _, code, phrase in evidence_phrases(d, title_of, min_score, kind=kind)]
    return TermMemory.fit(terms, {d.id: d.text for d in docs}, {d.id: set(_gold(d, kind)) for d in docs})


def prepare_docs(docs, progress: bool = False, settings: Settings = Settings()) -> list:
    """Each document through the runtime text stage (:func:`clincoder.text.prepare.prepare`), so
    the ranker is trained on exactly what it will read when coding."""
    from clincoder.text.pipeline import build_nlp
    from clincoder.text.prepare import prepare

    nlp = build_nlp()
    return [prepare(doc, settings.text) for doc in tqdm(nlp.pipe(d.text for d in docs), total=len(docs),
                                                        desc="text stage", disable=not progress)]


def _rows(feat: Featurizer, docs, prepared, kind):
    """Candidates and features for each document: list of (doc, keys, X, y)."""
    out = []
    for d, p in zip(docs, prepared):
        cands = feat.candidates(p)
        keys = list(cands)
        gold = set(_gold(d, kind))
        out.append((d, keys, feature_matrix([cands[k] for k in keys]), np.array([k in gold for k in keys])))
    return out


def _evaluate(rows, scores, kind, threshold=None):
    """MAP and recall@50 over the ranked list as the coder outputs it (its first
    ``CoderConfig.max_candidates`` codes), and P/R/F1 at the best (or the given) threshold."""
    cut = CoderConfig().max_candidates
    pred = {d.id: [k for _, k in sorted(zip(-s, keys))][:cut] for (d, keys, _, _), s in zip(rows, scores)}
    gold = {d.id: set(_gold(d, kind)) for d, *_ in rows}
    out = {"map": mean_average_precision(gold, pred),
           "recall_at_50": float(np.mean([len(set(pred[i][:50]) & g) / len(g) for i, g in gold.items() if g]))}
    scored = {d.id: list(zip(keys, s.tolist())) for (d, keys, _, _), s in zip(rows, scores)}
    sweep = threshold_sweep(gold, scored, [threshold] if threshold is not None else np.arange(0.05, 0.95, 0.025))
    best = recommend_threshold(sweep)
    out.update(f1=best["f1"], threshold=best["threshold"], precision=best["precision"], recall=best["recall"])
    return out


def _platt(raw: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Scale and shift that map raw scores to log-odds (a one-feature logistic regression); the
    identity where the rows hold one class only (nothing to calibrate against)."""
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(y)) < 2:
        return 1.0, 0.0
    model = LogisticRegression(C=1e6).fit(raw.reshape(-1, 1), y.astype(int))
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def _fit_fusion(rows, half, kind, params: BoostingParams, extra=()) -> tuple[dict, Fusion]:
    """Dev metrics from 2-fold cross-fitting (each half of dev scored by a fusion fitted on the
    other half plus the ``extra`` rows, the stacked train letters), and the fusion fitted on all
    of them with the threshold those metrics recommend. A ranking fusion's raw scores are
    Platt-scaled to probabilities on the cross-fitted dev scores, so that the threshold (and the
    uk suggesters, which read the score) see a probability."""
    def fit(fit_rows):
        fit_rows = [r for r in list(fit_rows) + list(extra) if len(r[1])]
        return Fusion.fit(np.vstack([r[2] for r in fit_rows]), np.concatenate([r[3] for r in fit_rows]), params,
                          groups=[len(r[1]) for r in fit_rows])

    raw = [None] * len(rows)
    for h in (0, 1):
        fusion = fit(r for r, x in zip(rows, half) if x != h)
        for n, (r, x) in enumerate(zip(rows, half)):
            if x == h:
                raw[n] = fusion.raw(r[2]) if len(r[1]) else np.zeros(0)
    scale, shift = 1.0, 0.0
    if params.objective == "lambdarank":
        scale, shift = _platt(np.concatenate(raw), np.concatenate([r[3] for r in rows]))
    m = _evaluate(rows, [sigmoid(scale * x + shift) for x in raw], kind)
    fusion = fit(rows)
    if params.objective == "lambdarank":
        fusion = fusion.calibrated(scale, shift)
        m["calibration"] = {"scale": scale, "shift": shift}
    fusion.threshold = m["threshold"]
    return m, fusion


def _components(docs, prepared, kind, tables, config: RankerConfig, progress: bool = False):
    """What is learned from coded letters ``docs``: prior, sentence memory, term memory, classifier."""
    labels = [list(dict.fromkeys(_gold(d, kind))) for d in docs]
    prior = Counter(c for ls in labels for c in ls)
    memory = build_memory(docs, kind, tables)
    terms = build_terms(docs, kind, tables, config.term_min_score)
    clf = DocClassifier.fit([p.document for p in prepared], labels, C=config.clf_C,
                            progress=(lambda it: tqdm(it, desc=f"{kind} classifier")) if progress else None)
    return prior, memory, terms, clf


def _stacked_rows(train, train_prep, kind, system, tables, lex, dense, config: RankerConfig,
                  constants: RankerConstants, progress: bool):
    """Candidate rows for every letter of ``train`` (the letters components learn from), from
    components fitted on the other folds: features as a new letter gets them."""
    if config.folds < 2 or len(train) < config.folds:
        return []
    fold = np.random.default_rng(config.seed).permutation(len(train)) % config.folds
    rows = [None] * len(train)
    for f in tqdm(range(config.folds), desc=f"{kind} stacking folds", disable=not progress):
        fit = [i for i, x in enumerate(fold) if x != f]
        prior, memory, terms, clf = _components([train[i] for i in fit], [train_prep[i] for i in fit], kind, tables,
                                                config)
        feat = Featurizer(system, tables[kind], lex, clf, memory, dense, dict(prior), terms=terms, constants=constants)
        held = [i for i, x in enumerate(fold) if x == f]
        for i, r in zip(held, _rows(feat, [train[i] for i in held], [train_prep[i] for i in held], kind)):
            rows[i] = r
    return rows


def train_ranker(out_dir: str | Path, codiesp: str | Path | None = None, config: RankerConfig = RankerConfig(),
                 encoder=None, progress: bool = True, tables: dict | None = None,
                 settings: Settings = Settings(), kinds: tuple[str, ...] = tuple(KINDS),
                 keep_titles: bool = False) -> dict:
    """Train and save the US-profile ranker into ``out_dir``; returns its model card.

    ``kinds`` trains only those kinds' parts (``("P",)``: the procedures), keeping the others'
    in ``out_dir`` with their figures and config; ``keep_titles`` keeps the titles-only fusions
    there as well (the ``uk`` profile ranks OPCS-4 with one, and its suggesters were fitted on its
    scores), so that retraining the US procedures leaves the ``uk`` profile as it was.

    Train and dev (train alone with ``learn_from_dev: false``) fit the classifier, the sentence
    and term memories and the prior; the encoder is fine-tuned on train, elsewhere. The fusion
    learns from every letter's stacked features (components fitted on the other folds); its
    reported figures come from 2-fold cross-fitting over dev (each half scored by a fusion that
    did not see it, on features from components that did not see it); the shipped fusion is
    fitted on all of them. The text
    weights and ranker constants of ``settings`` are used throughout and recorded in the card.
    """
    t0 = time.time()
    rng = np.random.default_rng(config.seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    earlier = earlier_card(out_dir, kinds, keep_titles)
    train, dev = load_split("train", codiesp), load_split("dev", codiesp)
    tables = tables or {k: load_table(s) for k, s in KINDS.items()}
    half = rng.permutation(len(dev)) % 2
    data = _Data(train, dev, prepare_docs(train, progress, settings), prepare_docs(dev, progress, settings), half)
    metrics = dict(earlier.get("metrics_dev", {}))
    for kind in kinds:
        titles = earlier["metrics_dev"][kind]["titles_only"] if keep_titles else None
        metrics[kind] = _train_kind(kind, data, tables, encoder, config, settings, out_dir, progress, titles)
    digest = hashlib.sha256()
    for p in sorted(_part_files(out_dir)):
        digest.update(p.read_bytes())
    card = {
        "name": f"clincoder-{DEFAULT_RANKER}",
        "profile": "us",
        "editions": {s.value: tables[k].edition for k, s in KINDS.items()},
        "training_data": _training_data(config),
        "config": asdict(config),
        "constants": settings.scoring_constants(),
        "encoder": encoder.describe() if encoder is not None else None,
        "metrics_dev": metrics,
        "hash": digest.hexdigest()[:16],
        "train_seconds": round(time.time() - t0, 1),
    }
    if earlier:  # what this training kept of the ranker already in out_dir
        kept = [k for k in KINDS if k not in kinds] + [f"{k} titles-only fusion" for k in kinds if keep_titles]
        card["kept"] = {"parts": kept, "from": earlier["hash"], "config": earlier["config"],
                        "earlier": earlier.get("kept")}
    (out_dir / "model_card.json").write_text(json.dumps(card, indent=2))
    return card


def earlier_card(out_dir: Path, kinds: tuple[str, ...], keep_titles: bool) -> dict:
    """The model card of the ranker in ``out_dir`` whose parts this training keeps (``{}`` when it
    trains every part)."""
    unknown = set(kinds) - set(KINDS)
    if unknown or not kinds:
        raise ValueError(f"kinds must be among {sorted(KINDS)}, not {sorted(unknown) or 'none'}")
    if set(kinds) == set(KINDS) and not keep_titles:
        return {}
    card = out_dir / "model_card.json"
    if not card.exists():
        raise FileNotFoundError(f"training only {', '.join(kinds)}{' without the titles-only fusions' if keep_titles else ''} "
                                f"keeps the other parts of the ranker in {out_dir}, and there is none: copy a trained "
                                f"ranker there first (e.g. models/artifacts/ranker-us)")
    return json.loads(card.read_text())


def _part_files(out_dir: Path) -> list[Path]:
    """The ranker's own files in ``out_dir`` (not its card, not the encoder), hashed into the card."""
    return [p for p in out_dir.iterdir() if p.is_file() and p.name != "model_card.json"]


def _training_data(config: RankerConfig) -> str:
    learned = "CodiEsp train and dev (750" if config.learn_from_dev else "CodiEsp train (500"
    return (f"{learned} English case reports, CC BY 4.0; Miranda-Escalada et al. 2020) for the classifier, "
            f"sentence and term memories and prior; CodiEsp train for the encoder; fusion on {config.folds}-fold "
            "stacked features of those letters; threshold and the dev figures below from 2-fold cross-fitting "
            "over dev")


@dataclass(frozen=True)
class _Data:
    train: list
    dev: list
    train_prep: list
    dev_prep: list
    half: np.ndarray  # which half of dev each dev letter is in, for cross-fitting

    def learned_from(self, with_dev: bool) -> tuple[list, list]:
        """The coded letters (and their prepared texts) that the components learn from."""
        if with_dev:
            return self.train + self.dev, self.train_prep + self.dev_prep
        return self.train, self.train_prep


def _train_kind(kind: str, data: _Data, tables: dict, encoder, config: RankerConfig, settings: Settings,
                out_dir: Path, progress: bool, titles: dict | None = None) -> dict:
    """Fit and save one kind's components and fusions; returns its dev figures. With ``titles``
    (the figures of the titles-only fusion already in ``out_dir``) that fusion is kept."""
    system, constants = KINDS[kind], settings.ranker
    docs, prep = data.learned_from(config.learn_from_dev)
    prior, memory, terms, clf = _components(docs, prep, kind, tables, config, progress)
    dense = encoder.index(tables[kind]) if encoder is not None else None
    lex = lexical_index(tables[kind])
    stacked = _stacked_rows(docs, prep, kind, system, tables, lex, dense, config, constants, progress)
    if config.learn_from_dev:  # dev rows are stacked rows too: featurised without their own codes
        rows, stacked = stacked[len(data.train):], stacked[:len(data.train)]
    else:
        feat = Featurizer(system, tables[kind], lex, clf, memory, dense, dict(prior), terms=terms, constants=constants)
        rows = _rows(feat, tqdm(data.dev, desc=f"{kind} dev features", disable=not progress), data.dev_prep, kind)
    m, fusion = _fit_fusion(rows, data.half, kind, config.fusion_params(kind), stacked)
    # the foundation's first coder, on the same candidates: lexical title similarity alone
    m["lexical_only"] = _evaluate(rows, [r[2][:, FEATURES.index("lex_max")] for r in rows], kind)
    # the same ranker with nothing learned from coded history: how it serves a classification
    # it has no coded letters for (OPCS-4), and codes never seen in training
    m["titles_only"] = titles
    if titles is None:
        title_feat = Featurizer(system, tables[kind], lex, dense=dense, constants=constants)
        m["titles_only"], title_fusion = _fit_fusion(_rows(title_feat, data.dev, data.dev_prep, kind), data.half, kind,
                                                     config.fusion_params(kind, titles=True))
        title_fusion.save(out_dir / f"fusion_{kind}_titles.json")
    m["fusion_rows"] = {"dev_letters": len(rows), "stacked_train_letters": len(stacked)}
    if encoder is not None:
        m["dense_only"] = _evaluate(rows, [r[2][:, FEATURES.index("dense_max")] for r in rows], kind)
    clf.save(out_dir / f"classifier_{kind}")
    memory.save(out_dir / f"memory_{kind}")
    terms.save(out_dir / f"terms_{kind}.json")
    m["term_phrases"] = len(terms.phrases)
    fusion.save(out_dir / f"fusion_{kind}.json")
    (out_dir / f"prior_{kind}.json").write_text(json.dumps(dict(prior)))
    log.info("%s: map %.4f f1 %.4f", kind, m["map"], m["f1"])
    return m
