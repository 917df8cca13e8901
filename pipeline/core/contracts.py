"""What crosses the boundaries between stages, as frozen records with character offsets.

* the text stage (:mod:`clincoder.text`) finds :class:`Mention` s and hands the ranker a
  :class:`PreparedLetter`: its kept sentences as :class:`SentenceRecord` s, each with the coded
  mentions inside it;
* the ranker (:mod:`clincoder.models`) reads the letter's :attr:`PreparedLetter.queries` and
  returns :class:`RankedCode` s per code system, best first;
* the coder turns those into the output model (:mod:`clincoder.core.schema`), and the rules
  stage reads the mentions.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Mapping

from .config import NARRATIVE_SECTIONS, PROCEDURE_SECTIONS, STATED_SECTIONS
from .schema import ASSERTIONS, NOT_CODED, Evidence
from .words import IMAGING_TEST

# Mentions with these assertions are not coded as conditions of this episode.
_ASIDE = re.compile(r"\s*\([^()]*\)")  # "intertrochanteric (extracapsular) fracture": a short aside


@dataclass(frozen=True)
class Mention:
    """A clinical mention: ``text == letter[start:end]`` (character offsets into the letter).

    ``label``: DIAGNOSIS | PROCEDURE | FINDING; ``section``: canonical section name or None;
    ``assertion``: present | negated | historical | hypothetical | family | uncertain;
    ``laterality``: left | right | bilateral | None; ``body_site``: as stated, lower case;
    ``modifiers``: code-changing words (``acute``, ``chronic``, ``acute on chronic``, ``type 1``,
    ``type 2``, ``stage 3a``, ``open``, ``closed``); ``expansion``: the long form of an
    abbreviation; ``canonical``: the lexicon phrase (or expansion) the mention matched.
    """

    start: int
    end: int
    text: str
    label: str
    section: str | None = None
    assertion: str = "present"
    laterality: str | None = None
    body_site: str | None = None
    modifiers: tuple[str, ...] = ()
    expansion: str | None = None
    canonical: str = ""

    def __post_init__(self):
        if self.assertion not in ASSERTIONS:
            raise ValueError(f"unknown assertion {self.assertion!r}")

    @property
    def query(self) -> str:
        """Text to look codes up with: the expansion of an abbreviation, else the mention read
        without the aside it was read across ("intertrochanteric (extracapsular) fracture"), plus
        the code-changing words, side and site that the span itself lacks."""
        return self.lookup(sides=True)

    def lookup(self, sides: bool, site: bool = True) -> str:
        """:attr:`query`, with the side (left, right) only where ``sides``: a classification
        without sides in its titles (WHO/UK ICD-10; OPCS-4, whose side is a supplementary code)
        reads "left intertrochanteric fracture" as "intertrochanteric fracture". "Bilateral" stays:
        it changes codes there too (K40.2 bilateral inguinal hernia, Q22 bilateral excision of
        adnexa). Without ``site``, the body site is left to words the caller adds ("splenic")."""
        base = self.expansion or _ASIDE.sub("", self.text)
        low = base.lower()
        extra = [m for m in self.modifiers if m not in low]
        for w in (self.laterality if sides or self.laterality == "bilateral" else None, self.body_site if site else None):
            if w and w not in low:
                extra.append(w)
        return " ".join([*extra, base]) if extra else base

    @property
    def coded(self) -> bool:
        """Whether the mention may support a code for this episode."""
        return self.assertion not in NOT_CODED and self.section != "family_history"

    @property
    def procedural(self) -> bool:
        return self.label == "PROCEDURE"

    def evidence(self) -> Evidence:
        return Evidence(self.start, self.end, self.text, self.section, self.assertion)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["modifiers"] = list(self.modifiers)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Mention":
        return cls(**{**d, "modifiers": tuple(d.get("modifiers", ()))})


@dataclass(frozen=True)
class WeightedMention:
    """A coded mention with what it counts towards a code (its section and assertion weight)."""

    mention: Mention
    weight: float


@dataclass(frozen=True)
class SentenceRecord:
    """A kept sentence: ``letter[start:end]``, its section, the assertion of its first coded
    mention, its weight, the text the ranker reads (the sentence with the words of negated,
    family and hypothetical mentions blanked), whether it holds a procedure mention, and its
    coded mentions."""

    start: int
    end: int
    section: str | None
    assertion: str
    weight: float
    query: str
    procedural: bool
    mentions: tuple[WeightedMention, ...] = ()
    # mentions that are not of this episode (negated, family, hypothetical): ranked, never suggested
    uncoded: tuple[Mention, ...] = ()
    coded: bool = True  # False: every mention of the sentence is uncoded (kept only as their evidence)
    # where in the letter the sentence announces the episode's diagnosis in prose ("Our diagnosis
    # is ..."); None where it announces none. What it names before that ("A viral illness is a
    # common trigger, but we have classed this as acute pericarditis") is not announced
    announced_from: int | None = None

    @property
    def announces(self) -> bool:
        """A prose statement of the episode's diagnosis."""
        return self.announced_from is not None

    def assertion_of(self, procedural: bool) -> str:
        """The assertion the sentence gives a code of procedures (``procedural``) or of diagnoses:
        for a procedure, present where one of its procedure mentions is, else that of the first;
        for a diagnosis, that of its first coded mention that is not an imaging test. "Transferred
        after a CT head at the district hospital showed a chronic subdural haematoma": the CT is
        history, the haematoma is this episode's."""
        if procedural:  # "the scar of an open right hernia repair done in 2016" tells only history
            told = [w.mention.assertion for w in self.mentions if w.mention.procedural]
            return "present" if "present" in told else next(iter(told), self.assertion)
        told = (w.mention for w in self.mentions
                if not (w.mention.procedural and IMAGING_TEST.search(w.mention.expansion or w.mention.text)))
        return next((m.assertion for m in told), self.assertion)


