"""Captured frames → scapy packets → one-line summaries, like ``tcpdump -n -e``.

This module is pure: bytes in, text out. It imports the scapy layers it needs by
name (Ethernet/ARP/802.1Q/STP, IPv4, IPv6, DHCP, VXLAN, Geneve); scapy decodes a
packet only as far as the layers it has loaded, and without these imports every
frame comes back as an opaque ``Raw`` blob. When a frame still cannot be decoded,
the summary says so ("ethertype Unknown (0x88b5), not decoded") instead of
pretending.

*Direction*: a pcap file of an Ethernet device (link type EN10MB) does not record
whether a frame came in or went out. It can be told from the device's own MAC
address: a frame whose source is that MAC was sent by the device (out); one
addressed to it, or any frame on a device that is not a bridge port, was received
(in). A bridge port also carries frames between other hosts, in either direction,
so there the MAC cannot tell. That is why bridge ports are captured with the Linux
"cooked" header v2 (link type LINUX_SLL2, see :mod:`labkit.targets.agent_capture`):
the kernel tells every packet's type (to this host, broadcast, multicast, to another
host, or *outgoing*) and the interface index, and :func:`direction` reads it from
there: outgoing is out, every other type is in. The cooked header keeps the
sender's MAC, not the destination's; the packet type says who it was for.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, field

from scapy.contrib.geneve import GENEVE
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, UDPerror
from scapy.layers.inet6 import (
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6ND_RS,
    IPv6,
)
from scapy.layers.l2 import ARP, GRE, LLC, STP, CookedLinux, CookedLinuxV2, Dot1Q, Dot3, Ether, Loopback
from scapy.layers.vxlan import VXLAN
from scapy.packet import Packet, Raw

from .headline import headline

#: pcap link types (DLT_*) this module decodes.
LINKTYPES: dict[int, str] = {0: "NULL", 1: "EN10MB", 12: "RAW", 101: "RAW", 113: "LINUX_SLL", 276: "LINUX_SLL2"}
ETHERTYPES = {0x0800: "IPv4", 0x0806: "ARP", 0x86DD: "IPv6", 0x8100: "802.1Q", 0x88A8: "802.1Q-QinQ",
              0x8035: "RARP", 0x88CC: "LLDP", 0x8847: "MPLS unicast", 0x6558: "Ethernet (TEB)"}
ZERO_MAC = "00:00:00:00:00:00"
SLL2_LEN = 20  # the cooked v2 header: protocol, reserved, ifindex, ARPHRD type, packet type, address length, address
ETH_P_802_2 = 0x0004  # the "protocol" of an 802.3 frame with an LLC header (STP BPDUs), as the kernel names it
PACKET_OUTGOING = 4  # the packet types of <linux/if_packet.h>: 0 host, 1 broadcast, 2 multicast, 3 otherhost
PKTTYPES = {0: "to us", 1: "broadcast", 2: "multicast", 3: "to another host", 4: "sent by us"}
DHCP_TYPES = {1: "Discover", 2: "Offer", 3: "Request", 4: "Decline", 5: "ACK", 6: "NAK", 7: "Release", 8: "Inform"}
ICMP_TYPES = {0: "echo reply", 3: "unreachable", 5: "redirect", 8: "echo request", 11: "time exceeded",
              12: "parameter problem", 13: "time stamp request", 14: "time stamp reply"}
UNREACH = {0: "net", 1: "host", 2: "protocol", 3: "port", 4: "need to frag", 13: "admin prohibited"}
IP_PROTOS = {1: "ICMP", 2: "IGMP", 4: "IPIP", 6: "TCP", 17: "UDP", 41: "IPv6", 47: "GRE", 50: "ESP", 58: "ICMP6",
             89: "OSPF", 112: "VRRP", 132: "SCTP"}


@dataclass
class Frame:
    """One captured frame: where it sits in its capture, when, and its bytes.

    ``packet`` and ``summary`` are decoded on first use and kept: a pane shows a few
    hundred rows of a capture that may hold tens of thousands of frames.
    """

    index: int
    time: float
    data: bytes
    wirelen: int
    linktype: int = 1
    _packet: Packet | None = field(default=None, repr=False, compare=False)
    _summary: str | None = field(default=None, repr=False, compare=False)
    _headline: str | None = field(default=None, repr=False, compare=False)

    @property
    def packet(self) -> Packet:
        if self._packet is None:
            self._packet = dissect(self.linktype, self.data)
            self._packet.time = self.time
        return self._packet

    @property
    def summary(self) -> str:
        if self._summary is None:
            self._summary = summarize(self.packet, self.wirelen)
        return self._summary

    @property
    def headline(self) -> str:
        """What the packet is in the lesson, first ('' when the tcpdump line says it best): :mod:`.headline`."""
        if self._headline is None:
            self._headline = headline(self.packet)
        return self._headline

    def direction(self, mac: str | None, is_port: bool = False) -> str:
        return direction(self.data, self.linktype, mac, is_port)

    @property
    def src_mac(self) -> str | None:
        """The sender's MAC: the Ethernet source, or the address in a cooked header; None without one."""
        data = self.data
        if self.linktype == 1 and len(data) >= 12:
            return data[6:12].hex(":")
        if self.linktype == 276 and len(data) >= SLL2_LEN and data[11] == 6:
            return data[12:18].hex(":")
        if self.linktype == 113 and len(data) >= 16 and int.from_bytes(data[4:6], "big") == 6:
            return data[6:12].hex(":")
        return None

    def layers(self) -> str:
        """Every decoded layer and field, as scapy's ``show()`` prints them."""
        return str(self.packet.show(dump=True))


