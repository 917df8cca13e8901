"""Statement linking: each diagnosis or procedure the letter states, linked to the codes of the
classification that name it best.

A coder reads "1. NSTEMI" and looks up one code for it. The ranker scores codes for the letter
as a whole; the linker looks up each statement on its own: every coded mention (its query: the
expansion of an abbreviation, with the code-changing words and site) and every sentence of the
sections where clinicians state diagnoses and procedures, against the lexical and dense indexes of
the classification, with what English hospitals record (the HES prior) breaking near-ties. Its
best codes per statement become features of the suggester, and candidates the ranker missed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Mapping

from clincoder.core.codes import System, label_form, opcs4_supplementary
from clincoder.core.contracts import Mention, PreparedLetter, RankedCode, SentenceRecord
from clincoder.core.words import (CLAUSE_WORDS, GENERIC_HEADS, LEAD_STOP_WORDS, MEASURE,
                                  OPERATIVE_SUBJECTS, PASSIVE_AUXILIARIES, PROCEDURE_NOUNS, PROCEDURE_PARTICIPLES,
                                  SIDE_WORDS, names_site, side_names_organ)

from .prior import HesPrior

# the classifications whose titles name a side; WHO/UK ICD-10 names none, and OPCS-4 only where the
# side names the organ (:func:`clincoder.core.words.side_names_organ`)
SIDED = (System.ICD10CM, System.ICD10PCS)
PRIOR_WEIGHT = 0.05  # a whole HES range is worth this much match score: it decides near-ties only
# a procedure code that matches a mention at least this share of the mention's best match may
# gather the other mentions of its sentence too (a compound code: "cystoscopy and biopsy" is
# M45.1); one that matches it less is read with the sentence alone ("lap chole and IOC" are two
# codes). Diagnoses always gather them: the classification combines conditions (J44.0)
COMPOUND_SHARE = 0.75


# a diagnosis code adds a query's match to its statement's standing only where it is near that
# query's best (at least this share of it): a title that every query of "neutropenic sepsis" matches weakly
# (puerperal sepsis) must not outscore the codes each query names
GATHER_SHARE = 0.8


def _listed(hits: dict[str, float]):
    """A query's match of any code: as listed, else (the search returns only its top_k) the least
    it listed, a bound from above on what it did not list rather than no match at all."""
    least = min(hits.values(), default=0.0)
    return lambda code: hits.get(code, least)


def _statement_sums(queries: list, found: list[dict[str, float]], sentence: dict, procedure: bool) -> dict[int, dict[str, float]]:
    """Per sentence, each code's match summed over the sentence's queries: for a diagnosis only
    where near a query's best (:data:`GATHER_SHARE`); for a procedure every listed match, and a
    code a mention lists that the whole sentence's query does not counts that query's bound
    (:func:`_listed`): "manipulation of fracture" (W26.2) is not outweighed by a code the long
    sentence around it lists and the mention barely does."""
    whole: dict[int, dict[str, float]] = {}
    for q, hits in zip(queries, found):
        floor = _floor(hits, 0.0 if procedure else GATHER_SHARE)
        sums = whole.setdefault(q.sentence, {})
        for code, v in hits.items():
            if v >= floor:
                sums[code] = sums.get(code, 0.0) + v
    if procedure:
        for q, hits in zip(queries, found):
            if q.whole:
                sums = whole[q.sentence]
                for code in sums.keys() - hits.keys():
                    sums[code] += sentence[q.sentence](code)
    return whole


def _floor(hits: dict[str, float], share: float) -> float:
    """The match a code needs to be near a query's best: ``share`` of it."""
    return share * max(hits.values(), default=0.0)


