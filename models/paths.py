"""Where the shipped models live: ``artifacts/`` inside the package (read through importlib.resources)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

ARTIFACTS = Path(str(files("clincoder.models") / "artifacts"))
