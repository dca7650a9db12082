"""A topology that redraws while the kernel changes: the learner watches it happen.

Two things feed it events: ``lab.wait_stp(...)`` (each port-state change the STP wait sees)
and ``with lab.live():`` (every rtnetlink notification of the lab's namespaces: links,
addresses, routes, neighbours, port states). :class:`LiveTopology` shows the lab's picture
at once and redraws it on those events, at most every ``DEBOUNCE`` seconds and always once
more after the last event of a burst, with what changed since the picture began highlighted
(the usual diff colours). When it ends, the output is replaced by a static copy of the final
picture with the list of changes, so a saved or exported notebook still shows what happened.
"""

from __future__ import annotations

import base64
import html
import threading
import time
from typing import Any

from ..i18n import Text, localize, received, tr

DEBOUNCE = 0.25  # seconds between two redraws: the kernel changes in bursts


def event_line(event: dict[str, Any]) -> str:
    """One change as the final list shows it: '+1.2 s  main: veth0 set down' or '+3.1 s  sw1/p12 learning'."""
    at = event.get("at", event.get("t", 0.0))
    if "summary" in event:
        return f"+{at:.1f} s  {event.get('ns', '')}: {received(event, 'summary')}"
    return f"+{at:.1f} s  {event.get('port', '')} {event.get('state', '')}"


class LiveTopology:
    """One live picture of a lab, redrawn on events until :meth:`finish`."""

    def __init__(self, lab: Any, title: str, noun: str = "change") -> None:
        """``title`` heads the picture (a :func:`~labkit.i18n.tr` sentence is shown in the learner's language);
        ``noun`` is what an event is: "change" or "port-state change" (see :func:`count_text`)."""
        from IPython.display import display

        from ..render.view import TopologyView
        from .topology import TopologyWidget, details_of

        self.lab, self.title, self.noun = lab, title, noun
        self.events: list[dict[str, Any]] = []
        self.redraws = 0
        self._lock = threading.Lock()
        self._draw_lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._last = 0.0
        self._finished = False
        self.start = lab.snapshot()
        view = TopologyView(self.start)
        self.widget = TopologyWidget(view.svg(), details_of(view.snapshot))
        self.handle = display(self._bundle(), raw=True, display_id=True)

    def _bundle(self) -> dict[str, Any]:
        shown: Any = self.widget._repr_mimebundle_() or {}
        bundle = dict(shown[0] if isinstance(shown, tuple) else shown)  # (data, metadata) or data
        bundle["text/plain"] = localize(tr("(live picture: {title})", title=self.title))
        return bundle

    def on_event(self, event: dict[str, Any]) -> None:
        """Something changed: note it, and redraw now, or as soon as ``DEBOUNCE`` has passed
        since the last redraw (so the last change of a burst is always drawn)."""
        with self._lock:
            self.events.append(event)
            if self._timer is not None or self._finished:
                return
            delay = max(0.0, self._last + DEBOUNCE - time.monotonic())
            self._timer = threading.Timer(delay, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            self._timer = None
            if self._finished:
                return
            self._last = time.monotonic()
        try:
            self.redraw()
        except Exception:
            pass  # the lab may be closing: the final picture is drawn by finish()

    def _view(self) -> Any:
        from ..render.view import TopologyView
        from ..state.diff import diff

        now = self.lab.snapshot()
        return TopologyView(now, diff(self.start, now))

    def redraw(self) -> None:
        from .topology import details_of

        with self._draw_lock:
            view = self._view()
            self.widget.svg = view.svg()
            self.widget.details = details_of(view.snapshot)
            self.redraws += 1

    def finish(self, failed: bool = False) -> None:
        """The final state, drawn once more and kept as a static copy in the cell's output."""
        with self._lock:
            self._finished = True
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        with self._draw_lock:
            view = self._view()
        picture = base64.b64encode(view.svg().encode()).decode()
        lines = [event_line(e) for e in self.events]
        title = tr("{title} (stopped)", title=self.title) if failed else self.title
        alt = localize(tr("the lab at the end"))
        listed = "\n".join(lines) or localize(count_text(self.noun, 0))
        body = (f'<div class="labkit-live-final">{_caption(title, self.events, self.noun)}'
                f'<img alt="{html.escape(alt)}" style="max-width:100%" src="data:image/svg+xml;base64,{picture}">'
                f"<pre>{html.escape(listed)}</pre></div>")
        if self.handle is not None:  # None outside IPython (nothing was displayed)
            self.handle.update({"text/html": body, "text/plain": "\n".join(lines)}, raw=True)


def count_text(noun: str, n: int) -> Text:
    """'3 changes', '1 port-state change', 'no change': how many events the picture saw."""
    if noun == "port-state change":
        if n == 0:
            return tr("no port-state change")
        return tr("{n} port-state change", n=n) if n == 1 else tr("{n} port-state changes", n=n)
    if n == 0:
        return tr("no change")
    return tr("{n} change", n=n) if n == 1 else tr("{n} changes", n=n)


def _caption(title: str, events: list[dict[str, Any]], noun: str) -> str:
    changed = f" · {html.escape(localize(count_text(noun, len(events))))}" if events else ""
    return f"<p><b>{html.escape(localize(title))}</b><small>{changed}</small></p>"
