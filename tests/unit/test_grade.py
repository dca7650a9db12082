"""labkit grade, the pure part: verdicts read from executed notebooks, the class report, the placeholder.

The notebooks here are made by hand, with the outputs a real run leaves (an error's
``ename``, a check's green line, a skip marker); that real runs leave exactly these is
tests/notebooks/test_grade_class.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from labkit.cli import main
from labkit.errors import NotDone
from labkit.grade import RUN_KEY, classify, exercises_of, grade_notebook, to_csv, to_json
from labkit.grade_run import restore_checks, submissions
from labkit.notebook import PLACEHOLDER, SKIP_MIME, watch_placeholders

pytestmark = pytest.mark.unit

OK = {"output_type": "display_data", "metadata": {},
      "data": {"text/plain": "✔ veth-h1 is a port of br0", "text/html": '<div class="labkit-check-ok">✔ …</div>'}}
SKIP = {"output_type": "display_data", "metadata": {},
        "data": {"text/plain": "⏭ skipped: needs the vagrant target", SKIP_MIME: {"reason": "needs the vagrant target"}}}


def error(ename: str, evalue: str) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"\x1b[1;31m{ename}\x1b[0m: {evalue}"]}


def cell(source: str, outputs: list | None = None, ran: bool = True, **nbgrader: object) -> nbformat.NotebookNode:
    new = nbformat.v4.new_code_cell(source)
    new.outputs = [nbformat.from_dict(o) for o in outputs or []]
    new.execution_count = 1 if ran else None
    if nbgrader:
        new.metadata["nbgrader"] = {"schema_version": 3, "locked": False, "solution": False, "grade": False, **nbgrader}
    return new


def notebook(answer_outputs: list, check_outputs: list, check_ran: bool = True, before: list | None = None,
             stopped: str = "") -> nbformat.NotebookNode:
    """fresh_lab, an exercise (answer, check), and its close: one exercise graded ``04-exercise1``."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [cell("lab = fresh_lab()", before or []),
                cell("lab.enslave('veth-h1', 'br0')", answer_outputs, grade_id="04-exercise1", solution=True),
                cell("checks(lab.check.is_port_of('veth-h1', 'br0'))", check_outputs, ran=check_ran,
                     grade_id="04-exercise1-check", grade=True, locked=True, points=1),
                cell("lab.close()", [], ran=check_ran)]
    if stopped:
        nb.metadata[RUN_KEY] = {"stopped": stopped}
    return nb


def verdict(nb: nbformat.NotebookNode) -> tuple[str, str]:
    (exercise,) = exercises_of(nb)
    return classify(nb, exercise)


def test_passed_when_the_check_shows_its_green_lines() -> None:
    assert verdict(notebook([], [OK, OK])) == ("passed", "2 check(s) passed")


def test_failed_when_the_check_raises_check_failed_with_its_hint() -> None:
    nb = notebook([], [error("CheckFailed", "veth-h1 is not a port of br0. lab.enslave('veth-h1', 'br0')")])
    assert verdict(nb) == ("failed", "veth-h1 is not a port of br0. lab.enslave('veth-h1', 'br0')")


def test_not_done_when_the_placeholder_is_left_whatever_the_check_says() -> None:
    for check in ([error("CheckFailed", "not a port")], [error("NameError", "name 'answer' is not defined")]):
        assert verdict(notebook([error("NotDone", "this exercise is not done yet")], check))[0] == "not done"


def test_passed_beats_a_placeholder_left_below_work_done_elsewhere() -> None:
    assert verdict(notebook([error("NotDone", "not done yet")], [OK]))[0] == "passed"


def test_did_not_run_names_the_first_error_of_its_part() -> None:
    nb = notebook([error("NameError", "name 'peer_name' is not defined")], [error("NameError", "name 'answer' is not defined")])
    assert verdict(nb) == ("did not run", "cell " + nb.cells[1].id + " raised NameError first: name 'peer_name' is not defined")


def test_did_not_run_when_an_error_of_the_notebook_itself_came_first() -> None:
    nb = notebook([], [error("NameError", "name 'lab' is not defined")],
                  before=[error("NoPrivileges", "\x1b[1mneither root\x1b[0m nor sudo")])
    assert verdict(nb) == ("did not run", f"cell {nb.cells[0].id} raised NoPrivileges first: neither root nor sudo")


