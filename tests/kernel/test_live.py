"""``with lab.live() as live:``: every kernel change of the block arrives as an event, within about a second.

The agent listens to rtnetlink in each of the lab's namespaces; outside a notebook the events are
only recorded (``live.events``), which is what these tests read.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from labkit import Lab
from labkit.steps import ops

pytestmark = pytest.mark.kernel
SOON = 1.0  # seconds: a change must be reported this quickly


def _sockets(pid: int) -> set[str]:
    """The sockets process ``pid`` holds open ('socket:[inode]')."""
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:"):
            found.add(link)
    return found


def _has(live: Any, ns: str, text: str, since: int = 0) -> dict[str, Any]:
    event = live.wait_for(lambda e: e.get("ns") == ns and text in e.get("summary", ""), timeout=SOON, since=since)
    assert event is not None, f"no event '{text}' in {ns} within {SOON} s; seen: {live.summaries()[since:]}"
    return dict(event)


def test_each_change_of_the_block_arrives_as_an_event(lab: Lab) -> None:
    lab.netns("h1")
    lab.bridge("br0", stp=True, forward_delay=2)
    lab.veth("veth0", "eth0", peer_ns="h1")
    lab.enslave("veth0", "br0")
    lab.addr("veth0", "10.9.0.1/24")
    lab.up("br0")
    agent = int(lab.target.client.request("hello")["pid"])
    before = _sockets(agent)
    with lab.live() as live:
        watching = _sockets(agent) - before
        assert len(watching) >= 2, "the watch opened no socket per namespace in the agent"
        lab.up("eth0", ns="h1")
        lab.up("veth0")  # the port starts listening (STP on, forward_delay 2 s)
        _has(live, "main", "veth0 set up")
        _has(live, "main", "veth0 (port of br0): ")
        mark = len(live.events)
        lab.down("eth0", ns="h1")
        _has(live, "h1", "eth0 set down", mark)
        lab.up("eth0", ns="h1")
        mark = len(live.events)
        lab.mtu("eth0", 1400, ns="h1")
        _has(live, "h1", "eth0 mtu 1400", mark)
        mark = len(live.events)
        lab.move_ip("veth0", "br0")
        _has(live, "main", "10.9.0.1/24 removed from veth0", mark)
        _has(live, "main", "10.9.0.1/24 on br0", mark)
        _has(live, "main", "route 10.9.0.0/24 dev br0 added", mark)
        mark = len(live.events)
        lab.veth("veth1", "eth1", peer_ns="h1")
        _has(live, "main", "veth1 added (veth)", mark)
        _has(live, "h1", "eth1 added (veth)", mark)
        mark = len(live.events)
        lab.netns("h2")  # a namespace made during the watch is watched from its first step on
        lab.veth("veth2", "eth2", peer_ns="h2")
        _has(live, "h2", "namespace h2 added", mark)
        _has(live, "h2", "eth2 added", mark)
        forwarding = live.wait_for(lambda e: "veth0 (port of br0): learning → forwarding" in e.get("summary", ""), timeout=8)
        assert forwarding is not None, f"veth0 never went forwarding; seen: {live.summaries()}"
        learning = next(e for e in live.events if "veth0 (port of br0): listening → learning" in e.get("summary", ""))
        assert 2 - SOON < forwarding["at"] - learning["at"] < 2 + SOON, (learning, forwarding)  # forward_delay apart
        mark = len(live.events)
        lab.undo()  # veth2
        lab.undo()  # namespace h2: the watch lets it go
        _has(live, "h2", "namespace h2 removed", mark)
    assert not live.running, "the watch still runs after the block"
    seen = len(live.events)
    lab.down("veth1")
    time.sleep(0.3)
    assert len(live.events) == seen, f"events after the block: {live.summaries()[seen:]}"
    deadline = time.monotonic() + 2
    while _sockets(agent) & watching and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _sockets(agent) & watching, "the watch left sockets open in the agent"


def test_a_namespace_removed_while_watched_really_goes(lab: Lab) -> None:
    """A socket keeps its namespace alive: the watch must close it before the namespace is removed,
    or the namespace (and the veth end in it) would live on unnamed, and its peer in main with it."""
    lab.netns("h3")
    lab.veth("va", "vb", peer_ns="h3")
    with lab.live() as live:
        lab.target.client.apply([ops.netns_del("h3").to_dict()])  # `ip netns del h3`, behind the lab's back
        _has(live, "h3", "namespace h3 removed")
        _has(live, "main", "va removed")
    assert "va" not in {itf.name for itf in lab.snapshot().interfaces}


def test_resetting_the_lab_during_the_block_ends_the_watch(lab: Lab) -> None:
    """``lab.reset()`` (the agent's wipe: every namespace removed, the agent keeps serving) stops the watch
    through the extension's cleanup; closing the lab stops it by cancelling every request."""
    lab.netns("h4")
    with lab.live() as live:
        lab.reset()
        deadline = time.monotonic() + 2
        while live.running and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not live.running, "the watch still runs after the lab was reset"
    assert not [name for name in os.listdir("/run/netns") if name.startswith(f"labkit-{lab.lab_id}-h4")]
    made = Lab(uplink=False)
    try:
        with made.live():
            started = time.monotonic()
            made.close()
            assert time.monotonic() - started < 10, "closing a watched lab took too long"
    finally:
        made.close()
