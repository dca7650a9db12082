"""What an agent extension sees: one request in flight (:class:`Call`) and the
:class:`Extension` protocol every extension implements.

The agent serves requests concurrently: each runs in its own worker thread, so a
long one (a ``ping -c 30``, a wait for STP, a capture read) never blocks a step or
a snapshot. Kernel work is serialised by ``agent.kernel_lock``: a handler declared
``exclusive`` runs entirely under it; a ``concurrent`` handler must take it itself,
briefly, around each kernel read, and spend its waiting time in ``call.sleep``.

A request can be cancelled (the learner pressed "Interrupt kernel"): ``call.cancelled``
is then set, ``call.sleep`` raises :class:`Cancelled`, and the handler stops what it
started. While it runs a handler may push events to the notebook with ``call.emit``;
they travel on the same pipe, tagged with the request's id.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import Interrupted
from ..i18n import Text, tr

#: The version of the wire protocol; ``hello`` says it and the client refuses a mismatch.
PROTOCOL_VERSION = 2
#: the hint of a request the agent cannot take as sent
DIFFER = tr("the agent and the library differ; start a new Lab()")


def intact(printed: str = "") -> Text:
    """The hint of an interrupted request: the lab is intact (and what the program had printed)."""
    return tr("your lab is intact; it had printed: {tail}", tail=printed) if printed else tr("your lab is intact")


class Cancelled(Interrupted):
    """Raised inside a handler when its request was cancelled."""


@dataclass
class Call:
    """One request being served: its id, a cancel flag and a way to push events."""

    id: int
    method: str
    emit_line: Callable[[dict[str, Any]], None] = field(repr=False, default=lambda _line: None)
    cancelled: threading.Event = field(default_factory=threading.Event)

    def emit(self, data: dict[str, Any]) -> None:
        """Send one event to the notebook, tagged with this request's id."""
        self.emit_line({"event": self.id, "data": data})

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or raise :class:`Cancelled` as soon as the request is cancelled."""
        if self.cancelled.wait(max(0.0, seconds)):
            raise Cancelled(tr("{method} was interrupted", method=self.method), hint=intact())

    def check(self) -> None:
        """Raise :class:`Cancelled` if the request was cancelled."""
        if self.cancelled.is_set():
            raise Cancelled(tr("{method} was interrupted", method=self.method), hint=intact())


@dataclass(frozen=True)
class Handler:
    """A request method: ``fn(**params)`` (or ``fn(call, **params)`` when ``wants_call``).

    ``exclusive`` handlers hold the kernel lock while they run (steps, snapshots);
    the others are long waits that take the lock themselves around kernel work."""

    fn: Callable[..., Any]
    exclusive: bool = True
    wants_call: bool = False


def exclusive(fn: Callable[..., Any]) -> Handler:
    """A short kernel operation, run under the kernel lock."""
    return Handler(fn, exclusive=True)


def concurrent(fn: Callable[..., Any]) -> Handler:
    """A long request, given the :class:`Call` as first argument; it takes the lock itself."""
    return Handler(fn, exclusive=False, wants_call=True)


class Extension(Protocol):
    """An agent extension (capture, tun, STP, ...): made with the agent, asked for its
    handlers once, and cleaned up when the lab ends (newest extension first)."""

    def handlers(self) -> dict[str, Handler]: ...

    def cleanup(self) -> None: ...
