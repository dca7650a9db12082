"""A small, fast reader of rtnetlink dumps (links, addresses, routes, neighbours, fdb).

Snapshots read the kernel after every step, so reading must be quick. pyroute2
decodes every attribute of every message (hundreds of microseconds per link);
this reader decodes only what labkit shows, straight from the bytes, and emits the
same flattened shape as :func:`labkit.state.raw.flatten` of a pyroute2 dump, so
the parser and the recorded dumps work with either.

**The one rule for netlink writes.** Devices and addresses (every ``link_add`` of
every kind, ``link_set``, bridge settings, ``link_del``, ``addr add/del``) are
written here, raw: each kind's request is packed from its declaration in
``labkit/kinds/`` (the same values the shown command carries), and these are the
ops a lab makes by the hundred. Routes, neighbours and bridge-port settings go
through pyroute2 (:meth:`labkit.targets.kernel.Kernel.ipr`), whose encoders for
them are complete and which labkit calls a few times per lab. No op is written
both ways.

A netlink message is a 16-byte header (length, type, flags, sequence, port), a
fixed struct (ifinfomsg, ifaddrmsg, rtmsg, ndmsg) and a list of attributes, each
``(length, type, value)`` padded to 4 bytes; some attributes nest more attributes.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import struct
from collections.abc import Callable
from typing import Any

from ..kinds import by_info_kind
from ..kinds.base import BRIDGE_ID

NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE, RTM_GETNEIGH, RTM_GETNSID = 18, 22, 26, 30, 90
AF_UNSPEC, AF_INET, AF_INET6, AF_BRIDGE = 0, 2, 10, 7
_HDR = struct.Struct("=LHHLL")
_ATTR = struct.Struct("=HH")
OPERSTATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")
STATS64 = ("rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_errors", "tx_errors", "rx_dropped", "tx_dropped")


class NetlinkFailure(OSError):
    """The kernel answered a request with an error code."""


def attrs(data: bytes, offset: int = 0, end: int | None = None) -> dict[int, bytes]:
    """The attributes in ``data[offset:end]`` by type (nesting flags masked off)."""
    end = len(data) if end is None else end
    found: dict[int, bytes] = {}
    while offset + 4 <= end:
        length, kind = _ATTR.unpack_from(data, offset)
        if length < 4:
            break
        found[kind & 0x3FFF] = data[offset + 4: offset + length]
        offset += (length + 3) & ~3
    return found


def _u8(b: bytes) -> int:
    return b[0]


def _u16(b: bytes) -> int:
    return int(struct.unpack_from("=H", b)[0])


def _be16(b: bytes) -> int:
    return int(struct.unpack_from("!H", b)[0])


def _u32(b: bytes) -> int:
    return int(struct.unpack_from("=I", b)[0])


def _s32(b: bytes) -> int:
    return int(struct.unpack_from("=i", b)[0])


def _str(b: bytes) -> str:
    return b.split(b"\0", 1)[0].decode(errors="replace")


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def _ip(b: bytes) -> str:
    return str(ipaddress.ip_address(b)) if len(b) in (4, 16) else _mac(b)


Decoder = Callable[[bytes], Any]
BRPORT: dict[int, tuple[str, Decoder]] = {
    1: ("IFLA_BRPORT_STATE", _u8), 2: ("IFLA_BRPORT_PRIORITY", _u16), 3: ("IFLA_BRPORT_COST", _u32),
    13: ("IFLA_BRPORT_ROOT_ID", BRIDGE_ID.decode), 14: ("IFLA_BRPORT_BRIDGE_ID", BRIDGE_ID.decode), 18: ("IFLA_BRPORT_NO", _u16),
}
#: how each kind's IFLA_INFO_DATA decodes, by IFLA_INFO_KIND: declared with the kind (labkit/kinds/)
KIND_DATA: dict[str, dict[int, tuple[str, Decoder]]] = {name: kind.decoders() for name, kind in by_info_kind().items()}


def _decode(raw: dict[int, bytes], table: dict[int, tuple[str, Decoder]]) -> dict[str, Any]:
    return {name: fn(raw[code]) for code, (name, fn) in table.items() if code in raw}


def decode_link(msg: bytes, offset: int) -> dict[str, Any]:
    family, ifi_type, index, flags, change = struct.unpack_from("=BxHiII", msg, offset)
    a = attrs(msg, offset + 16)
    out: dict[str, Any] = {"family": family, "ifi_type": ifi_type, "index": index, "flags": flags, "change": change}
    if 3 in a:
        out["IFLA_IFNAME"] = _str(a[3])
    if 1 in a:
        out["IFLA_ADDRESS"] = _mac(a[1])
    for code, name in ((4, "IFLA_MTU"), (5, "IFLA_LINK"), (10, "IFLA_MASTER")):
        if code in a:
            out[name] = _u32(a[code])
    if 16 in a:
        state = _u8(a[16])
        out["IFLA_OPERSTATE"] = OPERSTATES[state] if state < len(OPERSTATES) else str(state)
    if 33 in a:
        out["IFLA_CARRIER"] = _u8(a[33])
    if 37 in a:
        out["IFLA_LINK_NETNSID"] = _s32(a[37])
    if 23 in a:
        values = struct.unpack_from("=8Q", a[23])
        out["IFLA_STATS64"] = {k: v for k, v in zip(STATS64, values, strict=True) if k in
                               ("rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_dropped", "tx_dropped")}
    if 18 in a:
        info = attrs(a[18])
        linkinfo: dict[str, Any] = {}
        if 1 in info:
            kind = _str(info[1])
            linkinfo["IFLA_INFO_KIND"] = kind
            if 2 in info and kind in KIND_DATA:
                linkinfo["IFLA_INFO_DATA"] = _decode(attrs(info[2]), KIND_DATA[kind])
        if 4 in info:
            linkinfo["IFLA_INFO_SLAVE_KIND"] = _str(info[4])
            if 5 in info and linkinfo["IFLA_INFO_SLAVE_KIND"] == "bridge":
                linkinfo["IFLA_INFO_SLAVE_DATA"] = _decode(attrs(info[5]), BRPORT)
        out["IFLA_LINKINFO"] = linkinfo
    return out


def decode_addr(msg: bytes, offset: int) -> dict[str, Any]:
    family, prefixlen, flags, scope, index = struct.unpack_from("=BBBBI", msg, offset)
    a = attrs(msg, offset + 8)
    out: dict[str, Any] = {"family": family, "prefixlen": prefixlen, "flags": flags, "scope": scope, "index": index}
    for code, name in ((1, "IFA_ADDRESS"), (2, "IFA_LOCAL")):
        if code in a:
            out[name] = _ip(a[code])
    if 3 in a:
        out["IFA_LABEL"] = _str(a[3])
    return out


def decode_route(msg: bytes, offset: int) -> dict[str, Any]:
    family, dst_len, src_len, tos, table, proto, scope, rtype, flags = struct.unpack_from("=BBBBBBBBI", msg, offset)
    a = attrs(msg, offset + 12)
    out: dict[str, Any] = {"family": family, "dst_len": dst_len, "src_len": src_len, "tos": tos, "table": table,
                           "proto": proto, "scope": scope, "type": rtype, "flags": flags}
    for code, name in ((1, "RTA_DST"), (5, "RTA_GATEWAY"), (7, "RTA_PREFSRC")):
        if code in a:
            out[name] = _ip(a[code])
    for code, name in ((4, "RTA_OIF"), (6, "RTA_PRIORITY"), (15, "RTA_TABLE")):
        if code in a:
            out[name] = _u32(a[code])
    return out


def decode_neigh(msg: bytes, offset: int) -> dict[str, Any]:
    family, ifindex, state, flags, ndm_type = struct.unpack_from("=BxxxiHBB", msg, offset)
    a = attrs(msg, offset + 12)
    out: dict[str, Any] = {"family": family, "ifindex": ifindex, "state": state, "flags": flags, "ndm_type": ndm_type}
    if 1 in a:
        out["NDA_DST"] = _ip(a[1]) if family != AF_BRIDGE else _mac(a[1])
    if 2 in a:
        out["NDA_LLADDR"] = _mac(a[2])
    if 5 in a:
        out["NDA_VLAN"] = _u16(a[5])
    if 9 in a:
        out["NDA_MASTER"] = _u32(a[9])
    return out


DUMPS: dict[str, list[tuple[int, bytes, Callable[[bytes, int], dict[str, Any]]]]] = {
    "links": [(RTM_GETLINK, struct.pack("=BxHiII", AF_UNSPEC, 0, 0, 0, 0), decode_link)],
    "addrs": [(RTM_GETADDR, struct.pack("=BBBBI", AF_UNSPEC, 0, 0, 0, 0), decode_addr)],
    "routes": [(RTM_GETROUTE, struct.pack("=BBBBBBBBI", AF_INET, 0, 0, 0, 0, 0, 0, 0, 0), decode_route),
               (RTM_GETROUTE, struct.pack("=BBBBBBBBI", AF_INET6, 0, 0, 0, 0, 0, 0, 0, 0), decode_route)],
    "neigh": [(RTM_GETNEIGH, struct.pack("=BxxxiHBB", AF_UNSPEC, 0, 0, 0, 0), decode_neigh)],
    "fdb": [(RTM_GETNEIGH, struct.pack("=BxxxiHBB", AF_BRIDGE, 0, 0, 0, 0), decode_neigh)],
}


NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 0x4, 0x200, 0x400
RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR, RTM_DELADDR = 16, 17, 20, 21
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINK, IFLA_MASTER, IFLA_LINKINFO, IFLA_NET_NS_FD = 1, 3, 4, 5, 10, 18, 28
IFF_UP = 0x1


def attr(kind: int, value: bytes) -> bytes:
    """One netlink attribute, padded to 4 bytes."""
    return _ATTR.pack(4 + len(value), kind) + value + b"\0" * ((4 - len(value) % 4) % 4)


def ifinfo(index: int = 0, flags: int = 0, change: int = 0) -> bytes:
    return struct.pack("=BxHiII", AF_UNSPEC, 0, index, flags, change)


def cstr(text: str) -> bytes:
    return text.encode() + b"\0"


def _mac_bytes(mac: str) -> bytes:
    return bytes(int(x, 16) for x in mac.split(":"))


def info_data(attributes: list[tuple[int, bytes]]) -> bytes:
    """``IFLA_INFO_DATA``'s attributes (as a kind declares them, :meth:`labkit.kinds.base.Kind.info_data`) packed."""
    return b"".join(attr(code, value) for code, value in attributes)


