"""`lab.shell_script()` is the lab: replayed in fresh namespaces, it builds the same kernel state."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from labkit import Lab
from labkit.names import netns_name

pytestmark = pytest.mark.kernel

VOLATILE = {"ifindex", "link_index", "address", "broadcast", "link_netnsid", "stats64", "stats", "operstate",
            "flags", "linkinfo", "preferred_life_time", "valid_life_time", "qdisc", "group", "txqlen", "num_rx_queues",
            "num_tx_queues", "gso_max_size", "gso_max_segs", "tso_max_size", "tso_max_segs", "gro_max_size",
            "gso_ipv4_max_size", "gro_ipv4_max_size", "min_mtu", "max_mtu", "inet6_addr_gen_mode", "promiscuity",
            "allmulti", "parentbus", "parentdev", "event", "protinfo", "altnames", "xdp", "link_type", "label"}


def state(lab_id: str, label: str) -> dict[str, object]:
    """What `ip -d -j` says of one namespace, less what differs between two identical labs (indices, MACs)."""
    out: dict[str, object] = {}
    for what in ("link", "addr", "route"):
        raw = subprocess.run(["ip", "-d", "-n", netns_name(lab_id, label), "-j", what, "show"],
                             capture_output=True, text=True, check=True).stdout
        items = json.loads(raw or "[]")
        clean = []
        for item in items:
            entry = {k: v for k, v in item.items() if k not in VOLATILE}
            info = item.get("linkinfo") or {}
            entry["kind"] = info.get("info_kind")
            entry["slave"] = info.get("info_slave_kind")
            data = info.get("info_data") or {}
            entry["data"] = {k: data.get(k) for k in ("stp_state", "forward_delay", "priority", "id", "port") if k in data}
            if "addr_info" in entry:
                entry["addr_info"] = sorted((a.get("local"), a.get("prefixlen")) for a in entry["addr_info"]
                                            if a.get("scope") != "link")
            clean.append(entry)
        out[what] = sorted(clean, key=lambda e: json.dumps(e, sort_keys=True))
    return out


def test_the_script_rebuilds_the_lab_in_fresh_namespaces() -> None:
    replay_id = f"rp{os.getpid() % 100000}"
    with Lab() as lab:
        lab.netns("h1")
        lab.veth("veth0", "veth1")
        lab.veth("v-h1", "eth0", peer_ns="h1")
        lab.bridge("br0", stp=True, forward_delay=2.3, priority=8192)
        lab.enslave("veth0", "br0")
        lab.enslave("v-h1", "br0")
        lab.addr("br0", "20.1.0.10/24")
        lab.addr("eth0", "20.1.0.20/24", ns="h1")
        lab.up("br0", "veth0", "veth1", "v-h1")
        lab.up("eth0", ns="h1")
        lab.route("default", via="20.1.0.10", ns="h1")
        lab.accept_local("veth1")
        lab.move_ip("eth0", "br0")
        lab.masquerade("20.1.0.0/24", "br0")
        lab.vxlan("vx0", 42, remote="192.168.3.1", dev="br0")
        script = lab.shell_script(replay_id)
        labels = [ns.name for ns in lab.snapshot().namespaces]
        for line in script.splitlines():
            assert line.startswith(("#", "set -e", "ip -n labkit-", "ip netns add labkit-", "ip netns exec labkit-",
                                    "bridge -n labkit-", "table ", "  ", "}", "NFT", "flush", "add ", "delete ")), line
        try:
            done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=60, check=False)
            assert done.returncode == 0, f"the script failed: {done.stderr}\n{script}"
            for label in labels:
                replayed, original = state(replay_id, label), state(lab.lab_id, label)
                assert replayed == original, f"namespace {label} differs: {_diff(replayed, original)}\n{script}"
        finally:
            for label in labels:
                subprocess.run(["ip", "netns", "del", netns_name(replay_id, label)], capture_output=True, check=False)


def _diff(replayed: dict[str, object], original: dict[str, object]) -> str:
    lines = []
    for what in original:
        a = {json.dumps(e, sort_keys=True) for e in replayed[what]}  # type: ignore[attr-defined]
        b = {json.dumps(e, sort_keys=True) for e in original[what]}  # type: ignore[attr-defined]
        lines += [f"only replayed {what}: {x}" for x in sorted(a - b)] + [f"only original {what}: {x}" for x in sorted(b - a)]
    return "\n".join(lines)
