"""The one interface between the library and a place with a kernel: a Target.

A target runs one agent (see :mod:`.agent`) and forwards requests to it. Only code
under ``targets/`` starts processes or opens connections; everything else in
labkit talks to a Target, so tests can give it a fake one.
"""

from __future__ import annotations

from typing import Any, Protocol

from .agent_client import AgentClient, Hello
from .client import AgentConnection


class Target(Protocol):
    """Where a lab runs: a started agent (``client``), its name, and ``close``."""

    name: str
    lab_id: str
    client: AgentClient

    def request(self, method: str, **params: Any) -> Any: ...

    def close(self) -> None: ...


class AgentTarget:
    """What every target shares once its agent runs: the typed client, and closing it.

    A subclass only has to start the agent: ``self.connect(AgentConnection(argv, ...))``."""

    name = "agent"
    lab_id = ""
    client: AgentClient
    info: Hello

    def connect(self, connection: AgentConnection) -> None:
        self.client = AgentClient(connection)
        try:
            self.info = self.client.hello()
        except BaseException:
            connection.close()
            raise

    @property
    def agent_pid(self) -> int:
        """The agent's PID on the target (in the VM for the Vagrant target)."""
        return int(self.info["pid"])

    @property
    def process_pid(self) -> int:
        """The PID of the local process that carries the conversation (the agent, or ssh)."""
        return self.client.connection.pid

    def request(self, method: str, **params: Any) -> Any:
        """Any agent request by name (protocol tests; the library uses ``client``'s typed methods)."""
        return self.client.request(method, **params)

    def close(self) -> None:
        self.client.close()
