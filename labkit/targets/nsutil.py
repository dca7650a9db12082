"""Network namespaces from Python, without forking a helper per call.

A *named* network namespace (what ``ip netns add NAME`` makes) is a namespace kept
alive by a bind mount of ``/proc/<tid>/ns/net`` onto ``/run/netns/NAME``. Network
namespaces belong to tasks, i.e. threads, so a thread can ``unshare`` or ``setns``
into a namespace, do one thing there (create it, open a socket, read a sysctl) and
step back, leaving the rest of the process where it was. A socket stays in the
namespace it was created in, which is how the agent keeps one netlink socket per namespace.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import socket
import threading
from collections.abc import Callable
from typing import TypeVar

CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MS_REC = 16384
MS_SHARED = 1 << 20
MNT_DETACH = 2
NETNS_RUN_DIR = "/run/netns"
NETLINK_ROUTE = 0

T = TypeVar("T")
_RUN_DIR_READY = False
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str, target: str, fstype: str | None, flags: int) -> None:
    _check(
        _libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags, None),
        f"mount {source} on {target}",
    )


def netns_path(netns: str) -> str:
    return os.path.join(NETNS_RUN_DIR, netns)


def _home() -> int:
    return os.open(f"/proc/self/task/{threading.get_native_id()}/ns/net", os.O_RDONLY | os.O_CLOEXEC)


def _go_home(home: int) -> None:
    try:
        _check(_libc.setns(home, CLONE_NEWNET), "setns back home")
    finally:
        os.close(home)


def in_netns(netns: str, fn: Callable[[], T]) -> T:
    """Run ``fn`` with this thread inside the named namespace ``netns``, then come back.

    Only the calling thread moves (network namespaces are per task), and it always
    returns to the namespace it came from, even when ``fn`` raises."""
    fd = os.open(netns_path(netns), os.O_RDONLY | os.O_CLOEXEC)
    home = _home()
    try:
        _check(_libc.setns(fd, CLONE_NEWNET), f"setns into {netns}")
    except OSError:
        os.close(home)
        raise
    finally:
        os.close(fd)
    try:
        return fn()
    finally:
        _go_home(home)


def _ensure_run_dir() -> None:
    """Make /run/netns a shared mount point, as ``ip netns add`` does, so that
    namespaces made here are seen from other mount namespaces too."""
    global _RUN_DIR_READY
    if _RUN_DIR_READY:
        return
    _RUN_DIR_READY = True
    os.makedirs(NETNS_RUN_DIR, mode=0o755, exist_ok=True)
    with open("/proc/self/mountinfo", encoding="utf-8") as mounts:
        if any(line.split()[4] == NETNS_RUN_DIR for line in mounts):
            return
    try:
        _mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC)
        _mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC)
    except OSError:
        pass  # a plain directory still works inside one mount namespace


def create_netns(netns: str) -> bool:
    """Create the named namespace; False if it already exists."""
    _ensure_run_dir()
    path = netns_path(netns)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0o444)
    except FileExistsError:
        return False
    os.close(fd)

    home = _home()
    try:
        _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
        try:
            _mount(f"/proc/self/task/{threading.get_native_id()}/ns/net", path, "none", MS_BIND)
        finally:
            _go_home(home)
    except OSError:
        os.unlink(path)
        raise
    return True


def bind_netns(source: str, path: str) -> None:
    """Give an existing namespace (e.g. ``/proc/self/ns/net``) a name under /run/netns."""
    _ensure_run_dir()
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o444)
    os.close(fd)
    _mount(source, path, "none", MS_BIND)


def delete_netns(netns: str) -> bool:
    """Unmount and remove the named namespace; False if it was not there.

    The namespace itself dies once no process, socket or mount holds it."""
    path = netns_path(netns)
    if not os.path.exists(path):
        return False
    if _libc.umount2(path.encode(), MNT_DETACH) != 0 and ctypes.get_errno() not in (errno.EINVAL, errno.ENOENT):
        _check(-1, f"umount {path}")
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    return True


def list_netns() -> list[str]:
    try:
        return sorted(os.listdir(NETNS_RUN_DIR))
    except FileNotFoundError:
        return []


def netns_inode(netns: str) -> int | None:
    """The inode that identifies the namespace (compare with /proc/PID/ns/net)."""
    try:
        return os.stat(netns_path(netns)).st_ino
    except OSError:
        return None


def netlink_fd(netns: str) -> int:
    """A NETLINK_ROUTE socket opened inside ``netns``; returns its file descriptor."""

    def open_socket() -> int:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_ROUTE)
        return sock.detach()

    return in_netns(netns, open_socket)


def read_sysctl(netns: str, keys: list[str]) -> dict[str, str]:
    """Read sysctls such as 'net.ipv4.ip_forward' as seen inside ``netns``."""

    def read() -> dict[str, str]:
        values = {}
        for key in keys:
            try:
                with open("/proc/sys/" + key.replace(".", "/"), encoding="ascii") as fh:
                    values[key] = fh.read().strip()
            except OSError:
                continue
        return values

    return in_netns(netns, read)


def write_sysctl(netns: str, key: str, value: str) -> str:
    """Set one sysctl inside ``netns``; returns the old value."""

    def write() -> str:
        path = "/proc/sys/" + key.replace(".", "/")
        with open(path, encoding="ascii") as fh:
            old = fh.read().strip()
        with open(path, "w", encoding="ascii") as fh:
            fh.write(value)
        return old

    return in_netns(netns, write)


def list_sysctl_dir(netns: str, directory: str) -> list[str]:
    """Names under a /proc/sys directory (e.g. the per-interface 'net/ipv4/conf')."""
    return in_netns(netns, lambda: sorted(os.listdir("/proc/sys/" + directory)))
