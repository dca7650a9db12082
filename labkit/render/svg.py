"""DOT text → SVG, drawn by Graphviz's ``neato -n2`` (positions as given) through the ``graphviz`` package."""

from __future__ import annotations

import graphviz

from ..errors import MissingTool, TargetError
from .dot import ENGINE


def dot_to_svg(dot: str) -> str:
    """Lay out ``dot`` and return the SVG text (without the XML prologue)."""
    try:
        svg = graphviz.pipe_string(ENGINE, "svg", dot, encoding="utf-8", quiet=True, neato_no_op=2)
    except graphviz.ExecutableNotFound:
        raise MissingTool("the Graphviz program `neato` (package graphviz) is not installed, so the topology cannot be drawn",
                          hint="apt-get install graphviz (or brew install graphviz)") from None
    except graphviz.CalledProcessError as exc:
        detail = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else str(exc.stderr or exc)
        raise TargetError(f"neato failed: {detail.strip()}", hint="report this DOT as a bug") from None
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg
