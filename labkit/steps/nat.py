"""NAT with nftables: how a container bridge reaches the outside (seed 002).

Source NAT (masquerade) rewrites the source address of packets leaving through
``out_dev`` to that device's own address, and rewrites replies back, so hosts on a
private bridge network can talk to the LAN through one address.
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..i18n import tr
from ..names import check_network, check_ns, check_safe_name
from . import ops
from .base import Step

TABLE = "labkit_nat"


def masquerade(source: str, out_dev: str, ns: str = "main") -> Step:
    """Masquerade packets from ``source`` (a network) leaving through ``out_dev``.

    The device name is written into the nft script, so it must keep to ``[A-Za-z0-9_.-]``
    (a name with ``"`` or ``}`` would otherwise change the ruleset)."""
    net = check_network(source, tr("source network"))
    if net.version != 4:
        raise InvalidInput(tr("source {source!r} is IPv6; this masquerade is IPv4 (nft table ip)", source=source),
                           hint=tr("give an IPv4 network such as '10.0.0.0/24'"))
    check_safe_name(out_dev)
    check_ns(ns)
    script = (
        f"table ip {TABLE} {{\n"
        f"  chain postrouting {{\n"
        f"    type nat hook postrouting priority srcnat; policy accept;\n"
        f"    ip saddr {net} oifname \"{out_dev}\" counter masquerade\n"
        f"  }}\n"
        f"}}\n"
    )
    return Step(tr("Masquerade {net} out of {dev}", net=str(net), dev=out_dev), (ops.nft_apply(ns, TABLE, script),))
