"""Execute one notebook headless and save it, outputs and all (run by test_binder.py as the learner).

    python binder_run.py IN.ipynb OUT.ipynb

Exit 0 when every cell ran; 1 when a cell raised (the notebook is saved up to that cell, and the
error's name is printed on the last line, ``error: NAME``).
"""

from __future__ import annotations

import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

if __name__ == "__main__":
    notebook = nbformat.read(sys.argv[1], as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3")
    try:
        client.execute()
        status = 0
    except CellExecutionError as error:
        print(f"error: {error.ename}")
        status = 1
    nbformat.write(notebook, sys.argv[2])
    sys.exit(status)
