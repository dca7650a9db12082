"""veth: a virtual Ethernet cable with a device at each end.

What one end transmits, the other end receives. Both ends may sit in one namespace
or in two, which is how a container's ``eth0`` is wired to the host's bridge. Each
end knows its peer's index (``ip link`` shows ``veth0@veth1``, or ``veth1@if7`` when
the peer lives in another namespace; ``ethtool -S veth0`` shows ``peer_ifindex``).

The peer is not a setting of ``IFLA_INFO_DATA`` but a whole nested device
(``VETH_INFO_PEER``), so its words and its request are made by the link executor.
"""

from __future__ import annotations

from ..i18n import tr
from .base import Kind, Style

KIND = Kind("veth", tr("a virtual cable: two devices, what enters one leaves the other"), "veth",
            probe={"peer": "{name}p"}, style=Style(fill="#f2f2f2"))
