"""IP tunnels: one IP packet carried inside another.

- ipip: IPv4 in IPv4 (protocol 4), 20 bytes of overhead.
- gre: any protocol in IPv4 with a GRE header (protocol 47), 24 bytes; gretap
  carries whole Ethernet frames, so it can be a bridge port.
- sit: IPv6 in IPv4 (protocol 41), "6in4".

They share their settings (the two IPv4 ends and the TTL), kept in ``IFLA_IPTUN_*``
for ipip and sit and in ``IFLA_GRE_*`` for the GRE kinds.
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..i18n import tr
from ..names import check_ip, check_range
from .base import IP, U8, Kind, Param, Style


def _end(what: str):  # type: ignore[no-untyped-def]
    def check(value: object) -> str:
        address = check_ip(value, what)
        if address.version != 4:
            raise InvalidInput(tr("tunnel ends must be IPv4 addresses, got {value!r}", value=value),
                               hint=tr("e.g. {what}='10.0.0.1'", what=what))
        return str(address)
    return check


def _params(prefix: str, local: int, remote: int, ttl: int) -> tuple[Param, ...]:
    return (Param("local", "local", f"IFLA_{prefix}_LOCAL", local, IP, check=_end("local")),
            Param("remote", "remote", f"IFLA_{prefix}_REMOTE", remote, IP, check=_end("remote")),
            Param("ttl", "ttl", f"IFLA_{prefix}_TTL", ttl, U8, check=lambda v: check_range(v, 1, 255, "TTL"), default=64, fact=""))


_PROBE = {"local": "10.0.0.1", "remote": "10.0.0.2"}
_STYLE = Style(fill="#fce4ec")
KINDS = (
    Kind("ipip", tr("a tunnel of IPv4 inside IPv4"), "ipip", params=_params("IPTUN", 2, 3, 4), probe=_PROBE, style=_STYLE),
    Kind("sit", tr("a tunnel of IPv6 inside IPv4 (6in4)"), "sit", params=_params("SIT", 2, 3, 4), probe=_PROBE, style=_STYLE),
    Kind("gre", tr("a GRE tunnel: any protocol inside IPv4"), "ip_gre", params=_params("GRE", 6, 7, 8), probe=_PROBE, style=_STYLE),
    Kind("gretap", tr("a GRE tunnel that carries Ethernet frames"), "ip_gre", params=_params("GRE", 6, 7, 8), probe=_PROBE,
         style=_STYLE),
)
