"""Jumping to a checkpoint in a real JupyterLab, as a learner who fell behind does it.

On a fresh kernel the learner runs lab 04's first cell, then ``lab = restore("04-bridge",
"step-5")``, then step 5's own cell: the restore says how many steps it replayed and that the
kernel holds the recorded state, the checkpoint line of step 5 finds the lab equal to the
reference, and the step's facts pass. A name the notebook does not ship shows one labkit box
listing the ones it has, and no traceback. The screenshot is ``checkpoint-jump.png``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import jupytext
import pytest

from labkit.checkpoints.regen import SOURCES

from .scratch import open_notebook, run_cell, scratch_notebook, wait_done
from .test_notebooks_browser import screenshot

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def cells_of_04() -> tuple[str, str]:
    """Lab 04's first code cell, and the cell that starts with its step-5 checkpoint."""
    nb = jupytext.reads((SOURCES / "04-bridge.py").read_text(encoding="utf-8"), fmt="py:percent")
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    return code[0], next(c for c in code if 'checkpoint(lab, "04-bridge", "step-5")' in c)


def test_a_learner_jumps_to_step_5_of_lab_04(jupyterlab: dict[str, Any], browser: Any, artifacts: Path) -> None:
    first, step5 = cells_of_04()
    cells = [first, 'lab = restore("04-bridge", "step-5")', step5, 'restore("04-bridge", "step-9")', "lab.close()"]
    page = open_notebook(jupyterlab, browser, "jump.ipynb", scratch_notebook(cells))
    try:
        for index in range(3):
            run_cell(page, index)
            done = wait_done(page, index, timeout=120)
            assert not done["traceback"] and done["boxes"] == 0, f"cell {index}: {done['text'][-1500:]}"
        restored = wait_done(page, 1)["text"]
        assert "restored 04-bridge at checkpoint step-5: 12 steps replayed" in restored and "ip link add name br0" in restored
        step = wait_done(page, 2)["text"]
        assert "checkpoint step-5: your lab is the reference lab here" in step, step[-1500:]
        assert "as the text says: the ping works" in step, step[-1500:]
        run_cell(page, 3)
        missing = wait_done(page, 3)
        assert missing["boxes"] == 1 and not missing["traceback"], missing
        assert "04-bridge has no checkpoint 'step-9'" in missing["text"] and "exercise, step-5" in missing["text"], missing["text"]
        screenshot(page, artifacts / "checkpoint-jump.png")
        own = ROOT / "artifacts" / "checkpoints"
        own.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(artifacts / "checkpoint-jump.png", own / "checkpoint-jump.png")
        run_cell(page, 4)
        wait_done(page, 4)
    finally:
        page.close()
