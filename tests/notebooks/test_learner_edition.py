"""The learner's edition, run as a learner gets it: every exercise reports "not done".

Each ``notebooks/NN-*.ipynb`` with exercises runs headless as ``labkit grade`` runs a
submission (a fresh kernel, every cell, errors allowed), untouched: the placeholder ``...``
of each to-do cell must stop with NotDone, so the grader says "not done" — not "failed"
(the learner did not try) and not "passed" (a check that passes on nothing proves
nothing). An exercise whose part this kernel cannot run (a skip banner) is reported as a
skip, with its reason, once the others are checked. That the same checks pass with the
solutions is test_notebooks_run.py (the instructor's edition).

Of the Chinese learner's edition (``notebooks/zh/``) one lab runs too, in a kernel whose environment says
``LABKIT_LANG=en``: its own first cell must switch labkit to Chinese, and its "not done" boxes must say so in
Chinese. Its code differs from the English only in the strings a learner reads
(tests/unit/test_notebook_i18n.py), so one lab with exercises is enough.

Two notebooks run at a time, each in a process of its own (they mostly wait on timers and pings).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from labkit.grade import exercises_of, grade_notebook

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "notebooks" / "learner"
WITH_EXERCISES = [p for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
                  if exercises_of(nbformat.read(p, as_version=4))]
#: the translated learner's editions run here: one lab each (module docstring)
TRANSLATED = [ROOT / "notebooks" / "zh" / "04-bridge.ipynb"]


def language_of(path: Path) -> str:
    return path.parent.name if path.parent != ROOT / "notebooks" else "en"


def name_of(path: Path) -> str:
    return path.stem if language_of(path) == "en" else f"{language_of(path)}-{path.stem}"


#: notebooks run at once (they mostly wait on timers), each in a process of its own, as `labkit grade` runs one
PARALLEL = 2
RUN = ("import sys, nbformat; from pathlib import Path; from labkit.grade_run import execute; "
       "nbformat.write(execute(nbformat.read(sys.argv[1], as_version=4), Path(sys.argv[2])), sys.argv[3])")


@pytest.fixture(scope="module")
def executed(request: pytest.FixtureRequest) -> Iterator[dict[str, Future]]:
    """Every selected learner's notebook started, PARALLEL at a time, the longest first; name → Future of the run."""
    selected = [item.callspec.params["path"] for item in request.session.items
                if getattr(item, "originalname", "") == "test_every_exercise_of_the_learner_edition_is_not_done"]

    def run(path: Path) -> nbformat.NotebookNode:
        out = ARTIFACTS / f"{name_of(path)}.ipynb"
        out.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, LABKIT_LANG="en")  # a translated edition's first cell chooses its language itself
        done = subprocess.run([sys.executable, "-c", RUN, str(path), str(ARTIFACTS / "cwd" / name_of(path)), str(out)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, f"{path.name}: the run failed:\n{done.stderr[-2000:]}"
        return nbformat.read(out, as_version=4)

    selected.sort(key=lambda path: path.name[:2] not in ("06", "10"))
    with ThreadPoolExecutor(PARALLEL) as pool:
        yield {name_of(path): pool.submit(run, path) for path in selected}


@pytest.mark.parametrize("path", [pytest.param(p, id=name_of(p), marks=pytest.mark.timeout(900))
                                  for p in WITH_EXERCISES + TRANSLATED])
def test_every_exercise_of_the_learner_edition_is_not_done(path: Path, executed: dict[str, Future]) -> None:
    if os.geteuid() != 0:
        pytest.skip("the notebooks make network namespaces: run this tier as root")
    nb = executed[name_of(path)].result(timeout=900)
    if language_of(path) == "zh":
        boxes = [str(o.get("data", {}).get("text/html", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        assert any("尚未完成" in box for box in boxes) and not any("Not done yet" in box for box in boxes), \
            f"{path.name}: the 'not done' box is not in Chinese"
    rows = grade_notebook(nb, "learner", path.stem)
    wrong = [f"{r.exercise}: {r.status} ({r.detail})" for r in rows if r.status not in ("not done", "skipped")]
    assert not wrong, f"{path.name} as the learner gets it: " + "; ".join(wrong)
    errors = [(c.id, o["ename"]) for c in nb.cells if c.cell_type == "code" for o in c.outputs if o["output_type"] == "error"]
    answers = {e.answer for e in exercises_of(nb)}
    first = next(i for i, c in enumerate(nb.cells) if i in answers)
    assert not [e for e in errors if [c.id for c in nb.cells].index(e[0]) < first], \
        f"{path.name}: a cell before the first exercise failed: {errors}"
    skipped = [f"{r.exercise}: {r.detail}" for r in rows if r.status == "skipped"]
    if skipped:
        done = sum(r.status == "not done" for r in rows)
        pytest.skip(f"{path.name}: {done} exercise(s) 'not done' as expected; skipped here: " + "; ".join(skipped))
