"""Build the lab notebooks from their readable sources: ``notebooks/src/NN-name.py`` → ``notebooks/NN-name.ipynb``.

A source is a Python file in the "percent" format that Jupytext, VS Code and
Spyder understand: ``# %%`` starts a code cell, ``# %% [markdown]`` a markdown
cell whose lines are comments (``# text``). The notebooks are written without
outputs and with stable cell ids, so a diff of a source is the whole review. A
notebook is "in sync" when its cells (kinds and sources) are those its source
builds; cell ids and metadata do not count, so a notebook written by Jupytext is
left alone.

    python notebooks/build.py            # write every notebook whose source changed
    python notebooks/build.py 01 07      # only these (prefixes of the file names)
    python notebooks/build.py --check    # exit 1 if a notebook is out of date (CI, tests/notebooks)
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
MARKER = re.compile(r"^# %%(?P<rest>.*)$")
KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _cells(text: str) -> list[tuple[str, str]]:
    """(kind, source) for each cell of a percent-format file; text before the first marker is ignored."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        found = MARKER.match(line)
        if found:
            cells.append(("markdown" if "[markdown]" in found.group("rest") else "code", []))
        elif cells:
            cells[-1][1].append(line)
    out = []
    for kind, lines in cells:
        if kind == "markdown":
            lines = [re.sub(r"^# ?", "", line) if line.startswith("#") else line for line in lines]
        body = "\n".join(lines).strip("\n")
        if body:
            out.append((kind, body))
    return out


def build(source: Path) -> nbformat.NotebookNode:
    """The notebook for one source file."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": KERNEL, "language_info": {"name": "python"}}
    for number, (kind, body) in enumerate(_cells(source.read_text(encoding="utf-8"))):
        cell = nbformat.v4.new_markdown_cell(body) if kind == "markdown" else nbformat.v4.new_code_cell(body)
        cell.id = f"{source.stem[:2]}-{number:02d}"
        nb.cells.append(cell)
    return nb


def render(source: Path) -> str:
    return nbformat.writes(build(source), version=4) + "\n"


def target_of(source: Path) -> Path:
    return HERE / f"{source.stem}.ipynb"


def sources() -> list[Path]:
    return sorted(SRC.glob("[0-9][0-9]-*.py"))


def cells_of(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """What "in sync" compares: each cell's kind and source."""
    return [(cell.cell_type, cell.source) for cell in nb.cells]


def in_sync(source: Path) -> bool:
    target = target_of(source)
    return target.exists() and cells_of(nbformat.read(target, as_version=4)) == cells_of(build(source))


def stale() -> list[Path]:
    """Notebooks whose cells differ from what their sources build."""
    return [target_of(s) for s in sources() if not in_sync(s)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
