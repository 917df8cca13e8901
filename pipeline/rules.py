"""The rules stage: coding conventions, sequencing, documentation flags and clinician queries.

Rules are data (``resources/rules.yaml``: id, kind, applies_to, citation, description, typed
params, plus shared *axes* of specificity); this module is one small engine and one function per
rule id (:data:`RULES`). :func:`apply_rules` takes a coded :class:`LetterResult` and returns a new
one with its codes re-sequenced (roles and ranks renumbered), flags and queries added, and each
touched suggestion's ``rules`` listing the ids that touched it.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import MISSING, dataclass, field, fields, replace
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Callable, get_type_hints

import yaml

from .codes import System, compact
from .codesystems import CodeEntry, CodeTable, _content_words
from .config import PROFILES
from .schema import CodeSuggestion, Evidence, Flag, LetterResult, Query

if TYPE_CHECKING:
    from .text.model import Mention

KINDS = ("sequencing", "convention", "documentation", "query")
SEVERITIES = ("info", "warning", "error")
ATTRIBUTES = ("laterality", "modifiers", None)
PLACEHOLDERS = {"code", "title", "condition", "mention", "notes", "other", "value", "details", "system"}
_TOP_KEYS = {"version", "axes", "rules"}
_RULE_KEYS = {"id", "kind", "applies_to", "citation", "description", "severity", "enabled", "params"}
_AXIS_KEYS = {"attribute", "values", "question"}


class RulesError(ValueError):
    """A rules file that does not validate; the message names the file, the rule and the fix."""


# ---- code references in notes and parameters ("E08.-", "J70.2-J70.4", "(O10-O11, O13-O16)") ----

_CODE = r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?"
_REF = re.compile(rf"(?<![A-Za-z0-9])({_CODE})(?:\s*-\s*({_CODE}))?(?![0-9A-Za-z])")


@functools.lru_cache(maxsize=4096)
def code_refs(text: str) -> tuple[tuple[str, str | None], ...]:
    """``(low, high)`` compact bounds of the codes a note or parameter names (``high`` None: a prefix)."""
    return tuple((compact(lo), compact(hi) if hi else None) for lo, hi in _REF.findall(text))


def in_refs(code: str, refs) -> bool:
    c = compact(code)
    return any(c.startswith(lo) if hi is None else lo <= c[:len(lo)] and c[:len(hi)] <= hi for lo, hi in refs)


# ---- the rules file ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Axis:
    """One axis of specificity (laterality, type of diabetes ...) as code titles and mentions show it."""

    name: str
    attribute: str | None
    values: dict[str, tuple[re.Pattern, ...]]
    question: str
    _seen: dict = field(default_factory=dict, compare=False, repr=False)  # text -> values shown (titles repeat)

    def shown(self, text: str) -> set[str]:
        if text not in self._seen:
            if len(self._seen) > 100_000:  # bounded over a long batch
                self._seen.clear()
            self._seen[text] = frozenset(v for v, pats in self.values.items() if any(p.search(text) for p in pats))
        return set(self._seen[text])

    def documented(self, mentions: list[Mention]) -> tuple[str, Mention] | None:
        """The value the mentions document, with the mention documenting it."""
        if self.attribute is None:
            return None
        for m in mentions:
            for said in [m.laterality or ""] if self.attribute == "laterality" else m.modifiers:
                shown = {said} if said in self.values else self.shown(said)
                if len(shown) == 1:
                    return shown.pop(), m
        return None


def _check_template(text: str, where: str) -> str:
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError as exc:
        raise RulesError(f"{where}: bad template {text!r}: {exc}") from None
    unknown = names - PLACEHOLDERS
    if unknown:
        raise RulesError(f"{where}: unknown placeholder(s) {sorted(unknown)} in {text!r}; use {sorted(PLACEHOLDERS)}")
    return text


def _codes_param(items: tuple[str, ...], what: str) -> None:
    for item in items:
        if not code_refs(item):
            raise ValueError(f"{what}: {item!r} is not a code or code range (e.g. E11, R00-R99)")


# Parameter classes, one per rule function. str fields are message/question templates.
@dataclass(frozen=True)
class MessageParams:
    message: str


@dataclass(frozen=True)
class NoParams:
    pass


@dataclass(frozen=True)
class QuestionParams:
    question: str


@dataclass(frozen=True)
class CodeFirstParams:
    missing: str
    reordered: str


@dataclass(frozen=True)
class AxesParams:
    axes: tuple[str, ...]
    message: str
    question: str = ""


@dataclass(frozen=True)
class DefaultParams:
    codes: tuple[str, ...]
    axis: str
    expected: str
    message: str

    def __post_init__(self):
        _codes_param(self.codes, "codes")


@dataclass(frozen=True)
class StatedPrimaryParams:
    sections: tuple[str, ...]  # canonical section names that state the primary diagnosis/procedure
    message: str
    min_support: float  # a ranked candidate the statement matches this well is coded as primary


@dataclass(frozen=True)
class SymptomParams:
    symptoms: tuple[str, ...]
    not_definitive: tuple[str, ...]
    message: str

    def __post_init__(self):
        _codes_param(self.symptoms, "symptoms")
        _codes_param(self.not_definitive, "not_definitive")


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    applies_to: frozenset[System]
    citation: tuple[str, ...]
    description: str
    params: object = NoParams()
    severity: str = "warning"
    enabled: bool = True


@dataclass(frozen=True)
class RuleSet:
    version: str
    axes: dict[str, Axis]
    rules: tuple[Rule, ...]
    source: str = ""

    def get(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)


def _params(cls, raw, where: str):
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise RulesError(f"{where}: params must be a mapping")
    hints = get_type_hints(cls)
    names = [f.name for f in fields(cls)]
    unknown = set(raw) - set(names)
    if unknown:
        raise RulesError(f"{where}: unknown param(s) {sorted(unknown)}; expected {names}")
    kw = {}
    for f in fields(cls):
        if f.name not in raw:
            if f.default is MISSING:
                raise RulesError(f"{where}: missing param {f.name!r}")
            continue
        v, t = raw[f.name], hints[f.name]
        if t == tuple[str, ...]:
            v = [v] if isinstance(v, str) else v
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise RulesError(f"{where}: param {f.name!r} must be a list of strings")
            v = tuple(v)
        elif t is str:
            if not isinstance(v, str):
                raise RulesError(f"{where}: param {f.name!r} must be a string")
            _check_template(v, f"{where}: param {f.name!r}")
        kw[f.name] = v
    try:
        return cls(**kw)
    except ValueError as exc:
        raise RulesError(f"{where}: {exc}") from None


def _systems(value, where: str) -> frozenset[System]:
    items = [value] if isinstance(value, str) else value
    if not items or not isinstance(items, list):
        raise RulesError(f"{where}: applies_to must name profiles ({sorted(PROFILES)}) or code systems")
    out: set[System] = set()
    for item in items:
        if item in PROFILES:
            out |= {PROFILES[item].diagnosis, PROFILES[item].procedure}
            continue
        try:
            out.add(System.parse(item))
        except ValueError:
            raise RulesError(f"{where}: applies_to {item!r} is neither a profile ({sorted(PROFILES)}) "
                             f"nor a code system ({[s.value for s in System]})") from None
    return frozenset(out)


def _axis(name: str, raw, where: str) -> Axis:
    if not isinstance(raw, dict):
        raise RulesError(f"{where}: must be a mapping")
    if set(raw) - _AXIS_KEYS or not {"values", "question"} <= set(raw):
        raise RulesError(f"{where}: keys must be {sorted(_AXIS_KEYS)} (values and question required); "
                         f"got {sorted(raw)}")
    if raw.get("attribute") not in ATTRIBUTES:
        raise RulesError(f"{where}: attribute must be one of {ATTRIBUTES}")
    values = raw["values"]
    if not isinstance(values, dict) or len(values) < 2:
        raise RulesError(f"{where}: values must map at least two values to lists of patterns")
    compiled = {}
    for value, pats in values.items():
        pats = [pats] if isinstance(pats, str) else pats
        try:
            compiled[str(value)] = tuple(re.compile(p, re.I) for p in pats)
        except (re.error, TypeError) as exc:
            raise RulesError(f"{where}: value {value!r}: bad pattern: {exc}") from None
    return Axis(name, raw.get("attribute"), compiled, _check_template(str(raw["question"]), f"{where}: question"))


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Read and validate a rules file (default: the packaged ``resources/rules.yaml``)."""
    if path is None:
        source, text = "rules.yaml", (files("clincoder") / "resources" / "rules.yaml").read_text(encoding="utf-8")
    else:
        source, text = str(path), Path(path).read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise RulesError(f"{source}: expected a mapping with keys {sorted(_TOP_KEYS)}")
    if set(data) - _TOP_KEYS:
        raise RulesError(f"{source}: unknown top-level key(s) {sorted(set(data) - _TOP_KEYS)}; "
                         f"expected {sorted(_TOP_KEYS)}")
    if data.get("version") in (None, ""):
        raise RulesError(f"{source}: missing version (e.g. version: \"2026.1\")")
    axes = {str(k): _axis(str(k), v, f"{source}: axis {k}") for k, v in (data.get("axes") or {}).items()}
    rules, seen = [], set()
    for n, raw in enumerate(data.get("rules") or [], 1):
        where = f"{source}: rule {raw.get('id', f'#{n}') if isinstance(raw, dict) else f'#{n}'}"
        if not isinstance(raw, dict):
            raise RulesError(f"{where}: must be a mapping")
        if set(raw) - _RULE_KEYS:
            raise RulesError(f"{where}: unknown key(s) {sorted(set(raw) - _RULE_KEYS)}; allowed {sorted(_RULE_KEYS)}")
        for key in ("id", "kind", "applies_to", "citation", "description"):
            if not raw.get(key):
                raise RulesError(f"{where}: missing {key}" + (" (the standard or guideline it implements)"
                                                              if key == "citation" else ""))
        rid = str(raw["id"])
        if rid in seen:
            raise RulesError(f"{where}: duplicate id {rid}")
        seen.add(rid)
        if raw["kind"] not in KINDS:
            raise RulesError(f"{where}: unknown kind {raw['kind']!r}; expected one of {KINDS}")
        if rid not in RULES:
            raise RulesError(f"{where}: no implementation for rule id {rid}; known ids {sorted(RULES)}")
        severity = raw.get("severity", "warning")
        if severity not in SEVERITIES:
            raise RulesError(f"{where}: unknown severity {severity!r}; expected one of {SEVERITIES}")
        citation = raw["citation"]
        citation = (citation,) if isinstance(citation, str) else tuple(citation)
        if not all(isinstance(c, str) and c.strip() for c in citation):
            raise RulesError(f"{where}: citation must be a non-empty string or list of strings")
        params = _params(RULES[rid][1], raw.get("params"), where)
        for name in (*getattr(params, "axes", ()), *([params.axis] if hasattr(params, "axis") else [])):
            if name not in axes:
                raise RulesError(f"{where}: unknown axis {name!r}; defined axes {sorted(axes)}")
        rules.append(Rule(rid, raw["kind"], _systems(raw["applies_to"], where), citation, str(raw["description"]),
                          params, severity, bool(raw.get("enabled", True))))
    return RuleSet(str(data["version"]), axes, tuple(rules), source)


