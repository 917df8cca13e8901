"""Specificity: a condition is coded to the most specific code its statement documents
(citations in ``rules.yaml``).

A coder who has found the category reads its subdivisions against the statement: "RSV
bronchiolitis" is J21.0 (due to respiratory syncytial virus), not J21.9; a "bleeding duodenal
ulcer" is not K26.7 (without haemorrhage). The words that set a subdivision apart are those of
its title that the parent's title lacks; words after "without" are what it excludes. A residual
code ("asthma, unspecified") gives way to the code of its block that the statement names in full by
title or curated index term ("acute severe asthma": J46).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace

from clincoder.core.codes import System, compact
from clincoder.core.contracts import Mention, SentenceRecord
from clincoder.core.schema import NOT_CODED, STATED, CodeSuggestion, Evidence
from clincoder.core.index_terms import index_terms
from clincoder.core.tables import CodeEntry, CodeTable
from clincoder.core.words import DENIAL_CLAUSE, LIST_MARKER, content_sequence, content_words, within

from .engine import Work, carried, mention_words, without_split
from .refs import code_refs, in_refs
from .registry import rule
from .schema import Rule, check_codes, check_entries, check_patterns

# title wording that documents nothing: "unspecified as acute or chronic", "chronic or unspecified",
# "other and unspecified parts", "unspecified"
_NOT_DOCUMENTED = re.compile(r"\bunspecified as [^,]*|\b(?:\w+ (?:or|and) )?unspecified\b", re.I)
# words in parentheses are supplementary and square brackets enclose synonyms (neither changes the
# code: WHO ICD-10 Volume 2, 3.1.4), and an "including ..." clause lists what the code also
# covers, not what it requires
_WITHOUT_CLAUSE = re.compile(r"\bwithout\b[^,;.()]*", re.I)
# what a statement says there is none of, as "without" says it ("confined to the perianal space;
# no ischiorectal or supralevator extension" says nothing ischiorectal of the abscess; "oesophageal
# varices - not bled" are those without bleeding)
_NO_CLAUSE = re.compile(DENIAL_CLAUSE, re.I)
# a residual code: what a statement that names nothing more specific is coded to (N12, J40, I64:
# "not specified as acute or chronic", "as haemorrhage or infarction")
_RESIDUAL = re.compile(r"\bunspecified\b|\bnot elsewhere classified\b|\bnot specified as\b|\bNOS\b|\bNEC\b|^other\b", re.I)
_OTHER = re.compile(r"other\b(?!.*\bunspecified\b)", re.I)  # "Other disorders of pituitary gland"
_SUPPLEMENTARY = re.compile(r"\([^)]*\)|\[[^]]*\]|,?\s*\bincluding\b[^,;]*", re.I)
# "non-" makes one word with what it negates, in titles and statements alike ("non-pressure
# ulcer"); a statement's "non-obstructive" denies "obstructive" (I42.1), as "without" would
_NON = re.compile(r"\bnon[\s-]+(\w+)", re.I)


_TYPE = re.compile(r"\btype\s*(?:(1|i|one)|(2|ii|two))\b(?![.,]\d)", re.I)


def _joined(text: str) -> str:
    """``text`` with each "non-" joined to the word it negates ("non-obstructive": "nonobstructive")
    and each type joined to its number ("type 1", "type I": "type1"), which no list number or dose
    elsewhere in the statement says ("2. Acute on chronic type 1 respiratory failure (LTOT 2 L/min)"
    names no type II failure)."""
    return _TYPE.sub(lambda m: "type1" if m.group(1) else "type2", _NON.sub(r"non\1", text))


@dataclass(frozen=True)
class SpecificityParams:
    equivalents: dict[str, str]  # letter wording (regex) -> the word the titles use ("bleeding": "haemorrhage")
    message: str
    boilerplate: tuple[str, ...] = ()  # title words no statement needs to say ("parts of face": face)
    min_words: int = 2  # CON-014: the fewest words of a name stated in full that replace a code
    slack: int = 2  # CON-014: other words allowed among a name's words in the statement
    history: tuple[str, ...] = ()  # sections whose evidence is another episode's, where other evidence is this one's
    # a history passage that dates what it tells of a condition that comes in episodes ("Lobar
    # pneumonia 2019", "previous breech delivery") tells another episode's subdivision: it is
    # never read for this one's ("Alzheimer's disease, late onset (memory clinic 2022)" is)
    dated: str = r"(?!)"
    episodes: tuple[str, ...] = ()

    def __post_init__(self):
        check_patterns({pattern: pattern for pattern in self.equivalents}, "equivalents")
        check_codes(self.episodes, "episodes")
        re.compile(self.dated)


@dataclass(frozen=True)
class Subdivision:
    """A code's own words (those its parent's title lacks) and the words it excludes."""

    entry: CodeEntry
    own: frozenset[str]
    excludes: frozenset[str]

    @classmethod
    def of(cls, entry: CodeEntry, parent_words: set[str], boilerplate: frozenset[str] = frozenset()) -> "Subdivision":
        title = _joined(_SUPPLEMENTARY.sub(" ", _NOT_DOCUMENTED.sub(" ", entry.title)))
        kept, excluded = without_split(title)
        own, excludes = content_words(kept) - parent_words - boilerplate, content_words(excluded) - parent_words
        return cls(entry, frozenset(own), frozenset(excludes))

    def fit(self, st: "Statement") -> tuple[int, int] | None:
        """(own words the statement has, plus excluded words it denies; own words it lacks); None
        where it states what the code excludes or denies what the code requires."""
        if self.excludes & st.said or self.own & st.denied:
            return None
        return len(self.own & st.said) + len(self.excludes & st.denied), len(self.own - st.said)


@dataclass(frozen=True)
class Statement:
    """The words of a code's statement: those it states, and those it says the condition is
    without ("migraine without aura": aura)."""

    said: frozenset[str]
    denied: frozenset[str] = frozenset()
    sequence: tuple[str, ...] = ()  # the said words in the order the statement has them


def _statement_words(w: Work, s: CodeSuggestion, p: SpecificityParams, history: bool = False) -> Statement:
    """The words of a code's present (or probable) evidence (its sentences as the ranker reads them, with
    negated words blanked, and the expansions of the abbreviations in its mentions), with the
    titles' words for letter wording; words after "without" or "no" are what it denies. Evidence from the
    history sections is left out where there is other ("SCC of the right hand excised in 2021"
    beside "BCC, left temple"), unless ``history``: then, for a condition that comes in episodes,
    those that date what they tell are left out ("Lobar pneumonia 2019" tells another episode's)."""
    stated = [e for e in s.evidence if e.assertion in STATED]
    if history and in_refs(s.code, code_refs(" ".join(p.episodes))):
        stated = [e for e in stated if e.section not in p.history or not re.search(p.dated, e.text, re.I)]
    spans = [(e.start, e.end) for e in ([e for e in stated if e.section not in p.history] or stated if not history else stated)]
    sentences = [r for r in w.sentences if any(a <= r.start < b for a, b in spans)]
    expanded = [m for m in w.mentions if m.expansion and any(a <= m.start < b for a, b in spans)]
    # an abbreviation reads as its expansion where it stands ("deliberate OD of amitriptyline":
    # "deliberate overdose of amitriptyline"), so that the words of a name stand together
    # a list item's number is no stage or type ("5. Type 2 diabetes with diabetic nephropathy (CKD 4)")
    text = " ".join([_LEADING_MARKER.sub(" ", _expanded(r, expanded)) for r in sentences] +
                    [m.expansion for m in expanded if not any(r.start <= m.start < r.end for r in sentences)])
    for pattern, word in p.equivalents.items():
        text = re.sub(pattern, lambda m, word=word: f"{m.group(0)} {word}", text, flags=re.I)  # both words stay
    denied = " ".join([m.group(0) for pattern in (_WITHOUT_CLAUSE, _NO_CLAUSE) for m in pattern.finditer(text)] +
                      [m.group(1) for m in _NON.finditer(text)])
    # "severe without psychotic symptoms" does not say "psychotic"
    sequence = content_sequence(_joined(_NO_CLAUSE.sub(" ", _WITHOUT_CLAUSE.sub(" ", text))), numbers=True)
    # what it states elsewhere it does not deny ("localised peritonitis, no generalised peritonitis":
    # the peritonitis is stated, "generalised" denied)
    return Statement(frozenset(sequence), frozenset(content_words(denied)) - frozenset(sequence), tuple(sequence))


def _expanded(r: SentenceRecord, mentions: list[Mention]) -> str:
    """A sentence's text with each abbreviation among ``mentions`` replaced by its expansion."""
    text = r.query
    for m in sorted((m for m in mentions if r.start <= m.start and m.end <= r.end), key=lambda m: -m.start):
        text = text[:m.start - r.start] + m.expansion + text[m.end - r.start:]
    return text


def _better(current: Subdivision, options: list[Subdivision], st: Statement, named: bool = False
            ) -> Subdivision | None:
    """The subdivision the statement documents fully, where the current code's is not, or that
    says all the documented current code says and more ("withdrawal state" -> "withdrawal state
    with delirium"). ``named``: the statement states one of the current code's index terms in
    full ("glue ear" for H65.3), which documents it."""
    fit = current.fit(st)
    documented = fit is not None and (named or bool(current.own) and fit[1] == 0)
    scored = [(f, o) for o in options if o.entry.code != current.entry.code and (f := o.fit(st)) is not None]
    # fully documented, and saying more than the current code does, or what it says less the words
    # the statement lacks ("severe" where the current code is "severe with psychotic symptoms")
    full = [(f, o) for f, o in scored if f[0] > 0 and f[1] == 0 and (
        o.own > current.own if documented else fit is None or f[0] > fit[0] or o.own < current.own)]
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
    parent_words = content_words(_joined(_NOT_DOCUMENTED.sub(" ", parent.title)))
    return parent, Subdivision.of(entry, parent_words, boilerplate), parent_words


@rule("CON-011", "conventions", SpecificityParams)
def documented_specificity(w: Work, r: Rule) -> None:
    p: SpecificityParams = r.params
    boilerplate = frozenset(content_words(" ".join(p.boilerplate)))
    for s in w.scope(r):
        family = _family(w, s, boilerplate)
        # a procedure only from a residual code: OPCS-4's subdivisions name methods, and a
        # statement of several operations holds the words of more than one
        if family is None or (s.kind == "procedure" and not _residual(family[1].entry)):
            continue
        parent, mine, parent_words = family
        system = System.parse(s.system)
        options = [Subdivision.of(e, parent_words, boilerplate) for e in w.tables[system].children(parent.code)
                   if e.selectable]
        if sum(not o.own and not _residual(o.entry) for o in options) > 1:
            # the parent's title names what sets its subdivisions apart ("Calculus of kidney and
            # ureter"): they are told apart by the words they do not all share
            parent_words = _shared_words([o.entry for o in options], boilerplate)
            options = [Subdivision.of(o.entry, parent_words, boilerplate) for o in options]
            mine = Subdivision.of(mine.entry, parent_words, boilerplate)
            # one that names two others together ("Calculus of kidney with calculus of ureter") is
            # left to the coder: a ureteric stone's kidney is often named for its obstruction
            options = [o for o in options if not _combines(o, options)]
        st = _statement_words(w, s, p)
        if _tells_nothing(options, st):
            # the other statements tell nothing of the kind ("As she has migraine, ..."): the
            # history's statement tells it ("She has migraine without aura")
            st = _statement_words(w, s, p, history=True)
        if _tells_nothing(options, st):
            # "grown from the abscess pus": where the letter names the abscess again tells its site
            st = _retold(w, s, p) or st
        named = any(n <= st.said for n in _names(w.tables[system], mine.entry, boilerplate)[1:])
        better = _better(mine, options, st, named)
        if better is None and len(s.evidence) > 1:
            # statements that document different subdivisions ("melanoma, left cheek" and a plan
            # line of a keratosis "on the back of her right hand"): the first, the one the code
            # rests on most, decides
            better = _better(mine, options, _statement_words(w, replace(s, evidence=s.evidence[:1]), p), named)
        if better is None:
            continue
        w.replace(r, s, system, better.entry.code)
        w.flag(r, p.message, s, codes=(s.code, better.entry.code), other=f"{better.entry.code} ({better.entry.title})")


def _combines(option: Subdivision, options: list[Subdivision]) -> bool:
    """Whether ``option``'s own words are those of two other options together."""
    parts = [o.own for o in options if o.own and o.own < option.own]
    return any(a | b == option.own for i, a in enumerate(parts) for b in parts[i + 1:] if a != b)


def _shared_words(entries: list[CodeEntry], boilerplate: frozenset[str]) -> set[str]:
    """The words every one of ``entries``' titles has."""
    return set(frozenset.intersection(*(Subdivision.of(e, set(), boilerplate).own for e in entries)))


def _tells_nothing(options: list[Subdivision], st: Statement) -> bool:
    """Whether a statement says or denies none of the words that set the subdivisions apart."""
    return not any(o.own & (st.said | st.denied) or o.excludes & st.denied for o in options)


def _retold(w: Work, s: CodeSuggestion, p: SpecificityParams) -> Statement | None:
    """The words of this episode's other sentences that name the code's condition again, as it is
    named in its evidence, present ("Group A Streptococcus grown from the abscess pus" says no
    site; "a small abscess over the medial left calf" does); None where none does."""
    inside = [m for m in w.support(s) if any(e.start <= m.start < e.end for e in s.evidence)]
    named = {words for m in inside if (words := mention_words(m))}
    again = [m for m in w.mentions if m.assertion == "present" and not m.procedural and mention_words(m) in named
             and not any(e.start <= m.start < e.end for e in s.evidence)]
    sentences = [r for r in w.sentences if r.section not in p.history and any(r.start <= m.start < r.end for m in again)]
    if not sentences:
        return None
    told = tuple(Evidence(r.start, r.end, w.text[r.start:r.end], r.section, "present") for r in sentences)
    return _statement_words(w, replace(s, evidence=told), p)


@dataclass(frozen=True)
class SubdivisionParams:
    message: str
    # categories that are the residual of others ("influenza, virus not identified" J11 of J09-J10)
    residual_of: dict[str, list[str]] = field(default_factory=dict)
    # subdivisions that name two siblings together ("hypertrophy of tonsils with hypertrophy of
    # adenoids" J35.3 of J35.1 and J35.2)
    combination_of: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self):
        for name in ("residual_of", "combination_of"):
            check_codes(tuple(getattr(self, name)), name)
            for of in getattr(self, name).values():
                check_codes(tuple(of), name)
        for code, of in self.combination_of.items():
            if any(o == code or "." not in o or o.split(".")[0] != code.split(".")[0] for o in of) or "." not in code:
                raise ValueError(f"combination_of: {code} must name dotted subdivisions of its own category, "
                                 f"not itself (got {of})")


