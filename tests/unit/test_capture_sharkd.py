"""Wireshark's detail: sharkd's replies parsed (recorded from sharkd 4.0.17), the client against a real
sharkd (skipped with the reason when it is not installed), the scapy fallback where it is missing, and the
detail area under the capture panes (a row click asks for the tree; Follow; the pcapng link)."""

from __future__ import annotations

import base64
import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import CookedLinuxV2, Ether
from scapy.packet import Raw

from labkit.capture.dissection import Chunk, parse_follow, parse_frame, scapy_dissection
from labkit.capture.pcap import write_pcap
from labkit.capture.session import Capture
from labkit.capture.sharkd import Sharkd, reply_result, request_line
from labkit.capture.wireshark import Wireshark
from labkit.doctor import sharkd_finding
from labkit.errors import InvalidInput, MissingTool, NotFound, TargetError
from labkit.widgets.capture import CapturePanes
from labkit.widgets.detail import DetailBridge
from labkit.widgets.detail_html import dissection_html, follow_html

DATA = Path(__file__).parent / "data"
needs_sharkd = pytest.mark.skipif(shutil.which("sharkd") is None,
                                  reason="sharkd is not installed (apt-get install wireshark-common)")


def recorded(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def tcp_exchange() -> list:
    """A TCP handshake, 'hello\\n' from the client, 'world\\n' from the server, then one UDP datagram."""
    c, s = ("10.0.0.1", 40000), ("10.0.0.2", 80)

    def eth() -> Ether:
        return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")

    pkts = [eth() / IP(src=c[0], dst=s[0]) / TCP(sport=c[1], dport=s[1], flags="S", seq=100),
            eth() / IP(src=s[0], dst=c[0]) / TCP(sport=s[1], dport=c[1], flags="SA", seq=500, ack=101),
            eth() / IP(src=c[0], dst=s[0]) / TCP(sport=c[1], dport=s[1], flags="A", seq=101, ack=501),
            eth() / IP(src=c[0], dst=s[0]) / TCP(sport=c[1], dport=s[1], flags="PA", seq=101, ack=501) / Raw(b"hello\n"),
            eth() / IP(src=s[0], dst=c[0]) / TCP(sport=s[1], dport=c[1], flags="PA", seq=501, ack=107) / Raw(b"world\n"),
            eth() / IP(src=c[0], dst=s[0]) / UDP(sport=5000, dport=6000) / Raw(b"udp-ping")]
    return pkts


def fake_capture(sharkd: Sharkd | None = None) -> Capture:
    """A stopped capture of one device holding tcp_exchange() (no lab needed)."""
    from labkit.capture.decode import Frame
    from labkit.capture.pcap import PcapStream

    frames = [Frame(i, 1_700_000_000 + i / 1000, bytes(p), len(bytes(p))) for i, p in enumerate(tcp_exchange())]
    cap = Capture(None, ["h2/eth0"], start=False)
    dev = cap.device("h2/eth0")
    dev.stream = PcapStream()
    dev.frames = dev.stream.feed(write_pcap(frames))
    dev.running = False
    if sharkd is not None:
        cap._wireshark = Wireshark(cap, sharkd)
    return cap


# -- pure: recorded replies -------------------------------------------------------------
def test_the_tree_keeps_byte_ranges_filters_and_generated_lines() -> None:
    d = parse_frame(recorded("sharkd-frame-tcp.json")["result"], "h2/eth0", 4)
    assert [n.label.split(",")[0] for n in d.tree] == ["Frame 4: 60 bytes on wire (480 bits)", "Ethernet II",
                                                        "Internet Protocol Version 4", "Transmission Control Protocol"]
    port = d.find("tcp.srcport")
    assert port is not None and port.range == (34, 36) and port.filter == "tcp.srcport == 40000"
    assert d.field_bytes("tcp.srcport") == (40000).to_bytes(2, "big")
    assert d.find("tcp.stream") is not None and d.find("tcp.stream").generated  # type: ignore[union-attr]
    assert d.find("tcp").protocol and d.find("tcp").range == (34, 54)  # type: ignore[union-attr]
    assert d.field_bytes("tcp.payload") == b"hello\n"
    assert d.followers == (("TCP", "tcp.stream eq 0"),)
    assert "Source Port: 40000  [34:36]" in d.text()


def test_follow_keeps_both_directions_in_order() -> None:
    f = parse_follow(recorded("sharkd-follow-tcp.json")["result"], "h2/eth0", "TCP", "tcp.stream eq 0")
    assert (f.client, f.server) == (("10.0.0.1", 40000), ("10.0.0.2", 80))
    assert [(c.frame, c.from_server, c.data) for c in f.chunks] == [(4, False, b"hello\n"), (5, True, b"world\n")]
    assert (f.client_data, f.server_data) == (b"hello\n", b"world\n")


def test_html_shows_ranges_bytes_filters_and_both_directions() -> None:
    d = parse_frame(recorded("sharkd-frame-tcp.json")["result"], "h2/eth0", 4)
    page = dissection_html(d)
    assert 'title="tcp.srcport == 40000"' in page and "[34:36]" in page and ">9c 40<" in page
    assert "0030  " in page  # the hex dump's last row
    assert 'data-r="34,36"' in page and '<span data-b="34">9c</span> <span data-b="35">40</span>' in page  # hover → bytes
    assert '<span data-b="54">h</span><span data-b="55">e</span>' in page  # the payload 'hello' in the text column
    f = parse_follow(recorded("sharkd-follow-tcp.json")["result"], "h2/eth0", "TCP", "tcp.stream eq 0")
    page = follow_html(f)
    assert '<span class="lk-c" title="frame 4, sent by the client">hello\n</span>' in page
    assert '<span class="lk-s" title="frame 5, sent by the server">world\n</span>' in page
    crlf = follow_html(replace(f, chunks=(Chunk(1, False, b"GET / HTTP/1.0\r\n\r\n\x00"),)))
    assert "GET / HTTP/1.0\n\n.</span>" in crlf  # CR LF is a line end, other control bytes are dots


def test_replies_are_matched_to_their_request() -> None:
    assert request_line(3, "frame", {"frame": 1}) == '{"jsonrpc":"2.0","id":3,"method":"frame","params":{"frame":1}}\n'
    assert reply_result('{"jsonrpc":"2.0","id":3,"result":{"status":"OK"}}', 3, "load") == {"status": "OK"}
    with pytest.raises(TargetError, match="answered request 2 while labkit waited for 3"):
        reply_result('{"jsonrpc":"2.0","id":2,"result":{}}', 3, "frame")
    with pytest.raises(TargetError, match=r"refused frame: Invalid frame \(code -8003\)"):
        reply_result('{"jsonrpc":"2.0","id":3,"error":{"code":-8003,"message":"Invalid frame"}}', 3, "frame")
    with pytest.raises(TargetError, match="not JSON"):
        reply_result("Hello in child.", 3, "frame")
    expert = parse_frame({"tree": [{"l": "Connection establish request (SYN)", "s": "Chat"},
                                   {"l": "Bad checksum", "s": 0x800000}]}, "h2/eth0", 1)
    assert [n.severity for n in expert.tree] == ["chat", "error"]  # sharkd 4.0 names the level; older ones number it
    with pytest.raises(TargetError, match="no dissection tree"):
        parse_frame({"err": 0}, "h2/eth0", 1)


# -- sharkd absent: scapy, said so ----------------------------------------------------------
def test_without_sharkd_dissect_falls_back_to_scapy_and_says_so() -> None:
    cap = fake_capture(Sharkd(binary="/nonexistent/sharkd"))
    d = cap.dissect("h2/eth0", 3)
    assert d.by == "scapy" and "apt-get install wireshark-common" in d.note
    assert [(n.field, n.range) for n in d.tree] == [("Ethernet", (0, 14)), ("IP", (14, 34)), ("TCP", (34, 54)),
                                                     ("Raw", (54, 60))]
    assert d.find("TCP.sport") is not None and "40000" in d.find("TCP.sport").label  # type: ignore[union-attr]
    with pytest.raises(MissingTool, match="sharkd") as err:
        cap.follow("h2/eth0")
    assert "apt-get install wireshark-common" in err.value.hint


def test_scapy_tree_of_a_raw_ip_frame() -> None:
    pkt = IP(src="10.9.0.1", dst="10.9.0.2") / UDP(sport=7, dport=9) / Raw(b"abc")
    d = scapy_dissection(pkt, bytes(pkt), "r/tun0", 1)
    assert [(n.field, n.range) for n in d.tree] == [("IP", (0, 20)), ("UDP", (20, 28)), ("Raw", (28, 31))]


def test_doctor_says_whether_sharkd_is_here_and_how_to_get_it() -> None:
    absent = sharkd_finding(None)
    assert not absent.ok and not absent.required
    assert "apt-get install wireshark-common" in absent.line() and "scapy's layers only" in absent.line()
    here = sharkd_finding("/usr/bin/sharkd", "Sharkd (Wireshark) 4.0.17 (Git v4.0.17 packaged as 4.0.17-0+deb12u3).")
    assert here.ok and here.line() == ("[ok ] sharkd: /usr/bin/sharkd (Wireshark 4.0.17): "
                                       "Wireshark's tree and Follow stream in the capture panes")


# -- a real sharkd --------------------------------------------------------------------
@needs_sharkd
def test_sharkd_dissects_follows_and_closes() -> None:
    sharkd = Sharkd()
    cap = fake_capture(sharkd)
    d = cap.dissect("h2/eth0", 3)
    assert d.by == "sharkd" and d.number == 4
    assert d.find("tcp.srcport").range == (34, 36)  # type: ignore[union-attr]
    assert d.field_bytes("ip.src") == bytes([10, 0, 0, 1])
    f = cap.follow("h2/eth0")  # the first TCP stream
    assert (f.proto, f.client_data, f.server_data) == ("TCP", b"hello\n", b"world\n")
    assert cap.follow("h2/eth0", 4).filter == "tcp.stream eq 0"  # the stream of frame 4
    u = cap.follow("h2/eth0", 5)  # a UDP datagram: its flow
    assert (u.proto, u.client, u.client_data, u.server_data) == ("UDP", ("10.0.0.1", 5000), b"udp-ping", b"")
    assert cap.follow("h2/eth0", proto="udp").client_data == b"udp-ping"  # UDP stream 0
    with pytest.raises(NotFound, match="no TCP stream 7"):
        cap.follow("h2/eth0", stream=7, proto="tcp")
    with pytest.raises(InvalidInput, match="has no frame 6"):
        cap.dissect("h2/eth0", 6)
    with pytest.raises(TargetError, match="out of range"):
        sharkd.frame(99)
    proc = sharkd.proc
    assert proc is not None and proc.poll() is None
    cap.wireshark.close()
    assert proc.poll() is not None and sharkd.proc is None, "close() ends sharkd"


@needs_sharkd
@pytest.mark.parametrize(("linktype", "head", "offset"), [
    (1, bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", type=0x0800)), 14),  # Ethernet (veth, tap, bridge)
    (101, b"", 0),                                                           # raw IP (tun): no link header
    (276, bytes(CookedLinuxV2(proto=0x0800, pkttype=4, ifindex=3)), 20),      # tcpdump -y LINUX_SLL2 (bridge ports)
], ids=["EN10MB", "RAW", "LINUX_SLL2"])
def test_any_link_type_gets_its_byte_ranges(linktype: int, head: bytes, offset: int) -> None:
    from labkit.capture.decode import Frame
    from labkit.capture.pcap import PcapStream

    data = head + bytes(IP(src="10.5.0.1", dst="10.5.0.2") / UDP(sport=1234, dport=53) / Raw(b"q"))
    cap = Capture(None, ["r/dev0"], start=False)
    dev = cap.device("r/dev0")
    dev.stream = PcapStream()
    dev.frames = dev.stream.feed(write_pcap([Frame(0, 1_700_000_000.0, data, len(data), linktype)], linktype=linktype))
    dev.running = False
    cap._wireshark = Wireshark(cap, Sharkd())
    try:
        d = cap.dissect("r/dev0", 0)
        assert d.find("ip.src").range == (offset + 12, offset + 16)  # type: ignore[union-attr]
        assert d.field_bytes("udp.dstport") == (53).to_bytes(2, "big")
        if linktype == 276:
            assert d.find("sll.pkttype").label == "Packet type: Sent by us (4)"  # type: ignore[union-attr]  # tcpdump saw it leave
    finally:
        cap.wireshark.close()


@needs_sharkd
def test_an_idle_sharkd_is_stopped_and_comes_back_when_asked() -> None:
    sharkd = Sharkd(idle_close=0.5)
    cap = fake_capture(sharkd)
    try:
        assert cap.dissect("h2/eth0", 3).by == "sharkd"
        first = sharkd.proc
        assert first is not None
        first.wait(timeout=10)  # about 160 MB each: not kept by a capture nobody looks at
        assert sharkd.proc is None
        assert cap.dissect("h2/eth0", 4).find("tcp.srcport").filter == "tcp.srcport == 80"  # type: ignore[union-attr]
        assert sharkd.proc is not None and sharkd.proc is not first
    finally:
        cap.wireshark.close()


# -- the detail area under the panes ----------------------------------------------------
def test_rows_name_their_device_and_frame_for_the_click() -> None:
    panes = CapturePanes(fake_capture(Sharkd(binary="/nonexistent/sharkd")))
    rows = panes.panes[0].rows.value
    assert rows.count('<details class="lk-row" data-key="h2/eth0" data-index="') == 6
    assert 'data-index="5"><summary>' in rows
    assert isinstance(panes.detail, DetailBridge) and panes.detail in panes.children


def test_without_sharkd_the_area_says_how_to_get_it_and_links_the_pcapng() -> None:
    bridge = DetailBridge(fake_capture(Sharkd(binary="/nonexistent/sharkd")))
    assert not bridge.enabled
    assert "apt-get install wireshark-common" in bridge.footer
    uri = re.search(r'href="data:application/x-pcapng;base64,([^"]+)"', bridge.footer)
    assert uri is not None, bridge.footer
    data = base64.b64decode(uri.group(1))
    assert data[:4] == b"\x0a\x0d\x0d\x0a" and b"h2/eth0" in data  # a pcapng whose interface is named
    calls = []
    bridge.capture.pcapng = lambda: calls.append(1) or data  # type: ignore[method-assign]
    bridge.refresh()
    assert calls == [], "nothing changed: the pcapng is not written again"
    dev = bridge.capture.device("h2/eth0")
    dev.frames = dev.frames[:-1]
    bridge.refresh()
    assert calls == [1], "the packets changed: the link is redrawn"


@needs_sharkd
def test_a_click_gets_the_tree_and_follow_gets_the_stream() -> None:
    cap = fake_capture(Sharkd())
    try:
        bridge = DetailBridge(cap)
        assert bridge.enabled and "Wireshark's tree (sharkd) appears here" in bridge.footer
        bridge.request = {"kind": "dissect", "key": "h2/eth0", "index": 3, "seq": 1}
        assert 'title="tcp.srcport == 40000"' in bridge.html and "h2/eth0 · frame 4" in bridge.html
        assert 'data-lk-follow="1" data-key="h2/eth0" data-index="3"' in bridge.html and "Follow TCP stream" in bridge.html
        bridge.request = {"kind": "follow", "key": "h2/eth0", "index": 3, "seq": 2}
        assert 'title="frame 5, sent by the server">world\n</span>' in bridge.html
        assert bridge.html.index("Follow TCP stream <code>") < bridge.html.index('title="tcp.srcport == 40000"')  # tree kept
        bridge.request = {"kind": "dissect", "key": "h2/eth0", "index": 9, "seq": 3}
        assert 'class="lk-detail-err"' in bridge.html and "has no frame 9" in bridge.html
    finally:
        cap.wireshark.close()
