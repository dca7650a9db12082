"""Snapshot → a neutral graph: what to draw and how to style it, before any DOT.

Namespaces become clusters; each has an "IP stack" node joined to the devices
the stack uses. A bridge port has no such line: once enslaved, what it receives
goes to the bridge, not to the stack (seed 000's lesson). veth pairs are wires
between their ends; bridge ports hang off their bridge, styled by STP state; a
tun/tap device has its user-space end drawn next to it. Items the last step added
or changed are highlighted; devices a capture saw packets on are coloured with
their packet counts.
"""

from __future__ import annotations

import textwrap
import unicodedata
from dataclasses import dataclass, field

from ..i18n import localize, tr
from ..kinds import KINDS
from ..model import Interface, Snapshot
from ..state.diff import Diff

STP_STYLE = {
    "forwarding": {"color": "#2ca02c", "style": "solid", "penwidth": "2"},
    "blocking": {"color": "#d62728", "style": "dashed", "penwidth": "2"},
    "listening": {"color": "#ff7f0e", "style": "dotted", "penwidth": "2"},
    "learning": {"color": "#ff7f0e", "style": "dashed", "penwidth": "2"},
    "disabled": {"color": "#7f7f7f", "style": "dotted", "penwidth": "1"},
}
#: each kind's shape and colour, as it declares them (labkit/kinds/); lo is not a kind one creates
KIND_SHAPE = {"loopback": "ellipse", **{name: kind.style.shape for name, kind in KINDS.items()}}
KIND_FILL = {"loopback": "#ffffff", **{name: kind.style.fill for name, kind in KINDS.items()}}
ADDED = {"color": "#1f77b4", "penwidth": "3"}
CHANGED_FILL = "#fff3b0"
PATH_COLOR = "#d62728"
NOTE_WIDTH = 24  # characters per line of a "(now: …)" note


@dataclass(frozen=True)
class Node:
    """A box of the picture. ``role`` places it (see :mod:`labkit.render.arrange`): the namespace's
    IP ``stack``, a user-space ``app``, a ``device``, or a bridge ``port``."""

    id: str
    label: str
    cluster: str
    attrs: dict[str, str] = field(default_factory=dict)
    role: str = "device"
    kind: str = ""  # the device kind, for ordering (lo first, bridges last)


@dataclass(frozen=True)
class Edge:
    """A line: ``kind`` is "stack", "port", "veth" (a cable), "link" (on a lower device) or "app"."""

    a: str
    b: str
    attrs: dict[str, str] = field(default_factory=dict)
    kind: str = ""


@dataclass(frozen=True)
class Cluster:
    id: str
    label: str
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Graph:
    title: str
    clusters: tuple[Cluster, ...]
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    notes: tuple[str, ...] = ()
    removed: bool = False  # a note says something was removed (drawn red)


def ns_title(name: str) -> str:
    """A namespace's box title, in the learner's language (the name itself stays)."""
    if name == "main":
        return localize(tr("main (the host)"))
    if name == "upstream":
        return localize(tr("upstream (simulated LAN + gateway)"))
    return localize(tr("{name} (namespace)", name=name))


def label_of(itf: Interface, stp: bool = True) -> str:
    """The text in a device's box: name and kind, MAC, addresses, state, MTU if not 1500.

    ``stp``: whether the bridge this port belongs to runs STP (a port of a bridge without
    STP has no STP state to speak of: the kernel just forwards)."""
    lines = [f"{itf.name}  [{itf.kind}]"]
    if itf.mac and itf.kind != "loopback":
        lines.append(itf.mac)
    lines += list(itf.addresses)
    state = itf.state if itf.is_up else localize(tr("DOWN (admin)"))
    if itf.stp_state and stp:
        state += f" · STP {itf.stp_state}"
    elif itf.master:
        state += " · " + localize(tr("port of {bridge}", bridge=itf.master))
    if itf.kind in ("tun", "tap"):
        state += " · " + localize(tr("fd held") if itf.detail("attached") else tr("no program"))
    lines.append(state)
    if itf.mtu != 1500 and itf.kind != "loopback":
        lines.append(f"mtu {itf.mtu}")
    if itf.kind == "vxlan":
        remote = itf.detail("remote") or localize(tr("learned"))
        lines.append(f"vni {itf.detail('vni')} → {remote}:{itf.detail('port')}")
    return "\n".join(lines)


