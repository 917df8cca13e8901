"""The review store, on SQLite and on a real PostgreSQL server: every decision is kept with its
audit event, survives a restart, and reads back as what the coder submitted."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import inspect

from clincoder.workbench.store import Base, ReviewError, Store


@pytest.fixture
def store(store_url, record, letter_text) -> Store:
    s = Store(store_url).migrate()
    assert s.add_letters([(letter_text, record)], batch="b1") == 1
    return s


def _ids(store) -> dict[str, int]:
    return {c.code: c.id for c in store.codes("L1")}


def test_migrations_build_the_schema_the_models_describe(store_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = Store(store_url).migrate().migrate()  # twice: upgrading an up-to-date store is a no-op
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert {"letters", "codes", "queries", "events", "alembic_version"} <= set(inspect(conn).get_table_names())


def test_loading_keeps_the_suggestions_in_sequence_and_never_overwrites(store, record, letter_text):
    codes = store.codes("L1")
    assert [(c.code, c.origin, c.state, c.position) for c in codes] == [
        ("I21.4", "suggested", "pending", 1), ("I10", "suggested", "pending", 2), ("K75.1", "suggested", "pending", 1)]
    store.accept("L1", codes[0].id, "ann")
    assert store.add_letters([(letter_text, record)], batch="b2") == 0  # already there: decisions kept
    assert store.codes("L1")[0].state == "accepted"
    assert [q.question for q in store.queries("L1")] == ["Please state the type of the myocardial infarction."]


def test_a_review_from_first_decision_to_submission(store):
    ids = _ids(store)
    assert store.next_letter("ann") == "L1"
    store.reject("L1", ids["I10"], "not documented", "ann")
    added = store.add("L1", "ICD-10", "E11.9", "Type 2 diabetes mellitus without complications", "ann")
    store.move("L1", added, -1, "ann")
    store.edit("L1", ids["I21.4"], "I21.9", "Acute myocardial infarction, unspecified", "ann")
    query = store.queries("L1")[0]
    store.send_query("L1", query.id, "Was this an NSTEMI?", "ann")
    assert store.progress().queried == 1
    store.submit("L1", "ann")
    (letter,) = store.reviewed()
    assert [(c.code, c.position) for c in letter.coded("diagnosis")] == [("E11.9", 1), ("I21.9", 2)]
    assert [c.code for c in letter.coded("procedure")] == ["K75.1"]  # pending at submission: accepted
    gold = letter.to_gold()
    assert [g.code for g in gold.diagnoses] == ["E11.9", "I21.9"]
    assert gold.must_not_code == (("I10", "not documented"),)
    actions = [(e.user, e.action, e.code) for e in store.events("L1")]
    assert actions == [("system", "load", None), ("ann", "reject", "I10"), ("ann", "add", "E11.9"),
                       ("ann", "reorder", "E11.9"), ("ann", "edit", "I21.9"), ("ann", "query", None),
                       ("ann", "accept", "K75.1"), ("ann", "submit", None)]
    edit = next(e for e in store.events("L1") if e.action == "edit")
    assert json.loads(edit.before)["code"] == "I21.4" and json.loads(edit.after)["code"] == "I21.9"
    assert store.progress().done == 1 and store.next_letter("bob") is None


def test_decisions_survive_a_restart(store, store_url):
    store.reject("L1", _ids(store)["I10"], "symptom of a coded diagnosis", "ann")
    store.engine.dispose()  # the server stops mid-review
    again = Store(store_url).migrate()
    assert {c.code: c.state for c in again.codes("L1")}["I10"] == "rejected"
    assert again.next_letter("ann") == "L1"  # ann picks up where she left off
    assert again.next_letter("bob") is None  # nobody else takes her letter


@pytest.mark.parametrize("action, message", [
    (lambda s, ids: s.reject("L1", ids["I10"], "because", "ann"), "unknown reason"),
    (lambda s, ids: s.accept("L1", 99999, "ann"), "has no code #99999"),
    (lambda s, ids: s.accept("nope", ids["I10"], "ann"), "no letter 'nope'"),
    (lambda s, ids: s.add("L1", "ICD-10", "I10", "Essential (primary) hypertension", "ann"), "already in the coding"),
    (lambda s, ids: s.send_query("L1", None, "  ", "ann"), "needs a question"),
    (lambda s, ids: s.reopen("L1", "ann"), "not submitted"),
])
def test_bad_actions_are_refused_with_a_reason_and_change_nothing(store, action, message):
    before = [(c.code, c.state, c.position) for c in store.codes("L1")]
    events = len(store.events("L1"))
    with pytest.raises(ReviewError, match=message):
        action(store, _ids(store))
    assert [(c.code, c.state, c.position) for c in store.codes("L1")] == before
    assert len(store.events("L1")) == events


def test_a_submitted_letter_changes_only_after_reopening(store):
    store.submit("L1", "ann")
    with pytest.raises(ReviewError, match="reopen it"):
        store.accept("L1", _ids(store)["I10"], "ann")
    store.reopen("L1", "bob")
    store.reject("L1", _ids(store)["I10"], "not documented", "bob")
    assert store.progress().in_review == 1 and store.reviewed() == []