@functools.lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    """The packaged rules, loaded once per process."""
    return load_rules()


# ---- the engine --------------------------------------------------------------------------------

def _kind(s: CodeSuggestion) -> str:
    return System.parse(s.system).kind


class _Work:
    """One letter while the rules run: the suggestion lists (mutable), what the rules raised."""

    def __init__(self, result: LetterResult, tables: dict[System, CodeTable], mentions: list[Mention],
                 text: str, rules: RuleSet):
        self.result, self.tables, self.mentions, self.text, self.ruleset = result, tables, mentions, text, rules
        self.codes = list(result.codes)
        self.candidates = list(result.candidates)
        self.flags: list[Flag] = []
        self.queries: list[Query] = []
        self.tags: dict[tuple[str, str], list[str]] = {}

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

    def move_before(self, s: CodeSuggestion, target: CodeSuggestion) -> None:
        self.codes.remove(s)
        self.codes.insert(self.codes.index(target), s)

    def demote(self, s: CodeSuggestion) -> None:
        self.codes.remove(s)
        self.candidates.append(s)

    def support(self, s: CodeSuggestion) -> list[Mention]:
        """Mentions behind a suggestion: those of its kind sharing words with its title, inside its
        evidence first, else anywhere; else the only mention of its kind inside its evidence."""
        labels = ("PROCEDURE",) if _kind(s) == "procedure" else ("DIAGNOSIS", "FINDING")
        ms = [m for m in self.mentions if m.label in labels]
        spans = [(e.start, e.end) for e in s.evidence]
        inside = [m for m in ms if any(a <= m.start and m.end <= b for a, b in spans)]
        words = _content_words(s.title)

        def related(pool):
            return [m for m in pool
                    if words & _content_words(" ".join(filter(None, (m.text, m.expansion, m.canonical))))]

        return related(inside) or related(ms) or (inside if len(inside) == 1 else [])

    # output
    def flag(self, rule: Rule, template: str, s: CodeSuggestion | None = None, codes=(), evidence=(), **kw) -> None:
        msg = _fill(template, s, **kw)
        if not any(f.rule == rule.id and f.message == msg for f in self.flags):
            self.flags.append(Flag(rule.id, msg, rule.severity, tuple(codes or ([s.code] if s else [])),
                                   tuple(evidence or (s.evidence if s else ()))))

    def query(self, rule: Rule, template: str, s: CodeSuggestion, evidence=(), **kw) -> None:
        q = _fill(template, s, **kw)
        if not any(x.rule == rule.id and x.question == q for x in self.queries):
            self.queries.append(Query(rule.id, q, (s.code,), tuple(evidence or s.evidence)))

    def finish(self) -> LetterResult:
        def touched(s: CodeSuggestion, **kw) -> CodeSuggestion:
            extra = [r for r in self.tags.get((s.system, s.code), []) if r not in s.rules]
            return replace(s, rules=s.rules + tuple(extra), **kw)

        codes, seen = [], set()
        for s in self.codes:
            codes.append(touched(s, role="secondary" if _kind(s) in seen else "primary", rank=len(codes) + 1))
            seen.add(_kind(s))
        cands = sorted(self.candidates, key=lambda s: -s.score)
        cands = [touched(s, role="candidate", rank=len(codes) + i) for i, s in enumerate(cands, 1)]
        return self.result.with_(codes=tuple(codes), candidates=tuple(cands),
                                 flags=self.result.flags + tuple(self.flags),
                                 queries=self.result.queries + tuple(self.queries))


