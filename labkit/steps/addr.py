"""IP addresses and routes.

An address on a device also adds a *connected* route for its subnet (``proto
kernel``) and a *local* route in the local table: any address of the namespace is
local, whichever device it sits on, which is why a same-namespace veth ping is
answered through ``lo``. ``move_ip`` moves addresses and the routes that use them
from one device to another in one step, as a bridge's uplink needs (seed 002).
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..names import check_cidr, check_ifname, check_ip, check_network
from . import ops
from .base import Step


def addr(dev: str, cidr: str, ns: str = "main") -> Step:
    check_ifname(dev)
    check_cidr(cidr)
    return Step(f"Add {cidr} to {dev}", (ops.addr_add(ns, dev, cidr),))


def addr_del(dev: str, cidr: str, ns: str = "main") -> Step:
    check_ifname(dev)
    check_cidr(cidr)
    return Step(f"Remove {cidr} from {dev}", (ops.addr_del(ns, dev, cidr),))


def move_ip(src: str, dst: str, ns: str = "main", cidrs: list[str] | None = None) -> Step:
    """Move every address of ``src`` (or only ``cidrs``), and routes via ``src``, to ``dst``."""
    check_ifname(src)
    check_ifname(dst)
    if src == dst:
        raise InvalidInput(f"move_ip from {src!r} to itself", hint="name two different devices, e.g. move_ip('eth0', 'br0')")
    for cidr in cidrs or []:
        check_cidr(cidr)
    return Step(f"Move IP from {src} to {dst}", (ops.move_ip(ns, src, dst, cidrs),),
                "Addresses and the routes that use them move in one step, so no route is left pointing at a bridge port.")


def route(dst: str, via: str | None = None, dev: str | None = None, ns: str = "main") -> Step:
    check_network(dst)
    if via:
        check_ip(via)
    if dev:
        check_ifname(dev)
    if not via and not dev:
        raise InvalidInput(f"route to {dst} has neither a gateway nor a device", hint="give via='10.0.0.1' or dev='eth0'")
    return Step(f"Route {dst}" + (f" via {via}" if via else "") + (f" dev {dev}" if dev else ""),
                (ops.route_add(ns, dst, via, dev),))


def route_del(dst: str, via: str | None = None, dev: str | None = None, ns: str = "main") -> Step:
    check_network(dst)
    return Step(f"Delete route {dst}", (ops.route_del(ns, dst, via, dev),))


def neigh_flush(dev: str | None = None, ns: str = "main") -> Step:
    """Forget learned neighbours (ARP entries), so the next packet has to ask again."""
    if dev:
        check_ifname(dev)
    return Step("Flush the neighbour (ARP) cache" + (f" of {dev}" if dev else ""), (ops.neigh_flush(ns, dev),))
