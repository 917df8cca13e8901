"""The coder: letter text in, one :class:`LetterResult` out. It composes the stages and builds
none of their insides:

text stage (:mod:`clincoder.text`: Doc -> :class:`PreparedLetter`) -> ranker
(:mod:`clincoder.models`: :class:`RankedCode` s per code system) -> evidence and threshold (here)
-> rules stage (:mod:`clincoder.rules`: sequencing, conventions, flags and queries).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from . import __version__
from .core.codes import System, normalise
from .core.config import DEFAULT_RANKER, Settings, constants_hash
from .core.contracts import PreparedLetter, RankedCode
from .core.schema import CodeSuggestion, Evidence, LetterResult, likelihood
from .core.tables import resolve_tables
from .io import Letter
from .rules import apply_rules, default_rules
from .text.pipeline import build_nlp, config_hash
from .text.prepare import as_written, prepare, unwrapped

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Scored:
    score: float
    system: System
    code: str
    title: str
    evidence: tuple[Evidence, ...]
    suggested: bool
    primary: bool = False  # chosen as the primary diagnosis (main procedure) by the profile's primary model
    suggest: float | None = None  # the profile's suggester: the probability that a coder assigns it
    precedence: float | None = None  # the profile's primary model: the probability that it is the primary


class Coder:
    """Codes letters with the profile's tables; build once, call :meth:`code` per letter."""

    def __init__(self, settings: Settings):
        from clincoder.models.ranker import ARTIFACTS, CodingModel

        self.settings = settings
        self.config = settings.coder
        self.tables = resolve_tables(settings)
        self.nlp = build_nlp()
        self.rules = default_rules()
        directory = Path(self.config.ranker) if self.config.ranker else ARTIFACTS / DEFAULT_RANKER
        self.ranker = CodingModel(directory, self.tables.by_system, settings.ranker, settings.encoder_backend())
        self.suggesters = self._suggesters()
        self._check_constants()
        self.model = {"name": self.ranker.card["name"], "version": __version__, "hash": self.ranker.card["hash"],
                      "rules": self.rules.version, "text_pipeline": config_hash(), "encoder": settings.encoder_backend(),
                      "constants": constants_hash(settings.scoring_constants())}
        if self.config.suggester:  # refitted suggesters (e.g. on this hospital's decisions)
            self.model["suggester"] = Path(self.config.suggester).name

    def _suggesters(self) -> dict:
        """The profile's suggestion models (what a coder is offered), by classification."""
        from clincoder.models.prior import hes_prior
        from clincoder.models.ranker import ARTIFACTS
        from clincoder.models.suggest import SuggestionModel, load_suggesters

        name = self.settings.profile.suggester
        folder = Path(self.config.suggester) if self.config.suggester else ARTIFACTS / str(name)
        found = load_suggesters(folder, self.tables.by_system) if name or self.config.suggester else {}
        prior = hes_prior() if found else None
        return {s: SuggestionModel(s, sug, prim, prior, self.ranker.linker(s, prior)) for s, (sug, prim) in found.items()}

    def _check_constants(self) -> None:
        trained = self.ranker.card.get("constants")
        running = self.settings.scoring_constants()
        if trained is not None and {k: trained.get(k) for k in ("ranker", "text")} != \
                {k: running[k] for k in ("ranker", "text")}:
            log.warning("the ranker %s was trained with other ranker/text constants than this configuration sets; "
                        "its scores and threshold may not hold (see `clincoder model`)", self.ranker.card["name"])

    def code(self, letter: Letter) -> LetterResult:
        base = dict(id=letter.id, profile=self.settings.profile.name, editions=self.tables.editions,
                    model=self.model, warnings=self.tables.warnings)
        if letter.error:
            return LetterResult(error=letter.error, **base)
        try:
            return LetterResult(**base, **self._code(letter.text))
        except Exception as exc:  # one bad letter must not stop a batch; no letter text in the log
            log.exception("letter %s failed", letter.id)
            return LetterResult(error=f"internal error while coding: {type(exc).__name__}", **base)

    def code_text(self, text: str, id: str = "letter") -> LetterResult:
        return self.code(Letter(id=id, text=text, source="<text>"))

    def _code(self, written: str) -> dict:
        letter = prepare(self.nlp(written), self.settings.text)
        text = unwrapped(written, letter.sentences)  # the evidence and the rules read a wrapped line as one
        scored: list[_Scored] = []
        for system, ranked in self.ranker.rank(letter).items():
            scored += self._scored(system, ranked, letter, text)
        # suggested codes in the order a coder would list them (the primary, then those likeliest to be
        # it, so that one takes its place if a rule takes it out, then by the suggester's probability);
        # the rest of the ranked list by the ranker's score
        scored.sort(key=lambda r: (not r.suggested, not r.primary, -(r.precedence or 0.0),
                                   -likelihood(r.suggest, r.score), -r.score, r.system.value, r.code))
        codes, candidates, primary_seen = [], [], set()
        for rank, r in enumerate(scored, 1):
            role = "candidate"
            if r.suggested:
                role = "secondary" if r.system.kind in primary_seen else "primary"
                primary_seen.add(r.system.kind)
            s = CodeSuggestion(system=r.system.value, code=r.code, title=r.title, rank=rank, role=role,
                               score=round(r.score, 4), evidence=r.evidence,
                               suggest=None if r.suggest is None else round(r.suggest, 4))
            (codes if r.suggested else candidates).append(s)
        candidates.sort(key=lambda s: -s.score)
        draft = LetterResult(id="", profile=self.settings.profile.name, codes=tuple(codes), candidates=tuple(candidates))
        ruled = apply_rules(draft, self.tables.by_system, letter.mentions, text, rules=self.rules,
                            sentences=letter.sentences, age_days=letter.age_days)
        # the output quotes the letter as written (``Evidence.text == letter[start:end]``)
        return {key: tuple(replace(x, evidence=as_written(x.evidence, written)) for x in getattr(ruled, key))
                for key in ("codes", "candidates", "flags", "queries")}

    def _offer(self, system: System, ranked: list[RankedCode], letter: PreparedLetter):
        """The profile's suggestion model's :class:`~clincoder.models.suggest.Offer` where it has
        one, else the ranker's first codes at its threshold (without probabilities)."""
        from clincoder.models.suggest import Offer

        if system in self.suggesters:
            floor = self.config.main_procedure_floor if system.kind == "procedure" else 0.0
            return self.suggesters[system].offer(self.tables.by_system[system], ranked, letter, self.config.max_candidates,
                                                 self.config.definitive_share, floor)
        top = ranked[: self.config.max_candidates]
        threshold = self.ranker.threshold(system)
        return Offer(top, None, np.array([r.score >= threshold and not r.uncoded for r in top], dtype=bool), None)

    def _scored(self, system: System, ranked: list[RankedCode], letter: PreparedLetter, text: str) -> list[_Scored]:
        """The ranked codes of one system with their titles, evidence passages and decisions."""
        table = self.tables.by_system[system]
        offer = self._offer(system, ranked, letter)
        top = offer.codes
        sentences = [text[s.start:s.end] for s in letter.sentences]
        titles = [e.title if e else "" for e in (table.resolve(r.key) for r in top)]
        supports = [r.support for r in top]
        # document-level codes (no sentence support) get the sentences closest to their title
        need = [j for j, r in enumerate(top) if not r.support and titles[j]]
        if need and sentences:
            for j, found in zip(need, self.ranker.sentence_support(system, [titles[j] for j in need], sentences)):
                supports[j] = found

        def at(values, j: int) -> float | None:  # a probability of the offer, where it has them
            return None if values is None else float(values[j])

        return [_Scored(r.score, system, normalise(system, r.key), title,
                        self._evidence(support, letter, sentences, system.kind == "procedure", r),
                        bool(offer.suggested[j]),
                        j == offer.primary, at(offer.probability, j), at(offer.precedence, j))
                for j, (r, title, support) in enumerate(zip(top, titles, supports))]

    def _evidence(self, support, letter: PreparedLetter, sentences: list[str], procedural: bool,
                  ranked: RankedCode) -> tuple[Evidence, ...]:
        """The sentences that support a code well: a weak echo (a neighbouring sentence's memory
        match) is not evidence, and must not make a code "stated". For a code the letter names only
        to negate it (or as family history, a hypothesis), the assertion is that of its mention; for
        another, that of the mention naming it where the sentence's conditions differ in assertion,
        else that of the sentence's first mention of the code's kind (procedure or diagnosis)."""
        floor = self.config.evidence_ratio * max(support.values(), default=0.0)
        best = sorted((i for i in support if support[i] >= floor), key=lambda i: -support[i])
        best = best[: self.config.max_evidence]
        out = []
        for i in sorted(best):
            s = letter.sentences[i]
            assertion = s.uncoded[0].assertion if ranked.uncoded and s.uncoded else ranked.assertion_in(s, i, procedural)
            out.append(Evidence(s.start, s.end, sentences[i], s.section, assertion, support=round(min(1.0, support[i]), 3)))
        return tuple(out)
