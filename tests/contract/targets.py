"""Targets the contract runs against besides the ordinary local ones."""

from __future__ import annotations

import os

from labkit.targets.base import AgentTarget
from labkit.targets.bundle import agent_zip, bootstrap_argv
from labkit.targets.client import AgentConnection

SYSTEM_PYTHON = "/usr/bin/python3"


class BootstrappedTarget(AgentTarget):
    """The agent started exactly as over SSH in the VM, but with a local python3 as the 'guest'."""

    name = "bootstrapped"

    def __init__(self) -> None:
        self.lab_id = f"bs{os.getpid() % 10000}"
        bundle = agent_zip()
        self.connect(AgentConnection(bootstrap_argv(SYSTEM_PYTHON, self.lab_id),
                                     preamble=f"{len(bundle)}\n".encode() + bundle))


