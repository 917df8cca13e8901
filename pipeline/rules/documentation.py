"""Documentation and queries: unspecified codes where the letter documents (or fails to
document) the detail, defaulted codes, uncertain diagnoses, no codable diagnosis, a procedure
performed but not coded (citations in ``rules.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass

from clincoder.core.codes import System
from clincoder.core.config import STATED_SECTIONS
from clincoder.core.contracts import Mention
from clincoder.core.words import LEXICON_STOP_WORDS, content_sequence, content_words

from .conventions import AxesParams
from .engine import Work, axis_gaps, evidence, mention_text, mention_words, specific, term_words
from .refs import code_refs, in_refs
from .registry import rule
from .schema import MessageParams, QuestionParams, Rule, check_codes


@dataclass(frozen=True)
class DefaultParams:
    codes: tuple[str, ...]
    axis: str
    expected: str
    message: str

    def __post_init__(self):
        check_codes(self.codes, "codes")


@rule("DOC-001", "documentation", AxesParams)
def unspecified(w: Work, r: Rule) -> None:
    p: AxesParams = r.params
    axes = [w.ruleset.axes[a] for a in p.axes]
    for s in w.scope(r):
        table, entry = w.entry(s)
        if entry is None or "unspecified" not in entry.title.lower():
            continue
        parent = table.parent(entry.code)
        if parent is None:
            continue
        within = [e for e in table.children(parent.code) if e.code != entry.code]
        grand = table.parent(parent.code) if parent.is_code else None
        across = within + ([e for e in table.children(grand.code) if e.code != parent.code]
                           if grand is not None and grand.kind != "chapter" else [])
        support = w.support(s)
        gaps = [g for axes_, alternatives in (([a for a in axes if a.name not in p.across_categories], within),
                                              ([a for a in axes if a.name in p.across_categories], across))
                for g in axis_gaps(w, r, s, entry, alternatives, axes_, support)]
        for _, by_value, found in gaps:
            if found and found[0] not in by_value:
                continue  # documented, but the classification has nothing more specific for it
            if found:
                better = specific(table, entry, by_value[found[0]])
                w.flag(r, p.message, s, evidence=(found[1].evidence(),), value=found[0], mention=found[1].text,
                       other=f"{better.code} ({better.title})")
            w.tag(r, s)


@rule("QRY-001", "documentation", DefaultParams)
def defaulted_code(w: Work, r: Rule) -> None:
    p: DefaultParams = r.params
    axis, refs = w.ruleset.axes[p.axis], code_refs(" ".join(p.codes))
    for s in w.scope(r):
        if not in_refs(s.code, refs):
            continue
        support = w.support(s)
        found = axis.documented(support)
        if found is None:
            w.query(r, axis.question, s, evidence=evidence(support), condition=mention_text(support))
        elif found[0] != p.expected:
            w.flag(r, p.message, s, evidence=(found[1].evidence(),), value=found[0], mention=found[1].text)
        else:
            continue
        w.tag(r, s)


@rule("QRY-002", "documentation", QuestionParams)
def uncertain(w: Work, r: Rule) -> None:
    for s in w.scope(r):
        if s.kind != "diagnosis":
            continue
        unsure = [m for m in w.support(s) if m.assertion == "uncertain"]
        if unsure or (s.evidence and all(e.assertion == "uncertain" for e in s.evidence)):
            w.query(r, r.params.question, s, evidence=evidence(unsure),
                    mention=mention_text(unsure) or s.evidence[0].text,
                    condition=", ".join(dict.fromkeys(m.text.lstrip("?¿ ") for m in unsure)) or None)
            w.tag(r, s)


@rule("DOC-002", "documentation", MessageParams)
def no_diagnosis(w: Work, r: Rule) -> None:
    if any(s.kind == "diagnosis" for s in r.applies_to & set(w.tables)) and \
            not any(s.kind == "diagnosis" for s in w.codes):
        w.flag(r, r.params.message)


@rule("DOC-003", "documentation", MessageParams)
def procedure_not_coded(w: Work, r: Rule) -> None:
    if not any(s.kind == "procedure" for s in r.applies_to & set(w.tables)):
        return  # no procedure table: the coder already warns that procedures are not coded
    # done this episode: not an earlier episode's ("right inguinal hernia repair 1998")
    done = [m for m in w.mentions if m.label == "PROCEDURE" and m.coded and m.assertion != "historical"]
    if done and not any(s.kind == "procedure" for s in w.codes):
        w.flag(r, r.params.message, evidence=evidence(done), mention=mention_text(done))


def _head(m: Mention) -> str | None:
    """The last word a mention says, its head ("aspergillosis" of "pulmonary aspergillosis",
    "murmur" of "heart murmur"), as a content word; None where it says none."""
    words = content_sequence(m.expansion or m.text)
    return words[-1] if words else None


def _same_condition(query: Mention, ruled_out: Mention) -> bool:
    """Whether a mention ruled out elsewhere names the queried condition: later, by the same head
    word ("brainstem stroke" and "stroke"); earlier, by all its words and in the list of diagnoses
    (a heading that gives the answer before the story: "4. Suspected cow's milk protein allergy -
    not supported"; not "no intracranial metastases" before "in keeping with bone metastases", nor
    a past history's "No previous stroke" before "Probable stroke")."""
    if ruled_out.end < query.start:
        return ruled_out.section in STATED_SECTIONS and bool(mention_words(query)) \
            and mention_words(query) <= mention_words(ruled_out)
    return ruled_out.start > query.end and _head(query) == _head(ruled_out) is not None


@rule("DOC-005", "documentation", MessageParams)
def ruled_out_later(w: Work, r: Rule) -> None:
    """A query diagnosis (its evidence's mentions all uncertain) that another statement rules out
    is not coded."""
    negated = [m for m in w.mentions if not m.procedural and m.assertion == "negated"]
    for s in [s for s in w.scope(r) if s.kind == "diagnosis"]:
        inside = w.inside(s, False)
        if not inside or any(m.assertion != "uncertain" for m in inside):
            continue
        answer = next((n for n in negated if any(_same_condition(m, n) for m in inside)), None)
        if answer is not None:
            w.demote(s)
            w.tag(r, s)
            w.flag(r, r.params.message, s, mention=answer.text)


@rule("DOC-006", "documentation", MessageParams)
def denied_by_name(w: Work, r: Rule) -> None:
    """A diagnosis read from words that do not name it ("viral-induced wheeze" read as J45.1,
    nonallergic asthma: no present mention of its evidence shares a word of its title or index
    terms) that the letter names only to deny it (a negated mention whose head word is a word of
    its title: "we have not diagnosed asthma"; not "no heart murmur" for heart failure) is not
    coded."""
    denied = [m for m in w.mentions if not m.procedural and m.assertion == "negated"]
    for s in [s for s in w.scope(r) if s.kind == "diagnosis" and not s.rules  # a rule's codes are its own
              and not w.tags.get((s.system, s.code))]:
        names = content_words(s.title) | term_words(System.parse(s.system), s.code)
        inside = [m for m in w.inside(s, False) if m.assertion == "present"]
        if not inside or any(names & mention_words(m) for m in inside):
            continue
        own = content_words(s.title) - LEXICON_STOP_WORDS
        answer = next((m for m in denied if _head(m) in own), None)
        if answer is not None:
            w.demote(s)
            w.tag(r, s)
            w.flag(r, r.params.message, s, mention=answer.text)
