"""Grading a class: which self-checks of each learner's notebook passed, from the executed notebook.

Pure: this module reads notebooks that have already run (``labkit.grade_run`` runs them,
headless, each on the learner's own fresh lab) and says, per learner and per
exercise, one of five things a teacher can act on:

    passed        the check cell ran and showed its green lines (the kernel is as the exercise asks)
    failed        the check cell raised CheckFailed: the learner tried, the kernel says otherwise (with its hint)
    not done      the exercise's cell still holds its placeholder ``...`` (NotDone), and the check did not pass
    did not run   the check never gave a verdict: an error before it (the first one is named), the check
                  cell missing, or the notebook stopped earlier (a timeout, a dead kernel)
    skipped       the lab needs what this kernel lacks (a device kind, the VM target): the reason of its banner

Exercises are found the way nbgrader finds them, by cell metadata (``notebooks/build.py``
writes it): an autograder test cell (``nbgrader.grade``, grade id ``NN-exerciseK-check``)
and the answer cell before it (``nbgrader.solution``, grade id ``NN-exerciseK``).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from typing import Any

STATUSES = ("passed", "failed", "not done", "did not run", "skipped")
#: where labkit.grade_run notes, in the executed notebook's metadata, why it stopped early
RUN_KEY = "labkit_grade"
SKIP_MIME = "application/vnd.labkit.skip+json"  # labkit.notebook.SKIP_MIME (kept here: this module imports nothing that runs)
CHECK_SUFFIX = "-check"
COLUMNS = ("learner", "notebook", "exercise", "status", "points", "max_points", "detail")


@dataclass(frozen=True)
class Exercise:
    """One exercise of a notebook: its answer cell (if any) and its check cell, by index."""

    grade_id: str
    check: int
    answer: int | None
    points: float


@dataclass(frozen=True)
class Result:
    """One row of the class report."""

    learner: str
    notebook: str
    exercise: str
    status: str
    points: float
    max_points: float
    detail: str


def nbgrader_of(cell: Any) -> dict[str, Any]:
    """A cell's nbgrader metadata (empty when it has none)."""
    return dict(cell.get("metadata", {}).get("nbgrader", {}) or {})


def exercises_of(nb: Any) -> list[Exercise]:
    """The exercises of a notebook, in order, from nbgrader's metadata of its check cells."""
    cells = nb["cells"]
    found = []
    for index, cell in enumerate(cells):
        meta = nbgrader_of(cell)
        if not (meta.get("grade") and cell.get("cell_type") == "code"):
            continue
        grade_id = str(meta.get("grade_id", f"cell{index}"))
        base = grade_id[: -len(CHECK_SUFFIX)] if grade_id.endswith(CHECK_SUFFIX) else grade_id
        answer = next((j for j in range(index - 1, -1, -1)
                       if nbgrader_of(cells[j]).get("solution") and nbgrader_of(cells[j]).get("grade_id") == base), None)
        found.append(Exercise(base, index, answer, float(meta.get("points", 1))))
    return found


def _error(cell: Any) -> tuple[str, str] | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return str(out.get("ename", "")), _clean(str(out.get("evalue", "")))
    return None


def _clean(text: str) -> str:
    """An error's value without terminal colours, on one line."""
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text).replace("\n", " ").strip()


def _ran(cell: Any) -> bool:
    return cell.get("execution_count") is not None or bool(cell.get("outputs"))


def _checks_shown(cell: Any) -> int:
    """How many passed checks (green ✔ lines of ``CheckResult``) a cell displayed."""
    count = 0
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "labkit-check-ok" in str(data.get("text/html", "")) or str(data.get("text/plain", "")).startswith("✔"):
            count += 1
    return count


def _skips(cells: list[Any]) -> list[str]:
    return [str(out["data"][SKIP_MIME].get("reason", "")) for cell in cells for out in cell.get("outputs", [])
            if SKIP_MIME in out.get("data", {})]


def _name(nb: Any, index: int) -> str:
    cell = nb["cells"][index]
    return str(cell.get("id") or f"#{index + 1}")


