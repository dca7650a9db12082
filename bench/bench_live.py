"""Bench: how soon a packet on the wire becomes a row of its capture pane, at 1, 100 and 1,000 packets/s.

Prints figures, not a pass/fail. A sender inside the lab stamps each UDP datagram with the
time it sent it (``time.time()``, the same clock as the notebook's: one machine); the capture on
the receiving end of the cable is live (tcpdump ``--immediate-mode -U`` on the target, its new
bytes streamed as events over the agent's one pipe), and the pane's listener notes when each
frame reached the notebook. Latency = arrival in the notebook − stamp. Also checked: no packet
lost or reordered against the sequence numbers the sender wrote, and how long a pane takes to
redraw with the rows it holds.

    .venv/bin/python bench/bench_live.py [--seconds 3] [--rates 1 100 1000]

Goal (issue "Live cells"): median ≤ 100 ms, p99 ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import statistics
import struct
import time
from typing import Any

from scapy.layers.inet import UDP

from labkit import Lab
from labkit.recipes import host_pair
from labkit.widgets.capture import CapturePanes

SENDER = """
import socket, struct, sys, time
rate, seconds = float(sys.argv[1]), float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
n, t0 = max(1, int(rate * seconds)), time.perf_counter()
for i in range(n):
    due = t0 + i / rate
    while time.perf_counter() < due:
        time.sleep(min(0.001, max(0.0, due - time.perf_counter())))
    s.sendto(struct.pack("!Id", i, time.time()) + b"x" * 32, ("10.91.0.2", 9999))
print(n)
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def one_rate(lab: Lab, rate: float, seconds: float) -> dict[str, Any]:
    arrivals: dict[int, float] = {}
    stamps: dict[int, float] = {}
    order: list[int] = []

    def on_update(capture: Any) -> None:
        now = time.time()
        for frame in capture.frames("h1/lb")[len(order):]:
            seq, sent = struct.unpack("!Id", bytes(frame.packet[UDP].payload)[:12])
            order.append(seq)
            stamps[seq], arrivals[seq] = sent, now

    with lab.capture("h1/lb", filter="udp port 9999", show=False) as cap:
        cap.listeners.append(on_update)
        sent = int(lab.run(*lab.python("-c", SENDER, str(rate), str(seconds)), timeout=seconds + 30, check=True).stdout)
        deadline = time.monotonic() + 5
        while len(order) < sent and time.monotonic() < deadline:
            time.sleep(0.05)
    latencies = [(arrivals[s] - stamps[s]) * 1000 for s in order]
    panes = CapturePanes(cap, max_rows=200)
    started = time.perf_counter()
    panes.refresh()
    redraw = (time.perf_counter() - started) * 1000
    return {"rate": rate, "sent": sent, "seen": len(order), "reordered": order != sorted(order),
            "lost": sent - len(set(order)), "median": statistics.median(latencies) if latencies else None,
            "p99": percentile(latencies, 0.99) if latencies else None, "max": max(latencies) if latencies else None,
            "redraw": redraw, "in_pcap": len(cap.frames("h1/lb"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rates", type=float, nargs="+", default=[1, 100, 1000])
    args = parser.parse_args()
    with Lab(uplink=False) as lab:
        host_pair(lab, "h1", "la", "lb", "10.91.0")
        lab.run("ip", "neigh", "replace", "10.91.0.2", "lladdr", lab.snapshot().interface("lb", "h1").mac, "dev", "la",
                check=True)
        print(f"{'pkt/s':>7} {'sent':>6} {'in pane':>8} {'lost':>5} {'reordered':>9} {'median ms':>10} {'p99 ms':>8} "
              f"{'max ms':>8} {'redraw ms':>10}")
        for rate in args.rates:
            seconds = max(args.seconds, 5 / rate) if rate < 5 else args.seconds
            r = one_rate(lab, rate, seconds)
            print(f"{r['rate']:>7.0f} {r['sent']:>6} {r['seen']:>8} {r['lost']:>5} {r['reordered']!s:>9} "
                  f"{r['median']:>10.1f} {r['p99']:>8.1f} {r['max']:>8.1f} {r['redraw']:>10.1f}")


if __name__ == "__main__":
    main()
