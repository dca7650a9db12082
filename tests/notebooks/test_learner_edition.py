"""The learner's edition, run as a learner gets it: every exercise reports "not done".

Each ``notebooks/NN-*.ipynb`` with exercises runs headless as ``labkit grade`` runs a
submission (a fresh kernel, every cell, errors allowed), untouched: the placeholder ``...``
of each to-do cell must stop with NotDone, so the grader says "not done" — not "failed"
(the learner did not try) and not "passed" (a check that passes on nothing proves
nothing). An exercise whose part this kernel cannot run (a skip banner) is reported as a
skip, with its reason, once the others are checked. That the same checks pass with the
solutions is test_notebooks_run.py (the instructor's edition).

Of the Chinese learner's edition (``notebooks/zh/``) one lab runs too, with ``LABKIT_LANG=zh`` in its
kernel's environment: its code is the English one, byte for byte (tests/unit/test_notebook_i18n.py), so
one lab with exercises shows its placeholders stop the same way in Chinese, at the cost of one notebook.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from labkit.grade import exercises_of, grade_notebook
from labkit.grade_run import execute

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "notebooks" / "learner"
WITH_EXERCISES = [p for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
                  if exercises_of(nbformat.read(p, as_version=4))]
#: the translated learner's editions run here: one lab each (module docstring)
TRANSLATED = [ROOT / "notebooks" / "zh" / "04-bridge.ipynb"]


def language_of(path: Path) -> str:
    return path.parent.name if path.parent != ROOT / "notebooks" else "en"


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem if language_of(p) == "en" else f"{language_of(p)}-{p.stem}",
                                               marks=pytest.mark.timeout(600)) for p in WITH_EXERCISES + TRANSLATED])
def test_every_exercise_of_the_learner_edition_is_not_done(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() != 0:
        pytest.skip("the notebooks make network namespaces: run this tier as root")
    language = language_of(path)
    name = path.stem if language == "en" else f"{language}-{path.stem}"
    monkeypatch.setenv("LABKIT_LANG", language)  # the kernel nbclient starts inherits it
    nb = execute(nbformat.read(path, as_version=4), ARTIFACTS / "cwd" / name)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, ARTIFACTS / f"{name}.ipynb")
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
