"""The same lab built in two different orders is drawn the same: box for box, at the same place.

Two real labs: the STP triangle (bridges without STP, so nothing moves on its own) built once
sw1 → sw3 with the cables in the article's order, once sw3 → sw1 with the cables reversed and each
cable made from its other end. Their ifindexes, the kernel's listing order and the MACs differ;
the picture must not, apart from the MACs printed in the labels and the counters in the tooltips.
"""

from __future__ import annotations

import re

import pytest

from labkit import Lab
from labkit.recipes import TRIANGLE
from labkit.render.arrange import place
from labkit.render.graph import build

pytestmark = pytest.mark.kernel

MAC = re.compile(r"([0-9a-f]{2}:){5}[0-9a-f]{2}")


def triangle(lab: Lab, reverse: bool) -> None:
    switches = ["sw3", "sw2", "sw1"] if reverse else ["sw1", "sw2", "sw3"]
    for name in switches:
        lab.netns(name)
        lab.bridge("br0", stp=False, ns=name)
    cables = [(b, a) for a, b in reversed(TRIANGLE)] if reverse else list(TRIANGLE)
    for (a_ns, a_dev), (b_ns, b_dev) in cables:
        lab.veth(a_dev, b_dev, ns=a_ns, peer_ns=b_ns)
        lab.enslave(a_dev, "br0", ns=a_ns)
        lab.enslave(b_dev, "br0", ns=b_ns)
    for name in switches:
        ports = [dev for pair in TRIANGLE for ns, dev in pair if ns == name]
        lab.up("br0", *ports, ns=name)


def picture(reverse: bool) -> tuple[dict, list]:
    with Lab(uplink=False) as lab:
        triangle(lab, reverse)
        snap = lab.snapshot()
    graph = build(snap)
    labels = sorted((node.id, MAC.sub("MAC", node.label)) for node in graph.nodes)
    edges = sorted((edge.a, edge.b, edge.kind, edge.attrs.get("label", "")) for edge in graph.edges)
    return {name: (round(x), round(y)) for name, (x, y) in place(graph).nodes.items()}, [labels, edges]


def test_the_triangle_built_in_two_orders_gives_the_same_picture() -> None:
    at_a, parts_a = picture(reverse=False)
    at_b, parts_b = picture(reverse=True)
    assert parts_a == parts_b
    assert at_a == at_b
