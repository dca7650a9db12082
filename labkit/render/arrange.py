"""Where each box goes: coordinates decided by the lab's structure, not by a layout heuristic.

Left to itself, Graphviz's ``dot`` orders each rank to cross as few lines as it can, starting
from the order it read the boxes in: one new line can reorder everything, and the order the
kernel listed devices in (ifindex, creation order) decides what goes left. A learner who builds
a lab step by step then loses the map. So labkit places every box itself, from the lab alone
(the same lab always gives the same picture), on a grid built so that a small step moves little:

- **Namespaces in rows.** The first namespace (``main``, or the first by name) has the top row
  to itself; the others sit in rows of :data:`ROW` beneath it, in name order. Three switches
  make a triangle (sw1 above sw2 and sw3), so a loop is drawn as a loop; a host and the
  namespaces it is cabled to look like a host and its neighbours.
- **Three levels in a namespace**, each of a fixed height, even while empty: its IP stack (and
  user-space programs, each above its tun/tap), its devices, its bridge ports. The ports face the
  other rows: below in the top row, above in the rows beneath, so cables between rows are short
  (and a namespace below the first row has its title at the bottom, out of the cables' way).
- **Columns shared by the levels.** Each device has one column in its namespace; becoming a bridge
  port moves it down a level, not sideways, and moves nothing else. ``lo`` comes first, bridges
  last; a device cabled to another namespace sits on that namespace's side; the two ends of a
  cable inside one namespace sit side by side; otherwise names decide (``h2`` before ``h10``).
  Columns are at least :data:`COLUMN` wide, so a longer label rarely pushes its neighbours;
  after :data:`WRAP` columns a namespace starts a new band of levels below.

Positions are in points, origin top left (``dot.py`` flips them for Graphviz, whose y grows
upwards); ``neato -n2`` then only draws the boxes where they are told and routes the lines.
Box sizes are estimated from the label text (Helvetica 10 pt), on the large side.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass

from .graph import Graph, Node

ROW = 4  # namespaces side by side in a row below the first
WRAP = 8  # columns of a namespace before it starts another band
LEVELS = 3  # per band: stack/apps, devices, ports (mirrored in the rows below the first)
STACK = 72.0  # the stack's column
COLUMN = 130.0  # least column width (pt): most labels fit, so a new label seldom moves a neighbour
LEVEL = 76.0  # least level height (pt): five lines of text, so one more line (a change) moves nothing
GAP_X, GAP_Y = 18.0, 34.0  # between columns; between levels (room for a line's label)
MARGIN, TITLE = 12.0, 22.0  # inside a namespace's box; its title
ROW_GAP, CLUSTER_GAP = 56.0, 36.0  # between rows of namespaces (cables run there); between namespaces of a row
#: in a namespace, ``lo`` comes first and bridges last: a bridge made after its future ports does not push them
KIND_ORDER = {"loopback": -1, "bridge": 1}

Point = tuple[float, float]


@functools.lru_cache(maxsize=8192)
def natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that puts 'h2' before 'h10'."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part)


def columns(line: str) -> int:
    """How many Latin characters' widths ``line`` takes: a Chinese character (East Asian width W or F) is a
    full em, about twice a Latin letter."""
    return sum(2 if unicodedata.east_asian_width(char) in ("W", "F") else 1 for char in line)


def size_of(node: Node) -> Point:
    """A box's estimated (width, height) in points: Helvetica 10 pt, ~5.6 pt a character (a Chinese
    character two), 12 pt a line."""
    lines = node.label.split("\n")
    width = max(columns(line) for line in lines) * 5.6 + 20
    height = len(lines) * 12.0 + 10
    if node.attrs.get("shape") == "ellipse":
        width, height = width * 1.42, height * 1.42
    elif node.attrs.get("shape") in ("cds", "box3d", "note"):
        width += 12
    return max(width, 54.0), max(height, 36.0)


@dataclass(frozen=True)
class Layout:
    """Every node's centre, every namespace's box (x0, y0, x1, y1), the picture's size; top-left origin."""

    clusters: tuple[str, ...]
    nodes: dict[str, Point]
    boxes: dict[str, tuple[float, float, float, float]]
    width: float
    height: float


def cluster_order(graph: Graph) -> list[str]:
    """``main`` first, then by name (``upstream`` included)."""
    names = {c.id: c.id.split(":", 1)[1] for c in graph.clusters}
    return sorted(names, key=lambda cid: (names[cid] != "main", natural(names[cid])))


def rows_of(clusters: list[str]) -> list[list[str]]:
    return [clusters[:1]] + [clusters[i:i + ROW] for i in range(1, len(clusters), ROW)] if clusters else []


def _columns(graph: Graph, order: list[str], rows: list[list[str]]) -> dict[str, list[Node]]:
    """Per namespace, its interface nodes in column order."""
    slot = {cid: (r, (i + 0.5) / len(row)) for r, row in enumerate(rows) for i, cid in enumerate(row)}
    cluster_of = {node.id: node.cluster for node in graph.nodes}
    peer: dict[str, str] = {}  # a device → the other end of its cable (or its lower device)
    for edge in sorted(graph.edges, key=lambda e: (natural(e.a), natural(e.b))):  # first cable wins
        if edge.kind in ("veth", "link") and edge.a in cluster_of and edge.b in cluster_of:
            peer.setdefault(edge.a, edge.b)
            peer.setdefault(edge.b, edge.a)

    def key(node: Node) -> tuple:
        name = node.id.split("/", 1)[-1]
        other = peer.get(node.id)
        kind = KIND_ORDER.get(node.kind, 0)
        if other is not None and cluster_of[other] != node.cluster:  # towards the namespace it is cabled to
            row, x = slot[cluster_of[other]]
            here_row, here_x = slot[node.cluster]
            side = x if row == here_row or row > here_row else here_x  # a cable up goes in the middle
            return (kind, side, natural(name), ())
        group = min(name, other.split("/", 1)[-1], key=natural) if other is not None else name
        return (kind, slot[node.cluster][1], natural(group), natural(name))

    return {cid: sorted((n for n in graph.nodes if n.cluster == cid and n.role in ("device", "port")), key=key)
            for cid in order}


