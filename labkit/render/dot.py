"""Neutral graph → Graphviz DOT text with every position given (deterministic, golden-tested).

The same lab gives the same text whatever order the kernel listed it in: clusters, nodes and
edges are written in a fixed order, and every box carries the position that
:mod:`labkit.render.arrange` gave it (``pos="x,y!"``, points, Graphviz's y upwards), every
namespace its box (``bb``). ``neato -n2`` (``svg.py``) draws them there and routes the lines.
"""

from __future__ import annotations

from .arrange import Layout, natural, place
from .graph import Graph

ENGINE = "neato"  # with -n2: keep the given positions, route the edges
#: lines drawn around boxes ("true") in a lab of up to ROUTED boxes; straight ("line") beyond: routing
#: around obstacles grows steeply (500 interfaces: over five minutes), a straight line costs nothing
ROUTED = 30
#: the labels' fonts, in order (Graphviz measures and draws with the first that has a glyph; the SVG's
#: ``font-family`` carries the same list to the browser): Helvetica where it exists, else DejaVu Sans for
#: Latin, Noto Sans CJK SC (Debian's fonts-noto-cjk) for a Chinese label, in its Simplified forms (left
#: to fontconfig, Han falls to the first CJK face, Noto Sans CJK JP), and the browser's own sans-serif
#: last. Without a CJK font a Chinese label is drawn as boxes (tests/unit/test_render_cjk.py).
FONTNAME = "Helvetica,DejaVu Sans,Noto Sans CJK SC,sans-Serif"


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(attrs: dict[str, str]) -> str:
    return ", ".join(f"{key}={quote(str(value))}" for key, value in sorted(attrs.items()))


def to_dot(graph: Graph, layout: Layout | None = None) -> str:
    """The DOT text of ``graph``: one subgraph cluster per namespace, placed as ``layout`` says."""
    layout = layout or place(graph)
    height = layout.height
    splines = "true" if len(graph.nodes) <= ROUTED else "line"

    def pos(name: str) -> str:
        x, y = layout.nodes[name]
        return f"{x:.0f},{height - y:.0f}!"

    out = [f"graph {quote(graph.title)} {{",
           f'  graph [fontname="{FONTNAME}", fontsize="11", splines="{splines}", bb="0,0,{layout.width:.0f},{height:.0f}"];',
           f'  node [fontname="{FONTNAME}", fontsize="10"];', f'  edge [fontname="{FONTNAME}", fontsize="9"];']
    clusters = {cluster.id: cluster for cluster in graph.clusters}
    for cid in layout.clusters:
        cluster = clusters[cid]
        x0, y0, x1, y1 = layout.boxes[cid]
        out.append(f"  subgraph {quote('cluster_' + cid.split(':', 1)[1])} {{")
        out.append(f"    label={quote(cluster.label)};")
        if y0 > 0:  # below the first row cables come in from above: the title goes to the bottom, out of their way
            out.append('    labelloc="b";')
        out.append(f'    bb="{x0:.0f},{height - y1:.0f},{x1:.0f},{height - y0:.0f}";')
        for key, value in sorted(cluster.attrs.items()):
            out.append(f"    {key}={quote(value)};")
        members = [node for node in graph.nodes if node.cluster == cid]
        for node in sorted(members, key=lambda n: (layout.nodes[n.id][1], layout.nodes[n.id][0])):
            out.append(f"    {quote(node.id)} [label={quote(node.label)}, " + _attrs(dict(node.attrs, pos=pos(node.id))) + "];")
        out.append("  }")
    if graph.notes:  # red when something was removed, grey when something was only left out of the picture
        colour = "#d62728" if graph.removed else "#666666"
        out.append(f"  notes [shape=\"note\", label={quote(chr(10).join(graph.notes))}, fontcolor=\"{colour}\", "
                   f"pos=\"{pos('notes')}\"];")
    for edge in sorted(graph.edges, key=lambda e: (e.kind, natural(e.a), natural(e.b))):
        out.append(f"  {quote(edge.a)} -- {quote(edge.b)}" + (f" [{_attrs(edge.attrs)}]" if edge.attrs else "") + ";")
    out.append("}")
    return "\n".join(out) + "\n"