@dataclass(frozen=True)
class Link:
    """The best link of a code in a letter: its match score, whether it was a statement's first
    choice, whether that statement is in a stated section, and the statement's sentence."""

    score: float
    first: bool
    stated: bool
    sentence: int
    order: int  # the statement's position among the letter's stated statements (0: the first)
    # 1 / (1 + the position of the first stated statement for whose first condition the code is
    # the first choice); 0 where it is none's or for a procedure: what a diagnosis line names first
    lead: float = 0.0
    # per sentence whose conditions differ in assertion: that of the mention naming the code best,
    # where it is not "present" (see :func:`_named`)
    named: Mapping[int, str] = field(default_factory=dict)


_LEAD_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*$")
_GRADE = re.compile(r"(?:grade|category|stage|type|class)\s+(?:[0-9][a-z]?|i{1,3}v?|iv|v)$", re.I)
LEAD_WORDS = 2  # at most this many describing words before a diagnosis mention join its query
# the words before and after a generic procedure word that name what it was done to, and with what
CONTEXT_WORDS = 6
CONTEXT_WORDS_AFTER = 8  # "repair of right femoral hernia with polypropylene mesh"


def with_lead(sentence: SentenceRecord, m: Mention, sides: bool = True) -> str | None:
    """The mention's query with the describing words written just before it ("juvenile
    myoclonic epilepsy", "permanent AF", "acute severe asthma"), which the mention leaves out
    when the lexicon knows only its head; None where there are none."""
    lead = []
    words = sentence.query[: max(0, m.start - sentence.start)].split()
    if len(words) >= 2 and _GRADE.match(" ".join(words[-2:])):
        lead = words[-2:]  # "category 2 pressure ulcer", "grade 3 haemorrhoids": a grade is one describing word
    else:
        for word in reversed(words):
            if len(lead) == LEAD_WORDS or not _LEAD_WORD.match(word) or word.lower() in LEAD_STOP_WORDS:
                break
            lead.insert(0, word)
    # "splenic laceration": the site as written, not "splenic spleen laceration"
    query = m.lookup(sides, site=not any(names_site(w, m.body_site) for w in lead))
    lead = [w for w in lead if w.lower() not in query.lower() and (sides or w.lower() not in SIDE_WORDS)]
    return " ".join([*lead, query]) if lead else None


_ARTICLES = frozenset({"the", "a", "an", "his", "her"})


def _object_words(words: list[str], sides: bool) -> list[str]:
    """The words of an operation's object without articles, and without a side where the
    classification names none (the side of a paired organ is a supplementary code's: "aspiration
    of the right knee" is W90.1 with Z94.2; "resection of the right colon" keeps its side)."""
    sides = sides or side_names_organ(words)
    return [w for w in words if w.lower().strip(",;:") not in (_ARTICLES if sides else _ARTICLES | SIDE_WORDS)]


def _within_clause(words) -> list[str]:
    """The words up to the first that ends the clause (:data:`CLAUSE_WORDS`)."""
    out = []
    for w in words:
        if w.lower().strip(",;:") in CLAUSE_WORDS:
            break
        out.append(w)
    return out


