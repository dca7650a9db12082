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
from ..i18n import tr
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
    title = tr("Create bridge {name} with STP", name=name) if stp else tr("Create bridge {name}", name=name)
    return Step(title, (ops.link_add(ns, name, "bridge", **settings),))


def stp(name: str, on: bool = True, forward_delay: float | None = None, priority: int | None = None,
        hello_time: float | None = None, max_age: float | None = None, ns: str = "main") -> Step:
    """Turn kernel STP on or off on a bridge, and tune its timers and priority."""
    check_ifname(name)
    check_ns(ns)
    on = check_bool(on, "on")
    settings = _settings(stp=on, forward_delay=forward_delay, priority=priority, hello_time=hello_time, max_age=max_age)
    title = tr("STP on on {name}", name=name) if on else tr("STP off on {name}", name=name)
    return Step(title, (ops.bridge_set(ns, name, **settings),))


def bridge_set(name: str, ns: str = "main", **settings: Any) -> Step:
    """Change bridge settings: stp, forward_delay, priority, hello_time, max_age, ageing_time."""
    check_ifname(name)
    check_ns(ns)
    values = _settings(**settings)
    if not values:
        raise InvalidInput(tr("bridge_set() names no setting"), hint=tr("e.g. lab.bridge_set('br0', priority=4096)"))
    return Step(tr("Set {settings} on {name}", settings=", ".join(values), name=name), (ops.bridge_set(ns, name, **values),))


def enslave(dev: str, bridge_name: str, ns: str = "main") -> Step:
    """Make ``dev`` a port of ``bridge_name``."""
    check_ifname(dev)
    check_ifname(bridge_name, tr("bridge"))
    check_ns(ns)
    if dev == bridge_name:
        raise InvalidInput(tr("{dev!r} cannot be a port of itself", dev=dev),
                           hint=tr("enslave another device, e.g. enslave('veth0', 'br0')"))
    return Step(tr("Attach {dev} to {bridge}", dev=dev, bridge=bridge_name), (ops.link_set(ns, dev, master=bridge_name),),
                tr("Frames {dev} receives now go to {bridge}, not to the IP stack.", dev=dev, bridge=bridge_name))


def release(dev: str, ns: str = "main") -> Step:
    """Detach ``dev`` from its bridge."""
    check_ifname(dev)
    check_ns(ns)
    return Step(tr("Detach {dev} from its bridge", dev=dev), (ops.link_set(ns, dev, master=None),))


def port(dev: str, cost: int | None = None, priority: int | None = None, ns: str = "main") -> Step:
    """Set a bridge port's STP path cost or port priority."""
    check_ifname(dev)
    check_ns(ns)
    settings: dict[str, Any] = {}
    if cost is not None:
        settings["cost"] = check_range(cost, 1, 65535, tr("port cost"))
    if priority is not None:
        settings["priority"] = check_range(priority, 0, 63, tr("port priority"))
    if not settings:
        raise InvalidInput(tr("port() needs cost or priority"), hint=tr("e.g. port('veth0', cost=100)"))
    return Step(tr("Set STP {settings} of port {dev}", settings=", ".join(settings), dev=dev), (ops.brport_set(ns, dev, **settings),))
