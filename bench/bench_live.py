"""Bench: how soon a packet on the wire becomes a row of its capture pane, at 1, 100 and 1,000 packets/s.

Prints figures, not a pass/fail. A sender inside the lab stamps each UDP datagram with the
time it sent it (``time.time()``, the same clock as the notebook's: one machine); the capture on
the receiving end of the cable is live (tcpdump ``--immediate-mode -U`` on the target, its new
bytes streamed as events over the agent's one pipe), and the pane's listener notes when each
frame reached the notebook. Latency = arrival in the notebook − stamp. Also checked: no packet
lost or reordered against the sequence numbers the sender wrote, and how long a pane takes to
redraw with the rows it holds.

    .venv/bin/python bench/bench_live.py [--seconds 3] [--rates 1 100 1000] [--load-rate 10000]
                                         [--target vagrant [--sandbox]]

On the VM (``--target vagrant``) the sender stamps with the guest's clock, which is not the
notebook's: the bench measures the offset between the two clocks before and after each rate
(the agent's ``capture_clock``, NTP-style: the sample with the shortest round trip, whose half
is the offset's uncertainty) and prints it with the figures. ``--sandbox`` boots a fresh VM in a
vm/sandbox.sh namespace for the bench and destroys it afterwards (as bench/bench_vm.py does);
without it, the VM of ``LABKIT_VAGRANT_DIR`` / ``LABKIT_VM_PREFIX`` is used (brought up if needed).

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
import contextlib
import io
import os
import statistics
import struct
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scapy.layers.inet import UDP  # noqa: E402
from scapy.utils import PcapReader  # noqa: E402

from labkit import Lab  # noqa: E402
from labkit.capture.session import Capture  # noqa: E402
from labkit.recipes import host_pair  # noqa: E402
from labkit.widgets.capture import CapturePanes  # noqa: E402

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


def clock_offset(lab: Lab, samples: int = 15) -> tuple[float, float]:
    """(target clock − our clock, uncertainty) in seconds, from the round trip with the least delay."""
    best: tuple[float, float] | None = None
    for _ in range(samples):
        before = time.time()
        there = lab.target.client.capture_clock()
        after = time.time()
        if best is None or (after - before) / 2 < best[1]:
            best = (there - (before + after) / 2, (after - before) / 2)
    assert best is not None
    return best


def one_rate(lab: Lab, rate: float, seconds: float) -> dict[str, Any]:
    arrivals: dict[int, float] = {}
    stamps: dict[int, float] = {}
    order: list[int] = []  # sequence numbers in the order the pane got them
    lock = threading.Lock()  # listeners run in the client's event thread, and in ours when the capture stops

    def on_update(capture: Any) -> None:
        now = time.time()
        with lock:
            for frame in capture.frames("h1/lb")[len(order):]:
                seq, sent = struct.unpack("!Id", bytes(frame.packet[UDP].payload)[:12])
                order.append(seq)
                stamps[seq], arrivals[seq] = sent, now

    events: list[tuple[float, float, int]] = []  # (sent at, target clock; arrived, ours; frames in the pane after it)

    def on_event(capture: Capture, by_id: dict[str, Any], event: dict[str, Any]) -> None:
        arrived = time.time()
        real_on_data(capture, by_id, event)
        if "at" in event:
            events.append((float(event["at"]), arrived, len(capture.frames("h1/lb"))))

    skew_before, error_before = clock_offset(lab)
    real_on_data = Capture._on_data
    Capture._on_data = on_event  # type: ignore[method-assign]  # to split the latency at the agent's send
    try:
        with lab.capture("h1/lb", filter="udp port 9999", show=False) as cap:
            cap.listeners.append(on_update)
            sent = int(lab.run(*lab.python("-c", SENDER, str(rate), str(seconds)), timeout=seconds + 60, check=True).stdout)
            deadline = time.monotonic() + 10
            while len(order) < sent and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        Capture._on_data = real_on_data  # type: ignore[method-assign]
    skew_after, error_after = clock_offset(lab)
    skew = (skew_before + skew_after) / 2  # the target's clock minus ours, over the run
    latencies = [(arrivals[s] - (stamps[s] - skew)) * 1000 for s in order]
    panes = CapturePanes(cap, max_rows=200)
    started = time.perf_counter()
    panes.refresh()
    redraw = (time.perf_counter() - started) * 1000
    packets = list(PcapReader(io.BytesIO(cap.device("h1/lb").stream.raw)))
    in_file = [struct.unpack("!I", bytes(p[UDP].payload)[:4])[0] for p in packets]
    # the capture's own timestamp (the target's kernel, its clock): how much of the latency is before tcpdump
    to_pcap = [(float(p.time) - struct.unpack("!Id", bytes(p[UDP].payload)[:12])[1]) * 1000 for p in packets]
    # the agent's send of each frame's bytes: pcap -> sent (the target's clock only), sent -> pane (both clocks)
    to_sent, to_pane = [], []
    for i, p in enumerate(packets):
        carried = next((e for e in events if e[2] > i), None)
        if carried is not None:
            to_sent.append((carried[0] - float(p.time)) * 1000)
            to_pane.append((carried[1] - (carried[0] - skew)) * 1000)
    return {"rate": rate, "sent": sent, "seen": len(order), "wire_reordered": in_file != sorted(in_file),
            "reordered": order != in_file, "to_pcap": statistics.median(to_pcap) if to_pcap else None,
            "to_sent": statistics.median(to_sent) if to_sent else float("nan"),
            "to_pane": statistics.median(to_pane) if to_pane else float("nan"),
            "lost": sent - len(set(order)), "median": statistics.median(latencies) if latencies else None,
            "p99": percentile(latencies, 0.99) if latencies else None, "max": max(latencies) if latencies else None,
            "redraw": redraw, "in_pcap": len(cap.frames("h1/lb")), "skew": skew * 1000,
            "clock_error": (max(error_before, error_after) + abs(skew_after - skew_before) / 2) * 1000}


@contextlib.contextmanager
def lab_on(target: str, sandbox: bool) -> Iterator[Lab]:
    """A lab without uplink on the local sandbox, or on the VM (a fresh sandboxed one with ``sandbox``)."""
    if target == "local":
        with Lab(uplink=False) as lab:
            yield lab
        return
    from labkit.targets.vagrant import VagrantTarget

    if not sandbox:
        from labkit.settings import settings

        with Lab(VagrantTarget(settings().vagrant_dir), uplink=False) as lab:
            yield lab
        return
    from bench.vmsandbox import sandboxed_vm

    with sandboxed_vm("vml") as vm, Lab(VagrantTarget(REPO, prefix=vm.prefix, env=vm.env), uplink=False) as lab:
        yield lab


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
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rates", type=float, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--load-rate", type=float, default=10000)
    parser.add_argument("--target", choices=("local", "vagrant"), default="local")
    parser.add_argument("--sandbox", action="store_true", help="--target vagrant: a fresh VM in a vm/sandbox.sh namespace")
    args = parser.parse_args()
    print(f"target {args.target}; host load average {os.getloadavg()[0]:.1f} (2 cores)")
    with lab_on(args.target, args.sandbox) as lab:
        host_pair(lab, "h1", "la", "lb", "10.91.0")
        lab.run("ip", "neigh", "replace", "10.91.0.2", "lladdr", lab.snapshot().interface("lb", "h1").mac, "dev", "la",
                check=True)
        print("latency: sender's stamp -> row in the pane (median, p99, max); its parts (medians): to pcap: sender's "
              "stamp -> the capture's timestamp (the target's kernel); to sent: -> the agent sent the bytes (tcpdump's "
              "write, the agent's poll); to pane: -> in the pane (the connection, the notebook's side);\n"
              "lost: sent but not in the pane; reordered: the pane's order differs from the pcap file's; on the wire:"
              " the pcap's order differs from the sender's (the kernel's doing, e.g. a sender moved between CPUs)")
        print(f"{'pkt/s':>7} {'sent':>6} {'in pane':>8} {'lost':>5} {'reordered':>9} {'on wire':>8} {'median ms':>10} "
              f"{'p99 ms':>8} {'max ms':>8} {'to pcap':>8} {'to sent':>8} {'to pane':>8} {'redraw ms':>10} {'clock skew ms':>14}")
        for rate in args.rates:
            seconds = max(args.seconds, 5 / rate) if rate < 5 else args.seconds
            r = one_rate(lab, rate, seconds)
            print(f"{r['rate']:>7.0f} {r['sent']:>6} {r['seen']:>8} {r['lost']:>5} {r['reordered']!s:>9} "
                  f"{r['wire_reordered']!s:>8} "
                  f"{r['median']:>10.1f} {r['p99']:>8.1f} {r['max']:>8.1f} {r['to_pcap']:>8.1f} {r['to_sent']:>8.1f} {r['to_pane']:>8.1f} {r['redraw']:>10.1f} "
                  f"{r['skew']:>7.1f} ±{r['clock_error']:.1f}")
    if args.load_rate and args.target == "local":  # the load figure runs its own local lab in a Jupyter kernel
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