def with_context(sentence: SentenceRecord, m: Mention, sides: bool = True) -> str | None:
    """For a procedure written as a participle ("Bleeding point cauterised with silver nitrate")
    or as a generic noun ("percutaneous biopsy of the transplant kidney", "CRE balloon
    dilatation"), the words around it in its sentence (what was done to what, and with what), the
    participle read as the noun the classification uses ("cauterisation"), with the mention's site
    (:func:`_object_words`); None for a procedure that names its object ("laparoscopic cholecystectomy")."""
    # an abbreviation by what it stands for ("I&D R scrotal abscess" is an incision and drainage)
    noun = PROCEDURE_PARTICIPLES.get(m.text.lower()) or PROCEDURE_NOUNS.get((m.expansion or m.text).lower())
    if noun is None:
        return None
    at = max(0, m.start - sentence.start)
    preceding = [w for w in sentence.query[:at].split() if not MEASURE.match(w)]
    nearest = preceding[-CONTEXT_WORDS:]
    # a heading before the operation is not its object ("Procedure today: manipulation of the nasal bones")
    nearest = nearest[max((n + 1 for n, w in enumerate(nearest) if w.endswith(":")), default=0):]
    before = _within_clause(reversed(nearest))[::-1]
    # a surgeon's own account: the object follows the verb ("through a skin-crease incision I removed ...")
    subject = max((n for n, w in enumerate(before) if w in OPERATIVE_SUBJECTS), default=None)
    before = before if subject is None else before[subject + 1:]
    if before[:1] == [","] and before[-1].endswith(","):
        # an aside after a clinician's name, which the query blanks ("Mr Balogun, the registrar, aspirated")
        before = []
    after = _within_clause([w for w in sentence.query[at + len(m.text):].split() if not MEASURE.match(w)][:CONTEXT_WORDS_AFTER])
    if not before and preceding and preceding[-1].lower() in PASSIVE_AUXILIARIES:
        # a passive: what was done to stands before its auxiliary ("the fracture was manipulated")
        subject = _within_clause(reversed(preceding[-CONTEXT_WORDS - 1:-1]))[::-1]
        articles = [n for n, w in enumerate(subject) if w.lower() in _ARTICLES]
        subject = subject[articles[-1]:] if articles else subject  # its noun phrase: "the fracture"
        after = ["of", *subject, *after] if subject else after
    context = " ".join(_object_words([*before, noun, *after], sides))
    extra = [m.body_site] if m.body_site and m.body_site not in context.lower() else []
    return " ".join([*extra, context])


@dataclass(frozen=True)
class Query:
    """One text the linker looks up: a mention of a sentence, or the whole sentence."""

    text: str
    sentence: int
    whole: bool  # the whole sentence rather than one mention in it
    lead: bool  # the sentence's first condition (not a word describing the next): what it states first
    # a diagnosis mention's assertion, where its sentence's conditions differ in assertion (else None)
    assertion: str | None = None


