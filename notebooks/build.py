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
cells are never copied, so a change to a lab's code reaches every language: only the
strings of a code cell the learner reads (a picture's title, a fact's claim, a check's
hint, a printed label: the rule is above :data:`CODE`) are catalogue entries too (msgctxt
``code``), put back in place as Chinese literals, every other byte of the cell the English
one; and the first code cell starts with ``language("zh")`` (:data:`LANGUAGE_LINES`) so
the library's own messages follow. The build writes ``notebooks/<lang>/NN-name.ipynb``
(learner) and ``notebooks/<lang>/solutions/`` (instructor) for each source that has a
catalogue; a markdown cell or code string without a translation (missing, empty or fuzzy)
fails ``--check``, naming the cell; so does a source without a catalogue in every language
of :data:`LANGUAGES` (every lab exists in both languages). ``--extract zh`` writes or updates
the catalogues: new cells and code strings come in untranslated, existing translations are
kept, one whose English changed keeps its old translation marked fuzzy (to review).

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
import itertools
import sys
import tokenize
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
    """A translated edition was asked of a source whose catalogue lacks some cells' translations."""


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


# --- the learner-visible strings of code cells ----------------------------------------------------------------
#
# A code cell is the same program in every language, but some of its string literals are sentences the learner
# reads: a picture's title, a fact's claim, a check's hint, a printed label. Those, and only those, are
# translated, in place, at their exact source positions; every other byte of the cell stays the English one.
#
# The rule (pure syntax, Python's ast on each code cell; nothing is guessed from the text itself):
#   a string literal (plain or f-string; or either branch of a conditional expression ``"a" if x else "b"``,
#   an operand of ``or``/``and`` (``saw=error or "none"``), a piece of a ``+`` concatenation) is shown to
#   the learner when it is
#   * the argument of a parameter named in DISPLAY_PARAMETERS (title=, hint=, claim=, message=, why=, saw=), passed
#     by keyword, or by position to a call whose parameter names are known: labkit's fact(ok, claim, saw) and
#     check.that(ok, message, hint) (SIGNATURES), and every function the lab's own source defines;
#   * a positional argument of print(), or of the exception a ``raise`` builds;
#   * or it is the docstring of a function or class the cell defines (kept in triple quotes);
#   * or it is assigned (``name = ...``) to a name whose every use in the cell is one of those arguments or a
#     field of such an f-string (``carrier = "no carrier"`` ... ``fact(ok, f"br0 is up; {carrier}")``);
#   * and it holds prose: two letters in a row outside its {fields} (an empty separator is not translated).
# Not translated, because they are not those arguments: commands and their options, device, namespace and
# file names, capture filters, addresses, dict keys, regexes, anything the code compares or passes on.
# A plain string's msgid is its value; an f-string's is its template, the text with each field written as in
# the source (``peer_ifindex of h1/veth-b is {index_a}``): the translation must keep the same fields (any
# order) and is turned back into an f-string with the source's prefix; a translation that does not parse, or
# changes a field, stops the build naming the cell. A comment (``# read the counters ...``) is shown too: its
# text after ``#`` is an entry, replaced in place and kept on one line (comments for tools, PRAGMAS, stay).
# Their msgctxt is CODE, so a code string never shares an entry with a markdown cell of the same text.

#: the msgctxt of a code cell's learner-visible string or comment (a markdown cell's entry has none)
CODE = "code"
#: comments written for a tool (a linter, a type checker, the cell splitter), not for the learner: never translated
PRAGMAS = ("noqa", "type:", "pragma", "fmt:", "%%")
#: parameters whose string argument is shown to the learner and never compared
DISPLAY_PARAMETERS = frozenset({"title", "hint", "claim", "message", "why", "saw"})
#: positional parameter names of labkit calls that take a display parameter by position
SIGNATURES = {"fact": ("ok", "claim", "saw"), "that": ("ok", "message", "hint")}
#: the lines a translated edition puts at the top of its first code cell: the library speaks the notebook's language
LANGUAGE_LINES = {
    "zh": 'from labkit.notebook import language\nlanguage("zh")  # 界面语言：简体中文；英文请改为 language("en")\n',
}


class BadTranslation(SystemExit):
    """A code string's translation is not a valid literal, or changed an f-string's fields."""


class Shown(NamedTuple):
    """One learner-visible string literal or comment of a code cell: where it is (character offsets), its msgid."""

    start: int
    end: int
    text: str
    fstring: bool
    comment: bool = False
    docstring: bool = False


def _offset(lines: list[str], line: int, col: int) -> int:
    """Character offset of ast's (1-based line, UTF-8 byte column) in the cell's text."""
    before = sum(len(each) for each in lines[: line - 1])
    return before + len(lines[line - 1].encode("utf-8")[:col].decode("utf-8"))


