"""tun and tap: a network device whose other end is a user-space program.

What the kernel sends out of the device, the program reads from the file
descriptor it got by opening ``/dev/net/tun``; what the program writes, the kernel
receives as if it came in from a wire. A *tun* carries IP packets (no MAC, no
ARP: a point-to-point device, used by VPNs such as OpenVPN); a *tap* carries
Ethernet frames (it has a MAC and answers ARP, used as a VM's NIC). A persistent
device stays when no program holds it, but its carrier is down until one does.
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..names import check_ifname
from . import ops
from .base import Step

MODES = ("tun", "tap")


def tuntap(name: str, mode: str = "tap", ns: str = "main", user: str | None = None) -> Step:
    """A persistent tun or tap device (``ip tuntap add``)."""
    check_ifname(name)
    if mode not in MODES:
        raise InvalidInput(f"tuntap mode {mode!r} is unknown", hint="use mode='tun' (IP packets) or mode='tap' (Ethernet frames)")
    return Step(f"Create {mode} device {name}", (ops.tuntap_add(ns, name, mode, user),))
