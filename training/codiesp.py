"""The CodiEsp corpus (CLEF eHealth 2020) as clincoder reads it: English letters, gold codes,
and each gold code weakly aligned to the English sentence that most likely carries it.

The evidence offsets in ``*X.tsv`` point into the Spanish originals; the English files are
sentence-per-line translations in the same order, so a span's relative position in the Spanish
text locates the English sentence(s) around it, and lexical overlap with the code's title picks
among neighbours.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ENV_CODIESP = "CLINCODER_CODIESP"


class CorpusNotFound(FileNotFoundError):
    pass


def codiesp_dir(path: str | Path | None = None) -> Path:
    """The CodiEsp folder: ``path``, else ``$CLINCODER_CODIESP``, else ``../shared/data/codiesp``
    beside the repository (the development layout)."""
    if path is not None:
        if not Path(path).expanduser().is_dir():
            raise CorpusNotFound(f"CodiEsp corpus not found at {path}: pass the folder holding train/ and dev/")
        return Path(path).expanduser()
    candidates = [os.environ.get(ENV_CODIESP), Path(__file__).resolve().parents[2] / "shared/data/codiesp"]
    for c in candidates:
        if c and Path(c).expanduser().is_dir():
            return Path(c).expanduser()
    raise CorpusNotFound(f"CodiEsp corpus not found; pass its folder or set {ENV_CODIESP}")


@dataclass
class Document:
    id: str
    text: str  # English letter
    sentences: list[tuple[int, int]]  # character spans of the English lines
    diagnoses: list[str] = field(default_factory=list)  # gold, CodiEsp form, file order
    procedures: list[str] = field(default_factory=list)
    spans: list[tuple[str, str, int, int]] = field(default_factory=list)  # (kind D|P, code, es_start, es_end)
    spanish_length: int = 0

    def sentence_text(self, i: int) -> str:
        a, b = self.sentences[i]
        return self.text[a:b]


def _lines(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            lead = len(line) - len(line.lstrip())
            spans.append((pos + lead, pos + len(line.rstrip())))
        pos += len(line) + 1
    return spans


def _read_gold(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) >= 2:
                out[parts[0]].append(parts[1].strip().lower())
    return out


def load_split(split: str, root: str | Path | None = None) -> list[Document]:
    """Documents of ``train`` or ``dev`` (English text, gold codes, Spanish evidence offsets)."""
    base = codiesp_dir(root) / split
    if not (base / "text_files_en").is_dir():
        raise CorpusNotFound(f"{base}/text_files_en not found")
    gold_d, gold_p = _read_gold(base / f"{split}D.tsv"), _read_gold(base / f"{split}P.tsv")
    spans: dict[str, list] = defaultdict(list)
    xfile = base / f"{split}X.tsv"
    if xfile.exists():
        for line in xfile.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) < 5:
                continue
            offs = re.findall(r"\d+", parts[4])
            if len(offs) >= 2:
                kind = "D" if parts[1].startswith("DIAG") else "P"
                spans[parts[0]].append((kind, parts[2].strip().lower(), int(offs[0]), int(offs[-1])))
    docs = []
    for p in sorted((base / "text_files_en").glob("*.txt")):
        text = p.read_text(encoding="utf-8")
        es = base / "text_files" / p.name
        docs.append(Document(p.stem, text, _lines(text), gold_d.get(p.stem, []), gold_p.get(p.stem, []),
                             spans.get(p.stem, []), len(es.read_text(encoding="utf-8")) if es.exists() else 0))
    return docs


_WORD = re.compile(r"[a-z]{3,}")


def _stems(text: str) -> set[str]:
    return {w[:5] for w in _WORD.findall(text.lower())}


def align(doc: Document, title_of) -> list[tuple[str, str, int]]:
    """``(kind, code, sentence index)`` for each gold code of ``doc``.

    ``title_of(kind, code)`` gives the code's title (or ``""``). Codes with Spanish spans are
    placed by relative position (+-2 sentences, best title overlap); codes without spans go to the
    sentence with the best title overlap.
    """
    n = len(doc.sentences)
    if n == 0:
        return []
    starts = [a / max(1, len(doc.text)) for a, _ in doc.sentences]
    sent_stems = [_stems(doc.sentence_text(i)) for i in range(n)]
    out, placed = [], set()
    for kind, code, a, _b in doc.spans:
        rel = a / max(1, doc.spanish_length)
        centre = max(0, sum(1 for s in starts if s <= rel) - 1)
        title = _stems(title_of(kind, code))
        window = range(max(0, centre - 2), min(n, centre + 3))
        best = max(window, key=lambda i: (len(title & sent_stems[i]), -abs(i - centre)))
        if (kind, code, best) not in placed:
            placed.add((kind, code, best))
            out.append((kind, code, best))
    have = {(k, c) for k, c, _ in out}
    for kind, codes in (("D", doc.diagnoses), ("P", doc.procedures)):
        for code in codes:
            if (kind, code) not in have:
                title = _stems(title_of(kind, code))
                best = max(range(n), key=lambda i: len(title & sent_stems[i]))
                out.append((kind, code, best))
                have.add((kind, code))
    return out
