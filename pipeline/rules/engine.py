"""The rules engine: one letter's suggestions while the rules run (:class:`Work`), the helpers
rules share, and :func:`apply_rules`, which runs the enabled rules in file order and returns a new
:class:`LetterResult` with its codes re-sequenced (roles and ranks renumbered), flags and queries
added, and each touched suggestion's ``rules`` listing the ids that touched it."""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from typing import Sequence

from clincoder.core.codes import System, compact
from clincoder.core.contracts import Mention, SentenceRecord
from clincoder.core.index_terms import index_terms
from clincoder.core.schema import NOT_CODED, CodeSuggestion, Evidence, Flag, LetterResult, Query, not_coded_only
from clincoder.core.tables import CodeEntry, CodeTable
from clincoder.core.words import content_words

from .refs import code_refs, in_refs
from .registry import RULES
from .schema import PLACEHOLDERS, Axis, Rule, RuleSet, default_rules

class Work:
    """One letter while the rules run: the suggestion lists (mutable), what the rules raised."""

    def __init__(self, result: LetterResult, tables: dict[System, CodeTable], mentions: list[Mention],
                 text: str, rules: RuleSet, sentences: Sequence[SentenceRecord] = (), age_days: int | None = None):
        self.result, self.tables, self.mentions, self.text, self.ruleset = result, tables, mentions, text, rules
        self.sentences = list(sentences)  # the kept sentences, with their sections (from the text stage)
        self.age_days = age_days  # the patient's age in this episode in days, where the letter gives it
        self.codes = list(result.codes)
        self.candidates = list(result.candidates)
        self.flags: list[Flag] = []
        self.queries: list[Query] = []
        self.tags: dict[tuple[str, str], list[str]] = {}
        self.demoted: set[tuple[str, str]] = set()  # codes a rule took out of the suggestions
        # codes a validity edit (sex, age) took out: wrong for this patient, never added back
        self.invalid: set[tuple[str, str]] = set()

    # suggestions
    def entry(self, s: CodeSuggestion) -> tuple[CodeTable | None, CodeEntry | None]:
        table = self.tables.get(System.parse(s.system))
        return table, (table.get(s.code) or table.resolve(s.code)) if table else None

    def tag(self, rule: Rule, *suggestions: CodeSuggestion) -> None:
        for s in suggestions:
            ids = self.tags.setdefault((s.system, s.code), [])
            if rule.id not in ids:
                ids.append(rule.id)

    def scope(self, rule: Rule) -> list[CodeSuggestion]:
        return [s for s in self.codes if System.parse(s.system) in rule.applies_to]

    def enabled_rule(self, rule_id: str) -> Rule | None:
        """Another rule of the ruleset that a rule reads (its policy, its pairs), where it is there
        and enabled; None otherwise."""
        return next((x for x in self.ruleset.rules if x.id == rule_id and x.enabled), None)

    def at(self, s: CodeSuggestion) -> int:
        """Where ``s`` itself stands in the suggested codes: the same object, not the first equal
        one (a site code repeated after two operations of one statement is equal to the other);
        an equal one where ``s`` is a copy of it."""
        for i, c in enumerate(self.codes):
            if c is s:
                return i
        return self.codes.index(s)

    def move_before(self, s: CodeSuggestion, target: CodeSuggestion) -> None:
        """``s`` directly before ``target`` (nothing moves where they are the same code)."""
        if s is target:
            return
        del self.codes[self.at(s)]
        self.codes.insert(self.at(target), s)

    def move_after(self, s: CodeSuggestion, target: CodeSuggestion) -> None:
        """``s`` directly after ``target`` (a supplementary code after the code it qualifies)."""
        if s is target:
            return
        del self.codes[self.at(s)]
        self.codes.insert(self.at(target) + 1, s)

    def unmark_primary(self, s: CodeSuggestion) -> CodeSuggestion:
        """``s`` no longer marked primary (SEQ-001 keeps a marked primary first); returns it as kept."""
        return self._marked(s, "secondary")

    def mark_primary(self, s: CodeSuggestion) -> CodeSuggestion:
        """``s`` marked primary (SEQ-001 keeps it first of its kind); returns it as kept."""
        return self._marked(s, "primary")

    def _marked(self, s: CodeSuggestion, role: str) -> CodeSuggestion:
        kept = replace(s, role=role)
        self.codes[self.at(s)] = kept
        return kept

    def demote(self, s: CodeSuggestion) -> None:
        del self.codes[self.at(s)]
        self.candidates.append(s)
        self.demoted.add((s.system, s.code))

    def restate(self, rule: Rule, s: CodeSuggestion, evidence: tuple[Evidence, ...]) -> CodeSuggestion:
        """``s`` resting on ``evidence`` only, in its place (the statements of another condition
        taken from it), tagged with ``rule``."""
        kept = replace(s, evidence=evidence)
        self.codes[self.at(s)] = kept
        self.tag(rule, kept)
        return kept

    def rule_out(self, s: CodeSuggestion) -> None:
        """Take out a code that is wrong for this patient (a sex or age edit); no later rule adds it back."""
        self.demote(s)
        self.invalid.add((s.system, compact(s.code)))

    def suggested(self, system: System, code: str) -> CodeSuggestion | None:
        return next((s for s in self.codes if s.system == system.value and compact(s.code) == compact(code)), None)

    def add(self, rule: Rule, system: System, code: str, evidence: tuple[Evidence, ...],
            after: CodeSuggestion | None = None, repeat: bool = False,
            rule_evidence: bool = False, score: float | None = None) -> CodeSuggestion | None:
        """Suggest ``code`` (a candidate of that code is promoted with its own evidence, or with
        ``evidence`` where it has none or ``rule_evidence``: the rule's reason is the evidence, as
        the procedure a laterality code qualifies or the allergy line a status code is read from),
        placed directly after
        ``after`` or last; None where the table lacks it, it is already suggested (unless
        ``repeat``: supplementary codes follow each code they qualify) or a validity edit ruled
        it out for this patient (:meth:`rule_out`). A code that was no
        candidate ranks with ``score`` (the code it is read from), else first (1.0)."""
        table = self.tables.get(system)
        entry = table.get(code) if table is not None else None
        if entry is None or (self.suggested(system, code) is not None and not repeat) \
                or (system.value, compact(code)) in self.invalid:
            return None
        old = next((c for c in self.candidates if c.system == system.value and compact(c.code) == compact(code)), None)
        if old is not None:
            self.candidates.remove(old)
        if old is None:
            s = CodeSuggestion(system.value, entry.code, entry.title, 0, "secondary", 1.0 if score is None else score,
                               evidence)
        else:
            kept = (evidence or old.evidence) if rule_evidence else (old.evidence or evidence)
            s = replace(old, role="secondary", evidence=kept)
        self.codes.insert(self.at(after) + 1 if after in self.codes else len(self.codes), s)
        self.tag(rule, s)
        return s

    def attach(self, rule: Rule, system: System, code: str, s: CodeSuggestion, after: CodeSuggestion,
               placed: set[int], score: float | None = None) -> CodeSuggestion | None:
        """The supplementary ``code`` directly after ``after`` (``s``'s evidence is its own where it is
        new): the ranker's own suggestion of it moved there, else a new one; a code the rule placed
        after another code already (``placed``: their ids) is repeated."""
        own = next((c for c in self.codes if c.system == system.value and compact(c.code) == compact(code)
                    and id(c) not in placed), None)
        if own is None:
            own = self.add(rule, system, code, s.evidence, after=after, repeat=True, rule_evidence=True, score=score)
        else:
            self.move_after(own, after)
            self.tag(rule, own)
        if own is not None:
            placed.add(id(own))
        return own

    def replace(self, rule: Rule, s: CodeSuggestion, system: System, code: str,
                evidence: tuple[Evidence, ...] = (), score: float | None = None) -> None:
        """``code`` is suggested in the place of ``s`` (the primary stays primary), which becomes
        a candidate; ``evidence``, where given, is what the rule read it from, else that of ``s``
        followed by the candidate's own (the statement that documents the code stands first: a
        candidate read only from the blood cultures is no finding alone once the diagnosis list's
        "sepsis with E. coli bacteraemia" is its). A code already suggested keeps its own
        evidence; one that was no candidate ranks with ``score`` (as :meth:`add`)."""
        if not evidence:
            own = next((c.evidence for c in self.candidates
                        if c.system == system.value and compact(c.code) == compact(code)), ())
            told = {(e.start, e.end) for e in s.evidence}
            evidence = s.evidence + tuple(e for e in own if (e.start, e.end) not in told)
        added = self.add(rule, system, code, evidence, after=s,  # None: already suggested
                         rule_evidence=True, score=score)
        if added is None:  # suggested already: it moves up to the place of the code it replaces
            added = self.suggested(system, code)
        if added is None:  # the table lacks it, or a validity edit ruled it out: ``s`` stays
            return
        if self.at(added) > self.at(s):
            self.move_before(added, s)
        self.demote(s)
        self.tag(rule, s)

    def holding(self, mentions: Sequence[Mention]) -> list[int]:
        """The indices of the sentences that hold any of ``mentions``, in order."""
        starts = [m.start for m in mentions]
        return [i for i, x in enumerate(self.sentences) if any(x.start <= a < x.end for a in starts)]

    def sentences_in(self, sections: Sequence[str]) -> list[SentenceRecord]:
        return [s for s in self.sentences if s.section in sections or (None in sections and s.section is None)]

    def episode_sentences(self, skip_sections: Sequence[str]) -> list[SentenceRecord]:
        """The sentences that tell of this episode: not in ``skip_sections`` (the history), not
        only negating, and not historical or of a relative."""
        return [s for s in self.sentences if s.coded and s.section not in skip_sections
                and s.assertion not in ("historical", "family")]

    def said_of_patient(self, spans: Sequence[tuple[int, int]]) -> list[str]:
        """What the sentences that open in ``spans`` say of the patient: their text with negated,
        family and hypothetical words blanked ("viral PCR negative for influenza" names no
        influenza, "non-ruptured" and "no rupture" no rupture)."""
        return [x.query for x in self.sentences if x.coded and x.assertion not in NOT_CODED
                and any(a <= x.start < b for a, b in spans)]

    def told(self, s: SentenceRecord) -> Evidence:
        """A kept sentence as evidence."""
        return Evidence(s.start, s.end, self.text[s.start:s.end], s.section, s.assertion)

    def inside(self, s: CodeSuggestion, procedural: bool) -> list[Mention]:
        """The mentions of procedures (``procedural``), else of diagnoses and findings, that lie
        within the evidence of ``s``."""
        return [m for m in self.mentions if m.procedural == procedural
                and any(e.start <= m.start and m.end <= e.end for e in s.evidence)]

    @staticmethod
    def words(s: CodeSuggestion) -> frozenset[str]:
        """The words that name a suggestion: its title's, and an operation's index terms'."""
        terms = term_words(System.parse(s.system), s.code) if s.kind == "procedure" else frozenset()
        return content_words(s.title) | terms

    def support(self, s: CodeSuggestion) -> list[Mention]:
        """Mentions behind a suggestion: those of its kind sharing words with its title (an
        operation's with its index terms too: "laser lithotripsy" is M27.1's, "ureteroscopic laser
        fragmentation of calculus of ureter"), inside its evidence first, else anywhere; else the
        only mention of its kind inside its evidence."""
        ms = [m for m in self.mentions if m.procedural == (s.kind == "procedure")]
        inside = self.inside(s, s.kind == "procedure")
        words = self.words(s)

        def related(pool):
            return [m for m in pool if words & mention_words(m)]

        return related(inside) or related(ms) or (inside if len(inside) == 1 else [])

    def naming(self, s: CodeSuggestion, least: int = 2) -> list[Mention]:
        """The mentions behind a suggestion (:meth:`support`) that name it: those sharing the most
        words with its title, ``least`` at least ("NSTEMI", non-ST elevation myocardial infarction,
        for I21.4, not "acute exacerbation of heart failure"); none where no mention shares so many."""
        words = content_words(s.title)
        shared = [(len(words & mention_words(m)), m) for m in self.support(s)]
        most = max((n for n, _ in shared), default=0)
        return [m for n, m in shared if n == most] if most >= least else []

    # output
    def flag(self, rule: Rule, template: str, s: CodeSuggestion | None = None, codes=(), evidence=(), **kw) -> None:
        msg = fill(template, s, **kw)
        if not any(f.rule == rule.id and f.message == msg for f in self.flags):
            self.flags.append(Flag(rule.id, msg, rule.severity, tuple(codes or ([s.code] if s else [])),
                                   tuple(evidence or (s.evidence if s else ()))))

    def query(self, rule: Rule, template: str, s: CodeSuggestion, evidence=(), **kw) -> None:
        q = fill(template, s, **kw)
        if not any(x.rule == rule.id and x.question == q for x in self.queries):
            self.queries.append(Query(rule.id, q, (s.code,), tuple(evidence or s.evidence)))

    def finish(self) -> LetterResult:
        def touched(s: CodeSuggestion, **kw) -> CodeSuggestion:
            extra = [r for r in self.tags.get((s.system, s.code), []) if r not in s.rules]
            return replace(s, rules=s.rules + tuple(extra), **kw)

        # whatever the suggester or a rule did, a code whose every passage the letter negates, gives
        # as family history or as a hypothesis is never suggested: it stays ranked, with its assertion
        said, unsaid = [], []
        for s in self.codes:
            (unsaid if not_coded_only(s.evidence) else said).append(s)
        codes, seen = [], set()
        for s in said:
            codes.append(touched(s, role="secondary" if s.kind in seen else "primary", rank=len(codes) + 1))
            seen.add(s.kind)
        cands = sorted(self.candidates + unsaid, key=lambda s: -s.score)
        cands = [touched(s, role="candidate", rank=len(codes) + i) for i, s in enumerate(cands, 1)]
        return self.result.with_(codes=tuple(codes), candidates=tuple(cands),
                                 flags=self.result.flags + tuple(self.flags),
                                 queries=self.result.queries + tuple(self.queries))


