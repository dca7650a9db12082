"""The notebook tier, the other way round: every exercise's check fails on a wrong attempt.

A check that passes on the solution proves little until it has been seen to fail.
In a source (``notebooks/src/NN-*.py``) each exercise is a cell tagged ``solution``,
optionally followed by cells tagged ``wrong`` (a plausible wrong attempt, left out of
the learner's notebook), and later a cell tagged ``check``. For each solution, this
test runs the notebook in a fresh kernel from the top with that solution replaced by
its wrong attempt (or simply removed), up to and including its check cell, and
asserts that the check cell, and no cell before it, raised ``CheckFailed`` with a
hint. Earlier exercises keep their solutions. The lab is closed at the end.

That the same checks pass with the solutions is ``test_notebooks_run.py``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from test_notebooks_run import no_namespaces_here

from labkit.notebook import SKIP_MIME
from notebooks import build as BUILD  # notebooks/build.py: the repository root is on the path

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "notebooks" / "wrong"
CELL_TIMEOUT = 180
#: what the kernel says about the error of the last failed cell (IPython keeps it in sys.last_value)
PROBE = ("import sys as _s, json as _j\n"
         "_e = getattr(_s, 'last_value', None)\n"
         "print('LABKIT-PROBE', _j.dumps({'type': type(_e).__name__, 'mro': [c.__name__ for c in type(_e).__mro__],"
         " 'what': str(getattr(_e, 'what', _e)), 'hint': str(getattr(_e, 'hint', ''))}))")


@dataclass(frozen=True)
class Exercise:
    source: Path
    number: int        # 1, 2, … within its notebook
    solution: int      # index of the solution cell in the full source
    check: int         # index of its check cell

    @property
    def id(self) -> str:
        return f"{self.source.stem[:2]}-exercise{self.number}"


def exercises_of(nb: nbformat.NotebookNode, source: Path) -> list[Exercise]:
    """Each solution cell with the first check cell after it."""
    found = []
    for index, cell in enumerate(nb.cells):
        if "solution" in BUILD.tags_of(cell):
            check = next((j for j in range(index + 1, len(nb.cells)) if "check" in BUILD.tags_of(nb.cells[j])), None)
            assert check is not None, f"{source.name}: the solution cell {cell.id} has no cell tagged 'check' after it"
            found.append(Exercise(source, len(found) + 1, index, check))
    return found


def wrong_notebook(exercise: Exercise) -> tuple[nbformat.NotebookNode, int]:
    """The cells to run for one exercise's wrong attempt, and the position of its check among them.

    The solution cell is replaced by the ``wrong`` cells right after it; every other
    ``wrong`` cell (of the other exercises) is left out, as in the learner's notebook."""
    nb = BUILD.read_source(exercise.source)
    attempt = set()
    for index in range(exercise.solution + 1, len(nb.cells)):
        if "wrong" not in BUILD.tags_of(nb.cells[index]):
            break
        attempt.add(index)
    cells = [cell for index, cell in enumerate(nb.cells[: exercise.check + 1])
             if index != exercise.solution and ("wrong" not in BUILD.tags_of(cell) or index in attempt)]
    run = nbformat.v4.new_notebook(metadata=nb.metadata)
    run.cells = cells
    return run, len(cells) - 1


def _all_exercises() -> list:
    params = []
    for source in BUILD.sources():
        for exercise in exercises_of(BUILD.read_source(source), source):
            params.append(pytest.param(exercise, id=exercise.id, marks=pytest.mark.timeout(600)))
    return params or [pytest.param(None, marks=pytest.mark.skip(reason="no solution cells in notebooks/src/"))]


def _probe(client, nb: nbformat.NotebookNode) -> dict:
    import json

    cell = nbformat.v4.new_code_cell(PROBE)
    nb.cells.append(cell)
    client.execute_cell(cell, len(nb.cells) - 1)
    text = "".join(out.get("text", "") for out in cell.outputs if out.get("output_type") == "stream")
    line = next(line for line in text.splitlines() if line.startswith("LABKIT-PROBE "))
    return dict(json.loads(line.split(" ", 1)[1]))


