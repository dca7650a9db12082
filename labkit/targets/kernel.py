"""The kernel side of a lab: namespaces, one netlink socket each, and op execution.

This runs inside the agent (root, or root in a user namespace). Each op of a Step is
executed by a function of :mod:`.linkops` or :mod:`.ipops` that returns what it
changed and the ops that undo it, computed from the state it found. ``apply``
runs a Step's ops in order and, if one fails, undoes the ones already done, so a
failed step leaves nothing behind.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable, Mapping
from typing import Any

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from ..errors import (
    AlreadyExists,
    KernelLacks,
    LabkitError,
    NoPrivileges,
    NotFound,
    StepFailed,
    WrongNamespace,
)
from ..i18n import joined, tr
from ..kinds import module_of
from ..names import netns_name, split_netns_name
from ..steps.base import Op
from . import nsutil
from .done import Done, Executor
from .rtnl import NetlinkFailure, RawNetlink
from .texts import api

#: Device kinds and the kernel module that provides each (for KernelLacks hints).


SETTLE_TIMEOUT = 2.0  # seconds a step waits for devices it brought up to show their operstate


class Kernel:
    """The namespaces of one lab on this kernel, and the netlink sockets into them."""

    HOST = "host"

    def __init__(self, lab_id: str, executors: Mapping[str, Executor]) -> None:
        self.lab_id = lab_id
        self.executors = executors  # op action → the function that runs it (see .executors)
        self.host_attached = False
        self._sockets: dict[str, IPRoute] = {}
        self._readers: dict[str, RawNetlink] = {}
        #: who must hear of namespaces made or removed (live watches hold a socket in each:
        #: a socket keeps its namespace alive, so it must close before the namespace goes)
        self.watchers: list[Any] = []

    # -- namespaces ---------------------------------------------------------------
    def netns(self, label: str) -> str:
        return netns_name(self.lab_id, label)

    def labels(self) -> list[str]:
        """The lab's namespaces, 'main' first, as the kernel has them now."""
        found = []
        for name in nsutil.list_netns():
            parts = split_netns_name(name)
            if parts and parts[0] == self.lab_id:
                found.append(parts[1])
        return sorted(found, key=lambda label: (label != "main", label != "upstream", label))

    def has_ns(self, label: str) -> bool:
        return nsutil.netns_inode(self.netns(label)) is not None

    def create_ns(self, label: str) -> bool:
        try:
            made = nsutil.create_netns(self.netns(label))
        except PermissionError as exc:
            raise NoPrivileges(tr("cannot create namespace {label}: {error}", label=label, error=str(exc)),
                               hint=tr("run as root, allow `sudo -n`, or run `labkit doctor` to see what is missing")) from None
        if made:
            self.reader(label).set_up(1)  # lo, as every host has it
            for watcher in list(self.watchers):
                watcher.ns_added(label)
        return made

    def attach_host(self) -> None:
        """Name the agent's own namespace ``host`` (in a disposable VM only): steps may then
        change the guest's real eth0. Removing the lab only drops the name, never the namespace."""
        path = nsutil.netns_path(self.netns(self.HOST))
        if nsutil.netns_inode(self.netns(self.HOST)) is None:
            nsutil.bind_netns("/proc/self/ns/net", path)
        self.host_attached = True

    def delete_ns(self, label: str) -> bool:
        for watcher in list(self.watchers):
            watcher.ns_removed(label)
        if label == self.HOST and self.host_attached:
            for cache in (self._sockets, self._readers):
                sock = cache.pop(label, None)
                if sock is not None:
                    sock.close()
            return nsutil.delete_netns(self.netns(label))
        sock = self._sockets.pop(label, None)
        if sock is not None:
            sock.close()
        reader = self._readers.pop(label, None)
        if reader is not None:
            reader.close()
        self.kill_processes_in(label)
        return nsutil.delete_netns(self.netns(label))

    def kill_processes_in(self, label: str) -> list[int]:
        """End every process whose network namespace is this lab namespace (by PID)."""
        from .procs import pids_in_netns, terminate

        pids = pids_in_netns(self.netns(label))
        terminate(pids)
        return pids

    def close(self) -> None:
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()
        for reader in self._readers.values():
            reader.close()
        self._readers.clear()

    def _netlink_fd(self, label: str) -> int:
        """A new netlink socket inside namespace ``label``, which must exist."""
        if not nsutil.netns_inode(self.netns(label)):
            raise NotFound(tr("namespace {ns!r} does not exist", ns=label), where=tr("lab {lab_id}", lab_id=self.lab_id),
                           hint=tr("create it first with {call}; existing: {names}",
                                   call=api("lab.netns", label), names=", ".join(self.labels())))
        return nsutil.netlink_fd(self.netns(label))

    def reader(self, label: str) -> RawNetlink:
        """The fast read-only netlink socket into namespace ``label``."""
        reader = self._readers.get(label)
        if reader is None:
            reader = RawNetlink(self._netlink_fd(label))
            self._readers[label] = reader
        return reader

    def ipr(self, label: str) -> IPRoute:
        """The netlink socket into namespace ``label`` (opened once, then reused)."""
        sock = self._sockets.get(label)
        if sock is None:
            fd = self._netlink_fd(label)
            try:
                sock = IPRoute(fileno=fd, groups=0)
            except TypeError:  # pyroute2 < 0.9 (Debian bookworm's 0.7) has no `groups`
                sock = IPRoute(fileno=fd)
            self._sockets[label] = sock
        return sock

    # -- devices ------------------------------------------------------------------
    def link(self, label: str, name: str) -> dict[str, Any] | None:
        """The device ``name`` in ``label`` as a flattened netlink message, or None."""
        return self.reader(label).link(name)

    def index(self, label: str, name: str, role: str = tr("device")) -> int:
        """The ifindex of ``name`` in ``label``; a clear error if it is missing or elsewhere."""
        found = self.link(label, name)
        if found is not None:
            return int(found["index"])
        elsewhere = [other for other in self.labels() if other != label and self.link(other, name) is not None]
        if elsewhere:
            raise WrongNamespace(
                tr("{role} {name!r} is not in namespace {ns!r}; it is in {elsewhere}",
                   role=role, name=name, ns=label, elsewhere=", ".join(elsewhere)),
                where=tr("lab {lab_id}", lab_id=self.lab_id),
                hint=tr("pass {arg}, or move it with {call}", arg="ns=" + repr(elsewhere[0]), call=api("lab.move", name, label)))
        names = [str(itf.get("IFLA_IFNAME")) for itf in self.dump(label, "links")]
        raise NotFound(tr("{role} {name!r} does not exist in namespace {ns!r}", role=role, name=name, ns=label),
                       where=tr("lab {lab_id}", lab_id=self.lab_id),
                       hint=tr("devices there: {names}; create it first (e.g. lab.veth(...))", names=", ".join(names)))

    def dump(self, label: str, what: str) -> list[dict[str, Any]]:
        """A flattened dump of links, addrs, routes, fdb or neigh in ``label``."""
        return self.reader(label).dump(what)

    # -- running ops --------------------------------------------------------------
    def call(self, op: Op, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one netlink request, turning the kernel's errno into a labkit error."""
        try:
            return fn(*args, **kwargs)
        except NetlinkError as exc:
            raise self.explain(op, exc.code, str(exc)) from None
        except NetlinkFailure as exc:
            raise self.explain(op, exc.errno or 0, f"({exc.errno}, {exc.strerror!r})") from None

    def explain(self, op: Op, code: int, text: str) -> LabkitError:
        where = tr("namespace {ns}", ns=op.ns)
        kind = op.args.get("kind")
        if op.action == "link_add" and code == errno.EOPNOTSUPP and kind:
            return KernelLacks(
                tr("this kernel cannot make {kind} devices (module {module} is missing)", kind=kind, module=module_of(kind)),
                where=where, hint=tr("run this lab on the VM target: Lab.vagrant(), whose Debian kernel has it"))
        if code == errno.EEXIST:
            return AlreadyExists(tr("`{command}` failed: it already exists", command=op.command), where=where,
                                 hint=tr("delete it first, or use another name"))
        if code == errno.EPERM:
            return NoPrivileges(tr("`{command}` was refused: operation not permitted", command=op.command), where=where,
                                hint=tr("labkit needs root (or CAP_NET_ADMIN); run `labkit doctor`"))
        if code == errno.ENODEV:
            return NotFound(tr("`{command}` failed: no such device", command=op.command), where=where,
                            hint=tr("check the device names with lab.snapshot()"))
        return StepFailed(tr("`{command}` was refused by the kernel: {text}", command=op.command, text=text), where=where,
                          hint=tr("check the values against what this device kind accepts (an MTU range, a device that must be up "
                                  "or down first); nothing was changed"))

    def apply(self, ops: list[Op]) -> list[tuple[Op, Done]]:
        """Run ``ops`` in order; on failure undo the done ones and raise."""
        done: list[tuple[Op, Done]] = []
        for op in ops:
            run = self.executors.get(op.action)
            if run is None:
                self.rollback(done)
                raise StepFailed(tr("unknown op {action!r}", action=op.action), hint=tr("this agent is older than the library; restart the lab"))
            try:
                done.append((op, run(self, op)))
            except Exception as exc:  # any failure, even a bug of ours: the step is all or nothing
                failed = self.rollback(done)
                error = exc if isinstance(exc, LabkitError) else StepFailed(
                    tr("`{command}` failed: {error}", command=op.command, error=type(exc).__name__ + ": " + str(exc)),
                    where=tr("namespace {ns}", ns=op.ns), hint=tr("check the step's values"))
                if failed:
                    undone = tr("Undoing the step's earlier changes failed for: {failed} (lab.snapshot() shows what is left)",
                                failed=joined(failed))
                elif done:
                    undone = tr("The step's earlier changes were undone")
                if failed or done:
                    error.hint = tr("{hint}. {more}", hint=error.hint, more=undone) if error.hint else undone
                raise error from None
        self.settle([(op.ns, op.args["name"]) for op, d in done if op.action == "link_set" and op.args.get("up") and d.changed])
        return done

    def settle(self, devices: list[tuple[str, str]], timeout: float = SETTLE_TIMEOUT) -> list[str]:
        """Wait (a bounded time) until each device brought up shows its real operational state.

        ``ip link set up`` returns before the kernel's link watcher has moved the
        operstate from DOWN to UP, so a picture drawn at once would contradict the
        command. Settled means: UP, or no carrier (a veth whose peer is down, a tap
        nobody opened: DOWN is then the truth), or UNKNOWN (lo). The devices still
        settling when time runs out are returned, so the caller can say so."""
        deadline = time.monotonic() + timeout
        waiting = list(devices)
        while waiting:
            still = []
            for label, name in waiting:
                link = self.link(label, name) if self.has_ns(label) else None
                if link is not None and link.get("IFLA_OPERSTATE") not in ("UP", "UNKNOWN") and link.get("IFLA_CARRIER", 0):
                    still.append((label, name))
            waiting = still
            if not waiting or time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        return [f"{label}/{name}" for label, name in waiting]

    def rollback(self, done: list[tuple[Op, Done]]) -> list[str]:
        """Undo ``done`` in reverse order; the undo commands that failed, with why (never hidden)."""
        failed: list[str] = []
        for _op, result in reversed(done):
            for undo in result.undo:
                try:
                    self.apply([undo])
                except LabkitError as exc:
                    failed.append(tr("`{command}` ({reason})", command=undo.command, reason=exc.what))
        return failed
