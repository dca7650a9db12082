"""``labkit grade`` on a class: real notebooks, real labs, a report with right, wrong and unfinished answers.

The class is made here from the learner's edition, as learners would hand it in:

    ada  04-bridge solved (the source's ``solution`` cell); 12 handed in untouched
    bob  04-bridge with the source's ``wrong`` attempt
    cy   04-bridge untouched: the placeholder ``...`` left
    dee  04-bridge solved, but its (locked) check cell deleted: the check never gives a verdict

and ``labkit grade`` runs each notebook headless on the learner's own fresh lab. The CSV
and the JSON are compared whole: passed, failed (with the check's hint), not done, did not
run (the check the release has and the notebook lacks), skipped (12 needs the VM target: its banner's reason).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from labkit.cli import main
from notebooks import build as BUILD  # notebooks/build.py: the repository root is on the path

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SKIP_12 = "bridging the VM's real eth0 needs the vagrant target, and this lab runs on local"


def source_answers(stem: str) -> tuple[str, str]:
    """The first exercise's solution and wrong attempt, from the notebook's source."""
    cells = BUILD.read_source(NOTEBOOKS / "src" / f"{stem}.py").cells
    solution, _check = BUILD.exercises(cells)[0]
    return cells[solution].source, cells[solution + 1].source


def hand_in(root: Path, learner: str, stem: str, answer: str | None, without_check: bool = False) -> None:
    """The learner's edition of ``stem`` with its first to-do cell replaced by ``answer`` (None: left as is)."""
    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    if answer is not None:
        todo = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
        todo.source = answer
    if without_check:
        nb.cells = [c for c in nb.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    (root / learner).mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, root / learner / f"{stem}.ipynb")


@pytest.mark.timeout(900)
def test_a_class_is_graded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() != 0:
        pytest.skip("the notebooks make network namespaces: run this tier as root")
    right04, wrong04 = source_answers("04-bridge")
    submitted = tmp_path / "submitted"
    hand_in(submitted, "ada", "04-bridge", right04)
    hand_in(submitted, "ada", "12-vm-real-eth0", None)
    hand_in(submitted, "bob", "04-bridge", wrong04)
    hand_in(submitted, "cy", "04-bridge", None)
    hand_in(submitted, "dee", "04-bridge", right04, without_check=True)

    out = tmp_path / "grades"
    assert main(["grade", str(submitted), "--release", str(NOTEBOOKS), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    print(printed)

    failed = "veth-h1 is not a port of br0 (its master is none). lab.enslave('veth-h1', 'br0', ns='main')"
    assert (out / "grades.csv").read_text() == (
        "learner,notebook,exercise,status,points,max_points,detail\n"
        "ada,04-bridge,04-exercise1,passed,1,1,3 check(s) passed\n"
        f'ada,12-vm-real-eth0,12-exercise1,skipped,0,1,"{SKIP_12}"\n'
        f'bob,04-bridge,04-exercise1,failed,0,1,"{failed}"\n'
        "cy,04-bridge,04-exercise1,not done,0,1,the exercise's cell still holds its placeholder `...`\n"
        "dee,04-bridge,04-exercise1,did not run,0,1,the check cell 04-exercise1-check is missing from the notebook\n")

    def learner(points: int, most: int, **counts: int) -> dict:
        statuses = dict.fromkeys(["passed", "failed", "not done", "did not run", "skipped"], 0)
        statuses.update({k.replace("_", " "): v for k, v in counts.items()})
        return {"points": points, "max_points": most, "statuses": statuses}

    report = json.loads((out / "grades.json").read_text())
    assert report["learners"] == {"ada": learner(1, 2, passed=1, skipped=1), "bob": learner(0, 1, failed=1),
                                  "cy": learner(0, 1, not_done=1), "dee": learner(0, 1, did_not_run=1)}
    assert [(r["learner"], r["notebook"], r["status"], r["points"]) for r in report["results"]] == [
        ("ada", "04-bridge", "passed", 1), ("ada", "12-vm-real-eth0", "skipped", 0),
        ("bob", "04-bridge", "failed", 0), ("cy", "04-bridge", "not done", 0), ("dee", "04-bridge", "did not run", 0)]
    assert report["results"][2]["detail"] == failed
    assert "ada: 1/2 points (1 passed, 1 skipped)" in printed
    for learner_name, stem in (("ada", "04-bridge"), ("cy", "04-bridge")):  # the executed notebooks, for the teacher
        assert (out / "executed" / learner_name / f"{stem}.ipynb").exists()
