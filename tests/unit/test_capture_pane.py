"""Capture panes without a kernel: bounded rows, counts, download link, and the Capture's bookkeeping."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import Ether

from labkit.capture.decode import Frame
from labkit.capture.session import Capture, DeviceCapture, split_device
from labkit.errors import InvalidInput
from labkit.widgets.capture import CapturePane, CapturePanes

MAC = "02:00:00:00:00:0b"


class FakeCapture:
    """What a pane reads from a Capture: devices, filter, start time, listeners."""

    def __init__(self, n: int, running: bool = False) -> None:
        self.filter = "icmp"
        self.started_at = 1000.0
        self.listeners: list[Any] = []
        self.running = running
        dev = DeviceCapture("main", "veth1", mac=MAC, running=running)
        data = dev.stream.feed(pcap_of(n))
        dev.frames.extend(data)
        if not running:
            dev.stats = {"captured": n, "received": n, "dropped": 0}
        self.devices = {"main/veth1": dev, "main/lo": DeviceCapture("main", "lo", mac="00:00:00:00:00:00", running=running)}


def pcap_of(n: int) -> bytes:
    from labkit.capture.pcap import write_pcap

    frame = bytes(Ether(src="02:00:00:00:00:0a", dst=MAC) / IP(src="20.1.0.10", dst="20.1.0.11") / ICMP())
    return write_pcap([Frame(i, 1000.0 + i / 1000, frame, len(frame)) for i in range(n)])


def test_rows_are_bounded_but_every_frame_is_kept() -> None:
    cap = FakeCapture(1000)
    pane = CapturePane(cap, "main/veth1", max_rows=200)
    rows = pane.rows.value
    assert rows.count('class="lk-row"') == 200
    assert "800 earlier packets not drawn" in rows
    assert len(cap.devices["main/veth1"].frames) == 1000
    assert "+0.999000" in rows and "+0.000000" not in rows  # the last rows, not the first


def test_row_shows_time_direction_summary_and_layers() -> None:
    pane = CapturePane(FakeCapture(1), "main/veth1")
    rows = pane.rows.value
    assert "+0.000000" in rows
    assert 'class="lk-d lk-in"' in rows  # addressed to veth1's MAC: received
    assert "20.1.0.10 &gt; 20.1.0.11: ICMP echo request" in rows
    assert "###[ Ethernet ]###" in rows


def test_head_counts_and_inline_download() -> None:
    pane = CapturePane(FakeCapture(3), "main/veth1")
    head = pane.head.value
    assert "3 packets" in head and "tcpdump: 3 captured, 0 dropped by kernel" in head
    uri = re.search(r'href="data:application/vnd.tcpdump.pcap;base64,([^"]+)"', head)
    assert uri and base64.b64decode(uri.group(1)) == pcap_of(3)
    assert 'download="main-veth1.pcap"' in head


def test_empty_and_running_panes() -> None:
    cap = FakeCapture(0, running=True)
    pane = CapturePane(cap, "main/lo")
    assert "no packets yet" in pane.rows.value and "capturing" in pane.head.value
    assert "download" not in pane.head.value


def test_panes_side_by_side_and_refresh_on_update() -> None:
    cap = FakeCapture(2)
    panes = CapturePanes(cap)
    assert [p.key for p in panes.panes] == ["main/veth1", "main/lo"]
    dev = cap.devices["main/lo"]
    dev.frames.extend(dev.stream.feed(pcap_of(4)))
    for listener in cap.listeners:
        listener(cap)
    assert panes.panes[1].rows.value.count('class="lk-row"') == 4


def test_a_fast_live_capture_draws_few_new_rows_per_redraw_and_all_once_stopped() -> None:
    """10,000 packets/s: a redraw decodes at most LIVE_NEW_ROWS new rows; the count stays exact."""
    from labkit.widgets.capture import LIVE_NEW_ROWS

    cap = FakeCapture(3000, running=True)
    pane = CapturePane(cap, "main/veth1", max_rows=200)
    assert pane.rows.value.count('class="lk-row"') == LIVE_NEW_ROWS == 50
    assert "2,950 earlier packets not drawn (all 3,000 are kept" in pane.rows.value
    assert "3,000 packets" in pane.head.value
    cap.running = cap.devices["main/veth1"].running = False
    pane.refresh()
    assert pane.rows.value.count('class="lk-row"') == 200 and "2,800 earlier packets not drawn" in pane.rows.value


def test_redraws_while_running_are_spaced_by_their_cost() -> None:
    cap = FakeCapture(10, running=True)
    panes = CapturePanes(cap)
    drawn: list[int] = []
    panes.refresh = lambda: drawn.append(1)  # type: ignore[method-assign]
    panes._cost = 1.0  # a redraw took 1 s: the next may come 4 s later at the earliest (BUSY_SHARE 0.25)
    panes._last = __import__("time").monotonic() - 2.0
    panes._on_update(cap)
    assert drawn == []
    panes._last -= 3.0
    panes._on_update(cap)
    assert drawn == [1]


def test_render_time_of_200_rows_is_small() -> None:
    import time

    cap = FakeCapture(5000)
    started = time.perf_counter()
    CapturePane(cap, "main/veth1", max_rows=200)
    assert time.perf_counter() - started < 5.0  # generous: the machine is noisy; bench/ reports the figure


def test_split_device() -> None:
    assert split_device("veth1") == ("main", "veth1")
    assert split_device("h1/eth0") == ("h1", "eth0")
    with pytest.raises(InvalidInput):
        split_device("")


class FakeTarget:
    """Answers the agent's capture requests from canned pcap bytes."""

    lab_id = "t1"
    name = "fake"

    def __init__(self, n: int = 2, listening_at: float | None = None, stop_requested: float | None = None) -> None:
        self.n, self.data = n, pcap_of(n)
        self.calls: list[str] = []
        self.running = True
        self.listening_at, self.stop_requested = listening_at, stop_requested

    @property
    def client(self) -> Any:
        from labkit.targets.mock import MockTarget

        return MockTarget(self.answer).client

    def answer(self, method: str, params: dict[str, Any]) -> Any:
        self.calls.append(method)
        if method == "capture_start":
            return {"id": params["dev"], "pid": 4242, "argv": ["tcpdump", "-i", params["dev"], "-w", "-", "--", params["filter"]]}
        if method == "capture_ready":
            return [{"id": i, "link_type": "EN10MB", "listening_at": self.listening_at} for i in params["ids"]]
        if method == "capture_read":
            chunk = self.data[params["offset"]:params["offset"] + params["max_bytes"]]
            return {"data": base64.b64encode(chunk).decode(), "running": self.running,
                    "stats": {"captured": self.n, "received": self.n, "dropped": 0}}
        if method == "capture_stop":
            self.running = False
            return {"stats": {"captured": self.n, "received": self.n, "dropped": 0}, "stop_requested": self.stop_requested}
        return {}


