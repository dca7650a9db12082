"""Bridge ports are captured with the cooked header v2 (LINUX_SLL2): decoding, direction, and the filter
moved onto a SOCK_DGRAM socket the way libpcap does it (labkit/programs/pycapture.py)."""

from __future__ import annotations

import struct

import pytest
from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import ARP, LLC, STP

from labkit.capture.decode import Frame, direction
from labkit.programs.pycapture import _compile_filter, _offline_filter, cooked_for_kernel
from labkit.targets.agent_capture import cooked_filter

MAC = bytes.fromhex("020000000001")


def sll2(proto: int, pkttype: int, payload: bytes, ifindex: int = 7) -> bytes:
    return struct.pack("!HHIHBB8s", proto, 0, ifindex, 1, pkttype, 6, MAC) + payload


@pytest.mark.parametrize(("pkttype", "expected"), [(0, "in"), (1, "in"), (2, "in"), (3, "in"), (4, "out")])
def test_the_packet_type_decides_the_direction(pkttype: int, expected: str) -> None:
    data = sll2(0x0800, pkttype, bytes(IP(src="10.0.0.1", dst="10.0.0.2") / ICMP()))
    assert direction(data, 276, None, is_port=True) == expected
    assert Frame(0, 0.0, data, len(data), 276).direction("02:00:00:00:00:09", True) == expected


def test_icmp_arp_and_stp_on_the_cooked_header() -> None:
    icmp = Frame(0, 0.0, d := sll2(0x0800, 3, bytes(IP(src="10.0.0.1", dst="10.0.0.2") / ICMP())), len(d), 276)
    assert icmp.summary.startswith("P ifindex 7 02:00:00:00:00:01, ethertype IPv4")
    assert "10.0.0.1 > 10.0.0.2: ICMP echo request" in icmp.summary
    arp = Frame(1, 0.0, d := sll2(0x0806, 1, bytes(ARP(op=1, psrc="10.0.0.1", pdst="10.0.0.2"))), len(d), 276)
    assert "Request who-has 10.0.0.2 tell 10.0.0.1" in arp.summary and arp.summary.startswith("B ")
    bpdu = bytes(LLC(dsap=0x42, ssap=0x42, ctrl=3) / STP(rootid=0x8000, rootmac="02:00:00:00:00:01", pathcost=4))
    stp = Frame(2, 0.0, d := sll2(0x0004, 4, bpdu), len(d), 276)
    assert stp.packet.haslayer(STP), stp.packet.show(dump=True)
    assert "802.3" in stp.summary and "STP 802.1d, Config" in stp.summary and "root-pathcost 4" in stp.summary


def test_the_stp_keyword_is_spelled_out_for_a_cooked_header() -> None:
    assert cooked_filter("stp") == "(link[0:2] = 0x0004 and link[20] = 0x42)"
    assert cooked_filter("arp or stp") == "arp or (link[0:2] = 0x0004 and link[20] = 0x42)"
    assert cooked_filter("host stp-server.lan") == "host stp-server.lan"  # a word that merely contains it


def _insns(code: bytes) -> list[tuple[int, int, int, int]]:
    return list(struct.iter_unpack("HBBI", code))


def test_a_cooked_filter_is_moved_onto_the_socket_as_libpcap_does() -> None:
    code = _compile_filter("ifindex 7 and icmp", 276, 262144)
    moved = cooked_for_kernel(code)
    assert moved is not None and len(moved) == len(code)
    loads = [k for op, _jt, _jf, k in _insns(moved) if op & 0x07 in (0, 1) and op & 0xE0 in (0x20, 0x40, 0xA0)]
    assert 0xFFFFF000 + 8 in loads  # ifindex → SKF_AD_IFINDEX
    assert 0xFFFFF000 + 0 in loads  # protocol → SKF_AD_PROTOCOL
    assert 9 in loads  # the IP protocol byte: payload offset 29 - 20
    assert all(k < 20 or k >= 0xFFFFF000 for k in loads if k not in (9,))


def test_a_filter_on_another_header_byte_runs_in_user_space() -> None:
    code = _compile_filter("link[8:2] = 1", 276, 262144)  # the ARPHRD type: the kernel has no load for it
    assert cooked_for_kernel(code) is None
    matches = _offline_filter(code)
    assert matches(sll2(0x0800, 0, b"\x45" + b"\0" * 19))
    assert not matches(struct.pack("!HHIHBB8s", 0x0800, 0, 7, 772, 0, 6, MAC) + b"\x45" + b"\0" * 19)


def test_the_senders_mac_from_either_header() -> None:
    eth = bytes.fromhex("ffffffffffff" "020000000001" "0800") + b"\x45" + b"\0" * 19
    assert Frame(0, 0.0, eth, len(eth), 1).src_mac == "02:00:00:00:00:01"
    cooked = sll2(0x0800, 4, b"\x45" + b"\0" * 19)
    assert Frame(0, 0.0, cooked, len(cooked), 276).src_mac == "02:00:00:00:00:01"
    raw = b"\x45" + b"\0" * 19
    assert Frame(0, 0.0, raw, len(raw), 101).src_mac is None
