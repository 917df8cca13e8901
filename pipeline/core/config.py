"""One typed configuration tree: profile, tables, input limits, the coder, the ranker's constants
and the text stage's weights. Defaults live here, in code; a YAML file passed as ``--config``
overrides any of them (every key optional)::

    tables:                       # user-supplied NHS England releases (else the environment)
      opcs4: /data/trud/OPCS4.10.tsv
      icd10_uk: /data/trud/ICD10_5th_Edition.tsv
    max_bytes: 1000000            # larger letters become error records
    encoding: utf-8
    coder:    {max_candidates: 200, max_evidence: 5, evidence_ratio: 0.5, definitive_share: 0.5,
               main_procedure_floor: 0.03, ranker: null}
    ranker:   {top_lex: 10, top_dense: 10, top_clf: 150, lex_floor: 0.1, dense_floor: 0.3}
    text:
      section_weights: {primary_diagnosis: 1.5, family_history: 0.0}   # merged over the defaults
      assertion_weights: {historical: 1.0}

Precedence for table paths: explicit argument > config file > environment (``CLINCODER_OPCS4``,
``CLINCODER_ICD10_UK``). The constants that change a score (``coder``, ``ranker``, ``text``)
are recorded in the model card of a ranker trained with them and hashed into every output
record's provenance (:meth:`Settings.scoring_constants`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, get_type_hints

import yaml

from .codes import System

ENV_TABLES = {"opcs4": "CLINCODER_OPCS4", "icd10_uk": "CLINCODER_ICD10_UK"}
DEFAULT_RANKER = "ranker-us"  # the ranker shipped in clincoder.models' artifacts


@dataclass(frozen=True)
class Profile:
    name: str
    diagnosis: System
    procedure: System
    description: str
    suggester: str | None = None  # folder (in clincoder.models' artifacts) of what a coder is offered; None: the ranker's threshold
    # the encoder's runtime: int8 keeps CodiEsp dev MAP within 0.002 at 4x the speed; the uk suggesters
    # and OPCS-4 ranking (dense similarity, no trained fusion) lose main-procedure accuracy with it
    encoder_backend: str = "torch"


PROFILES: dict[str, Profile] = {
    "uk": Profile("uk", System.ICD10, System.OPCS4, "NHS England: ICD-10 (UK 5th Edition) + OPCS-4", "uk", "torch"),
    "us": Profile("us", System.ICD10CM, System.ICD10PCS, "US: ICD-10-CM + ICD-10-PCS", None, "onnx-int8"),
}


class ConfigError(ValueError):
    """Bad settings or config file; the message says what to change."""


@dataclass(frozen=True)
class CoderConfig:
    """How the coder turns a ranked list into an output record."""

    max_candidates: int = 200  # ranked codes kept per system (suggested + candidates), for review and MAP
    max_evidence: int = 5  # evidence passages listed per code
    evidence_ratio: float = 0.5  # a passage is evidence when its support is at least this share of the code's best
    ranker: str | None = None  # trained ranker folder; None: the one shipped in clincoder.models
    suggester: str | None = None  # suggester folder (e.g. refitted by `clincoder train-uk --decisions`); None: the profile's shipped one
    # where the primary model's choice is a symptom (for procedures: diagnostic imaging or a diagnostic
    # operation), the likeliest definitive diagnosis (therapeutic operation) a statement names takes its
    # place if its precedence is at least this share of the choice's (0: never); tuned on UK dev
    definitive_share: float = 0.5
    # a procedure the suggester does not offer and finds less likely than this is never made the main
    # procedure on the primary model's word alone (a cataract operation of years ago, a hip
    # replacement seen on an X-ray); diagnoses have no floor (a letter has a primary diagnosis); tuned on UK dev
    main_procedure_floor: float = 0.03


@dataclass(frozen=True)
class RankerConstants:
    """How many candidates each generator proposes, and the weakest match it counts."""

    top_lex: int = 10  # lexical (TF-IDF) hits per query
    top_dense: int = 10  # dense (encoder) hits per mention
    top_clf: int = 150  # document-classifier labels kept per letter (others only when another generator found them)
    lex_floor: float = 0.1  # lexical similarity below this is no hit
    dense_floor: float = 0.3  # encoder similarity below this is no hit
    encoder_backend: str | None = None  # onnx-int8 (ONNX Runtime, int8 weights: ~4x faster) or torch (float32, as trained); None: the profile's

    def __post_init__(self):
        if self.encoder_backend not in (None, "onnx-int8", "torch"):
            raise ConfigError(f"ranker.encoder_backend must be onnx-int8 or torch, not {self.encoder_backend!r}")


# How much a mention in a section counts towards a code (1.0 = a current, documented condition).
# A section not listed here (or none: a narrative letter) counts UNKNOWN_SECTION_WEIGHT.
SECTION_WEIGHTS: Mapping[str, float] = MappingProxyType({
    "primary_diagnosis": 1.5, "diagnoses": 1.3, "secondary_diagnoses": 1.2, "working_diagnosis": 1.0,
    "complications": 1.2, "procedures": 1.3, "presenting_complaint": 0.9, "hpc": 1.0, "discharge_summary": 1.0,
    "examination": 0.8, "investigations": 0.7, "past_medical_history": 0.6, "past_surgical_history": 0.5,
    "differential_diagnosis": 0.3, "plan": 0.5, "follow_up": 0.3, "medications": 0.3, "allergies": 0.2,
    "social_history": 0.3, "family_history": 0.0,
})
UNKNOWN_SECTION_WEIGHT = 1.0

# Where clinicians state the episode's diagnoses and procedures, and where they give the history.
STATED_SECTIONS = frozenset({"primary_diagnosis", "diagnoses", "secondary_diagnoses", "working_diagnosis",
                             "complications", "procedures"})
# Of those, where clinicians list what was done (the rest list what was found).
PROCEDURE_SECTIONS = frozenset({"procedures"})
HISTORY_SECTIONS = frozenset({"past_medical_history", "past_surgical_history"})
# Where a letter lists what is to come (the plan, the follow-up, the drugs to take): a procedure
# named there is planned, or a drug's ("dexamethasone on the day of chemotherapy"), not done this episode.
PLANNED_SECTIONS = frozenset({"plan", "follow_up", "medications"})
# Where a prose letter, with no such heading, tells the story of the episode (None: no heading).
NARRATIVE_SECTIONS = frozenset({None, "discharge_summary"})

# And by assertion (a coder may still show the rest as context). Uncertain diagnoses count in
# full: at discharge they are coded as if confirmed (UK national standard and US inpatient
# guideline alike). Historical ones count in full too: chronic comorbidities in the history are
# coded, and in coded history (CodiEsp train) mentions the text stage marks historical carry a
# gold code more often (75%) than present ones (43%); the rules stage still sees the assertion.
ASSERTION_WEIGHTS: Mapping[str, float] = MappingProxyType({
    "present": 1.0, "historical": 1.0, "uncertain": 1.0, "hypothetical": 0.0, "negated": 0.0, "family": 0.0})


@dataclass(frozen=True)
class TextWeights:
    """What a mention counts towards a code, by its section and its assertion."""

    section_weights: Mapping[str, float] = field(default_factory=lambda: SECTION_WEIGHTS)
    assertion_weights: Mapping[str, float] = field(default_factory=lambda: ASSERTION_WEIGHTS)
    unknown_section: float = UNKNOWN_SECTION_WEIGHT

    def section(self, section: str | None) -> float:
        return self.section_weights.get(section, self.unknown_section) if section else self.unknown_section

    def mention(self, section: str | None, assertion: str) -> float:
        return self.section(section) * self.assertion_weights[assertion]


def _typed(cls, raw: Any, where: str):
    """A dataclass of ``cls`` from a YAML mapping: unknown keys and wrong types are errors;
    mapping fields are merged over the defaults."""
    if raw is None:
        return cls()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a mapping of {[f.name for f in fields(cls)]}")
    unknown = set(raw) - {f.name for f in fields(cls)}
    if unknown:
        raise ConfigError(f"unknown keys in {where}: {sorted(unknown)}; known: {[f.name for f in fields(cls)]}")
    hints, defaults, kw = get_type_hints(cls), cls(), {}
    for name, value in raw.items():
        kw[name] = _value(hints[name], value, getattr(defaults, name), f"{where}.{name}")
    return replace(defaults, **kw)


def _value(hint, value, default, where: str):
    if hint is int or hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (hint is int and not isinstance(value, int)):
            raise ConfigError(f"{where} must be a{'n integer' if hint is int else ' number'}, not {value!r}")
        return hint(value)
    if isinstance(default, Mapping):  # a weights table: merged over the defaults
        if not isinstance(value, dict) or not all(isinstance(v, (int, float)) for v in value.values()):
            raise ConfigError(f"{where} must map names to numbers")
        unknown = set(value) - set(default)
        if unknown:
            raise ConfigError(f"unknown keys in {where}: {sorted(unknown)}; known: {sorted(default)}")
        return MappingProxyType({**default, **{k: float(v) for k, v in value.items()}})
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{where} must be a string, not {value!r}")
    return value


def _read_yaml(config: str | Path) -> dict:
    p = Path(config).expanduser()
    if not p.is_file():
        raise ConfigError(f"config file {p} not found")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {p} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {p} must be a mapping")
    unknown = set(data) - {"tables", "max_bytes", "encoding", "coder", "ranker", "text"}
    if unknown:
        raise ConfigError(f"unknown keys in {p}: {sorted(unknown)}")
    tables = data.get("tables") or {}
    bad = set(tables) - set(ENV_TABLES)
    if bad:
        raise ConfigError(f"unknown tables {sorted(bad)}; known: {sorted(ENV_TABLES)}")
    return data


@dataclass(frozen=True)
class Settings:
    """The whole configuration of a run."""

    profile: Profile = PROFILES["uk"]
    opcs4_path: Path | None = None
    icd10_uk_path: Path | None = None
    max_bytes: int = 1_000_000  # letters above this size are rejected (error record), not coded
    encoding: str = "utf-8"
    coder: CoderConfig = field(default_factory=CoderConfig)
    ranker: RankerConstants = field(default_factory=RankerConstants)
    text: TextWeights = field(default_factory=TextWeights)

    @classmethod
    def load(cls, profile: str = "uk", config: str | Path | None = None, **overrides) -> "Settings":
        if profile not in PROFILES:
            raise ConfigError(f"unknown profile {profile!r}; choose one of {sorted(PROFILES)}")
        data = _read_yaml(config) if config is not None else {}
        tables = data.get("tables") or {}

        def path_for(key: str) -> Path | None:
            value = overrides.pop(f"{key}_path", None) or tables.get(key) or os.environ.get(ENV_TABLES[key])
            return Path(value).expanduser() if value else None

        s = cls(profile=PROFILES[profile], opcs4_path=path_for("opcs4"), icd10_uk_path=path_for("icd10_uk"),
                max_bytes=_value(int, data.get("max_bytes", cls.max_bytes), None, "max_bytes"),
                encoding=_value(str, data.get("encoding", cls.encoding), "", "encoding"),
                coder=_typed(CoderConfig, data.get("coder"), "coder"),
                ranker=_typed(RankerConstants, data.get("ranker"), "ranker"),
                text=_typed(TextWeights, data.get("text"), "text"))
        overrides = {k: v for k, v in overrides.items() if v is not None}
        return replace(s, **overrides) if overrides else s

    def table_path(self, system: System) -> Path | None:
        if system is System.OPCS4:
            return self.opcs4_path
        if system is System.ICD10:
            return self.icd10_uk_path
        return None

    def scoring_constants(self) -> dict:
        """Every constant that changes a score or a suggestion, as plain data (for model cards
        and provenance)."""
        coder = {k: v for k, v in asdict(self.coder).items() if k not in ("ranker", "suggester")}  # models, not constants
        text = {"section_weights": dict(self.text.section_weights),
                "assertion_weights": dict(self.text.assertion_weights), "unknown_section": self.text.unknown_section}
        ranker = {k: v for k, v in asdict(self.ranker).items() if k != "encoder_backend"}  # a runtime, see encoder_backend()
        return {"coder": coder, "ranker": ranker, "text": text}

    def encoder_backend(self) -> str:
        """The encoder runtime in effect: the config's ``ranker.encoder_backend``, else the profile's."""
        return self.ranker.encoder_backend or self.profile.encoder_backend


def constants_hash(constants: dict) -> str:
    """A short, stable hash of :meth:`Settings.scoring_constants`."""
    return hashlib.sha256(json.dumps(constants, sort_keys=True).encode()).hexdigest()[:16]


def cache_dir() -> Path:
    """Where clincoder caches derived data (lexicon, code embeddings): ``$CLINCODER_CACHE_DIR``,
    else the user cache folder (``~/.cache/clincoder`` on Linux). Never the repository or the
    folder of the input data."""
    env = os.environ.get("CLINCODER_CACHE_DIR")
    if env:
        path = Path(env).expanduser()
    else:
        from platformdirs import user_cache_dir

        path = Path(user_cache_dir("clincoder", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path
