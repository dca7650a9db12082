"""The rootless fallback capture: a small tcpdump in Python.

In a user namespace (Binder's rootless mode) tcpdump opens the device but then fails to change its
user ("Couldn't change to 'root'": setgroups is denied there). This program does what the agent
needs of tcpdump with an AF_PACKET socket instead: the same "listening on" line, pcap on stdout
flushed per packet, the kernel's own timestamps, the filter compiled by libpcap and run in the
kernel, SIGINT to stop, and the same three counts at the end.

``-y LINUX_SLL2`` gives what tcpdump gives for a bridge port (see :mod:`labkit.targets.agent_capture`):
a SOCK_DGRAM socket (the kernel strips the link header), and each record starts with the cooked v2
header built from the socket address the kernel fills in (protocol, interface index, ARPHRD type,
packet type, the sender's address). The filter is compiled for LINUX_SLL2 and then moved onto the
socket as libpcap does: offsets into the payload lose the header's 20 bytes, the header's protocol,
interface index and packet type become the kernel's "ancillary" loads; a filter that reads any
other header byte runs here instead, per packet (``pcap_offline_filter``). A VLAN tag the kernel
holds out of band is not put back (libpcap does that; no lab captures tagged frames on a port).
"""

from __future__ import annotations

import sys
from typing import Any

BUFFER_KIB = 32768  # the kernel ring a capture reads from: 32 MiB absorbs a burst while the reader catches up


SLL2_LEN = 20


def _libpcap() -> object:
    import ctypes
    import ctypes.util

    return ctypes.CDLL(ctypes.util.find_library("pcap") or "libpcap.so.0.8")


def _compile_filter(expression: str, dlt: int, snaplen: int) -> bytes:
    """The classic-BPF program of a pcap-filter ``expression``, as the kernel's sock_filter array."""
    import ctypes

    pcap: Any = _libpcap()

    class BpfProgram(ctypes.Structure):
        _fields_ = [("bf_len", ctypes.c_uint), ("bf_insns", ctypes.c_void_p)]

    pcap.pcap_open_dead.restype = ctypes.c_void_p
    pcap.pcap_geterr.restype = ctypes.c_char_p
    handle = pcap.pcap_open_dead(dlt, snaplen)
    program = BpfProgram()
    if pcap.pcap_compile(ctypes.c_void_p(handle), ctypes.byref(program), expression.encode(), 1, 0xFFFFFFFF) != 0:
        raise SystemExit(f"tcpdump: {pcap.pcap_geterr(ctypes.c_void_p(handle)).decode()}")
    return ctypes.string_at(program.bf_insns, program.bf_len * 8)


def cooked_for_kernel(code: bytes) -> bytes | None:
    """A LINUX_SLL2 program made to run on a SOCK_DGRAM socket, as libpcap's ``fix_offset`` does;
    None when it reads a header byte the kernel cannot give (then the filter runs in user space)."""
    import struct

    skf_ad = 0xFFFFF000  # SKF_AD_OFF (-0x1000) as the unsigned k of an instruction
    header = {0: skf_ad + 0, 4: skf_ad + 8, 10: skf_ad + 4}  # protocol, ifindex, pkttype
    out = []
    for jcode, jt, jf, k in struct.iter_unpack("HBBI", code):
        if jcode & 0x07 in (0x00, 0x01) and jcode & 0xE0 in (0x20, 0x40, 0xA0) and k < skf_ad:  # LD/LDX ABS/IND/MSH
            if k >= SLL2_LEN:
                k -= SLL2_LEN
            elif k in header:
                k = header[k]
            else:
                return None
        out.append(struct.pack("HBBI", jcode, jt, jf, k))
    return b"".join(out)


def _offline_filter(code: bytes) -> Any:
    """``matches(record)``: libpcap runs ``code`` on one record in user space."""
    import ctypes

    pcap: Any = _libpcap()

    class BpfProgram(ctypes.Structure):
        _fields_ = [("bf_len", ctypes.c_uint), ("bf_insns", ctypes.c_void_p)]

    class PktHdr(ctypes.Structure):
        _fields_ = [("sec", ctypes.c_long), ("usec", ctypes.c_long), ("caplen", ctypes.c_uint32), ("len", ctypes.c_uint32)]

    insns = ctypes.create_string_buffer(code)
    program = BpfProgram(len(code) // 8, ctypes.addressof(insns))

    def matches(record: bytes) -> bool:
        hdr = PktHdr(0, 0, len(record), len(record))
        return bool(pcap.pcap_offline_filter(ctypes.byref(program), ctypes.byref(hdr), record))

    matches.keep = (insns, program)  # type: ignore[attr-defined]  # the buffers live as long as the function
    return matches


def capture_main(argv: list[str] | None = None) -> int:
    """``labkit-capture -i DEV [-s SNAPLEN] [-c COUNT] [FILTER]``, run in the namespace as ``python -c``.

    Standard library only: the agent sends this module's source as the program (``python -I -c``)."""
    import argparse
    import ctypes
    import signal
    import socket
    import struct
    import sys
    import threading
    import time

    parser = argparse.ArgumentParser(prog="labkit-capture")
    parser.add_argument("-i", dest="dev", required=True)
    parser.add_argument("-s", dest="snaplen", type=int, default=262144)
    parser.add_argument("-c", dest="count", type=int, default=0)
    parser.add_argument("-y", dest="linktype", default="", choices=["", "LINUX_SLL2"])
    parser.add_argument("filter", nargs="*")
    args = parser.parse_args(argv)
    ETH_P_ALL = 0x0003
    PACKET_OUTGOING = 4
    SO_ATTACH_FILTER = 26
    SO_TIMESTAMPNS = 35
    SO_RCVBUFFORCE = 33
    PACKET_ADD_MEMBERSHIP = 1
    PACKET_MR_PROMISC = 1
    PACKET_STATISTICS = 6
    SOL_PACKET = 263
    # device type → (the pcap file's LINKTYPE, libpcap's DLT for compiling the filter, tcpdump's name); they
    # differ for raw IP (tun): the file says LINKTYPE_RAW 101, pcap_open_dead wants Linux's DLT_RAW 12
    DLT_OF_ARPHRD = {1: (1, 1, "EN10MB (Ethernet)"), 772: (1, 1, "EN10MB (Ethernet)"), 65534: (101, 12, "RAW (Raw IP)")}
    err, out = sys.stderr, sys.stdout.buffer
    try:
        with open(f"/sys/class/net/{args.dev}/type", encoding="ascii") as fh:
            arphrd = int(fh.read())
    except OSError:
        print(f"tcpdump: {args.dev}: No such device exists", file=err, flush=True)
        return 1
    if arphrd not in DLT_OF_ARPHRD:
        print(f"tcpdump: {args.dev}: device type {arphrd} is not supported by the rootless capture", file=err, flush=True)
        return 1
    linktype, dlt, dlt_name = DLT_OF_ARPHRD[arphrd]
    cooked = args.linktype == "LINUX_SLL2"
    if cooked:  # LINKTYPE and DLT are both 276 for the cooked v2 header
        linktype, dlt, dlt_name = 276, 276, "LINUX_SLL2 (Linux cooked v2)"
    # Protocol 0: the socket receives nothing until bind() names the device and ETH_P_ALL, so no
    # packet of another device, and none that the filter (attached before bind) would refuse, is
    # queued in between (as libpcap does it; a socket opened with ETH_P_ALL queued the namespace's
    # IPv6 chatter before its filter was attached, one CI run in a few).
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM if cooked else socket.SOCK_RAW, 0)
    for option, value in ((SO_RCVBUFFORCE, BUFFER_KIB << 10), (socket.SO_RCVBUF, BUFFER_KIB << 10)):
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, value)
            break
        except OSError:
            continue
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    in_user_space = None
    if args.filter:
        try:
            code = _compile_filter(" ".join(args.filter), dlt, args.snaplen)
        except (OSError, SystemExit) as exc:
            print(str(exc) if isinstance(exc, SystemExit) else f"tcpdump: libpcap is missing: {exc}", file=err, flush=True)
            return 1
        if cooked:
            kernel_code = cooked_for_kernel(code)
            if kernel_code is None:
                in_user_space = _offline_filter(code)
            code = kernel_code or struct.pack("HBBI", 0x06, 0, 0, 0xFFFFFFFF)  # else: the kernel passes everything
        insns = ctypes.create_string_buffer(code)
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HL", len(code) // 8, ctypes.addressof(insns)))
    ifindex = socket.if_nametoindex(args.dev)
    sock.bind((args.dev, ETH_P_ALL))
    sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, struct.pack("iHH8s", ifindex, PACKET_MR_PROMISC, 0, b""))
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, args.snaplen, linktype))
    out.flush()
    print(f"labkit-capture: listening on {args.dev}, link-type {dlt_name}, snapshot length {args.snaplen} bytes",
          file=err, flush=True)
    sock.settimeout(0.1)
    captured, draining = 0, False
    cmsg_space = socket.CMSG_SPACE(16)
    while not (args.count and captured >= args.count):
        try:
            data, ancillary, _flags, address = sock.recvmsg(262144, cmsg_space)
        except (TimeoutError, BlockingIOError):
            if draining:
                break
            if stop.is_set():  # drain what the kernel already holds, then end
                draining = True
                sock.setblocking(False)
            continue
        except InterruptedError:
            continue
        if address[0] != args.dev:
            continue  # queued before bind(), from another device of the namespace: not this capture's
        if arphrd == 772 and address[2] == PACKET_OUTGOING:
            continue  # lo: every packet goes out and comes in; show it once, as tcpdump does
        stamp = time.time()
        for level, kind, cdata in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(cdata) >= 16:
                sec, nsec = struct.unpack("qq", cdata[:16])
                stamp = sec + nsec / 1e9
        if cooked:  # the cooked v2 header, from what the kernel put in the socket address
            _name, proto, pkttype, hatype, lladdr = address[:5]
            data = struct.pack("!HHIHBB8s", proto, 0, ifindex, hatype, pkttype, len(lladdr), lladdr[:8]) + data
            if in_user_space is not None and not in_user_space(data):
                continue
        sec = int(stamp)
        usec = min(999_999, int((stamp - sec) * 1e6))
        kept = data[:args.snaplen]
        out.write(struct.pack("<IIII", sec, usec, len(kept), len(data)) + kept)
        out.flush()
        captured += 1
        if stop.is_set() and not draining:
            draining = True
            sock.setblocking(False)
    stats = sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
    tp_packets, tp_drops = struct.unpack("II", stats)
    print(f"{captured} packets captured\n{tp_packets} packets received by filter\n{tp_drops} packets dropped by kernel",
          file=err, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(capture_main(sys.argv[1:]))
