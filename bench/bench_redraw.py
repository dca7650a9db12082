"""Bench: what one redraw of the live topology costs, and how many bytes a view sends to the browser.

A redraw (labkit/widgets/live.py) is: read the lab from the kernel (snapshot), build the graph and
place it (DOT), draw it (neato -n2 → SVG), collect the details panel's facts, and set the widget's
``svg`` and ``details``, which ipywidgets sends to the page as one JSON message. Measured here on a
real lab, for the bridge lab of notebook 04 (seed-000 pair, br0, one namespace on it) and for 500
interfaces (250 veth pairs): median of N runs per stage, and the payload of one view in bytes (the
JSON of svg + details, what the comm carries; the SVG alone in brackets).

    .venv/bin/python bench/bench_redraw.py [--runs 9]      (as root: it makes namespaces)

Goal (issue "Live cells"): event → updated picture ≤ 50 ms (bridge lab), ≤ 300 ms (500 interfaces).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from labkit import Lab
from labkit.recipes import bridge_lab
from labkit.render.dot import to_dot
from labkit.render.graph import build
from labkit.render.svg import dot_to_svg
from labkit.widgets.topology import details_of


def large_lab(lab: Lab, pairs: int = 250) -> None:
    with lab.batch():
        for i in range(pairs):
            lab.veth(f"x{i}", f"y{i}")


def measure(lab: Lab, runs: int) -> dict[str, Any]:
    stages: dict[str, list[float]] = {"snapshot": [], "graph+place+DOT": [], "neato SVG": [], "details": [], "total": []}
    payload = svg_bytes = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        snap = lab.snapshot()
        t1 = time.perf_counter()
        dot = to_dot(build(snap))
        t2 = time.perf_counter()
        svg = dot_to_svg(dot)
        t3 = time.perf_counter()
        details = details_of(snap)
        t4 = time.perf_counter()
        for name, value in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0), strict=True):
            stages[name].append(value)
        payload = len(json.dumps({"svg": svg, "details": details}).encode())
        svg_bytes = len(svg.encode())
    return {"interfaces": len(snap.interfaces), "median_ms": {k: statistics.median(v) * 1000 for k, v in stages.items()},
            "payload": payload, "svg": svg_bytes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    for name, setup, goal in (("bridge lab", bridge_lab, 50), ("500 interfaces", large_lab, 300)):
        with Lab(uplink=False) as lab:
            setup(lab)
            result = measure(lab, args.runs)
        ms = result["median_ms"]
        print(f"{name} ({result['interfaces']} interfaces), median of {args.runs}: "
              + ", ".join(f"{k} {v:.0f} ms" for k, v in ms.items() if k != "total")
              + f" → redraw {ms['total']:.0f} ms (goal ≤ {goal} ms); payload per view "
              f"{result['payload'] / 1024:.1f} KiB (SVG {result['svg'] / 1024:.1f} KiB)")


if __name__ == "__main__":
    main()
