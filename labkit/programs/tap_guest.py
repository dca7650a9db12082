#!/usr/bin/env python3
"""A stand-in for a virtual machine's network card, at the far end of a tap device.

A VM gets its NIC the way seed 001 shows for QEMU (``-netdev tap,fd=26``): the
hypervisor opens ``/dev/net/tun`` as a *tap*, and every Ethernet frame the guest
sends is a ``write()`` on that file descriptor, every frame the host sends to the
guest a ``read()``. This program holds that descriptor and plays the guest's
network stack, just enough of it: it answers ARP requests for its address and ICMP
echo requests (ping), and on demand sends pings of its own. It prints one line per
frame it handles. Frames go guest → tap → bridge without the host's IP stack.

    tap_guest.py serve --dev tap0 --ip 192.168.3.102/24 [--mac 52:54:00:..] [--gateway 192.168.3.1] [--name vm1]
    tap_guest.py ping  --dev tap0 192.168.3.103 [--count 3]     # ask the running guest on tap0 to ping

The ``ping`` form talks to the running guest over an abstract UNIX socket, which
belongs to the network namespace, so run it in the same namespace. Standard library
only, so any ``python3`` on the target runs it.
"""

from __future__ import annotations

import argparse
import fcntl
import functools
import ipaddress
import json
import os
import random
import select
import socket
import struct
import sys
import time
from collections.abc import Callable

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000
ETH_ARP, ETH_IP = 0x0806, 0x0800
BROADCAST = b"\xff" * 6


def control_address(dev: str) -> str:
    return f"\0labkit-tap-guest-{dev}"


