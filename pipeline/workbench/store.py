"""The review store: letters to review, the codes a coder decides on, draft queries and an audit
trail of every change (who, when, what, from what).

SQLite by default (a file), PostgreSQL by URL (``postgresql+psycopg://...``); the schema is built
and upgraded by Alembic migrations (``migrations/``). Every action commits at once, so nothing is
lost if the server stops mid-review.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.resources import files
from typing import Iterable

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text, create_engine, event, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from clincoder.core.codes import System
from clincoder.core.review import REJECT_REASONS, ReviewedCode, ReviewedLetter
from clincoder.core.schema import LetterResult

STATUSES = ("todo", "in_review", "queried", "done")


class ReviewError(ValueError):
    """An action the store cannot take (unknown letter or code, bad reason, letter already
    submitted); the message says what to do."""


class Base(DeclarativeBase):
    pass


class LetterRow(Base):
    __tablename__ = "letters"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    batch: Mapped[str] = mapped_column(String(200), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    record: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    reviewer: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CodeRow(Base):
    __tablename__ = "codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    letter_id: Mapped[str] = mapped_column(String(200), ForeignKey("letters.id", ondelete="CASCADE"), index=True)
    system: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(20))
    suggested_code: Mapped[str | None] = mapped_column(String(20))  # what clincoder suggested (None: added)
    title: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)
    rules: Mapped[str] = mapped_column(Text)

    @property
    def kind(self) -> str:
        return System.parse(self.system).kind

    def snapshot(self) -> dict:
        return {"system": self.system, "code": self.code, "state": self.state, "reason": self.reason,
                "position": self.position}


class QueryRow(Base):
    __tablename__ = "queries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    letter_id: Mapped[str] = mapped_column(String(200), ForeignKey("letters.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(40))
    question: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20))  # draft | sent


class EventRow(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    letter_id: Mapped[str] = mapped_column(String(200), ForeignKey("letters.id", ondelete="CASCADE"), index=True)
    user: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    action: Mapped[str] = mapped_column(String(40))
    code: Mapped[str | None] = mapped_column(String(20))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class Progress:
    todo: int
    in_review: int
    queried: int
    done: int

    @property
    def total(self) -> int:
        return self.todo + self.in_review + self.queried + self.done


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _json(value) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _sqlite_foreign_keys(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def engine_for(url: str):
    """An engine for ``url``: a plain file path is taken as a SQLite file."""
    if "://" not in url:
        url = f"sqlite:///{url}"
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_foreign_keys)
    return engine


class Store:
    """The review store behind the workbench; one per server process."""

    def __init__(self, url: str):
        self.url = url
        self.engine = engine_for(url)

    def migrate(self) -> "Store":
        """Create or upgrade the schema to the latest migration."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(files("clincoder.workbench") / "migrations"))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        return self

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # -- loading ------------------------------------------------------------------------------
    def add_letters(self, letters: Iterable[tuple[str, LetterResult]], batch: str, user: str = "system") -> int:
        """Load coded letters (text, record) for review; a letter already in the store is kept as
        it is (its decisions are never overwritten). Returns how many were added."""
        added = 0
        with self.session() as s, s.begin():
            seq = s.scalar(select(func.coalesce(func.max(LetterRow.seq), 0)))
            for text, record in letters:
                if s.get(LetterRow, record.id) is not None:
                    continue
                seq += 1
                added += 1
                self._add_letter(s, seq, batch, text, record, user)
        return added

    def _add_letter(self, s: Session, seq: int, batch: str, text: str, record: LetterResult, user: str) -> None:
        s.add(LetterRow(id=record.id, batch=batch, seq=seq, text=text, record=record.to_json(), status="todo",
                        reviewer=None, updated_at=_now()))
        s.flush()
        positions: dict[str, int] = {}
        for c in record.codes:
            kind = System.parse(c.system).kind
            positions[kind] = positions.get(kind, 0) + 1
            s.add(CodeRow(letter_id=record.id, system=c.system, code=c.code, suggested_code=c.code, title=c.title,
                          origin="suggested",
                          state="pending", reason="", position=positions[kind], score=c.score,
                          rules=_json(list(c.rules))))
        for q in record.queries:
            s.add(QueryRow(letter_id=record.id, rule=q.rule, question=q.question, state="draft"))
        s.add(EventRow(letter_id=record.id, user=user, at=_now(), action="load", code=None, before=None,
                       after=_json({"batch": batch, "suggested": [c.code for c in record.codes]})))

    # -- reading ------------------------------------------------------------------------------
    def progress(self, batch: str | None = None) -> Progress:
        with self.session() as s:
            q = select(LetterRow.status, func.count()).group_by(LetterRow.status)
            if batch:
                q = q.where(LetterRow.batch == batch)
            counts = dict(s.execute(q).all())
        return Progress(*(counts.get(k, 0) for k in STATUSES))

    def letters(self, batch: str | None = None) -> list[LetterRow]:
        with self.session() as s:
            q = select(LetterRow).order_by(LetterRow.seq)
            return list(s.scalars(q.where(LetterRow.batch == batch) if batch else q))

    def next_letter(self, user: str) -> str | None:
        """The letter this coder left in review, else the first one nobody has started."""
        with self.session() as s:
            mine = s.scalar(select(LetterRow.id).where(LetterRow.status == "in_review", LetterRow.reviewer == user)
                            .order_by(LetterRow.seq))
            return mine or s.scalar(select(LetterRow.id).where(LetterRow.status == "todo").order_by(LetterRow.seq))

    def letter(self, letter_id: str) -> LetterRow:
        with self.session() as s:
            row = s.get(LetterRow, letter_id)
        if row is None:
            raise ReviewError(f"no letter {letter_id!r} in the review store; load it first")
        return row

    def codes(self, letter_id: str) -> list[CodeRow]:
        with self.session() as s:
            rows = s.scalars(select(CodeRow).where(CodeRow.letter_id == letter_id))
            return sorted(rows, key=lambda c: (c.kind != "diagnosis", c.state == "rejected", c.position, c.id))

    def queries(self, letter_id: str) -> list[QueryRow]:
        with self.session() as s:
            return list(s.scalars(select(QueryRow).where(QueryRow.letter_id == letter_id).order_by(QueryRow.id)))

    def events(self, letter_id: str) -> list[EventRow]:
        with self.session() as s:
            return list(s.scalars(select(EventRow).where(EventRow.letter_id == letter_id).order_by(EventRow.id)))

    # -- decisions (each one transaction with its audit event) --------------------------------
    def _open(self, s: Session, letter_id: str, user: str) -> LetterRow:
        row = s.get(LetterRow, letter_id)
        if row is None:
            raise ReviewError(f"no letter {letter_id!r} in the review store; load it first")
        if row.status == "done":
            raise ReviewError(f"letter {letter_id!r} is already submitted; reopen it to change its coding")
        if row.status == "todo":
            row.status = "in_review"
        row.reviewer, row.updated_at = user, _now()
        return row

    @staticmethod
    def _code(s: Session, letter_id: str, code_id: int) -> CodeRow:
        row = s.get(CodeRow, code_id)
        if row is None or row.letter_id != letter_id:
            raise ReviewError(f"letter {letter_id!r} has no code #{code_id}")
        return row

    @staticmethod
    def _log(s: Session, letter_id: str, user: str, action: str, code: str | None = None, before=None,
             after=None) -> None:
        s.add(EventRow(letter_id=letter_id, user=user, at=_now(), action=action, code=code, before=_json(before),
                       after=_json(after)))

    def _decide(self, letter_id: str, code_id: int, user: str, action: str, **changes) -> None:
        with self.session() as s, s.begin():
            self._open(s, letter_id, user)
            row = self._code(s, letter_id, code_id)
            before = row.snapshot()
            for key, value in changes.items():
                setattr(row, key, value)
            self._log(s, letter_id, user, action, row.code, before, row.snapshot())

    def accept(self, letter_id: str, code_id: int, user: str) -> None:
        self._decide(letter_id, code_id, user, "accept", state="accepted", reason="")

    def reject(self, letter_id: str, code_id: int, reason: str, user: str) -> None:
        if reason not in REJECT_REASONS:
            raise ReviewError(f"unknown reason {reason!r}; choose one of {list(REJECT_REASONS)}")
        self._decide(letter_id, code_id, user, "reject", state="rejected", reason=reason)

    def edit(self, letter_id: str, code_id: int, code: str, title: str, user: str) -> None:
        """Replace a code by another of the same classification (a sibling, a more specific code)."""
        self._decide(letter_id, code_id, user, "edit", code=code, title=title, state="accepted", reason="")

    def add(self, letter_id: str, system: str, code: str, title: str, user: str, origin: str = "added") -> int:
        """Add a code the coder assigns, at the end of its kind's sequence; returns its id. A
        diagnosis already in the coding is refused (a procedure code may repeat)."""
        kind = System.parse(system).kind
        with self.session() as s, s.begin():
            self._open(s, letter_id, user)
            active = [c for c in s.scalars(select(CodeRow).where(CodeRow.letter_id == letter_id)) if c.kind == kind]
            # a diagnosis is coded once; an OPCS-4 supplementary code may follow several procedures
            if kind == "diagnosis" and any(c.code == code and c.state != "rejected" for c in active):
                raise ReviewError(f"{code} is already in the coding of letter {letter_id!r}")
            row = CodeRow(letter_id=letter_id, system=system, code=code, suggested_code=None, title=title, origin=origin,
                          state="accepted", reason="", position=max((c.position for c in active), default=0) + 1,
                          score=None, rules=_json([]))
            s.add(row)
            s.flush()
            self._log(s, letter_id, user, "add", code, None, row.snapshot())
            return row.id

    def move(self, letter_id: str, code_id: int, delta: int, user: str) -> None:
        """Move a code up (``delta`` -1) or down (+1) in its kind's sequence; position 1 is the
        primary diagnosis or main procedure."""
        with self.session() as s, s.begin():
            self._open(s, letter_id, user)
            row = self._code(s, letter_id, code_id)
            order = sorted((c for c in s.scalars(select(CodeRow).where(CodeRow.letter_id == letter_id))
                            if c.kind == row.kind and c.state != "rejected"), key=lambda c: (c.position, c.id))
            i = order.index(row)
            j = min(max(i + delta, 0), len(order) - 1)
            order.insert(j, order.pop(i))
            before = [c.code for c in sorted(order, key=lambda c: (c.position, c.id))]
            for n, c in enumerate(order, 1):
                c.position = n
            self._log(s, letter_id, user, "reorder", row.code, before, [c.code for c in order])

    def reorder(self, letter_id: str, code_ids: list[int], user: str) -> None:
        """Put codes of one kind in the given sequence (the first is the primary diagnosis or main
        procedure); codes of that kind not listed keep their order after them."""
        with self.session() as s, s.begin():
            self._open(s, letter_id, user)
            rows = [self._code(s, letter_id, i) for i in code_ids]
            if len({r.kind for r in rows}) > 1:
                raise ReviewError("reorder codes of one kind at a time (diagnoses or procedures)")
            if not rows:
                return
            rest = sorted((c for c in s.scalars(select(CodeRow).where(CodeRow.letter_id == letter_id))
                           if c.kind == rows[0].kind and c.state != "rejected" and c not in rows),
                          key=lambda c: (c.position, c.id))
            before = [c.code for c in sorted(rows + rest, key=lambda c: (c.position, c.id))]
            for n, c in enumerate(rows + rest, 1):
                c.position = n
            self._log(s, letter_id, user, "reorder", rows[0].code, before, [c.code for c in rows + rest])

    def send_query(self, letter_id: str, query_id: int | None, question: str, user: str) -> None:
        """Send a draft query (edited) or a new one to the clinician; the letter waits as ``queried``."""
        question = question.strip()
        if not question:
            raise ReviewError("a query needs a question")
        with self.session() as s, s.begin():
            letter = self._open(s, letter_id, user)
            if query_id is None:
                row = QueryRow(letter_id=letter_id, rule="CODER", question=question, state="sent")
                s.add(row)
                before = None
            else:
                row = s.get(QueryRow, query_id)
                if row is None or row.letter_id != letter_id:
                    raise ReviewError(f"letter {letter_id!r} has no query #{query_id}")
                before = {"question": row.question, "state": row.state}
                row.question, row.state = question, "sent"
            letter.status = "queried"
            self._log(s, letter_id, user, "query", None, before, {"question": question, "state": "sent"})

    def submit(self, letter_id: str, user: str) -> None:
        """Finish the letter: codes still pending are accepted as they stand, in sequence."""
        with self.session() as s, s.begin():
            letter = self._open(s, letter_id, user)
            for row in s.scalars(select(CodeRow).where(CodeRow.letter_id == letter_id, CodeRow.state == "pending")):
                before = row.snapshot()
                row.state = "accepted"
                self._log(s, letter_id, user, "accept", row.code, before, row.snapshot())
            letter.status = "done"
            self._log(s, letter_id, user, "submit", None, None, {"status": "done"})

    def reopen(self, letter_id: str, user: str) -> None:
        with self.session() as s, s.begin():
            letter = s.get(LetterRow, letter_id)
            if letter is None or letter.status != "done":
                raise ReviewError(f"letter {letter_id!r} is not submitted; there is nothing to reopen")
            letter.status, letter.reviewer, letter.updated_at = "in_review", user, _now()
            self._log(s, letter_id, user, "reopen", None, {"status": "done"}, {"status": "in_review"})

    # -- what coders decided ------------------------------------------------------------------
    def reviewed(self, batch: str | None = None) -> list[ReviewedLetter]:
        """Every submitted letter with its decisions, for evaluation and refitting."""
        out = []
        for letter in self.letters(batch):
            if letter.status != "done":
                continue
            codes = tuple(ReviewedCode(c.system, c.code, c.title, c.origin, c.state, c.position, c.reason,
                                       tuple(json.loads(c.rules)), c.score, c.suggested_code)
                          for c in self.codes(letter.id))
            out.append(ReviewedLetter(letter.id, letter.text, LetterResult.from_json(letter.record), codes,
                                      letter.reviewer or ""))
        return out
