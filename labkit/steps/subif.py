"""Devices stacked on a parent: macvlan, ipvlan and 802.1Q VLAN.

- macvlan: extra devices on a parent NIC, each with its own MAC; in *bridge* mode
  they reach each other inside the kernel, but never the parent itself.
- ipvlan: like macvlan, but every child shares the parent's MAC (L2 mode), or the
  parent routes for the children (L3 mode).
- VLAN: a device that adds a 802.1Q tag with its id to every frame it sends
  through the parent and only receives frames with that tag.
"""

from __future__ import annotations

from .. import kinds
from ..errors import InvalidInput
from ..i18n import tr
from ..names import check_ifname, check_ns
from . import ops
from .base import Step


def _child(kind: str, name: str, parent: str, ns: str, **settings: object) -> Step:
    check_ifname(name)
    check_ifname(parent, tr("parent"))
    check_ns(ns)
    if name == parent:
        child = kind[:2] + "0"
        raise InvalidInput(tr("{name!r} cannot be its own parent", name=name),
                           hint=tr("e.g. lab.{kind}({child!r}, 'eth0')", kind=kind, child=child))
    for key, value in settings.items():
        if value is None:
            raise InvalidInput(tr("{kind} {key}=None is not a {key}", kind=kind, key=key),
                               hint=tr("leave {key} out for the default, or name one", key=key))
    checked = kinds.get(kind).check(settings)
    shown = ", ".join(str(v) for v in checked.values())
    if shown:
        title = tr("Create {kind} {name} on {parent} ({settings})", kind=kind, name=name, parent=parent, settings=shown)
    else:
        title = tr("Create {kind} {name} on {parent}", kind=kind, name=name, parent=parent)
    return Step(title, (ops.link_add(ns, name, kind, link=parent, **checked),))


def macvlan(name: str, parent: str, mode: str = "bridge", ns: str = "main") -> Step:
    """A macvlan child of ``parent`` with a MAC of its own (modes: bridge, private, vepa, passthru, source)."""
    return _child("macvlan", name, parent, ns, mode=mode)


def ipvlan(name: str, parent: str, mode: str = "l2", ns: str = "main") -> Step:
    """An ipvlan child of ``parent`` that shares its MAC (modes: l2, l3, l3s)."""
    return _child("ipvlan", name, parent, ns, mode=mode)


def vlan(name: str, parent: str, vlan_id: int, protocol: str = "802.1Q", ns: str = "main") -> Step:
    """An 802.1Q (or 802.1ad) sub-interface of ``parent`` with VLAN id ``vlan_id``."""
    if vlan_id is None:
        raise InvalidInput(tr("a VLAN device needs its id"), hint=tr("e.g. lab.vlan('eth0.10', 'eth0', 10)"))
    return _child("vlan", name, parent, ns, protocol=protocol, vlan_id=vlan_id)
