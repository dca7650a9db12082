"""An agent that dies before it says anything (unshare refused, as on public Binder) gives one error,
not also a traceback from the connection's reader thread."""

from __future__ import annotations

import sys
import threading

from labkit.targets.client import AgentConnection


def test_the_reader_of_an_agent_that_died_at_once_ends_quietly() -> None:
    raised: list[BaseException | None] = []
    old_hook, old_interval = threading.excepthook, sys.getswitchinterval()
    threading.excepthook = lambda args: raised.append(args.exc_value)
    sys.setswitchinterval(1e-6)  # hand the CPU to the reader as soon as it starts, as a busy machine does
    try:
        for _ in range(30):
            connection = AgentConnection(["true"], what="agent that dies at once")
            connection._reader.join(5)
            connection.proc.wait(5)
    finally:
        threading.excepthook, _ = old_hook, sys.setswitchinterval(old_interval)
    assert raised == [], f"the reader thread raised: {raised[:1]}"
