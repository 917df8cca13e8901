"""Speed and memory of the whole coding path (``clincoder benchmark``)."""

from __future__ import annotations

import resource
import time
from pathlib import Path

from .core.config import Settings
from .batch import coded_in_order
from .io import iter_letters


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory (MiB) of this process and of its largest finished child (Linux: KiB)."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def benchmark_coding(inputs: list[str | Path], profile: str = "us", limit: int | None = None,
                     config: str | Path | None = None, workers: int = 1) -> dict:
    """Cold start (tables, models, indexes), then letters/s over ``inputs`` in one process."""
    from .coder import Coder

    t0 = time.perf_counter()
    coder = Coder(Settings.load(profile, config))
    coder.code_text("Warm-up: chest pain.")  # first call pays lazy initialisation
    cold = time.perf_counter() - t0
    letters = [l for l in iter_letters(inputs) if not l.error][:limit]
    words = sum(len(l.text.split()) for l in letters)
    t1 = time.perf_counter()
    errors = sum(1 for rec in coded_in_order(letters, coder.code, workers) if rec.error)
    elapsed = time.perf_counter() - t1
    parent, child = peak_rss_mb()
    return {"profile": profile, "letters": len(letters), "errors": errors,
            "words_per_letter": round(words / max(1, len(letters))), "cold_start_s": round(cold, 1),
            "seconds": round(elapsed, 1), "letters_per_s": round(len(letters) / elapsed, 2) if elapsed else None,
            "workers": workers, "peak_rss_mb": round(parent), "peak_rss_worker_mb": round(child) if workers > 1 else None}
