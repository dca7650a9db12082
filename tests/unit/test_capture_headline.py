"""A pane's row leads with what decides the lesson (labkit/capture/headline.py), tcpdump's line after it."""

from __future__ import annotations

from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import ARP, LLC, STP, Dot3, Ether

from labkit.capture.decode import Frame
from labkit.capture.headline import headline

CLIENT = "02:fd:00:00:00:01"


def dhcp(kind: str, op: int, yiaddr: str = "0.0.0.0", **options: str) -> Ether:
    chaddr = bytes.fromhex(CLIENT.replace(":", "")) + b"\0" * 10
    return Ether(bytes(Ether(src=CLIENT) / IP(src="10.0.0.2" if op == 2 else "0.0.0.0", dst="255.255.255.255")
            / UDP(sport=67 if op == 2 else 68, dport=68 if op == 2 else 67)
            / BOOTP(op=op, chaddr=chaddr, yiaddr=yiaddr)
            / DHCP(options=[("message-type", kind), *options.items(), "end"])))


def test_the_four_dhcp_messages_at_a_glance() -> None:
    assert headline(dhcp("discover", 1)) == f"DHCP DISCOVER from {CLIENT}"
    assert headline(dhcp("offer", 2, "10.0.0.50")) == f"DHCP OFFER 10.0.0.50 → {CLIENT}"
    assert headline(dhcp("request", 1, requested_addr="10.0.0.50")) == f"DHCP REQUEST from {CLIENT} (wants 10.0.0.50)"
    assert headline(dhcp("ack", 2, "10.0.0.50")) == f"DHCP ACK 10.0.0.50 → {CLIENT}"


def test_arp_icmp_and_stp_say_what_they_are_first() -> None:
    assert headline(Ether() / ARP(op=1, psrc="10.0.0.1", pdst="10.0.0.2")) == "ARP who-has 10.0.0.2? tell 10.0.0.1"
    assert headline(Ether() / ARP(op=2, psrc="10.0.0.2", hwsrc=CLIENT)) == f"ARP 10.0.0.2 is-at {CLIENT}"
    assert headline(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=8, seq=3)) == \
        "ICMP echo request 10.0.0.1 → 10.0.0.2 seq 3"
    assert headline(Ether() / IP(src="10.0.0.2", dst="10.0.0.1") / ICMP(type=0, seq=3)).startswith("ICMP echo reply")
    bpdu = Dot3(dst="01:80:c2:00:00:00") / LLC(dsap=0x42, ssap=0x42, ctrl=3) / STP(
        rootid=0x8000, rootmac="02:00:00:00:00:01", pathcost=4, bridgeid=0x8000, bridgemac="02:00:00:00:00:02", portid=0x8001)
    assert headline(bpdu) == "STP BPDU root 8000.02:00:00:00:00:01 cost 4 from 8000.02:00:00:00:00:02 port 8001"


def test_the_row_puts_the_headline_before_the_tcpdump_line() -> None:
    from labkit.capture.session import DeviceCapture
    from labkit.widgets.capture import CapturePane

    data = bytes(dhcp("ack", 2, "10.0.0.50"))

    class One:
        filter, started_at, t0, running = "", 99.0, 100.0, False

        def __init__(self) -> None:
            self.listeners: list[object] = []
            self.devices = {"main/eth0": DeviceCapture("main", "eth0", frames=[Frame(0, 100.25, data, len(data))])}

    row = CapturePane(One(), "main/eth0").rows.value
    head, tcpdump = row.index(f"DHCP ACK 10.0.0.50 → {CLIENT}"), row.index("BOOTP/DHCP, Reply")
    assert head < tcpdump and '<span class="lk-t" title="+0.250000 s">+0.250</span>' in row  # time from t0
