"""A live topology in a real JupyterLab: during ``lab.wait_stp`` the picture redraws as ports change.

Two STP switches (forward_delay 2 s) whose cable is plugged in by the cell: while the wait runs, the picture on screen
must show a port in a moving state (listening or learning) and, later in the same wait, in a
settled one; when the wait ends, a static copy of the final picture stays in the output.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from .test_learner_mistakes import _run_cell, _wait_done
from .test_notebooks_browser import KERNEL_READY

pytestmark = pytest.mark.browser

CELLS = [
    "from labkit.notebook import fresh_lab\nlab = fresh_lab(uplink=False)\n"
    "for sw, prio in (('sw1', 8192), ('sw2', 4096)):\n    lab.netns(sw)\n"
    "    lab.bridge('br0', stp=True, forward_delay=2, priority=prio, ns=sw)\n    lab.up('br0', ns=sw)\n"
    "lab.veth('p12', 'p21', ns='sw1', peer_ns='sw2')\nlab.enslave('p12', 'br0', ns='sw1')\nlab.enslave('p21', 'br0', ns='sw2')\n"
    "print('ready')",
    "lab.up('p12', ns='sw1')\nlab.up('p21', ns='sw2')  # the cable is plugged in: both ports start listening\n"
    "result = lab.wait_stp('sw1/br0', 'sw2/br0', timeout=30)\nprint('converged', result['converged'], len(result['events']))",
    "lab.close()",
]
PICTURE_TEXT = "() => [...document.querySelectorAll('.labkit-topology .lk-topo-svg svg')].map(s => s.textContent).join(' ')"


def test_port_states_change_on_the_picture_during_wait_stp(jupyterlab: dict[str, Any], browser: Any, artifacts: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    nbformat.write(nb, jupyterlab["root"] / "live-stp.ipynb")
    page = browser.new_page()
    try:
        page.goto(f"{jupyterlab['url']}/lab/tree/live-stp.ipynb?reset&token={jupyterlab['token']}")
        page.wait_for_function(KERNEL_READY, timeout=90_000)
        _run_cell(page, 0)
        assert "ready" in _wait_done(page, 0)["text"]
        _run_cell(page, 1)
        seen: list[str] = []
        shot = False
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            running = page.evaluate("(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.executionCount",
                                    1) is None
            if not running:
                break
            text = page.evaluate(PICTURE_TEXT)
            for state in ("listening", "learning", "forwarding", "blocking"):
                if f"STP {state}" in text and (not seen or seen[-1] != state):
                    seen.append(state)
            if not shot and ("STP listening" in text or "STP learning" in text):
                page.locator(".labkit-topology").first.scroll_into_view_if_needed()
                page.screenshot(path=str(artifacts / "live-stp-mid-wait.png"))
                shot = True
            time.sleep(0.2)
        done = _wait_done(page, 1, timeout=40)
        assert "converged True" in done["text"], done["text"]
        moving = [s for s in seen if s in ("listening", "learning")]
        assert moving, f"no moving port state was drawn while the wait ran (drawn: {seen})"
        assert seen.index(moving[0]) < len(seen) - 1, f"the picture never changed after {moving[0]} (drawn: {seen})"
        assert page.locator(".labkit-live-final img").count() == 1, "the final picture did not stay in the output"
        _run_cell(page, 2)
        _wait_done(page, 2)
    finally:
        page.close()
