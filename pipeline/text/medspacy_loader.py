"""medspaCy without the libraries it imports but the text stage never runs.

medspaCy's ``util`` imports QuickUMLS (a UMLS matcher the text stage does not use), which imports
all of NLTK, which imports scikit-learn, SciPy's statistics and pandas (with pyarrow): about
170 MB of memory in every coding process, counted again in each worker, and a second of start-up.
NLTK imports them inside ``try`` blocks, so they are hidden while medspaCy loads; code that needs
them later (training) imports them as usual.
"""

from __future__ import annotations

import importlib.abc
import sys

HIDDEN = ("sklearn", "pandas", "pyarrow", "scipy.stats")


class _Hidden(importlib.abc.MetaPathFinder):
    """Refuses the hidden modules that are not imported yet."""

    def find_spec(self, name, path=None, target=None):
        for root in HIDDEN:
            if (name == root or name.startswith(root + ".")) and root not in sys.modules:
                raise ModuleNotFoundError(f"{name} is not imported with medspaCy", name=name)
        return None


def load_medspacy() -> None:
    """Import medspaCy (once per process) without :data:`HIDDEN`."""
    if "medspacy" in sys.modules:
        return
    hidden = _Hidden()
    sys.meta_path.insert(0, hidden)
    try:
        import medspacy  # noqa: F401
    finally:
        sys.meta_path.remove(hidden)
