"""The pcap file format, read as a stream: a 24-byte file header, then records.

tcpdump ``-w`` writes a global header (magic, version, snaplen, link type) and,
for every packet, a 16-byte record header (seconds, micro- or nanoseconds, the
captured length and the length on the wire) followed by the captured bytes. The
bytes arrive from the target in arbitrary pieces; :class:`PcapStream` keeps what
has arrived (so it can be saved unchanged) and returns each complete record once.
"""

from __future__ import annotations

import struct

from ..errors import TargetError
from ..i18n import tr
from .decode import Frame

MAGIC = {b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
         b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9)}


class PcapStream:
    """Feed it pcap bytes in any pieces; it returns the complete frames as they become whole."""

    def __init__(self) -> None:
        self.raw = bytearray()
        self._pos = 0
        self._order = "<"
        self._scale = 1e-6
        self.linktype: int | None = None
        self.snaplen = 0
        self.count = 0

    def feed(self, data: bytes) -> list[Frame]:
        self.raw += data
        frames: list[Frame] = []
        if self.linktype is None:
            if len(self.raw) < 24:
                return frames
            magic = bytes(self.raw[:4])
            if magic not in MAGIC:
                raise TargetError(tr("the capture is not a pcap stream (magic {magic})", magic=magic.hex()),
                                  hint=tr("the target's tcpdump wrote something else; check its version"))
            self._order, self._scale = MAGIC[magic]
            _vmaj, _vmin, _zone, _sig, self.snaplen, self.linktype = struct.unpack(self._order + "HHiIII", self.raw[4:24])
            self._pos = 24
        raw, pos, order = self.raw, self._pos, self._order + "IIII"
        while len(raw) - pos >= 16:
            sec, frac, caplen, wirelen = struct.unpack_from(order, raw, pos)
            if len(raw) - pos - 16 < caplen:
                break
            data_start = pos + 16
            frames.append(Frame(self.count, sec + frac * self._scale, bytes(raw[data_start:data_start + caplen]),
                                wirelen, self.linktype))
            self.count += 1
            pos = data_start + caplen
        self._pos = pos
        return frames

    @property
    def complete(self) -> bool:
        """True when no partial record is waiting for more bytes."""
        return self._pos == len(self.raw)

    def pcap_bytes(self) -> bytes:
        """The whole file as tcpdump wrote it (complete records only)."""
        return bytes(self.raw[:self._pos]) if self.linktype is not None else b""


def write_pcap(frames: list[Frame], linktype: int = 1, snaplen: int = 262144) -> bytes:
    """A classic (microsecond) pcap file holding ``frames``, as Wireshark and scapy read it."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)]
    for frame in frames:
        sec = int(frame.time)
        usec = round((frame.time - sec) * 1e6)
        if usec >= 1_000_000:
            sec, usec = sec + 1, usec - 1_000_000
        out.append(struct.pack("<IIII", sec, usec, len(frame.data), frame.wirelen) + frame.data)
    return b"".join(out)