def _field(code: str, part: ast.FormattedValue) -> str:
    """An f-string field as its source writes it: ``{expression!conversion:spec}``."""
    text = ast.get_source_segment(code, part.value) or ""
    try:
        same = ast.dump(ast.parse(text, mode="eval").body) == ast.dump(part.value)
    except SyntaxError:
        same = False
    text = text if same else ast.unparse(part.value)
    if part.conversion != -1:
        text += "!" + chr(part.conversion)
    if isinstance(part.format_spec, ast.JoinedStr):
        text += ":" + _template(code, part.format_spec, spec=True)
    return "{" + text + "}"


def _template(code: str, node: ast.JoinedStr, spec: bool = False) -> str:
    """An f-string's text with its fields as in the source: what a translator reads and writes."""
    out = []
    for part in node.values:
        if isinstance(part, ast.Constant):
            out.append(part.value if spec else part.value.replace("{", "{{").replace("}", "}}"))
        elif isinstance(part, ast.FormattedValue):
            out.append(_field(code, part))
    return "".join(out)


def _prose(node: ast.expr) -> bool:
    """Two letters in a row outside the fields: a sentence or a label, not a separator."""
    if isinstance(node, ast.JoinedStr):
        text = "".join(p.value for p in node.values if isinstance(p, ast.Constant) and isinstance(p.value, str))
    else:
        text = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""
    return _has_words(text)


def _has_words(text: str) -> bool:
    return any(a.isalpha() and b.isalpha() for a, b in itertools.pairwise(text))


def comments(code: str) -> list[Shown]:
    """The comments of a code cell a learner reads: each one's text after ``#`` (and its spaces), to the end of
    its line. A comment for a tool (:data:`PRAGMAS`) stays as written, and so does one without words."""
    lines = code.splitlines(keepends=True)
    found = []
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type != tokenize.COMMENT:
            continue
        body = token.string.lstrip("#").removeprefix(":").lstrip()  # "#: " documents a constant
        text = body.rstrip()
        if not _has_words(text) or text.startswith(PRAGMAS):
            continue
        (row, col), skipped = token.start, len(token.string) - len(body)
        start = sum(len(line) for line in lines[:row - 1]) + col + skipped
        found.append(Shown(start, start + len(text), text, False, comment=True))
    return found


