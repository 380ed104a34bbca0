"""notebooks/quickstart.ipynb runs end to end (tiny epochs), so it cannot rot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "quickstart.ipynb"


def test_notebook_is_stored_without_outputs_and_matches_its_builder():
    import importlib.util

    stored = json.loads(NOTEBOOK.read_text())
    for cell in stored["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    spec = importlib.util.spec_from_file_location("build_quickstart",
                                                  ROOT / "notebooks" / "build_quickstart.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    assert stored == builder.build(), "rebuild: python notebooks/build_quickstart.py"


def test_notebook_uses_only_the_public_api():
    import synthdata

    source = "\n".join("".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"]
                       if c["cell_type"] == "code")
    used = {name.split("(")[0] for name in
            __import__("re").findall(r"synthdata\.([A-Za-z_]+)", source)}
    assert used <= set(synthdata.__all__) | {"split"}, used - set(synthdata.__all__)


@pytest.mark.slow
def test_quickstart_notebook_executes(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("QUICKSTART_EPOCHS", "2")
    monkeypatch.setenv("QUICKSTART_ROWS", "1500")
    monkeypatch.setenv("QUICKSTART_DIR", str(tmp_path / "work"))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel draws inline
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    work = tmp_path / "work"
    run = json.loads((work / "run" / "report.json").read_text())
    assert run["run"]["synthesizer"] == "tvae"
    assert (work / "balance" / "balanced.parquet").exists()
    leaky = json.loads((work / "leaky" / "report.json").read_text())
    assert leaky["gate"]["passed"] is False
    # the plots were drawn inline
    images = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert len(images) >= 3
