"""Notebooks as stored: both editions in sync with their percent-format sources, without outputs,
tearing the lab down; the learner's edition holds no solution; nbgrader reads the exercises.

No root needed: these read files only.
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import nbformat
import pytest

from labkit.grade import exercises_of
from labkit.notebook import PLACEHOLDER
from notebooks import build as BUILD  # notebooks/build.py: the repository root is on the path

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
LEARNER = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
INSTRUCTOR = sorted((ROOT / "notebooks" / "solutions").glob("[0-9][0-9]-*.ipynb"))
#: the Chinese editions (notebooks/zh/, notebooks/zh/solutions/): built from the same sources, checked the same way
ZH_LEARNER = sorted((ROOT / "notebooks" / "zh").glob("[0-9][0-9]-*.ipynb"))
ZH_INSTRUCTOR = sorted((ROOT / "notebooks" / "zh" / "solutions").glob("[0-9][0-9]-*.ipynb"))
NOTEBOOKS = LEARNER + INSTRUCTOR + ZH_LEARNER + ZH_INSTRUCTOR
IDS = [str(p.relative_to(ROOT / "notebooks").with_suffix("")) for p in NOTEBOOKS]
#: nbgrader's cell metadata, schema version 3, as nbgrader documents and validates it
#: (nbgrader/nbgraderformat/v3.json and v3.py: grade_id when graded/solution/locked, points when graded)
NBGRADER_V3 = {
    "type": "object",
    "properties": {
        "schema_version": {"type": "integer", "minimum": 3, "maximum": 3},
        "grade": {"type": "boolean"}, "locked": {"type": "boolean"}, "solution": {"type": "boolean"},
        "task": {"type": "boolean"},
        "grade_id": {"type": "string", "pattern": "^[a-zA-Z0-9_\\-]*$", "minLength": 1},
        "points": {"type": "number", "minimum": 0},
        "checksum": {"type": "string", "minLength": 32, "maxLength": 32},
        "cell_type": {"type": "string", "enum": ["raw", "code", "markdown"]},
    },
    "required": ["schema_version", "grade", "locked", "solution", "grade_id"],
    "additionalProperties": False,
    "if": {"properties": {"grade": {"const": True}}}, "then": {"required": ["points"]},
}


def test_every_source_has_both_editions_in_sync() -> None:
    assert BUILD.sources(), "no sources in notebooks/src/"
    assert len(LEARNER) == len(INSTRUCTOR) == len(BUILD.sources()) == len(ZH_LEARNER) == len(ZH_INSTRUCTOR)
    stale = [str(p.relative_to(ROOT)) for p in BUILD.stale()]
    assert not stale, f"out of date (run `python notebooks/build.py`): {', '.join(stale)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and (cell.outputs or cell.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; store notebooks cleared"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_tears_its_lab_down_last(path: Path) -> None:
    code = [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    assert code, f"{path.name} has no code"
    last = [line.strip() for line in code[-1].splitlines()]
    assert any(line.startswith(("lab.close()", "lab.destroy()")) for line in last), \
        f"{path.name}: the last code cell must tear the lab down (lab.close())"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_nbgrader_metadata_follows_its_schema(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    marked = [cell.metadata["nbgrader"] for cell in nb.cells if "nbgrader" in cell.metadata]
    for meta in marked:
        jsonschema.validate(meta, NBGRADER_V3)
    ids = [meta["grade_id"] for meta in marked]
    assert len(ids) == len(set(ids)), f"{path.name}: duplicate grade ids {ids}"
    source = ROOT / "notebooks" / "src" / f"{path.stem}.py"
    solutions = [c for c in BUILD.read_source(source).cells if "solution" in BUILD.tags_of(c)]
    assert [e.grade_id for e in exercises_of(nb)] == [f"{path.stem[:2]}-exercise{n}" for n in range(1, len(solutions) + 1)]
    assert all(e.answer is not None for e in exercises_of(nb)), f"{path.name}: a check cell without its answer cell"


@pytest.mark.parametrize("path", LEARNER + ZH_LEARNER, ids=[str(p.relative_to(ROOT / "notebooks").with_suffix(""))
                                                           for p in LEARNER + ZH_LEARNER])
def test_the_learner_edition_holds_no_solution(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    full = BUILD.read_source(ROOT / "notebooks" / "src" / f"{path.stem}.py")
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert all(c.source.endswith(PLACEHOLDER) for c in answers), f"{path.name}: an answer cell without the placeholder"
    text = "\n".join(c.source for c in nb.cells)
    for hidden in (c for c in full.cells if {"solution", "wrong"} & set(BUILD.tags_of(c))):
        code = [line.strip() for line in hidden.source.splitlines() if line.strip() and not line.strip().startswith("#")]
        shown = [line for line in code if line in text.splitlines() or f"\n{line}\n" in f"\n{text}\n"]
        assert len(shown) < len(code), f"{path.name}: the learner's edition shows the {BUILD.tags_of(hidden)[0]} cell {hidden.id}"
    instructor = nbformat.read(path.parent / "solutions" / path.name, as_version=4)
    source = ROOT / "notebooks" / "src" / f"{path.stem}.py"
    language = "en" if path.parent == ROOT / "notebooks" else path.parent.name
    # a translated edition's solutions are the source's, their learner-visible strings translated
    cells = full.cells if language == "en" else BUILD.translated(full.cells, source, language)
    assert [c.source for c in instructor.cells if c.metadata.get("nbgrader", {}).get("solution")] == \
           [c.source for c in cells if "solution" in BUILD.tags_of(c)]