def _fill(template: str, s: CodeSuggestion | None, **kw) -> str:
    values = {k: "" for k in PLACEHOLDERS}
    if s is not None:
        values.update(code=s.code, title=s.title, condition=s.title[:1].lower() + s.title[1:], system=s.system)
    values.update({k: v for k, v in kw.items() if v is not None})
    return template.format_map(values)


def _notes(table: CodeTable, entry: CodeEntry, attr: str) -> list[str]:
    """A note of an entry and of every code above it (a category's notes cover its subdivisions)."""
    chain = [entry, *(a for a in table.ancestors(entry.code) if a.is_code)]
    return [n for e in chain for n in getattr(e, attr)]


def _gaps(axes: list[Axis], own: CodeEntry, alternatives: list[CodeEntry]):
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


def _specific(table: CodeTable, own: CodeEntry, options: list[CodeEntry]) -> CodeEntry:
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


def _mention_text(ms) -> str | None:
    return ", ".join(dict.fromkeys(m.text for m in ms)) or None


def _evidence(ms) -> tuple[Evidence, ...]:
    return tuple(m.evidence() for m in ms)


# ---- the rules, by id ----------------------------------------------------------------------------

RULES: dict[str, tuple[Callable[[_Work, Rule], None], type]] = {}


def rule(rule_id: str, params: type = NoParams):
    def register(fn):
        RULES[rule_id] = (fn, params)
        return fn
    return register


