"""Bench: how soon a packet on the wire becomes a row of its capture pane, at 1, 100 and 1,000 packets/s.

Prints figures, not a pass/fail. A sender inside the lab stamps each UDP datagram with the
time it sent it (``time.time()``, the same clock as the notebook's: one machine); the capture on
the receiving end of the cable is live (tcpdump ``--immediate-mode -U`` on the target, its new
bytes streamed as events over the agent's one pipe), and the pane's listener notes when each
frame reached the notebook. Latency = arrival in the notebook − stamp. Also checked: no packet
lost or reordered against the sequence numbers the sender wrote, and how long a pane takes to
redraw with the rows it holds.

    .venv/bin/python bench/bench_live.py [--seconds 3] [--rates 1 100 1000] [--load-rate 10000]

Goal (issue "Live cells"): median ≤ 100 ms, p99 ≤ 300 ms.

Then the load figure (``--load-rate``, 10,000 packets/s by default; 0 skips it): a real Jupyter
kernel (jupyter_client, as JupyterLab starts one) runs a capture with its live panes shown, in the
background, while a sender in the lab sends at that rate. Meanwhile the bench asks the kernel to run
``1+1`` every 0.25 s and times each (execute → reply), and counts the widget messages the kernel
sends (iopub ``comm_msg``) per second. After the stop: packets sent, in the pcap, in the window
(``cap.counts()``), rows drawn, and whether the pane's header count equals the pcap's.
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


LOAD_SETUP = """
import json, time
from labkit import Lab
from labkit.recipes import host_pair
lab = Lab(uplink=False)
host_pair(lab, "h1", "la", "lb", "10.91.0")
lab.run("ip", "neigh", "replace", "10.91.0.2", "lladdr", lab.snapshot().interface("lb", "h1").mac, "dev", "la", check=True)
"""
LOAD_START = """
cap = lab.capture("h1/lb", filter="udp port 9999", show=True)
sender = lab.spawn(*lab.python("-c", SENDER, "{rate}", "{seconds}"))
"""
LOAD_END = """
sender.wait(60)
time.sleep(0.5)
cap.stop()
panes = cap.panes()
rows = panes.panes[0].rows.value
print(json.dumps({"sent": int(sender.output.split()[-1]), "pcap": cap.stats()["h1/lb"]["saved"],
                  "window": cap.counts()["h1/lb"], "outside": cap.stats()["h1/lb"]["outside"],
                  "lost": cap.stats()["h1/lb"]["lost"], "rows": rows.count('class="lk-row"'),
                  "head_exact": f"{cap.counts()['h1/lb']:,} packets" in panes.panes[0].head.value}))
lab.close()
"""


def load_figures(rate: float, seconds: float) -> dict[str, Any]:
    """The notebook under ``rate`` packets/s: ``1+1`` cell times, widget messages/s, rows vs pcap."""
    import json
    import queue

    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    comm_times: list[float] = []

    def run(code: str, timeout: float = 120) -> tuple[float, str]:
        msg_id, started, out = kc.execute(code), time.monotonic(), []
        while True:
            msg = kc.get_iopub_msg(timeout=timeout)
            if msg["msg_type"] == "comm_msg":
                comm_times.append(time.monotonic())
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            if msg["msg_type"] == "error":
                raise RuntimeError("\n".join(msg["content"]["traceback"]))
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return time.monotonic() - started, "".join(out)

    def cells_for(seconds: float) -> list[float]:
        begun, cells = time.monotonic(), []
        while time.monotonic() - begun < seconds:
            cells.append(run("1+1")[0] * 1000)
            time.sleep(0.25)
        return cells

    try:
        run(f"SENDER = {SENDER!r}\n" + LOAD_SETUP)
        idle = cells_for(seconds)  # the same kernel and machine, nothing running: the reference
        run(f"alone = lab.spawn(*lab.python('-c', SENDER, '{rate}', '{seconds}'))")
        sender_only = cells_for(seconds)  # the sender's own load, no capture
        run("alone.wait(60)")
        run(LOAD_START.format(rate=rate, seconds=seconds))
        begun = time.monotonic()
        cells = cells_for(seconds)
        during = [t for t in comm_times if begun <= t <= begun + seconds]
        _, out = run(LOAD_END)
        while True:  # the rest of the kernel's messages
            try:
                kc.get_iopub_msg(timeout=0.5)
            except queue.Empty:
                break
        result = json.loads(out.strip().splitlines()[-1])
        result.update({"cell_median": statistics.median(cells), "cell_p99": percentile(cells, 0.99),
                       "cell_max": max(cells), "cells": len(cells), "widget_msgs_per_s": len(during) / seconds,
                       "idle_median": statistics.median(idle), "idle_max": max(idle),
                       "sender_median": statistics.median(sender_only), "sender_max": max(sender_only)})
        return result
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rates", type=float, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--load-rate", type=float, default=10000)
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
    if args.load_rate:
        r = load_figures(args.load_rate, args.seconds)
        print(f"\nunder load: {args.load_rate:.0f} pkt/s for {args.seconds:g} s, capture and live pane in a Jupyter kernel")
        print(f"  sent {r['sent']}, in the pcap {r['pcap']} (lost {r['lost']}), in the window {r['window']} "
              f"(outside {r['outside']}), rows drawn {r['rows']}, pane header count exact: {r['head_exact']}")
        print(f"  widget messages: {r['widget_msgs_per_s']:.1f}/s")
        print(f"  '1+1' cell meanwhile: median {r['cell_median']:.1f} ms, p99 {r['cell_p99']:.1f} ms, "
              f"max {r['cell_max']:.1f} ms ({r['cells']} cells)")
        print(f"  '1+1' cell for reference: idle median {r['idle_median']:.1f} ms (max {r['idle_max']:.1f}); "
              f"sender alone, no capture: median {r['sender_median']:.1f} ms (max {r['sender_max']:.1f})")


if __name__ == "__main__":
    main()
