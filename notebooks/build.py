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

An edition is one row of :data:`EDITIONS` (its folder, how it turns a source's
cells into its own, and its language); a translation is two more rows.

**Translations** (one source, two languages): the prose of ``NN-name.py`` in another
language is a gettext catalogue ``notebooks/locale/<lang>/NN-name.po`` whose msgids are
the source's markdown cells (English) and whose msgstrs are their translations; code
cells are never copied, so a change to a lab's code reaches every language. The build
writes ``notebooks/<lang>/NN-name.ipynb`` (learner) and ``notebooks/<lang>/solutions/``
(instructor) for each source that has a catalogue; a markdown cell without a translation
(missing, empty or fuzzy) fails ``--check``, naming the cell; so does a source without
a catalogue in every language of :data:`LANGUAGES` (every lab exists in both languages). ``--extract zh`` writes or
updates the catalogues: new cells come in untranslated, existing translations are kept,
a cell whose English changed keeps its old translation marked fuzzy (to review).

A notebook is "in sync" when its cells (kinds, sources, tags and nbgrader metadata)
and its ``labkit`` metadata are those its source builds; ids do not count.

    python notebooks/build.py            # write every notebook whose source changed (both editions)
    python notebooks/build.py 01 07      # only these (prefixes of the file names)
    python notebooks/build.py --check    # exit 1 if a notebook is out of date or a translation is missing
    python notebooks/build.py --extract zh [01 07]   # write/update notebooks/locale/zh/*.po from the sources
"""

from __future__ import annotations

import argparse
import ast
import functools
import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import jupytext
import nbformat
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
#: the tags a lab notebook's cells may carry
TAGS = ("solution", "wrong", "check")
#: the placeholder of a to-do cell (labkit.notebook.PLACEHOLDER; this script runs without labkit importable)
PLACEHOLDER = "...  # your command here"
#: points of one exercise's check cell, for nbgrader and labkit grade
POINTS = 1
#: the gettext catalogues of the translated notebooks: LOCALE/<lang>/NN-name.po
LOCALE = HERE / "locale"
#: the languages besides English (the sources' own) that notebooks are built in
LANGUAGES = ("zh",)
#: the comment lines of a learner's to-do cell, per language: (what to do, the names the next cells need)
TODO = {
    "en": ("# Exercise {number} · your turn: write your commands in place of the `...` line below,\n"
           "# then run this cell and the check after it (the check reads the kernel).",
           "# The cells after this one use what you define here: {names}."),
    "zh": ("# 练习 {number} · 轮到你了：把下面 `...` 这一行换成你的命令，\n"
           "# 然后运行本单元格和它后面的检查单元格（检查读取的是内核的实际状态）。",
           "# 本单元格之后的单元格会用到你在这里定义的：{names}。"),
}


class Untranslated(SystemExit):
    """A translated edition was asked of a source whose catalogue lacks some markdown cells."""


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


def todo_cell(solution: nbformat.NotebookNode, after: list[nbformat.NotebookNode], number: int,
              language: str = "en") -> str:
    """The learner's to-do cell for one exercise: what to do, the names the cells after it need, the placeholder."""
    needed = sorted(_names(solution.source, stored=True) & set().union(*(_names(c.source, False) for c in after)))
    what, names = TODO[language]
    lines = [what.format(number=number)]
    if needed:
        lines.append(names.format(names=", ".join(needed)))
    return "\n".join([*lines, PLACEHOLDER])


def with_solutions(cells: list[nbformat.NotebookNode], stem: str, language: str = "en") -> list[nbformat.NotebookNode]:
    """The instructor's cells: the solutions kept, ``wrong`` attempts left out, nbgrader metadata on each exercise."""
    return _exercises_marked(cells, stem, todo=False, language=language)


def with_todos(cells: list[nbformat.NotebookNode], stem: str, language: str = "en") -> list[nbformat.NotebookNode]:
    """The learner's cells: each solution replaced by a to-do cell with the placeholder."""
    return _exercises_marked(cells, stem, todo=True, language=language)


def _exercises_marked(cells: list[nbformat.NotebookNode], stem: str, todo: bool,
                      language: str = "en") -> list[nbformat.NotebookNode]:
    cells = [nbformat.from_dict(dict(cell)) for cell in cells]
    for number, (solution, check) in enumerate(exercises(cells), start=1):
        grade_id = f"{stem[:2]}-exercise{number}"
        if todo:
            after = [c for c in cells[solution + 1: check + 1] if "wrong" not in tags_of(c)]
            cells[solution].source = todo_cell(cells[solution], after, number, language)
        cells[solution].metadata["nbgrader"] = nbgrader(grade_id, check=False)
        cells[check].metadata["nbgrader"] = nbgrader(f"{grade_id}-check", check=True)
    return [cell for cell in cells if "wrong" not in tags_of(cell)]


# --- translations: one gettext catalogue per notebook and language -------------------------------------------

def catalogue_path(source: Path, language: str) -> Path:
    return LOCALE / language / f"{source.stem}.po"


def messages(source: Path) -> list[tuple[str, str]]:
    """(cell id, English text) of each markdown cell of a source: what a translation translates."""
    return [(cell.id, cell.source) for cell in read_source(source).cells if cell.cell_type == "markdown"]


