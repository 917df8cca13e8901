"""The rules stage: coding conventions, sequencing, documentation flags and clinician queries.

* :mod:`~clincoder.rules.schema` — the rules file (``rules.yaml``) and its validation;
* :mod:`~clincoder.rules.registry` — rule implementations registered by id;
* :mod:`~clincoder.rules.engine` — :func:`apply_rules` and what rules share;
* the rules, grouped by the standard they implement: :mod:`~clincoder.rules.sequencing`,
  :mod:`~clincoder.rules.conventions`, :mod:`~clincoder.rules.documentation`,
  :mod:`~clincoder.rules.currency`, :mod:`~clincoder.rules.comorbidities`,
  :mod:`~clincoder.rules.specificity`, :mod:`~clincoder.rules.complications`,
  :mod:`~clincoder.rules.procedures` (OPCS-4: supplementary codes, endoscopies, operation notes).

A new rule: a function in its group's module, registered with ``@rule("ID", "group",
ParamsClass)``, an entry in ``rules.yaml`` with its citation, and a test in
``tests/pipeline/rules/``.
"""

from __future__ import annotations

from . import comorbidities, complications, conventions, currency, documentation, procedures, sequencing, specificity, validity  # noqa: F401  (registers the rules)
from .engine import apply_rules
from .refs import code_refs, in_refs
from .registry import GROUPS, RULES, rule
from .schema import Rule, RuleSet, RulesError, default_rules, load_rules

__all__ = ["apply_rules", "code_refs", "in_refs", "GROUPS", "RULES", "rule", "Rule", "RuleSet", "RulesError",
           "default_rules", "load_rules", "describe_rules"]


def describe_rules(ruleset: RuleSet | None = None) -> list[dict]:
    """One row per rule: id, group, kind, profiles or systems, citation, enabled (``clincoder rules``)."""
    ruleset = ruleset or default_rules()
    return [{"id": r.id, "group": RULES[r.id].group, "kind": r.kind,
             "applies_to": sorted(s.value for s in r.applies_to), "citation": list(r.citation), "enabled": r.enabled,
             "description": r.description} for r in ruleset.rules]