@rule("CON-012", "conventions", SubdivisionParams)
def one_subdivision(w: Work, r: Rule) -> None:
    """Of two suggested subdivisions of one parent where one is unspecified, a residual "Other ..."
    beside a specific one, "without" what the other has, one the other names with its sibling
    (``combination_of``), or of a category that is the residual of the other's (``residual_of``),
    the other is coded, in the first place either had. (Whether the letter words what
    sets the other apart is not asked: it says "leg" where the title says "limb".)"""
    families = {id(s): f for s in w.scope(r) if s.kind == "diagnosis" and (f := _family(w, s)) is not None}
    for s in [s for s in w.codes if id(s) in families]:
        if s not in w.codes:
            continue
        mine = families[id(s)]
        o = next((o for o in w.codes if o is not s and id(o) in families
                  and _overrides(families[id(o)], mine, r.params)), None)
        if o is None or _indexed_here(w, s):
            continue
        if w.at(s) < w.at(o):
            w.move_before(o, s)
        w.demote(s)
        w.tag(r, s, o)
        w.flag(r, r.params.message, s, codes=(s.code, o.code), other=f"{o.code} ({o.title})")


def _indexed_here(w: Work, s: CodeSuggestion) -> bool:
    """Whether ``s`` is an "Other ..." code of which a present mention in its evidence states one of
    its curated index terms of two words or more in full: the index sends that condition there
    ("pituitary apoplexy", E23.6 other disorders of pituitary gland, beside hypopituitarism)."""
    _, entry = w.entry(s)
    if entry is None or not _OTHER.match(entry.source_title or entry.title):
        return False
    terms = [words for t in index_terms(System.parse(s.system)).get(s.code, ()) if len(words := content_words(t)) > 1]
    return any(m.assertion == "present" and any(e.start <= m.start < e.end for e in s.evidence)
               and any(t <= mention_words(m) for t in terms) for m in w.mentions)


