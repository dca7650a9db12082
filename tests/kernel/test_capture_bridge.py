"""Captures on a bridge's ports: the direction of every frame, filters on the cooked header, and one
time window for all panes of a capture (see labkit/capture/session.py and targets/agent_capture.py)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from scapy.layers.inet import ICMP
from scapy.layers.l2 import STP
from scapy.utils import rdpcap

from labkit import Lab

pytestmark = pytest.mark.kernel


def switched_pair(lab: Lab, subnet: str = "10.77.0") -> None:
    """h1/eth0 ⇄ p1 ─ br0 (in main) ─ p2 ⇄ h2/eth0: a ping from h1 to h2 crosses br0 from p1 to p2."""
    lab.bridge("br0", stp=False)
    for n, host in ((1, "h1"), (2, "h2")):
        lab.netns(host)
        lab.veth(f"p{n}", "eth0", peer_ns=host)
        lab.enslave(f"p{n}", "br0")
        lab.addr("eth0", f"{subnet}.{n}/24", ns=host)
        lab.up(f"p{n}")
        lab.up("eth0", ns=host)
    lab.up("br0")


def icmp_dirs(cap: object, dev: str) -> list[tuple[int, str]]:
    """(ICMP type, direction) of every ICMP frame captured on ``dev``."""
    dc = cap.device(dev)  # type: ignore[attr-defined]
    return [(int(f.packet[ICMP].type), f.direction(dc.mac, dc.is_port)) for f in dc.frames if f.packet.haslayer(ICMP)]


def test_a_ping_through_br0_comes_in_on_the_ingress_port_and_goes_out_of_the_egress_port(tmp_path: Path) -> None:
    with Lab(uplink=False) as lab:
        switched_pair(lab)
        with lab.capture("p1", "p2", "h2/eth0", filter="icmp", show=False) as cap:
            lab.run("ping", "-c", "2", "-i", "0.2", "10.77.0.2", ns="h1", check=True)
        # requests: in on p1 (from h1), out of p2 (to h2); replies the other way round
        assert icmp_dirs(cap, "p1") == [(8, "in"), (0, "out"), (8, "in"), (0, "out")], cap.summaries("p1")
        assert icmp_dirs(cap, "p2") == [(8, "out"), (0, "in"), (8, "out"), (0, "in")], cap.summaries("p2")
        assert icmp_dirs(cap, "h2/eth0") == [(8, "in"), (0, "out"), (8, "in"), (0, "out")]  # not a port: MAC rule
        assert {f.linktype for f in cap.frames("p1")} == {276} and {f.linktype for f in cap.frames("h2/eth0")} == {1}
        # tcpdump's words for the packet type: P (to another host: h2's MAC), Out
        assert cap.summaries("p1")[0].startswith("P ifindex") and "ICMP echo request" in cap.summaries("p1")[0]
        assert cap.summaries("p1")[1].startswith("Out ifindex")
        saved = [str(name) for name in cap.save(tmp_path)]
        assert len(rdpcap(next(name for name in saved if name.endswith(".pcapng")))) == 12  # the three devices together
        for name in (name for name in saved if name.endswith(".pcap")):  # valid pcap files: scapy and capinfos read them
            assert len(rdpcap(name)) == 4
            if shutil.which("capinfos"):
                info = subprocess.run(["capinfos", "-E", "-c", name], capture_output=True, text=True, check=True).stdout
                assert "Number of packets:   4" in info or "Number of packets = 4" in info, info
                assert ("Linux cooked-mode capture v2" in info) == ("p1" in name or "p2" in name), info
        tcpdump = [c for c in cap.commands() if " p1" in c or "-i any" in c]
        assert tcpdump and "-y LINUX_SLL2" in tcpdump[0] and "ifindex" in tcpdump[0]


def test_arp_and_stp_bpdus_are_decoded_and_filtered_on_a_port() -> None:
    with Lab(uplink=False) as lab:
        switched_pair(lab)
        lab.run("ip", "neigh", "flush", "all", ns="h1")
        with lab.capture("p1", filter="arp", show=False) as arp:
            lab.run("ping", "-c", "1", "-W", "1", "10.77.0.2", ns="h1")
        lines = arp.summaries("p1")
        assert any("Request who-has 10.77.0.2 tell 10.77.0.1" in line for line in lines), lines
        assert any("Reply 10.77.0.2 is-at" in line for line in lines), lines
        assert [f.direction(None) for f in arp.frames("p1")][:2] == ["in", "out"], lines  # request in from h1, reply out
        lab.stp("br0", on=True)  # br0 is the only bridge: the root, it sends a BPDU every hello time (2 s)
        with lab.capture("p1", filter="stp", duration=2.5, show=False) as bpdus:
            pass
        assert bpdus.counts()["main/p1"] >= 1, bpdus.stats()
        assert all(f.packet.haslayer(STP) for f in bpdus.frames("p1")), bpdus.summaries("p1")
        assert all(f.direction(None) == "out" for f in bpdus.frames("p1"))  # br0 (the root) sends them
        assert "STP 802.1d, Config" in bpdus.summaries("p1")[0]


def test_all_panes_of_a_capture_cover_the_same_window() -> None:
    """A steady stream switched from p1 to p2: every echo request seen on one port is on the other.

    The tcpdumps start and stop one after another; without one window the first-started port
    holds requests from before the second listened, and the first-stopped misses the last ones."""
    with Lab(uplink=False) as lab:
        switched_pair(lab)
        ping = lab.spawn("ping", "-i", "0.005", "10.77.0.2", ns="h1")
        try:
            time.sleep(0.3)
            with lab.capture("p1", "p2", filter="icmp[icmptype] = icmp-echo", show=False) as cap:
                time.sleep(0.5)
        finally:
            ping.stop()
        seqs = {dev: [int(p[ICMP].seq) for p in cap.packets(dev)] for dev in ("p1", "p2")}
        assert seqs["p1"] and seqs["p1"] == seqs["p2"], (cap.stats(), seqs)
        assert cap.counts()["main/p1"] == cap.counts()["main/p2"]
        assert all(cap.t0 <= f.time <= cap.t_end for dev in ("p1", "p2") for f in cap.frames(dev))  # type: ignore[operator]
        for stats in cap.stats().values():  # the pcap keeps what the window leaves out
            assert stats["saved"] == stats["captured"] and stats["saved"] == len(seqs["p1"]) + stats["outside"], stats


def test_tcpdump_and_the_rootless_capture_write_the_same_cooked_pcap() -> None:
    """Both capture paths give a port the same link type and header: packet type, ifindex, protocol."""
    from labkit.targets.local import _userns_works

    if not _userns_works():
        pytest.skip("unprivileged user namespaces are not available here")
    shapes = {}
    for mode in ("root", "rootless"):
        with Lab(mode=mode, uplink=False) as lab:
            switched_pair(lab)
            with lab.capture("p1", "p2", filter="icmp", show=False) as cap:
                lab.run("ping", "-c", "2", "-i", "0.2", "10.77.0.2", ns="h1", check=True)
            assert ("python" in cap.commands()[0]) == (mode == "rootless"), cap.commands()
            index = {dev: lab.snapshot().interface(dev).index for dev in ("p1", "p2")}
            shapes[mode] = [(dev, f.linktype, f.data[0:2], f.data[4:8] == index[dev].to_bytes(4, "big"), f.data[8:12],
                             f.data[12:18], f.direction(None), f.wirelen, f.data[20:] [:20])
                            for dev in ("p1", "p2") for f in cap.frames(dev)]
    assert len(shapes["root"]) == 8 and all(row[3] for row in shapes["root"]), shapes["root"]
    strip = [[row[:5] + row[6:8] for row in rows] for rows in (shapes["root"], shapes["rootless"])]
    assert strip[0] == strip[1], strip
