"""Train what the ``uk`` profile suggests: the HES prior and one suggester per classification,
fitted on the ``dev`` part of a coder gold set (the ``final`` part is never read here).

Each dev letter goes through the runtime text stage and the shipped ranker; every ranked code
becomes a row of :func:`clincoder.models.suggest.features`, labelled by whether the gold assigns
it (at 4 characters, an alternative counting). Dev figures are cross-fitted by letter (each fold
scored by a suggester that did not see it); the threshold that maximises their F1 is saved with
the suggester fitted on all dev letters.

    clincoder train-uk --gold data/uk-gold/gold --hes ../shared/data/hes-usage
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from clincoder.core.codes import System
from clincoder.core.config import DEFAULT_RANKER, Settings
from clincoder.core.gold import GoldLetter, code_at, read_coder_gold
from clincoder.core.metrics import prf
from clincoder.core.tables import resolve_tables
from clincoder.models.prior import hes_prior
from clincoder.models.ranker import ARTIFACTS, CodingModel
from clincoder.models.suggest import Suggester, SuggesterParams, named, suggestion_rows

from .hes import build_prior

UK_ARTIFACTS = ARTIFACTS / "uk"


class UkTrainingError(ValueError):
    """Missing tables or gold; the message says what to supply."""


@dataclass(frozen=True)
class Rows:
    letter: str
    X: np.ndarray
    y: np.ndarray  # the gold assigns the code
    gold: int  # gold codes of this kind in the letter (recall's denominator)
    primary: np.ndarray  # the code is the gold's primary diagnosis (main procedure)


def _labels(system: System, keys: list[str], g: GoldLetter) -> tuple[np.ndarray, int, np.ndarray]:
    slots = g.procedures if system.kind == "procedure" else g.diagnoses
    wanted = set().union(*(s.keys(4) for s in slots)) if slots else set()
    first = slots[0].keys(4) if slots else set()
    return (np.array([code_at(k, 4) in wanted for k in keys], dtype=int), len(slots),
            np.array([code_at(k, 4) in first for k in keys], dtype=int))


def letter_rows(letters: list[GoldLetter], settings: Settings, progress: bool = True) -> dict[System, list[Rows]]:
    """Features and labels of every ranked code of every letter, per classification."""
    from clincoder.text.pipeline import build_nlp
    from clincoder.text.prepare import prepare

    tables = resolve_tables(settings)
    missing = [s.value for s in (settings.profile.diagnosis, settings.profile.procedure) if s not in tables.by_system]
    if missing or tables.warnings:
        raise UkTrainingError(f"the uk suggester needs the NHS tables: {'; '.join(tables.warnings) or missing}")
    model = CodingModel(ARTIFACTS / DEFAULT_RANKER, tables.by_system, settings.ranker, settings.encoder_backend())
    nlp, prior = build_nlp(), hes_prior()
    linkers = {s: model.linker(s, prior) for s in tables.by_system}
    out: dict[System, list[Rows]] = {s: [] for s in tables.by_system}
    for g in tqdm(letters, desc="uk letters", disable=not progress):
        prepared = prepare(nlp(g.text), settings.text)
        for system, ranked in model.rank(prepared).items():
            top, X = suggestion_rows(system, tables.by_system[system], ranked, prepared, prior, linkers[system],
                                     settings.coder.max_candidates)
            y, n_gold, primary = _labels(system, [r.key for r in top], g)
            out[system].append(Rows(g.id, X, y, n_gold, primary))
    return out


def scores_at(rows: list[Rows], probs: list[np.ndarray], t: float) -> dict:
    tp = sum(int(((p >= t) & (r.y == 1)).sum()) for r, p in zip(rows, probs))
    fp = sum(int(((p >= t) & (r.y == 0)).sum()) for r, p in zip(rows, probs))
    fn = sum(r.gold for r in rows) - tp  # gold codes the ranker never proposed count as missed
    return {**prf(tp, fp, fn), "tp": tp, "fp": fp, "fn": fn, "threshold": round(float(t), 3)}


def _out_of_fold(system: System, rows: list[Rows], label: str, folds: int, seed: int,
                 params: SuggesterParams) -> tuple[list[np.ndarray], Suggester]:
    """Each letter's probabilities from a model fitted on the other folds, and the model fitted on
    every letter; ``label`` is the Rows field learned (``y``: assigned, ``primary``: primary)."""
    def fit(part):
        return Suggester.fit(system, np.vstack([r.X for r in part]), np.concatenate([getattr(r, label) for r in part]),
                             params)

    fold = np.random.default_rng(seed).permutation(len(rows)) % folds
    probs: list[np.ndarray] = [np.zeros(0)] * len(rows)
    for f in range(folds):
        model = fit([r for r, x in zip(rows, fold) if x != f])
        for n, (r, x) in enumerate(zip(rows, fold)):
            if x == f:
                probs[n] = model.probability(r.X) * named(r.X)  # as offered: only what a statement names
    return probs, fit(rows)


def cross_fit(system: System, rows: list[Rows], folds: int, seed: int,
              params: SuggesterParams) -> tuple[dict, Suggester]:
    """Out-of-fold dev figures at the best threshold, and the suggester fitted on every letter."""
    probs, final = _out_of_fold(system, rows, "y", folds, seed, params)
    sweep = [scores_at(rows, probs, t) for t in np.arange(0.05, 0.951, 0.025)]
    best = sweep[smoothed_best([m["f1"] for m in sweep])]
    final.threshold = best["threshold"]
    return best, final


def smoothed_best(f1: list[float], half_width: int = 1) -> int:
    """Index of the threshold whose F1, averaged with its neighbours (``half_width`` steps each
    side), is highest (ties: the higher threshold): on a few hundred codes the F1 curve is flat and
    noisy near its top, and a lone peak one step wide is a letter or two, not a better threshold."""
    def mean_near(i: int) -> float:
        window = f1[max(0, i - half_width):i + half_width + 1]
        return sum(window) / len(window)

    return max(range(len(f1)), key=lambda i: (round(mean_near(i), 9), i))


def cross_fit_primary(system: System, rows: list[Rows], folds: int, seed: int,
                      params: SuggesterParams) -> tuple[dict, Suggester]:
    """Out-of-fold accuracy of choosing, per letter, the ranked code of highest primary
    probability as the primary diagnosis (main procedure), and the model fitted on every letter."""
    probs, final = _out_of_fold(system, rows, "primary", folds, seed, params)
    judged = [n for n, r in enumerate(rows) if r.gold]
    correct = sum(int(rows[n].primary[int(np.argmax(probs[n]))]) for n in judged if len(rows[n].X))
    return {"percent_correct": round(100 * correct / max(1, len(judged)), 1), "correct": correct,
            "n": len(judged)}, final


def fit_and_save(system: System, rows: list[Rows], out_dir: Path, trained_on: str, folds: int, seed: int,
                 params: SuggesterParams) -> tuple[dict, dict, Suggester, Suggester]:
    """Cross-fit the suggester and the primary model of one classification, fit both on every
    letter and save them as ``suggest_SYSTEM.json`` and ``primary_SYSTEM.json``; returns
    (suggester figures, primary figures, suggester, primary model)."""
    figures, suggester = cross_fit(system, rows, folds, seed, params)
    primary_figures, primary = cross_fit_primary(system, rows, folds, seed, params)
    for model, name in ((suggester, "suggest"), (primary, "primary")):
        model.trained_on = trained_on
        model.save(out_dir / f"{name}_{system.value}.json")
    return figures, primary_figures, suggester, primary


def params_card(params: SuggesterParams) -> dict:
    """The fitting settings as the model card records them."""
    from dataclasses import asdict

    return asdict(params)


def train_uk(gold: str | Path, out_dir: str | Path = UK_ARTIFACTS, hes: str | Path | None = None,
             settings: Settings | None = None, folds: int = 5, seed: int = 13,
             params: SuggesterParams = SuggesterParams(), progress: bool = True) -> dict:
    """Build the prior (when ``hes`` is given), fit the suggesters on the dev letters of ``gold``,
    write them and a card into ``out_dir``; returns the card."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if hes is not None:
        from importlib.resources import files

        build_prior(hes, out_dir / "hes_usage.json", table_folder=Path(str(files("clincoder") / "resources")))
        hes_prior.cache_clear()
    letters = read_coder_gold(gold, "dev")
    if len(letters) < folds:
        raise UkTrainingError(f"{gold}: {len(letters)} dev letters; at least {folds} are needed")
    settings = settings or Settings.load("uk")
    card = {"trained_on": f"{len(letters)} dev letters of {gold} (the final part is kept for final figures)",
            "folds": folds, "seed": seed, "params": params_card(params), "dev_cross_fitted": {}}
    for system, rows in letter_rows(letters, settings, progress).items():
        figures, primary_figures, _, _ = fit_and_save(system, rows, out_dir, card["trained_on"], folds, seed, params)
        card["dev_cross_fitted"][system.value] = {**figures, "primary": primary_figures}
    (out_dir / "uk_card.json").write_text(json.dumps(card, indent=2))
    return card
