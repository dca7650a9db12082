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

import pytest

from .scratch import CELL_STATE, open_notebook, run_cell, scratch_notebook, wait_done
from .test_notebooks_browser import screenshot

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
def _interrupt_while_running(page: Any, index: int) -> dict[str, Any]:
    run_cell(page, index)
    time.sleep(2.5)  # the request is under way in the agent
    assert page.evaluate(CELL_STATE, index)["count"] is None, "the cell ended before the ■ button was pressed"
    button = page.locator('jp-button[title="Interrupt the kernel"], button[title="Interrupt the kernel"]').first
    started = time.monotonic()
    button.click()
    state = wait_done(page, index, timeout=20)
    assert time.monotonic() - started < 10, "the interrupt took too long"
    return state


def test_the_stop_button_bad_names_and_a_failing_check(jupyterlab: dict[str, Any], browser: Any, artifacts: Path) -> None:
    page = open_notebook(jupyterlab, browser, "mistakes.ipynb", scratch_notebook(CELLS))
    try:
        run_cell(page, 0)
        assert "ready" in wait_done(page, 0)["text"]

        for index in (1, 3):  # ■ during a long command, then during a capture
            stopped = _interrupt_while_running(page, index)
            assert stopped["boxes"] == 1 and not stopped["traceback"], f"cell {index}: {stopped}"
            assert "intact" in stopped["text"] and "Interrupted" in stopped["text"], stopped["text"]
            run_cell(page, index + 1)
            after = wait_done(page, index + 1)
            word = "own-answer" if index == 1 else "second"
            assert f"True {word}" in after["text"], f"the lab did not survive ■ in cell {index}: {after['text']}"

        for index, expected in ((5, "control character"), (6, "Not yet")):
            run_cell(page, index)
            failed = wait_done(page, index)
            assert failed["boxes"] == 1, f"cell {index} shows {failed['boxes']} error boxes: {failed['text']}"
            assert not failed["traceback"] and expected in failed["text"], failed["text"]

        run_cell(page, 0)  # the first cell again: a fresh lab, the old one closed
        assert "ready" in wait_done(page, 0)["text"]
        screenshot(page, artifacts / "learner-mistakes.png")
        run_cell(page, 7)
        assert "closed" in wait_done(page, 7)["text"]
    finally:
        page.close()