def _literals(node: ast.expr) -> list[ast.expr]:
    """The string literals an argument is made of: itself, both branches of ``a if cond else b``, the
    fallback of ``value or "none"``, and each piece of ``"a" + b + "c"``."""
    if isinstance(node, ast.IfExp):
        return _literals(node.body) + _literals(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [each for value in node.values for each in _literals(value)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literals(node.left) + _literals(node.right)
    if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return [node]
    return []


def _docstring(node: ast.AST) -> ast.Constant | None:
    """The docstring of a function or class the cell defines, or None."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
        first = node.body[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            return first.value
    return None


def signatures(cells: list[nbformat.NotebookNode]) -> dict[str, tuple[str, ...]]:
    """Positional parameter names of labkit's display calls and of every function the lab's code defines."""
    found = dict(SIGNATURES)
    for cell in cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[node.name] = tuple(a.arg for a in [*node.args.posonlyargs, *node.args.args])
    return found


def shown(code: str, known: dict[str, tuple[str, ...]] | None = None) -> list[Shown]:
    """The learner-visible string literals and comments of one code cell (the rule above), in source order."""
    known = SIGNATURES if known is None else known
    tree = ast.parse(code)
    raised = {id(node.exc) for node in ast.walk(tree) if isinstance(node, ast.Raise) and node.exc is not None}
    arguments: list[ast.expr] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name == "print" or id(node) in raised:
            arguments += node.args
        else:
            arguments += [arg for param, arg in zip(known.get(name, ()), node.args, strict=False) if param in DISPLAY_PARAMETERS]
        arguments += [k.value for k in node.keywords if k.arg in DISPLAY_PARAMETERS]
    literals = [each for arg in arguments for each in _literals(arg)]
    # a name shown and nothing else (every use of it a display argument or a field of a shown f-string):
    # the strings assigned to it in this cell are shown too (``carrier = "..."`` then ``f"...; {carrier}"``)
    uses = [arg for arg in arguments if isinstance(arg, ast.Name)]
    uses += [part.value for each in literals if isinstance(each, ast.JoinedStr) for part in each.values
             if isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name)]
    loads = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
    only_shown = {n.id for n in uses} - {n.id for n in loads if not any(n is use for use in uses)}
    literals += [each for node in ast.walk(tree) if isinstance(node, ast.Assign) and len(node.targets) == 1
                 and isinstance(node.targets[0], ast.Name) and node.targets[0].id in only_shown
                 for each in _literals(node.value)]
    helps = [each for node in ast.walk(tree) if (each := _docstring(node)) is not None]
    literals += helps  # a helper's docstring teaches too
    docstrings = {id(each) for each in helps}
    lines = code.splitlines(keepends=True)
    found: dict[int, Shown] = {}
    for literal in (each for each in literals if _prose(each)):
        assert literal.end_lineno is not None and literal.end_col_offset is not None
        start = _offset(lines, literal.lineno, literal.col_offset)
        end = _offset(lines, literal.end_lineno, literal.end_col_offset)
        if isinstance(literal, ast.JoinedStr):
            found[start] = Shown(start, end, _template(code, literal), True)
        else:
            assert isinstance(literal, ast.Constant)
            found[start] = Shown(start, end, literal.value, False, docstring=id(literal) in docstrings)
    ordered = sorted(found.values())
    # a literal inside another one's span (a call within an f-string field) goes with the outer one
    outer = [s for s in ordered if not any(o.start <= s.start and s.end <= o.end and o != s for o in ordered)]
    return sorted(outer + comments(code))


def code_messages(source: Path) -> list[tuple[str, Shown]]:
    """(cell id, what is shown) for each learner-visible string and comment of a source's code cells."""
    cells = read_source(source).cells
    known = signatures(cells)
    return [(cell.id, s) for cell in cells if cell.cell_type == "code" for s in shown(cell.source, known)]


def _pieces(template: str) -> list[tuple[bool, str]]:
    """An f-string template cut into (is a field, text); ``{{`` and ``}}`` stay literal text."""
    out: list[tuple[bool, str]] = []
    i, text = 0, ""
    while i < len(template):
        if template[i] in "{}" and template[i:i + 2] in ("{{", "}}"):
            text += template[i:i + 2]
            i += 2
        elif template[i] == "{":
            depth, quote, j = 0, "", i
            while j < len(template):
                c = template[j]
                if quote:
                    quote = "" if c == quote else quote
                elif c in "'\"":
                    quote = c
                elif c in "([{":
                    depth += 1
                elif c in ")]}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if text:
                out.append((False, text))
                text = ""
            out.append((True, template[i:j + 1]))
            i = j + 1
        else:
            text += template[i]
            i += 1
    if text:
        out.append((False, text))
    return out


def _escaped(text: str, quote: str) -> str:
    return (text.replace("\\", "\\\\").replace(quote, "\\" + quote).replace("\n", "\\n")
            .replace("\r", "\\r").replace("\t", "\\t"))


def python_literal(text: str, fstring: bool = False) -> str:
    """The Python literal of a (translated) string: double quotes where it can, an f-string's fields verbatim."""
    if not fstring:
        out = repr(text)
        return '"' + out[1:-1] + '"' if out[0] == "'" and '"' not in text else out
    pieces = _pieces(text)
    fields = "".join(piece for is_field, piece in pieces if is_field)
    quote = '"' if '"' not in fields else "'"
    return "f" + quote + "".join(p if is_field else _escaped(p, quote) for is_field, p in pieces) + quote


def _fields(node: ast.expr) -> list[str]:
    return sorted(ast.dump(part) for part in getattr(node, "values", []) if isinstance(part, ast.FormattedValue))


def code_literal(english: Shown, text: str, where: str) -> str:
    """The literal that replaces ``english``: ``text`` as Python source; an f-string must keep its fields; a
    comment's translation is its text, on one line."""
    if english.comment:
        if "\n" in text or "\r" in text:
            raise BadTranslation(f"{where}: the translation of the comment {english.text!r} must be one line: {text!r}")
        return text
    literal = python_literal(text, english.fstring)
    if english.docstring and not any(c in text for c in '"\\\n'):  # a docstring keeps its triple quotes
        literal = f'"""{text}"""'

    try:
        got = ast.parse(literal, mode="eval").body
    except SyntaxError as exc:
        raise BadTranslation(f"{where}: the translation of {english.text!r} is not a valid Python string "
                             f"({exc.msg}): {text!r}") from None
    want = ast.parse(python_literal(english.text, english.fstring), mode="eval").body
    if english.fstring and (not isinstance(got, ast.JoinedStr) or _fields(got) != _fields(want)):
        raise BadTranslation(f"{where}: the translation of {english.text!r} must keep its fields "
                             f"{[p for f, p in _pieces(english.text) if f]}, as written: {text!r}")
    return literal


def substituted(code: str, table: dict[str, str], known: dict[str, tuple[str, ...]], where: str) -> str:
    """A code cell with each learner-visible literal replaced by its translation's literal; nothing else changes."""
    out = code
    for each in reversed(shown(code, known)):
        out = out[:each.start] + code_literal(each, table[each.text], where) + out[each.end:]
    return out


# --- translations: one gettext catalogue per notebook and language -------------------------------------------

def catalogue_path(source: Path, language: str) -> Path:
    return LOCALE / language / f"{source.stem}.po"


def messages(source: Path) -> list[tuple[str, str]]:
    """(cell id, English text) of each markdown cell of a source: what a translation translates."""
    return [(cell.id, cell.source) for cell in read_source(source).cells if cell.cell_type == "markdown"]


def read_catalogue(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def translations(source: Path, language: str, context: str | None = None) -> dict[str, str]:
    """English text → its translation, for the usable ones only (not empty, not fuzzy): markdown cells
    (``context`` None) or the learner-visible strings of code cells (``context`` :data:`CODE`)."""
    path = catalogue_path(source, language)
    if not path.exists():
        return {}
    return {m.id: m.string for m in read_catalogue(path)
            if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string and not m.fuzzy
            and m.context == context}


def untranslated(source: Path, language: str) -> list[str]:
    """The ids of the cells of ``source`` with no usable translation in ``language``: a markdown cell's text, or a
    learner-visible string of a code cell."""
    prose, code = translations(source, language), translations(source, language, CODE)
    missing = {cell_id for cell_id, text in messages(source) if text not in prose}
    missing |= {cell_id for cell_id, each in code_messages(source) if each.text not in code}
    return sorted(missing)


def translated(cells: list[nbformat.NotebookNode], source: Path, language: str) -> list[nbformat.NotebookNode]:
    """The cells with each markdown cell's text replaced by its translation, and each learner-visible string of a
    code cell by its translation's literal (the rest of a code cell unchanged)."""
    prose, code = translations(source, language), translations(source, language, CODE)
    known = signatures(cells)
    missing = [c.id for c in cells if (c.source not in prose if c.cell_type == "markdown"
                                       else any(s.text not in code for s in shown(c.source, known)))]
    if missing:
        raise Untranslated(f"{catalogue_path(source, language).relative_to(HERE.parent)}: no {language} translation "
                           f"of the cells {', '.join(missing)} (python notebooks/build.py --extract {language}, "
                           "then fill their msgstr)")
    out = []
    for cell in cells:
        cell = nbformat.from_dict(dict(cell))
        if cell.cell_type == "markdown":
            cell.source = prose[cell.source]
        else:
            cell.source = substituted(cell.source, code, known, f"cell {cell.id} of notebooks/src/{source.name}")
        out.append(cell)
    return out


def template(source: Path, language: str) -> Catalog:
    """A catalogue of a source's markdown cells and code strings, untranslated; each entry says which cell it is."""
    cat = Catalog(locale=language, project="labkit", fuzzy=False, charset="utf-8")
    for cell_id, text in messages(source):
        cat.add(text, auto_comments=[f"cell {cell_id} of notebooks/src/{source.name}"])
    for cell_id, each in code_messages(source):
        note = (["an f-string: keep every {field} exactly as written (any order)"] if each.fstring
                else ["a comment: one line"] if each.comment else [])
        cat.add(each.text, context=CODE, auto_comments=[f"code cell {cell_id} of notebooks/src/{source.name}", *note])
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
    """One edition of one source's notebook (:class:`Untranslated` if its language lacks a translation; a
    translated edition's first code cell starts with :data:`LANGUAGE_LINES`, so the library speaks it too)."""
    nb = read_source(source)
    if edition.language != "en":
        nb.cells = translated(nb.cells, source, edition.language)
    nb.cells = edition.cells(nb.cells, source.stem)
    if edition.language != "en":
        first = next(cell for cell in nb.cells if cell.cell_type == "code")
        first.source = LANGUAGE_LINES[edition.language] + first.source
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
                        help="only report notebooks that are out of date and cells without a translation")
    parser.add_argument("--extract", metavar="LANG", choices=LANGUAGES,
                        help="write/update notebooks/locale/LANG/*.po from the sources' markdown cells and code strings")
    parser.add_argument("only", nargs="*", help="build only sources whose name starts with one of these (e.g. 01 07)")
    args = parser.parse_args(argv)
    chosen = [s for s in sources() if not args.only or s.stem.startswith(tuple(args.only))]
    if args.extract:
        for source in chosen:
            path = extract(source, args.extract)
            print(f"{path.relative_to(HERE.parent)}: {len(untranslated(source, args.extract))} cells to translate "
                  f"(of {len(messages(source))} markdown cells and the cells of {len(code_messages(source))} "
                  "code strings)")
        return 0
    if args.check:
        out = stale()
        for path in out:
            print(f"out of date: {path.relative_to(HERE.parent)} (run python notebooks/build.py)")
        missing = missing_translations()
        for po, cells in missing.items():
            print(f"untranslated: {po.relative_to(HERE.parent)}: cells {', '.join(cells)} "
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
