"""geneve: like VXLAN, Ethernet in UDP, with a header that can grow options.

The base header is 8 bytes; IANA's port is 6081.
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..i18n import tr
from ..names import check_ip, check_range
from .base import BE16, IP, U32, Kind, Param, Style


def _remote(value: object) -> str:
    address = check_ip(value, "remote")
    if address.version != 4:
        raise InvalidInput(tr("Geneve remote {value!r} is IPv6; labkit's Geneve ends are IPv4", value=value),
                           hint=tr("e.g. {example!r}", example="10.0.0.2"))
    return str(address)


KIND = Kind(
    "geneve", tr("a tunnel end that carries Ethernet frames inside UDP, with options"), "geneve",
    params=(
        Param("vni", "id", "IFLA_GENEVE_ID", 1, U32, check=lambda v: check_range(v, 0, 16777215, tr("Geneve id"))),
        Param("remote", "remote", "IFLA_GENEVE_REMOTE", 2, IP, check=_remote),
        Param("port", "dstport", "IFLA_GENEVE_PORT", 5, BE16, check=lambda v: check_range(v, 1, 65535, tr("UDP port")),
              default=6081),
    ),
    probe={"vni": 42, "remote": "10.0.0.2"}, style=Style(fill="#fff5cc"),
)