class FakeLab:
    lab_id = "t1"

    def __init__(self, **target: Any) -> None:
        self.target = FakeTarget(**target)

    def snapshot(self) -> Any:
        from labkit.model import Interface, Snapshot

        return Snapshot("t1", interfaces=(Interface("veth1", "main", 3, "veth", MAC, 1500, "UP", ("UP",)),))


def test_capture_session_against_a_fake_target(tmp_path: Path) -> None:
    lab = FakeLab()
    with Capture(lab, ["veth1"], filter="icmp") as cap:
        assert cap.running and cap.devices["main/veth1"].mac == MAC
    assert cap.counts() == {"main/veth1": 2} == cap.path_counts()
    assert cap.stats()["main/veth1"] == {"captured": 2, "received": 2, "dropped": 0, "saved": 2, "lost": 0,
                                           "outside": 0}
    assert lab.target.calls[:2] == ["capture_start", "capture_ready"] and "capture_remove" in lab.target.calls
    assert cap.save(tmp_path / "one.pcap") == [str(tmp_path / "one.pcap")]
    assert (tmp_path / "one.pcap").read_bytes() == pcap_of(2)
    assert cap.commands() == ["ip netns exec labkit-t1-main tcpdump -i veth1 -w - -- icmp"]
    assert len(cap.packets("veth1")) == 2


def test_panes_and_counts_show_one_window_the_pcap_keeps_everything(tmp_path: Path) -> None:
    """Frames before the last tcpdump listened or after the stop was requested stay in the pcap only."""
    lab = FakeLab(n=5, listening_at=1000.0015, stop_requested=1000.0035)  # frames at +0, +1, … +4 ms
    with Capture(lab, ["veth1"], filter="icmp") as cap:
        pass
    assert [round(f.time, 4) for f in cap.frames("veth1")] == [1000.002, 1000.003]
    assert cap.counts() == {"main/veth1": 2} and len(cap.packets("veth1")) == 2
    assert cap.stats()["main/veth1"] == {"captured": 5, "received": 5, "dropped": 0, "saved": 5, "lost": 0, "outside": 3}
    assert cap.save(tmp_path / "all.pcap") and (tmp_path / "all.pcap").read_bytes() == pcap_of(5)
    pane = CapturePane(cap, "main/veth1")
    assert pane.rows.value.count('class="lk-row"') == 2 and "+0.000500" in pane.rows.value  # the clock starts at t0
    assert "3 outside" in pane.head.value


def test_capture_checks_its_arguments() -> None:
    with pytest.raises(InvalidInput):
        Capture(FakeLab(), [])
    with pytest.raises(InvalidInput):
        Capture(FakeLab(), ["veth1"], count=0)
