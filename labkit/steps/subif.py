"""Devices stacked on a parent: macvlan, ipvlan and 802.1Q VLAN.

- macvlan: extra devices on a parent NIC, each with its own MAC; in *bridge* mode
  they reach each other inside the kernel, but never the parent itself.
- ipvlan: like macvlan, but every child shares the parent's MAC (L2 mode), or the
  parent routes for the children (L3 mode).
- VLAN: a device that adds a 802.1Q tag with its id to every frame it sends
  through the parent and only receives frames with that tag.
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..names import check_ifname, check_range
from . import ops
from .base import Step

MACVLAN_MODES = ("bridge", "private", "vepa", "passthru", "source")
IPVLAN_MODES = ("l2", "l3", "l3s")


def macvlan(name: str, parent: str, mode: str = "bridge", ns: str = "main") -> Step:
    check_ifname(name)
    check_ifname(parent)
    if mode not in MACVLAN_MODES:
        raise InvalidInput(f"macvlan mode {mode!r} is unknown", hint=f"use one of {', '.join(MACVLAN_MODES)}")
    return Step(f"Create macvlan {name} on {parent} ({mode})", (ops.link_add(ns, name, "macvlan", link=parent, mode=mode),))


def ipvlan(name: str, parent: str, mode: str = "l2", ns: str = "main") -> Step:
    check_ifname(name)
    check_ifname(parent)
    if mode not in IPVLAN_MODES:
        raise InvalidInput(f"ipvlan mode {mode!r} is unknown", hint=f"use one of {', '.join(IPVLAN_MODES)}")
    return Step(f"Create ipvlan {name} on {parent} ({mode})", (ops.link_add(ns, name, "ipvlan", link=parent, mode=mode),))


def vlan(name: str, parent: str, vlan_id: int, protocol: str = "802.1Q", ns: str = "main") -> Step:
    check_ifname(name)
    check_ifname(parent)
    check_range(vlan_id, 1, 4094, "VLAN id")
    if protocol not in ("802.1Q", "802.1ad"):
        raise InvalidInput(f"VLAN protocol {protocol!r} is unknown", hint="use '802.1Q' or '802.1ad'")
    return Step(f"Create VLAN {vlan_id} device {name} on {parent}",
                (ops.link_add(ns, name, "vlan", link=parent, vlan_id=vlan_id, protocol=protocol),))
