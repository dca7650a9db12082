"""Build the lab notebooks from their readable sources: ``notebooks/src/NN-name.py`` → ``notebooks/NN-name.ipynb``.

A source is a Python file in Jupytext's "percent" format (which VS Code and
Spyder read too): ``# %%`` starts a code cell, ``# %% [markdown]`` a markdown cell
whose lines are comments (``# text``), and ``# %% tags=["solution"]`` gives a cell
tags. Jupytext reads the sources; this script only adds what a lab notebook needs:

* cells tagged ``wrong`` (a wrong attempt at the exercise whose ``solution`` cell
  precedes them) are left out of the learner's notebook; the notebook tier runs them
  in place of the solution and expects the exercise's ``check`` cell to fail;
* stable cell ids (``03-07``) and no outputs, so a diff of a source is the whole review.

A notebook is "in sync" when its cells (kinds, sources and tags) are those its source
builds; ids and other metadata do not count.

    python notebooks/build.py            # write every notebook whose source changed
    python notebooks/build.py 01 07      # only these (prefixes of the file names)
    python notebooks/build.py --check    # exit 1 if a notebook is out of date (CI, tests/notebooks)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
#: the tags a lab notebook's cells may carry
TAGS = ("solution", "wrong", "check")


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


def build(source: Path) -> nbformat.NotebookNode:
    """The learner's notebook for one source: without its ``wrong`` cells."""
    nb = read_source(source)
    nb.cells = [cell for cell in nb.cells if "wrong" not in tags_of(cell)]
    return nb


def render(source: Path) -> str:
    return nbformat.writes(build(source), version=4) + "\n"


def target_of(source: Path) -> Path:
    return HERE / f"{source.stem}.ipynb"


def sources() -> list[Path]:
    return sorted(SRC.glob("[0-9][0-9]-*.py"))


def cells_of(nb: nbformat.NotebookNode) -> list[tuple[str, str, list[str]]]:
    """What "in sync" compares: each cell's kind, source and tags."""
    return [(cell.cell_type, cell.source, tags_of(cell)) for cell in nb.cells]


def in_sync(source: Path) -> bool:
    target = target_of(source)
    return target.exists() and cells_of(nbformat.read(target, as_version=4)) == cells_of(build(source))


def stale() -> list[Path]:
    """Notebooks whose cells differ from what their sources build."""
    return [target_of(s) for s in sources() if not in_sync(s)]


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
    for source in sources():
        if args.only and not source.stem.startswith(tuple(args.only)):
            continue
        if not in_sync(source):
            target_of(source).write_text(render(source), encoding="utf-8")
            print(f"wrote {target_of(source).relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
