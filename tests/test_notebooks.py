"""Every notebook in notebooks/ runs from top to bottom (they import all their logic from accelsim) and asserts what
its text claims, so a claim that stops holding fails here."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def run_notebook(notebook: nbformat.NotebookNode, folder: Path) -> None:
    """Execute every cell in `folder`; a cell that raises (a failed assert included) raises CellExecutionError."""
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    client.execute()
    errors = [output for cell in notebook.cells for output in cell.get("outputs", []) if output.output_type == "error"]
    assert not errors


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs(path, tmp_path):
    run_notebook(nbformat.read(path, as_version=4), tmp_path)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_asserts_its_results(path):
    notebook = nbformat.read(path, as_version=4)
    asserting = [cell for cell in notebook.cells if cell.cell_type == "code" and "assert " in cell.source]
    assert asserting, f"{path.name} asserts nothing: state its results in code, not only in text"


def test_a_claim_that_does_not_hold_fails(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("speedup = 1.5"),
                                               nbformat.v4.new_code_cell("assert speedup >= 2, speedup")])
    with pytest.raises(CellExecutionError, match="AssertionError"):
        run_notebook(notebook, tmp_path)


def test_there_is_a_notebook():
    assert NOTEBOOKS
