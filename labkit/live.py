"""``with lab.live():`` — the lab's picture follows the kernel while the cell runs.

The agent listens to rtnetlink inside each of the lab's namespaces (:mod:`labkit.targets.agent_watch`):
every device that appears, goes up or down or joins a bridge, every address, route and
neighbour entry, every bridge port that moves listening → learning → forwarding is one
event, pushed to the notebook as it happens. In a notebook the picture is shown at once and
redrawn on those events (:class:`labkit.widgets.live.LiveTopology`), what changed since the
``with`` began highlighted; when the block ends the final picture and the list of changes stay
in the output. In plain Python nothing is drawn: the events are recorded (``live.events``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from .i18n import received, tr


class LiveWatch:
    """A watch of the lab's kernel changes for the length of a ``with`` block."""

    def __init__(self, lab: Any, *, show: bool | None = None, title: str = "") -> None:
        from .ipython import in_a_notebook

        self.lab = lab
        self.show = in_a_notebook() if show is None else show
        self.title = title or tr("live: the lab as the kernel changes it")
        self.events: list[dict[str, Any]] = []
        self.picture: Any = None
        self._sub: Any = None
        self._start = 0.0
        self._arrived = threading.Condition()

    def __enter__(self) -> LiveWatch:
        if self.show:
            from .widgets.live import LiveTopology

            self.picture = LiveTopology(self.lab, self.title)
        self._start = time.monotonic()
        try:
            self._sub = self.lab.target.client.watch(self._on_event)
        except BaseException:
            if self.picture is not None:
                self.picture.finish(failed=True)
            raise
        return self

    def _on_event(self, event: dict[str, Any]) -> None:
        event["at"] = round(time.monotonic() - self._start, 3)
        with self._arrived:
            self.events.append(event)
            self._arrived.notify_all()
        if self.picture is not None:
            self.picture.on_event(event)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop(failed=kind is not None)

    def stop(self, failed: bool = False) -> None:
        """Stop listening (the agent closes its sockets) and leave the final picture in the output."""
        if self._sub is not None and not self._sub.done:
            self._sub.cancel()
        if self.picture is not None:
            self.picture.finish(failed=failed)
            self.picture = None

    @property
    def running(self) -> bool:
        return self._sub is not None and not self._sub.done

    def summaries(self) -> list[str]:
        """Each change as 'ns: summary' (the list the final picture shows)."""
        return [f"{e.get('ns')}: {received(e, 'summary')}" for e in self.events]

    def wait_for(self, match: Callable[[dict[str, Any]], bool], timeout: float = 1.0, since: int = 0) -> dict[str, Any] | None:
        """The first event from index ``since`` on for which ``match`` is true, waiting up to ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for event in self.events[since:]:
                    if match(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._arrived.wait(left)


def live(lab: Any, *, show: bool | None = None, title: str = "") -> LiveWatch:
    """``with lab.live():`` — the picture redraws while the block's steps change the kernel (links,
    addresses, routes, neighbours, bridge port states, as rtnetlink reports them), changes since the
    block began highlighted; the final picture and the list of changes stay in the output. Outside a
    notebook (or ``show=False``) the changes are only recorded: ``live.events``."""
    return LiveWatch(lab, show=show, title=title)