def _overrides(other: tuple, mine: tuple, p: SubdivisionParams) -> bool:
    """Whether subdivision ``other`` is the more specific of the two ``_family`` results: same
    parent, and ``mine`` is unspecified or "without complications" (diabetes, E1x.9, beside one
    of its complications), a residual "Other ..." beside a specific one, or excludes what
    ``other`` has, or a residual beside one that says more (J93.8 beside J93.1, both "Other ...");
    or ``mine``'s category is the residual of ``other``'s (J11.1 beside J10.1); or
    ``other`` names ``mine`` with its sibling (J35.3 beside J35.2)."""
    (parent_o, sub_o, _), (parent_m, sub_m, _) = other, mine
    if parent_o.code in p.residual_of.get(parent_m.code, ()) or sub_m.entry.code in p.combination_of.get(sub_o.entry.code, ()):
        return True
    if parent_o.code != parent_m.code or not (sub_o.own or sub_o.excludes):
        return False
    title = sub_m.entry.title.lower()
    # a residual beside a specific code, or beside a residual that says all it says and more
    # (J93.8 other pneumothorax beside J93.1 other spontaneous pneumothorax)
    residual = "unspecified" in title or "without complications" in title or (
        _residual(sub_m.entry) and (not _residual(sub_o.entry) or sub_m.own < sub_o.own))
    if not sub_o.own:  # "migraine without aura" says only what it is not: it beats a code that says nothing
        return residual and not sub_m.own
    return residual or bool(sub_m.excludes & sub_o.own)


@functools.lru_cache(maxsize=256)
def _named(table: CodeTable, group: str, boilerplate: frozenset[str]) -> tuple[tuple[CodeEntry, tuple[frozenset[str], ...]], ...]:
    """The selectable codes under a block or chapter with the word sets that name them."""
    return tuple((e, _names(table, e, boilerplate)) for e in table.descendants(group) if e.selectable)


def _names(table: CodeTable, e: CodeEntry, boilerplate: frozenset[str]) -> tuple[frozenset[str], ...]:
    """The word sets that name a code: its title (less what documents nothing and what is
    supplementary) first, then each of its curated index terms."""
    title = _SUPPLEMENTARY.sub(" ", _NOT_DOCUMENTED.sub(" ", e.title))
    names = [frozenset(set(content_sequence(_joined(t), numbers=True)) - boilerplate)
             for t in (title, *index_terms(table.system).get(e.code, ()))]
    return tuple(names[:1] + [n for n in names[1:] if n])


def _residual(e: CodeEntry) -> bool:
    """Whether a code is a residual one by its own title, not its category's ("Poisoning by
    psychotropic drugs, not elsewhere classified" heads T43.0, tricyclic antidepressants)."""
    return bool(_RESIDUAL.search(e.source_title or e.title))


def _group(table: CodeTable, entry: CodeEntry) -> CodeEntry | None:
    """The block (ICD-10; the chapter where a table has no blocks) a code is classified in."""
    return next((a for a in table.ancestors(entry.code) if not a.is_code), None)


