"""Bench: how far unchanged nodes move between consecutive views of a lab, and what a redraw costs.

Replays the views recorded from notebooks 04, 06 and 09 (``tests/unit/data/views_NN.json``,
made by ``bench/record_views.py``): for each pair of consecutive views, the centre shift of
every node both pictures draw, and of those the step did not change (not new, not changed,
no packets counted): mean and max in points.

    .venv/bin/python bench/bench_view.py
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from labkit.render.dot import to_dot
from labkit.render.graph import build
from labkit.render.layout import movement, positions
from labkit.state.diff import diff
from labkit.state.parse import parse

DATA = Path(__file__).resolve().parents[1] / "tests" / "unit" / "data"


def views(number: str) -> list[dict[str, Any]]:
    return json.loads((DATA / f"views_{number}.json").read_text())


def unchanged(delta: Any, snap: Any, paths: dict[str, int]) -> set[str]:
    """Node names of interfaces the step neither added nor changed, and that saw no packets."""
    return {itf.key for itf in snap.interfaces
            if not delta.is_new("interfaces", itf.key) and not delta.interface_changes(itf.key) and not paths.get(itf.key)}


def stability(number: str) -> list[tuple[str, Any, Any]]:
    rows, prev_snap, prev_pos = [], None, None
    for view in views(number):
        snap = parse(view["snapshot"])
        delta = diff(prev_snap, snap) if prev_snap is not None else diff(snap, snap)
        pos = positions(to_dot(build(snap, delta, view["paths"])))
        if prev_pos is not None:
            rows.append((view["title"], movement(prev_pos, pos), movement(prev_pos, pos, unchanged(delta, snap, view["paths"]))))
        prev_snap, prev_pos = snap, pos
    return rows


def main() -> None:
    for number in ("04", "06", "09"):
        rows = stability(number)
        print(f"notebook {number}: centre shift between consecutive views (points)")
        for title, every, still in rows:
            print(f"  {title[:58]:<58} all: {every}\n  {'':<58} unchanged: {still}")
        means = [still.mean for _, _, still in rows if still.shared]
        maxes = [still.max for _, _, still in rows if still.shared]
        print(f"  → unchanged nodes: mean of means {statistics.mean(means):.1f} pt, worst {max(maxes):.1f} pt\n")


if __name__ == "__main__":
    main()
