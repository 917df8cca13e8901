"""Existing coding replayed as a coder's decisions on clincoder's suggestions, then read back."""

from __future__ import annotations

from clincoder.core.gold import GoldCode, GoldLetter
from clincoder.core.tables import load_who_icd10
from clincoder.workbench.replay import import_coding
from clincoder.workbench.store import Store


def test_existing_coding_becomes_accepted_edited_rejected_and_added_codes(tmp_path, record, letter_text):
    gold = GoldLetter("L1", letter_text, "cardiology", "inpatient", "dev",
                      diagnoses=(GoldCode("E11.9"), GoldCode("I21.9")),  # I21.4 -> I21.9: edited; E11.9 added
                      procedures=(GoldCode("K75.1"), GoldCode("Y79.5")))
    store = Store(str(tmp_path / "r.sqlite")).migrate()
    who = load_who_icd10()
    assert import_coding(store, [gold], {"L1": record}, {"ICD-10": who, "OPCS-4": who},
                         ("ICD-10", "OPCS-4")) == 1
    (letter,) = store.reviewed()
    assert [(c.code, c.decision) for c in letter.coded("diagnosis")] == [("E11.9", "added"), ("I21.9", "edited")]
    assert [(c.code, c.decision) for c in letter.coded("procedure")] == [("K75.1", "accepted"), ("Y79.5", "added")]
    assert [c.code for c in letter.codes if c.state == "rejected"] == ["I10"]
    assert letter.to_gold().diagnoses == tuple(GoldCode(c) for c in ("E11.9", "I21.9"))
