"""The notebook tier: every lab notebook runs headless, "Run all" twice in one kernel.

Each notebook of the instructor's edition (``notebooks/solutions/NN-*.ipynb``: the exercises
solved, so every check must pass) is executed with nbclient in a fresh kernel (two notebooks at
a time, each in a process of its own: ``tests/shared/run_notebook.py``), with its
cells listed twice: the second pass proves the notebook is idempotent (its first
cell closes the previous lab, its last cell tears the lab down), in the same kernel
as a learner pressing "Run all" twice. Any error, a failing self-check included,
fails the test. A notebook that emits a skip marker (``labkit.notebook.requires``:
a display output of type ``application/vnd.labkit.skip+json``) and otherwise ran to
its end is reported as skipped, with the marker's reasons. Each runs in its own working directory under ``artifacts/notebooks/cwd/``
(so saved captures stay out of the repository); the executed copy goes to
``artifacts/notebooks/`` for reading, and the time of both passes is printed
(``pytest -s``) and kept in ``timings.json``.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from labkit.notebook import skip_reasons

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "notebooks"
#: seconds for both passes of one notebook; a notebook not listed gets DEFAULT_TIMEOUT
TIMEOUTS = {"06": 600, "11": 600}
DEFAULT_TIMEOUT = 300
CELL_TIMEOUT = 180


def notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks" / "solutions").glob("[0-9][0-9]-*.ipynb"))


def twice(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with every cell listed a second time (new ids), as "Run all" twice would run it."""
    again = copy.deepcopy(nb)
    for cell in copy.deepcopy(nb.cells):
        cell.id = f"{cell.get('id', 'cell')}-again"[:64]
        again.cells.append(cell)
    return again


def no_namespaces_here() -> str:
    """Why this user cannot make network namespaces at all (root, sudo -n and user namespaces all refused), or ""."""
    from labkit.errors import NoPrivileges
    from labkit.targets.local import choose_mode

    try:
        choose_mode()
    except NoPrivileges as exc:
        return f"the notebooks make network namespaces and this user cannot: {exc.what}"
    return ""


def _params() -> list:
    found = notebooks()
    if not found:
        return [pytest.param(None, marks=pytest.mark.skip(reason="no notebooks in notebooks/solutions/"))]
    return [pytest.param(path, id=path.stem, marks=pytest.mark.timeout(TIMEOUTS.get(path.name[:2], DEFAULT_TIMEOUT)))
            for path in found]


#: notebooks run at once: they mostly wait (STP timers, DHCP, pings), so two share the machine's two cores
PARALLEL = 2
RUNNER = ROOT / "tests" / "shared" / "run_notebook.py"


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest) -> Iterator[dict[str, Future]]:
    """Every selected notebook started, PARALLEL at a time, each "Run all" twice in a fresh kernel of its own
    process (``tests/shared/run_notebook.py``); name → Future of (result, executed notebook, seconds)."""
    selected = [item.callspec.params["path"] for item in request.session.items
                if getattr(item, "originalname", "") == "test_notebook_runs_twice" and item.callspec.params["path"]]

    def run(path: Path) -> tuple[dict, nbformat.NotebookNode, float]:
        workdir = ARTIFACTS / "cwd" / path.stem  # what a notebook writes (cap.save) stays out of the repository
        workdir.mkdir(parents=True, exist_ok=True)
        both = workdir / f"twice-{path.name}"
        nbformat.write(twice(nbformat.read(path, as_version=4)), both)
        out = workdir / path.name
        started = time.monotonic()
        done = subprocess.run([sys.executable, str(RUNNER), str(both), str(out), "python3", str(CELL_TIMEOUT)],
                              capture_output=True, text=True, timeout=TIMEOUTS.get(path.name[:2], DEFAULT_TIMEOUT) + 60,
                              check=False)
        elapsed = time.monotonic() - started
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        assert lines, f"{path.name}: the runner printed no result (exit {done.returncode}):\n{done.stderr[-2000:]}"
        return json.loads(lines[-1]), nbformat.read(out, as_version=4), elapsed

    selected.sort(key=lambda path: path.name[:2] not in TIMEOUTS)  # the longest first: the others fill in
    with ThreadPoolExecutor(PARALLEL) as pool:
        yield {path.name: pool.submit(run, path) for path in selected}


@pytest.mark.parametrize("path", _params())
def test_notebook_runs_twice(path: Path, runs: dict[str, Future]) -> None:
    reason = no_namespaces_here()
    if reason:
        print(f"SKIP {path.name}: {reason}")
        pytest.skip(reason)
    result, nb, elapsed = runs[path.name].result(timeout=TIMEOUTS.get(path.name[:2], DEFAULT_TIMEOUT) * 3)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, ARTIFACTS / path.name)
    timings = ARTIFACTS / "timings.json"
    known = json.loads(timings.read_text()) if timings.exists() else {}
    known[path.stem] = round(elapsed, 1)
    timings.write_text(json.dumps(known, indent=1, sort_keys=True) + "\n")
    print(f"{path.name}: two runs in {elapsed:.1f} s ({PARALLEL} notebooks at a time)")
    if result["error"]:
        pytest.fail(f"{path.name} failed:\n{result['error']}", pytrace=False)
    errors = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
              if out.get("output_type") == "error"]
    assert not errors, f"{path.name}: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    skipped = skip_reasons(nb)
    if skipped:  # it ran to the end, but parts of it did nothing: that is a skip, not a pass
        reason = f"{path.name} ran, but skipped: " + "; ".join(skipped)
        print(f"SKIP {reason}")
        pytest.skip(reason)
