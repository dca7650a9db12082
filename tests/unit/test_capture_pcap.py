"""pcap streaming: records come out whole however the bytes are cut; files read back with scapy."""

from __future__ import annotations

from pathlib import Path

import pytest
from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import Ether
from scapy.utils import rdpcap, wrpcap

from labkit.capture.decode import Frame
from labkit.capture.pcap import PcapStream, write_pcap
from labkit.errors import TargetError


def sample(tmp_path: Path, n: int = 5) -> bytes:
    pkts = [Ether() / IP(dst=f"10.0.0.{i}") / ICMP(seq=i) for i in range(n)]
    for i, pkt in enumerate(pkts):
        pkt.time = 1_700_000_000 + i / 10
    path = tmp_path / "s.pcap"
    wrpcap(str(path), pkts)
    return path.read_bytes()


@pytest.mark.parametrize("piece", [1, 7, 16, 24, 25, 1000])
def test_any_cut_gives_the_same_frames(tmp_path: Path, piece: int) -> None:
    data = sample(tmp_path)
    stream = PcapStream()
    frames: list[Frame] = []
    for i in range(0, len(data), piece):
        frames += stream.feed(data[i:i + piece])
    assert [f.index for f in frames] == [0, 1, 2, 3, 4]
    assert stream.linktype == 1 and stream.complete
    assert frames[3].time == pytest.approx(1_700_000_000.3)
    assert "10.0.0.3" in frames[3].summary
    assert stream.pcap_bytes() == data


def test_partial_record_waits(tmp_path: Path) -> None:
    data = sample(tmp_path, 1)
    stream = PcapStream()
    assert stream.feed(data[:-3]) == []
    assert not stream.complete
    assert len(stream.feed(data[-3:])) == 1


def test_not_a_pcap() -> None:
    with pytest.raises(TargetError, match="not a pcap"):
        PcapStream().feed(b"tcpdump: oops, this is text" + b"\0" * 10)


def test_write_pcap_reads_back(tmp_path: Path) -> None:
    frames = PcapStream().feed(sample(tmp_path, 3))
    out = tmp_path / "w.pcap"
    out.write_bytes(write_pcap(frames))
    back = rdpcap(str(out))
    assert len(back) == 3 and bytes(back[2]) == frames[2].data
    assert float(back[1].time) == pytest.approx(frames[1].time, abs=1e-6)
