"""What the text stage hands on (:class:`~clincoder.core.contracts.Mention`, defined in the
kernel so that every stage can read it) and how it settles a mention's assertion."""

from __future__ import annotations

from clincoder.core.contracts import NOT_CODED, Mention

__all__ = ["ASSERTION_PRECEDENCE", "NOT_CODED", "Mention"]

# family > negated > hypothetical > historical > uncertain > present: when several ConText
# modifiers touch a mention, the first of these that applies is its assertion.
ASSERTION_PRECEDENCE = ("family", "negated", "hypothetical", "historical", "uncertain", "present")
