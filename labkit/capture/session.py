"""A capture session: one tcpdump per device of the lab, read back as pcap and decoded.

::

    with lab.capture("veth1", "lo", filter="icmp") as cap:   # returns once every tcpdump listens
        lab.run("ping", "-c", "2", "-I", "veth0", "20.1.0.11")
    cap.counts()        # {'main/veth1': 2, 'main/lo': 2}: requests on veth1, replies on lo
    lab.show(cap)       # the topology with the devices that saw the packets coloured
    cap.save("captures/")     # one .pcap per device, and capture.pcapng with them all, for Wireshark

Each tcpdump runs on the target, inside the device's namespace, and writes a pcap
file there (see :mod:`labkit.targets.agent_capture`). This object reads those files
by offset through the target, so it works the same for the local sandbox and a VM.
A capture ends when the ``with`` block ends, when every device has seen ``count``
packets (tcpdump ``-c``), or when ``duration`` seconds have passed, whichever is
first. ``wait()`` blocks until then: a notebook cell that waits keeps the panes'
final packets when the notebook is executed headless.

*One time window for every pane.* The tcpdumps of a capture start one after another
and are stopped one after another, so each file covers a slightly different span: in
lab 04 the kernel's third ARP probe came 2.05 s in, after `veth0`'s tcpdump had been
stopped and before `br0`'s was, and the panes showed three replies on `br0` but two on
`veth0`. So the panes, ``counts()``, ``frames()``, ``packets()`` and ``summaries()``
all show one window: from the moment the last tcpdump listens (``t0``) to the moment
the stop was requested (``t_end``), both read on the target's clock, the clock that
stamps the packets. A packet outside it is still in the device's .pcap file (what
tcpdump wrote is saved unchanged) and counted in ``stats()`` as ``outside``; the pane
says how many. A frame switched across the end of the window (on one device a few
microseconds before ``t_end``, on the next one after) can still be on one side only.
"""

from __future__ import annotations

import base64
import os
import shlex
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import Interrupted, InvalidInput, LabkitError
from ..i18n import localize, tr
from ..ipython import in_a_notebook
from ..names import check_filter, netns_name, split_ref
from .decode import Frame
from .device import DeviceCapture

READ_CHUNK = 1 << 20
COUNT_GRACE = 10.0  # seconds a `with` block waits for `count` packets when no duration is given


def split_device(spec: str) -> tuple[str, str]:
    """'veth1' → ('main', 'veth1'); 'h1/eth0' → ('h1', 'eth0') (:func:`labkit.names.split_ref`, checked)."""
    return split_ref(spec)


__all__ = ["COUNT_GRACE", "Capture", "DeviceCapture", "split_device"]


