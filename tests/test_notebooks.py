"""The teaching notebooks run top to bottom (executed with nbclient) and are stored clean."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_the_three_notebooks_exist():
    assert {p.stem for p in NOTEBOOKS} >= {"why_and_when_to_retrain", "choosing_a_threshold",
                                           "label_delay_and_gates"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_under_a_minute(path, monkeypatch, request):
    from nbclient import NotebookClient

    if "electricity" in path.read_text():
        request.getfixturevalue("elec2_path")  # $RETRAIN_SIM_DATA, read by the notebook too
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    elapsed = time.perf_counter() - started
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    figures = sum("image/png" in o.get("data", {}) for c in nb.cells
                  if c.cell_type == "code" for o in c.outputs)
    assert figures >= 2, "every notebook draws its figures"
    assert elapsed < 60, f"{path.name} took {elapsed:.0f} s"
