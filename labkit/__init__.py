"""labkit: learn Linux virtual networking by doing it on a real kernel.

>>> from labkit import Lab
>>> with Lab() as lab:                       # a sandbox of network namespaces
...     lab.veth("veth0", "veth1")
...     lab.show()                           # the topology as the kernel has it

The public names are imported on first use (PEP 562), so the agent, which imports
``labkit.targets.agent`` and never ``Lab``, does not pay for the notebook side: under
the VM's emulated CPU every module counts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import errors
from .errors import LabkitError

if TYPE_CHECKING:
    from . import steps
    from .lab import Background, Change, Lab, RunResult
    from .model import Interface, Snapshot
    from .state.diff import Diff, diff

#: public name → the module that defines it ("" for a subpackage of that name)
_LAZY = {"Background": ".lab", "Change": ".lab", "Lab": ".lab", "RunResult": ".lab", "Interface": ".model",
         "Snapshot": ".model", "Diff": ".state.diff", "diff": ".state.diff", "steps": ""}

__all__ = ["Background", "Change", "Diff", "Interface", "Lab", "LabkitError", "RunResult", "Snapshot", "diff",
           "errors", "steps"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'labkit' has no attribute {name!r}")
    module = importlib.import_module(where or f".{name}", __name__)
    value = module if not where else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
