"""The stand-in programs the labs run (labkit/programs): their pure parts, without a kernel.

They run for real in the notebook tier (02 runs tunvpn, 07 runs tap_guest).
"""

from __future__ import annotations

import importlib.util
import os
import struct
import subprocess
import sys

import pytest
from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import ARP, Ether

from labkit import programs

pytestmark = pytest.mark.unit


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"prog_{name}", programs.path(name))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_argv_runs_the_file_with_an_interpreter() -> None:
    argv = programs.argv("tunvpn", "--dev", "tun0")
    assert os.path.isfile(argv[2]) and argv[2].endswith("tunvpn.py") and argv[3:] == ["--dev", "tun0"]
    with pytest.raises(ValueError, match="unknown program"):
        programs.path("nope")


@pytest.mark.parametrize("name", programs.NAMES)
def test_programs_are_stdlib_only_and_show_help(name: str) -> None:
    done = subprocess.run([sys.executable, "-I", programs.path(name), "--help"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "usage" in done.stdout


class FakeGuest:
    """A Guest whose tap is a list: frames written to it are collected."""

    def __init__(self) -> None:
        self.module = load("tap_guest")
        self.r, self.w = os.pipe()
        self.guest = self.module.Guest(self.w, "tap0", "192.168.3.102/24", "52:54:00:00:00:02", None, "vm1")
        self.guest.log = lambda text: None

    def answer(self, frame: bytes) -> Ether:
        self.guest.handle(frame)
        return Ether(os.read(self.r, 65536))


def test_tap_guest_answers_arp_for_its_address() -> None:
    fake = FakeGuest()
    ask = Ether(src="aa:bb:cc:00:00:01", dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc="aa:bb:cc:00:00:01", psrc="192.168.3.10",
                                                                        pdst="192.168.3.102")
    reply = fake.answer(bytes(ask))
    assert reply[ARP].op == 2 and reply[ARP].hwsrc == "52:54:00:00:00:02" and reply[ARP].psrc == "192.168.3.102"
    assert reply.dst == "aa:bb:cc:00:00:01"


def test_tap_guest_answers_ping_with_valid_checksums() -> None:
    fake = FakeGuest()
    ping = (Ether(src="aa:bb:cc:00:00:01", dst="52:54:00:00:00:02") / IP(src="192.168.3.10", dst="192.168.3.102")
            / ICMP(type=8, id=7, seq=3) / b"payload!")
    reply = fake.answer(bytes(ping))
    assert reply[ICMP].type == 0 and (reply[ICMP].id, reply[ICMP].seq) == (7, 3) and bytes(reply[ICMP].payload) == b"payload!"
    again = Ether(bytes(reply))
    ip_sum, icmp_sum = again[IP].chksum, again[ICMP].chksum
    del again[IP].chksum, again[ICMP].chksum
    rebuilt = Ether(bytes(again))
    assert (rebuilt[IP].chksum, rebuilt[ICMP].chksum) == (ip_sum, icmp_sum)


def test_tunvpn_scramble_is_its_own_inverse_and_describes_ipv4() -> None:
    vpn = load("tunvpn")
    packet = bytes(IP(src="10.0.0.12", dst="10.0.0.22") / ICMP())
    assert vpn.scramble(vpn.scramble(packet, 90), 90) == packet and vpn.scramble(packet, 90)[0] == 0x45 ^ 90
    assert vpn.describe(packet).startswith("IPv4 10.0.0.12 > 10.0.0.22 ICMP")
    assert vpn.endpoint("18.12.0.92:9112") == ("18.12.0.92", 9112)
    assert struct.unpack("!H", struct.pack("!H", vpn.IFF_TUN | vpn.IFF_NO_PI))[0] == 0x1001
