"""Profiles and settings: which code systems a run uses and where user-supplied tables live.

Precedence for table paths: explicit argument > config file > environment
(``CLINCODER_OPCS4``, ``CLINCODER_ICD10_UK``). A config file is YAML::

    tables:
      opcs4: /data/trud/OPCS4.10.tsv
      icd10_uk: /data/trud/ICD10_5th_Edition.tsv
    max_bytes: 1000000
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from .codes import System

ENV_TABLES = {"opcs4": "CLINCODER_OPCS4", "icd10_uk": "CLINCODER_ICD10_UK"}


@dataclass(frozen=True)
class Profile:
    name: str
    diagnosis: System
    procedure: System
    description: str


PROFILES: dict[str, Profile] = {
    "uk": Profile("uk", System.ICD10, System.OPCS4, "NHS England: ICD-10 (UK 5th Edition) + OPCS-4"),
    "us": Profile("us", System.ICD10CM, System.ICD10PCS, "US: ICD-10-CM + ICD-10-PCS"),
}


class ConfigError(ValueError):
    """Bad settings or config file; the message says what to change."""


@dataclass(frozen=True)
class Settings:
    profile: Profile = PROFILES["uk"]
    opcs4_path: Path | None = None
    icd10_uk_path: Path | None = None
    max_bytes: int = 1_000_000  # letters above this size are rejected (error record), not coded
    encoding: str = "utf-8"
    extra: dict = field(default_factory=dict)

    @classmethod
    def load(cls, profile: str = "uk", config: str | Path | None = None, **overrides) -> "Settings":
        if profile not in PROFILES:
            raise ConfigError(f"unknown profile {profile!r}; choose one of {sorted(PROFILES)}")
        data: dict = {}
        if config is not None:
            p = Path(config).expanduser()
            if not p.is_file():
                raise ConfigError(f"config file {p} not found")
            try:
                data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                raise ConfigError(f"config file {p} is not valid YAML: {exc}") from exc
            if not isinstance(data, dict):
                raise ConfigError(f"config file {p} must be a mapping")
            unknown = set(data) - {"tables", "max_bytes", "encoding"}
            if unknown:
                raise ConfigError(f"unknown keys in {p}: {sorted(unknown)}")
        tables = data.get("tables") or {}
        bad = set(tables) - set(ENV_TABLES)
        if bad:
            raise ConfigError(f"unknown tables {sorted(bad)}; known: {sorted(ENV_TABLES)}")

        def path_for(key: str) -> Path | None:
            value = overrides.pop(f"{key}_path", None) or tables.get(key) or os.environ.get(ENV_TABLES[key])
            return Path(value).expanduser() if value else None

        s = cls(profile=PROFILES[profile], opcs4_path=path_for("opcs4"), icd10_uk_path=path_for("icd10_uk"),
                max_bytes=int(data.get("max_bytes", cls.max_bytes)), encoding=data.get("encoding", cls.encoding))
        overrides = {k: v for k, v in overrides.items() if v is not None}
        return replace(s, **overrides) if overrides else s

    def table_path(self, system: System) -> Path | None:
        if system is System.OPCS4:
            return self.opcs4_path
        if system is System.ICD10:
            return self.icd10_uk_path
        return None


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
