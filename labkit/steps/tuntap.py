"""tun and tap: a network device whose other end is a user-space program.

What the kernel sends out of the device, the program reads from the file
descriptor it got by opening ``/dev/net/tun``; what the program writes, the kernel
receives as if it came in from a wire. A *tun* carries IP packets (no MAC, no
ARP: a point-to-point device, used by VPNs such as OpenVPN); a *tap* carries
Ethernet frames (it has a MAC and answers ARP, used as a VM's NIC). A persistent
device stays when no program holds it, but its carrier is down until one does.
"""

from __future__ import annotations

import re

from ..errors import InvalidInput
from ..i18n import tr
from ..names import check_choice, check_ifname, check_ns, shown
from . import ops
from .base import Step

MODES = ("tun", "tap")
_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")


def tuntap(name: str, mode: str = "tap", ns: str = "main", user: str | None = None) -> Step:
    """A persistent tun or tap device (``ip tuntap add``); ``user`` may then open it without root."""
    check_ifname(name)
    check_choice(mode, MODES, tr("tuntap mode"))
    check_ns(ns)
    if user is not None and (not isinstance(user, str) or not _USER.fullmatch(user)):
        raise InvalidInput(tr("user {user} is not a user name", user=shown(user)),
                           hint=tr("give a login name such as 'root' or 'alice', or leave it out"))
    return Step(tr("Create {kind} device {name}", kind=mode, name=name), (ops.tuntap_add(ns, name, mode, user),))
