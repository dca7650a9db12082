"""Checkpoints in a lab notebook: mark the points a learner can jump to, and jump.

A notebook marks a point with ``checkpoint(lab, "04-bridge", "step-5")`` at the start of
the step. For a learner, that line compares their lab with the reference checkpoint
shipped with the notebook (``notebooks/checkpoints/04-bridge/step-5.json``) and says
whether it matches; it never stops the notebook. A learner who fell behind runs the
notebook's first cell on a fresh kernel, then ``lab = restore("04-bridge", "step-5")``:
the lab is rebuilt as the reference has it, checked, and becomes this kernel's lab.

When the notebook runs to make the reference checkpoints (``python -m labkit.checkpoints``
sets :func:`record_to` first), the same line writes the file instead.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from ..errors import CheckpointError
from ..i18n import localize, tr
from ..places import checkpoints_dir
from .form import Checkpoint, differences

#: where the reference checkpoints of the lab notebooks live: notebooks/checkpoints/<notebook>/<name>.json
SHIPPED = checkpoints_dir()
_RECORD = "labkit_checkpoint_dir"  # attribute on the IPython shell: record the references there


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return None
    return get_ipython()


def reference(notebook: str, name: str, where: Path | None = None) -> Path:
    """The file of the reference checkpoint ``name`` of ``notebook`` (``04-bridge``)."""
    return (where or SHIPPED) / notebook / f"{name}.json"


def available(notebook: str, where: Path | None = None) -> list[str]:
    """The names of the reference checkpoints shipped with ``notebook``."""
    return sorted(p.stem for p in ((where or SHIPPED) / notebook).glob("*.json"))


def record_to(folder: str | Path, home: Any = None) -> None:
    """From now on, ``checkpoint(...)`` in this kernel writes reference files under ``folder``."""
    home = home if home is not None else _shell()
    setattr(home, _RECORD, str(folder))


def _box(ok: bool, text: str, detail: str = "") -> dict[str, str]:
    """A checkpoint's one-line verdict; ``text`` and ``detail`` are shown in the learner's language."""
    text, detail = localize(text), localize(detail)
    colour, background = ("#1b5e20", "#e8f5e9") if ok else ("#8a5a00", "#fff8e1")
    return {"text/plain": f"⚑ {text}" + (f"\n{detail}" if detail else ""),
            "text/html": f'<div class="labkit-checkpoint" style="color:{colour};background:{background};padding:4px 8px;'
                         f'border-left:4px solid {colour}">⚑ {html.escape(text)}'
                         + (f'<pre style="margin:2px 0">{html.escape(detail)}</pre>' if detail else "") + "</div>"}


def checkpoint(lab: Any, notebook: str, name: str, *, home: Any = None) -> Checkpoint | None:
    """Mark checkpoint ``name`` of ``notebook`` here: compare the learner's lab with the reference (or record it)."""
    from IPython.display import display

    home = home if home is not None else _shell()
    folder = getattr(home, _RECORD, None) if home is not None else None
    jump = f'lab = restore("{notebook}", "{name}")'
    if folder is not None:  # making the references: any problem must stop the run
        point = lab.checkpoint(name, notebook=notebook, path=reference(notebook, name, Path(folder)))
        display(_box(True, tr("checkpoint {notebook}/{name} recorded: {steps} steps, {digest}…", notebook=notebook,
                              name=name, steps=len(point.steps), digest=point.digest[:19])), raw=True)
        return point
    try:
        point = lab.checkpoint(name, notebook=notebook)
        shipped = Checkpoint.load(reference(notebook, name))
    except CheckpointError as exc:  # a learner's experiment is no reason to stop the notebook
        display(_box(False, tr("checkpoint {name}: {what}", name=name, what=exc.what), exc.hint), raw=True)
        return None
    if point.digest == shipped.digest:
        display(_box(True, tr("checkpoint {name}: your lab is the reference lab here. Fell behind later? On a fresh "
                              "kernel run the first cell, then {jump}", name=name, jump=jump)), raw=True)
    else:
        lines = differences(shipped.state, point.state)
        display(_box(False, tr("checkpoint {name}: your lab differs from the reference in {count} place(s) "
                               "(- reference only, + yours only). To continue from the reference: {jump}",
                               name=name, count=len(lines), jump=jump),
                     "\n".join(lines[:15])), raw=True)
    return point


def load_reference(notebook: str, name: str, where: Path | None = None) -> Checkpoint:
    """The reference checkpoint ``name`` of ``notebook``, or an error listing the ones it has."""
    path = reference(notebook, name, where)
    if not path.is_file():
        known = available(notebook, where)
        raise CheckpointError(tr("{notebook} has no checkpoint {name!r}", notebook=notebook, name=name), where=str(path.parent),
                              hint=tr("its checkpoints: {names}", names=", ".join(known)) if known else
                              tr("this notebook ships no checkpoints (python -m labkit.checkpoints makes them)"))
    return Checkpoint.load(path)


def restored(notebook: str, name: str, point: Checkpoint) -> dict[str, str]:
    """The line shown after a jump."""
    return _box(True, tr("restored {notebook} at checkpoint {name}: {steps} steps replayed, the kernel holds the recorded "
                         "state ({digest}…). Below: the lab as restored, and the commands the replay ran. Continue with "
                         "the cell of the checkpoint.", notebook=notebook, name=name, steps=len(point.steps),
                         digest=point.digest[:19]))
