"""Waiting for STP to converge, watched live.

A port that joins an STP bridge goes listening → learning → forwarding (or ends blocking),
``forward_delay`` seconds in each middle state. The agent polls the port states and reports
each change as it happens; converged means every port forwards or blocks and the STP
bridges agree on one root. In a notebook the lab's picture is shown at once and redrawn on
each change (:class:`labkit.widgets.live.LiveTopology`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .errors import StepFailed
from .i18n import Text, tr
from .names import split_ref


def wait_stp(lab: Any, bridges: Iterable[str], *, timeout: float = 60.0, min_time: float = 1.0,
             show: bool | None = None) -> dict[str, Any]:
    """Wait for ``bridges`` ('br0' or 'sw2/br0') to settle; see :meth:`labkit.Lab.wait_stp`.

    Waits at least ``min_time`` seconds: a bridge notices a port's carrier change up to a second
    late. "Interrupt kernel" stops the wait (the lab stays as it was). Returns {'converged',
    'elapsed', 'events': [{'t', 'port', 'bridge', 'state'}], 'states'}; raises :class:`StepFailed`,
    saying what is still moving, when ``timeout`` passes first."""
    from .ipython import in_a_notebook

    names = list(bridges)
    pairs = [list(split_ref(b, what="bridge")) for b in names]
    live = None
    if show or (show is None and in_a_notebook()):
        from .widgets.live import LiveTopology

        live = LiveTopology(lab, tr("STP: waiting for {bridges}", bridges=", ".join(names)), noun="port-state change")
    try:
        result = lab.target.client.stp_wait(pairs, timeout=timeout, min_time=min_time,
                                            on_event=live.on_event if live else None)
    finally:
        if live is not None:
            live.finish()
    if not result.get("converged"):
        why = Text.from_data(result["reason_text"]) if result.get("reason_text") else result.get("reason")  # ids cross the pipe
        raise StepFailed(tr("STP did not settle within {timeout:g} s: {reason}", timeout=timeout, reason=why),
                         where=", ".join(names), hint=tr("are the links up and the bridges' STP on? a wait longer than "
                                                         "twice forward_delay plus max_age (the kernel's defaults: 2 × 15 + 20 s) "
                                                         "may be needed"))
    return dict(result)
