"""Make a notebook's reference checkpoints by running it, or check that the shipped ones still match.

    python -m labkit.checkpoints              # run every notebook that marks checkpoints, write its files
    python -m labkit.checkpoints 04 06        # only these (prefixes of the file names)
    python -m labkit.checkpoints --check      # exit 1, naming what differs, when a shipped checkpoint
                                              # is no longer what the notebook builds

A notebook is run from its source (``notebooks/src/NN-name.py``, Jupytext's percent format)
with its solutions and without its ``wrong`` attempts, on a fresh kernel, after a first cell
that makes every ``checkpoint(lab, notebook, name)`` line record its file. Two checkpoints
match when their steps are the same ops and their expected states have the same digest.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from ..errors import MissingTool
from ..i18n import tr
from .form import Checkpoint, differences
from .notebook import SHIPPED

SOURCES = SHIPPED.parent / "src"
MARK = "checkpoint(lab,"


def sources(only: list[str] | None = None) -> list[Path]:
    """The notebook sources that mark checkpoints (all, or those whose name starts with one of ``only``)."""
    found = [p for p in sorted(SOURCES.glob("[0-9][0-9]-*.py")) if MARK in p.read_text(encoding="utf-8")]
    return [p for p in found if not only or p.stem.startswith(tuple(only))]


def run(source: Path, folder: Path, timeout: int = 300) -> None:
    """Run ``source`` (solutions in, wrong attempts out) so its checkpoints are written under ``folder``."""
    try:
        import jupytext
        import nbformat
        from nbclient import NotebookClient
    except ImportError as exc:
        raise MissingTool(tr("making checkpoints runs the notebooks, which needs {module}", module=exc.name),
                          hint=tr("pip install jupytext nbclient (the project's dev extras: pip install -e '.[dev]')")) from None

    nb = jupytext.reads(source.read_text(encoding="utf-8"), fmt="py:percent")
    nb.cells = [c for c in nb.cells if "wrong" not in c.get("metadata", {}).get("tags", [])]
    nb.cells.insert(0, nbformat.v4.new_code_cell(
        f"from labkit.checkpoints.notebook import record_to\nrecord_to({str(folder)!r})"))
    with tempfile.TemporaryDirectory(prefix="labkit-checkpoints-") as cwd:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": cwd}}).execute()


def compare(shipped: Path, built: Path) -> list[str]:
    """Why the checkpoint files ``shipped`` and ``built`` differ (empty: they match)."""
    old, new = Checkpoint.load(shipped), Checkpoint.load(built)
    old_steps, new_steps = [s.to_dict() for s in old.steps], [s.to_dict() for s in new.steps]
    if old_steps != new_steps:
        at = next(i for i in range(max(len(old_steps), len(new_steps)))
                  if i >= min(len(old_steps), len(new_steps)) or old_steps[i] != new_steps[i])
        title = [steps[at]["title"] if at < len(steps) else "(none)" for steps in (old_steps, new_steps)]
        return [f"the steps differ ({len(old_steps)} shipped, {len(new_steps)} built), first at step {at + 1}: "
                f"shipped {title[0]!r}, built {title[1]!r}" + (" (same title, other ops)" if title[0] == title[1] else "")]
    if old.digest != new.digest:
        return ["the expected state differs: " + "; ".join(differences(old.state, new.state)[:10])]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit.checkpoints", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped checkpoints, write nothing")
    parser.add_argument("only", nargs="*", help="only notebooks whose name starts with one of these (e.g. 04 06)")
    args = parser.parse_args(argv)
    chosen = sources(args.only)
    if not chosen:
        print("no notebook source marks a checkpoint" + (f" among {', '.join(args.only)}" if args.only else ""))
        return 1
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="labkit-checkpoints-out-") as out:
        for source in chosen:
            built_dir, shipped_dir = Path(out) / source.stem, SHIPPED / source.stem
            run(source, Path(out))
            built = {p.name: p for p in built_dir.glob("*.json")}
            shipped = {p.name: p for p in shipped_dir.glob("*.json")}
            if args.check:
                problems += [f"{source.stem}/{name}: shipped, but the notebook no longer makes it" for name in shipped.keys() - built.keys()]
                problems += [f"{source.stem}/{name}: the notebook makes it, but it is not shipped" for name in built.keys() - shipped.keys()]
                problems += [f"{source.stem}/{name}: {why}" for name in sorted(built.keys() & shipped.keys())
                             for why in compare(shipped[name], built[name])]
                print(f"{source.stem}: {len(built)} checkpoint(s) built and compared")
            else:
                if shipped_dir.exists():
                    shutil.rmtree(shipped_dir)
                shutil.copytree(built_dir, shipped_dir)
                print(f"{source.stem}: wrote {len(built)} checkpoint(s) to {shipped_dir}")
    for problem in problems:
        print(f"out of date: {problem}")
    if problems:
        print("make them again with: python -m labkit.checkpoints " + " ".join(args.only))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
