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


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def benchmark_serve(inputs: list[str | Path], profile: str = "uk", rounds: int = 5, config: str | Path | None = None,
                    store: str | None = None) -> dict:
    """``POST /code`` latency of the workbench as ``clincoder serve`` runs it (uvicorn on
    localhost, one process, models loaded once): p50/p95/max over ``rounds`` passes of the
    letters, after one warm-up pass; and the server's start-up time."""
    import tempfile
    import threading

    import httpx
    import uvicorn

    from .coder import Coder
    from .serve import workbench_services
    from .workbench.app import create_app

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(workbench_services(Coder(Settings.load(profile, config)), store or f"{tmp}/review.sqlite"))
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        startup = time.perf_counter() - t0
        port = server.servers[0].sockets[0].getsockname()[1]
        letters = [(lt.id, lt.text) for lt in iter_letters(inputs) if not lt.error]
        latencies = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            for n in range(rounds + 1):
                for letter_id, text in letters:
                    t = time.perf_counter()
                    client.post("/code", json={"id": letter_id, "text": text}).raise_for_status()
                    if n:  # the first pass warms the caches
                        latencies.append(1000 * (time.perf_counter() - t))
        server.should_exit = True
        thread.join(10)
    return {"letters": len(letters), "requests": len(latencies), "startup_s": round(startup, 1),
            "p50_ms": round(_percentile(latencies, 0.5)), "p95_ms": round(_percentile(latencies, 0.95)),
            "max_ms": round(max(latencies)), "peak_rss_mb": round(peak_rss_mb()[0])}
