"""A learner's mistakes, made in a real JupyterLab: the ■ button, bad names, a check that fails.

The notebook is written into the server's root and driven cell by cell:

* ■ (Interrupt the kernel) during a long ``lab.run`` and during a capture stops only that
  request: the cell shows one short "Interrupted" box and no traceback, and the next cells
  find the lab intact (its device is there, the next command answers with its own output);
* a bad device name, and a self-check that fails, each show exactly one labkit box
  (IPython 9 asks an exception twice for its rendering) and no traceback;
* running the first cell again starts a fresh lab.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from .test_notebooks_browser import KERNEL_READY, screenshot

pytestmark = pytest.mark.browser

CELLS = [
    "from labkit.notebook import fresh_lab\nlab = fresh_lab(uplink=False)\nlab.veth('ia', 'ib')\nlab.up('ia', 'ib')\nprint('ready')",
    "lab.run('sleep', '30')",
    "print('after-run', lab.snapshot().interface('ia') is not None, lab.run('echo', 'own-answer').stdout.strip())",
    "with lab.capture('ia', filter='icmp') as cap:\n    lab.run('sleep', '30')",
    "print('after-capture', lab.snapshot().interface('ib') is not None, lab.run('echo', 'second').stdout.strip())",
    "lab.up('no-such-dev\\n')",
    "lab.check.reachable('main', '10.99.99.99', hint='there is no such host')",
    "lab.close()\nprint('closed')",
]
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


def _run_cell(page: Any, index: int) -> None:
    page.evaluate("""(index) => { const w = window.jupyterapp.shell.currentWidget;
        w.content.activeCellIndex = index; window.jupyterapp.commands.execute('notebook:run-cell'); }""", index)


def _wait_done(page: Any, index: int, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = page.evaluate(CELL_STATE, index)
        idle = page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status") == "idle"
        if state["count"] is not None and not state["busy"] and idle:
            return dict(state)
        time.sleep(0.3)
    pytest.fail(f"cell {index} did not finish within {timeout:.0f} s: {page.evaluate(CELL_STATE, index)}")


def _interrupt_while_running(page: Any, index: int) -> dict[str, Any]:
    _run_cell(page, index)
    time.sleep(2.5)  # the request is under way in the agent
    assert page.evaluate(CELL_STATE, index)["count"] is None, "the cell ended before the ■ button was pressed"
    button = page.locator('jp-button[title="Interrupt the kernel"], button[title="Interrupt the kernel"]').first
    started = time.monotonic()
    button.click()
    state = _wait_done(page, index, timeout=20)
    assert time.monotonic() - started < 10, "the interrupt took too long"
    return state


def test_the_stop_button_bad_names_and_a_failing_check(jupyterlab: dict[str, Any], browser: Any, artifacts: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    name = "mistakes.ipynb"
    nbformat.write(nb, jupyterlab["root"] / name)
    page = browser.new_page()
    try:
        page.goto(f"{jupyterlab['url']}/lab/tree/{name}?reset&token={jupyterlab['token']}")
        page.wait_for_function(KERNEL_READY, timeout=90_000)
        _run_cell(page, 0)
        assert "ready" in _wait_done(page, 0)["text"]

        for index in (1, 3):  # ■ during a long command, then during a capture
            stopped = _interrupt_while_running(page, index)
            assert stopped["boxes"] == 1 and not stopped["traceback"], f"cell {index}: {stopped}"
            assert "intact" in stopped["text"] and "Interrupted" in stopped["text"], stopped["text"]
            _run_cell(page, index + 1)
            after = _wait_done(page, index + 1)
            word = "own-answer" if index == 1 else "second"
            assert f"True {word}" in after["text"], f"the lab did not survive ■ in cell {index}: {after['text']}"

        for index, expected in ((5, "control character"), (6, "Not yet")):
            _run_cell(page, index)
            failed = _wait_done(page, index)
            assert failed["boxes"] == 1, f"cell {index} shows {failed['boxes']} error boxes: {failed['text']}"
            assert not failed["traceback"] and expected in failed["text"], failed["text"]

        _run_cell(page, 0)  # the first cell again: a fresh lab, the old one closed
        assert "ready" in _wait_done(page, 0)["text"]
        screenshot(page, artifacts / "learner-mistakes.png")
        _run_cell(page, 7)
        assert "closed" in _wait_done(page, 7)["text"]
    finally:
        page.close()
