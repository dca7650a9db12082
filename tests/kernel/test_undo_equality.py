"""Undo is faithful: deleting or moving any device of a rich lab, then ``lab.undo()``, gives back
exactly the kernel state that was there (kind settings, both veth ends, a bridge's ports and
their STP settings, MACs, MTUs, addresses, routes through the device, a tap's owner, the
children the kernel deleted with their parent)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest

from labkit import Lab
from labkit.names import netns_name

pytestmark = pytest.mark.kernel

#: what changes whenever a device is made again, whatever labkit does: its index, counters, timers
VOLATILE = {"ifindex", "link_index", "stats64", "stats", "operstate", "qdisc", "event", "num_rx_queues", "num_tx_queues",
            "preferred_life_time", "valid_life_time", "altnames", "link_netnsid", "protinfo"}
#: bridge facts that follow the STP election as it runs (timers, topology-change counters)
VOLATILE_DATA = {"hello_timer", "tcn_timer", "topology_change_timer", "gc_timer", "topology_change",
                 "topology_change_detected", "topology_change_port", "last_topology_change_port",
                 "mcast_querier_state"}
VOLATILE_SLAVE = {"state", "forward_delay_timer", "hold_timer", "message_age_timer", "config_pending",
                  "topology_change_ack", "designated_port", "designated_cost", "designated_root", "designated_bridge",
                  "id", "no"}


def state(lab: Lab) -> dict[str, object]:
    """`ip -d -j link/addr/route` of every namespace of the lab, less what no undo can keep (indices, counters)."""
    out: dict[str, object] = {}
    for ns in (n.name for n in lab.snapshot().namespaces):
        for what in ("link", "addr", "route"):
            raw = subprocess.run(["ip", "-d", "-n", netns_name(lab.lab_id, ns), "-j", what, "show"],
                                 capture_output=True, text=True, check=True).stdout
            items = []
            for item in json.loads(raw or "[]"):
                entry = {k: v for k, v in item.items() if k not in VOLATILE}
                info = dict(entry.pop("linkinfo", None) or {})
                data = {k: v for k, v in (info.get("info_data") or {}).items() if k not in VOLATILE_DATA}
                slave = {k: v for k, v in (info.get("info_slave_data") or {}).items() if k not in VOLATILE_SLAVE}
                entry["linkinfo"] = {"kind": info.get("info_kind"), "data": data, "slave": info.get("info_slave_kind"),
                                     "slave_data": slave}
                if "addr_info" in entry:
                    entry["addr_info"] = sorted(json.dumps({k: v for k, v in a.items() if k not in VOLATILE}, sort_keys=True)
                                                for a in entry["addr_info"])
                items.append(json.dumps(entry, sort_keys=True))
            out[f"{ns} {what}"] = sorted(items)
    return out


def differences(after: dict[str, object], before: dict[str, object]) -> str:
    lines = []
    for key in sorted(set(after) | set(before)):
        a, b = set(after.get(key, [])), set(before.get(key, []))  # type: ignore[call-overload]
        lines += [f"{key} after undo : {x}" for x in sorted(a - b)] + [f"{key} before      : {x}" for x in sorted(b - a)]
    return "\n".join(lines)


@pytest.fixture
def rich() -> Iterator[Lab]:  # a new lab per case: one failure cannot hide in the next case
    with Lab(uplink=False) as lab:
        lab.netns("h1")
        lab.veth("v0", "v1", peer_ns="h1")                       # a cable into h1, addressed, with routes on both sides
        lab.addr("v0", "10.7.0.1/24")
        lab.addr("v1", "10.7.0.2/24", ns="h1")
        lab.up("v0")
        lab.up("v1", ns="h1")
        lab.mtu("v0", 1400)
        lab.mtu("v1", 1400, ns="h1")
        lab.route("default", via="10.7.0.1", ns="h1")
        lab.route("10.99.0.0/16", dev="v0")
        lab.bridge("br0", stp=True, forward_delay=2.3, priority=8192)  # a bridge with two ports and port settings
        lab.veth("p0", "q0")
        lab.veth("p1", "q1")
        lab.enslave("p0", "br0")
        lab.enslave("p1", "br0")
        lab.port("p1", cost=42, priority=7)
        lab.addr("br0", "10.8.0.1/24")
        lab.up("br0", "p0", "q0", "p1", "q1")
        lab.veth("up0", "up1")                                   # a parent for the children below
        lab.addr("up0", "10.9.0.1/24")
        lab.up("up0", "up1")
        lab.macvlan("mv0", "up0", mode="private")
        lab.addr("mv0", "10.9.0.5/24")
        lab.up("mv0")
        lab.vxlan("vx0", 42, group="239.1.1.1", dev="up0", port=4790)
        lab.mtu("vx0", 1300)
        lab.up("vx0")
        lab.tuntap("tp0", mode="tap", user="nobody")
        lab.addr("tp0", "10.6.0.1/24")
        yield lab


@pytest.mark.parametrize("action", [
    "delete v0", "delete v1@h1", "delete br0", "delete p1", "delete mv0", "delete vx0", "delete tp0", "delete up0",
    "move mv0 h1", "move p0 h1", "move_ip v0 up1",
])
def test_undo_gives_back_exactly_what_was_there(rich: Lab, action: str) -> None:
    before = state(rich)
    verb, *args = action.split()
    name, _, ns = args[0].partition("@")
    if verb == "delete":
        rich.delete(name, ns=ns or "main")
    elif verb == "move":
        rich.move(name, args[1])
    else:
        rich.move_ip(name, args[1])
    assert state(rich) != before, f"{action} changed nothing: the test would prove nothing"
    rich.undo()
    after = state(rich)
    assert after == before, f"after {action} and undo:\n{differences(after, before)}"
