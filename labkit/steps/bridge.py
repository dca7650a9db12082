"""bridge: a software switch inside the kernel.

A bridge forwards Ethernet frames between its ports by MAC address, learning which
MAC lives behind which port (the fdb). A device that becomes a port (``ip link set
veth0 master br0``) hands every frame it receives to the bridge instead of the IP
stack, so an address left on the port stops working: move it to the bridge
(``move_ip``). The bridge takes the lowest MAC of its ports unless given one.

With STP on, bridges elect a root (lowest bridge id = priority + MAC) and block
ports that would close a loop. A port goes disabled → listening → learning →
forwarding, spending ``forward_delay`` seconds in each middle state (kernel minimum 2 s).
"""

from __future__ import annotations

from typing import Any

from .. import kinds
from ..errors import InvalidInput
from ..names import check_bool, check_ifname, check_ns, check_range
from . import ops
from .base import Step


def _settings(**given: Any) -> dict[str, Any]:
    """Bridge settings checked by the bridge's declaration (labkit/kinds/bridge.py); None means "leave as is"."""
    return kinds.get("bridge").check(given)


def bridge(name: str, stp: bool = False, forward_delay: float | None = None, priority: int | None = None,
           ns: str = "main") -> Step:
    """A new bridge, with kernel STP on or off."""
    check_ifname(name)
    check_ns(ns)
    settings = _settings(stp=check_bool(stp, "stp"), forward_delay=forward_delay, priority=priority)
    return Step(f"Create bridge {name}" + (" with STP" if stp else ""), (ops.link_add(ns, name, "bridge", **settings),))


def stp(name: str, on: bool = True, forward_delay: float | None = None, priority: int | None = None,
        hello_time: float | None = None, max_age: float | None = None, ns: str = "main") -> Step:
    """Turn kernel STP on or off on a bridge, and tune its timers and priority."""
    check_ifname(name)
    check_ns(ns)
    on = check_bool(on, "on")
    settings = _settings(stp=on, forward_delay=forward_delay, priority=priority, hello_time=hello_time, max_age=max_age)
    return Step(f"STP {'on' if on else 'off'} on {name}", (ops.bridge_set(ns, name, **settings),))


def bridge_set(name: str, ns: str = "main", **settings: Any) -> Step:
    """Change bridge settings: stp, forward_delay, priority, hello_time, max_age, ageing_time."""
    check_ifname(name)
    check_ns(ns)
    values = _settings(**settings)
    if not values:
        raise InvalidInput("bridge_set() names no setting", hint="e.g. lab.bridge_set('br0', priority=4096)")
    return Step(f"Set {', '.join(values)} on {name}", (ops.bridge_set(ns, name, **values),))


def enslave(dev: str, bridge_name: str, ns: str = "main") -> Step:
    """Make ``dev`` a port of ``bridge_name``."""
    check_ifname(dev)
    check_ifname(bridge_name, "bridge")
    check_ns(ns)
    if dev == bridge_name:
        raise InvalidInput(f"{dev!r} cannot be a port of itself", hint="enslave another device, e.g. enslave('veth0', 'br0')")
    return Step(f"Attach {dev} to {bridge_name}", (ops.link_set(ns, dev, master=bridge_name),),
                f"Frames {dev} receives now go to {bridge_name}, not to the IP stack.")


def release(dev: str, ns: str = "main") -> Step:
    """Detach ``dev`` from its bridge."""
    check_ifname(dev)
    check_ns(ns)
    return Step(f"Detach {dev} from its bridge", (ops.link_set(ns, dev, master=None),))


def port(dev: str, cost: int | None = None, priority: int | None = None, ns: str = "main") -> Step:
    """Set a bridge port's STP path cost or port priority."""
    check_ifname(dev)
    check_ns(ns)
    settings: dict[str, Any] = {}
    if cost is not None:
        settings["cost"] = check_range(cost, 1, 65535, "port cost")
    if priority is not None:
        settings["priority"] = check_range(priority, 0, 63, "port priority")
    if not settings:
        raise InvalidInput("port() needs cost or priority", hint="e.g. port('veth0', cost=100)")
    return Step(f"Set STP {', '.join(settings)} of port {dev}", (ops.brport_set(ns, dev, **settings),))