def mac_text(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def open_tap(dev: str) -> int:
    """Open (and so attach to, or create) tap device ``dev``; its carrier goes up."""
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", dev.encode(), IFF_TAP | IFF_NO_PI))
    return fd


class Guest:
    """The guest's tiny network stack: one MAC, one IPv4 address, an ARP cache."""

    def __init__(self, fd: int, dev: str, cidr: str, mac: str | None, gateway: str | None, name: str) -> None:
        self.fd, self.dev, self.name = fd, dev, name
        self.iface = ipaddress.ip_interface(cidr)
        self.ip = self.iface.ip.packed
        self.mac = bytes.fromhex(mac.replace(":", "")) if mac else b"\x52\x54\x00" + self.ip[1:]
        self.gateway = ipaddress.ip_address(gateway) if gateway else None
        self.arp: dict[bytes, bytes] = {}
        self.replies: dict[tuple[int, int], float] = {}
        self.ident = random.randrange(1, 0xFFFF)

    def log(self, text: str) -> None:
        print(f"{self.name}: {text}", flush=True)

    def send(self, dst: bytes, ethertype: int, payload: bytes) -> None:
        try:
            os.write(self.fd, dst + self.mac + struct.pack("!H", ethertype) + payload)
        except OSError as exc:  # a tap that is down refuses frames (EIO)
            self.log(f"cannot send on {self.dev}: {exc.strerror} (is {self.dev} up?)")

    # -- receiving ------------------------------------------------------------------
    def handle(self, frame: bytes) -> None:
        if len(frame) < 14:
            return
        dst, src, ethertype = frame[:6], frame[6:12], struct.unpack("!H", frame[12:14])[0]
        if dst not in (self.mac, BROADCAST):
            return  # not for this NIC (multicast chatter, or another guest's frame)
        if ethertype == ETH_ARP:
            self.handle_arp(frame[14:])
        elif ethertype == ETH_IP:
            self.handle_ip(src, frame[14:])

    def handle_arp(self, arp: bytes) -> None:
        if len(arp) < 28:
            return
        op = struct.unpack("!H", arp[6:8])[0]
        sha, spa, tpa = arp[8:14], arp[14:18], arp[24:28]
        sender = socket.inet_ntoa(spa)
        if op == 1 and tpa == self.ip:
            self.arp[spa] = sha
            reply = struct.pack("!HHBBH", 1, ETH_IP, 6, 4, 2) + self.mac + self.ip + sha + spa
            self.send(sha, ETH_ARP, reply)
            self.log(f"ARP who-has {socket.inet_ntoa(tpa)} tell {sender} → reply {socket.inet_ntoa(self.ip)} is-at {mac_text(self.mac)}")
        elif op == 2 and tpa == self.ip:
            self.arp[spa] = sha
            self.log(f"ARP reply {sender} is-at {mac_text(sha)}")

    def handle_ip(self, src_mac: bytes, packet: bytes) -> None:
        if len(packet) < 20 or packet[0] >> 4 != 4:
            return
        header_len = (packet[0] & 0x0F) * 4
        proto, src, dst = packet[9], packet[12:16], packet[16:20]
        if dst != self.ip or proto != 1:
            return
        icmp = packet[header_len:]
        if len(icmp) < 8:
            return
        kind, _code, _sum, ident, seq = struct.unpack("!BBHHH", icmp[:8])
        if kind == 8:
            self.arp.setdefault(src, src_mac)
            reply = struct.pack("!BBHHH", 0, 0, 0, ident, seq) + icmp[8:]
            reply = reply[:2] + struct.pack("!H", checksum(reply)) + reply[4:]
            self.send(src_mac, ETH_IP, self.ip_packet(src, reply))
            self.log(f"ICMP echo request from {socket.inet_ntoa(src)} seq {seq} → echo reply")
        elif kind == 0 and ident == self.ident:
            self.replies[(ident, seq)] = time.monotonic()

    def ip_packet(self, dst: bytes, payload: bytes, proto: int = 1) -> bytes:
        header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), random.randrange(0xFFFF), 0x4000, 64, proto, 0,
                             self.ip, dst)
        return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + payload

    def pump(self, until: Callable[[], bool], timeout: float) -> bool:
        """Handle incoming frames until ``until()`` holds or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while not until():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                self.handle(os.read(self.fd, 65536))
        return True

    # -- sending pings --------------------------------------------------------------
    def resolve(self, ip: bytes, say: Callable[[str], None]) -> bytes | None:
        for _ in range(3):
            if ip in self.arp:
                return self.arp[ip]
            request = struct.pack("!HHBBH", 1, ETH_IP, 6, 4, 1) + self.mac + self.ip + b"\0" * 6 + ip
            self.send(BROADCAST, ETH_ARP, request)
            say(f"ARP who-has {socket.inet_ntoa(ip)} tell {socket.inet_ntoa(self.ip)}")
            if self.pump(lambda: ip in self.arp, 1.0):
                return self.arp[ip]
        return None

    def ping(self, target: str, count: int, say: Callable[[str], None]) -> int:
        address = ipaddress.ip_address(target)
        if address in self.iface.network:
            hop = address
        elif self.gateway is not None:
            hop = self.gateway
        else:
            say(f"{target} is not in {self.iface.network} and this guest has no gateway")
            return 2
        mac = self.resolve(hop.packed, say)
        if mac is None:
            say(f"no ARP answer from {hop}: Destination Host Unreachable")
            return 1
        say(f"{hop} is-at {mac_text(mac)}")
        self.ident = self.ident % 0xFFFF + 1  # a new ping session: its own id, so old replies do not count
        received = 0
        for seq in range(1, count + 1):
            data = struct.pack("!d", time.time()) + bytes(range(48))
            icmp = struct.pack("!BBHHH", 8, 0, 0, self.ident, seq) + data
            icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
            sent = time.monotonic()
            self.send(mac, ETH_IP, self.ip_packet(address.packed, icmp))
            key = (self.ident, seq)
            if self.pump(functools.partial(self.replies.__contains__, key), 1.0):
                received += 1
                took = (self.replies[key] - sent) * 1000
                say(f"64 bytes from {target}: icmp_seq={seq} time={took:.2f} ms")
            else:
                say(f"no reply from {target} for icmp_seq={seq}")
        say(f"{count} packets transmitted, {received} received")
        return 0 if received == count else 1

    # -- the control socket -------------------------------------------------------------
    def serve_control(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                request = json.loads(conn.makefile("r").readline())
            except (OSError, ValueError):
                return

            def say(line: str) -> None:
                self.log(line)
                try:
                    conn.sendall((line + "\n").encode())
                except OSError:
                    pass

            code = self.ping(request["target"], int(request.get("count", 3)), say)
            try:
                conn.sendall(f"EXIT {code}\n".encode())
            except OSError:
                pass


def serve(args: argparse.Namespace) -> int:
    fd = open_tap(args.dev)
    guest = Guest(fd, args.dev, args.ip, args.mac, args.gateway, args.name or args.dev)
    control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    control.bind(control_address(args.dev))
    control.listen(4)
    guest.log(f"NIC {mac_text(guest.mac)} with {guest.iface} is attached to {args.dev} (fd {fd})")
    while True:
        ready, _, _ = select.select([fd, control.fileno()], [], [])
        if fd in ready:
            guest.handle(os.read(fd, 65536))
        if control.fileno() in ready:
            conn, _ = control.accept()
            guest.serve_control(conn)


def ping(args: argparse.Namespace) -> int:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(control_address(args.dev))
    except OSError:
        print(f"no guest is running on {args.dev} in this namespace (start one with `tap_guest.py serve`)")
        return 2
    client.sendall((json.dumps({"target": args.target, "count": args.count}) + "\n").encode())
    code = 1
    for line in client.makefile("r"):
        if line.startswith("EXIT "):
            code = int(line.split()[1])
            break
        print(line.rstrip())
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="be the guest NIC on a tap device")
    run.add_argument("--dev", required=True, help="the tap device (created if missing)")
    run.add_argument("--ip", required=True, help="the guest's address, e.g. 192.168.3.102/24")
    run.add_argument("--mac", help="the guest's MAC (default 52:54:00 + the last three bytes of the IP)")
    run.add_argument("--gateway", help="where the guest sends packets for other subnets")
    run.add_argument("--name", help="the name printed before each line (default: the device)")
    ask = sub.add_parser("ping", help="ask the guest on a tap device to ping an address")
    ask.add_argument("--dev", required=True)
    ask.add_argument("target")
    ask.add_argument("--count", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        return serve(args) if args.command == "serve" else ping(args)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
