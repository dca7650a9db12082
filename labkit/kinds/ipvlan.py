"""ipvlan: children of a NIC that share its MAC address.

In L2 mode the children switch frames among themselves like macvlan's bridge mode,
all with the parent's MAC; in L3 mode the parent routes for them.
"""

from __future__ import annotations

from ..i18n import tr
from .base import U16, Kind, Param, Style, enum

MODES = {"l2": 0, "l3": 1, "l3s": 2}

KIND = Kind("ipvlan", tr("a child of a NIC that shares its MAC"), "ipvlan",
            params=(Param("mode", "mode", "IFLA_IPVLAN_MODE", 1, U16, default="l2", **enum(tr("ipvlan mode"), MODES)),),
            parent=True, probe={"mode": "l2"}, style=Style(fill="#e8f4e8"))
