"""bridge: a software switch inside the kernel.

A bridge forwards Ethernet frames between its ports by MAC address, learning which
MAC lives behind which port (the fdb). With STP on, bridges elect a root (lowest
bridge id = priority + MAC) and block ports that would close a loop; a port goes
listening → learning → forwarding, ``forward_delay`` seconds in each middle state.

The kernel keeps its timers in hundredths of a second: ``forward_delay=2.3`` is
stored, and shown in the command, as ``forward_delay 230``.
"""

from __future__ import annotations

from typing import Any

from ..i18n import tr
from ..names import check_bool, check_range, check_seconds
from .base import BRIDGE_ID, U8, U16, U32, Kind, Param, Style, scaled

_CS_IN, _CS_OUT = scaled(100)


def bridge_id(value: Any) -> Any:
    """A bridge id as iproute2 prints it: '8000.ce:f4:4f:e7:c9:94' (priority in hex, then MAC).

    pyroute2 0.9 reads the 2-byte priority little-endian, and so does the raw reader, so it is swapped back here."""
    if isinstance(value, dict) and "addr" in value:
        prio = int(value.get("prio", 0))
        prio = ((prio & 0xFF) << 8) | (prio >> 8)
        return f"{prio:04x}.{value['addr']}"
    return value


def _seconds(low: float, high: float, what: str) -> Any:
    return lambda value: check_seconds(value, low, high, what)


KIND = Kind(
    "bridge", tr("a software switch: it forwards frames between its ports by MAC address"), "bridge",
    params=(
        Param("stp", "stp_state", "IFLA_BR_STP_STATE", 5, U32, check=lambda v: check_bool(v, "stp"),
              to_kernel=lambda v: 1 if v else 0, from_kernel=bool),
        Param("priority", "priority", "IFLA_BR_PRIORITY", 6, U16, check=lambda v: check_range(v, 0, 65535, tr("bridge priority"))),
        Param("forward_delay", "forward_delay", "IFLA_BR_FORWARD_DELAY", 1, U32, check=_seconds(2, 30, "forward_delay"),
              to_kernel=_CS_IN, from_kernel=_CS_OUT, fact="forward_delay_cs"),
        Param("hello_time", "hello_time", "IFLA_BR_HELLO_TIME", 2, U32, check=_seconds(1, 10, "hello_time"),
              to_kernel=_CS_IN, from_kernel=_CS_OUT, fact="hello_time_cs"),
        Param("max_age", "max_age", "IFLA_BR_MAX_AGE", 3, U32, check=_seconds(6, 40, "max_age"),
              to_kernel=_CS_IN, from_kernel=_CS_OUT, fact="max_age_cs"),
        Param("root_id", "", "IFLA_BR_ROOT_ID", 10, BRIDGE_ID, settable=False, show=bridge_id),
        Param("bridge_id", "", "IFLA_BR_BRIDGE_ID", 11, BRIDGE_ID, settable=False, show=bridge_id),
        Param("root_port", "", "IFLA_BR_ROOT_PORT", 12, U16, settable=False),
        Param("root_path_cost", "", "IFLA_BR_ROOT_PATH_COST", 13, U32, settable=False),
        Param("vlan_filtering", "", "IFLA_BR_VLAN_FILTERING", 7, U8, settable=False),
        Param("ageing_time", "ageing_time", "IFLA_BR_AGEING_TIME", 4, U32, check=_seconds(0, 1_000_000, "ageing_time"),
              to_kernel=_CS_IN, from_kernel=_CS_OUT, fact=""),
    ),
    style=Style(shape="box3d", fill="#dbe9f6"),
    word_order=("stp", "forward_delay", "hello_time", "max_age", "priority", "ageing_time"),  # as iproute2's manual lists them
    own_mac=False,  # it takes the lowest MAC of its ports, unless one is pinned
)
