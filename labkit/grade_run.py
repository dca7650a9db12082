"""Run a class's notebooks headless, each on the learner's own fresh lab, and grade them (``labkit grade``).

A class is a folder of submissions, laid out either as nbgrader collects them or flat::

    submitted/alice/04-bridge.ipynb        one folder per learner (nbgrader: submitted/<learner>/<assignment>/…)
    submitted/bob.ipynb                    one file per learner (the notebook is named in its metadata)

Each notebook runs in a fresh Jupyter kernel with nbclient, every code cell in order,
errors allowed (as nbgrader's autograder runs them), so an exercise left undone does not
hide the next one; its first cell makes the learner's own lab, and a last, extra cell
closes it. With ``release`` (the learner's edition the class received), the check cells
are put back as released before the run (a learner who edited a locked check cannot
pass it that way; nbgrader's autograder does the same) and a check cell that is missing
is reported. The verdicts come from :mod:`labkit.grade` (pure); the executed notebooks
are kept for the teacher to read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .errors import InvalidInput
from .grade import RUN_KEY, Result, exercises_of, grade_notebook, nbgrader_of
from .i18n import tr

CLOSE = "try:\n    lab.close()\nexcept NameError:\n    pass"


@dataclass(frozen=True)
class Submission:
    learner: str
    notebook: str
    path: Path


def notebook_name(path: Path, nb: nbformat.NotebookNode) -> str:
    """The lab a submitted file is: its build metadata (``metadata.labkit.notebook``), else its file name."""
    return str(nb.metadata.get("labkit", {}).get("notebook") or path.stem)


def submissions(root: Path) -> list[Submission]:
    """Every learner's notebook under ``root``: ``<learner>/**/<name>.ipynb`` or ``<learner>.ipynb``."""
    if not root.is_dir():
        raise InvalidInput(tr("{root} is not a folder of submissions", root=str(root)), where="labkit grade",
                           hint=tr("give a folder holding <learner>/<notebook>.ipynb or <learner>.ipynb files"))
    found = []
    for entry in sorted(root.iterdir()):
        files = sorted(entry.rglob("*.ipynb")) if entry.is_dir() else [entry] if entry.suffix == ".ipynb" else []
        for path in files:
            if ".ipynb_checkpoints" in path.parts:
                continue
            found.append(Submission(entry.name if entry.is_dir() else entry.stem,
                                    notebook_name(path, nbformat.read(path, as_version=4)), path))
    if not found:
        raise InvalidInput(tr("no notebooks in {root}", root=str(root)), where="labkit grade",
                           hint=tr("give a folder holding <learner>/<notebook>.ipynb or <learner>.ipynb files"))
    return found


def restore_checks(nb: nbformat.NotebookNode, released: nbformat.NotebookNode) -> None:
    """Put the released source back into each locked check cell, found by its nbgrader grade id."""
    sources = {nbgrader_of(c).get("grade_id"): c.source for c in released.cells if nbgrader_of(c).get("locked")}
    for cell in nb.cells:
        grade_id = nbgrader_of(cell).get("grade_id")
        if nbgrader_of(cell).get("locked") and grade_id in sources:
            cell.source = sources[grade_id]


def execute(nb: nbformat.NotebookNode, workdir: Path, cell_timeout: float = 180) -> nbformat.NotebookNode:
    """Run every code cell of ``nb`` in a fresh kernel (errors allowed), outputs of earlier runs cleared first.

    A timeout or a dead kernel stops the run: the cells after it stay unrun and
    ``metadata.labkit_grade.stopped`` says where and why."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    workdir.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(workdir)}})
    started, stopped = time.monotonic(), ""
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError:
                stopped = f"the notebook stopped at cell {cell.get('id', index)}: it ran longer than {cell_timeout:.0f} s"
                break
            except DeadKernelError:
                stopped = f"the notebook stopped at cell {cell.get('id', index)}: the kernel died"
                break
        if not stopped or "longer" in stopped:
            try:
                client.execute_cell(nbformat.v4.new_code_cell(CLOSE), len(nb.cells))  # the learner's lab, gone
            except Exception:  # the kernel is shut down next anyway, and the lab's agent dies with it
                pass
    nb.metadata[RUN_KEY] = {"stopped": stopped, "seconds": round(time.monotonic() - started, 1)}
    return nb


def grade_class(root: Path, out: Path, release: Path | None = None, cell_timeout: float = 180,
                progress: bool = True) -> list[Result]:
    """Run and grade every submission under ``root``; executed notebooks go to ``out/executed/<learner>/``."""
    rows: list[Result] = []
    for sub in submissions(root):
        nb = nbformat.read(sub.path, as_version=4)
        expected = None
        released_path = release / f"{sub.notebook}.ipynb" if release else None
        if released_path is not None and released_path.exists():
            released = nbformat.read(released_path, as_version=4)
            restore_checks(nb, released)
            expected = [e.grade_id for e in exercises_of(released)]
        executed = execute(nb, out / "work" / sub.learner / sub.notebook, cell_timeout)
        target = out / "executed" / sub.learner / f"{sub.notebook}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(executed, target)
        graded = grade_notebook(executed, sub.learner, sub.notebook, expected)
        if progress:
            took = executed.metadata[RUN_KEY]["seconds"]
            print(f"{sub.learner} {sub.notebook}: " + ", ".join(f"{r.exercise} {r.status}" for r in graded)
                  + f" ({took} s)", flush=True)
        rows.extend(graded)
    return rows


__all__ = ["Submission", "execute", "grade_class", "notebook_name", "restore_checks", "submissions"]
