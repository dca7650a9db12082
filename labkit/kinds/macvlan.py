"""macvlan: extra devices on a parent NIC, each with a MAC address of its own.

Each child sits on the parent's LAN like a separate machine. In *bridge* mode the
children also reach each other inside the kernel, but never the parent itself:
the driver only sees what the parent receives from the wire.
"""

from __future__ import annotations

from ..i18n import tr
from .base import Kind, Param, Style, word_choice, word_codec

MODES = {"private": 1, "vepa": 2, "bridge": 4, "passthru": 8, "source": 16}

KIND = Kind("macvlan", tr("a child of a NIC with a MAC of its own"), "macvlan",
            params=(Param("mode", "mode", "IFLA_MACVLAN_MODE", 1, word_codec("macvlan_mode", "=I", MODES), default="bridge",
                          **word_choice(tr("macvlan mode"), MODES)),),
            parent=True, probe={"mode": "bridge"}, style=Style(fill="#e8f4e8"))
