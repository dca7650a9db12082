"""A learner whose kernel has LABKIT_LANG=zh reads the cell view in Chinese: the view's caption, the legend,
the picture's labels, the capture panes' headers and caption, the topology's panel and buttons, the
Wireshark detail's first line. Packet lines stay as tcpdump prints them.

The kernel gets the language from its environment, as a learner's server sets it (not from a call in the
notebook): this module runs its own JupyterLab with LABKIT_LANG=zh. Screenshot:
artifacts/i18n-display/view-zh.png, panes-zh.png (a packet opened) and view-zh-panel.png (an interface clicked).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import ROOT, serve
from .scratch import open_notebook, run_cell, scratch_notebook, wait_done

pytestmark = pytest.mark.browser

CJK = re.compile("[\u4e00-\u9fff]")
SETUP = """from labkit.notebook import fresh_lab
lab = fresh_lab(uplink=False)
lab.netns('h1'); lab.netns('h2')
lab.veth('eth0', 'eth0', ns='h1', peer_ns='h2')
lab.addr('eth0', '10.79.0.1/24', ns='h1'); lab.addr('eth0', '10.79.0.2/24', ns='h2')
lab.up('eth0', ns='h1'); lab.up('eth0', ns='h2')
import labkit.i18n; print('language', labkit.i18n.language())"""
CAPTURE = """with lab.capture('h1/eth0', 'h2/eth0', filter='icmp', count=4) as cap:
    lab.run('ping', '-c', '2', '-i', '0.2', '10.79.0.2', ns='h1')
lab.view(cap, title='h1 ping h2')"""
CELLS = [SETUP, CAPTURE, "lab.close()"]


@pytest.fixture(scope="module")
def jupyterlab_zh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A JupyterLab whose kernels start with LABKIT_LANG=zh (otherwise like conftest's ``jupyterlab``)."""
    with serve(tmp_path_factory.mktemp("jlab-zh"), [], LABKIT_LANG="zh") as lab:
        yield lab


def test_the_cell_view_speaks_chinese_when_the_kernel_says_so(jupyterlab_zh: dict[str, Any], browser: Any) -> None:
    shots = ROOT / "artifacts" / "i18n-display"
    shots.mkdir(parents=True, exist_ok=True)
    page = open_notebook(jupyterlab_zh, browser, "zh-view.ipynb", scratch_notebook(CELLS))
    try:
        run_cell(page, 0)
        assert "language zh" in wait_done(page, 0)["text"]
        run_cell(page, 1)
        done = wait_done(page, 1, timeout=90)
        assert done["boxes"] == 0 and not done["traceback"], done["text"][-800:]
        view = page.locator(".labkit-step-view")
        view.wait_for(state="visible", timeout=30_000)
        text = view.inner_text()
        assert re.search(r"实验 \S+ · \d+ 个命名空间中共 \d+ 个网络接口", text), text[:600]
        assert "新增" in text and "网桥端口：" in text  # the legend
        assert "过滤条件：" in text and "点击数据包查看各层" in text  # the panes' caption
        assert "4 个数据包" in text or "个数据包" in text
        assert "ICMP echo request" in text  # tcpdump's own words stay
        svg = view.locator(".lk-topo-svg svg")
        assert "IP 协议栈" in svg.inner_html() and "h1（命名空间）" in svg.inner_html()
        assert view.locator(".lk-topo-hint").inner_text() == "点击一个网络接口，查看内核报告的信息。"
        assert view.locator(".lk-topo-bar button").nth(2).inner_text() == "适应"
        for english in ("earlier packets", "interfaces in", "click a packet", "Click an interface", "IP stack"):
            assert english not in text, english
        page.set_viewport_size({"width": 1440, "height": 2600})  # the whole view in one picture
        view.scroll_into_view_if_needed()
        view.screenshot(path=str(shots / "view-zh.png"))
        panes = view.locator(".labkit-capture")
        panes.locator('.lk-row[data-key="h2/eth0"][data-index="0"] > summary').click()  # scapy's layers, and sharkd's tree
        page.wait_for_timeout(3000)
        panes.screenshot(path=str(shots / "panes-zh.png"))
        view.locator('.lk-topo-svg g.node[id="itf-h1/eth0"]').click()
        panel = view.locator(".lk-topo-details")
        assert "命名空间" in panel.inner_text() and "地址" in panel.inner_text() and "10.79.0.1/24" in panel.inner_text()
        panel.screenshot(path=str(shots / "view-zh-panel.png"))
        assert CJK.search(panel.inner_text())
        run_cell(page, 2)
        wait_done(page, 2)
    finally:
        page.close()

