"""What running one op did (shared by the kernel and the op executors)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..steps.base import Op

if TYPE_CHECKING:
    from .kernel import Kernel


@dataclass
class Done:
    """What one op did: whether it changed the kernel, and the ops that undo it."""

    changed: bool
    undo: list[Op] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)  # the exact commands, when the op's text was a template


#: runs one op on a lab's kernel: ``executor(kernel, op) -> Done``
Executor = Callable[["Kernel", Op], Done]
