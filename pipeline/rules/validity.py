"""Validity for the patient: codes the classification reserves for one sex are not coded for a
patient the letter shows to be of the other, nor codes it reserves for an age for a patient the
letter shows to be of another (citations in ``rules.yaml``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from clincoder.core.codes import System

from .engine import Work
from .refs import code_refs, in_refs
from .registry import rule
from .schema import Rule, check_codes, check_entries


@dataclass(frozen=True)
class SexParams:
    female_only: dict[str, str]  # code ranges for females only, by classification
    male_only: dict[str, str]  # code ranges for males only, by classification
    stated: str  # a sex the letter states ("Sex: F"), its first group the word
    titled: str  # the patient's title ("Name: Mrs ..."), its first group the title
    female: str  # the words that refer to a woman or girl (she, her)
    male: str  # ... to a man or boy (he, his)
    margin: int  # how many times more often one sex's words must be used than the other's
    least: int  # the fewest uses of them that tell the patient's sex
    message: str

    def __post_init__(self):
        for ranges in (self.female_only, self.male_only):
            unknown = set(ranges) - {s.value for s in System}
            if unknown:
                raise ValueError(f"not a classification: {sorted(unknown)}")
            check_codes(tuple(ranges.values()), "one sex only")
        for pattern in (self.stated, self.titled, self.female, self.male):
            re.compile(pattern)


def patient_sex(text: str, p: SexParams) -> str | None:
    """The patient's sex ("female", "male") where the letter states it, gives the patient's title
    ("Name: Mrs ...") or refers to the patient by one sex's words far more often than the other's
    (a letter tells of relatives too: "his wife"); else None."""
    stated = re.search(p.stated, text, re.I)
    if stated:
        return "female" if stated.group(1).lower().startswith("f") else "male"
    titled = re.search(p.titled, text, re.I)
    if titled:
        return "male" if titled.group(1).lower() in ("mr", "master") else "female"
    her, his = len(re.findall(p.female, text, re.I)), len(re.findall(p.male, text, re.I))
    if her >= p.least and her >= p.margin * his:
        return "female"
    if his >= p.least and his >= p.margin * her:
        return "male"
    return None


@rule("CON-039", "conventions", SexParams)
def one_sex_only(w: Work, r: Rule) -> None:
    """A code for one sex only (prostate, testis; uterus, ovary, pregnancy) is not coded for a
    patient of the other: the classification's sex edits, which the national validation applies."""
    p: SexParams = r.params
    sex = patient_sex(w.text, p)
    if sex is None:
        return
    ranges = p.male_only if sex == "female" else p.female_only
    wrong = {system: code_refs(codes) for system, codes in ranges.items()}
    for s in [s for s in w.scope(r) if s.system in wrong and in_refs(s.code, wrong[s.system])]:
        w.rule_out(s)
        w.tag(r, s)
        w.flag(r, p.message, s, value=sex)


@dataclass(frozen=True)
class AgeParams:
    # {codes, youngest?, oldest?, system?, instead?}: the ages in whole years (on admission) a code
    # range is for; the range is of diagnoses unless ``system`` names a procedure classification
    # (OPCS-4); ``instead``: the code of the patient's age, coded in its place
    limits: tuple[dict, ...]
    message: str
    instead: str  # the message where the code of the patient's age is coded in its place

    def __post_init__(self):
        check_entries(self.limits, "limits", {"codes": str}, {"youngest": int, "oldest": int, "system": str, "instead": str})
        check_codes(tuple(e["codes"] for e in self.limits), "limits")
        check_codes(tuple(e["instead"] for e in self.limits if "instead" in e), "instead")


@rule("CON-048", "conventions", AgeParams)
def for_an_age(w: Work, r: Rule) -> None:
    """A code the classification keeps for an age (pregnancy and childbirth from puberty; a
    liveborn infant's birth in its first year) is not coded for a patient of another age: the
    letter's baby born at 28 weeks is not the mother in preterm labour (O60.1)."""
    p: AgeParams = r.params
    if w.age_days is None:
        return
    years = w.age_days / 365.25
    for limit in p.limits:
        refs = code_refs(limit["codes"])
        if limit.get("youngest", 0) <= years < limit.get("oldest", 200):
            continue
        mine = [s for s in w.scope(r) if (s.system == limit["system"] if "system" in limit else s.kind == "diagnosis")]
        for s in [s for s in mine if in_refs(s.code, refs)]:
            age = f"{int(years)} years" if years >= 1 else f"{w.age_days} days"
            if "instead" in limit:  # the code of this age in its place ("pyloric stenosis" of a baby: Q40.0)
                w.replace(r, s, System.parse(s.system), limit["instead"])
                w.flag(r, p.instead, s, value=age, other=limit["instead"])
                continue
            w.rule_out(s)
            w.tag(r, s)
            w.flag(r, p.message, s, value=age)