@functools.lru_cache(maxsize=4096)
def term_words(system: System, code: str) -> frozenset[str]:
    """The content words of a code's curated index terms."""
    return frozenset(content_words(" ".join(index_terms(system).get(code, ()))))


def own_title(w: "Work", s: CodeSuggestion) -> str:
    """A code's own title as the classification words it ("End colostomy"), not joined to its
    category's ("Other exteriorisation of colon, end colostomy")."""
    entry = w.entry(s)[1]
    return (entry.source_title or entry.title) if entry is not None else s.title


def mention_words(m: Mention) -> frozenset[str]:
    """The content words a mention says, as written, expanded and in its canonical form, with the
    body site its words name ("Bladder cancer": the cancer of the bladder)."""
    return frozenset(content_words(" ".join(filter(None, (m.text, m.expansion, m.canonical, m.body_site)))))


def carried(target: str, code: str) -> str:
    """``target`` with the characters ``code`` has past its length: the subdivision or site a
    code keeps when it moves to another ("J96.0" from J96.91: J96.01; "E13" from E14.9: E139;
    "M00.0" from M00.96: M00.06; "I15.1" from I10: I15.1)."""
    return target + compact(code)[len(compact(target)):]


def fill(template: str, s: CodeSuggestion | None, **kw) -> str:
    values = {k: "" for k in PLACEHOLDERS}
    if s is not None:
        values.update(code=s.code, title=s.title, condition=s.title[:1].lower() + s.title[1:], system=s.system)
    values.update({k: v for k, v in kw.items() if v is not None})
    return template.format_map(values)