@dataclass(frozen=True)
class RankerQuery:
    """One text the sentence-level generators look codes up with: a kept sentence, or a coded
    mention inside it. ``owner`` is the index of the sentence it belongs to (its evidence)."""

    text: str
    weight: float
    owner: int
    procedural: bool
    kind: str = "sentence"  # sentence | mention
    coded: bool = True  # False: an uncoded (negated, family, hypothetical) mention


@dataclass(frozen=True)
class PreparedLetter:
    """A letter as the ranker reads it: its kept sentences and every mention the text stage found
    (the rules stage reads the mentions, assertions included)."""

    sentences: tuple[SentenceRecord, ...]
    mentions: tuple[Mention, ...] = ()
    # the patient's age in this episode in days, from the date of birth to the admission date the
    # letter gives, else to its last full date (None without a date of birth in full)
    age_days: int | None = None

    @cached_property
    def document(self) -> str:
        """The kept text of this episode, for document-level models."""
        return "\n".join(s.query for s in self.sentences if s.coded)

    @cached_property
    def queries(self) -> tuple[RankerQuery, ...]:
        """Each sentence of this episode, then each coded mention, then each uncoded mention (in
        letter order); a query's owner is the index of its sentence in :attr:`sentences`."""
        own = [RankerQuery(s.query, s.weight, i, s.procedural) for i, s in enumerate(self.sentences) if s.coded]
        inner = [RankerQuery(m.mention.query, m.weight, i, m.mention.procedural, "mention")
                 for i, s in enumerate(self.sentences) for m in s.mentions]
        uncoded = [RankerQuery(m.query, 0.0, i, m.procedural, "mention", False)
                   for i, s in enumerate(self.sentences) for m in s.uncoded]
        return tuple(own + inner + uncoded)

    def stated(self, procedure: bool) -> frozenset[int]:
        """The sentences that state this episode's diagnoses (``procedure=False``) or procedures:
        the coded sentences under a heading of that kind, and those under the other kind's
        heading that name one ("NSTEMI treated with PCI" in a diagnosis list states a procedure;
        "Right carpal tunnel syndrome" does not). A letter that states none of that kind under a
        heading of that kind is read as a coder reads a prose letter: its narrative sentences that
        mention one state them too (and, for procedures, the results listed: a lumbar puncture or a
        bone marrow biopsy is written among the investigations)."""
        return self._stated[procedure]

    def stated_order(self, procedure: bool) -> tuple[int, ...]:
        """:meth:`stated` in the order a coder reads them: the list under the heading of that kind
        first ("Operation: ..." before a test named in the diagnosis line), then the rest, each in
        the letter's order."""
        return self._stated_order[procedure]

    @cached_property
    def _stated_order(self) -> dict[bool, tuple[int, ...]]:
        def own_heading_first(procedure: bool, i: int) -> tuple[bool, int]:
            return (self.sentences[i].section in PROCEDURE_SECTIONS) != procedure, i

        return {p: tuple(sorted(self._stated[p], key=lambda i: own_heading_first(p, i))) for p in (False, True)}

    @cached_property
    def _stated(self) -> dict[bool, frozenset[int]]:
        out = {}
        for procedure in (False, True):
            def names(s: SentenceRecord) -> bool:
                return any(m.mention.procedural == procedure for m in s.mentions)

            def own(s: SentenceRecord) -> bool:
                return (s.section in PROCEDURE_SECTIONS) == procedure

            headed = {i for i, s in enumerate(self.sentences)
                      if s.section in STATED_SECTIONS and s.coded and (own(s) or names(s))}
            # a heading of this kind that lists one: the letter states them there; an operation
            # note that names the miscarriage it treated leaves the diagnoses to the narrative
            listed = any(names(self.sentences[i]) and own(self.sentences[i]) for i in headed)
            # a procedure done as a test ("Lumbar puncture: opening pressure 22 cm") is listed with the results
            narrative = NARRATIVE_SECTIONS | ({"investigations"} if procedure else set())
            told = headed if listed else headed | {
                i for i, s in enumerate(self.sentences) if s.section in narrative and s.coded and names(s)}
            out[procedure] = frozenset(told)
        return out

    @classmethod
    def from_sentences(cls, sentences: list[str]) -> "PreparedLetter":
        """Plain sentences without the text stage (each its own evidence, weight 1). Not knowing
        which describe procedures, every sentence may."""
        records, offset = [], 0
        for s in sentences:
            records.append(SentenceRecord(offset, offset + len(s), None, "present", 1.0, s, True))
            offset += len(s) + 1
        return cls(tuple(records))


