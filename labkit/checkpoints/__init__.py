"""Checkpoints: a named point of a lab that a fresh kernel can jump to.

``lab.checkpoint("step-3", path="step-3.json")`` records the lab's steps and the state
they gave; ``Lab.restore("step-3.json")`` rebuilds a new lab by replaying those steps and
checks it against the recorded state. In a notebook, :func:`labkit.notebook.restore`
jumps to a checkpoint shipped with it (``notebooks/checkpoints/<notebook>/<name>.json``),
and ``python -m labkit.checkpoints`` makes those files again by running the notebooks.

* :mod:`.form`: the file (steps as data, the expected state in normal form, its digest); pure
* :mod:`.runs`: which ``lab.run`` commands change the kernel (and so cannot be left out); pure
* :mod:`.replay`: taking a checkpoint of a live lab, restoring one
* :mod:`.notebook`: the notebook helpers; :mod:`.regen`: the instructor's command
"""

from .form import Checkpoint, RecordedStep, RunRecord

__all__ = ["Checkpoint", "RecordedStep", "RunRecord"]
