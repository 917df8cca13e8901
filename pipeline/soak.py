"""Soak test of ``clincoder code`` as a user runs it: N letters (real letters cycled to N, plus a
share of hostile inputs), the batch killed with SIGKILL part-way, then resumed with ``--resume``;
the output must hold exactly one record per input, none lost and none duplicated. Peak memory of
the whole process tree is reported every 1,000 letters.

    clincoder soak --data ../shared/data/codiesp/background/text_files_en --n 10000 --work out/soak
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .benchmark import tree_memory_mb

# hostile inputs: name -> (file suffix, how to make its bytes from a real letter)
HOSTILE = {
    "empty": (".txt", lambda text, rnd: b""),
    "binary": (".txt", lambda text, rnd: bytes(rnd.getrandbits(8) for _ in range(4096))),
    "huge": (".txt", lambda text, rnd: (text + "\n").encode() * (5_000_000 // max(1, len(text)) + 1)),
    "undecodable": (".txt", lambda text, rnd: text.encode("utf-8")[:200] + b"\x81\x8d\x8f\x90\x9d" * 40),
    "nul_bytes": (".txt", lambda text, rnd: text.encode("utf-8").replace(b" ", b" \x00", 20)),
    "html": (".html", lambda text, rnd: ("<html><body><h1>Discharge letter</h1><p>" + text.replace("\n", "</p><p>")
                                          + "</p></body></html>").encode("utf-8")),
    "rtf": (".rtf", lambda text, rnd: ("{\\rtf1\\ansi{\\fonttbl\\f0 Arial;}\\f0 " + text.replace("\n", "\\par ")
                                       + "}").encode("cp1252", "replace")),
    "damaged_pdf": (".pdf", lambda text, rnd: b"%PDF-1.7\n" + text.encode("utf-8")[:300]),
}


def make_inputs(data: Path, n: int, folder: Path, hostile_share: float = 0.05, seed: int = 0) -> dict[str, str]:
    """Write ``n`` letter files into ``folder``: real letters from ``data`` (cycled, each copy
    its own id) and about ``hostile_share`` hostile ones; returns id -> kind."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(data.glob("*.txt"))]
    if not texts:
        raise FileNotFoundError(f"no .txt letters in {data}")
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    kinds = {}
    hostile_every = max(1, round(1 / hostile_share)) if hostile_share else 0
    for i in range(n):
        text = texts[i % len(texts)]
        kind = list(HOSTILE)[(i // hostile_every) % len(HOSTILE)] if hostile_every and i % hostile_every == 0 else "letter"
        suffix, make = HOSTILE.get(kind, (".txt", lambda t, r: t.encode("utf-8")))
        letter_id = f"soak{i:06d}_{kind}"
        (folder / f"{letter_id}{suffix}").write_bytes(make(text, rnd))
        kinds[letter_id] = kind
    return kinds


class LineCounter:
    """Complete lines of a growing file, read incrementally (records can be 100 kB each)."""

    def __init__(self, path: Path):
        self.path, self.offset, self.lines = path, 0, 0

    def __call__(self) -> int:
        if not self.path.exists():
            return 0
        with self.path.open("rb") as fh:
            if fh.seek(0, 2) < self.offset:  # truncated (a torn line cut off on resume): count again
                self.offset, self.lines = 0, 0
            fh.seek(self.offset)
            while chunk := fh.read(1 << 20):
                self.lines += chunk.count(b"\n")
                self.offset += len(chunk)
        return self.lines


@dataclass
class Phase:
    name: str
    records_at_end: int = 0
    seconds: float = 0.0
    exit: int | None = None
    peak_rss_mb_per_1000: dict[int, float] = field(default_factory=dict)


def run_phase(cmd: list[str], out: Path, name: str, kill_at: int | None = None, every: int = 1000) -> Phase:
    """Run one ``clincoder code`` process (in its own process group), sampling the records
    written and the tree's RSS; SIGKILL the group once ``kill_at`` records are out."""
    phase, t0, lines = Phase(name), time.monotonic(), LineCounter(out)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    peak = 0.0
    while proc.poll() is None:
        time.sleep(0.5)
        done = lines()
        peak = max(peak, tree_memory_mb(proc.pid)[0])
        bucket = (done // every) * every
        if bucket and bucket not in phase.peak_rss_mb_per_1000:
            phase.peak_rss_mb_per_1000[bucket] = round(peak)
            print(f"{name}: {done:,} records, peak RSS {peak:,.0f} MB", file=sys.stderr, flush=True)
        if kill_at is not None and done >= kill_at:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            break
    phase.exit, phase.seconds, phase.records_at_end = proc.returncode, round(time.monotonic() - t0, 1), lines()
    phase.peak_rss_mb_per_1000.setdefault(phase.records_at_end, round(peak))
    return phase


def check_output(out: Path, kinds: dict[str, str]) -> dict:
    """Exactly one record per input: counts, duplicates, missing ids, errors by input kind."""
    ids, errors = [], {}
    with out.open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            ids.append(rec["id"])
            if rec.get("error"):
                kind = kinds.get(rec["id"], "?")
                errors[kind] = errors.get(kind, 0) + 1
    return {"inputs": len(kinds), "records": len(ids), "unique": len(set(ids)),
            "duplicates": len(ids) - len(set(ids)), "missing": len(set(kinds) - set(ids)),
            "unexpected": len(set(ids) - set(kinds)), "errors_by_kind": dict(sorted(errors.items())),
            "hostile_inputs": sum(1 for k in kinds.values() if k != "letter")}


def soak(data: Path, n: int, work: Path, profile: str = "us", kill_share: float = 0.5,
         clincoder: str | None = None) -> dict:
    """The whole soak: inputs, a run killed at ``kill_share`` of ``n``, a resumed run, the check."""
    kinds = make_inputs(data, n, work / "letters")
    out = work / "coded.jsonl"
    out.unlink(missing_ok=True)
    exe = clincoder or str(Path(sys.executable).with_name("clincoder"))
    base = [exe, "code", str(work / "letters"), "--profile", profile, "--out", str(out), "--no-progress"]
    killed = run_phase(base, out, "first run", kill_at=int(n * kill_share)) if kill_share else None
    resumed = run_phase(base + (["--resume"] if killed else []), out, "resumed" if killed else "run")
    phases = [p for p in (killed, resumed) if p]
    return {"profile": profile, "letters": n, "check": check_output(out, kinds),
            "phases": [p.__dict__ for p in phases],
            "letters_per_s_resumed": round((resumed.records_at_end - (killed.records_at_end if killed else 0))
                                           / max(resumed.seconds, 1e-9), 2)}
