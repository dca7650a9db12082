"""Core figures (prints numbers; not a timed test). Run: .venv/bin/python bench/bench_core.py

(a) one cell's worth of work on the bridge topology: a step + snapshot + render, median of 50
(b) 100 namespaces each with a veth pair: through labkit vs one `ip -batch`, in the same run (ratio)
(c) snapshot + render of a lab with 500 interfaces
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from labkit import Lab
from labkit.recipes import seed000_pair
from labkit.render.dot import to_dot
from labkit.render.graph import build
from labkit.render.svg import dot_to_svg
from labkit.state.diff import diff


def bridge_topology(lab: Lab) -> None:
    seed000_pair(lab)
    lab.bridge("br0")
    lab.enslave("veth0", "br0")
    lab.up("br0")
    lab.move_ip("veth0", "br0")


def bench_cell(runs: int = 50) -> None:
    with Lab() as lab:
        bridge_topology(lab)
        before = lab.snapshot()
        cell, cell_svg, parts = [], [], {"step": [], "snapshot": [], "dot": [], "svg": []}
        for i in range(runs):
            t0 = time.perf_counter()
            lab.mtu("veth1", 1400 + (i % 2) * 100)
            t1 = time.perf_counter()
            snap = lab.snapshot()
            t2 = time.perf_counter()
            dot = to_dot(build(snap, diff(before, snap)))
            t3 = time.perf_counter()
            dot_to_svg(dot)
            t4 = time.perf_counter()
            before = snap
            cell.append(t3 - t0)
            cell_svg.append(t4 - t0)
            for key, value in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                parts[key].append(value)
        ms = {k: statistics.median(v) * 1000 for k, v in parts.items()}
        print(f"(a) cell on the bridge topology ({len(snap.interfaces)} interfaces, 2 namespaces), median of {runs}:")
        print(f"    step + snapshot + DOT: {statistics.median(cell) * 1000:.1f} ms   (+ dot layout to SVG: "
              f"{statistics.median(cell_svg) * 1000:.1f} ms)   target <= 50 ms")
        print("    parts: " + ", ".join(f"{k} {v:.1f} ms" for k, v in ms.items()))


def bench_batch(count: int = 100) -> None:
    prefix = f"lkb{int(time.time()) % 100000}"
    lines = []
    for i in range(count):
        lines += [f"netns add {prefix}-{i}", f"link add a{i} netns {prefix}-{i} type veth peer name b{i} netns {prefix}-{i}"]
    with tempfile.NamedTemporaryFile("w", suffix=".batch", delete=False) as fh:
        fh.write("\n".join(lines) + "\n")
    t0 = time.perf_counter()
    subprocess.run(["ip", "-batch", fh.name], check=True)
    batch = time.perf_counter() - t0
    cleanup = "\n".join(f"netns del {prefix}-{i}" for i in range(count)) + "\n"
    subprocess.run(["ip", "-batch", "-"], input=cleanup, text=True, check=True)

    with Lab(uplink=False) as lab:
        t0 = time.perf_counter()
        for i in range(count):
            lab.netns(f"n{i}")
            lab.veth(f"a{i}", f"b{i}", ns=f"n{i}")
        steps = time.perf_counter() - t0
    with Lab(uplink=False) as lab:
        t0 = time.perf_counter()
        with lab.batch():
            for i in range(count):
                lab.netns(f"n{i}")
                lab.veth(f"a{i}", f"b{i}", ns=f"n{i}")
        batched = time.perf_counter() - t0
    print(f"(b) {count} namespaces each with a veth pair:")
    print(f"    ip -batch: {batch * 1000:.0f} ms;  labkit, one step at a time: {steps * 1000:.0f} ms "
          f"({steps / batch:.1f}x);  labkit, lab.batch(): {batched * 1000:.0f} ms ({batched / batch:.1f}x)   target <= 4x")


def bench_large(pairs: int = 250) -> None:
    from bench_redraw import large_lab, measure  # one timing loop for a large lab (bench/ is on sys.path)

    with Lab(uplink=False) as lab:
        large_lab(lab, pairs)
        figures = measure(lab, runs=5)
        ms = figures["median_ms"]
        total = ms["snapshot"] + ms["graph+place+DOT"]
        print(f"(c) {figures['interfaces']} interfaces: snapshot {ms['snapshot']:.0f} ms + DOT "
              f"{ms['graph+place+DOT']:.0f} ms = {total:.0f} ms (target <= 500 ms); "
              f"+ dot layout {ms['neato SVG']:.0f} ms, SVG {figures['svg'] // 1024} KiB")


if __name__ == "__main__":
    bench_cell()
    bench_batch()
    bench_large()
