"""Bench: a paced burst of UDP (10,000 packets/s for 5 s) captured on one veth inside a lab.

Prints figures, not a pass/fail: what the sender sent, what tcpdump counted (captured,
received by filter, dropped by kernel), how many packets the saved pcap holds (read
back with scapy), the loss between tcpdump's count and the file, how long starting,
stopping and reading took, and how long a capture pane takes to draw its last N rows.

    .venv/bin/python bench/bench_capture.py [--rate 10000] [--seconds 5] [--snaplen 262144 256]

The sender is a small paced Python loop run inside the lab's namespace (``lab.run``);
it sends to an address whose neighbour entry is static, so every datagram leaves
veth0 at once and arrives on veth1, where tcpdump listens.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from scapy.layers import l2  # noqa: F401 - rdpcap needs the Ethernet layer loaded
from scapy.utils import rdpcap

from labkit import Lab
from labkit.widgets.capture import CapturePane

SENDER = """
import socket, sys, time
rate, seconds = int(sys.argv[1]), float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
n, payload, t0, late = int(rate * seconds), b"x" * 64, time.perf_counter(), 0
for i in range(n):
    due = t0 + i / rate
    now = time.perf_counter()
    if due - now > 0.002:
        time.sleep(due - now - 0.001)
    while time.perf_counter() < due:
        pass
    if time.perf_counter() - due > 0.01:
        late += 1
    s.sendto(payload, ("20.1.0.99", 9999))
print(n, round(time.perf_counter() - t0, 3), late)
"""


def setup(lab: Lab) -> None:
    lab.veth("veth0", "veth1")
    lab.addr("veth0", "20.1.0.10/24")
    lab.up("veth0", "veth1")
    lab.run("ip", "neigh", "replace", "20.1.0.99", "lladdr", "02:00:00:00:00:99", "dev", "veth0", check=True)


def one_run(lab: Lab, rate: int, seconds: float, snaplen: int, rows: list[int]) -> None:
    t = time.perf_counter()
    cap = lab.capture("veth1", filter="udp port 9999", snaplen=snaplen)
    started = time.perf_counter() - t
    sent = lab.run("python3", "-c", SENDER, str(rate), str(seconds), timeout=seconds * 4 + 30, check=True)
    n, took, late = sent.stdout.split()
    t = time.perf_counter()
    cap.stop()
    stopped = time.perf_counter() - t
    stats = cap.stats()["main/veth1"]
    with tempfile.TemporaryDirectory() as tmp:
        path = cap.save(Path(tmp) / "veth1.pcap")[0]
        size = Path(path).stat().st_size
        t = time.perf_counter()
        on_disk = len(rdpcap(path))
        read_back = time.perf_counter() - t
    print(f"\nsnaplen {snaplen}: sent {int(n):,} datagrams in {float(took):.2f} s "
          f"({int(n) / float(took):,.0f}/s, {late} sent >10 ms late)")
    print(f"  tcpdump: captured {stats['captured']:,}, received by filter {stats['received']:,}, "
          f"dropped by kernel {stats['dropped']:,}")
    print(f"  pcap: {stats['saved']:,} frames read through the agent, {on_disk:,} in the saved file "
          f"({size / 1e6:.1f} MB, rdpcap {read_back:.1f} s)")
    print(f"  loss tcpdump-count → file: {int(stats['captured'] or 0) - on_disk}; "
          f"kernel drops: {stats['dropped']}; never seen of those sent: {int(n) - int(stats['received'] or 0)}")
    print(f"  start (all tcpdumps listening) {started * 1000:.0f} ms; stop + read the rest {stopped * 1000:.0f} ms")
    for count in rows:
        times = []
        for _ in range(3):
            for frame in cap.frames("veth1"):  # cold: nothing decoded yet
                frame._packet, frame._summary = None, None
            t = time.perf_counter()
            pane = CapturePane(cap, "main/veth1", max_rows=count)
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        pane.refresh()  # warm: rows are cached
        warm = time.perf_counter() - t
        print(f"  pane, last {count:,} rows of {len(cap.frames('veth1')):,}: cold {statistics.median(times) * 1000:.0f} ms "
              f"(median of 3), redraw {warm * 1000:.1f} ms, HTML {len(pane.rows.value) / 1e6:.2f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--snaplen", type=int, nargs="+", default=[262144, 256])
    parser.add_argument("--rows", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--mode", choices=["root", "sudo", "rootless"], default=None,
                        help="how the agent runs; rootless captures with the agent's Python capture, not tcpdump")
    args = parser.parse_args()
    with Lab(uplink=False, mode=args.mode) as lab:
        setup(lab)
        print(f"lab {lab.lab_id} ({getattr(lab.target, 'mode', '?')}): {args.rate:,} UDP datagrams/s for {args.seconds:g} s, main/veth0 → main/veth1, "
              "tcpdump on veth1")
        for snaplen in args.snaplen:
            one_run(lab, args.rate, args.seconds, snaplen, args.rows)


if __name__ == "__main__":
    main()
