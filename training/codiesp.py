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

from clincoder.core.codiesp import read_codiesp_tsv
from clincoder.models.lexical import clean_title
from clincoder.models.supervised import TERM_TOKEN, fold

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
    # (kind D|P, code, es_start, es_end, evidence text): the evidence's first and last Spanish
    # offsets, and its words (a discontinuous span's fragments joined: "retroperitoneal masa")
    spans: list[tuple[str, str, int, int, str]] = field(default_factory=list)
    spanish: str = ""  # the Spanish original the evidence offsets point into

    @property
    def spanish_length(self) -> int:
        return len(self.spanish)

    def sentence_text(self, i: int) -> str:
        a, b = self.sentences[i]
        return self.text[a:b]


def sentence_lines(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            lead = len(line) - len(line.lstrip())
            spans.append((pos + lead, pos + len(line.rstrip())))
        pos += len(line) + 1
    return spans


def load_split(split: str, root: str | Path | None = None) -> list[Document]:
    """Documents of ``train`` or ``dev`` (English text, gold codes, Spanish evidence offsets)."""
    base = codiesp_dir(root) / split
    if not (base / "text_files_en").is_dir():
        raise CorpusNotFound(f"{base}/text_files_en not found")
    gold_d, gold_p = ({} if not p.exists() else read_codiesp_tsv(p) for p in (base / f"{split}D.tsv", base / f"{split}P.tsv"))
    spans: dict[str, list] = defaultdict(list)
    xfile = base / f"{split}X.tsv"
    if xfile.exists():
        for line in xfile.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) < 5:
                continue
            offs = [int(x) for x in re.findall(r"\d+", parts[4])]
            if len(offs) >= 2:
                kind = "D" if parts[1].startswith("DIAG") else "P"
                spans[parts[0]].append((kind, parts[2].strip().lower(), min(offs), max(offs), parts[3].strip()))
    docs = []
    for p in sorted((base / "text_files_en").glob("*.txt")):
        text = p.read_text(encoding="utf-8")
        es = base / "text_files" / p.name
        docs.append(Document(p.stem, text, sentence_lines(text), gold_d.get(p.stem, []), gold_p.get(p.stem, []),
                             spans.get(p.stem, []), es.read_text(encoding="utf-8") if es.exists() else ""))
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
    for kind, code, a, _b, _text in doc.spans:
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


# ---- evidence phrases -----------------------------------------------------------------------
#
# A gold code's Spanish evidence ("paraparesia espástica tropical") is found again in the English
# translation of its sentence ("tropical spastic paraparesis") by comparing spellings: medical
# Spanish and English share most of their Greek and Latin stems, so after folding accents and a
# few spelling correspondences (ph/f, th/t, -ción/-tion, y/i ...) their character trigrams overlap.
# The code's English title breaks ties and carries words that are not cognates ("weakness").

_ES_STOP = frozenset("de del la el los las con por en y a al o u para sin un una su sus se que lo le les "
                     "como mas muy tras sobre entre".split())
_EN_STOP = frozenset("of the a an and or with without by in on at to for from his her their its is was were be "
                     "been as that this which who not no".split())
_SPELLING = (("ph", "f"), ("th", "t"), ("ch", "c"), ("qu", "c"), ("k", "c"), ("y", "i"), ("z", "s"),
             ("cion", "tion"), ("h", ""))


def _trigrams(words) -> frozenset[str]:
    out = set()
    for w in words:
        w = fold(w)
        for a, b in _SPELLING:
            w = w.replace(a, b)
        w = "#" + re.sub(r"(.)\1+", r"\1", w) + "#"
        out.update(w[i:i + 3] for i in range(len(w) - 2))
    return frozenset(out)


def _dice(a: frozenset, b: frozenset) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def evidence_phrases(doc: Document, title_of, min_score: float = 0.45, max_words: int = 8,
                     kind: str | None = None) -> list[tuple[str, str, str]]:
    """``(kind, code, English phrase)`` for each gold code of ``doc`` (of ``kind``, if given) with
    a Spanish evidence span of at most ``max_words`` content words whose English counterpart is
    found (score >= ``min_score``) in the sentence at its relative position or a neighbour."""
    n = len(doc.sentences)
    if not n or not doc.spanish:
        return []
    starts = [a / max(1, len(doc.text)) for a, _ in doc.sentences]
    tokens = [TERM_TOKEN.findall(fold(doc.sentence_text(i))) for i in range(n)]
    out = []
    for span_kind, code, a, _b, evidence in doc.spans:
        if kind is not None and span_kind != kind:
            continue
        es_words = [w for w in re.findall(r"\w+", fold(evidence)) if w not in _ES_STOP]
        if not es_words or len(es_words) > max_words:
            continue
        g_es = _trigrams(es_words)
        g_title = _trigrams(w for w in TERM_TOKEN.findall(fold(clean_title(title_of(span_kind, code)))) if w not in _EN_STOP)
        centre = max(0, sum(1 for s in starts if s <= a / max(1, doc.spanish_length)) - 1)
        longest = min(max_words, 2 * len(es_words) + 1)
        best, phrase = min_score, None
        for i in range(max(0, centre - 1), min(n, centre + 2)):
            t = tokens[i]
            for s in range(len(t)):
                if t[s] in _EN_STOP:
                    continue
                for e in range(s + 1, min(len(t), s + longest) + 1):
                    if t[e - 1] in _EN_STOP:
                        continue
                    words = [w for w in t[s:e] if w not in _EN_STOP]
                    g = _trigrams(words)
                    score = (_dice(g, g_es) + 0.5 * _dice(g, g_title) - 0.02 * abs(len(words) - len(es_words))
                             - 0.01 * abs(i - centre))
                    if score > best:
                        best, phrase = score, " ".join(t[s:e])
        if phrase is not None:
            out.append((span_kind, code, phrase))
    return out
