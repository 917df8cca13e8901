"""Sequencing: one primary per kind, the primary the letter states, no symptom as primary
(citations in ``rules.yaml``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from clincoder.core.codes import DIAGNOSTIC_CATEGORY, System, category, compact, opcs4_chapter, opcs4_supplementary
from clincoder.core.config import HISTORY_SECTIONS
from clincoder.core.contracts import Mention
from clincoder.core.schema import NOT_CODED, CodeSuggestion, Evidence
from clincoder.core.words import OPERATION_WORD

from .comorbidities import DATES, dated_before, letter_year
from .conventions import undocumented
from .engine import (Work, asterisk_refs, excluded_beside, explaining, listed_first, mention_words, same_statement,
                     shared_statement, title_holds)
from .refs import code_refs, in_refs
from .registry import rule
from .schema import Rule, check_codes, check_entries


@dataclass(frozen=True)
class StatedPrimaryParams:
    sections: tuple[str, ...]  # canonical section names that state the primary diagnosis
    message: str
    min_support: float  # a ranked candidate the statement matches this well is coded as primary
    kind: str = "diagnosis"  # what those sections state: a primary diagnosis never picks the main procedure
    # codes the statement matches at least this well are ordered by where it names them (its
    # first condition first); 1.0 or more: by match and score alone
    lead_support: float = 1.01
    # symptom codes a candidate is not brought back as, where a suggested code rests on the same
    # statement ("AV nodal re-entrant tachycardia": the SVT, not tachycardia R00.0, CON-006)
    symptoms: tuple[str, ...] = ()
    asterisks: str = ""  # the dagger and asterisk rule whose asterisk codes are never stated first
    # the rule of WHO's Excludes notes: a candidate a note sends to a suggested code is not brought back
    # ("vitamin B12 deficiency due to pernicious anaemia": E53.8, beside D51.0)
    excludes: str = ""
    # a statement of those sections that opens with these words states no primary but its cause
    # or a complication ("Trigger: viral upper respiratory tract infection")
    aside: str = r"(?!)"


@dataclass(frozen=True)
class SymptomParams:
    symptoms: tuple[str, ...]
    not_definitive: tuple[str, ...]
    message: str
    # sections where the clinician lists the diagnoses: the first definitive one listed there
    # becomes primary (else the best scored)
    listed: tuple[str, ...] = ()
    # give way only to a diagnosis that explains the code (:func:`clincoder.rules.engine.explaining`):
    # stated with it, listed in ``listed``, or of the body system its block names (``related``);
    # a comorbidity of the background does not (MB3: "obviously the manifestation")
    explained_only: bool = False
    related: tuple[dict, ...] = ()
    # a background condition: what is stated with it is no better a main condition (its history
    # line), so the next definitive code in the suggested order (the suggester's precedence) takes
    # its place where none is listed
    in_order: bool = False
    # the dagger and asterisk rule whose asterisk codes never take the primary's place
    asterisks: str = ""
    # codes not primary either, beside ``symptoms``, that may still explain another's symptom (the
    # paralytic deficit of a stroke)
    deficits: tuple[str, ...] = ()
    # the rule whose ``symptoms`` are background comorbidities: they explain no symptom
    background: str = ""

    def __post_init__(self):
        check_codes(self.symptoms, "symptoms")
        check_codes(self.deficits, "deficits")
        check_codes(self.not_definitive, "not_definitive")
        check_entries(self.related, "related", {"symptoms": str, "diagnoses": str}, {})


@rule("SEQ-001", "sequencing")
def one_primary_per_kind(w: Work, r: Rule) -> None:
    for kind in dict.fromkeys(s.kind for s in w.scope(r)):
        mine = [s for s in w.codes if s.kind == kind]
        primaries = [s for s in mine if s.role == "primary"]
        chosen = primaries[0] if primaries else mine[0]
        if chosen is not mine[0]:
            w.move_before(chosen, mine[0])
        if chosen is not mine[0] or len(primaries) != 1:
            w.tag(r, chosen, *primaries[1:])


@rule("SEQ-003", "sequencing", StatedPrimaryParams)
def stated_primary(w: Work, r: Rule) -> None:
    p: StatedPrimaryParams = r.params
    if not any(s.kind == p.kind for s in w.scope(r)):
        return
    mine = [s for s in w.codes if s.kind == p.kind]
    # how well the primary statement itself matches the code, plus the ranker's confidence:
    # "NSTEMI" names I21.4 better than it names a comorbidity that is often coded with it.
    # A candidate below the suggestion threshold counts when the statement names it plainly:
    # the clinician's statement outranks coded history.
    # (never one an earlier rule took out of the suggestions, nor a sibling of a suggested code:
    # its category is coded already, at the subdivision the suggestions chose)
    coded = {(s.system, category(System.parse(s.system), s.code)) for s in mine}
    notes = w.enabled_rule(p.excludes) if p.excludes else None  # WHO's Excludes notes, read once
    named = [s for s in w.candidates if s.kind == p.kind and System.parse(s.system) in r.applies_to
             and (s.system, s.code) not in w.demoted
             and (s.system, category(System.parse(s.system), s.code)) not in coded
             and not _explained_there(s, mine, p) and excluded_beside(notes, s, mine) is None]
    # a prose sentence that announces the diagnosis ("Our diagnosis is ...") states it as the heading does
    announced = {(x.start, x.end): x.announced_from for x in w.sentences if x.announces}
    aside = re.compile(p.aside, re.I)
    strength = {id(s): _stated_support(s, p.sections, floor, announced, aside)
                for floor, pool in ((0.0, mine), (p.min_support, named)) for s in pool}
    stars = asterisk_refs(w, p.asterisks)
    stated = sorted((s for s in mine + named if strength[id(s)] is not None and not in_refs(s.code, stars)),
                    key=lambda s: -(strength[id(s)] + s.score))
    # the condition the statement names first is its main one ("heart failure, precipitated by
    # fast AF"): of the codes it states well, the one whose mention comes first
    lead = {id(s): _first_named(w, s, p.sections, announced) for s in stated if strength[id(s)] >= p.lead_support}
    if len(lead) > 1:
        stated.sort(key=lambda s: lead.get(id(s), len(w.text)))
    if not stated or stated[0] is mine[0]:
        return
    best = stated[0]
    # the primary already heads the diagnoses where the statement names it first, however weakly
    # the ranker matched it there ("a hyperosmolar hyperglycaemic state with coma ... complicated by
    # an acute kidney injury": E11.0, before the kidney injury it names after it)
    if strength[id(mine[0])] is not None and _first_named(w, mine[0], p.sections, announced) < \
            _first_named(w, best, p.sections, announced):
        return
    if any(best is s for s in named):
        w.candidates.remove(best)
        w.codes.insert(w.at(mine[0]), best)
    else:
        w.move_before(best, mine[0])
    w.tag(r, best)
    w.flag(r, p.message, best, other=mine[0].code)


@dataclass(frozen=True)
class PoisoningFirstParams:
    poisonings: tuple[str, ...]  # poisoning by drugs, medicaments and biological substances (T36-T50)
    disorders: tuple[str, ...]  # the mental and behavioural disorders (F00-F99)
    message: str

    def __post_init__(self):
        check_codes(self.poisonings, "poisonings")
        check_codes(self.disorders, "disorders")


@rule("SEQ-021", "sequencing", PoisoningFirstParams)
def poisoning_first(w: Work, r: Rule) -> None:
    """A poisoning by a drug this episode tells (present) is the primary diagnosis before a mental
    or behavioural disorder made primary: the overdose is the condition the admission treated, the
    depression behind it follows ("Our diagnosis is recurrent depressive disorder" in the liaison
    psychiatrist's letter of a paracetamol overdose)."""
    p: PoisoningFirstParams = r.params
    mine = [s for s in w.scope(r) if s.kind == "diagnosis"]
    if not mine or not in_refs(mine[0].code, code_refs(" ".join(p.disorders))):
        return
    poisoning = next((s for s in mine[1:] if in_refs(s.code, code_refs(" ".join(p.poisonings)))
                      and any(e.assertion == "present" and e.section not in HISTORY_SECTIONS for e in s.evidence)), None)
    if poisoning is None:
        return
    w.move_before(poisoning, mine[0])
    w.tag(r, poisoning)
    w.flag(r, p.message, poisoning, other=mine[0].code)


def _explained_there(s: CodeSuggestion, mine: list[CodeSuggestion], p: StatedPrimaryParams) -> bool:
    """Whether ``s`` is a symptom code and a suggested code rests on a statement of ``p.sections``
    that supports it too (the diagnosis that statement names explains the symptom), or holds it
    in its title (coma, beside "diabetes mellitus with coma")."""
    if not in_refs(s.code, code_refs(" ".join(p.symptoms))):
        return False
    return any((e := shared_statement(s, d)) is not None and e.section in p.sections or title_holds(d, s) for d in mine)


def _first_named(w: Work, s: CodeSuggestion, sections: tuple[str, ...], announced: dict[tuple[int, int], int]) -> int:
    """Where the first mention behind ``s`` starts in a statement of ``sections`` (or an announced
    sentence, from where it announces); the letter's length where none is there."""
    spans = [(e.start if e.section in sections else announced[(e.start, e.end)], e.end) for e in s.evidence
             if e.section in sections or (e.start, e.end) in announced]
    return min((m.start for m in w.support(s) if any(a <= m.start < b for a, b in spans)), default=len(w.text))


def _stated_support(s: CodeSuggestion, sections: tuple[str, ...], floor: float,
                    announced: dict[tuple[int, int], int], aside: re.Pattern) -> float | None:
    """How well a present-tense statement in ``sections`` (or an ``announced`` sentence) matches
    ``s`` (its best evidence support, at least ``floor``), or None where none supports it; a
    statement that opens with ``aside`` words ("Trigger: ...") supports none."""
    return max((e.support or 0.0 for e in s.evidence
                if (e.section in sections or (e.start, e.end) in announced) and e.assertion == "present"
                and (e.support or 0.0) >= floor and not aside.match(e.text.lstrip())), default=None)


@rule("SEQ-009", "sequencing", SymptomParams)
@rule("SEQ-005", "sequencing", SymptomParams)
@rule("SEQ-002", "sequencing", SymptomParams)
def symptom_not_primary(w: Work, r: Rule) -> None:
    """A code of ``symptoms`` that heads the diagnoses gives way to a definitive one: of those stated
    in a sentence that states it (the diagnosis that explains it), else of all, the first the
    letter lists, else the best scored (SEQ-002: signs and symptoms; SEQ-005: external causes,
    history and status codes; SEQ-009: background comorbidities and the deficits of a stroke,
    where ``in_order`` takes the next in the suggested order instead of the best scored). With
    ``explained_only`` only a condition that explains it
    (:func:`clincoder.rules.engine.explaining`) takes its place. Where the diagnosis heading
    states the symptom itself and lists no other condition ("Dx: epistaxis"), the symptom is the
    main condition and stays first."""
    p: SymptomParams = r.params
    symptoms, not_definitive = code_refs(" ".join((*p.symptoms, *p.deficits))), code_refs(" ".join(p.not_definitive))
    not_definitive = not_definitive + asterisk_refs(w, p.asterisks)  # an asterisk code is never the primary diagnosis
    background = w.enabled_rule(p.background) if p.background else None
    if background is not None:
        not_definitive += code_refs(" ".join(background.params.symptoms))
    for system in {System.parse(s.system) for s in w.scope(r) if s.kind == "diagnosis"}:
        mine = [s for s in w.codes if s.system == system.value]
        first = mine[0]
        definitive = [s for s in mine if not in_refs(s.code, not_definitive)]
        if in_refs(first.code, symptoms) and definitive:
            # the diagnosis that explains the symptom is stated where the symptom is (MB3)
            if p.explained_only:
                explains = explaining(first, definitive, p.listed, p.related)
                if not explains:
                    continue  # no coded condition explains it: the symptom is the main condition
            elif p.in_order:
                explains = definitive
            else:
                explains = [s for s in definitive if same_statement(s, first)] or definitive
            best = max(explains, key=lambda s: (listed_first(s, p.listed), -mine.index(s) if p.in_order else s.score))
            if listed_first(first, p.listed) > listed_first(best, p.listed) == float("-inf"):
                continue  # the diagnosis heading states the symptom and no condition that explains it
            w.move_before(best, first)
            w.tag(r, first, best)
            w.flag(r, p.message, first, codes=(first.code, best.code), other=best.code)


@dataclass(frozen=True)
class SecondaryListedParams:
    sections: tuple[str, ...]  # the headings under which a letter lists its secondary diagnoses
    not_definitive: tuple[str, ...]  # codes that never take the primary's place from one listed there
    message: str
    asterisks: str = ""  # the dagger and asterisk rule: an asterisk code never takes the primary's place
    # where no suggested condition is stated elsewhere, a ranked one at least this likely that a
    # statement under ``stated_in`` gives as present is coded and takes the primary's place (0: never)
    min_suggest: float = 0.0
    stated_in: tuple[str | None, ...] = ()  # the story of the episode and its diagnosis headings (None: no heading)
    promoted: str = ""  # the flag of a condition so coded

    def __post_init__(self):
        check_codes(self.not_definitive, "not_definitive")


@dataclass(frozen=True)
class EarlierYearParams:
    not_definitive: tuple[str, ...]  # codes that never take the primary's place
    message: str
    listed: tuple[str, ...] = ()  # a dated statement under these headings is still this episode's
    dates: str = DATES  # a full date (letter_year reads the year of the letter from them)

    def __post_init__(self):
        check_codes(self.not_definitive, "not_definitive")
        re.compile(self.dates)


def _only_under(s: CodeSuggestion, sections: tuple[str, ...]) -> bool:
    return bool(s.evidence) and all(e.section in sections for e in s.evidence)


def _aside_not_primary(w: Work, r: Rule, aside, stars: tuple = (), takes=lambda s: True) -> None:
    """A primary diagnosis that ``aside(s)`` sets aside gives its place to the first suggested
    condition that is not set aside, not one of ``not_definitive`` (nor an asterisk code of
    ``stars``), stated as present, and that ``takes(s)`` lets take it."""
    not_definitive = code_refs(" ".join(r.params.not_definitive)) + stars
    for system in {System.parse(s.system) for s in w.scope(r) if s.kind == "diagnosis"}:
        mine = [s for s in w.codes if s.system == system.value]
        first = mine[0]
        if not aside(first):
            continue
        main = next((s for s in mine[1:] if not in_refs(s.code, not_definitive) and not aside(s) and takes(s)
                     and any(e.assertion == "present" for e in s.evidence)), None)
        if main is None:
            continue
        w.move_before(main, first)
        w.tag(r, first, main)
        w.flag(r, r.params.message, first, codes=(first.code, main.code), other=main.code)


@rule("SEQ-012", "sequencing", SecondaryListedParams)
def secondary_not_primary(w: Work, r: Rule) -> None:
    """A diagnosis the letter states only under a heading of secondary diagnoses ("Other
    conditions", "Secondary diagnoses") is not the primary diagnosis where a condition the letter
    states elsewhere is coded: the first of those in the suggested order takes its place."""
    p: SecondaryListedParams = r.params
    stars = asterisk_refs(w, p.asterisks)

    def aside(s: CodeSuggestion) -> bool:  # a dagger goes with the asterisk after it: stated there, it is not aside
        after = w.codes[w.at(s) + 1:w.at(s) + 2]
        return _only_under(s, p.sections) and not any(in_refs(a.code, stars) and not _only_under(a, p.sections)
                                                      for a in after)
    _aside_not_primary(w, r, aside, stars)
    if p.min_suggest > 0:
        _condition_stated_elsewhere(w, r, aside, stars)


def _condition_stated_elsewhere(w: Work, r: Rule, aside, stars: tuple) -> None:
    """Where every suggested condition is set aside (listed only among the secondary diagnoses: the
    clinician says none of them is the main one), the likeliest ranked condition at least
    ``min_suggest`` likely that a statement of the episode's story or diagnosis headings gives as
    present (the story's "Acute pulmonary emboli with right leg DVT") is coded first. Status,
    history and external-cause codes (``not_definitive``) neither count nor take the place."""
    p: SecondaryListedParams = r.params
    not_definitive = code_refs(" ".join(p.not_definitive)) + stars
    for system in {System.parse(s.system) for s in w.scope(r) if s.kind == "diagnosis"}:
        mine = [s for s in w.codes if s.system == system.value]
        definitive = [s for s in mine if not in_refs(s.code, not_definitive)]
        if not definitive or not all(aside(s) for s in definitive):
            continue
        def told(c: CodeSuggestion) -> bool:  # a condition the story or a diagnosis heading states
            return not in_refs(c.code, not_definitive) and any(
                e.assertion == "present" and e.section in p.stated_in for e in c.evidence)
        main = _likeliest_ranked(w, r, system, p.min_suggest, mine[0], told)
        if main is not None:
            w.move_before(main, mine[0])
            w.tag(r, mine[0], main)
            w.flag(r, p.promoted, mine[0], codes=(mine[0].code, main.code), other=main.code)


@dataclass(frozen=True)
class ComplicationListedParams(SecondaryListedParams):
    """``sections``: the headings under which a letter lists the episode's complications."""

    listed: tuple[str, ...] = ()  # the diagnosis headings


@rule("SEQ-016", "sequencing", ComplicationListedParams)
def complication_not_primary(w: Work, r: Rule) -> None:
    """A diagnosis the letter gives under a heading of complications ("Complication: prolonged
    air leak") and under no diagnosis heading is not the primary diagnosis where a condition the
    letter lists under a diagnosis heading is coded: the first of those takes its place."""
    p: ComplicationListedParams = r.params

    def listed(s: CodeSuggestion) -> bool:
        return any(e.section in p.listed and e.assertion == "present" for e in s.evidence)

    def aside(s: CodeSuggestion) -> bool:
        return not listed(s) and any(e.section in p.sections and e.assertion == "present" for e in s.evidence)
    _aside_not_primary(w, r, aside, asterisk_refs(w, p.asterisks), takes=listed)


@rule("SEQ-014", "sequencing", EarlierYearParams)
def earlier_year_not_primary(w: Work, r: Rule) -> None:
    """A diagnosis the letter tells only in statements dated to a year before the letter's ("In
    2018 she had a stent for stable angina"), none under a diagnosis heading, is not the primary
    diagnosis where a condition stated without such a date is coded."""
    p: EarlierYearParams = r.params
    year = letter_year(w.text, p.dates)
    def aside(s: CodeSuggestion) -> bool:
        behind = w.support(s) if s.evidence else []
        return bool(s.evidence) and all(dated_before(e, year, behind) and e.section not in p.listed for e in s.evidence)

    _aside_not_primary(w, r, aside)


@dataclass(frozen=True)
class DeliveryReasonParams:
    reason: str  # a statement of the reason for a caesarean or an assisted delivery: its group "reason"
    codes: tuple[str, ...]  # the conditions that can be that reason
    delivered: tuple[str, ...]  # codes of a delivery (ICD-10 and OPCS-4): one suggested makes it this episode's
    skip_sections: tuple[str, ...]  # sections that tell of other episodes, or of plans
    message: str

    def __post_init__(self):
        if "reason" not in re.compile(self.reason).groupindex:
            raise ValueError("reason: give the reason's words as the group (?P<reason>...)")
        check_codes(self.codes, "codes")
        check_codes(self.delivered, "delivered")


_REASON_END = re.compile(r"[.;:(]|\n")  # where the words of a reason end


def _delivery_reason(w: Work, p: DeliveryReasonParams) -> CodeSuggestion | None:
    """The likeliest code (suggested or a candidate) of the first reason for a caesarean or an
    assisted delivery that a statement of this episode gives: the code the first mention of the
    reason's clause names (there or in another statement: "Diagnosis: failure to progress in the
    first stage of labour"), else one resting on the statement."""
    refs = code_refs(" ".join(p.codes))
    if not any(in_refs(c.code, code_refs(" ".join(p.delivered))) for c in w.codes):
        return None
    pool = [c for c in (*w.codes, *w.candidates) if c.kind == "diagnosis" and in_refs(c.code, refs)
            and (c.system, compact(c.code)) not in w.invalid and any(e.assertion == "present" for e in c.evidence)]
    behind = [(c, [mention_words(x) for x in w.support(c)]) for c in pool]  # the words of the mentions behind each
    for s in (s for s in w.episode_sentences(p.skip_sections) if s.assertion not in NOT_CODED):
        found = re.search(p.reason, w.text[s.start:s.end], re.I)
        if found is None:
            continue
        at = s.start + found.start("reason")
        end = _REASON_END.search(w.text, at, s.end)
        told = sorted((m for m in w.mentions if not m.procedural and at <= m.start < (end.start() if end else s.end)),
                      key=lambda m: m.start)
        for words in (mention_words(m) for m in told):
            named = [c for c, ws in behind if any(x >= words or words >= x for x in ws)]
            if named:
                return max(named, key=lambda c: c.likelihood)
        resting = [c for c in pool if any(e.start <= at < e.end for e in c.evidence)]
        if resting:
            return max(resting, key=lambda c: c.likelihood)
    return None


@rule("SEQ-018", "sequencing", DeliveryReasonParams)
def delivery_reason_first(w: Work, r: Rule) -> None:
    """The reason the letter gives for a caesarean or an assisted delivery ("caesarean section for
    failure to progress in the first stage") is coded and is the main condition."""
    p: DeliveryReasonParams = r.params
    reason = _delivery_reason(w, p)
    main = w.add(r, System.parse(reason.system), reason.code, reason.evidence) if reason is not None else None
    main = main or (w.suggested(System.parse(reason.system), reason.code) if reason is not None else None)
    first = next((c for c in w.codes if c.kind == "diagnosis"), None)
    if main is None or first is None or main is first:
        return
    w.move_before(main, first)
    w.tag(r, main, first)
    w.flag(r, p.message, first, codes=(main.code, first.code), other=main.code)


@dataclass(frozen=True)
class ChapterFirstParams:
    chapter: tuple[str, ...]  # the chapter whose codes take precedence
    qualifiers: tuple[str, ...]  # its codes that stand for another chapter's condition: first only where no other is
    message: str

    def __post_init__(self):
        check_codes(self.chapter, "chapter")
        check_codes(self.qualifiers, "qualifiers")


@rule("SEQ-008", "sequencing", ChapterFirstParams)
def chapter_first(w: Work, r: Rule) -> None:
    """Where a code of ``chapter`` is suggested and the first diagnosis is of another chapter or a
    qualifier, the first suggested code of the chapter that is not a qualifier (else the first
    qualifier) goes first (Chapter XV: pregnancy, childbirth and the puerperium)."""
    p: ChapterFirstParams = r.params
    chapter, qualifiers = code_refs(" ".join(p.chapter)), code_refs(" ".join(p.qualifiers))
    for system in {System.parse(s.system) for s in w.scope(r) if s.kind == "diagnosis"}:
        mine = [s for s in w.codes if s.system == system.value]
        ours = [s for s in mine if in_refs(s.code, chapter)]
        best = next((s for s in ours if not in_refs(s.code, qualifiers)), ours[0] if ours else None)
        if best is None or best is mine[0] or in_refs(mine[0].code, chapter) and in_refs(best.code, qualifiers):
            continue
        _put_first(w, r, best, mine[0])


def _likeliest_ranked(w: Work, r: Rule, system: System, least: float, after: CodeSuggestion,
                      keep: Callable[[CodeSuggestion], bool]) -> CodeSuggestion | None:
    """The likeliest ranked code of ``system`` that ``keep`` lets in, at least ``least`` likely and
    not taken out by a rule, coded directly after ``after``; None where there is none."""
    pool = [c for c in w.candidates if c.system == system.value and (c.system, c.code) not in w.demoted
            and c.likelihood >= least and keep(c)]
    best = max(pool, key=lambda c: c.likelihood, default=None)
    return w.add(r, system, best.code, best.evidence, after=after) if best is not None else None


def _put_first(w: Work, r: Rule, s: CodeSuggestion, first: CodeSuggestion) -> None:
    """``s`` before ``first``, the code that headed its kind, with the rule's flag naming both."""
    w.move_before(s, first)
    w.tag(r, s, first)
    w.flag(r, r.params.message, s, codes=(s.code, first.code), other=first.code)


@dataclass(frozen=True)
class ExternalCauseParams:
    causes: tuple[str, ...]  # the external causes of accidents, which explain an injury
    injuries: tuple[str, ...]  # the codes of injuries and poisonings
    explains_too: tuple[str, ...]  # other conditions such a cause may explain (a fracture of osteoporosis after a fall)
    min_suggest: float  # a ranked injury at least this likely that a statement gives as present is coded
    message: str  # the injury coded before the cause
    uncoded: str  # the cause without an injury, not coded

    def __post_init__(self):
        for name in ("causes", "injuries", "explains_too"):
            check_codes(getattr(self, name), name)


@rule("SEQ-020", "sequencing", ExternalCauseParams)
def injury_before_its_cause(w: Work, r: Rule) -> None:
    """An external cause of an accident is coded with the injury it explains: where no injury is
    suggested, the likeliest ranked one that a statement gives as present, at least
    ``min_suggest`` likely, is coded directly before the first cause ("a fall at home ... CT head
    showed an acute subdural haematoma"); where there is none and no other condition the cause may
    explain is coded, the cause is not coded (a fall without injury)."""
    p: ExternalCauseParams = r.params
    causes, injuries, others = (code_refs(" ".join(x)) for x in (p.causes, p.injuries, p.explains_too))
    for system in {System.parse(s.system) for s in w.scope(r) if s.kind == "diagnosis"}:
        mine = [s for s in w.codes if s.system == system.value]
        told = [s for s in mine if in_refs(s.code, causes)]
        if not told or any(in_refs(s.code, injuries) or in_refs(s.code, others) for s in mine):
            continue
        def stated(c: CodeSuggestion) -> bool:
            return in_refs(c.code, injuries) and any(e.assertion == "present" for e in c.evidence)
        injury = _likeliest_ranked(w, r, system, p.min_suggest, told[0], stated)
        if injury is not None:
            _put_first(w, r, injury, told[0])
            continue
        for s in told:
            w.tag(r, s)
            w.flag(r, p.uncoded, s, codes=(s.code,))
            w.demote(s)


@dataclass(frozen=True)
class OutcomeParams:
    outcomes: tuple[str, ...]  # what follows another condition (a delivery's perineal trauma, a bleed's anaemia)
    causes: tuple[str, ...]  # the conditions it follows (what led to the delivery, the bleeding)
    message: str
    bled: tuple[str, ...] = ()  # causes too: the conditions whose code says they bled (CON-024's)
    asterisks: str = ""  # the dagger and asterisk rule: an asterisk code never takes the primary's place

    def __post_init__(self):
        check_codes(self.outcomes, "outcomes")
        check_codes((*self.causes, *self.bled), "causes")


@rule("SEQ-017", "sequencing", OutcomeParams)
@rule("SEQ-013", "sequencing", OutcomeParams)
def cause_before_outcome(w: Work, r: Rule) -> None:
    """Where an outcome heads the diagnoses (of the delivery, SEQ-013; the anaemia of a bleed,
    SEQ-017) and a condition it follows is suggested, the first such condition goes first."""
    p: OutcomeParams = r.params
    outcomes, causes = code_refs(" ".join(p.outcomes)), code_refs(" ".join((*p.causes, *p.bled)))
    stars = asterisk_refs(w, p.asterisks) if p.asterisks else ()
    for system in {System.parse(s.system) for s in w.scope(r) if s.kind == "diagnosis"}:
        mine = [s for s in w.codes if s.system == system.value]
        cause = next((s for s in mine if in_refs(s.code, causes) and not in_refs(s.code, stars)), None)
        if cause is not None and in_refs(mine[0].code, outcomes):
            _put_first(w, r, cause, mine[0])


@dataclass(frozen=True)
class FunctionalNeoplasmParams:
    # {functional, neoplasms}: a Chapter IV code of a gland's overactivity and the neoplasms of that
    # gland that cause it (acromegaly E22.0 and a pituitary adenoma D35.2)
    glands: tuple[dict, ...]
    min_suggest: float  # a ranked neoplasm stated with the overactivity this likely is coded (below the threshold)
    message: str

    def __post_init__(self):
        check_entries(self.glands, "glands", {"functional": str, "neoplasms": str}, {})


@rule("SEQ-019", "sequencing", FunctionalNeoplasmParams)
def neoplasm_before_its_activity(w: Work, r: Rule) -> None:
    """Where a gland's overactivity heads the diagnoses, the neoplasm of that gland stated in a
    sentence with it (the one that causes it) goes first: a suggested one, else a ranked candidate
    at least ``min_suggest`` likely ("Cushing's syndrome caused by a cortisol-secreting adrenal
    adenoma"). A neoplasm the letter tells apart from it is left where it is (an incidental
    pituitary microadenoma beside a drug's hyperprolactinaemia)."""
    p: FunctionalNeoplasmParams = r.params
    for system in {System.parse(s.system) for s in w.scope(r) if s.kind == "diagnosis"}:
        mine = [s for s in w.codes if s.system == system.value]
        refs = [code_refs(g["neoplasms"]) for g in p.glands if in_refs(mine[0].code, code_refs(g["functional"]))]

        def causes(c: CodeSuggestion) -> bool:
            return any(in_refs(c.code, x) for x in refs) and same_statement(c, mine[0])
        cause = next((s for s in mine if causes(s)), None)
        if cause is None and refs:
            cause = _likeliest_ranked(w, r, system, p.min_suggest, mine[0], causes)
        if cause is not None:
            _put_first(w, r, cause, mine[0])


@dataclass(frozen=True)
class AcuteFirstParams:
    pairs: tuple[dict, ...]  # {acute, chronic}: the acute form of a condition and its chronic form
    message: str

    def __post_init__(self):
        check_entries(self.pairs, "pairs", {"acute": str, "chronic": str}, {})
        for pair in self.pairs:
            check_codes((pair["acute"], pair["chronic"]), "pairs")


@rule("SEQ-015", "sequencing", AcuteFirstParams)
def acute_before_chronic(w: Work, r: Rule) -> None:
    """Where the chronic form of a condition heads the diagnoses and its acute form is suggested
    too (chronic and acute respiratory failure, Addison's disease and an Addisonian crisis), the
    acute form goes first."""
    for system in {System.parse(s.system) for s in w.scope(r) if s.kind == "diagnosis"}:
        mine = [s for s in w.codes if s.system == system.value]
        pair = next((q for q in r.params.pairs if in_refs(mine[0].code, code_refs(q["chronic"]))), None)
        acute = next((s for s in mine if in_refs(s.code, code_refs(pair["acute"]))), None) if pair else None
        if acute is not None:
            _put_first(w, r, acute, mine[0])


@dataclass(frozen=True)
class FollowsParams:
    codes: tuple[str, ...]  # codes that go directly after the code they explain ...
    after: tuple[str, ...]  # ... a suggested code of these ranges
    message: str

    def __post_init__(self):
        check_codes(self.codes, "codes")
        check_codes(self.after, "after")


@rule("SEQ-010", "sequencing", FollowsParams)
def directly_after(w: Work, r: Rule) -> None:
    """A code that explains another (an external cause after the injury it caused) goes directly
    after it: after the code of ``after`` stated with it, else the first one suggested."""
    p: FollowsParams = r.params
    codes, after = code_refs(" ".join(p.codes)), code_refs(" ".join(p.after))
    for s in [s for s in w.scope(r) if in_refs(s.code, codes)]:
        targets = [t for t in w.scope(r) if t.system == s.system and in_refs(t.code, after)]
        target = next((t for t in targets if same_statement(s, t)), targets[0] if targets else None)
        if target is None or w.at(s) == w.at(target) + 1:
            continue
        w.move_after(s, target)
        w.tag(r, s)
        w.flag(r, p.message, s, codes=(s.code, target.code), other=target.code)


@dataclass(frozen=True)
class SepsisParams:
    sepsis: tuple[str, ...]  # the sepsis codes
    localised: tuple[str, ...]  # infections of one site or organ, which a sepsis code precedes
    message: str

    def __post_init__(self):
        check_codes(self.sepsis, "sepsis")
        check_codes(self.localised, "localised")


@rule("SEQ-006", "sequencing", SepsisParams)
def sepsis_before_its_source(w: Work, r: Rule) -> None:
    """Where the first diagnosis is a localised infection and a sepsis code is suggested (CON-013
    has checked that the letter documents sepsis), the sepsis code is sequenced first."""
    p: SepsisParams = r.params
    sepsis, localised = code_refs(" ".join(p.sepsis)), code_refs(" ".join(p.localised))
    for system in {System.parse(s.system) for s in w.scope(r) if s.kind == "diagnosis"}:
        mine = [s for s in w.codes if s.system == system.value]
        first = mine[0]
        found = next((s for s in mine[1:] if in_refs(s.code, sepsis)), None)
        if found is None or not in_refs(first.code, localised):
            continue
        w.move_before(found, first)
        w.tag(r, found, first)
        w.flag(r, p.message, found, codes=(found.code, first.code), other=first.code)


@dataclass(frozen=True)
class PerformedParams:
    min_suggest: float  # the least suggester probability of the code offered in its place
    message: str
    policy: tuple[str, ...] = ()  # the rules whose codes the coding policy leaves uncoded (while enabled)
    # the main-procedure rule whose minor and diagnostic codes are main only when nothing else was
    # done: where every suggested procedure is one of those, a documented operation with at least
    # min_beside is offered beside them ("" leaves that case alone)
    main: str = ""
    min_beside: float = 1.0
    beside: str = ""  # the message of that case
    # what a mention of a test says ("CT head", "Doppler ultrasound"): it states no operation for a
    # code whose title it does not word (the CT that showed the subdural haematoma is no evacuation)
    tests: str = r"(?!)"
    # an offer less likely than this whose mentions a code the coding policy leaves uncoded reads
    # more likely is not made (:func:`_read_as_policy`)
    min_over_policy: float = 0.0
    # the documented-term rules (CON-037) whose condition a code offered must meet, while enabled:
    # no chemotherapy delivery offered for "neutropenia secondary to chemotherapy"
    documented: tuple[str, ...] = ()

    def __post_init__(self):
        re.compile(self.tests)
        if self.main and not self.beside:
            raise ValueError("main names a main-procedure rule: beside (its message) is needed too")


def _documents_a_procedure(w: Work, s: CodeSuggestion, tests: str = r"(?!)") -> bool:
    """Whether a procedure mention behind ``s``, in its own sentences (those that share words
    with its title, else any but a test's), states it as done this episode ("listed for a carotid
    endarterectomy" does not; "no exchange transfusion needed" beside "top-up transfusion of 2
    units" leaves the top-up; nor does the past history)."""
    # a test's mention documents the test's own code (chapter U) only ("CT head showed ...")
    own = System.parse(s.system) is System.OPCS4 and opcs4_chapter(s.code) == "U"
    inside = [m for m in w.inside(s, procedural=True)
              if own or not re.search(tests, " ".join(filter(None, (m.text, m.expansion))), re.I)]
    named = [m for m in w.support(s) if m in inside] or inside  # a title worded otherwise ("colonoscopy")
    # the history tells of other episodes ("obstructive sleep apnoea, uses CPAP at night")
    return any(m.assertion == "present" and m.section not in HISTORY_SECTIONS for m in named)


def _names_more(w: Work, c: CodeSuggestion, mine: list[CodeSuggestion]) -> bool:
    """Whether a present procedure mention behind ``c`` is one no code of ``mine`` reads: the
    operation beside the look is another operation, not the look's own words read otherwise
    ("cystoscopy and bladder biopsy" is M45.1; its "biopsy" is no prostate biopsy beside it)."""
    covered = {id(m) for s in mine for m in w.support(s)}
    return any(m.assertion == "present" and id(m) not in covered for m in w.support(c))


def _policy_codes(w: Work, rule_ids: tuple[str, ...]):
    """The codes the enabled rules ``rule_ids`` leave uncoded (none of a rule not enabled)."""
    policies = [w.enabled_rule(rule_id) for rule_id in rule_ids]
    return tuple(ref for policy in policies if policy is not None for ref in code_refs(" ".join(policy.params.codes)))


def _read_as_policy(w: Work, c: CodeSuggestion, policy) -> bool:
    """Whether every present mention behind ``c`` is read, more likely, as a code the coding
    policy leaves uncoded (``policy``; a side or site code reads no operation): a
    "hydroxocobalamin injection" is the intramuscular injection the policy leaves uncoded, not an
    injection of Rh immune globulin offered in its place."""
    mentions = [m for m in w.support(c) if m.assertion == "present"]
    likelier = [k for k in w.candidates if k.system == c.system and in_refs(k.code, policy)
                and (k.suggest or 0.0) > (c.suggest or 0.0)]
    claimed = {id(m) for k in likelier for m in w.support(k)}
    return bool(mentions) and all(id(m) in claimed for m in mentions)


@rule("SEQ-007", "sequencing", PerformedParams)
def performed_procedure(w: Work, r: Rule) -> None:
    """A letter that states a procedure done this episode, with no procedure code suggested (the
    suggester found none likely enough, or a rule took out the only one, as the imaging policy
    does), gets its likeliest documented procedure code as the main procedure; one whose
    suggested procedures are all minor or diagnostic (an anaesthetic block, a plaster cast, the
    look before the operation) gets the operation the letter states done beside them, one that a
    mention the suggested codes do not read names."""
    p: PerformedParams = r.params
    policy = _policy_codes(w, p.policy)
    main = w.enabled_rule(p.main) if p.main else None
    documented = [d for d in (w.enabled_rule(rule_id) for rule_id in p.documented) if d is not None]
    for system in r.applies_to:
        mine = [s for s in w.codes if s.system == system.value and not opcs4_supplementary(s.code)]
        least, message, skip = p.min_suggest, p.message, policy
        if mine:
            # a supplementary code alone (an approach, a side) is no procedure: SUP-002 takes it out
            if main is None or not all(_minor(w, s, main.params) for s in mine):
                continue
            least, message = p.min_beside, p.beside
            skip = policy + code_refs(" ".join(main.params.minor))
        # a supplementary code never stands for the operation
        pool = [c for c in w.candidates if c.system == system.value and (c.system, c.code) not in w.demoted
                and not opcs4_supplementary(c.code) and not in_refs(c.code, skip) and (c.suggest or 0.0) >= least and _documents_a_procedure(w, c, p.tests)
                and not (mine and (_category_titled(w, c, main.params.diagnostic) or not _names_more(w, c, mine)))
                and not ((c.suggest or 0.0) < p.min_over_policy and _read_as_policy(w, c, policy))
                and not any(undocumented(w, d, c) for d in documented)]
        if pool:
            # of the likeliest, one whose title a present mention names first ("laparoscopic
            # pyloromyotomy": G40.1, not an operation on the mouth read from a nasogastric tube)
            best = max(pool, key=lambda c: (c.score if mine else 0.0, _named_done(w, c), c.suggest or 0.0))
            added = w.add(r, system, best.code, best.evidence)
            if added is not None:
                w.flag(r, message, added, other=", ".join(s.code for s in mine))


def _named_done(w: Work, c: CodeSuggestion) -> bool:
    """Whether a present mention of this episode (not the history's) names ``c``'s title."""
    return any(m.assertion == "present" and m.section not in HISTORY_SECTIONS for m in w.naming(c, least=1))


@dataclass(frozen=True)
class MainProcedureParams:
    minor: tuple[str, ...]  # diagnostic imaging, transfusion: main only when nothing else was done (as supplementary codes)
    message: str
    diagnostic: str = DIAGNOSTIC_CATEGORY
    # of the minor procedures, those that place a line, tube or catheter: a therapeutic procedure,
    # main before a diagnostic operation when no other operation was done
    therapy: tuple[str, ...] = ()
    drugs: tuple[str, ...] = ()  # a drug given (high-cost drugs): after a therapeutic operation, before a diagnostic one
    # lesser procedures: a chest drain and what goes through it (after a therapeutic operation), a
    # tunnelled venous line (a minor procedure main before the other minor ones: the dialysis)
    lesser: tuple[str, ...] = ()

    def __post_init__(self):
        check_codes(self.minor, "minor")
        check_codes(self.therapy, "therapy")
        check_codes(self.drugs, "drugs")
        check_codes(self.lesser, "lesser")
        re.compile(self.diagnostic)


def _minor(w: Work, s: CodeSuggestion, p: MainProcedureParams) -> bool:
    """Whether ``s`` is main only when nothing else was done: minor, a diagnostic operation, or a
    supplementary code (never main)."""
    return opcs4_supplementary(s.code) or in_refs(s.code, code_refs(" ".join(p.minor))) or \
        _category_titled(w, s, p.diagnostic)


def _told_diagnostic(w: Work, s: CodeSuggestion, p: MainProcedureParams) -> bool:
    """Whether every present mention ``s`` rests on names it diagnostic ("Ultrasound-guided
    diagnostic paracentesis": the tap that sampled the ascites, after the banding of the bleeding
    varices among the therapeutic operations)."""
    told = [m for m in w.support(s) if m.assertion == "present"]
    return bool(told) and all(re.match(p.diagnostic, m.text, re.I) for m in told)


def _category_titled(w: Work, s: CodeSuggestion, pattern: str) -> bool:
    """Whether the title of the code's category matches ``pattern``: with
    :data:`~clincoder.core.codes.DIAGNOSTIC_CATEGORY`, whether it is a diagnostic operation."""
    table, entry = w.entry(s)
    return entry is not None and table.parent_titled(entry.code, pattern)


@dataclass(frozen=True)
class IncludedLookParams:
    message: str
    # the operation chapters (not imaging and tests, drugs, the O/Y/Z sites and supplementaries)
    chapters: tuple[str, ...]
    # a therapy by the look's own route (its category's title): it includes the look
    route: str
    biopsy: str  # a look with a biopsy is coded beside the therapy
    diagnostic: str = DIAGNOSTIC_CATEGORY

    def __post_init__(self):
        check_codes(self.chapters, "chapters")
        for pattern in (self.diagnostic, self.route, self.biopsy):
            re.compile(pattern)


@rule("CON-049", "conventions", IncludedLookParams)
def included_look(w: Work, r: Rule) -> None:
    """A diagnostic operation (its category's title says "Diagnostic") told in the same statement
    as a therapeutic operation of the same chapter by the same route (endoscopic, transluminal)
    is the look that operation includes: not coded ("Electrophysiology study and radiofrequency
    ablation": the ablation, K57, includes the study, K58). A look with a biopsy, and one beside
    an open or other operation (a hysteroscopy at an endometrial ablation, Q16.5), stay."""
    p: IncludedLookParams = r.params
    chapters = code_refs(" ".join(p.chapters))
    mine = [s for s in w.scope(r) if s.kind == "procedure" and in_refs(s.code, chapters)]
    looks = [s for s in mine if _category_titled(w, s, p.diagnostic) and not re.search(p.biopsy, s.title, re.I)]
    for look in looks:
        by = next((s for s in mine if opcs4_chapter(s.code) == opcs4_chapter(look.code) and same_statement(look, s)
                   and not _category_titled(w, s, p.diagnostic) and _category_titled(w, s, p.route)), None)
        if by is not None:
            w.demote(look)
            w.tag(r, look)
            w.flag(r, p.message, look, codes=(look.code, by.code), other=by.code)


@rule("SEQ-004", "sequencing", MainProcedureParams)
def main_procedure(w: Work, r: Rule) -> None:
    p: MainProcedureParams = r.params
    mine = [s for s in w.scope(r) if s.kind == "procedure"]
    if not mine:
        return
    minor, therapy, drugs, lesser = (code_refs(" ".join(codes)) for codes in (p.minor, p.therapy, p.drugs, p.lesser))
    operations = [s for s in mine if not opcs4_supplementary(s.code) and not in_refs(s.code, minor)]
    treating = [s for s in operations if not _category_titled(w, s, p.diagnostic) and not in_refs(s.code, drugs)]
    # a lesser procedure (a chest drain) goes after an operation; a drug given after a therapeutic
    # one, before a diagnostic one; one the letter calls diagnostic after the others
    therapeutic = sorted([s for s in treating if not in_refs(s.code, lesser)] or treating or
                         [s for s in operations if in_refs(s.code, drugs)], key=lambda s: _told_diagnostic(w, s, p))
    lines = [s for s in mine if in_refs(s.code, therapy)]
    if therapeutic:  # the endoscopy that only looked, the line before the plasma exchange
        best = therapeutic[0]
    elif operations:  # a line, tube or catheter placed before the marrow biopsy; else the biopsy
        best = lines[0] if lines else operations[0]
    elif any(in_refs(s.code, lesser) for s in mine):  # all minor: the tunnelled line before the dialysis
        best = next(s for s in mine if in_refs(s.code, lesser))
    else:
        return
    if best is not mine[0]:
        w.move_before(best, mine[0])
        w.tag(r, best, mine[0])
        w.flag(r, p.message, mine[0], codes=(best.code, mine[0].code), other=best.code)


def _named_at(w: Work, s: CodeSuggestion, statement: Evidence, other: CodeSuggestion) -> int | None:
    """Where in ``statement`` the first mention that names ``s`` and not ``other`` begins, or
    None. A mention behind both names what they share, the route ("Rigid ureteroscopy, laser
    lithotripsy of the stone, insertion of a JJ stent": the ureteroscopy is both operations'),
    unless it shares with ``s`` an operation's word ``other`` lacks ("Laparoscopic Heller
    cardiomyotomy" is G09.1's, though "laparoscopic" reads a laparoscopic fundoplication too)."""
    theirs = {(m.start, m.end) for m in w.support(other)}
    mine, their_words = w.words(s), w.words(other)

    def names_mine(m: Mention) -> bool:
        return (m.start, m.end) not in theirs or any(
            re.search(OPERATION_WORD, word) for word in (mention_words(m) & mine) - their_words)
    return min((m.start for m in w.support(s) if statement.start <= m.start < statement.end and names_mine(m)),
               default=None)


@dataclass(frozen=True)
class NamedFirstParams(MainProcedureParams):
    examination: str = "^Examination"  # a code that only examines ("Examination of rectum under anaesthetic")
    # a date, as a statement writes one: one between the two names and one after the second
    # date two sessions, which the statement only lists ("ERCP ... (14/04/2026); laparoscopic
    # cholecystectomy (16/04/2026)")
    dated: str = r"(?!)"

    def __post_init__(self):
        super().__post_init__()
        re.compile(self.dated)


def _dated_apart(w: Work, p: NamedFirstParams, first: int, second: int, statement: Evidence) -> bool:
    """Whether a statement dates each of two operations it names, at ``first`` and ``second``: a
    date between them and another after the second ("ERCP ... (14/04/2026); laparoscopic
    cholecystectomy (16/04/2026)")."""
    return bool(re.search(p.dated, w.text[first:second]) and re.search(p.dated, w.text[second:statement.end]))


@rule("SEQ-011", "sequencing", NamedFirstParams)
def named_first(w: Work, r: Rule) -> None:
    """Of two significant operations told in one statement ("Heller cardiomyotomy with Dor
    fundoplication"), the one the clinician names first is the main procedure, unless the
    statement dates each (two sessions listed)."""
    p: NamedFirstParams = r.params
    mine = [s for s in w.scope(r) if s.kind == "procedure"]
    if len(mine) < 2 or _minor(w, mine[0], p):
        return
    main = mine[0]
    drugs, lesser = (code_refs(" ".join(codes)) for codes in (p.drugs, p.lesser))
    # a chest drain named first stays after the operation, unless the main one is lesser too
    for other in (s for s in mine[1:] if not _minor(w, s, p) and not in_refs(s.code, drugs)
                  and not re.search(p.examination, s.title)
                  and (in_refs(main.code, lesser) or not in_refs(s.code, lesser))):
        shared = shared_statement(main, other)
        if shared is None:
            continue
        here, there = _named_at(w, main, shared, other), _named_at(w, other, shared, main)
        if here is not None and there is not None and there < here and not _dated_apart(w, p, there, here, shared):
            w.move_before(other, main)
            w.tag(r, other, main)
            w.flag(r, p.message, main, codes=(other.code, main.code), other=other.code)
            return
