"""Batch coding with progress, per-letter errors and resume.

Every run appends one JSON line per input letter to a journal (the output itself for
``--format jsonl``), flushed as it goes. ``resume=True`` keeps the complete records already in
the journal, drops a half-written last line, and codes only the letters not yet there; CSV and
CodiEsp outputs are rendered from the journal at the end.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from tqdm import tqdm

from .core.codiesp import write_codiesp
from .io import count_letters, iter_letters, read_records, write_csv
from .core.schema import LetterResult

log = logging.getLogger(__name__)
FORMATS = ("jsonl", "csv", "codiesp")
WINDOW_PER_WORKER = 16  # letters in flight per worker process


@dataclass(frozen=True)
class BatchSummary:
    records: int
    coded: int
    errors: int
    skipped_resumed: int
    outputs: tuple[str, ...]


def journal_path(out: str | Path, fmt: str) -> Path:
    if fmt == "jsonl":
        return Path(out)
    if fmt == "codiesp":  # --out is a prefix: dev_ -> dev_D.tsv, dev_P.tsv, dev_records.jsonl
        return Path(f"{out}records.jsonl")
    return Path(f"{out}.records.jsonl")


def _recover(journal: Path) -> set[str]:
    """Ids of the complete records in a journal; a torn last line is cut off."""
    done: set[str] = set()
    good_bytes = 0
    with journal.open("rb") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
                if not line.endswith(b"\n"):
                    raise ValueError("torn line")
            except ValueError:
                break
            done.add(rec["id"])
            good_bytes += len(line)
    with journal.open("r+b") as fh:
        fh.truncate(good_bytes)
    return done


_WORKER_CODE: Callable | None = None  # the coder a forked worker inherits from its parent


def _code_in_worker(letter):
    return _WORKER_CODE(letter)


def _init_worker() -> None:
    """One core per worker: torch and the BLAS behind numpy each run one thread (two workers with
    two BLAS threads each on two cores spend their time waiting for one another)."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(1)


class _Here:
    """A letter the parent process codes itself, when its turn comes or while it waits."""

    def __init__(self, letter):
        self.letter, self.result, self.done = letter, None, False

    def run(self, code: Callable) -> None:
        self.result, self.done = code(self.letter), True


def _next_result(pending: collections.deque, code: Callable):
    """The first pending letter's result. While a worker is still coding it, the parent codes
    the next of its own letters instead of waiting."""
    first = pending[0]
    if isinstance(first, _Here):
        if not first.done:
            first.run(code)
    else:
        while not first.ready():
            mine = next((s for s in pending if isinstance(s, _Here) and not s.done), None)
            if mine is None:
                break
            mine.run(code)
    pending.popleft()
    return first.result if isinstance(first, _Here) else first.get()


@contextlib.contextmanager
def _one_thread():
    """The parent codes as one of the workers: one torch and one BLAS thread while it does."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(before)


# young objects allocated between two collections of the youngest generation while a batch runs
# (Python's default is 700): coding a letter allocates hundreds of thousands of short-lived objects
GC_YOUNG_THRESHOLD = 5000


@contextlib.contextmanager
def _models_out_of_the_collector():
    """While a batch runs, the objects that already exist (the coder's tables, lexicons and models:
    about half a million) are frozen out of the garbage collector's reach, so its collections
    neither scan them nor write to their pages (which forked workers share copy-on-write), and the
    young generation is collected every :data:`GC_YOUNG_THRESHOLD` allocations. Collection time
    falls from about 4 to 1 ms a letter (CodiEsp dev, one process); the output is the same."""
    import gc

    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def coded_in_order(letters, code: Callable, workers: int):
    """``code(letter)`` for each letter, in order. With ``workers > 1`` the parent forks
    ``workers - 1`` processes, each inheriting the already-built coder (tables and models shared
    copy-on-write), and codes every ``workers``-th letter itself: one process per core, none
    idle and none holding a second copy of the models only to wait."""
    with _models_out_of_the_collector():
        yield from _coded_in_order(iter(letters), code, workers)


def _coded_in_order(letters, code: Callable, workers: int):
    if workers <= 1:
        yield from (code(letter) for letter in letters)
        return
    import multiprocessing as mp

    global _WORKER_CODE
    _WORKER_CODE = code
    try:
        with mp.get_context("fork").Pool(workers - 1, initializer=_init_worker) as pool, _one_thread():
            # a bounded number of letters in flight, topped up as each result comes back in order:
            # the workers never wait for a window to drain, and memory stays flat however long
            # the batch (the pool's own feeder would read every input ahead)
            pending: collections.deque = collections.deque()
            for n, letter in enumerate(letters):
                pending.append(_Here(letter) if n % workers == 0 else pool.apply_async(_code_in_worker, (letter,)))
                if len(pending) >= WINDOW_PER_WORKER * workers:
                    yield _next_result(pending, code)
            while pending:
                yield _next_result(pending, code)
    finally:
        _WORKER_CODE = None


@dataclass(frozen=True)
class CodedLine:
    """A coded letter as the journal stores it: serialised where it was coded (in a worker, so
    the parent only writes lines), with what the summary and the log need."""

    id: str
    error: str | None
    json: str


def coded_line(code: Callable, letter) -> CodedLine:
    """``code(letter)`` serialised where it runs: a worker sends the parent a string, not records
    to unpickle (unpickling a letter's frozen records costs the parent about 11 ms)."""
    rec = code(letter)
    return CodedLine(rec.id, rec.error, rec.to_json())


def run_batch(inputs: Iterable[str | Path], out: str | Path, code: Callable, *, fmt: str = "jsonl",
              resume: bool = False, max_bytes: int = 1_000_000, encoding: str = "utf-8",
              progress: bool = True, workers: int = 1) -> BatchSummary:
    """Code every letter in ``inputs`` with ``code(letter) -> LetterResult`` into ``out``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {FORMATS}")
    inputs = list(inputs)
    journal = journal_path(out, fmt)
    journal.parent.mkdir(parents=True, exist_ok=True)
    done = _recover(journal) if resume and journal.exists() else set()
    if not resume and journal.exists():
        log.info("overwriting %s (use --resume to continue it instead)", journal)
    coded = errors = 0
    skipped = []
    with journal.open("a" if resume else "w", encoding="utf-8") as fh, \
            tqdm(total=count_letters(inputs), unit="letter", disable=not progress, desc="coding") as bar:

        def todo():
            for letter in iter_letters(inputs, max_bytes=max_bytes, encoding=encoding):
                if letter.id in done:
                    skipped.append(letter.id)
                    bar.update(1)
                else:
                    yield letter

        for rec in coded_in_order(todo(), functools.partial(coded_line, code), workers):
            bar.update(1)
            fh.write(rec.json + "\n")
            fh.flush()
            if rec.error:
                errors += 1
                log.warning("letter %s: %s", rec.id, rec.error)
            else:
                coded += 1
    outputs = [str(journal)]
    if fmt == "codiesp":
        outputs = [str(p) for p in write_codiesp(read_records(journal), out)] + outputs
    elif fmt == "csv":
        outputs = [str(write_csv(read_records(journal), out))] + outputs
    return BatchSummary(coded + errors + len(skipped), coded, errors, len(skipped), tuple(outputs))
