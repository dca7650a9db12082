"""The agent's side of the wire: read requests, serve each in a worker, write replies and events.

See :mod:`.agent` for the protocol. One thread reads stdin (so a signal handler never
has to interrupt a read: it only sets a flag), each request is served in its own
worker thread, and one lock keeps the written lines whole.
"""

from __future__ import annotations

import json
import queue
import threading
from typing import IO, TYPE_CHECKING, Any

from ..errors import TargetError
from ..i18n import tr
from .agent_api import Call

if TYPE_CHECKING:
    from .agent import Agent


class Server:
    """The agent's conversation: read requests, serve each in a worker, write replies and events.

    One thread reads stdin (so a signal handler never has to interrupt a read: it
    only sets a flag), workers serve requests, and one lock keeps the lines whole."""

    def __init__(self, agent: Agent, rx: IO[bytes], tx: IO[str]) -> None:
        self.agent, self.rx, self.tx = agent, rx, tx
        self.write_lock = threading.Lock()
        self.calls: dict[int, Call] = {}
        self.calls_lock = threading.Lock()
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.stopping = threading.Event()

    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message, default=str) + "\n"
        with self.write_lock:
            try:
                self.tx.write(line)
                self.tx.flush()
            except (BrokenPipeError, OSError, ValueError):
                self.stopping.set()

    def _read(self) -> None:
        try:
            for line in iter(self.rx.readline, b""):
                self.lines.put(line)
        except (OSError, ValueError):
            pass
        self.lines.put(None)

    def serve(self) -> None:
        """Answer requests until stdin closes, ``destroy`` is asked, or a signal says stop."""
        threading.Thread(target=self._read, name="labkit-stdin", daemon=True).start()
        while not self.stopping.is_set():
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                break
            if line.strip() and self.dispatch(line):
                break
        for call in list(self.calls.values()):
            call.cancelled.set()

    def dispatch(self, line: bytes) -> bool:
        """Start serving one line; True when it was the last (``destroy``)."""
        try:
            request = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            request = None
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            rid = request.get("id") if isinstance(request, dict) else None
            self.send({"id": rid, "ok": False, "error": TargetError(
                tr("the agent got a line that is not a request object"),
                hint=tr("send {request}", request='{"id": N, "method": "...", "params": {}}')).to_dict()})
            return False
        rid, method = request.get("id"), request["method"]
        if method == "cancel":
            target = (request.get("params") or {}).get("id")
            with self.calls_lock:
                found = self.calls.get(target) if isinstance(target, int) else None
            if found is not None:
                found.cancelled.set()
            self.send({"id": rid, "ok": True, "result": {"cancelled": found is not None}})
            return False
        if method == "destroy":
            for call in list(self.calls.values()):
                call.cancelled.set()
            self.send(self.agent.handle(request))
            return True
        call = Call(rid if isinstance(rid, int) else -1, method, emit_line=self.send)
        if isinstance(rid, int):
            with self.calls_lock:
                self.calls[rid] = call
        threading.Thread(target=self._work, args=(request, call), name=f"labkit-{method}-{rid}", daemon=True).start()
        return False

    def _work(self, request: dict[str, Any], call: Call) -> None:
        try:
            self.send(self.agent.handle(request, call))
        finally:
            with self.calls_lock:
                self.calls.pop(call.id, None)


def serve(agent: Agent, rx: IO[bytes], tx: IO[str]) -> Server:
    """Answer requests from ``rx`` until it closes; the server, for its state."""
    server = Server(agent, rx, tx)
    server.serve()
    return server

