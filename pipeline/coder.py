"""The coder: letter text in, one :class:`LetterResult` out.

Stages: the text pipeline (:mod:`clincoder.nlp`) splits the letter; the retriever scores codes
for each sentence; document-level aggregation ranks codes, keeps the evidence of each, and a
threshold decides which are suggested (the rest of the ranked list is kept as candidates).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .codes import System, normalise
from .codesystems import CodeTable, TableNotAvailable, load_table
from .config import Settings
from .io import Letter
from .nlp import build_nlp
from .schema import CodeSuggestion, Evidence, LetterResult
from .rules import apply_rules
from .text import SECTION_WEIGHTS, mentions_of

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
class Prepared:
    """A letter as the ranker reads it (from the text stage): the sentences that may support a
    code, with the words of negated, family and hypothetical mentions blanked out, each with a
    weight from the section and assertion of its mentions, and the context of its evidence."""

    spans: list[tuple[int, int]]  # character spans of the kept sentences
    contexts: list[tuple[str | None, str]]  # (section, assertion) per kept sentence
    queries: list[str]  # each kept sentence (not-coded mentions blanked), then each coded mention
    weights: list[float]  # per query
    owners: list[int]  # per query: the kept sentence it belongs to
    procedural: list[bool]  # per query: it is, or its sentence holds, a procedure mention
    document: str  # the kept text, for document-level models


_HEADING = re.compile(r"^\s*[A-Za-z][\w /&()-]{0,40}:\s*$")


def prepare(doc) -> Prepared:
    """Turn a Doc from :func:`clincoder.nlp.build_nlp` into what the ranker reads."""
    from clincoder.text import mentions_of

    text = doc.text
    mentions = mentions_of(doc)
    sections = list(doc._.section_spans or [])
    spans, queries, weights, contexts, owners, procedural, extra = [], [], [], [], [], [], []
    m_i = 0
    for sent in doc.sents:
        a, b = sent.start_char, sent.end_char
        if not text[a:b].strip():
            continue
        while m_i < len(mentions) and mentions[m_i].end <= a:
            m_i += 1
        inside = [m for m in mentions[m_i:] if m.start >= a and m.end <= b]
        coded = [m for m in inside if m.coded]
        section = next((s.section for s in reversed(sections) if s.start <= a < s.end), None)
        if inside and not coded:
            continue  # everything this sentence mentions is negated, family or hypothetical
        if not inside and _HEADING.match(text[a:b]):
            continue  # a bare heading ("Diagnoses:") says nothing codable itself
        chars = list(text[a:b])
        for m in inside:
            if not m.coded:
                chars[m.start - a: m.end - a] = " " * (m.end - m.start)
        owner = len(spans)
        spans.append((a, b))
        queries.append("".join(chars))
        weights.append(max((m.weight for m in coded), default=SECTION_WEIGHTS.get(section, 1.0)))
        owners.append(owner)
        procedural.append(any(m.label == "PROCEDURE" for m in coded))
        contexts.append((section, coded[0].assertion if coded else "present"))
        extra += [(m.query, m.weight, owner, m.label == "PROCEDURE") for m in coded]
    document = "\n".join(queries)
    for q, w, o, proc in extra:
        queries.append(q)
        weights.append(w)
        owners.append(o)
        procedural.append(proc)
    return Prepared(spans, contexts, queries, weights, owners, procedural, document)


@dataclass(frozen=True)
class CoderConfig:
    max_candidates: int = 200  # ranked codes kept per system (suggested + candidates), for review and MAP
    max_evidence: int = 5
    evidence_ratio: float = 0.5  # a sentence is evidence when its support is at least this share of the code's best
    ranker: str | None = None  # trained ranker folder; default: the one shipped in clincoder.models


class Coder:
    """Codes letters with the profile's tables; build once, call :meth:`code` per letter."""

    def __init__(self, settings: Settings, config: CoderConfig = CoderConfig()):
        from clincoder.models.ranker import ARTIFACTS, CodingModel

        self.settings = settings
        self.config = config
        self.tables = resolve_tables(settings)
        self.nlp = build_nlp()
        self.ranker = CodingModel(Path(config.ranker) if config.ranker else ARTIFACTS / "ranker-us",
                                  self.tables.by_system)
        self.model = {"name": self.ranker.card["name"], "version": __version__, "hash": self.ranker.card["hash"]}

    def code(self, letter: Letter) -> LetterResult:
        base = dict(id=letter.id, profile=self.settings.profile.name, editions=self.tables.editions,
                    model=self.model, warnings=self.tables.warnings)
        if letter.error:
            return LetterResult(error=letter.error, **base)
        try:
            return LetterResult(**base, **self._rank(letter.text))
        except Exception as exc:  # one bad letter must not stop a batch; no letter text in the log
            log.exception("letter %s failed", letter.id)
            return LetterResult(error=f"internal error while coding: {type(exc).__name__}", **base)

    def code_text(self, text: str, id: str = "letter") -> LetterResult:
        return self.code(Letter(id=id, text=text, source="<text>"))

    def _rank(self, text: str) -> dict:
        doc = self.nlp(text)
        p = prepare(doc)
        spans = p.spans
        sentences = [text[a:b] for a, b in spans]
        ranked: list[tuple[float, System, str, str, tuple[Evidence, ...], bool]] = []
        for system, hits in self.ranker.rank(p.document, p.queries, p.weights, p.owners, p.procedural).items():
            table = self.tables.by_system[system]
            threshold = self.ranker.fusions[system].threshold
            top = hits[: self.config.max_candidates]
            entries = [table.resolve(key) for key, _, _ in top]
            titles = [e.title if e else "" for e in entries]
            # document-level codes (no sentence support) get the sentences closest to their title
            need = [j for j, (_, _, support) in enumerate(top) if not support and titles[j]]
            found = self._best_sentences(system, [titles[j] for j in need], sentences) if need and sentences else []
            supports = [support for _, _, support in top]
            for j, sup in zip(need, found):
                supports[j] = sup
            for (key, score, _), title, support in zip(top, titles, supports):
                # the sentences that support the code well: a weak echo (a neighbouring
                # sentence's memory match) is not evidence, and must not make a code "stated"
                floor = self.config.evidence_ratio * max(support.values(), default=0.0)
                best = sorted((i for i in support if support[i] >= floor), key=lambda i: -support[i])
                best = best[: self.config.max_evidence]
                evidence = tuple(Evidence(spans[i][0], spans[i][1], sentences[i], *p.contexts[i],
                                          support=round(min(1.0, support[i]), 3))
                                 for i in sorted(best))
                ranked.append((score, system, normalise(system, key), title, evidence, score >= threshold))
        ranked.sort(key=lambda r: (-r[0], r[1].value, r[2]))
        codes, candidates, primary_seen = [], [], set()
        for rank, (score, system, code, title, evidence, suggested) in enumerate(ranked, 1):
            role = "candidate"
            if suggested:
                role = "secondary" if system.kind in primary_seen else "primary"
                primary_seen.add(system.kind)
            s = CodeSuggestion(system=system.value, code=code, title=title, rank=rank, role=role,
                               score=round(score, 4), evidence=evidence)
            (codes if suggested else candidates).append(s)
        draft = LetterResult(id="", profile=self.settings.profile.name, codes=tuple(codes), candidates=tuple(candidates))
        ruled = apply_rules(draft, self.tables.by_system, mentions_of(doc), text)
        return {"codes": ruled.codes, "candidates": ruled.candidates, "flags": ruled.flags, "queries": ruled.queries}

    def _best_sentences(self, system: System, titles: list[str], sentences: list[str]) -> list[dict[int, float]]:
        """For each title, the two sentences sharing most words with it (evidence for
        document-level codes)."""
        vec = self.ranker.featurizers[system].lexical.vectorizer
        sims = (vec.transform(sentences) @ vec.transform(titles).T).toarray()  # sentences x titles
        return [{int(i): float(col[i]) for i in col.argsort()[::-1][:2] if col[i] > 0} for col in sims.T]