def _named_in_full(w: Work, s: CodeSuggestion, st: Statement, boilerplate: frozenset[str], p: SpecificityParams
                   ) -> CodeEntry | None:
    """For a residual code ``s``, the specific code of its block one of whose names
    ``s``'s statement states in full, naming more than it names of ``s`` and something of ``s``,
    whose names cover what the statement names of ``s``; for another code, the code of its
    category one of whose names holds the name of ``s`` the statement states, and more, all
    stated (the index's sub-entry: "hyperemesis gravidarum with ketosis" O21.1, not
    "hyperemesis gravidarum" O21.0); None where none or two."""
    table, entry = w.entry(s)
    if entry is None:
        return None
    own = not _residual(entry)  # a code of its own: only its category's sub-entries extend it
    group = table.parent(entry.code) if own else _group(table, entry)
    if group is None or own and not group.is_code:
        return None
    named = _named(table, group.code, boilerplate)
    mine = next((names for e, names in named if e.code == entry.code), ())
    # (a name is stated where its words stand together: "mild" of a transaminase rise is no "mild
    # hyperemesis gravidarum", "flares" of the treatment no "flare of eczema")
    stated = max((n for n in mine if n <= st.said and within(n, st.sequence, p.slack)), key=len, default=frozenset())
    if own and len(stated) < p.min_words:  # a name of one word ("low", of "low Mg") is no entry to extend
        return None
    topic = frozenset().union(*mine)
    said_of_title = (mine[0] if mine else frozenset()) & st.said  # what the statement says of its title
    found: dict[str, tuple[tuple[int, bool], CodeEntry]] = {}
    for e, names in named:
        # a code whose names say all the statement says of the residual code's title ("diabetes
        # with ketoacidosis" is not "type 1 diabetes", without complications); another code's
        # sub-entry holds the name stated of it (below)
        if e.code == entry.code or not own and not said_of_title <= frozenset().union(*names):
            continue
        # a residual code only where its title says all the residual code's title says and more
        # ("unspecified dementia" F03 -> "dementia in Alzheimer disease, unspecified" F00.9)
        residual = _residual(e)
        if residual and not (mine and names and names[0] > mine[0]):
            continue
        for n in names:
            if (len(n) >= p.min_words and n <= st.said and not n & st.denied and n & topic
                    and len(n) > len(stated) and (not own or n > stated) and within(n, st.sequence, p.slack)):
                # named more fully; equally fully, a specific code before a residual one
                # ("community-acquired pneumonia - Streptococcus pneumoniae": J13, not J18.9)
                key = (len(n), not residual)
                found[e.code] = max(found.get(e.code, (key, e)), (key, e), key=lambda x: x[0])
    best = sorted(found.values(), key=lambda x: x[0], reverse=True)
    return best[0][1] if best and (len(best) == 1 or best[0][0] > best[1][0]) else None


@rule("CON-014", "conventions", SpecificityParams)
def named_in_full(w: Work, r: Rule) -> None:
    """A suggested residual code gives way to the specific code of its block that its
    statement names in full by title or index term, where that says more ("asthma, unspecified" ->
    "acute severe asthma" J46; "cataract, unspecified" -> "age-related nuclear cataract" H25.1)."""
    p: SpecificityParams = r.params
    boilerplate = frozenset(content_words(" ".join(p.boilerplate)))
    for s in list(w.scope(r)):
        if s not in w.codes or not any(e.assertion in STATED for e in s.evidence):
            continue
        # the history's statement names it where the others do not ("Dry flexural eczema both
        # elbows" in the examination, "Atopic eczema - emollients" in the past history)
        told = replace(s, evidence=tuple(e for e in s.evidence if e.section in p.history))
        better = _named_in_full(w, s, _statement_words(w, s, p), boilerplate, p)
        if better is None and told.evidence:
            better = _named_in_full(w, s, _statement_words(w, told, p, history=True), boilerplate, p)
            # the history's "both knees" told before the other knee was replaced: not this episode's
            better = None if better is not None and _one_side(s, better, p) else better
        if better is None:
            continue
        w.replace(r, s, System.parse(s.system), better.code)
        w.flag(r, p.message, s, codes=(s.code, better.code), other=f"{better.code} ({better.title})")


def _one_side(s: CodeSuggestion, better: CodeEntry, p: SpecificityParams) -> bool:
    """Whether ``better`` is a bilateral code and the statements of this episode name the
    condition on one side only ("Primary osteoarthritis of the right knee")."""
    said = " ".join(e.text for e in s.evidence if e.section not in p.history and e.assertion in STATED)
    return bool(re.search(r"\bbilateral\b", better.title, re.I)) and bool(re.search(r"\b(?:left|right)\b", said, re.I)) \
        and not re.search(r"\b(?:both|bilateral)\b", said, re.I)


def _subdivision_of(table: CodeTable, entry: CodeEntry) -> CodeEntry | None:
    """A code's fourth-character subdivision: itself, or its parent for a UK fifth character."""
    parent = table.parent(entry.code)
    if parent is not None and parent.is_code and len(compact(parent.code)) == 4:
        return parent
    return entry if len(compact(entry.code)) == 4 else None


def _leftover(e: CodeEntry) -> bool:
    """A residual subdivision by its title or its fourth character (.8 "other parts", .9)."""
    return _residual(e) or compact(e.code)[3:4] in ("8", "9") or bool(re.search(r"\bother\b", e.title, re.I))


@functools.lru_cache(maxsize=4)
def _terms_by_subdivision(system: System) -> dict[str, tuple[str, ...]]:
    """The curated index terms of a system by the four characters of their codes."""
    found: dict[str, list[str]] = {}
    for code, terms in index_terms(system).items():
        found.setdefault(compact(code)[:4], []).extend(terms)
    return {key: tuple(terms) for key, terms in found.items()}


def _names_under(table: CodeTable, e: CodeEntry, boilerplate: frozenset[str]) -> tuple[frozenset[str], ...]:
    """The word sets that name a code or a code under it: its title first, then the titles under
    it and the curated index terms of any code it heads (a WHO four-character code reads the
    index terms of its UK fifth-character codes)."""
    terms = _terms_by_subdivision(table.system).get(compact(e.code)[:4], ()) if len(compact(e.code)) == 4 else ()
    words = [frozenset(set(content_sequence(_joined(t), numbers=True)) - boilerplate) for t in terms]
    under = [n for d in table.descendants(e.code) for n in _names(table, d, boilerplate)]
    return _names(table, e, boilerplate)[:1] + tuple(n for n in (*under, *words) if n)


