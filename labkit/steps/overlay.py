"""Overlays: Ethernet frames carried inside UDP between two hosts.

VXLAN wraps each frame in VXLAN (8 bytes) + UDP (8) + IP (20) + Ethernet (14)
headers: 50 bytes, so on a 1500-byte underlay the overlay's MTU is 1450. Geneve
does the same with a variable-length header (base 8 bytes) and port 6081.
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..names import check_ifname, check_ip, check_range
from . import ops
from .base import Step


def vxlan(name: str, vni: int, remote: str | None = None, local: str | None = None, dev: str | None = None,
          port: int = 4789, group: str | None = None, ns: str = "main") -> Step:
    check_ifname(name)
    check_range(vni, 0, 16777215, "VXLAN id")
    check_range(port, 1, 65535, "UDP port")
    for address in (remote, local, group):
        if address:
            check_ip(address)
    if remote and group:
        raise InvalidInput("a VXLAN device has either a remote or a multicast group, not both", hint="drop one of them")
    if dev:
        check_ifname(dev)
    return Step(f"Create VXLAN {vni} device {name}",
                (ops.link_add(ns, name, "vxlan", vni=vni, remote=remote, local=local, dev=dev, port=port, group=group),))


def geneve(name: str, vni: int, remote: str, port: int = 6081, ns: str = "main") -> Step:
    check_ifname(name)
    check_range(vni, 0, 16777215, "Geneve id")
    check_ip(remote)
    return Step(f"Create Geneve {vni} device {name}", (ops.link_add(ns, name, "geneve", vni=vni, remote=remote, port=port),))