def classify(nb: Any, exercise: Exercise, start: int = 0) -> tuple[str, str]:
    """(status, detail) of one exercise of an executed notebook; ``start`` is where its part begins
    (the cell after the previous exercise's check), for the skip banners and errors that belong to it."""
    cells = nb["cells"]
    check = cells[exercise.check]
    error = _error(check)
    shown = _checks_shown(check)
    if _ran(check) and error is None and shown:
        return "passed", f"{shown} check(s) passed"
    part = cells[start: exercise.check + 1]
    skipped = _skips(part)
    if _ran(check) and error is None and skipped:
        return "skipped", skipped[-1]
    answer_error = _error(cells[exercise.answer]) if exercise.answer is not None else None
    if (answer_error and answer_error[0] == "NotDone") or (error and error[0] == "NotDone"):
        return "not done", "the exercise's cell still holds its placeholder `...`"
    if error and error[0] == "CheckFailed":
        return "failed", error[1]
    stopped = dict(nb.get("metadata", {}).get(RUN_KEY, {}) or {}).get("stopped", "")
    if not _ran(check):
        return "did not run", stopped or "the check cell was not run"
    errors = [(i, e) for i, e in ((i, _error(c)) for i, c in enumerate(cells[: exercise.check + 1])) if e]
    first = next(((i, e) for i, e in errors if i >= start), errors[0] if errors else None)  # its own part's first
    if first is not None:
        index, (ename, evalue) = first
        return "did not run", f"cell {_name(nb, index)} raised {ename} first: {evalue}"[:500]
    return "did not run", "the check cell ran but showed no check"


def grade_notebook(nb: Any, learner: str, notebook: str, expected: list[str] | None = None) -> list[Result]:
    """The rows of one learner's executed notebook. ``expected`` (grade ids of the released
    notebook) adds a "did not run" row for each exercise whose check cell the learner removed."""
    rows, start, seen = [], 0, set()
    found = exercises_of(nb)
    for exercise in found:
        status, detail = classify(nb, exercise, start)
        start = exercise.check + 1
        seen.add(exercise.grade_id)
        rows.append(Result(learner, notebook, exercise.grade_id, status,
                           exercise.points if status == "passed" else 0.0, exercise.points, detail))
    for grade_id in expected or []:
        if grade_id not in seen:
            rows.append(Result(learner, notebook, grade_id, "did not run", 0.0, 1.0,
                               f"the check cell {grade_id}{CHECK_SUFFIX} is missing from the notebook"))
    return rows


def to_csv(rows: list[Result]) -> str:
    """The class report as CSV, one row per learner, notebook and exercise (columns: :data:`COLUMNS`)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**asdict(row), "points": _number(row.points), "max_points": _number(row.max_points)})
    return out.getvalue()


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def summary(rows: list[Result]) -> dict[str, dict[str, Any]]:
    """Per learner: points, the most there were, and how many exercises had each status."""
    learners: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = learners.setdefault(row.learner, {"points": 0, "max_points": 0, "statuses": dict.fromkeys(STATUSES, 0)})
        entry["points"] = _number(entry["points"] + row.points)
        entry["max_points"] = _number(entry["max_points"] + row.max_points)
        entry["statuses"][row.status] += 1
    return learners


def to_json(rows: list[Result]) -> str:
    """The class report as JSON: ``{"statuses", "learners": {name: summary}, "results": [rows]}``."""
    return json.dumps({"statuses": list(STATUSES), "learners": summary(rows),
                       "results": [{**asdict(r), "points": _number(r.points), "max_points": _number(r.max_points)}
                                   for r in rows]},
                      indent=1, ensure_ascii=False) + "\n"


def table(rows: list[Result]) -> str:
    """A short text table for the terminal: one line per learner and notebook."""
    lines = []
    for learner, entry in summary(rows).items():
        counts = ", ".join(f"{n} {s}" for s, n in entry["statuses"].items() if n)
        lines.append(f"{learner}: {entry['points']}/{entry['max_points']} points ({counts})")
        for row in (r for r in rows if r.learner == learner):
            lines.append(f"  {row.notebook} {row.exercise}: {row.status}" + (f" — {row.detail}" if row.status != "passed" else ""))
    return "\n".join(lines)


__all__ = ["COLUMNS", "STATUSES", "Exercise", "Result", "classify", "exercises_of", "grade_notebook", "nbgrader_of", "summary", "table",
           "to_csv", "to_json"]
