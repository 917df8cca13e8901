"""Specificity: a condition is coded to the most specific code its statement documents
(citations in ``rules.yaml``).

A coder who has found the category reads its subdivisions against the statement: "RSV
bronchiolitis" is J21.0 (due to respiratory syncytial virus), not J21.9; a "bleeding duodenal
ulcer" is not K26.7 (without haemorrhage). The words that set a subdivision apart are those of
its title that the parent's title lacks; words after "without" are what it excludes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clincoder.core.codes import System
from clincoder.core.schema import CodeSuggestion
from clincoder.core.tables import CodeEntry
from clincoder.core.words import content_words

from .engine import Work
from .registry import rule
from .schema import MessageParams, Rule

# title wording that documents nothing: "unspecified as acute or chronic", "chronic or unspecified"
_NOT_DOCUMENTED = re.compile(r"\bunspecified as [^,]*|\b\w+ or unspecified\b", re.I)
_WITHOUT = re.compile(r"\bwithout\b", re.I)
# words in parentheses are supplementary (they do not change the code: WHO ICD-10 Volume 2,
# 3.1.4), and an "including ..." clause lists what the code also covers, not what it requires
_WITHOUT_CLAUSE = re.compile(r"\bwithout\b[^,;.()]*", re.I)
_SUPPLEMENTARY = re.compile(r"\([^)]*\)|,?\s*\bincluding\b[^,;]*", re.I)


@dataclass(frozen=True)
class SpecificityParams:
    equivalents: dict[str, str]  # letter wording (regex) -> the word the titles use ("bleeding": "haemorrhage")
    message: str
    boilerplate: tuple[str, ...] = ()  # title words no statement needs to say ("parts of face": face)

    def __post_init__(self):
        for pattern in self.equivalents:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"equivalents: {pattern!r} is not a valid pattern ({exc})") from exc


@dataclass(frozen=True)
class Subdivision:
    """A code's own words (those its parent's title lacks) and the words it excludes."""

    entry: CodeEntry
    own: frozenset[str]
    excludes: frozenset[str]

    @classmethod
    def of(cls, entry: CodeEntry, parent_words: set[str], boilerplate: frozenset[str] = frozenset()) -> "Subdivision":
        title = _SUPPLEMENTARY.sub(" ", _NOT_DOCUMENTED.sub(" ", entry.title))
        kept, *excluded = _WITHOUT.split(title, maxsplit=1)
        excluded = excluded[0] if excluded else ""
        own, excludes = content_words(kept) - parent_words - boilerplate, content_words(excluded) - parent_words
        return cls(entry, frozenset(own), frozenset(excludes))

    def fit(self, said: set[str]) -> tuple[int, int] | None:
        """(own words the statement has, own words it lacks); None where it states what the code excludes."""
        if self.excludes & said:
            return None
        return len(self.own & said), len(self.own - said)


def _statement_words(w: Work, s: CodeSuggestion, equivalents: dict[str, str]) -> set[str]:
    """The words of a code's present-tense evidence (its sentences as the ranker reads them, with
    negated words blanked, and the expansions of the abbreviations in its mentions), with the
    titles' words for letter wording."""
    spans = [(e.start, e.end) for e in s.evidence if e.assertion == "present"]
    text = " ".join([r.query for r in w.sentences if any(a <= r.start < b for a, b in spans)] +
                    [m.expansion for m in w.mentions if m.expansion and any(a <= m.start < b for a, b in spans)])
    text = _WITHOUT_CLAUSE.sub(" ", text)  # "severe without psychotic symptoms" does not say "psychotic"
    for pattern, word in equivalents.items():
        text = re.sub(pattern, lambda m, word=word: f"{m.group(0)} {word}", text, flags=re.I)  # both words stay
    return content_words(text)