def test_did_not_run_when_the_notebook_stopped_before_the_check() -> None:
    nb = notebook([], [], check_ran=False, stopped="the notebook stopped at cell 04-22: the kernel died")
    assert verdict(nb) == ("did not run", "the notebook stopped at cell 04-22: the kernel died")
    assert verdict(notebook([], [], check_ran=False)) == ("did not run", "the check cell was not run")


def test_did_not_run_when_the_check_shows_nothing() -> None:
    assert verdict(notebook([], [])) == ("did not run", "the check cell ran but showed no check")


def test_skipped_with_the_reason_of_the_banner() -> None:
    nb = notebook([error("NotDone", "not done yet")], [], before=[SKIP])
    assert verdict(nb) == ("skipped", "needs the vagrant target")


def test_a_removed_check_cell_is_reported_against_the_release() -> None:
    nb = notebook([], [OK])
    del nb.cells[2]
    rows = grade_notebook(nb, "dee", "04-bridge", expected=["04-exercise1"])
    assert [(r.exercise, r.status, r.detail) for r in rows] == [
        ("04-exercise1", "did not run", "the check cell 04-exercise1-check is missing from the notebook")]


def test_report_as_csv_and_json() -> None:
    rows = (grade_notebook(notebook([], [OK]), "ada", "04-bridge")
            + grade_notebook(notebook([], [error("CheckFailed", 'not a port, "br0"')]), "bob", "04-bridge"))
    assert to_csv(rows) == ("learner,notebook,exercise,status,points,max_points,detail\n"
                            "ada,04-bridge,04-exercise1,passed,1,1,1 check(s) passed\n"
                            'bob,04-bridge,04-exercise1,failed,0,1,"not a port, ""br0"""\n')
    report = json.loads(to_json(rows))
    assert report["statuses"] == ["passed", "failed", "not done", "did not run", "skipped"]
    assert report["learners"]["ada"] == {"points": 1, "max_points": 1,
                                         "statuses": {"passed": 1, "failed": 0, "not done": 0, "did not run": 0, "skipped": 0}}
    assert report["results"][1] == {"learner": "bob", "notebook": "04-bridge", "exercise": "04-exercise1", "status": "failed",
                                    "points": 0, "max_points": 1, "detail": 'not a port, "br0"'}


def test_released_checks_are_put_back() -> None:
    released, submitted = notebook([], []), notebook([], [])
    submitted.cells[2].source = "print('✔ trust me')"
    restore_checks(submitted, released)
    assert submitted.cells[2].source == released.cells[2].source


def test_submissions_per_folder_or_per_file(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(metadata={"labkit": {"notebook": "04-bridge", "edition": "learner"}})
    (tmp_path / "ada" / "lab4").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "ada" / "lab4" / "04-bridge.ipynb")
    nbformat.write(nb, tmp_path / "bob.ipynb")
    (tmp_path / "notes.txt").write_text("not a notebook")
    assert [(s.learner, s.notebook) for s in submissions(tmp_path)] == [("ada", "04-bridge"), ("bob", "04-bridge")]


def test_labkit_grade_says_what_is_wrong_with_its_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grade", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert f"no notebooks in {tmp_path}" in capsys.readouterr().err


def test_the_placeholder_stops_with_not_done_in_an_ipython_shell() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    assert watch_placeholders(shell) and watch_placeholders(shell)
    assert sum(type(t).__name__ == "PlaceholderGuard" for t in shell.ast_transformers) == 1
    try:
        result = shell.run_cell(f"# Exercise 1 · your turn\n{PLACEHOLDER}\n")
        assert isinstance(result.error_in_exec, NotDone)
        assert "placeholder `...`" in result.error_in_exec.what and "in place of the `...` line" in result.error_in_exec.hint
        kept = shell.run_cell("x = ...\ndef f():\n    ...\nf()")  # only a line that is nothing but `...` is a placeholder
        assert kept.error_in_exec is None and shell.user_ns["x"] is Ellipsis
    finally:
        shell.ast_transformers[:] = [t for t in shell.ast_transformers if type(t).__name__ != "PlaceholderGuard"]