# A sentence supports a code strongly where its support is at least this share of the code's best.
STRONG_SHARE = 0.5


@dataclass(frozen=True)
class RankedCode:
    """One code of the ranked list: its key (the label form, :func:`clincoder.core.codes.label_form`),
    its fused score, and its support per kept sentence (sentence index -> 0-1). ``uncoded``: the
    letter supports it only where it negates it, or gives it as family history or a hypothesis;
    such a code is ranked (with that evidence) and never suggested. ``named``: for a sentence whose
    conditions differ in assertion, the assertion of the mention that names the code where that
    is not "present" ("a latex allergy (urticaria after dental treatment in 2019)": the urticaria
    is history, the allergy is not); elsewhere the sentence's (:meth:`SentenceRecord.assertion_of`)."""

    key: str
    score: float
    support: Mapping[int, float]
    uncoded: bool = False
    named: Mapping[int, str] = field(default_factory=dict)

    def assertion_in(self, sentence: SentenceRecord, index: int, procedural: bool) -> str:
        """The assertion sentence ``index`` gives this code."""
        return self.named.get(index) or sentence.assertion_of(procedural)

    @property
    def strong_at(self) -> tuple[int, ...]:
        """The sentences that support the code strongly: at least :data:`STRONG_SHARE` of its best
        support (in the support's order)."""
        top = max(self.support.values(), default=0.0)
        return tuple(i for i, v in self.support.items() if v >= STRONG_SHARE * top)
