"""Live cells in a real JupyterLab: packets appear in their pane while the traffic runs.

A cell captures on ``h1/sb`` while ``ping -c 20 -i 0.2`` runs (about 4 s). A screenshot taken
mid-run must show a pane that already holds some echo requests, but not all of them; when the
cell ends, ``lab.view(cap)`` takes the live panes' place with all 40 packets.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from .scratch import open_notebook, run_cell, scratch_notebook, wait_done

pytestmark = pytest.mark.browser

CELLS = [
    "from labkit.notebook import fresh_lab\nfrom labkit.recipes import host_pair\nlab = fresh_lab(uplink=False)\n"
    "host_pair(lab, 'h1', 'sa', 'sb', '10.4.0')\nprint('ready')",
    "with lab.capture('h1/sb', filter='icmp') as cap:\n    lab.run('ping', '-c', '20', '-i', '0.2', '10.4.0.2')\n"
    "lab.view(cap, title='after the ping')",
    "lab.close()",
]


def _rows(page: Any) -> int:
    return int(page.locator(".labkit-capture-pane .lk-row").count())


def test_packets_arrive_in_the_pane_while_the_ping_runs(jupyterlab: dict[str, Any], browser: Any, artifacts: Path) -> None:
    page = open_notebook(jupyterlab, browser, "live.ipynb", scratch_notebook(CELLS))
    try:
        run_cell(page, 0)
        assert "ready" in wait_done(page, 0)["text"]
        run_cell(page, 1)
        page.locator(".labkit-capture-pane .lk-row").first.wait_for(state="visible", timeout=15_000)
        time.sleep(1.0)
        mid = _rows(page)
        page.locator(".labkit-capture").first.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "live-pane-mid-ping.png"))
        still_running = page.evaluate("(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.executionCount",
                                      1) is None
        assert still_running, "the ping ended before the pane was looked at: nothing was shown live"
        assert 0 < mid < 40, f"mid-ping the pane held {mid} of the 40 packets: not live"
        done = wait_done(page, 1, timeout=60)
        final = page.locator(".labkit-step-view .labkit-capture-pane .lk-row").count()
        assert final == 40, f"the view after the ping shows {final} packets, not 40: {done['text'][-300:]}"
        assert page.locator(".labkit-capture").count() == 1, "the live panes were not replaced by the view's"
        assert re.search(r"echo request", done["text"])
        run_cell(page, 2)
        wait_done(page, 2)
    finally:
        page.close()
