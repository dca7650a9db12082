"""IP tunnels: one IP packet carried inside another.

- ipip: IPv4 in IPv4 (protocol 4), 20 bytes of overhead.
- gre: any protocol in IPv4 with a GRE header (protocol 47), 24 bytes; gretap
  carries whole Ethernet frames, so it can be a bridge port.
- sit: IPv6 in IPv4 (protocol 41), "6in4".
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..names import check_ifname, check_ip, check_range
from . import ops
from .base import Step

KINDS = ("ipip", "gre", "gretap", "sit")


def tunnel(name: str, kind: str, local: str, remote: str, ttl: int = 64, ns: str = "main") -> Step:
    check_ifname(name)
    if kind not in KINDS:
        raise InvalidInput(f"tunnel kind {kind!r} is unknown", hint=f"use one of {', '.join(KINDS)}")
    for address in (local, remote):
        if check_ip(address).version != 4:
            raise InvalidInput(f"{kind} tunnel ends must be IPv4 addresses, got {address!r}", hint="e.g. local='10.0.0.1'")
    check_range(ttl, 1, 255, "TTL")
    return Step(f"Create {kind} tunnel {name} {local} → {remote}",
                (ops.link_add(ns, name, kind, local=local, remote=remote, ttl=ttl),))