@rule("SEQ-001")
def one_primary_per_kind(w: _Work, r: Rule) -> None:
    for kind in dict.fromkeys(_kind(s) for s in w.scope(r)):
        mine = [s for s in w.codes if _kind(s) == kind]
        primaries = [s for s in mine if s.role == "primary"]
        chosen = primaries[0] if primaries else mine[0]
        if chosen is not mine[0]:
            w.move_before(chosen, mine[0])
        if chosen is not mine[0] or len(primaries) != 1:
            w.tag(r, chosen, *primaries[1:])


@rule("SEQ-003", StatedPrimaryParams)
def stated_primary(w: _Work, r: Rule) -> None:
    p: StatedPrimaryParams = r.params
    for kind in dict.fromkeys(_kind(s) for s in w.scope(r)):
        mine = [s for s in w.codes if _kind(s) == kind]
        # how well the primary statement itself matches the code, plus the ranker's confidence:
        # "NSTEMI" names I21.4 better than it names a comorbidity that is often coded with it.
        # A candidate below the suggestion threshold counts when the statement names it plainly:
        # the clinician's statement outranks coded history.
        named = [s for s in w.candidates if _kind(s) == kind and System.parse(s.system) in r.applies_to]
        strength = {id(s): _stated_support(s, p.sections, floor) for floor, pool in ((0.0, mine), (p.min_support, named))
                    for s in pool}
        stated = sorted((s for s in mine + named if strength[id(s)] is not None), key=lambda s: -(strength[id(s)] + s.score))
        if not stated or stated[0] is mine[0]:
            continue
        best = stated[0]
        if any(best is s for s in named):
            w.candidates.remove(best)
            w.codes.insert(w.codes.index(mine[0]), best)
        else:
            w.move_before(best, mine[0])
        w.tag(r, best)
        w.flag(r, p.message, best, other=mine[0].code)


