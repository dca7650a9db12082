"""One pcapng file for a whole capture: every device an interface, every packet in time order.

A classic pcap file holds one link type, so a capture on ``h1/eth0`` (Ethernet),
``br0`` with ``-y LINUX_SLL2`` (Linux "cooked" headers that record the direction) and
``tun0`` (raw IP, no link header) needs three files. pcapng (RFC draft
"PCAP Next Generation") holds them all: after the Section Header Block, one
*Interface Description Block* per device gives its link type, snap length, name
(option ``if_name``, here ``namespace/device``) and clock resolution (``if_tsresol``:
10^-6 s for tcpdump's default, 10^-9 s for ``--time-stamp-precision nano``); each
packet is then an *Enhanced Packet Block* that names its interface by number (the
order of the IDBs) and carries a 64-bit timestamp in that interface's units.
Wireshark opens it as one window with a column for the interface.

This module is pure: pcap bytes in, pcapng bytes out. Timestamps are copied as the
integers tcpdump wrote (seconds and micro- or nanoseconds), never through a float,
so nothing is rounded; packets of all devices are sorted by that exact time (ties
keep the devices' order, then each file's order).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..errors import InvalidInput
from ..i18n import tr
from .pcap import MAGIC

SHB, IDB, EPB = 0x0A0D0D0A, 0x00000001, 0x00000006
BYTE_ORDER_MAGIC = 0x1A2B3C4D
OPT_END, OPT_COMMENT, SHB_USERAPPL, IF_NAME, IF_TSRESOL = 0, 1, 4, 2, 9
#: tcpdump's names of link types (its "listening on …, link-type NAME") → pcap LINKTYPE_* numbers
LINKTYPE_NUMBERS = {"NULL": 0, "EN10MB": 1, "RAW": 101, "LINUX_SLL": 113, "LINUX_SLL2": 276, "IPV4": 228, "IPV6": 229}


@dataclass(frozen=True)
class Interface:
    """One device of the capture as pcapng describes it."""

    name: str          # 'h1/eth0'
    linktype: int      # 1 Ethernet, 101 raw IP, 276 Linux cooked v2, ...
    snaplen: int = 262144
    tsresol: int = 6   # timestamps count 10^-tsresol seconds (6: µs, 9: ns)


@dataclass(frozen=True)
class Record:
    """One packet of a pcap file, its timestamp kept as the integers of the file."""

    seconds: int
    fraction: int      # micro- or nanoseconds, as the file's magic says
    data: bytes
    wirelen: int


@dataclass(frozen=True)
class PcapFile:
    """A classic pcap file split into its header's facts and its records."""

    linktype: int
    snaplen: int
    tsresol: int
    records: tuple[Record, ...]


def read_pcap(data: bytes, where: str = "") -> PcapFile:
    """Parse a whole classic pcap file (both byte orders, µs or ns); a cut last record is an error."""
    if len(data) < 24 or bytes(data[:4]) not in MAGIC:
        start = bytes(data[:4]).hex()
        raise InvalidInput(tr("not a pcap file (starts with {start})", start=start) if start else tr("not a pcap file (starts with nothing)"),
                           where=where, hint=tr("give the bytes tcpdump -w wrote, e.g. cap.pcap('veth1')"))
    order, scale = MAGIC[bytes(data[:4])]
    _vmaj, _vmin, _zone, _sig, snaplen, linktype = struct.unpack(order + "HHiIII", data[4:24])
    records, pos = [], 24
    while pos < len(data):
        if len(data) - pos < 16:
            raise InvalidInput(tr("the pcap file ends inside a record header at byte {pos}", pos=pos), where=where,
                               hint=tr("read the capture to its end (cap.stop()) before writing it"))
        sec, frac, caplen, wirelen = struct.unpack_from(order + "IIII", data, pos)
        end = pos + 16 + caplen
        if end > len(data):
            raise InvalidInput(tr("the pcap file ends inside the record at byte {pos}", pos=pos), where=where,
                               hint=tr("read the capture to its end (cap.stop()) before writing it"))
        records.append(Record(sec, frac, bytes(data[pos + 16:end]), wirelen))
        pos = end
    return PcapFile(linktype & 0xFFFF, snaplen, 9 if scale == 1e-9 else 6, tuple(records))


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _block(kind: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    length = len(body) + 12
    return struct.pack("<II", kind, length) + body + struct.pack("<I", length)


def section_header(application: str = "labkit") -> bytes:
    options = _option(SHB_USERAPPL, application.encode()) + _option(OPT_END, b"")
    return _block(SHB, struct.pack("<IHHq", BYTE_ORDER_MAGIC, 1, 0, -1) + options)


def interface_block(itf: Interface) -> bytes:
    options = _option(IF_NAME, itf.name.encode()) + _option(IF_TSRESOL, bytes([itf.tsresol])) + _option(OPT_END, b"")
    return _block(IDB, struct.pack("<HHI", itf.linktype, 0, itf.snaplen) + options)


def packet_block(interface_id: int, ticks: int, data: bytes, wirelen: int) -> bytes:
    """An Enhanced Packet Block: ``ticks`` counts the interface's time units since the epoch."""
    head = struct.pack("<IIIII", interface_id, ticks >> 32, ticks & 0xFFFFFFFF, len(data), wirelen)
    return _block(EPB, head + data + b"\0" * (-len(data) % 4))


def merged(files: list[PcapFile]) -> Iterator[tuple[int, Record]]:
    """(interface id, record) of every file, in exact time order (ties: file order, then record order)."""
    keyed = [((rec.seconds * 10**9 + rec.fraction * (10 ** (9 - f.tsresol)), i, j), i, rec)
             for i, f in enumerate(files) for j, rec in enumerate(f.records)]
    keyed.sort(key=lambda item: item[0])
    return ((i, rec) for _key, i, rec in keyed)


def write_pcapng(devices: Iterable[tuple[str, bytes, int | None]]) -> bytes:
    """One pcapng of several pcap files: ``devices`` gives (name, pcap bytes, link type if the bytes are empty).

    A device whose tcpdump wrote nothing at all (``b""``) still gets its interface
    block, with the fallback link type, so the file lists every device captured."""
    interfaces: list[Interface] = []
    files: list[PcapFile] = []
    for name, data, fallback in devices:
        if not data:
            if fallback is None:
                raise InvalidInput(tr("{name}: no pcap header and no link type to describe it", name=name),
                                   hint=tr("give the link type tcpdump reported (e.g. 1 for EN10MB)"))
            files.append(PcapFile(fallback, 262144, 6, ()))
        else:
            files.append(read_pcap(data, where=name))
        f = files[-1]
        interfaces.append(Interface(name, f.linktype, f.snaplen, f.tsresol))
    out = [section_header()] + [interface_block(itf) for itf in interfaces]
    for i, rec in merged(files):
        ticks = rec.seconds * 10 ** interfaces[i].tsresol + rec.fraction
        out.append(packet_block(i, ticks, rec.data, rec.wirelen))
    return b"".join(out)
