"""A target for tests with no agent behind it (like httpx's ``MockTransport``).

``MockTarget(handler)`` answers each typed client call with ``handler(method, params)``,
so the Lab facade, checks and views can be tested without a kernel or root.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .agent_api import PROTOCOL_VERSION
from .agent_client import AgentClient

Handler = Callable[[str, dict[str, Any]], Any]


class MockSubscription:
    """A stream that has already ended."""

    done = True

    def cancel(self) -> None:
        pass

    def wait(self, timeout: float) -> bool:
        return True


class MockConnection:
    """Stands in for :class:`~labkit.targets.client.AgentConnection`: calls go to a function."""

    pid = 0

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.closed = False

    def call(self, method: str, params: dict[str, Any] | None = None, **_options: Any) -> Any:
        return self.handler(method, dict(params or {}))

    def subscribe(self, method: str, params: dict[str, Any], on_event: Callable[[dict[str, Any]], None]) -> MockSubscription:
        """The handler's answer, if a list, is the events (delivered at once); the stream then ends."""
        answer = self.handler(method, dict(params))
        for event in answer if isinstance(answer, list) else []:
            on_event(event)
        return MockSubscription()

    def hello(self) -> dict[str, Any]:
        return {"protocol": PROTOCOL_VERSION, "pid": 0, **(self.handler("hello", {}) or {})}

    def close(self) -> None:
        self.closed = True


class MockTarget:
    """A target whose agent is ``handler``; ``requests`` records every call."""

    name = "mock"

    def __init__(self, handler: Handler, lab_id: str = "mock01") -> None:
        self.lab_id = lab_id
        self.requests: list[tuple[str, dict[str, Any]]] = []

        def record(method: str, params: dict[str, Any]) -> Any:
            self.requests.append((method, params))
            return handler(method, params)

        self.connection = MockConnection(record)
        self.client = AgentClient(self.connection)  # type: ignore[arg-type]

    @property
    def closed(self) -> bool:
        return self.connection.closed

    def request(self, method: str, **params: Any) -> Any:
        return self.client.request(method, **params)

    def close(self) -> None:
        self.client.close()
