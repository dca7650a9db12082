"""A tun/tap device whose user-space end is this notebook.

``dev = lab.tun_open("tun0", mode="tun")`` plays App2 of seed 000: ``dev.read()``
returns the next packet the kernel routed into tun0 (an IP packet for tun, an
Ethernet frame for tap), and ``dev.write(packet)`` hands a packet to the kernel as
if it had arrived on tun0. The device disappears when the handle is closed.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .targets.agent_client import AgentClient


class TunDevice:
    """The user-space end of a tun or tap device (the file descriptor of /dev/net/tun)."""

    def __init__(self, client: AgentClient, ns: str, name: str, mode: str) -> None:
        self.client, self.ns, self.name, self.mode = client, ns, name, mode
        self.id = int(client.tun_open(ns, name, mode)["id"])
        self.closed = False

    def read(self, timeout: float = 1.0) -> bytes | None:
        """The next packet, or None if none arrives within ``timeout`` seconds."""
        got = self.client.tun_read(self.id, timeout=timeout, max_packets=1)
        return base64.b64decode(got[0]) if got else None

    def read_all(self, timeout: float = 1.0, max_packets: int = 64) -> list[bytes]:
        """Every packet that arrives within ``timeout`` seconds (returns early at ``max_packets``)."""
        got = self.client.tun_read(self.id, timeout=timeout, max_packets=max_packets)
        return [base64.b64decode(p) for p in got]

    def write(self, packet: bytes | Any) -> int:
        """Hand ``packet`` (bytes, or a scapy packet) to the kernel as received on the device."""
        data = bytes(packet)
        return int(self.client.tun_write(self.id, base64.b64encode(data).decode()))

    def close(self) -> None:
        if not self.closed:
            self.client.tun_close(self.id)
            self.closed = True

    def __enter__(self) -> TunDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<TunDevice {self.mode} {self.ns}/{self.name}{' closed' if self.closed else ''}>"
