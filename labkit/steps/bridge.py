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

from ..errors import InvalidInput
from ..names import check_ifname, check_range
from . import ops
from .base import Step


def _stp_settings(stp: bool | None, forward_delay: float | None, priority: int | None,
                  hello_time: float | None = None, max_age: float | None = None) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if stp is not None:
        settings["stp"] = bool(stp)
    if forward_delay is not None:
        if not 2 <= forward_delay <= 30:
            raise InvalidInput(f"forward_delay {forward_delay} s is out of range",
                               hint="the kernel accepts 2 to 30 seconds when STP is on")
        settings["forward_delay"] = float(forward_delay)
    if priority is not None:
        settings["priority"] = check_range(priority, 0, 65535, "bridge priority")
    if hello_time is not None:
        if not 1 <= hello_time <= 10:
            raise InvalidInput(f"hello_time {hello_time} s is out of range", hint="use 1 to 10 seconds")
        settings["hello_time"] = float(hello_time)
    if max_age is not None:
        if not 6 <= max_age <= 40:
            raise InvalidInput(f"max_age {max_age} s is out of range", hint="use 6 to 40 seconds")
        settings["max_age"] = float(max_age)
    return settings


def bridge(name: str, stp: bool = False, forward_delay: float | None = None, priority: int | None = None,
           ns: str = "main") -> Step:
    """A new bridge, with kernel STP on or off."""
    check_ifname(name)
    settings = _stp_settings(stp, forward_delay, priority)
    return Step(f"Create bridge {name}" + (" with STP" if stp else ""), (ops.link_add(ns, name, "bridge", **settings),))


def stp(name: str, on: bool = True, forward_delay: float | None = None, priority: int | None = None,
        hello_time: float | None = None, max_age: float | None = None, ns: str = "main") -> Step:
    """Turn kernel STP on or off on a bridge, and tune its timers and priority."""
    check_ifname(name)
    settings = _stp_settings(on, forward_delay, priority, hello_time, max_age)
    return Step(f"STP {'on' if on else 'off'} on {name}", (ops.bridge_set(ns, name, **settings),))


def bridge_set(name: str, ns: str = "main", **settings: Any) -> Step:
    """Change bridge settings: stp, forward_delay, priority, hello_time, max_age, ageing_time."""
    check_ifname(name)
    ageing = settings.pop("ageing_time", None)
    values = _stp_settings(settings.pop("stp", None), settings.pop("forward_delay", None),
                           settings.pop("priority", None), settings.pop("hello_time", None),
                           settings.pop("max_age", None))
    if settings:
        raise InvalidInput(f"unknown bridge settings {sorted(settings)}",
                           hint="use stp, forward_delay, priority, hello_time, max_age or ageing_time")
    if ageing is not None:
        values["ageing_time"] = float(ageing)
    return Step(f"Set {', '.join(values)} on {name}", (ops.bridge_set(ns, name, **values),))


def enslave(dev: str, bridge_name: str, ns: str = "main") -> Step:
    """Make ``dev`` a port of ``bridge_name``."""
    check_ifname(dev)
    check_ifname(bridge_name)
    if dev == bridge_name:
        raise InvalidInput(f"{dev!r} cannot be a port of itself", hint="enslave another device, e.g. enslave('veth0', 'br0')")
    return Step(f"Attach {dev} to {bridge_name}", (ops.link_set(ns, dev, master=bridge_name),),
                f"Frames {dev} receives now go to {bridge_name}, not to the IP stack.")


def release(dev: str, ns: str = "main") -> Step:
    """Detach ``dev`` from its bridge."""
    check_ifname(dev)
    return Step(f"Detach {dev} from its bridge", (ops.link_set(ns, dev, master=None),))


def port(dev: str, cost: int | None = None, priority: int | None = None, ns: str = "main") -> Step:
    """Set a bridge port's STP path cost or port priority."""
    check_ifname(dev)
    settings: dict[str, Any] = {}
    if cost is not None:
        settings["cost"] = check_range(cost, 1, 65535, "port cost")
    if priority is not None:
        settings["priority"] = check_range(priority, 0, 63, "port priority")
    if not settings:
        raise InvalidInput("port() needs cost or priority", hint="e.g. port('veth0', cost=100)")
    return Step(f"Set STP {', '.join(settings)} of port {dev}", (ops.brport_set(ns, dev, **settings),))