def tooltip_of(itf: Interface) -> str:
    facts = [itf.key, f"flags {','.join(itf.flags)}", f"mtu {itf.mtu}"]
    facts += [f"{k} {v}" for k, v in itf.info if v is not None]
    facts += [f"{k} {v}" for k, v in itf.stats]
    return "\n".join(facts)


LOOPBACK_DEFAULTS = {"127.0.0.1/8", "::1/128"}


def folded(snap: Snapshot, paths: dict[str, int], show_lo: bool | None = None) -> set[str]:
    """Interfaces left out of a big lab's picture: each ``lo`` that holds only its default addresses
    and saw no captured packet. A lab of one or two namespaces keeps them (lab 00 is about ``lo``)."""
    if show_lo is None:
        show_lo = len(snap.namespaces) <= 2
    if show_lo:
        return set()
    return {itf.key for itf in snap.interfaces if itf.kind == "loopback" and itf.key not in paths
            and set(itf.addresses) <= LOOPBACK_DEFAULTS}


def build(snap: Snapshot, delta: Diff | None = None, paths: dict[str, int] | None = None,
          show_lo: bool | None = None) -> Graph:
    """The graph of ``snap``; ``delta`` marks what changed, ``paths`` maps 'ns/dev' → packets seen.

    In a lab of more than two namespaces a plain ``lo`` is folded away (``show_lo`` decides
    otherwise), and so is a namespace with nothing else to draw, or an IP stack nothing
    is drawn to: they only cost room."""
    paths = paths or {}
    hidden = folded(snap, paths, show_lo)
    drawn = {itf.namespace for itf in snap.interfaces if itf.key not in hidden}
    stacks = {itf.namespace for itf in snap.interfaces if itf.key not in hidden
              and ((not itf.master and itf.kind != "loopback") or (itf.kind == "loopback" and itf.key in paths))}
    stp_on = {itf.key for itf in snap.interfaces if itf.kind == "bridge" and itf.detail("stp")}
    clusters = tuple(Cluster(f"ns:{ns.name}", ns_title(ns.name),
                             {"style": "rounded,filled", "fillcolor": "#fafafa" if ns.name != "upstream" else "#f0f0f0",
                              **(ADDED if delta and delta.is_new("namespaces", ns.name) else {})})
                     for ns in snap.namespaces if ns.name in drawn)
    nodes: list[Node] = []
    edges: list[Edge] = []
    for ns in snap.namespaces:
        if ns.name in stacks:
            nodes.append(Node(f"stack:{ns.name}", localize(tr("IP stack")), f"ns:{ns.name}",
                              {"shape": "ellipse", "style": "dashed", "fontsize": "10", "color": "#999999"}, role="stack"))
    for itf in sorted(snap.interfaces, key=lambda i: (i.namespace, i.index)):
        if itf.key in hidden:
            continue
        stp = f"{itf.namespace}/{itf.master}" in stp_on if itf.master else True
        nodes.append(_node(itf, delta, paths, stp))
        if (not itf.master and itf.kind != "loopback") or (itf.kind == "loopback" and itf.key in paths):
            edges.append(Edge(f"stack:{itf.namespace}", itf.key, {"style": "dotted", "arrowhead": "none", "color": "#999999"},
                              kind="stack"))
        if itf.master:
            state = itf.stp_state or "forwarding"
            if not stp:  # no STP: the port forwards while it is up; the kernel says "disabled" when it is down
                state = "disabled" if state == "disabled" else "forwarding"
            style = dict(STP_STYLE.get(state, {}))
            label = itf.stp_state if stp and itf.stp_state else localize(tr("port (down)") if state == "disabled" else tr("port"))
            style.update({"arrowhead": "none", "label": label})
            edges.append(Edge(itf.key, f"{itf.namespace}/{itf.master}", style, kind="port"))
        if itf.peer and itf.key < itf.peer:
            seen = paths.get(itf.key, 0) + paths.get(itf.peer, 0)
            edges.append(Edge(itf.key, itf.peer, {"dir": "both", "arrowsize": "0.5", "penwidth": "3" if seen else "2",
                                                  "color": PATH_COLOR if seen else "#333333", "label": "veth"},
                              kind="veth"))
        if itf.link and itf.kind != "veth":
            edges.append(Edge(itf.key, itf.link, {"style": "dashed", "label": localize(tr("{kind} on", kind=itf.kind)),
                                                  "arrowhead": "vee"}, kind="link"))
        if itf.kind in ("tun", "tap"):
            app = f"app:{itf.key}"
            nodes.append(Node(app, localize(tr("user-space program\n(reads/writes /dev/net/tun)") if itf.detail("attached")
                                            else tr("no program holds\n/dev/net/tun")), f"ns:{itf.namespace}",
                              {"shape": "note", "fontsize": "10", "style": "filled" if itf.detail("attached") else "dashed",
                               "fillcolor": "#fde9d9"}, role="app"))
            edges.append(Edge(itf.key, app, {"style": "bold" if itf.detail("attached") else "dashed",
                                             "label": localize(tr("IP packets") if itf.kind == "tun" else tr("Ethernet frames")),
                                             "dir": "both", "arrowsize": "0.5"}, kind="app"))
    notes = tuple(localize(tr("removed: {device}", device=key)) for key in (delta.removed.get("interfaces", ()) if delta else ()))
    empty = [ns.name for ns in snap.namespaces if ns.name not in drawn]
    if empty:
        notes += (localize(tr("not drawn: {namespaces} (only lo)", namespaces=", ".join(empty))),)
    return Graph(f"lab {snap.lab_id}", clusters, tuple(nodes), tuple(edges), notes,
                 removed=bool(delta and delta.removed.get("interfaces")))


