"""The reference checkpoints shipped with the notebooks: still what the notebooks build, and each one
a point a learner can jump to on a fresh Jupyter kernel and finish the notebook from.

* ``python -m labkit.checkpoints --check`` runs each notebook that marks checkpoints and fails,
  naming the checkpoint and the difference, when a shipped file no longer matches;
* for every shipped checkpoint, a fresh kernel runs the notebook's first cell, then
  ``lab = restore(notebook, name)``, then every cell from the checkpoint's own to the end: the
  checkpoint line there must find the restored lab equal to the reference, and every fact and
  check that follows must pass.
"""

from __future__ import annotations

import os
from pathlib import Path

import jupytext
import nbformat
import pytest

from labkit.checkpoints import regen
from labkit.checkpoints.notebook import SHIPPED, available

pytestmark = pytest.mark.notebooks
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "notebooks" / "checkpoints"


def _root_only() -> None:
    if os.geteuid() != 0:
        pytest.skip("the notebooks make network namespaces: run this tier as root")


def shipped() -> list[tuple[str, str]]:
    return [(nb.name, name) for nb in sorted(SHIPPED.iterdir()) if nb.is_dir() for name in available(nb.name)]


@pytest.mark.timeout(900)
def test_the_shipped_checkpoints_are_what_the_notebooks_build(capsys: pytest.CaptureFixture[str]) -> None:
    _root_only()
    code = regen.main(["--check"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert {f"{nb}: " for nb, _ in shipped()} <= {line.split(" ")[0] + " " for line in out.splitlines()}, out


def jump(notebook: str, name: str) -> nbformat.NotebookNode:
    """The notebook as a learner who jumps runs it: first cell, restore, then from the checkpoint's cell on."""
    source = jupytext.reads((regen.SOURCES / f"{notebook}.py").read_text(encoding="utf-8"), fmt="py:percent")
    cells = [c for c in source.cells if c.cell_type == "code" and "wrong" not in c.get("metadata", {}).get("tags", [])]
    mark = f'checkpoint(lab, "{notebook}", "{name}")'
    start = next(i for i, c in enumerate(cells) if mark in c.source)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(cells[0].source),
                nbformat.v4.new_code_cell(f'lab = restore("{notebook}", "{name}")'),
                *(nbformat.v4.new_code_cell(c.source) for c in cells[start:])]
    return nb


@pytest.mark.timeout(600)
@pytest.mark.parametrize("notebook, name", shipped())
def test_a_learner_jumps_to_the_checkpoint_on_a_fresh_kernel_and_finishes(notebook: str, name: str, tmp_path: Path) -> None:
    _root_only()
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = jump(notebook, name)
    try:
        NotebookClient(nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    except CellExecutionError as exc:
        pytest.fail(f"{notebook} from checkpoint {name}:\n{str(exc)[-3000:]}", pytrace=False)
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, ARTIFACTS / f"{notebook}-from-{name}.ipynb")
    said = [out.get("data", {}).get("text/plain", "") for cell in nb.cells[1:3] for out in cell.get("outputs", [])]
    assert any(f"restored {notebook} at checkpoint {name}" in text for text in said), said
    assert any(f"checkpoint {name}: your lab is the reference lab here" in text for text in said), said
