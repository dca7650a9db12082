"""vxlan: Ethernet frames carried inside UDP between two hosts.

Each frame gets VXLAN (8 bytes) + UDP (8) + IP (20) + Ethernet (14) headers: 50
bytes, so on a 1500-byte underlay the overlay's MTU is 1450. IANA's port is 4789
(Linux's old default was 8472). The far end is a unicast ``remote``, or a multicast
``group`` that every VTEP of the VNI joins; the kernel keeps either in one attribute.
"""

from __future__ import annotations

import ipaddress

from ..errors import InvalidInput
from ..i18n import tr
from ..names import check_ifname, check_ip, check_range
from .base import BE16, IP, U32, Kind, Param, Style


def _ipv4(what: str, multicast: bool | None = None):  # type: ignore[no-untyped-def]
    def check(value: object) -> str:
        address = check_ip(value, what)
        if address.version != 4:
            raise InvalidInput(tr("VXLAN {what} {value!r} is IPv6; labkit's VXLAN ends are IPv4", what=what, value=value),
                               hint=tr("e.g. {example!r}", example="10.0.0.2"))
        if multicast is not None and address.is_multicast != multicast:
            if multicast:
                raise InvalidInput(tr("VXLAN {what} {value!r} is not a multicast address", what=what, value=value),
                                   hint=tr("a group is 224.0.0.0/4, e.g. '239.1.1.1'"))
            raise InvalidInput(tr("VXLAN {what} {value!r} is a multicast address", what=what, value=value),
                               hint=tr("a remote is one host's address; use group= for multicast"))
        return str(address)
    return check


def _is_multicast(value: object) -> bool:
    try:
        return ipaddress.ip_address(str(value)).is_multicast
    except ValueError:
        return False


KIND = Kind(
    "vxlan", tr("a tunnel end that carries Ethernet frames inside UDP"), "vxlan",
    params=(
        Param("vni", "id", "IFLA_VXLAN_ID", 1, U32, check=lambda v: check_range(v, 0, 16777215, tr("VXLAN id"))),
        Param("remote", "remote", "IFLA_VXLAN_GROUP", 2, IP, check=_ipv4("remote", multicast=False),
              when=lambda v: not _is_multicast(v)),
        Param("group", "group", "IFLA_VXLAN_GROUP", 2, IP, check=_ipv4("group", multicast=True), when=_is_multicast, fact=""),
        Param("local", "local", "IFLA_VXLAN_LOCAL", 4, IP, check=_ipv4("local")),
        Param("dev", "dev", "IFLA_VXLAN_LINK", 3, U32, check=check_ifname, device=True, fact=""),
        Param("port", "dstport", "IFLA_VXLAN_PORT", 15, BE16, check=lambda v: check_range(v, 1, 65535, tr("UDP port")),
              default=4789),
    ),
    probe={"vni": 42, "remote": "10.0.0.2"}, style=Style(fill="#fff5cc"),
)