def notes_of(table: CodeTable, entry: CodeEntry, attr: str) -> list[str]:
    """A note of an entry and of every code above it (a category's notes cover its subdivisions)."""
    chain = [entry, *(a for a in table.ancestors(entry.code) if a.is_code)]
    return [n for e in chain for n in getattr(e, attr)]


def gaps(axes: list[Axis], own: CodeEntry, alternatives: list[CodeEntry]):
    """Axes on which ``own`` is silent but at least two alternatives differ: ``(axis, {value: entries})``."""
    out = []
    for axis in axes:
        if axis.shown(own.title):
            continue
        by_value: dict[str, list[CodeEntry]] = {}
        for e in alternatives:
            for v in axis.shown(e.title):
                by_value.setdefault(v, []).append(e)
        if len(by_value) >= 2:
            out.append((axis, by_value))
    return out


def specific(table: CodeTable, own: CodeEntry, options: list[CodeEntry]) -> CodeEntry:
    """The best alternative for a documented value: a selectable one, or the same subdivision of an
    alternative category (``E14.9`` -> ``E11.9``)."""
    for e in options:
        if e.selectable:
            return e
    parent = table.parent(own.code)
    if parent is not None and parent.is_code:
        suffix = compact(own.code)[len(compact(parent.code)):]
        for e in options:
            twin = table.get(compact(e.code) + suffix)
            if twin is not None and twin.selectable:
                return twin
    return options[0]


