"""Neutral graph → Graphviz DOT text (deterministic, so it can be golden-tested)."""

from __future__ import annotations

from .graph import Graph


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(attrs: dict[str, str]) -> str:
    return ", ".join(f"{key}={quote(str(value))}" for key, value in sorted(attrs.items()))


def to_dot(graph: Graph) -> str:
    """The DOT text of ``graph``: one subgraph cluster per namespace."""
    out = [f"graph {quote(graph.title)} {{", '  graph [rankdir="TB", fontname="Helvetica", fontsize="11", newrank="true"];',
           '  node [fontname="Helvetica", fontsize="10"];', '  edge [fontname="Helvetica", fontsize="9"];']
    for index, cluster in enumerate(graph.clusters):
        out.append(f"  subgraph cluster_{index} {{")
        out.append(f"    label={quote(cluster.label)};")
        for key, value in sorted(cluster.attrs.items()):
            out.append(f"    {key}={quote(value)};")
        for node in graph.nodes:
            if node.cluster == cluster.id:
                out.append(f"    {quote(node.id)} [label={quote(node.label)}" + (f", {_attrs(node.attrs)}" if node.attrs else "") + "];")
        out.append("  }")
    for edge in graph.edges:
        attrs = dict(edge.attrs)
        if attrs.pop("dir", None) == "both":
            attrs["dir"] = "both"
        out.append(f"  {quote(edge.a)} -- {quote(edge.b)}" + (f" [{_attrs(attrs)}]" if attrs else "") + ";")
    if graph.notes:  # red when something was removed, grey when something was only left out of the picture
        colour = "#d62728" if any(note.startswith("removed") for note in graph.notes) else "#666666"
        out.append(f"  notes [shape=\"note\", label={quote(chr(10).join(graph.notes))}, fontcolor=\"{colour}\"];")
    out.append("}")
    return "\n".join(out) + "\n"
