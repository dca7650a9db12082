"""IP addresses and routes.

An address on a device also adds a *connected* route for its subnet (``proto
kernel``) and a *local* route in the local table: any address of the namespace is
local, whichever device it sits on, which is why a same-namespace veth ping is
answered through ``lo``. ``move_ip`` moves addresses and the routes that use them
from one device to another in one step, as a bridge's uplink needs (seed 002).
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..names import check_cidr, check_ifname, check_ip, check_network, check_ns, shown
from . import ops
from .base import Step


def addr(dev: str, cidr: str, ns: str = "main") -> Step:
    check_ifname(dev)
    check_cidr(cidr)
    check_ns(ns)
    return Step(f"Add {cidr} to {dev}", (ops.addr_add(ns, dev, cidr),))


def addr_del(dev: str, cidr: str, ns: str = "main") -> Step:
    check_ifname(dev)
    check_cidr(cidr)
    check_ns(ns)
    return Step(f"Remove {cidr} from {dev}", (ops.addr_del(ns, dev, cidr),))


def _cidrs(cidrs: object) -> list[str] | None:
    """``move_ip``'s ``cidrs``: None (every address) or a non-empty list of CIDRs."""
    if cidrs is None:
        return None
    if isinstance(cidrs, (str, bytes)) or not isinstance(cidrs, (list, tuple)):
        raise InvalidInput(f"cidrs={shown(cidrs)} is not a list of addresses",
                           hint="give a list such as cidrs=['20.1.0.10/24'], or leave it out to move every address")
    if not cidrs:
        raise InvalidInput("cidrs=[] names no address to move", hint="leave cidrs out to move every address of the device")
    for cidr in cidrs:
        check_cidr(cidr)
    return list(cidrs)


def move_ip(src: str, dst: str, ns: str = "main", cidrs: list[str] | None = None) -> Step:
    """Move every address of ``src`` (or only ``cidrs``), and routes via ``src``, to ``dst``."""
    check_ifname(src)
    check_ifname(dst)
    check_ns(ns)
    if src == dst:
        raise InvalidInput(f"move_ip from {src!r} to itself", hint="name two different devices, e.g. move_ip('eth0', 'br0')")
    cidrs = _cidrs(cidrs)
    return Step(f"Move IP from {src} to {dst}", (ops.move_ip(ns, src, dst, cidrs),),
                "Addresses and the routes that use them move in one step, so no route is left pointing at a bridge port.")


def _route_args(dst: str, via: str | None, dev: str | None, ns: str) -> None:
    network = check_network(dst)
    if via is not None:
        gateway = check_ip(via, "gateway")
        if gateway.version != network.version:
            raise InvalidInput(f"route to {dst} via {via}: the gateway is IPv{gateway.version}, the destination IPv{network.version}",
                               hint="give a gateway of the destination's family, e.g. via='10.0.0.1' for an IPv4 route")
    if dev is not None:
        check_ifname(dev)
    check_ns(ns)


def route(dst: str, via: str | None = None, dev: str | None = None, ns: str = "main") -> Step:
    _route_args(dst, via, dev, ns)
    if via is None and dev is None:
        raise InvalidInput(f"route to {dst} has neither a gateway nor a device", hint="give via='10.0.0.1' or dev='eth0'")
    return Step(f"Route {dst}" + (f" via {via}" if via else "") + (f" dev {dev}" if dev else ""),
                (ops.route_add(ns, dst, via, dev),))


def route_del(dst: str, via: str | None = None, dev: str | None = None, ns: str = "main") -> Step:
    _route_args(dst, via, dev, ns)
    return Step(f"Delete route {dst}", (ops.route_del(ns, dst, via, dev),))


def neigh_flush(dev: str | None = None, ns: str = "main") -> Step:
    """Forget learned neighbours (ARP entries), so the next packet has to ask again."""
    if dev is not None:
        check_ifname(dev)
    check_ns(ns)
    return Step("Flush the neighbour (ARP) cache" + (f" of {dev}" if dev else ""), (ops.neigh_flush(ns, dev),))
