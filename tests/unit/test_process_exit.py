"""An agent leaves at once with its exit status, and what it printed last still arrives (labkit.targets.process_exit)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_exit_now_keeps_the_status_and_flushes_the_last_output() -> None:
    code = "import sys\nfrom labkit.targets.process_exit import exit_now\nsys.stdout.write('last line')\nexit_now(3)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # a pipe's output stays buffered, as an agent's
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, cwd=ROOT, check=False,
                          env=env)
    assert done.returncode == 3, done.stderr
    assert done.stdout == "last line", "the buffered output was lost by os._exit"
