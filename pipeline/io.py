"""Reading letters in batch, and writing results (JSONL, CSV, CodiEsp TSV).

Inputs are letter files (plain text, RTF, DOCX, HTML, PDF: :mod:`clincoder.documents` turns them
into text), directories of them, or JSONL/CSV files with ``id`` and ``text``. Every input yields
exactly one :class:`Letter`; a letter that cannot be read (empty, binary, undecodable, too large,
a scanned PDF, a damaged document, a malformed record) carries an ``error`` instead of text, so
the batch goes on and the number of output records equals the number of inputs.
"""

from __future__ import annotations

import csv
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .core.schema import LetterResult, read_records  # noqa: F401  (read_records: the journal's reader)
from .documents import LETTER_SUFFIXES, DocumentError, Extracted, extract

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Letter:
    """One input letter: ``text`` is what the coder reads and what evidence offsets index into
    (for a document, its extracted text, never the file's bytes), or ``error`` says why not."""

    id: str
    text: str | None
    source: str
    error: str | None = None


def check_text(raw: bytes, max_bytes: int, encoding: str = "utf-8",
               suffix: str = ".txt") -> tuple[str | None, str | None]:
    """A letter file's bytes as text (``suffix`` picks the format); ``(text, None)`` or ``(None, error)``."""
    doc, err = _extracted(raw, max_bytes, encoding, suffix)
    return (None, err) if doc is None else check_string(doc.text, max_bytes)


def _extracted(raw: bytes, max_bytes: int, encoding: str, suffix: str) -> tuple[Extracted | None, str | None]:
    if len(raw) > max_bytes:
        return None, (f"letter is {len(raw):,} bytes, over the {max_bytes:,}-byte limit; split it or raise "
                      f"max_bytes in the config")
    try:
        return extract(raw, suffix, encoding), None
    except DocumentError as exc:
        return None, str(exc)


def check_string(text, max_bytes: int) -> tuple[str | None, str | None]:
    if not isinstance(text, str):
        return None, "text field is missing or not a string"
    if not text.strip():
        return None, "empty letter: no text to code"
    if len(text.encode("utf-8")) > max_bytes:
        return None, f"letter is over the {max_bytes:,}-byte limit; split it or raise max_bytes in the config"
    return text, None


def _letter_from_file(path: Path, max_bytes: int, encoding: str) -> Letter:
    try:
        size = path.stat().st_size
        if size > max_bytes:  # never read a huge file into memory just to reject it
            return Letter(path.stem, None, str(path), f"letter is {size:,} bytes, over the {max_bytes:,}-byte "
                                                      f"limit; split it or raise max_bytes in the config")
        raw = path.read_bytes()
    except OSError as exc:
        return Letter(path.stem, None, str(path), f"cannot read file: {exc.strerror}")
    doc, err = _extracted(raw, max_bytes, encoding, path.suffix)
    if doc is None:
        return Letter(path.stem, None, str(path), err)
    if doc.fallback:  # the id only: logs never carry letter text
        log.info("letter %s: not valid %s; read as %s", path.stem, encoding, doc.encoding)
    text, err = check_string(doc.text, max_bytes)
    return Letter(path.stem, text, str(path), err)


def _letters_from_jsonl(path: Path, max_bytes: int) -> Iterator[Letter]:
    with path.open(encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Letter(f"{path.stem}:{n}", None, where, f"malformed JSON on line {n}: {exc.msg}")
                continue
            if not isinstance(rec, dict) or "id" not in rec:
                yield Letter(f"{path.stem}:{n}", None, where, f"line {n} has no 'id' field")
                continue
            text, err = check_string(rec.get("text"), max_bytes)
            yield Letter(str(rec["id"]), text, where, err)


def _letters_from_csv(path: Path, max_bytes: int) -> Iterator[Letter]:
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8-sig", newline="", errors="replace") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"id", "text"} <= set(reader.fieldnames):
            yield Letter(path.stem, None, str(path),
                         f"CSV needs 'id' and 'text' columns; found {reader.fieldnames or 'none'}")
            return
        for n, row in enumerate(reader, 2):
            text, err = check_string(row.get("text"), max_bytes)
            yield Letter(str(row["id"]), text, f"{path}:{n}", err)


def iter_letters(inputs: Iterable[str | Path], max_bytes: int = 1_000_000, encoding: str = "utf-8") -> Iterator[Letter]:
    """Every letter in ``inputs``, in a stable order (directories sorted by name).

    Ids must be unique across the batch: a repeated id (two files with one stem, ``a.txt`` and
    ``a.pdf``, included) becomes an error record naming the letter that has the id.
    """
    seen: dict[str, str] = {}
    for letter in _iter_raw(inputs, max_bytes, encoding):
        if letter.id in seen:
            letter = Letter(f"{letter.id}#dup:{letter.source}", None, letter.source,
                            f"duplicate id {letter.id!r} (already read earlier in this batch, from "
                            f"{seen[letter.id]}); give each letter its own id, e.g. rename one of the files")
        seen.setdefault(letter.id, letter.source)
        yield letter


def _iter_raw(inputs, max_bytes, encoding) -> Iterator[Letter]:
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            for p in _letter_files(path):
                yield _letter_from_file(p, max_bytes, encoding)
        elif path.suffix.lower() == ".jsonl":
            yield from _letters_from_jsonl(path, max_bytes)
        elif path.suffix.lower() == ".csv":
            yield from _letters_from_csv(path, max_bytes)
        elif path.exists():
            yield _letter_from_file(path, max_bytes, encoding)
        else:
            yield Letter(path.stem or str(path), None, str(path), f"input {path} does not exist")


def _letter_files(folder: Path) -> list[Path]:
    """The letter files under ``folder`` (any depth, hidden files skipped), sorted by path."""
    return sorted(q for q in folder.rglob("*") if q.is_file() and q.suffix.lower() in LETTER_SUFFIXES
                  and not q.name.startswith("."))


def count_letters(inputs, max_bytes: int = 1_000_000) -> int | None:
    """Cheap count for the progress bar (None where counting would mean reading everything)."""
    n = 0
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            n += len(_letter_files(p))
        elif p.suffix.lower() in (".jsonl", ".csv"):
            try:
                with p.open("rb") as fh:
                    n += sum(1 for line in fh if line.strip()) - (p.suffix.lower() == ".csv")
            except OSError:
                n += 1
        else:
            n += 1
    return n


# ---- writers ---------------------------------------------------------------------------------

CSV_FIELDS = ["id", "system", "code", "title", "rank", "role", "score", "evidence", "rules", "error"]


def write_csv(records: Iterable[LetterResult], path: str | Path) -> Path:
    """One row per suggested code (a letter with no codes or an error still gets one row)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        w.writeheader()
        for rec in records:
            if not rec.codes:
                w.writerow({"id": rec.id, "error": rec.error or ""})
            for c in rec.codes:
                w.writerow({"id": rec.id, "system": c.system, "code": c.code, "title": c.title, "rank": c.rank,
                            "role": c.role, "score": f"{c.score:.4f}",
                            "evidence": " | ".join(f"{e.start}-{e.end}" for e in c.evidence),
                            "rules": ";".join(c.rules), "error": ""})
    return path


