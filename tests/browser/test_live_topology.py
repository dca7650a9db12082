"""``with lab.live():`` in a real JupyterLab: the picture follows the kernel while the cell still runs.

The cell moves veth0's address to br0 (``lab.move_ip``) between two sleeps: before the cell ends, the br0 node
of the picture on screen must carry the address; when the block ends a static copy of the final picture and
the list of changes stay in the output, and in the saved notebook.
"""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from .scratch import open_notebook, run_cell, scratch_notebook, wait_done

pytestmark = pytest.mark.browser

CELLS = [
    "from labkit.notebook import fresh_lab\nlab = fresh_lab(uplink=False)\nlab.netns('h1')\nlab.bridge('br0')\n"
    "lab.veth('veth0', 'eth0', peer_ns='h1')\nlab.enslave('veth0', 'br0')\nlab.addr('veth0', '10.9.0.1/24')\n"
    "lab.up('br0')\nlab.up('veth0')\nlab.up('eth0', ns='h1')\nprint('ready')",
    "import time\nwith lab.live():\n    time.sleep(2)\n    lab.move_ip('veth0', 'br0')  # the address moves to the bridge\n"
    "    time.sleep(4)\n    lab.down('eth0', ns='h1')\n    time.sleep(2)\nprint('done')",
    "lab.close()",
]
BR0_TEXT = ("() => [...document.querySelectorAll('.labkit-topology .lk-topo-svg svg')]"
            ".map(s => { const n = s.querySelector('[id=\"itf-main/br0\"]'); return n ? n.textContent : ''; }).join(' ')")
RUNNING = "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.executionCount === null"


def _node_text(svg: str, node: str) -> str:
    found = re.search(r'<g id="itf&#45;' + re.escape(node) + r'" class="node">(.*?)</g>\s*</g>', svg, re.S)
    return re.sub(r"<[^>]+>", " ", found.group(1)) if found else ""


def test_the_picture_changes_while_the_live_cell_runs(jupyterlab: dict[str, Any], browser: Any, artifacts: Path) -> None:
    page = open_notebook(jupyterlab, browser, "live-topology.ipynb", scratch_notebook(CELLS))
    try:
        run_cell(page, 0)
        assert "ready" in wait_done(page, 0)["text"]
        page.set_viewport_size({"width": 1440, "height": 1000})
        run_cell(page, 1)
        before = moved = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and page.evaluate(RUNNING, 1):
            text = page.evaluate(BR0_TEXT)
            if text and "10.9.0.1" not in text and not before:
                before = text
                page.locator(".labkit-topology").first.scroll_into_view_if_needed()
                page.screenshot(path=str(artifacts / "live-topology-before.png"))
            if "10.9.0.1" in text and not moved:
                moved = text
                page.screenshot(path=str(artifacts / "live-topology-mid-cell.png"))
            time.sleep(0.2)
        assert before, "no live picture of br0 without the address was on screen while the cell ran"
        assert moved, "the address never appeared on br0 in the picture while the cell ran"
        done = wait_done(page, 1, timeout=40)
        assert "done" in done["text"], done["text"]
        page.screenshot(path=str(artifacts / "live-topology-after.png"))
        final = page.locator(".labkit-live-final")
        assert final.locator("img").count() == 1, "the final picture did not stay in the output"
        listed = final.locator("pre").inner_text()
        assert "10.9.0.1/24 on br0" in listed and "eth0 set down" in listed, listed
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        saved: list[str] = []
        for _ in range(50):
            nb = json.loads((jupyterlab["root"] / "live-topology.ipynb").read_text())
            saved = [out.get("data", {}).get("text/html", "") for out in nb["cells"][1].get("outputs", [])]
            saved = ["".join(h) if isinstance(h, list) else h for h in saved]
            if any("labkit-live-final" in h for h in saved):
                break
            time.sleep(0.2)
        html = next((h for h in saved if "labkit-live-final" in h), "")
        assert html, f"the saved notebook lost the final picture: {saved}"
        svg = base64.b64decode(re.search(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", html).group(1)).decode()  # type: ignore[union-attr]
        assert "10.9.0.1/24" in _node_text(svg, "main/br0"), "the saved picture does not show the address on br0"
        run_cell(page, 2)
        wait_done(page, 2)
    finally:
        page.close()