class RawNetlink:
    """One NETLINK_ROUTE socket (already opened in the right namespace) for quick reads."""

    def __init__(self, fd: int) -> None:
        self.sock = socket.socket(fileno=fd)
        self.sock.bind((0, 0))
        self.seq = 0

    def close(self) -> None:
        self.sock.close()

    def _request(self, msg_type: int, flags: int, payload: bytes) -> list[tuple[bytes, int]]:
        """Send one request; return (message bytes, payload offset) of every answer."""
        self.seq += 1
        self.sock.send(_HDR.pack(16 + len(payload), msg_type, flags, self.seq, 0) + payload)
        answers: list[tuple[bytes, int]] = []
        while True:
            data = self.sock.recv(1 << 20)
            offset = 0
            while offset + 16 <= len(data):
                length, kind, _flags, seq, _pid = _HDR.unpack_from(data, offset)
                if length < 16:
                    return answers
                if seq == self.seq:
                    if kind == NLMSG_DONE:
                        return answers
                    if kind == NLMSG_ERROR:
                        code = -_s32(data[offset + 16: offset + 20])
                        if code:
                            raise NetlinkFailure(code, os.strerror(code))
                        return answers
                    answers.append((data[offset: offset + length], 16))
                offset += (length + 3) & ~3
            if not flags & NLM_F_DUMP:
                return answers

    def dump(self, what: str) -> list[dict[str, Any]]:
        """Every link, addr, route, neigh or fdb entry of this namespace, flattened."""
        found: list[dict[str, Any]] = []
        for msg_type, payload, decode in DUMPS[what]:
            found += [decode(msg, off) for msg, off in self._request(msg_type, NLM_F_REQUEST | NLM_F_DUMP, payload)]
        return found

    def link(self, name: str) -> dict[str, Any] | None:
        """The device called ``name``, or None."""
        try:
            answers = self._request(RTM_GETLINK, NLM_F_REQUEST, ifinfo() + attr(IFLA_IFNAME, cstr(name)))
        except NetlinkFailure as exc:
            if exc.errno == errno.ENODEV:
                return None
            raise
        return decode_link(*answers[0]) if answers else None

    def new_link(self, name: str, kind: str, data: bytes = b"", peer: str | None = None, peer_netns_fd: int | None = None,
                 link: int | None = None, address: str | None = None, peer_address: str | None = None) -> None:
        """``ip link add [link PARENT] NAME type KIND …``: ``data`` is the kind's packed ``IFLA_INFO_DATA``
        (:func:`info_data`), ``peer`` a veth's other end, ``link`` the ifindex of a parent device."""
        info = attr(1, kind.encode())
        if peer is not None:
            peer_msg = ifinfo() + attr(IFLA_IFNAME, cstr(peer))
            if peer_address is not None:
                peer_msg += attr(IFLA_ADDRESS, _mac_bytes(peer_address))
            if peer_netns_fd is not None:
                peer_msg += attr(IFLA_NET_NS_FD, struct.pack("=I", peer_netns_fd))
            data = attr(1, peer_msg) + data
        if data:
            info += attr(2, data)
        payload = ifinfo() + attr(IFLA_IFNAME, cstr(name)) + attr(IFLA_LINKINFO, info)
        if link is not None:
            payload += attr(IFLA_LINK, struct.pack("=I", link))
        if address is not None:
            payload += attr(IFLA_ADDRESS, _mac_bytes(address))
        self._request(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, payload)

    def set_link(self, index: int, up: bool | None = None, master: int | None = None, mtu: int | None = None,
                 mac: str | None = None, netns_fd: int | None = None, bridge: bytes | None = None) -> None:
        """``ip link set``: up/down, master (0 = nomaster), mtu, address, netns, bridge options."""
        flags = (IFF_UP if up else 0) if up is not None else 0
        payload = ifinfo(index, flags, IFF_UP if up is not None else 0)
        if master is not None:
            payload += attr(IFLA_MASTER, struct.pack("=I", master))
        if mtu is not None:
            payload += attr(IFLA_MTU, struct.pack("=I", mtu))
        if mac is not None:
            payload += attr(IFLA_ADDRESS, _mac_bytes(mac))
        if netns_fd is not None:
            payload += attr(IFLA_NET_NS_FD, struct.pack("=I", netns_fd))
        if bridge is not None:
            payload += attr(IFLA_LINKINFO, attr(1, b"bridge") + attr(2, bridge))
        self._request(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, payload)

    def del_link(self, index: int) -> None:
        self._request(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, ifinfo(index))

    def address(self, add: bool, index: int, address: str, prefixlen: int) -> None:
        """``ip addr add|del ADDRESS/PREFIXLEN dev INDEX``."""
        ip = ipaddress.ip_address(address)
        family = AF_INET if ip.version == 4 else AF_INET6
        payload = struct.pack("=BBBBI", family, prefixlen, 0, 0, index) + attr(2, ip.packed) + attr(1, ip.packed)
        flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_CREATE | NLM_F_EXCL if add else 0)
        self._request(RTM_NEWADDR if add else RTM_DELADDR, flags, payload)

    def set_up(self, index: int, up: bool = True) -> None:
        """``ip link set dev <index> up|down`` (RTM_NEWLINK with IFF_UP in the change mask)."""
        self.set_link(index, up=up)

    def nsid(self, netns_fd: int) -> int | None:
        """How this namespace numbers the namespace behind ``netns_fd`` (None if unnumbered)."""
        try:
            answers = self._request(RTM_GETNSID, NLM_F_REQUEST, struct.pack("=Bxxx", AF_UNSPEC) + attr(3, struct.pack("=I", netns_fd)))
        except NetlinkFailure:
            return None
        for msg, off in answers:
            value = attrs(msg, off + 4).get(1)
            if value is not None:
                nsid = _s32(value)
                return nsid if nsid >= 0 else None
        return None
