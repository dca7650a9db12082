"""Overlays: Ethernet frames carried inside UDP between two hosts.

VXLAN wraps each frame in VXLAN (8 bytes) + UDP (8) + IP (20) + Ethernet (14)
headers: 50 bytes, so on a 1500-byte underlay the overlay's MTU is 1450. Geneve
does the same with a variable-length header (base 8 bytes) and port 6081.
"""

from __future__ import annotations

from .. import kinds
from ..errors import InvalidInput
from ..i18n import tr
from ..names import check_ifname, check_ns
from . import ops
from .base import Step


def vxlan(name: str, vni: int, remote: str | None = None, local: str | None = None, dev: str | None = None,
          port: int = 4789, group: str | None = None, ns: str = "main") -> Step:
    """A VXLAN tunnel end (VTEP): VNI ``vni``, to a unicast ``remote`` or a multicast ``group``, over ``dev``."""
    check_ifname(name)
    check_ns(ns)
    if vni is None:
        raise InvalidInput(tr("a VXLAN device needs its network id (vni)"), hint=tr("e.g. lab.vxlan('vx0', 42, remote='10.0.0.2')"))
    settings = kinds.get("vxlan").check({"vni": vni, "remote": remote, "local": local, "dev": dev, "port": port, "group": group})
    if "remote" in settings and "group" in settings:
        raise InvalidInput(tr("a VXLAN device has either a remote or a multicast group, not both"), hint=tr("drop one of them"))
    return Step(tr("Create VXLAN {vni} device {name}", vni=vni, name=name), (ops.link_add(ns, name, "vxlan", **settings),))


def geneve(name: str, vni: int, remote: str, port: int = 6081, ns: str = "main") -> Step:
    """A Geneve tunnel end with id ``vni`` towards ``remote``."""
    check_ifname(name)
    check_ns(ns)
    if vni is None or remote is None:
        raise InvalidInput(tr("a Geneve device needs its id (vni) and its remote"), hint=tr("e.g. lab.geneve('gn0', 42, '10.0.0.2')"))
    settings = kinds.get("geneve").check({"vni": vni, "remote": remote, "port": port})
    return Step(tr("Create Geneve {vni} device {name}", vni=vni, name=name), (ops.link_add(ns, name, "geneve", **settings),))
