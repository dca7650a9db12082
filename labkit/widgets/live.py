"""A topology that redraws while the kernel changes: the learner watches STP ports move.

While ``lab.wait_stp(...)`` runs in a notebook, the agent reports each port-state change as
it happens (an event of the wait request). :class:`LiveTopology` shows the lab's picture at
once and redraws it on those events, at most every ``DEBOUNCE`` seconds, so the ports go
listening → learning → forwarding (or blocking) on screen. When the wait ends, the output
is replaced by a static copy of the final picture with the list of changes, so a saved or
exported notebook still shows what happened.
"""

from __future__ import annotations

import base64
import html
import threading
import time
from typing import Any

DEBOUNCE = 0.3  # seconds between two redraws: ports change in bursts


class LiveTopology:
    """One live picture of a lab, redrawn on events until :meth:`finish`."""

    def __init__(self, lab: Any, title: str) -> None:
        from IPython.display import display

        from ..render.view import TopologyView
        from .topology import TopologyWidget, details_of

        self.lab, self.title = lab, title
        self.events: list[dict[str, Any]] = []
        self.redraws = 0
        self._lock = threading.Lock()
        self._last = 0.0
        view = TopologyView(lab.snapshot())
        self.widget = TopologyWidget(view.svg(), details_of(view.snapshot))
        self.caption = _caption(title, [])
        self.handle = display(self._bundle(), raw=True, display_id=True)

    def _bundle(self) -> dict[str, Any]:
        shown: Any = self.widget._repr_mimebundle_() or {}
        bundle = dict(shown[0] if isinstance(shown, tuple) else shown)  # (data, metadata) or data
        bundle["text/plain"] = f"(live picture: {self.title})"
        return bundle

    def on_event(self, event: dict[str, Any]) -> None:
        """A port changed state: note it, and redraw unless one was drawn just now."""
        with self._lock:
            self.events.append(event)
            if time.monotonic() - self._last < DEBOUNCE:
                return
            self._last = time.monotonic()
        self.redraw()

    def redraw(self) -> None:
        from ..render.view import TopologyView
        from .topology import details_of

        view = TopologyView(self.lab.snapshot())
        self.widget.svg = view.svg()
        self.widget.details = details_of(view.snapshot)
        self.redraws += 1

    def finish(self, failed: bool = False) -> None:
        """The final state, drawn once more and kept as a static copy in the cell's output."""
        from ..render.view import TopologyView

        view = TopologyView(self.lab.snapshot())
        picture = base64.b64encode(view.svg().encode()).decode()
        lines = [f"+{e['t']:.1f} s  {e['port']} {e['state']}" for e in self.events]
        body = (f'<div class="labkit-live-final">{_caption(self.title + (" (stopped)" if failed else ""), self.events)}'
                f'<img alt="the lab after the wait" style="max-width:100%" src="data:image/svg+xml;base64,{picture}">'
                f"<pre>{html.escape(chr(10).join(lines) or 'no port changed state')}</pre></div>")
        self.handle.update({"text/html": body, "text/plain": "\n".join(lines)}, raw=True)


def _caption(title: str, events: list[dict[str, Any]]) -> str:
    changed = f" · {len(events)} port-state change{'s' if len(events) != 1 else ''}" if events else ""
    return f"<p><b>{html.escape(title)}</b><small>{changed}</small></p>"
