"""DOT text → SVG, drawn by Graphviz's ``neato -n2`` (positions as given) through the ``graphviz`` package."""

from __future__ import annotations

import re

import graphviz

from ..errors import MissingTool, TargetError
from ..i18n import tr
from .dot import ENGINE

_COMMENT = re.compile(r"<!--.*?-->\n?", re.S)
_TITLE = re.compile(r"<title>[^<]*</title>\n?")


def dot_to_svg(dot: str) -> str:
    """Lay out ``dot`` and return the SVG text (without the XML prologue)."""
    try:
        svg = graphviz.pipe_string(ENGINE, "svg", dot, encoding="utf-8", quiet=True, neato_no_op=2)
    except graphviz.ExecutableNotFound:
        raise MissingTool(tr("the Graphviz program `neato` (package graphviz) is not installed, so the topology cannot be drawn"),
                          hint=tr("apt-get install graphviz (or brew install graphviz)")) from None
    except graphviz.CalledProcessError as exc:
        detail = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else str(exc.stderr or exc)
        raise TargetError(tr("neato failed: {detail}", detail=detail.strip()), hint=tr("report this DOT as a bug")) from None
    start = svg.find("<svg")
    return compact(svg[start:] if start >= 0 else svg)


def compact(svg: str) -> str:
    """The SVG without what nobody reads: Graphviz's XML comments and the ``<title>`` of every node and
    line ("stack:main--main/x1"; a browser shows it on hover, the box's tooltip says it better). Each
    view sends its SVG to the page: on 500 interfaces this saves about 80 KiB of ~720 (bench/bench_redraw.py)."""
    return _TITLE.sub("", _COMMENT.sub("", svg))
