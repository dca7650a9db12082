"""A learner who chose Chinese, in a real JupyterLab: a bad veth name and a bad CIDR each show one
labkit box in Chinese (no traceback), and a step's result shows its title in Chinese with the
command exactly as the kernel ran it. The screenshot is artifacts/i18n-steps/steps-zh.png."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from .scratch import open_notebook, run_cell, scratch_notebook, wait_done
from .test_notebooks_browser import screenshot

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")

CELLS = [
    "import labkit.i18n\nlabkit.i18n.use('zh')\nfrom labkit.notebook import fresh_lab\nlab = fresh_lab(uplink=False)\nprint('ready')",
    "lab.veth('veth0', 'veth/1')",
    "lab.addr('lo', '20.1.0.10')",
    "lab.veth('veth0', 'veth1')",
    "lab.veth('veth0', 'veth1')",
    "lab.close()\nprint('closed')",
]


def test_a_learner_reads_steps_and_errors_in_chinese(jupyterlab: dict[str, Any], browser: Any) -> None:
    page = open_notebook(jupyterlab, browser, "steps-zh.ipynb", scratch_notebook(CELLS))
    try:
        run_cell(page, 0)
        assert "ready" in wait_done(page, 0, timeout=120)["text"]
        outputs = []
        for index in range(1, len(CELLS)):
            run_cell(page, index)
            outputs.append(wait_done(page, index, timeout=120))
        bad_name, bad_cidr, made, again, closed = outputs
        for box in (bad_name, bad_cidr):
            assert box["boxes"] == 1 and not box["traceback"], box
        assert "接口名称 'veth/1' 含有 '/'、':' 或空白字符" in bad_name["text"], bad_name["text"]
        assert "只能使用字母、数字" in bad_name["text"]
        assert "地址 '20.1.0.10' 缺少前缀长度" in bad_cidr["text"] and "请写成 CIDR 形式" in bad_cidr["text"]
        assert "创建 veth 对 veth0 ↔ veth1" in made["text"] and "ip link add name veth0 type veth peer name veth1" in made["text"]
        assert "本来就是这样：没有任何改动" in again["text"]
        assert "closed" in closed["text"]
        folder = ROOT / "artifacts" / "i18n-steps"
        folder.mkdir(parents=True, exist_ok=True)
        screenshot(page, folder / "steps-zh.png")
    finally:
        page.close()
