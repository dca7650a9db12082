"""DOT text → SVG, laid out by Graphviz's ``dot`` through the ``graphviz`` package."""

from __future__ import annotations

import graphviz

from ..errors import MissingTool, TargetError


def dot_to_svg(dot: str) -> str:
    """Lay out ``dot`` and return the SVG text (without the XML prologue)."""
    try:
        svg = graphviz.pipe_string("dot", "svg", dot, encoding="utf-8", quiet=True)
    except graphviz.ExecutableNotFound:
        raise MissingTool("the Graphviz program `dot` is not installed, so the topology cannot be drawn",
                          hint="apt-get install graphviz (or brew install graphviz)") from None
    except graphviz.CalledProcessError as exc:
        detail = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else str(exc.stderr or exc)
        raise TargetError(f"dot failed: {detail.strip()}", hint="report this DOT as a bug") from None
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg
