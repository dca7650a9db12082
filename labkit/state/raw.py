"""Netlink messages as plain dicts: the recorded form of a kernel dump.

pyroute2's ``msg.dump()`` gives ``{"attrs": [[NAME, value], ...], <header fields>}``
with nested attributes in the same shape. :func:`flatten` turns that into
``{NAME: value, <header fields>}`` recursively, dropping attributes the lab never
reads, so a dump can be stored as JSON beside a test and parsed without a kernel.
"""

from __future__ import annotations

from typing import Any

#: Attributes that are large and never read by the parser.
DROP = frozenset({
    "UNKNOWN", "IFLA_STATS", "IFLA_AF_SPEC", "IFLA_MAP", "IFLA_QDISC", "IFLA_XDP", "IFLA_PERM_ADDRESS",
    "IFLA_PARENT_DEV_NAME", "IFLA_PARENT_DEV_BUS_NAME", "IFLA_PROP_LIST", "IFLA_ALT_IFNAME", "header",
})
STATS_KEPT = ("rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_dropped", "tx_dropped")


def flatten(node: Any) -> Any:
    """Flatten one dumped netlink message (or nested attribute) into a plain dict."""
    if isinstance(node, dict) and "attrs" in node:
        out = {key: value for key, value in node.items() if key not in ("attrs", "header")}
        for name, value in node["attrs"]:
            if name in DROP:
                continue
            if name == "IFLA_STATS64" and isinstance(value, dict):
                out[name] = {key: value.get(key, 0) for key in STATS_KEPT}
                continue
            out[name] = flatten(value)
        return out
    if isinstance(node, (list, tuple)):
        return [flatten(item) for item in node]
    return node
