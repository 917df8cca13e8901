"""Coding a hospital already has, as decisions: a coder gold set (the coding of letters, in
sequence) is replayed against clincoder's records through the review store, as a coder would
have reviewed them: suggestions the coding keeps are accepted, a suggestion in the right category
with the wrong 4th character is edited to the coded code, the rest are rejected, codes clincoder
did not suggest are added, everything is put in the coding's sequence and the letter submitted.
The feedback loop (``clincoder eval/train-uk --decisions``) can then start from existing coding."""

from __future__ import annotations

from typing import Sequence

from clincoder.core.codes import System
from clincoder.core.gold import GoldCode, GoldLetter, code_at
from clincoder.core.schema import LetterResult

from .store import CodeRow, Store

IMPORTER = "import"


def _match(row: CodeRow, slots: Sequence[GoldCode], level: int) -> GoldCode | None:
    return next((g for g in slots if code_at(row.code, level) in g.keys(level)), None)


def _review_kind(store: Store, record: LetterResult, slots: Sequence[GoldCode], system: str, tables: dict) -> None:
    letter_id, kind = record.id, System.parse(system).kind
    ranked = {c.code for c in record.ranked() if c.system == system}
    rows = [r for r in store.codes(letter_id) if r.kind == kind]
    placed: dict[int, int] = {}  # gold slot index -> code row id
    for row in rows:
        exact = _match(row, slots, 4)
        near = exact or _match(row, slots, 3)
        slot = slots.index(near) if near else None
        if near is None or slot in placed:
            store.reject(letter_id, row.id, "not documented", IMPORTER)
            continue
        if exact is None:  # the right category, another code: the coder changes it
            entry = tables[system].get(near.code)
            store.edit(letter_id, row.id, near.code, entry.title if entry else near.code, IMPORTER)
        else:
            store.accept(letter_id, row.id, IMPORTER)
        placed[slot] = row.id
    kept = {r.code for r in store.codes(letter_id) if r.kind == kind and r.state != "rejected"}
    for n, g in enumerate(slots):
        if n not in placed and not (kind == "diagnosis" and g.code in kept):  # a slot another one's code fills
            entry = tables[system].get(g.code)
            placed[n] = store.add(letter_id, system, g.code, entry.title if entry else g.code, IMPORTER,
                                  origin="candidate" if g.code in ranked else "added")
    store.reorder(letter_id, [placed[n] for n in range(len(slots)) if n in placed], IMPORTER)


def import_coding(store: Store, gold: Sequence[GoldLetter], records: dict[str, LetterResult], tables: dict,
                  systems: tuple[str, str], batch: str = "imported") -> int:
    """Replay each gold letter that has a record; returns how many letters were submitted."""
    done = 0
    for g in gold:
        record = records.get(g.id)
        if record is None or record.error:
            continue
        store.add_letters([(g.text, record)], batch, user=IMPORTER)
        for slots, system in ((g.diagnoses, systems[0]), (g.procedures, systems[1])):
            _review_kind(store, record, slots, system, tables)
        store.submit(g.id, IMPORTER)
        done += 1
    return done
