"""Generic device changes: up/down, MTU, MAC, delete, move to another namespace.

A device is administratively UP when someone said ``ip link set X up``; it is
operationally up (``state UP``) when it also has a carrier: a veth needs its peer
up, a tap needs a program holding its file descriptor, a bridge needs a port up.
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..i18n import tr
from ..names import check_ifname, check_mac, check_ns, check_range
from . import ops
from .base import Step


def _names(names: tuple[str, ...], ns: str, verb: str) -> None:
    """Every name checked before any op is built, so a bad last name changes nothing."""
    if not names:
        raise InvalidInput(tr("{verb}() needs at least one device", verb=verb), hint=tr("e.g. lab.{verb}('veth0', 'veth1')", verb=verb))
    for name in names:
        check_ifname(name)
    check_ns(ns)


def up(*names: str, ns: str = "main") -> Step:
    """Set each device administratively up."""
    _names(names, ns, "up")
    return Step(tr("Bring up {names}", names=", ".join(names)), tuple(ops.link_set(ns, n, up=True) for n in names))


def down(*names: str, ns: str = "main") -> Step:
    _names(names, ns, "down")
    return Step(tr("Bring down {names}", names=", ".join(names)), tuple(ops.link_set(ns, n, up=False) for n in names))


def delete(name: str, ns: str = "main") -> Step:
    """Delete a device (deleting one end of a veth pair deletes both)."""
    check_ifname(name)
    check_ns(ns)
    return Step(tr("Delete {name}", name=name), (ops.link_del(ns, name),))


def mtu(name: str, value: int, ns: str = "main") -> Step:
    check_ifname(name)
    check_range(value, 68, 65535, "MTU")
    check_ns(ns)
    return Step(tr("Set MTU of {name} to {value}", name=name, value=value), (ops.link_set(ns, name, mtu=value),))


def mac(name: str, value: str, ns: str = "main") -> Step:
    check_ifname(name)
    value = check_mac(value)
    if int(value[:2], 16) & 1:
        raise InvalidInput(tr("MAC {value} is a multicast address; a device cannot have it", value=value),
                           hint=tr("use a unicast MAC: the first byte even, e.g. '02:00:00:00:00:01'"))
    if value == "00:00:00:00:00:00":
        raise InvalidInput(tr("MAC 00:00:00:00:00:00 is not a device address"),
                           hint=tr("e.g. {example!r}", example="02:00:00:00:00:01"))
    check_ns(ns)
    return Step(tr("Set MAC of {name}", name=name), (ops.link_set(ns, name, mac=value),))


def move(name: str, to_ns: str, ns: str = "main") -> Step:
    """Move a device into another namespace; it loses its addresses and goes down."""
    check_ifname(name)
    check_ns(ns)
    check_ns(to_ns, "to_ns")
    if to_ns == ns:
        raise InvalidInput(tr("{name} would move from namespace {ns} into {ns}", name=name, ns=ns),
                           hint=tr("name another namespace, e.g. to_ns='h1'"))
    return Step(tr("Move {name} into namespace {ns}", name=name, ns=to_ns), (ops.link_set(ns, name, netns=to_ns),),
                tr("A device belongs to one namespace; moving it drops its addresses and sets it down."))
