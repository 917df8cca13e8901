"""Classification conventions: Excludes1 pairs, code-first and use-additional notes, codes that
need more characters (citations in ``rules.yaml``)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from clincoder.core.codes import System, compact, opcs4_supplementary
from clincoder.core.contracts import Mention, SentenceRecord
from clincoder.core.schema import STATED, CodeSuggestion, Evidence
from clincoder.core.tables import CodeEntry, CodeTable
from clincoder.core.words import DENIAL_CLAUSE, OPERATION_PREFIX, OPERATION_WORD, content_words

from .engine import (Work, axis_gaps, carried, evidence, excluded_beside, explaining, listed_first, mention_text,
                     mention_words, notes_of, own_title, read_as_another, same_statement, shared_statement, specific,
                     term_words, title_holds, without_split)
from .refs import code_refs, in_refs
from .registry import rule
from .schema import MessageParams, Rule, check_codes, check_entries, check_notes, check_patterns


@dataclass(frozen=True)
class CodeFirstParams:
    missing: str
    reordered: str


@dataclass(frozen=True)
class AxesParams:
    axes: tuple[str, ...]
    message: str
    question: str = ""
    # axes that neighbouring categories of the same block may show (diabetes: E10 type 1 beside
    # E11 type 2); the others count only within the code's own category, so that acute
    # pericarditis in the block does not make atrial fibrillation "acute or chronic"
    across_categories: tuple[str, ...] = ()


@rule("CON-001", "conventions", MessageParams)
def excludes1(w: Work, r: Rule) -> None:
    kept: list[tuple[CodeSuggestion, CodeTable, CodeEntry]] = []
    for s in sorted(w.scope(r), key=lambda s: -s.score):
        table, entry = w.entry(s)
        if entry is None:
            continue
        clash = None
        for k, kt, ke in kept:
            if k.system != s.system or compact(k.code) == compact(s.code):
                continue
            note = next((n for n in notes_of(kt, ke, "excludes1") if in_refs(s.code, code_refs(n))), None) \
                or next((n for n in notes_of(table, entry, "excludes1") if in_refs(k.code, code_refs(n))), None)
            if note:
                clash = (k, note)
                break
        if clash is None:
            kept.append((s, table, entry))
            continue
        k, note = clash
        w.demote(s)
        w.tag(r, s, k)
        w.flag(r, r.params.message, s, codes=(s.code, k.code), other=k.code, notes=note)


@dataclass(frozen=True)
class ExcludedParams:
    # WHO's Excludes notes as data ({code: [note, ...]}, each naming in brackets the codes that
    # classify the excluded condition), as CON-010 holds the combinations ICD-10-CM dropped: the
    # UK and WHO tables carry no notes
    notes: dict
    message: str

    def __post_init__(self):
        object.__setattr__(self, "notes", check_notes(self.notes, "notes"))


@rule("CON-042", "conventions", ExcludedParams)
def excluded_with(w: Work, r: Rule) -> None:
    """A code that a WHO Excludes note sends elsewhere (hyponatraemia, "excludes: syndrome of
    inappropriate secretion of antidiuretic hormone (E22.2)") is not coded beside the code that
    classifies it; where it was the primary, that code takes its place."""
    p: ExcludedParams = r.params
    for s in [s for s in w.scope(r) if s.kind == "diagnosis"]:
        found = excluded_beside(r, s, w.scope(r))
        if found is None or s not in w.codes:
            continue
        other, note = found
        if s is next(c for c in w.codes if c.system == s.system):
            w.move_before(other, s)
        w.demote(s)
        w.tag(r, s, other)
        w.flag(r, p.message, s, codes=(s.code, other.code), other=other.code, notes=note)


@rule("CON-002", "conventions", CodeFirstParams)
def code_first(w: Work, r: Rule) -> None:
    for s in w.scope(r):
        table, entry = w.entry(s)
        notes = notes_of(table, entry, "code_first") if entry else []
        refs = tuple(ref for n in notes for ref in code_refs(n))
        if not refs:
            continue
        hit = next((o for o in w.codes if o is not s and o.system == s.system and in_refs(o.code, refs)), None)
        if hit is None:
            w.tag(r, s)
            w.flag(r, r.params.missing, s, notes="; ".join(n.strip(" ,:") for n in notes))
        elif w.at(hit) > w.at(s):
            w.move_before(hit, s)
            w.tag(r, s, hit)
            w.flag(r, r.params.reordered, s, codes=(hit.code, s.code), other=hit.code)


@rule("CON-003", "conventions", MessageParams)
def use_additional(w: Work, r: Rule) -> None:
    for s in w.scope(r):
        table, entry = w.entry(s)
        if entry is None:
            continue
        wanted = [n for n in notes_of(table, entry, "use_additional")
                  if code_refs(n) and not any(in_refs(o.code, code_refs(n)) for o in w.codes if o.system == s.system)]
        if wanted:
            w.tag(r, s)
            w.flag(r, r.params.message, s, notes="; ".join(dict.fromkeys(wanted)))


@rule("CON-004", "conventions", AxesParams)
def not_selectable(w: Work, r: Rule) -> None:
    p: AxesParams = r.params
    axes = [w.ruleset.axes[a] for a in p.axes]
    for s in w.scope(r):
        table, entry = w.entry(s)
        if entry is None or table.is_selectable(s.code):
            continue
        support = w.support(s)
        details, asked = [], False
        for _, by_value, found in axis_gaps(w, r, s, entry, table.children(entry.code), axes, support):
            if found:
                better = specific(table, entry, by_value.get(found[0]) or [entry])
                details.append(f" The letter documents {found[0]}: consider {better.code}.")
            else:
                asked = True
        if not asked:
            w.query(r, p.question, s, evidence=evidence(support), condition=mention_text(support))
        w.tag(r, s)
        w.flag(r, p.message, s, details="".join(details))


@dataclass(frozen=True)
class DaggerParams:
    pairs: tuple[dict, ...]  # {dagger, asterisk}: the asterisk code that goes with a dagger code
    asterisks: tuple[str, ...]  # the asterisk categories
    added: str
    primary: str
    dagger: str  # a suggested code that becomes the dagger of a suggested asterisk code
    replaces: str  # titles of codes that become the dagger ("without complications")
    # {asterisk, dagger}: conditions an asterisk code goes with that do not always bring it
    # (cirrhosis K74.6 with bleeding varices I98.3): put first when the asterisk code is first
    underlying: tuple[dict, ...] = ()

    def __post_init__(self):
        check_entries(self.pairs, "pairs", {"dagger": str, "asterisk": str}, {"words": str})
        check_entries(self.underlying, "underlying", {"dagger": str, "asterisk": str}, {})
        check_codes(self.asterisks, "asterisks")
        check_patterns({e["dagger"]: e["words"] for e in self.pairs if "words" in e}, "pairs")


def _pair_of(p: DaggerParams, code: str) -> dict | None:
    """The dagger-and-asterisk pair whose dagger ``code`` is."""
    return next((e for e in p.pairs if in_refs(code, code_refs(e["dagger"]))), None)


def _asterisk_of(p: DaggerParams, code: str) -> str | None:
    pair = _pair_of(p, code)
    return pair["asterisk"] if pair else None


def _brings_asterisk(p: DaggerParams, s: CodeSuggestion) -> bool:
    """Whether dagger ``s`` brings its asterisk code: always, unless its pair names the ``words``
    its statements must hold (E11.6, other specified complications, brings Charcot arthropathy
    M14.6 only where the letter says so)."""
    pair = _pair_of(p, s.code)
    return pair is not None and ("words" not in pair or any(re.search(pair["words"], e.text, re.I) for e in s.evidence))


def _dagger_by_category(p: DaggerParams, star: str) -> dict[str, str]:
    """``{category: dagger code}`` of the dagger codes that go with asterisk code ``star``
    (G63.2: ``{"E10": "E10.4", "E11": "E11.4", ...}``)."""
    return {compact(d)[:3]: d.strip() for e in p.pairs if compact(e["asterisk"]) == compact(star)
            for d in e["dagger"].split(",")}


def _with_its_dagger(w: Work, r: Rule, p: DaggerParams, star: CodeSuggestion) -> None:
    """A suggested asterisk code without its dagger: a suggested code of a dagger's category
    becomes that dagger where it says nothing more (T2DM without complications E11.9 beside
    diabetic polyneuropathy G63.2 is E11.4); one that codes another complication (E10.1
    ketoacidosis) stays, and the dagger is coded after it. An asterisk with a single dagger
    (dementia in Alzheimer disease F00.9: G30.9) gets it, in its place, where nothing else
    codes the underlying condition."""
    daggers = _dagger_by_category(p, star.code)
    system = System.parse(star.system)
    if not daggers or any(w.suggested(system, d) for d in daggers.values()):
        return
    base = next((s for s in w.scope(r) if compact(s.code)[:3] in daggers), None)
    if base is None:
        if len(daggers) == 1:  # one underlying condition (F00.9: G30.9), coded in the asterisk's place
            dagger = next(iter(daggers.values()))
            if (added := w.add(r, system, dagger, star.evidence, after=star)) is not None:
                w.move_before(added, star)
                w.flag(r, p.added, added, codes=(dagger, star.code), other=star.code)
        return
    dagger = daggers[compact(base.code)[:3]]
    if re.search(p.replaces, base.title, re.I):  # "without complications": it becomes the dagger
        w.replace(r, base, system, dagger)
        w.flag(r, p.dagger, base, codes=(base.code, dagger, star.code), other=dagger, value=star.code)
    elif (added := w.add(r, system, dagger, star.evidence, after=base)) is not None:  # another complication: beside it
        w.flag(r, p.added, added, codes=(dagger, star.code), other=star.code)


@rule("CON-005", "conventions", DaggerParams)
def dagger_asterisk(w: Work, r: Rule) -> None:
    p: DaggerParams = r.params
    stars = code_refs(" ".join(p.asterisks))
    for s in [s for s in w.scope(r) if in_refs(s.code, stars)]:
        _with_its_dagger(w, r, p, s)
    for s in list(w.scope(r)):
        star = _asterisk_of(p, s.code)
        if star is not None and s in w.codes:
            system = System.parse(s.system)
            have = w.suggested(system, star)
            if have is None:
                added = w.add(r, system, star, s.evidence, after=s) if _brings_asterisk(p, s) else None
                if added is not None:
                    w.tag(r, s)
                    w.flag(r, p.added, s, codes=(s.code, star), other=star)
            elif w.at(have) < w.at(s):  # the dagger takes the asterisk's place
                w.move_before(s, have)
                w.tag(r, s, w.unmark_primary(have) if have.role == "primary" else have)
            elif w.at(have) != w.at(s) + 1:
                w.move_after(have, s)
                w.tag(r, s, have)
    _never_primary(w, r, p, stars)


def _never_primary(w: Work, r: Rule, p: DaggerParams, stars) -> None:
    """An asterisk code is never the primary diagnosis: its dagger goes first; an asterisk whose
    dagger the pairs do not name (oesophageal varices in cirrhosis, I98.3 beside K74.6, which
    CON-017 made in the varices' place) gives way to the first of its ``underlying`` conditions,
    else to the first diagnosis that is not an asterisk code, and the coder is told to check it."""
    mine = [s for s in w.scope(r) if s.kind == "diagnosis"]
    if not mine or not in_refs(mine[0].code, stars):
        return
    daggers = [s for s in mine if _asterisk_of(p, s.code) and in_refs(_asterisk_of(p, s.code), code_refs(mine[0].code))]
    if daggers:
        w.move_before(daggers[0], mine[0])
        w.tag(r, daggers[0], w.unmark_primary(mine[0]))
        return
    listed = [code_refs(e["dagger"]) for e in p.underlying if in_refs(mine[0].code, code_refs(e["asterisk"]))]
    underlying = next((s for s in mine[1:] if any(in_refs(s.code, refs) for refs in listed)), None)
    underlying = underlying or next((s for s in mine[1:] if not in_refs(s.code, stars)), None)
    star = mine[0]
    if underlying is not None:
        w.move_before(underlying, star)
        star = w.unmark_primary(star)
        w.tag(r, underlying)
    w.tag(r, star)
    w.flag(r, p.primary, star)


@dataclass(frozen=True)
class IntegralParams:
    symptoms: tuple[str, ...]
    not_definitive: tuple[str, ...]
    stated: tuple[str, ...]  # sections where a clinician states a diagnosis: a symptom stated there is kept
    message: str
    coded_with: tuple[dict, ...] = ()  # {diagnoses, symptoms}: symptoms not integral to those diagnoses
    # a primary symptom gives way only to a diagnosis that explains it (stated with it, listed
    # under these headings, or of the body system its block names: related); else it stays
    listed: tuple[str, ...] = ()
    related: tuple[dict, ...] = ()

    def __post_init__(self):
        check_codes(self.symptoms, "symptoms")
        check_codes(self.not_definitive, "not_definitive")
        check_entries(self.coded_with, "coded_with", {"diagnoses": str, "symptoms": str}, {})
        check_entries(self.related, "related", {"diagnoses": str, "symptoms": str}, {})


def _coded_with(p: IntegralParams, symptom: str, definitive) -> bool:
    """Whether ``symptom`` is coded beside one of the ``definitive`` diagnoses all the same."""
    return any(in_refs(symptom, code_refs(e["symptoms"])) and any(in_refs(d.code, code_refs(e["diagnoses"]))
                                                                 for d in definitive) for e in p.coded_with)


@rule("CON-006", "conventions", IntegralParams)
def integral_symptoms(w: Work, r: Rule) -> None:
    p: IntegralParams = r.params
    symptoms, not_definitive = code_refs(" ".join(p.symptoms)), code_refs(" ".join(p.not_definitive))
    mine = [s for s in w.scope(r) if s.kind == "diagnosis"]
    definitive = [s for s in mine if not in_refs(s.code, not_definitive)]
    if not definitive:
        return
    for s in [s for s in mine if in_refs(s.code, symptoms) and not _coded_with(p, s.code, definitive)]:
        explains = explaining(s, definitive, p.listed, p.related)
        combined = [d for d in definitive if title_holds(d, s)]
        # a symptom a diagnosis list states is kept, unless the same statement gives what explains
        # it ("pyelonephritis, right-sided loin pain") or a coded diagnosis's own title holds it
        # (coma, E11.0 "diabetes mellitus with coma")
        if combined or not any(e.section in p.stated for e in s.evidence) or any(same_statement(d, s) for d in explains):
            explains = combined + [d for d in explains if d not in combined]
            first = next(c for c in w.codes if c.system == s.system)
            if s is first and p.listed and not explains:
                continue  # the main condition is the symptom: no coded diagnosis explains it
            explains = [d for d in explains if same_statement(d, s)]  # stated with it: takes its place
            w.demote(s)
            w.tag(r, s)
            if s is first and explains:  # the diagnosis stated with the primary symptom takes its place
                w.move_before(explains[0], next(c for c in w.codes if c.system == s.system))
                w.tag(r, explains[0])
            other = (explains or definitive)[0].code
            w.flag(r, p.message, s, codes=(s.code, other), other=other)


@dataclass(frozen=True)
class DeficitParams:
    """A condition's deficits a letter states (CON-056), or conditions it states that the suggester
    scores low (CON-059, CON-061): coded where named, in this episode."""
    diagnoses: str  # the conditions whose deficits are coded with them (a stroke); A00-Z99: any
    deficits: tuple[str, ...]  # the codes a letter states of them (dysphasia, dysphagia; R33, M17.0)
    named: str  # the words that name a deficit in a mention ("dysphasia", "hemianopia")
    unless: str  # a sentence that gives the deficit another cause, or an earlier one, or has it resolved
    history: tuple[str, ...]  # sections that tell of other episodes: no deficit is read there
    message: str
    # True: a mention anywhere in the letter states it, not only within the code's evidence (the
    # ranker's evidence for a symptom may be other sentences than the one that names it)
    anywhere: bool = False
    # True: coded after the last diagnosis, a background condition (not after the primary)
    last: bool = False
    # characters either side of a mention, on its line, read with it for ``named`` ("blood loss"
    # before "anaemia", "of both knees" after "osteoarthritis")
    around: int = 0

    def __post_init__(self):
        check_codes((self.diagnoses,), "diagnoses")
        check_codes(self.deficits, "deficits")
        re.compile(self.named)
        re.compile(self.unless)


def _around(text: str, m: Mention, chars: int) -> str:
    """A mention's text with up to ``chars`` characters either side on its line ("Acute blood loss
    anaemia", "Osteoarthritis of both knees")."""
    if not chars:
        return m.text
    start = max(text.rfind("\n", 0, m.start) + 1, m.start - chars)
    end = text.find("\n", m.end)
    return text[start:min(m.end + chars, len(text) if end < 0 else end)]


def _stated_deficit(w: Work, c: CodeSuggestion, p: DeficitParams) -> list[Mention]:
    """The present mentions of this episode, within ``c``'s evidence (anywhere in the letter with
    ``anywhere``), that name the deficit or stated condition its
    title or index terms name ("homonymous hemianopia" for H53.4, visual field defects) by a word
    of ``p.named`` (not "visual hallucinations", nor an "aphasia-friendly" leaflet), in a sentence
    that gives it no other cause and does not have it resolved."""
    words, named, unless = content_words(c.title) | term_words(System.parse(c.system), c.code), \
        re.compile(p.named, re.I), re.compile(p.unless, re.I)
    pool = [m for m in w.mentions if not m.procedural] if p.anywhere else w.inside(c, procedural=False)
    return [m for m in pool
            if m.assertion == "present" and m.section not in p.history and words & mention_words(m)
            and named.search(_around(w.text, m, p.around)) and w.text[m.end:m.end + 1] != "-"
            and not any(unless.search(w.text[r.start:r.end]) for r in w.sentences if r.start <= m.start < r.end)]


@rule("CON-061", "conventions", DeficitParams)
@rule("CON-059", "conventions", DeficitParams)
@rule("CON-056", "conventions", DeficitParams)
def stated_deficits(w: Work, r: Rule) -> None:
    """The neurological deficits a letter states of the stroke it codes (dysphasia, dysphagia,
    dysarthria, ataxia, a visual field defect) are coded with it, where the ranker offers the
    code and no code of its category is suggested."""
    p: DeficitParams = r.params
    causes, deficits = code_refs(p.diagnoses), code_refs(" ".join(p.deficits))
    for cause in [s for s in w.scope(r) if s.kind == "diagnosis" and in_refs(s.code, causes)][:1]:
        system, after = System.parse(cause.system), cause
        if p.last:  # a background condition follows the episode's
            after = [s for s in w.codes if s.kind == "diagnosis"][-1]
        for c in [c for c in w.candidates if c.system == cause.system and in_refs(c.code, deficits)
                  and (c.system, c.code) not in w.demoted]:
            if any(s.system == c.system and s.code[:3] == c.code[:3] for s in w.codes):
                continue  # a code of its category is coded already
            named = _stated_deficit(w, c, p)
            told = tuple(e for e in c.evidence if any(e.start <= m.start < e.end for m in named)) or tuple(
                w.told(sent) for sent in w.sentences if any(sent.start <= m.start < sent.end for m in named))
            added = w.add(r, system, c.code, told, after=after, rule_evidence=True) if told else None
            if added is not None:
                after = added
                w.flag(r, p.message, added, codes=(added.code, cause.code), other=cause.code)


def _narrowing(entries: tuple[dict, ...], entry: dict) -> list[dict]:
    """The entries whose code is one of ``entry``'s ``narrowed_by`` (code references: "Y45.1, Y45.2",
    "B95.0-B95.4"): the narrower names a letter may give for what ``entry`` names broadly (an
    NSAID and naproxen, a streptococcus and Streptococcus pyogenes)."""
    refs = code_refs(entry.get("narrowed_by", ""))
    return [e for e in entries if e is not entry and refs and in_refs(e["add"], refs)]


def _check_narrowed(entries: tuple[dict, ...], kind: str) -> None:
    """Each entry's ``narrowed_by`` names codes that other entries add."""
    for entry in entries:
        if entry.get("narrowed_by") and not _narrowing(entries, entry):
            raise ValueError(f"{kind} {entry['words']!r}: narrowed_by names no code another entry of {kind} adds: "
                             f"{entry['narrowed_by']!r}")


@dataclass(frozen=True)
class AdverseEffectParams:
    drugs: tuple[dict, ...]  # {words, add}: the drug (class) and its Y40-Y59 code
    cause: str  # the words that make the drug the cause ("secondary to", "due to")
    induced: str  # the words after a drug that make it the cause ("-induced", "-related")
    codes: tuple[str, ...]  # the conditions an adverse effect can be (not poisonings, external causes, Z codes)
    message: str
    near: int = 4  # at most this many words, no punctuation, between the cause words and the drug
    # conditions left among the candidates that are coded where their own statement names the drug
    # that caused them ("steroid-induced hyperglycaemia": a finding, coded as the adverse effect),
    # the best of a statement where the suggester gives it at least ``floor``
    promote: tuple[str, ...] = ()
    floor: float = 0.1
    # the words just before the drug, after the cause, that say it was not taken ("precipitated
    # by omission of insulin"; not "missed meals on gliclazide"): the missing drug is no adverse effect
    not_taken: str = r"(?!)"
    # the words just before the cause words, or the drug's "-induced" form, that deny it ("we do
    # not think it was caused by the bisoprolol", "not thiazide-induced"): the drug caused nothing
    denied: str = r"(?!)"
    # {codes, becomes}: a condition whose classification has a code for its drug-induced form
    # ("Drug-induced tremor" G25.1, "Hypotension due to drugs" I95.2) is coded by it when a drug caused it
    drug_induced: tuple[dict, ...] = ()

    def __post_init__(self):
        check_entries(self.drugs, "drugs", {"words": str, "add": str}, {"narrowed_by": str})
        _check_narrowed(self.drugs, "drugs")
        check_entries(self.drug_induced, "drug_induced", {"codes": str, "becomes": str}, {})
        check_codes(self.codes, "codes")
        check_codes(self.promote, "promote")
        check_codes(tuple(e["becomes"] for e in self.drug_induced), "drug_induced becomes")
        check_codes(tuple(c for e in self.drug_induced for c in e["codes"].split()), "drug_induced codes")
        for pattern in (self.cause, self.induced, self.not_taken, self.denied, *(d["words"] for d in self.drugs)):
            re.compile(pattern)

    @functools.cached_property
    def any_drug(self) -> re.Pattern:
        """Any drug of :attr:`drugs`, built once."""
        return re.compile("|".join(f"(?:{d['words']})" for d in self.drugs), re.I)


def _caused_by(p: AdverseEffectParams, drug: str, told: str, before: str) -> re.Match | None:
    """The words that make ``drug`` the cause of the condition: a cause phrase or the drug's
    "-induced" form after the condition's own words (``told``: "hyperkalaemia due to
    spironolactone", "DKA, SGLT2i (dapagliflozin) associated", not the gastroenteritis that
    "precipitated" it after them), or the "-induced" form just before them (``before``:
    "thiazide-induced hyponatraemia", "oxaliplatin-related peripheral sensory neuropathy",
    "LITHIUM TOXICITY -> toxic encephalopathy"); not a drug the cause words say was not taken
    ("precipitated by omission of insulin"), nor one they are denied of ("we do not think it was
    caused by the bisoprolol")."""
    said = re.search(rf"(?:{p.cause})\s+(?P<between>(?:[\w+&/-]+\s+){{0,{p.near}}}?)(?:{drug})\b", told, re.I)
    if said is not None and (re.search(p.not_taken, said.group("between"), re.I) or
                             re.search(p.denied, told[:said.start()], re.I)):
        said = None
    induced = re.search(rf"\b(?:{drug})(?:{p.induced})", told, re.I) or \
        re.search(rf"\b(?:{drug})(?:{p.induced})[\s:>-]*(?:[\w-]+\s+){{0,3}}$", before, re.I)
    if induced is not None and re.search(p.denied, induced.string[:induced.start()], re.I):
        induced = None  # "not thiazide-induced"
    return said or induced


def _drug_caused(w: Work, p: AdverseEffectParams, s: CodeSuggestion, e: Evidence) -> bool:
    """Statement ``e`` says a drug caused the condition of ``s`` at the condition's own mention
    (any drug looked for first: most statements name none)."""
    if not p.any_drug.search(e.text) or not any(e.start <= m.start < e.end for m in w.support(s)):
        return False
    before, told = _around_the_condition(w, s, e)
    return any(_caused_by(p, d["words"], told, before) for d in p.drugs)


def _promote_stated(w: Work, r: Rule, p: AdverseEffectParams) -> dict[int, list[Evidence]]:
    """The best candidate of each present statement that names the drug causing the condition,
    where no suggested diagnosis is read from that statement already. Where the condition the
    statement names is a suggested diagnosis's ("the ulcer is likely NSAID-related" of a coded
    duodenal ulcer: the candidate's mention words are all that diagnosis's title words), the
    statement is that diagnosis's instead: returned by ``id`` of the diagnosis, nothing promoted."""
    refs = code_refs(" ".join(p.promote))
    told = {(e.start, e.end) for s in w.scope(r) if s.kind == "diagnosis" for e in s.evidence}
    best: dict[tuple[int, int], tuple[CodeSuggestion, Evidence]] = {}
    for c in w.candidates:
        if c.kind != "diagnosis" or (c.system, c.code) in w.demoted or not in_refs(c.code, refs) \
                or (c.suggest or 0.0) < p.floor or System.parse(c.system) not in r.applies_to:
            continue
        for e in c.evidence:
            where = (e.start, e.end)
            if e.assertion == "present" and where not in told and _drug_caused(w, p, c, e) \
                    and (where not in best or c.score > best[where][0].score):
                best[where] = (c, e)
    theirs: dict[int, list[Evidence]] = {}
    promoted: dict[int, CodeSuggestion] = {}
    for c, e in best.values():
        coded = _coded_as(w, r, c, e)
        if coded is not None:
            theirs.setdefault(id(coded), []).append(e)
        else:
            promoted[id(c)] = c
    for c in promoted.values():
        w.add(r, System.parse(c.system), c.code, c.evidence)
    return theirs


def _coded_as(w: Work, r: Rule, c: CodeSuggestion, e: Evidence) -> CodeSuggestion | None:
    """The suggested diagnosis whose title holds every word of the candidate ``c``'s mention in
    statement ``e`` (the same condition told again, "the ulcer"), or None."""
    said = [mention_words(m) for m in w.support(c) if e.start <= m.start < e.end]
    if not said or not all(said):
        return None
    return next((s for s in w.scope(r) if s.kind == "diagnosis" and s.system == c.system
                 and all(words <= content_words(s.title) for words in said)), None)


def _around_the_condition(w: Work, s: CodeSuggestion, e: Evidence) -> tuple[str, str]:
    """The words of statement ``e`` before the condition's own mention and from it on; all of
    them count as from it on where no mention of the condition lies in it."""
    starts = [m.start for m in w.support(s) if e.start <= m.start < e.end]
    cut = min(starts) - e.start if starts else 0
    return e.text[:cut], e.text[cut:]


@rule("CON-022", "conventions", AdverseEffectParams)
def adverse_effect(w: Work, r: Rule) -> None:
    """A condition the letter states a drug caused in therapeutic use ("thiazide-induced
    hyponatraemia", "neutropenia secondary to chemotherapy") is followed by the Y40-Y59 code of
    the drug."""
    p: AdverseEffectParams = r.params
    placed: set[int] = set()
    theirs = _promote_stated(w, r, p)
    conditions = code_refs(" ".join(p.codes))
    for s in [s for s in w.scope(r) if s.kind == "diagnosis" and in_refs(s.code, conditions)]:
        parts = [_around_the_condition(w, s, e) for e in (*s.evidence, *theirs.get(id(s), ()))]
        found = sorted(((m.start(), _narrowed(w, p, d), m) for d in p.drugs for before, told in parts
                        if (m := _caused_by(p, d["words"], told, before))), key=lambda f: f[0])
        condition = _drug_induced_form(w, r, s) if found else s
        after = condition
        for add, match in dict((add, m) for _, add, m in found).items():  # each drug class once, as told
            added = w.attach(r, System.parse(s.system), add, condition, after, placed, score=condition.score)
            if added is not None:
                after = added
                w.tag(r, condition)
                w.flag(r, p.message, condition, codes=(condition.code, added.code), other=added.code,
                       mention=match.group(0))


def _narrowed(w: Work, p: AdverseEffectParams, drug: dict) -> str:
    """The code of the one drug of ``drug``'s ``narrowed_by`` classes the letter names outside its
    allergies, where it names exactly one ("NSAID-related" ulcer in a letter whose drugs name naproxen: Y45.2, the
    propionic acid derivatives, not Y45.3, the NSAID unnamed); else ``drug``'s own code."""
    taken = " ".join(w.text[s.start:s.end] for s in w.sentences if s.section != "allergies")
    narrower = {d["add"] for d in _narrowing(p.drugs, drug) if re.search(rf"\b(?:{d['words']})\b", taken, re.I)}
    return narrower.pop() if len(narrower) == 1 else drug["add"]


def _drug_induced_form(w: Work, r: Rule, s: CodeSuggestion) -> CodeSuggestion:
    """The code of the drug-induced form of the condition of ``s`` (:attr:`AdverseEffectParams.drug_induced`)
    in its place, where a statement ties the drug to the condition's own mention
    (:func:`_tied_to_a_drug`); else ``s`` (as where the table lacks that code or a validity edit
    rules it out: :meth:`Work.replace` keeps ``s`` then)."""
    system = System.parse(s.system)
    entry = next((e for e in r.params.drug_induced if in_refs(s.code, code_refs(e["codes"]))), None)
    if entry is None or s.code == entry["becomes"] or not _tied_to_a_drug(w, r.params, s):
        return s
    w.replace(r, s, system, entry["becomes"], score=s.score)
    return w.suggested(system, entry["becomes"]) or s


def _tied_to_a_drug(w: Work, p: AdverseEffectParams, s: CodeSuggestion) -> bool:
    """A statement of ``s`` names the drug as the cause of the condition's own mention: the drug's
    "-induced" form just before or after it ("steroid-induced cataract", "cataract,
    steroid-induced"), or the cause words after it with at most two words between ("tremor caused
    by lithium"; not "Parkinson's disease with visual hallucinations secondary to co-careldopa")."""
    drugs = p.any_drug.pattern
    for e in s.evidence:
        mine = sorted((m for m in w.support(s) if e.start <= m.start < e.end), key=lambda m: m.start)
        if not mine:
            continue
        before, after = w.text[e.start:mine[0].start], w.text[mine[-1].end:e.end]
        if re.search(rf"\b(?:{drugs})(?:{p.induced})[\s:-]*$", before, re.I) or re.match(
                rf"(?:\s+[\w'-]+){{0,2}}?\s+(?:{p.cause})\s+(?:[\w+&/-]+\s+){{0,{p.near}}}?(?:{drugs})\b", after, re.I) \
                or re.match(rf"[\s,(]+(?:{drugs})(?:{p.induced})", after, re.I):
            return True
    return False


@dataclass(frozen=True)
class OrganismParams:
    infections: tuple[str, ...]  # infections whose code does not name the organism
    coded: tuple[str, ...]  # organism codes: where one is suggested, nothing is added
    # {words, add, combined_only, narrowed_by}: the organism as letters name it and its code; one
    # whose code is not a B95-B96 organism code (Salmonella, A02.9) is ``combined_only``: it only
    # picks a combination code (Salmonella sepsis A02.1), and is never added after an infection; a
    # genus gives way to the species of ``narrowed_by`` that the episode names
    organisms: tuple[dict, ...]
    skip_sections: tuple[str, ...]  # sections that tell of other episodes
    message: str
    # {codes, words, becomes}: infections whose code becomes the combination code that names the
    # organism ({organism code: combination code}), where the infection's own statement or a
    # sentence with ``words`` (its cultures) names it
    combinations: tuple[dict, ...] = ()
    combined: str = ""
    misread: str = "{code} ({title}) is coded as {other}: the organism the letter names."
    titled: str = "{code} ({title}) is not coded beside {other}, whose title names the organism."
    # cause codes that stay directly after the infection (the procedure of CON-044): the organism follows them
    causes: tuple[str, ...] = ()

    def __post_init__(self):
        check_entries(self.organisms, "organisms", {"words": str, "add": str}, {"combined_only": bool, "narrowed_by": str})
        _check_narrowed(self.organisms, "organisms")
        check_entries(self.combinations, "combinations", {"codes": str, "words": str, "becomes": dict}, {})
        check_codes(self.infections, "infections")
        check_codes(self.coded, "coded")
        check_codes(self.causes, "causes")
        for entry in self.organisms:
            re.compile(entry["words"])
        for entry in self.combinations:
            check_codes(tuple(entry["becomes"]) + tuple(v.rstrip("+") for v in entry["becomes"].values()),
                        "combinations becomes")


def _organism_named(w: Work, p: OrganismParams, infection: CodeSuggestion, where: str = "",
                    added: bool = False, among: frozenset[str] | None = None) -> tuple[dict, re.Match, Evidence] | None:
    """The first organism (entry, match, statement) named in the infection's own evidence, else in
    a sentence of this episode (with ``where`` in it, if given); negated, family and hypothetical
    words are blanked there. ``added``: only organisms whose code is added after an infection;
    ``among``: only organisms of these codes (those a combination has a code for)."""
    organisms = [o for o in p.organisms if not (added and o.get("combined_only"))
                 and (among is None or o["add"] in among)]
    own = [s for s in w.sentences if any(e.start <= s.start < e.end for e in infection.evidence)]
    rest = [s for s in w.episode_sentences(p.skip_sections) if s not in own
            and (not where or re.search(where, s.query, re.I))]
    def named(sentences, entries):
        for s in sentences:
            for entry in entries:
                found = next((m for m in re.finditer(entry["words"], s.query, re.I) if not _found_absent(s.query, m)),
                             None)
                if found:
                    return entry, found, w.told(s)
        return None

    hit = named(own + rest, organisms)
    if hit is not None and hit[0].get("narrowed_by"):  # "staphylococcal", and the culture grew S. aureus
        hit = named(own + rest, _narrowing(organisms, hit[0])) or hit
    return hit


_CLAUSE_END = re.compile(r"[.;,]\s")
# (a test only sent or awaited, or a vaccine or prophylaxis against the organism, finds none)
_ABSENT_AFTER = re.compile(r"\b(negative|not (detected|isolated|grown|seen)|no growth|sent|awaited|pending|requested|"
                           r"prophylaxis|vaccin\w*|immunis\w*)\b|-ve\b", re.I)
_ABSENT_BEFORE = re.compile(r"\b(no|not|negative for|without|sent for|awaiting|pending|requested)\s+(\S+\s+){0,2}$", re.I)


def _found_absent(text: str, found: re.Match) -> bool:
    """An organism that a test did not find ("pneumococcal and Legionella urinary antigens
    negative", "negative for MRSA"), read within the clause of the name, or named in a list that
    a test did not find ("no Salmonella, Shigella or Campylobacter isolated", "Salmonella,
    Shigella and E. coli O157 not isolated")."""
    end = _CLAUSE_END.search(text, found.end())
    after = text[found.end():end.start() if end else len(text)]
    before = text[:found.start()]
    sentence_before = re.split(r"[.;]\s", before)[-1]
    return bool(_ABSENT_AFTER.search(after) or _ABSENT_BEFORE.search(re.split(r"[.;,]\s", before)[-1])
                or _ABSENT_BEFORE_LIST.search(sentence_before)
                or _LIST_ITEM_OPENS.search(sentence_before) is not None and _ABSENT_AFTER_LIST.match(text, found.end()))


# a list of organisms (one to three words each, joined by commas, "or", "and", "nor") after "no" or
# before "not isolated"
_ITEM = r"[\w.'-]+(?:\s+[\w.'-]+){0,2}"
_JOIN = r"(?:\s*,\s*|\s+(?:or|and|nor)\s+)"
_LIST_ITEM_OPENS = re.compile(r"(?:^|[:,;(]|\bor|\band)\s*$", re.I)  # the name opens a list item, after no verb
_ABSENT_BEFORE_LIST = re.compile(rf"\b(?:no|negative for)\s+(?:{_ITEM}{_JOIN}){{1,6}}$", re.I)
_ABSENT_AFTER_LIST = re.compile(rf"(?:{_JOIN}{_ITEM}){{1,6}}\s+(?:were\s+|was\s+|all\s+)?(?:not\s+(?:detected|isolated|grown|seen)|negative)\b",
                                re.I)


def _combined(w: Work, r: Rule, p: OrganismParams) -> None:
    """An infection with a combination code for the organism the letter names (pneumonia due to
    Haemophilus influenzae J14, septicaemia due to Staphylococcus aureus A41.0) is coded to it; the
    organism's own code goes where no other infection of the letter needs it."""
    infections = code_refs(" ".join(p.infections))
    for entry in p.combinations:
        refs = code_refs(entry["codes"])
        for s in [s for s in w.scope(r) if s.kind == "diagnosis" and in_refs(s.code, refs)]:
            named = _organism_named(w, p, s, entry["words"], among=frozenset(entry["becomes"]))
            becomes = entry["becomes"].get(named[0]["add"]) if named is not None else None
            if becomes is not None and becomes.endswith("+"):  # the code's own further characters kept (its site)
                becomes = carried(becomes[:-1], s.code)
            if becomes is None or w.entry(s)[0].get(becomes) is None:
                continue
            system = System.parse(s.system)
            w.replace(r, s, system, becomes)
            w.flag(r, p.combined, s, codes=(s.code, becomes), other=becomes, mention=named[1].group(0))
            own = w.suggested(system, named[0]["add"]) if compact(named[0]["add"]) != compact(becomes) else None
            if own is not None and not any(in_refs(c.code, infections) for c in w.scope(r) if c.kind == "diagnosis"):
                w.demote(own)
                w.tag(r, own)


def _misread_organisms(w: Work, r: Rule, p: OrganismParams) -> None:
    """An organism code the ranker suggested on statements that name none of its organism but
    another ("Group A Strep" read as group B streptococcus) is coded as the organism named."""
    entries = [e for e in p.organisms if not e.get("combined_only")]
    for s in [s for s in w.scope(r) if s.kind == "diagnosis" and s.evidence and r.id not in s.rules]:
        own = next((e for e in entries if compact(e["add"]) == compact(s.code)), None)
        named = read_as_another(own, entries, s.evidence) if own is not None else None
        if named is not None and w.suggested(System.parse(s.system), named["add"]) is None:
            w.replace(r, s, System.parse(s.system), named["add"])
            w.flag(r, p.misread, s, codes=(s.code, named["add"]), other=named["add"])


def _named_by_a_title(w: Work, r: Rule, p: OrganismParams) -> None:
    """An organism code beside a code whose title names that organism ("Acute bronchiolitis due to
    respiratory syncytial virus", J21.0, beside B97.4) goes, where no infection of the letter whose
    code does not name its organism needs it."""
    mine = [s for s in w.scope(r) if s.kind == "diagnosis"]
    if any(in_refs(s.code, code_refs(" ".join(p.infections))) for s in mine):
        return
    coded = code_refs(" ".join(p.coded))
    for own in [s for s in mine if in_refs(s.code, coded)]:
        words = [e["words"] for e in p.organisms if compact(e["add"]) == compact(own.code)]
        by = next((s for s in mine if s is not own and not in_refs(s.code, coded)
                   and any(re.search(x, s.title, re.I) for x in words)), None)
        if by is not None:
            w.demote(own)
            w.tag(r, own, by)
            w.flag(r, p.titled, own, codes=(own.code, by.code), other=by.code)


@rule("CON-027", "conventions", OrganismParams)
def organism(w: Work, r: Rule) -> None:
    """An infection whose code does not name its organism is followed by the B95-B96 code of the
    organism the letter names ("urine culture grew E. coli")."""
    p: OrganismParams = r.params
    _combined(w, r, p)
    _misread_organisms(w, r, p)
    _named_by_a_title(w, r, p)
    mine = [s for s in w.scope(r) if s.kind == "diagnosis"]
    if any(in_refs(s.code, code_refs(" ".join(p.coded))) for s in mine):
        return
    infection = next((s for s in mine if in_refs(s.code, code_refs(" ".join(p.infections)))), None)
    named = _organism_named(w, p, infection, added=True) if infection is not None else None
    if named is None:
        return
    entry, found, said = named
    at, causes = w.at(infection), code_refs(" ".join(p.causes))
    while at + 1 < len(w.codes) and in_refs(w.codes[at + 1].code, causes):
        at += 1  # the procedure that caused it stays directly after it
    added = w.add(r, System.parse(infection.system), entry["add"], (said,), after=w.codes[at], rule_evidence=True,
                  score=infection.score)
    if added is not None:
        w.tag(r, infection)
        w.flag(r, p.message, infection, codes=(infection.code, added.code), other=added.code, mention=found.group(0))


@dataclass(frozen=True)
class DeliveryRecordParams:
    episode: tuple[str, ...]  # diagnosis codes that make the record a delivery episode's
    needs: tuple[dict, ...]  # {system, codes, name}: what such a record always carries
    skip_sections: tuple[str, ...]  # sections that tell of other episodes (an earlier delivery)
    message: str
    # delivery codes that make it one where the letter tells them of this episode, suggested or not
    # (a "spontaneous vertex delivery" after an induction for prolonged pregnancy: O80 is not coded
    # beside O48, and the delivery still is)
    told: tuple[str, ...] = ()
    told_words: str = r"(?!)"  # the words with which a statement tells the delivery itself
    delivered_by: tuple[str, ...] = ()  # OPCS-4 methods of delivery that make it one where suggested
    # what dates a delivery before this episode ("eight weeks after the birth of her second baby")
    earlier: str = r"(?!)"

    def __post_init__(self):
        re.compile(self.earlier)
        check_entries(self.needs, "needs", {"system": str, "codes": str, "name": str}, {"default": dict})
        check_codes(self.episode, "episode")
        check_codes(self.delivered_by, "delivered_by")
        check_codes(self.told, "told")
        re.compile(self.told_words)
        for need in self.needs:
            System.parse(need["system"])
            check_codes((need["codes"],), "needs")
            if "default" in need:
                check_entries((need["default"],), "default", {"code": str, "words": str, "unless": str}, {})
                re.compile(need["default"]["words"])
                re.compile(need["default"]["unless"])


def _default_of(w: Work, need: dict, p: DeliveryRecordParams) -> tuple[str, tuple[Evidence, ...]] | None:
    """The need's default code and the statement of this episode that calls for it ("the baby was
    delivered" with no instrument or caesarean named anywhere in the episode: a normal delivery)."""
    default = need.get("default")
    if default is None:
        return None
    episode = [w.told(s) for s in w.episode_sentences(p.skip_sections)]
    if any(re.search(default["unless"], e.text, re.I) for e in episode):
        return None
    said = next((e for e in episode if re.search(default["words"], e.text, re.I)), None)
    return None if said is None else (default["code"], (said,))


def _of_this_episode(c: CodeSuggestion, p: DeliveryRecordParams, words: str = "") -> bool:
    """Whether a statement of this episode (present, not in the history) supports ``c``, with
    ``words`` in it."""
    return any(e.assertion == "present" and e.section not in p.skip_sections and re.search(words, e.text, re.I)
               and not re.search(p.earlier, e.text, re.I) for e in c.evidence)


@rule("CON-028", "conventions", DeliveryRecordParams)
def delivery_record(w: Work, r: Rule) -> None:
    """The record of a delivery carries its method of delivery and its outcome: where none is
    suggested, the best ranked candidate that the letter gives for this episode is."""
    p: DeliveryRecordParams = r.params
    episode, told = code_refs(" ".join(p.episode)), code_refs(" ".join(p.told))
    methods = code_refs(" ".join(p.delivered_by))
    if not any(in_refs(s.code, episode if s.kind == "diagnosis" else methods) for s in w.codes) and \
            not any(c.kind == "diagnosis" and in_refs(c.code, told) and _of_this_episode(c, p, p.told_words)
                    for c in w.candidates):
        return
    for need in p.needs:
        system, refs = System.parse(need["system"]), code_refs(need["codes"])
        if system not in r.applies_to or system not in w.tables or \
                any(s.system == system.value and in_refs(s.code, refs) for s in w.codes):
            continue
        best = max((c for c in w.candidates if c.system == system.value and in_refs(c.code, refs)
                    and _of_this_episode(c, p)), key=lambda c: c.score, default=None)
        found = (best.code, best.evidence) if best is not None else _default_of(w, need, p)
        added = w.add(r, system, found[0], found[1], rule_evidence=best is None) if found is not None else None
        if added is not None:
            w.flag(r, p.message, added, value=need["name"])


@dataclass(frozen=True)
class RepairParams:
    repairs: dict[str, str]  # a laceration's code -> the code of its repair
    repaired: str  # the words of its statement that say it was repaired ("sutured in the delivery room")
    unless: str  # the words that say it was not ("not sutured", "no need for suturing")
    laceration: str  # the words that name the laceration (a repair inside an operation named otherwise is another's)
    message: str

    def __post_init__(self):
        check_codes(tuple(self.repairs), "repairs")
        check_codes(tuple(self.repairs.values()), "repairs")
        if any("." not in k or "-" in k for k in self.repairs):
            raise ValueError("repairs: each key must be one dotted code (O70.1), not a category or a range")
        for pattern in (self.repaired, self.unless, self.laceration):
            re.compile(pattern)


@dataclass(frozen=True)
class VaginalBirthParams:
    codes: tuple[str, ...]  # the care of a uterine scar from previous surgery (O34.2)
    vaginal: tuple[str, ...]  # the OPCS-4 methods of a vaginal delivery
    caesarean: tuple[str, ...]  # ... and of a caesarean section
    instead: str  # the vaginal delivery following a previous caesarean section (O75.7)
    message: str

    def __post_init__(self):
        for name in ("codes", "vaginal", "caesarean"):
            check_codes(getattr(self, name), name)
        check_codes((self.instead,), "instead")


@rule("CON-084", "conventions", VaginalBirthParams)
def vaginal_birth_after_caesarean(w: Work, r: Rule) -> None:
    """The care of a uterine scar from a previous caesarean section (O34.2) of a woman this episode
    delivered vaginally, by no caesarean (a method of vaginal delivery is coded, none of a
    caesarean), is the vaginal delivery following a previous caesarean section (O75.7), which
    O34.2 excludes: coded in its place."""
    p: VaginalBirthParams = r.params
    methods = [s.code for s in w.codes if s.system == System.OPCS4.value]
    vaginal, caesarean = code_refs(" ".join(p.vaginal)), code_refs(" ".join(p.caesarean))
    if not any(in_refs(c, vaginal) for c in methods) or any(in_refs(c, caesarean) for c in methods):
        return
    for s in [s for s in w.scope(r) if in_refs(s.code, code_refs(" ".join(p.codes)))]:
        w.replace(r, s, System.parse(s.system), p.instead)
        w.flag(r, p.message, s, other=p.instead)


def _repair_words(w: Work, p: RepairParams, x: SentenceRecord) -> list[re.Match]:
    """The repair words of a sentence that are not inside an operation named otherwise ("inguinal
    hernia repair"; a mention that is the repair word alone names nothing else)."""
    other = [m for m in w.mentions if m.procedural and x.start <= m.start < x.end
             and not re.search(p.laceration, m.text, re.I) and not re.fullmatch(p.repaired, m.text.strip(), re.I)]
    return [k for k in re.finditer(p.repaired, w.text[x.start:x.end], re.I)
            if not any(m.start <= x.start + k.start() < m.end for m in other)]


def _tells_nothing_else(w: Work, x: SentenceRecord) -> bool:
    """A sentence that names no condition of its own (present): it may go on telling of the one before."""
    return not any(not m.procedural and m.assertion == "present" and x.start <= m.start < x.end for m in w.mentions)


@rule("CON-062", "conventions", RepairParams)
def laceration_repaired(w: Work, r: Rule) -> None:
    """An obstetric laceration whose statement, or the next sentence of its section where that names
    no other condition, says it was repaired ("Second-degree perineal tear, sutured in the delivery
    room") carries the code of its repair (R32), added last; one left unsutured carries none."""
    p: RepairParams = r.params
    if System.OPCS4 not in w.tables:
        return
    for s in [s for s in w.scope(r) if s.kind == "diagnosis" and s.code in p.repairs]:
        named = w.support(s)
        at = w.holding(named)
        at += [i + 1 for i in at if i + 1 < len(w.sentences) and w.sentences[i + 1].section == w.sentences[i].section
               and _tells_nothing_else(w, w.sentences[i + 1])]
        told = [w.sentences[i] for i in at]
        if any(_repair_words(w, p, x) for x in told) and \
                not any(re.search(p.unless, w.text[x.start:x.end], re.I) for x in told):
            added = w.add(r, System.OPCS4, p.repairs[s.code], s.evidence, rule_evidence=True, score=s.score)
            if added is not None:
                w.flag(r, p.message, added, mention=s.code)


@dataclass(frozen=True)
class ExternalCauseParams:
    injuries: tuple[str, ...]  # what an external cause explains
    external: tuple[str, ...]  # external cause codes: where a specific one is suggested, nothing is added
    unspecified: tuple[str, ...]  # external causes a told mechanism replaces (an unspecified fall)
    mechanisms: tuple[dict, ...]  # {words, category | code, injuries?}: the mechanism, most specific first
    places: tuple[dict, ...]  # {words, char}: the place of occurrence (fourth character)
    activities: tuple[dict, ...]  # {words, char}: the activity (UK fifth character)
    skip_sections: tuple[str, ...]
    message: str

    def __post_init__(self):
        check_entries(self.mechanisms, "mechanisms", {"words": str}, {"category": str, "code": str, "injuries": str})
        check_entries(self.places, "places", {"words": str, "char": str}, {})
        check_entries(self.activities, "activities", {"words": str, "char": str}, {})
        for codes, name in ((self.injuries, "injuries"), (self.external, "external"), (self.unspecified, "unspecified")):
            check_codes(codes, name)
        for entry in (*self.mechanisms, *self.places, *self.activities):
            re.compile(entry["words"])


def _told_mechanisms(w: Work, p: ExternalCauseParams, injury: CodeSuggestion):
    """The mechanisms (entry, match, statement) told in the injury's own evidence or a sentence of
    this episode ("after a fall at home" with the injury, "she tripped over the rug" in the story: a
    fall from tripping), most specific first; of one mechanism, the injury's own statement first."""
    own = list(injury.evidence)
    rest = [w.told(s) for s in w.episode_sentences(p.skip_sections) if not any(e.start <= s.start < e.end for e in own)]
    for entry in p.mechanisms:
        if "injuries" in entry and not in_refs(injury.code, code_refs(entry["injuries"])):
            continue
        for said in own + rest:
            found = re.search(entry["words"], said.text, re.I)
            if found:
                yield entry, found, said


def _external_code(table: CodeTable, entry: dict, said: str, p: ExternalCauseParams, injury: str = "") -> str | None:
    """The most specific code of the mechanism the table holds, with the place and activity the
    statement names, else those the injury's own statement names ("... following a fall at home";
    9: unspecified); of the places it names, the first told whose code the table holds ("on the
    pavement outside her house": the street)."""
    def char(options) -> str:
        return next((o["char"] for text in (said, injury) for o in options if re.search(o["words"], text, re.I)), "9")

    def places() -> list[str]:
        for text in (said, injury):
            told = sorted((m.start(), o["char"]) for o in p.places if (m := re.search(o["words"], text, re.I)))
            if told:
                return [c for _, c in told]
        return []

    activity = char(p.activities)
    category = entry.get("category")
    stems = [entry["code"]] if "code" in entry else [*(f"{category}.{c}" for c in places()), f"{category}.9"]
    for stem in stems:
        for code in (stem + activity, stem + "9", stem):
            if table.is_selectable(code):
                return table.get(code).code
    return None


@rule("CON-029", "conventions", ExternalCauseParams)
def external_cause(w: Work, r: Rule) -> None:
    """An injury is followed by the external cause the letter tells, with its place and activity."""
    p: ExternalCauseParams = r.params
    mine = [s for s in w.scope(r) if s.kind == "diagnosis"]
    injury = next((s for s in mine if in_refs(s.code, code_refs(" ".join(p.injuries)))), None)
    if injury is None:
        return
    system = System.parse(injury.system)
    own = " ".join(e.text for e in injury.evidence)
    # the first told mechanism the table codes, with the place its statement (or the injury's)
    # names: of its tellings, the first that names a place ("an adder bite" on the diagnosis
    # line, "bitten by an adder on heathland" in the story)
    told = [(entry, found, said, code) for entry, found, said in _told_mechanisms(w, p, injury)
            for code in [_external_code(w.tables[system], entry, said.text, p, own)] if code is not None]
    if not told:
        return
    same = [t for t in told if t[0] is told[0][0]]
    _, found, said, code = next((t for t in same if any(re.search(o["words"], t[2].text, re.I) for o in p.places)), same[0])
    have = [s for s in mine if in_refs(s.code, code_refs(" ".join(p.external)))]
    vague = code_refs(" ".join(p.unspecified))
    if any(not in_refs(s.code, vague) or compact(s.code)[:3] == compact(code)[:3] for s in have):
        return
    for s in have:  # an unspecified fall gives way to the mechanism the letter tells
        w.demote(s)
        w.tag(r, s)
    added = w.add(r, system, code, (said,), after=injury, rule_evidence=True, score=injury.score)
    if added is not None:
        w.tag(r, injury)
        w.flag(r, p.message, injury, codes=(injury.code, added.code), other=added.code, mention=found.group(0))


@dataclass(frozen=True)
class BurnParams:
    burns: str  # words that name a burn or scald
    sites: tuple[dict, ...]  # {words, category}: the body region next to those words, most specific first
    depths: tuple[dict, ...]  # {words, char}: the degree (fourth character), deepest first
    extent: str  # the percentage of body surface burned (its first group)
    extent_category: str  # the category of the extent: fourth character = tens of percent
    burn_codes: tuple[str, ...]  # burns of a body region: where one is suggested, nothing is added
    extent_codes: tuple[str, ...]  # extent codes, which follow the burn of a region
    listed: tuple[str, ...]  # diagnosis headings: a burn listed before the primary takes its place
    skip_sections: tuple[str, ...]
    window: int  # characters either side of the burn's words where its region is read
    message: str

    def __post_init__(self):
        check_entries(self.sites, "sites", {"words": str, "category": str}, {})
        check_entries(self.depths, "depths", {"words": str, "char": str}, {})
        check_codes((*self.burn_codes, *self.extent_codes, self.extent_category), "codes")
        for words in (self.burns, self.extent, *(e["words"] for e in (*self.sites, *self.depths))):
            re.compile(words)


def _burn_told(w: Work, p: BurnParams) -> tuple[str, Evidence, list[Evidence]] | None:
    """The region of the first burn this episode's sentences place, those under a diagnosis heading
    first (its category and statement), with every statement of this episode that names a burn."""
    told = [w.told(s) for s in w.episode_sentences(p.skip_sections)]
    burns = [e for e in told if re.search(p.burns, e.text, re.I)]
    for said in sorted(burns, key=lambda e: (e.section not in p.listed, e.start)):
        for found in re.finditer(p.burns, said.text, re.I):
            site = _burn_site(p, said.text, found)
            if site is not None:
                return site["category"], said, burns
    return None


def _burn_site(p: BurnParams, text: str, found: re.Match) -> dict | None:
    """The region ``text`` places the burn ``found`` on: the first told after its words ("scald to
    the left forearm and dorsum of the left hand": the forearm), else the nearest before them ("right
    foot scald"); of regions told at one place, the most specific (the sites' order)."""
    lo = max(0, found.start() - p.window)
    near = text[lo: found.end() + p.window]
    places = []
    for rank, site in enumerate(p.sites):
        for m in re.finditer(site["words"], near, re.I):
            at = lo + m.start()
            places.append(((0, at - found.end()) if at >= found.end() else (1, found.start() - at), rank, site))
    return min(places, key=lambda x: x[:2])[2] if places else None


def _burn_extent(w: Work, r: Rule, burn: CodeSuggestion, statements: list[Evidence]) -> None:
    """The extent of body surface burned follows the burn: a suggested extent code moves there, else
    the percentage the letter documents is coded there (T31.0 under 10%, T31.1 10-19% ...)."""
    p: BurnParams = r.params
    refs = code_refs(" ".join(p.extent_codes))
    have = [s for s in w.codes if s.system == burn.system and in_refs(s.code, refs)]
    for s in have:
        w.move_after(s, burn)
        w.tag(r, s)
    found = next(((m, e) for e in statements for m in [re.search(p.extent, e.text, re.I)] if m), None)
    if not have and found is not None:
        tens = min(9, int(float(found[0].group(1)) // 10))
        w.add(r, System.parse(burn.system), f"{p.extent_category}.{tens}", (found[1],), after=burn,
              rule_evidence=True, score=burn.score)


@rule("CON-031", "conventions", BurnParams)
def burn_of_region(w: Work, r: Rule) -> None:
    """A burn is coded by its body region and its deepest degree, with the extent of body surface
    after it; listed before the primary diagnosis, it is the primary."""
    p: BurnParams = r.params
    told = _burn_told(w, p)
    mine = [s for s in w.scope(r) if s.kind == "diagnosis"]
    if told is None or not mine or any(in_refs(s.code, code_refs(" ".join(p.burn_codes))) for s in mine):
        return
    category, said, statements = told
    char = next((d["char"] for d in p.depths if any(re.search(d["words"], e.text, re.I) for e in statements)), "0")
    burn = w.add(r, System.parse(mine[0].system), f"{category}.{char}", (said,), rule_evidence=True,
                 score=mine[0].score)
    if burn is None:
        return
    misread = _misread_burn(w, p, said, mine)
    if mine[0] in misread or listed_first(burn, p.listed) > listed_first(mine[0], p.listed):
        w.move_before(burn, mine[0])  # (a code misread from its statement gives the burn its place)
    for other in misread:
        w.demote(other)
        w.tag(r, other, burn)
    _burn_extent(w, r, burn, statements)
    w.flag(r, p.message, burn)


def _misread_burn(w: Work, p: BurnParams, said: Evidence, mine: list[CodeSuggestion]) -> list[CodeSuggestion]:
    """The suggested diagnoses that rest only on the burn's statement and on no mention there but its
    burn or scald ("1. Scald of the left lower leg" read as gout of the lower leg): the burn's code
    codes that statement."""
    def misread(s: CodeSuggestion) -> bool:
        ours = [e for e in s.evidence if e.assertion == "present"]
        read = [m for m in w.support(s) if said.start <= m.start < said.end]
        return bool(ours and read) and all(e.start == said.start for e in ours) and \
            all(re.fullmatch(p.burns, m.text.strip(), re.I) for m in read)
    return [s for s in mine if s in w.codes and misread(s)]


@dataclass(frozen=True)
class DocumentedTermParams:
    # {codes: code ranges, words: what the clinician must have written, condition: its name,
    # titled: of those codes, the ones whose title this matches (all where absent),
    # own: "yes" where only the code's own statements count, not the letter's other mentions,
    # denied: "yes" where the words in a clause that denies them count for nothing ("no
    # chemotherapy was given this admission")}
    groups: tuple[dict, ...]
    message: str
    # a code the rule takes out, coded instead as (its category or itself -> the code): the
    # malignant code of an in situ one's site ("carcinoma of the cervix": C53.9, not D06.9)
    instead: dict[str, str] = field(default_factory=dict)
    instead_if: str = r"(?!)"  # ... where its statement says this ("carcinoma", "invasive")
    replaced: str = ""  # the message where a code is coded instead

    def __post_init__(self):
        check_entries(self.groups, "groups", {"codes": str, "words": str, "condition": str},
                      {"own": str, "denied": str, "titled": str})
        check_codes(tuple(self.instead) + tuple(self.instead.values()), "instead")
        re.compile(self.instead_if)


@rule("CON-037", "conventions", DocumentedTermParams)
@rule("CON-013", "conventions", DocumentedTermParams)
def documented_term(w: Work, r: Rule) -> None:
    """A code whose condition the clinician must name in words (sepsis, a pregnancy) is suggested
    only where its evidence, or a mention of this episode, says so: a positive culture is not
    sepsis, and a sepsis in a man is not puerperal (CON-037: an operation the letter must tell as
    done in the episode, such as a chemotherapy delivery)."""
    for s in w.scope(r):
        condition = undocumented(w, r, s)
        if condition is not None:
            _take_out(w, r, s, condition)


def undocumented(w: Work, r: Rule, s: CodeSuggestion) -> str | None:
    """The condition of a documented-term rule ``r`` (CON-013, CON-037) that code ``s`` needs and
    neither its evidence nor, where the group allows, a mention of this episode names ("chemotherapy
    delivered in this episode" for a chemotherapy code read from "neutropenia secondary to
    chemotherapy"); None where it needs none or the letter names it."""
    groups = [g for g in r.params.groups if in_refs(s.code, code_refs(g["codes"])) and re.search(g.get("titled", ""), s.title)]
    if not groups:
        return None
    said = " ".join(m.text for m in w.mentions if m.coded)
    for group in groups:
        words = re.compile(group["words"], re.I)
        told = (lambda text: _affirmed(words, text)) if group.get("denied") == "yes" else words.search
        if not any(told(e.text) for e in s.evidence) and (group.get("own") == "yes" or not words.search(said)):
            return group["condition"]
    return None


# a denial whose clause runs on to the words ("no chemotherapy was given"; not "no dose reduction
# was needed and cycle 3 was given", nor "... - cycle 2 given")
_DENIED_IN_CLAUSE = re.compile(DENIAL_CLAUSE + "$", re.I)


def _affirmed(words: re.Pattern, text: str) -> bool:
    """Whether ``text`` says ``words`` outside a denial of its clause ("Chemotherapy: no
    chemotherapy was given this admission" says none given)."""
    return any(not _DENIED_IN_CLAUSE.search(text[:m.start()]) for m in words.finditer(text))


def _take_out(w: Work, r: Rule, s: CodeSuggestion, condition: str) -> None:
    """A code whose condition the letter does not name leaves the suggestions, or gives its place to
    the code ``instead`` names for it (its code's, else its category's) where its statement says
    ``instead_if``."""
    p: DocumentedTermParams = r.params
    key = next((k for k in (s.code, s.code[:3]) if k in p.instead), None)
    if key is None or not any(re.search(p.instead_if, e.text, re.I) for e in s.evidence):
        w.demote(s)
        w.tag(r, s)
        w.flag(r, p.message, s, value=condition)
        return
    w.replace(r, s, System.parse(s.system), p.instead[key])
    w.flag(r, p.replaced, s, codes=(s.code, p.instead[key]), other=p.instead[key], value=condition)


@dataclass(frozen=True)
class NotCodedParams:
    codes: tuple[str, ...]
    message: str

    def __post_init__(self):
        check_codes(self.codes, "codes")


@rule("CON-007", "conventions", NotCodedParams)
@rule("CON-033", "conventions", NotCodedParams)
@rule("CON-057", "conventions", NotCodedParams)
def not_coded_here(w: Work, r: Rule) -> None:
    """Codes the profile's coding policy leaves out (diagnostic imaging for admitted patients,
    anaesthetics; drug treatment by its route; family history and acquired absence of organs)."""
    refs = code_refs(" ".join(r.params.codes))
    for s in [s for s in w.scope(r) if in_refs(s.code, refs)]:
        w.demote(s)
        w.tag(r, s)
        w.flag(r, r.params.message, s)


def _named_in_its_place(w: Work, r: Rule, codes, beside) -> None:
    """A code of ``codes`` gives its place to a condition of ``beside`` that the ranker scores at
    least ``source_floor`` (a candidate the suggester left out) and that its own present statement
    or the letter's diagnosis list names: a mention there shares a word of its title or index
    terms other than the bleeding ("Mallory-Weiss tear", "variceal bleed"; not "bleeding gastric
    ulcer" for the varices "with bleeding")."""
    p: BesideParams = r.params

    def named_with(s: CodeSuggestion, c: CodeSuggestion) -> bool:
        shared = shared_statement(s, c)
        stated = shared is not None and shared.assertion == "present" or any(
            e.assertion == "present" and e.section in p.listed for e in c.evidence)
        words = (content_words(c.title) | term_words(System.parse(c.system), c.code)) - set(p.naming_skips)
        return stated and any(words & mention_words(m) for m in w.inside(c, procedural=False))

    for s in [s for s in w.scope(r) if in_refs(s.code, codes)]:
        named = [c for c in w.candidates if c.system == s.system and c.score >= p.source_floor and named_with(s, c)]
        sources = [bled for c in named if (bled := _bled_form(w, c, beside)) is not None]
        if sources:
            best = max(sources, key=lambda c: c.score)
            w.replace(r, s, System.parse(best.system), best.code)
            w.flag(r, p.message, s, codes=(s.code, best.code), other=f"{best.code} ({best.title})")


def _bled_form(w: Work, c: CodeSuggestion, beside) -> CodeSuggestion | None:
    """``c`` where it is a condition of ``beside``; else, for a code that says its condition did not
    bleed and whose category has subdivisions in ``beside`` (a duodenal ulcer ranked as K26.9,
    without haemorrhage or perforation), the candidate of those subdivisions that says least
    besides the bleeding (K26.4, chronic or unspecified with haemorrhage: not perforated, and
    "acute" in "acute upper GI bleed" tells the bleed, not the ulcer), else the best-ranked;
    else None."""
    if in_refs(c.code, beside):
        return c
    if not re.search(r"\bwithout (?:\w+ )*?(?:haemorrhage|bleeding)\b", c.title, re.I):
        return None  # only a code that says it did not bleed has a bleeding form (not K22.1 for K22.6)
    forms = [o for o in w.candidates if o.system == c.system and o.code[:3] == c.code[:3] and in_refs(o.code, beside)]
    return max(forms, key=lambda o: ("perforation" not in o.title.lower(), "unspecified" in o.title.lower(), o.score),
               default=None)


@dataclass(frozen=True)
class BesideParams:
    codes: tuple[str, ...]  # code ranges not coded beside ...
    beside: tuple[str, ...]  # ... a suggested code of these ranges
    message: str
    # True: the codes stand only beside such a code (an obstetric operation on a delivery record)
    needs: bool = False
    # the kind of code ``beside`` names (diagnosis, procedure); "": the rule's own classification
    kind: str = ""
    # CON-024: where no code of ``beside`` is suggested, a candidate of it that the ranker scores at
    # least this high and that rests on a present statement of the code takes the code's place
    # ("Acute upper GI bleed from oesophageal varices": the varices with bleeding, not K92.2)
    source_floor: float = 1.01
    listed: tuple[str, ...] = ()  # ... or that the letter lists under these headings
    # words that name no source by themselves: its code shares them with the haemorrhage
    naming_skips: tuple[str, ...] = ()
    same_statement: bool = False  # True: only beside a code that rests on one of its statements

    def __post_init__(self):
        check_codes(self.codes, "codes")
        check_codes(self.beside, "beside")
        if self.kind not in ("", "diagnosis", "procedure"):
            raise ValueError(f"kind must be diagnosis or procedure, not {self.kind!r}")


@rule("CON-034", "conventions", BesideParams)
@rule("CON-032", "conventions", BesideParams)
@rule("CON-025", "conventions", BesideParams)
@rule("CON-024", "conventions", BesideParams)
@rule("CON-023", "conventions", BesideParams)
@rule("CON-021", "conventions", BesideParams)
@rule("CON-020", "conventions", BesideParams)
@rule("CON-018", "conventions", BesideParams)
@rule("CON-082", "conventions", BesideParams)
@rule("CON-080", "conventions", BesideParams)
@rule("CON-058", "conventions", BesideParams)
@rule("CON-015", "conventions", BesideParams)
def coded_beside(w: Work, r: Rule) -> None:
    """Codes that stand only where no code of another range is coded (the delivery codes
    O80-O84 where a pregnancy or delivery condition is; the baby's and antenatal codes on the
    record of a mother's delivery episode; an allergy NOS where the allergy is a history code),
    or, with ``needs``, only where one is (an obstetric operation, OPCS-4 Chapter R, on the
    record of a pregnancy episode: without one, "a normal ECG" is no normal delivery)."""
    p: BesideParams = r.params
    codes, beside = code_refs(" ".join(p.codes)), code_refs(" ".join(p.beside))
    pool = [s for s in w.codes if s.kind == p.kind] if p.kind else w.scope(r)
    other = next((s for s in pool if in_refs(s.code, beside)), None)
    if other is None and not p.needs:
        _named_in_its_place(w, r, codes, beside)
    if (other is None) != p.needs:
        return
    for s in [s for s in w.scope(r) if in_refs(s.code, codes)]:
        if p.same_statement and not any(in_refs(o.code, beside) and shared_statement(s, o) for o in pool):
            continue
        w.demote(s)
        w.tag(r, s)
        w.flag(r, p.message, s, codes=(s.code, other.code) if other else (s.code,),
               other=f"{other.code} ({other.title})" if other else "")


@dataclass(frozen=True)
class ResidualParams:
    # {codes, beside, unless}: an unspecified code and the specific codes of its condition; ``unless``:
    # procedures (any classification) that treated the unspecified one in its own right
    pairs: tuple[dict, ...]
    message: str

    def __post_init__(self):
        check_entries(self.pairs, "pairs", {"codes": str, "beside": str}, {"unless": str})
        for pair in self.pairs:
            check_codes((pair["codes"], pair["beside"], *([pair["unless"]] if "unless" in pair else [])), "pairs")


@rule("CON-030", "conventions", ResidualParams)
def residual_beside_specific(w: Work, r: Rule) -> None:
    """An unspecified code is not coded beside the code, in another category, that says what the
    condition is (anaemia, unspecified, beside iron deficiency anaemia); the code kept takes the
    first place either had."""
    for pair in r.params.pairs:
        codes, beside = code_refs(pair["codes"]), code_refs(pair["beside"])
        unless = code_refs(pair["unless"]) if "unless" in pair else ()
        if unless and any(s.kind == "procedure" and in_refs(s.code, unless) for s in w.codes):
            continue
        other = next((s for s in w.scope(r) if in_refs(s.code, beside)), None)
        for s in [s for s in w.scope(r) if other is not None and in_refs(s.code, codes)]:
            if w.at(s) < w.at(other):
                w.move_before(other, s)
            w.demote(s)
            w.tag(r, s)
            w.flag(r, r.params.message, s, codes=(s.code, other.code), other=f"{other.code} ({other.title})")


@dataclass(frozen=True)
class CuredParams:
    cured: tuple[str, ...]  # conditions that the operation done for them removes (the joint, the lens)
    reason: str  # regex: what lies between the past operation and the condition it was done for
    message: str

    def __post_init__(self):
        check_codes(self.cured, "cured")
        re.compile(self.reason)


@rule("CON-036", "conventions", CuredParams)
def cured_by_a_past_operation(w: Work, r: Rule) -> None:
    """A condition the letter names only as the reason for an earlier operation that removed it
    ("Right total hip replacement 2017 for osteoarthritis", "R TKR 2018 (OA)", "phaco 2019 for
    cataract") is history, not a condition of this episode: it is not coded."""
    p: CuredParams = r.params
    cured, reason = code_refs(", ".join(p.cured)), re.compile(p.reason, re.I)
    done = [m for m in w.mentions if m.label == "PROCEDURE" and m.assertion == "historical"]
    for s in [s for s in w.scope(r) if in_refs(s.code, cured) and s.evidence]:
        if all(_reason_for(w, e, done, reason) for e in s.evidence):
            w.demote(s)
            w.tag(r, s)
            w.flag(r, p.message, s, codes=(s.code,))


def _reason_for(w: Work, e: Evidence, done, reason: re.Pattern) -> bool:
    """Whether the evidence tells a condition only as what an earlier operation in it was for
    (what it denies, "which remains pain-free", tells nothing)."""
    told = [m for m in w.mentions if e.start <= m.start < e.end and m.label != "PROCEDURE" and m.assertion != "negated"]
    return bool(told) and all(any(op.end <= m.start and reason.fullmatch(w.text[op.end:m.start]) for op in done
                                  if e.start <= op.start) for m in told)


@dataclass(frozen=True)
class PregnancyParams:
    episode: tuple[str, ...]  # codes that make the episode one of pregnancy, childbirth or the puerperium
    complicating: tuple[dict, ...]  # {codes, code, except?}: another chapter's conditions and their Chapter XV code
    message: str
    babys: tuple[str, ...] = ()  # the baby's own conditions: never on the mother's record
    babys_message: str = ""
    skip_sections: tuple[str, ...] = ()  # sections that tell of other episodes (an earlier pregnancy)
    # a pregnancy with abortive outcome (an ectopic pregnancy, a miscarriage): its own complications
    # category (O08) says what complicated it, and other conditions keep their own codes
    abortive: tuple[str, ...] = ()

    def __post_init__(self):
        check_codes(self.episode, "episode")
        check_codes(self.babys, "babys")
        check_codes(self.abortive, "abortive")
        check_entries(self.complicating, "complicating", {"codes": str, "code": str}, {"except": str})


@rule("CON-016", "conventions", PregnancyParams)
def complicating_pregnancy(w: Work, r: Rule) -> None:
    """In a pregnancy episode, a condition of another chapter is coded with the Chapter XV code
    of the conditions complicating pregnancy directly before it (obesity E66.9 after O99.2), except
    in a pregnancy with abortive outcome (an ectopic pregnancy: its depression is F32.9 alone); the
    baby's own conditions (Chapter XVI) are the baby's record's, not the mother's."""
    p: PregnancyParams = r.params
    episode = code_refs(" ".join(p.episode))
    # a pregnancy the letter tells of this episode, not one in the history ("Gestational diabetes
    # in her 2012 pregnancy, which resolved" makes no pregnancy of a bariatric operation's episode)
    if not any(in_refs(s.code, episode) and any(e.assertion in STATED and e.section not in p.skip_sections
                                                for e in s.evidence) for s in w.scope(r)):
        return
    babys = code_refs(" ".join(p.babys))
    for s in [s for s in w.scope(r) if s.kind == "diagnosis" and in_refs(s.code, babys)]:
        w.demote(s)
        w.tag(r, s)
        w.flag(r, p.babys_message, s)
    abortive = code_refs(" ".join(p.abortive))
    if any(in_refs(s.code, abortive) for s in w.scope(r) if s.kind == "diagnosis"):
        return
    for s in [s for s in w.scope(r) if s.kind == "diagnosis" and not in_refs(s.code, episode)]:
        entry = next((e for e in p.complicating if in_refs(s.code, code_refs(e["codes"]))
                      and not in_refs(s.code, code_refs(e.get("except", "")))), None)
        if entry is None:
            continue
        added = w.add(r, System.parse(s.system), entry["code"], s.evidence, after=s)
        if added is not None:
            w.move_before(added, s)
            w.tag(r, s)
            w.flag(r, p.message, s, codes=(added.code, s.code), other=added.code)


@dataclass(frozen=True)
class CompanionParams:
    # {codes, with, becomes, unless, after}: codes that become another where a companion is coded,
    # unless a code of ``unless`` is suggested (the code that says more of the condition:
    # pyonephrosis N13.6); ``after``: the code it becomes goes after the companion (the stent placed
    # at the end of the ureteroscopy it is coded with)
    pairs: tuple[dict, ...]
    message: str

    def __post_init__(self):
        check_entries(self.pairs, "pairs", {"codes": str, "with": str, "becomes": str}, {"unless": str, "after": bool})
        for n, pair in enumerate(self.pairs, 1):
            check_codes((pair["with"], companion_code(pair["becomes"], "A00.0", "A00.0")), f"pairs #{n}")


def companion_code(becomes: str, own: str, companion: str) -> str:
    """``becomes`` with ``{category}`` read as the companion's category and ``{subdivision}`` as the
    code's own 4th character ("{category}.{subdivision}": E14.3 beside E11.9 is E11.3)."""
    return becomes.format(category=compact(companion)[:3], subdivision=compact(own)[3:4])


@rule("CON-078", "conventions", CompanionParams)
@rule("CON-017", "conventions", CompanionParams)
def with_companion(w: Work, r: Rule) -> None:
    """A code the classification replaces when another condition is present too (delirium with
    dementia is F05.1, delirium superimposed on dementia; the stent placed at a ureteroscopy is the
    ureteroscope's, M27.4, CON-078): where a code of ``with`` is suggested from a statement of this
    episode, a suggested code of ``codes`` becomes ``becomes`` (see :func:`companion_code`), in its
    place or, for a pair marked ``after``, after the companion."""
    p: CompanionParams = r.params
    for pair in p.pairs:
        partners, unless = code_refs(pair["with"]), code_refs(pair.get("unless", ""))
        # a companion of this episode: not one the letter tells only as past ("Pneumonia 2023 -
        # resolved", which HIS-002 takes out later)
        companion = next((s for s in w.scope(r) if in_refs(s.code, partners)
                          and any(e.assertion in STATED for e in s.evidence)), None)
        if companion is None or unless and any(in_refs(s.code, unless) for s in w.scope(r)):
            continue
        codes = code_refs(pair["codes"])
        for s in [s for s in w.scope(r) if in_refs(s.code, codes)]:
            becomes = companion_code(pair["becomes"], s.code, companion.code)
            if becomes == s.code or w.entry(s)[0].get(becomes) is None:
                continue
            system = System.parse(s.system)
            w.replace(r, s, system, becomes)
            added = w.suggested(system, becomes)
            if pair.get("after") and added is not None and w.at(added) < w.at(companion):
                w.move_before(companion, added)
            w.flag(r, p.message, s, codes=(s.code, becomes), other=becomes,
                   mention=f"{companion.code} ({companion.title})")


@dataclass(frozen=True)
class CombinationParams:
    words: str  # the wording of a note that names a combination ("with", "associated with")
    message: str
    asterisks: str = ""  # the dagger and asterisk rule whose asterisk codes are left to it
    # WHO ICD-10 Excludes notes that ICD-10-CM no longer carries: {category: [note, ...]}
    notes: dict = field(default_factory=dict)
    # titles' words for one condition, as one word ("with bleeding" varices, "haemorrhage" K92.2)
    same: dict = field(default_factory=dict)
    # a negation of part of a condition's course, not of it ("no active bleeding at endoscopy")
    partly: str = r"(?!)"

    def __post_init__(self):
        re.compile(self.words)
        re.compile(self.partly)
        object.__setattr__(self, "notes", check_notes(self.notes, "notes", self.words))


@functools.lru_cache(maxsize=1)
def icd10cm_excludes1() -> dict[str, tuple[str, ...]]:
    """The Excludes1 notes of ICD-10-CM's categories and 4-character codes, by compact code: the
    classification's record of which conditions are classified together elsewhere. WHO and UK
    ICD-10 tables as supplied carry no notes; the categories they share with ICD-10-CM read these.
    Kept in the cache folder (reading ICD-10-CM itself costs a second and 200 MB)."""
    from clincoder.core.cache import cached_pickle
    from clincoder.core.tables import load_table, packaged_key

    def build() -> dict[str, tuple[str, ...]]:
        cm = load_table(System.ICD10CM)
        return {compact(e.code): e.excludes1 for e in cm.entries() if len(compact(e.code)) <= 4 and e.excludes1}

    return cached_pickle("icd10cm-excludes1", packaged_key(System.ICD10CM), build, "ICD-10-CM Excludes1 notes")


GENERIC_WORDS = frozenset({"disease", "diseases", "disorder", "disorders", "other", "unspecified", "specified",
                           "acute", "chronic", "condition", "conditions", "classified", "elsewhere"})


def names_condition(note: str, words: str, title: str) -> bool:
    """Whether a combination code's words (its title and inclusion terms) name the condition an
    Excludes1 note sends to it (the words before "with"): ICD-10-CM combines conditions WHO ICD-10
    keeps apart ("angina pectoris with atherosclerotic heart disease (I25.1-)" is I25.11- in
    ICD-10-CM; WHO I25.1, and ICD-10-CM's I25.1 itself, name no angina)."""
    said = re.split(words, note, maxsplit=1, flags=re.I)[0]
    titled = {t[:5] for t in re.findall(r"[a-z]{4,}", title.lower())}
    stems = {t[:5] for t in re.findall(r"[a-z]{4,}", said.lower()) if t not in GENERIC_WORDS}
    # a qualifier after the codes names the subdivisions meant ("diabetic acidosis - see
    # categories E08-E10, E11, E13 with ketoacidosis": E11.1, never E11.2 with renal complications)
    after = re.split(r"\b[A-Z]\d\d(?:\.[\dA-Z-]*)?-?", note)[-1]
    qualifier = re.search(words, after, re.I)
    wanted = {t[:5] for t in re.findall(r"[a-z]{4,}", after[qualifier.end():].lower())} if qualifier else set()
    return bool(stems & titled) and wanted <= titled


@functools.lru_cache(maxsize=1)
def icd10cm_inclusions() -> dict[str, tuple[str, ...]]:
    """The inclusion terms of ICD-10-CM's categories and 4-character codes, by compact code: what a
    combination code holds besides its title ("pulmonary edema with heart failure" is I50.1)."""
    from clincoder.core.cache import cached_pickle
    from clincoder.core.tables import load_table, packaged_key

    def build() -> dict[str, tuple[str, ...]]:
        cm = load_table(System.ICD10CM)
        return {compact(e.code): e.inclusion_terms for e in cm.entries()
                if len(compact(e.code)) <= 4 and e.inclusion_terms}

    return cached_pickle("icd10cm-inclusions", packaged_key(System.ICD10CM), build, "ICD-10-CM inclusion terms")


def combination_words(s: CodeSuggestion) -> str:
    """A combination code's title and the ICD-10-CM inclusion terms of its code and category."""
    found = icd10cm_inclusions()
    return " ".join((s.title, *(t for key in {compact(s.code)[:3], compact(s.code)[:4]} for t in found.get(key, ()))))


@rule("CON-010", "conventions", CombinationParams)
def combination_codes(w: Work, r: Rule) -> None:
    """Where the classification puts two conditions together in one code (an Excludes1 note of
    one code's category: "cholecystitis with cholelithiasis (K80.-)"), and that code is
    suggested, the code for the one condition alone is not coded beside it; where that was the
    primary, the one code is."""
    p: CombinationParams = r.params
    notes = icd10cm_excludes1()
    # an asterisk code goes with its dagger code (CON-005), whatever ICD-10-CM combines
    dagger_rule = w.enabled_rule(p.asterisks)
    asterisks = code_refs(" ".join(dagger_rule.params.asterisks)) if dagger_rule is not None else None
    for s in [s for s in w.scope(r) if not (asterisks and in_refs(s.code, asterisks))]:
        own = [n for key in {compact(s.code)[:3], compact(s.code)[:4]}
               for n in (*notes.get(key, ()), *p.notes.get(key, ())) if re.search(p.words, n, re.I)]
        live = w.scope(r)  # a code already set aside combines nothing
        combined = next((k for k in live if compact(k.code)[:3] != compact(s.code)[:3]
                         for n in own if in_refs(k.code, code_refs(n)) and names_condition(n, p.words, combination_words(k))), None)
        if combined is None or s not in live:
            continue
        said = _said_without(w, combined, s, p.same)
        # "Gastric ulcer, chronic without haemorrhage" beside the haemorrhage: the sibling with it,
        # unless the letter denies the condition ("There has never been any cholecystitis")
        if said and not any(m.assertion == "negated" and not re.search(p.partly, m.text, re.I)
                            and said & {p.same.get(t, t) for t in mention_words(m)} for m in w.mentions):
            sibling = _sibling_with(w, combined, s, said, p.same)
            if sibling is None:
                continue
            w.replace(r, combined, System.parse(combined.system), sibling)
            combined = w.suggested(System.parse(combined.system), sibling)
        if s.role == "primary" and combined.role != "primary":  # the one code holds the primary condition
            w.move_before(combined, s)
            combined = w.mark_primary(combined)
        w.demote(s)
        w.tag(r, s, combined)
        w.flag(r, p.message, s, codes=(s.code, combined.code), other=combined.code)


_UNSPECIFIED = re.compile(r"\bunspecified\b", re.I)


def _title_words(w: Work, s: CodeSuggestion, same: dict) -> tuple[set[str], set[str]]:
    """A code's title words as (said, denied): those before and after "without" in its table
    title, each read through ``same``."""
    _, entry = w.entry(s)
    title = entry.title if entry is not None else s.title
    before, after = without_split(title)
    return _axis_words(before, same), _axis_words(after, same)


def _axis_words(text: str, same: dict) -> set[str]:
    """The content words of a title read through ``same``, with "unspecified", which sets a
    subdivision apart here ("chronic or unspecified with haemorrhage")."""
    return {same.get(t, t) for t in content_words(text)} | {w.lower() for w in _UNSPECIFIED.findall(text)}


def _said_without(w: Work, combined: CodeSuggestion, s: CodeSuggestion, same: dict) -> set[str]:
    """The words of ``s``'s condition that the combination code's title says it is without."""
    _, denied = _title_words(w, combined, same)
    return denied & _axis_words(s.title, same) - {"unspecified"}


def _sibling_with(w: Work, combined: CodeSuggestion, s: CodeSuggestion, said: set[str], same: dict) -> str | None:
    """The sibling of ``combined`` whose title says it is with ``said`` and keeps the most of what
    ``combined`` and ``s`` say, adding least: K25.4 (chronic or unspecified with haemorrhage) for
    K25.7 (chronic without haemorrhage or perforation) beside a gastrointestinal haemorrhage."""
    table, entry = w.entry(combined)
    parent = table.parent(entry.code) if entry is not None else None
    if parent is None:
        return None
    kept, _ = _title_words(w, combined, same)
    wanted = kept | _axis_words(s.title, same) - {"unspecified"}
    best, best_fit = None, None
    for child in table.children(parent.code):
        words = _axis_words(without_split(child.title)[0], same)
        if not child.selectable or child.code == entry.code or not said <= words:
            continue
        fit = len(words & wanted) - len(words - wanted - {"both"})
        if best_fit is None or fit > best_fit:
            best, best_fit = child.code, fit
    return best


def names_its_own(s: CodeSuggestion, other: CodeSuggestion, statement: str) -> bool:
    """Whether the statement names what sets ``s`` apart from ``other``, its sibling: "the low
    calcium and low potassium were secondary to the magnesium deficiency" names two conditions
    of E83 (E83.4 magnesium, E83.5 calcium); "paroxysmal AF" names one (I48.0, not I48.9)."""
    own = content_words(s.title) - content_words(other.title)
    return bool(own & content_words(statement))


def _stated_apart(s: CodeSuggestion, other: CodeSuggestion) -> bool:
    """Whether a diagnosis has a present statement of its own (one ``other`` does not rest on)
    that names what sets it apart ("1. Common bile duct stones" for K80.5, where its best-supported
    sentence is the gallbladder stones' line, K80.2's)."""
    theirs = {(e.start, e.end) for e in other.evidence}
    return s.kind == "diagnosis" and any(e.assertion == "present" and (e.start, e.end) not in theirs
                                         and names_its_own(s, other, e.text) for e in s.evidence)


def _other_kind(s: CodeSuggestion) -> bool:
    """A diagnosis of the residual "Other ..." subdivision (fourth character 8): the statement
    that names nothing more of it is its category's unspecified code ("iron deficiency anaemia":
    D50.9, not D50.8 other iron deficiency anaemias)."""
    return s.kind == "diagnosis" and compact(s.code)[3:4] == "8" and s.title.lower().startswith("other")


@dataclass(frozen=True)
class OnePerStatementParams:
    message: str
    # a code of ``several`` (categories whose subdivisions name separate complications) that one of
    # the ``combined_by`` rules made stays beside its sibling
    combined_by: tuple[str, ...] = ()
    several: str = ""

    def __post_init__(self):
        check_codes((self.several,) if self.several else (), "several")


def _made_by(w: Work, s: CodeSuggestion, rules: set[str], several) -> bool:
    """Whether ``s``, a code of ``several``, was made by one of the combination ``rules``."""
    return in_refs(s.code, several) and bool(rules.intersection(w.tags.get((s.system, s.code), ())))


@rule("CON-008", "conventions", OnePerStatementParams)
def one_code_per_statement(w: Work, r: Rule) -> None:
    """Of two suggested codes of one category that rest on the same statement, the one a coder
    is likelier to assign stays: a statement names one condition once ("paroxysmal AF" is I48.0,
    not I48.0 and I48.9). Of two operations, an unspecified one gives way to its sibling ("OGD,
    biopsies" is G45.1, not G45.9); of two diagnoses, an "Other ..." one ("iron deficiency
    anaemia" is D50.9, not D50.8), unless the statement names what sets it apart. A code a
    combination rule made (hypoglycaemia in type 2 diabetes, E11.6) stays beside its sibling, and
    so does an operation whose own title holds its sibling's (Q22.1 beside Q22.3), for
    :func:`_said_more` to keep it in the sibling's place."""
    combined, several = set(r.params.combined_by), code_refs(r.params.several)

    def first(s: CodeSuggestion) -> tuple[bool, bool, float]:
        unspecified = s.kind == "procedure" and s.title.lower().startswith("unspecified")
        return unspecified, _other_kind(s), -s.likelihood

    kept: dict[tuple[str, str, int, int], CodeSuggestion] = {}
    for s in sorted(w.scope(r), key=first):
        if not s.evidence:
            continue
        best = max(s.evidence, key=lambda e: e.support or 0.0)
        key = (s.system, compact(s.code)[:3], best.start, best.end)
        if key in kept and not _made_by(w, s, combined, several) and not names_its_own(s, kept[key], best.text) \
                and not _stated_apart(s, kept[key]) and not _holds_operation(w, kept[key], s):
            w.demote(s)
            w.tag(r, s, kept[key])
            w.flag(r, r.params.message, s, codes=(s.code, kept[key].code), other=kept[key].code)
        else:
            kept[key] = s
    _said_more(w, r)


@dataclass(frozen=True)
class UnspecifiedParams:
    message: str
    partly: str  # a title unspecified only in part ("Generalized and unspecified atherosclerosis")

    def __post_init__(self):
        re.compile(self.partly)


@rule("CON-060", "conventions", UnspecifiedParams)
def unspecified_beside_specified(w: Work, r: Rule) -> None:
    """An unspecified diagnosis (fourth character 9, "unspecified" in its title, of the whole code)
    is not coded beside a specified code of its own category that rests on one of its statements."""
    p: UnspecifiedParams = r.params
    for s in [s for s in w.scope(r) if s.kind == "diagnosis"]:
        key = compact(s.code)
        if len(key) < 4 or key[3] != "9" or not _UNSPECIFIED.search(s.title) or re.search(p.partly, s.title, re.I):
            continue
        other = next((o for o in w.codes if o is not s and o.system == s.system and o.kind == "diagnosis"
                      and compact(o.code)[:3] == key[:3] and compact(o.code)[3:4] not in ("", "9")
                      and shared_statement(s, o) is not None), None)
        if other is not None:
            w.demote(s)
            w.tag(r, s, other)
            w.flag(r, p.message, s, codes=(s.code, other.code), other=f"{other.code} ({other.title})")


def _ends_compound(word: str, compound: str) -> bool:
    """Whether the operation ``word`` ends ``compound``, a fuller operation of the same kind
    ("oophorectomy" of "salpingoophorectomy"; not "thyroidectomy" of "parathyroidectomy")."""
    return compound.endswith(word) and compound != word and bool(re.search(OPERATION_WORD, word)) \
        and not re.search(OPERATION_PREFIX, compound[:-len(word)])


def _holds(words: set[str], more: set[str]) -> bool:
    """Whether a title of the words ``more`` says all that one of ``words`` says, and more: each of
    ``words`` is one of ``more`` or an operation that ends one of its compounds ("Bilateral
    salpingoophorectomy" holds "Bilateral oophorectomy NEC")."""
    said = all(any(m == word or _ends_compound(word, m) for m in more) for word in words)
    return said and not more <= words


def _holds_operation(w: Work, less: CodeSuggestion, more: CodeSuggestion) -> bool:
    """Whether ``more`` is an operation whose own title holds all of ``less``'s and more (their own
    titles: siblings share their category's words, "Total excision of breast"): it stays for
    :func:`_said_more` to keep in its place."""
    return more.kind == "procedure" and _holds(content_words(own_title(w, less)), content_words(own_title(w, more)))


def _said_more(w: Work, r: Rule) -> None:
    """Of two operations that rest on the same statement, one whose title says all the other's
    says and more (:func:`_holds`: "Percutaneous biopsy of lesion of liver NEC" J13.2 beside
    "Biopsy of liver NEC" J14.1, both read in "ultrasound-guided percutaneous liver biopsy";
    "Bilateral salpingoophorectomy" beside "Bilateral oophorectomy NEC") is coded."""
    operations = [s for s in w.scope(r) if s.kind == "procedure" and s.evidence and not opcs4_supplementary(s.code)]
    words = {id(s): content_words(s.title) for s in operations}  # "NEC" is a stop word
    for s in operations:
        spans = {(e.start, e.end) for e in s.evidence}
        more = next((o for o in operations if o is not s and o in w.codes and _holds(words[id(s)], words[id(o)])
                     and spans & {(e.start, e.end) for e in o.evidence}), None)
        if more is not None and s in w.codes:
            if w.at(s) < w.at(more):
                w.move_before(more, s)
            w.demote(s)
            w.tag(r, s, more)
            w.flag(r, r.params.message, s, codes=(s.code, more.code), other=more.code)


@dataclass(frozen=True)
class ConditionNamedParams:
    # {codes, words, anywhere?}: conditions (or operations on an organ), and the words that name
    # them; ``anywhere``: in any statement of the patient in the letter ("type 1 diabetes" in the
    # history, the ketoacidosis in the diagnoses; the breast of a breast operation), else in the
    # code's own statements
    conditions: tuple[dict, ...]
    message: str

    def __post_init__(self):
        check_entries(self.conditions, "conditions", {"codes": str, "words": str}, {"anywhere": bool})
        check_codes(tuple(c["codes"] for c in self.conditions), "conditions")
        for c in self.conditions:
            re.compile(c["words"])


@rule("CON-054", "conventions", ConditionNamedParams)
@rule("CON-052", "conventions", ConditionNamedParams)
def condition_never_named(w: Work, r: Rule) -> None:
    """A condition or operation none of whose statements names it of the patient is not coded:
    influenza read from "H. influenzae in sputum" (CON-054), a breast's wide local excision in a
    letter that names no breast (CON-052)."""
    p: ConditionNamedParams = r.params
    everything = [(0, len(w.text))]
    for condition in p.conditions:
        refs, words = code_refs(condition["codes"]), re.compile(condition["words"], re.I)
        for s in [s for s in w.scope(r) if in_refs(s.code, refs)]:
            spans = everything if condition.get("anywhere") else [(e.start, e.end) for e in s.evidence]
            if not any(words.search(text) for text in w.said_of_patient(spans)):
                w.demote(s)
                w.tag(r, s)
                w.flag(r, p.message, s)


@dataclass(frozen=True)
class StatedParams:
    # {add, words, with?, treated?, instead?, unless?}: the code of a condition a sentence of this
    # episode states (``words``, not ``unless``), beside a coded one of ``with`` ("Moderate
    # ascites" beside alcohol-related cirrhosis: R18; "hepatic encephalopathy" beside it: K70.4,
    # not K72.9 or G93.4, the codes ``instead``), or a result the same sentence tells ``treated``
    # ("her potassium fell to 2.9 mmol/L" and "replaced intravenously": E87.6)
    entries: tuple[dict, ...]
    skip_sections: tuple[str, ...]  # sections that tell of other episodes
    message: str

    def __post_init__(self):
        check_entries(self.entries, "entries", {"add": str, "words": str},
                      {"with": str, "treated": str, "instead": str, "unless": str})
        check_codes(tuple(", ".join(x.get(k) or x["add"] for k in ("add", "with", "instead")) for x in self.entries),
                    "entries")
        for x in self.entries:
            for key in ("words", "treated", "unless"):
                re.compile(x.get(key, ""))


def _stated(w: Work, episode: list[tuple[SentenceRecord, list[str]]], entry: dict) -> tuple[Evidence, ...]:
    """The sentences of ``episode`` (each with what it says of the patient, denied words blanked)
    that state ``entry``'s condition: its words (and its ``treated`` words) and not its ``unless``."""
    def says(said: str) -> bool:
        return bool(re.search(entry["words"], said, re.I) and re.search(entry.get("treated", ""), said, re.I)
                    and not re.search(entry.get("unless", r"(?!)"), said, re.I))
    return tuple(w.told(x) for x, said in episode if any(says(text) for text in said))


@rule("CON-081", "conventions", StatedParams)
def stated_in_episode(w: Work, r: Rule) -> None:
    """A condition a sentence of this episode states is coded as the classification places it:
    a sign a coded condition does not always bring, after it (ascites beside cirrhosis: R18), the
    subdivision of a coded condition's category that holds it (hepatic encephalopathy in
    alcohol-related liver disease: K70.4), the codes read for it alone (K72.9) becoming
    candidates, and an abnormal result told treated (a low potassium replaced: E87.6). What is
    denied ("Ultrasound: no ascites") or only measured is not coded."""
    p: StatedParams = r.params
    # what each sentence of the episode says of the patient, read once for all the entries
    episode = [(x, w.said_of_patient([(x.start, x.end)])) for x in w.episode_sentences(p.skip_sections)]
    for entry in p.entries:
        condition = next((s for s in w.scope(r) if s.kind == "diagnosis" and in_refs(s.code, code_refs(entry["with"]))),
                         None) if entry.get("with") else None
        told = _stated(w, episode, entry) if condition is not None or not entry.get("with") else ()
        system = System.parse(condition.system) if condition else next(x for x in r.applies_to if x.kind == "diagnosis")
        added = w.add(r, system, entry["add"], told, after=condition) if told else None
        if added is None:
            continue
        w.flag(r, p.message, added, codes=(added.code, *([condition.code] if condition else [])),
               other=condition.code if condition else "")
        instead = code_refs(entry.get("instead", ""))
        for s in [s for s in w.scope(r) if s.kind == "diagnosis" and in_refs(s.code, instead)
                  and all(any(e.start < x.end and x.start < e.end for x in told) for e in s.evidence)]:
            w.demote(s)
            w.tag(r, s, added)


@dataclass(frozen=True)
class BothFormsParams:
    # {acute, add, coded}: the acute code, the chronic code coded beside it ("+": the acute code's
    # further characters kept, "J96.1+" from J96.00 is J96.10) and the chronic codes that, already
    # suggested, add nothing; the first entry whose acute codes hold the code applies
    pairs: tuple[dict, ...]
    words: str  # the words that make the condition named after them both acute and chronic
    message: str

    def __post_init__(self):
        check_entries(self.pairs, "pairs", {"acute": str, "add": str, "coded": str}, {})
        check_codes(tuple(f"{x['acute']}, {x['add'].rstrip('+')}, {x['coded']}" for x in self.pairs), "pairs")
        re.compile(self.words)


def _said_acute_on_chronic(w: Work, s: CodeSuggestion, words: re.Pattern) -> re.Match | None:
    """The words just before a present mention of the condition of ``s`` that make it acute on
    chronic ("Acute on chronic type 1 respiratory failure"; not the heart failure's in "acute on
    chronic heart failure with type 1 respiratory failure")."""
    return next((found for m in w.support(s) if m.assertion == "present"
                 for found in [words.search(w.text[max(0, m.start - 60):m.start])] if found), None)


@rule("CON-053", "conventions", BothFormsParams)
def acute_on_chronic(w: Work, r: Rule) -> None:
    """A condition the letter calls acute on chronic ("Acute on chronic type 1 respiratory
    failure") is coded as both forms, the chronic code after the acute one."""
    p: BothFormsParams = r.params
    words = re.compile(p.words, re.I)
    for s in [s for s in w.scope(r) if s.kind == "diagnosis"]:
        pair = next((x for x in p.pairs if in_refs(s.code, code_refs(x["acute"]))), None)
        said = _said_acute_on_chronic(w, s, words) if pair is not None else None
        coded = code_refs(pair["coded"]) if pair is not None else ()
        if said is None or any(in_refs(c.code, coded) for c in w.codes if c.system == s.system):
            continue
        add = carried(pair["add"][:-1], s.code) if pair["add"].endswith("+") else pair["add"]
        added = w.add(r, System.parse(s.system), add, s.evidence, after=s, rule_evidence=True, score=s.score)
        if added is not None:
            w.tag(r, s)
            w.flag(r, p.message, s, codes=(s.code, added.code), other=added.code, mention=said.group(0))


@dataclass(frozen=True)
class AdditionalCodeParams:
    # {code, add, unless, also?, words?}: the combination code, the code added after it, and the
    # codes that, already suggested, say what it leaves unsaid (nothing is added; ``also``: more
    # of them); ``words``: the entry holds where the code's statements say them (the first of a
    # code's entries that holds is read)
    pairs: tuple[dict, ...]
    message: str

    def __post_init__(self):
        check_entries(self.pairs, "pairs", {"code": str, "add": str, "unless": str}, {"also": str, "words": str})
        check_codes(tuple(f"{x['code']}, {x['add']}, {x['unless']}, {x.get('also') or x['unless']}" for x in self.pairs),
                    "pairs")


@rule("CON-055", "conventions", AdditionalCodeParams)
def additional_code(w: Work, r: Rule) -> None:
    """A combination code that leaves the infection unsaid ("infective exacerbation of COPD",
    J44.0) is followed by the code of the unspecified infection (J22) where none is suggested;
    a Chapter XV code that leaves the condition unsaid by the one its statement names
    ("Postpartum anaemia secondary to acute blood loss", O99.0: D62)."""
    p: AdditionalCodeParams = r.params
    for s in [s for s in w.scope(r) if s.kind == "diagnosis"]:
        spans = [(e.start, e.end) for e in s.evidence if e.assertion == "present"]
        # what the statement says of the patient, its denied words blanked ("no free fluid or haemoperitoneum")
        said = " ".join(w.said_of_patient(spans)) or " ".join(w.text[a:b] for a, b in spans)
        pair = next((x for x in p.pairs if in_refs(s.code, code_refs(x["code"]))
                     and re.search(x.get("words", ""), said, re.I)), None)
        told = code_refs(", ".join(filter(None, (pair["unless"], pair.get("also"))))) if pair is not None else ()
        if pair is None or any(in_refs(c.code, told) for c in w.codes if c.system == s.system):
            continue
        added = w.add(r, System.parse(s.system), pair["add"], s.evidence, after=s, rule_evidence=True, score=s.score)
        if added is not None:
            w.tag(r, s)
            w.flag(r, p.message, s, codes=(s.code, added.code), other=added.code)
