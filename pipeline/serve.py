"""Composes the workbench (``clincoder serve``): one coder, its tables and their word search, the
rule catalogue and the review store, built once per server process; and the worklist loader."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

from tqdm import tqdm

from .coder import Coder
from .core.schema import read_records
from .io import Letter, check_string, iter_letters
from .workbench.review import RuleNote
from .workbench.services import Services
from .workbench.store import Store

log = logging.getLogger(__name__)


def workbench_services(coder: Coder, store_url: str) -> Services:
    """Everything the workbench app needs, around a built coder and a migrated store."""
    from clincoder.models.lexical import lexical_index

    tables = {s.value: t for s, t in coder.tables.by_system.items()}
    max_bytes = coder.settings.max_bytes

    def search(system: str, words: str, k: int) -> list[tuple[str, float]]:
        return lexical_index(tables[system], curated=True).search([words], top_k=k)[0]

    def code(letter_id: str, text: str):
        return coder.code(Letter(id=letter_id, text=text, source="<api>"))

    catalogue = {r.id: RuleNote(r.id, r.kind, "; ".join(r.citation)) for r in coder.rules.rules}
    return Services(profile=coder.settings.profile.name, code=code, check=lambda text: check_string(text, max_bytes)[1],
                    tables=tables, search=search, rules=catalogue, store=Store(store_url).migrate(),
                    max_bytes=max_bytes)


def load_worklist(services: Services, inputs: Iterable[str | Path], records: str | Path | None = None,
                  batch: str = "default", max_bytes: int = 1_000_000, progress: bool = True) -> tuple[int, int]:
    """Put letters in the worklist: with their records from a ``clincoder code`` JSONL where it
    has them, else coded now. Letters that cannot be read or coded are skipped with a warning
    (by id). Returns (added, skipped)."""
    known = {r.id: r for r in read_records(records)} if records else {}
    added = skipped = 0
    for letter in tqdm(list(iter_letters(inputs, max_bytes)), desc="worklist", unit="letter", disable=not progress):
        record = known.get(letter.id)
        if record is None and not letter.error:
            record = services.code(letter.id, letter.text)
        if letter.error or record.error:
            log.warning("letter %s not loaded: %s", letter.id, letter.error or record.error)
            skipped += 1
            continue
        added += services.store.add_letters([(letter.text, record)], batch)
    return added, skipped
