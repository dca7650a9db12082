"""Device kinds are declared once (labkit/kinds/), and everything about a kind comes from there.

Two promises are tested here: every registered kind declares every part, and the command
a learner is shown carries exactly the values the netlink request packs (both are made
from the same declaration, so ``forward_delay=2.3`` is 230 in both).
"""

from __future__ import annotations

import struct
from typing import Any

import pytest

from labkit import doctor, kinds, steps
from labkit.errors import InvalidInput
from labkit.kinds.base import Kind
from labkit.render import graph
from labkit.steps import ops
from labkit.targets import rtnl

pytestmark = pytest.mark.unit

#: settings worth checking beyond each kind's probe: non-default values, timers with fractions
SAMPLES: dict[str, list[dict[str, Any]]] = {
    "bridge": [{"stp": True, "forward_delay": 2.3, "priority": 8192, "hello_time": 1.5, "max_age": 12, "ageing_time": 300},
               {"stp": False}],
    "vxlan": [{"vni": 42, "remote": "10.0.0.2", "local": "10.0.0.1", "port": 8472},
              {"vni": 7, "group": "239.1.1.1", "dev": "eth0"}],
    "geneve": [{"vni": 5000, "remote": "10.0.0.2", "port": 6082}],
    "macvlan": [{"mode": mode} for mode in ("bridge", "private", "vepa", "passthru", "source")],
    "ipvlan": [{"mode": mode} for mode in ("l2", "l3", "l3s")],
    "vlan": [{"vlan_id": 10}, {"vlan_id": 4094, "protocol": "802.1ad"}],
    "ipip": [{"local": "10.0.0.1", "remote": "10.0.0.2", "ttl": 17}],
    "sit": [{"local": "10.0.0.1", "remote": "10.0.0.2"}],
    "gre": [{"local": "10.0.0.1", "remote": "10.0.0.2", "ttl": 200}],
    "gretap": [{"local": "10.0.0.1", "remote": "10.0.0.2"}],
}
CREATED = [kind for kind in kinds.KINDS.values() if kind.created_by == "link_add"]


def test_the_registry_holds_every_kind_the_labs_use() -> None:
    assert {"veth", "bridge", "tun", "tap", "macvlan", "ipvlan", "vlan", "vxlan", "geneve", "ipip", "gre", "gretap", "sit",
            "dummy", "ifb"} <= set(kinds.KINDS)


@pytest.mark.parametrize("kind", list(kinds.KINDS.values()), ids=lambda k: k.name)
def test_every_kind_declares_every_part(kind: Kind) -> None:
    assert kind.summary and kind.module and kind.style.shape and kind.style.fill.startswith("#")
    assert kind.created_by in ("link_add", "tuntap_add")
    names = [p.name for p in kind.params]
    assert len(names) == len(set(names)), "a setting is declared twice"
    for p in kind.params:
        assert p.attr.startswith("IFLA_") and p.code > 0 and p.codec.decode is not None
        if p.settable:
            assert p.word and p.codec.encode is not None and p.check is not None, f"{kind.name}.{p.name} lacks a part"
    if kind.created_by == "link_add" and kind.name != "veth":
        kind.check(kind.probe)  # the probe is a valid device of this kind
    # the kind reaches every place that needs it, with nothing else to edit
    assert kinds.module_of(kind.name) == kind.module
    assert graph.KIND_FILL[kind.name] == kind.style.fill and graph.KIND_SHAPE[kind.name] == kind.style.shape
    assert rtnl.KIND_DATA[kind.info_kind] == kinds.by_info_kind()[kind.info_kind].decoders()
    assert (kind.name in doctor.KINDS) == (kind.created_by == "link_add")


def _samples(kind: Kind) -> list[dict[str, Any]]:
    probe = {k: v for k, v in kind.probe.items() if k != "peer"}
    return [probe, *SAMPLES.get(kind.name, [])]