def axis_gaps(w: Work, r: Rule, s: CodeSuggestion, entry: CodeEntry, alternatives: list[CodeEntry],
              axes: list[Axis], support: list[Mention]):
    """For each axis on which ``entry`` is silent but the alternatives differ: ``(axis, {value:
    entries}, (value, mention) documented or None)``. An axis the letter does not document is
    queried with the axis's question as it is reached."""
    for axis, by_value in gaps(axes, entry, alternatives):
        found = axis.documented(support)
        if found is None:
            w.query(r, axis.question, s, evidence=evidence(support), condition=mention_text(support))
        yield axis, by_value, found


def mention_text(ms) -> str | None:
    return ", ".join(dict.fromkeys(m.text for m in ms)) or None


def evidence(ms) -> tuple[Evidence, ...]:
    return tuple(m.evidence() for m in ms)


def shared_statement(a: CodeSuggestion, b: CodeSuggestion) -> Evidence | None:
    """A sentence both suggestions rest on (``b``'s evidence of it), or None."""
    spans = {(e.start, e.end) for e in a.evidence}
    return next((e for e in b.evidence if (e.start, e.end) in spans), None)


def same_statement(a: CodeSuggestion, b: CodeSuggestion) -> bool:
    """Whether two suggestions rest on a sentence in common (the diagnosis stated with a symptom
    is the one that explains it)."""
    return shared_statement(a, b) is not None