class Capture:
    """tcpdump on several devices of a lab at once, as one capture (see the module docstring)."""

    def __init__(self, lab: Any, devices: Iterable[str], *, filter: str = "", count: int | None = None,
                 duration: float | None = None, snaplen: int = 262144, start: bool = True,
                 poll_interval: float = 0.1, live: bool = True, show: bool | None = None) -> None:
        names = list(devices)
        if not names:
            raise InvalidInput(tr("a capture needs at least one device"), hint=tr("e.g. lab.capture('veth1', 'lo')"))
        if count is not None and count < 1:
            raise InvalidInput(tr("count={count} captures nothing", count=count), hint=tr("give a positive number of packets or None"))
        if duration is not None and duration <= 0:
            raise InvalidInput(tr("duration={duration} is not a time", duration=duration), hint=tr("give seconds > 0, or None"))
        self.lab = lab
        self.filter = check_filter(filter)  # refused here already: one starting with '-' would be a tcpdump option
        self.count = count
        self.duration = duration
        self.snaplen = snaplen
        self.poll_interval = poll_interval
        self.devices: dict[str, DeviceCapture] = {}
        for spec in names:
            ns, dev = split_device(spec)
            self.devices.setdefault(f"{ns}/{dev}", DeviceCapture(ns, dev))
        self.started_at: float | None = None
        self.stopped_at: float | None = None
        self.t0: float | None = None  # the window (module docstring), on the target's clock
        self.t_end: float | None = None
        self.listeners: list[Callable[[Capture], None]] = []
        self.live = live
        self.show = show  # None: show live panes when running in a notebook
        self._live_display: Any = None
        self._feed_lock = threading.Lock()  # the live stream and the reads feed the same pcap streams
        self._follow: Any = None
        self._wireshark: Any = None
        if start:
            self.start()

    # -- lifecycle ----------------------------------------------------------------
    @property
    def target(self) -> Any:
        return self.lab.target

    @property
    def client(self) -> Any:
        return self.lab.target.client

    @property
    def running(self) -> bool:
        return self.started_at is not None and self.stopped_at is None

    def start(self) -> Capture:
        """Start every tcpdump, then wait until all of them are listening."""
        if self.started_at is not None:
            return self
        snap = self.lab.snapshot()
        for cap in self.devices.values():
            itf = snap.interface(cap.dev, cap.ns)
            if itf is not None:
                cap.mac, cap.is_port = itf.mac, bool(itf.master)
        started: list[DeviceCapture] = []
        try:
            for cap in self.devices.values():
                info = self.client.capture_start(cap.ns, cap.dev, filter=self.filter, snaplen=self.snaplen,
                                                 count=self.count, wait=False)
                cap.id, cap.pid, cap.argv = info["id"], int(info["pid"]), [str(a) for a in info.get("argv", [])]
                started.append(cap)
            ready = self.client.capture_ready([c.id for c in started])
        except BaseException as exc:
            for cap in started:
                try:
                    self.client.capture_remove(cap.id)
                except LabkitError:
                    pass
            if isinstance(exc, KeyboardInterrupt):  # "Interrupt kernel" while the tcpdumps started (a busy machine)
                raise Interrupted(tr("interrupted while the capture was starting: nothing was captured"),
                                  hint=tr("your lab is intact; run the cell again")) from None
            raise
        for cap, info in zip(started, ready, strict=True):
            cap.link_type = info.get("link_type", "")
            cap.pid, cap.argv = int(info.get("pid", cap.pid)), [str(a) for a in info.get("argv", cap.argv)]  # rootless: relaunched
        listening = [float(info["listening_at"]) for info in ready if info.get("listening_at") is not None]
        self.t0 = max(listening) if listening else None
        for cap in started:
            cap.window = (self.t0, None)
        self.started_at = time.time()
        if self.live:
            by_id = {cap.id: cap for cap in started}
            self._follow = self.client.capture_follow([cap.id for cap in started], lambda data: self._on_data(by_id, data))
        if self.show or (self.show is None and in_a_notebook()):
            self._show_live()
        return self

    def _show_live(self) -> None:
        """Panes shown at once, under the cell, that fill while the traffic runs (``lab.view(cap)`` takes their place)."""
        from IPython.display import display

        self._live_display = display(self.panes(), display_id=True)

    def hide_live(self) -> None:
        """Take the live panes away: the cell view that follows shows the same packets with the picture."""
        if self._live_display is not None:
            self._live_display.update({"text/plain": ""}, raw=True)
            self._live_display = None

    def poll(self) -> int:
        """Read what the tcpdumps wrote since the last poll; the number of new frames."""
        new = 0
        for cap in self.devices.values():
            if cap.id and (cap.running or not cap.stream.complete or self.stopped_at is None):
                new += self._read(cap)
        if new:
            self._notify()
        return new

    def _on_data(self, by_id: dict[str, DeviceCapture], event: dict[str, Any]) -> None:
        """A live event from the agent (in the client's reader thread): new pcap bytes of one device."""
        cap = by_id.get(event.get("id", ""))
        if cap is None:
            return
        with self._feed_lock:
            if int(event.get("offset", -1)) != len(cap.stream.raw):
                return  # already read by a poll: the bytes are in the stream
            frames = cap.stream.feed(base64.b64decode(event.get("data", "")))
            kept = cap.keep(frames)
        if kept:
            self._notify()

    def _read(self, cap: DeviceCapture) -> int:
        """Read what is new in ``cap``'s pcap file on the target. The lock is never held across the
        round trip: live events (another thread) feed the same stream meanwhile."""
        new = 0
        while True:
            with self._feed_lock:
                offset = len(cap.stream.raw)
            answer = self.client.capture_read(cap.id, offset=offset, max_bytes=READ_CHUNK)
            data = base64.b64decode(answer["data"])
            with self._feed_lock:
                if offset == len(cap.stream.raw):  # else a live event fed these bytes already
                    new += cap.keep(cap.stream.feed(data))
            cap.running = bool(answer["running"])
            if not cap.running and answer.get("stats"):
                cap.stats = dict(answer["stats"])
            if len(data) < READ_CHUNK:
                return new

    def wait(self, timeout: float | None = None) -> Capture:
        """Block until the capture ends (``count`` reached on every device, or ``duration``), then stop it.

        Without ``count`` and ``duration`` a capture has no end of its own: ``wait`` stops it
        after ``timeout`` seconds (at once when None)."""
        if self.started_at is None:
            self.start()
        try:
            self._wait(timeout)
        except (KeyboardInterrupt, Interrupted):  # "Interrupt kernel" during the wait: stop the tcpdumps, keep what they saw
            self.stop()
            raise Interrupted(tr("interrupted: the capture was stopped"), hint=tr("your lab is intact; the packets captured so far are kept")) from None
        return self.stop()

    def _wait(self, timeout: float | None) -> None:
        begun = time.monotonic()
        while self.running:
            self.poll()
            if all(not cap.running for cap in self.devices.values()):
                break
            now = time.monotonic()
            if self.duration is not None and self.started_at is not None and time.time() >= self.started_at + self.duration:
                break
            if self.count is None and self.duration is None and (timeout is None or now - begun >= timeout):
                break
            if timeout is not None and now - begun >= timeout:
                break
            time.sleep(self.poll_interval)

    def stop(self) -> Capture:
        """Stop every tcpdump (SIGINT: it then reports its counts), read the rest, and free the target's files."""
        if not self.running:
            return self
        requested = []
        for cap in self.devices.values():
            answer = self.client.capture_stop(cap.id)
            cap.stats = dict(answer.get("stats", {}))
            if answer.get("stop_requested") is not None:
                requested.append(float(answer["stop_requested"]))
        self.t_end = min(requested) if requested else None  # the first stop; None: all ended by themselves (count)
        with self._feed_lock:
            for cap in self.devices.values():
                cap.close_window(self.t_end)
        if self._follow is not None:  # it ends by itself once every tcpdump has stopped and been read
            if not self._follow.wait(2.0):
                self._follow.cancel()
            self._follow = None
        for cap in self.devices.values():
            self._read(cap)
            cap.running = False
            try:
                self.client.capture_remove(cap.id)
            except LabkitError:
                pass
        self.stopped_at = time.time()
        self._notify()
        return self

    def __enter__(self) -> Capture:
        return self.start()

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None and (self.count is not None or self.duration is not None):
            self.wait(timeout=self.duration if self.duration is not None else COUNT_GRACE)
        else:
            self.stop()

    def _notify(self) -> None:
        for listener in list(self.listeners):
            listener(self)

    # -- results ------------------------------------------------------------------
    def device(self, dev: str) -> DeviceCapture:
        """The capture of one device: 'veth1' or 'h1/eth0'."""
        key = "/".join(split_device(dev))
        if key not in self.devices:
            raise InvalidInput(tr("{dev!r} is not part of this capture", dev=dev),
                               hint=tr("captured: {devices}", devices=", ".join(self.devices)))
        return self.devices[key]

    def frames(self, dev: str) -> list[Frame]:
        return self.device(dev).frames

    def packets(self, dev: str) -> list[Any]:
        """The scapy packets captured on ``dev`` (decoded on first use)."""
        return [frame.packet for frame in self.device(dev).frames]

    def summaries(self, dev: str) -> list[str]:
        return [frame.summary for frame in self.device(dev).frames]

    def counts(self) -> dict[str, int]:
        """Packets captured per device, keyed 'namespace/device'."""
        return {key: len(cap.frames) for key, cap in self.devices.items()}

    def path_counts(self) -> dict[str, int]:
        """What ``lab.show(cap)`` colours: packets seen per 'namespace/device'."""
        return self.counts()

    def stats(self) -> dict[str, dict[str, int | None]]:
        """Per device: tcpdump's counts, the frames in the pcap (``saved``), the loss between them, and
        how many of the saved frames are ``outside`` the window the panes and ``counts()`` show."""
        return {key: {**cap.stats, "saved": cap.stream.count, "lost": cap.lost, "outside": cap.outside}
                for key, cap in self.devices.items()}

    def commands(self) -> list[str]:
        """The tcpdump commands that run on the target for this capture, exactly, one per device
        (paste one into a root shell on the target to watch the same device)."""
        return [shlex.join(["ip", "netns", "exec", netns_name(self.lab.lab_id, cap.ns), *cap.argv]) if cap.argv
                else localize(tr("(tcpdump on {key} not started)", key=cap.key)) for cap in self.devices.values()]

    def pcap(self, dev: str) -> bytes:
        """The pcap file of ``dev`` exactly as tcpdump wrote it."""
        return self.device(dev).stream.pcap_bytes()

    def pcapng(self) -> bytes:
        """One pcapng of every device (interfaces named 'ns/dev', each its link type), packets in time order."""
        from .pcapng import LINKTYPE_NUMBERS, write_pcapng

        return write_pcapng((key, cap.stream.pcap_bytes(), LINKTYPE_NUMBERS.get(cap.link_type, 1))
                            for key, cap in self.devices.items())

    @property
    def wireshark(self) -> Any:
        """Wireshark's sharkd for this capture (:class:`~labkit.capture.wireshark.Wireshark`)."""
        if self._wireshark is None:
            from .wireshark import Wireshark

            self._wireshark = Wireshark(self)
        return self._wireshark

    def dissect(self, dev: str, index: int = 0) -> Any:
        """Packet ``index`` of ``dev`` as Wireshark dissects it (``.find('tcp.srcport')``: a field, its bytes,
        its display filter); scapy's layers, said so, where sharkd is not installed."""
        return self.wireshark.dissect(dev, index)

    def follow(self, dev: str, index: int | None = None, *, stream: int | None = None, proto: str | None = None) -> Any:
        """Wireshark's Follow TCP/UDP stream on ``dev``: what the client sent and what the server answered
        (the stream of packet ``index``, or stream number ``stream``, or the first one)."""
        return self.wireshark.follow(dev, index, stream=stream, proto=proto)

    def save(self, path: str | os.PathLike[str] = "captures") -> list[str]:
        """Write the capture for Wireshark; returns the paths written.

        A directory gets one ``<namespace>-<device>.pcap`` per device plus ``capture.pcapng`` with
        every device in one file (:meth:`pcapng`); a path ending in ``.pcap`` (one device) or
        ``.pcapng`` gets that one file."""
        target = os.fspath(path)
        written = []
        if target.endswith(".pcapng"):
            os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
            with open(target, "wb") as fh:
                fh.write(self.pcapng())
            return [target]
        if target.endswith(".pcap"):
            if len(self.devices) != 1:
                raise InvalidInput(tr("{target!r} is one file but this capture has {n} devices", target=target, n=len(self.devices)),
                                   hint=tr("give a directory (one <namespace>-<device>.pcap per device, and capture.pcapng), "
                                           "or a name ending in .pcapng for one file of them all"))
            os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
            files = {target: next(iter(self.devices.values()))}
        else:
            os.makedirs(target, exist_ok=True)
            files = {os.path.join(target, f"{cap.ns}-{cap.dev}.pcap"): cap for cap in self.devices.values()}
        for name, cap in files.items():
            with open(name, "wb") as fh:
                fh.write(cap.stream.pcap_bytes())
            written.append(name)
        if not target.endswith(".pcap"):
            written += self.save(os.path.join(target, "capture.pcapng"))
        return written

    # -- display ------------------------------------------------------------------
    def panes(self, max_rows: int = 200) -> Any:
        """The capture panes widget (one pane per device, side by side)."""
        from ..widgets.capture import CapturePanes

        return CapturePanes(self, max_rows=max_rows)

    def text(self) -> str:
        state = tr("running") if self.running else tr("stopped") if self.stopped_at else tr("not started")
        lines = [localize(tr("capture ({state}) filter {filter}", state=state, filter=self.filter or tr("(none)")))]
        for key, cap in self.devices.items():
            n, start = len(cap.frames), self.t0 or self.started_at
            lines.append("  " + localize(tr("{key}: {n} packets, tcpdump {stats}", key=key, n=n, stats=cap.stats) if cap.stats
                                         else tr("{key}: {n} packets", key=key, n=n)))
            lines += [f"    {frame.time - start if start else 0:9.6f} {frame.summary}" for frame in cap.frames[-5:]]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.text()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.panes())
