"""What a learner sees around the lab speaks their language: capture panes, the cell view, the picture,
the live caption, check hints, the start check; packet lines stay as tcpdump prints them.

Each test switches to Chinese with ``labkit.i18n.use("zh")`` and back (the ``zh`` fixture)."""

from __future__ import annotations

import re
import shutil
import unicodedata
from typing import Any

import pytest
from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import Ether

from labkit import i18n
from labkit.capture.decode import Frame
from labkit.capture.pcap import write_pcap
from labkit.capture.session import Capture, DeviceCapture
from labkit.diagnose import unreachable_causes
from labkit.errors import InvalidInput
from labkit.model import Interface, Namespace, Snapshot
from labkit.render.arrange import size_of, text_width
from labkit.render.dot import to_dot
from labkit.render.graph import Node, build, fill
from labkit.startcheck import LabNeeds, verdicts
from labkit.state.diff import diff
from labkit.state.parse import parse
from labkit.widgets.capture import CapturePane, CapturePanes
from labkit.widgets.live import _caption
from labkit.widgets.stepview import step_view
from labkit.widgets.topology import HERE, panel_labels

MAC = "02:00:00:00:00:0b"
CJK = re.compile("[\u4e00-\u9fff]")
needs_neato = pytest.mark.skipif(shutil.which("neato") is None, reason="Graphviz `neato` is not installed")



class FakeCapture:
    """What the panes read from a Capture: devices, filter, start time, listeners."""

    def __init__(self, n: int) -> None:
        self.filter, self.started_at, self.running = "icmp", 1000.0, False
        self.listeners: list[Any] = []
        dev = DeviceCapture("main", "veth1", mac=MAC, running=False)
        frame = bytes(Ether(src="02:00:00:00:00:0a", dst=MAC) / IP(src="20.1.0.10", dst="20.1.0.11") / ICMP())
        dev.frames.extend(dev.stream.feed(write_pcap([Frame(i, 1000.0 + i / 1000, frame, len(frame)) for i in range(n)])))
        dev.stats = {"captured": n, "received": n, "dropped": 0}
        self.devices = {"main/veth1": dev}


def test_a_capture_pane_comes_out_chinese_and_its_packet_lines_stay_tcpdumps(zh) -> None:
    pane = CapturePane(FakeCapture(300), "main/veth1", max_rows=200)
    rows, head = pane.rows.value, pane.head.value
    assert "… 更早的 100 个数据包没有画出（全部 300 个都保留着：cap.frames('main/veth1')）" in rows
    assert "earlier packets not drawn" not in rows
    assert "300 个数据包" in head and "tcpdump：抓到 300 个，被内核丢弃 0 个" in head and "packets" not in head
    assert 'title="本设备收到的"' in rows  # the direction's tooltip; the word "in" is tcpdump's and stays
    assert "20.1.0.10 &gt; 20.1.0.11: ICMP echo request" in rows  # tcpdump's own line, untranslated
    panes = CapturePanes(FakeCapture(1))
    assert "过滤条件：<code>icmp</code> · 点击数据包查看各层" in panes.title.value
    assert CJK.search(panes.detail.footer) and CJK.search(panes.detail.labels["dissect"])
    assert "{key}" in panes.detail.labels["dissect"] and "{frame}" in panes.detail.labels["dissect"]


def test_english_stays_the_default_for_the_pane() -> None:
    pane = CapturePane(FakeCapture(300), "main/veth1", max_rows=200)
    assert "… 100 earlier packets not drawn (all 300 are kept: cap.frames('main/veth1'))" in pane.rows.value
    assert not CJK.search(pane.rows.value + pane.head.value)


def test_a_real_bad_capture_call_is_refused_in_chinese(zh) -> None:
    with pytest.raises(InvalidInput) as caught:
        Capture(None, [], start=False)
    assert str(caught.value) == "抓包至少需要一个设备。例如 lab.capture('veth1', 'lo')"
    with pytest.raises(InvalidInput, match=r"count=0 什么也抓不到"):
        Capture(None, ["veth1"], count=0, start=False)


class Change:
    def __init__(self, title: str, commands: list[str], did_change: bool = True) -> None:
        self.title, self.commands, self.did_change = title, commands, did_change


class FakeLab:
    """Just what step_view reads from a Lab."""

    def __init__(self, raw: dict, raw_after: dict) -> None:
        self.snaps = [parse(raw), parse(raw_after)]
        self._shown: Any = None
        self.history = [Change("Add a bridge", ["ip link add name br1 type bridge"], did_change=False)]
        self._view_mark = 0

    def changes(self) -> tuple[Any, Any]:
        now = self.snaps.pop(0) if len(self.snaps) > 1 else self.snaps[0]
        delta = diff(self._shown, now) if self._shown is not None else diff(now, now)
        self._shown = now
        return now, delta


