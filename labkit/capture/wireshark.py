"""Wireshark's view of a capture: ``cap.dissect(...)`` and ``cap.follow(...)``.

Each device's packets are handed to sharkd as that device's own pcap file, exactly
as tcpdump wrote it, so frame *n* of the device is Wireshark's frame *n* and a
followed TCP stream is seen once (the merged pcapng holds every packet once per
device it crossed, and Wireshark would take the copies for retransmissions). Where
sharkd is missing, ``dissect`` falls back to scapy's layers and says so; ``follow``
needs Wireshark's TCP reassembly and raises :class:`~labkit.errors.MissingTool` with
the command that installs it.
"""

from __future__ import annotations

import weakref
from typing import Any

from ..errors import InvalidInput, MissingTool, NotFound
from ..i18n import tr
from .dissection import Dissection, FollowStream, scapy_dissection
from .sharkd import INSTALL, Sharkd

PROTOS = ("TCP", "UDP")


class Wireshark:
    """sharkd for one capture (started on first use, stopped by :meth:`close` or with the capture)."""

    def __init__(self, capture: Any, sharkd: Sharkd | None = None) -> None:
        self.capture = capture
        self.sharkd = sharkd or Sharkd()
        self._finalizer = weakref.finalize(self, self.sharkd.close)

    @property
    def available(self) -> bool:
        return self.sharkd.available

    def _load(self, dev: str) -> tuple[str, Any]:
        cap = self.capture.device(dev)
        data = cap.stream.pcap_bytes()
        if not data:
            raise NotFound(tr("{key} has captured nothing yet", key=cap.key), hint=tr("run some traffic during the capture first"))
        self.sharkd.load(data, f"{cap.ns}-{cap.dev}.pcap")
        return cap.key, cap

    def _frame(self, cap: Any, index: int) -> Any:
        frames = {frame.index: frame for frame in cap.frames}
        if index not in frames:
            none = tr("it has captured none yet") if cap.running else tr("it captured none")
            raise InvalidInput(tr("{key} has no frame {index}", key=cap.key, index=index),
                               hint=tr("its frames are numbered 0..{last}", last=cap.stream.count - 1) if cap.stream.count else none)
        return frames[index]

    def dissect(self, dev: str, index: int = 0) -> Dissection:
        """Frame ``index`` (0-based, as in ``cap.frames(dev)``) of ``dev``, dissected by Wireshark."""
        cap = self.capture.device(dev)
        frame = self._frame(cap, index)
        if not self.available:
            return scapy_dissection(frame.packet, frame.data, cap.key, index + 1)
        key, _ = self._load(dev)
        return self.sharkd.frame(index + 1, key)

    def follow(self, dev: str, index: int | None = None, *, stream: int | None = None,
               proto: str | None = None) -> FollowStream:
        """Follow a TCP or UDP stream seen on ``dev``: the one frame ``index`` belongs to, or number
        ``stream`` (``tcp.stream eq N`` in Wireshark), or else the first TCP stream (then the first UDP one)."""
        if proto is not None and proto.upper() not in PROTOS:
            raise InvalidInput(tr("cannot follow {proto!r}", proto=proto), hint=tr("follow 'TCP' or 'UDP'"))
        if not self.available:
            raise MissingTool(tr("Follow stream needs Wireshark's sharkd, which is not installed"),
                              where=tr("the machine running this notebook"), hint=INSTALL)
        if index is not None and stream is not None:
            raise InvalidInput(tr("give a frame index or a stream number, not both"), hint=tr("e.g. cap.follow('h2/eth0', 3)"))
        key, cap = self._load(dev)
        if index is not None:
            self._frame(cap, index)
            followers = [(p.upper(), f) for p, f in self.sharkd.frame(index + 1, key).followers if p.upper() in PROTOS]
            if proto is not None:
                followers = [(p, f) for p, f in followers if p == proto.upper()]
            if not followers:
                raise NotFound(tr("frame {index} of {key} belongs to no {proto} stream", index=index, key=key,
                                  proto=proto.upper() if proto else tr("TCP or UDP")),
                               hint=tr("pick a TCP or UDP packet (its row shows ports)"))
            return self.sharkd.follow(followers[0][0], followers[0][1], key)
        for name in [proto.upper()] if proto else list(PROTOS):
            filt = f"{name.lower()}.stream eq {stream or 0}"
            found = self.sharkd.follow(name, filt, key)
            if found.chunks or found.client[0] != "NONE":
                return found
        raise NotFound(tr("no {proto} stream {stream} on {key}", proto=proto.upper() if proto else tr("TCP or UDP"),
                          stream=stream or 0, key=key),
                       hint=tr("streams are numbered from 0 in the order they start; cap.summaries(dev) lists the packets"))

    def close(self) -> None:
        self.sharkd.close()
