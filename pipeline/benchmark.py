"""Speed and memory of the whole coding path (``clincoder benchmark``)."""

from __future__ import annotations

import resource
import time
from pathlib import Path

from .core.config import Settings
from .batch import coded_in_order, coded_line
from .io import iter_letters


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory (MiB) of this process and of its largest finished child (Linux: KiB)."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def tree_memory_mb(pid: int) -> tuple[float, float]:
    """Resident memory (MiB) of process ``pid`` and all its descendants: the sum of their RSS
    (shared pages counted once per process) and of their PSS (each shared page split among the
    processes that map it: what the tree really occupies). PSS is 0 where the system lacks it."""
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0, 0.0
    rss = pss = 0
    for p in procs:
        try:
            info = p.memory_full_info()
            rss, pss = rss + info.rss, pss + getattr(info, "pss", 0)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return rss / 2**20, pss / 2**20


class TreeMemoryPeak:
    """Peak :func:`tree_memory_mb` of this process's tree, sampled every ``every`` seconds by a
    background thread while the ``with`` block runs."""

    def __init__(self, every: float = 2.0):  # reading smaps costs; more often slows what it measures
        import threading

        self.every, self.rss, self.pss = every, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import os

        while True:
            rss, pss = tree_memory_mb(os.getpid())
            self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)
            if self._stop.wait(self.every):
                return

    def __enter__(self) -> "TreeMemoryPeak":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def benchmark_coding(inputs: list[str | Path], profile: str = "us", limit: int | None = None,
                     config: str | Path | None = None, workers: int = 1) -> dict:
    """Cold start (tables, models, indexes), then letters/s over ``inputs`` as ``clincoder code``
    codes them: ``workers`` processes, each letter serialised where it was coded and written by
    the parent to a JSONL file (in a temporary folder, removed after)."""
    import functools
    import tempfile

    from .coder import Coder

    t0 = time.perf_counter()
    coder = Coder(Settings.load(profile, config))
    coder.code_text("Warm-up: chest pain.")  # first call pays lazy initialisation
    cold = time.perf_counter() - t0
    letters = [l for l in iter_letters(inputs) if not l.error][:limit]
    words = sum(len(l.text.split()) for l in letters)
    t1 = time.perf_counter()
    with TreeMemoryPeak() as tree, tempfile.TemporaryDirectory() as tmp, \
            open(Path(tmp) / "coded.jsonl", "w", encoding="utf-8") as out:
        errors = 0
        for line in coded_in_order(letters, functools.partial(coded_line, coder.code), workers):
            out.write(line.json + "\n")
            errors += line.error is not None
    elapsed = time.perf_counter() - t1
    parent, child = peak_rss_mb()
    return {"profile": profile, "letters": len(letters), "errors": errors,
            "words_per_letter": round(words / max(1, len(letters))), "cold_start_s": round(cold, 1),
            "seconds": round(elapsed, 1), "letters_per_s": round(len(letters) / elapsed, 2) if elapsed else None,
            "workers": workers, "peak_rss_mb": round(parent), "peak_rss_worker_mb": round(child) if workers > 1 else None,
            "peak_rss_total_mb": round(tree.rss), "peak_pss_total_mb": round(tree.pss)}


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