def _sibling_named(w: Work, s: CodeSuggestion, p: SpecificityParams, boilerplate: frozenset[str]) -> CodeEntry | None:
    """The one other subdivision of its category that the statements of ``s`` name in full (by
    title or curated index term), where they name nothing of ``s``'s own; its UK fifth character
    the one ``s`` has."""
    table, entry = w.entry(s)
    four = _subdivision_of(table, entry) if entry is not None else None
    category = table.parent(four.code) if four is not None else None
    if four is None or category is None or not category.is_code or _leftover(four):
        return None
    st = _statement_words(w, s, p)
    mine = Subdivision.of(four, content_words(_joined(_NOT_DOCUMENTED.sub(" ", category.title))), boilerplate)
    if not mine.own or mine.own & st.said or any(n <= st.said for n in _names_under(table, four, boilerplate)[1:]):
        return None
    named = {sib.code: sib for sib in table.children(category.code)
             if sib.code != four.code and not _leftover(sib) for n in _names_under(table, sib, boilerplate)
             if len(n) >= p.min_words and n <= st.said and not n & st.denied and within(n, st.sequence, p.slack)}
    if len(named) != 1:
        return None
    sibling = next(iter(named.values()))
    if sibling.selectable:
        return sibling
    fifth = compact(entry.code)[4:]
    return next((e for e in table.children(sibling.code) if e.selectable and compact(e.code)[4:] == fifth), None)


@rule("CON-067", "conventions", SpecificityParams)
def sibling_named(w: Work, r: Rule) -> None:
    """A suggested diagnosis whose statements name nothing of its own subdivision but name
    another of its category in full is coded as that one ("intertrochanteric fracture of the
    femur": pertrochanteric S72.10, not subtrochanteric S72.20)."""
    p: SpecificityParams = r.params
    boilerplate = frozenset(content_words(" ".join(p.boilerplate)))
    for s in [s for s in w.scope(r) if s.kind == "diagnosis" and any(e.assertion in STATED for e in s.evidence)]:
        better = _sibling_named(w, s, p, boilerplate) if s in w.codes else None
        if better is None:
            continue
        w.replace(r, s, System.parse(s.system), better.code)
        w.flag(r, p.message, s, codes=(s.code, better.code), other=f"{better.code} ({better.title})")


@dataclass(frozen=True)
class JointParams:
    codes: str  # the arthrosis of a joint the code does not name (M19)
    joints: tuple[dict, ...]  # {words, to}: the words that name a joint and its own category's unspecified code
    message: str

    def __post_init__(self):
        check_codes((self.codes,), "codes")
        check_entries(self.joints, "joints", {"words": str, "to": str}, {})
        check_codes(tuple(j["to"] for j in self.joints), "joints")
        check_patterns({j["words"]: j["words"] for j in self.joints}, "joints")


@rule("CON-068", "conventions", JointParams)
def arthrosis_of_a_named_joint(w: Work, r: Rule) -> None:
    """Osteoarthritis coded to "other arthrosis" (M19) whose statements name one joint that the
    classification codes in a category of its own ("right knee pain from primary
    osteoarthritis": the knee, M17) is coded there, its subdivision left to CON-011."""
    p: JointParams = r.params
    for s in [s for s in w.scope(r) if in_refs(s.code, code_refs(p.codes))]:
        told = " ".join(e.text for e in s.evidence if e.assertion in STATED)
        found = {j["to"] for j in p.joints if re.search(j["words"], told, re.I)}
        system, to = System.parse(s.system), next(iter(found)) if len(found) == 1 else None
        if to is None or w.tables[system].get(to) is None:
            continue
        # read from these statements, not a candidate's own (an earlier hip replacement's line)
        w.replace(r, s, system, to, evidence=tuple(e for e in s.evidence if e.assertion in STATED))
        w.flag(r, p.message, s, codes=(s.code, to), other=to)


@dataclass(frozen=True)
class TherapyParams:
    # {codes, words, to}: a code of ``codes`` whose statement has ``words`` becomes ``to``; the
    # first entry that applies wins (the therapy before the biopsy taken at the same examination)
    entries: tuple[dict, ...]
    message: str
    # the examination's account goes on for at most ``sentences`` sentences of its paragraph, and
    # ends before one telling an operation by another route (``another_route``)
    sentences: int = 2
    another_route: str = r"(?!)"

    def __post_init__(self):
        check_entries(self.entries, "entries", {"codes": str, "words": str, "to": str}, {})
        for e in self.entries:
            re.compile(e["words"])
        re.compile(self.another_route)


@dataclass(frozen=True)
class AcuityParams:
    codes: tuple[str, ...]  # the codes of unstated acuity
    to: str  # their acute form: the code's last character is kept ("J96.0" + "0")
    unless: str  # the words of another acuity, in the code's statements
    message: str

    def __post_init__(self):
        check_codes(self.codes, "codes")
        check_codes((self.to,), "to")
        re.compile(self.unless)


@rule("CON-038", "conventions", AcuityParams)
def acute_in_the_episode(w: Work, r: Rule) -> None:
    """A condition of unstated acuity that the episode's own tests define (type 1 or type 2
    respiratory failure on the admission's blood gases) is the acute one, unless its statements
    say otherwise ("chronic", "acute on chronic")."""
    p: AcuityParams = r.params
    refs, unless = code_refs(" ".join(p.codes)), re.compile(p.unless, re.I)
    for s in [s for s in w.scope(r) if in_refs(s.code, refs)]:
        if not s.evidence or any(unless.search(e.text) for e in s.evidence):
            continue
        system = System.parse(s.system)
        acute = carried(p.to, s.code)
        if w.tables[system].get(acute) is None:
            continue
        w.replace(r, s, system, acute)
        w.flag(r, p.message, s, codes=(s.code, acute), other=acute)


@dataclass(frozen=True)
class SecondaryParams:
    # {codes, words, causes: [{words, to}]}: the codes of a condition of unstated cause, the words
    # that name it, and the code of its secondary form for each cause (first that names it wins)
    forms: tuple[dict, ...]
    after: str  # "<condition> ... secondary to <cause>": WORDS is the condition; (between)(cause)
    joined: str  # words between that join on another condition ("and") ...
    shared: str  # ... unless both are said to be secondary ("both")
    before: str  # "<cause>, causing ... <condition>", "<cause>-related <condition>": (cause) groups
    message: str

    def __post_init__(self):
        check_entries(self.forms, "forms", {"codes": str, "words": str, "causes": object}, {})
        for n, f in enumerate(self.forms, 1):
            if not isinstance(f["causes"], list) or not all(isinstance(c, dict) for c in f["causes"]):
                raise ValueError(f"forms #{n}: causes must be a list of {{words, to}}")
            check_entries(tuple(f["causes"]), f"forms #{n} causes", {"words": str, "to": str}, {})
            check_codes(tuple(c["to"] for c in f["causes"]), f"forms #{n} causes to")
            for c in f["causes"]:
                re.compile(c["words"], re.I)
        for pattern in (self.after, self.before):
            re.compile(pattern.replace("WORDS", "x"))
        re.compile(self.joined)
        re.compile(self.shared)


