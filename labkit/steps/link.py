"""Generic device changes: up/down, MTU, MAC, delete, move to another namespace.

A device is administratively UP when someone said ``ip link set X up``; it is
operationally up (``state UP``) when it also has a carrier: a veth needs its peer
up, a tap needs a program holding its file descriptor, a bridge needs a port up.
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..names import check_ifname, check_mac, check_ns, check_range
from . import ops
from .base import Step


def _names(names: tuple[str, ...], ns: str, verb: str) -> None:
    """Every name checked before any op is built, so a bad last name changes nothing."""
    if not names:
        raise InvalidInput(f"{verb}() needs at least one device", hint=f"e.g. lab.{verb}('veth0', 'veth1')")
    for name in names:
        check_ifname(name)
    check_ns(ns)


def up(*names: str, ns: str = "main") -> Step:
    """Set each device administratively up."""
    _names(names, ns, "up")
    return Step(f"Bring up {', '.join(names)}", tuple(ops.link_set(ns, n, up=True) for n in names))


def down(*names: str, ns: str = "main") -> Step:
    _names(names, ns, "down")
    return Step(f"Bring down {', '.join(names)}", tuple(ops.link_set(ns, n, up=False) for n in names))


def delete(name: str, ns: str = "main") -> Step:
    """Delete a device (deleting one end of a veth pair deletes both)."""
    check_ifname(name)
    check_ns(ns)
    return Step(f"Delete {name}", (ops.link_del(ns, name),))


def mtu(name: str, value: int, ns: str = "main") -> Step:
    check_ifname(name)
    check_range(value, 68, 65535, "MTU")
    check_ns(ns)
    return Step(f"Set MTU of {name} to {value}", (ops.link_set(ns, name, mtu=value),))


def mac(name: str, value: str, ns: str = "main") -> Step:
    check_ifname(name)
    value = check_mac(value)
    if int(value[:2], 16) & 1:
        raise InvalidInput(f"MAC {value} is a multicast address; a device cannot have it",
                           hint="use a unicast MAC: the first byte even, e.g. '02:00:00:00:00:01'")
    if value == "00:00:00:00:00:00":
        raise InvalidInput("MAC 00:00:00:00:00:00 is not a device address", hint="e.g. '02:00:00:00:00:01'")
    check_ns(ns)
    return Step(f"Set MAC of {name}", (ops.link_set(ns, name, mac=value),))


def move(name: str, to_ns: str, ns: str = "main") -> Step:
    """Move a device into another namespace; it loses its addresses and goes down."""
    check_ifname(name)
    check_ns(ns)
    check_ns(to_ns, "to_ns")
    if to_ns == ns:
        raise InvalidInput(f"{name} would move from namespace {ns} into {ns}", hint="name another namespace, e.g. to_ns='h1'")
    return Step(f"Move {name} into namespace {to_ns}", (ops.link_set(ns, name, netns=to_ns),),
                "A device belongs to one namespace; moving it drops its addresses and sets it down.")
