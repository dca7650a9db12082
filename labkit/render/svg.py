"""DOT text → SVG, with the ``dot`` program of Graphviz."""

from __future__ import annotations

import shutil
import subprocess

from ..errors import MissingTool, TargetError


def dot_to_svg(dot: str, timeout: float = 30.0) -> str:
    """Lay out ``dot`` and return the SVG text."""
    binary = shutil.which("dot")
    if binary is None:
        raise MissingTool("the Graphviz program `dot` is not installed, so the topology cannot be drawn",
                          hint="apt-get install graphviz (or brew install graphviz)")
    done = subprocess.run([binary, "-Tsvg"], input=dot.encode(), capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise TargetError(f"dot failed: {done.stderr.decode(errors='replace').strip()}", hint="report this DOT as a bug")
    svg = done.stdout.decode()
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg
