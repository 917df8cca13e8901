"""Comorbidities, history and status: the codes the standards make mandatory when the letter
documents them (long-term anticoagulation, drug allergies, tobacco use, implants, past events),
and past acute events coded by their history codes (citations in ``rules.yaml``)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from clincoder.core.codes import System, compact
from clincoder.core.config import HISTORY_SECTIONS
from clincoder.core.index_terms import index_terms
from clincoder.core.contracts import Mention, SentenceRecord
from clincoder.core.schema import ASSERTIONS, NOT_CODED, STATED, CodeSuggestion, Evidence
from clincoder.core.words import content_words

from .engine import Work, mention_words, read_as_another
from .refs import code_refs, in_refs
from .registry import rule
from .schema import MessageParams, Rule, check_codes, check_entries



# a full date ("24/02/2025", "3 March 2025"); the year of the letter is read from them (letter_year)
DATES = r"\b\d{1,2}(?:/|-|\.)\d{1,2}(?:/|-|\.)((?:19|20)\d\d)\b|\b\d{1,2} [A-Z][a-z]+ ((?:19|20)\d\d)\b"


@dataclass(frozen=True)
class StatusParams:
    codes: tuple[dict, ...]  # {code, words, sections, unless?, told_in?, dated_in?}
    message: str
    # a drug allergy told in prose ("he is allergic to penicillin"): in the sections an entry's
    # told_in names, its words count only with these words close by (within ``near`` characters)
    told: str = r"(?!)"
    not_told: str = r"(?!)"  # ... and not where the sentence says there is none ("NKDA")
    near: int = 40
    # ... and not where the drug is told as a treatment given ("treated with IV teicoplanin because
    # of his penicillin allergy", "clarithromycin 500 mg BD (pen allergic)"): words before it, after it
    treated_before: str = r"(?!)"
    treated_after: str = r"(?!)"
    taken_before: str = r"(?!)"  # under an allergies heading: a substance after these is taken safely
    # in the sections an entry's dated_in names (a diagnosis list, the story), its words count only
    # in a sentence that tells the past: these words, or a year before the letter's
    past: str = r"(?!)"
    earlier: str = r"(?!)"  # a start of a drug told of an earlier time ("started by her GP 3 years ago")
    not_begun_in: tuple[str, ...] = ()  # sections that tell no start in this episode (a plan)
    dates: str = DATES
    ruled_out: str = "{code} ({title}) is not coded: the letter says \"{mention}\"."
    another_class: str = "{code} ({title}) is not coded: the drug the letter names is an allergy of {other}'s class."
    # an entry read under an allergies heading: a substance whose own clause (what follows it up
    # to the next comma, semicolon or full stop) names one of these (a side effect, an
    # interaction, a drug taken safely) and no allergic reaction is no allergy
    not_allergy: str = r"(?!)"
    allergic: str = r"(?!)"
    clause: int = 100  # at most this many characters after the substance
    # ... and one the rest of its sentence says is no allergy, whatever reaction it names
    # ("Morphine - itching (intolerance, not an allergy)")
    denied: str = r"(?!)"
    # ... and one its own clause labels an intolerance, whatever reaction it names ("Morphine -
    # severe itching: intolerance"): the clinician has judged it
    labelled: str = r"(?!)"
    # the words that take an allergy to a named substance off the record, wherever the letter says
    # them ("viral rash, not a penicillin allergy", "penicillin allergy label removed"); only where
    # what they match names the entry's substance
    delabelled: str = r"(?!)"
    conditional: str = r"(?!)"  # ... not in a sentence that says what would take it off ("if the challenge is negative")

    def __post_init__(self):
        check_entries(self.codes, "codes", {"code": str, "words": str, "sections": list},
                      {"unless": str, "told_in": list, "dated_in": list, "begun": str})
        for pattern in (self.told, self.not_told, self.past, self.earlier, self.dates, self.not_allergy, self.allergic,
                        self.treated_before, self.treated_after, self.taken_before, self.denied, self.labelled, self.delabelled, self.conditional):
            re.compile(pattern)

    @functools.cached_property
    def allergens(self) -> re.Pattern:
        """The substances of every allergy entry, built once: where another is named, what the
        sentence says after it is that one's."""
        return re.compile("|".join(f"(?:{e['words']})" for e in self.codes if "allergies" in e["sections"]), re.I)


@dataclass(frozen=True)
class HistoryParams:
    events: tuple[dict, ...]  # {codes, history?, current_if?, past_if?, words?}: see HIS-002 in rules.yaml
    message: str
    resolved: str  # an event with no history code: a past episode, not coded
    named: str  # a past cancer read from its own line by an event's words
    named_score: float  # where the history code of such a cancer ranks
    dates: str = DATES  # a full date (letter_year reads the year of the letter from them)
    # a past event among the candidates with at least this suggestion probability gets its history code
    candidate_floor: float = 1.01

    def __post_init__(self):
        check_entries(self.events, "events", {"codes": str}, {"history": str, "current_if": str, "past_if": str, "words": str})
        for event in self.events:
            if "words" in event and not {"history", "past_if"} <= event.keys():
                raise ValueError(f"HIS-002 event {event['codes']!r}: 'words' reads a past cancer's line; it needs 'history' and 'past_if'")
        re.compile(self.dates)


def _told(said: str, found: re.Match, p: StatusParams) -> bool:
    """Whether ``found`` (a drug) is told as an allergy: the allergy words close by, the drug not
    told as a treatment given, and the sentence not one that says there is none."""
    around = said[max(0, found.start() - p.near):found.end() + p.near]
    treated = re.search(p.treated_before, said[max(0, found.start() - p.near):found.start()], re.I) \
        or re.match(p.treated_after, said[found.end():found.end() + p.near], re.I)
    return bool(re.search(p.told, around, re.I)) and not treated and not re.search(p.not_told, said, re.I)


def _no_allergy(said: str, words: re.Pattern, p: StatusParams) -> re.Match | None:
    """Where every substance of an entry in ``said`` is followed in its clause by what makes it no
    allergy ("Codeine causes vomiting", "Clarithromycin gives him diarrhoea", "Trimethoprim:
    contraindicated because of the interaction with methotrexate") and by no allergic reaction,
    or labelled an intolerance in its clause ("Morphine - severe itching: intolerance"), or
    preceded by words that it is taken safely ("tolerates oxycodone") or given ("prophylaxis was
    changed to teicoplanin and gentamicin"), or that the sentence
    says after it is no allergy ("Morphine - itching (intolerance, not an allergy)"): the first such reading
    (None where one is an allergy, or none is named). A substance is read where the sentence
    first names it: "Codeine: severe constipation (intolerance), so no codeine-based analgesia"."""
    readings, seen = [], set()
    for found in words.finditer(said):
        if found.group(0).lower() in seen:  # "Codeine: constipation (intolerance), so no codeine-based analgesia"
            continue
        seen.add(found.group(0).lower())
        before = said[max(0, found.start() - p.near):found.start()]
        taken = re.search(p.taken_before, before, re.I) or re.search(p.treated_before, before, re.I)
        if taken is not None:  # "tolerates oxycodone", "changed to teicoplanin and gentamicin": a drug taken
            readings.append(taken)
            continue
        # up to another class's substance: "allergic to penicillin (urticaria ...); codeine makes her
        # badly constipated, which is an intolerance rather than an allergy" denies the codeine only
        rest = said[found.end():]
        # (not one listed with it: "Morphine and ibuprofen - itching, not true allergies" denies both)
        other = next((m for m in p.allergens.finditer(rest)
                      if not words.fullmatch(m.group(0)) and not _LISTED.fullmatch(rest[:m.start()])), None)
        denied = re.search(p.denied, rest[:other.start()] if other else rest, re.I)
        if denied is not None:  # "Morphine - itching (intolerance, not an allergy)": said to be none
            readings.append(denied)
            continue
        clause = re.match(r"[^;,.]*", said[found.end():found.end() + p.clause]).group(0)
        labelled = re.search(p.labelled, clause, re.I)
        reading = labelled or re.search(p.not_allergy, clause, re.I)
        if reading is None or (labelled is None and re.search(p.allergic, clause, re.I)):
            return None
        readings.append(reading)
    return readings[0] if readings else None


_LISTED = re.compile(r"[\s,/&+]*(?:and|or)?[\s,/&+]*", re.I)  # what stands between substances listed together


def _diagnosis_system(w: Work, r: Rule) -> System | None:
    return next((s for s in w.tables if s.kind == "diagnosis" and s in r.applies_to), None)


def _evidence(w: Work, s) -> tuple[Evidence, ...]:
    return (w.told(s),)


@rule("HIS-001", "comorbidities", StatusParams)
def status_codes(w: Work, r: Rule) -> None:
    p: StatusParams = r.params
    system = _diagnosis_system(w, r)
    if system is None:
        return
    year, taken_off = letter_year(w.text, p.dates), _delabellings(w, p)
    operated = {(e.start, e.end) for s in w.codes if s.kind == "procedure" for e in s.evidence}
    for entry in p.codes:
        words, unless = re.compile(entry["words"], re.I), re.compile(entry.get("unless") or r"(?!x)x", re.I)
        told_in, dated_in = entry.get("told_in") or [], entry.get("dated_in") or []
        allergy = "allergies" in entry["sections"]
        gone = _delabelled(w, entry, words, taken_off) if allergy else None
        if gone is not None:
            _taken_off(w, r, entry["code"], gone)
            continue
        begun = _begun(w, p, entry, words, year)
        for s in w.sentences_in(entry["sections"] + told_in + dated_in):
            said = w.text[s.start:s.end]
            found = words.search(said)
            if found and (found.group(0).lower() in begun or not s.coded and _not_told_as_present(s, s.start + found.start())):
                continue
            if found and s.section not in entry["sections"] and not (
                    s.section in told_in and _told(said, found, p) or s.section in dated_in and _told_past(said, year, p)):
                continue
            if found and not unless.search(said) and not (allergy and _no_allergy(said, words, p)):
                # told as a fact of the patient, beside a plan the sentence names ("stop-smoking service")
                told = tuple(e if s.coded else replace(e, assertion="present") for e in _evidence(w, s))
                added = w.add(r, system, entry["code"], told, rule_evidence=True)
                if added is not None:
                    w.flag(r, p.message, added, mention=found.group(0))
                break
        _ruled_out(w, r, entry["code"], unless, words if allergy else None, begun, _done_now(operated, entry, words, year, p))
    _another_class(w, r, [e for e in p.codes if "allergies" in e["sections"]])


def _begun(w: Work, p: StatusParams, entry: dict, words: re.Pattern, year: int | None) -> set[str]:
    """The entry's drugs that a clause of this episode's story says were begun (its ``begun``
    words: "and then started apixaban 10 mg", "Prophylactic anticoagulation (albumin <20,
    membranous): apixaban"), unless it places the start earlier ("apixaban, started 2021",
    "started by her GP 3 years ago"): no sentence codes their long-term use. A clause ends at a
    comma or semicolon outside brackets, at "and" and at a full stop ("lansoprazole (new);
    apixaban 5 mg BD"); a plan, a relative's history and a negated or hypothetical sentence tell
    no start."""
    if "begun" not in entry:
        return set()
    told = [x for x in w.sentences if x.coded and x.assertion not in NOT_CODED and x.section not in p.not_begun_in]
    clauses = (c for x in told for c in _CLAUSE.split(_BRACKETED.sub(
        lambda m: re.sub(r"[,;]", " ", m.group(0)), w.text[x.start:x.end])))
    return {found.group(0).lower() for text in clauses if re.search(entry["begun"], text, re.I)
            and not re.search(p.earlier, text, re.I) and not any(int(y) < (year or 9999) for y in _YEAR.findall(text))
            for found in words.finditer(text)}


_BRACKETED = re.compile(r"\([^()]*\)")
_CLAUSE = re.compile(r"[,;]|\band\b|\.\s")


def _not_told_as_present(s: SentenceRecord, at: int) -> bool:
    """Whether a sentence that names only negated, hypothetical or relatives' conditions tells
    the words at ``at`` as no fact of the patient: it negates ("Apixaban: not indicated, no AF"),
    tells of a relative, or the words lie inside its hypothetical mention. "She smokes 10 a day;
    referred to the stop-smoking service" tells her smoking, whatever the service's mention is; a
    medication list that names a plan tells what is to be taken, not what was."""
    return (s.section == "medications" or not s.uncoded
            or any(m.start <= at < m.end or m.assertion != "hypothetical" for m in s.uncoded))


def _done_now(operated: set[tuple[int, int]], entry: dict, words: re.Pattern, year: int | None,
              p: StatusParams) -> Callable[[Evidence], re.Match | None]:
    """For an entry read in a section only where a sentence tells the past (its ``dated_in``): a
    statement of such a section that names the entry's words, tells no past and is the statement
    of an operation coded for this episode (its span in ``operated``: "Coronary angiography and PCI 21/10/2026": the stent
    put in now), as a match; else None ("endophthalmitis 5 days after phacoemulsification with
    intraocular lens" puts no lens in now)."""
    dated_in = entry.get("dated_in") or []

    def now(e: Evidence) -> re.Match | None:
        found = words.search(e.text) if e.section in dated_in and (e.start, e.end) in operated else None
        return found if found is not None and not _told_past(e.text, year, p) else None
    return now


def _ruled_out(w: Work, r: Rule, code: str, unless: re.Pattern, allergens: re.Pattern | None,
               begun: set[str], now: Callable[[Evidence], re.Match | None]) -> None:
    """A status code the ranker suggested on words the entry rules out ("apixaban started"), on
    a drug the letter begins in this episode, on the implant this episode's statements put in
    (``now``), or on substances that every sentence of its evidence makes no allergy, is not
    coded."""
    started = re.compile(r"\b(?:%s)\b" % "|".join(map(re.escape, sorted(begun))) if begun else r"(?!x)x", re.I)

    def ruling(e: Evidence) -> re.Match | None:
        return unless.search(e.text) or started.search(e.text) or now(e) or (
            _no_allergy(e.text, allergens, r.params) if allergens else None)

    for s in [c for c in w.scope(r) if compact(c.code) == compact(code) and r.id not in c.rules]:
        if s.evidence and all(ruling(e) for e in s.evidence):
            w.demote(s)
            w.tag(r, s)
            w.flag(r, r.params.ruled_out, s, mention=ruling(s.evidence[0]).group(0))


def _delabellings(w: Work, p: StatusParams) -> list[re.Match]:
    """The words with which statements of this episode (not a plan, a relative's or a conditional
    one) take an allergy off the record ("a viral rash, not a penicillin allergy", "penicillin
    allergy label removed"), read once per letter."""
    told = [s for s in w.sentences if s.coded and s.assertion not in NOT_CODED and s.section not in p.not_begun_in
            and not re.search(p.conditional, w.text[s.start:s.end], re.I)]
    return [m for s in told for m in re.finditer(p.delabelled, w.text[s.start:s.end], re.I)]


def _delabelled(w: Work, entry: dict, words: re.Pattern, taken_off: list[re.Match]) -> re.Match | None:
    """Where the letter takes the allergy to every substance of ``entry`` it records off the
    record (of ``taken_off``, those that name one): the first such words, else None."""
    gone = [m for m in taken_off if words.search(m.group(0))]
    off = {d.group(0).lower() for m in gone for d in words.finditer(m.group(0))}
    listed = {d.group(0).lower() for s in w.sentences_in(entry["sections"]) for d in words.finditer(w.text[s.start:s.end])}
    return gone[0] if gone and listed <= off else None


def _taken_off(w: Work, r: Rule, code: str, gone: re.Match) -> None:
    """The allergy code the letter takes off the record is not coded, whatever suggested it."""
    for s in [c for c in w.scope(r) if compact(c.code) == compact(code)]:
        w.demote(s)
        w.tag(r, s)
        w.flag(r, r.params.ruled_out, s, mention=gone.group(0))


def _another_class(w: Work, r: Rule, allergies: list[dict]) -> None:
    """A drug-allergy code the ranker suggested on sentences that name none of its substances but
    another entry's ("penicillin allergy" read also as an allergy to other drugs, Z88.8) is not
    coded: the allergy is the other entry's."""
    for entry in allergies:
        for s in [c for c in w.scope(r) if compact(c.code) == compact(entry["code"]) and r.id not in c.rules]:
            other = read_as_another(entry, allergies, s.evidence)
            if other is not None:
                w.demote(s)
                w.tag(r, s)
                w.flag(r, r.params.another_class, s, other=other["code"])


def _told_past(said: str, year: int | None, p: StatusParams) -> bool:
    """A sentence that tells the past: in words ("old MI", "previous PCI") or by a year before the
    letter's ("a myocardial infarction in 2016 treated with a coronary stent")."""
    return re.search(p.past, said, re.I) is not None or (
        year is not None and any(int(y) < year for y in _YEAR.findall(said)))


def _says(pattern: str | None, evidence) -> bool:
    return bool(pattern) and any(re.search(pattern, e.text, re.I) for e in evidence)


_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def letter_year(text: str, dates: str) -> int | None:
    """The year of the letter: that of its latest admission, discharge or letter date where it
    labels one ("Date of discharge: 23/10/2026", "Adm: 21/11/2026"), else of its latest full date (None without one):
    a plan's date a year on ("ticagrelor until 21/10/2027") or the history's dates do not date it."""
    found = [(m, int(y)) for m in re.finditer(dates, text) for y in m.groups() if y]
    labelled = [y for m, y in found if _EPISODE_DATE.search(text, max(0, text.rfind("\n", 0, m.start()) + 1, m.start() - 40),
                                                            m.start())]
    return max(labelled or [y for _, y in found], default=None)


# the words that label a date as the episode's or the letter's
_EPISODE_DATE = re.compile(r"\b(?:admitted|admission|adm|discharged|discharge|doa|dod|date of letter|letter date|dictated)\b[^\d\n]*$",
                           re.I)


# how far after a condition's mention a year still dates it ("quinsy in 2023", "NSTEMI 2015 treated medically"),
# and the words that date it from further on ("adenocarcinoma of the right upper lobe (...), diagnosed in October 2025")
DATES_AFTER = 40
_DIAGNOSED = re.compile(r"\b(?:diagnosed|first (?:found|seen|presented))\b[^.;]{0,20}$", re.I)


def dated_before(e: Evidence, year: int | None, mentions: Sequence[Mention] = ()) -> bool:
    """A sentence that dates what it says to a year before the letter's ("quinsy in 2023"). Given
    the condition's ``mentions``, the year dates it only where it stands before one of those in
    the sentence or just after it ("In 2018 she had a stent for stable angina"), not at the end of
    what else the sentence tells ("several years of worsening knee pain from osteoarthritis, ...
    despite a steroid injection in 2025"), unless it says when the condition was diagnosed."""
    found = _years(e)
    if year is None or not found or max(y for _, y in found) >= year:
        return False
    inside = [m for m in mentions if e.start <= m.start < e.end]
    return not inside or any(at < m.end + DATES_AFTER or _DIAGNOSED.search(e.text, 0, at - e.start)
                             for at, _ in found for m in inside)


def _years(e: Evidence) -> list[tuple[int, int]]:
    """The years a passage names, with where each stands in the letter."""
    return [(e.start + m.start(), int(m.group())) for m in _YEAR.finditer(e.text)]


def dated_next_to(e: Evidence, year: int | None, mentions: Sequence[Mention]) -> bool:
    """A sentence that tells this year too dates a condition by the year next to each of its
    ``mentions`` there, before it or just after it ("He had an anterior STEMI in 2021, ... (LVEF
    32% on echo in January 2026)")."""
    inside = [m for m in mentions if e.start <= m.start < e.end]
    if year is None or not inside:
        return False
    found = _years(e)
    nearest = [min(((abs(at - m.start), y) for at, y in found if at < m.end + DATES_AFTER), default=None)
               for m in inside]
    return all(n is not None and n[1] < year for n in nearest)


# the words that name a cancer or its course, whatever the title says ("recurrence of her carcinoma")
_NEOPLASM = re.compile(r"\b(?:cancer|carcinoma|malignan\w*|tumou?r|neoplasm|lymphoma|sarcoma|melanoma|recurren\w*|metasta\w*)",
                       re.I)


def _past(w: Work, s, year: int | None, cancer: bool = False) -> bool:
    """Whether every statement that names the condition (else every passage of its evidence)
    places it in the past: "NSTEMI 2015 treated medically", whatever else the ranker read beside
    it. A cancer's statement names it in other words than its title's ("bladder cancer" for a
    malignant neoplasm of the bladder): any mention behind it counts ("- Bladder cancer: TURBT
    2015", not "Bladder scan 1,050 ml"), and so does a passage of this episode that names a cancer
    ("biopsy confirmed recurrence of her carcinoma"). A short title's one word names it
    ("recurrent tonsillitis" for acute tonsillitis, unspecified), and a passage that tells only
    operations names no condition ("Return to theatre: arrest of haemorrhage from L tonsillar
    fossa", read beside it)."""
    short = len(content_words(s.title)) <= 2  # ("unspecified" and "other" are no content words)
    naming = w.naming(s) or (w.naming(s, least=1) if short else []) or (w.support(s) if cancer else [])
    evidence = [e for e in s.evidence if any(e.start <= m.start < e.end for m in naming)
                or cancer and e.section not in HISTORY_SECTIONS and _NEOPLASM.search(e.text)] or [
        e for e in s.evidence if not _only_operations(w, e)] or s.evidence
    return bool(evidence) and all(e.section in HISTORY_SECTIONS or e.assertion == "historical"
                                  or dated_before(e, year) or dated_next_to(e, year, naming) for e in evidence)


def _only_operations(w: Work, e: Evidence) -> bool:
    """Whether a passage's mentions are all of operations (and it has some)."""
    told = [m for m in w.mentions if e.start <= m.start < e.end]
    return bool(told) and all(m.procedural for m in told)


@rule("HIS-002", "comorbidities", HistoryParams)
def past_events(w: Work, r: Rule) -> None:
    p: HistoryParams = r.params
    system = _diagnosis_system(w, r)
    if system is None:
        return
    year = letter_year(w.text, p.dates)
    for s in [s for s in w.codes if s.system == system.value and s.kind == "diagnosis"]:
        event = _past_event(w, p, s, year)
        if event is None:
            continue
        w.demote(s)
        w.tag(r, s)
        if "history" not in event:
            w.flag(r, p.resolved, s)
            continue
        added = w.add(r, system, event["history"], s.evidence, rule_evidence=True)
        w.flag(r, p.message, s, other=added.code if added else event["history"])
    # a past event the suggester left among the candidates ("TIA 2020, no residual deficit") still
    # has its history code; a past cancer (past_if: its treatment ended) needs the suggester's word
    for c in [c for c in w.candidates if c.system == system.value and c.kind == "diagnosis"
              and (c.suggest or 0.0) >= p.candidate_floor and (c.system, c.code) not in w.demoted]:
        event = _past_event(w, p, c, year)
        if event is None or "history" not in event or "past_if" in event:
            continue
        added = w.add(r, system, event["history"], c.evidence, rule_evidence=True, score=c.score)
        if added is not None:
            w.tag(r, c)
            w.flag(r, p.message, c, other=added.code)
    _named_past(w, r, system, year)


def _named_past(w: Work, r: Rule, system: System, year: int | None) -> None:
    """A past primary cancer that a line names by words that fix its history code (an event's
    ``words``: "- Basal cell carcinoma of the right upper back excised in 2020; no recurrence"
    beside this episode's basal cell carcinoma of the nose, which the ranker read the line into)
    has that code, where the line tells its treatment ended and nothing current, and stands in
    the past history, is told as history or dates it before the letter's year."""
    p: HistoryParams = r.params
    for event in [e for e in p.events if "words" in e]:
        for m in [m for m in w.mentions if not m.procedural and m.assertion in ("present", "historical")
                  and m.section != "family_history"]:
            line = _line_of(w, m)
            if line is None:
                continue
            # the cancer as its clause names it ("Malignant melanoma of the left calf, excised 2015";
            # "Basal cell carcinoma of the right side of the nose, excised 2021"): the year after its
            # site dates it; not one in situ (D03-D04, a history of which is Z86.0)
            told = replace(m, end=m.end + re.search(_CLAUSE_END, w.text[m.end:line.end]).start())
            clause = w.text[told.start:told.end]
            if not re.search(event["words"], clause, re.I) or _IN_SITU.search(clause) or not (
                    line.section in HISTORY_SECTIONS or m.assertion == "historical" or dated_before(line, year, [told])):
                continue
            if _says(event["past_if"], [line]) and not _says(event.get("current_if"), [line]):
                added = w.add(r, system, event["history"], (line,), rule_evidence=True, score=p.named_score)
                if added is not None:
                    w.flag(r, p.named, added, mention=m.text)


_CLAUSE_END = re.compile(r"[,;:\u2013\u2014]| - |$")
_IN_SITU = re.compile(r"\bin[\s-]*situ\b|(?-i:\bMIS\b)", re.I)


def _line_of(w: Work, m: Mention) -> Evidence | None:
    """The kept sentence that holds ``m``, a history section's to the end of its line (None where
    no kept sentence holds it)."""
    held = w.holding([m])
    return _lines_of(w, [w.told(w.sentences[held[0]])])[0] if held else None


def _past_event(w: Work, p: HistoryParams, s: CodeSuggestion, year: int | None) -> dict | None:
    """The event entry of ``s`` where the letter gives it only as past history (None otherwise)."""
    event = next((e for e in p.events if in_refs(s.code, code_refs(e["codes"]))), None)
    if event is None or not _past(w, s, year, cancer="past_if" in event):
        return None
    told = _lines_of(w, s.evidence)
    if _says(event.get("current_if"), told) or "past_if" in event and not _says(event["past_if"], told):
        return None
    return event


def _lines_of(w: Work, evidence) -> list[Evidence]:
    """Each passage of ``evidence``, a history section's to the end of its line: a history line
    tells the rest of its story (how the cancer was treated, what is current) after its first
    sentence ("- Bladder cancer: TURBT 2015 for pTa G1 carcinoma. Flexi cystoscopy surveillance
    ..., all clear; discharged from surveillance 2021.")."""
    out = []
    for e in evidence:
        if e.section not in HISTORY_SECTIONS:
            out.append(e)
            continue
        end = w.text.find("\n", e.end)
        end = len(w.text) if end == -1 else end
        out.append(replace(e, end=max(e.end, end), text=w.text[e.start:max(e.end, end)]))
    return out


@rule("HIS-004", "comorbidities", MessageParams)
def absent_now(w: Work, r: Rule) -> None:
    """A condition the letter gives only in the past history, which this episode finds absent
    (every condition its history lines name is negated outside the history: "No haemorrhoids"
    at examination), is not coded."""
    absent = {m.canonical for m in w.mentions if m.assertion == "negated" and m.section not in HISTORY_SECTIONS}
    for s in [s for s in w.scope(r) if s.kind == "diagnosis"]:
        if not absent or not s.evidence or any(e.section not in HISTORY_SECTIONS for e in s.evidence):
            continue
        named = {m.canonical for m in w.inside(s, procedural=False) if m.coded}
        if named and named <= absent:
            w.demote(s)
            w.tag(r, s)
            w.flag(r, r.params.message, s, mention=", ".join(sorted(named)))


@dataclass(frozen=True)
class CuredParams:
    codes: tuple[str, ...]  # conditions an operation ends (a hernia repaired, a gall bladder removed)
    message: str

    def __post_init__(self):
        check_codes(self.codes, "codes")


def _in_history(section: str | None, assertion: str, uncertain: bool) -> bool:
    """Told as past history (with ``uncertain``: as a query in the past history)."""
    if uncertain:
        return section in HISTORY_SECTIONS and assertion == "uncertain"
    return section in HISTORY_SECTIONS or assertion == "historical"


def _history_statements(w: Work, s: CodeSuggestion, uncertain: bool = False) -> list[Evidence]:
    """The statements of ``s`` that give its condition, where every one is past history (with
    ``uncertain``: a query there); [] otherwise. A statement that names the condition only to deny
    it ("CXR: no pneumothorax"), or that names another condition, does not count against it."""
    if s.evidence and all(_in_history(e.section, e.assertion, uncertain) for e in s.evidence):
        return list(s.evidence)
    named = [m for m in w.support(s) if m.coded]
    if not named or not all(_in_history(m.section, m.assertion, uncertain) for m in named):
        return []
    return [e for e in s.evidence if any(e.start <= m.start < e.end for m in named)]


@rule("HIS-006", "comorbidities", CuredParams)
def cured_by_earlier_operation(w: Work, r: Rule) -> None:
    """A condition the letter gives only as past history, with the earlier operation that ended it
    in the same statement ("open mesh repair of a right inguinal hernia in 2019"; "right
    pneumothorax 1996 treated with a chest drain"), is not coded."""
    refs = code_refs(" ".join(r.params.codes))
    for s in [s for s in w.scope(r) if s.kind == "diagnosis" and in_refs(s.code, refs)]:
        told = _history_statements(w, s)
        # an operation only planned or queried has ended nothing ("inguinal hernia - awaiting repair")
        operations = [m for m in w.mentions if m.procedural and m.assertion not in ("negated", "hypothetical", "uncertain")
                      and any(e.start <= m.start and m.end <= e.end for e in told)]
        if operations:
            w.demote(s)
            w.tag(r, s)
            w.flag(r, r.params.message, s, mention=operations[0].text)


@rule("HIS-005", "comorbidities", MessageParams)
def query_in_history(w: Work, r: Rule) -> None:
    """A query condition given only in the past history ("?OSA, awaiting sleep studies") is not
    coded: the uncertain diagnoses coded as confirmed are the episode's own."""
    for s in [s for s in w.scope(r) if s.kind == "diagnosis"]:
        if _history_statements(w, s, uncertain=True):
            w.demote(s)
            w.tag(r, s)
            w.flag(r, r.params.message, s)


@dataclass(frozen=True)
class OutgrownParams:
    resolved: str  # words that say the condition ended ("no symptoms since", "cleared by")
    past: str  # words that place it in the past ("as a child", "since age 12", "in 2015")
    message: str
    history: tuple[str, ...] = ()  # sections that place what they list in the past (past medical history)
    # the personal history codes (Z85-Z87): they code a past condition, ended by what they are
    history_codes: tuple[str, ...] = ()

    def __post_init__(self):
        re.compile(self.resolved)
        re.compile(self.past)
        check_codes(self.history_codes, "history_codes")


# "no AF since": the condition denied since it was told (not "since starting amiodarone", which
# controls it)
_SINCE = re.compile(r"\s+since\b(?!\s+(?:starting|started|commenc\w*|on|taking|being))", re.I)


def _denied_since(w: Work, i: int, named: list[Mention]) -> bool:
    """Whether the next sentence of sentence ``i``'s paragraph says the condition has not come back,
    naming it again in words of one of ``named`` ("... one episode of fast atrial fibrillation
    after her hip replacement in 2019. She has had no AF since"; not "no acute kidney injury since"
    of a chronic kidney disease)."""
    x = w.sentences[i]
    nxt = w.sentences[i + 1] if i + 1 < len(w.sentences) else None
    names = [mention_words(m) for m in named]
    return nxt is not None and nxt.section == x.section and "\n\n" not in w.text[x.end:nxt.start] and any(
        nxt.start <= m.start < nxt.end and m.assertion == "negated" and _SINCE.match(w.text, m.end)
        and any(mention_words(m) <= words for words in names) for m in w.mentions)


@rule("HIS-007", "comorbidities", OutgrownParams)
def outgrown(w: Work, r: Rule) -> None:
    """A condition whose every statement places it in the past and says it ended ("Asthma as a
    child; no inhalers since the age of 12") no longer affects the patient: it is not coded."""
    p: OutgrownParams = r.params
    history_codes = code_refs(" ".join(p.history_codes))
    for s in [s for s in w.scope(r) if s.kind == "diagnosis" and not in_refs(s.code, history_codes)]:
        named = w.support(s)  # the statements that name the condition, else its evidence
        # (sentence index or None, text, section); the next sentence is read only where its own words do not say it ended
        told = [(i, w.text[x.start:x.end], x.section) for i, x in ((i, w.sentences[i]) for i in w.holding(named))] \
            or [(None, e.text, e.section) for e in s.evidence]
        if all((section in p.history or re.search(p.past, t, re.I))
               and (re.search(p.resolved, t, re.I) or (i is not None and _denied_since(w, i, named)))
               for i, t, section in told):
            w.demote(s)
            w.tag(r, s)
            w.flag(r, p.message, s)


@dataclass(frozen=True)
class EpisodeParams:
    sections: tuple[str, ...]  # where a procedure is previous, planned or recommended, not of this episode
    message: str
    unless: str = r"(?!)"  # CON-019: the words with which a result is taken up where it is given ("replaced")
    # the assertions of a statement that tells a procedure not carried out in this episode: an
    # earlier one, and one only considered ("possibly endovenous laser ablation")
    not_done: tuple[str, ...] = ("historical",)

    def __post_init__(self):
        re.compile(self.unless)
        if not set(self.not_done) <= set(ASSERTIONS):
            raise ValueError(f"not_done: {self.not_done!r} holds an unknown assertion; expected some of {ASSERTIONS}")


@rule("CON-019", "comorbidities", EpisodeParams)
def findings_only(w: Work, r: Rule) -> None:
    """A diagnosis the letter gives only as an investigation's result (a finding on the echo or
    the chest X-ray that no other line takes up) is not coded."""
    p: EpisodeParams = r.params
    for s in [s for s in w.scope(r) if s.kind == "diagnosis"]:
        if s.evidence and all(e.section in p.sections and not re.search(p.unless, e.text, re.I) for e in s.evidence):
            w.demote(s)
            w.tag(r, s)
            w.flag(r, p.message, s)


@rule("HIS-003", "comorbidities", EpisodeParams)
def not_this_episode(w: Work, r: Rule) -> None:
    p: EpisodeParams = r.params
    for s in [s for s in w.scope(r) if s.kind == "procedure"]:
        # the procedures its statements name, where they name any: all of an earlier episode ("OSA on
        # CPAP" states the sleep apnoea present and the CPAP as the patient's own treatment)
        named = w.inside(s, procedural=True)
        earlier = bool(named) and all(m.assertion in p.not_done or m.section in p.sections for m in named)
        # (a sentence's assertion is its first mention's: "Suspected appendicitis - laparoscopic
        # appendicectomy" is uncertain of the diagnosis, not of the operation)
        if s.evidence and (earlier or all(e.section in p.sections or e.assertion == "historical" for e in s.evidence)):
            w.demote(s)
            w.tag(r, s)
            w.flag(r, p.message, s)


@dataclass(frozen=True)
class SourceParams:
    sepsis: tuple[str, ...]  # the sepsis codes
    localised: tuple[str, ...]  # the localised infections a source is coded to
    named: str  # the words that name the sepsis in a sentence ("urosepsis", "septicaemia")
    cause: str  # the words after it that name its source ("secondary to", "from")
    message: str

    def __post_init__(self):
        check_codes(self.sepsis, "sepsis")
        check_codes(self.localised, "localised")
        re.compile(self.named)
        re.compile(self.cause)


def _sources(w: Work, p: SourceParams) -> list[list[Mention]]:
    """For each present or uncertain mention of sepsis of this episode (not of the past history)
    that cause words follow directly ("E. coli sepsis secondary to acute right pyelonephritis"),
    the present or uncertain mentions of conditions after them in its sentence, in order."""
    out, cause_words = [], re.compile(p.cause, re.I)
    for m0 in w.mentions:
        if m0.procedural or m0.assertion not in STATED or m0.section in HISTORY_SECTIONS \
                or not re.search(p.named, m0.text, re.I):
            continue
        x = next((w.sentences[i] for i in w.holding([m0])), None)
        cause = cause_words.match(w.text, m0.end, x.end) if x is not None else None
        if cause is not None:
            out.append([m for m in w.mentions if not m.procedural and m.assertion in STATED
                        and cause.end() <= m.start < x.end])
    return out


def _named_fully(w: Work, m: Mention, refs) -> CodeSuggestion | None:
    """The candidate (of ``refs``) whose title or index term the mention, with its modifiers,
    states most fully ("acute pyelonephritis": N10 over N12's "pyelonephritis")."""
    said = mention_words(m) | content_words(" ".join(m.modifiers))
    best, most = None, 0
    for c in w.candidates:
        if c.kind != "diagnosis" or not in_refs(c.code, refs):
            continue
        names = (c.title, *index_terms(System.parse(c.system)).get(c.code, ()))
        n = max((len(words) for t in names if (words := content_words(t)) and words <= said), default=0)
        if n > most or (n == most and best is not None and n and c.score > best.score):
            best, most = c, n
    return best if most else None


@rule("CON-063", "comorbidities", SourceParams)
def source_of_sepsis(w: Work, r: Rule) -> None:
    """The localised infection a sepsis statement names as its source is coded after the sepsis,
    where the ranker offers its code and nothing of its category, nor another localised
    infection read from the same statement, is suggested."""
    p: SourceParams = r.params
    sepsis, localised = code_refs(" ".join(p.sepsis)), code_refs(" ".join(p.localised))
    septic = [s for s in w.scope(r) if s.kind == "diagnosis" and in_refs(s.code, sepsis)]
    sources = _sources(w, p) if septic else []
    for s in septic:
        for after in sources:
            # the first mention after the cause words that names a localised infection ("E. coli" does not)
            m, found = next(((m, f) for m in after if (f := _named_fully(w, m, localised)) is not None), (None, None))
            # coded already: a code of its category, or a localised infection read from its statement
            if found is None or any(x.kind == "diagnosis" and (x.code[:3] == found.code[:3] or in_refs(x.code, localised)
                                    and any(e.start <= m.start < e.end for e in x.evidence)) for x in w.codes):
                continue
            added = w.add(r, System.parse(found.system), found.code, found.evidence, after=s)
            if added is not None:
                w.flag(r, p.message, added, other=s.code, mention=m.text)
