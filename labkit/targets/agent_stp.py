"""Agent extension: watch bridge ports move through the STP states, with timestamps.

A port that joins an STP bridge goes listening → learning → forwarding (or ends
blocking if it would close a loop), ``forward_delay`` seconds per middle state.
``stp_wait`` polls the port states every 50 ms and returns every transition it saw,
so a notebook can show how long the network took to converge.

Converged means: every bridge has a port, every port is forwarding or blocking (a
disabled port is down, not settled), and the STP bridges of the wait agree on one root
(right after STP is turned on, every bridge still calls itself root while its ports
may still read forwarding).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..i18n import Text, tr
from ..model import STP_STATES
from .agent_api import Call, Handler, concurrent

STABLE = ("forwarding", "blocking")
POLL = 0.05  # seconds between two reads of the port states


ROOTS = "roots"  # the key under which port_states also reports each STP bridge's root id


def _root_id(data: dict[str, Any]) -> str:
    root = data.get("IFLA_BR_ROOT_ID") or {}
    return f"{root.get('prio', 0)}.{root.get('addr', '')}" if isinstance(root, dict) else str(root)


def port_states(kernel: Any, bridges: list[list[str]]) -> dict[str, tuple[str, str]]:
    """{'ns/port': (bridge, state)} for every port of the given [ns, bridge] pairs, and
    {ROOTS + ':ns/bridge': (bridge, root id)} for each of them that runs STP."""
    states: dict[str, tuple[str, str]] = {}
    for ns, bridge in bridges:
        master = kernel.index(ns, bridge, "bridge")
        data = ((kernel.link(ns, bridge) or {}).get("IFLA_LINKINFO") or {}).get("IFLA_INFO_DATA") or {}
        if data.get("IFLA_BR_STP_STATE"):
            states[f"{ROOTS}:{ns}/{bridge}"] = (bridge, _root_id(data))
        for link in kernel.dump(ns, "links"):
            if link.get("IFLA_MASTER") != master:
                continue
            data = (link.get("IFLA_LINKINFO") or {}).get("IFLA_INFO_SLAVE_DATA") or {}
            code = data.get("IFLA_BRPORT_STATE", 0)
            states[f"{ns}/{link['IFLA_IFNAME']}"] = (bridge, STP_STATES[code] if 0 <= code < len(STP_STATES) else "?")
    return states


def unsettled_reason(bridges: list[list[str]], states: dict[str, tuple[str, str]]) -> str:
    """Why these bridges cannot be called converged ('' when every bridge has a port and
    every port is forwarding or blocking, and the STP bridges agree on the root). A disabled
    port is not converged: it is down."""
    for ns, bridge in bridges:
        ports = {key: state for key, (owner, state) in states.items() if owner == bridge and key.startswith(f"{ns}/")}
        if not ports:
            return tr("{bridge} has no ports", bridge=bridge)
        if all(state == "disabled" for state in ports.values()):
            return tr("every port of {bridge} is disabled (are the links down?)", bridge=bridge)
        moving = sorted(f"{key.split('/', 1)[1]} {state}" for key, state in ports.items() if state not in (*STABLE, "disabled"))
        if moving:
            return tr("{bridge}: {moving}", bridge=bridge, moving=", ".join(moving))
    roots = {key.split(":", 1)[1]: root for key, (_bridge, root) in states.items() if key.startswith(f"{ROOTS}:")}
    if len(set(roots.values())) > 1:
        return tr("the bridges do not agree on the root yet: {roots}",
                  roots=", ".join(f"{key} says {root}" for key, root in sorted(roots.items())))
    return ""


def stp_wait(read: Callable[[], dict[str, tuple[str, str]]], bridges: list[list[str]], timeout: float, min_time: float,
             sleep: Callable[[float], None] = time.sleep,
             emit: Callable[[dict[str, Any]], None] = lambda _event: None) -> dict[str, Any]:
    """Poll the port states until they settle (or ``timeout``), recording every transition;
    ``emit`` gets each transition as it happens (the notebook redraws the picture)."""
    start = time.monotonic()
    last = read()
    events = [{"t": 0.0, "port": key, "bridge": b, "state": st} for key, (b, st) in sorted(last.items())
              if not key.startswith(f"{ROOTS}:")]
    while True:
        elapsed = time.monotonic() - start
        reason = unsettled_reason(bridges, last)
        if (not reason and elapsed >= min_time) or elapsed > timeout:
            return {"converged": not reason, "reason": reason or None, "timed_out": bool(reason), "elapsed": round(elapsed, 3),
                    # the reason's message id and fields, so the notebook's side can show it in the learner's language
                    "reason_text": reason.to_data() if isinstance(reason, Text) else None,
                    "events": events, "states": {k: st for k, (_b, st) in last.items() if not k.startswith(f"{ROOTS}:")}}
        sleep(POLL)
        now = read()
        for key, (bridge, state) in sorted(now.items()):
            if last.get(key, ("", ""))[1] != state and not key.startswith(f"{ROOTS}:"):
                events.append({"t": round(time.monotonic() - start, 3), "port": key, "bridge": bridge, "state": state})
                emit(events[-1])
        last = now


class StpExtension:
    """``stp_wait``: a long, cancellable wait that reads the kernel on the kernel thread."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent

    def handlers(self) -> dict[str, Handler]:
        return {"stp_wait": concurrent(self.stp_wait)}

    def cleanup(self) -> None:
        pass

    def stp_wait(self, call: Call, bridges: list[list[str]], timeout: float = 60.0, min_time: float = 0.0) -> dict[str, Any]:
        def read() -> dict[str, tuple[str, str]]:
            return dict(self.agent.on_kernel(port_states, self.agent.kernel, bridges))

        return stp_wait(read, bridges, float(timeout), float(min_time), sleep=call.sleep, emit=call.emit)


EXTENSION = StpExtension
