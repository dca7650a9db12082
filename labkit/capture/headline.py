"""The first words of a pane's row: what the packet *is* in the lesson, before tcpdump's details.

tcpdump puts the link header first and the meaning last: a DHCP ACK is "… > 255.255.255.255.68:
BOOTP/DHCP, Reply from …, DHCP ACK, Your-IP 10.0.0.50, length 300", three lines into a pane. A
headline turns that round: ``DHCP ACK 10.0.0.50 → 02:fd:00:00:00:01``, ``ARP who-has 10.0.0.2?
tell 10.0.0.1``, ``ICMP echo reply 10.0.0.2 → 10.0.0.1 seq 3``, ``STP BPDU root 8000.02:… cost 4``.
The tcpdump line stays next to it (and whole when the row is opened). Pure: a scapy packet in,
a short string out ('' when there is nothing better to say than tcpdump's line).
"""

from __future__ import annotations

from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, UDPerror
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, IPv6
from scapy.layers.l2 import ARP, GRE, STP, Ether
from scapy.layers.vxlan import VXLAN
from scapy.packet import NoPayload, Packet

DHCP_WORDS = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK", 7: "RELEASE", 8: "INFORM"}
UNREACH = {0: "net", 1: "host", 2: "protocol", 3: "port", 4: "need-to-fragment", 13: "admin-prohibited"}


def headline(pkt: Packet) -> str:
    """What decides the lesson about ``pkt``, in a few words; '' when tcpdump's line says it best."""
    try:
        return _headline(pkt)
    except Exception:  # a malformed frame: its tcpdump line says so
        return ""


def _layers(pkt: Packet) -> dict[type, Packet]:
    """Each layer class of ``pkt`` → its outermost layer: one walk (``haslayer`` walks again each call)."""
    found: dict[type, Packet] = {}
    layer = pkt
    while layer is not None and not isinstance(layer, NoPayload):
        found.setdefault(type(layer), layer)
        layer = layer.payload
    return found


def _headline(pkt: Packet) -> str:
    at = _layers(pkt)
    if VXLAN in at:
        return f"VXLAN vni {at[VXLAN].vni}: {_headline(at[VXLAN].payload) or 'frame'}"
    if GRE in at and isinstance(at[GRE].payload, IP | IPv6 | Ether):
        return f"GRE: {_headline(at[GRE].payload) or 'packet'}"
    if DHCP in at and BOOTP in at:
        return _dhcp(at[DHCP], at[BOOTP])
    if ARP in at:
        arp = at[ARP]
        if arp.op == 1:
            return f"ARP who-has {arp.pdst}? tell {arp.psrc}"
        if arp.op == 2:
            return f"ARP {arp.psrc} is-at {arp.hwsrc}"
        return f"ARP op {arp.op}"
    if STP in at:
        return _stp(at[STP])
    if ICMP in at and IP in at:
        return _icmp(at[IP], at[ICMP])
    if IPv6 in at:
        ip6 = at[IPv6]
        for kind, cls in (("reply", ICMPv6EchoReply), ("request", ICMPv6EchoRequest)):
            if cls in at:
                return f"ICMP6 echo {kind} {ip6.src} → {ip6.dst} seq {at[cls].seq}"
        if ICMPv6ND_NS in at:
            return f"ICMP6 who-has {at[ICMPv6ND_NS].tgt}?"
        if ICMPv6ND_NA in at:
            return f"ICMP6 {at[ICMPv6ND_NA].tgt} is here"
    ip = at.get(IP) or at.get(IPv6)
    if ip is not None and TCP in at:
        tcp = at[TCP]
        flags = "".join(ch for bit, ch in ((0x02, "S"), (0x01, "F"), (0x04, "R"), (0x08, "P"), (0x10, "."))
                        if int(tcp.flags) & bit)
        return f"TCP {ip.src}:{tcp.sport} → {ip.dst}:{tcp.dport} [{flags}]"
    if ip is not None and UDP in at:
        udp = at[UDP]
        return f"UDP {ip.src}:{udp.sport} → {ip.dst}:{udp.dport}"
    return ""


def _dhcp(dhcp: Packet, bootp: Packet) -> str:
    options = dict(o for o in dhcp.options if isinstance(o, tuple) and len(o) == 2)
    kind = options.get("message-type")
    words: dict[object, str] = dict(DHCP_WORDS.items()) | {v.lower(): v for v in DHCP_WORDS.values()}  # wire, or built by scapy
    word = words.get(kind, f"type {kind}") if kind is not None else "BOOTP"
    client = bytes(bootp.chaddr[:6]).hex(":")
    offered = bootp.yiaddr if bootp.yiaddr and bootp.yiaddr != "0.0.0.0" else options.get("requested_addr")
    if bootp.op == 2:  # from the server: the address it gives, to whom
        return f"DHCP {word} {offered or ''} → {client}".replace("  ", " ")
    return f"DHCP {word} from {client}" + (f" (wants {offered})" if offered else "")


def _stp(stp: Packet) -> str:
    if int(stp.bpdutype) == 0x80:
        return "STP BPDU topology change notification"
    tc = ", topology change" if int(stp.bpduflags) & 0x01 else ""
    return (f"STP BPDU root {int(stp.rootid):04x}.{stp.rootmac} cost {stp.pathcost} "
            f"from {int(stp.bridgeid):04x}.{stp.bridgemac} port {int(stp.portid):04x}{tc}")


def _icmp(ip: Packet, icmp: Packet) -> str:
    kind = int(icmp.type)
    if kind in (0, 8):
        return f"ICMP echo {'reply' if kind == 0 else 'request'} {ip.src} → {ip.dst} seq {icmp.seq}"
    if kind == 3:
        inner = icmp.payload
        what = UNREACH.get(int(icmp.code), f"code {icmp.code}")
        port = f" udp {inner.payload.dport}" if isinstance(inner, IPerror) and isinstance(inner.payload, UDPerror) else ""
        dst = inner.dst if isinstance(inner, IPerror) else "?"
        return f"ICMP {what} unreachable: {dst}{port} (from {ip.src})"
    if kind == 11:
        return f"ICMP time exceeded (from {ip.src})"
    return f"ICMP type {kind} {ip.src} → {ip.dst}"
