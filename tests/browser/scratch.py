"""Scratch notebooks for the browser tier: write one into the server's root, open it, run its cells one by one."""

from __future__ import annotations

import time
from typing import Any

import nbformat
import pytest

from .test_notebooks_browser import KERNEL_READY

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def scratch_notebook(cells: list[str]) -> nbformat.NotebookNode:
    """A notebook of code ``cells`` for the python3 kernel."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNELSPEC)}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    return nb


def open_notebook(jupyterlab: dict[str, Any], browser: Any, name: str, nb: nbformat.NotebookNode | None = None) -> Any:
    """Write ``nb`` (when given) as ``name`` into the server's root, open it, and wait for its kernel."""
    if nb is not None:
        nbformat.write(nb, jupyterlab["root"] / name)
    page = browser.new_page()
    page.goto(f"{jupyterlab['url']}/lab/tree/{name}?reset&token={jupyterlab['token']}")
    page.wait_for_function(KERNEL_READY, timeout=90_000)
    return page


CELL_STATE = """(index) => {
  const w = window.jupyterapp.shell.currentWidget;
  const cell = w.content.widgets[index];
  const node = cell.node;
  return {
    count: cell.model.executionCount,
    busy: node.querySelector('.jp-InputPrompt') ? /\\*/.test(node.querySelector('.jp-InputPrompt').textContent) : false,
    text: node.querySelector('.jp-OutputArea') ? node.querySelector('.jp-OutputArea').innerText : '',
    boxes: node.querySelectorAll('.labkit-error').length,
    traceback: /Traceback|File ".*", line/.test(node.innerText),
  };
}"""


def run_cell(page: Any, index: int) -> None:
    page.evaluate("""(index) => { const w = window.jupyterapp.shell.currentWidget;
        w.content.activeCellIndex = index; window.jupyterapp.commands.execute('notebook:run-cell'); }""", index)


def wait_done(page: Any, index: int, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = page.evaluate(CELL_STATE, index)
        idle = page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status") == "idle"
        if state["count"] is not None and not state["busy"] and idle:
            return dict(state)
        time.sleep(0.3)
    pytest.fail(f"cell {index} did not finish within {timeout:.0f} s: {page.evaluate(CELL_STATE, index)}")
