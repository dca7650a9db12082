"""Every notebook, run in a real JupyterLab in headless Chromium, judged by what a person sees.

For each of notebooks/solutions/*.ipynb (copies: the instructor's edition): open it with ``?reset``, wait for the kernel
to be idle, Run All, wait until every code cell ran, then check that the topology
SVG is visible, that capture panes show packets (where the notebook captures),
that clicking an interface shows its details, that a pane's pcap downloads and
reads back with scapy with as many packets as the pane shows, and that no cell
shows an error. A screenshot of each notebook goes to artifacts/screenshots/.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import notebooks

pytestmark = pytest.mark.browser

KERNEL_READY = """() => {
  const app = window.jupyterapp; const w = app && app.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!(k && k.status === 'idle' && w.content && w.content.widgets.length > 0);
}"""
PROGRESS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  const cells = w.content.widgets.filter(c => c.model.type === 'code');
  const done = cells.filter(c => c.model.executionCount !== null).length;
  const errors = [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
    .map(e => e.textContent).filter(t => /Traceback|Error/.test(t));
  return {status: k ? k.status : 'none', done, total: cells.length, errors};
}"""

OVERFLOW = """() => [...document.querySelectorAll('.labkit-capture-pane, .labkit-capture-pane .lk-rows')]
  .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => `${e.className}: ${e.scrollWidth} > ${e.clientWidth}` +
   [...e.querySelectorAll('*')].filter(c => c.getBoundingClientRect().width > e.clientWidth + 1).slice(0, 6)
   .map(c => ` [${c.tagName}.${c.className} ${Math.round(c.getBoundingClientRect().width)} ${getComputedStyle(c).whiteSpace}]`).join(''))"""


def run_all(page: Any, timeout: float = 300.0) -> dict[str, Any]:
    page.evaluate("window.jupyterapp.commands.execute('runmenu:run-all')")
    deadline = time.monotonic() + timeout
    idle_since = None
    while True:
        state = page.evaluate(PROGRESS)
        if state["errors"]:
            return state
        if state["status"] == "idle" and state["done"] == state["total"]:
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > 1.0:  # outputs and widget views settle
                return state
        else:
            idle_since = None
        if time.monotonic() > deadline:
            pytest.fail(f"the notebook did not finish within {timeout:.0f} s: {state}")
        time.sleep(0.5)


@pytest.mark.parametrize("notebook", [nb.name for nb in notebooks()] or
                         [pytest.param("none", marks=pytest.mark.skip(reason="no notebooks in notebooks/solutions/"))])
def test_notebook_in_jupyterlab(jupyterlab: dict[str, Any], browser: Any, artifacts: Path, notebook: str) -> None:
    page = browser.new_page()
    try:
        started = time.monotonic()
        page.goto(f"{jupyterlab['url']}/lab/tree/{notebook}?reset&token={jupyterlab['token']}")
        page.wait_for_function(KERNEL_READY, timeout=90_000)
        page.evaluate("window.jupyterapp.shell.collapseLeft()")
        state = run_all(page)
        ran = time.monotonic() - started
        assert not state["errors"], f"{notebook}: a cell shows an error:\n" + "\n---\n".join(e[-1500:] for e in state["errors"])
        assert page.locator(".jp-OutputArea-output:has-text('Error displaying widget')").count() == 0

        source = (jupyterlab["root"] / notebook).read_text()
        # a lab that needs another target (the VM) says "skipped" in a banner and draws nothing: that is fine
        skipped = page.locator(".jp-OutputArea-output:has-text('skipped')").count() > 0
        drawn = page.locator(".labkit-step-view").count()
        if ("lab.view(" in source or "step_view(" in source) and not (skipped and drawn == 0):
            views = page.locator(".labkit-topology .lk-topo-svg svg")
            views.first.wait_for(state="visible", timeout=30_000)
            box = views.first.bounding_box()
            assert box and box["height"] > 50 and box["width"] > 50, f"topology SVG too small: {box}"
            check_interface_details(page)
        panes = page.locator(".labkit-capture-pane").count()
        if "capture(" in source and ("lab.view(" in source or ".panes(" in source) and not (skipped and panes == 0):
            rows = page.locator(".labkit-capture-pane .lk-row")
            rows.first.wait_for(state="visible", timeout=30_000)
            assert rows.count() > 0, "the capture panes show no packets"
            check_download(page)
            rows.first.locator("summary").click()
            expect_layers = page.locator(".labkit-capture-pane .lk-row[open] pre").first
            assert "###[" in expect_layers.inner_text()
            wide = page.evaluate(OVERFLOW)
            assert not wide, f"capture panes wider than their place (scrolled sideways, the head out of sight): {wide}"
        if skipped:
            print(f"{notebook}: shows a 'skipped' banner ({drawn} views, {panes} capture panes drawn)")
        screenshot(page, artifacts / f"{Path(notebook).stem}.png")
        for i, view in enumerate(page.locator(".labkit-step-view:has(.labkit-capture)").all()[:3]):
            view.scroll_into_view_if_needed()  # the captures up close, to look at
            view.screenshot(path=str(artifacts / f"{Path(notebook).stem}-capture-{i + 1}.png"))
        if notebook.startswith("00-"):
            last = page.locator(".labkit-step-view").last
            last.scroll_into_view_if_needed()
            veth1 = last.locator('g.node[id="itf-main-veth1"]')
            if veth1.count():
                veth1.click()  # the README picture shows the details panel too
            last.screenshot(path=str(artifacts / f"{Path(notebook).stem}-view.png"))
        print(f"{notebook}: ran in {ran:.1f} s, {state['total']} code cells")
    finally:
        page.close()


def check_interface_details(page: Any) -> None:
    """Clicking an interface node shows its details next to the picture."""
    node = page.locator('.labkit-topology g.node[id^="itf-"]').first
    node.click()
    panel = node.locator("xpath=ancestor::div[contains(@class,'labkit-topology')]").locator(".lk-topo-details")
    text = panel.inner_text()
    assert "MTU" in text and "state" in text, f"no interface details after a click: {text!r}"


def check_download(page: Any) -> None:
    """The pane's ⬇ link downloads a pcap that scapy reads with as many packets as the pane shows."""
    from scapy.utils import rdpcap

    import labkit.capture.decode  # noqa: F401 - loads the layers; without them rdpcap falls back to Raw

    pane = page.locator(".labkit-capture-pane").filter(has=page.locator("a[download]")).first
    link = pane.locator("a[download]").first
    shown = pane.locator(".lk-row").count()
    # the file is what tcpdump wrote: the rows, plus any packet outside the capture's window (capture/session.py)
    outside = re.search(r"(\d+) outside the capture's window", pane.locator(".lk-pane-head").inner_text())
    with page.expect_download() as info:
        link.click()
    path = info.value.path()
    assert path is not None
    assert len(rdpcap(str(path))) == shown + (int(outside.group(1)) if outside else 0)


def screenshot(page: Any, path: Path) -> None:
    """The whole notebook: make the viewport as tall as the notebook, then take the picture."""
    height = page.evaluate("""() => {
      const s = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
      return s ? s.scrollHeight : document.body.scrollHeight; }""")
    page.set_viewport_size({"width": 1440, "height": min(max(900, int(height) + 160), 12_000)})
    page.wait_for_timeout(300)
    page.evaluate("""() => { for (const s of document.querySelectorAll('.jp-WindowedPanel-outer')) s.scrollTop = 0; }""")
    page.wait_for_timeout(500)
    page.screenshot(path=str(path))
