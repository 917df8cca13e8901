"""What the text stage hands on: :class:`Mention`, and how the coder should weigh it."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from clincoder.schema import ASSERTIONS, Evidence

# family > negated > hypothetical > historical > uncertain > present: when several ConText
# modifiers touch a mention, the first of these that applies is its assertion.
ASSERTION_PRECEDENCE = ("family", "negated", "hypothetical", "historical", "uncertain", "present")

# Mentions with these assertions are not coded as conditions of this episode.
NOT_CODED = frozenset({"negated", "family", "hypothetical"})

# How much a mention in a section counts towards a code (1.0 = a current, documented condition).
# Unknown sections (None: no header, e.g. a narrative letter) count 1.0.
SECTION_WEIGHTS: dict[str | None, float] = {
    None: 1.0, "primary_diagnosis": 1.5, "diagnoses": 1.3, "secondary_diagnoses": 1.2, "working_diagnosis": 1.0,
    "complications": 1.2, "procedures": 1.3, "presenting_complaint": 0.9, "hpc": 1.0, "discharge_summary": 1.0,
    "examination": 0.8, "investigations": 0.7, "past_medical_history": 0.6, "past_surgical_history": 0.5,
    "differential_diagnosis": 0.3, "plan": 0.5, "follow_up": 0.3, "medications": 0.3, "allergies": 0.2,
    "social_history": 0.3, "family_history": 0.0,
}

# And by assertion (a coder may still show the rest as context). Uncertain diagnoses count in
# full: at discharge they are coded as if confirmed (UK national standard and US inpatient
# guideline alike). Historical ones count in full too: chronic comorbidities in the history are
# coded, and in coded history (CodiEsp train) mentions the text stage marks historical carry a
# gold code more often (75%) than present ones (43%); the rules stage still sees the assertion.
ASSERTION_WEIGHTS: dict[str, float] = {"present": 1.0, "historical": 1.0, "uncertain": 1.0, "hypothetical": 0.0,
                                       "negated": 0.0, "family": 0.0}


@dataclass(frozen=True)
class Mention:
    """A clinical mention: ``text == letter[start:end]`` (character offsets into the letter).

    ``label``: DIAGNOSIS | PROCEDURE | FINDING; ``section``: canonical section name or None;
    ``assertion``: present | negated | historical | hypothetical | family | uncertain;
    ``laterality``: left | right | bilateral | None; ``body_site``: as stated, lower case;
    ``modifiers``: code-changing words (``acute``, ``chronic``, ``acute on chronic``, ``type 1``,
    ``type 2``, ``stage 3a``, ``open``, ``closed``); ``expansion``: the long form of an
    abbreviation; ``canonical``: the lexicon phrase (or expansion) the mention matched.
    """

    start: int
    end: int
    text: str
    label: str
    section: str | None = None
    assertion: str = "present"
    laterality: str | None = None
    body_site: str | None = None
    modifiers: tuple[str, ...] = ()
    expansion: str | None = None
    canonical: str = ""

    def __post_init__(self):
        if self.assertion not in ASSERTIONS:
            raise ValueError(f"unknown assertion {self.assertion!r}")

    @property
    def query(self) -> str:
        """Text to look codes up with: the expansion of an abbreviation, else the mention, plus
        the code-changing words and site that the span itself lacks."""
        base = self.expansion or self.text
        low = base.lower()
        extra = [m for m in self.modifiers if m not in low]
        for w in (self.laterality, self.body_site):
            if w and w not in low:
                extra.append(w)
        return " ".join([*extra, base]) if extra else base

    @property
    def weight(self) -> float:
        return SECTION_WEIGHTS.get(self.section, 1.0) * ASSERTION_WEIGHTS[self.assertion]

    @property
    def coded(self) -> bool:
        """Whether the mention may support a code for this episode."""
        return self.assertion not in NOT_CODED and self.section != "family_history"

    def evidence(self) -> Evidence:
        return Evidence(self.start, self.end, self.text, self.section, self.assertion)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["modifiers"] = list(self.modifiers)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Mention":
        return cls(**{**d, "modifiers": tuple(d.get("modifiers", ()))})