def asterisk_refs(w: "Work", rule_id: str) -> tuple:
    """The asterisk codes of the dagger and asterisk rule ``rule_id``, where it is enabled (code refs)."""
    dagger_rule = w.enabled_rule(rule_id) if rule_id else None
    return code_refs(" ".join(dagger_rule.params.asterisks)) if dagger_rule is not None else ()


def excluded_beside(notes_rule: Rule | None, s: CodeSuggestion,
                    codes: Sequence[CodeSuggestion]) -> tuple[CodeSuggestion, str] | None:
    """The code of ``codes`` that an Excludes note of ``s`` sends its condition to, with the note,
    by the notes of ``notes_rule`` (CON-042; None where it is not enabled: nothing is excluded)
    ("E87.1 hyponatraemia: excludes syndrome of inappropriate secretion of antidiuretic hormone
    (E22.2)"); None where none does."""
    if notes_rule is None:
        return None
    notes = notes_rule.params.notes
    own = [n for key in dict.fromkeys((compact(s.code)[:3], compact(s.code))) for n in notes.get(key, ())]
    return next(((k, n) for n in own for k in codes if k is not s and in_refs(k.code, code_refs(n))), None)


_WITH = re.compile(r"\bwith\b(?!out)(.*?)(?:\bwithout\b|$)", re.I)
_WITHOUT = re.compile(r"\bwithout\b", re.I)


