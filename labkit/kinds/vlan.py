"""vlan: an 802.1Q sub-interface.

It adds a 4-byte tag with its VLAN id to every frame it sends through the parent,
and receives only the parent's frames that carry that tag.
"""

from __future__ import annotations

from ..i18n import tr
from ..names import check_range
from .base import BE16, U16, Kind, Param, Style, enum

PROTOCOLS = {"802.1Q": 0x8100, "802.1ad": 0x88A8}

KIND = Kind("vlan", tr("an 802.1Q sub-interface: frames tagged with its VLAN id"), "8021q",
            params=(Param("protocol", "protocol", "IFLA_VLAN_PROTOCOL", 5, BE16, default="802.1Q",
                          **enum(tr("VLAN protocol"), PROTOCOLS)),
                    Param("vlan_id", "id", "IFLA_VLAN_ID", 1, U16, check=lambda v: check_range(v, 1, 4094, tr("VLAN id")))),
            parent=True, probe={"vlan_id": 10}, style=Style(fill="#efe6f5"))
