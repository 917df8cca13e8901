"""The review page's view of a letter: segments carrying the codes their passage supports."""

from __future__ import annotations

from clincoder.workbench.review import code_views, segments
from clincoder.workbench.store import Store


def test_segments_rebuild_the_letter_and_mark_each_codes_evidence(tmp_path, record, letter_text):
    store = Store(str(tmp_path / "r.sqlite")).migrate()
    store.add_letters([(letter_text, record)], "b")
    rows = store.codes("L1")
    views = code_views(rows, record, {})
    segs = segments(letter_text, views)
    assert "".join(s.text for s in segs) == letter_text
    marked = {s.text: s.codes for s in segs if s.codes}
    ids = {r.code: r.id for r in rows}
    assert marked == {"NSTEMI": (ids["I21.4"],), "Essential hypertension": (ids["I10"],), "PCI to LAD": (ids["K75.1"],)}
    assert [n.id for n in views[0].rules] == ["SEQ-001"]

    store.reject("L1", ids["I10"], "not documented", "ann")  # a rejected code's evidence is no longer marked
    views = code_views(store.codes("L1"), record, {})
    assert "Essential hypertension" not in {s.text for s in segments(letter_text, views) if s.codes}
