"""IP tunnels: one IP packet carried inside another.

- ipip: IPv4 in IPv4 (protocol 4), 20 bytes of overhead.
- gre: any protocol in IPv4 with a GRE header (protocol 47), 24 bytes; gretap
  carries whole Ethernet frames, so it can be a bridge port.
- sit: IPv6 in IPv4 (protocol 41), "6in4".
"""

from __future__ import annotations

from .. import kinds
from ..errors import InvalidInput
from ..i18n import tr
from ..names import check_choice, check_ifname, check_ns
from . import ops
from .base import Step

KINDS = ("ipip", "gre", "gretap", "sit")


def tunnel(name: str, kind: str, local: str, remote: str, ttl: int = 64, ns: str = "main") -> Step:
    """An IP tunnel of ``kind`` (ipip, gre, gretap, sit) between two IPv4 ends."""
    check_ifname(name)
    check_choice(kind, KINDS, tr("tunnel kind"))
    check_ns(ns)
    if local is None or remote is None:
        raise InvalidInput(tr("a {kind} tunnel needs both ends", kind=kind),
                           hint=tr("e.g. lab.tunnel('tun1', 'gre', '10.0.0.1', '10.0.0.2')"))
    settings = kinds.get(kind).check({"local": local, "remote": remote, "ttl": ttl})
    return Step(tr("Create {kind} tunnel {name} {local} → {remote}", kind=kind, name=name, local=local, remote=remote),
                (ops.link_add(ns, name, kind, **settings),))


def ipip(name: str, local: str, remote: str, ttl: int = 64, ns: str = "main") -> Step:
    """An IP-in-IP tunnel: IPv4 inside IPv4."""
    return tunnel(name, "ipip", local, remote, ttl, ns)


def gre(name: str, local: str, remote: str, ttl: int = 64, ns: str = "main") -> Step:
    """A GRE tunnel: any protocol inside IPv4."""
    return tunnel(name, "gre", local, remote, ttl, ns)


def sit(name: str, local: str, remote: str, ttl: int = 64, ns: str = "main") -> Step:
    """An IPv6-in-IPv4 (sit, 6in4) tunnel."""
    return tunnel(name, "sit", local, remote, ttl, ns)
