"""Wireshark-grade detail of a real capture: one pcapng of two namespaces, and a TCP exchange between them
dissected and followed by sharkd (those tests skip, with the reason, where sharkd is not installed)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from scapy.utils import RawPcapNgReader

from labkit import Lab

pytestmark = pytest.mark.kernel
needs_sharkd = pytest.mark.skipif(shutil.which("sharkd") is None,
                                  reason="sharkd is not installed (apt-get install wireshark-common)")

PORT = 5555
SERVER = f"""
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.2", {PORT})); s.listen(1); s.settimeout(20)
print("listening", flush=True)
c, _ = s.accept(); c.settimeout(10)
got = b""
while not got.endswith(b"\\n"):
    got += c.recv(100)
c.sendall(b"pong from h2: " + got)
c.close(); s.close()
"""
CLIENT = f"""
import socket, time
for _ in range(100):
    try:
        c = socket.create_connection(("10.77.0.2", {PORT}), timeout=5); break
    except OSError:
        time.sleep(0.05)
c.sendall(b"ping from h1\\n")
got = b""
while True:
    part = c.recv(100)
    if not part: break
    got += part
print(got.decode(), end="")
c.close()
"""


@pytest.fixture(scope="module")
def exchange() -> Iterator[tuple[Lab, object]]:
    """h1/eth0 10.77.0.1 ─ veth ─ h2/eth0 10.77.0.2; captured on both ends while h1 talks TCP to h2."""
    with Lab(uplink=False) as lab:
        lab.netns("h1")
        lab.netns("h2")
        lab.veth("eth0", "eth0", ns="h1", peer_ns="h2")
        lab.addr("eth0", "10.77.0.1/24", ns="h1")
        lab.addr("eth0", "10.77.0.2/24", ns="h2")
        lab.up("eth0", ns="h1")
        lab.up("eth0", ns="h2")
        with lab.capture("h1/eth0", "h2/eth0", filter=f"tcp port {PORT}") as cap:
            lab.spawn(*lab.python("-c", SERVER), ns="h2", name="server")
            result = lab.run(*lab.python("-c", CLIENT), ns="h1", timeout=30)
            assert result.ok and result.stdout == "pong from h2: ping from h1\n", result.stdout + result.stderr
        yield lab, cap
        cap.wireshark.close()


def test_one_pcapng_holds_both_namespaces_in_time_order(exchange: tuple[Lab, object], tmp_path: Path) -> None:
    _lab, cap = exchange
    counts = cap.counts()  # type: ignore[attr-defined]
    assert counts["h1/eth0"] == counts["h2/eth0"] >= 8, counts  # handshake, data both ways, FINs: seen at both ends
    paths = cap.save(tmp_path)  # type: ignore[attr-defined]
    assert sorted(Path(p).name for p in paths) == ["capture.pcapng", "h1-eth0.pcap", "h2-eth0.pcap"]
    reader = RawPcapNgReader(str(tmp_path / "capture.pcapng"))
    packets = []
    try:
        while True:
            try:
                packets.append(reader._read_packet())
            except EOFError:
                break
        names = [(opts.get("name"), linktype) for linktype, _snap, opts in reader.interfaces]
    finally:
        reader.close()
    assert names == [(b"h1/eth0", 1), (b"h2/eth0", 1)]
    assert len(packets) == counts["h1/eth0"] + counts["h2/eth0"]
    ticks = [(meta.tshigh << 32) + meta.tslow for _data, meta in packets]
    assert ticks == sorted(ticks), "packets are not in time order"
    # each device's packets, taken out of the merged file, are its pcap's packets in its pcap's order
    for name in ("h1/eth0", "h2/eth0"):
        mine = [data for data, meta in packets if meta.ifname == name.encode()]
        assert mine == [f.data for f in cap.frames(name)]  # type: ignore[attr-defined]
    # the first SYN leaves h1 before it reaches h2: h1's copy comes first
    assert packets[0][1].ifname == b"h1/eth0"
    if shutil.which("capinfos"):
        out = subprocess.run(["capinfos", str(tmp_path / "capture.pcapng")], capture_output=True, text=True).stdout
        assert "Number of interfaces in file: 2" in out and "Strict time order:   True" in out, out


@needs_sharkd
def test_follow_gives_both_directions(exchange: tuple[Lab, object]) -> None:
    _lab, cap = exchange
    stream = cap.follow("h2/eth0")  # type: ignore[attr-defined]
    assert stream.proto == "TCP" and stream.filter == "tcp.stream eq 0"
    assert stream.client[0] == "10.77.0.1" and stream.server == ("10.77.0.2", PORT)
    assert stream.client_data == b"ping from h1\n"
    assert stream.server_data == b"pong from h2: ping from h1\n"
    assert [c.from_server for c in stream.chunks] == [False, True]


@needs_sharkd
def test_dissect_gives_fields_with_their_bytes(exchange: tuple[Lab, object]) -> None:
    _lab, cap = exchange
    d = cap.dissect("h2/eth0", 0)  # type: ignore[attr-defined]
    assert d.by == "sharkd" and d.number == 1
    port = d.find("tcp.srcport")
    assert port is not None and port.range == (34, 36), port  # after 14 bytes of Ethernet and 20 of IPv4
    src = int.from_bytes(d.field_bytes("tcp.srcport"), "big")
    assert port.filter == f"tcp.srcport == {src}" and src != PORT  # the client's ephemeral port
    assert d.find("tcp.dstport").filter == f"tcp.dstport == {PORT}"  # type: ignore[union-attr]
    assert d.field_bytes("ip.src") == bytes([10, 77, 0, 1])
    assert d.find("tcp.flags.syn").filter == "tcp.flags.syn == 1"  # type: ignore[union-attr]
