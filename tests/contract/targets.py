"""Targets the contract runs against besides the ordinary local ones."""

from __future__ import annotations

import os
import shutil
import tempfile

from labkit.targets.base import AgentTarget
from labkit.targets.bundle import Offered, agent_bundle, bootstrap_argv, offer
from labkit.targets.client import AgentConnection

SYSTEM_PYTHON = "/usr/bin/python3"


class BootstrappedTarget(AgentTarget):
    """The agent started exactly as over SSH in the VM, but with a local python3 as the 'guest'.

    Its bundle store is a private temporary folder (removed on close) unless ``store`` is given."""

    name = "bootstrapped"

    def __init__(self, store: str | None = None, fork_server: bool = False) -> None:
        self.lab_id = f"bs{os.getpid() % 10000}"
        self._own_store = store is None
        self.store = store or tempfile.mkdtemp(prefix="labkit-bundles-")
        bundle = agent_bundle()
        connection = AgentConnection(bootstrap_argv(SYSTEM_PYTHON, self.lab_id, key=bundle.key, store=self.store,
                                                    target=self.name, fork_server=fork_server),
                                     handshake=lambda proc: offer(proc, bundle, timeout=60))
        assert isinstance(connection.handshake_result, Offered)
        self.offered: Offered = connection.handshake_result
        self.connect(connection)

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._own_store:
                shutil.rmtree(self.store, ignore_errors=True)
