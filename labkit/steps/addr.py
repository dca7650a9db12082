"""IP addresses and routes.

An address on a device also adds a *connected* route for its subnet (``proto
kernel``) and a *local* route in the local table: any address of the namespace is
local, whichever device it sits on, which is why a same-namespace veth ping is
answered through ``lo``. ``move_ip`` moves addresses and the routes that use them
from one device to another in one step, as a bridge's uplink needs (seed 002).
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..i18n import tr
from ..names import check_cidr, check_ifname, check_ip, check_network, check_ns, shown
from . import ops
from .base import Step


def addr(dev: str, cidr: str, ns: str = "main") -> Step:
    check_ifname(dev)
    check_cidr(cidr)
    check_ns(ns)
    return Step(tr("Add {cidr} to {dev}", cidr=cidr, dev=dev), (ops.addr_add(ns, dev, cidr),))


def addr_del(dev: str, cidr: str, ns: str = "main") -> Step:
    check_ifname(dev)
    check_cidr(cidr)
    check_ns(ns)
    return Step(tr("Remove {cidr} from {dev}", cidr=cidr, dev=dev), (ops.addr_del(ns, dev, cidr),))


def _cidrs(cidrs: object) -> list[str] | None:
    """``move_ip``'s ``cidrs``: None (every address) or a non-empty list of CIDRs."""
    if cidrs is None:
        return None
    if isinstance(cidrs, (str, bytes)) or not isinstance(cidrs, (list, tuple)):
        raise InvalidInput(tr("cidrs={value} is not a list of addresses", value=shown(cidrs)),
                           hint=tr("give a list such as cidrs=['20.1.0.10/24'], or leave it out to move every address"))
    if not cidrs:
        raise InvalidInput(tr("cidrs=[] names no address to move"),
                           hint=tr("leave cidrs out to move every address of the device"))
    for cidr in cidrs:
        check_cidr(cidr)
    return list(cidrs)


def move_ip(src: str, dst: str, ns: str = "main", cidrs: list[str] | None = None) -> Step:
    """Move every address of ``src`` (or only ``cidrs``), and routes via ``src``, to ``dst``."""
    check_ifname(src)
    check_ifname(dst)
    check_ns(ns)
    if src == dst:
        raise InvalidInput(tr("move_ip from {src!r} to itself", src=src),
                           hint=tr("name two different devices, e.g. move_ip('eth0', 'br0')"))
    cidrs = _cidrs(cidrs)
    return Step(tr("Move IP from {src} to {dst}", src=src, dst=dst), (ops.move_ip(ns, src, dst, cidrs),),
                tr("Addresses and the routes that use them move in one step, so no route is left pointing at a bridge port."))


def _route_args(dst: str, via: str | None, dev: str | None, ns: str) -> None:
    network = check_network(dst)
    if via is not None:
        gateway = check_ip(via, tr("gateway"))
        if gateway.version != network.version:
            raise InvalidInput(tr("route to {dst} via {via}: the gateway is IPv{gateway}, the destination IPv{destination}",
                                  dst=dst, via=via, gateway=gateway.version, destination=network.version),
                               hint=tr("give a gateway of the destination's family, e.g. via='10.0.0.1' for an IPv4 route"))
    if dev is not None:
        check_ifname(dev)
    check_ns(ns)


def route(dst: str, via: str | None = None, dev: str | None = None, ns: str = "main") -> Step:
    _route_args(dst, via, dev, ns)
    if via is None and dev is None:
        raise InvalidInput(tr("route to {dst} has neither a gateway nor a device", dst=dst),
                           hint=tr("give via='10.0.0.1' or dev='eth0'"))
    if via and dev:
        title = tr("Route {dst} via {via} dev {dev}", dst=dst, via=via, dev=dev)
    elif via:
        title = tr("Route {dst} via {via}", dst=dst, via=via)
    else:
        title = tr("Route {dst} dev {dev}", dst=dst, dev=dev)
    return Step(title, (ops.route_add(ns, dst, via, dev),))


def route_del(dst: str, via: str | None = None, dev: str | None = None, ns: str = "main") -> Step:
    _route_args(dst, via, dev, ns)
    return Step(tr("Delete route {dst}", dst=dst), (ops.route_del(ns, dst, via, dev),))


def neigh_flush(dev: str | None = None, ns: str = "main") -> Step:
    """Forget learned neighbours (ARP entries), so the next packet has to ask again."""
    if dev is not None:
        check_ifname(dev)
    check_ns(ns)
    title = tr("Flush the neighbour (ARP) cache of {dev}", dev=dev) if dev else tr("Flush the neighbour (ARP) cache")
    return Step(title, (ops.neigh_flush(ns, dev),))