def read_catalogue(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def translations(source: Path, language: str) -> dict[str, str]:
    """English text → its translation, for the usable ones only (not empty, not fuzzy)."""
    path = catalogue_path(source, language)
    if not path.exists():
        return {}
    return {m.id: m.string for m in read_catalogue(path)
            if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string and not m.fuzzy}


def untranslated(source: Path, language: str) -> list[str]:
    """The ids of the markdown cells of ``source`` that have no usable translation in ``language``."""
    table = translations(source, language)
    return [cell_id for cell_id, text in messages(source) if text not in table]


def translated(cells: list[nbformat.NotebookNode], source: Path, language: str) -> list[nbformat.NotebookNode]:
    """The cells with each markdown cell's text replaced by its translation; code cells untouched."""
    table = translations(source, language)
    missing = [c.id for c in cells if c.cell_type == "markdown" and c.source not in table]
    if missing:
        raise Untranslated(f"{catalogue_path(source, language).relative_to(HERE.parent)}: no {language} translation "
                           f"of the markdown cells {', '.join(missing)} (python notebooks/build.py --extract {language}, "
                           "then fill their msgstr)")
    out = []
    for cell in cells:
        cell = nbformat.from_dict(dict(cell))
        if cell.cell_type == "markdown":
            cell.source = table[cell.source]
        out.append(cell)
    return out


def template(source: Path, language: str) -> Catalog:
    """A catalogue of a source's markdown cells, untranslated; each entry says which cell it is."""
    cat = Catalog(locale=language, project="labkit", fuzzy=False, charset="utf-8")
    for cell_id, text in messages(source):
        cat.add(text, auto_comments=[f"cell {cell_id} of notebooks/src/{source.name}"])
    return cat


def po_text(cat: Catalog) -> str:
    out = io.BytesIO()
    write_po(out, cat, width=0, include_previous=True, sort_output=False)
    return out.getvalue().decode("utf-8")


def extract(source: Path, language: str) -> Path:
    """Write or update ``source``'s catalogue: new cells untranslated, translations kept, changed cells fuzzy."""
    path = catalogue_path(source, language)
    new = template(source, language)
    if path.exists():
        cat = read_catalogue(path)
        cat.update(new, update_creation_date=False)
    else:
        cat = new
    text = po_text(cat)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path


# --- editions -------------------------------------------------------------------------------------------------

class Edition(NamedTuple):
    """One kind of built notebook: where it goes, how a source's cells become its cells, its language."""

    name: str
    folder: Path
    cells: Callable[[list[nbformat.NotebookNode], str], list[nbformat.NotebookNode]]
    language: str = "en"


EDITIONS = (
    Edition("learner", HERE, with_todos),
    Edition("instructor", HERE / "solutions", with_solutions),
    Edition("learner", HERE / "zh", functools.partial(with_todos, language="zh"), "zh"),
    Edition("instructor", HERE / "zh" / "solutions", functools.partial(with_solutions, language="zh"), "zh"),
)


def edition(name: str, language: str = "en") -> Edition:
    return next(e for e in EDITIONS if e.name == name and e.language == language)


def has_edition(source: Path, edition: Edition) -> bool:
    """English editions exist for every source; a translated one once the source has a catalogue in its language."""
    return edition.language == "en" or catalogue_path(source, edition.language).exists()


def build(source: Path, edition: Edition = EDITIONS[0]) -> nbformat.NotebookNode:
    """One edition of one source's notebook (:class:`Untranslated` if its language lacks a markdown cell)."""
    nb = read_source(source)
    if edition.language != "en":
        nb.cells = translated(nb.cells, source, edition.language)
    nb.cells = edition.cells(nb.cells, source.stem)
    nb.metadata["labkit"] = {"notebook": source.stem, "edition": edition.name}
    if edition.language != "en":
        nb.metadata["labkit"]["language"] = edition.language
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
    """Notebooks, of every edition, whose cells differ from what their sources build (translations: complete ones)."""
    return [target_of(s, e) for e in EDITIONS for s in sources()
            if has_edition(s, e) and (e.language == "en" or not untranslated(s, e.language)) and not in_sync(s, e)]


def missing_translations() -> dict[Path, list[str]]:
    """Catalogue → the cell ids it lacks a translation of (all of them where the catalogue is missing)."""
    out = {}
    for language in LANGUAGES:
        for source in sources():
            if cells := untranslated(source, language):
                out[catalogue_path(source, language)] = cells
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only report notebooks that are out of date and markdown cells without a translation")
    parser.add_argument("--extract", metavar="LANG", choices=LANGUAGES,
                        help="write/update notebooks/locale/LANG/*.po from the sources' markdown cells")
    parser.add_argument("only", nargs="*", help="build only sources whose name starts with one of these (e.g. 01 07)")
    args = parser.parse_args(argv)
    chosen = [s for s in sources() if not args.only or s.stem.startswith(tuple(args.only))]
    if args.extract:
        for source in chosen:
            path = extract(source, args.extract)
            print(f"{path.relative_to(HERE.parent)}: {len(untranslated(source, args.extract))} of "
                  f"{len(messages(source))} markdown cells to translate")
        return 0
    if args.check:
        out = stale()
        for path in out:
            print(f"out of date: {path.relative_to(HERE.parent)} (run python notebooks/build.py)")
        missing = missing_translations()
        for po, cells in missing.items():
            print(f"untranslated: {po.relative_to(HERE.parent)}: markdown cells {', '.join(cells)} "
                  "(no msgstr, or fuzzy; no catalogue: python notebooks/build.py --extract LANG NN)")
        return 1 if out or missing else 0
    for each in EDITIONS:
        for source in chosen:
            if not has_edition(source, each):
                continue
            if each.language != "en" and (cells := untranslated(source, each.language)):
                print(f"skipped {target_of(source, each).relative_to(HERE.parent)}: "
                      f"cells {', '.join(cells)} not translated yet")
                continue
            if not in_sync(source, each):
                each.folder.mkdir(parents=True, exist_ok=True)
                target_of(source, each).write_text(render(source, each), encoding="utf-8")
                print(f"wrote {target_of(source, each).relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
