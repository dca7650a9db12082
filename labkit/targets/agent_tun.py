"""Agent extension: tun/tap devices opened by a program the notebook drives.

Opening ``/dev/net/tun`` and asking for a device (TUNSETIFF) creates it; the file
descriptor is the device's other end. The agent holds the descriptor, so the
notebook reads the packets the kernel sends into the device and writes packets the
kernel will receive from it, over the agent's pipe. Closing the descriptor removes
a non-persistent device, exactly as when a VPN program or a VM exits.
"""

from __future__ import annotations

import base64
import fcntl
import os
import select
import struct
import time
from typing import Any

from ..errors import InvalidInput, NotFound, StepFailed
from ..i18n import tr
from ..kinds.tuntap import IFF_NO_PI, IFF_TAP, IFF_TUN, TUNSETIFF
from ..names import check_ifname
from . import nsutil
from .agent_api import Call, Handler, concurrent, exclusive
from .tunfile import open_tun


class TunExtension:
    """The open tun/tap handles of one agent: opened on the kernel thread, read concurrently."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent
        self.fds: dict[int, dict[str, Any]] = {}

    def handlers(self) -> dict[str, Handler]:
        return {"tun_open": exclusive(self.tun_open), "tun_read": concurrent(self.tun_read),
                "tun_write": exclusive(self.tun_write), "tun_close": exclusive(self.tun_close)}

    def tun_open(self, ns: str, name: str, mode: str = "tun") -> dict[str, Any]:
        check_ifname(name)
        if mode not in ("tun", "tap"):
            raise InvalidInput(tr("mode {mode!r} is unknown", mode=mode), hint=tr("use 'tun' or 'tap'"))
        self.agent.kernel.ipr(ns)  # the namespace must exist
        flags = (IFF_TUN if mode == "tun" else IFF_TAP) | IFF_NO_PI

        def open_device() -> int:
            fd = open_tun(flags=os.O_RDWR | os.O_CLOEXEC | os.O_NONBLOCK)
            try:
                fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), flags))
            except OSError:
                os.close(fd)
                raise
            return fd

        try:
            fd = nsutil.in_netns(self.agent.kernel.netns(ns), open_device)
        except OSError as exc:
            raise StepFailed(tr("cannot open {mode} device {name!r}: {error}", mode=mode, name=name, error=str(exc)),
                             where=tr("namespace {ns}", ns=ns),
                             hint=tr("a device of that name and another mode may exist already")) from None
        self.fds[fd] = {"ns": ns, "name": name, "mode": mode}
        return {"id": fd, "name": name, "mode": mode}

    def _fd(self, id: int) -> int:
        if id not in self.fds:
            raise NotFound(tr("no open tun/tap handle {id}", id=id), hint=tr("it was closed; open it again with lab.tun_open()"))
        return id

    def tun_read(self, call: Call, id: int, timeout: float = 1.0, max_packets: int = 64) -> list[str]:
        """Up to ``max_packets`` packets the kernel sent into the device within ``timeout`` s (cancellable)."""
        fd = self.agent.on_kernel(self._fd, id)
        packets: list[str] = []
        deadline = time.monotonic() + timeout
        while len(packets) < max_packets:
            call.check()
            wait = deadline - time.monotonic()
            if wait <= 0:
                break
            ready, _, _ = select.select([fd], [], [], min(wait, 0.1))
            if not ready:
                continue
            try:
                packets.append(base64.b64encode(os.read(fd, 65536)).decode())
            except BlockingIOError:
                continue
            except OSError:  # closed meanwhile
                break
        return packets

    def tun_write(self, id: int, data: str) -> int:
        return os.write(self._fd(id), base64.b64decode(data))

    def tun_close(self, id: int) -> bool:
        fd = self._fd(id)
        os.close(fd)
        del self.fds[fd]
        return True

    def cleanup(self) -> None:
        for fd in list(self.fds):
            os.close(fd)
            del self.fds[fd]


EXTENSION = TunExtension