def dissect(linktype: int, data: bytes) -> Packet:
    """The scapy packet of ``data`` captured with pcap link type ``linktype``."""
    if linktype == 1:
        return Ether(data)
    if linktype in (12, 101, 228, 229):  # raw IP (tun devices): the version nibble tells v4 from v6
        return IPv6(data) if data[:1] and data[0] >> 4 == 6 else IP(data)
    if linktype == 113:
        return CookedLinux(data)
    if linktype == 276:
        pkt = CookedLinuxV2(data)
        if int(pkt.proto) == ETH_P_802_2 and len(data) > SLL2_LEN:  # 802.3 frames (STP BPDUs): LLC follows
            pkt = CookedLinuxV2(data[:SLL2_LEN]) / LLC(data[SLL2_LEN:])
        return pkt
    if linktype == 0:
        return Loopback(data)
    return Raw(data)  # summarize() names the link type it could not decode


def direction(data: bytes, linktype: int, mac: str | None, is_port: bool = False) -> str:
    """'in', 'out' or '' (unknown) for a frame seen on a device whose MAC is ``mac``.

    A cooked frame (LINUX_SLL2, LINUX_SLL) carries the kernel's packet type: that decides.
    An Ethernet frame is judged by the device's MAC (see the module docstring)."""
    if linktype == 276 and len(data) >= SLL2_LEN:
        return "out" if data[10] == PACKET_OUTGOING else "in"
    if linktype == 113 and len(data) >= 16:
        return "out" if int.from_bytes(data[0:2], "big") == PACKET_OUTGOING else "in"
    if linktype != 1 or not mac or mac == ZERO_MAC or len(data) < 12:
        return ""
    own = bytes.fromhex(mac.replace(":", ""))
    if data[6:12] == own:
        return "out"
    if data[0:6] == own or not is_port:
        return "in"
    return ""


def clock(ts: float, start: float | None = None) -> str:
    """A time column: seconds since ``start`` ('+1.000123'), or the wall clock like tcpdump."""
    if start is not None:
        return f"+{ts - start:.6f}"
    return _time.strftime("%H:%M:%S", _time.localtime(ts)) + f".{int((ts % 1) * 1e6):06d}"


def summarize(pkt: Packet, wirelen: int | None = None) -> str:
    """One line per packet, in the manner of ``tcpdump -n -e``."""
    length = wirelen if wirelen is not None else len(pkt)
    try:
        if isinstance(pkt, Ether | Dot3):
            return _ether(pkt, length)
        if isinstance(pkt, IP | IPv6):  # raw IP (a tun device): no link header, as tcpdump prints it
            return f"{'IP6' if isinstance(pkt, IPv6) else 'IP'} {_l3(pkt)}"
        if isinstance(pkt, CookedLinux | CookedLinuxV2):
            src = pkt.src.hex(":")[:17] if isinstance(pkt.src, bytes) else pkt.src
            index = f" ifindex {pkt.ifindex}" if isinstance(pkt, CookedLinuxV2) else ""
            proto = int(pkt.proto)
            if proto == ETH_P_802_2:
                return f"{_sll_dir(pkt)}{index} {src}, 802.3, length {length}: {_llc(pkt.payload)}"
            return f"{_sll_dir(pkt)}{index} {src}, {_ethertype(proto)}, length {length}: {_payload(pkt.payload, proto)}"
        if isinstance(pkt, Loopback):
            return f"loopback, length {length}: {_l3(pkt.payload)}"
    except Exception as exc:  # a malformed frame must not break a pane
        return f"length {length}: malformed ({type(exc).__name__}: {exc})"
    return f"link-type {pkt.name}, length {length}: not decoded ({len(bytes(pkt))} bytes)"


