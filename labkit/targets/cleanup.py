"""Finding and removing what labs left behind (``labkit reset``), by lab id only.

A lab is its namespaces ``labkit-<id>-*`` plus the processes inside them, plus its
agent (``python -m labkit.targets.agent --lab-id <id>``). A lab is *orphaned* when
its namespaces exist but no agent for its id is running: a crash or ``kill -9``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..names import split_netns_name
from . import nsutil
from .bundle import AGENT_MODULE
from .procs import alive, pids_in_netns, terminate


@dataclass
class LabRemains:
    lab_id: str
    namespaces: list[str] = field(default_factory=list)
    agent_pids: list[int] = field(default_factory=list)
    process_pids: list[int] = field(default_factory=list)

    @property
    def orphaned(self) -> bool:
        return not any(alive(pid) for pid in self.agent_pids)


def agent_pids() -> dict[str, list[int]]:
    """Running agents by lab id, read from /proc/PID/cmdline."""
    found: dict[str, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                argv = fh.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if AGENT_MODULE in argv and "--lab-id" in argv:
            index = argv.index("--lab-id")
            if index + 1 < len(argv):
                found.setdefault(argv[index + 1], []).append(int(entry))
    return found


def survey() -> dict[str, LabRemains]:
    """Every lab on this machine: its namespaces, agents and processes."""
    labs: dict[str, LabRemains] = {}
    for netns in nsutil.list_netns():
        parts = split_netns_name(netns)
        if parts:
            remains = labs.setdefault(parts[0], LabRemains(parts[0]))
            remains.namespaces.append(netns)
            remains.process_pids += pids_in_netns(netns)
    for lab_id, pids in agent_pids().items():
        labs.setdefault(lab_id, LabRemains(lab_id)).agent_pids = pids
    return labs


def remove(remains: LabRemains) -> LabRemains:
    """End the lab's agent and processes (by PID) and delete its namespaces."""
    terminate([pid for pid in remains.agent_pids if pid != os.getpid()], grace=3.0)
    pids = sorted({pid for netns in remains.namespaces for pid in pids_in_netns(netns)} | set(remains.process_pids))
    terminate([pid for pid in pids if pid != os.getpid()])
    for netns in remains.namespaces:
        nsutil.delete_netns(netns)
    for leftover in Path(tempfile.gettempdir()).glob(f"labkit-{remains.lab_id}-*"):  # program logs, captures
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
    return remains
