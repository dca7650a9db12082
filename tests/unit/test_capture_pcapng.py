"""The whole-capture pcapng: read back by scapy, capinfos and sharkd (independent readers), not by our own code."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import CookedLinuxV2, Ether
from scapy.utils import RawPcapNgReader

from labkit.capture.pcapng import read_pcap, write_pcapng
from labkit.errors import InvalidInput

US, NS = b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"  # little-endian magics: micro- and nanosecond pcap


def pcap(records: list[tuple[int, int, bytes]], linktype: int, magic: bytes = US) -> bytes:
    """A classic pcap file with exact (seconds, fraction) timestamps, written byte by byte."""
    out = magic + struct.pack("<HHiIII", 2, 4, 0, 0, 262144, linktype)
    for sec, frac, data in records:
        out += struct.pack("<IIII", sec, frac, len(data), len(data)) + data
    return out


T = 1_700_000_000
ETH = [bytes(Ether(src="02:00:00:00:00:01") / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(seq=i)) for i in range(3)]
RAW = [bytes(IP(src="10.9.0.1", dst="10.9.0.2") / UDP(sport=7, dport=9) / (b"x" * (i + 1))) for i in range(2)]
SLL = bytes(CookedLinuxV2(proto=0x0800, pkttype=4) / IP(src="10.1.0.1", dst="10.1.0.2") / ICMP())
DEVICES = [
    # h1/eth0: Ethernet, microseconds
    ("h1/eth0", pcap([(T, 100, ETH[0]), (T, 300, ETH[1]), (T + 1, 0, ETH[2])], 1), None),
    # r/tun0: raw IP, nanoseconds (one packet 1 ns after another device's: float seconds could not tell them apart)
    ("r/tun0", pcap([(T, 200_000, RAW[0]), (T, 300_001, RAW[1])], 101, NS), None),
    # sw/br0: Linux cooked v2 (what `tcpdump -y LINUX_SLL2` writes on a bridge)
    ("sw/br0", pcap([(T, 300, SLL)], 276), None),
    # main/lo: tcpdump wrote nothing at all
    ("main/lo", b"", 1),
]
# (interface, exact time in ns) of every packet, in the order the file must hold them
EXPECTED = [(0, T * 10**9 + 100_000), (1, T * 10**9 + 200_000), (0, T * 10**9 + 300_000), (2, T * 10**9 + 300_000),
            (1, T * 10**9 + 300_001), (0, (T + 1) * 10**9)]


@pytest.fixture
def pcapng_file(tmp_path: Path) -> Path:
    path = tmp_path / "capture.pcapng"
    path.write_bytes(write_pcapng(DEVICES))
    return path


def test_scapy_reads_names_link_types_and_resolutions(pcapng_file: Path) -> None:
    reader = RawPcapNgReader(str(pcapng_file))
    try:
        packets = _all(reader)
        interfaces = [(linktype, snaplen, opts.get("name"), opts["tsresol"]) for linktype, snaplen, opts in reader.interfaces]
    finally:
        reader.close()
    assert interfaces == [(1, 262144, b"h1/eth0", 10**6), (101, 262144, b"r/tun0", 10**9),
                          (276, 262144, b"sw/br0", 10**6), (1, 262144, b"main/lo", 10**6)]
    got = [(meta.ifname.decode(), ((meta.tshigh << 32) + meta.tslow) * (10**9 // meta.tsresol)) for _data, meta in packets]
    names = ["h1/eth0", "r/tun0", "sw/br0", "main/lo"]
    assert got == [(names[i], ns) for i, ns in EXPECTED], "names, order or exact timestamps differ"
    assert [data for data, _meta in packets] == [ETH[0], RAW[0], ETH[1], SLL, RAW[1], ETH[2]]


def _all(reader: RawPcapNgReader) -> list:
    out = []
    while True:
        try:
            out.append(reader._read_packet())
        except EOFError:
            return out


@pytest.mark.skipif(shutil.which("capinfos") is None, reason="capinfos (Debian wireshark-common) is not installed")
def test_capinfos_reads_every_interface(pcapng_file: Path) -> None:
    out = subprocess.run(["capinfos", str(pcapng_file)], capture_output=True, text=True, check=True).stdout
    assert "File type:           Wireshark/... - pcapng" in out
    assert "Number of packets:   6" in out
    assert "Number of interfaces in file: 4" in out
    for i, (name, encap, count) in enumerate([("h1/eth0", "Ethernet", 3), ("r/tun0", "Raw IP", 2),
                                               ("sw/br0", "Linux cooked-mode capture v2", 1), ("main/lo", "Ethernet", 0)]):
        block = out.split(f"Interface #{i} info:")[1].split("Interface #")[0]
        assert f"Name = {name}" in block and f"Encapsulation = {encap}" in block, block
        assert f"Number of packets = {count}" in block, block


@pytest.mark.skipif(shutil.which("sharkd") is None, reason="sharkd (Debian wireshark-common) is not installed")
def test_wireshark_sees_interface_names_per_frame(pcapng_file: Path) -> None:
    requests = [{"jsonrpc": "2.0", "id": 1, "method": "load", "params": {"file": str(pcapng_file)}},
                {"jsonrpc": "2.0", "id": 2, "method": "frames",
                 "params": {"column0": "frame.interface_name:1", "column1": "frame.time_epoch:1"}}]
    out = subprocess.run(["sharkd", "-"], input="\n".join(json.dumps(r) for r in requests) + "\n",
                         capture_output=True, text=True, timeout=60).stdout
    replies = [json.loads(line) for line in out.splitlines() if line.strip()]
    rows = [row["c"] for row in replies[1]["result"]]
    names = ["h1/eth0", "r/tun0", "sw/br0", "main/lo"]
    assert [r[0] for r in rows] == [names[i] for i, _ns in EXPECTED]
    assert [r[1] for r in rows] == [f"{ns // 10**9}.{ns % 10**9:09d}" for _i, ns in EXPECTED]


def test_read_pcap_keeps_the_integers() -> None:
    f = read_pcap(DEVICES[1][1])
    assert (f.linktype, f.tsresol) == (101, 9)
    assert [(r.seconds, r.fraction) for r in f.records] == [(T, 200_000), (T, 300_001)]


def test_bad_input_is_refused_with_a_hint() -> None:
    with pytest.raises(InvalidInput, match="not a pcap file"):
        write_pcapng([("h1/eth0", b"hello, not a pcap at all", None)])
    with pytest.raises(InvalidInput, match="ends inside the record"):
        write_pcapng([("h1/eth0", DEVICES[0][1][:-3], None)])
    with pytest.raises(InvalidInput, match="no link type"):
        write_pcapng([("main/lo", b"", None)])
