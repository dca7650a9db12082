"""A topology picture that Jupyter shows as SVG (and a terminal as a text summary)."""

from __future__ import annotations

from typing import Any

from ..i18n import localize, tr
from ..model import Snapshot
from ..state.diff import Diff
from .dot import to_dot
from .graph import build
from .svg import dot_to_svg


class TopologyView:
    """The lab as the kernel has it, with the last changes highlighted."""

    def __init__(self, snapshot: Snapshot, delta: Diff | None = None, paths: dict[str, int] | None = None) -> None:
        self.snapshot = snapshot
        self.delta = delta
        self.paths = paths
        self.dot = to_dot(build(snapshot, delta, paths))
        self._svg: str | None = None

    def svg(self) -> str:
        if self._svg is None:
            self._svg = dot_to_svg(self.dot)
        return self._svg

    def text(self) -> str:
        lines = [localize(tr("lab {lab}: {interfaces} interfaces in {namespaces} namespaces", lab=self.snapshot.lab_id,
                             interfaces=len(self.snapshot.interfaces), namespaces=len(self.snapshot.namespaces)))]
        for itf in self.snapshot.interfaces:
            extra = f" master {itf.master}" if itf.master else ""
            extra += f" peer {itf.peer}" if itf.peer else ""
            extra += f" stp {itf.stp_state}" if itf.stp_state else ""
            lines.append(f"  {itf.key:<24} {itf.kind:<8} {itf.state:<8} {' '.join(itf.addresses)}{extra}")
        if self.delta is not None and not self.delta.empty:
            lines += [localize(tr("changed:"))] + ["  " + localize(line) for line in self.delta.lines()]
        return "\n".join(lines)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"image/svg+xml": self.svg(), "text/plain": self.text()}

    def __repr__(self) -> str:
        return self.text()
