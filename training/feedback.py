"""Refit what the ``uk`` profile suggests on a hospital's own decisions (the workbench's submitted
letters, as coder gold): the suggester (which codes a coder is offered, and from which
probability) and the primary model, with a before/after figure on the letters held back.

The held-back letters are a stable quarter of the decisions (by a hash of the letter id,
:meth:`clincoder.core.review.ReviewedLetter.held_back`); the refit never reads them. Before: the
suggesters the coder runs now; after: the refitted ones; both scored on the same held-back rows.

    clincoder train-uk --decisions clincoder-review.sqlite --out my-suggesters
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from clincoder.core.config import Settings
from clincoder.core.gold import GoldLetter
from clincoder.models.suggest import Suggester, SuggesterParams, load_suggesters

from .uk import UK_ARTIFACTS, Rows, UkTrainingError, fit_and_save, letter_rows, params_card, scores_at


def held_back_figures(rows: list[Rows], suggester: Suggester, primary: Suggester | None) -> dict:
    """Precision/recall of the suggested codes and primary accuracy on held-back letters."""
    probs = [suggester.probability(r.X) for r in rows]
    figures = scores_at(rows, probs, suggester.threshold)
    judged = [r for r in rows if r.gold and len(r.X)]
    if primary is not None and judged:
        correct = sum(int(r.primary[int(np.argmax(primary.probability(r.X)))]) for r in judged)
        figures["primary_percent_correct"] = round(100 * correct / len(judged), 1)
    return figures


def refit_on_decisions(letters: Sequence[GoldLetter], out_dir: str | Path, settings: Settings,
                       current: str | Path = UK_ARTIFACTS, folds: int = 5, seed: int = 13,
                       params: SuggesterParams = SuggesterParams(), progress: bool = True) -> dict:
    """Fit suggesters on the decisions not held back, write them to ``out_dir`` with a card, and
    return the card with before/after figures on the held-back letters."""
    dev = [g for g in letters if g.split == "dev"]
    held = [g for g in letters if g.split == "final"]
    if len(dev) < folds or not held:
        raise UkTrainingError(f"{len(letters)} submitted letters ({len(dev)} to fit, {len(held)} held back): at least "
                              f"{folds} to fit and 1 held back are needed; review more letters first")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fit_rows, held_rows = letter_rows(dev, settings, progress), letter_rows(held, settings, progress)
    before = load_suggesters(Path(current), list(fit_rows))
    card = {"trained_on": f"{len(dev)} letters of coders' decisions ({len(held)} held back for the figures)",
            "folds": folds, "seed": seed, "params": params_card(params), "started_from": str(current), "systems": {}}
    for system in fit_rows:
        cross, _, suggester, primary = fit_and_save(system, fit_rows[system], out, card["trained_on"], folds, seed,
                                                   params)
        card["systems"][system.value] = {
            "cross_fitted": cross,
            "held_back_before": held_back_figures(held_rows[system], *before[system]) if system in before else None,
            "held_back_after": held_back_figures(held_rows[system], suggester, primary)}
    (out / "uk_card.json").write_text(json.dumps(card, indent=2))
    return card

