#!/usr/bin/env python3
"""A tiny VPN: the IP packets of a tun device, carried over UDP to a peer.

This is OpenVPN's routed mode (seeds 000 and 001) without the crypto. The program
opens ``/dev/net/tun`` as device ``--dev``; every IP packet the kernel routes into
that device, it reads from the file descriptor and sends as the payload of one UDP
datagram to ``--peer`` (the second trip through the IP stack, now as
``underlay → peer:port``). Every datagram that arrives on its UDP socket, it writes
to the tun descriptor, and the kernel receives the inner packet as if from a wire.

    tunvpn.py --dev tun0 --listen 18.12.0.92:9112 --peer 18.12.0.91:9112 [--xor 90] [--ipv6]

``--xor N`` scrambles each payload byte (a stand-in for encryption: the underlay
capture then shows noise). IPv6 packets (the kernel's own router solicitations and
MLD reports on a new device) are dropped unless ``--ipv6`` is given. One line is
printed per packet, up to ``--log`` lines. Standard library only.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import select
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000


def open_tun(dev: str) -> int:
    """Open (attach to, or create) tun device ``dev``; its carrier goes up."""
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", dev.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def endpoint(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "0.0.0.0", int(port)


def describe(packet: bytes) -> str:
    if len(packet) >= 20 and packet[0] >> 4 == 4:
        proto = {1: "ICMP", 6: "TCP", 17: "UDP"}.get(packet[9], f"proto {packet[9]}")
        return f"IPv4 {socket.inet_ntoa(packet[12:16])} > {socket.inet_ntoa(packet[16:20])} {proto}, {len(packet)} bytes"
    return f"IPv{packet[0] >> 4 if packet else '?'} packet, {len(packet)} bytes"


def scramble(data: bytes, key: int) -> bytes:
    return bytes(b ^ key for b in data) if key else data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dev", required=True, help="the tun device (created if missing)")
    parser.add_argument("--listen", required=True, help="local UDP address:port, e.g. 18.12.0.92:9112")
    parser.add_argument("--peer", required=True, help="the other end's UDP address:port")
    parser.add_argument("--xor", type=int, default=0, help="scramble payloads with this byte (0: off)")
    parser.add_argument("--ipv6", action="store_true", help="carry IPv6 packets too")
    parser.add_argument("--log", type=int, default=40, help="print at most this many packet lines")
    args = parser.parse_args(argv)

    tun = open_tun(args.dev)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(endpoint(args.listen))
    peer = endpoint(args.peer)
    printed = 0

    def log(line: str) -> None:
        nonlocal printed
        if printed < args.log:
            print(line, flush=True)
        elif printed == args.log:
            print("(more packets: not printed)", flush=True)
        printed += 1

    print(f"tunvpn: {args.dev} ⇄ udp {args.listen} ⇄ peer {args.peer}", flush=True)
    while True:
        ready, _, _ = select.select([tun, sock.fileno()], [], [])
        if tun in ready:
            packet = os.read(tun, 65536)
            if packet and packet[0] >> 4 == 6 and not args.ipv6:
                continue
            try:
                sock.sendto(scramble(packet, args.xor), peer)
                log(f"{args.dev} → udp {peer[0]}:{peer[1]}: {describe(packet)}")
            except OSError as exc:  # e.g. no route to the peer yet
                log(f"cannot send to {peer[0]}:{peer[1]}: {exc.strerror}")
        if sock.fileno() in ready:
            data, source = sock.recvfrom(65536)
            packet = scramble(data, args.xor)
            try:
                os.write(tun, packet)
                log(f"udp {source[0]}:{source[1]} → {args.dev}: {describe(packet)}")
            except OSError as exc:  # a tun that is down refuses packets
                log(f"cannot write to {args.dev}: {exc.strerror}")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
