"""medspaCy loads without the libraries its QuickUMLS import drags in (clincoder.text.medspacy_loader),
and the coding path imports scikit-learn and pandas nowhere (only fitting does)."""

from __future__ import annotations

import subprocess
import sys

from clincoder.text.medspacy_loader import HIDDEN

CODING_PATH = ("clincoder.text", "clincoder.text.pipeline", "clincoder.text.prepare", "clincoder.models.ranker",
               "clincoder.models.lexical", "clincoder.models.supervised", "clincoder.models.suggest",
               "clincoder.models.linker", "clincoder.rules", "clincoder.coder")


def test_the_coding_path_imports_none_of_the_hidden_libraries():
    script = f"import sys\nfor m in {CODING_PATH!r}: __import__(m)\nprint(sorted(h for h in {HIDDEN!r} if h in sys.modules))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_the_hidden_libraries_import_as_usual_afterwards():
    script = "import clincoder.text, sklearn.linear_model, pandas, scipy.stats, sys; print('medspacy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "True"
