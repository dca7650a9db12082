"""Finding and ending processes, always by PID, never by name.

A lab's processes are those whose network namespace is one of the lab's, which is
what ``/proc/PID/ns/net`` says; ``labkit reset`` uses exactly that, so it can never
end a process of the host or of another lab.
"""

from __future__ import annotations

import os
import signal
import time

from . import nsutil


def pids_in_netns(netns: str) -> list[int]:
    """PIDs of processes whose network namespace is the named namespace ``netns``."""
    inode = nsutil.netns_inode(netns)
    if inode is None or inode == _init_netns_inode():
        return []  # never the processes of the machine's own namespace (a VM's 'host' label points there)
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            if os.stat(f"/proc/{entry}/ns/net").st_ino == inode:
                found.append(int(entry))
        except OSError:
            continue
    return found


def _init_netns_inode() -> int | None:
    try:
        return os.stat("/proc/1/ns/net").st_ino
    except OSError:
        return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def terminate(pids: list[int], grace: float = 1.0) -> None:
    """SIGTERM each PID, then SIGKILL those still alive after ``grace`` seconds."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.02)
    for pid in pids:
        if alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
