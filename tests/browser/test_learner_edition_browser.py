"""What a learner sees on "Run all" in the learner's edition: the lab runs up to the exercise, whose
to-do cell stops with a "Not done yet" box (not a traceback, not a NameError), and the check after it
does not run. Screenshot: artifacts/screenshots/learner-04-bridge-todo.png."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from .conftest import ROOT
from .scratch import CELL_STATE, open_notebook

pytestmark = pytest.mark.browser

LEARNER = ROOT / "notebooks" / "04-bridge.ipynb"


def test_run_all_stops_at_the_exercise_with_not_done_yet(jupyterlab: dict[str, Any], browser: Any, artifacts: Path) -> None:
    nb = nbformat.read(LEARNER, as_version=4)
    todo = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("solution"))
    check = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade"))
    page = open_notebook(jupyterlab, browser, "learner-04-bridge.ipynb", nb)
    try:
        page.evaluate("window.jupyterapp.shell.collapseLeft()")
        page.evaluate("window.jupyterapp.commands.execute('runmenu:run-all')")
        deadline = time.monotonic() + 300
        while True:
            state = page.evaluate(CELL_STATE, todo)
            idle = page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status") == "idle"
            if state["count"] is not None and not state["busy"] and idle:
                break
            assert time.monotonic() < deadline, f"the to-do cell did not run within 300 s: {state}"
            time.sleep(0.5)
        time.sleep(1.0)  # the box settles
        state = page.evaluate(CELL_STATE, todo)
        assert state["boxes"] == 1 and "Not done yet" in state["text"], f"the to-do cell shows: {state['text'][:500]}"
        assert "NameError" not in state["text"] and not state["traceback"], state["text"][:500]
        assert page.evaluate(CELL_STATE, check)["count"] is None, "Run all went on past the unfinished exercise"
        earlier = [page.evaluate(CELL_STATE, i) for i in range(todo) if nb.cells[i].cell_type == "code"]
        assert not [s for s in earlier if s["boxes"] or s["traceback"]], "a cell before the exercise failed"
        cell = page.locator(".jp-Notebook .jp-Cell").nth(todo)
        cell.scroll_into_view_if_needed()
        cell.screenshot(path=str(artifacts / "learner-04-bridge-todo.png"))
    finally:
        page.close()
