"""An interactive topology: the graphviz SVG, and a panel with the facts of the clicked interface.

The picture is the same SVG as ``lab.show()`` (rendered on the Python side); the
widget's JavaScript (``topology.js``, shipped with the package, no CDN) makes every
interface node clickable and shows what the kernel reported for it: addresses,
MAC, MTU, state, STP port state, counters, the routes through it and its
neighbour entries. All facts travel with the widget, so the panel works in a saved
notebook too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget
import traitlets

from ..i18n import localize, tr
from ..model import Interface, Snapshot

HERE = Path(__file__).parent


def node_id(itf: Interface) -> str:
    """The SVG id graphviz gives an interface node (see :attr:`labkit.model.Interface.node_id`)."""
    return itf.node_id


def details_of(snap: Snapshot, paths: dict[str, int] | None = None) -> dict[str, dict[str, Any]]:
    """Per interface node id: the facts the panel shows, as plain JSON data."""
    paths = paths or {}
    out: dict[str, dict[str, Any]] = {}
    for itf in snap.interfaces:
        routes = [f"{r.dst}" + (f" via {r.gateway}" if r.gateway else "") + (f" src {r.src}" if r.src else "")
                  + (f" ({r.proto})" if r.proto else "")
                  for r in snap.routes if r.namespace == itf.namespace and r.dev == itf.name]
        none = localize(tr("(none)"))
        neigh = [f"{n.ip} → {n.mac or none} {n.state}" for n in snap.neighbours
                 if n.namespace == itf.namespace and n.dev == itf.name]
        out[node_id(itf)] = {
            "name": itf.name, "namespace": itf.namespace, "kind": itf.kind, "index": itf.index,
            "mac": itf.mac if itf.kind != "loopback" else None, "mtu": itf.mtu, "state": itf.state,
            "flags": list(itf.flags), "addresses": list(itf.addresses), "master": itf.master, "peer": itf.peer,
            "link": itf.link, "stp_state": itf.stp_state, "info": {k: _plain(v) for k, v in itf.info},
            "stats": dict(itf.stats), "routes": routes, "neighbours": neigh,
            "captured": paths.get(itf.key),
        }
    return out


def panel_labels() -> dict[str, str]:
    """Every word topology.js writes (field names, table titles, buttons, the hint), in the learner's language.

    The script has no English of its own: these travel in the widget's model. Kernel words
    (``kind`` values, states, counters' names) are data and stay as the kernel prints them."""
    words = {
        "kind": tr("kind"), "namespace": tr("namespace"), "mac": tr("MAC"), "mtu": tr("MTU"), "state": tr("state"),
        "flags": tr("flags"), "addresses": tr("addresses"), "master": tr("bridge (master)"),
        "stp_state": tr("STP port state"), "peer": tr("veth peer"), "link": tr("lower device"),
        "captured": tr("packets captured"),
        "info": tr("kind details"), "stats": tr("counters"), "routes": tr("routes via this device"),
        "neighbours": tr("neighbours (ARP/NDP)"),
        "hint": tr("Click an interface to see what the kernel says about it."),
        "smaller": tr("smaller"), "larger": tr("larger"), "fit": tr("fit"),
        "fit_title": tr("fit the notebook's width (labels stay readable)"), "fitted": tr("(fit)"),
    }
    return {key: localize(text) for key, text in words.items()}


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


class TopologyWidget(anywidget.AnyWidget):
    """The lab's SVG with clickable interfaces (``selected`` is the clicked node's id)."""

    _esm = HERE / "topology.js"
    _css = HERE / "topology.css"
    svg = traitlets.Unicode("").tag(sync=True)
    details = traitlets.Dict().tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    labels = traitlets.Dict().tag(sync=True)  # the panel's words (panel_labels), in the learner's language

    def __init__(self, svg: str, details: dict[str, dict[str, Any]] | None = None, selected: str = "",
                 **kwargs: Any) -> None:
        kwargs.setdefault("labels", panel_labels())
        super().__init__(svg=svg, details=details or {}, selected=selected, **kwargs)
        self.add_class("labkit-topology-widget")


def topology_widget(view: Any) -> TopologyWidget:
    """The widget of a :class:`labkit.render.view.TopologyView`."""
    return TopologyWidget(view.svg(), details_of(view.snapshot, view.paths))