def fill(text: str, width: int) -> str:
    """``textwrap.fill`` by display columns: a wide (Chinese) character takes two, as it does on screen."""
    padded = "".join(ch + "\0" if unicodedata.east_asian_width(ch) in "WF" else ch for ch in text)
    return textwrap.fill(padded, width=width).replace("\0", "")


def _node(itf: Interface, delta: Diff | None, paths: dict[str, int], stp: bool = True) -> Node:
    attrs = {"shape": KIND_SHAPE.get(itf.kind, "box"), "style": "filled,rounded" if itf.kind not in ("bridge",) else "filled",
             "fillcolor": KIND_FILL.get(itf.kind, "#ffffff"), "tooltip": tooltip_of(itf), "id": itf.node_id}
    if not itf.is_up:
        attrs["fontcolor"] = "#777777"
    label = label_of(itf, stp)
    if delta is not None:
        if delta.is_new("interfaces", itf.key):
            attrs.update(ADDED)
        elif delta.interface_changes(itf.key):
            attrs["fillcolor"] = CHANGED_FILL
            # wrapped to the box's usual width: what changed must not widen its column and push the others
            now = localize(tr("(now: {changes})", changes=", ".join(localize(c) for c in delta.interface_changes(itf.key))))
            label += "\n" + fill(now, NOTE_WIDTH)
    if itf.key in paths and paths[itf.key] > 0:
        attrs.update({"color": PATH_COLOR, "penwidth": "3"})
        seen = paths[itf.key]
        label += "\n⇄ " + localize(tr("{n} pkt", n=seen) if seen == 1 else tr("{n} pkts", n=seen))
    elif itf.key in paths:  # captured on, but saw nothing: say so, without the path colour
        attrs.update({"color": "#7f7f7f", "style": attrs["style"] + ",dashed"})
        label += "\n⇄ " + localize(tr("0 pkts captured"))
    return Node(itf.key, label, f"ns:{itf.namespace}", attrs, role="port" if itf.master else "device",
                kind=itf.kind)
