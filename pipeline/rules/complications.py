"""Complications of care: a condition the letter gives as the complication of a procedure is
followed by the Y83-Y84 code of that procedure (citations in ``rules.yaml``).

A coder reads which procedure caused it: the complication's own statement first ("secondary
post-tonsillectomy haemorrhage", "PD peritonitis", "catheter-associated UTI"), then what its
code says (a transplant rejected, a device), then the operation the letter tells nearest to it
("I carried out a total thyroidectomy" before "post-operative hypoparathyroidism"), and last the
general words ("surgery", "repair": another surgical procedure), of its statement, then of the
letter nearest to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clincoder.core.codes import System
from clincoder.core.schema import CodeSuggestion, Evidence
from clincoder.core.words import content_words

from .engine import Work
from .refs import code_refs, in_refs
from .registry import rule
from .schema import Rule, check_codes, check_entries


@dataclass(frozen=True)
class ProcedureCauseParams:
    complications: tuple[str, ...]  # codes that are complications of care whatever their statement says
    stated_codes: tuple[str, ...]  # codes that are one where their own statement says so (``stated``)
    stated: str  # "post-operative", "a recognised complication of the surgery"
    # {codes, add}: the Y83-Y84 code a complication's own code gives (T86: a transplanted organ)
    defaults: tuple[dict, ...]
    # {words, add}: the procedures as letters name them, most specific first; ``general`` ones
    # ("surgery", "repair") are read after all the specific ones
    procedures: tuple[dict, ...]
    causes: tuple[str, ...]  # the cause codes: where one follows the complication already, none is added
    message: str
    # {codes, words}: conditions of ``stated_codes`` that are a complication only where their statement
    # gives a procedure as their cause ("retention related to the anaesthetic"); "post-operative"
    # alone dates them ("post-operative urinary retention on day 1" is retention of urine)
    linked: tuple[dict, ...] = ()
    history: tuple[str, ...] = ()  # sections whose operations are another episode's, never the cause read

    def __post_init__(self):
        for what, codes in (("complications", self.complications), ("stated_codes", self.stated_codes),
                            ("causes", self.causes)):
            check_codes(codes, what)
        check_entries(self.defaults, "defaults", {"codes": str, "add": str}, {})
        check_entries(self.procedures, "procedures", {"words": str, "add": str}, {"general": bool, "treats": str})
        check_entries(self.linked, "linked", {"codes": str, "words": str}, {})
        for e in (*self.defaults, *self.procedures):
            check_codes((e["add"],), "add")
        check_codes(tuple(e["codes"] for e in self.linked) + tuple(e["treats"] for e in self.procedures
                                                                     if "treats" in e), "linked and treats")
        for pattern in (self.stated, *(e["words"] for e in self.linked)):
            re.compile(pattern)


def _named(entries, text: str) -> dict | None:
    """The first procedure of ``entries`` that ``text`` names."""
    return next((e for e in entries if re.search(e["words"], text, re.I)), None)


def _nearest_told(w: Work, entries, at: int, history: tuple[str, ...]) -> dict | None:
    """The procedure named in the letter's sentence that tells an operation or procedure of this
    episode nearest to the offset ``at`` (the complication's statement): not one in the history
    ("colostomy reversed 2020")."""
    told = (s for s in w.episode_sentences(history) if s.procedural)
    for sentence in sorted(told, key=lambda s: abs(s.start - at)):
        found = _named(entries, w.text[sentence.start:sentence.end])
        if found is not None:
            return found
    return None


def _procedure(w: Work, p: ProcedureCauseParams, s: CodeSuggestion) -> str | None:
    """The Y83-Y84 code of the procedure that caused the complication ``s``: the specific
    procedures first (its statement, its code, the letter nearest to it, not its history), then
    the general ones."""
    said = " ".join(e.text for e in s.evidence)
    at = min((e.start for e in s.evidence), default=0)
    causes = [e for e in p.procedures if not in_refs(s.code, code_refs(e.get("treats", "")))]
    specific = [e for e in causes if not e.get("general")]
    general = [e for e in causes if e.get("general")]
    found = _named(specific, said)
    default = next((d for d in p.defaults if in_refs(s.code, code_refs(d["codes"]))), None)
    if found is None and default is not None:
        return default["add"]
    found = found or _nearest_told(w, specific, at, p.history) or _named(general, said) \
        or _nearest_told(w, general, at, p.history)
    return found["add"] if found is not None else None


def _complication(p: ProcedureCauseParams, s: CodeSuggestion) -> bool:
    if in_refs(s.code, code_refs(" ".join(p.complications))):
        return True
    link = next((e["words"] for e in p.linked if in_refs(s.code, code_refs(e["codes"]))), p.stated)
    return in_refs(s.code, code_refs(" ".join(p.stated_codes))) and any(re.search(link, e.text, re.I)
                                                                      for e in s.evidence)


@rule("CON-044", "conventions", ProcedureCauseParams)
def procedure_as_cause(w: Work, r: Rule) -> None:
    """A complication of a procedure ("post-operative hypoparathyroidism", "wound infection",
    "post-LP headache") is followed directly by the Y83-Y84 code of the procedure that caused it."""
    p: ProcedureCauseParams = r.params
    causes, placed = code_refs(" ".join(p.causes)), set()
    for s in [s for s in w.scope(r) if s.kind == "diagnosis" and _complication(p, s)]:
        at = w.at(s)
        if at + 1 < len(w.codes) and in_refs(w.codes[at + 1].code, causes):
            placed.add(id(w.codes[at + 1]))  # its cause stays where it is
            continue
        code = _procedure(w, p, s)
        added = w.attach(r, System.parse(s.system), code, s, s, placed, score=s.score) if code else None
        if added is not None:
            w.tag(r, s)
            w.flag(r, p.message, s, codes=(s.code, added.code), other=added.code)


@dataclass(frozen=True)
class PostproceduralParams:
    forms: tuple[dict, ...]  # {codes, to}: a condition's codes and the code of its postprocedural form
    stated: str  # the words that make it postprocedural in its own statement ("post-surgical")
    message: str
    apart: str  # the message where the postprocedural form is coded beside the condition

    def __post_init__(self):
        check_entries(self.forms, "forms", {"codes": str, "to": str}, {})
        for f in self.forms:
            check_codes((f["to"],), "forms to")
        re.compile(self.stated)


def _stems(text: str) -> set[str]:
    """The content words of ``text`` by their first six letters, so that a word's forms meet
    ("adhesional" and "adhesions", "hypothyroid" and "hypothyroidism")."""
    return {word[:6] for word in content_words(text)}


def _another_condition(s: CodeSuggestion, form_title: str, after: list[Evidence]) -> bool:
    """Whether the statements that call a condition post-operative tell another condition than the
    code's: its other statements name what its title names and neither those nor the
    postprocedural form's title do ("division of adhesions" for K56.5, where "postoperative
    paralytic ileus" names no adhesions)."""
    told = set().union(_stems(form_title), *(_stems(e.text) for e in after))
    own = _stems(s.title) - told
    return any(own & _stems(e.text) for e in s.evidence if e not in after and e.assertion == "present")


@rule("CON-045", "conventions", PostproceduralParams)
def postprocedural_form(w: Work, r: Rule) -> None:
    """A condition whose statement calls it post-operative or post-surgical is coded as the
    postprocedural form the classification has ("post-surgical hypothyroidism": E89.0, not E03.9);
    where that statement tells another condition than the code's other statements do, the form
    is coded beside it (the adhesions that obstructed, and the ileus after their division)."""
    p: PostproceduralParams = r.params
    for form in p.forms:
        refs = code_refs(form["codes"])
        for s in [s for s in w.scope(r) if s.kind == "diagnosis" and in_refs(s.code, refs)]:
            system = System.parse(s.system)
            after = [e for e in s.evidence if re.search(p.stated, e.text, re.I)]
            if not after:
                continue
            form_entry = w.tables.get(system).get(form["to"])
            if _another_condition(s, form_entry.title if form_entry else "", after):
                # the adhesions that obstructed, and the ileus after the operation: two conditions,
                # the code keeps the statements of its own
                own = w.restate(r, s, tuple(e for e in s.evidence if e not in after))
                if w.add(r, system, form["to"], tuple(after), after=own) is not None:
                    w.flag(r, p.apart, own, codes=(s.code, form["to"]), other=form["to"])
                continue
            if w.suggested(system, form["to"]) is None:
                w.replace(r, s, system, form["to"])
            else:  # the postprocedural form is suggested already: the same condition
                w.demote(s)
                w.tag(r, s)
            w.flag(r, p.message, s, codes=(s.code, form["to"]), other=form["to"])


@dataclass(frozen=True)
class InfectionAfterParams:
    infections: tuple[str, ...]  # infections that follow a procedure as its complication (not a device's)
    stated: str  # the words of the infection's own statement that make it follow a procedure
    add: str  # infection following a procedure (T81.4)
    complications: tuple[str, ...]  # a complication of care suggested already: nothing is added
    message: str

    def __post_init__(self):
        check_codes(self.infections, "infections")
        check_codes(self.complications, "complications")
        check_codes((self.add,), "add")
        re.compile(self.stated)


@rule("CON-047", "conventions", InfectionAfterParams)
def infection_after_procedure(w: Work, r: Rule) -> None:
    """An infection whose statement gives it as following a procedure ("acute postoperative
    endophthalmitis", "sepsis after transrectal prostate biopsy") is coded as an infection
    following a procedure (T81.4), placed before the infection's own code; CON-044 then adds
    the procedure that caused it."""
    p: InfectionAfterParams = r.params
    infections, complications = code_refs(" ".join(p.infections)), code_refs(" ".join(p.complications))
    if any(in_refs(s.code, complications) for s in w.scope(r)):
        return
    for s in [s for s in w.scope(r) if s.kind == "diagnosis" and in_refs(s.code, infections)]:
        found = next((m for e in s.evidence if e.assertion == "present"
                      for m in [re.search(p.stated, e.text, re.I)] if m), None)
        if found is None:
            continue
        added = w.add(r, System.parse(s.system), p.add, s.evidence, after=s, rule_evidence=True, score=s.score)
        if added is not None:
            w.move_before(added, s)
            if s.role == "primary":  # the infection following the procedure is the main condition
                s, added = w.unmark_primary(s), w.mark_primary(added)
            w.tag(r, s)
            w.flag(r, p.message, s, codes=(s.code, added.code), other=added.code, mention=found.group(0))
        return
