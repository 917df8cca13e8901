"""The rules file: its schema and validation. Rules are data (``rules.yaml``: id, kind,
applies_to, citation, description, typed params, plus shared *axes* of specificity), validated on
load against the registered implementations (:mod:`clincoder.rules.registry`)."""

from __future__ import annotations

import functools
import re
import string
from dataclasses import MISSING, dataclass, field, fields
from importlib.resources import files
from pathlib import Path
from typing import get_type_hints

import yaml

from clincoder.core.codes import System
from clincoder.core.config import PROFILES
from clincoder.core.contracts import Mention

from .refs import code_refs
from .registry import RULES, NoParams

KINDS = ("sequencing", "convention", "documentation", "query")
SEVERITIES = ("info", "warning", "error")
ATTRIBUTES = ("laterality", "modifiers", None)
PLACEHOLDERS = {"code", "title", "condition", "mention", "notes", "other", "value", "details", "system"}
_TOP_KEYS = {"version", "axes", "rules"}
_RULE_KEYS = {"id", "kind", "applies_to", "citation", "description", "severity", "enabled", "params"}
_AXIS_KEYS = {"attribute", "values", "question"}


class RulesError(ValueError):
    """A rules file that does not validate; the message names the file, the rule and the fix."""


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


def check_entries(entries: tuple[dict, ...], what: str, required: dict[str, type], optional: dict[str, type]) -> None:
    """Each mapping of a list parameter has the ``required`` keys and no others than ``optional``,
    of the given types; code keys (``code``, ``codes``, ``dagger``, ``asterisk``, ``history``, ``except``) name codes;
    ``words``, ``unless``, ``current_if`` and ``past_if`` are regular expressions."""
    for n, e in enumerate(entries, 1):
        missing, unknown = set(required) - set(e), set(e) - set(required) - set(optional)
        if missing or unknown:
            raise ValueError(f"{what} #{n}: needs {sorted(required)}, may have {sorted(optional)}; "
                             f"missing {sorted(missing)}, unknown {sorted(unknown)}")
        for key, value in e.items():
            kind = {**required, **optional}[key]
            if kind is list and not (isinstance(value, list) and all(x is None or isinstance(x, str) for x in value)):
                raise ValueError(f"{what} #{n}: {key} must be a list")
            if kind is str and not isinstance(value, str):
                raise ValueError(f"{what} #{n}: {key} must be a string")
            if key in ("code", "codes", "dagger", "asterisk", "history", "except"):
                check_codes((value,), f"{what} #{n} {key}")
            if key in ("words", "unless", "current_if", "past_if"):
                try:
                    re.compile(value)
                except re.error as exc:
                    raise ValueError(f"{what} #{n}: {key} is not a valid pattern: {exc}") from None


def check_notes(notes, what: str, words: str | None = None) -> dict[str, tuple[str, ...]]:
    """Notes as data ({code: [note, ...]}, each note naming its codes in brackets, and matching
    ``words`` where given), keyed as rules look codes up (compact: "K56", "E871")."""
    if not isinstance(notes, dict):
        raise ValueError(f"{what} must map a category to a list of notes")
    for key, said in notes.items():
        check_codes([key], what)
        if not isinstance(said, list) or not all(isinstance(n, str) for n in said):
            raise ValueError(f"{what}: {key!r} must map to a list of notes")
        for n in said:
            named = [m.group(1) for m in re.finditer(r"\(([^)]+)\)", n)]
            if not named or (words is not None and not re.search(words, n, re.I)):
                raise ValueError(f"{what} of {key}: {n!r} must name its codes in brackets"
                                 + (" and match words" if words is not None else ""))
            check_codes(named, f"{what} of {key}")
    return {key.replace(".", "").upper(): tuple(said) for key, said in notes.items()}


def check_patterns(patterns, what: str) -> None:
    """Each value of ``patterns`` ({name: regular expression}) compiles; its key names it in the error."""
    for name, pattern in patterns.items():
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{what}: {name!r} has no valid pattern ({exc})") from exc


def check_codes(items: tuple[str, ...], what: str) -> None:
    for item in items:
        if not code_refs(item):
            raise ValueError(f"{what}: {item!r} is not a code or code range (e.g. E11, R00-R99)")


# Parameter classes, one per rule function. str fields are message/question templates.
@dataclass(frozen=True)
class MessageParams:
    message: str


@dataclass(frozen=True)
class QuestionParams:
    question: str


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
            if f.default is MISSING and f.default_factory is MISSING:
                raise RulesError(f"{where}: missing param {f.name!r}")
            continue
        v, t = raw[f.name], hints[f.name]
        if t == tuple[str, ...]:
            v = [v] if isinstance(v, str) else v
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise RulesError(f"{where}: param {f.name!r} must be a list of strings")
            v = tuple(v)
        elif t == tuple[dict, ...]:  # entries validated by the params class (__post_init__)
            if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
                raise RulesError(f"{where}: param {f.name!r} must be a list of mappings")
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
    """Read and validate a rules file (default: the packaged ``clincoder/rules/rules.yaml``)."""
    if path is None:
        source, text = "rules.yaml", (files("clincoder.rules") / "rules.yaml").read_text(encoding="utf-8")
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
        params = _params(RULES[rid].params, raw.get("params"), where)
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
