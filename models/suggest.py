"""What a coder should be offered: from a letter's ranked codes, those a clinical coder would
assign. The ranker orders every candidate; the suggester decides, per code, how likely a coder
is to assign it, from how and where the letter states it.

Features of a (letter, code) pair (:data:`FEATURES`): the ranker's score and rank; the code's
best support in the sections where clinicians state diagnoses and procedures, in the primary
diagnosis, in the history, in the story of the admission (presenting complaint, examination,
investigations) and elsewhere; whether its best support is uncertain or historical; how well
the words of a mention in its supporting sentences cover the code's title; whether those
mentions are only findings (symptoms); what English hospitals record (the HES prior); the
chapter (symptom, status or external-cause code; for OPCS-4, diagnostic imaging and testing, a
supplementary code, or a diagnostic operation, which a coder makes the main procedure only when
nothing else was done); whether it is the best of its category in the letter. A model over them
(logistic by default; gradient-boosted trees on request, :class:`SuggesterParams`) is fitted on
coded letters (the UK development gold set, its ``dev`` part) and its threshold tuned there for a
coder's F1; it is saved as JSON.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from clincoder.core.codes import DIAGNOSTIC_CATEGORY, System, compact, opcs4_chapter, opcs4_supplementary
from clincoder.core.config import HISTORY_SECTIONS as HISTORY
from clincoder.core.contracts import PreparedLetter, RankedCode
from clincoder.core.tables import CodeTable
from clincoder.core.words import content_words

from .linker import Link, Linker, with_links, with_statement
from .prior import HesPrior
from .trees import BoostingParams, Forest

FEATURES = ("score", "inv_rank", "support", "stated", "primary", "history", "story", "other", "uncertain",
            "historical", "sentences", "overlap", "finding_only", "prior", "symptom", "status", "external",
            "best_in_category", "best_in_sentence", "sentence_rr", "line_share", "line_best", "first_stated", "code_len",
            "link_score", "link_first", "link_first_stated", "link_order", "link_lead", "imaging", "supplementary",
            "diagnostic_operation", "bias")

STORY = frozenset({None, "presenting_complaint", "hpc", "examination", "investigations", "discharge_summary"})


def _mention_words(m) -> set[str]:
    return content_words(" ".join(filter(None, (m.text, m.expansion, m.canonical))))


def _overlap(system: System, title: str, sentences) -> tuple[float, bool]:
    """The best share of a mention's words that the title carries, over the mentions of the
    code's kind in its supporting sentences; and whether those mentions are all findings."""
    words = content_words(title)
    kind = "procedure" if system.kind == "procedure" else "diagnosis"
    best, labels = 0.0, set()
    for s in sentences:
        for wm in s.mentions:
            m = wm.mention
            if (m.label == "PROCEDURE") != (kind == "procedure"):
                continue
            mw = _mention_words(m)
            if mw and words & mw:
                best = max(best, len(words & mw) / len(mw))
                labels.add(m.label)
    return best, bool(labels) and labels == {"FINDING"}


def _support_by(letter: PreparedLetter, support: dict[int, float], stated: frozenset[int]) -> dict[str, float]:
    out = dict.fromkeys(("stated", "primary", "history", "story", "other"), 0.0)
    for i, v in support.items():
        section = letter.sentences[i].section
        group = ("stated" if i in stated else "history" if section in HISTORY
                 else "story" if section in STORY else "other")
        out[group] = max(out[group], v)
        if section == "primary_diagnosis" or letter.sentences[i].announces:
            out["primary"] = max(out["primary"], v)
    return out


def _competition(ranked: Sequence[RankedCode]) -> tuple[dict[str, float], list[float]]:
    """The best score in each category, and each code's reciprocal rank among the codes whose
    best supporting sentence is its own (one statement, one code)."""
    best_of: dict[str, float] = {}
    by_sentence: dict[int, int] = {}
    rr = []
    for r in ranked:  # best first
        cat = r.key[:3]
        best_of[cat] = max(best_of.get(cat, 0.0), r.score)
        if r.support:
            where = max(r.support, key=r.support.get)
            by_sentence[where] = by_sentence.get(where, 0) + 1
            rr.append(1.0 / by_sentence[where])
        else:
            rr.append(0.0)
    return best_of, rr


def _line_shares(ranked: Sequence[RankedCode]) -> list[float]:
    """For each code, its support on its best sentence over the best support any code of the
    letter has there: 1 when no other code matches that statement better."""
    best: dict[int, float] = {}
    for r in ranked:
        for i, v in r.support.items():
            best[i] = max(best.get(i, 0.0), v)
    out = []
    for r in ranked:
        if not r.support:
            out.append(0.0)
            continue
        where = max(r.support, key=r.support.get)
        out.append(r.support[where] / best[where] if best[where] else 0.0)
    return out