def _causes_told(p: SecondaryParams, form: dict, text: str) -> list[str]:
    """The causes ``text`` gives for the condition ``form`` names, as stated."""
    words = f"(?:{form['words']})"  # one group, whatever alternatives the words hold
    told = []
    for m in re.finditer(p.after.replace("WORDS", words), text, re.I):
        between, cause = m.group(1), m.group(2)
        if not re.search(p.joined, between, re.I) or re.search(p.shared, between, re.I):
            told.append(cause)
    told += [g for m in re.finditer(p.before.replace("WORDS", words), text, re.I) for g in m.groups() if g]
    return told


def _secondary_form(p: SecondaryParams, form: dict, sentences: list[str]) -> tuple[str, str] | None:
    """(the code of the secondary form, the cause as told) from the first statement that gives a
    cause the form's list names."""
    for text in sentences:
        for cause in _causes_told(p, form, text):
            hit = next((c for c in form["causes"] if re.search(c["words"], cause, re.I)), None)
            if hit is not None:
                return hit["to"], cause.strip(" ,")
    return None


@rule("CON-043", "conventions", SecondaryParams)
def secondary_form(w: Work, r: Rule) -> None:
    """A condition the letter states is secondary to another ("hypertension secondary to lupus
    nephritis") is coded as the classification's secondary form for that cause (I15.1, not I10)."""
    p: SecondaryParams = r.params
    told = [w.text[s.start:s.end] for s in w.sentences if s.assertion not in ("negated", "family", "hypothetical")]
    for form in p.forms:
        refs = code_refs(form["codes"])
        for s in [s for s in w.scope(r) if s.kind == "diagnosis" and in_refs(s.code, refs)]:
            found = _secondary_form(p, form, told)
            if found is None:
                continue
            system, (to, cause) = System.parse(s.system), found
            code = carried(to, s.code)
            if w.tables[system].get(code) is None or code == s.code:
                continue
            w.replace(r, s, system, code)
            w.flag(r, p.message, s, codes=(s.code, code), other=code, mention=cause)


@rule("CON-035", "conventions", TherapyParams)
def therapy_at_the_examination(w: Work, r: Rule) -> None:
    """A diagnostic endoscopic examination at which the letter tells a therapy or a biopsy is
    coded to the code of that therapeutic or biopsy operation, which includes the examination."""
    p: TherapyParams = r.params
    refs = [code_refs(e["codes"]) for e in p.entries]
    therapy = re.compile("|".join(f"(?:{e['words']})" for e in p.entries), re.I)
    route = re.compile(p.another_route)
    for s in [s for s in w.scope(r) if s.kind == "procedure"]:
        said = " ".join(e.text + _account(w, e.end, therapy, route, p.sentences)
                        for e in s.evidence if e.assertion == "present")
        entry = next((e for e, codes in zip(p.entries, refs) if in_refs(s.code, codes)
                      and any(not _not_done(said, m) for m in re.finditer(e["words"], said, re.I))), None)
        if entry is None or entry["to"] == s.code:
            continue
        system = System.parse(s.system)
        if w.tables[system].get(entry["to"]) is None:
            continue
        w.replace(r, s, system, entry["to"])
        w.flag(r, p.message, s, codes=(s.code, entry["to"]), other=entry["to"])


@dataclass(frozen=True)
class EveryTherapyParams:
    routes: tuple[str, ...]  # the therapeutic operations of one endoscopic route each ("G43-G44")
    therapies: str  # the rule whose entries name the therapies and their codes (CON-035)
    # words just before a therapy's that make it no therapy of this examination ("too small to
    # band", "repeat OGD for banding", "surgical clips"), and just after ("the dilated oesophagus")
    not_before: str
    not_after: str
    # a title of a therapy the classification does not name ("Other specified ...", "Unspecified
    # ..."): one such code of the route stands for any other (G44.8 or G43.8 for clips)
    unnamed: str
    message: str

    def __post_init__(self):
        check_codes(self.routes, "routes")
        for pattern in (self.not_before, self.not_after, self.unnamed):
            re.compile(pattern)


def _therapies_told(w: Work, s: CodeSuggestion, p: TherapyParams, route: tuple, q: EveryTherapyParams) -> dict[str, int]:
    """The therapies of ``route`` that the statement of ``s`` (and the rest of its account) tells
    done, each code with where its words first stand."""
    therapy = re.compile("|".join(f"(?:{e['words']})" for e in p.entries), re.I)
    said = " ".join(e.text + _account(w, e.end, therapy, re.compile(p.another_route), p.sentences)
                    for e in s.evidence if e.assertion == "present")
    told: dict[str, int] = {}
    for e in (e for e in p.entries if in_refs(e["to"], route) and e["to"] not in told):
        at = next((m.start() for m in re.finditer(e["words"], said, re.I) if not _not_done(said, m)
                   and not re.search(q.not_before, said[max(0, m.start() - 40):m.start()], re.I)
                   and not re.match(q.not_after, said[m.end():], re.I)), None)
        if at is not None:
            told[e["to"]] = at
    return told


@rule("CON-065", "conventions", EveryTherapyParams)
def every_therapy_at_the_examination(w: Work, r: Rule) -> None:
    """Each therapy that the statement of a therapeutic endoscopy tells done at that examination
    is coded, in the order told (adrenaline injected, then clips applied: G43.6, then G43.8)."""
    p: EveryTherapyParams = r.params
    source = w.enabled_rule(p.therapies)
    if source is None or not isinstance(source.params, TherapyParams):
        return
    for route in (code_refs(x) for x in p.routes):
        done = [s for s in w.scope(r) if s.kind == "procedure" and in_refs(s.code, route)]
        if not done:
            continue
        s, unnamed = done[0], any(re.match(p.unnamed, d.title) for d in done)
        told, system, last = _therapies_told(w, s, source.params, route, p), System.parse(s.system), s
        entries = {c: w.tables[system].get(c) for c in told}
        # where the operation coded is told: its own words, or (coded NEC) those of the therapy NEC
        at = told.get(s.code) if not re.match(p.unnamed, s.title) else min(
            (told[c] for c, e in entries.items() if e is not None and re.match(p.unnamed, e.title)), default=None)
        for code in sorted(told, key=told.get):
            if entries[code] is None or unnamed and re.match(p.unnamed, entries[code].title):
                continue  # the therapy the classification does not name is coded already
            added = w.add(r, system, code, s.evidence, after=last, rule_evidence=True, score=s.score)
            if added is None:  # suggested already
                continue
            if at is not None and told[code] < at:  # told before the operation coded
                w.move_before(added, s)
            else:
                last = added
            w.flag(r, p.message, added, codes=(added.code, s.code), other=s.code)


