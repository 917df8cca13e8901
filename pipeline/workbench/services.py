"""What the workbench is given by whoever composes it (the CLI): the coder, the code tables and
their search, the rule catalogue, and the review store. The workbench builds none of them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from clincoder.core.schema import LetterResult
from clincoder.core.tables import CodeTable

from .review import RuleNote
from .store import Store

CODE_LIKE = re.compile(r"^[A-Za-z][0-9][0-9A-Za-z.]*$")


class SearchError(ValueError):
    """A code search or look-up that cannot be answered (unknown system, unknown code)."""


@dataclass(frozen=True)
class Services:
    profile: str
    code: Callable[[str, str], LetterResult]  # (letter id, text) -> record
    check: Callable[[str], str | None]  # text -> why it cannot be coded, or None
    tables: dict[str, CodeTable]  # by system value (ICD-10, OPCS-4 / ICD-10-CM, ICD-10-PCS)
    search: Callable[[str, str, int], list[tuple[str, float]]]  # (system, words, k) -> (code, score)
    rules: dict[str, RuleNote]
    store: Store
    max_bytes: int = 1_000_000

    def table(self, system: str) -> CodeTable:
        if system not in self.tables:
            raise SearchError(f"unknown code system {system!r}; this server has {sorted(self.tables)}")
        return self.tables[system]

    def find(self, system: str, query: str, k: int = 10) -> list[dict]:
        """Codes for a coder's words (or a code's first characters), selectable codes only."""
        table = self.table(system)
        query = query.strip()
        if not query:
            return []
        if CODE_LIKE.match(query):
            prefix = query.upper().replace(".", "")
            hits = [(e.code, 1.0) for e in table.entries(selectable_only=True)
                    if e.code.replace(".", "").startswith(prefix)][:k]
        else:
            hits = self.search(system, query, k)
        return [{"system": system, "code": code, "title": table.title(code) or "", "score": round(score, 4)}
                for code, score in hits]

    def lookup(self, system: str, code: str) -> dict:
        """A code's title, hierarchy, validity and tabular notes."""
        table = self.table(system)
        entry = table.get(code)
        if entry is None:
            raise SearchError(f"{code} is not in {table.edition}")
        return {"system": system, "edition": table.edition, "code": entry.code, "title": entry.title,
                "selectable": table.is_selectable(code), "current": entry.current,
                "ancestors": [{"code": a.code, "title": a.title} for a in table.ancestors(code)],
                "children": [{"code": c.code, "title": c.title} for c in table.children(code)],
                "inclusion_terms": list(entry.inclusion_terms), "excludes1": list(entry.excludes1),
                "excludes2": list(entry.excludes2), "code_first": list(entry.code_first),
                "use_additional": list(entry.use_additional)}
