"""Agent extension: watch the lab's namespaces change, as it happens (``watch``).

A NETLINK_ROUTE socket belongs to the namespace it was created in, and one bound to the
multicast groups of links, addresses, routes and neighbours hears every change the kernel
makes there: no polling. ``watch`` opens one such socket inside each of the lab's
namespaces (on the kernel thread, which steps into each namespace to create it), pushes
one small event per change (:mod:`.rtnl_events` decodes them) and stops when the
subscription is cancelled or the lab ends. A namespace made during the watch is watched
from its first step on; one removed is let go first (an open socket would keep it alive).

Events: ``{"what": "ready"}`` once every socket listens, then ``{ns, what: link|addr|route|
neigh|netns, name, summary, t}`` (``t`` the target's clock).
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
from typing import Any

from . import nsutil
from .agent_api import Call, Handler, concurrent
from .rtnl_events import GROUPS, Decoder

TICK = 0.1  # seconds: how soon a cancelled watch notices


def open_watch_socket(netns: str) -> socket.socket:
    """A NETLINK_ROUTE socket inside ``netns`` bound to the groups :data:`GROUPS`."""
    sock = socket.socket(fileno=nsutil.netlink_fd(netns))
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.bind((0, GROUPS))
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class _Watch:
    """One ``watch`` request: a socket and a decoder per namespace, and a pipe to wake it."""

    def __init__(self, call: Call, kernel: Any) -> None:
        self.call, self.kernel = call, kernel
        self.lock = threading.Lock()
        self.socks: dict[str, tuple[socket.socket, Decoder]] = {}
        self.closing: list[tuple[str, threading.Event]] = []
        self.wake_r, self.wake_w = os.pipe()
        self.stopped = threading.Event()
        self.finished = threading.Event()

    # -- on the kernel thread -----------------------------------------------------
    def open(self, label: str) -> None:
        sock = open_watch_socket(self.kernel.netns(label))
        decoder = Decoder(label)
        decoder.seed(self.kernel.reader(label).dump("links"))
        with self.lock:
            self.socks[label] = (sock, decoder)
        self._wake()

    def ns_added(self, label: str) -> None:
        """A namespace was made: listen there too (before the step's next op runs)."""
        if self.stopped.is_set() or label in self.socks:
            return
        self.open(label)
        self.call.emit({"ns": label, "what": "netns", "name": label, "summary": f"namespace {label} added", "t": time.time()})

    def ns_removed(self, label: str) -> None:
        """A namespace is going: close its socket first, or it would keep the namespace alive."""
        with self.lock:
            if label not in self.socks or self.finished.is_set():
                return
            done = threading.Event()
            self.closing.append((label, done))
        self._wake()
        done.wait(2.0)

    def _wake(self) -> None:
        if self.finished.is_set():
            return
        try:
            os.write(self.wake_w, b"x")
        except OSError:
            pass

    # -- on the request's own thread ------------------------------------------------
    def run(self) -> int:
        sent = 0
        self.call.emit({"what": "ready", "namespaces": sorted(self.socks)})
        try:
            while not self.stopped.is_set() and not self.call.cancelled.is_set():
                with self.lock:
                    by_fd = {sock.fileno(): (sock, dec) for sock, dec in self.socks.values()}
                readable, _, _ = select.select([self.wake_r, *by_fd], [], [], TICK)
                if self.wake_r in readable:
                    os.read(self.wake_r, 4096)
                    self._close_requested()
                    continue
                for fd in readable:
                    sock, decoder = by_fd[fd]
                    for event in self._drain(sock, decoder):
                        event["t"] = time.time()
                        self.call.emit(event)
                        sent += 1
        finally:
            self.close()
        return sent

    def close(self) -> None:
        with self.lock:
            if self.finished.is_set():
                return
            self.finished.set()
            for sock, _dec in self.socks.values():
                sock.close()
            self.socks.clear()
            for _label, done in self.closing:
                done.set()
        os.close(self.wake_r)
        os.close(self.wake_w)

    def _close_requested(self) -> None:
        with self.lock:
            for label, done in self.closing:
                entry = self.socks.pop(label, None)
                if entry is not None:
                    entry[0].close()
                done.set()
                self.call.emit({"ns": label, "what": "netns", "name": label, "summary": f"namespace {label} removed",
                                "t": time.time()})
            self.closing.clear()

    @staticmethod
    def _drain(sock: socket.socket, decoder: Decoder) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        while True:
            try:
                data = sock.recv(1 << 20)
            except BlockingIOError:
                return events
            except OSError as exc:  # ENOBUFS: the kernel dropped notifications (a burst); say so
                events.append({"ns": decoder.ns, "what": "overflow", "name": "", "summary": f"some changes were not seen ({exc.strerror})"})
                return events
            events += decoder.decode(data)


class WatchExtension:
    """``watch``: a streaming request, one event per kernel change in the lab's namespaces."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent
        self.watches: list[_Watch] = []

    def handlers(self) -> dict[str, Handler]:
        return {"watch": concurrent(self.watch)}

    def cleanup(self) -> None:
        """The lab ends: stop every watch and wait until its sockets are closed."""
        for watch in list(self.watches):
            watch.stopped.set()
            watch._wake()
        for watch in list(self.watches):
            watch.finished.wait(2.0)

    def watch(self, call: Call) -> dict[str, Any]:
        watch = _Watch(call, self.agent.kernel)

        def start() -> None:  # on the kernel thread: no namespace can come or go meanwhile
            for label in self.agent.kernel.labels():
                watch.open(label)
            self.agent.kernel.watchers.append(watch)

        self.watches.append(watch)
        try:
            self.agent.on_kernel(start)
            return {"events": watch.run()}
        finally:
            watch.close()  # (run() has closed it, unless start failed)
            self.agent.on_kernel(self._forget, watch)

    def _forget(self, watch: _Watch) -> None:
        if watch in self.agent.kernel.watchers:
            self.agent.kernel.watchers.remove(watch)
        if watch in self.watches:
            self.watches.remove(watch)


EXTENSION = WatchExtension