def attempt(exercise: Exercise) -> tuple[nbformat.NotebookNode, int | None, dict]:
    """Run one exercise's wrong attempt in a fresh kernel: (the executed cells, the index of the cell that
    failed or None, what the kernel said of its error)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb, _check_at = wrong_notebook(exercise)
    workdir = ARTIFACTS.parent / "cwd" / exercise.id  # one folder per attempt: two may run at once
    workdir.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(workdir)}})
    failed_at, error = None, {}
    with client.setup_kernel():
        try:
            for index, cell in enumerate(list(nb.cells)):
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError:
                    failed_at, error = index, _probe(client, nb)
                    break
        finally:
            close = nbformat.v4.new_code_cell("try:\n    lab.close()\nexcept NameError:\n    pass")
            nb.cells.append(close)
            try:
                client.execute_cell(close, len(nb.cells) - 1)
            finally:
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, ARTIFACTS / f"{exercise.id}.ipynb")
    return nb, failed_at, error


def main(exercise_id: str, out: str) -> None:
    """The subprocess side: run the exercise named ``exercise_id``, write its cells to ``out`` and print the result."""
    import json

    exercise = next(e.values[0] for e in _all_exercises() if e.values and e.values[0] and e.values[0].id == exercise_id)
    nb, failed_at, error = attempt(exercise)
    nbformat.write(nb, out)
    print("LABKIT-ATTEMPT", json.dumps({"failed_at": failed_at, "error": error}))


#: wrong attempts run at once, each in a process of its own (they mostly wait on timers and pings)
PARALLEL = 2


@pytest.fixture(scope="module")
def attempts(request: pytest.FixtureRequest) -> Iterator[dict[str, Future]]:
    """Every selected exercise's wrong attempt started, PARALLEL at a time, the longest first."""
    selected = [item.callspec.params["exercise"] for item in request.session.items
                if getattr(item, "originalname", "") == "test_wrong_attempt_fails_the_check" and item.callspec.params["exercise"]]

    def run(exercise: Exercise) -> tuple[nbformat.NotebookNode, int | None, dict]:
        import json

        out = ARTIFACTS / f"{exercise.id}.ipynb"
        out.parent.mkdir(parents=True, exist_ok=True)
        code = f"import sys; sys.path[:0] = ['tests/notebooks', '.']; import test_exercises_fail as t; t.main({exercise.id!r}, {str(out)!r})"
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("LABKIT-ATTEMPT ")]
        assert lines, f"{exercise.id}: the attempt printed no result (exit {done.returncode}):\n{done.stderr[-2000:]}"
        result = json.loads(lines[-1].split(" ", 1)[1])
        return nbformat.read(out, as_version=4), result["failed_at"], result["error"]

    selected.sort(key=lambda e: e.id[:2] not in ("06", "10", "01"))
    with ThreadPoolExecutor(PARALLEL) as pool:
        yield {e.id: pool.submit(run, e) for e in selected}


@pytest.mark.parametrize("exercise", _all_exercises())
def test_wrong_attempt_fails_the_check(exercise: Exercise, attempts: dict[str, Future]) -> None:
    reason = no_namespaces_here()
    if reason:
        pytest.skip(reason)
    nb, failed_at, error = attempts[exercise.id].result(timeout=900)
    _, check_at = wrong_notebook(exercise)
    skipped = [out["data"][SKIP_MIME]["reason"] for cell in nb.cells if cell.cell_type == "code"
               for out in cell.get("outputs", []) if SKIP_MIME in out.get("data", {})]
    if failed_at is None and skipped:
        pytest.skip(f"{exercise.id}: the exercise did not run here: {skipped[-1]}")  # the part it belongs to skipped last
    check_id = nb.cells[check_at].id
    assert failed_at is not None, f"{exercise.id}: the check cell {check_id} PASSED on the wrong attempt: the check cannot fail"
    assert failed_at == check_at, (f"{exercise.id}: cell {nb.cells[failed_at].id} failed before the check cell {check_id} "
                                   f"with {error.get('type')}: {error.get('what')}")
    assert "CheckFailed" in error.get("mro", []), \
        f"{exercise.id}: the check failed with {error.get('type')}, not CheckFailed: {error.get('what')}"
    assert error.get("hint", "").strip(), f"{exercise.id}: CheckFailed without a hint: {error.get('what')}"