def _stated_support(s: CodeSuggestion, sections: tuple[str, ...], floor: float) -> float | None:
    """How well a present-tense statement in ``sections`` matches ``s`` (its best evidence
    support, at least ``floor``), or None where no such statement supports it."""
    return max((e.support or 0.0 for e in s.evidence
                if e.section in sections and e.assertion == "present" and (e.support or 0.0) >= floor), default=None)


@rule("SEQ-002", SymptomParams)
def symptom_not_primary(w: _Work, r: Rule) -> None:
    p: SymptomParams = r.params
    symptoms, not_definitive = code_refs(" ".join(p.symptoms)), code_refs(" ".join(p.not_definitive))
    for system in {System.parse(s.system) for s in w.scope(r) if _kind(s) == "diagnosis"}:
        mine = [s for s in w.codes if s.system == system.value]
        first = mine[0]
        definitive = [s for s in mine if not in_refs(s.code, not_definitive)]
        if in_refs(first.code, symptoms) and definitive:
            best = max(definitive, key=lambda s: s.score)
            w.move_before(best, first)
            w.tag(r, first, best)
            w.flag(r, p.message, first, codes=(first.code, best.code), other=best.code)


@rule("CON-001", MessageParams)
def excludes1(w: _Work, r: Rule) -> None:
    kept: list[tuple[CodeSuggestion, CodeTable, CodeEntry]] = []
    for s in sorted(w.scope(r), key=lambda s: -s.score):
        table, entry = w.entry(s)
        if entry is None:
            continue
        clash = None
        for k, kt, ke in kept:
            if k.system != s.system or compact(k.code) == compact(s.code):
                continue
            note = next((n for n in _notes(kt, ke, "excludes1") if in_refs(s.code, code_refs(n))), None) \
                or next((n for n in _notes(table, entry, "excludes1") if in_refs(k.code, code_refs(n))), None)
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


@rule("CON-002", CodeFirstParams)
def code_first(w: _Work, r: Rule) -> None:
    for s in w.scope(r):
        table, entry = w.entry(s)
        notes = _notes(table, entry, "code_first") if entry else []
        refs = tuple(ref for n in notes for ref in code_refs(n))
        if not refs:
            continue
        hit = next((o for o in w.codes if o is not s and o.system == s.system and in_refs(o.code, refs)), None)
        if hit is None:
            w.tag(r, s)
            w.flag(r, r.params.missing, s, notes="; ".join(n.strip(" ,:") for n in notes))
        elif w.codes.index(hit) > w.codes.index(s):
            w.move_before(hit, s)
            w.tag(r, s, hit)
            w.flag(r, r.params.reordered, s, codes=(hit.code, s.code), other=hit.code)


@rule("CON-003", MessageParams)
def use_additional(w: _Work, r: Rule) -> None:
    for s in w.scope(r):
        table, entry = w.entry(s)
        if entry is None:
            continue
        wanted = [n for n in _notes(table, entry, "use_additional")
                  if code_refs(n) and not any(in_refs(o.code, code_refs(n)) for o in w.codes if o.system == s.system)]
        if wanted:
            w.tag(r, s)
            w.flag(r, r.params.message, s, notes="; ".join(dict.fromkeys(wanted)))


@rule("CON-004", AxesParams)
def not_selectable(w: _Work, r: Rule) -> None:
    p: AxesParams = r.params
    axes = [w.ruleset.axes[a] for a in p.axes]
    for s in w.scope(r):
        table, entry = w.entry(s)
        if entry is None or table.is_selectable(s.code):
            continue
        support = w.support(s)
        details, asked = [], False
        for axis, by_value in _gaps(axes, entry, table.children(entry.code)):
            found = axis.documented(support)
            if found:
                better = _specific(table, entry, by_value.get(found[0]) or [entry])
                details.append(f" The letter documents {found[0]}: consider {better.code}.")
            else:
                w.query(r, axis.question, s, evidence=_evidence(support), condition=_mention_text(support))
                asked = True
        if not asked:
            w.query(r, p.question, s, evidence=_evidence(support), condition=_mention_text(support))
        w.tag(r, s)
        w.flag(r, p.message, s, details="".join(details))