class Linker:
    def __init__(self, system: System, lexical, dense, prior: HesPrior, top_k: int = 10):
        self.system, self.lexical, self.dense, self.prior, self.top_k = system, lexical, dense, prior, top_k

    def _queries(self, letter: PreparedLetter) -> list[Query]:
        """Each coded mention of this kind (and, for a diagnosis, the mention with its describing
        words), and each stated sentence."""
        procedure = self.system.kind == "procedure"
        stated = letter.stated(procedure)
        sided = self.system in SIDED
        out = []
        for i, s in enumerate(letter.sentences):
            mine = sorted((wm.mention for wm in s.mentions if wm.mention.procedural == procedure
                           and not (procedure and earlier(wm.mention))), key=lambda m: m.start)
            # a diagnosis list names the main condition first (a word that describes the next one is
            # not it: "bleeding duodenal ulcer" is an ulcer); the main procedure is the most
            # significant one, whatever the order, and one code may cover several mentions
            main = None if procedure else next((m for m, n in zip(mine, mine[1:] + [None])
                                                if n is None or n.start - m.end > 1), None)
            mixed = not procedure and len({m.assertion for m in mine}) > 1
            for m in mine:
                first = m is main
                told = m.assertion if mixed else None
                sides = sided or side_names_organ((m.expansion or m.text).split())
                lead = None if procedure else with_lead(s, m, sides)
                # a word that says what kind of condition but not where is read only with the
                # words before it ("tibial shaft #", "superior vena cava obstruction"); a condition
                # is read alone too ("neutropenic sepsis" is D70 and A41.9)
                if not (lead and (m.expansion or m.text).lower() in GENERIC_HEADS):
                    out.append(Query((with_context(s, m, sided) if procedure else None) or m.lookup(sides), i, False,
                                     first, told))
                if lead:
                    out.append(Query(lead, i, False, first, told))
            if i in stated:
                out.append(Query(episode_query(s, procedure).strip(), i, True, False))
        return out

    def _matches(self, texts: list[str]) -> list[dict[str, float]]:
        found = [dict() for _ in texts]
        for n, hits in enumerate(self.lexical.search(texts, self.top_k, 0.1)):
            for code, v in hits:
                found[n][code] = max(found[n].get(code, 0.0), v)
        if self.dense is not None:
            for n, hits in enumerate(self.dense.search(texts, self.top_k)):
                for code, v in hits:
                    found[n][code] = max(found[n].get(code, 0.0), v)
        return found

    def link(self, letter: PreparedLetter) -> dict[str, Link]:
        """The best link of every code some statement of the letter names, by label form.

        A code's standing in a statement is its match summed over the statement's queries (the
        sentence and each mention in it), so that the code matching the whole statement beats a
        sibling that matches one mention alone ("infective exacerbation of COPD with LRTI": J44.0,
        not J44.1); for a procedure mention, only codes that match it well gather the other
        mentions (see :data:`COMPOUND_SHARE`). Each query's first choice by its standing is a
        statement's first choice."""
        queries = self._queries(letter)
        if not queries:
            return {}
        stated = {i: n for n, i in enumerate(letter.stated_order(self.system.kind == "procedure"))}
        found = self._matches([q.text for q in queries])
        procedure = self.system.kind == "procedure"
        if self.system is System.OPCS4:
            found = [hits if q.whole else _operations(hits) for q, hits in zip(queries, found)]
        sentence = {q.sentence: _listed(hits) for q, hits in zip(queries, found) if q.whole}
        whole = _statement_sums(queries, found, sentence, procedure)
        links: dict[str, Link] = {}
        for q, hits in zip(queries, found):
            i = q.sentence
            # the sentence's own query, or a code that matches the mention well (a procedure:
            # COMPOUND_SHARE of its best; a diagnosis: GATHER_SHARE, as the classification combines
            # conditions, J44.0): the whole statement. A code the mention names less well stands
            # on its own match: "L fibular shaft #" beside "L tibial shaft #" is no reading of the latter
            near = 0.0 if q.whole else _floor(hits, COMPOUND_SHARE if procedure else GATHER_SHARE)
            # a code's standing: the sum of its near-best matches in the statement, or its own
            # match (a procedure's with the sentence's: one operation named in parts) where it is
            # near the best of none
            standing = {c: whole[i].get(c, v) if v >= near else v + (sentence[i](c) if procedure and i in sentence else 0.0)
                        for c, v in hits.items()}
            order = sorted(hits, key=lambda c: -(standing[c] + PRIOR_WEIGHT * self.prior.weight(self.system, c)))
            for rank, code in enumerate(order):
                key = label_form(self.system, code)
                where = stated.get(i, len(stated))
                lead = 1.0 / (1 + where) if rank == 0 and q.lead and i in stated else 0.0
                link = Link(min(1.0, hits[code]), rank == 0, i in stated, i, where, lead)
                old = links.get(key)
                # a statement where clinicians state what was done beats one in the plan or history
                if old is not None and (link.first, link.stated, link.score) <= (old.first, old.stated, old.score):
                    link = old
                best_lead = max(lead, old.lead if old else 0.0)  # the lead a code has anywhere stays
                links[key] = link if link.lead == best_lead else replace(link, lead=best_lead)
        named = _named(self.system, queries, found)
        return {k: replace(l, named=named[k]) if k in named else l for k, l in links.items()}


def _named(system: System, queries: list[Query], found: list[dict[str, float]]) -> dict[str, dict[int, str]]:
    """For each code, per sentence whose conditions differ in assertion, the assertion of the
    mention that matches the code best there where that is not "present" (label form -> sentence
    -> assertion). A present mention does not make present what the sentence tells as history or
    as uncertain: the scope of "in 2019" or "probably" may end before the sentence's last words
    ("... in March 2019 for perforated sigmoid diverticulitis with faecal peritonitis")."""
    best: dict[tuple[str, int], tuple[float, str]] = {}
    for q, hits in zip(queries, found):
        if q.assertion is None:
            continue
        for code, v in hits.items():
            at = (label_form(system, code), q.sentence)
            if v > best.get(at, (0.0, ""))[0]:
                best[at] = (v, q.assertion)
    named: dict[str, dict[int, str]] = {}
    for (key, i), (_, assertion) in best.items():
        if assertion != "present":
            named.setdefault(key, {})[i] = assertion
    return named


