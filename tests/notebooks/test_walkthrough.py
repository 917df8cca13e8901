"""Execute notebooks/walkthrough.ipynb so that it never goes stale.

The kernel is this interpreter (the project's .venv): a throw-away kernel spec in a temporary
JUPYTER_PATH points at ``sys.executable``, so nothing is installed in the user's Jupyter and a
fresh clone works. Outputs go to a temporary folder, never into the repository.
"""

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "walkthrough.ipynb"


def test_walkthrough_executes(tmp_path, monkeypatch):
    spec_dir = tmp_path / "jupyter" / "kernels" / "clincoder-test"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "clincoder (test)", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("CLINCODER_REPO", str(REPO))
    monkeypatch.setenv("CLINCODER_NB_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="clincoder-test", timeout=900,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "codes suggested" in outputs
    if (REPO.parent / "shared" / "data" / "codiesp" / "dev" / "devD.tsv").exists():
        assert "MAP" in outputs and (tmp_path / "out" / "report" / "per_chapter_f1.png").exists()
        assert "perturbations found: 15 of 15" in outputs
    else:
        assert "skipping" in outputs
    assert not list((REPO / "notebooks").glob("*.png"))  # nothing written into the repository
