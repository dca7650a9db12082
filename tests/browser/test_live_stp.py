"""A live topology in a real JupyterLab: during ``lab.wait_stp`` the picture redraws as ports change.

Two STP switches (forward_delay 2 s) whose cable is plugged in by the cell: while the wait runs, the picture on screen
must show a port in a moving state (listening or learning) and, later in the same wait, in a
settled one; when the wait ends, a static copy of the final picture stays in the output.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from .scratch import open_notebook, run_cell, scratch_notebook, wait_done

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
    page = open_notebook(jupyterlab, browser, "live-stp.ipynb", scratch_notebook(CELLS))
    try:
        run_cell(page, 0)
        assert "ready" in wait_done(page, 0)["text"]
        run_cell(page, 1)
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
        done = wait_done(page, 1, timeout=40)
        assert "converged True" in done["text"], done["text"]
        moving = [s for s in seen if s in ("listening", "learning")]
        assert moving, f"no moving port state was drawn while the wait ran (drawn: {seen})"
        assert seen.index(moving[0]) < len(seen) - 1, f"the picture never changed after {moving[0]} (drawn: {seen})"
        assert page.locator(".labkit-live-final img").count() == 1, "the final picture did not stay in the output"
        run_cell(page, 2)
        wait_done(page, 2)
    finally:
        page.close()
