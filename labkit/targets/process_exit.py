"""How an agent process leaves: output flushed, then at once (standard library only: the guest's bootstrap uses it)."""

from __future__ import annotations

import os
import sys
from typing import NoReturn


def flush_streams() -> None:
    """Write out what stdout and stderr still buffer (a closed pipe is not an error here)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def exit_now(code: int) -> NoReturn:
    """Leave at once, output flushed. The agent's stdin reader, a daemon thread blocked in a read, holds stdin's
    lock: a normal shutdown then dies with "could not acquire lock for <stdin>" (exit status 255, seen in the VM)."""
    flush_streams()
    os._exit(code)
