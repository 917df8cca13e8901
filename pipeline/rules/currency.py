"""Currency: codes not in current use in the edition's latest activity data (citations in
``rules.yaml``)."""

from __future__ import annotations

from .engine import Work
from .registry import rule
from .schema import MessageParams, Rule


@rule("DOC-004", "currency", MessageParams)
def not_current(w: Work, r: Rule) -> None:
    for s in w.scope(r):
        _, entry = w.entry(s)
        if entry is not None and entry.current is False:
            w.tag(r, s)
            w.flag(r, r.params.message, s)
