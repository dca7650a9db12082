"""Lab steps as pure plans: each validates its input and returns a :class:`Step`.

Nothing here touches the kernel; a target applies the plan.
"""

from .addr import addr, addr_del, move_ip, neigh_flush, route, route_del
from .base import Op, Step
from .bridge import bridge, bridge_set, enslave, port, release, stp
from .device import device
from .link import delete, down, mac, move, mtu, up
from .nat import masquerade
from .netns import netns
from .overlay import geneve, vxlan
from .subif import ipvlan, macvlan, vlan
from .sysctl import accept_local, ip_forward, rp_filter, sysctl
from .tunnel import gre, ipip, sit, tunnel
from .tuntap import tuntap
from .veth import veth

__all__ = [
    "Op", "Step", "accept_local", "addr", "addr_del", "bridge", "bridge_set", "delete", "device", "down", "enslave",
    "geneve", "gre", "ip_forward", "ipip", "ipvlan", "mac", "macvlan", "masquerade", "move", "move_ip", "mtu", "neigh_flush",
    "netns", "port", "release", "route", "route_del", "rp_filter", "sit", "stp", "sysctl", "tunnel", "tuntap", "up",
    "veth", "vlan", "vxlan",
]