def _first_stated(stated: list[int], strong_at: Sequence[int]) -> float:
    """1 for a code supported strongly by the first stated sentence (the first diagnosis or
    procedure listed), 1/2 for the second, ...; 0 if no stated sentence supports it strongly."""
    hits = [stated.index(i) for i in strong_at if i in stated]
    return 1.0 / (1 + min(hits)) if hits else 0.0


def _link_features(link: Link | None) -> dict[str, float]:
    if link is None:
        return {"link_score": 0.0, "link_first": 0.0, "link_first_stated": 0.0, "link_order": 0.0, "link_lead": 0.0}
    first_stated = link.first and link.stated
    return {"link_score": link.score, "link_first": float(link.first), "link_first_stated": float(first_stated),
            "link_order": 1.0 / (1 + link.order) if first_stated else 0.0, "link_lead": link.lead}


def _procedure_kind(system: System, table: CodeTable, key: str) -> dict[str, float]:
    """An OPCS-4 code's place in the classification: diagnostic imaging and testing (chapter U), a
    supplementary code (:func:`clincoder.core.codes.opcs4_supplementary`: Y, Z, O11-O16 and the
    stents of a stent operation), or a diagnostic operation (its category's title says so)."""
    if system is not System.OPCS4:
        return {"imaging": 0.0, "supplementary": 0.0, "diagnostic_operation": 0.0}
    return {"imaging": float(opcs4_chapter(key) == "U"), "supplementary": float(opcs4_supplementary(key)),
            "diagnostic_operation": float(table.parent_titled(key, DIAGNOSTIC_CATEGORY))}


def features(system: System, table: CodeTable, ranked: Sequence[RankedCode], letter: PreparedLetter,
             prior: HesPrior, links: dict[str, Link] | None = None) -> np.ndarray:
    """One row of :data:`FEATURES` per ranked code, in the ranked order."""
    links = links or {}
    best_of, sentence_rr = _competition(ranked)
    shares = _line_shares(ranked)
    stated = letter.stated(system.kind == "procedure")
    stated_order = list(letter.stated_order(system.kind == "procedure"))
    rows = []
    for n, r in enumerate(ranked, 1):
        entry = table.resolve(r.key)
        title = entry.title if entry else ""
        support = dict(r.support)
        top = max(support.values(), default=0.0)
        strong_at = r.strong_at
        strong = [letter.sentences[i] for i in strong_at]
        assertions = {r.assertion_in(letter.sentences[i], i, system.kind == "procedure") for i in strong_at}
        overlap, finding_only = _overlap(system, title, strong)
        code = compact(r.key)
        f = {"score": r.score, "inv_rank": 1.0 / n, "support": min(1.0, top), **_support_by(letter, support, stated),
             "uncertain": float(assertions == {"uncertain"}), "historical": float(assertions == {"historical"}),
             "sentences": math.log1p(len(support)), "overlap": overlap, "finding_only": float(finding_only),
             "prior": prior.weight(system, r.key),
             "symptom": float(system.kind == "diagnosis" and code[:1] == "R"),
             "status": float(system.kind == "diagnosis" and code[:1] == "Z"),
             "external": float(system.kind == "diagnosis" and code[:1] in "VWXY"),
             "best_in_category": float(r.score >= best_of[r.key[:3]]),
             "best_in_sentence": float(sentence_rr[n - 1] == 1.0), "sentence_rr": sentence_rr[n - 1],
             "line_share": shares[n - 1], "line_best": float(shares[n - 1] >= 0.999),
             "first_stated": _first_stated(stated_order, strong_at), "code_len": len(code) / 5.0, "bias": 1.0,
             **_link_features(links.get(r.key)), **_procedure_kind(system, table, r.key)}
        rows.append([min(1.0, f[k]) if k in ("stated", "primary", "history", "story", "other") else f[k]
                     for k in FEATURES])
    return np.array(rows, dtype=np.float64).reshape(-1, len(FEATURES))