def _ethertype(value: int) -> str:
    return f"ethertype {ETHERTYPES.get(value, 'Unknown')} (0x{value:04x})"


def _ether(pkt: Packet, length: int) -> str:
    head = f"{pkt.src} > {pkt.dst}"
    if isinstance(pkt, Dot3):
        return f"{head}, 802.3, length {length}: {_llc(pkt.payload)}"
    etype = int(pkt.type)
    return f"{head}, {_ethertype(etype)}, length {length}: {_payload(pkt.payload, etype)}"


def _payload(layer: Packet, etype: int) -> str:
    """The part after the link header, by ethertype."""
    if isinstance(layer, Dot1Q):
        inner = int(layer.type)
        return f"vlan {layer.vlan}, p {layer.prio}, {_ethertype(inner)}, {_payload(layer.payload, inner)}"
    if isinstance(layer, ARP):
        return _arp(layer)
    if isinstance(layer, IP | IPv6):
        return _l3(layer)
    if isinstance(layer, Ether):  # transparent Ethernet bridging (gretap)
        return _ether(layer, len(layer))
    return f"not decoded ({len(bytes(layer))} bytes)"


def _llc(inner: Packet) -> str:
    """An 802.3 frame's LLC payload: STP BPDUs are the ones a lab meets."""
    if isinstance(inner, LLC) and isinstance(inner.payload, STP):
        return _stp(inner.payload)
    return f"LLC dsap 0x{getattr(inner, 'dsap', 0):02x}, not decoded"


def _arp(arp: Packet) -> str:
    if arp.op == 1:
        return f"Request who-has {arp.pdst} tell {arp.psrc}, length {len(bytes(arp)) if arp.plen else 28}"
    if arp.op == 2:
        return f"Reply {arp.psrc} is-at {arp.hwsrc}, length 28"
    return f"ARP op {arp.op}, {arp.psrc} > {arp.pdst}"


def _stp(stp: Packet) -> str:
    kind = {0x00: "Config", 0x80: "TCN", 0x02: "RSTP"}.get(int(stp.bpdutype), f"type 0x{int(stp.bpdutype):02x}")
    proto = {0: "802.1d", 2: "802.1w"}.get(int(stp.version), f"v{stp.version}")
    if int(stp.bpdutype) == 0x80:
        return f"STP {proto}, {kind}"
    flags = [name for bit, name in ((0x01, "Topology change"), (0x80, "Topology change ack")) if int(stp.bpduflags) & bit]
    return (f"STP {proto}, {kind}, Flags [{', '.join(flags) or 'none'}], "
            f"bridge-id {int(stp.bridgeid):04x}.{stp.bridgemac}.{int(stp.portid):04x}, "
            f"root-id {int(stp.rootid):04x}.{stp.rootmac}, root-pathcost {stp.pathcost}")


def _l3(ip: Packet) -> str:
    """IPv4 / IPv6 and what they carry."""
    src, dst = ip.src, ip.dst
    l4 = ip.payload
    if isinstance(ip, IP) and (int(ip.flags) & 1 or ip.frag):
        return f"{src} > {dst}: {IP_PROTOS.get(ip.proto, ip.proto)} fragment, offset {ip.frag * 8}"
    if isinstance(l4, UDP):
        return f"{src}.{l4.sport} > {dst}.{l4.dport}: {_udp(l4)}"
    if isinstance(l4, TCP):
        return f"{src}.{l4.sport} > {dst}.{l4.dport}: {_tcp(l4)}"
    if isinstance(l4, ICMP):
        return f"{src} > {dst}: {_icmp(l4)}"
    if isinstance(ip, IPv6) and str(l4.name).startswith("ICMPv6"):
        return f"{src} > {dst}: ICMP6, {_icmp6(l4)}"
    if isinstance(l4, IP | IPv6):
        return f"{src} > {dst}: {IP_PROTOS.get(getattr(ip, 'proto', 0), 'IP')}: {_l3(l4)}"
    if isinstance(l4, GRE):
        inner = l4.payload
        carried = _l3(inner) if isinstance(inner, IP | IPv6) else _inner_ether(inner)
        return f"{src} > {dst}: GREv{int(l4.version)}, proto {_ethertype(int(l4.proto))}, length {len(bytes(l4))}: {carried}"
    proto = ip.proto if isinstance(ip, IP) else ip.nh
    return f"{src} > {dst}: {IP_PROTOS.get(int(proto), f'ip-proto-{proto}')}, length {len(bytes(l4))}"


