"""Decoding details found by running the labs: IPv6 echo replies, GRE payloads."""

from scapy.layers.inet import ICMP, IP
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6
from scapy.layers.l2 import GRE, Ether

from labkit.capture.decode import summarize


def test_an_ipv6_echo_reply_is_called_a_reply() -> None:
    reply = Ether() / IPv6(src="fd00::2", dst="fd00::1") / ICMPv6EchoReply(id=7, seq=1)
    request = Ether() / IPv6(src="fd00::1", dst="fd00::2") / ICMPv6EchoRequest(id=7, seq=1)
    assert "echo reply, id 7, seq 1" in summarize(Ether(bytes(reply)))
    assert "echo request, id 7, seq 1" in summarize(Ether(bytes(request)))


def test_gre_shows_the_packet_it_carries() -> None:
    frame = Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / GRE() / IP(src="10.99.0.1", dst="10.99.0.2") / ICMP()
    line = summarize(Ether(bytes(frame)))
    assert "10.0.0.1 > 10.0.0.2: GREv0, proto ethertype IPv4 (0x0800)" in line
    assert "10.99.0.1 > 10.99.0.2: ICMP echo request" in line
