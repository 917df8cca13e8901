"""The output model: one typed, versioned record per letter.

Everything crossing a stage boundary is one of these frozen dataclasses. They hold character
offsets (never spaCy objects) so results serialise, compare and round-trip cleanly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

import orjson

from .codes import System

SCHEMA_VERSION = "1.1"  # 1.1: CodeSuggestion.suggest

ASSERTIONS = ("present", "negated", "historical", "hypothetical", "family", "uncertain")
NOT_CODED = frozenset({"negated", "family", "hypothetical"})  # assertions a coder never codes
# assertions that state a condition: what the letter states, and what it states as probable (an
# uncertain diagnosis that stays the final diagnostic statement is coded as if confirmed: National
# Clinical Coding Standards ICD-10 5th Edition)
STATED = frozenset({"present", "uncertain"})
ROLES = ("primary", "secondary", "candidate")

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def plain(value: Any) -> Any:
    """``dataclasses.asdict`` for these records (dataclasses, tuples, lists, dicts of plain
    values), without its deep copies: about ten times faster on a letter's few hundred codes."""
    if value is None or isinstance(value, (str, int, float)):  # bool is an int
        return value
    kind = type(value)
    names = _FIELD_NAMES.get(kind)
    if names is None and is_dataclass(value):
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(value))
    if names is not None:
        return {n: plain(getattr(value, n)) for n in names}
    if kind in (tuple, list):
        return kind(plain(v) for v in value)
    if kind is dict:
        return {k: plain(v) for k, v in value.items()}
    raise TypeError(f"cannot serialise a {kind.__name__} in a letter result")


@dataclass(frozen=True)
class Evidence:
    """Where in the letter a code comes from: ``text == letter[start:end]``."""

    start: int
    end: int
    text: str
    section: str | None = None
    assertion: str = "present"
    support: float | None = None  # how well this passage matches the code (ranker, 0-1); None if not ranked

    def __post_init__(self):
        if not (0 <= self.start <= self.end):
            raise ValueError(f"bad evidence offsets {self.start}..{self.end}")
        if self.assertion not in ASSERTIONS:
            raise ValueError(f"unknown assertion {self.assertion!r}; expected one of {ASSERTIONS}")


def not_coded_only(evidence: "tuple[Evidence, ...]") -> bool:
    """Whether every passage of ``evidence`` (at least one) asserts what it names negated, of the
    family or hypothetical: such a code stays in the ranked list and is never suggested."""
    return bool(evidence) and all(e.assertion in NOT_CODED for e in evidence)


def likelihood(suggest: float | None, score: float) -> float:
    """How likely a coder assigns a code: the suggester's probability, else the ranker's score."""
    return suggest if suggest is not None else score


@dataclass(frozen=True)
class CodeSuggestion:
    system: str  # a clincoder.core.codes.System value
    code: str  # canonical display form (``I21.4``, ``W37.1``, ``0DTJ4ZZ``)
    title: str
    rank: int  # 1-based, within the letter, over all systems
    role: str  # primary | secondary | candidate (ranked, below the suggestion threshold)
    score: float  # the ranker's confidence in [0, 1]: the order of the ranked list
    evidence: tuple[Evidence, ...] = ()
    rules: tuple[str, ...] = ()  # ids of the coding rules that touched this suggestion
    suggest: float | None = None  # where the profile has a suggester: the probability a coder assigns it

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; expected one of {ROLES}")

    @property
    def kind(self) -> str:
        """``diagnosis`` or ``procedure``, from the code's system."""
        return System.parse(self.system).kind

    @property
    def likelihood(self) -> float:
        """How likely a coder assigns it (:func:`likelihood`)."""
        return likelihood(self.suggest, self.score)


@dataclass(frozen=True)
class Flag:
    """A documentation or coding issue found in the letter (missing, vague, conflicting)."""

    rule: str
    message: str
    severity: str = "warning"  # info | warning | error
    codes: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Query:
    """A question for the clinician that would let the episode be coded fully."""

    rule: str
    question: str
    codes: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class LetterResult:
    id: str
    profile: str
    editions: dict[str, str] = field(default_factory=dict)  # system -> edition actually used
    model: dict[str, str] = field(default_factory=dict)  # name, version, hash
    codes: tuple[CodeSuggestion, ...] = ()  # suggested codes, best first
    candidates: tuple[CodeSuggestion, ...] = ()  # the rest of the ranked list (kept for MAP/review)
    flags: tuple[Flag, ...] = ()
    queries: tuple[Query, ...] = ()
    warnings: tuple[str, ...] = ()
    error: str | None = None
    schema_version: str = SCHEMA_VERSION

    # -- serialisation ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return plain(self)

    def to_json(self) -> str:
        """One compact JSON line. orjson writes these records straight from the dataclasses, the
        same document as ``json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))``
        about five times faster (a letter's few hundred ranked codes: 1.6 against 8 ms); text it
        refuses (a lone surrogate) is written by ``json``."""
        try:
            return orjson.dumps(self).decode()
        except orjson.JSONEncodeError:
            return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "LetterResult":
        def ev(items):
            return tuple(Evidence(**e) for e in items or ())

        def sugg(items):
            return tuple(CodeSuggestion(**{**c, "evidence": ev(c.get("evidence")), "rules": tuple(c.get("rules") or ())})
                         for c in items or ())

        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown fields in record {d.get('id')!r}: {sorted(unknown)}")
        return cls(**{
            **d,
            "codes": sugg(d.get("codes")),
            "candidates": sugg(d.get("candidates")),
            "flags": tuple(Flag(**{**f, "codes": tuple(f.get("codes") or ()), "evidence": ev(f.get("evidence"))})
                           for f in d.get("flags") or ()),
            "queries": tuple(Query(**{**q, "codes": tuple(q.get("codes") or ()), "evidence": ev(q.get("evidence"))})
                             for q in d.get("queries") or ()),
            "warnings": tuple(d.get("warnings") or ()),
        })

    @classmethod
    def from_json(cls, line: str) -> "LetterResult":
        return cls.from_dict(json.loads(line))

    @classmethod
    def failed(cls, id: str, profile: str, error: str, **kw) -> "LetterResult":
        return cls(id=id, profile=profile, error=error, **kw)

    def ranked(self) -> tuple[CodeSuggestion, ...]:
        """Suggested codes then candidates: the full ranked list."""
        return self.codes + self.candidates

    def with_(self, **changes) -> "LetterResult":
        return replace(self, **changes)


def read_records(path: str | Path) -> list[LetterResult]:
    """The records of a ``clincoder code`` JSONL file (blank lines skipped)."""
    with Path(path).open(encoding="utf-8") as fh:
        return [LetterResult.from_json(line) for line in fh if line.strip()]
