"""The notebook's end of the agent's pipe: the only code that speaks the wire.

:class:`AgentConnection` starts the agent process (in its own session, so "Interrupt
kernel", which signals the kernel's whole process group, never reaches it) and runs
one reader thread. Every request carries an id; the reader hands each reply to the
call waiting for that id and each event to its subscriber, so an answer can never
be taken for another request's. Every call has a deadline.

When the learner interrupts a wait (``KeyboardInterrupt`` in the kernel), the call
sends ``cancel`` for its request, waits a bounded time for the agent to stop it,
and raises :class:`~labkit.errors.Interrupted`: a short box, and the lab intact.

:class:`AgentClient` (in :mod:`.agent_client`) puts typed methods on top; nothing
else in labkit names an agent method.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from ..errors import Interrupted, LabkitError, TargetError
from ..i18n import tr
from .agent_api import PROTOCOL_VERSION

DEFAULT_DEADLINE = 120.0  # seconds; long requests pass their own
CANCEL_GRACE = 5.0  # seconds to wait for a cancelled request's reply
INTACT = tr("your lab is intact")
NEW_LAB = tr("start a new Lab()")


@dataclass
class _Pending:
    method: str
    done: threading.Event = field(default_factory=threading.Event)
    reply: dict[str, Any] | None = None
    on_event: Callable[[dict[str, Any]], None] | None = None


class Subscription:
    """A request that streams events until it ends or is cancelled."""

    def __init__(self, connection: AgentConnection, rid: int, pending: _Pending) -> None:
        self.connection, self.id, self._pending = connection, rid, pending

    @property
    def done(self) -> bool:
        return self._pending.done.is_set()

    def cancel(self) -> None:
        """Stop it on the agent and wait (a bounded time) until it has ended."""
        if not self.done:
            self.connection._cancel(self.id, self._pending)
        with self.connection._state_lock:
            self.connection._pending.pop(self.id, None)

    def wait(self, timeout: float) -> bool:
        """True once it ended by itself within ``timeout`` seconds."""
        return self._pending.done.wait(timeout)


class AgentConnection:
    """A running agent process and its multiplexed JSON-lines conversation."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None, what: str = tr("agent"),
                 handshake: Callable[[subprocess.Popen[bytes]], object] | None = None) -> None:
        self.what = what
        self._log = tempfile.NamedTemporaryFile(prefix="labkit-agent-", suffix=".log", delete=False)  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
                                         env=env, start_new_session=True)
        except FileNotFoundError as exc:
            raise TargetError(tr("cannot start the {what}: {error}", what=what, error=str(exc)),
                              hint=tr("run `labkit doctor`")) from None
        self._write_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._pending: dict[int, _Pending] = {}
        self._next = 0
        self._closed = False
        self.stray_replies = 0  # replies that came after their call gave up (counted, then dropped)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._stdin: IO[bytes] = self.proc.stdin
        self.handshake_result: object = None
        if handshake is not None:  # e.g. the agent's code, sent if the target lacks it (targets/bundle.py)
            try:
                self.handshake_result = handshake(self.proc)
            except BaseException as exc:
                self._abandon()
                tail = self.stderr_tail()
                self._drop_log()
                if isinstance(exc, LabkitError):
                    raise TargetError(tr("cannot start the {what}: {error}", what=what, error=exc.what), where=exc.where,
                                      hint=tr("{hint}\n{tail}", hint=exc.hint, tail=tail) if tail else exc.hint) from None
                raise
        # Events are handed to their subscribers by a thread of their own: a subscriber that waits
        # (for a lock, or for another reply) must never stop the reader delivering replies. The queue
        # exists before the reader starts: an agent that dies at once (unshare refused) ends the reader
        # at its first read, and the reader's last act is to close the queue.
        self._events: queue.Queue[tuple[Callable[[dict[str, Any]], None], dict[str, Any]] | None] = queue.Queue()
        self._dispatcher = threading.Thread(target=self._dispatch, name="labkit-agent-events", daemon=True)
        self._dispatcher.start()
        self._reader = threading.Thread(target=self._read, args=(self.proc.stdout,), name="labkit-agent-reader", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None and not self._closed

    def stderr_tail(self, lines: int = 12) -> str:
        try:
            with open(self._log.name, encoding="utf-8", errors="replace") as fh:
                return "".join(fh.readlines()[-lines:]).strip()
        except OSError:
            return ""

    def _abandon(self) -> None:
        """Stop a process whose start failed (after a moment to finish its stderr: ssh's reason)."""
        try:
            self._stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._closed = True
        self._close_pipes()

    def _close_pipes(self) -> None:
        """Close our ends of the agent's stdin and stdout (the agent may have closed its own already)."""
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass

    # -- the reader thread -----------------------------------------------------------
    def _read(self, stdout: IO[bytes]) -> None:
        for line in iter(stdout.readline, b""):
            try:
                message = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue  # not ours: the agent sends libraries' prints to stderr, so this is noise
            if not isinstance(message, dict):
                continue
            if "event" in message:
                with self._state_lock:
                    pending = self._pending.get(message["event"])
                if pending is not None and pending.on_event is not None:
                    self._events.put((pending.on_event, message.get("data") or {}))
                continue
            rid = message.get("id")
            with self._state_lock:
                pending = self._pending.pop(rid, None) if isinstance(rid, int) else None
            if pending is None:
                self.stray_replies += 1
                continue
            pending.reply = message
            pending.done.set()
        with self._state_lock:  # the agent is gone: wake every waiting call
            self._closed = True
            waiting, self._pending = list(self._pending.values()), {}
        for pending in waiting:
            pending.done.set()
        self._events.put(None)

    def _dispatch(self) -> None:
        while True:
            item = self._events.get()
            if item is None:
                return
            callback, data = item
            try:
                callback(data)
            except Exception:
                pass  # a subscriber's bug must not stop the others

    # -- calls ---------------------------------------------------------------------
    def _send(self, rid: int, method: str, params: dict[str, Any]) -> None:
        line = json.dumps({"id": rid, "method": method, "params": params}).encode() + b"\n"
        with self._write_lock:
            try:
                self._stdin.write(line)
                self._stdin.flush()
            except (BrokenPipeError, OSError, ValueError) as exc:
                raise TargetError(tr("lost the {what}: {error}", what=self.what, error=str(exc)),
                                  hint=self.stderr_tail() or NEW_LAB) from None

    def _register(self, method: str, on_event: Callable[[dict[str, Any]], None] | None) -> tuple[int, _Pending]:
        with self._state_lock:
            if self._closed or self.proc.poll() is not None:
                raise TargetError(tr("the {what} is not running", what=self.what), hint=self.stderr_tail() or NEW_LAB)
            self._next += 1
            pending = _Pending(method, on_event=on_event)
            self._pending[self._next] = pending
            return self._next, pending

    def call(self, method: str, params: dict[str, Any] | None = None, *, deadline: float = DEFAULT_DEADLINE,
             on_event: Callable[[dict[str, Any]], None] | None = None, what: str = "") -> Any:
        """Send one request and wait for its reply (``deadline`` seconds at most).

        ``on_event`` receives the request's events (in the reader thread) while it runs.
        An interrupt while waiting cancels the request on the agent (see the module docstring)."""
        rid, pending = self._register(method, on_event)
        try:
            self._send(rid, method, params or {})
            limit = time.monotonic() + deadline
            while not pending.done.wait(min(0.5, max(0.0, limit - time.monotonic()))):
                if time.monotonic() >= limit:
                    self._cancel(rid, pending)
                    raise TargetError(tr("the {what} did not answer {method!r} within {deadline:.0f} s",
                                         what=self.what, method=method, deadline=deadline),
                                      hint=tr("the request was cancelled; the lab should be intact (lab.snapshot() to see)"))
        except KeyboardInterrupt:
            self._cancel(rid, pending)
            raise self._interrupted(method, what, pending) from None
        finally:
            with self._state_lock:
                self._pending.pop(rid, None)
        return self._result(pending)

    def subscribe(self, method: str, params: dict[str, Any], on_event: Callable[[dict[str, Any]], None]) -> Subscription:
        """Start a long request whose events go to ``on_event`` (in the reader thread), without
        waiting for it; :meth:`Subscription.cancel` ends it."""
        rid, pending = self._register(method, on_event)
        self._send(rid, method, params)
        return Subscription(self, rid, pending)

    def _cancel(self, rid: int, pending: _Pending) -> None:
        """Ask the agent to stop request ``rid``, and wait a bounded time for its reply."""
        try:
            self._send(self._register("cancel", None)[0], "cancel", {"id": rid})
        except TargetError:
            return
        try:
            pending.done.wait(CANCEL_GRACE)
        except KeyboardInterrupt:  # a second press: stop waiting, the agent still cancels it
            pass

    def _interrupted(self, method: str, what: str, pending: _Pending) -> Interrupted:
        label = what or method
        reply = pending.reply
        if reply is None:
            return Interrupted(tr("{label} was asked to stop", label=label),
                               hint=tr("the {what} did not confirm within {grace:.0f} s; your lab should be intact",
                                       what=self.what, grace=CANCEL_GRACE))
        if reply.get("ok"):
            error = Interrupted(tr("{label} had already finished", label=label), hint=INTACT)
            error.result = reply.get("result")
            return error
        data = reply.get("error") or {}
        if data.get("type") == "Cancelled":  # the agent can only name its method ("stp_wait"); say it as the learner asked it
            return Interrupted(tr("{label} was stopped", label=label), hint=INTACT)
        if data.get("type") == "Interrupted":  # the box already says "Interrupted": no need to repeat it
            sent = LabkitError.from_dict(data)  # keeps the agent's message ids: shown in the learner's language
            return Interrupted(sent.what if data.get("what") else tr("{label} was stopped", label=label), where=sent.where,
                               hint=sent.hint if data.get("hint") else INTACT)
        said = LabkitError.from_dict(data).what if "what" in data else "?"
        return Interrupted(tr("{label} ended with: {said}", label=label, said=said), hint=INTACT)

    def _result(self, pending: _Pending) -> Any:
        reply = pending.reply
        if reply is None:
            raise TargetError(tr("the {what} exited during {method!r}", what=self.what, method=pending.method),
                              hint=self.stderr_tail() or NEW_LAB)
        if reply.get("ok"):
            return reply.get("result")
        raise LabkitError.from_dict(reply.get("error") or {})

    def hello(self) -> dict[str, Any]:
        """The agent's greeting; a different protocol version is refused with a hint."""
        info = dict(self.call("hello", deadline=60.0))
        if info.get("protocol") != PROTOCOL_VERSION:
            raise TargetError(tr("the {what} speaks protocol {theirs!r}, this labkit speaks {ours}",
                                 what=self.what, theirs=info.get("protocol"), ours=PROTOCOL_VERSION),
                              hint=tr("the target runs another labkit version: update it (or restart the VM's lab)"))
        return info

    def close(self, timeout: float = 15.0) -> None:
        if self.proc.poll() is None and not self._closed:
            try:
                self.call("destroy", deadline=timeout)
            except LabkitError:
                pass
            try:
                self._stdin.close()
                self.proc.wait(timeout=timeout)
            except (subprocess.TimeoutExpired, OSError):
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
        elif self.proc.poll() is None:
            self.proc.terminate()
        self._close_pipes()
        self._drop_log()

    def _drop_log(self) -> None:
        self._log.close()
        try:
            os.unlink(self._log.name)
        except OSError:
            pass
