"""Read a lab's whole state from the kernel, as raw flattened netlink dumps.

The result is plain data (see :mod:`labkit.state.raw`); :mod:`labkit.state.parse`
turns it into a :class:`~labkit.model.Snapshot` without a kernel, which is how the
parser is tested on recorded dumps.
"""

from __future__ import annotations

import os
import time
from typing import Any

from . import nsutil
from .kernel import Kernel

SYSCTLS = ("net.ipv4.ip_forward", "net.ipv4.conf.all.rp_filter", "net.ipv4.conf.all.accept_local",
           "net.ipv4.conf.all.forwarding")
PER_DEVICE = ("rp_filter", "accept_local")


def collect(k: Kernel, target: str = "local") -> dict[str, Any]:
    """Dump every namespace of the lab: links, addresses, routes, fdb, neighbours, sysctls."""
    labels = k.labels()
    spaces: dict[str, Any] = {}
    for label in labels:
        links = k.dump(label, "links")
        keys = list(SYSCTLS) + [f"net.ipv4.conf.{link['IFLA_IFNAME']}.{what}" for link in links for what in PER_DEVICE]
        spaces[label] = {
            "netns": k.netns(label),
            "links": links,
            "addrs": k.dump(label, "addrs"),
            "routes": k.dump(label, "routes"),
            "fdb": k.dump(label, "fdb"),
            "neigh": k.dump(label, "neigh"),
            "sysctl": nsutil.read_sysctl(k.netns(label), keys),
            "nsids": nsids(k, label, labels),
        }
    return {"lab_id": k.lab_id, "taken_at": time.time(), "target": target, "namespaces": spaces}


def nsids(k: Kernel, label: str, labels: list[str]) -> dict[str, str]:
    """How namespace ``label`` numbers the other lab namespaces (IFLA_LINK_NETNSID → label)."""
    ids: dict[str, str] = {}
    reader = k.reader(label)
    for other in labels:
        if other == label:
            continue
        fd = os.open(nsutil.netns_path(k.netns(other)), os.O_RDONLY | os.O_CLOEXEC)
        try:
            nsid = reader.nsid(fd)
        finally:
            os.close(fd)
        if nsid is not None:
            ids[str(nsid)] = other
    return ids
