"""Notebooks as stored: in sync with their percent-format sources, without outputs, tearing the lab down.

No root needed: these read files only.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def _build_module():
    spec = importlib.util.spec_from_file_location("notebooks_build", ROOT / "notebooks" / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_source_has_its_notebook_in_sync() -> None:
    build = _build_module()
    assert build.sources(), "no sources in notebooks/src/"
    stale = [str(p.relative_to(ROOT)) for p in build.stale()]
    assert not stale, f"out of date (run `python notebooks/build.py`): {', '.join(stale)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and (cell.outputs or cell.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; store notebooks cleared"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_tears_its_lab_down_last(path: Path) -> None:
    code = [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    assert code, f"{path.name} has no code"
    last = [line.strip() for line in code[-1].splitlines()]
    assert any(line.startswith(("lab.close()", "lab.destroy()")) for line in last), \
        f"{path.name}: the last code cell must tear the lab down (lab.close())"