def _better(current: Subdivision, options: list[Subdivision], said: set[str]) -> Subdivision | None:
    """The subdivision the statement documents fully, where the current code's is not."""
    fit = current.fit(said)
    if fit is not None and current.own and fit[1] == 0:
        return None  # the statement already documents the current code
    scored = [(f, o) for o in options if o.entry.code != current.entry.code and (f := o.fit(said)) is not None]
    # fully documented, and saying more than the current code does, or what it says less the words
    # the statement lacks ("severe" where the current code is "severe with psychotic symptoms")
    full = [(f, o) for f, o in scored if f[0] > 0 and f[1] == 0 and (fit is None or f[0] > fit[0] or o.own < current.own)]
    # the one that says all the others say ("nuclear" beside nothing more); two that document
    # different things ("temple" and "hand") are left to the coder
    best = [o for _, o in full if all(x.own <= o.own for _, x in full)]
    return best[0] if len(best) == 1 else None


def _family(w: Work, s: CodeSuggestion, boilerplate: frozenset[str] = frozenset()
            ) -> tuple[CodeEntry, Subdivision, set[str]] | None:
    """A suggested diagnosis's parent code, its subdivision, and the parent's words; None for a
    code that is not a subdivision."""
    table, entry = w.entry(s)
    parent = table.parent(entry.code) if entry is not None else None
    if parent is None or not parent.is_code:
        return None
    parent_words = content_words(_NOT_DOCUMENTED.sub(" ", parent.title))
    return parent, Subdivision.of(entry, parent_words, boilerplate), parent_words


@rule("CON-011", "conventions", SpecificityParams)
def documented_specificity(w: Work, r: Rule) -> None:
    p: SpecificityParams = r.params
    boilerplate = content_words(" ".join(p.boilerplate))
    for s in [s for s in w.scope(r) if s.kind == "diagnosis"]:
        family = _family(w, s, boilerplate)
        if family is None:
            continue
        parent, mine, parent_words = family
        system = System.parse(s.system)
        options = [Subdivision.of(e, parent_words, boilerplate) for e in w.tables[system].children(parent.code)
                   if e.selectable]
        better = _better(mine, options, _statement_words(w, s, p.equivalents))
        if better is None:
            continue
        added = w.add(r, system, better.entry.code, s.evidence, after=s)  # None: already suggested
        if added is None:  # suggested already: it moves up to the place of the code it replaces
            added = w.suggested(system, better.entry.code)
        if added is not None and w.codes.index(added) > w.codes.index(s):
            w.move_before(added, s)  # in the place of the code it replaces (the primary stays primary)
        w.demote(s)
        w.tag(r, s)
        w.flag(r, p.message, s, codes=(s.code, better.entry.code), other=f"{better.entry.code} ({better.entry.title})")


@rule("CON-012", "conventions", MessageParams)
def one_subdivision(w: Work, r: Rule) -> None:
    """Of two suggested subdivisions of one parent where one is unspecified, or "without" what the
    other has, the other is coded, in the first place either had. (Whether the letter words what
    sets the other apart is not asked: it says "leg" where the title says "limb".)"""
    families = {id(s): f for s in w.scope(r) if s.kind == "diagnosis" and (f := _family(w, s)) is not None}
    for s in [s for s in w.codes if id(s) in families]:
        if s not in w.codes:
            continue
        mine = families[id(s)]
        o = next((o for o in w.codes if o is not s and id(o) in families and _overrides(families[id(o)], mine)), None)
        if o is None:
            continue
        if w.codes.index(s) < w.codes.index(o):
            w.move_before(o, s)
        w.demote(s)
        w.tag(r, s, o)
        w.flag(r, r.params.message, s, codes=(s.code, o.code), other=f"{o.code} ({o.title})")


def _overrides(other: tuple, mine: tuple) -> bool:
    """Whether subdivision ``other`` is the more specific of the two ``_family`` results: same
    parent, and ``mine`` is unspecified or excludes what ``other`` has."""
    (parent_o, sub_o, _), (parent_m, sub_m, _) = other, mine
    if parent_o.code != parent_m.code or not sub_o.own:
        return False
    return "unspecified" in sub_m.entry.title.lower() or bool(sub_m.excludes & sub_o.own)
