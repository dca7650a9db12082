"""A learner who chose Chinese sees the agent's errors in Chinese, in the error box of JupyterLab.

The notebook's kernel chooses the language (``labkit.i18n.use("zh")``); the agent it starts does not
know it and sends English plus message ids: the box the learner sees is Chinese, rendered with a
CJK font, with the namespace and the kernel's command as they are."""

from __future__ import annotations

from typing import Any

from .conftest import ROOT
from .scratch import open_notebook, run_cell, scratch_notebook, wait_done

CELLS = [
    "from labkit import Lab, i18n\nfrom labkit.steps import Step, ops\ni18n.use('zh')\nlab = Lab(uplink=False)\nlab.veth('veth0', 'veth1')",
    "lab.run('true', ns='nowhere')",
    "lab.apply(Step('an MTU beyond what a veth takes', (ops.link_set('main', 'veth0', mtu=70000),)))",
    "lab.close()",
]


def test_agent_errors_show_in_chinese_in_the_box(jupyterlab: dict[str, Any], browser: Any) -> None:
    page = open_notebook(jupyterlab, browser, "i18n-agent-errors.ipynb", scratch_notebook(CELLS))
    try:
        states = []
        for index in range(len(CELLS)):
            run_cell(page, index)
            states.append(wait_done(page, index, timeout=90))
        assert states[0]["boxes"] == 0, states[0]["text"]
        namespace, refused = states[1], states[2]
        assert namespace["boxes"] == 1 and not namespace["traceback"]
        assert "网络命名空间 'nowhere' 不存在" in namespace["text"] and "does not exist" not in namespace["text"]
        assert refused["boxes"] == 1 and "`ip link set dev veth0 mtu 70000` 被内核拒绝" in refused["text"]
        assert "refused" not in refused["text"]
        shots = ROOT / "artifacts" / "i18n-targets"
        shots.mkdir(parents=True, exist_ok=True)
        page.locator(".jp-Cell").nth(1).screenshot(path=str(shots / "agent-error-namespace-zh.png"))
        page.locator(".jp-Cell").nth(2).screenshot(path=str(shots / "agent-error-kernel-refused-zh.png"))
        page.screenshot(path=str(shots / "agent-errors-zh-page.png"))
    finally:
        page.close()