@rule("DOC-001", AxesParams)
def unspecified(w: _Work, r: Rule) -> None:
    p: AxesParams = r.params
    axes = [w.ruleset.axes[a] for a in p.axes]
    for s in w.scope(r):
        table, entry = w.entry(s)
        if entry is None or "unspecified" not in entry.title.lower():
            continue
        parent = table.parent(entry.code)
        if parent is None:
            continue
        alternatives = [e for e in table.children(parent.code) if e.code != entry.code]
        grand = table.parent(parent.code) if parent.is_code else None
        if grand is not None and grand.kind != "chapter":
            alternatives += [e for e in table.children(grand.code) if e.code != parent.code]
        support = w.support(s)
        for axis, by_value in _gaps(axes, entry, alternatives):
            found = axis.documented(support)
            if found and found[0] not in by_value:
                continue  # documented, but the classification has nothing more specific for it
            if found:
                better = _specific(table, entry, by_value[found[0]])
                w.flag(r, p.message, s, evidence=(found[1].evidence(),), value=found[0], mention=found[1].text,
                       other=f"{better.code} ({better.title})")
            else:
                w.query(r, axis.question, s, evidence=_evidence(support), condition=_mention_text(support))
            w.tag(r, s)


@rule("QRY-001", DefaultParams)
def defaulted_code(w: _Work, r: Rule) -> None:
    p: DefaultParams = r.params
    axis, refs = w.ruleset.axes[p.axis], code_refs(" ".join(p.codes))
    for s in w.scope(r):
        if not in_refs(s.code, refs):
            continue
        support = w.support(s)
        found = axis.documented(support)
        if found is None:
            w.query(r, axis.question, s, evidence=_evidence(support), condition=_mention_text(support))
        elif found[0] != p.expected:
            w.flag(r, p.message, s, evidence=(found[1].evidence(),), value=found[0], mention=found[1].text)
        else:
            continue
        w.tag(r, s)


@rule("QRY-002", QuestionParams)
def uncertain(w: _Work, r: Rule) -> None:
    for s in w.scope(r):
        if _kind(s) != "diagnosis":
            continue
        unsure = [m for m in w.support(s) if m.assertion == "uncertain"]
        if unsure or (s.evidence and all(e.assertion == "uncertain" for e in s.evidence)):
            w.query(r, r.params.question, s, evidence=_evidence(unsure),
                    mention=_mention_text(unsure) or s.evidence[0].text,
                    condition=", ".join(dict.fromkeys(m.text.lstrip("?¿ ") for m in unsure)) or None)
            w.tag(r, s)


@rule("DOC-002", MessageParams)
def no_diagnosis(w: _Work, r: Rule) -> None:
    if any(s.kind == "diagnosis" for s in r.applies_to & set(w.tables)) and \
            not any(_kind(s) == "diagnosis" for s in w.codes):
        w.flag(r, r.params.message)


@rule("DOC-003", MessageParams)
def procedure_not_coded(w: _Work, r: Rule) -> None:
    if not any(s.kind == "procedure" for s in r.applies_to & set(w.tables)):
        return  # no procedure table: the coder already warns that procedures are not coded
    done = [m for m in w.mentions if m.label == "PROCEDURE" and m.coded]
    if done and not any(_kind(s) == "procedure" for s in w.codes):
        w.flag(r, r.params.message, evidence=_evidence(done), mention=_mention_text(done))


@rule("DOC-004", MessageParams)
def not_current(w: _Work, r: Rule) -> None:
    for s in w.scope(r):
        _, entry = w.entry(s)
        if entry is not None and entry.current is False:
            w.tag(r, s)
            w.flag(r, r.params.message, s)


def apply_rules(result: LetterResult, tables: dict[System, CodeTable], mentions: list[Mention], text: str,
                rules: RuleSet | None = None) -> LetterResult:
    """Run the enabled rules, in file order, over one coded letter; a new result comes back
    (a failed record comes back unchanged)."""
    if result.error:
        return result
    ruleset = rules or default_rules()
    w = _Work(result, tables, list(mentions), text, ruleset)
    for r in ruleset.rules:
        if r.enabled:
            RULES[r.id][0](w, r)
    return w.finish()
