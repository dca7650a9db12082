"""NAT with nftables: how a container bridge reaches the outside (seed 002).

Source NAT (masquerade) rewrites the source address of packets leaving through
``out_dev`` to that device's own address, and rewrites replies back, so hosts on a
private bridge network can talk to the LAN through one address.
"""

from __future__ import annotations

from ..names import check_ifname, check_network
from . import ops
from .base import Step

TABLE = "labkit_nat"


def masquerade(source: str, out_dev: str, ns: str = "main") -> Step:
    """Masquerade packets from ``source`` (a network) leaving through ``out_dev``."""
    net = check_network(source)
    check_ifname(out_dev)
    script = (
        f"table ip {TABLE} {{\n"
        f"  chain postrouting {{\n"
        f"    type nat hook postrouting priority srcnat; policy accept;\n"
        f"    ip saddr {net} oifname \"{out_dev}\" counter masquerade\n"
        f"  }}\n"
        f"}}\n"
    )
    return Step(f"Masquerade {net} out of {out_dev}", (ops.nft_apply(ns, TABLE, script),))