@needs_neato
def test_a_view_caption_legend_and_picture_come_out_chinese(zh, recorded: dict, recorded_after: dict) -> None:
    lab = FakeLab(recorded, recorded_after)
    view = step_view(lab, title="第一步")
    caption, topo, legend, commands = view.children[1].value, view.children[2], view.children[3].value, view.children[4].value
    assert re.search(r"实验 \S+ · \d+ 个命名空间中共 \d+ 个网络接口", caption), caption
    assert "interfaces in" not in caption
    assert "新增" in legend and "网桥端口：" in legend and "blocking" in legend  # STP states: the kernel's words
    assert "本来就是这样：没有任何改动" in commands and "$ ip link add name br1 type bridge" in commands
    assert "IP 协议栈" in topo.svg and ("（命名空间）" in topo.svg or "main（主机）" in topo.svg)
    assert topo.labels["hint"] == "点击一个网络接口，查看内核报告的信息。"
    assert "视图的保存副本" in view.static_html and "saved copy" not in view.static_html
    second = step_view(lab)
    assert "自上次查看以来" in second.children[0].value and "处变化（已高亮）" in second.children[0].value


def test_the_picture_labels_are_chinese_and_their_boxes_wide_enough(zh, recorded: dict) -> None:
    dot = to_dot(build(parse(recorded)))
    assert '"IP 协议栈"' in dot and "IP stack" not in dot
    # a Chinese character is about as wide as the font size: a box must not be sized as if it were Latin
    assert text_width("IP 协议栈") == pytest.approx(3 * 5.6 + 3 * 10.0)
    assert size_of(Node("x", "没有程序打开\n/dev/net/tun", "c"))[0] >= 6 * 10.0 + 20
    # a change note wraps by display columns (a Chinese character takes two), as wide as an English one
    lines = fill("（现在：state DOWN → UP, mtu 1500 → 1400）", 24).split("\n")
    assert lines == ["（现在：state DOWN → UP,", "mtu 1500 → 1400）"]
    assert all(len(line) + sum(unicodedata.east_asian_width(ch) in "WF" for ch in line) <= 24 for line in lines)


def test_the_live_caption_counts_in_chinese(zh) -> None:
    assert "STP：等待 br0 收敛" in _caption(i18n.tr("STP: waiting for {bridges}", bridges="br0"), [{}, {}], "port-state change")
    assert "2 次端口状态变化" in _caption("x", [{}, {}], "port-state change")


def test_a_check_hint_from_the_snapshot_is_chinese_with_the_call_verbatim(zh) -> None:
    snap = Snapshot("t", (Namespace("h1", "lk-t-h1"),), (
        Interface("veth0", "h1", 2, "veth", "02:00:00:00:00:01", 1500, "DOWN", (), addresses=("10.0.0.1/24",)),))
    causes = [i18n.localize(cause) for cause in unreachable_causes(snap, "h1", "10.0.0.2")]
    assert causes == ["h1/veth0 是通往 10.0.0.2 的必经设备，但它处于停用状态：lab.up('veth0', ns='h1')",
                      "实验中没有任何设备拥有地址 10.0.0.2"]


def test_the_start_check_says_in_chinese_which_labs_skip(zh) -> None:
    lines = [i18n.localize(line) for line in verdicts([LabNeeds("03-vlan", frozenset({"vlan"}))], {"vlan": False}, "")]
    assert lines[0].startswith("  会跳过 03-vlan：创建 vlan 的部分") and "modprobe 8021q" in lines[0]


def test_the_widgets_javascript_holds_no_english_sentence() -> None:
    """Every word topology.js and detail.js write comes from Python (the model's ``labels``)."""
    labels = panel_labels()
    topology = (HERE / "topology.js").read_text()
    used = set(re.findall(r'word\("(\w+)"\)', topology)) | set(re.findall(r'"(\w+)"', topology.split("const FIELDS = [")[1].split("];")[0]))
    assert used and used <= set(labels)
    for name in ("topology.js", "detail.js"):
        code = re.sub(r"//[^\n]*", "", (HERE / name).read_text())
        literals = re.findall(r'"([^"\n]*)"|`([^`]*)`', code)
        prose = [text for pair in literals for text in pair if re.search(r"[A-Za-z]{2,} [a-z]{2,} [a-z]{2,}", text)]
        assert prose == [], f"{name} writes English itself: {prose}"


@needs_neato
@pytest.mark.parametrize("number", ["04", "06", "09"])
def test_chinese_labels_keep_the_picture_still(zh, number: str) -> None:
    """The recorded steps of labs 04, 06 and 09, drawn with Chinese labels: an unchanged box moves no more
    than with English ones (arrange.py sizes a CJK character as 10 pt)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("layout_tests", Path(__file__).with_name("test_layout.py"))
    assert spec is not None and spec.loader is not None
    layout_tests = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(layout_tests)
    assert "IP 协议栈" in to_dot(build(parse(layout_tests.views(number)[-1]["snapshot"])))
    layout_tests.test_one_step_moves_unchanged_boxes_little(number)
