"""The coder: letter text in, one :class:`LetterResult` out.

Stages: the text pipeline (:mod:`clincoder.nlp`) splits the letter; the retriever scores codes
for each sentence; document-level aggregation ranks codes, keeps the evidence of each, and a
threshold decides which are suggested (the rest of the ranked list is kept as candidates).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from . import __version__
from .codes import System
from .codesystems import CodeTable, TableNotAvailable, load_table
from .config import Settings
from .io import Letter
from .nlp import build_nlp
from .schema import CodeSuggestion, Evidence, LetterResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tables:
    """The code tables a run actually has, and what it had to do without."""

    by_system: dict[System, CodeTable]
    warnings: tuple[str, ...]

    @property
    def editions(self) -> dict[str, str]:
        return {s.value: t.edition for s, t in self.by_system.items()}


def resolve_tables(settings: Settings) -> Tables:
    """Load the profile's tables; a missing user-supplied table becomes a warning, not a failure."""
    found: dict[System, CodeTable] = {}
    warnings: list[str] = []
    for system in (settings.profile.diagnosis, settings.profile.procedure):
        path = settings.table_path(system)
        try:
            if system is System.ICD10 and path is None:
                warnings.append("ICD-10 UK 5th Edition not supplied (set CLINCODER_ICD10_UK); using WHO ICD-10 "
                                "2019, so UK-only codes such as 5th-character extensions are not suggested")
            found[system] = load_table(system, path)
        except TableNotAvailable as exc:
            if system is System.ICD10:
                warnings.append(f"{exc} Falling back to WHO ICD-10 2019.")
                found[system] = load_table(system, None)
            else:
                kind = "procedures" if system.kind == "procedure" else "diagnoses"
                warnings.append(f"{exc} {kind.capitalize()} are not coded in this run.")
    for w in warnings:
        log.warning(w)
    return Tables(found, tuple(warnings))


@dataclass(frozen=True)
class CoderConfig:
    top_k_per_sentence: int = 10
    min_score: float = 0.15  # sentence-level cosine below which a match is ignored
    threshold: float = 0.5  # document score from which a code is suggested rather than a candidate
    max_candidates: int = 50  # ranked codes kept per system (suggested + candidates)


class Coder:
    """Codes letters with the profile's tables; build once, call :meth:`code` per letter."""

    name = "lexical-tfidf"

    def __init__(self, settings: Settings, config: CoderConfig = CoderConfig()):
        from clincoder.models.lexical import lexical_index

        self.settings = settings
        self.config = config
        self.tables = resolve_tables(settings)
        self.nlp = build_nlp()
        self.indexes = {s: lexical_index(t) for s, t in self.tables.by_system.items()}
        self.model = {"name": self.name, "version": __version__,
                      "hash": hashlib.sha256(repr((self.name, config, sorted(self.tables.editions.items())))
                                             .encode()).hexdigest()[:12]}

    def code(self, letter: Letter) -> LetterResult:
        base = dict(id=letter.id, profile=self.settings.profile.name, editions=self.tables.editions,
                    model=self.model, warnings=self.tables.warnings)
        if letter.error:
            return LetterResult(error=letter.error, **base)
        try:
            return LetterResult(codes=(), **base).with_(**self._rank(letter.text))
        except Exception as exc:  # one bad letter must not stop a batch; no letter text in the log
            log.exception("letter %s failed", letter.id)
            return LetterResult(error=f"internal error while coding: {type(exc).__name__}", **base)

    def code_text(self, text: str, id: str = "letter") -> LetterResult:
        return self.code(Letter(id=id, text=text, source="<text>"))

    def _rank(self, text: str) -> dict:
        doc = self.nlp(text)
        spans = [(s.start_char, s.end_char) for s in doc.sents if s.text.strip()]
        sentences = [text[a:b] for a, b in spans]
        cfg = self.config
        ranked: list[tuple[float, System, str, list[Evidence]]] = []
        for system, index in self.indexes.items():
            hits: dict[str, tuple[float, list[Evidence]]] = {}
            for (a, b), matches in zip(spans, index.search(sentences, cfg.top_k_per_sentence, cfg.min_score)):
                for code, score in matches:
                    best, ev = hits.get(code, (0.0, []))
                    ev.append(Evidence(a, b, text[a:b]))
                    hits[code] = (max(best, score), ev)
            for code, (score, ev) in sorted(hits.items(), key=lambda kv: -kv[1][0])[: cfg.max_candidates]:
                # several supporting sentences raise confidence a little, never past 1
                conf = min(1.0, score + 0.05 * (len(ev) - 1))
                ranked.append((conf, system, code, ev))
        ranked.sort(key=lambda r: (-r[0], r[1].value, r[2]))
        codes, candidates, primary_seen = [], [], set()
        for rank, (score, system, code, ev) in enumerate(ranked, 1):
            suggested = score >= cfg.threshold
            role = "candidate"
            if suggested:
                role = "secondary" if system.kind in primary_seen else "primary"
                primary_seen.add(system.kind)
            s = CodeSuggestion(system=system.value, code=code, title=self.tables.by_system[system].title(code) or "",
                               rank=rank, role=role, score=round(score, 4), evidence=tuple(ev[:5]))
            (codes if suggested else candidates).append(s)
        return {"codes": tuple(codes), "candidates": tuple(candidates)}
