"""Build the lab notebooks from their readable sources, in two editions.

    notebooks/src/NN-name.py  →  notebooks/NN-name.ipynb            the learner's edition (what ./dev lab serves)
                              →  notebooks/solutions/NN-name.ipynb  the instructor's edition (solutions filled in)

A source is a Python file in Jupytext's "percent" format (which VS Code and
Spyder read too): ``# %%`` starts a code cell, ``# %% [markdown]`` a markdown cell
whose lines are comments (``# text``), and ``# %% tags=["solution"]`` gives a cell
tags. Jupytext reads the sources; this script only adds what a lab notebook needs:

* an **exercise** is a cell tagged ``solution`` and the first cell tagged ``check``
  after it. The instructor's edition keeps the solution; the learner's edition has a
  to-do cell in its place, whose placeholder line ``...`` stops with "not done yet"
  (``labkit.notebook.PLACEHOLDER``). Both carry nbgrader's cell metadata (schema 3):
  the solution/to-do cell is an autograded answer (``solution: true``, grade id
  ``NN-exerciseK``), the check cell an autograder test (``grade: true``, ``locked: true``,
  1 point, grade id ``NN-exerciseK-check``), so ``nbgrader generate_assignment`` takes
  the instructor's edition as its source and ``labkit grade`` finds the exercises;
* cells tagged ``wrong`` (a wrong attempt at the exercise whose ``solution`` cell
  precedes them) are in neither edition; the notebook tier runs them in place of
  the solution and expects the exercise's ``check`` cell to fail;
* stable cell ids (``03-07``), no outputs, and ``metadata.labkit`` naming the notebook
  and its edition, so a diff of a source is the whole review.

An edition is one row of :data:`EDITIONS` (its folder and how it turns a source's
cells into its own); another one, a translation say, is another row.

A notebook is "in sync" when its cells (kinds, sources, tags and nbgrader metadata)
and its ``labkit`` metadata are those its source builds; ids do not count.

    python notebooks/build.py            # write every notebook whose source changed (both editions)
    python notebooks/build.py 01 07      # only these (prefixes of the file names)
    python notebooks/build.py --check    # exit 1 if a notebook is out of date (CI, tests/notebooks)
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import jupytext
import nbformat

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
#: the tags a lab notebook's cells may carry
TAGS = ("solution", "wrong", "check")
#: the placeholder of a to-do cell (labkit.notebook.PLACEHOLDER; this script runs without labkit importable)
PLACEHOLDER = "...  # your command here"
#: points of one exercise's check cell, for nbgrader and labkit grade
POINTS = 1


def tags_of(cell: nbformat.NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def read_source(source: Path) -> nbformat.NotebookNode:
    """Every cell of a source, ``wrong`` attempts included, as Jupytext reads it (ids ``NN-MM`` by position)."""
    nb = jupytext.reads(source.read_text(encoding="utf-8"), fmt="py:percent")
    out = nbformat.v4.new_notebook()
    out.metadata = {"kernelspec": KERNEL, "language_info": {"name": "python"}}
    for number, cell in enumerate(nb.cells):
        if not cell.source.strip():
            continue
        new = nbformat.v4.new_markdown_cell(cell.source) if cell.cell_type == "markdown" else nbformat.v4.new_code_cell(cell.source)
        if tags_of(cell):
            new.metadata["tags"] = tags_of(cell)
        new.id = f"{source.stem[:2]}-{number:02d}"
        out.cells.append(new)
    return out


def exercises(cells: list[nbformat.NotebookNode]) -> list[tuple[int, int]]:
    """(solution index, check index) of each exercise: a ``solution`` cell and the first ``check`` cell after it."""
    found = []
    for index, cell in enumerate(cells):
        if "solution" in tags_of(cell):
            check = next((j for j in range(index + 1, len(cells)) if "check" in tags_of(cells[j])), None)
            if check is None:
                raise SystemExit(f"the solution cell {cell.id} has no cell tagged 'check' after it")
            found.append((index, check))
    return found


def nbgrader(grade_id: str, *, check: bool) -> dict:
    """nbgrader's cell metadata (schema 3): an autograder test (the check) or an autograded answer (the solution)."""
    if check:
        return {"grade": True, "grade_id": grade_id, "locked": True, "points": POINTS, "schema_version": 3,
                "solution": False, "task": False}
    return {"grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3, "solution": True, "task": False}


def _names(code: str, stored: bool) -> set[str]:
    """Names a cell assigns (``stored``) or reads, as Python parses it."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store if stored else ast.Load):
            found.add(node.id)
        elif stored and isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found.add(node.name)
    return found


def todo_cell(solution: nbformat.NotebookNode, after: list[nbformat.NotebookNode], number: int) -> str:
    """The learner's to-do cell for one exercise: what to do, the names the cells after it need, the placeholder."""
    needed = sorted(_names(solution.source, stored=True) & set().union(*(_names(c.source, False) for c in after)))
    lines = [f"# Exercise {number} · your turn: write your commands in place of the `...` line below,",
             "# then run this cell and the check after it (the check reads the kernel)."]
    if needed:
        lines.append(f"# The cells after this one use what you define here: {', '.join(needed)}.")
    return "\n".join([*lines, PLACEHOLDER])


def with_solutions(cells: list[nbformat.NotebookNode], stem: str) -> list[nbformat.NotebookNode]:
    """The instructor's cells: the solutions kept, ``wrong`` attempts left out, nbgrader metadata on each exercise."""
    return _exercises_marked(cells, stem, todo=False)


def with_todos(cells: list[nbformat.NotebookNode], stem: str) -> list[nbformat.NotebookNode]:
    """The learner's cells: each solution replaced by a to-do cell with the placeholder."""
    return _exercises_marked(cells, stem, todo=True)


def _exercises_marked(cells: list[nbformat.NotebookNode], stem: str, todo: bool) -> list[nbformat.NotebookNode]:
    cells = [nbformat.from_dict(dict(cell)) for cell in cells]
    for number, (solution, check) in enumerate(exercises(cells), start=1):
        grade_id = f"{stem[:2]}-exercise{number}"
        if todo:
            after = [c for c in cells[solution + 1: check + 1] if "wrong" not in tags_of(c)]
            cells[solution].source = todo_cell(cells[solution], after, number)
        cells[solution].metadata["nbgrader"] = nbgrader(grade_id, check=False)
        cells[check].metadata["nbgrader"] = nbgrader(f"{grade_id}-check", check=True)
    return [cell for cell in cells if "wrong" not in tags_of(cell)]


class Edition(NamedTuple):
    """One kind of built notebook: where it goes and how a source's cells become its cells."""

    name: str
    folder: Path
    cells: Callable[[list[nbformat.NotebookNode], str], list[nbformat.NotebookNode]]


EDITIONS = (Edition("learner", HERE, with_todos), Edition("instructor", HERE / "solutions", with_solutions))


def edition(name: str) -> Edition:
    return next(e for e in EDITIONS if e.name == name)


def build(source: Path, edition: Edition = EDITIONS[0]) -> nbformat.NotebookNode:
    """One edition of one source's notebook."""
    nb = read_source(source)
    nb.cells = edition.cells(nb.cells, source.stem)
    nb.metadata["labkit"] = {"notebook": source.stem, "edition": edition.name}
    return nb


def render(source: Path, edition: Edition = EDITIONS[0]) -> str:
    return nbformat.writes(build(source, edition), version=4) + "\n"


def target_of(source: Path, edition: Edition = EDITIONS[0]) -> Path:
    return edition.folder / f"{source.stem}.ipynb"


def sources() -> list[Path]:
    return sorted(SRC.glob("[0-9][0-9]-*.py"))


def cells_of(nb: nbformat.NotebookNode) -> list[tuple[str, str, list[str], dict]]:
    """What "in sync" compares: each cell's kind, source, tags and nbgrader metadata."""
    return [(cell.cell_type, cell.source, tags_of(cell), dict(cell.get("metadata", {}).get("nbgrader", {})))
            for cell in nb.cells]


def in_sync(source: Path, edition: Edition = EDITIONS[0]) -> bool:
    target = target_of(source, edition)
    if not target.exists():
        return False
    stored, built = nbformat.read(target, as_version=4), build(source, edition)
    return cells_of(stored) == cells_of(built) and stored.metadata.get("labkit") == built.metadata["labkit"]


def stale() -> list[Path]:
    """Notebooks, of every edition, whose cells differ from what their sources build."""
    return [target_of(s, e) for e in EDITIONS for s in sources() if not in_sync(s, e)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report notebooks that are out of date")
    parser.add_argument("only", nargs="*", help="build only sources whose name starts with one of these (e.g. 01 07)")
    args = parser.parse_args(argv)
    if args.check:
        out = stale()
        for path in out:
            print(f"out of date: {path.relative_to(HERE.parent)} (run python notebooks/build.py)")
        return 1 if out else 0
    for each in EDITIONS:
        each.folder.mkdir(parents=True, exist_ok=True)
        for source in sources():
            if args.only and not source.stem.startswith(tuple(args.only)):
                continue
            if not in_sync(source, each):
                target_of(source, each).write_text(render(source, each), encoding="utf-8")
                print(f"wrote {target_of(source, each).relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
