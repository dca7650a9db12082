"""Agent extension: commit-confirmed changes, as on a router.

``apply_confirmed`` applies ops and arms a timer; unless ``confirm`` arrives within
the timeout, the agent undoes the change by itself. A change that cuts the controller
off (enslaving the eth0 that carries our SSH session the wrong way) so rolls itself
back, and the connection comes back. The timer runs the undo on the kernel thread,
which a long request never holds, so it fires on time.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from ..errors import LabkitError, NotFound, TargetError
from ..i18n import tr
from ..steps.base import Op
from .agent_api import Handler, exclusive


class ConfirmExtension:
    """The one commit-confirmed change an agent may have waiting."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent
        self.pending: dict[str, Any] | None = None

    def handlers(self) -> dict[str, Handler]:
        return {"apply_confirmed": exclusive(self.apply_confirmed), "confirm": exclusive(self.confirm)}

    def cleanup(self) -> None:
        if self.pending is not None:
            self.pending["timer"].cancel()
            self.pending = None

    def apply_confirmed(self, ops: list[dict[str, Any]], timeout: float = 5.0) -> dict[str, Any]:
        """Apply ops, then undo them by ourselves unless ``confirm`` comes within ``timeout`` s.

        Like a router's commit-confirmed: a change that cuts the controller off (say,
        enslaving the eth0 that carries our SSH session the wrong way) rolls itself back."""
        if self.pending is not None:
            raise TargetError(tr("a confirmed change is already waiting"), hint=tr("confirm it or let it roll back first"))
        results = self.agent.apply(ops)
        token = f"c{time.monotonic_ns()}"
        undo = [Op.from_dict(u) for r in reversed(results) for u in r["undo"]]
        timer = threading.Timer(timeout, self.agent.on_kernel, args=(self._roll_back, token))
        self.pending = {"token": token, "undo": undo, "timer": timer, "state": "waiting", "applied_at": time.monotonic()}
        timer.daemon = True
        timer.start()
        return {"token": token, "results": results, "timeout": timeout}

    def _roll_back(self, token: str) -> None:
        with self.agent.kernel_lock:
            if self.pending and self.pending["token"] == token and self.pending["state"] == "waiting":
                failed = []
                for op in self.pending["undo"]:
                    try:
                        self.agent.kernel.apply([op])
                    except LabkitError as exc:
                        failed.append(f"`{op.command}`: {exc.what}")
                self.pending["state"] = "rolled back"
                self.pending["undo_failed"] = failed
                self.pending["rolled_back_after"] = round(time.monotonic() - self.pending["applied_at"], 3)

    def confirm(self, token: str) -> dict[str, Any]:
        """Keep the change (if it is still waiting); says whether it had already rolled back."""
        pending = self.pending
        if pending is None or pending["token"] != token:
            raise NotFound(tr("no confirmed change {token!r} is waiting", token=token), hint=tr("apply it with apply_confirmed first"))
        pending["timer"].cancel()
        self.pending = None
        if pending["state"] == "rolled back":
            return {"kept": False, "rolled_back_after": pending["rolled_back_after"], "undo_failed": pending.get("undo_failed", []),
                    "undo": [op.to_dict() for op in pending["undo"]]}
        return {"kept": True, "undo": [op.to_dict() for op in pending["undo"]]}


EXTENSION = ConfirmExtension
