"""Speed and memory of the text stage (``clincoder benchmark-text``)."""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path
from typing import Iterable


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def benchmark_text(paths: Iterable[str | Path], repeat: int = 1) -> dict:
    """Run the text pipeline over letters: ``letters_per_s`` excludes the one-time pipeline build
    (reported as ``cold_start_s``: config, components, mention lexicon from its disk cache or built)."""
    from clincoder.text.pipeline import build_nlp

    texts = [Path(p).read_text(encoding="utf-8") for p in paths]
    if not texts:
        raise ValueError("no letters to benchmark")
    t0 = time.perf_counter()
    nlp = build_nlp()
    nlp("Warm-up: chest pain.")
    cold = time.perf_counter() - t0
    n_mentions = 0
    t1 = time.perf_counter()
    for _ in range(max(1, repeat)):
        for doc in nlp.pipe(texts):
            n_mentions += len(doc._.mentions)
    elapsed = time.perf_counter() - t1
    n = len(texts) * max(1, repeat)
    return {"n_letters": len(texts), "repeat": max(1, repeat), "letters_per_s": round(n / elapsed, 1),
            "ms_per_letter": round(1000 * elapsed / n, 2),
            "words_per_letter": round(sum(len(t.split()) for t in texts) / len(texts), 1),
            "mentions_per_letter": round(n_mentions / n, 1), "cold_start_s": round(cold, 2),
            "peak_rss_mb": round(_peak_rss_mb(), 1), "pipeline": list(nlp.pipe_names)}