def place(graph: Graph) -> Layout:
    """The coordinates of every node of ``graph`` (see the module docstring)."""
    order = cluster_order(graph)
    rows = rows_of(order)
    columns = _columns(graph, order, rows)
    sizes = {node.id: size_of(node) for node in graph.nodes}
    by_id = {node.id: node for node in graph.nodes}
    app_of = {edge.b: edge.a for edge in graph.edges if edge.kind == "app"}
    stacks = {node.cluster: node.id for node in graph.nodes if node.role == "stack"}

    def level(node: Node, row: int) -> int:
        top = {"stack": 0, "app": 0, "device": 1, "port": 2}[node.role]
        return top if row == 0 else LEVELS - 1 - top

    bridge_of = {edge.a: edge.b for edge in graph.edges if edge.kind == "port"}

    def cell(cid: str, row: int) -> dict[str, tuple[int, int, float]]:
        """node → (band, level, column); the stack has column -1. A bridge with ports has no column
        of its own: it sits above the middle of its ports (their columns are free on its level),
        so the whole switch is as wide as its ports."""
        out: dict[str, tuple[int, int, float]] = {}
        has_ports = set(bridge_of.values())
        own = [node for node in columns[cid] if node.id not in has_ports]
        for index, node in enumerate(own):
            out[node.id] = (index // WRAP, level(node, row), index % WRAP)
        for bridge in (node for node in columns[cid] if node.id in has_ports):
            ports = sorted((out[p] for p, b in bridge_of.items() if b == bridge.id and p in out))
            band = ports[0][0]
            span = [c for b, _, c in ports if b == band]
            taken = {c for n, (b, lv, c) in out.items() if b == band and lv == level(bridge, row)}
            middle = (span[0] + span[-1]) / 2
            free = not any(span[0] <= c <= span[-1] for c in taken)
            out[bridge.id] = (band, level(bridge, row), middle if free else span[0])
        for app, device in app_of.items():
            if app in by_id and device in out:
                band, _, col = out[device]
                out[app] = (band, level(by_id[app], row), col)
        if cid in stacks:
            out[stacks[cid]] = (0, level(by_id[stacks[cid]], row), -1)
        return out

    cells = {cid: cell(cid, r) for r, row in enumerate(rows) for cid in row}
    # column widths per namespace; level heights per row of namespaces (so a row's levels line up)
    # column -1, the stack's, is kept even before the namespace has a stack: its first device then moves nothing
    col_w: dict[str, dict[int, float]] = {cid: {-1: STACK, 0: COLUMN} for cid in order}
    bands = {r: 1 for r in range(len(rows))}
    for r, row in enumerate(rows):
        for cid in row:
            for name, (band, _, col) in cells[cid].items():
                bands[r] = max(bands[r], band + 1)
                if col == int(col):  # a bridge between two columns widens neither
                    col_w[cid][int(col)] = max(col_w[cid].get(int(col), COLUMN), sizes[name][0])
    # level heights per row of namespaces, so that the levels of a row line up
    lvl_h = {r: [LEVEL] * (bands[r] * LEVELS) for r in range(len(rows))}
    for r, row in enumerate(rows):
        for cid in row:
            for name, (band, lv, _) in cells[cid].items():
                k = band * LEVELS + lv
                lvl_h[r][k] = max(lvl_h[r][k], sizes[name][1])
    nodes: dict[str, Point] = {}
    boxes: dict[str, tuple[float, float, float, float]] = {}
    y, width = 0.0, 0.0
    for r, row in enumerate(rows):
        tops = [0.0]
        for h in lvl_h[r]:
            tops.append(tops[-1] + h + GAP_Y)
        inner = tops[-1] - GAP_Y
        x = 0.0
        for cid in row:
            widths = col_w[cid]
            left = {c: sum(widths[k] + GAP_X for k in sorted(widths) if k < c) for c in widths}
            centre = {c: left[c] + widths[c] / 2 for c in widths}
            for name, (band, lv, col) in cells[cid].items():
                k = band * LEVELS + lv
                lo, hi = math.floor(col), math.ceil(col)  # a bridge between two columns: halfway
                cx = (centre[lo] + centre[hi]) / 2 if lo != hi else centre[lo]
                nodes[name] = (x + MARGIN + cx, y + (TITLE if r == 0 else MARGIN) + tops[k] + lvl_h[r][k] / 2)
            box_w = sum(widths.values()) + GAP_X * (len(widths) - 1) + 2 * MARGIN
            boxes[cid] = (x, y, x + box_w, y + TITLE + inner + MARGIN)  # the title: on top, or at the bottom below row 0
            x += box_w + CLUSTER_GAP
        width = max(width, x - CLUSTER_GAP)
        y += TITLE + inner + MARGIN + ROW_GAP
    height = max(y - ROW_GAP, 0.0)
    if graph.notes:  # the grey/red note: right of the first row, where it moves nothing
        lines = graph.notes
        w, h = max(len(line) for line in lines) * 5.6 + 30, len(lines) * 12.0 + 16
        x0 = boxes[rows[0][-1]][2] + CLUSTER_GAP if rows else 0.0
        nodes["notes"] = (x0 + w / 2, h / 2 + TITLE)
        width = max(width, x0 + w)
    return Layout(tuple(order), nodes, boxes, math.ceil(width), math.ceil(height))