@pytest.mark.parametrize("kind", CREATED, ids=lambda k: k.name)
def test_the_command_shown_and_the_request_sent_carry_the_same_values(kind: Kind) -> None:
    devices = {"eth0": 7}
    for sample in _samples(kind):
        settings = kind.check(sample)
        words = kind.words(settings)
        shown = dict(zip(words[0::2], words[1::2], strict=True))
        sent = dict(kind.info_data(settings, devices.__getitem__))
        assert len(shown) == len(sent), f"{kind.name}: {words} vs {sent}"
        for p, value, _kernel in kind.encoded(settings):
            decoded = p.codec.decode(sent[p.code])
            if p.device:  # the command names the device, the request carries its index
                assert shown[p.word] == value and decoded == devices[value]
                continue
            assert p.read_word(shown[p.word]) == p.to_kernel(value), f"{kind.name}.{p.name}"  # as iproute2 reads the word
            # the request decodes to what the learner asked for
            assert p.from_kernel(decoded) == value or p.from_kernel(decoded) == p.to_kernel(value), \
                f"{kind.name}.{p.name}: sent {decoded!r} for {value!r}"
        # the same words are what the step's op shows, after `type KIND`
        extra = {"link": "eth0"} if kind.parent else {"peer": "x1"} if kind.name == "veth" else {}
        op = ops.link_add("main", "x0", kind.name, **extra, **settings)
        tail = " ".join(["type", kind.name, *(["peer", "name", "x1"] if kind.name == "veth" else []), *map(str, words)])
        assert op.command.endswith(tail), op.command


def test_forward_delay_is_230_in_both_the_command_and_the_request() -> None:
    bridge = kinds.get("bridge")
    settings = bridge.check({"forward_delay": 2.3})
    assert bridge.words(settings) == ["forward_delay", 230]
    assert bridge.info_data(settings, lambda name: 0) == [(1, struct.pack("=I", 230))]
    assert steps.bridge("br0", stp=True, forward_delay=2.3).commands == [
        "ip link add name br0 type bridge stp_state 1 forward_delay 230"]


@pytest.mark.parametrize("kind", CREATED, ids=lambda k: k.name)
def test_what_the_kernel_reports_gives_back_the_settings(kind: Kind) -> None:
    """Decoding a request's attributes (as the raw reader does a dump) gives back the learner's settings: undo and
    "already so" rest on this."""
    for sample in _samples(kind):
        settings = kind.check(sample)
        data = rtnl._decode({code: value for code, value in kind.info_data(settings, lambda name: 7)}, kind.decoders())
        back = kind.settings_of(data, {7: "eth0"}.get)
        expected = {p.name: value for p, value, _ in kind.encoded(settings)}
        assert back == expected, kind.name
        assert kind.differences(settings, data, {"eth0": 7}.get) == []


def test_a_difference_is_named() -> None:
    vxlan = kinds.get("vxlan")
    data = rtnl._decode(dict(vxlan.info_data(vxlan.check({"vni": 42, "remote": "10.0.0.2"}), lambda n: 0)), vxlan.decoders())
    assert vxlan.differences({"vni": 7, "remote": "10.0.0.2"}, data) == ["vni 7 (the device has 42)"]
    assert vxlan.differences({"vni": 42, "group": "239.1.1.1"}, data) == ["group '239.1.1.1' (the device has none)"]


@pytest.mark.parametrize(("kind", "bad"), [
    ("bridge", {"forward_delay": 1}), ("bridge", {"priority": -1}), ("bridge", {"stp": "off"}), ("bridge", {"colour": 1}),
    ("vxlan", {"vni": 1 << 24}), ("vxlan", {"vni": 1, "group": "10.0.0.1"}), ("vxlan", {"vni": 1, "remote": "239.1.1.1"}),
    ("vxlan", {"vni": 1, "remote": "fd00::1"}), ("vxlan", {"vni": 1, "port": 0}), ("vlan", {"vlan_id": 4095}),
    ("macvlan", {"mode": "bridged"}), ("ipvlan", {"mode": 2}), ("gre", {"local": "fd00::1", "remote": "10.0.0.1"}),
    ("ipip", {"local": "10.0.0.1", "remote": "10.0.0.2", "ttl": 0}), ("dummy", {"mtu": 1400}),
])
def test_each_kind_refuses_bad_settings(kind: str, bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as error:
        kinds.get(kind).check(bad)
    assert error.value.hint


def test_a_kind_added_as_one_file_is_usable_at_once() -> None:
    """dummy was added as labkit/kinds/dummy.py alone: the generic step makes it, the picture styles it."""
    step = steps.device("d0", "dummy")
    assert step.commands == ["ip link add name d0 type dummy"]
    assert steps.device("mv9", "macvlan", parent="eth0", mode="vepa").commands == [
        "ip link add link eth0 name mv9 type macvlan mode vepa"]
    with pytest.raises(InvalidInput, match="unknown to labkit"):
        steps.device("x0", "nosuchkind")
    with pytest.raises(InvalidInput, match="sits on a parent"):
        steps.device("mv9", "macvlan")
