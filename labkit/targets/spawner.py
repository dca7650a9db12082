"""Starting the agent's child processes so that none outlives the agent."""

from __future__ import annotations

import ctypes
import queue
import signal
import subprocess
import threading
from concurrent.futures import Future
from typing import Any

PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded once here: a forked child must not dlopen


def die_with_parent() -> None:
    """In a child, before exec: get SIGKILL when the agent dies, so no tcpdump or dnsmasq outlives it.

    Only an async-signal-safe prctl(2) through the libc handle loaded at import: no dlopen here."""
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def set_parent_death_signal(signum: int) -> None:
    """Ask the kernel to send ``signum`` to this process when its parent (thread) exits."""
    _LIBC.prctl(PR_SET_PDEATHSIG, signum)


class Spawner:
    """The one thread that starts every child process of the agent.

    A child's PR_SET_PDEATHSIG fires when the thread that forked it exits, so children
    are forked by this thread, which lives as long as the agent, never by a worker."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[list[str], dict[str, Any], Future[subprocess.Popen[bytes]]]] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="labkit-spawner", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            argv, kwargs, result = self._jobs.get()
            try:
                result.set_result(subprocess.Popen(argv, preexec_fn=die_with_parent, **kwargs))
            except BaseException as exc:
                result.set_exception(exc)

    def popen(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        """``subprocess.Popen(argv, **kwargs)``, forked by the spawner thread, dying with the agent."""
        if threading.current_thread() is self._thread:
            return subprocess.Popen(argv, preexec_fn=die_with_parent, **kwargs)
        result: Future[subprocess.Popen[bytes]] = Future()
        self._jobs.put((argv, kwargs, result))
        return result.result()
