"""Generic device changes: up/down, MTU, MAC, delete, move to another namespace.

A device is administratively UP when someone said ``ip link set X up``; it is
operationally up (``state UP``) when it also has a carrier: a veth needs its peer
up, a tap needs a program holding its file descriptor, a bridge needs a port up.
"""

from __future__ import annotations

from ..names import check_ifname, check_label, check_mac, check_range
from . import ops
from .base import Step


def up(*names: str, ns: str = "main") -> Step:
    """Set each device administratively up."""
    for name in names:
        check_ifname(name)
    return Step(f"Bring up {', '.join(names)}", tuple(ops.link_set(ns, n, up=True) for n in names))


def down(*names: str, ns: str = "main") -> Step:
    for name in names:
        check_ifname(name)
    return Step(f"Bring down {', '.join(names)}", tuple(ops.link_set(ns, n, up=False) for n in names))


def delete(name: str, ns: str = "main") -> Step:
    """Delete a device (deleting one end of a veth pair deletes both)."""
    check_ifname(name)
    return Step(f"Delete {name}", (ops.link_del(ns, name),))


def mtu(name: str, value: int, ns: str = "main") -> Step:
    check_ifname(name)
    check_range(value, 68, 65535, "MTU")
    return Step(f"Set MTU of {name} to {value}", (ops.link_set(ns, name, mtu=value),))


def mac(name: str, value: str, ns: str = "main") -> Step:
    check_ifname(name)
    return Step(f"Set MAC of {name}", (ops.link_set(ns, name, mac=check_mac(value)),))


def move(name: str, to_ns: str, ns: str = "main") -> Step:
    """Move a device into another namespace; it loses its addresses and goes down."""
    check_ifname(name)
    check_label(to_ns)
    return Step(f"Move {name} into namespace {to_ns}", (ops.link_set(ns, name, netns=to_ns),),
                "A device belongs to one namespace; moving it drops its addresses and sets it down.")