def without_split(title: str) -> tuple[str, str]:
    """A title's words before its first "without" and after it: what the code says and what it
    denies ("Chronic without haemorrhage or perforation": "Chronic ", " haemorrhage or perforation")."""
    before, after = (*_WITHOUT.split(title, maxsplit=1), "")[:2]
    return before, after


def title_holds(diagnosis: CodeSuggestion, symptom: CodeSuggestion) -> bool:
    """Whether the diagnosis's title holds the symptom in what it is "with" ("Non-insulin-dependent
    diabetes mellitus with coma" holds "Coma, unspecified"): the classification combines them."""
    said = _WITH.search(diagnosis.title)
    words = content_words(symptom.title)
    return bool(said and words) and words <= content_words(said.group(1))


def read_as_another(own: dict, entries: Sequence[dict], evidence: Sequence[Evidence]) -> dict | None:
    """Of a rule's word entries (``{words, ...}``), the one whose words a suggestion's evidence names
    where it names none of its own entry's ("Group A Strep" behind B95.1, group B; "penicillin
    allergy" behind Z88.8, other drugs); None where its own words are there or no other's are."""
    texts = [e.text for e in evidence]
    if not texts or any(re.search(own["words"], t, re.I) for t in texts):
        return None
    return next((o for o in entries if o is not own and any(re.search(o["words"], t, re.I) for t in texts)), None)


def listed_first(s: CodeSuggestion, sections: Sequence[str]) -> float:
    """How early the letter lists ``s`` as present in ``sections`` (higher: earlier); -inf where
    it does not."""
    return max((-e.start for e in s.evidence if e.section in sections and e.assertion == "present"),
               default=float("-inf"))


def explaining(symptom: CodeSuggestion, definitive: Sequence[CodeSuggestion], listed: Sequence[str],
               related: Sequence[dict]) -> list[CodeSuggestion]:
    """The definitive diagnoses that may explain a symptom code (WHO MB3: "obviously the
    manifestation" of a condition): those stated in a sentence with it; else those the letter lists
    under a diagnosis heading (``listed``: what was treated) or of the body system that the
    symptom's Chapter XVIII block names (``related``: ``{symptoms, diagnoses}`` code ranges)."""
    stated_with = [d for d in definitive if same_statement(d, symptom)]
    if stated_with:
        return stated_with
    systems = [code_refs(e["diagnoses"]) for e in related if in_refs(symptom.code, code_refs(e["symptoms"]))]
    return [d for d in definitive
            if listed_first(d, listed) > float("-inf") or any(in_refs(d.code, refs) for refs in systems)]


def apply_rules(result: LetterResult, tables: dict[System, CodeTable], mentions: list[Mention], text: str,
                rules: RuleSet | None = None, sentences: Sequence[SentenceRecord] = (),
                age_days: int | None = None) -> LetterResult:
    """Run the enabled rules, in file order, over one coded letter; a new result comes back
    (a failed record comes back unchanged). ``sentences``: the letter's kept sentences with
    their sections, for the rules that read where something is written; ``age_days``: the
    patient's age in this episode, for the rules that read it."""
    if result.error:
        return result
    ruleset = rules or default_rules()
    w = Work(result, tables, list(mentions), text, ruleset, sentences, age_days)
    for r in ruleset.rules:
        if r.enabled:
            RULES[r.id].fn(w, r)
    return w.finish()
