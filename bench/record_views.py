"""Record the views of a notebook as test data: each ``lab.view`` → the snapshot it drew and its packet counts.

Runs the notebook's code cells in this process (its ``wrong`` cells left out, as a learner
following the solution would), with ``Lab.view`` wrapped so every view also writes
``{"title", "snapshot", "paths"}`` to a list; the list is saved as JSON, e.g.
``tests/unit/data/views_06.json``. The layout tests and ``bench/bench_view.py`` replay these
views without a kernel.

    .venv/bin/python bench/record_views.py 04 06 09     (as root: the notebooks make namespaces)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
from pathlib import Path
from typing import Any

import nbformat

from labkit.lab import Lab

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "unit" / "data"


def record(number: str) -> list[dict[str, Any]]:
    path = next((ROOT / "notebooks").glob(f"{number}-*.ipynb"))
    nb = nbformat.read(path, as_version=4)
    views: list[dict[str, Any]] = []
    original = Lab.view

    def view(self: Lab, capture: Any = None, *, title: str | None = None) -> Any:
        views.append({"title": title or f"view {len(views)}", "snapshot": self.raw_snapshot(),
                      "paths": capture.path_counts() if capture is not None else {}})
        return original(self, capture, title=title)

    Lab.view = view  # type: ignore[method-assign]
    scope: dict[str, Any] = {"__name__": "__main__"}
    workdir = ROOT / "artifacts" / "record" / path.stem
    workdir.mkdir(parents=True, exist_ok=True)
    here = os.getcwd()
    os.chdir(workdir)
    try:
        for cell in nb.cells:
            if cell.cell_type != "code" or "wrong" in cell.metadata.get("tags", []):
                continue
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(cell.source, f"{path.name}", "exec"), scope)
    finally:
        Lab.view = original  # type: ignore[method-assign]
        os.chdir(here)
        lab = scope.get("lab")
        if lab is not None and not getattr(lab, "closed", False):
            with contextlib.suppress(Exception):
                lab.close()
    return views


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("numbers", nargs="+")
    args = parser.parse_args()
    for number in args.numbers:
        views = record(number)
        out = DATA / f"views_{number}.json"
        out.write_text(json.dumps(views, indent=None, sort_keys=True))
        print(f"{number}: {len(views)} views → {out.relative_to(ROOT)} ({out.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
