"""Kernel tier: real namespaces on this kernel. Every fixture removes exactly what it made,
and the whole tier must leave the host's own namespace unchanged."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest

from labkit import Lab
from labkit.errors import NoPrivileges


def _privileged() -> str | None:
    from labkit.targets.local import choose_mode

    try:
        return choose_mode()
    except NoPrivileges as exc:
        return f"no privileges: {exc}"


_MODE = _privileged()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if _MODE not in ("root", "sudo", "rootless"):
        for item in items:
            if "kernel" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=f"kernel tier skipped: {_MODE}"))


def host_state() -> dict[str, object]:
    """The host namespace's links, addresses and routes, as `ip -j` prints them (no counters)."""
    state = {}
    for what in ("link", "addr", "route"):
        out = subprocess.run(["ip", "-j", what], capture_output=True, text=True, check=True).stdout
        state[what] = json.loads(out)
    return state


@pytest.fixture(scope="session", autouse=True)
def host_is_untouched() -> Iterator[None]:
    """Safety: the kernel tier leaves the host's root namespace exactly as it found it."""
    before = host_state()
    yield
    after = host_state()
    assert after == before, "the tests changed the host's own namespace"


@pytest.fixture
def lab() -> Iterator[Lab]:
    """A lab without the uplink (only `main`), removed afterwards."""
    with Lab(uplink=False) as made:
        yield made


@pytest.fixture
def uplink_lab() -> Iterator[Lab]:
    """A lab whose main namespace has eth0 to a simulated LAN (upstream) with gateway 192.168.3.1."""
    with Lab() as made:
        yield made