# where an examination's account ends: a blank line, a new list item or a new heading
_LEADING_MARKER = re.compile(rf"^\s*{LIST_MARKER}\s")
_ITEM_END = re.compile(rf"\n\s*\n|\n\s*{LIST_MARKER}\s|\n[A-Z][A-Za-z /]{{1,30}}:")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def _account(w: Work, end: int, therapy: re.Pattern, route: re.Pattern, sentences: int) -> str:
    """What the letter goes on to tell of an examination after its statement: the next sentences
    of the same paragraph or list item ("OGD: an oozing tear. Treated with adrenaline and two
    endoclips."), up to ``sentences``, ending before one that names another operation or route
    ("CT-guided liver biopsy the next day")."""
    rest = w.text[end:end + 400]
    stop = _ITEM_END.search(rest)
    rest, told, at = rest[:stop.start()] if stop else rest, [], 0
    for found in list(_SENTENCE_END.finditer(rest))[:sentences]:
        a, b = end + at, end + found.end()
        other = [m for m in w.mentions if a <= m.start < b and m.label == "PROCEDURE" and not therapy.search(m.text)]
        if other or route.search(rest[at:found.end()]):
            break
        told.append(rest[at:found.end()])
        at = found.end()
    return "".join(told)


# what the words around a therapy say of it: not done ("banding not required", "no biopsies were
# taken"), or only planned ("for dilatation next week")
_NOT_DONE_BEFORE = re.compile(r"\b(?:no|not|without|nor|planned|plan|consider|requires?|needs?)\b[^.;,]{0,20}$", re.I)
_NOT_DONE_AFTER = re.compile(r"^[^.;,]{0,20}\b(?:not|planned|declined|deferred|if|later|next)\b", re.I)


def _not_done(said: str, found: re.Match) -> bool:
    return bool(_NOT_DONE_BEFORE.search(said[max(0, found.start() - 30):found.start()])
                or _NOT_DONE_AFTER.search(said[found.end():found.end() + 30]))


@dataclass(frozen=True)
class SiteParams:
    # the site subclassification's labels, as the table's titles end ("(Lower leg)"), each with
    # the words that place a condition there (a regular expression)
    regions: dict[str, str]
    unspecified: str  # the label of "site unspecified"
    multiple: str  # the label of "multiple sites"
    message: str
    after: int = 60  # how far past a mention its statement goes on to name the site ("gout of the right knee")

    def __post_init__(self):
        check_patterns(self.regions, "regions")


_SITE_LABEL = re.compile(r"\(([^()]+)\)\s*$")
# where a mention's statement stops telling of it: the end of its clause or an aside
_CLAUSE_END = re.compile(r"[.;(\n]")


def _site_label(title: str) -> str | None:
    m = _SITE_LABEL.search(title)
    return m.group(1) if m else None


def _statements(w: Work, s: CodeSuggestion, after: int) -> list[str]:
    """What the statements of ``s`` tell of it: each present mention behind it (those sharing
    words with its title, else every mention in its evidence), read with its site and the words
    that change codes ("compound #": open fracture), and the words that follow it to the end of
    the clause ("fracture of L1 after a fall")."""
    told = []
    for m in _related(w, s):
        rest = w.text[m.end:m.end + after]
        clause = _CLAUSE_END.search(rest)
        told.append(" ".join([m.body_site or "", m.query, rest[:clause.start()] if clause else rest]))
    return told


def _related(w: Work, s: CodeSuggestion) -> list[Mention]:
    """The present mentions behind ``s``: those sharing words with its title, else every one in its evidence."""
    words = content_words(_SITE_LABEL.sub(" ", s.title))
    inside = [m for m in w.inside(s, False) if m.assertion in STATED]
    return [m for m in inside if words & mention_words(m)] or inside


# the words with which a condition comes on what the clause has named before it
_COMES_WITH = re.compile(r"\b(?:with|complicated by)\s+$", re.I)


def _leads(w: Work, s: CodeSuggestion) -> list[str]:
    """The words of its clause before each mention behind ``s`` that comes "with" or
    "complicated by" them ("ulcer of the right fourth toe with acute osteomyelitis of the phalanges")."""
    out = []
    for m in _related(w, s):
        lead = re.split(r"(?<!\d)[.;,\n]", w.text[max(0, m.start - 200):m.start])[-1]
        if _COMES_WITH.search(lead):
            out.append(lead)
    return out


def _labels_in(told: list[str], patterns: dict[str, str]) -> set[str]:
    """The labels (of ``patterns``: label -> the words that state it) that the texts ``told`` state."""
    return {label for label, pattern in patterns.items() if any(re.search(pattern, x, re.I) for x in told)}


def _labelled(w: Work, r: Rule, labels: set[str]) -> list[CodeSuggestion]:
    """The suggestions in the rule's scope whose code is a subdivision with one of ``labels`` at
    the end of its title ("Gout, unspecified (Lower leg)", "Fracture of mandible (open)")."""
    out = []
    for s in w.scope(r):
        table, entry = w.entry(s)
        if entry is not None and _site_label(entry.title) in labels and table.parent(entry.code) is not None:
            out.append(s)
    return out


def _to_labelled_sibling(w: Work, r: Rule, s: CodeSuggestion, wanted: str, message: str) -> None:
    """Recode ``s`` to the sibling whose title ends with the label ``wanted`` ("(Lower leg)",
    "(open)"), where there is one and it is not ``s`` already."""
    table, entry = w.entry(s)
    parent = table.parent(entry.code)
    sibling = next((e for e in table.children(parent.code) if e.selectable and _site_label(e.title) == wanted), None)
    if sibling is None or sibling.code == entry.code:
        return
    w.replace(r, s, System.parse(s.system), sibling.code)
    w.flag(r, message, s, codes=(s.code, sibling.code), other=f"{sibling.code} ({sibling.title})")


