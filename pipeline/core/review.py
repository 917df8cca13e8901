"""What coders decided in the workbench: typed records that cross from the review store to
evaluation and training (which never read the database themselves).

A :class:`ReviewedLetter` is one submitted letter: the record clincoder produced and the coding
the coder submitted, code by code, with where each code came from (``suggested`` by clincoder,
a ``candidate`` from the ranked list, or ``added`` by the coder) and what the coder did with it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .codes import System
from .gold import GoldCode, GoldLetter
from .schema import LetterResult

ORIGINS = ("suggested", "candidate", "added")
STATES = ("pending", "accepted", "rejected")
REJECT_REASONS = (
    "not documented",  # the letter does not support it
    "negated or ruled out",
    "symptom of a coded diagnosis",  # integral sign/symptom
    "history only, not this episode",
    "wrong code (sibling or specificity)",
    "not relevant to this episode",
)


@dataclass(frozen=True)
class ReviewedCode:
    system: str
    code: str
    title: str
    origin: str  # suggested | candidate | added
    state: str  # pending | accepted | rejected
    position: int  # the coder's sequence within its kind (1 = primary / main)
    reason: str = ""  # why it was rejected
    rules: tuple[str, ...] = ()  # rules that touched clincoder's suggestion
    score: float | None = None
    suggested: str | None = None  # the code clincoder suggested for this line (None: added by the coder)

    def __post_init__(self):
        if self.origin not in ORIGINS:
            raise ValueError(f"unknown origin {self.origin!r}; expected one of {ORIGINS}")
        if self.state not in STATES:
            raise ValueError(f"unknown state {self.state!r}; expected one of {STATES}")

    @property
    def kind(self) -> str:
        return System.parse(self.system).kind

    @property
    def decision(self) -> str:
        """What the coder did with clincoder's suggestion: accepted, edited (replaced by another
        code), rejected or pending; ``added`` for codes clincoder did not suggest."""
        if self.origin != "suggested":
            return "added"
        if self.state == "accepted" and self.code != self.suggested:
            return "edited"
        return self.state


@dataclass(frozen=True)
class ReviewedLetter:
    id: str
    text: str
    record: LetterResult
    codes: tuple[ReviewedCode, ...]
    reviewer: str = ""

    def coded(self, kind: str) -> list[ReviewedCode]:
        """The accepted codes of one kind (``diagnosis``/``procedure``) in the coder's sequence."""
        return sorted((c for c in self.codes if c.state == "accepted" and c.kind == kind), key=lambda c: c.position)

    def held_back(self, share: float = 0.25) -> bool:
        """Whether this letter belongs to the part kept back for before/after figures: a stable
        hash of its id, so the split never depends on the order letters were reviewed."""
        digest = int(hashlib.sha256(self.id.encode("utf-8")).hexdigest()[:8], 16)
        return digest / 0xFFFFFFFF < share

    def to_gold(self, share: float = 0.25) -> GoldLetter:
        """The submitted coding as a coder gold letter: accepted codes in sequence, rejected ones
        as must-not-code with the coder's reason; held-back letters are the ``final`` split."""
        def gold(kind):
            return tuple(GoldCode(c.code) for c in self.coded(kind))

        rejected = tuple((c.code, c.reason or "rejected by the coder") for c in self.codes if c.state == "rejected")
        return GoldLetter(self.id, self.text, "", "inpatient", "final" if self.held_back(share) else "dev",
                          gold("diagnosis"), gold("procedure"), rejected, source="workbench decisions")
