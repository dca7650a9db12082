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
from ..names import check_ifname
from . import nsutil

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_TAP, IFF_NO_PI = 0x0001, 0x0002, 0x1000


def register(agent: Any) -> None:
    fds: dict[int, dict[str, Any]] = {}

    def tun_open(ns: str, name: str, mode: str = "tun") -> dict[str, Any]:
        check_ifname(name)
        if mode not in ("tun", "tap"):
            raise InvalidInput(f"mode {mode!r} is unknown", hint="use 'tun' or 'tap'")
        agent.kernel.ipr(ns)  # the namespace must exist
        flags = (IFF_TUN if mode == "tun" else IFF_TAP) | IFF_NO_PI

        def open_device() -> int:
            fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC | os.O_NONBLOCK)
            try:
                fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), flags))
            except OSError:
                os.close(fd)
                raise
            return fd

        try:
            fd = nsutil.in_netns(agent.kernel.netns(ns), open_device)
        except FileNotFoundError:
            raise NotFound("/dev/net/tun is missing", hint="load the tun module or use the VM target") from None
        except OSError as exc:
            raise StepFailed(f"cannot open {mode} device {name!r}: {exc}", where=f"namespace {ns}",
                             hint="a device of that name and another mode may exist already") from None
        fds[fd] = {"ns": ns, "name": name, "mode": mode}
        return {"id": fd, "name": name, "mode": mode}

    def _fd(id: int) -> int:
        if id not in fds:
            raise NotFound(f"no open tun/tap handle {id}", hint="it was closed; open it again with lab.tun_open()")
        return id

    def tun_read(id: int, timeout: float = 1.0, max_packets: int = 64) -> list[str]:
        fd = _fd(id)
        packets: list[str] = []
        deadline = time.monotonic() + timeout
        while len(packets) < max_packets:
            wait = deadline - time.monotonic()
            if wait <= 0:
                break
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                break
            try:
                packets.append(base64.b64encode(os.read(fd, 65536)).decode())
            except BlockingIOError:
                continue
        return packets

    def tun_write(id: int, data: str) -> int:
        return os.write(_fd(id), base64.b64decode(data))

    def tun_close(id: int) -> bool:
        fd = _fd(id)
        os.close(fd)
        del fds[fd]
        return True

    def close_all() -> None:
        for fd in list(fds):
            os.close(fd)
            del fds[fd]

    agent.handlers.update(tun_open=tun_open, tun_read=tun_read, tun_write=tun_write, tun_close=tun_close)
    agent.cleanups.append(close_all)
