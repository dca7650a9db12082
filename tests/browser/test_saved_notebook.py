"""A saved notebook keeps its pictures: reopened without its widgets' state, exported, or on GitHub.

A view is a widget plus a static copy of itself (``labkit-static``: the SVG, the commands and the
packet lines). Live, the widget's stylesheet hides the copy, so the learner sees the view once;
opened later without the widget models, the copy is what shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .scratch import open_notebook, scratch_notebook
from .test_notebooks_browser import run_all, screenshot

pytestmark = pytest.mark.browser

SOURCE = ["from labkit.notebook import fresh_lab\nlab = fresh_lab(uplink=False)\nlab.netns('h1')\n"
          "lab.veth('sa', 'sb', peer_ns='h1')\nlab.addr('sa', '10.3.0.1/24')\nlab.addr('sb', '10.3.0.2/24', ns='h1')\n"
          "lab.up('sa')\nlab.up('sb', ns='h1')",
          "with lab.capture('h1/sb', filter='arp or icmp') as cap:\n    lab.run('ping', '-c', '2', '10.3.0.2')\n"
          "lab.view(cap, title='saved view')",
          "lab.close()"]


def test_a_saved_notebook_shows_its_pictures_without_widget_state(jupyterlab: dict[str, Any], browser: Any,
                                                                  artifacts: Path) -> None:
    from nbclient import NotebookClient

    nb = scratch_notebook(SOURCE)
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    nb.metadata.pop("widgets", None)  # as a notebook saved without the widget state (JupyterLab's default)
    outputs = [out for out in nb.cells[1].outputs if out.get("output_type") == "display_data"]
    assert any("application/vnd.jupyter.widget-view+json" in out["data"] for out in outputs)
    static = [out for out in outputs if "labkit-static" in out["data"].get("text/html", "")]
    assert len(static) == 1 and "data:image/svg+xml;base64," in static[0]["data"]["text/html"]
    assert "ICMP echo request" in static[0]["data"]["text/html"]
    page = open_notebook(jupyterlab, browser, "saved.ipynb", nb)
    try:
        copy = page.locator(".labkit-static img").first
        try:
            copy.wait_for(state="visible", timeout=30_000)
        finally:
            screenshot(page, artifacts / "saved-notebook.png")
        box = copy.bounding_box()
        assert box and box["width"] > 100, f"the saved picture is not readable: {box}"
        assert page.locator(".labkit-static pre:has-text('ICMP echo request')").first.is_visible()
        screenshot(page, artifacts / "saved-notebook.png")
        # run it live: the widget renders, and its static copy is hidden (the view shows once)
        run_all(page)
        page.locator(".labkit-topology .lk-topo-svg svg").first.wait_for(state="visible", timeout=30_000)
        assert not page.locator(".labkit-static").first.is_visible(), "the live view shows its static copy too"
    finally:
        page.close()
