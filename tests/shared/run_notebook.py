"""Run one lab notebook headless, as whoever runs this script, with the system install's nbclient.

The rootless tier starts it as a throwaway non-root user (``runuser -u USER --
/opt/labkit/venv/bin/python run_notebook.py NB OUT``): the kernel is the system
kernel spec ``labkit``, so the notebook sees exactly what a learner on a shared
machine sees. It writes the executed notebook to OUT (whatever happened) and prints
one JSON line: ``{"seconds": ..., "error": null | "<the failing cell's error>"}``.
Only the standard library, nbformat and nbclient are used: it runs outside pytest.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main(source: str, out: str, kernel: str = "labkit", cell_timeout: int | str = 180) -> int:
    nb = nbformat.read(source, as_version=4)
    client = NotebookClient(nb, timeout=int(cell_timeout), kernel_name=kernel, startup_timeout=120, resources={"metadata": {"path": str(Path(out).parent)}})
    started, error = time.monotonic(), None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = str(exc)[-3000:]
    except Exception as exc:  # a kernel that died or never started: say so, with its type
        error = f"{type(exc).__name__}: {exc}"
    finally:
        nbformat.write(nb, out)
    print(json.dumps({"seconds": round(time.monotonic() - started, 1), "error": error}))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3], *sys.argv[3:5]))
