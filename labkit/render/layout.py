"""Where Graphviz puts each node, and how far nodes move between two pictures.

A learner keeps a mental map of the lab: ``br0`` top left, ``h1`` on the right. If one
step redraws every box somewhere else, that map is lost. :func:`positions` asks Graphviz
for the centre of every node (in points, origin at the picture's top left, as the
browser shows it), and :func:`movement` measures how far the nodes two pictures share
have moved.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import graphviz

from .dot import ENGINE

Point = tuple[float, float]


def positions(dot: str) -> dict[str, Point]:
    """Node name → centre (x, y) in points, y growing downwards from the picture's top edge."""
    laid = json.loads(graphviz.pipe_string(ENGINE, "json", dot, encoding="utf-8", quiet=True, neato_no_op=2))
    height = float(laid["bb"].split(",")[3])
    out: dict[str, Point] = {}
    for obj in laid.get("objects", []):
        if "pos" in obj and "nodes" not in obj:  # a node (clusters carry "nodes", and a bb instead of pos)
            x, y = (float(v) for v in obj["pos"].split(","))
            out[obj["name"]] = (x, height - y)
    return out


@dataclass(frozen=True)
class Movement:
    """How far the ``shared`` nodes of two pictures moved, in points."""

    shared: int
    mean: float
    max: float
    worst: str

    def __str__(self) -> str:
        return f"{self.shared} nodes, mean {self.mean:.1f} pt, max {self.max:.1f} pt ({self.worst or '-'})"


def movement(before: dict[str, Point], after: dict[str, Point], only: set[str] | None = None) -> Movement:
    """The centre shift of every node in both ``before`` and ``after`` (and in ``only``, when given)."""
    names = sorted(set(before) & set(after) & (only if only is not None else set(after)))
    shifts = {name: math.dist(before[name], after[name]) for name in names}
    if not shifts:
        return Movement(0, 0.0, 0.0, "")
    worst = max(shifts, key=lambda name: shifts[name])
    return Movement(len(shifts), sum(shifts.values()) / len(shifts), shifts[worst], worst)
