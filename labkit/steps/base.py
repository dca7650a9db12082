"""A step is a plan: pure data, built and shown before anything runs.

An :class:`Op` is one kernel change in one namespace of the lab, carrying the
iproute2 (or sysctl) command a learner would type for it. A :class:`Step` is the
ops of one lab action ("create a veth pair", "move the IP onto br0"), applied
atomically by the target: if any op fails, the ops before it are undone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Op:
    """One kernel change: ``action`` with ``args`` in the lab namespace ``ns``."""

    action: str
    ns: str = "main"
    args: dict[str, Any] = field(default_factory=dict)
    command: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "ns": self.ns, "args": self.args, "command": self.command}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Op:
        return Op(data["action"], data.get("ns", "main"), dict(data.get("args", {})), data.get("command", ""))


@dataclass(frozen=True)
class Step:
    """A lab action: a title, the ops that make it, and a note that teaches it."""

    title: str
    ops: tuple[Op, ...]
    note: str = ""

    @property
    def commands(self) -> list[str]:
        """The commands a learner would type to do the same by hand."""
        return [op.command for op in self.ops if op.command]


def ip(ns: str, *words: object) -> str:
    """An iproute2 command line, with ``-n NS`` when it runs in another namespace than main."""
    head = ["ip"] if ns == "main" else ["ip", "-n", ns]
    return " ".join([*head, *(str(w) for w in words if w is not None and w != "")])


def tool(ns: str, *words: object) -> str:
    """Any other command, run in ``ns`` the way a learner would (``ip netns exec``)."""
    text = " ".join(str(w) for w in words if w is not None and w != "")
    return text if ns == "main" else f"ip netns exec {ns} {text}"
