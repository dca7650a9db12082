"""Agent extension: watch bridge ports move through the STP states, with timestamps.

A port that joins an STP bridge goes listening → learning → forwarding (or ends
blocking if it would close a loop), ``forward_delay`` seconds per middle state.
``stp_wait`` polls the port states every 50 ms and returns every transition it saw,
so a notebook can show how long the network took to converge.
"""

from __future__ import annotations

import time
from typing import Any

from ..model import STP_STATES

STABLE = ("forwarding", "blocking", "disabled")


def register(agent: Any) -> None:
    def port_states(bridges: list[list[str]]) -> dict[str, tuple[str, str]]:
        """{'ns/port': (bridge, state)} for every port of the given [ns, bridge] pairs."""
        states: dict[str, tuple[str, str]] = {}
        for ns, bridge in bridges:
            master = agent.kernel.index(ns, bridge, "bridge")
            for link in agent.kernel.dump(ns, "links"):
                if link.get("IFLA_MASTER") != master:
                    continue
                data = (link.get("IFLA_LINKINFO") or {}).get("IFLA_INFO_SLAVE_DATA") or {}
                code = data.get("IFLA_BRPORT_STATE", 0)
                states[f"{ns}/{link['IFLA_IFNAME']}"] = (bridge, STP_STATES[code] if 0 <= code < len(STP_STATES) else "?")
        return states

    def stp_wait(bridges: list[list[str]], timeout: float = 60.0, min_time: float = 0.0) -> dict[str, Any]:
        start = time.monotonic()
        last = port_states(bridges)
        events = [{"t": 0.0, "port": key, "bridge": b, "state": s} for key, (b, s) in sorted(last.items())]
        while True:
            elapsed = time.monotonic() - start
            stable = all(state in STABLE for _bridge, state in last.values())
            if (stable and elapsed >= min_time) or elapsed > timeout:
                return {"converged": stable, "elapsed": round(elapsed, 3), "events": events,
                        "states": {k: s for k, (_b, s) in last.items()}}
            time.sleep(0.05)
            now = port_states(bridges)
            for key, (bridge, state) in sorted(now.items()):
                if last.get(key, ("", ""))[1] != state:
                    events.append({"t": round(time.monotonic() - start, 3), "port": key, "bridge": bridge, "state": state})
            last = now

    agent.handlers.update(stp_wait=stp_wait)
