"""decode: tcpdump -n -e style lines and directions, on packets built with scapy (no kernel)."""

from __future__ import annotations

import pytest
from scapy.contrib.geneve import GENEVE
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import ICMPv6EchoRequest, ICMPv6ND_NS, IPv6
from scapy.layers.l2 import ARP, LLC, STP, Dot1Q, Dot3, Ether
from scapy.layers.vxlan import VXLAN
from scapy.packet import Raw

from labkit.capture.decode import Frame, clock, direction, dissect, summarize

A, B = "02:00:00:00:00:0a", "02:00:00:00:00:0b"


def line(pkt: object) -> str:
    data = bytes(pkt)  # type: ignore[call-overload]
    return summarize(dissect(1, data), len(data))


def test_icmp_echo_request_like_tcpdump() -> None:
    text = line(Ether(src=A, dst=B) / IP(src="20.1.0.10", dst="20.1.0.11") / ICMP(id=7, seq=1) / (b"x" * 56))
    assert text == (f"{A} > {B}, ethertype IPv4 (0x0800), length 98: "
                    "20.1.0.10 > 20.1.0.11: ICMP echo request, id 7, seq 1, length 64")


def test_icmp_echo_reply() -> None:
    assert "ICMP echo reply, id 7, seq 2" in line(Ether() / IP() / ICMP(type=0, id=7, seq=2))


def test_arp_who_has_and_is_at() -> None:
    ask = line(Ether(src=A, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=A, psrc="20.1.0.10", pdst="20.1.0.11"))
    assert ask.endswith("ethertype ARP (0x0806), length 42: Request who-has 20.1.0.11 tell 20.1.0.10, length 28")
    answer = line(Ether(src=B, dst=A) / ARP(op=2, hwsrc=B, psrc="20.1.0.11", pdst="20.1.0.10"))
    assert f"Reply 20.1.0.11 is-at {B}" in answer


def test_udp_ports_and_length() -> None:
    text = line(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=5000, dport=6000) / (b"a" * 100))
    assert text.endswith("10.0.0.1.5000 > 10.0.0.2.6000: UDP, length 100")


def test_tcp_flags() -> None:
    text = line(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=40000, dport=80, flags="S", seq=100))
    assert "10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 100, win" in text


def test_vlan_tag() -> None:
    text = line(Ether(src=A, dst=B) / Dot1Q(vlan=10, prio=3) / IP(src="10.0.10.1", dst="10.0.10.2") / ICMP())
    assert "ethertype 802.1Q (0x8100)" in text
    assert "vlan 10, p 3, ethertype IPv4 (0x0800), 10.0.10.1 > 10.0.10.2: ICMP echo request" in text


def test_vxlan_shows_the_inner_frame() -> None:
    inner = Ether(src=A, dst=B) / IP(src="10.9.0.1", dst="10.9.0.2") / ICMP()
    text = line(Ether() / IP(src="192.168.3.10", dst="192.168.3.11") / UDP(sport=33333, dport=4789) / VXLAN(vni=42) / inner)
    assert "192.168.3.10.33333 > 192.168.3.11.4789: VXLAN" in text
    assert "vni 42" in text
    assert f"{A} > {B}, ethertype IPv4 (0x0800)" in text and "10.9.0.1 > 10.9.0.2: ICMP echo request" in text


def test_geneve_shows_the_inner_frame() -> None:
    inner = Ether(src=A, dst=B) / IP(src="10.9.0.1", dst="10.9.0.2") / ICMP()
    text = line(Ether() / IP() / UDP(sport=1234, dport=6081) / GENEVE(vni=0x2a, proto=0x6558) / inner)
    assert "Geneve, vni 0x2a" in text and "10.9.0.1 > 10.9.0.2: ICMP echo request" in text


def test_dhcp_message_type() -> None:
    pkt = (Ether(src=A, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67)
           / BOOTP(op=1, chaddr=bytes.fromhex(A.replace(":", ""))) / DHCP(options=[("message-type", "discover"), "end"]))
    text = line(pkt)
    assert "0.0.0.0.68 > 255.255.255.255.67: BOOTP/DHCP, Request from " + A in text
    assert "DHCP Discover" in text


def test_ipv6_echo_and_neighbor_solicitation() -> None:
    assert "ICMP6, echo request, id 1, seq 2" in line(Ether() / IPv6(src="fd00::1", dst="fd00::2") / ICMPv6EchoRequest(id=1, seq=2))
    assert "neighbor solicitation, who has fd00::2" in line(Ether() / IPv6() / ICMPv6ND_NS(tgt="fd00::2"))


def test_stp_bpdu() -> None:
    text = line(Dot3(src=A, dst="01:80:c2:00:00:00") / LLC() / STP(rootid=32768, rootmac=A, bridgeid=32768, bridgemac=A,
                                                                   portid=0x8001))
    assert "802.3" in text and "STP 802.1d, Config" in text and f"bridge-id 8000.{A}.8001" in text


def test_unknown_ethertype_is_said_not_hidden() -> None:
    text = line(Ether(type=0x88B5) / Raw(b"\x00" * 30))
    assert "ethertype Unknown (0x88b5)" in text and "not decoded" in text


def test_truncated_frame_does_not_raise() -> None:
    text = summarize(dissect(1, bytes(Ether() / IP() / ICMP())[:20]), 98)
    assert "length 98" in text


def test_raw_ip_link_type_tells_v4_from_v6() -> None:
    assert isinstance(dissect(101, bytes(IPv6() / ICMPv6EchoRequest())), IPv6)
    assert isinstance(dissect(101, bytes(IP() / ICMP())), IP)
    data = bytes(IP(src="10.0.0.12", dst="10.0.0.22") / ICMP(id=1, seq=1))
    assert summarize(dissect(101, data)) == "IP 10.0.0.12 > 10.0.0.22: ICMP echo request, id 1, seq 1, length 8"


@pytest.mark.parametrize(("src", "dst", "port", "expected"), [
    (A, B, False, "out"),      # sent by the device
    (B, A, False, "in"),       # addressed to it
    (B, "ff:ff:ff:ff:ff:ff", False, "in"),  # a broadcast from someone else, on a plain device
    (B, "02:00:00:00:00:0c", True, ""),     # a bridge port forwards frames between others: unknown
    (B, "02:00:00:00:00:0c", False, "in"),
])
def test_direction_from_the_devices_mac(src: str, dst: str, port: bool, expected: str) -> None:
    assert direction(bytes(Ether(src=src, dst=dst) / IP()), 1, A, is_port=port) == expected


def test_direction_unknown_without_a_mac() -> None:
    data = bytes(Ether() / IP())
    assert direction(data, 1, None) == ""
    assert direction(data, 1, "00:00:00:00:00:00") == ""  # lo
    assert direction(data, 101, A) == ""


def test_frame_decodes_lazily_and_keeps_time() -> None:
    frame = Frame(0, 1000.5, bytes(Ether() / IP() / ICMP()), 42)
    assert frame._packet is None
    assert "ICMP echo request" in frame.summary
    assert float(frame.packet.time) == 1000.5
    assert "###[ Ethernet ]###" in frame.layers()


def test_clock() -> None:
    assert clock(10.25, start=10.0) == "+0.250000"
    assert clock(0.5).endswith(".500000")
