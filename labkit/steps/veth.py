"""veth: a virtual Ethernet cable with a device at each end.

What one end transmits, the other end receives. Both ends may sit in one namespace
or in two, which is how a container's ``eth0`` is wired to the host's bridge. Each
end knows its peer's index (``ip link`` shows ``veth0@veth1`` or ``veth1@if7`` when
the peer lives in another namespace; ``ethtool -S veth0`` shows ``peer_ifindex``).
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..i18n import tr
from ..names import check_ifname, check_ns
from . import ops
from .base import Step


def veth(name: str, peer: str, ns: str = "main", peer_ns: str | None = None) -> Step:
    """A veth pair ``name`` ↔ ``peer``; the peer end may go straight into ``peer_ns``."""
    check_ifname(name)
    check_ifname(peer)
    check_ns(ns)
    peer_ns = check_ns(peer_ns, "peer_ns") if peer_ns is not None else ns
    if name == peer and peer_ns == ns:
        raise InvalidInput(tr("both ends of the veth pair are called {name!r}", name=name),
                           hint=tr("give the peer another name, e.g. 'veth1'"))
    if peer_ns == ns:
        title = tr("Create veth pair {name} ↔ {peer}", name=name, peer=peer)
    else:
        title = tr("Create veth pair {name} ↔ {peer} (peer in {peer_ns})", name=name, peer=peer, peer_ns=peer_ns)
    return Step(title, (ops.link_add(ns, name, "veth", peer=peer, peer_ns=peer_ns),),
                tr("A veth pair is a cable: what goes in one end comes out of the other."))
