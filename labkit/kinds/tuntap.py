"""tun and tap: a network device whose other end is a user-space program.

What the kernel sends out of the device, the program reads from the file
descriptor it got by opening ``/dev/net/tun``; what the program writes, the kernel
receives as if it came in from a wire. A *tun* carries IP packets (no MAC, no ARP:
used by VPNs); a *tap* carries Ethernet frames (it has a MAC and answers ARP: a
VM's NIC). Both are made with an ioctl, not netlink, and the kernel reports both as
kind ``tun`` (``IFLA_TUN_TYPE`` 1 = tun, 2 = tap).
"""

from __future__ import annotations

from typing import Any

from ..i18n import tr
from .base import U8, U32, Kind, Param, Style

#: the ioctls of /dev/net/tun and their flags (linux/if_tun.h)
TUNSETIFF, TUNSETPERSIST, TUNSETOWNER = 0x400454CA, 0x400454CB, 0x400454CC
IFF_TUN, IFF_TAP, IFF_NO_PI = 0x0001, 0x0002, 0x1000

_PARAMS = (
    Param("owner", "user", "IFLA_TUN_OWNER", 1, U32, settable=False, fact=""),
    Param("type", "", "IFLA_TUN_TYPE", 3, U8, settable=False, fact=""),
    Param("persist", "", "IFLA_TUN_PERSIST", 6, U8, settable=False, fact=""),
    Param("queues", "", "IFLA_TUN_NUM_QUEUES", 8, U32, settable=False, fact=""),
)


def _facts(data: dict[str, Any], link: dict[str, Any]) -> list[tuple[str, Any]]:
    """Persistent? Attached to a program (a queue open, or the carrier up)? Whose?"""
    queues = data.get("IFLA_TUN_NUM_QUEUES")
    return [("persist", bool(data.get("IFLA_TUN_PERSIST"))),
            ("attached", bool(queues) if queues is not None else bool(link.get("IFLA_CARRIER"))),
            ("owner", data.get("IFLA_TUN_OWNER"))]


TUN = Kind("tun", tr("a device whose other end is a program, carrying IP packets"), "tun", params=_PARAMS,
           style=Style(shape="cds", fill="#fde9d9"), created_by="tuntap_add", extra_facts=_facts)
TAP = Kind("tap", tr("a device whose other end is a program, carrying Ethernet frames"), "tun", params=_PARAMS,
           style=Style(shape="cds", fill="#fde9d9"), netlink_kind="tun", created_by="tuntap_add", extra_facts=_facts)
KINDS = (TUN, TAP)