def _operations(hits: dict[str, float]) -> dict[str, float]:
    """An OPCS-4 procedure mention's matches without the supplementary codes (chapters Y and Z,
    O11-O16, the stents L76, L89 and O20):
    a mention names an operation, and its approach, image control and site are codes that only
    qualify one ("laparoscopic sacrocolpopexy" is P24.2, with Y75.2 after it, never the
    laparotomy approach Y50.2 alone)."""
    return {c: v for c, v in hits.items() if not opcs4_supplementary(c)}


def earlier(m: Mention) -> bool:
    """A procedure the letter places in an earlier episode ("a right hip replacement in 2014"):
    only the procedures of the episode are coded (National Clinical Coding Standards OPCS-4)."""
    return m.procedural and m.assertion == "historical"


def episode_query(s: SentenceRecord, procedure: bool) -> str:
    """The sentence's query; for a procedure, without the words of the operations of earlier
    episodes that it tells of beside this episode's conditions."""
    if not procedure:
        return s.query
    chars = list(s.query)
    for wm in s.mentions:
        if earlier(wm.mention):
            chars[wm.mention.start - s.start: wm.mention.end - s.start] = " " * (wm.mention.end - wm.mention.start)
    return "".join(chars)


def _named_at(r: RankedCode, link: Link, past: frozenset[int]) -> RankedCode:
    """A ranked code that a statement of this episode names first, where the ranker supports it
    mostly by what the letter negates or tells as history (``past``: those sentences; its strong
    support, at least half its best, all there), is supported by that statement: "a left burr hole
    drainage" is the evacuation of the subdural haematoma (A41.1) that the ranker found only in
    the sentence telling of the earlier scan; "Two-stage Ivor Lewis oesophagectomy" is G01.1, which
    the ranker found best in the previous operations."""
    if r.uncoded:
        return replace(r, support={link.sentence: link.score}, uncoded=False)
    if r.support and set(r.strong_at) <= past and link.sentence not in past:
        return replace(r, support={**r.support, link.sentence: link.score})
    return r


def with_statement(r: RankedCode, link: Link | None) -> RankedCode:
    """A code with the statement that names it first among its support (its evidence): "diagnostic
    ascitic tap" is T46.1's statement, wherever else the ranker found it ("mod ascites" on the
    scan)."""
    if link is None or not link.first or link.sentence in r.support:
        return r
    # at most the code's best support: the statement joins its evidence, the other sentences stay
    joined = min(link.score, max(r.support.values(), default=link.score))
    return replace(r, support={**r.support, link.sentence: joined})


def with_links(ranked: list[RankedCode], links: dict[str, Link], letter: PreparedLetter | None = None,
               procedural: bool = False) -> list[RankedCode]:
    """The ranked codes, then the codes a statement's first choice names that the ranker did not
    propose (score 0, supported by that statement). A code the ranker found only where the letter
    negates it (family history, a hypothesis) that a statement of this episode names first is that
    statement's code: "acute gout" is stated although the ranker matched M10.99 only in "his father
    had gout"; so is one the ranker found only in what the ``letter`` tells as history
    (:func:`_named_at`)."""
    past = frozenset(i for i, s in enumerate(letter.sentences) if s.assertion_of(procedural) == "historical"
                     ) if letter is not None else frozenset()
    ranked = [_named_at(r, l, past) if (l := links.get(r.key)) is not None and l.first else r for r in ranked]
    ranked = [replace(r, named=l.named) if (l := links.get(r.key)) is not None and l.named else r for r in ranked]
    have = {r.key for r in ranked}
    extra = [RankedCode(k, 0.0, {l.sentence: l.score}, named=l.named) for k, l in links.items()
             if l.first and k not in have]
    return list(ranked) + sorted(extra, key=lambda r: -max(r.support.values()))
