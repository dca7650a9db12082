"""One learner of a class (bench/learners.py starts N of these at once, each as its own user).

Runs the bridge lab (04: the seed's veth pair, br0 taking veth0's address, a container h1 on
the bridge) and the STP lab (06: three bridges in a loop, sw1 the root, one port blocking) on
the local target, which for a non-root user is rootless: a user namespace of the learner's own.
It checks its own results (pings, the root bridge, the blocking port, exact capture counts),
then, with both labs still up, waits until every learner of the class is as far
(``--go``), captures once more while the others do the same, and looks for the others: their
agents' network namespaces (by /proc/PID/ns/net) must be closed to it, and nothing of theirs
may show in its namespaces, its captures or ``ip netns``. It writes what it saw to ``--out``
(JSON); the orchestrator compares the learners' results with each other.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any


def macs_of(capture: Any, dev: str) -> set[str]:
    """Every source and destination MAC of the frames captured on ``dev`` (broadcast/multicast aside)."""
    from scapy.layers.l2 import Dot3, Ether

    found = set()
    for packet in capture.packets(dev):
        for layer in (Ether, Dot3):  # BPDUs are 802.3 frames (a length, then LLC), not Ethernet II
            if not packet.haslayer(layer):
                continue
            for mac in (packet[layer].src, packet[layer].dst):
                if not int(mac.split(":")[0], 16) & 1:  # the group bit: broadcast and multicast are nobody's
                    found.add(mac.lower())
    return found


def bridge_lab(lab: Any, facts: dict[str, Any]) -> None:
    """Lab 04's core: the seed's pair, br0 with veth0 as its port and veth0's address, h1 plugged in."""
    from labkit.recipes import bridge_lab as build

    build(lab, accept_local=True)
    lab.check.reachable("h1", "20.1.0.10")
    with lab.capture("veth1", "h1/eth0", filter="icmp") as cap:
        facts["ping_br0"] = lab.run("ping", "-c", "2", "-i", "0.2", "-W", "2", "-I", "br0", "20.1.0.11").ok
        facts["ping_h1"] = lab.run("ping", "-c", "2", "-i", "0.2", "-W", "2", "20.1.0.10", ns="h1").ok
    facts["bridge_counts"] = cap.counts()
    facts["bridge_capture_macs"] = sorted(macs_of(cap, "veth1") | macs_of(cap, "h1/eth0"))


def stp_lab(lab: Any, facts: dict[str, Any]) -> None:
    """Lab 06's tree: sw1 (priority 4096) the root, sw2 8192, sw3's port towards sw2 blocking."""
    from labkit.recipes import stp_triangle

    bridges = stp_triangle(lab, stp=True, forward_delay=2)
    lab.stp("br0", priority=4096, ns="sw1")
    lab.stp("br0", priority=8192, ns="sw2")
    facts["stp_converged"] = lab.wait_stp(*bridges, timeout=90, show=False)["converged"]
    lab.check.root_bridge("sw1/br0")
    lab.check.port_state("sw3/to-sw2", "blocking")
    facts["stp_root"] = "sw1/br0"


def lab_facts(lab: Any) -> dict[str, Any]:
    """What a lab is made of, as its own agent sees it: MACs, interfaces, its named namespaces."""
    snap = lab.snapshot()
    return {"agent_pid": lab.target.agent_pid, "lab_id": lab.lab_id,
            "macs": sorted({itf.mac.lower() for itf in snap.interfaces if itf.mac and itf.mac != "00:00:00:00:00:00"}),
            "interfaces": sorted(itf.key for itf in snap.interfaces),
            "run_netns": sorted(lab.run("ls", "/run/netns").stdout.split())}


def wait_for(path: Path, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {path} after {timeout:.0f} s: the class never got as far together")
        time.sleep(0.1)
    return json.loads(path.read_text())


def look_for_others(others: list[int]) -> dict[str, str]:
    """Try to open each other learner's agent's network namespace; say what happened."""
    seen = {}
    for pid in others:
        try:
            os.close(os.open(f"/proc/{pid}/ns/net", os.O_RDONLY))
            seen[str(pid)] = "opened"
        except OSError as error:
            seen[str(pid)] = type(error).__name__
    return seen


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--ready", required=True, help="write the facts here once both labs are up and checked")
    parser.add_argument("--go", required=True, help="wait for this file (the other learners' agent pids)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--timeout", type=float, default=240.0)
    args = parser.parse_args()
    from labkit import Lab

    started = time.monotonic()
    facts: dict[str, Any] = {"name": args.name, "uid": os.getuid(), "ok": False}
    try:
        with Lab(uplink=False) as bridge, Lab(uplink=False) as stp:
            facts["mode"] = bridge.target.mode
            bridge_lab(bridge, facts)
            stp_lab(stp, facts)
            facts["labs"] = {"bridge": lab_facts(bridge), "stp": lab_facts(stp)}
            facts["ready_s"] = time.monotonic() - started
            Path(args.ready).write_text(json.dumps({"pids": [facts["labs"][k]["agent_pid"] for k in ("bridge", "stp")]}))
            go = wait_for(Path(args.go), args.timeout)
            mine = {facts["labs"][k]["agent_pid"] for k in ("bridge", "stp")}
            facts["others_netns"] = look_for_others([pid for pid in go["pids"] if pid not in mine])
            # all at once: every learner captures its own traffic and BPDUs while the others do the same
            with bridge.capture("veth1", filter="icmp") as cap, stp.capture("sw3/to-sw2", filter="stp", duration=2.5) as bpdus:
                facts["together_ping"] = bridge.run("ping", "-c", "3", "-i", "0.2", "-W", "5", "20.1.0.11", ns="h1").ok
            facts["together_counts"] = {**cap.counts(), **bpdus.counts()}
            facts["together_macs"] = sorted(macs_of(cap, "veth1") | macs_of(bpdus, "sw3/to-sw2"))
            facts["ip_netns"] = subprocess.run(["ip", "netns"], capture_output=True, text=True, check=False).stdout.split()
        facts["ok"] = True
    except BaseException as error:  # the orchestrator reports it, with the learner's name
        facts["error"] = f"{type(error).__name__}: {error}"
        facts["traceback"] = traceback.format_exc()[-2000:]
    facts["wall_s"] = time.monotonic() - started
    Path(args.out).write_text(json.dumps(facts))
    return 0 if facts["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