@rule("CON-040", "conventions", SiteParams)
def site_of_involvement(w: Work, r: Rule) -> None:
    """A code of the site subclassification (the UK fifth character of Chapter XIII: "gout,
    unspecified (Lower leg)") takes the site its statements name: the region of the one site
    named, multiple sites where they name sites in several regions (where they name none, the
    clause they come "with": "ulcer of the right fourth toe with acute osteomyelitis of the
    phalanges"), and site unspecified where that names none either."""
    p: SiteParams = r.params
    for s in _labelled(w, r, {*p.regions, p.unspecified, p.multiple}):
        found = _labels_in(_statements(w, s, p.after), p.regions) or _labels_in(_leads(w, s), p.regions)
        wanted = p.unspecified if not found else next(iter(found)) if len(found) == 1 else p.multiple
        _to_labelled_sibling(w, r, s, wanted, p.message)


@dataclass(frozen=True)
class FractureParams:
    kinds: dict[str, str]  # the label a title ends with ("open") -> the words that state it (a regular expression)
    default: str  # the label of a fracture not stated to be another ("closed")
    message: str
    after: int = 60  # how far past a mention its statement goes on ("fracture of the left angle, compound")

    def __post_init__(self):
        if self.default not in self.kinds:
            raise ValueError(f"default {self.default!r} is not one of the kinds {sorted(self.kinds)}")
        check_patterns(self.kinds, "kinds")


@rule("CON-041", "conventions", FractureParams)
def open_or_closed(w: Work, r: Rule) -> None:
    """A fracture code of the open/closed subdivision (the fifth character of Chapter XIX:
    "Fracture of mandible (open)") takes the kind its statements state; one not stated open is
    closed."""
    p: FractureParams = r.params
    for s in _labelled(w, r, set(p.kinds)):
        found = _labels_in(_statements(w, s, p.after), p.kinds) - {p.default}
        _to_labelled_sibling(w, r, s, next(iter(found)) if len(found) == 1 else p.default, p.message)


@dataclass(frozen=True)
class SeizureParams:
    epilepsy: tuple[str, ...]  # the epilepsy codes (G40)
    diagnosed: str  # the words of a mention that name epilepsy as a diagnosis
    service: str  # the words after it that make it a service, not a diagnosis ("epilepsy nurse")
    seizure: str  # the words of a mention of a seizure
    febrile: str  # the words that make a seizure febrile
    past: str  # the words that date a seizure before this episode ("at 18 months of age")
    seizure_code: str  # a seizure the letter does not call epilepsy (R56.8)
    febrile_code: str  # a febrile one (R56.0)
    message: str

    def __post_init__(self):
        check_codes(self.epilepsy, "epilepsy")
        check_codes((self.seizure_code, self.febrile_code), "seizure_code, febrile_code")
        for pattern in (self.diagnosed, self.service, self.seizure, self.febrile, self.past):
            re.compile(pattern)


def _epilepsy_named(w: Work, p: SeizureParams) -> bool:
    """Whether a mention of this patient names epilepsy as a diagnosis (known, past or present; not
    denied, a relative's, feared, nor "our epilepsy protocol")."""
    return any(not m.procedural and m.assertion not in ("negated", "family", "hypothetical")
               and re.search(p.diagnosed, m.text, re.I) and not re.match(p.service, w.text[m.end:m.end + 30], re.I)
               for m in w.mentions)


@rule("CON-064", "conventions", SeizureParams)
def seizure_not_epilepsy(w: Work, r: Rule) -> None:
    """A seizure the letter does not call epilepsy (a first, a provoked or a symptomatic seizure) is
    coded R56.8, a febrile one R56.0, not epilepsy (G40)."""
    p: SeizureParams = r.params
    refs = code_refs(" ".join(p.epilepsy))
    epilepsy = [s for s in w.scope(r) if s.kind == "diagnosis" and in_refs(s.code, refs)]
    if not epilepsy or _epilepsy_named(w, p):
        return
    seizures = [m for m in w.mentions if m.assertion in STATED and re.search(p.seizure, m.text, re.I)]
    # this episode's seizure, not "two febrile convulsions at 18 months": its sentences are the
    # evidence (the one that gives its cause too: "a seizure provoked by the meningioma", SEQ-002)
    told = tuple(e for e in (w.told(x) for x in (w.sentences[i] for i in w.holding(seizures)))
                 if not re.search(p.past, e.text, re.I) and e.assertion not in NOT_CODED)
    code = p.febrile_code if any(re.search(p.febrile, e.text, re.I) for e in told) else p.seizure_code
    for s in epilepsy:
        w.replace(r, s, System.parse(s.system), code, told)
        w.flag(r, p.message, s, codes=(s.code, code), other=code)


@dataclass(frozen=True)
class ToldElsewhereParams:
    # {codes, words, near?, to}: conditions coded without a feature, the words that tell it and
    # (optional) the words of what it is told of, both in one present sentence of the letter, and
    # the code that names the condition with it
    entries: tuple[dict, ...]
    message: str
    within: int = 4  # the most words between the feature and what it is told of
    history: tuple[str, ...] = ()  # sections whose sentences tell another episode's

    def __post_init__(self):
        check_entries(self.entries, "entries", {"codes": str, "words": str, "to": str}, {"near": str})
        check_codes(tuple(f"{e['codes']}, {e['to']}" for e in self.entries), "entries")
        check_patterns({f"{e['to']} {key}": e[key] for e in self.entries for key in ("words", "near") if key in e},
                       "entries")


def _told_near(words: str, near: str | None, within: int) -> re.Pattern:
    """``words`` with ``near`` at most ``within`` words before or after them ("gangrenous ileum",
    "the loop remained black and non-viable"), or alone where there is no ``near``."""
    if near is None:
        return re.compile(words, re.I)
    gap = rf"(?:\W+\w+){{0,{within}}}?\W+"
    return re.compile(rf"(?:{words}){gap}(?:{near})|(?:{near}){gap}(?:{words})", re.I)


@rule("CON-075", "conventions", ToldElsewhereParams)
def feature_told_elsewhere(w: Work, r: Rule) -> None:
    """A condition coded without a feature that another present sentence of the letter tells of
    it (the operation note's "gangrenous ileum" in a strangulated hernia; the "frank pus" drained
    from an obstructed kidney) is coded to the code that names the condition with it."""
    p: ToldElsewhereParams = r.params
    said = [(x, x.query) for x in w.sentences if x.coded and x.assertion not in NOT_CODED
            and x.assertion != "historical" and x.section not in p.history]
    for entry in p.entries:
        told = _told_near(entry["words"], entry.get("near"), p.within)
        telling = next((x for x, text in said if told.search(text)), None)
        if telling is None:
            continue
        refs = code_refs(entry["codes"])
        for s in [s for s in w.scope(r) if in_refs(s.code, refs)]:
            w.replace(r, s, System.ICD10, entry["to"], evidence=s.evidence + (w.told(telling),))
            w.flag(r, p.message, s, codes=(s.code, entry["to"]), evidence=(w.told(telling),), other=entry["to"])
