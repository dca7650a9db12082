"""Every ``lab.check.*`` seen both ways on a real kernel: it passes on the right state and raises
``CheckFailed`` with a hint on a wrong one. A check that was never seen to fail proves nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from labkit import Lab
from labkit.checks import CheckResult
from labkit.errors import CheckFailed
from labkit.recipes import host_pair

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """h1 ⇄ main over a cable, a bridge br0 with port p0 (p0 still holds an address: 04's mistake),
    a device left down, and a capture of one ping."""
    with Lab(uplink=False) as lab:
        host_pair(lab, "h1", "va", "vb", "10.5.0")
        lab.route("10.6.0.0/24", dev="va")
        lab.bridge("br0")
        lab.veth("p0", "q0")
        lab.enslave("p0", "br0")
        lab.addr("p0", "10.7.0.1/24")
        lab.up("br0", "p0", "q0")
        lab.veth("dn0", "dn1")
        lab.addr("dn0", "10.8.0.1/24")
        lab.sysctl("net.ipv4.ip_forward", 1)
        with lab.capture("va", filter="icmp") as cap:
            lab.run("ping", "-c", "1", "-W", "1", "10.5.0.2")
        lab.cap = cap  # type: ignore[attr-defined]
        yield lab


Check = Callable[[Lab], Any]
CASES: list[tuple[str, Check, Check, str]] = [
    # name, right, wrong, a word the failure must contain
    ("reachable", lambda lb: lb.check.reachable("main", "h1"), lambda lb: lb.check.reachable("main", "10.5.0.99"), "cannot reach"),
    ("unreachable", lambda lb: lb.check.unreachable("main", "10.5.0.99"), lambda lb: lb.check.unreachable("main", "h1"), "still reaches"),
    ("exists", lambda lb: lb.check.exists("h1/vb", kind="veth"), lambda lb: lb.check.exists("h1/nope"), "no device"),
    ("exists kind", lambda lb: lb.check.exists("br0", kind="bridge"), lambda lb: lb.check.exists("va", kind="bridge"), "not a bridge"),
    ("absent", lambda lb: lb.check.absent("nope"), lambda lb: lb.check.absent("va"), "still exists"),
    ("is_up", lambda lb: lb.check.is_up("va"), lambda lb: lb.check.is_up("dn0"), "is down"),
    ("has_address", lambda lb: lb.check.has_address("va", "10.5.0.1/24"), lambda lb: lb.check.has_address("va", "10.5.0.9/24"),
     "does not have"),
    ("address_in", lambda lb: lb.check.address_in("h1/vb", "10.5.0.0/24"), lambda lb: lb.check.address_in("h1/vb", "10.9.0.0/24"),
     "no address in"),
    ("address_in range", lambda lb: lb.check.address_in("h1/vb", "10.5.0.1", "10.5.0.10"),
     lambda lb: lb.check.address_in("h1/vb", "10.5.0.10", "10.5.0.20"), "no address in"),
    ("no_address", lambda lb: lb.check.no_address("q0"), lambda lb: lb.check.no_address("p0"), "still has"),
    ("is_port_of", lambda lb: lb.check.is_port_of("p0", "br0"), lambda lb: lb.check.is_port_of("q0", "br0"), "not a port"),
    ("mtu", lambda lb: lb.check.mtu("va", 1500), lambda lb: lb.check.mtu("va", 1400), "MTU 1500"),
    ("sysctl", lambda lb: lb.check.sysctl("net.ipv4.ip_forward", 1), lambda lb: lb.check.sysctl("net.ipv4.ip_forward", 1, ns="h1"),
     "not 1"),
    ("route", lambda lb: lb.check.route("10.6.0.0/24", "va"), lambda lb: lb.check.route("10.6.0.0/24", "dn0"), "no route"),
    ("carrier", lambda lb: lb.check.carrier("va", timeout=0.5), lambda lb: lb.check.carrier("dn0", timeout=0.5), "no carrier"),
    ("peers", lambda lb: lb.check.peers("va", "h1/vb"), lambda lb: lb.check.peers("p0", "h1/vb"), "the peer of p0"),
    ("same_mac", lambda lb: lb.check.same_mac("br0", "p0"), lambda lb: lb.check.same_mac("va", "p0"), "has MAC"),
    ("neighbour", lambda lb: lb.check.neighbour("va", "10.5.0.2"), lambda lb: lb.check.neighbour("va", "10.5.0.77"), "not resolved"),
    ("captured", lambda lb: lb.check.captured(lb.cap, "va", "ICMP echo request"),
     lambda lb: lb.check.captured(lb.cap, "va", "ICMP echo request", at_least=5), "not 5"),
    ("that", lambda lb: lb.check.that(True, "true is true"), lambda lb: lb.check.that(False, "false is true", hint="h"),
     "false is true"),
]


@pytest.mark.parametrize(("name", "right", "wrong", "word"), CASES, ids=[c[0] for c in CASES])
def test_a_check_passes_on_the_right_state_and_fails_on_a_wrong_one(lab: Lab, name: str, right: Check, wrong: Check,
                                                                    word: str) -> None:
    assert isinstance(right(lab), CheckResult)
    with pytest.raises(CheckFailed) as failed:
        wrong(lab)
    assert word in failed.value.what, failed.value.what
    assert failed.value.hint.strip(), f"{name}: a failed check without a hint"
    assert not failed.value.what.lower().startswith("not yet"), "the box already says 'Not yet'"


def test_unreachable_does_not_pass_when_ping_refused_its_arguments(lab: Lab) -> None:
    """ping exits 2 for a misspelled device: that is not 'no reply', and must not pass the check."""
    with pytest.raises(CheckFailed, match="could not ping") as failed:
        lab.check.unreachable("main", "h1", iface="no-such-dev")
    assert "no-such-dev" in failed.value.what


def test_reachable_names_the_cause_it_can_see(lab: Lab) -> None:
    with pytest.raises(CheckFailed) as down:
        lab.check.reachable("main", "10.8.0.2", hint="")
    assert "dn0" in down.value.hint and "down" in down.value.hint
    with pytest.raises(CheckFailed) as port:
        lab.check.reachable("main", "10.7.0.2")
    assert "p0" in port.value.hint and "a port of the bridge" in port.value.hint and "move_ip" in port.value.hint


def test_root_bridge_needs_stp_and_agreement_and_its_hint_names_a_winning_priority() -> None:
    with Lab(uplink=False) as lab:
        for name in ("sw1", "sw2"):
            lab.netns(name)
            lab.bridge("br0", stp=False, ns=name)
        lab.veth("l12", "l21", ns="sw1", peer_ns="sw2")
        lab.enslave("l12", "br0", ns="sw1")
        lab.enslave("l21", "br0", ns="sw2")
        for name, port in (("sw1", "l12"), ("sw2", "l21")):
            lab.up("br0", port, ns=name)
        with pytest.raises(CheckFailed, match="STP is off"):
            lab.check.root_bridge("sw1/br0")  # with STP off every bridge calls itself root: that proves nothing
        lab.stp("br0", on=True, forward_delay=2, priority=8192, ns="sw1")
        lab.stp("br0", on=True, forward_delay=2, priority=8192, ns="sw2")
        lab.wait_stp("sw1/br0", "sw2/br0", timeout=30)
        snap = lab.snapshot()
        root = next(ns for ns in ("sw1", "sw2") if snap.interface("br0", ns).detail("root_id")  # type: ignore[union-attr]
                    == snap.interface("br0", ns).detail("bridge_id"))  # type: ignore[union-attr]
        other = "sw2" if root == "sw1" else "sw1"
        assert lab.check.root_bridge(f"{root}/br0")
        with pytest.raises(CheckFailed) as failed:
            lab.check.root_bridge(f"{other}/br0")
        assert "priority 8192 (0x2000)" in failed.value.what and "priority=4096" in failed.value.hint
        lab.stp("br0", priority=4096, ns=other)  # following the hint makes the check pass
        lab.wait_stp("sw1/br0", "sw2/br0", timeout=30)
        assert lab.check.root_bridge(f"{other}/br0")


def test_a_failed_check_speaks_chinese_when_the_learner_does(lab: Lab) -> None:
    """The same real failure (an address left on a bridge port: the diagnosis names the fix), in both languages."""
    import html

    from labkit import i18n
    from labkit.ipython import render

    with pytest.raises(CheckFailed) as english:
        lab.check.reachable("main", "10.7.0.1", iface="q0")
    assert "cannot reach" in str(english.value) and "lab.move_ip" in str(english.value)
    i18n.use("zh")
    try:
        with pytest.raises(CheckFailed) as chinese:
            lab.check.reachable("main", "10.7.0.1", iface="q0")
        box = html.unescape(render(chinese.value))
        result = html.unescape(lab.check.is_up("h1/vb")._repr_html_())
    finally:
        i18n.use(None)
    assert "无法到达" in box and "还没有通过" in box and "cannot reach" not in box, box
    assert "lab.move_ip" in box and "10.7.0.1" in box  # the API call and the address stay as they are
    assert "已启用" in result and "h1/vb" in result
