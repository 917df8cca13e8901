"""The registry of rule implementations: each rule is a small function registered under its id
(as spaCy registers factories), with the class of its typed parameters and the group of
standards it implements. ``rules.yaml`` names the ids; the loader validates each against this."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

GROUPS = ("sequencing", "conventions", "documentation", "currency", "comorbidities")


@dataclass(frozen=True)
class NoParams:
    pass


@dataclass(frozen=True)
class Registered:
    fn: Callable  # (work: clincoder.rules.engine.Work, rule: clincoder.rules.schema.Rule) -> None
    params: type
    group: str


RULES: dict[str, Registered] = {}


def rule(rule_id: str, group: str, params: type = NoParams):
    """Register the decorated function as the implementation of ``rule_id``."""
    if group not in GROUPS:
        raise ValueError(f"rule {rule_id}: unknown group {group!r}; expected one of {GROUPS}")

    def register(fn):
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id} is registered twice")
        RULES[rule_id] = Registered(fn, params, group)
        return fn
    return register
