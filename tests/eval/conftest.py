from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CODIESP_DEV = SHARED / "codiesp" / "dev"


@pytest.fixture
def codiesp_dev() -> Path:
    if not (CODIESP_DEV / "devD.tsv").is_file():
        pytest.skip(f"CodiEsp dev not found at {CODIESP_DEV} (shared data absent)")
    return CODIESP_DEV
