"""The typed agent client: one method per agent request, the only place that names them.

A target is anything that can start an agent and hand back an
:class:`~labkit.targets.client.AgentConnection`; the library talks to the agent only
through :class:`AgentClient`, so the contract a new target must honour is this
file (and ``tests/conformance`` checks it against every target).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypedDict

from ..errors import LabkitError, TargetError
from ..i18n import tr
from .client import DEFAULT_DEADLINE, AgentConnection, Subscription

SLACK = 15.0  # seconds a call waits beyond the agent-side timeout it asked for


class Hello(TypedDict):
    protocol: int
    lab_id: str
    pid: int
    uid: int
    kernel: str
    python: str
    namespaces: list[str]
    methods: list[str]


class OpResult(TypedDict):
    op: dict[str, Any]
    changed: bool
    undo: list[dict[str, Any]]
    commands: list[str]


class RunReply(TypedDict):
    returncode: int
    stdout: str
    stderr: str


class Poll(TypedDict):
    returncode: int | None
    output: str


class Confirmable(TypedDict):
    token: str
    results: list[OpResult]
    timeout: float


class Verdict(TypedDict, total=False):
    kept: bool
    rolled_back_after: float
    undo: list[dict[str, Any]]


class AgentClient:
    """Typed requests to one lab's agent."""

    def __init__(self, connection: AgentConnection) -> None:
        self.connection = connection

    def _call(self, method: str, deadline: float = DEFAULT_DEADLINE, what: str = "",
              on_event: Callable[[dict[str, Any]], None] | None = None, **params: Any) -> Any:
        return self.connection.call(method, params, deadline=deadline, what=what, on_event=on_event)

    # -- the lab ----------------------------------------------------------------------
    def hello(self) -> Hello:
        info: Hello = self.connection.hello()  # type: ignore[assignment]
        return info

    def apply(self, ops: list[dict[str, Any]]) -> list[OpResult]:
        return list(self._call("apply", ops=ops, what=tr("the step")))

    def apply_confirmed(self, ops: list[dict[str, Any]], timeout: float) -> Confirmable:
        result: Confirmable = self._call("apply_confirmed", ops=ops, timeout=timeout, what=tr("the confirmed change"))
        return result

    def confirm(self, token: str) -> Verdict:
        result: Verdict = self._call("confirm", token=token)
        return result

    def snapshot(self) -> dict[str, Any]:
        return dict(self._call("snapshot", what=tr("reading the kernel")))

    def features(self, kinds: list[str]) -> dict[str, bool]:
        return dict(self._call("features", kinds=kinds, what=tr("probing the kernel")))

    def wipe(self) -> dict[str, Any]:
        return dict(self._call("wipe"))

    def python(self) -> dict[str, str]:
        return dict(self._call("python"))

    # -- programs ---------------------------------------------------------------------
    def run(self, ns: str, argv: list[str], input: str | None = None, timeout: float = 30.0) -> RunReply:
        result: RunReply = self._call("run", deadline=timeout + SLACK, what=f"`{' '.join(argv)}`", ns=ns, argv=argv,
                                      input=input, timeout=timeout)
        return result

    def spawn(self, ns: str, argv: list[str], name: str | None = None) -> int:
        return int(self._call("spawn", ns=ns, argv=argv, name=name)["pid"])

    def spawn_poll(self, pid: int) -> Poll:
        result: Poll = self._call("spawn_poll", pid=pid)
        return result

    def spawn_stop(self, pid: int) -> Poll:
        result: Poll = self._call("spawn_stop", pid=pid)
        return result

    def sleep(self, seconds: float) -> float:
        """A cancellable wait in the agent (protocol tests)."""
        return float(self._call("sleep", deadline=seconds + SLACK, seconds=seconds, what=tr("the wait")))

    # -- extensions -------------------------------------------------------------------
    def stp_wait(self, bridges: list[list[str]], timeout: float, min_time: float,
                 on_event: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        """Wait until the bridges' ports settle; ``on_event`` gets each port-state change as it happens."""
        return dict(self._call("stp_wait", deadline=timeout + SLACK, what=tr("the wait for STP"), on_event=on_event,
                               bridges=bridges, timeout=timeout, min_time=min_time))

    def watch(self, on_event: Callable[[dict[str, Any]], None], ready_timeout: float = 10.0) -> Subscription:
        """Stream every change of the lab's namespaces (links, addresses, routes, neighbours) as events
        ``{ns, what, name, summary, t}`` until cancelled; returns once every namespace is listened to."""
        ready = threading.Event()

        def deliver(event: dict[str, Any]) -> None:
            if event.get("what") == "ready":
                ready.set()
            else:
                on_event(event)

        sub = self.connection.subscribe("watch", {}, deliver)
        deadline = time.monotonic() + ready_timeout
        while not ready.wait(0.05):
            if sub.done or time.monotonic() > deadline:
                sub.cancel()
                reply = getattr(getattr(sub, "_pending", None), "reply", None) or {}
                error = reply.get("error") or {}
                reason = LabkitError.from_dict(error).what if error.get("what") else tr("no answer")
                raise TargetError(tr("the live watch did not start: {reason}", reason=reason),
                                  hint=tr("is the agent up to date? (labkit doctor)"))
        return sub

    def capture_start(self, ns: str, dev: str, **options: Any) -> dict[str, Any]:
        return dict(self._call("capture_start", what=tr("starting tcpdump"), ns=ns, dev=dev, **options))

    def capture_follow(self, ids: list[str], on_data: Callable[[dict[str, Any]], None], interval: float = 0.02) -> Subscription:
        """Stream the new bytes of each capture's pcap as events ``{id, offset, data, at}`` (base64; ``at``
        the target's time.time() when they were sent),
        every ``interval`` s at most, until every capture has stopped or the subscription is cancelled."""
        return self.connection.subscribe("capture_follow", {"ids": ids, "interval": interval}, on_data)

    def capture_clock(self) -> float:
        """The target's ``time.time()``: with the round trip around it, how its clock sits against ours."""
        return float(self._call("capture_clock"))

    def capture_ready(self, ids: list[str], timeout: float = 5.0) -> list[dict[str, Any]]:
        return list(self._call("capture_ready", deadline=timeout + SLACK, ids=ids, timeout=timeout))

    def capture_read(self, id: str, offset: int, max_bytes: int) -> dict[str, Any]:
        return dict(self._call("capture_read", id=id, offset=offset, max_bytes=max_bytes))

    def capture_stop(self, id: str, timeout: float = 5.0) -> dict[str, Any]:
        return dict(self._call("capture_stop", deadline=timeout + SLACK, what=tr("stopping tcpdump"), id=id, timeout=timeout))

    def capture_remove(self, id: str) -> dict[str, Any]:
        return dict(self._call("capture_remove", id=id))

    def tun_open(self, ns: str, name: str, mode: str) -> dict[str, Any]:
        return dict(self._call("tun_open", ns=ns, name=name, mode=mode))

    def tun_read(self, id: int, timeout: float, max_packets: int) -> list[str]:
        return list(self._call("tun_read", deadline=timeout + SLACK, what=tr("reading the tun device"), id=id,
                               timeout=timeout, max_packets=max_packets))

    def tun_write(self, id: int, data: str) -> int:
        return int(self._call("tun_write", id=id, data=data))

    def tun_close(self, id: int) -> bool:
        return bool(self._call("tun_close", id=id))

    # -- the raw door, for the protocol's own tests -----------------------------------------
    def request(self, method: str, **params: Any) -> Any:
        """Any request by name (tests of the protocol; library code uses the typed methods)."""
        timeout = params.get("timeout")
        deadline = float(timeout) + SLACK if isinstance(timeout, int | float) else DEFAULT_DEADLINE
        return self._call(method, deadline=deadline, **params)

    def close(self) -> None:
        self.connection.close()