class Logistic:
    """A linear model over :data:`FEATURES` (``bias`` is its intercept): log-odds ``X @ weights``."""

    def __init__(self, weights):
        self.weights = np.asarray(weights, dtype=np.float64)

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, C: float) -> "Logistic":
        from sklearn.linear_model import LogisticRegression

        return cls(LogisticRegression(C=C, fit_intercept=False, max_iter=2000).fit(X, y).coef_[0])

    def raw(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) @ self.weights

    def to_dict(self) -> dict:
        return {"weights": self.weights.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "Logistic":
        return cls(d["weights"])


MODELS = {"logistic": Logistic, "gbdt": Forest}


@dataclass(frozen=True)
class SuggesterParams:
    """How a suggester (and a primary model) is fitted; saved in the uk model card.

    ``model``: ``logistic`` (shipped) or ``gbdt`` (gradient-boosted trees,
    :class:`clincoder.models.trees.Forest`, which can weigh one feature by another). Trees scored
    better per code when cross-fitted on the dev letters, but worse through the whole pipeline
    (each half of dev coded by suggesters fitted on the other: primary diagnosis 68.5-72.7%
    against 75.8%; see the README), so the logistic model stays the default. ``trees`` are the
    boosting settings (a few hundred letters give a few thousand rows, hence small leaves); ``C``
    the logistic regularisation."""

    model: str = "logistic"
    trees: BoostingParams = BoostingParams(trees=300, learning_rate=0.05, max_leaf_nodes=31, min_samples_leaf=20)
    C: float = 1.0

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"unknown suggester model {self.model!r}; use one of {', '.join(MODELS)}")


@dataclass
class Suggester:
    """A model over :data:`FEATURES` and the probability from which a code is suggested."""

    system: str
    model: Logistic | Forest
    threshold: float = 0.5
    trained_on: str = ""

    def probability(self, X: np.ndarray) -> np.ndarray:
        if len(X) == 0:
            return np.zeros(0)
        return 1.0 / (1.0 + np.exp(-np.clip(self.model.raw(X), -50.0, 50.0)))  # no overflow

    @classmethod
    def fit(cls, system: System, X: np.ndarray, y: np.ndarray, params: SuggesterParams = SuggesterParams(),
            trained_on: str = "") -> "Suggester":
        y = np.asarray(y, dtype=int)
        model = Logistic.fit(X, y, params.C) if params.model == "logistic" else Forest.fit(X, y, params.trees)
        return cls(system.value, model, 0.5, trained_on)

    def to_dict(self) -> dict:
        kind = next(k for k, m in MODELS.items() if isinstance(self.model, m))
        return {"system": self.system, "features": list(FEATURES), "kind": kind, **self.model.to_dict(),
                "threshold": self.threshold, "trained_on": self.trained_on}

    @classmethod
    def from_dict(cls, d: dict) -> "Suggester":
        if d.get("features") != list(FEATURES):
            raise ValueError("the suggester was trained with other features; retrain it with `clincoder train-uk`")
        kind = d.get("kind", "logistic")  # suggesters saved before trees were offered are logistic
        if kind not in MODELS:
            raise ValueError(f"unknown suggester model {kind!r}; retrain it with `clincoder train-uk`")
        return cls(d["system"], MODELS[kind].from_dict(d), float(d["threshold"]), d.get("trained_on", ""))

    def save(self, path: Path) -> Path:
        path.write_text(json.dumps(self.to_dict()))
        return path

    @classmethod
    def load(cls, path: Path) -> "Suggester":
        return cls.from_dict(json.loads(path.read_text()))


def named(X: np.ndarray) -> np.ndarray:
    """Per row of :func:`features`: whether some statement names the code, as its first choice
    or as the best match of its sentence. Only such a code is offered: another reading of words
    a better code already covers ("dual chamber pacemaker" is K60.6; the open-approach K61.1
    matches the same words less well) is ranked, never suggested."""
    X = np.asarray(X).reshape(-1, len(FEATURES))
    return (X[:, FEATURES.index("link_first")] > 0) | (X[:, FEATURES.index("best_in_sentence")] > 0)


@dataclass(frozen=True)
class Offer:
    """What a coder is offered from one classification's ranked codes."""

    codes: list[RankedCode]  # the codes judged (ranked, then those only the statements name)
    probability: np.ndarray | None  # that a coder assigns each (None: the ranker's threshold decided)
    suggested: np.ndarray  # bool: offered to the coder
    primary: int | None  # index of the primary diagnosis (main procedure), if one is offered
    # the primary model's probability that each is the primary (None without one): the order in
    # which the suggested codes would take the primary's place if a rule takes it out
    precedence: np.ndarray | None = None


