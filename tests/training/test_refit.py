"""Refitting what the uk profile suggests on coders' decisions: fitted on the letters not held
back, scored before and after on the held-back ones, and usable by the coder from its folder."""

from __future__ import annotations

from dataclasses import replace

import pytest

from clincoder.core.config import Settings
from clincoder.core.gold import read_coder_gold
from clincoder.training.feedback import refit_on_decisions
from clincoder.training.uk import UkTrainingError


@pytest.fixture
def nhs_settings(shared_data):
    return Settings.load("uk", opcs4_path=shared_data / "opcs4" / "opcs4_codes.tsv",
                         icd10_uk_path=shared_data / "icd10-uk" / "icd10_uk_codes.tsv")


@pytest.mark.shared_data
@pytest.mark.slow
def test_refit_writes_suggesters_with_before_and_after_figures(nhs_settings, repo_root, tmp_path):
    gold = read_coder_gold(repo_root / "data" / "uk-gold" / "gold")[:10]
    letters = [replace(g, split="final" if n % 4 == 0 else "dev") for n, g in enumerate(gold)]  # 3 held back
    card = refit_on_decisions(letters, tmp_path, nhs_settings, folds=3, progress=False)
    for system in ("ICD-10", "OPCS-4"):
        figures = card["systems"][system]
        assert (tmp_path / f"suggest_{system}.json").is_file() and (tmp_path / f"primary_{system}.json").is_file()
        assert {"precision", "recall", "threshold"} <= set(figures["held_back_before"])
        assert {"precision", "recall", "threshold"} <= set(figures["held_back_after"])
    assert "7 letters" in card["trained_on"] and "3 held back" in card["trained_on"]

    from clincoder.coder import Coder

    coder = Coder(replace(nhs_settings, coder=replace(nhs_settings.coder, suggester=str(tmp_path))))
    assert coder.code_text("Diagnoses:\n1. Community acquired pneumonia\n").codes


def test_too_few_decisions_say_so(tmp_path):
    with pytest.raises(UkTrainingError, match="review more letters"):
        refit_on_decisions([], tmp_path, Settings.load("uk"))
