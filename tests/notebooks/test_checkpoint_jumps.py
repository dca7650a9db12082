"""The reference checkpoints shipped with the notebooks: still what the notebooks build, and each one
a point a learner can jump to on a fresh Jupyter kernel and finish the notebook from.

* ``python -m labkit.checkpoints --check`` runs each notebook that marks checkpoints and fails,
  naming the checkpoint and the difference, when a shipped file no longer matches;
* for every shipped checkpoint, a fresh kernel runs the notebook's first cell, then
  ``lab = restore(notebook, name)``, then every cell from the checkpoint's own to the end: the
  checkpoint line there must find the restored lab equal to the reference, and every fact and
  check that follows must pass.

All of these run two at a time, each in a process of its own (the longest first): they mostly wait
on STP timers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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


#: jobs at once, each in a process of its own
PARALLEL = 2
RUNNER = ROOT / "tests" / "shared" / "run_notebook.py"
REGEN = "regen"  # the job that re-runs the notebooks against the shipped files


@pytest.fixture(scope="module")
def jobs(request: pytest.FixtureRequest) -> Iterator[dict[str, Future]]:
    """The check of the shipped files and every selected jump, started PARALLEL at a time, the longest first."""
    mine = [item for item in request.session.items if getattr(item, "module", None) is request.module]
    wanted = {item.originalname for item in mine}
    jumps = [(item.callspec.params["notebook"], item.callspec.params["name"]) for item in mine
             if item.originalname.startswith("test_a_learner_jumps")]

    def regen_check() -> tuple[int, str]:
        done = subprocess.run([sys.executable, "-m", "labkit.checkpoints", "--check"], cwd=ROOT, capture_output=True,
                              text=True, timeout=900, check=False)
        return done.returncode, done.stdout + done.stderr

    def run_jump(notebook: str, name: str) -> tuple[dict, nbformat.NotebookNode]:
        folder = ARTIFACTS / "cwd" / f"{notebook}-{name}"
        folder.mkdir(parents=True, exist_ok=True)
        source, out = folder / "jump.ipynb", ARTIFACTS / f"{notebook}-from-{name}.ipynb"
        nbformat.write(jump(notebook, name), source)
        done = subprocess.run([sys.executable, str(RUNNER), str(source), str(out), "python3", "240"], cwd=ROOT,
                              capture_output=True, text=True, timeout=600, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        assert lines, f"{notebook} from {name}: the runner printed no result (exit {done.returncode}):\n{done.stderr[-2000:]}"
        return json.loads(lines[-1]), nbformat.read(out, as_version=4)

    order = sorted(jumps, key=lambda job: (job[0] != "06-stp", job[1]))
    with ThreadPoolExecutor(PARALLEL) as pool:
        started = {REGEN: pool.submit(regen_check)} if "test_the_shipped_checkpoints_are_what_the_notebooks_build" in wanted else {}
        started.update({f"{nb}/{name}": pool.submit(run_jump, nb, name) for nb, name in order})
        yield started


@pytest.mark.timeout(900)
def test_the_shipped_checkpoints_are_what_the_notebooks_build(jobs: dict[str, Future]) -> None:
    _root_only()
    code, out = jobs[REGEN].result(timeout=900)
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


@pytest.mark.timeout(900)
@pytest.mark.parametrize("notebook, name", shipped())
def test_a_learner_jumps_to_the_checkpoint_on_a_fresh_kernel_and_finishes(notebook: str, name: str,
                                                                           jobs: dict[str, Future]) -> None:
    _root_only()
    result, nb = jobs[f"{notebook}/{name}"].result(timeout=900)
    if result["error"]:
        pytest.fail(f"{notebook} from checkpoint {name}:\n{result['error']}", pytrace=False)
    said = [out.get("data", {}).get("text/plain", "") for cell in nb.cells[1:3] for out in cell.get("outputs", [])]
    assert any(f"restored {notebook} at checkpoint {name}" in text for text in said), said
    assert any(f"checkpoint {name}: your lab is the reference lab here" in text for text in said), said
