"""Captures on a real kernel: the seed-000 picture, pcap files, ends, errors, and no tcpdump left behind."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest
from scapy.layers.inet import ICMP
from scapy.utils import rdpcap

from labkit import Lab
from labkit.capture import Capture
from labkit.errors import InvalidInput, NotFound, StepFailed, WrongNamespace
from labkit.recipes import host_pair, seed000_pair
from labkit.targets.procs import alive

pytestmark = pytest.mark.kernel


def seed000(lab: Lab) -> None:
    """Seed 000: a veth pair with both ends in one namespace, pingable end to end."""
    seed000_pair(lab, accept_local=True)


def icmp_types(packets: list) -> list[int]:
    return [int(p[ICMP].type) for p in packets if p.haslayer(ICMP)]


def test_seed000_requests_on_veth1_replies_on_lo(tmp_path: Path) -> None:
    with Lab(uplink=False) as lab:
        seed000(lab)
        with lab.capture("veth0", "veth1", "lo", filter="icmp") as cap:
            assert_shown_is_running(cap)
            pids = [dev.pid for dev in cap.devices.values()]
            assert all(alive(pid) for pid in pids)
            result = lab.run("ping", "-c", "2", "-i", "0.2", "-I", "veth0", "20.1.0.11")
            assert result.ok, result.stdout + result.stderr
        assert icmp_types(cap.packets("veth1")) == [8, 8], cap.summaries("veth1")
        assert icmp_types(cap.packets("lo")) == [0, 0], cap.summaries("lo")
        assert icmp_types(cap.packets("veth0")) == [8, 8], "the replies never come back through the cable"
        assert [f.direction(cap.device("veth1").mac) for f in cap.frames("veth1")] == ["in", "in"]
        assert [f.direction(cap.device("veth0").mac) for f in cap.frames("veth0")] == ["out", "out"]
        assert "ICMP echo request, id" in cap.summaries("veth1")[0] and "20.1.0.10 > 20.1.0.11" in cap.summaries("veth1")[0]
        assert cap.path_counts() == {"main/veth0": 2, "main/veth1": 2, "main/lo": 2}
        for key, stats in cap.stats().items():
            assert stats["captured"] == stats["saved"] == 2 and stats["lost"] == 0, (key, stats)

        paths = cap.save(tmp_path)
        assert sorted(Path(p).name for p in paths) == ["capture.pcapng", "main-lo.pcap", "main-veth0.pcap", "main-veth1.pcap"]
        for path in paths:
            assert len(rdpcap(path)) == (6 if path.endswith(".pcapng") else 2)

        dot = lab.show(cap).dot
        assert "⇄ 2 pkts" in dot
        view = lab.view(cap, title="seed 000")
        panes = view.children[-1]
        assert [p.rows.value.count('class="lk-row"') for p in panes.panes] == [2, 2, 2]
        assert f"ip netns exec labkit-{lab.lab_id}-main tcpdump -Z root -i veth1 " in view.children[-2].value  # the argv that runs
        assert not any(alive(pid) for pid in pids), "stopped captures leave no tcpdump"
    assert not any(alive(pid) for pid in pids)


def test_no_tcpdump_outlives_its_lab() -> None:
    lab = Lab(uplink=False)
    seed000(lab)
    cap = lab.capture("veth1", "lo")
    pids = [dev.pid for dev in cap.devices.values()]
    assert all(alive(pid) for pid in pids)
    lab.close()  # the capture was never stopped
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in pids)


def test_no_tcpdump_outlives_a_killed_agent() -> None:
    """SIGKILL leaves the agent no time to clean up: PR_SET_PDEATHSIG must end tcpdump."""
    lab = Lab(uplink=False)
    try:
        seed000(lab)
        cap = lab.capture("veth1")
        pid = cap.devices["main/veth1"].pid
        os.kill(lab.target.agent_pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(pid), "tcpdump survived its agent"
    finally:
        lab.close()
        # the killed agent could not remove its namespace: remove exactly that one
        subprocess.run(["ip", "netns", "del", f"labkit-{lab.lab_id}-main"], capture_output=True, check=False)


def test_count_ends_the_capture_by_itself() -> None:
    with Lab(uplink=False) as lab:
        seed000(lab)
        with lab.capture("veth1", filter="icmp", count=2) as cap:
            lab.run("ping", "-c", "3", "-i", "0.2", "-I", "veth0", "20.1.0.11")
        assert len(cap.frames("veth1")) == 2
        assert cap.stats()["main/veth1"]["captured"] == 2


def test_duration_ends_the_capture_and_wait_blocks_until_then() -> None:
    with Lab(uplink=False) as lab:
        seed000(lab)
        cap = lab.capture("veth1", filter="icmp", duration=1.5)
        started = time.monotonic()  # the duration runs from here; starting the ping took 0.7 s once on a loaded machine
        ping = lab.spawn("ping", "-i", "0.2", "-I", "veth0", "20.1.0.11")
        cap.wait()
        ping.stop()
        assert 1.0 < time.monotonic() - started < 5.0
        assert not cap.running and 3 <= len(cap.frames("veth1")) <= 12


def test_a_burst_is_kept_whole() -> None:
    sender = ("import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
              "for i in range(3000):\n    s.sendto(b'x' * 64, ('20.1.0.99', 9999))\n")
    with Lab(uplink=False) as lab:
        seed000(lab)
        lab.run("ip", "neigh", "replace", "20.1.0.99", "lladdr", "02:00:00:00:00:99", "dev", "veth0", check=True)
        with lab.capture("veth1", filter="udp port 9999", snaplen=256) as cap:  # small slots: a deep ring
            lab.run("python3", "-c", sender, check=True)
            time.sleep(0.3)
        stats = cap.stats()["main/veth1"]
        assert stats["saved"] == stats["captured"] == 3000, stats
        assert stats["lost"] == 0


def test_errors_say_what_and_leave_nothing_running() -> None:
    with Lab(uplink=False) as lab:
        seed000(lab)
        lab.netns("h1")
        lab.veth("x0", "x1", ns="h1")
        with pytest.raises(NotFound, match="nope"):
            lab.capture("veth1", "nope")
        with pytest.raises(WrongNamespace, match="h1/x0"):
            lab.capture("x0")
        with pytest.raises(InvalidInput, match="filter"):
            lab.capture("veth1", "lo", filter="icmp and")
        assert lab.target.request("capture_list") == []
        with pytest.raises(StepFailed, match="down"):
            lab.capture("h1/x1")
        lab.up("x0", "x1", ns="h1")
        # another namespace of the lab; the filter keeps out the IPv6 announcements a link sends as it comes up
        with lab.capture("h1/x1", filter="arp or icmp") as cap:
            pass
        assert cap.counts() == {"h1/x1": 0}


def test_reset_stops_captures_and_new_ones_work() -> None:
    with Lab(uplink=False) as lab:
        seed000(lab)
        cap = lab.capture("veth1")
        pid = cap.devices["main/veth1"].pid
        lab.reset()
        assert not alive(pid)
        assert lab.target.request("capture_list") == []
        with lab.capture("lo", filter="icmp") as again:
            lab.run("ping", "-c", "1", "127.0.0.1")
        assert len(again.frames("lo")) == 2  # request and reply, both on lo


def assert_shown_is_running(cap: Capture) -> None:
    """Each command the capture shows (``cap.commands()``, the cell view's ``$`` lines) ends with exactly the
    command line of the process that captures (``ip netns exec NS`` and ``env`` exec into it)."""
    for dev, shown in zip(cap.devices.values(), cap.commands(), strict=True):
        running = Path(f"/proc/{dev.pid}/cmdline").read_bytes().rstrip(b"\0").decode().split("\0")
        assert shlex.split(shown)[-len(running):] == running, f"shown: {shown}\nrunning: {running}"
        assert len(shown) < 400, f"a learner cannot read a {len(shown)}-character command"


def test_rootless_lab_captures_with_the_python_fallback() -> None:
    """In a user namespace tcpdump cannot change its user; the agent's Python capture gives the same picture."""
    from labkit.targets.local import _userns_works

    if not _userns_works():
        pytest.skip("unprivileged user namespaces are not available here")
    with Lab(mode="rootless", uplink=False) as lab:
        seed000(lab)
        with lab.capture("veth1", "lo", filter="icmp") as cap:
            pids = [dev.pid for dev in cap.devices.values()]
            assert_shown_is_running(cap)
            assert all("-m labkit.programs.pycapture -i " in shown for shown in cap.commands()), cap.commands()
            lab.run("ping", "-c", "2", "-i", "0.2", "-I", "veth0", "20.1.0.11", check=True)
        stats, frames = cap.stats()["main/lo"], cap.frames("lo")  # read once, together
        lines = "\n".join(f.summary for f in frames)
        assert icmp_types(cap.packets("veth1")) == [8, 8] and icmp_types([f.packet for f in frames]) == [0, 0], lines
        # on lo each packet passes the filter twice (out and in) and is kept once, as tcpdump does; nothing else
        # (the namespace's IPv6 chatter once slipped in before the filter was attached: see programs/pycapture.py)
        assert stats == {"captured": 2, "received": 4, "dropped": 0, "saved": 2, "lost": 0, "outside": 0}, lines
        with pytest.raises(InvalidInput, match="filter"):
            lab.capture("veth1", filter="icmp and")
    assert not any(alive(pid) for pid in pids)


def test_rootless_capture_of_a_tun_device_compiles_its_filter_for_raw_ip() -> None:
    """A tun carries bare IP packets: the Python capture compiles the filter for libpcap's DLT_RAW (12) and
    writes LINKTYPE_RAW (101) into the pcap; handing 101 to libpcap failed ("unknown data link type 101")."""
    from labkit.targets.local import _userns_works

    if not _userns_works():
        pytest.skip("unprivileged user namespaces are not available here")
    with Lab(mode="rootless", uplink=False) as lab:
        lab.tuntap("tun0", mode="tun")
        lab.addr("tun0", "10.0.0.12/24")
        lab.up("tun0")
        app = lab.tun_open("tun0", mode="tun")
        with lab.capture("tun0", filter="icmp") as cap:
            lab.run("ping", "-c", "1", "-W", "1", "10.0.0.22")
        app.close()
        frames = cap.frames("tun0")
        assert icmp_types([f.packet for f in frames]) == [8], "\n".join(f.summary for f in frames)
        assert {f.linktype for f in frames} == {101}


def test_the_command_shown_is_the_tcpdump_that_runs() -> None:
    """The capture view's command is the argv of the running tcpdump, real namespace included."""
    import shlex

    from labkit.targets.procs import pids_in_netns

    with Lab(uplink=False) as lab:
        lab.veth("cva", "cvb")
        lab.up("cva", "cvb")
        with lab.capture("cvb", filter="icmp") as cap:
            shown = shlex.split(cap.commands()[0])
            assert shown[:4] == ["ip", "netns", "exec", f"labkit-{lab.lab_id}-main"]
            running = []
            for pid in pids_in_netns(f"labkit-{lab.lab_id}-main"):
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    running.append(fh.read().decode().split("\0")[:-1])
            assert shown[4:] in running, f"shown {shown[4:]}, running {running}"


def test_packets_reach_the_capture_while_the_traffic_runs() -> None:
    """Live: rows arrive during a `lab.run` in the same cell, not when the capture ends."""
    import threading
    import time

    with Lab(uplink=False) as lab:
        host_pair(lab, "lv", "la", "lb", "10.66.0")
        seen: list[tuple[float, int]] = []
        with lab.capture("lv/lb", filter="icmp") as cap:
            cap.listeners.append(lambda c: seen.append((time.monotonic(), len(c.frames("lv/lb")))))
            ping = threading.Thread(target=lab.run, args=("ping", "-c", "10", "-i", "0.2", "10.66.0.2"))
            started = time.monotonic()
            ping.start()
            time.sleep(1.0)
            mid = len(cap.frames("lv/lb"))
            ping.join()
        assert 2 <= mid < 20, f"after 1 s of a 2 s ping the capture held {mid} frames: not live"
        assert len(cap.frames("lv/lb")) == 20 and seen and seen[0][0] - started < 0.5


@pytest.mark.timeout(60)
def test_polling_and_live_events_never_deadlock() -> None:
    """A poll (a round trip) while live events arrive, and a listener that itself asks the agent
    something, must both go on: replies are never held up behind event subscribers."""
    import threading
    import time

    with Lab(uplink=False) as lab:
        host_pair(lab, "dl", "da", "db", "10.67.0")
        asked: list[bool] = []
        with lab.capture("dl/db", filter="icmp") as cap:
            cap.listeners.append(lambda c: asked.append(lab.run("true").ok) if len(asked) < 5 else None)
            ping = threading.Thread(target=lab.run, args=("ping", "-c", "200", "-i", "0.01", "10.67.0.2"))
            ping.start()
            started = time.monotonic()
            while ping.is_alive():
                cap.poll()
            assert time.monotonic() - started < 30
        assert len(cap.frames("dl/db")) == 400 and asked and all(asked)


def test_the_targets_capture_clock_is_its_wall_clock() -> None:
    """Pcap timestamps are the target's clock; `capture_clock` lets a controller place them on its own
    (a VM's clock can be minutes off: bench/bench_live.py measured -381 s)."""
    with Lab(uplink=False) as lab:
        before = time.time()
        there = lab.target.client.capture_clock()
        after = time.time()
    assert before <= there <= after, (before, there, after)


def test_live_capture_events_say_when_the_agent_sent_them() -> None:
    """`at` (the target's clock) splits a packet's latency at the agent: bench/bench_live.py's 'to sent' / 'to pane'."""
    events: list[dict] = []
    with Lab(uplink=False) as lab:
        host_pair(lab, "h1", "la", "lb", "10.92.0")
        client = lab.target.client
        cid = client.capture_start("h1", "lb", filter="icmp", wait=False)["id"]
        client.capture_ready([cid])
        before = time.time()
        follow = client.capture_follow([cid], events.append)
        lab.ping("10.92.0.2")
        deadline = time.monotonic() + 10
        while not events and time.monotonic() < deadline:
            time.sleep(0.05)
        after = time.time()
        follow.cancel()
        client.capture_stop(cid)
        client.capture_remove(cid)
    assert events and all(before <= e["at"] <= after for e in events), (before, [e.get("at") for e in events], after)