@dataclass(frozen=True)
class SuggestionModel:
    """A classification's suggester and primary model, with the prior and linker they read."""

    system: System
    suggester: Suggester
    primary: Suggester | None
    prior: HesPrior
    linker: Linker

    def offer(self, table: CodeTable, ranked: Sequence[RankedCode], letter: PreparedLetter,
              max_candidates: int, definitive_share: float = 0.0, primary_floor: float = 0.0) -> Offer:
        """``definitive_share``: where the primary model's choice is of a :data:`LESSER` kind (a
        symptom; diagnostic imaging or a diagnostic operation), the likeliest definitive code a
        statement names is the primary instead, if its precedence is at least this share of the
        choice's (0: never; :func:`primary_of`). ``primary_floor``: a code the suggester does not
        offer and finds less likely than this is never made the primary on the primary model's word
        (a "right cataract operation" of years ago, a hip replacement seen on an X-ray)."""
        codes, X = suggestion_rows(self.system, table, ranked, letter, self.prior, self.linker, max_candidates)
        p = self.suggester.probability(X)
        # never suggest what the letter negates, nor what no statement names
        episode = np.array([not r.uncoded for r in codes], dtype=bool) & named(X)
        suggested = (p >= self.suggester.threshold) & episode
        chosen, precedence = None, self.primary.probability(X) if self.primary is not None else None
        eligible = episode & (suggested | (p >= primary_floor))
        if precedence is not None and eligible.any():
            best = int(np.argmax(np.where(eligible, precedence, -1.0)))
            # a letter that lists what it treated (did) has a primary diagnosis (main procedure)
            if suggested.any() or X[best, FEATURES.index("link_first_stated")] > 0:
                chosen = primary_of(X, eligible, precedence, best, definitive_share)
                # a symptom set aside stays offered (the rules judge whether the diagnosis explains
                # it); a diagnostic operation set aside only where the suggester offers it
                suggested[chosen] = True
                suggested[best] |= bool(X[best, FEATURES.index("symptom")])
        return Offer(codes, p, suggested, chosen, precedence)


# what is the primary only when nothing definitive is coded: a symptom; diagnostic imaging or a
# diagnostic operation, when nothing therapeutic was done
LESSER = ("symptom", "imaging", "diagnostic_operation")


def primary_of(X: np.ndarray, episode: np.ndarray, precedence: np.ndarray, best: int, share: float) -> int:
    """The primary: the likeliest (``best``) of the episode's codes; where that is of a
    :data:`LESSER` kind, the likeliest definitive code that a statement of this episode names first
    (not one of the history's, nor a status, external-cause or supplementary code), where it comes
    within ``share`` of it. The primary diagnosis is never a symptom when a definitive diagnosis is
    made (National Clinical Coding Standards ICD-10 5th Edition, chapter XVIII); diagnostic
    imaging and diagnostic operations are the main procedure only when nothing therapeutic was
    done (OPCS-4 standards, the main procedure)."""
    if share <= 0 or not X[best, [FEATURES.index(k) for k in LESSER]].any():
        return best
    kinds = X[:, [FEATURES.index(k) for k in (*LESSER, "status", "external", "supplementary", "history")]]
    definitive = episode & ~kinds.any(axis=1) & (X[:, FEATURES.index("link_first_stated")] > 0)
    if not definitive.any():
        return best
    other = int(np.argmax(np.where(definitive, precedence, -1.0)))
    return other if precedence[other] >= share * precedence[best] else best


def load_suggesters(folder: Path, systems) -> dict[System, tuple[Suggester, Suggester | None]]:
    """The suggesters (and primary models) saved in ``folder`` for ``systems``; a system
    without a suggester is left out."""
    out = {}
    for s in systems:
        if (folder / f"suggest_{s.value}.json").is_file():
            primary = folder / f"primary_{s.value}.json"
            out[s] = (Suggester.load(folder / f"suggest_{s.value}.json"),
                      Suggester.load(primary) if primary.is_file() else None)
    return out


def suggestion_rows(system: System, table: CodeTable, ranked: Sequence[RankedCode], letter: PreparedLetter,
                    prior: HesPrior, linker: Linker, max_candidates: int) -> tuple[list[RankedCode], np.ndarray]:
    """The codes a suggester judges (the ranker's first ``max_candidates``, then the codes the
    letter's statements name that the ranker missed) and their features; each procedure code
    returned with the statement that names it first among its evidence (:func:`with_statement`),
    which its features, as the suggester was fitted, do not read."""
    links = linker.link(letter)
    procedural = system.kind == "procedure"
    top = with_links(list(ranked[:max_candidates]), links, letter, procedural)
    X = features(system, table, top, letter, prior, links)
    return [with_statement(r, links.get(r.key)) for r in top] if procedural else top, X