def _udp(udp: Packet) -> str:
    inner = udp.payload
    if isinstance(inner, VXLAN):
        return f"VXLAN, flags [I] (0x{int(inner.flags):02x}), vni {inner.vni}: {_inner_ether(inner.payload)}"
    if isinstance(inner, GENEVE):
        return f"Geneve, vni 0x{int(inner.vni):x}, proto 0x{int(inner.proto):04x}: {_inner_ether(inner.payload)}"
    if isinstance(inner, BOOTP):
        op = "Request" if inner.op == 1 else "Reply"
        mac = bytes(inner.chaddr[:6]).hex(":")
        text = f"BOOTP/DHCP, {op} from {mac}"
        dhcp = inner.getlayer(DHCP)
        if dhcp is not None:
            for opt in dhcp.options:
                if isinstance(opt, tuple) and opt[0] == "message-type":
                    text += f", DHCP {DHCP_TYPES.get(int(opt[1]), opt[1])}"
        if inner.yiaddr and inner.yiaddr != "0.0.0.0":
            text += f", Your-IP {inner.yiaddr}"
        return f"{text}, length {len(bytes(inner))}"
    return f"UDP, length {max(0, int(udp.len or 8) - 8)}"


def _inner_ether(layer: Packet) -> str:
    if isinstance(layer, Ether):
        return f"{layer.src} > {layer.dst}, {_ethertype(int(layer.type))}, length {len(bytes(layer))}: " \
               f"{_payload(layer.payload, int(layer.type))}"
    return f"not decoded ({len(bytes(layer))} bytes)"


def _tcp(tcp: Packet) -> str:
    flags = "".join(ch for bit, ch in ((0x02, "S"), (0x01, "F"), (0x04, "R"), (0x08, "P"), (0x20, "U"))
                    if int(tcp.flags) & bit) + ("." if int(tcp.flags) & 0x10 else "")
    text = f"Flags [{flags or 'none'}], seq {tcp.seq}"
    if int(tcp.flags) & 0x10:
        text += f", ack {tcp.ack}"
    return text + f", win {tcp.window}, length {len(bytes(tcp.payload))}"


def _icmp(icmp: Packet) -> str:
    kind = int(icmp.type)
    if kind in (0, 8):
        return f"ICMP {ICMP_TYPES[kind]}, id {icmp.id}, seq {icmp.seq}, length {len(bytes(icmp))}"
    if kind == 3:
        inner = icmp.payload
        what = UNREACH.get(int(icmp.code), f"code {icmp.code}")
        if isinstance(inner, IPerror) and isinstance(inner.payload, UDPerror) and int(icmp.code) == 3:
            return f"ICMP {inner.dst} udp port {inner.payload.dport} unreachable, length {len(bytes(icmp))}"
        dst = inner.dst if isinstance(inner, IPerror) else "?"
        return f"ICMP {dst} {what} unreachable, length {len(bytes(icmp))}"
    return f"ICMP {ICMP_TYPES.get(kind, f'type {kind}')}, code {icmp.code}, length {len(bytes(icmp))}"


def _icmp6(icmp: Packet) -> str:
    if isinstance(icmp, ICMPv6EchoRequest | ICMPv6EchoReply):
        # ICMPv6EchoReply subclasses ICMPv6EchoRequest in scapy: ask for the reply first
        kind = "echo reply" if isinstance(icmp, ICMPv6EchoReply) else "echo request"
        return f"{kind}, id {icmp.id}, seq {icmp.seq}, length {len(bytes(icmp))}"
    if isinstance(icmp, ICMPv6ND_NS):
        return f"neighbor solicitation, who has {icmp.tgt}, length {len(bytes(icmp))}"
    if isinstance(icmp, ICMPv6ND_NA):
        return f"neighbor advertisement, tgt is {icmp.tgt}, length {len(bytes(icmp))}"
    if isinstance(icmp, ICMPv6ND_RS):
        return f"router solicitation, length {len(bytes(icmp))}"
    if isinstance(icmp, ICMPv6ND_RA):
        return f"router advertisement, length {len(bytes(icmp))}"
    return f"{icmp.name}, length {len(bytes(icmp))}"


def _sll_dir(pkt: Packet) -> str:
    return {0: "In", 1: "B", 2: "M", 3: "P", 4: "Out"}.get(int(pkt.pkttype), "?")

