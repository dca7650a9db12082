"""The picture holds still: the same lab gives the same DOT, and a step moves only what it changed.

The views replayed here were recorded from notebooks 04, 06 and 09 (``bench/record_views.py``).
"""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path
from typing import Any

import pytest

from labkit.model import Snapshot
from labkit.render.dot import to_dot
from labkit.render.graph import build
from labkit.render.layout import movement, positions
from labkit.state.diff import diff
from labkit.state.parse import parse

DATA = Path(__file__).parent / "data"
#: the most an unchanged box may move between two consecutive views of a recorded notebook (points)
MAX_SHIFT = {"04": 60.0, "06": 100.0, "09": 170.0}


def views(number: str) -> list[dict[str, Any]]:
    return json.loads((DATA / f"views_{number}.json").read_text())


def reordered(snap: Snapshot, seed: int) -> Snapshot:
    """The same lab as if it had been built in another order: lists shuffled, every ifindex different."""
    rng = random.Random(seed)
    namespaces, interfaces = list(snap.namespaces), list(snap.interfaces)
    rng.shuffle(namespaces)
    rng.shuffle(interfaces)
    interfaces = [dataclasses.replace(itf, index=100 + rng.randrange(900)) for itf in interfaces]
    return dataclasses.replace(snap, namespaces=tuple(namespaces), interfaces=tuple(interfaces))


@pytest.mark.parametrize("number", ["04", "06", "09"])
def test_the_same_lab_gives_the_same_dot_whatever_order_it_was_built_in(number: str) -> None:
    for view in views(number):
        snap = parse(view["snapshot"])
        expected = to_dot(build(snap, None, view["paths"]))
        for seed in range(5):
            assert to_dot(build(reordered(snap, seed), None, view["paths"])) == expected, view["title"]


def test_the_stp_triangle_is_drawn_as_a_triangle() -> None:
    """sw1 above, sw2 and sw3 side by side below it: each cable then joins two different rows or two
    neighbours in a row, so the loop is seen as a loop."""
    view = next(v for v in views("06") if v["title"].startswith("Step 5"))
    at = positions(to_dot(build(parse(view["snapshot"]))))
    sw1, sw2, sw3 = (at[f"{ns}/br0"] for ns in ("sw1", "sw2", "sw3"))
    assert sw1[1] < sw2[1] and sw1[1] < sw3[1], "sw1 is above the other two"
    assert abs(sw2[1] - sw3[1]) < 1 and sw2[0] < sw3[0], "sw2 and sw3 side by side"


@pytest.mark.parametrize("number", ["04", "06", "09"])
def test_one_step_moves_unchanged_boxes_little(number: str) -> None:
    """Between consecutive views, a box the step neither added nor changed (and that saw no packets)
    moves at most MAX_SHIFT points (the picture's top-left corner held still)."""
    before_snap, before = None, None
    for view in views(number):
        snap = parse(view["snapshot"])
        delta = diff(before_snap, snap) if before_snap is not None else diff(snap, snap)
        now = positions(to_dot(build(snap, delta, view["paths"])))
        if before is not None:
            still = {itf.key for itf in snap.interfaces if not delta.is_new("interfaces", itf.key)
                     and not delta.interface_changes(itf.key) and not view["paths"].get(itf.key)}
            moved = movement(before, now, still)
            assert moved.max <= MAX_SHIFT[number], f"{view['title']}: {moved}"
        before_snap, before = snap, now
