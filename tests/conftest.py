"""Shared fixtures: where the repository, the tiny hand-built fixtures and the shared data live.

Tests that need ``../shared/data`` (or ``CLINCODER_SHARED_DATA``) take the ``shared_data``
fixture and skip with a clear reason when it is absent. The big PyPI code tables (ICD-10-CM,
ICD-10-PCS) load once per session through ``load_table``'s cache.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TABLE_ENV_VARS = ("CLINCODER_OPCS4", "CLINCODER_ICD10_UK")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """``tests/fixtures``: tiny tables (``opcs4_mini.tsv`` 6-column, ``icd10_uk_mini.tsv``
    2-column) and a few letters (``letters/*.txt``, ``letters.jsonl``, ``letters.csv``)."""
    return FIXTURES


@pytest.fixture(scope="session")
def opcs4_fixture(fixtures_dir) -> Path:
    return fixtures_dir / "opcs4_mini.tsv"


@pytest.fixture(scope="session")
def icd10_uk_fixture(fixtures_dir) -> Path:
    return fixtures_dir / "icd10_uk_mini.tsv"


@pytest.fixture(scope="session")
def examples_dir(repo_root) -> Path:
    return repo_root / "data" / "examples"


@pytest.fixture(scope="session")
def shared_data(repo_root) -> Path:
    """The shared reference data (``CLINCODER_SHARED_DATA`` or ``../shared/data``), else skip."""
    env = os.environ.get("CLINCODER_SHARED_DATA")
    path = Path(env).expanduser() if env else (repo_root.parent / "shared" / "data")
    if not path.is_dir():
        pytest.skip(f"shared data not found at {path}: set CLINCODER_SHARED_DATA or place it at ../shared/data")
    return path


@pytest.fixture
def no_table_env(monkeypatch):
    """No user-supplied NHS tables from the environment (``make test`` exports the shared ones)."""
    for var in TABLE_ENV_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session")
def icd10cm_table():
    from clincoder.core.codes import System
    from clincoder.core.tables import load_table

    return load_table(System.ICD10CM)


@pytest.fixture(scope="session")
def icd10pcs_table():
    from clincoder.core.codes import System
    from clincoder.core.tables import load_table

    return load_table(System.ICD10PCS)


@pytest.fixture(scope="session")
def who_icd10_table():
    from clincoder.core.codes import System
    from clincoder.core.tables import load_table

    return load_table(System.ICD10)


@pytest.fixture(scope="session")
def uk_coder(opcs4_fixture):
    """One real uk coder for the session: WHO ICD-10 2019 and the tiny OPCS-4 fixture (never the
    environment's NHS tables, so results do not depend on the machine)."""
    from clincoder.coder import Coder
    from clincoder.core.config import Settings

    saved = {k: os.environ.pop(k, None) for k in TABLE_ENV_VARS}
    try:
        yield Coder(Settings.load("uk", opcs4_path=opcs4_fixture))
    finally:
        os.environ.update({k: v for k, v in saved.items() if v is not None})
