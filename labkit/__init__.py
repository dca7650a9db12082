"""labkit: learn Linux virtual networking by doing it on a real kernel.

>>> from labkit import Lab
>>> with Lab() as lab:                       # a sandbox of network namespaces
...     lab.veth("veth0", "veth1")
...     lab.show()                           # the topology as the kernel has it
"""

from . import errors, steps
from .errors import LabkitError
from .lab import Background, Change, Lab, RunResult
from .model import Interface, Snapshot
from .state.diff import Diff, diff

__all__ = ["Background", "Change", "Diff", "Interface", "Lab", "LabkitError", "RunResult", "Snapshot", "diff",
           "errors", "steps"]
__version__ = "0.1.0"
